//! What the control plane and workers say to each other over the bus, as JSON. Workers reach
//! the control plane only through these messages; the store is the control plane's alone.
//!
//! A job's life on the bus:
//! 1. the control plane puts a [`Ticket`] on the pool's work queue (`sy.work.{pool}`);
//! 2. a worker pulls it and asks to [`Claim`] the job (request on the job's `claim`
//!    subject); the answer grants an attempt under a lease, or refuses (taken, cancelled);
//!    either way the worker then acks the ticket: from here the store's lease rules;
//! 3. while it runs, the worker sends [`Heartbeat`]s (extending the lease; the answer says
//!    whether to stop) and [`LogBatch`]es (acknowledged, idempotent by sequence number);
//! 4. it reports the [`Outcome`] with [`Complete`]; the store records it only if the worker
//!    still holds that attempt's lease.
//!
//! A job that runs in steps (a pipeline run) also records each finished step with a
//! [`StepReport`], fenced the same way; the claim's answer carries the steps recorded
//! before, so a resumed attempt replays them instead of running them again.

use serde::{Deserialize, Serialize};

// The subjects these messages travel on are built in `crate::subjects`.

/// A job waiting on a pool's queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The job's workspace.
    pub tenant_id: String,
    /// The job.
    pub job_id: String,
}

/// A worker asks for a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The asking worker.
    pub worker_id: String,
}

/// The answer to a [`Claim`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum ClaimReply {
    /// Run it: this attempt is yours until the lease runs out (keep it with heartbeats).
    Granted(Grant),
    /// Do not run it (taken by another worker, cancelled, or finished).
    Refused {
        /// Why.
        reason: String,
    },
}

/// An attempt granted: what a worker runs and resumes from (in a claim's answer, or
/// claimed straight from the store by a worker inside the control plane).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// The attempt number (fences everything the worker reports).
    pub attempt: i64,
    /// What to run.
    pub kind: String,
    /// Its input, JSON.
    pub payload: String,
    /// Lease length in milliseconds; heartbeat well within it.
    pub lease_ms: u64,
    /// The log sequence to continue from (earlier attempts' lines keep theirs).
    pub log_seq: i64,
    /// The steps earlier attempts recorded in the job's journal (replayed, not re-run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journal: Vec<durable::Entry>,
}

/// A worker still runs an attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The worker.
    pub worker_id: String,
    /// The attempt it runs.
    pub attempt: i64,
}

/// The answer to a [`Heartbeat`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    /// The lease was extended; `false` means the attempt is no longer this worker's.
    pub keep: bool,
    /// Someone asked to stop the job.
    pub cancel: bool,
}

/// Log lines of an attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogBatch {
    /// The worker that wrote them (only the lease holder's lines are kept).
    pub worker_id: String,
    /// The attempt that wrote them.
    pub attempt: i64,
    /// The lines, each with its sequence number and time (ms).
    pub lines: Vec<LogLine>,
    /// The attempt's latest progress, when it changed since the last batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<shared::jobs::JobProgress>,
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Position in the job's log.
    pub seq: i64,
    /// When it was written (Unix ms).
    pub at: i64,
    /// The text.
    pub line: String,
}

/// How an attempt ended, as the worker saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Done, with a JSON result.
    Succeeded {
        /// The result, JSON.
        result: serde_json::Value,
    },
    /// Failed.
    Failed {
        /// What went wrong.
        error: String,
        /// Whether running it again could help (bad input cannot).
        retryable: bool,
    },
    /// Stopped because it was asked to.
    Cancelled,
    /// Waits until `until` (Unix ms) holding no worker: the job is queued again for then,
    /// without spending an attempt, and resumes from its journal (a pipeline's long delay).
    Sleeping {
        /// When to run again.
        until: i64,
    },
}

/// A worker reports how an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complete {
    /// The worker.
    pub worker_id: String,
    /// The attempt.
    pub attempt: i64,
    /// How it ended.
    pub outcome: Outcome,
}

/// A running attempt records a finished step in its job's journal; the store takes it only
/// from the lease holder of that attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// The worker.
    pub worker_id: String,
    /// The attempt that ran the step.
    pub attempt: i64,
    /// The step.
    pub entry: durable::Entry,
}

/// A draining worker hands an unfinished attempt back: the job runs again at once, and the
/// attempt does not count against its attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The worker.
    pub worker_id: String,
    /// The attempt it gives up.
    pub attempt: i64,
}

/// The answer to [`Complete`] (and to [`LogBatch`] and [`Release`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// Whether the store took it (a replaced attempt's report is refused).
    pub recorded: bool,
}

/// A worker's presence, published every few seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Worker id.
    pub worker_id: String,
    /// Its pool.
    pub pool: String,
    /// Its host.
    pub host: String,
    /// `online` or `draining`.
    pub status: String,
    /// Jobs it runs now.
    pub running: u32,
    /// Jobs it may run at once.
    pub concurrency: u32,
    /// When it started (Unix ms).
    pub started_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_tagged_json() {
        let granted = ClaimReply::Granted(Grant {
            attempt: 1,
            kind: "diagnostic".into(),
            payload: "{}".into(),
            lease_ms: 30_000,
            log_seq: 0,
            journal: vec![],
        });
        let json = serde_json::to_value(&granted).unwrap();
        // The grant's fields stand beside the tag, as they always have on the wire.
        assert_eq!(json["answer"], "granted");
        assert_eq!(json["attempt"], 1);
        assert_eq!(json["lease_ms"], 30_000);
        let back: ClaimReply = serde_json::from_value(json).unwrap();
        assert_eq!(back, granted);
        let outcome = serde_json::to_value(Outcome::Failed {
            error: "x".into(),
            retryable: true,
        })
        .unwrap();
        assert_eq!(outcome["outcome"], "failed");
    }
}
