//! The accounts API: sign-up and e-mail verification, login, logout, password change and
//! reset, sessions and OAuth providers, every route of it in [`router`].

use crate::auth::sessions::clear_cookie;
use crate::control::Control;
use crate::http::extract::{path_id, ApiJson, Caller, Client};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use shared::api::*;
use shared::contracts::SignedIn;
use shared::error::{ApiResult, ErrorBody};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/api/v1/auth` routes, each with its OpenAPI entry.
pub fn router() -> OpenApiRouter<Arc<Control>> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(request_password_reset))
        .routes(routes!(reset_password))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(providers))
}

fn signed_in(s: SignedIn) -> Response {
    let mut response = Json(AuthResponse { user: s.user }).into_response();
    if let Ok(v) = HeaderValue::from_str(&s.set_cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// Start creating an account: the address gets a link that finishes it (or, when it already
/// has an account, a note saying so). The answer is the same for every address.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 202, body = CheckEmail), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn signup(
    State(control): State<Arc<Control>>,
    Client(client): Client,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<CheckEmail>)> {
    let sent = control.accounts.sign_up(req, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Follow a verification link: creates the pending account (or verifies an older one's
/// address) and signs in (sets the session cookie).
#[utoipa::path(post, path = "/auth/verify-email", tag = "auth", request_body = VerifyEmailRequest,
    responses((status = 200, body = AuthResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn verify_email(
    State(control): State<Arc<Control>>,
    Client(client): Client,
    ApiJson(req): ApiJson<VerifyEmailRequest>,
) -> ApiResult<Response> {
    let (s, _next) = control.accounts.verify_email(req, &client).await?;
    Ok(signed_in(s))
}

/// Mail a new verification link (same answer for every address).
#[utoipa::path(post, path = "/auth/verify-email/resend", tag = "auth", request_body = EmailRequest,
    responses((status = 202, body = CheckEmail), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn resend_verification(
    State(control): State<Arc<Control>>,
    Client(client): Client,
    ApiJson(req): ApiJson<EmailRequest>,
) -> ApiResult<(StatusCode, Json<CheckEmail>)> {
    let sent = control.accounts.resend_verification(req, &client).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Mail a password reset link (same answer for every address).
#[utoipa::path(post, path = "/auth/password-reset", tag = "auth", request_body = EmailRequest,
    responses((status = 202, body = CheckEmail), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn request_password_reset(
    State(control): State<Arc<Control>>,
    Client(client): Client,
    ApiJson(req): ApiJson<EmailRequest>,
) -> ApiResult<(StatusCode, Json<CheckEmail>)> {
    let sent = control
        .accounts
        .request_password_reset(req, &client)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(sent)))
}

/// Choose a new password with a reset link's token: every session ends, the API keys the
/// user created are revoked, and this client is signed in (sets the session cookie).
#[utoipa::path(post, path = "/auth/password-reset/confirm", tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 200, body = AuthResponse), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn reset_password(
    State(control): State<Arc<Control>>,
    Client(client): Client,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> ApiResult<Response> {
    let s = control.accounts.reset_password(req, &client).await?;
    Ok(signed_in(s))
}

/// Sign in with e-mail and password (sets the session cookie).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "the address is not verified yet; a link was mailed"), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(control): State<Arc<Control>>,
    Client(client): Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let s = control.accounts.log_in(req, &client).await?;
    Ok(signed_in(s))
}

/// End the session and clear its cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(control): State<Arc<Control>>, Caller(p): Caller) -> ApiResult<Response> {
    control.accounts.log_out(&p).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(control.config().secure_cookies())) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Change the password; every session ends and a new one starts for this client.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Client(client): Client,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Response> {
    let s = control.accounts.change_password(&p, req, &client).await?;
    Ok(signed_in(s))
}

/// The caller's live sessions.
#[utoipa::path(get, path = "/auth/sessions", tag = "auth", responses((status = 200, body = [SessionView]), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
) -> ApiResult<Json<Vec<SessionView>>> {
    Ok(Json(control.accounts.sessions(&p).await?))
}

/// End one of the caller's sessions.
#[utoipa::path(delete, path = "/auth/sessions/{id}", tag = "auth", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    control
        .accounts
        .revoke_session(&p, path_id(&id, "session")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// OAuth2 providers offered for login (start one at `/auth/oauth/{id}/start`).
#[utoipa::path(get, path = "/auth/providers", tag = "auth", responses((status = 200, body = [OAuthProvider])))]
pub async fn providers(State(control): State<Arc<Control>>) -> Json<Vec<OAuthProvider>> {
    Json(control.accounts.oauth_providers())
}
