//! Pools whose workers claim their jobs themselves (`workers::link::Claims`): workers in
//! this process on an in-process bus, where no other worker could take a ticket. Free slots
//! ask the store for their pool's next due jobs ([`Store::claim_next_jobs`]: workspaces
//! in turn, within each one's concurrency; as many as slots are free, in one statement)
//! instead of waiting for tickets, so a job costs no dispatch round, ticket, queue
//! hand-off or claim request of its own. The dispatcher sends these pools no tickets; its
//! rounds only wake their workers when jobs are due there (a retry's or a sleeper's time
//! came, a workspace's slot freed in another pool).
//!
//! [`Store::claim_next_jobs`]: crate::store::Store::claim_next_jobs

use super::store::NextJobs;
use super::Jobs;
use crate::clock::now_ms;
use crate::store::StoreError;
use shared::ids::TenantId;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::Notify;
use workers::link::ClaimedJob;
use workers::subjects;

/// A pool served so in this process.
pub(super) struct DirectPool {
    /// What wakes its workers.
    woken: Arc<Notify>,
    /// How many workers serve it.
    workers: usize,
    /// Whether its last claim took fewer jobs than slots were free (its workers wait for
    /// a wake, which a freed slot then gives: the job waiting may have been its
    /// workspace's next).
    short: bool,
}

/// The pools served so in this process, by name.
pub(super) type DirectPools = std::sync::Mutex<HashMap<String, DirectPool>>;

impl Jobs {
    /// Notes that a worker of `pool` claims its jobs itself from now on; answers what
    /// wakes it when jobs may have come due.
    pub fn serve_directly(&self, pool: &str) -> Arc<Notify> {
        let mut direct = self.direct.lock().unwrap_or_else(|p| p.into_inner());
        let entry = direct.entry(pool.to_owned()).or_insert_with(|| DirectPool {
            woken: Arc::new(Notify::new()),
            workers: 0,
            short: false,
        });
        entry.workers += 1;
        entry.woken.clone()
    }

    /// Notes that a worker of `pool` stopped claiming its jobs itself: once none does, the
    /// pool gets tickets again.
    pub fn stop_serving_directly(&self, pool: &str) {
        let mut direct = self.direct.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = direct.get_mut(pool) {
            entry.workers = entry.workers.saturating_sub(1);
            if entry.workers == 0 {
                direct.remove(pool);
            }
        }
    }

    /// What wakes `pool`'s workers, when they claim their jobs themselves.
    pub(super) fn direct_waker(&self, pool: &str) -> Option<Arc<Notify>> {
        self.direct
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(pool)
            .map(|p| p.woken.clone())
    }

    /// Whether `pool`'s workers claim their jobs themselves.
    pub fn claims_directly(&self, pool: &str) -> bool {
        self.direct_waker(pool).is_some()
    }

    /// Tells whoever hands out `pool`'s jobs that one may be due now (after a job was
    /// stored or queued again): the pool's own workers when they claim themselves, else
    /// the dispatcher.
    pub fn wake(&self, pool: &str) {
        match self.direct_waker(pool) {
            Some(woken) => woken.notify_one(),
            None => self.wake.notify_one(),
        }
    }

    /// After an attempt of a `pool` job ended and freed its slot. A ticketed pool's slot
    /// goes out in a dispatcher round. A pool whose workers claim themselves: a worker
    /// whose slots were all busy claims as its slot frees; one waiting after a short claim
    /// is woken (its workspace's next job may have waited on this slot). A round runs too
    /// when the last one saw a workspace's jobs wait on its concurrency (in any pool).
    pub(super) fn slot_freed(&self, pool: &str) {
        let waiting = self
            .direct
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(pool)
            .map(|p| p.short.then(|| p.woken.clone()));
        match waiting {
            None => self.wake.notify_one(),
            Some(waiting) => {
                if let Some(woken) = waiting {
                    woken.notify_one();
                }
                if self.held_back.load(Ordering::SeqCst) {
                    self.wake.notify_one();
                }
            }
        }
    }

    /// Notes whether `pool`'s last claim was short (see [`DirectPool::short`]).
    fn claimed_short(&self, pool: &str, short: bool) {
        if let Some(entry) = self
            .direct
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(pool)
        {
            entry.short = short;
        }
    }

    /// Claims up to `at_most` of `pool`'s due jobs for `worker` (see
    /// [`Store::claim_next_jobs`]), listening for each one's cancel before any cancel
    /// could be published, and announces them. Empty when no job can be claimed now.
    ///
    /// [`Store::claim_next_jobs`]: crate::store::Store::claim_next_jobs
    pub async fn claim_next(
        &self,
        pool: &str,
        worker: &str,
        at_most: usize,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        // One claim at a time in this process: each sees the ones before it (the
        // dispatcher's rounds for ticketed pools do not wait for it), and a cancel
        // published for a job just claimed waits until its worker listens ([`Jobs::cancel`]).
        let one_at_a_time = self.claiming.lock().await;
        let now = now_ms();
        let lease_until = now + self.config.lease.as_millis() as i64;
        let after = self
            .last_served
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(pool)
            .copied();
        let next = NextJobs {
            pool,
            worker,
            concurrency: self.config.tenant_concurrency,
            after,
            at_most: i64::try_from(at_most).unwrap_or(i64::MAX),
        };
        let claimed = self.store.claim_next_jobs(&next, now, lease_until).await?;
        self.claimed_short(pool, claimed.len() < at_most);
        if let Some(last) = last_turn(claimed.iter().map(|c| c.record.tenant_id), after) {
            self.last_served
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(pool.to_owned(), last);
        }
        let mut listening = Vec::with_capacity(claimed.len());
        for one in &claimed {
            let (tenant, job) = (one.record.tenant_id.to_string(), one.record.id.to_string());
            let cancels = match self.bus.subscribe(&subjects::cancel(&tenant, &job)).await {
                Ok(cancels) => Some(cancels),
                Err(e) => {
                    tracing::warn!(%job, error = %e, "cannot listen for cancellation; heartbeats will carry it");
                    None
                }
            };
            listening.push((tenant, job, cancels));
        }
        drop(one_at_a_time);
        let mut jobs = Vec::with_capacity(claimed.len());
        for (one, (tenant, job, cancels)) in claimed.into_iter().zip(listening) {
            self.announce(&one.record).await;
            jobs.push(ClaimedJob {
                tenant,
                job,
                grant: self.grant(one),
                cancels,
            });
        }
        Ok(jobs)
    }
}

/// The workspace whose turn came last when jobs of `tenants` (one entry per job) were
/// claimed in turns after `after` (see [`Store::claim_next_jobs`]): of those that got the
/// most jobs (the last round's), the latest in the turn order. `None` for no job.
///
/// [`Store::claim_next_jobs`]: crate::store::Store::claim_next_jobs
fn last_turn(tenants: impl Iterator<Item = TenantId>, after: Option<TenantId>) -> Option<TenantId> {
    let mut counts: HashMap<TenantId, usize> = HashMap::new();
    for tenant in tenants {
        *counts.entry(tenant).or_default() += 1;
    }
    // The turn order: the ids after `after`, then the rest, each part in id order (as
    // text, as the statement compares them).
    let after = after.map(|t| t.to_string()).unwrap_or_default();
    counts
        .into_iter()
        .map(|(tenant, n)| {
            let id = tenant.to_string();
            ((n, id <= after, id), tenant)
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, tenant)| tenant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_turn_is_the_last_rounds_latest_workspace() {
        let mut ids: Vec<TenantId> = (0..4).map(|_| TenantId::new()).collect();
        ids.sort_by_key(|t| t.to_string());
        let [a, b, c, d] = [ids[0], ids[1], ids[2], ids[3]];
        assert_eq!(last_turn([].into_iter(), Some(a)), None);
        // Turns a, b, c: c's was last.
        assert_eq!(last_turn([a, b, c].into_iter(), None), Some(c));
        // After b: c, d, a, then c again (d and a had one job each).
        assert_eq!(last_turn([c, d, a, c].into_iter(), Some(b)), Some(c));
        // After c: d, a, b; then d, a.
        assert_eq!(last_turn([d, a, b, d, a].into_iter(), Some(c)), Some(a));
        // After d (the last id): a, b.
        assert_eq!(last_turn([b, a].into_iter(), Some(d)), Some(b));
    }
}
