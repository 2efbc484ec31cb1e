//! The job service: submission (validated by the job's kind, admitted against queue
//! pressure, stored before anything else), announcing changes, and starting the background
//! loops (`dispatch.rs`) and the answers to workers (`worker_requests.rs`).

use super::store::{Admission, JobRecord};
use super::worker_requests::Handler;
use super::JobsError;
use crate::clock::now_ms;
use crate::config::JobsConfig;
use crate::store::{Store, StoreError};
use bytes::Bytes;
use futures::StreamExt;
use shared::error::FieldError;
use shared::ids::{JobId, TenantId};
use shared::jobs::{JobStatus, QueuePressure};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use workers::bus::{Bus, BusError, BusMessage};
use workers::kinds::Kinds;
use workers::pools::{PoolName, INTERNAL_POOLS};
use workers::subjects;

/// How often the open jobs are counted for `/metrics`.
const COUNT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

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
    pub(super) store: Store,
    pub(super) bus: Arc<dyn Bus>,
    pub(super) config: JobsConfig,
    pub(super) kinds: Kinds,
    pub(super) wake: Notify,
    pub(super) declared: Mutex<HashSet<String>>,
    observers: std::sync::RwLock<Vec<Arc<dyn JobObserver>>>,
    /// Workspaces this process deleted: their workers' claims, heartbeats and outcomes are
    /// answered "gone" instead of left to time out (other deployments sharing the bus stay
    /// silent about jobs they do not know, so silence alone cannot mean "gone").
    deleted: std::sync::Mutex<HashSet<TenantId>>,
    /// Per pool, the workspace whose job was dispatched last (the next round starts after it).
    pub(super) last_served: Mutex<std::collections::HashMap<String, TenantId>>,
    /// When the dispatcher last looked for lost tickets.
    pub(super) stale_checked: Mutex<Option<std::time::Instant>>,
    /// Open jobs per pool and status, as the sweeper last counted them (what `/metrics`
    /// shows: a scrape reads this, never the jobs table).
    open_counts: std::sync::RwLock<Vec<(String, JobStatus, i64)>>,
    /// Pools whose workers in this process claim their jobs themselves (`claims.rs`).
    pub(super) direct: super::claims::DirectPools,
    /// Held by one such claim at a time.
    pub(super) claiming: tokio::sync::Mutex<()>,
    /// Whether the dispatcher's last round saw a workspace's due jobs wait on its
    /// concurrency.
    pub(super) held_back: std::sync::atomic::AtomicBool,
    /// Other domains' answers to workers (see [`WorkerRequests`]).
    answerers: std::sync::RwLock<Vec<Arc<dyn WorkerRequests>>>,
    /// Where finished steps are recorded, those reported together in one commit.
    pub(super) steps: super::steps::StepWriter,
    /// Where workers' reported ends are written, those reported together in one commit.
    pub(super) ends: super::steps::EndWriter,
}

/// Requests workers send the control plane that another domain answers (a pipeline's
/// publish node, answered by the routes module). Registered before [`Jobs::start`], which
/// subscribes them beside the job requests, in the same queue group and under the same
/// bound on handlers at work.
#[async_trait::async_trait]
pub trait WorkerRequests: Send + Sync {
    /// The subject pattern it answers.
    fn pattern(&self) -> &'static str;
    /// Its answer to `message` (none: the worker's request times out).
    async fn answer(&self, message: &BusMessage) -> Option<Bytes>;
}

impl Jobs {
    /// A job service over `store` and `bus`, accepting jobs of `kinds`.
    pub fn new(store: Store, bus: Arc<dyn Bus>, config: JobsConfig, kinds: Kinds) -> Jobs {
        Jobs {
            steps: super::steps::step_writer(&store, config.journal_async_commit),
            ends: super::steps::end_writer(&store),
            store,
            bus,
            config,
            kinds,
            wake: Notify::new(),
            declared: Mutex::new(HashSet::new()),
            observers: std::sync::RwLock::new(Vec::new()),
            deleted: std::sync::Mutex::new(HashSet::new()),
            last_served: Mutex::new(std::collections::HashMap::new()),
            stale_checked: Mutex::new(None),
            open_counts: std::sync::RwLock::new(Vec::new()),
            direct: Default::default(),
            claiming: tokio::sync::Mutex::new(()),
            held_back: std::sync::atomic::AtomicBool::new(false),
            answerers: std::sync::RwLock::new(Vec::new()),
        }
    }

    /// Answers workers' requests on `answerer`'s subjects from [`Jobs::start`] on.
    pub fn answer_with(&self, answerer: Arc<dyn WorkerRequests>) {
        self.answerers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(answerer);
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

    /// The pools the workspace `tenant` may use: every configured pool that is not private
    /// to another workspace. A private pool is bound to its workspace's id, so a workspace
    /// made later under a deleted one's slug does not inherit it.
    pub fn pools_of(&self, tenant: TenantId) -> Vec<String> {
        let id = tenant.to_string();
        self.config
            .pools
            .iter()
            .filter(|p| {
                self.config
                    .private_pools
                    .get(*p)
                    .is_none_or(|owner| *owner == id)
            })
            .cloned()
            .collect()
    }

    /// Validates a submission of workspace `tenant` against the job kinds this installation
    /// runs and the pools the workspace may use.
    pub fn validate(
        &self,
        tenant: TenantId,
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
        let usable = self.pools_of(tenant);
        if !usable.iter().any(|p| p == pool.as_str()) {
            return Err(FieldError::new(
                "pool",
                format!("unknown pool; available: {}", usable.join(", ")),
            ));
        }
        if INTERNAL_POOLS.contains(&pool.as_str()) {
            return Err(FieldError::new(
                "pool",
                format!(
                    "the {pool} pool runs only jobs Switchyard submits itself; submit to another pool"
                ),
            ));
        }
        self.kinds.validate(kind, payload, true)?;
        let max_attempts = max_attempts.unwrap_or(5);
        if !(1..=20).contains(&max_attempts) {
            return Err(FieldError::new("max_attempts", "must be between 1 and 20"));
        }
        Ok((pool, max_attempts))
    }

    /// Stores a new job and wakes the dispatcher. Refuses with 429 a workspace that holds
    /// its share of the pool's queue (`WORKSPACE_QUEUE_SHARE_PERCENT` of its capacity), so
    /// one workspace's backlog cannot make every workspace wait, and anyone while the pool as
    /// a whole is at critical pressure.
    pub async fn submit(&self, job: NewJob) -> Result<JobRecord, JobsError> {
        let record = self.checked(job)?;
        // Judged and stored by the store in one step (one round trip on PostgreSQL).
        let deepest = QueuePressure::deepest_admitted(self.config.pool_capacity)
            .map(|d| i64::try_from(d).unwrap_or(i64::MAX));
        let admission = self
            .store
            .submit_job(&record, self.workspace_share(), deepest)
            .await?;
        if let Admission::Refused { own, depth } = admission {
            // Why, from the counts read after it (should they have changed and pass now,
            // it was still refused: the pool was full when it was judged).
            self.judge(&record.pool, own, depth)?;
            return Err(JobsError::AtCapacity { pool: record.pool });
        }
        self.wake(&record.pool);
        Ok(record)
    }

    /// [`Jobs::submit`]'s checks, answering the job to store without storing it: for a
    /// caller that stores it together with its own rows (then calls [`Jobs::wake`] for its
    /// pool).
    pub async fn admit(&self, job: NewJob) -> Result<JobRecord, JobsError> {
        let record = self.checked(job)?;
        let (own, depth) = self
            .store
            .pool_open_jobs(record.tenant_id, &record.pool)
            .await?;
        self.judge(&record.pool, own, depth)?;
        Ok(record)
    }

    /// `job` checked by its kind (jobs the control plane submits itself too), as the
    /// queued record to store.
    fn checked(&self, job: NewJob) -> Result<JobRecord, JobsError> {
        self.kinds
            .validate(&job.kind, &job.payload, false)
            .map_err(JobsError::Invalid)?;
        Ok(JobRecord::queued(
            job.tenant,
            job.pool.as_str(),
            job.kind,
            job.payload.to_string(),
            i64::from(job.max_attempts),
            now_ms(),
        ))
    }

    /// Refuses a submission to `pool` when its workspace holds `own` open jobs there, its
    /// share, or the pool's queue (`depth` open jobs of every workspace) is critical.
    fn judge(&self, pool: &str, own: i64, depth: i64) -> Result<(), JobsError> {
        if own >= self.workspace_share() {
            return Err(JobsError::WorkspaceShareFull {
                pool: pool.to_owned(),
                open: own,
            });
        }
        if QueuePressure::of(depth.max(0) as u64, self.config.pool_capacity)
            == QueuePressure::Critical
        {
            return Err(JobsError::AtCapacity {
                pool: pool.to_owned(),
            });
        }
        Ok(())
    }

    /// Open jobs per pool and status as last counted (every few seconds, by the sweeper).
    pub fn open_counts(&self) -> Vec<(String, JobStatus, i64)> {
        self.open_counts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Counts the open jobs per pool and status again, for [`Jobs::open_counts`].
    pub async fn refresh_open_counts(&self) -> Result<(), StoreError> {
        let counts = self.store.open_job_counts(None).await?;
        *self.open_counts.write().unwrap_or_else(|p| p.into_inner()) = counts;
        Ok(())
    }

    /// How many open jobs one workspace may hold in a pool.
    pub fn workspace_share(&self) -> i64 {
        let share = self
            .config
            .pool_capacity
            .saturating_mul(self.config.workspace_queue_share)
            / 100;
        i64::try_from(share.max(1)).unwrap_or(i64::MAX)
    }

    /// Tells the observers (run and repository bookkeeping) and the job's event
    /// subscribers of a job's new state, in that order.
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

    /// Asks a job to stop: a queued one ends at once, a running one hears it on the bus
    /// (its next heartbeat carries it too). `None` when the workspace has no such job.
    pub async fn cancel(
        &self,
        tenant: TenantId,
        id: JobId,
    ) -> Result<Option<JobRecord>, StoreError> {
        let Some(updated) = self.store.request_cancel(tenant, id, now_ms()).await? else {
            return Ok(None);
        };
        self.announce(&updated).await;
        if updated.status == JobStatus::Running {
            // A job claimed in this process just now: its worker listens by the time the
            // claim lets go ([`Jobs::claim_next`]).
            let _listening = match self.claims_directly(&updated.pool) {
                true => Some(self.claiming.lock().await),
                false => None,
            };
            let subject = subjects::cancel(&updated.tenant_id.to_string(), &updated.id.to_string());
            if let Err(e) = self.bus.publish(&subject, Bytes::new()).await {
                // The next heartbeat carries the request anyway.
                tracing::debug!(error = %e, "publishing a cancel failed");
            }
        }
        Ok(Some(updated))
    }

    /// Whether this process deleted the workspace `tenant`.
    pub(super) fn was_deleted(&self, tenant: TenantId) -> bool {
        self.deleted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&tenant)
    }

    /// Tells the workers running jobs of `tenant` to stop them (its workspace is being
    /// deleted; its queued jobs go with its rows). At most a workspace's concurrency runs.
    pub async fn stop_running(&self, tenant: TenantId) -> Result<usize, StoreError> {
        let filter = crate::jobs::JobFilter {
            status: Some(JobStatus::Running),
            pool: None,
            limit: 500,
        };
        let mut stopped = 0;
        for job in self.store.jobs(tenant, &filter).await? {
            if self.cancel(tenant, job.id).await?.is_some() {
                stopped += 1;
            }
        }
        Ok(stopped)
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
        for (pattern, handler) in Handler::ALL {
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
        let answerers = self
            .answerers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for answerer in answerers {
            let mut sub = self
                .bus
                .subscribe_queue(answerer.pattern(), &self.config.group)
                .await?;
            let (bus, in_flight) = (self.bus.clone(), in_flight.clone());
            tasks.push(tokio::spawn(async move {
                while let Some(message) = sub.next().await {
                    let Ok(permit) = in_flight.clone().acquire_owned().await else {
                        break;
                    };
                    let (answerer, bus) = (answerer.clone(), bus.clone());
                    tokio::spawn(async move {
                        let answer = answerer.answer(&message).await;
                        if let (Some(answer), Some(to)) = (answer, message.reply.as_deref()) {
                            if let Err(e) = bus.respond(to, answer).await {
                                tracing::warn!(error = %e, "answering a worker failed");
                            }
                        }
                        drop(permit);
                    });
                }
            }));
        }
        let jobs = self.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = jobs.dispatch_once().await {
                    tracing::warn!(error = %e, "dispatching jobs failed");
                }
                tokio::select! {
                    _ = jobs.wake.notified() => {}
                    _ = tokio::time::sleep(jobs.config.tick) => {}
                }
            }
        }));
        let jobs = self.clone();
        tasks.push(tokio::spawn(async move {
            let mut counted = std::time::Instant::now() - COUNT_EVERY;
            loop {
                if let Err(e) = jobs.sweep_once().await {
                    tracing::warn!(error = %e, "sweeping leases failed");
                }
                if counted.elapsed() >= COUNT_EVERY {
                    if let Err(e) = jobs.refresh_open_counts().await {
                        tracing::warn!(error = %e, "counting open jobs failed");
                    }
                    counted = std::time::Instant::now();
                }
                tokio::time::sleep(jobs.config.tick * 4).await;
            }
        }));
        Ok(tasks)
    }
}

/// A deleted workspace's jobs stop: nothing keeps running for a workspace that is gone.
#[async_trait::async_trait]
impl crate::tenancy::WorkspaceObserver for Jobs {
    async fn deleting(&self, tenant: TenantId) -> Vec<std::path::PathBuf> {
        self.deleted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tenant);
        match self.stop_running(tenant).await {
            Ok(n) => {
                tracing::info!(tenant = %tenant, stopped = n, "a deleted workspace's running jobs were told to stop")
            }
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %e, "cannot stop a deleted workspace's jobs")
            }
        }
        Vec::new()
    }
}
