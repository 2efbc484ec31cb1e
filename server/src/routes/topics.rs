//! Topics at work: a message published to a live topic is stored with one durable delivery
//! job per script subscriber (`topic.deliver` on the route pool), in one transaction. Each
//! delivery retries with the job service's backoff until its subscriber's attempts are
//! spent; then it is dead — a dead letter, listed and replayable. A pipeline subscriber's
//! delivery is a run of the pipeline's live version (trigger `topic`) with the message as
//! its input, started before the message is stored (a failed run is on the pipeline's runs
//! page, re-run from there); so is a run of each pipeline whose live version has a topic
//! trigger on the topic. Delivery is at least once and in no promised order; every
//! delivery of a message carries its id.

use super::store::{DeadLetter, DeliveryRecord, MessageRecord};
use crate::clock::{now_ms, rfc3339_ms};
use crate::jobs::{Jobs, NewJob};
use crate::pipelines::{Cause, PipelineOps};
use crate::store::Store;
use serde_json::{json, Value};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::ids::{MessageId, TenantId};
use shared::routes::views::{DeadLetterView, DeliveryView, MessageRunView, MessageView, Published};
use shared::routes::{Manifest, SubscriberHandler};
use workers::pools::PoolName;
use workers::routes::{Delivery, PublishReply, PublishRequest, DELIVER_KIND};

/// The largest message, as JSON.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Publishes `body` to `topic` of the live manifest `live`: the message and its
/// deliveries are stored together, then the deliveries are dispatched.
#[allow(clippy::too_many_arguments)]
pub(super) async fn publish(
    store: &Store,
    jobs: &Jobs,
    pipelines: &PipelineOps,
    pool: &str,
    tenant: TenantId,
    live: &Manifest,
    topic: &str,
    body: Value,
) -> ApiResult<Published> {
    let Some(topic) = live.topic(topic) else {
        return Err(ApiError::not_found("deployed topic"));
    };
    let text = serde_json::to_string(&body).map_err(|_| ApiError::internal())?;
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ApiError::field(
            "body",
            format!("a message is at most {} KiB", MAX_MESSAGE_BYTES / 1024),
        ));
    }
    let pool = PoolName::parse(pool).map_err(|_| ApiError::internal())?;
    let now = now_ms();
    let message = MessageRecord {
        id: MessageId::new(),
        topic: topic.name.clone(),
        body: text,
        published_at: now,
        expires_at: now + i64::from(topic.retention_hours) * 3_600_000,
    };
    // Pipeline subscribers first: a run each (trigger `topic`), so a pipeline that cannot
    // start (deleted since the deploy) refuses the publish before anything is stored.
    let mut runs = 0;
    for subscriber in &topic.subscribers {
        if let SubscriberHandler::Pipeline { pipeline_id } = &subscriber.handler {
            let input = json!({"id": message.id.to_string(), "topic": topic.name,
                "subscriber": subscriber.name, "body": body, "published_at": now, "attempt": 1});
            pipelines
                .start_for(
                    tenant,
                    pipeline_id,
                    input,
                    Cause::Topic {
                        message: message.id,
                    },
                )
                .await
                .map_err(|e| {
                    ApiError::new(
                        ErrorCode::Unavailable,
                        format!(
                            "the subscriber {} did not start: {}",
                            subscriber.name, e.message
                        ),
                    )
                })?;
            runs += 1;
        }
    }
    // Pipelines started by the topic (their topic trigger), likewise.
    let input = json!({"id": message.id.to_string(), "topic": topic.name, "body": body,
        "published_at": now});
    runs += pipelines
        .start_on_topic(tenant, &topic.name, message.id, &input)
        .await?;
    let mut deliveries = Vec::new();
    for subscriber in &topic.subscribers {
        let SubscriberHandler::Script { source } = &subscriber.handler else {
            continue;
        };
        let payload = serde_json::to_value(Delivery {
            tenant_id: tenant.to_string(),
            topic: topic.name.clone(),
            subscriber: subscriber.name.clone(),
            message_id: message.id.to_string(),
            published_at: now,
            body: body.clone(),
            source: source.clone(),
            timeout_ms: subscriber.timeout_ms,
        })
        .map_err(|_| ApiError::internal())?;
        let job = jobs
            .admit(NewJob {
                tenant,
                kind: DELIVER_KIND.to_owned(),
                pool: pool.clone(),
                payload,
                max_attempts: subscriber.max_attempts,
            })
            .await?;
        deliveries.push((job, subscriber.name.clone()));
    }
    store.insert_message(tenant, &message, &deliveries).await?;
    for (job, _) in &deliveries {
        jobs.wake(&job.pool);
    }
    Ok(Published {
        id: message.id.to_string(),
        deliveries: deliveries.len() + runs,
    })
}

/// The control plane's answer to pipelines' publish nodes (`sy.t.{tenant}.publish`, asked
/// by the worker running the run; see `workers::routes::publisher`).
pub struct PublishRequests(std::sync::Weak<super::RouteOps>);

impl PublishRequests {
    /// Answers for `ops` (held weakly: the job service holds this answerer, and `ops` the
    /// job service).
    pub fn new(ops: &std::sync::Arc<super::RouteOps>) -> PublishRequests {
        PublishRequests(std::sync::Arc::downgrade(ops))
    }
}

#[async_trait::async_trait]
impl crate::jobs::WorkerRequests for PublishRequests {
    fn pattern(&self) -> &'static str {
        workers::subjects::PUBLISHES
    }

    async fn answer(&self, message: &workers::bus::BusMessage) -> Option<bytes::Bytes> {
        let ops = self.0.upgrade()?;
        let tenant: Option<TenantId> =
            workers::subjects::tenant_of(&message.subject).and_then(|t| t.parse().ok());
        let request = serde_json::from_slice::<PublishRequest>(&message.payload);
        let (Some(tenant), Ok(request)) = (tenant, request) else {
            tracing::warn!(subject = %message.subject, "unreadable publish request ignored");
            return None;
        };
        let reply = match ops
            .publish_for_run(tenant, &request.topic, request.message)
            .await?
        {
            Ok(published) => PublishReply::Published {
                id: published.id,
                deliveries: published.deliveries,
            },
            Err(e) => {
                tracing::info!(%tenant, pipeline = %request.pipeline_id, topic = %request.topic,
                    error = %e.message, "a pipeline's publish was refused");
                PublishReply::Refused {
                    retryable: matches!(e.code, ErrorCode::Unavailable | ErrorCode::Internal),
                    error: e.message,
                }
            }
        };
        serde_json::to_vec(&reply).ok().map(bytes::Bytes::from)
    }
}

/// A message with its deliveries as the API shows them (a body that no longer parses, which
/// only a corrupt row could hold, is shown as its text).
pub(super) fn message_view(
    message: MessageRecord,
    deliveries: Vec<DeliveryRecord>,
    runs: Vec<MessageRunView>,
) -> MessageView {
    MessageView {
        id: message.id.to_string(),
        body: serde_json::from_str(&message.body).unwrap_or(Value::String(message.body)),
        at: message.published_at,
        published_at: rfc3339_ms(message.published_at),
        deliveries: deliveries
            .into_iter()
            .map(|d| DeliveryView {
                subscriber: d.subscriber,
                job_id: d.job.to_string(),
                status: d.status,
                attempts: d.attempts,
                error: d.error,
                replay_of: d.replay_of.map(|j| j.to_string()),
            })
            .collect(),
        runs,
    }
}

/// A dead letter as the API shows it.
pub(super) fn dead_letter_view(dead: DeadLetter) -> DeadLetterView {
    let body = serde_json::from_str::<Delivery>(&dead.job.payload)
        .map(|d| d.body)
        .unwrap_or(Value::Null);
    DeadLetterView {
        job_id: dead.job.id.to_string(),
        message_id: dead.message_id.to_string(),
        subscriber: dead.subscriber,
        attempts: dead.job.attempt,
        error: dead.job.error,
        failed_at: dead.job.finished_at.map(rfc3339_ms),
        body,
    }
}
