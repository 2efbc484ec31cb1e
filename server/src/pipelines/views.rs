//! Runs as the API shows them: a run's status from its job, and each node's from the
//! journal and the plan (what finished says itself; the rest is running, queued or skipped
//! as the plan decides).

use super::store::RunRecord;
use crate::clock::rfc3339_ms;
use crate::jobs::JobRecord;
use durable::{Entry, StepStatus};
use serde_json::Value;
use shared::jobs::JobStatus;
use shared::pipelines::views::{NodeRunStatus, NodeRunView, RunStatus, RunSummary};
use shared::pipelines::{Finished, Graph, NodeState, Plan};
use std::collections::BTreeMap;

/// A run's status from its job's.
pub fn run_status(job: &JobRecord) -> RunStatus {
    status_of(job.status, job.started_at.is_some())
}

/// A run's status from its job's status and whether an attempt of it has started (a
/// queued job that has started is between attempts or asleep: its run is running).
pub fn status_of(job: JobStatus, started: bool) -> RunStatus {
    match job {
        JobStatus::Queued if started => RunStatus::Running,
        JobStatus::Queued => RunStatus::Queued,
        JobStatus::Running => RunStatus::Running,
        JobStatus::Succeeded => RunStatus::Succeeded,
        JobStatus::Failed | JobStatus::Dead => RunStatus::Failed,
        JobStatus::Cancelled => RunStatus::Cancelled,
    }
}

/// A run in a list.
pub fn run_summary(run: &RunRecord, job: &JobRecord) -> RunSummary {
    let status = run_status(job);
    RunSummary {
        id: run.id.to_string(),
        pipeline_id: run.pipeline_id.to_string(),
        version: run.version,
        trigger: run.trigger.as_str().to_owned(),
        status,
        error: job.error.clone().filter(|_| status == RunStatus::Failed),
        created_at: rfc3339_ms(run.created_at),
        duration_ms: match (job.started_at, job.finished_at) {
            (Some(s), Some(f)) => Some(f - s),
            _ => None,
        },
    }
}

/// Every node of the run's graph, in plan order (graph order when the version no longer
/// compiles).
pub fn node_views(
    graph: &Graph,
    plan: Option<&Plan>,
    entries: &BTreeMap<String, Entry>,
    input: &Value,
    status: RunStatus,
) -> Vec<NodeRunView> {
    let finished: BTreeMap<String, Finished> = entries
        .values()
        .map(|e| {
            let end = match e.status {
                StepStatus::Succeeded => Finished::Succeeded(e.choice.clone()),
                StepStatus::Failed => Finished::Failed,
            };
            (e.key.clone(), end)
        })
        .collect();
    let mut outputs: BTreeMap<String, Value> = entries
        .values()
        .filter(|e| e.status == StepStatus::Succeeded)
        .map(|e| (e.key.clone(), e.output.clone()))
        .collect();
    let states = plan.map(|p| {
        outputs.insert(p.trigger.clone(), input.clone());
        p.states(&finished)
    });
    let order: Vec<(String, String)> = match plan {
        Some(p) => p
            .steps
            .iter()
            .map(|s| (s.id.clone(), s.kind.as_str().to_owned()))
            .collect(),
        None => graph
            .nodes
            .iter()
            .map(|n| (n.id.clone(), n.kind.clone()))
            .collect(),
    };
    order
        .into_iter()
        .map(|(id, kind)| {
            let entry = entries.get(&id);
            let state = states.as_ref().and_then(|s| s.get(&id)).copied();
            let is_trigger = plan.is_some_and(|p| p.trigger == id);
            let node_status = match (entry.map(|e| e.status), state) {
                (Some(StepStatus::Succeeded), _) => NodeRunStatus::Succeeded,
                (Some(StepStatus::Failed), _) => NodeRunStatus::Failed,
                _ if is_trigger => NodeRunStatus::Succeeded,
                (None, Some(NodeState::Skipped)) => NodeRunStatus::Skipped,
                // Not finished: what the run's state says of it.
                (None, Some(NodeState::Ready)) if status == RunStatus::Running => {
                    NodeRunStatus::Running
                }
                (None, _) if status.is_final() => NodeRunStatus::Skipped,
                (None, _) => NodeRunStatus::Queued,
            };
            let node_input = match (plan, entry) {
                (Some(p), Some(_)) => Some(p.input_of(&id, &finished, &outputs)),
                _ if is_trigger => Some(input.clone()),
                _ => None,
            };
            NodeRunView {
                node: id.clone(),
                kind,
                status: node_status,
                attempts: entry.map_or(0, |e| e.attempts),
                input: node_input,
                output: match entry {
                    Some(e) if e.status == StepStatus::Succeeded => Some(e.output.clone()),
                    None if is_trigger => Some(input.clone()),
                    _ => None,
                },
                error: entry.and_then(|e| e.error.clone()),
                choice: entry.and_then(|e| e.choice.clone()),
                logs: entry.map(|e| e.logs.clone()).unwrap_or_default(),
                started_at: entry.map(|e| e.started_at),
                finished_at: entry.map(|e| e.finished_at),
            }
        })
        .collect()
}
