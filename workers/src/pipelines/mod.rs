//! Pipeline runs on the workers: a run is one job on the `pipelines` pool, held under one
//! lease; each node is one step of the job's journal (`durable`), recorded through one round
//! trip before anything that depends on it starts. A resumed attempt replays the journal
//! and runs only what had not finished. Independent nodes run concurrently; a branch's
//! untaken side is skipped; a merge waits for all its inputs (the plan in
//! `shared::pipelines::plan` decides). Cancelling stops running scripts and requests at once.
//!
//! `nodes.rs` executes one node of each kind; `http.rs` is the HTTP node behind the egress
//! guard and the circuit breaker. The job kind itself lives beside the workspace secrets'
//! key and the code index (`server/src/pipelines/runner.rs`) and calls [`execute`].

mod http;
mod nodes;
#[cfg(test)]
mod tests;

pub use http::Breakers;
pub use nodes::{CodeSearch, NodeSettings, Publisher, MAX_OUTPUT_BYTES};

use crate::egress::EgressPolicy;
use crate::kinds::JobContext;
use crate::protocol::Outcome;
use durable::{Entry, JournalError, StepStatus};
use futures::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::pipelines::{Finished, Graph, NodeKind, Plan};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The job kind of a pipeline run.
pub const RUN_KIND: &str = "pipeline.run";

/// The worker pool pipeline runs go to.
pub const POOL: &str = crate::pools::PIPELINES_POOL;

/// What a run is given: everything it needs, so workers need no database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunJob {
    /// The workspace.
    pub tenant_id: String,
    /// The pipeline.
    pub pipeline_id: String,
    /// The version the run pinned.
    pub version: i64,
    /// That version's graph.
    pub graph: Graph,
    /// The run's input.
    #[serde(default)]
    pub input: Value,
    /// The nodes whose steps came from an earlier run (a re-run from a failed node): their
    /// entries are already in this run's journal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reused: Vec<String>,
}

/// What a run may use beyond its graph: the opened secrets it names, the egress rule, the
/// breakers of this process, the code index, the way to publish to topics, and the
/// sandbox's limits.
#[derive(Clone)]
pub struct Env {
    /// The workspace's secrets the graph names, opened (redacted from everything recorded).
    pub secrets: BTreeMap<String, String>,
    /// Which addresses HTTP nodes may reach.
    pub egress: EgressPolicy,
    /// Circuit breakers per workspace and host, shared by this process's runs.
    pub breakers: Arc<Breakers>,
    /// Searches the workspace's code index (none where this process has no code index).
    pub code_search: Option<CodeSearch>,
    /// Publishes to the workspace's topics (none where this process cannot).
    pub publish: Option<Publisher>,
    /// The script sandbox's limits (a node's own timeout overrides the time).
    pub limits: sandbox::Limits,
    /// The workspace, for breakers and the code index.
    pub tenant_id: String,
}

/// Runs `plan` with `input` as the run's input, journalling every node in `ctx`'s journal.
pub async fn execute(plan: &Plan, input: Value, env: &Env, ctx: &JobContext) -> Outcome {
    let run = ctx.run().clone();
    let mut finished: BTreeMap<String, Finished> = BTreeMap::new();
    // Shared with the running nodes as a snapshot; written only between their starts, so
    // in a chain nobody else holds it then and it is never copied.
    let mut outputs: Arc<BTreeMap<String, Value>> = Arc::new(BTreeMap::new());
    Arc::make_mut(&mut outputs).insert(plan.trigger.clone(), input.clone());
    let mut failure: Option<String> = None;
    for (key, entry) in run.entries() {
        if plan.step(&key).is_none() {
            continue;
        }
        note(
            &mut finished,
            Arc::make_mut(&mut outputs),
            &mut failure,
            &entry,
        );
    }
    if !finished.is_empty() {
        ctx.log(format!(
            "resuming: {} node(s) finished before, not run again",
            finished.len()
        ));
    }
    let stop = sandbox::StopSwitch::default();
    let mut running = FuturesUnordered::new();
    let mut started: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    // Long delays waiting for their time, by node: when nothing else can run, the run
    // sleeps (holding no worker) until the earliest.
    let mut parked: BTreeMap<String, i64> = BTreeMap::new();
    loop {
        if failure.is_none() {
            for id in plan.ready(&finished) {
                if !started.insert(id.clone()) {
                    continue;
                }
                let Some(step) = plan.step(&id) else { continue };
                if step.kind == NodeKind::Delay {
                    match wake_time(&run, step).await {
                        Ok(Some(until)) if until > durable::now_ms() => {
                            parked.insert(id.clone(), until);
                            continue;
                        }
                        Ok(_) => {}
                        Err(JournalError::Lost) => {
                            return Outcome::Failed {
                                error: "the run was taken over by another worker".into(),
                                retryable: true,
                            };
                        }
                        Err(JournalError::Unavailable(e)) => {
                            return Outcome::Failed {
                                error: format!("the run's journal is unreachable: {e}"),
                                retryable: true,
                            };
                        }
                    }
                }
                let node_input = plan.input_of(&id, &finished, &outputs);
                let scope_outputs = outputs.clone();
                let (run, env, input, stop) = (run.clone(), env, input.clone(), stop.clone());
                let step = step.clone();
                running.push(async move {
                    let entry = run
                        .step(&step.id, || {
                            nodes::execute_node(
                                &step,
                                node_input,
                                &input,
                                &scope_outputs,
                                env,
                                &stop,
                            )
                        })
                        .await;
                    (step.id.clone(), entry)
                });
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((id, entry)) = running.next() => match entry {
                Ok(entry) => {
                    if entry.status == StepStatus::Failed {
                        ctx.log(format!("node {id} failed: {}", entry.error.as_deref().unwrap_or("")));
                    }
                    note(&mut finished, Arc::make_mut(&mut outputs), &mut failure, &entry);
                }
                Err(JournalError::Lost) => {
                    // Another attempt owns the run now: record nothing more.
                    stop.stop();
                    return Outcome::Failed { error: "the run was taken over by another worker".into(), retryable: true };
                }
                Err(JournalError::Unavailable(e)) => {
                    stop.stop();
                    return Outcome::Failed { error: format!("the run's journal is unreachable: {e}"), retryable: true };
                }
            },
            _ = ctx.stopped() => {
                stop.stop();
                ctx.log("cancelled");
                return Outcome::Cancelled;
            }
        }
    }
    if let Some(error) = failure {
        return Outcome::Failed {
            error,
            retryable: false,
        };
    }
    if let Some(until) = parked.values().min() {
        ctx.log(format!(
            "waiting for {} delay node(s); the run sleeps without a worker until then",
            parked.len()
        ));
        return Outcome::Sleeping { until: *until };
    }
    let output = plan
        .steps
        .iter()
        .find(|s| s.kind == NodeKind::Output && outputs.contains_key(&s.id))
        .and_then(|s| outputs.get(&s.id).cloned())
        .unwrap_or(Value::Null);
    Outcome::Succeeded { result: output }
}

/// Delays up to this long wait inside the run; longer ones let the run sleep without a
/// worker (the job is queued again for their time).
pub const IN_RUN_DELAY_MS: i64 = 10_000;

/// The journal key of a long delay's wake-up time (node ids never contain `#`).
fn wake_key(node: &str) -> String {
    format!("{node}#wake")
}

/// A long delay's wake-up time: recorded in the journal the first time the node is ready,
/// so every later attempt waits for the same moment. `None` for a short delay.
async fn wake_time(
    run: &durable::Run,
    step: &shared::pipelines::plan::Step,
) -> Result<Option<i64>, JournalError> {
    let seconds = step
        .config
        .get("seconds")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(0.0)
        .min(nodes::MAX_DELAY.as_secs_f64());
    let ms = (seconds * 1000.0) as i64;
    if ms <= IN_RUN_DELAY_MS {
        return Ok(None);
    }
    let key = wake_key(&step.id);
    if let Some(entry) = run.recorded(&key) {
        return Ok(entry.output.get("until").and_then(Value::as_i64));
    }
    let now = durable::now_ms();
    let until = now + ms;
    run.record(Entry {
        key,
        status: StepStatus::Succeeded,
        output: serde_json::json!({ "until": until }),
        error: None,
        choice: None,
        attempts: 1,
        started_at: now,
        finished_at: now,
        logs: vec![],
    })
    .await?;
    Ok(Some(until))
}

/// Takes a finished node's entry into the run's state.
fn note(
    finished: &mut BTreeMap<String, Finished>,
    outputs: &mut BTreeMap<String, Value>,
    failure: &mut Option<String>,
    entry: &Entry,
) {
    match entry.status {
        StepStatus::Succeeded => {
            finished.insert(entry.key.clone(), Finished::Succeeded(entry.choice.clone()));
            outputs.insert(entry.key.clone(), entry.output.clone());
        }
        StepStatus::Failed => {
            finished.insert(entry.key.clone(), Finished::Failed);
            failure.get_or_insert_with(|| {
                format!(
                    "node {}: {}",
                    entry.key,
                    entry.error.as_deref().unwrap_or("failed")
                )
            });
        }
    }
}
