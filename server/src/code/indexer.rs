//! The `code.index` job: brings the repository's code onto the worker, indexes what changed
//! since the last run, and reports progress and the run's figures.

use super::{git, CodeEngine, INDEX_KIND};
use crate::secrets::cipher::Sealed;
use codeintel::chunk::ChunkOptions;
use codeintel::index::{index_repository, IndexRequest};
use serde::{Deserialize, Serialize};
use shared::code::RepositorySource;
use shared::error::FieldError;
use std::sync::Arc;
use workers::kinds::{JobContext, JobKind};
use workers::protocol::Outcome;

/// What an index run is told: everything it needs, so workers need no database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexJob {
    pub tenant_id: String,
    pub repo_id: String,
    pub source: RepositorySource,
    pub location: String,
    #[serde(default)]
    pub branch: Option<String>,
    /// The repository's credential, sealed: only a process holding the workspace secrets'
    /// key opens it.
    #[serde(default)]
    pub credential: Option<Credential>,
}

/// A workspace secret as a job carries it: its name and its sealed value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub name: String,
    pub sealed: Sealed,
}

/// What a successful run answers (the job's result).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexResult {
    pub commit: Option<String>,
    pub report: codeintel::index::IndexReport,
}

/// The `code.index` job kind: clones or reads a repository, parses and embeds what changed,
/// and writes the workspace's index. Only the control plane submits it.
pub struct IndexKind {
    engine: Arc<CodeEngine>,
}

impl IndexKind {
    /// The kind over this process's indexes and embedding model.
    pub fn new(engine: Arc<CodeEngine>) -> IndexKind {
        IndexKind { engine }
    }

    async fn run_job(
        &self,
        job: IndexJob,
        ctx: &JobContext,
    ) -> Result<IndexResult, (String, bool)> {
        // Fail early and clearly without a model: never index with made-up vectors.
        let embedder = self.engine.embedder().await.map_err(|e| (e, false))?;
        ctx.progress("fetching", 0, 0);
        let (root, commit) = match job.source {
            RepositorySource::Git => {
                let dir = self.engine.checkout_dir(&job.repo_id);
                let remote = self
                    .engine
                    .remote(&job.location)
                    .await
                    .map_err(|e| (e, false))?;
                let token = match &job.credential {
                    None => None,
                    Some(c) => Some(
                        self.engine
                            .open_secret(&job.tenant_id, &c.name, &c.sealed)
                            .map_err(|e| (e, false))?,
                    ),
                };
                ctx.log(format!("fetching {}", job.location));
                let commit = self
                    .engine
                    .git(&remote, token.as_deref())
                    .checkout(job.branch.as_deref(), &dir)
                    .await
                    .map_err(|e| (e.to_string(), e.retryable()))?;
                ctx.log(format!("at commit {commit}"));
                (dir, Some(commit))
            }
            RepositorySource::Path => {
                let dir = self
                    .engine
                    .config()
                    .server_paths
                    .check(std::path::Path::new(&job.location))
                    .map_err(|e| (e, false))?;
                let commit = git::head_commit(&dir, self.engine.git_home()).await;
                (dir, commit)
            }
            RepositorySource::Upload => {
                let dir = self.engine.upload_dir(&job.repo_id);
                if !dir.is_dir() {
                    return Err((
                        "the uploaded files are gone; upload the archive again".into(),
                        false,
                    ));
                }
                (dir, None)
            }
        };
        let index = self
            .engine
            .index(&job.tenant_id)
            .await
            .map_err(|e| (e, true))?;
        let request = IndexRequest {
            repo_id: job.repo_id.clone(),
            root,
            max_file_bytes: self.engine.config().max_file_bytes,
            max_files: self.engine.config().max_files,
            chunk_options: ChunkOptions::default(),
        };
        let progress_ctx = ctx.clone();
        let report = index_repository(&index, &embedder, &request, move |p| {
            progress_ctx.progress(p.phase.as_str(), p.done, p.total);
        })
        .await
        .map_err(|e| (e.to_string(), true))?;
        ctx.log(format!(
            "indexed {} files ({} changed, {} deleted, {} skipped): {} symbols, {} edges, {} chunks ({} embedded) in {} ms",
            report.files_indexed,
            report.files_changed,
            report.files_deleted,
            report.files_skipped,
            report.symbols,
            report.edges,
            report.chunks,
            report.chunks_embedded,
            report.total_ms
        ));
        Ok(IndexResult { commit, report })
    }
}

#[async_trait::async_trait]
impl JobKind for IndexKind {
    type Payload = IndexJob;
    const NAME: &'static str = INDEX_KIND;
    /// Embedding dominates a first run: a large repository (tens of thousands of chunks at
    /// a few chunks a second on two cores) takes hours.
    const MAX_RUN_TIME: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

    fn validate(job: &IndexJob) -> Result<(), FieldError> {
        if job.tenant_id.parse::<uuid::Uuid>().is_err() {
            return Err(FieldError::new(
                "payload.tenant_id",
                "is not a workspace id",
            ));
        }
        if job.repo_id.parse::<uuid::Uuid>().is_err() {
            return Err(FieldError::new("payload.repo_id", "is not a repository id"));
        }
        if job.location.trim().is_empty() {
            return Err(FieldError::new("payload.location", "must not be empty"));
        }
        Ok(())
    }

    async fn run(&self, job: IndexJob, ctx: JobContext) -> Outcome {
        let work = self.run_job(job, &ctx);
        tokio::select! {
            outcome = work => match outcome {
                Ok(result) => Outcome::Succeeded {
                    result: serde_json::to_value(&result).unwrap_or(serde_json::Value::Null),
                },
                Err((error, retryable)) => {
                    ctx.log(format!("failed: {error}"));
                    Outcome::Failed { error, retryable }
                }
            },
            _ = ctx.stopped() => Outcome::Cancelled,
        }
    }
}
