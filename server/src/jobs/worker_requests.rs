//! The control plane's answers to workers, on the bus or called directly by workers in
//! this process (`link.rs`): claim, heartbeat, log, complete, release, step and presence.
//! Every answer is fenced by the store (lease holder and attempt), so a worker that lost
//! its lease cannot change what replaced it.

use super::store::{AttemptEnd, Claimed, EndOf, JobLogLine, StepRecord, WorkerRecord};
use super::Jobs;
use crate::clock::now_ms;
use crate::store::StoreError;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::ids::{JobId, TenantId};
use shared::jobs::JobStatus;
use workers::bus::BusMessage;
use workers::protocol::{
    Claim, ClaimReply, Complete, Grant, Heartbeat, HeartbeatReply, LogBatch, Outcome, Presence,
    Recorded, Release, StepReport,
};
use workers::subjects;

/// The kinds of request workers send; each has its subject pattern.
#[derive(Clone, Copy)]
pub(super) enum Handler {
    Claim,
    Heartbeat,
    Log,
    Complete,
    Release,
    Step,
    Presence,
}

impl Handler {
    /// Every handler with the subjects it answers.
    pub(super) const ALL: [(&'static str, Handler); 7] = [
        (subjects::CLAIMS, Handler::Claim),
        (subjects::HEARTBEATS, Handler::Heartbeat),
        (subjects::LOGS, Handler::Log),
        (subjects::COMPLETIONS, Handler::Complete),
        (subjects::RELEASES, Handler::Release),
        (subjects::STEPS, Handler::Step),
        (subjects::PRESENCE, Handler::Presence),
    ];
}

impl Jobs {
    pub(super) async fn handle(&self, handler: Handler, message: BusMessage) {
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
            Handler::Step => {
                self.on(&message, |jobs, ids, q| async move {
                    jobs.on_step(ids, q).await
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

    /// Whether a request about a job this store does not know is answered "gone" (so the
    /// worker drops the ticket or stops the attempt at once). Always, unless several
    /// deployments share the bus (`SHARED_NATS`): then a job unknown here may be another
    /// deployment's, and only jobs of workspaces this process deleted are answered.
    fn unknown_is_gone(&self, tenant: TenantId) -> bool {
        !self.config.shared_bus || !self.bus.is_durable() || self.was_deleted(tenant)
    }

    /// Decodes a job request, runs `f`, and encodes its answer. No answer on bad input (the
    /// worker times out and retries, which is right for a message we cannot read); for a
    /// job this store does not know, see [`Jobs::unknown_is_gone`].
    async fn on<'a, Q, A, F, Fut>(&'a self, message: &BusMessage, f: F) -> Option<Bytes>
    where
        Q: DeserializeOwned,
        A: Serialize,
        F: FnOnce(&'a Jobs, (TenantId, JobId), Q) -> Fut,
        Fut: std::future::Future<Output = Result<Option<A>, StoreError>>,
    {
        let ids = subjects::job_of(&message.subject)
            .and_then(|(t, j)| Some((t.parse().ok()?, j.parse().ok()?)));
        let (Some(ids), Ok(question)) = (ids, serde_json::from_slice::<Q>(&message.payload)) else {
            tracing::warn!(subject = %message.subject, "unreadable job request ignored");
            return None;
        };
        match f(self, ids, question).await {
            Ok(Some(answer)) => serde_json::to_vec(&answer).ok().map(Bytes::from),
            // Not a job of this control plane's store, on a shared bus: another one answers.
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(subject = %message.subject, error = %e, "job request failed");
                None
            }
        }
    }

    pub(super) async fn on_claim(
        &self,
        (tenant, job): (TenantId, JobId),
        claim: Claim,
    ) -> Result<Option<ClaimReply>, StoreError> {
        let now = now_ms();
        let lease_until = now + self.config.lease.as_millis() as i64;
        // The claim first (it names the workspace): why it was refused is read only then.
        let claimed = self
            .store
            .claim_job_to_resume(tenant, job, &claim.worker_id, now, lease_until)
            .await?;
        let Some(claimed) = claimed else {
            let reason = match self.store.job_any_tenant(job).await? {
                None if self.unknown_is_gone(tenant) => "the job no longer exists",
                None => return Ok(None),
                Some(known) if known.tenant_id != tenant => "the ticket names another workspace",
                Some(_) => "the job is not waiting to run",
            };
            return Ok(Some(ClaimReply::Refused {
                reason: reason.to_owned(),
            }));
        };
        self.announce(&claimed.record).await;
        Ok(Some(ClaimReply::Granted(self.grant(claimed))))
    }

    /// What the worker of a claimed job is granted: the attempt, what to run, the lease,
    /// and what the attempt resumes from.
    pub(super) fn grant(&self, claimed: Claimed) -> Grant {
        let Claimed {
            record,
            log_seq,
            steps,
        } = claimed;
        Grant {
            attempt: record.attempt,
            lease_ms: self.config.lease.as_millis() as u64,
            log_seq,
            journal: journal_entries(record.id, steps),
            kind: record.kind,
            payload: record.payload,
        }
    }

    pub(super) async fn on_step(
        &self,
        (tenant, job): (TenantId, JobId),
        report: StepReport,
    ) -> Result<Option<Recorded>, StoreError> {
        // The fenced write first: it is the whole answer for the running attempt (one
        // commit with the steps other runs report at the same time); only a refused one
        // needs to know whether the job exists.
        let record = StepRecord {
            tenant,
            job,
            worker: report.worker_id.clone(),
            attempt: report.attempt,
            key: report.entry.key.clone(),
            entry: serde_json::to_string(&report.entry)
                .map_err(|e| StoreError::Corrupt(format!("a journal entry: {e}")))?,
            at: now_ms(),
        };
        let recorded = self.steps.write(record).await?;
        if !recorded {
            return match self.store.job_any_tenant(job).await? {
                None => Ok(self
                    .unknown_is_gone(tenant)
                    .then_some(Recorded { recorded: false })),
                Some(known) if known.tenant_id != tenant => Ok(None),
                Some(_) => Ok(Some(Recorded { recorded: false })),
            };
        }
        let event = serde_json::json!({"type": "step", "node": report.entry.key});
        let subject = subjects::events(&tenant.to_string(), &job.to_string());
        if let Err(e) = self
            .bus
            .publish(&subject, bytes::Bytes::from(event.to_string()))
            .await
        {
            tracing::debug!(error = %e, "publishing a step event failed");
        }
        Ok(Some(Recorded { recorded: true }))
    }

    pub(super) async fn on_heartbeat(
        &self,
        (tenant, job): (TenantId, JobId),
        beat: Heartbeat,
    ) -> Result<Option<HeartbeatReply>, StoreError> {
        let Some(known) = self.store.job_any_tenant(job).await? else {
            // A deleted job: the attempt is nobody's any more.
            return Ok(self.unknown_is_gone(tenant).then_some(HeartbeatReply {
                keep: false,
                cancel: true,
            }));
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

    pub(super) async fn on_log(
        &self,
        (tenant, job): (TenantId, JobId),
        batch: LogBatch,
    ) -> Result<Option<Recorded>, StoreError> {
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
        let lines: Vec<JobLogLine> = batch
            .lines
            .iter()
            .map(|line| JobLogLine {
                seq: line.seq,
                at: line.at,
                line: line.line.chars().take(4_000).collect(),
            })
            .collect();
        self.store.append_job_logs(tenant, job, &lines).await?;
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

    pub(super) async fn on_complete(
        &self,
        (tenant, job): (TenantId, JobId),
        complete: Complete,
    ) -> Result<Option<Recorded>, StoreError> {
        // Only a named worker's report counts (an end with no worker is the lease sweeper's).
        if complete.worker_id.is_empty() {
            return Ok(Some(Recorded { recorded: false }));
        }
        // A success or a cancellation is written at once (the write names the workspace);
        // a failure or a sleep depends on the job as it is (its attempts left, whether it
        // was asked to stop), read first.
        let current = match complete.outcome {
            Outcome::Succeeded { .. } | Outcome::Cancelled => None,
            Outcome::Failed { .. } | Outcome::Sleeping { .. } => {
                match self.store.job_any_tenant(job).await? {
                    None => {
                        return Ok(self
                            .unknown_is_gone(tenant)
                            .then_some(Recorded { recorded: false }))
                    }
                    Some(known) if known.tenant_id != tenant => return Ok(None),
                    Some(known) => Some(known),
                }
            }
        };
        let now = now_ms();
        let end = match (complete.outcome, &current) {
            (Outcome::Succeeded { result }, _) => AttemptEnd::Succeeded(result.to_string()),
            (Outcome::Cancelled, _) => AttemptEnd::Cancelled,
            (Outcome::Failed { error, retryable }, Some(current)) => {
                self.after_failure(current, error, retryable, now)
            }
            // A run cancelled while it decided to sleep ends now, not at its wake-up.
            (Outcome::Sleeping { .. }, Some(current)) if current.cancel_requested => {
                AttemptEnd::Cancelled
            }
            (Outcome::Sleeping { until }, Some(_)) => AttemptEnd::Sleep(until.max(now)),
            (Outcome::Failed { .. } | Outcome::Sleeping { .. }, None) => {
                return Err(StoreError::Corrupt(
                    "a failure or a sleep is decided with the job read first".into(),
                ))
            }
        };
        // Written together with the ends other workers report at the same moment.
        let updated = self
            .ends
            .write(EndOf {
                tenant,
                id: job,
                worker: complete.worker_id,
                attempt: complete.attempt,
                end,
                now,
            })
            .await?;
        let Some(updated) = updated else {
            // Refused: say so, unless the job is unknown here on a shared bus (another
            // control plane's) or another workspace's.
            if current.is_none() {
                match self.store.job_any_tenant(job).await? {
                    None if !self.unknown_is_gone(tenant) => return Ok(None),
                    Some(known) if known.tenant_id != tenant => return Ok(None),
                    _ => {}
                }
            }
            return Ok(Some(Recorded { recorded: false }));
        };
        self.announce(&updated).await;
        // A slot freed (and a retry may be queued): the next job goes out now.
        self.slot_freed(&updated.pool);
        Ok(Some(Recorded { recorded: true }))
    }

    pub(super) async fn on_release(
        &self,
        (tenant, job): (TenantId, JobId),
        release: Release,
    ) -> Result<Option<Recorded>, StoreError> {
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
            // Queued again, due now.
            self.wake(&updated.pool);
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

/// A job's journal as the worker replays it. An entry that does not parse is left out (its
/// step runs again) and logged.
fn journal_entries(job: JobId, steps: Vec<String>) -> Vec<durable::Entry> {
    steps
        .into_iter()
        .filter_map(|raw| match serde_json::from_str(&raw) {
            Ok(entry) => Some(entry),
            Err(e) => {
                tracing::error!(%job, error = %e, "unreadable journal entry ignored");
                None
            }
        })
        .collect()
}
