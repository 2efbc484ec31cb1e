//! One node of each kind: settings rendered from templates, executed with its retries and
//! timeout, and its entry (output, logs, error) redacted of the run's secrets before it is
//! recorded.

use super::Env;
use durable::{now_ms, Entry, StepStatus};
use futures::future::BoxFuture;
use serde_json::{json, Value};
use shared::pipelines::plan::Step;
use shared::pipelines::template::{self, Scope};
use shared::pipelines::NodeKind;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The most bytes a node's output may have as JSON (a step's record must fit a bus
/// message: NATS takes 1 MB by default).
pub const MAX_OUTPUT_BYTES: usize = 512 << 10;

/// The most bytes of log lines a node keeps; later lines are dropped with a note.
pub const MAX_LOG_BYTES: usize = 64 << 10;

/// The longest a delay node waits inside a run.
pub const MAX_DELAY: Duration = Duration::from_secs(30 * 86_400);

/// Searches the run's workspace's code index: `(query, limit)` → results as JSON.
pub type CodeSearch =
    Arc<dyn Fn(String, usize) -> BoxFuture<'static, Result<Value, String>> + Send + Sync>;

/// Publishes a message to a topic of the run's workspace: `(topic, message)` → what was
/// published (`{id, topic, deliveries}`), or why not and whether trying again could help.
pub type Publisher =
    Arc<dyn Fn(String, Value) -> BoxFuture<'static, Result<Value, (String, bool)>> + Send + Sync>;

/// The settings every action node has besides its kind's: retries and a timeout.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeSettings {
    /// Attempts after the first (0 to 10).
    pub retries: u32,
    /// The first retry's wait; each next one doubles it.
    pub retry_delay: Duration,
    /// The longest one attempt may take.
    pub timeout: Duration,
}

impl NodeSettings {
    /// A node's settings from its config (`retries`, `retry_delay_seconds`,
    /// `timeout_seconds`), each clamped to its range, with its kind's default timeout.
    pub fn of(kind: NodeKind, config: &Value) -> NodeSettings {
        let number = |key: &str| {
            config
                .get(key)
                .and_then(Value::as_f64)
                .filter(|f| f.is_finite())
        };
        let default_timeout = match kind {
            NodeKind::Http => 30.0,
            NodeKind::Delay => MAX_DELAY.as_secs_f64() + 60.0,
            _ => 10.0,
        };
        NodeSettings {
            retries: number("retries").map_or(0, |n| n.clamp(0.0, 10.0) as u32),
            retry_delay: Duration::from_secs_f64(
                number("retry_delay_seconds").map_or(1.0, |n| n.clamp(0.0, 3600.0)),
            ),
            timeout: Duration::from_secs_f64(
                number("timeout_seconds")
                    .map_or(default_timeout, |n| n.clamp(0.01, 3600.0))
                    .max(if kind == NodeKind::Delay {
                        default_timeout
                    } else {
                        0.0
                    }),
            ),
        }
    }
}

/// What one attempt of a node produced.
struct Attempt {
    output: Value,
    choice: Option<String>,
    logs: Vec<String>,
}

/// Why an attempt failed, and whether another could succeed.
struct AttemptError {
    message: String,
    retryable: bool,
    logs: Vec<String>,
}

impl AttemptError {
    fn fatal(message: impl Into<String>) -> AttemptError {
        AttemptError {
            message: message.into(),
            retryable: false,
            logs: vec![],
        }
    }

    fn retryable(message: impl Into<String>) -> AttemptError {
        AttemptError {
            message: message.into(),
            retryable: true,
            logs: vec![],
        }
    }
}

/// Runs `step` with its retries and timeout, and answers its (redacted) entry.
pub(super) async fn execute_node(
    step: &Step,
    input: Value,
    run_input: &Value,
    outputs: &Arc<BTreeMap<String, Value>>,
    env: &Env,
    stop: &sandbox::StopSwitch,
) -> Entry {
    let settings = NodeSettings::of(step.kind, &step.config);
    let started_at = now_ms();
    let mut logs = Vec::new();
    let mut attempts = 0;
    let result = loop {
        attempts += 1;
        let attempt = tokio::time::timeout(
            settings.timeout,
            attempt(
                step,
                &input,
                run_input,
                outputs,
                env,
                stop,
                settings.timeout,
            ),
        )
        .await
        .unwrap_or_else(|_| {
            Err(AttemptError::retryable(format!(
                "timed out after {:?}",
                settings.timeout
            )))
        });
        match attempt {
            Ok(done) => {
                logs.extend(done.logs.iter().cloned());
                break Ok(done);
            }
            Err(e) => {
                logs.extend(e.logs.iter().cloned());
                if !e.retryable || attempts > settings.retries || stop.is_stopped() {
                    break Err(e.message);
                }
                let wait = settings.retry_delay * 2u32.saturating_pow(attempts - 1);
                logs.push(format!(
                    "attempt {attempts} failed: {}; retrying in {:?}",
                    e.message, wait
                ));
                tokio::time::sleep(wait.min(Duration::from_secs(3600))).await;
            }
        }
    };
    let secrets = &env.secrets;
    let mut kept = 0usize;
    let mut logs: Vec<String> = logs
        .iter()
        .map(|l| template::redact(l, secrets))
        .take_while(|l| {
            kept += l.len();
            kept <= MAX_LOG_BYTES
        })
        .collect();
    if kept > MAX_LOG_BYTES {
        logs.push(format!(
            "(later lines were dropped: a node keeps {} KiB of log)",
            MAX_LOG_BYTES >> 10
        ));
    }
    let entry = |status, output, error: Option<String>, choice| Entry {
        key: step.id.clone(),
        status,
        output,
        error: error.map(|e| template::redact(&e, secrets)),
        choice,
        attempts,
        started_at,
        finished_at: now_ms(),
        logs: logs.clone(),
    };
    match result {
        Ok(done) => {
            let output = template::redact_value(&done.output, secrets);
            let size = output.to_string().len();
            if size > MAX_OUTPUT_BYTES {
                return entry(
                    StepStatus::Failed,
                    Value::Null,
                    Some(format!(
                        "the output is {} KiB as JSON; a node's output may have at most {} KiB",
                        size >> 10,
                        MAX_OUTPUT_BYTES >> 10
                    )),
                    None,
                );
            }
            entry(StepStatus::Succeeded, output, None, done.choice)
        }
        Err(error) => entry(StepStatus::Failed, Value::Null, Some(error), None),
    }
}

/// One attempt of a node.
async fn attempt(
    step: &Step,
    input: &Value,
    run_input: &Value,
    outputs: &Arc<BTreeMap<String, Value>>,
    env: &Env,
    stop: &sandbox::StopSwitch,
    timeout: Duration,
) -> Result<Attempt, AttemptError> {
    let scope = Scope {
        input: run_input,
        nodes: outputs.as_ref(),
        secrets: &env.secrets,
    };
    let plain = |output| Attempt {
        output,
        choice: None,
        logs: vec![],
    };
    match step.kind {
        NodeKind::Manual | NodeKind::Webhook | NodeKind::Schedule | NodeKind::Topic => {
            Ok(plain(input.clone()))
        }
        NodeKind::Merge => Ok(plain(input.clone())),
        NodeKind::Set => {
            let fields = step.config.get("fields").cloned().unwrap_or(json!({}));
            template::render(&fields, scope)
                .map(plain)
                .map_err(AttemptError::fatal)
        }
        NodeKind::Output => match step.config.get("value") {
            Some(value) => template::render(value, scope)
                .map(plain)
                .map_err(AttemptError::fatal),
            None => Ok(plain(input.clone())),
        },
        NodeKind::Delay => {
            let seconds = step
                .config
                .get("seconds")
                .and_then(Value::as_f64)
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| AttemptError::fatal("config.seconds must be a number of seconds"))?;
            // A long delay reaches here only once its time has come (the run slept until
            // then without a worker); a short one waits here.
            let ms = (seconds * 1000.0) as i64;
            if ms <= super::IN_RUN_DELAY_MS {
                tokio::time::sleep(Duration::from_secs_f64(seconds).min(MAX_DELAY)).await;
            }
            Ok(plain(input.clone()))
        }
        NodeKind::Branch => {
            let condition = step
                .config
                .get("condition")
                .and_then(Value::as_str)
                .unwrap_or("false");
            let expression =
                template::render_expression(condition, scope).map_err(AttemptError::fatal)?;
            let limits = sandbox::Limits {
                time: timeout,
                ..env.limits
            };
            let (stop, tenant) = (stop.clone(), env.tenant_id.clone());
            let script = crate::scripts::key(&expression);
            let value = crate::scripts::run(script, limits, move |limits| {
                sandbox::evaluate_warm(&tenant, &expression, limits, &stop)
            })
            .await
            .map_err(|e| AttemptError::fatal(format!("the condition: {e}")))?;
            let port = if sandbox::truthy(&value) {
                "true"
            } else {
                "false"
            };
            Ok(Attempt {
                output: input.clone(),
                choice: Some(port.to_owned()),
                logs: vec![format!("condition is {value}: continuing on {port}")],
            })
        }
        NodeKind::Script => {
            let source = step
                .config
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let limits = sandbox::Limits {
                time: timeout,
                ..env.limits
            };
            let (input, run_input) = (input.clone(), run_input.clone());
            let (nodes, stop) = (outputs.clone(), stop.clone());
            let tenant = env.tenant_id.clone();
            let script = crate::scripts::key(&source);
            let done = crate::scripts::run(script, limits, move |limits| {
                let nodes = nodes.as_ref();
                sandbox::run_warm(&tenant, &source, &input, &run_input, nodes, limits, &stop)
            })
            .await;
            match done {
                Ok(done) => Ok(Attempt {
                    output: done.value,
                    choice: None,
                    logs: done.logs,
                }),
                // A script's own error is retried (it may depend on what it reads); the
                // sandbox's stops are not.
                Err(e @ sandbox::ScriptError::Thrown { .. }) => Err(AttemptError {
                    message: e.to_string(),
                    retryable: true,
                    logs: vec![],
                }),
                Err(e) => Err(AttemptError::fatal(e.to_string())),
            }
        }
        NodeKind::Http => {
            let config = template::render(&step.config, scope).map_err(AttemptError::fatal)?;
            super::http::request(&config, env, timeout)
                .await
                .map(plain)
                .map_err(|(message, retryable)| AttemptError {
                    message,
                    retryable,
                    logs: vec![],
                })
        }
        NodeKind::Publish => {
            let topic = step
                .config
                .get("topic")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let message = match step.config.get("message") {
                Some(message) => template::render(message, scope).map_err(AttemptError::fatal)?,
                None => input.clone(),
            };
            // Upstream outputs may carry a secret's value (an echoing API): a message is
            // stored and shown, so it is redacted like everything recorded.
            let message = template::redact_value(&message, &env.secrets);
            let Some(publish) = env.publish.clone() else {
                return Err(AttemptError::fatal(
                    "this worker cannot publish messages (it has no way to the control plane)",
                ));
            };
            publish(topic, message)
                .await
                .map(plain)
                .map_err(|(message, retryable)| AttemptError {
                    message,
                    retryable,
                    logs: vec![],
                })
        }
        NodeKind::CodeSearch => {
            let config = template::render(&step.config, scope).map_err(AttemptError::fatal)?;
            let query = config
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let limit = config
                .get("limit")
                .and_then(Value::as_u64)
                .map_or(10, |n| n.clamp(1, 50) as usize);
            let Some(search) = env.code_search.clone() else {
                return Err(AttemptError::fatal(
                    "this worker has no code index; run pipelines with code_search nodes on workers that share CODE_DIR",
                ));
            };
            search(query, limit)
                .await
                .map(plain)
                .map_err(AttemptError::retryable)
        }
    }
}
