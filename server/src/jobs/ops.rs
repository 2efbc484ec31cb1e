//! The job operations the REST API and the console call: submit, list, inspect, cancel and
//! retry jobs, and look at pools and workers. Each authorises its caller first.

use super::store::{JobFilter, JobRecord};
use super::{Jobs, NewJob};
use crate::accounts::Principal;
use crate::clock::{now_ms, rfc3339_ms};
use crate::store::Store;
use crate::tenancy::{Access, Tenancy};
use shared::error::{ApiError, ApiResult};
use shared::ids::{JobId, TenantId};
use shared::jobs::{
    JobLogEntry, JobLogPage, JobStatus, JobSubmitted, JobView, PoolView, QueuePressure,
    SubmitJobRequest, WorkerView,
};
use shared::roles::Permission;
use std::sync::Arc;

/// The job operations.
pub struct JobOps {
    store: Store,
    pub(super) tenancy: Arc<Tenancy>,
    jobs: Arc<Jobs>,
}

impl JobOps {
    /// Operations over the job service `jobs`, authorised by `tenancy`.
    pub fn new(store: Store, tenancy: Arc<Tenancy>, jobs: Arc<Jobs>) -> JobOps {
        JobOps {
            store,
            tenancy,
            jobs,
        }
    }

    /// The job service.
    pub fn engine(&self) -> &Arc<Jobs> {
        &self.jobs
    }

    /// Submits a job to a workspace (developer and up).
    pub async fn submit_job(
        &self,
        principal: &Principal,
        slug: &str,
        req: SubmitJobRequest,
    ) -> ApiResult<JobSubmitted> {
        let access = self
            .tenancy
            .authorize(principal, slug, Permission::Develop)
            .await?;
        let (pool, max_attempts) =
            self.jobs
                .validate(slug, &req.kind, &req.pool, &req.payload, req.max_attempts)?;
        let job = self
            .jobs
            .submit(NewJob {
                tenant: access.tenant(),
                kind: req.kind,
                pool,
                payload: req.payload,
                max_attempts,
            })
            .await?;
        Ok(JobSubmitted {
            id: job.id,
            status: job.status,
        })
    }

    /// The workspace's jobs, newest first.
    pub async fn list_jobs(
        &self,
        principal: &Principal,
        slug: &str,
        status: Option<&str>,
        pool: Option<&str>,
        limit: Option<i64>,
    ) -> ApiResult<Vec<JobView>> {
        let access = self
            .tenancy
            .authorize(principal, slug, Permission::ReadWorkspace)
            .await?;
        let status = status
            .filter(|s| !s.is_empty())
            .map(str::parse::<JobStatus>)
            .transpose()?;
        let filter = JobFilter {
            status,
            pool: pool.filter(|p| !p.is_empty()).map(str::to_owned),
            limit: limit.unwrap_or(100),
        };
        Ok(self
            .store
            .jobs(access.tenant(), &filter)
            .await?
            .into_iter()
            .map(job_view)
            .collect())
    }

    async fn find_job(
        &self,
        principal: &Principal,
        slug: &str,
        id: JobId,
        permission: Permission,
    ) -> ApiResult<(Access, JobRecord)> {
        let access = self.tenancy.authorize(principal, slug, permission).await?;
        let job = self
            .store
            .job(access.tenant(), id)
            .await?
            .ok_or_else(|| ApiError::not_found("job"))?;
        Ok((access, job))
    }

    /// One job.
    pub async fn get_job(
        &self,
        principal: &Principal,
        slug: &str,
        id: JobId,
    ) -> ApiResult<JobView> {
        Ok(job_view(
            self.find_job(principal, slug, id, Permission::ReadWorkspace)
                .await?
                .1,
        ))
    }

    /// A job's log lines after `after`.
    pub async fn job_logs(
        &self,
        principal: &Principal,
        slug: &str,
        id: JobId,
        after: i64,
    ) -> ApiResult<JobLogPage> {
        let (access, job) = self
            .find_job(principal, slug, id, Permission::ReadWorkspace)
            .await?;
        let lines = self.log_lines(access.tenant(), job.id, after).await?;
        Ok(JobLogPage { lines })
    }

    /// Authorises a live view of a job (reading), answering its workspace.
    pub async fn job_stream_target(
        &self,
        principal: &Principal,
        slug: &str,
        id: JobId,
    ) -> ApiResult<TenantId> {
        Ok(self
            .find_job(principal, slug, id, Permission::ReadWorkspace)
            .await?
            .0
            .tenant())
    }

    /// What a live view shows now: the job, and its log lines after `after`. Only for a
    /// workspace the caller was authorised for by [`Control::job_stream_target`].
    pub async fn job_snapshot(
        &self,
        tenant: TenantId,
        id: JobId,
        after: i64,
    ) -> ApiResult<(JobView, Vec<JobLogEntry>)> {
        let job = self
            .store
            .job(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("job"))?;
        let lines = self.log_lines(tenant, id, after).await?;
        Ok((job_view(job), lines))
    }

    /// Up to 5,000 of a job's log lines after `after`, oldest first.
    async fn log_lines(
        &self,
        tenant: TenantId,
        id: JobId,
        after: i64,
    ) -> ApiResult<Vec<JobLogEntry>> {
        Ok(self
            .store
            .job_log(tenant, id, after, 5_000)
            .await?
            .into_iter()
            .map(|l| JobLogEntry {
                seq: l.seq,
                at: rfc3339_ms(l.at),
                line: l.line,
            })
            .collect())
    }

    /// Stops a job: a queued one at once, a running one through its worker.
    pub async fn cancel_job(
        &self,
        principal: &Principal,
        slug: &str,
        id: JobId,
    ) -> ApiResult<JobView> {
        let (access, job) = self
            .find_job(principal, slug, id, Permission::Develop)
            .await?;
        if job.status.is_final() {
            return Err(ApiError::conflict(
                None,
                format!("the job has already ended ({})", job.status),
            ));
        }
        let updated = self
            .jobs
            .cancel(access.tenant(), id)
            .await?
            .ok_or_else(|| ApiError::not_found("job"))?;
        Ok(job_view(updated))
    }

    /// Runs a dead, failed or cancelled job again with fresh attempts.
    pub async fn retry_job(
        &self,
        principal: &Principal,
        slug: &str,
        id: JobId,
    ) -> ApiResult<JobView> {
        let (access, job) = self
            .find_job(principal, slug, id, Permission::Develop)
            .await?;
        if !matches!(
            job.status,
            JobStatus::Dead | JobStatus::Failed | JobStatus::Cancelled
        ) {
            return Err(ApiError::conflict(
                None,
                format!(
                    "only dead, failed or cancelled jobs can be retried; this one is {}",
                    job.status
                ),
            ));
        }
        let updated = self
            .store
            .retry_job(access.tenant(), id, now_ms())
            .await?
            .ok_or_else(|| ApiError::not_found("job"))?;
        self.jobs.wake.notify_one();
        Ok(job_view(updated))
    }

    /// The queues of the pools the workspace can use: depth and pressure.
    pub async fn pools(&self, principal: &Principal, slug: &str) -> ApiResult<Vec<PoolView>> {
        let access = self
            .tenancy
            .authorize(principal, slug, Permission::ReadWorkspace)
            .await?;
        // The pool's pressure is the whole pool's (it is why a submission may get 429); the
        // counts are only this workspace's.
        let all = self.store.open_job_counts(None).await?;
        let own = self.store.open_job_counts(Some(access.tenant())).await?;
        let capacity = self.jobs.config.pool_capacity;
        let count = |counts: &[(String, JobStatus, i64)], pool: &str, statuses: &[JobStatus]| {
            counts
                .iter()
                .filter(|(p, s, _)| p == pool && statuses.contains(s))
                .map(|(_, _, n)| *n)
                .sum::<i64>()
        };
        let open = [JobStatus::Queued, JobStatus::Running];
        Ok(self
            .jobs
            .pools_of(&access.workspace.slug)
            .into_iter()
            .map(|pool| PoolView {
                pressure: QueuePressure::of(count(&all, &pool, &open).max(0) as u64, capacity),
                queued: count(&own, &pool, &[JobStatus::Queued]),
                running: count(&own, &pool, &[JobStatus::Running]),
                pool,
                capacity,
            })
            .collect())
    }

    /// The workers of the pools the workspace can use.
    pub async fn workers(&self, principal: &Principal, slug: &str) -> ApiResult<Vec<WorkerView>> {
        let access = self
            .tenancy
            .authorize(principal, slug, Permission::ReadWorkspace)
            .await?;
        let pools = self.jobs.pools_of(&access.workspace.slug);
        // Host names describe the operator's machines: admins see them, others do not.
        let show_hosts = access.role.allows(Permission::ManageMembers);
        Ok(self
            .store
            .workers(&pools)
            .await?
            .into_iter()
            .map(|w| WorkerView {
                id: w.id,
                pool: w.pool,
                host: if show_hosts { w.host } else { String::new() },
                status: w.status,
                running: w.running,
                concurrency: w.concurrency,
                last_heartbeat: rfc3339_ms(w.last_heartbeat),
            })
            .collect())
    }
}

/// A job as the API shows it.
pub(crate) fn job_view(j: JobRecord) -> JobView {
    JobView {
        id: j.id,
        kind: j.kind,
        pool: j.pool,
        status: j.status,
        attempts: j.attempt,
        max_attempts: j.max_attempts,
        payload: serde_json::from_str(&j.payload).unwrap_or(serde_json::Value::Null),
        result: j
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        error: j.error,
        cancel_requested: j.cancel_requested,
        created_at: rfc3339_ms(j.created_at),
        started_at: j.started_at.map(rfc3339_ms),
        finished_at: j.finished_at.map(rfc3339_ms),
        progress: j
            .progress
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()),
    }
}
