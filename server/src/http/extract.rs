//! Extractors: one per concern. [`Caller`] authenticates, [`Client`] describes the client,
//! [`ApiJson`] parses a body strictly and names the field at fault.

use crate::accounts::Principal;
use crate::auth::sessions::token_from_cookie_header;
use crate::control::Control;
use axum::extract::FromRef;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use shared::contracts::ClientInfo;
use shared::error::{ApiError, ErrorCode};
use std::net::SocketAddr;
use std::sync::Arc;

/// The authenticated caller: an `Authorization: Bearer` API key, or else the session cookie.
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    Arc<Control>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let control = Arc::<Control>::from_ref(state);
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let raw = auth.to_str().map_err(|_| ApiError::unauthorized())?;
            let key = raw.strip_prefix("Bearer ").map(str::trim).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "Authorization must be `Bearer <API key>`",
                )
            })?;
            return Ok(Caller(control.accounts.authenticate_api_key(key).await?));
        }
        let token = session_token(&parts.headers).ok_or_else(ApiError::unauthorized)?;
        Ok(Caller(control.accounts.authenticate_session(&token).await?))
    }
}

/// The session cookie's value, if the request has one.
/// An id from the path; a malformed id names nothing that exists, so it is a 404.
pub fn path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}

/// Tells the console who is asking before its pages and server functions run: the session
/// token from the cookie (not yet verified) and the client's address, as request extensions.
pub async fn identify(
    axum::extract::State(control): axum::extract::State<Arc<Control>>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (mut parts, body) = request.into_parts();
    let client = client_info(&parts, control.config().trust_forwarded_for);
    if let Some(token) = session_token(&parts.headers) {
        parts
            .extensions
            .insert(shared::contracts::SessionToken(token));
    }
    parts.extensions.insert(client);
    next.run(Request::from_parts(parts, body)).await
}

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(token_from_cookie_header)
        .map(str::to_owned)
}

/// The client's IP (for rate limits) and user agent (for the session list).
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client
where
    Arc<Control>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let control = Arc::<Control>::from_ref(state);
        Ok(Client(client_info(
            parts,
            control.config().trust_forwarded_for,
        )))
    }
}

/// Describes the client from the request: its IP (the socket's, or the last
/// `X-Forwarded-For` hop, the one the trusted proxy added, when the proxy is trusted) and
/// its user agent.
pub fn client_info(parts: &Parts, trust_forwarded_for: bool) -> ClientInfo {
    let forwarded = trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|ip| ip.trim().to_owned())
        .filter(|ip| !ip.is_empty());
    let socket = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    ClientInfo {
        ip: forwarded.or(socket),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// A JSON body: `Content-Type: application/json`, within the size limit, no unknown fields,
/// every field of the right type. Failures name the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "Content-Type must be application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
            } else {
                ApiError::new(ErrorCode::BadRequest, "the request body could not be read")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Query parameters: failures (a missing parameter, a number that is not one) are 422 and
/// name the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let message = e.inner().to_string();
                let path = e.path().to_string();
                let field = if message.starts_with("missing field") {
                    message.split('`').nth(1).map(str::to_owned)
                } else if path != "." {
                    Some(path)
                } else {
                    None
                };
                let message = match &field {
                    Some(f) => format!("{f}: {message}"),
                    None => message,
                };
                ApiError {
                    code: ErrorCode::Validation,
                    message,
                    field,
                    retry_after: None,
                    problems: Vec::new(),
                }
            })
    }
}

/// Parses `bytes` as `T`, turning serde's complaint into an error naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        let message = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(
                ErrorCode::BadRequest,
                format!("the body is not valid JSON: {message}"),
            );
        }
        let path = e.path().to_string();
        let named = message.split('`').nth(1).map(str::to_owned);
        // serde reports a missing field at its parent (the name is in backticks); an unknown
        // field is already the last segment of the path.
        let field = if message.starts_with("missing field") {
            named.map(|n| {
                if path == "." {
                    n
                } else {
                    format!("{path}.{n}")
                }
            })
        } else if path != "." {
            Some(path)
        } else {
            None
        };
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        ApiError {
            code: ErrorCode::Validation,
            message,
            field,
            retry_after: None,
            problems: Vec::new(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::api::{CreateApiKeyRequest, CreateWorkspaceRequest};

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<CreateWorkspaceRequest>(br#"{"slug":"a","name":"b","extra":1}"#)
            .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::Validation, Some("extra"))
        );
        let e = parse_json::<CreateWorkspaceRequest>(br#"{"slug":"a"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name"));
        let e = parse_json::<CreateWorkspaceRequest>(br#"{"slug":5,"name":"b"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("slug"));
        let e = parse_json::<CreateApiKeyRequest>(br#"{"name":"ci","role":"root"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("role"));
        let e = parse_json::<CreateWorkspaceRequest>(b"{not json").unwrap_err();
        assert_eq!((e.code, e.field), (ErrorCode::BadRequest, None));
    }
}
