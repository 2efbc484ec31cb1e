//! Keeps registered repositories in step with their index runs: told of every change of a
//! `code.index` job, it records the run's state and results on the repository. And when a
//! workspace is deleted, names its index, clones and uploads for removal.

use super::indexer::{IndexJob, IndexResult};
use super::store::IndexOutcome;
use super::{CodeEngine, INDEX_KIND};
use crate::clock::now_ms;
use crate::jobs::{JobObserver, JobRecord};
use crate::store::Store;
use crate::tenancy::WorkspaceObserver;
use shared::code::RepositoryStatus;
use shared::ids::TenantId;
use shared::jobs::JobStatus;
use std::path::PathBuf;
use std::sync::Arc;

/// Keeps repositories in step with their index runs.
pub struct RepositoryObserver {
    /// Where repositories are recorded.
    pub store: Store,
    /// Where their indexes live.
    pub engine: Arc<CodeEngine>,
}

#[async_trait::async_trait]
impl JobObserver for RepositoryObserver {
    async fn changed(&self, job: &JobRecord) {
        if job.kind != INDEX_KIND {
            return;
        }
        let tenant = job.tenant_id;
        if job.status.is_final() {
            // Searches here open the index again, seeing whatever the run committed.
            self.engine.forget(&tenant.to_string()).await;
        }
        let job_id = job.id;
        let now = now_ms();
        let result = match job.status {
            JobStatus::Queued => {
                self.store
                    .mark_code_run(tenant, job_id, RepositoryStatus::Queued, None, now)
                    .await
            }
            JobStatus::Running => {
                self.store
                    .mark_code_run(tenant, job_id, RepositoryStatus::Indexing, None, now)
                    .await
            }
            JobStatus::Succeeded => {
                let Some(result) = job
                    .result
                    .as_deref()
                    .and_then(|r| serde_json::from_str::<IndexResult>(r).ok())
                else {
                    return;
                };
                let outcome = IndexOutcome {
                    commit_sha: result.commit,
                    files_indexed: result.report.files_indexed as i64,
                    files_skipped: result.report.files_skipped as i64,
                    symbols: result.report.symbols as i64,
                    chunks: result.report.chunks as i64,
                    report: serde_json::to_string(&result.report).unwrap_or_default(),
                };
                let done = self
                    .store
                    .finish_code_run(tenant, job_id, &outcome, now)
                    .await;
                self.forget_if_removed(job).await;
                done
            }
            JobStatus::Failed | JobStatus::Dead | JobStatus::Cancelled => {
                let error = match job.status {
                    JobStatus::Cancelled => "the index run was cancelled".to_owned(),
                    _ => job
                        .error
                        .clone()
                        .unwrap_or_else(|| "the index run failed".to_owned()),
                };
                self.store
                    .mark_code_run(tenant, job_id, RepositoryStatus::Failed, Some(&error), now)
                    .await
            }
        };
        if let Err(e) = result {
            tracing::warn!(job = %job.id, error = %e, "cannot update the repository of an index run");
        }
    }
}

impl RepositoryObserver {
    /// A repository removed while its run went on: drop what the run wrote.
    async fn forget_if_removed(&self, job: &JobRecord) {
        let Ok(payload) = serde_json::from_str::<IndexJob>(&job.payload) else {
            return;
        };
        let Ok(repo_id) = payload.repo_id.parse() else {
            return;
        };
        if let Ok(None) = self.store.code_repo(job.tenant_id, repo_id).await {
            if let Ok(index) = self.engine.index(&payload.tenant_id).await {
                if let Err(e) = index.delete_repo(&payload.repo_id).await {
                    tracing::warn!(error = %e, "cannot drop the index of a removed repository");
                }
            }
            self.engine.remove_files_of(&payload.repo_id).await;
        }
    }
}

/// A deleted workspace's code leaves the disk with it: its index directory and every
/// repository's clone or upload.
pub struct WorkspaceFiles {
    /// Where its repositories are recorded.
    pub store: Store,
    /// Where their files live.
    pub engine: Arc<CodeEngine>,
}

#[async_trait::async_trait]
impl WorkspaceObserver for WorkspaceFiles {
    async fn deleting(&self, tenant: TenantId) -> Vec<PathBuf> {
        let repos = match self.store.code_repos(tenant).await {
            Ok(repos) => repos,
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %e, "cannot list a deleted workspace's repositories; their files stay");
                Vec::new()
            }
        };
        let mut paths = vec![self.engine.config().workspace_dir(&tenant.to_string())];
        for repo in repos {
            let id = repo.id.to_string();
            paths.push(self.engine.checkout_dir(&id));
            paths.push(self.engine.upload_dir(&id));
        }
        paths
    }

    async fn deleted(&self, tenant: TenantId) {
        self.engine.forget_workspace(&tenant.to_string()).await;
    }
}
