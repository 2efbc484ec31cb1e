//! The server side of every server function and page: the control plane, the caller's
//! session and client (which `server`'s `identify` middleware stores in the request
//! extensions), and what a call or a page adds to the HTTP response.
//!
//! It depends on nothing else in the console, so [`crate::error`] can use it without a cycle.

use leptos::prelude::*;
use leptos_router::location::RequestUrl;
use shared::contracts::{ClientInfo, Console, SessionToken};
use shared::error::{ApiError, ErrorCode};

/// The control plane, one service per domain (`server` provides it as context).
pub fn console() -> Result<Console, ApiError> {
    use_context::<Console>().ok_or_else(ApiError::internal)
}

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// The session cookie of the request (empty when there is none).
pub fn session() -> SessionToken {
    parts()
        .and_then(|p| p.extensions.get::<SessionToken>().cloned())
        .unwrap_or_else(|| SessionToken(String::new()))
}

/// The client making the request.
pub fn client() -> ClientInfo {
    parts()
        .and_then(|p| p.extensions.get::<ClientInfo>().cloned())
        .unwrap_or_default()
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// Whether this request renders a page (rather than calling a server function over HTTP):
/// only page renders know the URL they render.
fn rendering_page() -> bool {
    use_context::<RequestUrl>().is_some()
}

/// Answers a failed call with the error's HTTP status (and `Retry-After` when rate
/// limited), as the REST API does.
///
/// While a page renders, its resources call server functions directly and share the page's
/// response. There a missing session is not the page's status: the page either redirects to
/// the login page or shows what a signed-out visitor may see (an invitation), so it answers
/// 302 or 200 rather than a 401 that browsers show as an error. Other failures (a workspace
/// or invitation that does not exist, a role that does not allow the page) still give the
/// page their status.
pub fn set_error_status(error: &ApiError) {
    if error.code == ErrorCode::Unauthorized && rendering_page() {
        return;
    }
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.code.http_status()) {
            response.set_status(status);
        }
        if let Some(secs) = error.retry_after {
            if let Ok(value) = http::HeaderValue::from_str(&secs.to_string()) {
                response.insert_header(http::header::RETRY_AFTER, value);
            }
        }
    }
}

/// Answers the page being rendered with `302 Found` to `path`, whatever the request's
/// `Accept` header says (`leptos_axum::redirect` sets the status only for requests that
/// accept HTML, so a monitor would see the page's other status with a `Location`).
pub fn redirect_page(path: &str) {
    if let (Some(response), Ok(location)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(path),
    ) {
        response.insert_header(http::header::LOCATION, location);
        response.set_status(http::StatusCode::FOUND);
    }
}
