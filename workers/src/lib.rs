//! Switchyard's data plane: the worker pools that run a workspace's jobs.
//!
//! This crate grows the `Bus` seam, job execution and the node runtimes; for now it owns the
//! naming rules of worker pools, which the control plane validates submissions against.

pub mod pools;
