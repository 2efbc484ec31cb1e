//! The control plane as the front doors see it: one [`Control`] value holding each domain's
//! service, wired in `lib.rs` ([`crate::control_plane`]). It has no operations of its own:
//! a handler calls `control.tenancy.members(…)`, `control.jobs.submit_job(…)`, and each
//! operation authorises its caller first. No domain imports this module.

use crate::accounts::Accounts;
use crate::code::CodeOps;
use crate::config::Config;
use crate::jobs::JobOps;
use crate::pipelines::PipelineOps;
use crate::routes::{Gateway, RouteOps};
use crate::secrets::Secrets;
use crate::store::Store;
use crate::tenancy::Tenancy;
use std::sync::Arc;

/// The control plane: the services of every domain.
pub struct Control {
    store: Store,
    config: Arc<Config>,
    /// Accounts, sessions and authentication.
    pub accounts: Arc<Accounts>,
    /// Workspaces, members, invitations, API keys, and the authorisation gate.
    pub tenancy: Arc<Tenancy>,
    /// Durable jobs, pools and workers.
    pub jobs: Arc<JobOps>,
    /// Code intelligence.
    pub code: Arc<CodeOps>,
    /// Workspace secrets.
    pub secrets: Arc<Secrets>,
    /// Pipelines and their runs.
    pub pipelines: Arc<PipelineOps>,
    /// Routes, topics and deploys.
    pub routes: Arc<RouteOps>,
    /// The tenant gateway serving the live deploys (on its own listener).
    pub gateway: Arc<Gateway>,
}

impl Control {
    /// The facade over these services.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        config: Arc<Config>,
        accounts: Arc<Accounts>,
        tenancy: Arc<Tenancy>,
        jobs: Arc<JobOps>,
        code: Arc<CodeOps>,
        secrets: Arc<Secrets>,
        pipelines: Arc<PipelineOps>,
        routes: Arc<RouteOps>,
        gateway: Arc<Gateway>,
    ) -> Control {
        Control {
            store,
            config,
            accounts,
            tenancy,
            jobs,
            code,
            secrets,
            pipelines,
            routes,
            gateway,
        }
    }

    /// The store (for readiness checks).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
}
