//! The accounts server functions: sign-up, login, logout, password and sessions.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::{client, console, session, set_cookie};
use leptos::prelude::*;
use shared::api::{OAuthProvider, SessionView};
use shared::ids::SessionId;

/// Signs up and goes to the workspace list (or `next`).
#[server]
pub async fn sign_up(
    email: String,
    password: String,
    name: String,
    next: String,
) -> Result<(), AppError> {
    let req = shared::api::SignupRequest {
        email,
        password,
        name,
    };
    let signed = console()?.accounts.sign_up(req, &client()).await?;
    set_cookie(&signed.set_cookie);
    leptos_axum::redirect(shared::redirects::local_path(&next, "/workspaces"));
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
