//! The console's calls about secrets: each authenticates the session, then runs the same
//! operation the REST API runs.

use super::Secrets;
use async_trait::async_trait;
use shared::contracts::{ConsoleResult, SecretsConsole, SessionToken};
use shared::secrets::{SecretView, SetSecretRequest};

#[async_trait]
impl SecretsConsole for Secrets {
    async fn secrets(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<SecretView>> {
        let p = self.tenancy.console_caller(session).await?;
        self.list(&p, slug).await
    }

    async fn set_secret(
        &self,
        session: &SessionToken,
        slug: &str,
        name: &str,
        req: SetSecretRequest,
    ) -> ConsoleResult<(SecretView, bool)> {
        let p = self.tenancy.console_caller(session).await?;
        self.set(&p, slug, name, req).await
    }

    async fn delete_secret(
        &self,
        session: &SessionToken,
        slug: &str,
        name: &str,
    ) -> ConsoleResult<()> {
        let p = self.tenancy.console_caller(session).await?;
        self.delete(&p, slug, name).await
    }
}
