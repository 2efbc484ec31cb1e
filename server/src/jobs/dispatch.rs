//! The background loops of the job service: the dispatcher puts due jobs on their pool's
//! queue as slots free up, taking workspaces in turn (so one workspace's backlog never
//! queues ahead of another's next job) within each workspace's concurrency (a pool whose
//! workers claim their jobs themselves, `claims.rs`, gets no tickets: a round wakes its
//! workers when it has jobs due); the lease
//! sweeper takes back attempts
//! whose worker went silent (retry with backoff, or dead letter) and marks silent workers
//! offline. The store decides; the bus only carries.

use super::store::{AttemptEnd, JobRecord, PoolRoom};
use super::Jobs;
use crate::clock::now_ms;
use crate::store::StoreError;
use bytes::Bytes;
use shared::ids::{JobId, TenantId};
use shared::jobs::RetryPolicy;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use workers::bus::BusError;
use workers::protocol::Ticket;
use workers::runtime::pool_queue_config;

/// How often the dispatcher looks for tickets lost on the bus (they are lost only when
/// older than `JobsConfig::redispatch_after`, which is far longer).
const STALE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Jobs {
    /// One round of dispatching: tickets lost on the bus are sent again, then each pool's
    /// free slots are shared out among the workspaces waiting on it, one job per workspace
    /// in turn ([`fair_order`]), within each workspace's concurrency.
    pub async fn dispatch_once(&self) -> Result<usize, StoreError> {
        let now = now_ms();
        let stale = now - self.config.redispatch_after.as_millis() as i64;
        // A ticket not claimed for this long was lost (a bus restarted): send it again. It
        // replaces the lost one, so it takes no new slot. Looked for at most every
        // [`STALE_CHECK_EVERY`], not in every round (rounds follow every submission).
        let mut sent = 0;
        if self.stale_check_due() {
            let mut resent = Vec::new();
            for job in self.store.stale_dispatches(stale, 200).await? {
                // A pool claimed directly takes its jobs, tickets or not: its workers hear
                // of them.
                if let Some(woken) = self.direct_waker(&job.pool) {
                    woken.notify_one();
                    continue;
                }
                if self.send(&job).await {
                    resent.push((job.id, job.attempt));
                }
            }
            self.store.mark_dispatched(&resent, now).await?;
            sent += resent.len();
        }
        // Tickets sent in this round per workspace: its active jobs count across pools, and
        // the room of every pool was read before any of them went out.
        let mut sent_to = HashMap::new();
        let mut held_back = false;
        for room in self.store.rooms_with_due_jobs(now).await? {
            if let Some(woken) = self.direct_waker(&room.pool) {
                // Its workers claim their jobs themselves: they hear that some are due.
                held_back |= room
                    .waiting
                    .iter()
                    .any(|(_, active)| *active >= self.config.tenant_concurrency);
                woken.notify_one();
                continue;
            }
            let mut tickets = Vec::new();
            let filled = self
                .dispatch_pool(&room, now, &mut sent_to, &mut tickets, &mut held_back)
                .await;
            // A pool's tickets noted in one write, even when its reads failed midway. A
            // ticket sent but not noted, if this process dies now, is sent again next round
            // and refused at its second claim.
            self.store.mark_dispatched(&tickets, now).await?;
            filled?;
            sent += tickets.len();
        }
        self.held_back.store(held_back, Ordering::SeqCst);
        Ok(sent)
    }

    /// Fills `room`'s free slots fairly, adding the jobs whose tickets went out to `sent`
    /// (and counting them per workspace in `sent_to`; `held_back` turns true when a
    /// waiting workspace is at its concurrency). Tickets are sent only for free slots
    /// (the pool's online workers' slots, less what runs or waits on the bus), so the queue
    /// never holds a backlog that a later workspace would wait behind.
    async fn dispatch_pool(
        &self,
        room: &PoolRoom,
        now: i64,
        sent_to: &mut HashMap<TenantId, i64>,
        sent: &mut Vec<(JobId, i64)>,
        held_back: &mut bool,
    ) -> Result<(), StoreError> {
        let pool = room.pool.as_str();
        // With no worker online yet, one ticket waits for the first to arrive.
        let mut free = room.slots.max(1) - room.outstanding;
        if free <= 0 {
            return Ok(());
        }
        let active: HashMap<TenantId, i64> = room.waiting.iter().copied().collect();
        let last = self
            .last_served
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(pool)
            .copied();
        let order = fair_order(room.waiting.iter().map(|(t, _)| *t).collect(), last);
        // Each workspace's next jobs, at most as many as could be sent in this round.
        let mut takes = Vec::new();
        for &tenant in &order {
            let busy = active.get(&tenant).copied().unwrap_or(0)
                + sent_to.get(&tenant).copied().unwrap_or(0);
            let left = self.config.tenant_concurrency - busy;
            if left > 0 {
                takes.push((tenant, left.min(free)));
            } else {
                *held_back = true;
            }
        }
        if takes.is_empty() {
            return Ok(());
        }
        let mut next: HashMap<TenantId, VecDeque<JobRecord>> = HashMap::new();
        for job in self.store.due_jobs_of(pool, &takes, now).await? {
            next.entry(job.tenant_id).or_default().push_back(job);
        }
        let mut queues: Vec<VecDeque<JobRecord>> = takes
            .iter()
            .filter_map(|(tenant, _)| next.remove(tenant))
            .collect();
        while free > 0 && queues.iter().any(|q| !q.is_empty()) {
            for queue in queues.iter_mut() {
                if free == 0 {
                    break;
                }
                let Some(job) = queue.pop_front() else {
                    continue;
                };
                if self.send(&job).await {
                    free -= 1;
                    sent.push((job.id, job.attempt));
                    *sent_to.entry(job.tenant_id).or_default() += 1;
                    self.last_served
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(pool.to_owned(), job.tenant_id);
                }
            }
        }
        Ok(())
    }

    /// Whether lost tickets are to be looked for now (then not again for a while).
    fn stale_check_due(&self) -> bool {
        let mut checked = self.stale_checked.lock().unwrap_or_else(|p| p.into_inner());
        let due = checked.is_none_or(|at| at.elapsed() >= STALE_CHECK_EVERY);
        if due {
            *checked = Some(std::time::Instant::now());
        }
        due
    }

    /// Puts `job`'s ticket on its queue; `false` if the bus refused (the next round tries
    /// again).
    async fn send(&self, job: &JobRecord) -> bool {
        if let Err(e) = self.send_ticket(job).await {
            tracing::warn!(job = %job.id, error = %e, "could not put the job on its queue; will retry");
            return false;
        }
        true
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

/// The order in which waiting workspaces are served: round robin, starting with the one
/// after `last` (the workspace served last), so every workspace with work gets a slot in
/// turn however much the others have queued.
pub(super) fn fair_order(mut waiting: Vec<TenantId>, last: Option<TenantId>) -> Vec<TenantId> {
    waiting.sort();
    waiting.dedup();
    if let Some(last) = last {
        let start = waiting.partition_point(|t| *t <= last);
        waiting.rotate_left(start);
    }
    waiting
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspaces_take_turns_after_the_last_served() {
        let mut ids: Vec<TenantId> = (0..4).map(|_| TenantId::new()).collect();
        ids.sort();
        let [a, b, c, d] = [ids[0], ids[1], ids[2], ids[3]];
        assert_eq!(fair_order(vec![c, a, b], None), vec![a, b, c]);
        assert_eq!(fair_order(vec![a, b, c], Some(a)), vec![b, c, a]);
        assert_eq!(fair_order(vec![a, b, c], Some(c)), vec![a, b, c]);
        // The last served need not be waiting any more.
        assert_eq!(fair_order(vec![a, c, d], Some(b)), vec![c, d, a]);
        assert_eq!(fair_order(vec![], Some(b)), Vec::<TenantId>::new());
    }
}
