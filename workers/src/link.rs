//! How a worker reaches the control plane for a job it pulled: its claim, heartbeats, log
//! lines, outcome, release and journal. The [`Link`] seam has two implementations:
//! [`BusLink`] sends each as a request on the job's subjects (worker processes; the
//! control plane answers in `server::jobs::worker_requests`), and the server's
//! `jobs::StoreLink` hands each straight to those same answers, for workers inside the
//! control plane's own process, with no bus round trip, message encoding or request handler
//! task in between. Either way the store's fences decide (lease holder and attempt); the two
//! differ only in the way there. One conformance suite runs both on both backends
//! (`server/tests/it/jobs.rs`, `links`).

use crate::bus::{Bus, BusError};
pub use crate::protocol::Grant;
use crate::protocol::{
    Claim, ClaimReply, Complete, Heartbeat, HeartbeatReply, LogBatch, Recorded, Release, StepReport,
};
use crate::subjects;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The control plane gave no answer (unreachable, timed out, or failed inside): the worker
/// acts as it would for a lost message — retries, or leaves the lease to expire.
#[derive(Debug, thiserror::Error)]
#[error("the control plane did not answer: {0}")]
pub struct Unanswered(pub String);

impl From<BusError> for Unanswered {
    fn from(e: BusError) -> Self {
        Unanswered(e.to_string())
    }
}

/// A job as its ticket names it.
#[derive(Clone, Copy, Debug)]
pub struct JobRef<'a> {
    /// The job's workspace.
    pub tenant: &'a str,
    /// The job.
    pub job: &'a str,
}

/// The attempt a journal records for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRef {
    /// The job's workspace.
    pub tenant: String,
    /// The job.
    pub job: String,
    /// The worker holding it.
    pub worker_id: String,
    /// Which attempt it holds.
    pub attempt: i64,
}

/// A worker's way to the control plane. Every answer comes from the same fenced writes in
/// the store, so an implementation may not decide anything itself: only the lease holder's
/// attempt changes a running job, and a job of another workspace is nobody's business.
#[async_trait::async_trait]
pub trait Link: Send + Sync + std::fmt::Debug {
    /// Asks for the job: an attempt under a lease, or a refusal.
    async fn claim(&self, job: JobRef<'_>, claim: &Claim) -> Result<ClaimReply, Unanswered>;
    /// Extends the attempt's lease; the answer says whether to go on and whether to stop.
    async fn heartbeat(
        &self,
        job: JobRef<'_>,
        beat: &Heartbeat,
    ) -> Result<HeartbeatReply, Unanswered>;
    /// Ships log lines and progress (idempotent by sequence number).
    async fn log(&self, job: JobRef<'_>, batch: &LogBatch) -> Result<Recorded, Unanswered>;
    /// Reports how the attempt ended.
    async fn complete(&self, job: JobRef<'_>, complete: &Complete) -> Result<Recorded, Unanswered>;
    /// Hands an unfinished attempt back (a draining worker out of time).
    async fn release(&self, job: JobRef<'_>, release: &Release) -> Result<Recorded, Unanswered>;
    /// The journal `attempt` records its steps in.
    fn journal(&self, attempt: AttemptRef) -> Arc<dyn durable::Journal>;
}

/// A worker's way to its pool's jobs without tickets: its free slots claim the next due
/// jobs from the control plane's store themselves, and when fewer are due, the worker
/// waits until the control plane wakes it. Only for workers inside the
/// control plane's process with an in-process bus (no worker elsewhere takes the pool's
/// tickets): a slot is free by construction, and the store's claim takes workspaces in
/// turn within each workspace's concurrency, as the dispatcher does with tickets. The
/// server's `jobs::StoreLink` implements it; the tests of the claim's rules run on both
/// backends (`server/tests/it/jobs.rs`, `direct_claims`).
#[async_trait::async_trait]
pub trait Claims: Send + Sync + std::fmt::Debug {
    /// Starts taking `pool`'s jobs this way: the control plane sends the pool no tickets
    /// while any worker serves it so. The answer is notified when a job of the pool may
    /// have come due (a submission, a retry's or a sleeper's time, a workspace's slot freed).
    fn serve(&self, pool: &str) -> Arc<tokio::sync::Notify>;
    /// Stops taking `pool`'s jobs this way (the pool goes back to tickets once no worker
    /// serves it so).
    fn stop_serving(&self, pool: &str);
    /// Claims up to `at_most` of `pool`'s due jobs for `claim`'s worker (its free slots),
    /// in one step: the workspaces take turns, starting after the one served last, each
    /// its oldest due job a turn, within each workspace's concurrency. Empty when no job is
    /// due or every workspace with one is at its concurrency.
    async fn claim_next(
        &self,
        pool: &str,
        claim: &Claim,
        at_most: usize,
    ) -> Result<Vec<ClaimedJob>, Unanswered>;
}

/// A job [`Claims::claim_next`] claimed.
pub struct ClaimedJob {
    /// The job's workspace.
    pub tenant: String,
    /// The job.
    pub job: String,
    /// The attempt granted.
    pub grant: Grant,
    /// The job's cancel subject, listened to before a cancel could be published for the
    /// new attempt (`None`: the bus refused; heartbeats carry a cancel anyway).
    pub cancels: Option<crate::bus::Subscription>,
}

impl std::fmt::Debug for ClaimedJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedJob")
            .field("tenant", &self.tenant)
            .field("job", &self.job)
            .field("grant", &self.grant)
            .finish_non_exhaustive()
    }
}

/// The link over the bus: one request per message on the job's subjects, answered by
/// whichever control plane replica takes it.
#[derive(Clone)]
pub struct BusLink {
    bus: Arc<dyn Bus>,
    timeout: Duration,
}

impl BusLink {
    /// A link over `bus`, waiting up to `timeout` for each answer.
    pub fn new(bus: Arc<dyn Bus>, timeout: Duration) -> BusLink {
        BusLink { bus, timeout }
    }

    async fn ask<Q: Serialize, A: DeserializeOwned>(
        &self,
        subject: &str,
        question: &Q,
    ) -> Result<A, Unanswered> {
        ask(self.bus.as_ref(), subject, question, self.timeout).await
    }
}

impl std::fmt::Debug for BusLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusLink")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

async fn ask<Q: Serialize, A: DeserializeOwned>(
    bus: &dyn Bus,
    subject: &str,
    question: &Q,
    timeout: Duration,
) -> Result<A, Unanswered> {
    let body = serde_json::to_vec(question).map_err(|e| Unanswered(e.to_string()))?;
    let answer = bus.request(subject, Bytes::from(body), timeout).await?;
    serde_json::from_slice(&answer).map_err(|e| Unanswered(format!("bad answer on {subject}: {e}")))
}

#[async_trait::async_trait]
impl Link for BusLink {
    async fn claim(&self, job: JobRef<'_>, claim: &Claim) -> Result<ClaimReply, Unanswered> {
        self.ask(&subjects::claim(job.tenant, job.job), claim).await
    }

    async fn heartbeat(
        &self,
        job: JobRef<'_>,
        beat: &Heartbeat,
    ) -> Result<HeartbeatReply, Unanswered> {
        self.ask(&subjects::heartbeat(job.tenant, job.job), beat)
            .await
    }

    async fn log(&self, job: JobRef<'_>, batch: &LogBatch) -> Result<Recorded, Unanswered> {
        self.ask(&subjects::log(job.tenant, job.job), batch).await
    }

    async fn complete(&self, job: JobRef<'_>, complete: &Complete) -> Result<Recorded, Unanswered> {
        self.ask(&subjects::complete(job.tenant, job.job), complete)
            .await
    }

    async fn release(&self, job: JobRef<'_>, release: &Release) -> Result<Recorded, Unanswered> {
        self.ask(&subjects::release(job.tenant, job.job), release)
            .await
    }

    fn journal(&self, attempt: AttemptRef) -> Arc<dyn durable::Journal> {
        Arc::new(BusJournal {
            bus: self.bus.clone(),
            attempt,
            timeout: self.timeout,
        })
    }
}

/// A running attempt's journal over the bus: each step goes to the control plane in one
/// request on the job's `step` subject, and the store takes it only from this attempt's
/// lease holder.
struct BusJournal {
    bus: Arc<dyn Bus>,
    attempt: AttemptRef,
    timeout: Duration,
}

#[async_trait::async_trait]
impl durable::Journal for BusJournal {
    async fn record(&self, entry: &durable::Entry) -> Result<(), durable::JournalError> {
        let report = StepReport {
            worker_id: self.attempt.worker_id.clone(),
            attempt: self.attempt.attempt,
            entry: entry.clone(),
        };
        match ask::<_, Recorded>(
            self.bus.as_ref(),
            &subjects::step(&self.attempt.tenant, &self.attempt.job),
            &report,
            self.timeout,
        )
        .await
        {
            Ok(Recorded { recorded: true }) => Ok(()),
            Ok(Recorded { recorded: false }) => Err(durable::JournalError::Lost),
            Err(e) => Err(durable::JournalError::Unavailable(e.0)),
        }
    }

    async fn started(&self, key: &str) {
        let subject = subjects::step_started(&self.attempt.tenant, &self.attempt.job);
        if let Err(e) = self
            .bus
            .publish(&subject, Bytes::from(key.to_owned()))
            .await
        {
            tracing::debug!(job = %self.attempt.job, error = %e, "announcing a step failed");
        }
    }
}
