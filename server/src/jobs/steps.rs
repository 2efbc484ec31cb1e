//! Group commit of journal entries. Every step a run finishes is recorded before anything
//! that depends on it starts, so each waits for a commit; when many runs report steps at
//! the same moment, one statement and one commit records all of them
//! ([`Store::record_steps`]) instead of one each. Nothing waits to gather a batch: a step
//! reported while no write is under way is written at once, alone, by its caller (no hand-off
//! to another task); steps reported while writes are under way gather, and when one ends
//! a task writes them as the next batch.

use super::store::StepRecord;
use crate::store::{Backend, Store, StoreError, StoreResult};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Steps written in one statement at most.
const BATCH: usize = 256;

/// A step waiting to be written, and where its answer goes.
type Pending = (StepRecord, oneshot::Sender<Result<bool, String>>);

/// Writes the steps its callers report, gathering those reported together.
pub(super) struct StepWriter {
    store: Store,
    async_commit: bool,
    /// Batches written at once at most: SQLite has one writer; PostgreSQL commits two at
    /// once (one waits for the disk while the next is sent).
    writers: usize,
    state: Arc<Mutex<Gathering>>,
}

/// The steps waiting for a write to end, and how many writes are under way.
#[derive(Default)]
struct Gathering {
    writing: usize,
    waiting: Vec<Pending>,
}

impl StepWriter {
    /// A writer to `store`, its commits not waiting for the disk with `async_commit` (see
    /// `JobsConfig::journal_async_commit`).
    pub(super) fn new(store: Store, async_commit: bool) -> StepWriter {
        let writers = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        };
        StepWriter {
            store,
            async_commit,
            writers,
            state: Arc::new(Mutex::new(Gathering::default())),
        }
    }

    /// Records `step`, fenced (see [`Store::record_steps`]): `false` when its attempt no
    /// longer holds the job. With a write free, the caller writes it at once, alone; else
    /// it waits for the batch gathered while the writes under way finish.
    pub(super) async fn record(&self, step: StepRecord) -> StoreResult<bool> {
        let turn = {
            let mut state = lock(&self.state);
            if state.writing < self.writers {
                state.writing += 1;
                Ok(step)
            } else {
                let (answer, answered) = oneshot::channel();
                state.waiting.push((step, answer));
                Err(answered)
            }
        };
        let answered = match turn {
            Ok(step) => {
                // Ends this write however the caller ends (even dropped midway).
                let _writing = Writing(self);
                return self
                    .store
                    .record_steps(std::slice::from_ref(&step), self.async_commit)
                    .await
                    .map(|w| w.first().copied().unwrap_or(false));
            }
            Err(answered) => answered,
        };
        match answered.await {
            Ok(Ok(written)) => Ok(written),
            Ok(Err(error)) => Err(StoreError::Unavailable(error)),
            Err(_) => Err(StoreError::Unavailable(
                "the journal write was abandoned".into(),
            )),
        }
    }

    /// A write ended: the steps that gathered meanwhile are written by a task of their own
    /// (the caller has its answer), batch after batch until none wait.
    fn after_write(&self) {
        let mut state = lock(&self.state);
        let runtime = tokio::runtime::Handle::try_current();
        if state.waiting.is_empty() || runtime.is_err() {
            state.writing -= 1;
            return;
        }
        drop(state);
        let (store, async_commit, state) =
            (self.store.clone(), self.async_commit, self.state.clone());
        if let Ok(runtime) = runtime {
            runtime.spawn(async move {
                loop {
                    let batch: Vec<Pending> = {
                        let mut state = lock(&state);
                        if state.waiting.is_empty() {
                            state.writing -= 1;
                            return;
                        }
                        let take = state.waiting.len().min(BATCH);
                        state.waiting.drain(..take).collect()
                    };
                    write(&store, async_commit, batch).await;
                }
            });
        }
    }
}

/// A caller's own write under way; when it ends, [`StepWriter::after_write`].
struct Writing<'a>(&'a StepWriter);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.0.after_write();
    }
}

fn lock(state: &Mutex<Gathering>) -> std::sync::MutexGuard<'_, Gathering> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes `batch` in one statement and answers each of its callers.
async fn write(store: &Store, async_commit: bool, batch: Vec<Pending>) {
    let (records, answers): (Vec<StepRecord>, Vec<_>) = batch.into_iter().unzip();
    match store.record_steps(&records, async_commit).await {
        Ok(written) => {
            for (answer, written) in answers.into_iter().zip(written) {
                let _ = answer.send(Ok(written));
            }
        }
        Err(error) => {
            let error = error.to_string();
            for answer in answers {
                let _ = answer.send(Err(error.clone()));
            }
        }
    }
}
