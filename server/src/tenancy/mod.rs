//! Workspaces (tenants): the workspaces themselves, members and roles, invitations, and the
//! workspace's API keys. [`Tenancy::authorize`] is the one gate every workspace operation
//! of every domain passes: it resolves a slug for a caller and checks the permission.
//!
//! Entry points: [`http::router`] (REST under `/api/v1/workspaces` and `/invitations`),
//! [`Tenancy`]'s operations (`ops.rs`), which the console calls too; store functions and
//! records in `store.rs`.

mod console;
pub mod http;
mod ops;
pub mod store;

use crate::accounts::{Accounts, Principal};
use crate::config::Config;
use crate::store::Store;
use shared::ids::{TenantId, UserId};
use shared::roles::Role;
use std::sync::Arc;
pub use store::WorkspaceRecord;

/// A caller's authorised access to one workspace.
#[derive(Clone, Debug)]
pub struct Access {
    /// The workspace.
    pub workspace: WorkspaceRecord,
    /// The caller's effective role in it (a key's own role for API keys).
    pub role: Role,
    /// Number of members.
    pub member_count: i64,
    /// The user acting, or the user who created the API key acting.
    pub acting_user: UserId,
}

impl Access {
    /// The workspace's tenant id.
    pub fn tenant(&self) -> TenantId {
        self.workspace.id
    }
}

/// The tenancy service.
pub struct Tenancy {
    store: Store,
    config: Arc<Config>,
    accounts: Arc<Accounts>,
}

impl Tenancy {
    /// Tenancy over `store`, configured by `config` (invitation lifetime, public URL), with
    /// `accounts` to authenticate console callers.
    pub fn new(store: Store, config: Arc<Config>, accounts: Arc<Accounts>) -> Tenancy {
        Tenancy {
            store,
            config,
            accounts,
        }
    }

    /// The caller behind a console request's session cookie (401 without one).
    pub async fn console_caller(
        &self,
        session: &shared::contracts::SessionToken,
    ) -> Result<Principal, shared::error::ApiError> {
        self.accounts.console_caller(session).await
    }
}
