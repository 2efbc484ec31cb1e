//! The console's calls about accounts: sign-up, login, logout, password and sessions.

use super::{ClientInfo, ConsoleResult, SessionToken, SignedIn};
use crate::api::*;
use crate::ids::SessionId;
use async_trait::async_trait;

/// Accounts: sign-up, login, logout, password and sessions.
#[async_trait]
pub trait AccountsConsole: Send + Sync + 'static {
    /// Creates an account and signs it in.
    async fn sign_up(&self, req: SignupRequest, client: &ClientInfo) -> ConsoleResult<SignedIn>;

    /// Signs in with e-mail and password.
    async fn log_in(&self, req: LoginRequest, client: &ClientInfo) -> ConsoleResult<SignedIn>;

    /// The OAuth2 providers the login page offers.
    async fn oauth_providers(&self) -> ConsoleResult<Vec<OAuthProvider>>;

    /// Ends the session; answers the `Set-Cookie` value that clears the cookie.
    async fn log_out(&self, session: &SessionToken) -> ConsoleResult<String>;

    /// Changes the caller's password, ends every session, and starts a new one.
    async fn change_password(
        &self,
        session: &SessionToken,
        req: ChangePasswordRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<SignedIn>;

    /// The caller's active sessions.
    async fn sessions(&self, session: &SessionToken) -> ConsoleResult<Vec<SessionView>>;

    /// Ends one of the caller's sessions.
    async fn revoke_session(&self, session: &SessionToken, id: SessionId) -> ConsoleResult<()>;
}
