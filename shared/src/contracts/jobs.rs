//! The console's calls about jobs, pools and workers.

use super::{ConsoleResult, SessionToken};
use crate::ids::JobId;
use crate::jobs::{JobLogPage, JobSubmitted, JobView, PoolView, SubmitJobRequest, WorkerView};
use async_trait::async_trait;

/// Jobs, pools and workers.
#[async_trait]
pub trait JobsConsole: Send + Sync + 'static {
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
    async fn pools(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<PoolView>>;

    /// Workers of the pools the workspace can use.
    async fn workers(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<WorkerView>>;
}
