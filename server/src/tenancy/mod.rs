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
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
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

/// A domain with something of a workspace outside the store's rows (running jobs, files on
/// disk), told when the workspace is deleted.
#[async_trait::async_trait]
pub trait WorkspaceObserver: Send + Sync {
    /// The workspace `tenant` is about to be deleted: stop what runs for it, and answer the
    /// files and directories it owns, which are removed once its rows are gone.
    async fn deleting(&self, tenant: TenantId) -> Vec<PathBuf>;

    /// Its rows are gone (drop anything cached about it).
    async fn deleted(&self, _tenant: TenantId) {}
}

/// The tenancy service.
pub struct Tenancy {
    store: Store,
    config: Arc<Config>,
    accounts: Arc<Accounts>,
    observers: RwLock<Vec<Arc<dyn WorkspaceObserver>>>,
}

impl Tenancy {
    /// Tenancy over `store`, configured by `config` (invitation lifetime, public URL), with
    /// `accounts` to authenticate console callers.
    pub fn new(store: Store, config: Arc<Config>, accounts: Arc<Accounts>) -> Tenancy {
        Tenancy {
            store,
            config,
            accounts,
            observers: RwLock::new(Vec::new()),
        }
    }

    /// Tells `observer` about deleted workspaces.
    pub fn observe(&self, observer: Arc<dyn WorkspaceObserver>) {
        self.observers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(observer);
    }

    fn observers(&self) -> Vec<Arc<dyn WorkspaceObserver>> {
        self.observers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The caller behind a console request's session cookie (401 without one).
    pub async fn console_caller(
        &self,
        session: &shared::contracts::SessionToken,
    ) -> Result<Principal, shared::error::ApiError> {
        self.accounts.console_caller(session).await
    }
}
