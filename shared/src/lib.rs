//! Switchyard's domain types and pure logic, shared by the control plane (native) and the
//! console (wasm32). Nothing here does I/O: no tokio, no sqlx, no network.
//!
//! - [`ids`]: typed identifiers.
//! - [`accounts`]: e-mail addresses, passwords and display names, validated once at the edge.
//! - [`tenancy`]: workspace slugs and names.
//! - [`roles`]: the four roles and the permission table every check uses.
//! - [`api`]: the request and response bodies of the REST API and the console.
//! - [`error`]: the one error shape every failure reaches a client in.
//! - [`jobs`]: job states, the retry schedule and queue pressure.
//! - [`code`]: repositories, search results and code-graph symbols.
//! - [`secrets`]: workspace secrets' names and the rules for their values.
//! - [`pipelines`]: the pipeline graph format, its node kinds and its validation.
//! - [`routes`]: routes, topics and subscribers, path patterns, the deploy manifest and its plan.
//! - [`redirects`]: which post-login destinations are safe.
//! - [`contracts`]: the service the console's server functions call, implemented by `server`.

pub mod accounts;
pub mod api;
pub mod code;
pub mod contracts;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod pipelines;
pub mod redirects;
pub mod roles;
pub mod routes;
pub mod secrets;
pub mod tenancy;
