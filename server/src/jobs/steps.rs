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
    /// it waits for the batch gathered while the writes under way finish (a caller that
    /// gives up meanwhile still has its step written: the same step again is harmless).
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
                "the journal write of this step was abandoned".into(),
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
                // Should this task end midway (its runtime stopping), its write ends too.
                let mut draining = Draining(Some(state.clone()));
                loop {
                    let batch: Vec<Pending> = {
                        let mut state = lock(&state);
                        if state.waiting.is_empty() {
                            // In the same lock as the look: a step queued after it finds
                            // a write free.
                            state.writing -= 1;
                            draining.0 = None;
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

/// A drain task's write under way, ended on drop unless the task ended it itself. What is
/// still queued then is written after the next caller's own write.
struct Draining(Option<Arc<Mutex<Gathering>>>);

impl Drop for Draining {
    fn drop(&mut self) {
        if let Some(state) = self.0.take() {
            lock(&state).writing -= 1;
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

/// Writes `batch` in one statement and answers each of its callers. Should the statement
/// fail, each step is tried alone, so one step's failure is not the others'.
async fn write(store: &Store, async_commit: bool, batch: Vec<Pending>) {
    let (records, answers): (Vec<StepRecord>, Vec<_>) = batch.into_iter().unzip();
    let written = match store.record_steps(&records, async_commit).await {
        Ok(written) => written.into_iter().map(Ok).collect(),
        Err(error) if records.len() == 1 => vec![Err(error.to_string())],
        Err(_) => {
            let mut each = Vec::with_capacity(records.len());
            for record in &records {
                each.push(
                    store
                        .record_steps(std::slice::from_ref(record), async_commit)
                        .await
                        .map(|w| w.first().copied().unwrap_or(false))
                        .map_err(|e| e.to_string()),
                );
            }
            each
        }
    };
    for (answer, written) in answers.into_iter().zip(written) {
        let _ = answer.send(written);
    }
}
