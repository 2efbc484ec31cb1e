//! The accounts server functions: sign-up and e-mail verification, login, logout, password
//! change and reset, and sessions.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::{client, console, session, set_cookie};
use leptos::prelude::*;
use shared::api::{CheckEmail, OAuthProvider, SessionView};
use shared::ids::SessionId;

/// Starts a sign-up: the address is mailed a link that finishes it (and then opens `next`).
#[server]
pub async fn sign_up(
    email: String,
    password: String,
    name: String,
    next: String,
) -> Result<CheckEmail, AppError> {
    let req = shared::api::SignupRequest {
        email,
        password,
        name,
        next: (!next.is_empty()).then_some(next),
    };
    Ok(console()?.accounts.sign_up(req, &client()).await?)
}

/// Follows a verification link (with the sign-up's password): signs in and opens where the
/// sign-up was going.
#[server]
pub async fn verify_email(token: String, password: String) -> Result<(), AppError> {
    let req = shared::api::VerifyEmailRequest {
        token,
        password: (!password.is_empty()).then_some(password),
    };
    let (signed, next) = console()?.accounts.verify_email(req, &client()).await?;
    set_cookie(&signed.set_cookie);
    leptos_axum::redirect(shared::redirects::local_path(&next, "/workspaces"));
    Ok(())
}

/// Mails a password reset link.
#[server]
pub async fn request_password_reset(email: String) -> Result<CheckEmail, AppError> {
    let req = shared::api::EmailRequest { email };
    Ok(console()?
        .accounts
        .request_password_reset(req, &client())
        .await?)
}

/// Sets a new password from a reset link, signs in and opens the workspace list.
#[server]
pub async fn reset_password(token: String, new_password: String) -> Result<(), AppError> {
    let req = shared::api::ResetPasswordRequest {
        token,
        new_password,
    };
    let signed = console()?.accounts.reset_password(req, &client()).await?;
    set_cookie(&signed.set_cookie);
    leptos_axum::redirect("/workspaces");
    Ok(())
}

/// Logs in and goes to the workspace list (or `next`).
#[server]
pub async fn log_in(email: String, password: String, next: String) -> Result<(), AppError> {
    let req = shared::api::LoginRequest { email, password };
    let signed = console()?.accounts.log_in(req, &client()).await?;
    set_cookie(&signed.set_cookie);
    leptos_axum::redirect(shared::redirects::local_path(&next, "/workspaces"));
    Ok(())
}

/// The OAuth2 providers the login page offers.
#[server]
pub async fn oauth_providers() -> Result<Vec<OAuthProvider>, AppError> {
    Ok(console()?.accounts.oauth_providers().await?)
}

/// Logs out and goes to the login page.
#[server]
pub async fn log_out() -> Result<(), AppError> {
    let clear = console()?.accounts.log_out(&session()).await?;
    set_cookie(&clear);
    leptos_axum::redirect("/login");
    Ok(())
}

/// Changes the password; other sessions end, this browser gets a fresh one.
#[server]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    let req = shared::api::ChangePasswordRequest {
        current_password,
        new_password,
    };
    let signed = console()?
        .accounts
        .change_password(&session(), req, &client())
        .await?;
    set_cookie(&signed.set_cookie);
    Ok(())
}

/// The caller's sessions.
#[server]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    Ok(console()?.accounts.sessions(&session()).await?)
}

/// Ends one of the caller's sessions.
#[server]
pub async fn revoke_session(id: SessionId) -> Result<(), AppError> {
    Ok(console()?.accounts.revoke_session(&session(), id).await?)
}
