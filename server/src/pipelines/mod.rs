//! Pipelines in the control plane: definitions with immutable versions (`ops.rs`, `store.rs`),
//! runs as durable jobs of kind `pipeline.run` on the `pipelines` pool (`runner.rs` is the
//! kind; the engine is `workers::pipelines`, the journal `durable`), the API and a run's live
//! stream (`http.rs`), webhook triggers (`hooks.rs`), schedule triggers (`schedules.rs`), runs a caller waits
//! for (`waiting.rs`: webhooks and routes), and how runs read (`views.rs`).
//!
//! A run pins the version it started with; one version is live for triggers. A run is held
//! under one job lease; each node is one journal step recorded through one bus round trip,
//! fenced by the job's attempt, so a worker that died is replaced by one that resumes from
//! the journal without running finished nodes again.

mod console;
pub mod hooks;
pub mod http;
mod ops;
pub mod runner;
pub mod schedules;
pub mod store;
mod views;
mod waiting;

pub use ops::{Cause, PipelineOps, MAX_INPUT_BYTES};
pub use store::Trigger;
pub use waiting::RunEnd;
