//! The console's calls about accounts: sign-up and e-mail verification, login, logout,
//! password change and reset, and sessions.

use super::{ClientInfo, ConsoleResult, SessionToken, SignedIn};
use crate::api::*;
use crate::ids::SessionId;
use async_trait::async_trait;

/// Accounts: sign-up and verification, login, logout, password and sessions.
#[async_trait]
pub trait AccountsConsole: Send + Sync + 'static {
    /// Starts a sign-up: mails a verification link (or, for a registered address, a note
    /// that the account exists) and answers the same either way.
    async fn sign_up(&self, req: SignupRequest, client: &ClientInfo) -> ConsoleResult<CheckEmail>;

    /// Verifies the address of a verification link's token and signs its account in;
    /// answers the session and the local path to open next.
    async fn verify_email(
        &self,
        req: VerifyEmailRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<(SignedIn, String)>;

    /// Mails a password reset link (the same answer for any address).
    async fn request_password_reset(
        &self,
        req: EmailRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<CheckEmail>;

    /// Sets a new password from a reset link's token, ends every session and signs in.
    async fn reset_password(
        &self,
        req: ResetPasswordRequest,
        client: &ClientInfo,
    ) -> ConsoleResult<SignedIn>;

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
