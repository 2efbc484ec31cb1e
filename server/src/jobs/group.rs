//! Group commit. Every journal step a run finishes is recorded before anything that
//! depends on it starts, and every attempt's end is written before its worker takes the
//! next job, so each waits for a commit; when many report at the same moment, one
//! statement and one commit writes all of them instead of one each. Nothing waits to
//! gather a batch: a report made while no write is under way is written at once, alone, by
//! its caller (no hand-off to another task); reports made while writes are under way
//! gather, and when one ends a task writes them as the next batch.

use crate::store::{Backend, Store, StoreError, StoreResult};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Reports written in one statement at most.
const BATCH: usize = 256;

/// How one kind of report is written, alone or many at once.
#[async_trait::async_trait]
pub(super) trait Batch: Send + Sync + 'static {
    /// A report.
    type Item: Send + Sync + 'static;
    /// What its caller is answered.
    type Answer: Send + 'static;
    /// Writes `items` in one statement, answering each in order.
    async fn write(&self, items: &[Self::Item]) -> StoreResult<Vec<Self::Answer>>;
}

/// A report waiting to be written, and where its answer goes.
type Pending<B> = (
    <B as Batch>::Item,
    oneshot::Sender<Result<<B as Batch>::Answer, String>>,
);

/// Writes the reports its callers make, gathering those made together.
pub(super) struct GroupWriter<B: Batch> {
    batch: Arc<B>,
    /// Batches written at once at most: SQLite has one writer; PostgreSQL commits two at
    /// once (one waits for the disk while the next is sent).
    writers: usize,
    state: Arc<Mutex<Gathering<B>>>,
}

/// The reports waiting for a write to end, and how many writes are under way.
struct Gathering<B: Batch> {
    writing: usize,
    waiting: Vec<Pending<B>>,
}

impl<B: Batch> GroupWriter<B> {
    /// A writer of `batch`'s reports to `store`.
    pub(super) fn new(store: &Store, batch: B) -> GroupWriter<B> {
        let writers = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
        };
        GroupWriter {
            batch: Arc::new(batch),
            writers,
            state: Arc::new(Mutex::new(Gathering {
                writing: 0,
                waiting: Vec::new(),
            })),
        }
    }

    /// Writes `item`. With a write free, the caller writes it at once, alone; else it
    /// waits for the batch gathered while the writes under way finish (a caller that gives
    /// up meanwhile still has its report written: reports are fenced, so the same report
    /// again is harmless).
    pub(super) async fn write(&self, item: B::Item) -> StoreResult<B::Answer> {
        let turn = {
            let mut state = lock(&self.state);
            if state.writing < self.writers {
                state.writing += 1;
                Ok(item)
            } else {
                let (answer, answered) = oneshot::channel();
                state.waiting.push((item, answer));
                Err(answered)
            }
        };
        let answered = match turn {
            Ok(item) => {
                // Ends this write however the caller ends (even dropped midway).
                let _writing = Writing(self);
                let mut answers = self.batch.write(std::slice::from_ref(&item)).await?;
                return answers.pop().ok_or_else(|| {
                    StoreError::Corrupt("a group write answered nothing for its report".into())
                });
            }
            Err(answered) => answered,
        };
        match answered.await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(StoreError::Unavailable(error)),
            Err(_) => Err(StoreError::Unavailable(
                "the group write of this report was abandoned".into(),
            )),
        }
    }

    /// A write ended: the reports that gathered meanwhile are written by a task of their
    /// own (the caller has its answer), batch after batch until none wait.
    fn after_write(&self) {
        let mut state = lock(&self.state);
        let runtime = tokio::runtime::Handle::try_current();
        if state.waiting.is_empty() || runtime.is_err() {
            state.writing -= 1;
            return;
        }
        drop(state);
        let (batch, state) = (self.batch.clone(), self.state.clone());
        if let Ok(runtime) = runtime {
            runtime.spawn(async move {
                // Should this task end midway (its runtime stopping), its write ends too.
                let mut draining = Draining(Some(state.clone()));
                loop {
                    let pending: Vec<Pending<B>> = {
                        let mut state = lock(&state);
                        if state.waiting.is_empty() {
                            // In the same lock as the look: a report made after it finds
                            // a write free.
                            state.writing -= 1;
                            draining.0 = None;
                            return;
                        }
                        let take = state.waiting.len().min(BATCH);
                        state.waiting.drain(..take).collect()
                    };
                    write_gathered(batch.as_ref(), pending).await;
                }
            });
        }
    }
}

/// A drain task's write under way, ended on drop unless the task ended it itself. What is
/// still queued then is written after the next caller's own write.
struct Draining<B: Batch>(Option<Arc<Mutex<Gathering<B>>>>);

impl<B: Batch> Drop for Draining<B> {
    fn drop(&mut self) {
        if let Some(state) = self.0.take() {
            lock(&state).writing -= 1;
        }
    }
}

/// A caller's own write under way; when it ends, [`GroupWriter::after_write`].
struct Writing<'a, B: Batch>(&'a GroupWriter<B>);

impl<B: Batch> Drop for Writing<'_, B> {
    fn drop(&mut self) {
        self.0.after_write();
    }
}

fn lock<B: Batch>(state: &Mutex<Gathering<B>>) -> std::sync::MutexGuard<'_, Gathering<B>> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes `pending` in one statement and answers each of its callers. Should the statement
/// fail, each report is tried alone, so one report's failure is not the others'.
async fn write_gathered<B: Batch>(batch: &B, pending: Vec<Pending<B>>) {
    let (items, answers): (Vec<B::Item>, Vec<_>) = pending.into_iter().unzip();
    let written: Vec<Result<B::Answer, String>> = match batch.write(&items).await {
        Ok(written) if written.len() == items.len() => written.into_iter().map(Ok).collect(),
        Ok(_) => items
            .iter()
            .map(|_| Err("a group write answered a batch wrongly".to_owned()))
            .collect(),
        Err(error) if items.len() == 1 => vec![Err(error.to_string())],
        Err(_) => {
            let mut each = Vec::with_capacity(items.len());
            for item in &items {
                each.push(match batch.write(std::slice::from_ref(item)).await {
                    Ok(mut answers) => answers
                        .pop()
                        .ok_or_else(|| "a group write answered nothing".to_owned()),
                    Err(e) => Err(e.to_string()),
                });
            }
            each
        }
    };
    for (answer, written) in answers.into_iter().zip(written) {
        let _ = answer.send(written);
    }
}
