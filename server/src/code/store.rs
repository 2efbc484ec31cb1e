//! Code repositories a workspace registered, and the state of their index runs. The index
//! itself (graph, chunks, vectors) lives in the code index, not here.

use crate::store::{id, unique_to_conflict, Scope, Store, StoreError, StoreResult};
use shared::code::{RepositorySource, RepositoryStatus};
use shared::ids::{JobId, RepositoryId, TenantId, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A registered repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRepoRecord {
    /// Repository id.
    pub id: RepositoryId,
    /// Its workspace.
    pub tenant_id: TenantId,
    /// Display name.
    pub name: String,
    /// Where its code comes from.
    pub source: RepositorySource,
    /// Git URL, server path, or the upload's directory.
    pub location: String,
    /// Branch to index (`None`: the default branch).
    pub branch: Option<String>,
    /// The workspace secret a clone authenticates with.
    pub credential: Option<String>,
    /// Where its index runs stand.
    pub status: RepositoryStatus,
    /// Commit of the last successful index.
    pub commit_sha: Option<String>,
    /// Files in the index.
    pub files_indexed: i64,
    /// Files left out.
    pub files_skipped: i64,
    /// Symbols in the graph.
    pub symbols: i64,
    /// Search chunks.
    pub chunks: i64,
    /// The last successful run's report, JSON.
    pub report: Option<String>,
    /// Why the last run failed.
    pub error: Option<String>,
    /// The current or last index run.
    pub job_id: Option<JobId>,
    /// Who registered it.
    pub created_by: UserId,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Last successful index, Unix ms.
    pub indexed_at: Option<i64>,
}

const COLUMNS: &str = "id, tenant_id, name, source, location, branch, credential, status, commit_sha, files_indexed, \
     files_skipped, symbols, chunks, report, error, job_id, created_by, created_at, updated_at, indexed_at";

impl CodeRepoRecord {
    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        let source: String = row.try_get("source")?;
        let status: String = row.try_get("status")?;
        let job_id: Option<String> = row.try_get("job_id")?;
        Ok(Self {
            id: id(row, "id")?,
            tenant_id: id(row, "tenant_id")?,
            name: row.try_get("name")?,
            source: RepositorySource::parse(&source)
                .ok_or_else(|| StoreError::Corrupt(format!("repository source {source:?}")))?,
            location: row.try_get("location")?,
            branch: row.try_get("branch")?,
            credential: row.try_get("credential")?,
            status: RepositoryStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("repository status {status:?}")))?,
            commit_sha: row.try_get("commit_sha")?,
            files_indexed: row.try_get("files_indexed")?,
            files_skipped: row.try_get("files_skipped")?,
            symbols: row.try_get("symbols")?,
            chunks: row.try_get("chunks")?,
            report: row.try_get("report")?,
            error: row.try_get("error")?,
            job_id: job_id
                .map(|j| {
                    j.parse()
                        .map_err(|_| StoreError::Corrupt(format!("job_id {j:?} is not a UUID")))
                })
                .transpose()?,
            created_by: id(row, "created_by")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            indexed_at: row.try_get("indexed_at")?,
        })
    }
}

/// What a finished index run reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexOutcome {
    /// Commit indexed (git).
    pub commit_sha: Option<String>,
    /// Files in the index.
    pub files_indexed: i64,
    /// Files left out.
    pub files_skipped: i64,
    /// Symbols.
    pub symbols: i64,
    /// Chunks.
    pub chunks: i64,
    /// The full report, JSON.
    pub report: String,
}

impl Store {
    /// Registers a repository; `Conflict("url")` when the workspace already has it.
    pub async fn insert_code_repo(&self, repo: &CodeRepoRecord) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(repo.tenant_id)).await?;
        sqlx::query(&format!(
            "INSERT INTO code_repositories ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"
        ))
        .bind(repo.id.to_string())
        .bind(repo.tenant_id.to_string())
        .bind(&repo.name)
        .bind(repo.source.as_str())
        .bind(&repo.location)
        .bind(repo.branch.clone())
        .bind(repo.credential.clone())
        .bind(repo.status.as_str())
        .bind(repo.commit_sha.clone())
        .bind(repo.files_indexed)
        .bind(repo.files_skipped)
        .bind(repo.symbols)
        .bind(repo.chunks)
        .bind(repo.report.clone())
        .bind(repo.error.clone())
        .bind(repo.job_id.map(|j| j.to_string()))
        .bind(repo.created_by.to_string())
        .bind(repo.created_at)
        .bind(repo.updated_at)
        .bind(repo.indexed_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_to_conflict(e, "url"))?;
        tx.commit().await?;
        Ok(())
    }

    /// The workspace's repositories, oldest first.
    pub async fn code_repos(&self, tenant: TenantId) -> StoreResult<Vec<CodeRepoRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM code_repositories WHERE tenant_id = $1 ORDER BY created_at, id"
        ))
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(CodeRepoRecord::from_row).collect()
    }

    /// One repository of the workspace.
    pub async fn code_repo(
        &self,
        tenant: TenantId,
        id: RepositoryId,
    ) -> StoreResult<Option<CodeRepoRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM code_repositories WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(CodeRepoRecord::from_row).transpose()
    }

    /// Starts a new index run: the repository waits for `job_id`.
    pub async fn queue_code_repo(
        &self,
        tenant: TenantId,
        id: RepositoryId,
        job_id: JobId,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE code_repositories SET status = 'queued', job_id = $1, error = NULL, updated_at = $2
             WHERE tenant_id = $3 AND id = $4",
        )
        .bind(job_id.to_string())
        .bind(now)
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Moves the repository whose current run is `job_id` to `status` (queued, indexing,
    /// failed with `error`). A run that is no longer the repository's current one changes
    /// nothing.
    pub async fn mark_code_run(
        &self,
        tenant: TenantId,
        job_id: JobId,
        status: RepositoryStatus,
        error: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        sqlx::query(
            "UPDATE code_repositories SET status = $1, error = $2, updated_at = $3
             WHERE tenant_id = $4 AND job_id = $5",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(now)
        .bind(tenant.to_string())
        .bind(job_id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a successful run of `job_id` (when it is still the repository's current run).
    pub async fn finish_code_run(
        &self,
        tenant: TenantId,
        job_id: JobId,
        outcome: &IndexOutcome,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        sqlx::query(
            "UPDATE code_repositories SET status = 'ready', error = NULL, commit_sha = $1,
             files_indexed = $2, files_skipped = $3, symbols = $4, chunks = $5, report = $6,
             updated_at = $7, indexed_at = $7
             WHERE tenant_id = $8 AND job_id = $9",
        )
        .bind(outcome.commit_sha.clone())
        .bind(outcome.files_indexed)
        .bind(outcome.files_skipped)
        .bind(outcome.symbols)
        .bind(outcome.chunks)
        .bind(&outcome.report)
        .bind(now)
        .bind(tenant.to_string())
        .bind(job_id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a repository; false when the workspace has none with that id.
    pub async fn delete_code_repo(&self, tenant: TenantId, id: RepositoryId) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query("DELETE FROM code_repositories WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
