//! The one error shape every failure reaches a client in:
//! `{"error": {"code", "message", "field"?}}`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, in a form a client can branch on. Each code has one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed (bad JSON, unknown field, wrong type).
    BadRequest,
    /// A field failed validation; `field` names it.
    Validation,
    /// No credentials, or credentials that are not valid.
    Unauthorized,
    /// The caller is known but its role does not allow this.
    Forbidden,
    /// The resource does not exist, or belongs to a workspace the caller cannot see.
    NotFound,
    /// The request conflicts with existing state (a taken e-mail or slug, the last owner).
    Conflict,
    /// The request body exceeds the size limit.
    PayloadTooLarge,
    /// Too many attempts; retry after the `Retry-After` header's seconds.
    RateLimited,
    /// Something failed on our side; the message does not leak internals.
    Internal,
    /// A dependency the request needs is not available.
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Validation => 422,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }
}

/// A failure as a client sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Machine-readable kind of failure.
    pub code: ErrorCode,
    /// A sentence a person can act on.
    pub message: String,
    /// The request field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For rate limits: seconds to wait. Sent as the `Retry-After` header, not in the body.
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// For a pipeline graph refused: every problem, with the node, edge and field each
    /// concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<crate::pipelines::Problem>,
}

impl ApiError {
    /// An error of `code` with `message` and no field.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
            problems: Vec::new(),
        }
    }

    /// A validation failure of one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Validation,
            message: message.into(),
            field: Some(field.into()),
            retry_after: None,
            problems: Vec::new(),
        }
    }

    /// Credentials are missing or not valid.
    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "sign in to continue")
    }

    /// The caller's role does not allow this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    /// Not found (or not visible to this caller: the two are deliberately the same).
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// A conflict with existing state, naming the field where one is at fault.
    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Conflict,
            message: message.into(),
            field: field.map(str::to_owned),
            retry_after: None,
            problems: Vec::new(),
        }
    }

    /// A pipeline graph that cannot be saved: 422 with every problem.
    pub fn problems(problems: Vec<crate::pipelines::Problem>) -> Self {
        let message = match problems.as_slice() {
            [one] => format!("the graph has a problem: {}", one.message),
            many => format!("the graph has {} problems", many.len()),
        };
        Self {
            problems,
            ..Self::field("graph", message)
        }
    }

    /// An internal failure; the message is generic on purpose.
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error; it has been logged")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ApiError {}

/// The status of the error's code, the JSON envelope, and `Retry-After` for rate limits.
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> axum::response::Response {
        use axum::http::{header, HeaderValue, StatusCode};
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let mut response = (status, axum::Json(ErrorBody { error: self })).into_response();
        if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// Result of an operation whose failure a client sees.
pub type ApiResult<T> = Result<T, ApiError>;

/// The JSON envelope an error is sent in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

/// A value failed validation: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field's name as the API spells it.
    pub field: &'static str,
    /// Why the value is not acceptable.
    pub message: String,
}

impl FieldError {
    /// A failure of `field` with `message`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::field(e.field, e.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_serialises_to_the_documented_shape() {
        let body = ErrorBody {
            error: ApiError::field("slug", "must be 3-40 characters"),
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "validation", "message": "must be 3-40 characters", "field": "slug"}})
        );
        let no_field = serde_json::to_value(ErrorBody {
            error: ApiError::not_found("workspace"),
        })
        .unwrap();
        assert_eq!(
            no_field,
            serde_json::json!({"error": {"code": "not_found", "message": "workspace not found"}})
        );
    }

    #[test]
    fn every_code_has_a_distinct_status() {
        use ErrorCode::*;
        let codes = [
            BadRequest,
            Validation,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            PayloadTooLarge,
            RateLimited,
            Internal,
            Unavailable,
        ];
        let mut statuses: Vec<u16> = codes.iter().map(|c| c.http_status()).collect();
        statuses.sort_unstable();
        statuses.dedup();
        assert_eq!(statuses.len(), codes.len());
    }
}
