//! The durable-execution core: a run is a journal of steps. Each step's result is recorded
//! before anything that depends on it starts; a run resumed after a crash replays its
//! journal and never executes a completed step again. Recording is fenced by the run's
//! attempt, so a worker that lost the run cannot write into it.
//!
//! This crate knows nothing of HTTP, the bus or the store: a [`Journal`] is where entries
//! go (over the bus to the control plane's store in `workers::journal`; in memory here), and
//! a [`Run`] is what executing code asks ("has this step finished? then give me its
//! result; else run it and record it"). Pipelines use it for their nodes; entities'
//! workflows will use it for theirs.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// It produced its output.
    Succeeded,
    /// It failed for good (its retries are spent).
    Failed,
}

/// One recorded step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The step's key, unique in the run (a pipeline's node id).
    pub key: String,
    /// How it ended.
    pub status: StepStatus,
    /// Its output (JSON; `null` for a failed step).
    #[serde(default)]
    pub output: serde_json::Value,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Which way it continued, for a step that chooses (a branch's `true` or `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    /// Attempts it took.
    pub attempts: u32,
    /// When its first attempt started (Unix ms).
    pub started_at: i64,
    /// When it finished (Unix ms).
    pub finished_at: i64,
    /// What it logged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
}

/// Why an entry was not recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The run is no longer this attempt's (its lease passed to another worker, or the run
    /// was cancelled or deleted): stop without writing anything more.
    #[error("the run is no longer this worker's")]
    Lost,
    /// The journal could not be reached; recording may be tried again.
    #[error("the journal is unreachable: {0}")]
    Unavailable(String),
}

/// Where a run's entries are kept.
#[async_trait::async_trait]
pub trait Journal: Send + Sync {
    /// Records a finished step, durably, before the call returns. Recording the same key
    /// twice keeps the later entry (a retried request after a lost answer).
    async fn record(&self, entry: &Entry) -> Result<(), JournalError>;
    /// Says that a step started (for live views; not durable, may be lost).
    async fn started(&self, key: &str);
}

/// How long [`Run::step`] keeps trying to record an entry the journal could not take.
pub const RECORD_PATIENCE: Duration = Duration::from_secs(60);

/// A run being executed: the entries recorded so far (replayed ones first) and the journal
/// new ones go to.
#[derive(Clone)]
pub struct Run {
    journal: Arc<dyn Journal>,
    entries: Arc<Mutex<BTreeMap<String, Entry>>>,
}

impl Run {
    /// A run resumed with the entries its journal already holds.
    pub fn resume(journal: Arc<dyn Journal>, replayed: Vec<Entry>) -> Run {
        Run {
            journal,
            entries: Arc::new(Mutex::new(
                replayed.into_iter().map(|e| (e.key.clone(), e)).collect(),
            )),
        }
    }

    /// The entry of `key`, when that step has finished.
    pub fn recorded(&self, key: &str) -> Option<Entry> {
        self.lock().get(key).cloned()
    }

    /// Every recorded entry, by key.
    pub fn entries(&self) -> BTreeMap<String, Entry> {
        self.lock().clone()
    }

    /// The step `key`: its recorded entry when it has finished before (replay: `execute` is
    /// not called), else `execute`'s entry, recorded before it is returned. An entry the
    /// journal cannot take is retried with backoff for [`RECORD_PATIENCE`]; a lost run is
    /// an error at once.
    pub async fn step<F, Fut>(&self, key: &str, execute: F) -> Result<Entry, JournalError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Entry>,
    {
        if let Some(done) = self.recorded(key) {
            return Ok(done);
        }
        self.journal.started(key).await;
        let mut entry = execute().await;
        entry.key = key.to_owned();
        self.record(entry).await
    }

    /// Records an entry made outside [`Run::step`] (with the same patience).
    pub async fn record(&self, entry: Entry) -> Result<Entry, JournalError> {
        let give_up = tokio::time::Instant::now() + RECORD_PATIENCE;
        let mut wait = Duration::from_millis(50);
        loop {
            match self.journal.record(&entry).await {
                Ok(()) => break,
                Err(JournalError::Lost) => return Err(JournalError::Lost),
                Err(e @ JournalError::Unavailable(_)) => {
                    if tokio::time::Instant::now() + wait > give_up {
                        return Err(e);
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
        self.lock().insert(entry.key.clone(), entry.clone());
        Ok(entry)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A journal held in memory: for runs nothing needs to survive (a script tried from the
/// editor, the engine's own tests). It can be told to refuse (as a fenced-off attempt is)
/// or to be unreachable for a number of calls.
#[derive(Default)]
pub struct MemoryJournal {
    state: Mutex<MemoryState>,
}

#[derive(Default)]
struct MemoryState {
    entries: Vec<Entry>,
    started: Vec<String>,
    lost: bool,
    unavailable_for: u32,
}

impl MemoryJournal {
    /// What was recorded, in order.
    pub fn entries(&self) -> Vec<Entry> {
        self.lock().entries.clone()
    }

    /// The steps announced as started, in order.
    pub fn started_steps(&self) -> Vec<String> {
        self.lock().started.clone()
    }

    /// From now on every record is refused as [`JournalError::Lost`].
    pub fn lose(&self) {
        self.lock().lost = true;
    }

    /// The next `calls` records fail as unreachable.
    pub fn fail_next(&self, calls: u32) {
        self.lock().unavailable_for = calls;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait::async_trait]
impl Journal for MemoryJournal {
    async fn record(&self, entry: &Entry) -> Result<(), JournalError> {
        let mut state = self.lock();
        if state.lost {
            return Err(JournalError::Lost);
        }
        if state.unavailable_for > 0 {
            state.unavailable_for -= 1;
            return Err(JournalError::Unavailable("told to fail".to_owned()));
        }
        state.entries.retain(|e| e.key != entry.key);
        state.entries.push(entry.clone());
        Ok(())
    }

    async fn started(&self, key: &str) {
        self.lock().started.push(key.to_owned());
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn done(value: i64) -> Entry {
        Entry {
            key: String::new(),
            status: StepStatus::Succeeded,
            output: serde_json::json!(value),
            error: None,
            choice: None,
            attempts: 1,
            started_at: 1,
            finished_at: 2,
            logs: vec![],
        }
    }

    #[tokio::test]
    async fn a_step_is_recorded_before_it_is_returned_and_never_runs_twice() {
        let journal = Arc::new(MemoryJournal::default());
        let run = Run::resume(journal.clone(), vec![]);
        let calls = AtomicU32::new(0);
        let first = run
            .step("a", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                done(7)
            })
            .await
            .expect("recorded");
        assert_eq!(first.key, "a");
        assert_eq!(journal.entries(), vec![first.clone()]);
        assert_eq!(journal.started_steps(), vec!["a"]);
        // Resumed from the journal (another worker, after a crash): replayed, not re-run.
        let resumed = Run::resume(journal.clone(), journal.entries());
        let again = resumed
            .step("a", || async {
                calls.fetch_add(1, Ordering::SeqCst);
                done(8)
            })
            .await
            .expect("replayed");
        assert_eq!(again.output, serde_json::json!(7));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_lost_run_records_nothing_and_an_unreachable_journal_is_retried() {
        let journal = Arc::new(MemoryJournal::default());
        let run = Run::resume(journal.clone(), vec![]);
        journal.fail_next(2);
        run.step("a", || async { done(1) }).await.expect("retried");
        assert_eq!(journal.entries().len(), 1);
        journal.lose();
        assert_eq!(
            run.step("b", || async { done(2) }).await,
            Err(JournalError::Lost)
        );
        assert!(run.recorded("b").is_none());
        assert_eq!(journal.entries().len(), 1);
    }
}
