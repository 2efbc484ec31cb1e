//! Route handlers on the workers: the gateway asks a pool (a queue group on
//! `sy.routes.{pool}.invoke`, request/reply, not durable jobs: a request is answered once or
//! fails) to run a script handler with the request; a worker runs it in the sandbox with the
//! route's limits and answers `{status, headers, body}` or the script's error with its
//! logs. The gateway never sees a worker; in the embedded default the same code serves the
//! pool in-process.
//!
//! A handler that does not finish within the inline budget ([`crate::scripts`]) moves to a
//! blocking thread, and its worker says so at once and every [`WORKING_EVERY`] until it
//! answers ([`Answer::Working`]), so a gateway that hears nothing for [`SILENCE`] after that
//! knows the worker died mid-request and answers 502 at once instead of waiting for the
//! route's timeout (a handler answered within the budget needs no note).
//!
//! A topic's message reaches each subscriber as a durable job ([`DeliverKind`]): retried
//! with backoff until its subscriber's attempts are spent, then dead (the dead letter).

use crate::bus::{Bus, BusError, BusMessage};
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// The pool route handlers run on unless configured otherwise.
pub const POOL: &str = crate::pools::ROUTES_POOL;

/// The subject a pool takes invocations on.
pub fn invoke_subject(pool: &str) -> String {
    format!("sy.routes.{pool}.invoke")
}

/// The request as a handler sees it (`req`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HandlerRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path under the workspace's gateway prefix (`/users/42`).
    pub path: String,
    /// The path pattern's parameters.
    pub params: BTreeMap<String, String>,
    /// The query string's parameters (the last of a repeated name).
    pub query: BTreeMap<String, String>,
    /// The request's headers, names lowercase (credentials and cookies removed).
    pub headers: BTreeMap<String, String>,
    /// The body: JSON when it parses as JSON, else text; `null` when empty.
    pub body: Value,
}

/// What the gateway asks a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invocation {
    /// The workspace.
    pub tenant_id: String,
    /// The route (`GET /users/{id}`), for logs.
    pub route: String,
    /// The gateway's request id.
    pub request_id: String,
    /// The handler's script.
    pub source: String,
    /// The request.
    pub request: HandlerRequest,
    /// How long the script may run.
    pub timeout_ms: u64,
    /// The sandbox's memory, MiB.
    pub memory_mb: u32,
}

/// How often a worker running a handler tells the gateway it is still at it.
pub const WORKING_EVERY: Duration = Duration::from_millis(250);

/// How long a gateway that heard a worker take a request waits for its next word before
/// taking the worker for dead (four missed notes).
pub const SILENCE: Duration = Duration::from_millis(1_000);

/// A worker's replies to an invocation: [`Answer::Working`] notes, then one answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answer {
    /// The worker has the request and is running its handler (not an answer: sent when
    /// it starts and every [`WORKING_EVERY`] until it answers).
    Working,
    /// The handler answered.
    Response {
        /// The status (200 when the script gave none).
        status: u16,
        /// Headers the script set.
        headers: BTreeMap<String, String>,
        /// The body: a string is sent as text, anything else as JSON.
        body: Value,
        /// What it logged.
        logs: Vec<String>,
    },
    /// The handler failed (threw, timed out, out of memory, answered nonsense).
    Failed {
        /// Why (for the route's log, never the caller).
        error: String,
        /// What it logged first.
        logs: Vec<String>,
    },
}

/// The sandbox's limits for `invocation`.
fn limits_of(invocation: &Invocation) -> sandbox::Limits {
    sandbox::Limits {
        memory_bytes: (invocation.memory_mb as usize) << 20,
        time: Duration::from_millis(invocation.timeout_ms),
        ..sandbox::Limits::default()
    }
}

/// Runs `invocation` in the sandbox with `limits` (blocking: see [`crate::scripts`]).
fn call(invocation: &Invocation, limits: sandbox::Limits) -> Result<Answer, sandbox::ScriptError> {
    let request = match serde_json::to_value(&invocation.request) {
        Ok(v) => v,
        Err(e) => {
            return Ok(Answer::Failed {
                error: format!("the request cannot be given to the script: {e}"),
                logs: vec![],
            })
        }
    };
    sandbox::run_warm(
        &invocation.tenant_id,
        &invocation.source,
        &request,
        &request,
        &Value::Object(Default::default()),
        limits,
        &sandbox::StopSwitch::default(),
    )
    .map(|finished| response_of(finished.value, finished.logs))
}

/// A sandbox error as the handler's failure.
fn failed(result: Result<Answer, sandbox::ScriptError>) -> Answer {
    result.unwrap_or_else(|e| Answer::Failed {
        error: e.to_string(),
        logs: vec![],
    })
}

/// Runs `invocation` in the sandbox (blocking: call it on a blocking thread).
pub fn run(invocation: &Invocation) -> Answer {
    failed(call(invocation, limits_of(invocation)))
}

/// A script's return value as a response: `{status?, headers?, body?}`; anything else is
/// the body of a 200.
fn response_of(value: Value, logs: Vec<String>) -> Answer {
    let Value::Object(mut fields) = value else {
        return Answer::Response {
            status: 200,
            headers: BTreeMap::new(),
            body: value,
            logs,
        };
    };
    if !fields.contains_key("status") && !fields.contains_key("body") {
        return Answer::Response {
            status: 200,
            headers: BTreeMap::new(),
            body: Value::Object(fields),
            logs,
        };
    }
    let status = match fields.remove("status") {
        None => 200,
        Some(v) => match v.as_u64().filter(|s| (100..=599).contains(s)) {
            Some(s) => s as u16,
            None => {
                return Answer::Failed {
                    error: format!("the handler answered status {v}, not a number from 100 to 599"),
                    logs,
                }
            }
        },
    };
    let mut headers = BTreeMap::new();
    if let Some(raw) = fields.remove("headers") {
        let Value::Object(raw) = raw else {
            return Answer::Failed {
                error: "the handler's headers must be an object of strings".into(),
                logs,
            };
        };
        for (name, value) in raw {
            let value = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            headers.insert(name, value);
        }
    }
    Answer::Response {
        status,
        headers,
        body: fields.remove("body").unwrap_or(Value::Null),
        logs,
    }
}

/// Serves `pool`'s invocations until `shutdown` turns true, running at most `concurrency`
/// scripts at once.
pub async fn serve(
    bus: Arc<dyn Bus>,
    pool: String,
    concurrency: usize,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), BusError> {
    let subject = invoke_subject(&pool);
    let mut invocations = bus.subscribe_queue(&subject, &pool).await?;
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    loop {
        let message = tokio::select! {
            m = invocations.next() => match m {
                Some(m) => m,
                None => return Ok(()),
            },
            _ = shutdown.changed() => return Ok(()),
        };
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return Ok(());
        };
        let bus = bus.clone();
        tokio::spawn(async move {
            answer(bus.as_ref(), message).await;
            drop(permit);
        });
    }
}

async fn answer(bus: &dyn Bus, message: BusMessage) {
    let Some(reply) = message.reply else { return };
    let answer = match serde_json::from_slice::<Invocation>(&message.payload) {
        Ok(invocation) => {
            let invocation = Arc::new(invocation);
            let limits = limits_of(&invocation);
            let here = |limits| call(&invocation, limits);
            let script = crate::scripts::key(&invocation.source);
            match crate::scripts::try_inline(script, limits, &here) {
                Some(done) => failed(done),
                None => working(bus, &reply, invocation, script, limits).await,
            }
        }
        Err(e) => Answer::Failed {
            error: format!("an invocation this worker cannot read: {e}"),
            logs: vec![],
        },
    };
    let body = serde_json::to_vec(&answer).unwrap_or_default();
    if let Err(e) = bus.respond(&reply, Bytes::from(body)).await {
        tracing::debug!(error = %e, "answering an invocation failed");
    }
}

/// Runs a handler that needs longer than the inline budget on a blocking thread, telling
/// the gateway at once and every [`WORKING_EVERY`] that it is still at work.
async fn working(
    bus: &dyn Bus,
    reply: &str,
    invocation: Arc<Invocation>,
    script: u64,
    limits: sandbox::Limits,
) -> Answer {
    let note = Bytes::from(serde_json::to_vec(&Answer::Working).unwrap_or_default());
    let running =
        crate::scripts::on_blocking_thread(script, limits, move |limits| call(&invocation, limits));
    tokio::pin!(running);
    // The first tick is at once: the gateway hears that a worker took the request.
    let mut notes = tokio::time::interval(WORKING_EVERY);
    loop {
        tokio::select! {
            biased;
            done = &mut running => return failed(done),
            _ = notes.tick() => {
                if let Err(e) = bus.respond(reply, note.clone()).await {
                    tracing::debug!(error = %e, "telling the gateway a handler runs failed");
                }
            }
        }
    }
}

/// The job kind that delivers one message to one script subscriber.
pub const DELIVER_KIND: &str = "topic.deliver";

/// A pipeline's publish node asks the control plane to publish (see
/// [`crate::subjects::publish`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishRequest {
    /// The topic.
    pub topic: String,
    /// The message.
    pub message: Value,
    /// The pipeline whose run publishes, for the control plane's log.
    #[serde(default)]
    pub pipeline_id: String,
}

/// The control plane's answer to a [`PublishRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PublishReply {
    /// Stored, with its deliveries under way.
    Published {
        /// The message's id.
        id: String,
        /// The deliveries and runs it started.
        deliveries: usize,
    },
    /// Not published.
    Refused {
        /// Why, as a sentence.
        error: String,
        /// Whether trying again later could succeed (the store was down, not "no such
        /// topic").
        retryable: bool,
    },
}

/// How long a publish node waits for the control plane's answer.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);

/// A pipeline's way to publish to the topics of `tenant` over `bus`.
pub fn publisher(
    bus: Arc<dyn Bus>,
    tenant: String,
    pipeline_id: String,
) -> crate::pipelines::Publisher {
    Arc::new(move |topic: String, message: Value| {
        let (bus, subject) = (bus.clone(), crate::subjects::publish(&tenant));
        let request = PublishRequest {
            topic: topic.clone(),
            message,
            pipeline_id: pipeline_id.clone(),
        };
        Box::pin(async move {
            let payload = serde_json::to_vec(&request)
                .map_err(|e| (format!("the message cannot be sent: {e}"), false))?;
            let answer = bus
                .request(&subject, Bytes::from(payload), PUBLISH_TIMEOUT)
                .await
                .map_err(|e| (format!("the control plane did not answer: {e}"), true))?;
            match serde_json::from_slice(&answer) {
                Ok(PublishReply::Published { id, deliveries }) => {
                    Ok(serde_json::json!({"id": id, "topic": topic, "deliveries": deliveries}))
                }
                Ok(PublishReply::Refused { error, retryable }) => Err((error, retryable)),
                Err(e) => Err((format!("an unreadable answer: {e}"), true)),
            }
        })
    })
}

/// A message on its way to one subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// The workspace (its script's module is kept warm for it alone; a delivery queued
    /// before this field existed has none and loads its script every time).
    #[serde(default)]
    pub tenant_id: String,
    /// The topic.
    pub topic: String,
    /// The subscriber's name.
    pub subscriber: String,
    /// The message's id (the same on every attempt and replay: consumers stay idempotent
    /// by it).
    pub message_id: String,
    /// When it was published, Unix ms.
    pub published_at: i64,
    /// What was published.
    pub body: Value,
    /// The subscriber's script.
    pub source: String,
    /// How long one delivery may take.
    pub timeout_ms: u64,
}

/// Delivers a message to a script subscriber: `main(message, ctx)` with `message` as
/// `{id, topic, body, published_at, attempt}`; a throw (or a limit) is a failed attempt.
pub struct DeliverKind;

#[async_trait::async_trait]
impl crate::kinds::JobKind for DeliverKind {
    type Payload = Delivery;
    const NAME: &'static str = DELIVER_KIND;

    async fn run(
        &self,
        delivery: Delivery,
        ctx: crate::kinds::JobContext,
    ) -> crate::protocol::Outcome {
        use crate::protocol::Outcome;
        let message = serde_json::json!({
            "id": delivery.message_id,
            "topic": delivery.topic,
            "body": delivery.body,
            "published_at": delivery.published_at,
            "attempt": ctx.attempt(),
        });
        let limits = sandbox::Limits {
            time: Duration::from_millis(delivery.timeout_ms),
            ..sandbox::Limits::default()
        };
        let stop = sandbox::StopSwitch::default();
        let watching = stop.clone();
        let (source, tenant) = (delivery.source, delivery.tenant_id);
        // Within the inline budget here, else on a blocking thread (see `crate::scripts`).
        let script = crate::scripts::key(&source);
        let run = crate::scripts::run(script, limits, move |limits| {
            let nodes = Value::Object(Default::default());
            if tenant.is_empty() {
                return sandbox::run(&source, &message, &message, &nodes, limits, &watching);
            }
            sandbox::run_warm(
                &tenant, &source, &message, &message, &nodes, limits, &watching,
            )
        });
        tokio::pin!(run);
        let result = tokio::select! {
            r = &mut run => r,
            _ = ctx.stopped() => {
                stop.stop();
                let _ = run.await;
                return Outcome::Cancelled;
            }
        };
        match result {
            Ok(finished) => {
                for line in finished.logs {
                    ctx.log(line);
                }
                Outcome::Succeeded {
                    result: finished.value,
                }
            }
            Err(e) => Outcome::Failed {
                error: e.to_string(),
                retryable: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invocation(source: &str) -> Invocation {
        Invocation {
            tenant_id: "t".into(),
            route: "GET /users/{id}".into(),
            request_id: "r".into(),
            source: source.into(),
            request: HandlerRequest {
                method: "GET".into(),
                path: "/users/42".into(),
                params: [("id".to_owned(), "42".to_owned())].into(),
                query: [("q".to_owned(), "x".to_owned())].into(),
                headers: BTreeMap::new(),
                body: Value::Null,
            },
            timeout_ms: 1_000,
            memory_mb: 16,
        }
    }

    #[test]
    fn a_script_answers_with_the_request_it_was_given() {
        let answer = run(&invocation(
            "export default function main(req, ctx) { ctx.log('hi ' + req.params.id); return {status: 201, headers: {'x-id': req.params.id, 'x-n': 5}, body: {q: req.query.q, m: req.method}} }",
        ));
        assert_eq!(
            answer,
            Answer::Response {
                status: 201,
                headers: [
                    ("x-id".to_owned(), "42".to_owned()),
                    ("x-n".to_owned(), "5".to_owned())
                ]
                .into(),
                body: json!({"q": "x", "m": "GET"}),
                logs: vec!["hi 42".into()],
            }
        );
    }

    #[test]
    fn a_plain_value_is_the_body_of_a_200() {
        for (source, body) in [
            ("export default () => 'text'", json!("text")),
            ("export default () => ({a: 1})", json!({"a": 1})),
            ("export default () => null", Value::Null),
        ] {
            assert_eq!(
                run(&invocation(source)),
                Answer::Response {
                    status: 200,
                    headers: BTreeMap::new(),
                    body,
                    logs: vec![]
                },
                "{source}"
            );
        }
    }

    #[test]
    fn failures_say_why() {
        let failed = |source: &str| match run(&invocation(source)) {
            Answer::Failed { error, .. } => error,
            other => panic!("{source}: {other:?}"),
        };
        assert!(failed("export default () => { throw new Error('boom') }").contains("boom"));
        assert!(failed("export default () => ({status: 42})").contains("status 42"));
        assert!(failed("export default () => ({status: 200, headers: 'x'})").contains("headers"));
        assert!(failed("export default () => { while (true) {} }").contains("longer than"));
        let bomb = failed(
            "export default () => { const a = []; while (true) a.push(new Array(100000).fill(1)) }",
        );
        assert!(bomb.contains("more than 16 MiB"), "{bomb}");
    }
}
