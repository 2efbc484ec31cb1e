//! The console's calls about workspace secrets.

use super::{ConsoleResult, SessionToken};
use crate::secrets::{SecretView, SetSecretRequest};
use async_trait::async_trait;

/// Workspace secrets: names and who set them; values go in and never come out.
#[async_trait]
pub trait SecretsConsole: Send + Sync + 'static {
    /// The workspace's secrets (names only).
    async fn secrets(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<SecretView>>;

    /// Sets a secret (admin and up); answers it and whether it is new.
    async fn set_secret(
        &self,
        session: &SessionToken,
        slug: &str,
        name: &str,
        req: SetSecretRequest,
    ) -> ConsoleResult<(SecretView, bool)>;

    /// Deletes a secret (admin and up).
    async fn delete_secret(
        &self,
        session: &SessionToken,
        slug: &str,
        name: &str,
    ) -> ConsoleResult<()>;
}
