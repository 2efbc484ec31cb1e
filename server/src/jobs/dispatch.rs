//! The background loops of the job service: the dispatcher puts due jobs on their pool's
//! queue (respecting each workspace's concurrency); the lease sweeper takes back attempts
//! whose worker went silent (retry with backoff, or dead letter) and marks silent workers
//! offline. The store decides; the bus only carries.

use super::store::{AttemptEnd, JobRecord};
use super::Jobs;
use crate::clock::now_ms;
use crate::store::StoreError;
use bytes::Bytes;
use shared::ids::TenantId;
use shared::jobs::RetryPolicy;
use workers::bus::BusError;
use workers::protocol::Ticket;
use workers::runtime::pool_queue_config;

impl Jobs {
    /// Puts every due job on its pool's queue (respecting each workspace's concurrency).
    pub async fn dispatch_once(&self) -> Result<usize, StoreError> {
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
    pub async fn sweep_once(&self) -> Result<usize, StoreError> {
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
    pub(super) fn after_failure(
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
}
