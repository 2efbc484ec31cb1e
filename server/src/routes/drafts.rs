//! All of a workspace's drafts at once, as one manifest: read them, or replace them in one
//! transaction (what `switchyard plan` and `switchyard deploy` do with a directory). A
//! manifest with any problem replaces nothing; a change to who may call a route needs
//! `ManageRouteAuth`, as it does one route at a time.

use super::RouteOps;
use crate::accounts::Principal;
use crate::clock::now_ms;
use shared::error::ApiResult;
use shared::roles::Permission;
use shared::routes::views::PlanView;
use shared::routes::{validate, Manifest, Problem, RouteAuth};
use std::collections::BTreeMap;

impl RouteOps {
    /// The workspace's drafts as one manifest (canonical order).
    pub async fn drafts(&self, p: &Principal, slug: &str) -> ApiResult<Manifest> {
        let access = self
            .tenancy()
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        Ok(self.draft_manifest(access.tenant()).await?.canonical())
    }

    /// What deploying `manifest` would change now, and what would refuse it, without
    /// saving anything (`switchyard plan`; readers may ask).
    pub async fn plan_manifest(
        &self,
        p: &Principal,
        slug: &str,
        manifest: Manifest,
    ) -> ApiResult<PlanView> {
        let access = self
            .tenancy()
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        self.plan_of(access.tenant(), &manifest.canonical()).await
    }

    /// Replaces every draft with `manifest`'s definitions (developer and up) and answers the
    /// plan against what is live; `Err` with every problem, and nothing replaced, when the
    /// manifest has any.
    pub async fn replace_drafts(
        &self,
        p: &Principal,
        slug: &str,
        manifest: Manifest,
    ) -> ApiResult<Result<PlanView, Vec<Problem>>> {
        let access = self
            .tenancy()
            .authorize(p, slug, Permission::Develop)
            .await?;
        let tenant = access.tenant();
        let manifest = manifest.canonical();
        let mut problems = validate(&manifest);
        problems.extend(self.server_problems(tenant, &manifest).await?);
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let before = self.draft_manifest(tenant).await?;
        if guarded(&before) != guarded(&manifest) {
            self.may_set_auth(&access)?;
        }
        self.store()
            .replace_drafts(tenant, &manifest, access.acting_user, now_ms())
            .await?;
        Ok(Ok(self.plan(p, slug).await?))
    }
}

/// The routes only some callers may call, with who: what `ManageRouteAuth` decides.
fn guarded(manifest: &Manifest) -> BTreeMap<String, RouteAuth> {
    manifest
        .routes
        .iter()
        .filter(|r| r.settings.auth != RouteAuth::Public)
        .map(|r| (r.name(), r.settings.auth.clone()))
        .collect()
}
