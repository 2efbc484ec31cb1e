//! Durable jobs, the control plane's side: the job service (`service.rs`: submission and
//! announcements), its background loops (`dispatch.rs`: dispatcher and lease sweeper), its
//! answers to workers over the bus (`worker_requests.rs`) with the group commit
//! (`group.rs`) of their journals' steps and their attempts' ends (`steps.rs`), the same
//! answers given directly to workers in this process (`link.rs`), those workers' own
//! claims of their pools' jobs (`claims.rs`), the operations callers use (`ops.rs`), the
//! REST routes and the live WebSocket stream (`http.rs`), and the store functions and
//! records (`store.rs`). What a job does is its kind's business
//! (`workers::kinds`); nothing here matches on kind names.

mod claims;
mod console;
mod dispatch;
mod group;
pub mod http;
mod link;
mod ops;
mod service;
mod steps;
pub mod store;
mod worker_requests;

pub use link::StoreLink;
pub(crate) use ops::job_view;
pub use ops::JobOps;
pub use service::{JobObserver, Jobs, NewJob, WorkerRequests};
pub use store::{JobFilter, JobLogLine, JobRecord, StepRecord, WorkerRecord};

use crate::store::StoreError;
use shared::error::{ApiError, ErrorCode, FieldError};

/// Why the job service refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    /// The submission does not fit its kind.
    #[error("{0}")]
    Invalid(FieldError),
    /// The pool is at critical pressure.
    #[error("pool {pool} is at capacity; retry later")]
    AtCapacity {
        /// The pool.
        pool: String,
    },
    /// The workspace holds its whole share of the pool's queue.
    #[error("this workspace has {open} open jobs in pool {pool}, its share of the queue; retry when some have finished")]
    WorkspaceShareFull {
        /// The pool.
        pool: String,
        /// The workspace's queued and running jobs there.
        open: i64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a caller hears of it: 422 naming the field, 429 with `Retry-After`, or the store's
/// error.
impl From<JobsError> for ApiError {
    fn from(e: JobsError) -> Self {
        match e {
            JobsError::Invalid(field) => field.into(),
            JobsError::AtCapacity { .. } | JobsError::WorkspaceShareFull { .. } => {
                let mut error = ApiError::new(ErrorCode::RateLimited, e.to_string());
                error.retry_after = Some(5);
                error
            }
            JobsError::Store(store) => store.into(),
        }
    }
}
