//! Durable jobs: their states, the retry schedule, queue pressure, and the bodies of the
//! jobs API. Pure: the control plane and the workers both use it.

pub mod diagnostic;

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker (new, or a retry waiting out its backoff).
    Queued,
    /// A worker holds it under a lease.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished unsuccessfully and will not be retried (the failure is not retryable).
    Failed,
    /// Stopped on request.
    Cancelled,
    /// Used up its attempts: in the dead-letter list until retried by hand.
    Dead,
}

impl JobStatus {
    /// Every status.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Cancelled,
        JobStatus::Dead,
    ];

    /// The lowercase name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Dead => "dead",
        }
    }

    /// Whether nothing more happens to the job by itself.
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "status",
                    "must be one of queued, running, succeeded, failed, cancelled, dead",
                )
            })
    }
}

/// How a job is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry (before jitter).
    pub base_delay: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The delay before the attempt after `failed_attempt` (1-based), or `None` when the
    /// attempts are used up. Exponential, capped, with "equal jitter": half the step is
    /// fixed and half is scaled by `jitter` in `[0, 1)`, so retries of many jobs that failed
    /// together spread out but never come back immediately.
    pub fn next_delay(&self, failed_attempt: u32, jitter: f64) -> Option<Duration> {
        if failed_attempt >= self.max_attempts {
            return None;
        }
        let exponent = failed_attempt.saturating_sub(1).min(30);
        let step = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let jitter = jitter.clamp(0.0, 1.0);
        let half = step / 2;
        Some(half + half.mul_f64(jitter))
    }
}

/// How full a queue is, against its configured capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum QueuePressure {
    /// Below half the capacity.
    Normal,
    /// Between half and 80%.
    Warning,
    /// Above 80%: new submissions are refused with 429.
    Critical,
}

impl QueuePressure {
    /// The lowercase name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            QueuePressure::Normal => "normal",
            QueuePressure::Warning => "warning",
            QueuePressure::Critical => "critical",
        }
    }

    /// Classifies `depth` against `capacity` (a zero capacity is always critical).
    pub fn of(depth: u64, capacity: u64) -> QueuePressure {
        if capacity == 0 {
            return QueuePressure::Critical;
        }
        // Integer arithmetic: depth/capacity > 0.8 <=> 5 * depth > 4 * capacity.
        if depth.saturating_mul(5) > capacity.saturating_mul(4) {
            QueuePressure::Critical
        } else if depth.saturating_mul(2) >= capacity {
            QueuePressure::Warning
        } else {
            QueuePressure::Normal
        }
    }

    /// The deepest queue that is not critical against `capacity` (`None`: every depth is,
    /// as for a zero capacity): a store that judges a submission itself is given this.
    pub fn deepest_admitted(capacity: u64) -> Option<u64> {
        (capacity > 0).then(|| capacity.saturating_mul(4) / 5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_place_reads_as_a_phrase() {
        let place = |ahead, eta_seconds, workers_online| QueuePlace {
            ahead,
            eta_seconds,
            workers_online,
        };
        assert_eq!(
            place(0, Some(5), true).describe(),
            "next in line · starts in under a minute"
        );
        assert_eq!(
            place(1, Some(61), true).describe(),
            "1 job ahead · starts in about 2 min"
        );
        assert_eq!(place(12, None, true).describe(), "12 jobs ahead");
        assert_eq!(
            place(3, None, false).describe(),
            "3 jobs ahead · waiting for a worker"
        );
    }

    #[test]
    fn the_deepest_admitted_queue_is_the_last_one_not_critical() {
        for capacity in [0, 1, 2, 3, 4, 5, 7, 10, 99, 100, 1_000, 4_096] {
            let critical = |depth| QueuePressure::of(depth, capacity) == QueuePressure::Critical;
            match QueuePressure::deepest_admitted(capacity) {
                None => assert!(critical(0), "capacity {capacity}"),
                Some(deepest) => {
                    assert!(!critical(deepest), "capacity {capacity}");
                    assert!(critical(deepest + 1), "capacity {capacity}");
                }
            }
        }
    }

    #[test]
    fn statuses_round_trip_and_know_if_final() {
        for s in JobStatus::ALL {
            assert_eq!(s.as_str().parse::<JobStatus>().ok(), Some(s));
        }
        assert!("done".parse::<JobStatus>().is_err());
        assert!(!JobStatus::Queued.is_final() && !JobStatus::Running.is_final());
        assert!(JobStatus::Dead.is_final() && JobStatus::Succeeded.is_final());
    }

    #[test]
    fn retries_back_off_exponentially_with_bounded_jitter() {
        let p = RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(20),
        };
        assert_eq!(p.next_delay(1, 0.0), Some(Duration::from_secs(1)));
        assert_eq!(p.next_delay(1, 1.0), Some(Duration::from_secs(2)));
        assert_eq!(p.next_delay(2, 0.0), Some(Duration::from_secs(2)));
        assert_eq!(p.next_delay(3, 0.5), Some(Duration::from_secs(6)));
        assert_eq!(
            p.next_delay(5, 1.0),
            Some(Duration::from_secs(20)),
            "capped"
        );
        assert_eq!(p.next_delay(6, 0.3), None, "attempts used up");
        for attempt in 1..6 {
            for j in [0.0, 0.25, 0.99] {
                let d = p.next_delay(attempt, j).unwrap();
                assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(20));
            }
        }
        assert_eq!(
            p.next_delay(1, 7.0),
            Some(Duration::from_secs(2)),
            "jitter is clamped"
        );
    }

    #[test]
    fn pressure_thresholds() {
        assert_eq!(QueuePressure::of(0, 100), QueuePressure::Normal);
        assert_eq!(QueuePressure::of(49, 100), QueuePressure::Normal);
        assert_eq!(QueuePressure::of(50, 100), QueuePressure::Warning);
        assert_eq!(QueuePressure::of(80, 100), QueuePressure::Warning);
        assert_eq!(QueuePressure::of(81, 100), QueuePressure::Critical);
        assert_eq!(QueuePressure::of(0, 0), QueuePressure::Critical);
    }
}

/// `POST /workspaces/{slug}/jobs`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubmitJobRequest {
    /// What to run (`diagnostic`).
    pub kind: String,
    /// The worker pool to run it on.
    #[serde(default = "default_pool")]
    pub pool: String,
    /// Its input (default `{}`).
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    /// Attempts in all (1-20, default 5).
    #[serde(default)]
    pub max_attempts: Option<u32>,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

fn default_pool() -> String {
    "default".to_owned()
}

/// The answer to a submission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobSubmitted {
    /// The new job.
    pub id: crate::ids::JobId,
    /// Its status (`queued`).
    pub status: JobStatus,
}

/// A job as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobView {
    /// Job id.
    pub id: crate::ids::JobId,
    /// What it runs.
    pub kind: String,
    /// Its pool.
    pub pool: String,
    /// Where it is.
    pub status: JobStatus,
    /// Attempts started.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Its input.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    /// The result of a successful run.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub result: Option<serde_json::Value>,
    /// The last attempt's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether a stop was asked for.
    pub cancel_requested: bool,
    /// Submission time (RFC 3339).
    pub created_at: String,
    /// First start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// End.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// How far the running (or last) attempt got, when its job kind reports progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<JobProgress>,
    /// Where a queued job stands in its pool's queue (single-job views only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueuePlace>,
}

/// A queued job's place in line. Workspaces are served in turn, so the jobs ahead are the
/// workspace's own earlier ones and, for each other waiting workspace, as many of its jobs
/// as it gets turns before this one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuePlace {
    /// Jobs that will start before it.
    pub ahead: i64,
    /// An estimate of when it starts, in seconds from now: from the pool's online slots and
    /// its recent jobs' run time. `None` while no worker of the pool is online or no job of
    /// it has finished yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<i64>,
    /// Whether any worker of the pool is online.
    pub workers_online: bool,
}

impl QueuePlace {
    /// The place as a phrase: "next in line", "3 jobs ahead · starts in about 2 min".
    pub fn describe(&self) -> String {
        let ahead = match self.ahead {
            0 => "next in line".to_owned(),
            1 => "1 job ahead".to_owned(),
            n => format!("{n} jobs ahead"),
        };
        match self.eta_seconds {
            _ if !self.workers_online => format!("{ahead} · waiting for a worker"),
            Some(s) if s < 60 => format!("{ahead} · starts in under a minute"),
            Some(s) => format!("{ahead} · starts in about {} min", (s + 59) / 60),
            None => ahead,
        }
    }
}

/// A job's progress: its current phase and how much of it is done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobProgress {
    /// What it is doing (`parsing`, `embedding`, ...).
    pub phase: String,
    /// Units done in this phase.
    pub done: u64,
    /// Units in this phase (0 when unknown).
    pub total: u64,
}

impl JobProgress {
    /// Done as a percentage of the phase, when the total is known.
    pub fn percent(&self) -> Option<u64> {
        (self.total > 0).then(|| (self.done.min(self.total) * 100) / self.total)
    }
}

/// A page of a job's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobLogPage {
    /// Lines in order.
    pub lines: Vec<JobLogEntry>,
}

/// One log line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobLogEntry {
    /// Position in the log.
    pub seq: i64,
    /// When (RFC 3339, milliseconds).
    pub at: String,
    /// The text.
    pub line: String,
}

/// A worker as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerView {
    /// Worker id.
    pub id: String,
    /// Its pool.
    pub pool: String,
    /// Its host (empty for callers below admin: host names describe the operator's machines).
    pub host: String,
    /// `online`, `offline` or `draining`.
    pub status: String,
    /// Jobs it runs now.
    pub running: i64,
    /// Jobs it may run at once.
    pub concurrency: i64,
    /// Last heartbeat (RFC 3339).
    pub last_heartbeat: String,
}

/// A message of a job's live stream (`GET .../jobs/{id}/stream`, WebSocket).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum JobStreamMessage {
    /// The job as it is now.
    Job {
        /// The job.
        job: Box<JobView>,
    },
    /// Log lines not sent before, in order.
    Log {
        /// The lines.
        lines: Vec<JobLogEntry>,
    },
}

/// A worker pool's queue as a workspace sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolView {
    /// Pool name.
    pub pool: String,
    /// This workspace's jobs waiting in it.
    pub queued: i64,
    /// This workspace's jobs running in it.
    pub running: i64,
    /// Open jobs at full capacity.
    pub capacity: u64,
    /// How full it is; at `critical` new submissions get 429.
    pub pressure: QueuePressure,
}
