//! The error every server function answers with: the API's error, or a transport failure.

use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ErrorCode};

/// A failed console call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The control plane refused or failed the request.
    #[error("{0}")]
    Api(ApiError),
    /// The call did not get through (network, encoding).
    #[error("the request did not go through: {0}")]
    Transport(String),
}

impl AppError {
    /// The field at fault, if the failure names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Api(e) => e.field.as_deref(),
            AppError::Transport(_) => None,
        }
    }

    /// Whether the caller needs to sign in.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, AppError::Api(e) if e.code == ErrorCode::Unauthorized)
    }

    /// The message without the field prefix.
    pub fn message(&self) -> String {
        match self {
            AppError::Api(e) => e.message.clone(),
            other => other.to_string(),
        }
    }
}

impl From<ApiError> for AppError {
    /// On the server this also gives the response the error's status and `Retry-After`, so
    /// a server function refused with 403 or 429 answers 403 or 429.
    fn from(e: ApiError) -> Self {
        #[cfg(feature = "ssr")]
        crate::server_fns::set_error_status(&e);
        AppError::Api(e)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
