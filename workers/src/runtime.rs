//! The worker runtime: a pool of `concurrency` slots pulling tickets from its pool's queue
//! and claiming their jobs from the control plane (or, inside the control plane with an
//! in-process bus, claiming the pool's next due job straight away: [`Claims`]), running
//! them with heartbeats and log shipping, and reporting how they ended. The same code runs
//! as tasks inside the server (embedded default) and as `switchyard worker` processes.

use crate::bus::{Bus, BusError, Delivery, QueueConfig, Subscription};
use crate::clock::now_ms;
use crate::kinds::{JobContext, Kinds};
pub use crate::link::{AttemptRef, BusLink, ClaimedJob, Claims, Grant, JobRef, Link};
use crate::protocol::{
    Claim, ClaimReply, Complete, Heartbeat, LogBatch, Outcome, Presence, Release, Ticket,
};
use crate::subjects;
use bytes::Bytes;
use futures::StreamExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// The queue settings of every pool. A ticket's lease covers only the claim hand-off (the
/// job's own lease lives in the store); it is longer than any claim can take, and grows on
/// each redelivery, so tickets of a pool whose workers keep dying come back less often.
pub fn pool_queue_config() -> QueueConfig {
    QueueConfig {
        ack_wait: Duration::from_secs(60),
        max_deliver: 20,
        backoff: vec![
            Duration::from_secs(60),
            Duration::from_secs(120),
            Duration::from_secs(300),
        ],
    }
}

/// Most log lines in one batch (a batch must stay under NATS's payload limit).
const MAX_BATCH_LINES: usize = 500;

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Unique per process start.
    pub worker_id: String,
    /// The pool it serves.
    pub pool: String,
    /// Host name shown on the console.
    pub host: String,
    /// Jobs at once.
    pub concurrency: u32,
    /// How long to wait for the control plane's answers.
    pub request_timeout: Duration,
    /// How often to announce presence.
    pub presence_every: Duration,
    /// How long a drain waits for running jobs before giving them back.
    pub drain_timeout: Duration,
    /// The job kinds this worker runs.
    pub kinds: Kinds,
    /// How it reaches the control plane: `None` over the bus (the only choice for a worker
    /// process); a worker embedded in the control plane's process may go straight to the
    /// control plane's answers.
    pub link: Option<Arc<dyn Link>>,
    /// `Some` for a worker that claims its pool's jobs from the control plane's store
    /// itself instead of taking tickets from the pool's queue (see [`Claims`]): only inside
    /// the control plane's process, with an in-process bus.
    pub claims: Option<Arc<dyn Claims>>,
}

impl WorkerConfig {
    /// Defaults for `pool` with `concurrency` slots.
    pub fn new(pool: &str, concurrency: u32) -> WorkerConfig {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_owned())
            })
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        WorkerConfig {
            worker_id: format!("{pool}-{}", uuid_like()),
            pool: pool.to_owned(),
            host,
            concurrency: concurrency.max(1),
            request_timeout: Duration::from_secs(5),
            presence_every: Duration::from_secs(2),
            drain_timeout: Duration::from_secs(30),
            kinds: Kinds::builtin(),
            link: None,
            claims: None,
        }
    }
}

fn uuid_like() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now_ms() as u128);
    format!("{:016x}", h.finish())
}

/// Runs a pool until `shutdown` turns true, then drains: stops taking work, waits for
/// running jobs up to the drain timeout, and returns.
pub async fn run_pool(
    bus: Arc<dyn Bus>,
    config: WorkerConfig,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    bus.declare_queue(&config.pool, pool_queue_config()).await?;
    let link: Arc<dyn Link> = match &config.link {
        Some(link) => link.clone(),
        None => Arc::new(BusLink::new(bus.clone(), config.request_timeout)),
    };
    let slots = Arc::new(Semaphore::new(config.concurrency as usize));
    let running = Arc::new(AtomicU32::new(0));
    let started_at = now_ms();
    let (draining_tx, draining_rx) = watch::channel(false);
    let (release_tx, release_rx) = watch::channel(false);
    let presence = tokio::spawn(announce(
        bus.clone(),
        config.clone(),
        running.clone(),
        started_at,
        draining_rx,
    ));
    tracing::info!(worker = %config.worker_id, pool = %config.pool, concurrency = config.concurrency, "worker online");

    let claim = Claim {
        worker_id: config.worker_id.clone(),
    };
    let serving = config
        .claims
        .as_ref()
        .map(|c| Serving::new(c.clone(), &config.pool));
    let woken = serving.as_ref().map(|s| s.woken.clone());
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        if *shutdown.borrow() {
            break;
        }
        let work: Vec<(Work, OwnedSemaphorePermit)> = match (&config.claims, &woken) {
            (Some(claims), Some(woken)) => {
                // Every free slot claims at once, in one step.
                let mut permits = vec![permit];
                while let Ok(more) = slots.clone().try_acquire_owned() {
                    permits.push(more);
                }
                let asked = permits.len();
                // Not raced with the shutdown: a claim cut short after its write would
                // leave its jobs to their leases' expiry.
                match claims.claim_next(&config.pool, &claim, asked).await {
                    Ok(jobs) => {
                        if jobs.len() > asked {
                            tracing::error!(asked, claimed = jobs.len(), pool = %config.pool, "more jobs claimed than slots were free; the rest wait for their leases to expire");
                        }
                        let drained = jobs.len() < asked;
                        let work: Vec<_> =
                            jobs.into_iter().map(Work::Claimed).zip(permits).collect();
                        if drained {
                            // Nothing more is due now (the unused slots are free again):
                            // wait until the control plane says some may be.
                            for (work, permit) in work {
                                spawn_work(
                                    work,
                                    permit,
                                    &bus,
                                    &link,
                                    &config,
                                    &running,
                                    &release_rx,
                                );
                            }
                            tokio::select! {
                                _ = woken.notified() => {}
                                _ = shutdown.changed() => break,
                            }
                            continue;
                        }
                        work
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, pool = %config.pool, "claiming work failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
            }
            _ => {
                let delivery = tokio::select! {
                    d = bus.pull(&config.pool, Duration::from_secs(1)) => d,
                    _ = shutdown.changed() => break,
                };
                match delivery {
                    Ok(Some(d)) => vec![(Work::Ticket(d), permit)],
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, pool = %config.pool, "pulling work failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
            }
        };
        for (work, permit) in work {
            spawn_work(work, permit, &bus, &link, &config, &running, &release_rx);
        }
    }
    drop(serving);

    let _ = draining_tx.send(true);
    tracing::info!(worker = %config.worker_id, "draining");
    let all = config.concurrency;
    let drained = tokio::time::timeout(config.drain_timeout, slots.acquire_many(all)).await;
    if drained.is_err() {
        // Out of time: stop what still runs and hand it back, so it runs elsewhere at once.
        tracing::warn!(worker = %config.worker_id, "drain timed out; releasing unfinished jobs");
        let _ = release_tx.send(true);
        let released = tokio::time::timeout(Duration::from_secs(10), slots.acquire_many(all)).await;
        if released.is_err() {
            tracing::warn!(worker = %config.worker_id, "some jobs were not released; their leases will expire");
        }
    }
    presence.abort();
    Ok(())
}

async fn announce(
    bus: Arc<dyn Bus>,
    config: WorkerConfig,
    running: Arc<AtomicU32>,
    started_at: i64,
    draining: watch::Receiver<bool>,
) {
    let subject = subjects::worker_presence(&config.pool);
    loop {
        let presence = Presence {
            worker_id: config.worker_id.clone(),
            pool: config.pool.clone(),
            host: config.host.clone(),
            status: if *draining.borrow() {
                "draining"
            } else {
                "online"
            }
            .to_owned(),
            running: running.load(Ordering::SeqCst),
            concurrency: config.concurrency,
            started_at,
        };
        if let Ok(body) = serde_json::to_vec(&presence) {
            if let Err(e) = bus.publish(&subject, Bytes::from(body)).await {
                tracing::debug!(error = %e, "announcing presence failed");
            }
        }
        tokio::time::sleep(config.presence_every).await;
    }
}

/// One ticket: claim, ack, run.
async fn handle_ticket(
    bus: &dyn Bus,
    link: &dyn Link,
    config: &WorkerConfig,
    delivery: Box<dyn Delivery>,
    release: watch::Receiver<bool>,
) {
    let ticket: Ticket = match serde_json::from_slice(delivery.payload()) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "unreadable ticket dropped");
            let _ = delivery.terminate().await;
            return;
        }
    };
    // Listening for a cancel before claiming: one asked for once the claim is granted is
    // heard (one asked for before refuses the claim).
    let cancels = match bus
        .subscribe(&subjects::cancel(&ticket.tenant_id, &ticket.job_id))
        .await
    {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(job = %ticket.job_id, error = %e, "cannot listen for cancellation; heartbeats will carry it");
            None
        }
    };
    let claim = Claim {
        worker_id: config.worker_id.clone(),
    };
    let of = JobRef {
        tenant: &ticket.tenant_id,
        job: &ticket.job_id,
    };
    let reply = match link.claim(of, &claim).await {
        Ok(r) => r,
        Err(e) => {
            if delivery.attempt() >= pool_queue_config().max_deliver {
                // The queue will not deliver it again; the control plane re-dispatches
                // jobs whose tickets were never claimed.
                tracing::warn!(job = %ticket.job_id, error = %e, "claim unanswered on the last delivery; ticket dropped");
                let _ = delivery.terminate().await;
            } else {
                // The control plane did not answer: give the ticket back for later.
                tracing::warn!(job = %ticket.job_id, error = %e, "claim unanswered; ticket returned");
                let _ = delivery.nack(Duration::from_secs(2)).await;
            }
            return;
        }
    };
    // From here the store's lease rules the job, whatever happens to this process: the
    // ticket's ack (a round trip on NATS) does not hold up the work. A ticket delivered
    // again is refused at its claim while the job runs or once it has ended; a job queued
    // again meanwhile (a retry) may be claimed by it, which is that job's next attempt,
    // one at a time (a claim is a compare-and-set). An in-process queue acks at once,
    // cheaper than a task to do it.
    let job = ticket.job_id.clone();
    let ack = async move {
        if let Err(e) = delivery.ack().await {
            tracing::warn!(%job, error = %e, "acking the ticket failed");
        }
    };
    if bus.is_durable() {
        tokio::spawn(ack);
    } else {
        ack.await;
    }
    match reply {
        ClaimReply::Refused { reason } => {
            tracing::debug!(job = %ticket.job_id, reason, "claim refused")
        }
        ClaimReply::Granted(grant) => run_granted(link, config, of, grant, cancels, release).await,
    }
}

/// A worker's claiming of its pool's jobs itself, from [`Claims::serve`] until dropped
/// (also when the worker's task is aborted).
struct Serving {
    claims: Arc<dyn Claims>,
    pool: String,
    woken: Arc<tokio::sync::Notify>,
}

impl Serving {
    fn new(claims: Arc<dyn Claims>, pool: &str) -> Serving {
        let woken = claims.serve(pool);
        Serving {
            claims,
            pool: pool.to_owned(),
            woken,
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.claims.stop_serving(&self.pool);
    }
}

/// What a free slot takes on: a ticket to claim, or a job claimed already.
enum Work {
    Ticket(Box<dyn Delivery>),
    Claimed(ClaimedJob),
}

/// Runs `work` in a task of its own, holding its slot (`permit`) until it ends.
fn spawn_work(
    work: Work,
    permit: OwnedSemaphorePermit,
    bus: &Arc<dyn Bus>,
    link: &Arc<dyn Link>,
    config: &WorkerConfig,
    running: &Arc<AtomicU32>,
    release: &watch::Receiver<bool>,
) {
    let (bus, link) = (bus.clone(), link.clone());
    let (config, running, release) = (config.clone(), running.clone(), release.clone());
    tokio::spawn(async move {
        running.fetch_add(1, Ordering::SeqCst);
        match work {
            Work::Ticket(d) => {
                handle_ticket(bus.as_ref(), link.as_ref(), &config, d, release).await
            }
            Work::Claimed(job) => {
                let of = JobRef {
                    tenant: &job.tenant,
                    job: &job.job,
                };
                run_granted(link.as_ref(), &config, of, job.grant, job.cancels, release).await
            }
        }
        running.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
    });
}

/// Runs the attempt `grant` of the job `of`, hearing a cancel on `cancels`.
async fn run_granted(
    link: &dyn Link,
    config: &WorkerConfig,
    of: JobRef<'_>,
    grant: Grant,
    cancels: Option<Subscription>,
    release: watch::Receiver<bool>,
) {
    let holder = AttemptRef {
        tenant: of.tenant.to_owned(),
        job: of.job.to_owned(),
        worker_id: config.worker_id.clone(),
        attempt: grant.attempt,
    };
    let run = durable::Run::resume(link.journal(holder), grant.journal);
    let attempt = Attempt {
        link,
        config,
        of,
        attempt: grant.attempt,
        cancel_seen: std::sync::atomic::AtomicBool::new(false),
        cancels: std::sync::Mutex::new(cancels),
    };
    attempt
        .run(
            &grant.kind,
            &grant.payload,
            Duration::from_millis(grant.lease_ms),
            grant.log_seq,
            run,
            release,
        )
        .await;
}

struct Attempt<'a> {
    link: &'a dyn Link,
    config: &'a WorkerConfig,
    of: JobRef<'a>,
    attempt: i64,
    cancel_seen: std::sync::atomic::AtomicBool,
    /// The job's cancel subject, listened to since before the claim (taken by `run`).
    cancels: std::sync::Mutex<Option<Subscription>>,
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Beat {
    Kept,
    Lost,
    Unanswered,
}

impl Attempt<'_> {
    async fn run(
        &self,
        kind: &str,
        payload: &str,
        lease: Duration,
        log_seq: i64,
        run: durable::Run,
        mut release: watch::Receiver<bool>,
    ) {
        let mut cancels = self
            .cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let (stop_tx, stop_rx) = watch::channel(false);
        let ctx = JobContext::continuing(log_seq, stop_rx, run, self.attempt);
        // The work runs as a task of its own, so it goes on while this loop waits for the
        // control plane's answers (a heartbeat may take seconds when the control plane is
        // busy) — and a step the work is writing holds nothing this loop needs. Ending
        // early (a lost lease, a release) aborts it.
        let work = {
            let (kinds, kind, payload, ctx) = (
                self.config.kinds.clone(),
                kind.to_owned(),
                payload.to_owned(),
                ctx.clone(),
            );
            tokio::spawn(async move { kinds.run(&kind, &payload, ctx).await })
        };
        let _abort_on_early_end = AbortOnDrop(work.abort_handle());
        tokio::pin!(work);
        // A cancel reaches the worker at once on the job's cancel subject (`cancels`);
        // heartbeats carry it too, as a fallback. The first is a third of the lease after
        // the claim's answer arrived (the lease began a little earlier, when the claim was
        // written: leases are 10 s or more, so the margin stays wide).
        let beat_every = (lease / 3).max(Duration::from_millis(200));
        let mut beat =
            tokio::time::interval_at(tokio::time::Instant::now() + beat_every, beat_every);
        let mut ship = tokio::time::interval(Duration::from_millis(250));
        let outcome = loop {
            tokio::select! {
                outcome = &mut work => break outcome.unwrap_or_else(|e| Outcome::Failed {
                    error: format!("the job's task failed: {e}"),
                    retryable: true,
                }),
                Ok(()) = release.changed() => {
                    if *release.borrow() {
                        let _ = stop_tx.send(true);
                        self.ship_logs(&ctx).await;
                        self.release().await;
                        return;
                    }
                }
                _ = beat.tick() => {
                    if self.heartbeat().await == Beat::Lost {
                        // Another attempt owns the job now; nothing of this one may be recorded.
                        tracing::warn!(job = %self.of.job, "lease lost; abandoning the attempt");
                        let _ = stop_tx.send(true);
                        return;
                    }
                    if self.cancel_requested().await {
                        let _ = stop_tx.send(true);
                    }
                }
                Some(_) = async { match cancels.as_mut() { Some(c) => c.next().await, None => std::future::pending().await } } => {
                    let _ = stop_tx.send(true);
                }
                _ = ship.tick() => self.ship_logs(&ctx).await,
            }
        };
        let complete = Complete {
            worker_id: self.config.worker_id.clone(),
            attempt: self.attempt,
            outcome,
        };
        // Keep the lease while reporting: a control plane that is briefly away must not
        // make a finished job run again.
        let give_up = tokio::time::Instant::now() + Duration::from_secs(120);
        let mut delay = Duration::ZERO;
        while tokio::time::Instant::now() < give_up {
            // The first report goes at once: even a zero sleep waits for the timer's next
            // tick (up to a millisecond, on every job).
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            delay = (delay * 2).clamp(Duration::from_millis(500), Duration::from_secs(5));
            self.ship_logs(&ctx).await;
            match self.link.complete(self.of, &complete).await {
                Ok(r) => {
                    if !r.recorded {
                        tracing::info!(job = %self.of.job, "outcome refused: the attempt was replaced");
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(job = %self.of.job, error = %e, "reporting the outcome failed; retrying");
                    if self.heartbeat().await == Beat::Lost {
                        return;
                    }
                }
            }
        }
        tracing::error!(job = %self.of.job, "outcome not delivered; the lease will expire and the job run again");
    }

    /// Extends the lease. `Lost` only when the control plane answered that this attempt is
    /// no longer this worker's.
    async fn heartbeat(&self) -> Beat {
        let hb = Heartbeat {
            worker_id: self.config.worker_id.clone(),
            attempt: self.attempt,
        };
        match self.link.heartbeat(self.of, &hb).await {
            Ok(reply) if !reply.keep => Beat::Lost,
            Ok(reply) => {
                self.cancel_seen.store(reply.cancel, Ordering::SeqCst);
                Beat::Kept
            }
            Err(e) => {
                tracing::warn!(job = %self.of.job, error = %e, "heartbeat unanswered");
                Beat::Unanswered
            }
        }
    }

    /// Hands the attempt back to the control plane (a draining worker out of time).
    async fn release(&self) {
        let release = Release {
            worker_id: self.config.worker_id.clone(),
            attempt: self.attempt,
        };
        match self.link.release(self.of, &release).await {
            Ok(r) if r.recorded => tracing::info!(job = %self.of.job, "attempt released"),
            Ok(_) => {
                tracing::info!(job = %self.of.job, "release refused: the attempt was already replaced")
            }
            Err(e) => {
                tracing::warn!(job = %self.of.job, error = %e, "release unanswered; the lease will expire")
            }
        }
    }

    async fn cancel_requested(&self) -> bool {
        self.cancel_seen.load(Ordering::SeqCst)
    }

    async fn ship_logs(&self, ctx: &JobContext) {
        let mut lines = ctx.take_lines();
        let mut progress = ctx.take_progress();
        while !lines.is_empty() || progress.is_some() {
            let rest = lines.split_off(lines.len().min(MAX_BATCH_LINES));
            let batch = LogBatch {
                worker_id: self.config.worker_id.clone(),
                attempt: self.attempt,
                lines,
                progress: progress.take(),
            };
            if let Err(e) = self.link.log(self.of, &batch).await {
                tracing::debug!(job = %self.of.job, error = %e, "log lines not shipped yet");
                let mut unsent = batch.lines;
                unsent.extend(rest);
                ctx.put_back(unsent);
                if let Some(progress) = batch.progress {
                    let mut latest = ctx.progress.lock().unwrap_or_else(|p| p.into_inner());
                    latest.get_or_insert(progress);
                }
                return;
            }
            lines = rest;
        }
    }
}
