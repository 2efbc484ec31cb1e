//! The control plane's side of durable jobs: submission (validated, admitted against queue
//! pressure, stored before anything else), the dispatcher (puts due jobs on their pool's
//! queue), the lease sweeper (takes back attempts whose worker went silent: retry with
//! backoff, or dead letter), and the bus handlers answering workers (claim, heartbeat, log,
//! complete, presence). The store decides; the bus only carries.

use crate::control::{ControlResult, Failure};
use crate::store::{AttemptEnd, JobLogLine, JobRecord, Store, WorkerRecord};
use bytes::Bytes;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::error::{ApiError, ErrorCode, FieldError};
use shared::ids::{JobId, TenantId};
use shared::jobs::{JobStatus, QueuePressure, RetryPolicy};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use workers::bus::{Bus, BusError, BusMessage};
use workers::pools::PoolName;
use workers::protocol::{
    subjects, Claim, ClaimReply, Complete, Heartbeat, HeartbeatReply, LogBatch, Outcome, Presence,
    Recorded, Release, Ticket,
};
use workers::runtime::{now_ms, pool_queue_config};

/// How the control plane runs jobs.
#[derive(Clone, Debug)]
pub struct JobsConfig {
    /// A running attempt's lease; workers heartbeat at a third of it.
    pub lease: Duration,
    /// Retries of failed attempts.
    pub retry: RetryPolicy,
    /// Open jobs (queued + running) per pool at full capacity; above 80% submissions get 429.
    pub pool_capacity: u64,
    /// Running jobs per workspace at most; more wait in the queue.
    pub tenant_concurrency: i64,
    /// How often the dispatcher and the sweeper look (they also wake on submissions).
    pub tick: Duration,
    /// A ticket not claimed for this long is sent again (it may have been lost).
    pub redispatch_after: Duration,
    /// A worker silent this long is shown offline.
    pub worker_silence: Duration,
    /// The pools jobs may be submitted to.
    pub pools: Vec<String>,
    /// The queue group the control-plane replicas answer workers in (each request reaches
    /// one replica).
    pub group: String,
    /// Pools private to one workspace: pool name → workspace slug. Other pools serve every
    /// workspace.
    pub private_pools: std::collections::BTreeMap<String, String>,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            pool_capacity: 10_000,
            tenant_concurrency: 20,
            tick: Duration::from_millis(250),
            redispatch_after: Duration::from_secs(600),
            worker_silence: Duration::from_secs(10),
            pools: vec![workers::pools::DEFAULT_POOL.to_owned()],
            group: "switchyard-control-plane".to_owned(),
            private_pools: Default::default(),
        }
    }
}

/// A job submission, validated.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// Its workspace.
    pub tenant: TenantId,
    /// Its kind.
    pub kind: String,
    /// Its pool.
    pub pool: PoolName,
    /// Its input, JSON.
    pub payload: serde_json::Value,
    /// Attempts in all.
    pub max_attempts: u32,
}

/// Told about every change of a job's state (claims, ends, expiries, cancellations), to
/// keep what the job works for in step (a repository's index status).
#[async_trait::async_trait]
pub trait JobObserver: Send + Sync {
    /// The job as it is now.
    async fn changed(&self, job: &JobRecord);
}

/// The control plane's job service.
pub struct Jobs {
    store: Store,
    bus: Arc<dyn Bus>,
    config: JobsConfig,
    wake: Notify,
    declared: Mutex<HashSet<String>>,
    observers: std::sync::RwLock<Vec<Arc<dyn JobObserver>>>,
}

impl Jobs {
    /// A job service over `store` and `bus`.
    pub fn new(store: Store, bus: Arc<dyn Bus>, config: JobsConfig) -> Jobs {
        Jobs {
            store,
            bus,
            config,
            wake: Notify::new(),
            declared: Mutex::new(HashSet::new()),
            observers: std::sync::RwLock::new(Vec::new()),
        }
    }

    /// Adds an observer of job changes.
    pub fn observe(&self, observer: Arc<dyn JobObserver>) {
        self.observers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(observer);
    }

    /// The bus it dispatches on.
    pub fn bus(&self) -> Arc<dyn Bus> {
        self.bus.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &JobsConfig {
        &self.config
    }

    /// Validates a submission's parts against the job kinds this installation runs.
    /// The pools the workspace `slug` may use: every configured pool that is not private to
    /// another workspace.
    pub fn pools_of(&self, slug: &str) -> Vec<String> {
        self.config
            .pools
            .iter()
            .filter(|p| {
                self.config
                    .private_pools
                    .get(*p)
                    .is_none_or(|owner| owner == slug)
            })
            .cloned()
            .collect()
    }

    /// Validates a submission of workspace `slug` against the job kinds this installation
    /// runs and the pools the workspace may use.
    pub fn validate(
        &self,
        slug: &str,
        kind: &str,
        pool: &str,
        payload: &serde_json::Value,
        max_attempts: Option<u32>,
    ) -> Result<(PoolName, u32), FieldError> {
        let pool = PoolName::parse(pool).map_err(|e| {
            FieldError::new(
                "pool",
                e.to_string().trim_start_matches("pool: ").to_owned(),
            )
        })?;
        // Only configured pools (each one is a JetStream stream and consumer), and not
        // another workspace's private pool (which reads as unknown).
        let usable = self.pools_of(slug);
        if !usable.iter().any(|p| p == pool.as_str()) {
            return Err(FieldError::new(
                "pool",
                format!("unknown pool; available: {}", usable.join(", ")),
            ));
        }
        match kind {
            workers::diagnostic::KIND => {
                let params: workers::diagnostic::Params =
                    serde_json::from_value(payload.clone())
                        .map_err(|e| FieldError::new("payload", e.to_string()))?;
                params
                    .validate()
                    .map_err(|(field, message)| FieldError::new(field, message))?;
            }
            _ => {
                return Err(FieldError::new(
                    "kind",
                    "unknown job kind; available: diagnostic",
                ))
            }
        }
        let max_attempts = max_attempts.unwrap_or(5);
        if !(1..=20).contains(&max_attempts) {
            return Err(FieldError::new("max_attempts", "must be between 1 and 20"));
        }
        Ok((pool, max_attempts))
    }

    /// Stores a new job and wakes the dispatcher; refuses with 429 while its pool is at
    /// critical pressure.
    pub async fn submit(&self, job: NewJob) -> ControlResult<JobRecord> {
        let depth: i64 = self
            .store
            .open_job_counts()
            .await?
            .into_iter()
            .filter(|(pool, _, _)| pool == job.pool.as_str())
            .map(|(_, _, n)| n)
            .sum();
        if QueuePressure::of(depth.max(0) as u64, self.config.pool_capacity)
            == QueuePressure::Critical
        {
            return Err(Failure {
                error: ApiError::new(
                    ErrorCode::RateLimited,
                    format!("pool {} is at capacity; retry later", job.pool),
                ),
                retry_after: Some(5),
            });
        }
        let now = now_ms();
        let record = JobRecord {
            id: JobId::new(),
            tenant_id: job.tenant,
            pool: job.pool.as_str().to_owned(),
            kind: job.kind,
            payload: job.payload.to_string(),
            status: JobStatus::Queued,
            attempt: 0,
            max_attempts: i64::from(job.max_attempts),
            lease_holder: None,
            lease_expires_at: None,
            run_at: now,
            dispatched_at: None,
            cancel_requested: false,
            result: None,
            error: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            progress: None,
        };
        self.store.insert_job(&record).await?;
        self.wake.notify_one();
        Ok(record)
    }

    /// Tells the worker of a running job to stop it (after the store has the request).
    pub async fn announce(&self, job: &JobRecord) {
        let observers = self
            .observers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for observer in observers {
            observer.changed(job).await;
        }
        let event = serde_json::json!({"type": "status", "status": job.status.as_str(), "attempt": job.attempt});
        let subject = subjects::events(&job.tenant_id.to_string(), &job.id.to_string());
        if let Err(e) = self
            .bus
            .publish(&subject, Bytes::from(event.to_string()))
            .await
        {
            tracing::debug!(error = %e, "publishing a job event failed");
        }
    }

    /// Starts the dispatcher, the sweeper and the bus handlers.
    pub async fn start(self: &Arc<Self>) -> Result<Vec<JoinHandle<()>>, BusError> {
        if !self.bus.is_durable() {
            // An in-process queue starts empty: every queued job needs its ticket again.
            if let Err(e) = self.store.reset_dispatch().await {
                tracing::warn!(error = %e, "could not reset dispatch marks");
            }
        }
        let mut tasks = Vec::new();
        // Handlers run concurrently, but not without bound.
        let in_flight = Arc::new(tokio::sync::Semaphore::new(256));
        for (pattern, handler) in [
            (subjects::CLAIMS, Handler::Claim),
            (subjects::HEARTBEATS, Handler::Heartbeat),
            (subjects::LOGS, Handler::Log),
            (subjects::COMPLETIONS, Handler::Complete),
            (subjects::RELEASES, Handler::Release),
            (subjects::PRESENCE, Handler::Presence),
        ] {
            // Replicas share the answering: each request reaches one of them.
            let mut sub = self
                .bus
                .subscribe_queue(pattern, &self.config.group)
                .await?;
            let (jobs, in_flight) = (self.clone(), in_flight.clone());
            tasks.push(tokio::spawn(async move {
                while let Some(message) = sub.next().await {
                    let Ok(permit) = in_flight.clone().acquire_owned().await else {
                        break;
                    };
                    let jobs = jobs.clone();
                    tokio::spawn(async move {
                        jobs.handle(handler, message).await;
                        drop(permit);
                    });
                }
            }));
        }
        let jobs = self.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = jobs.dispatch_once().await {
                    tracing::warn!(error = %e.error, "dispatching jobs failed");
                }
                tokio::select! {
                    _ = jobs.wake.notified() => {}
                    _ = tokio::time::sleep(jobs.config.tick) => {}
                }
            }
        }));
        let jobs = self.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = jobs.sweep_once().await {
                    tracing::warn!(error = %e.error, "sweeping leases failed");
                }
                tokio::time::sleep(jobs.config.tick * 4).await;
            }
        }));
        Ok(tasks)
    }

    /// Puts every due job on its pool's queue (respecting each workspace's concurrency).
    pub async fn dispatch_once(&self) -> ControlResult<usize> {
        let now = now_ms();
        let stale = now - self.config.redispatch_after.as_millis() as i64;
        let due = self.store.due_jobs(now, stale, 200).await?;
        let mut sent = 0;
        // Running jobs and tickets not yet claimed count against a workspace's limit.
        let mut active: std::collections::HashMap<TenantId, i64> = Default::default();
        for job in due {
            let count = match active.get(&job.tenant_id) {
                Some(n) => *n,
                None => self.store.active_jobs(job.tenant_id).await?,
            };
            let redispatch = job.dispatched_at.is_some();
            if count >= self.config.tenant_concurrency && !redispatch {
                active.insert(job.tenant_id, count);
                continue;
            }
            if let Err(e) = self.send_ticket(&job).await {
                tracing::warn!(job = %job.id, error = %e, "could not put the job on its queue; will retry");
                continue;
            }
            self.store.mark_dispatched(job.id, job.attempt, now).await?;
            active.insert(job.tenant_id, if redispatch { count } else { count + 1 });
            sent += 1;
        }
        Ok(sent)
    }

    async fn send_ticket(&self, job: &JobRecord) -> Result<(), BusError> {
        let declared = self
            .declared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&job.pool);
        if !declared {
            self.bus
                .declare_queue(&job.pool, pool_queue_config())
                .await?;
            self.declared
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(job.pool.clone());
        }
        let ticket = Ticket {
            tenant_id: job.tenant_id.to_string(),
            job_id: job.id.to_string(),
        };
        let body = Bytes::from(
            serde_json::to_vec(&ticket).map_err(|e| BusError::Transport(e.to_string()))?,
        );
        match self.bus.enqueue(&job.pool, body.clone()).await {
            Err(BusError::UnknownQueue(_)) => {
                // The queue went away (a new NATS server, a deleted stream): declare again.
                self.bus
                    .declare_queue(&job.pool, pool_queue_config())
                    .await?;
                self.bus.enqueue(&job.pool, body).await
            }
            other => other,
        }
    }

    /// Takes back attempts whose lease ran out, and marks silent workers offline.
    pub async fn sweep_once(&self) -> ControlResult<usize> {
        let now = now_ms();
        let mut reclaimed = 0;
        for job in self.store.expired_leases(now, 200).await? {
            let end = self.after_failure(
                &job,
                "the worker stopped answering (lease expired)".to_owned(),
                true,
                now,
            );
            if let Some(updated) = self
                .store
                .end_expired_attempt(job.id, job.attempt, &end, now)
                .await?
            {
                reclaimed += 1;
                tracing::info!(job = %job.id, attempt = job.attempt, status = %updated.status, "lease expired");
                self.announce(&updated).await;
            }
        }
        let silent_before = now - self.config.worker_silence.as_millis() as i64;
        self.store
            .mark_silent_workers_offline(silent_before)
            .await?;
        self.store.prune_workers(now - 86_400_000).await?;
        if reclaimed > 0 {
            self.wake.notify_one();
        }
        Ok(reclaimed)
    }

    /// What a failed attempt leads to: a retry after the backoff, or the dead letter.
    fn after_failure(
        &self,
        job: &JobRecord,
        error: String,
        retryable: bool,
        now: i64,
    ) -> AttemptEnd {
        if job.cancel_requested {
            return AttemptEnd::Cancelled;
        }
        if !retryable {
            return AttemptEnd::Failed(error);
        }
        let policy = RetryPolicy {
            max_attempts: u32::try_from(job.max_attempts).unwrap_or(1),
            ..self.config.retry
        };
        match policy.next_delay(
            u32::try_from(job.attempt).unwrap_or(u32::MAX),
            rand::random::<f64>(),
        ) {
            Some(delay) => AttemptEnd::Retry {
                error,
                retry_at: now + delay.as_millis() as i64,
            },
            None => AttemptEnd::Dead(error),
        }
    }

    async fn handle(&self, handler: Handler, message: BusMessage) {
        let reply = match handler {
            Handler::Claim => {
                self.on(&message, |jobs, ids, q| async move {
                    jobs.on_claim(ids, q).await
                })
                .await
            }
            Handler::Heartbeat => {
                self.on(&message, |jobs, ids, q| async move {
                    jobs.on_heartbeat(ids, q).await
                })
                .await
            }
            Handler::Log => {
                self.on(
                    &message,
                    |jobs, ids, q| async move { jobs.on_log(ids, q).await },
                )
                .await
            }
            Handler::Complete => {
                self.on(&message, |jobs, ids, q| async move {
                    jobs.on_complete(ids, q).await
                })
                .await
            }
            Handler::Release => {
                self.on(&message, |jobs, ids, q| async move {
                    jobs.on_release(ids, q).await
                })
                .await
            }
            Handler::Presence => {
                if let Ok(p) = serde_json::from_slice::<Presence>(&message.payload) {
                    self.on_presence(p).await;
                }
                None
            }
        };
        if let (Some(reply), Some(to)) = (reply, message.reply.as_deref()) {
            if let Err(e) = self.bus.respond(to, reply).await {
                tracing::warn!(error = %e, "answering a worker failed");
            }
        }
    }

    /// Decodes a job request, runs `f`, and encodes its answer. No answer on bad input (the
    /// worker times out and retries, which is right for a message we cannot read) nor for a
    /// job this store does not know (a control plane of another store shares the bus).
    async fn on<'a, Q, A, F, Fut>(&'a self, message: &BusMessage, f: F) -> Option<Bytes>
    where
        Q: DeserializeOwned,
        A: Serialize,
        F: FnOnce(&'a Jobs, (TenantId, JobId), Q) -> Fut,
        Fut: std::future::Future<Output = Result<Option<A>, Failure>>,
    {
        let ids = subjects::job_of(&message.subject)
            .and_then(|(t, j)| Some((t.parse().ok()?, j.parse().ok()?)));
        let (Some(ids), Ok(question)) = (ids, serde_json::from_slice::<Q>(&message.payload)) else {
            tracing::warn!(subject = %message.subject, "unreadable job request ignored");
            return None;
        };
        match f(self, ids, question).await {
            Ok(Some(answer)) => serde_json::to_vec(&answer).ok().map(Bytes::from),
            // Not a job of this control plane's store: another one answers.
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(subject = %message.subject, error = %e.error, "job request failed");
                None
            }
        }
    }

    async fn on_claim(
        &self,
        (tenant, job): (TenantId, JobId),
        claim: Claim,
    ) -> Result<Option<ClaimReply>, Failure> {
        let Some(known) = self.store.job_any_tenant(job).await? else {
            return Ok(None);
        };
        if known.tenant_id != tenant {
            return Ok(Some(ClaimReply::Refused {
                reason: "the ticket names another workspace".to_owned(),
            }));
        }
        let now = now_ms();
        let lease_until = now + self.config.lease.as_millis() as i64;
        let Some(record) = self
            .store
            .claim_job(job, &claim.worker_id, now, lease_until)
            .await?
        else {
            return Ok(Some(ClaimReply::Refused {
                reason: "the job is not waiting to run".to_owned(),
            }));
        };
        self.announce(&record).await;
        Ok(Some(ClaimReply::Granted {
            attempt: record.attempt,
            kind: record.kind,
            payload: record.payload,
            lease_ms: self.config.lease.as_millis() as u64,
            log_seq: self.store.last_log_seq(job).await?,
        }))
    }

    async fn on_heartbeat(
        &self,
        (tenant, job): (TenantId, JobId),
        beat: Heartbeat,
    ) -> Result<Option<HeartbeatReply>, Failure> {
        let Some(known) = self.store.job_any_tenant(job).await? else {
            return Ok(None);
        };
        if known.tenant_id != tenant {
            return Ok(None);
        }
        let lease_until = now_ms() + self.config.lease.as_millis() as i64;
        let keep = self
            .store
            .extend_lease(job, &beat.worker_id, beat.attempt, lease_until)
            .await?;
        Ok(Some(HeartbeatReply {
            keep,
            cancel: known.cancel_requested,
        }))
    }

    async fn on_log(
        &self,
        (tenant, job): (TenantId, JobId),
        batch: LogBatch,
    ) -> Result<Option<Recorded>, Failure> {
        let Some(known) = self.store.job_any_tenant(job).await? else {
            return Ok(None);
        };
        // Only the current lease holder's lines count: a worker that lost its lease must
        // not take sequence numbers from the attempt that replaced it.
        let current = known.tenant_id == tenant
            && known.status == JobStatus::Running
            && known.attempt == batch.attempt
            && known.lease_holder.as_deref() == Some(batch.worker_id.as_str());
        if !current {
            return Ok(Some(Recorded { recorded: false }));
        }
        if let Some(progress) = &batch.progress {
            let json = serde_json::to_string(progress).unwrap_or_default();
            self.store
                .set_job_progress(tenant, job, batch.attempt, &json)
                .await?;
        }
        for line in &batch.lines {
            let line = JobLogLine {
                seq: line.seq,
                at: line.at,
                line: line.line.chars().take(4_000).collect(),
            };
            self.store.append_job_log(tenant, job, &line).await?;
        }
        let event =
            serde_json::json!({"type": "log", "lines": batch.lines, "progress": batch.progress});
        let subject = subjects::events(&tenant.to_string(), &job.to_string());
        if let Err(e) = self
            .bus
            .publish(&subject, Bytes::from(event.to_string()))
            .await
        {
            tracing::debug!(error = %e, "publishing log lines failed");
        }
        Ok(Some(Recorded { recorded: true }))
    }

    async fn on_complete(
        &self,
        (tenant, job): (TenantId, JobId),
        complete: Complete,
    ) -> Result<Option<Recorded>, Failure> {
        let Some(current) = self.store.job_any_tenant(job).await? else {
            return Ok(None);
        };
        if current.tenant_id != tenant {
            return Ok(None);
        }
        let now = now_ms();
        let end = match complete.outcome {
            Outcome::Succeeded { result } => AttemptEnd::Succeeded(result.to_string()),
            Outcome::Failed { error, retryable } => {
                self.after_failure(&current, error, retryable, now)
            }
            Outcome::Cancelled => AttemptEnd::Cancelled,
        };
        let updated = self
            .store
            .end_attempt(job, &complete.worker_id, complete.attempt, &end, now)
            .await?;
        if let Some(updated) = &updated {
            self.announce(updated).await;
            if updated.status == JobStatus::Queued {
                self.wake.notify_one();
            }
        }
        Ok(Some(Recorded {
            recorded: updated.is_some(),
        }))
    }

    async fn on_release(
        &self,
        (tenant, job): (TenantId, JobId),
        release: Release,
    ) -> Result<Option<Recorded>, Failure> {
        let Some(current) = self.store.job_any_tenant(job).await? else {
            return Ok(None);
        };
        if current.tenant_id != tenant {
            return Ok(None);
        }
        let updated = self
            .store
            .end_attempt(
                job,
                &release.worker_id,
                release.attempt,
                &AttemptEnd::Released,
                now_ms(),
            )
            .await?;
        if let Some(updated) = &updated {
            self.announce(updated).await;
            self.wake.notify_one();
        }
        Ok(Some(Recorded {
            recorded: updated.is_some(),
        }))
    }

    async fn on_presence(&self, p: Presence) {
        let record = WorkerRecord {
            id: p.worker_id,
            pool: p.pool,
            host: p.host,
            status: if p.status == "draining" {
                "draining"
            } else {
                "online"
            }
            .to_owned(),
            running: i64::from(p.running),
            concurrency: i64::from(p.concurrency),
            started_at: p.started_at,
            last_heartbeat: now_ms(),
        };
        if let Err(e) = self.store.upsert_worker(&record).await {
            tracing::warn!(error = %e, "recording worker presence failed");
        }
    }
}

#[derive(Clone, Copy)]
enum Handler {
    Claim,
    Heartbeat,
    Log,
    Complete,
    Release,
    Presence,
}

/// A Unix millisecond timestamp as RFC 3339 (UTC, milliseconds).
fn rfc3339_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

pub(crate) fn job_view(j: JobRecord) -> shared::jobs::JobView {
    shared::jobs::JobView {
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

mod control_ops {
    use super::*;
    use crate::control::{Control, Principal};
    use crate::store::JobFilter;
    use shared::jobs::{
        JobLogEntry, JobLogPage, JobSubmitted, JobView, SubmitJobRequest, WorkerView,
    };
    use shared::roles::Permission;

    impl Control {
        /// The job service.
        pub fn jobs(&self) -> &Arc<Jobs> {
            &self.jobs
        }

        /// Submits a job to a workspace (developer and up).
        pub async fn submit_job(
            &self,
            principal: &Principal,
            slug: &str,
            req: SubmitJobRequest,
        ) -> ControlResult<JobSubmitted> {
            let access = self.authorize(principal, slug, Permission::Develop).await?;
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
        ) -> ControlResult<Vec<JobView>> {
            let access = self
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
        ) -> ControlResult<(crate::tenancy::Access, JobRecord)> {
            let access = self.authorize(principal, slug, permission).await?;
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
        ) -> ControlResult<JobView> {
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
        ) -> ControlResult<JobLogPage> {
            let (access, job) = self
                .find_job(principal, slug, id, Permission::ReadWorkspace)
                .await?;
            let lines = self
                .store
                .job_log(access.tenant(), job.id, after, 5_000)
                .await?
                .into_iter()
                .map(|l| JobLogEntry {
                    seq: l.seq,
                    at: rfc3339_ms(l.at),
                    line: l.line,
                })
                .collect();
            Ok(JobLogPage { lines })
        }

        /// Authorises a live view of a job (reading), answering its workspace.
        pub async fn job_stream_target(
            &self,
            principal: &Principal,
            slug: &str,
            id: JobId,
        ) -> ControlResult<TenantId> {
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
        ) -> ControlResult<(JobView, Vec<JobLogEntry>)> {
            let job = self
                .store
                .job(tenant, id)
                .await?
                .ok_or_else(|| ApiError::not_found("job"))?;
            let lines = self
                .store
                .job_log(tenant, id, after, 5_000)
                .await?
                .into_iter()
                .map(|l| JobLogEntry {
                    seq: l.seq,
                    at: rfc3339_ms(l.at),
                    line: l.line,
                })
                .collect();
            Ok((job_view(job), lines))
        }

        /// Stops a job: a queued one at once, a running one through its worker.
        pub async fn cancel_job(
            &self,
            principal: &Principal,
            slug: &str,
            id: JobId,
        ) -> ControlResult<JobView> {
            let (access, job) = self
                .find_job(principal, slug, id, Permission::Develop)
                .await?;
            if job.status.is_final() {
                return Err(ApiError::conflict(
                    None,
                    format!("the job has already ended ({})", job.status),
                )
                .into());
            }
            let updated = self
                .store
                .request_cancel(access.tenant(), id, now_ms())
                .await?
                .ok_or_else(|| ApiError::not_found("job"))?;
            self.jobs.announce(&updated).await;
            if updated.status == JobStatus::Running {
                let subject = workers::bus::subjects::job_cancel(
                    &updated.tenant_id.to_string(),
                    &updated.id.to_string(),
                );
                if let Err(e) = self.jobs.bus.publish(&subject, Bytes::new()).await {
                    // The next heartbeat carries the request anyway.
                    tracing::debug!(error = %e, "publishing a cancel failed");
                }
            }
            Ok(job_view(updated))
        }

        /// Runs a dead, failed or cancelled job again with fresh attempts.
        pub async fn retry_job(
            &self,
            principal: &Principal,
            slug: &str,
            id: JobId,
        ) -> ControlResult<JobView> {
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
                )
                .into());
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
        pub async fn pools(
            &self,
            principal: &Principal,
            slug: &str,
        ) -> ControlResult<Vec<shared::jobs::PoolView>> {
            let access = self
                .authorize(principal, slug, Permission::ReadWorkspace)
                .await?;
            let counts = self.store.open_job_counts().await?;
            let capacity = self.jobs.config.pool_capacity;
            Ok(self
                .jobs
                .pools_of(&access.workspace.slug)
                .into_iter()
                .map(|pool| {
                    let count = |status: JobStatus| {
                        counts
                            .iter()
                            .filter(|(p, s, _)| *p == pool && *s == status)
                            .map(|(_, _, n)| *n)
                            .sum::<i64>()
                    };
                    let (queued, running) = (count(JobStatus::Queued), count(JobStatus::Running));
                    shared::jobs::PoolView {
                        pressure: QueuePressure::of((queued + running).max(0) as u64, capacity),
                        pool,
                        queued,
                        running,
                        capacity,
                    }
                })
                .collect())
        }

        /// The workers of the pools the workspace can use.
        pub async fn workers(
            &self,
            principal: &Principal,
            slug: &str,
        ) -> ControlResult<Vec<WorkerView>> {
            let access = self
                .authorize(principal, slug, Permission::ReadWorkspace)
                .await?;
            let pools = self.jobs.pools_of(&access.workspace.slug);
            Ok(self
                .store
                .workers(&pools)
                .await?
                .into_iter()
                .map(|w| WorkerView {
                    id: w.id,
                    pool: w.pool,
                    host: w.host,
                    status: w.status,
                    running: w.running,
                    concurrency: w.concurrency,
                    last_heartbeat: rfc3339_ms(w.last_heartbeat),
                })
                .collect())
        }
    }
}
