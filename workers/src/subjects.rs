//! Every subject the product uses, built in one place so the scheme in ARCHITECTURE.md has
//! one source. Subjects that belong to a workspace carry its id as the third token
//! (`sy.t.{tenant}.…`), so a deployment can split tenants into NATS accounts by subject
//! mapping; `{job}` is a job id.

/// The subject a work queue's messages are stored under (JetStream).
pub fn work_queue(queue: &str) -> String {
    format!("sy.work.{queue}")
}

/// Tells the worker running a job to stop it (publish).
pub fn cancel(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.cancel")
}

/// Claim a job (request).
pub fn claim(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.claim")
}
/// Extend a lease (request).
pub fn heartbeat(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.heartbeat")
}
/// Log lines (request).
pub fn log(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.log")
}
/// Report the outcome (request).
pub fn complete(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.complete")
}
/// Hand an unfinished attempt back (request), from a worker that drains.
pub fn release(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.release")
}
/// Record a finished step in a job's journal (request, fenced by attempt).
pub fn step(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.step")
}
/// A step of a job started (publish, for live views; not durable).
pub fn step_started(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.started")
}
/// Job events for live views (publish).
pub fn events(tenant: &str, job: &str) -> String {
    format!("sy.t.{tenant}.jobs.{job}.events")
}
/// What the control plane listens on for each kind of job request.
pub const CLAIMS: &str = "sy.t.*.jobs.*.claim";
/// See [`CLAIMS`].
pub const HEARTBEATS: &str = "sy.t.*.jobs.*.heartbeat";
/// See [`CLAIMS`].
pub const LOGS: &str = "sy.t.*.jobs.*.log";
/// See [`CLAIMS`].
pub const COMPLETIONS: &str = "sy.t.*.jobs.*.complete";
/// See [`CLAIMS`].
pub const RELEASES: &str = "sy.t.*.jobs.*.release";
/// See [`CLAIMS`].
pub const STEPS: &str = "sy.t.*.jobs.*.step";
/// Publish a message to a topic of the workspace (request, from a pipeline's publish
/// node; answered by the control plane).
pub fn publish(tenant: &str) -> String {
    format!("sy.t.{tenant}.publish")
}
/// See [`publish`].
pub const PUBLISHES: &str = "sy.t.*.publish";
/// The workspace id of a workspace's subject (`sy.t.{tenant}.…`).
pub fn tenant_of(subject: &str) -> Option<&str> {
    let mut parts = subject.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("sy"), Some("t"), Some(tenant)) if !tenant.is_empty() => Some(tenant),
        _ => None,
    }
}
/// Worker presence (publish).
pub fn worker_presence(pool: &str) -> String {
    format!("sy.workers.{pool}.presence")
}
/// See [`worker_presence`].
pub const PRESENCE: &str = "sy.workers.*.presence";

/// The tenant and job ids of a job subject (`sy.t.{tenant}.jobs.{job}.…`).
pub fn job_of(subject: &str) -> Option<(&str, &str)> {
    let mut parts = subject.split('.');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("sy"), Some("t"), Some(tenant), Some("jobs"), Some(job)) => Some((tenant, job)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::names::{check_subject, matches};

    #[test]
    fn tenant_subjects_carry_the_tenant_third() {
        let s = log("t1", "j1");
        assert_eq!(s.split('.').nth(2), Some("t1"));
        assert!(matches("sy.t.t1.>", &s));
        assert!(!matches("sy.t.t2.>", &s));
        for subject in [
            claim("t1", "j1"),
            heartbeat("t1", "j1"),
            complete("t1", "j1"),
            release("t1", "j1"),
            events("t1", "j1"),
            cancel("t1", "j1"),
            worker_presence("default"),
            work_queue("default"),
        ] {
            assert!(check_subject(&subject).is_ok(), "{subject}");
        }
    }

    #[test]
    fn job_subjects_name_tenant_and_job() {
        let s = claim("t1", "j1");
        assert_eq!(job_of(&s), Some(("t1", "j1")));
        assert!(matches(CLAIMS, &s));
        assert!(!matches(CLAIMS, &complete("t1", "j1")));
        assert!(matches(PRESENCE, &worker_presence("gpu")));
        assert_eq!(job_of("sy.work.default"), None);
    }
}
