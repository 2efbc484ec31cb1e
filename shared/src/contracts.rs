//! The service the console's server functions call. `server` implements it and injects it as
//! Leptos context; the console never sees SQL or HTTP internals, only these calls.
//!
//! Every call that needs a signed-in user takes the raw session token from the cookie; the
//! implementation authenticates it and checks the caller's role, exactly as the REST API does.

use crate::api::*;
use crate::code::{
    AddRepositoryRequest, CodeQuery, RepositoryAccepted, RepositoryView, SearchResponse,
    SymbolDetail,
};
use crate::error::ApiError;
use crate::ids::{ApiKeyId, JobId, SessionId, UserId};
use crate::jobs::{JobLogPage, JobSubmitted, JobView, SubmitJobRequest, WorkerView};
use crate::roles::Role;
use async_trait::async_trait;

/// The session cookie's value as the browser sent it (not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionToken(pub String);

/// Facts about the client that rate limits and the session list need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's IP address as text, when known.
    pub ip: Option<String>,
    /// The `User-Agent` header, when sent.
    pub user_agent: Option<String>,
}

/// A new session: who signed in and the `Set-Cookie` header value that stores it.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The user that signed in.
    pub user: UserView,
    /// The `Set-Cookie` header value carrying the session token.
    pub set_cookie: String,
}

/// Result of a console call.
pub type ConsoleResult<T> = Result<T, ApiError>;

/// Everything the console can ask of the control plane.
#[async_trait]
pub trait ConsoleService: Send + Sync + 'static {
    /// Creates an account and signs it in.
    async fn sign_up(&self, req: SignupRequest, client: &ClientInfo) -> ConsoleResult<SignedIn>;
    /// Signs in with e-mail and password.
    async fn log_in(&self, req: LoginRequest, client: &ClientInfo) -> ConsoleResult<SignedIn>;
    /// The OAuth2 providers the login page offers.
    async fn oauth_providers(&self) -> ConsoleResult<Vec<OAuthProvider>>;
    /// Ends the session; answers the `Set-Cookie` value that clears the cookie.
    async fn log_out(&self, session: &SessionToken) -> ConsoleResult<String>;
    /// The caller and their workspaces.
    async fn me(&self, session: &SessionToken) -> ConsoleResult<MeResponse>;
    /// Creates a workspace owned by the caller.
    async fn create_workspace(
        &self,
        session: &SessionToken,
        req: CreateWorkspaceRequest,
    ) -> ConsoleResult<Workspace>;
    /// One workspace the caller belongs to.
    async fn workspace(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Workspace>;
    /// Renames a workspace (admin and up).
    async fn rename_workspace(
        &self,
        session: &SessionToken,
        slug: &str,
        req: UpdateWorkspaceRequest,
    ) -> ConsoleResult<Workspace>;
    /// Deletes a workspace (owner only); `confirm` must equal the slug.
    async fn delete_workspace(
        &self,
        session: &SessionToken,
        slug: &str,
        confirm: &str,
    ) -> ConsoleResult<()>;
    /// The workspace's members.
    async fn members(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<Member>>;
    /// Changes a member's role (admin and up; never demotes the last owner).
    async fn change_member_role(
        &self,
        session: &SessionToken,
        slug: &str,
        user_id: UserId,
        role: Role,
    ) -> ConsoleResult<Member>;
    /// Removes a member (admin and up, or oneself leaving; never the last owner).
    async fn remove_member(
        &self,
        session: &SessionToken,
        slug: &str,
        user_id: UserId,
    ) -> ConsoleResult<()>;
    /// Invites someone by e-mail (admin and up).
    async fn invite(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreateInvitationRequest,
    ) -> ConsoleResult<InvitationCreated>;
    /// Invitations not yet accepted (admin and up).
    async fn invitations(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<PendingInvitation>>;
    /// What an invitation offers; anyone holding the token may look.
    async fn invitation_preview(&self, token: &str) -> ConsoleResult<InvitationPreview>;
    /// Accepts an invitation as the signed-in caller.
    async fn accept_invitation(
        &self,
        session: &SessionToken,
        token: &str,
    ) -> ConsoleResult<Workspace>;
    /// The workspace's API keys (admin and up).
    async fn api_keys(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<ApiKey>>;
    /// Creates an API key (admin and up); the secret is in the answer only.
    async fn create_api_key(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreateApiKeyRequest,
    ) -> ConsoleResult<ApiKeyCreated>;
    /// Revokes an API key (admin and up).
    async fn revoke_api_key(
        &self,
        session: &SessionToken,
        slug: &str,
        id: ApiKeyId,
    ) -> ConsoleResult<()>;
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
    /// Submits a job (developer and up).
    async fn submit_job(
        &self,
        session: &SessionToken,
        slug: &str,
        req: SubmitJobRequest,
    ) -> ConsoleResult<JobSubmitted>;
    /// The workspace's jobs, newest first, optionally of one status and pool.
    async fn jobs(
        &self,
        session: &SessionToken,
        slug: &str,
        status: Option<String>,
        pool: Option<String>,
    ) -> ConsoleResult<Vec<JobView>>;
    /// One job.
    async fn job(&self, session: &SessionToken, slug: &str, id: JobId) -> ConsoleResult<JobView>;
    /// A job's log lines after `after`.
    async fn job_logs(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
        after: i64,
    ) -> ConsoleResult<JobLogPage>;
    /// Stops a job (developer and up).
    async fn cancel_job(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
    ) -> ConsoleResult<JobView>;
    /// Runs a dead, failed or cancelled job again (developer and up).
    async fn retry_job(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
    ) -> ConsoleResult<JobView>;
    /// Queue depth and pressure of the pools the workspace can use.
    async fn pools(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<crate::jobs::PoolView>>;
    /// Workers of the pools the workspace can use.
    async fn workers(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<WorkerView>>;
    /// The workspace's code repositories.
    async fn repositories(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<RepositoryView>>;
    /// One repository.
    async fn repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RepositoryView>;
    /// Registers a repository and queues its index run (developer and up).
    async fn add_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        req: AddRepositoryRequest,
    ) -> ConsoleResult<RepositoryAccepted>;
    /// Queues an index run (developer and up).
    async fn reindex_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RepositoryAccepted>;
    /// Removes a repository and its index (developer and up).
    async fn delete_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<()>;
    /// Searches the workspace's code.
    async fn search_code(
        &self,
        session: &SessionToken,
        slug: &str,
        query: CodeQuery,
    ) -> ConsoleResult<SearchResponse>;
    /// A symbol with its code and neighbours.
    async fn symbol(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<SymbolDetail>;
}
