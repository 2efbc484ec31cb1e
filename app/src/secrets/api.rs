//! The secrets server functions.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::{console, session};
use leptos::prelude::*;
use shared::secrets::SecretView;

/// The workspace's secrets (names, never values).
#[server]
pub async fn list_secrets(slug: String) -> Result<Vec<SecretView>, AppError> {
    Ok(console()?.secrets.secrets(&session(), &slug).await?)
}

/// Sets a secret, creating or replacing it.
#[server]
pub async fn set_secret(slug: String, name: String, value: String) -> Result<SecretView, AppError> {
    let req = shared::secrets::SetSecretRequest { value };
    let (secret, _) = console()?
        .secrets
        .set_secret(&session(), &slug, name.trim(), req)
        .await?;
    Ok(secret)
}

/// Deletes a secret.
#[server]
pub async fn delete_secret(slug: String, name: String) -> Result<(), AppError> {
    Ok(console()?
        .secrets
        .delete_secret(&session(), &slug, &name)
        .await?)
}
