//! Routes, topics and deploys in the control plane: drafts and deploys (`ops.rs`,
//! `store.rs`), their API (`http.rs`) and console calls (`console.rs`), the tenant gateway
//! that serves the live deploy on its own listener (`gateway.rs`; routes answered by a
//! pipeline run in `run_handler.rs`), and messages published to live topics with their
//! durable deliveries and dead letters (`topics.rs`).
//!
//! A deploy is an immutable canonical manifest with its SHA-256; the live one is the
//! workspace's highest version, and a rollback is a new deploy of an earlier manifest.
//! Gateways cache each workspace's live routes and drop them when a deploy or a deletion
//! is announced on the bus, so every control plane serves the new version at once while
//! requests in flight finish on the version they started with.

mod console;
mod drafts;
pub mod gateway;
pub mod http;
pub mod logs;
mod ops;
mod run_handler;
pub mod store;
mod topics;

pub use gateway::{Gateway, GatewayConfig};
pub use ops::{DeployOutcome, RouteOps, LIVE_CHANGED};
pub use topics::{PublishRequests, MAX_MESSAGE_BYTES};
