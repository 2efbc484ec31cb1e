//! The console's calls about this domain: each authenticates the session, then runs the
//! same operation the REST API runs.

use super::Accounts;
use async_trait::async_trait;
use shared::api::*;
use shared::contracts::{AccountsConsole, ClientInfo, ConsoleResult, SessionToken, SignedIn};
use shared::ids::SessionId;

#[async_trait]
impl AccountsConsole for Accounts {
    async fn sign_up(&self, req: SignupRequest, client: &ClientInfo) -> ConsoleResult<CheckEmail> {
        self.sign_up(req, client).await
    }

    async fn verify_email(
        &self,
        req: VerifyEmailRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<(SignedIn, String)> {
        self.verify_email(req, client).await
    }

    async fn request_password_reset(
        &self,
        req: EmailRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<CheckEmail> {
        self.request_password_reset(req, client).await
    }

    async fn reset_password(
        &self,
        req: ResetPasswordRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<SignedIn> {
        self.reset_password(req, client).await
    }

    async fn log_in(&self, req: LoginRequest, client: &ClientInfo) -> ConsoleResult<SignedIn> {
        self.log_in(req, client).await
    }

    async fn oauth_providers(&self) -> ConsoleResult<Vec<OAuthProvider>> {
        Ok(self.oauth_providers())
    }

    async fn log_out(&self, session: &SessionToken) -> ConsoleResult<String> {
        // Logging out with a dead session still clears the cookie.
        if let Ok(p) = self.console_caller(session).await {
            self.log_out(&p).await?;
        }
        Ok(crate::auth::sessions::clear_cookie(
            self.config.secure_cookies(),
        ))
    }

    async fn change_password(
        &self,
        session: &SessionToken,
        req: ChangePasswordRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<SignedIn> {
        let p = self.console_caller(session).await?;
        self.change_password(&p, req, client).await
    }

    async fn sessions(&self, session: &SessionToken) -> ConsoleResult<Vec<SessionView>> {
        let p = self.console_caller(session).await?;
        self.sessions(&p).await
    }

    async fn revoke_session(&self, session: &SessionToken, id: SessionId) -> ConsoleResult<()> {
        let p = self.console_caller(session).await?;
        self.revoke_session(&p, id).await
    }
}
