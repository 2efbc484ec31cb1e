//! How failures become HTTP responses: the status of the error code, the JSON envelope, and
//! `Retry-After` for rate limits.

use crate::control::Failure;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use shared::error::{ApiError, ErrorBody};

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(ErrorBody { error: self.error })).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// An [`ApiError`] as a response.
pub fn error_response(error: ApiError) -> Response {
    Failure::from(error).into_response()
}
