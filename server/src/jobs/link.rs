//! The link of workers running inside the control plane's process (the embedded default):
//! each claim, heartbeat, log batch, outcome, release and journal step goes straight to the
//! answer a worker's request on the bus gets ([`Jobs::on_claim`] and the rest in
//! `worker_requests.rs`) — the same fenced writes and announcements, without the bus round
//! trip, the message encoding and the request handler's task in between.

use super::Jobs;
use crate::store::StoreError;
use bytes::Bytes;
use shared::ids::{JobId, TenantId};
use std::sync::Arc;
use workers::link::{AttemptRef, ClaimedJob, Claims, JobRef, Link, Unanswered};
use workers::protocol::{
    Claim, ClaimReply, Complete, Heartbeat, HeartbeatReply, LogBatch, Recorded, Release, StepReport,
};
use workers::subjects;

/// Workers' direct link to `Jobs`. Only for a control plane that knows every job its
/// workers can pull, that is one not sharing its bus with other deployments
/// (`SHARED_NATS`): a job it does not know is answered "gone", never left to another.
#[derive(Clone)]
pub struct StoreLink(Arc<Jobs>);

impl StoreLink {
    /// The link to `jobs`.
    pub fn new(jobs: Arc<Jobs>) -> StoreLink {
        StoreLink(jobs)
    }
}

impl std::fmt::Debug for StoreLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreLink")
    }
}

/// The ids a ticket names, or no answer: nothing this store holds is named otherwise (the
/// bus's answerer stays silent about such a request the same way).
fn ids(job: JobRef<'_>) -> Result<(TenantId, JobId), Unanswered> {
    job.tenant
        .parse()
        .ok()
        .zip(job.job.parse().ok())
        .ok_or_else(|| Unanswered(format!("{}/{} names no job", job.tenant, job.job)))
}

/// An answer as a worker hears it: `None` is the silence the bus's answerer keeps about a
/// job that is not its business.
fn heard<A>(answer: Result<Option<A>, StoreError>) -> Result<A, Unanswered> {
    match answer {
        Ok(Some(answer)) => Ok(answer),
        Ok(None) => Err(Unanswered(
            "the ticket names a job of another workspace".into(),
        )),
        Err(e) => Err(Unanswered(e.to_string())),
    }
}

#[async_trait::async_trait]
impl Link for StoreLink {
    async fn claim(&self, job: JobRef<'_>, claim: &Claim) -> Result<ClaimReply, Unanswered> {
        heard(self.0.on_claim(ids(job)?, claim.clone()).await)
    }

    async fn heartbeat(
        &self,
        job: JobRef<'_>,
        beat: &Heartbeat,
    ) -> Result<HeartbeatReply, Unanswered> {
        heard(self.0.on_heartbeat(ids(job)?, beat.clone()).await)
    }

    async fn log(&self, job: JobRef<'_>, batch: &LogBatch) -> Result<Recorded, Unanswered> {
        heard(self.0.on_log(ids(job)?, batch.clone()).await)
    }

    async fn complete(&self, job: JobRef<'_>, complete: &Complete) -> Result<Recorded, Unanswered> {
        heard(self.0.on_complete(ids(job)?, complete.clone()).await)
    }

    async fn release(&self, job: JobRef<'_>, release: &Release) -> Result<Recorded, Unanswered> {
        heard(self.0.on_release(ids(job)?, release.clone()).await)
    }

    fn journal(&self, attempt: AttemptRef) -> Arc<dyn durable::Journal> {
        let ids = attempt.tenant.parse().ok().zip(attempt.job.parse().ok());
        Arc::new(StoreJournal {
            jobs: self.0.clone(),
            ids,
            attempt,
        })
    }
}

/// The claims of workers in this process on an in-process bus (see `claims.rs`).
#[async_trait::async_trait]
impl Claims for StoreLink {
    fn serve(&self, pool: &str) -> Arc<tokio::sync::Notify> {
        self.0.serve_directly(pool)
    }

    fn stop_serving(&self, pool: &str) {
        self.0.stop_serving_directly(pool)
    }

    async fn claim_next(
        &self,
        pool: &str,
        claim: &Claim,
        at_most: usize,
    ) -> Result<Vec<ClaimedJob>, Unanswered> {
        self.0
            .claim_next(pool, &claim.worker_id, at_most)
            .await
            .map_err(|e| Unanswered(e.to_string()))
    }
}

/// One attempt's journal in the store.
struct StoreJournal {
    jobs: Arc<Jobs>,
    /// `None` when the attempt names no job id this store could hold: every record is
    /// refused.
    ids: Option<(TenantId, JobId)>,
    attempt: AttemptRef,
}

#[async_trait::async_trait]
impl durable::Journal for StoreJournal {
    async fn record(&self, entry: &durable::Entry) -> Result<(), durable::JournalError> {
        let Some(ids) = self.ids else {
            return Err(durable::JournalError::Lost);
        };
        let report = StepReport {
            worker_id: self.attempt.worker_id.clone(),
            attempt: self.attempt.attempt,
            entry: entry.clone(),
        };
        match self.jobs.on_step(ids, report).await {
            Ok(Some(Recorded { recorded: true })) => Ok(()),
            Ok(_) => Err(durable::JournalError::Lost),
            Err(e) => Err(durable::JournalError::Unavailable(e.to_string())),
        }
    }

    async fn started(&self, key: &str) {
        let subject = subjects::step_started(&self.attempt.tenant, &self.attempt.job);
        if let Err(e) = self
            .jobs
            .bus
            .publish(&subject, Bytes::from(key.to_owned()))
            .await
        {
            tracing::debug!(job = %self.attempt.job, error = %e, "announcing a step failed");
        }
    }
}
