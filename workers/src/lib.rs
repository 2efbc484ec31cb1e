//! Switchyard's data plane: the [`bus`] seam the control plane and workers talk over, the
//! job [`protocol`] on it, the worker [`runtime`] and the [`diagnostic`] job, the naming
//! rules of worker [`pools`], and the [`breaker`] that guards outbound calls of jobs.
//! Workers reach the control plane only through the bus.

pub mod breaker;
pub mod bus;
pub mod diagnostic;
pub mod pools;
pub mod protocol;
pub mod runtime;
