//! Switchyard's data plane: the [`bus`] seam the control plane and workers talk over, the
//! job [`protocol`] on it, the worker [`runtime`] with its [`link`] to the control plane,
//! the job [`kinds`] it runs (the diagnostic
//! job among them), the [`pipelines`] engine that runs a pipeline's nodes as journalled
//! steps, the [`routes`] handlers the gateway asks for over the bus, the naming rules of
//! worker [`pools`], how async code calls the sandbox ([`scripts`]), and the guards of
//! outbound calls:
//! the [`egress`] rule (which addresses may be reached at all) and the [`breaker`] (when a
//! failing host is left alone). Workers reach the control plane only through the bus, or,
//! inside the control plane's own process, through a link that calls its answers directly.

pub mod breaker;
pub mod bus;
pub mod clock;
pub mod egress;
pub mod kinds;
pub mod link;
pub mod pipelines;
pub mod pools;
pub mod protocol;
pub mod routes;
pub mod runtime;
pub mod scripts;
pub mod subjects;
