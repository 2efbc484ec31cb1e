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
    JobLogEntry, JobLogPage, JobStatus, JobSubmitted, JobView, PoolView, QueuePlace, QueuePressure,
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
        let (pool, max_attempts) = self.jobs.validate(
            access.tenant(),
            &req.kind,
            &req.pool,
            &req.payload,
            req.max_attempts,
        )?;
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

    /// One job (with its place in line while it is queued).
    pub async fn get_job(
        &self,
        principal: &Principal,
        slug: &str,
        id: JobId,
    ) -> ApiResult<JobView> {
        let job = self
            .find_job(principal, slug, id, Permission::ReadWorkspace)
            .await?
            .1;
        self.view_with_place(job).await
    }

    /// `job`'s view, with its place in line when it is queued.
    async fn view_with_place(&self, job: JobRecord) -> ApiResult<JobView> {
        if job.status != JobStatus::Queued {
            return Ok(job_view(job));
        }
        let ahead = if job.dispatched_at.is_some() {
            // Its ticket is on the bus: it takes the next free slot.
            0
        } else {
            let (mine, others) = self.store.queue_standing(&job).await?;
            jobs_ahead(mine, &others)
        };
        let slots = self.store.online_slots(&job.pool).await?;
        let eta_seconds = if slots > 0 {
            let busy = self.store.pool_outstanding(&job.pool).await?;
            self.store.recent_run_time(&job.pool).await?.map(|run_ms| {
                // Rounds of the pool's slots before a slot is free for this job.
                let rounds = ((ahead + busy - slots + 1).max(0) + slots - 1) / slots;
                let wait_ms = (job.run_at - now_ms()).max(0);
                (rounds * run_ms).max(wait_ms) / 1000
            })
        } else {
            None
        };
        let mut view = job_view(job);
        view.queue = Some(QueuePlace {
            ahead,
            eta_seconds,
            workers_online: slots > 0,
        });
        Ok(view)
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
        Ok((self.view_with_place(job).await?, lines))
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
        self.jobs.wake(&updated.pool);
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
            .pools_of(access.tenant())
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
        let pools = self.jobs.pools_of(access.tenant());
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
        queue: None,
    }
}

/// How many jobs start before one with `mine` of its own workspace's jobs ahead of it,
/// when the other waiting workspaces have `others` jobs each: workspaces are served in
/// turn, so each gets at most `mine + 1` turns first.
pub(crate) fn jobs_ahead(mine: i64, others: &[i64]) -> i64 {
    mine + others.iter().map(|n| (*n).min(mine + 1)).sum::<i64>()
}

#[cfg(test)]
mod tests {
    use super::jobs_ahead;

    #[test]
    fn each_other_workspace_gets_its_turns_before_a_job() {
        assert_eq!(jobs_ahead(0, &[]), 0);
        // First in its workspace: one job of each other waiting workspace goes first.
        assert_eq!(jobs_ahead(0, &[200, 3]), 2);
        // Third in its workspace: three turns each, but a workspace with one job takes one.
        assert_eq!(jobs_ahead(2, &[200, 1]), 2 + 3 + 1);
    }
}
