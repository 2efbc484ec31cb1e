//! Cross-site request forgery defence for every state-changing request that does not carry
//! an `Authorization` header (a cookie, or nothing yet, as for login):
//! its `Origin` (or, without one, its `Referer`) must be the console's own origin; with
//! neither, the body must be `application/json`, which a cross-site form cannot send.

use crate::http::error::error_response;
use crate::http::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use shared::error::ApiError;

/// Middleware refusing cross-site state-changing requests with 403.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_allowed(
        request.method(),
        request.headers(),
        &state.control.config().public_origin(),
    ) {
        next.run(request).await
    } else {
        error_response(ApiError::forbidden(
            "cross-site request refused: Origin is not this console (or, without Origin, the body is not JSON)",
        ))
    }
}

fn origin_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
}

/// Whether a request with these headers may proceed.
pub fn is_allowed(method: &Method, headers: &HeaderMap, public_origin: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if headers.contains_key(header::AUTHORIZATION) {
        return true;
    }
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    let claimed = match text(header::ORIGIN).filter(|o| *o != "null") {
        Some(origin) => Some(origin.trim_end_matches('/').to_owned()),
        None => text(header::REFERER).map(|r| origin_of(r).unwrap_or_default()),
    };
    match claimed {
        Some(origin) => {
            let host = text(header::HOST).unwrap_or_default();
            origin == public_origin
                || origin == format!("http://{host}")
                || origin == format!("https://{host}")
        }
        None => text(header::CONTENT_TYPE).is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origin_rules() {
        let me = "https://console.example.com";
        let post = Method::POST;
        assert!(is_allowed(
            &Method::GET,
            &headers(&[("origin", "https://evil.example")]),
            me
        ));
        assert!(is_allowed(&post, &headers(&[("origin", me)]), me));
        assert!(!is_allowed(
            &post,
            &headers(&[("origin", "https://evil.example")]),
            me
        ));
        assert!(is_allowed(
            &post,
            &headers(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ]),
            me
        ));
        assert!(is_allowed(
            &post,
            &headers(&[("referer", "https://console.example.com/w/acme")]),
            me
        ));
        assert!(!is_allowed(
            &post,
            &headers(&[("referer", "https://evil.example/x")]),
            me
        ));
        assert!(is_allowed(
            &post,
            &headers(&[("content-type", "application/json")]),
            me
        ));
        assert!(!is_allowed(
            &post,
            &headers(&[("content-type", "application/x-www-form-urlencoded")]),
            me
        ));
        assert!(!is_allowed(&Method::DELETE, &headers(&[]), me));
        assert!(is_allowed(
            &Method::DELETE,
            &headers(&[("authorization", "Bearer sy_x")]),
            me
        ));
        assert!(!is_allowed(
            &post,
            &headers(&[("origin", "null"), ("content-type", "text/plain")]),
            me
        ));
    }
}
