//! Group commit of journal entries. Every running job records each finished step before
//! the steps that depend on it start, so step records are the store's hottest write. A
//! record joins a queue; whoever holds a writer slot takes everything queued (up to
//! [`MAX_BATCH`]) and writes it in one fenced statement, so a hundred runs finishing
//! steps at once cost a few statements, not a hundred (on SQLite they would otherwise
//! queue one by one on its single writer connection). A lone record is written at once,
//! as before: nothing waits to fill a batch.

use super::store::StepRecord;
use crate::store::{Backend, Store, StoreError, StoreResult};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, Semaphore};

/// The most records one statement writes (7 parameters each, far below either engine's
/// limit, and few enough distinct statement texts for the prepared-statement cache).
pub(super) const MAX_BATCH: usize = 64;

/// Writes journal entries in batches (see the module's comment).
pub(super) struct StepWriter {
    queue: Mutex<Vec<Queued>>,
    /// Writer slots: SQLite has one writer connection; PostgreSQL takes several batches
    /// at once on its pool.
    slots: Arc<Semaphore>,
    async_commit: bool,
}

struct Queued {
    record: StepRecord,
    done: oneshot::Sender<StoreResult<bool>>,
}

impl StepWriter {
    /// A writer for `backend`; `async_commit` as in `JobsConfig::journal_async_commit`.
    pub(super) fn new(backend: Backend, async_commit: bool) -> StepWriter {
        let slots = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        StepWriter {
            queue: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(slots)),
            async_commit,
        }
    }

    /// Records `record`, fenced (see [`Store::record_steps`]): `true` when written,
    /// `false` when the attempt no longer holds its job.
    pub(super) async fn record(&self, store: &Store, record: StepRecord) -> StoreResult<bool> {
        let (done, mut answer) = oneshot::channel();
        self.lock().push(Queued { record, done });
        loop {
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
                return Err(closed());
            };
            // A writer that held the slot meanwhile may have written this record already.
            match answer.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => return Err(closed()),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let batch = self.take_batch();
            if batch.is_empty() {
                // Another slot holder took it and is writing it now.
                drop(slot);
                return answer.await.unwrap_or_else(|_| Err(closed()));
            }
            // The batch holds others' records too: it is written to the end even if this
            // caller goes away meanwhile (its run cancelled), and holds the slot till then.
            let (store, async_commit) = (store.clone(), self.async_commit);
            let _ = tokio::spawn(async move {
                write(&store, batch, async_commit).await;
                drop(slot);
            })
            .await;
            if let Ok(result) = answer.try_recv() {
                return result;
            }
            // This record was left for a later batch (its key was already in this one).
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Up to [`MAX_BATCH`] queued records, oldest first, at most one per (job, key): one
    /// statement cannot update a row twice, and the later record of a key must win, so a
    /// second record of the same key waits for the next batch.
    fn take_batch(&self) -> Vec<Queued> {
        let mut queue = self.lock();
        let mut keys = HashSet::new();
        let mut batch = Vec::new();
        let mut rest = Vec::new();
        for queued in queue.drain(..) {
            let key = (queued.record.job, queued.record.key.clone());
            if batch.len() < MAX_BATCH && rest.is_empty() && keys.insert(key) {
                batch.push(queued);
            } else {
                rest.push(queued);
            }
        }
        *queue = rest;
        batch
    }
}

/// Writes `batch` and answers each record. When the batch fails as a whole, each
/// record is tried alone, so one bad record cannot fail the others and each gets its
/// own answer.
async fn write(store: &Store, batch: Vec<Queued>, async_commit: bool) {
    tracing::trace!(records = batch.len(), "writing journal entries");
    let records: Vec<&StepRecord> = batch.iter().map(|q| &q.record).collect();
    match store.record_steps(&records, async_commit).await {
        Ok(written) => {
            for (queued, ok) in batch.into_iter().zip(written) {
                let _ = queued.done.send(Ok(ok));
            }
        }
        Err(e) if batch.len() == 1 => {
            if let Some(queued) = batch.into_iter().next() {
                let _ = queued.done.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(records = batch.len(), error = %e, "a batch of journal entries failed; writing them one by one");
            for queued in batch {
                let result = store
                    .record_steps(&[&queued.record], async_commit)
                    .await
                    .map(|written| written.first().copied().unwrap_or(false));
                let _ = queued.done.send(result);
            }
        }
    }
}

fn closed() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}
