//! The calls the console's server functions make, one trait per domain. `server` implements
//! each in the domain's folder and injects them, as one [`Console`], as Leptos context; the
//! console never sees SQL or HTTP internals, only these calls.
//!
//! Every call that needs a signed-in user takes the raw session token from the cookie; the
//! implementation authenticates it and checks the caller's role, exactly as the REST API does.

mod accounts;
mod code;
mod jobs;
mod pipelines;
mod routes;
mod secrets;
mod tenancy;

pub use accounts::AccountsConsole;
pub use code::CodeConsole;
pub use jobs::JobsConsole;
pub use pipelines::PipelinesConsole;
pub use routes::RoutesConsole;
pub use secrets::SecretsConsole;
pub use tenancy::TenancyConsole;

use crate::api::UserView;
use crate::error::ApiError;
use std::sync::Arc;

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

/// The control plane as the console sees it: one service per domain.
#[derive(Clone)]
pub struct Console {
    /// Sign-up, login, sessions.
    pub accounts: Arc<dyn AccountsConsole>,
    /// Workspaces, members, invitations, API keys.
    pub tenancy: Arc<dyn TenancyConsole>,
    /// Jobs, pools, workers.
    pub jobs: Arc<dyn JobsConsole>,
    /// Code intelligence.
    pub code: Arc<dyn CodeConsole>,
    /// Workspace secrets.
    pub secrets: Arc<dyn SecretsConsole>,
    /// Pipelines, versions and runs.
    pub pipelines: Arc<dyn PipelinesConsole>,
    /// Routes, topics and deploys.
    pub routes: Arc<dyn RoutesConsole>,
}
