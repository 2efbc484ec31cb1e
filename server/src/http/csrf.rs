//! Cross-site request forgery defence for state-changing requests (except REST calls
//! authenticated by a Bearer key, which ignore the cookie). When the request names where it comes from (`Origin`, or else `Referer`), that
//! must be the console itself — browsers always send `Origin` on cross-site POSTs, so this
//! also stops login CSRF. When it names nothing and carries the session cookie, the body
//! must be `application/json`, which a cross-site form cannot send.

use crate::http::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::error::ApiError;

/// Middleware refusing cross-site state-changing requests with 403.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // On the REST API a Bearer key, when present, is the credential and the cookie is
    // ignored; everywhere else (the console's server functions) the cookie counts.
    let bearer_api = request.uri().path().starts_with("/api/v1/")
        && request.headers().contains_key(header::AUTHORIZATION);
    let has_session =
        !bearer_api && crate::http::extract::session_token(request.headers()).is_some();
    let origin = state.control.config().public_origin();
    if is_allowed(request.method(), request.headers(), has_session, &origin) {
        next.run(request).await
    } else {
        IntoResponse::into_response(ApiError::forbidden(
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
pub fn is_allowed(
    method: &Method,
    headers: &HeaderMap,
    has_session: bool,
    public_origin: &str,
) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
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
        // Only the configured public origin: a page on another name that resolves here (DNS
        // rebinding) names its own host in both `Origin` and `Host`, so matching `Host` would
        // let it in.
        Some(origin) => origin == public_origin,
        None if !has_session => true,
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

    fn ok(method: &Method, pairs: &[(&'static str, &str)], session: bool) -> bool {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        is_allowed(method, &h, session, "https://console.example.com")
    }

    #[test]
    fn origin_rules() {
        let me = "https://console.example.com";
        let post = Method::POST;
        let json = ("content-type", "application/json");
        let form = ("content-type", "application/x-www-form-urlencoded");
        assert!(ok(
            &Method::GET,
            &[("origin", "https://evil.example")],
            true
        ));
        assert!(ok(&post, &[("origin", me)], true));
        assert!(!ok(&post, &[("origin", "https://evil.example")], true));
        assert!(
            !ok(&post, &[("origin", "https://evil.example")], false),
            "login CSRF"
        );
        assert!(
            !ok(
                &post,
                &[
                    ("origin", "http://rebound.example:3000"),
                    ("host", "rebound.example:3000")
                ],
                true
            ),
            "DNS rebinding: Origin and Host agree, but it is not the console"
        );
        assert!(ok(
            &post,
            &[("referer", "https://console.example.com/w/acme")],
            true
        ));
        assert!(!ok(&post, &[("referer", "https://evil.example/x")], true));
        assert!(ok(&post, &[json], true));
        assert!(!ok(&post, &[form], true));
        assert!(ok(&post, &[form], false), "no ambient credential");
        assert!(!ok(&Method::DELETE, &[], true));
        assert!(ok(&Method::DELETE, &[], false));
        // A Bearer call on the REST API reaches `is_allowed` as carrying no session.
        assert!(ok(
            &Method::DELETE,
            &[("authorization", "Bearer sy_x")],
            false
        ));
        assert!(!ok(
            &post,
            &[("origin", "null"), ("content-type", "text/plain")],
            true
        ));
    }
}
