//! The console's calls about this domain: each authenticates the session, then runs the
//! same operation the REST API runs.

use super::JobOps;
use async_trait::async_trait;
use shared::contracts::{ConsoleResult, JobsConsole, SessionToken};
use shared::ids::JobId;
use shared::jobs::{JobLogPage, JobSubmitted, JobView, PoolView, SubmitJobRequest, WorkerView};

#[async_trait]
impl JobsConsole for JobOps {
    async fn submit_job(
        &self,
        session: &SessionToken,
        slug: &str,
        req: SubmitJobRequest,
    ) -> ConsoleResult<JobSubmitted> {
        let p = self.tenancy.console_caller(session).await?;
        self.submit_job(&p, slug, req).await
    }

    async fn jobs(
        &self,
        session: &SessionToken,
        slug: &str,
        status: Option<String>,
        pool: Option<String>,
    ) -> ConsoleResult<Vec<JobView>> {
        let p = self.tenancy.console_caller(session).await?;
        self.list_jobs(&p, slug, status.as_deref(), pool.as_deref(), None)
            .await
    }

    async fn job(&self, session: &SessionToken, slug: &str, id: JobId) -> ConsoleResult<JobView> {
        let p = self.tenancy.console_caller(session).await?;
        self.get_job(&p, slug, id).await
    }

    async fn job_logs(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
        after: i64,
    ) -> ConsoleResult<JobLogPage> {
        let p = self.tenancy.console_caller(session).await?;
        self.job_logs(&p, slug, id, after).await
    }

    async fn cancel_job(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
    ) -> ConsoleResult<JobView> {
        let p = self.tenancy.console_caller(session).await?;
        self.cancel_job(&p, slug, id).await
    }

    async fn retry_job(
        &self,
        session: &SessionToken,
        slug: &str,
        id: JobId,
    ) -> ConsoleResult<JobView> {
        let p = self.tenancy.console_caller(session).await?;
        self.retry_job(&p, slug, id).await
    }

    async fn pools(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<PoolView>> {
        let p = self.tenancy.console_caller(session).await?;
        self.pools(&p, slug).await
    }

    async fn workers(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<WorkerView>> {
        let p = self.tenancy.console_caller(session).await?;
        self.workers(&p, slug).await
    }
}
