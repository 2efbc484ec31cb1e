//! What a running job holds: its log (shipped in batches by the runtime), its latest
//! progress, and the signal that asks it to stop.

use crate::clock::now_ms;
use crate::protocol::LogLine;
use shared::jobs::JobProgress;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Most unshipped lines a job keeps while the control plane is unreachable; older ones are
/// dropped (and the drop is logged in their place).
const MAX_PENDING_LINES: usize = 20_000;

/// What a running job can do: write log lines, record steps in its journal, and learn that
/// it should stop.
#[derive(Clone)]
pub struct JobContext {
    lines: Arc<Mutex<Vec<LogLine>>>,
    seq: Arc<AtomicI64>,
    stop: watch::Receiver<bool>,
    run: durable::Run,
    attempt: i64,
    /// The latest progress not yet shipped.
    pub(crate) progress: Arc<Mutex<Option<JobProgress>>>,
}

impl JobContext {
    /// The context of an attempt whose earlier attempts wrote log lines up to `log_seq`.
    /// Its journal is `run` (the steps recorded so far replayed in it).
    pub(crate) fn continuing(
        log_seq: i64,
        stop: watch::Receiver<bool>,
        run: durable::Run,
        attempt: i64,
    ) -> JobContext {
        JobContext {
            lines: Arc::default(),
            seq: Arc::new(AtomicI64::new(log_seq)),
            stop,
            run,
            attempt,
            progress: Arc::default(),
        }
    }

    /// Which attempt this is, from 1.
    pub fn attempt(&self) -> i64 {
        self.attempt
    }

    /// A context whose log and journal are kept in memory and whose stop signal is `stop`
    /// (tests, local runs).
    pub fn detached(stop: watch::Receiver<bool>) -> JobContext {
        JobContext::journalled(
            stop,
            durable::Run::resume(Arc::new(durable::MemoryJournal::default()), vec![]),
        )
    }

    /// A context whose log is kept in memory and whose journal is `run`.
    pub fn journalled(stop: watch::Receiver<bool>, run: durable::Run) -> JobContext {
        JobContext {
            lines: Arc::default(),
            seq: Arc::new(AtomicI64::new(0)),
            stop,
            run,
            attempt: 1,
            progress: Arc::default(),
        }
    }

    /// The job's journal: steps recorded by earlier attempts are replayed from it, and a
    /// step recorded through it is durable (fenced by this attempt) before it returns.
    pub fn run(&self) -> &durable::Run {
        &self.run
    }

    /// Reports progress: the phase, and how much of it is done. Only the latest report is
    /// shipped, with the next log batch.
    pub fn progress(&self, phase: &str, done: u64, total: u64) {
        *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = Some(JobProgress {
            phase: phase.to_owned(),
            done,
            total,
        });
    }

    /// The progress reported and not yet shipped.
    pub fn take_progress(&self) -> Option<JobProgress> {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Writes a log line.
    pub fn log(&self, line: impl Into<String>) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() >= MAX_PENDING_LINES {
            // The control plane has been unreachable for long: keep the newest lines.
            let dropped = lines.len() + 1 - MAX_PENDING_LINES;
            lines.drain(..dropped);
        }
        lines.push(LogLine {
            seq,
            at: now_ms(),
            line: line.into(),
        });
    }

    /// Whether the job has been asked to stop (cancelled, or its lease was lost).
    pub fn should_stop(&self) -> bool {
        *self.stop.borrow()
    }

    /// Waits until the job is asked to stop.
    pub async fn stopped(&self) {
        let mut stop = self.stop.clone();
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                // Nobody can ask any more: never.
                std::future::pending::<()>().await;
            }
        }
    }

    /// The lines written and not yet shipped.
    pub fn take_lines(&self) -> Vec<LogLine> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts lines that could not be shipped back in front of the newer ones.
    pub(crate) fn put_back(&self, mut unsent: Vec<LogLine>) {
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        unsent.append(&mut lines);
        *lines = unsent;
    }
}
