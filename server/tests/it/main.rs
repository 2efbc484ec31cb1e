//! The server's integration tests, one binary (linking LanceDB and candle once instead of
//! once per file): the REST API, isolation, jobs, faults, code intelligence, the egress
//! guard around git, workspace secrets, the mailer and e-mail verification, OAuth, the store conformance suite, the live job
//! stream, and routes with deploys and the gateway, each a module.
#![allow(dead_code)]

#[macro_use]
mod common;

mod api;
mod code;
mod egress;
mod faults;
mod isolation;
mod job_store;
mod jobs;
mod mail;
mod oauth;
mod pipelines;
mod rls_catalog;
mod routes;
mod secrets;
mod store_conformance;
mod stream;
mod verification;
