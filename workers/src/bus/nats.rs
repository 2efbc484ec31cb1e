//! The NATS bus: core NATS for publish/subscribe and request/reply, and for each work queue
//! a JetStream stream with work-queue retention (`SY_WORK_{queue}` on `sy.work.{queue}`)
//! read through one durable pull consumer with explicit acks, `ack_wait` as the lease,
//! `max_deliver` and the redelivery backoff set from [`QueueConfig`].

use super::names::{check_pattern, check_queue, check_subject};
use super::{Bus, BusError, BusMessage, BusResult, Delivery, QueueConfig, Replies, Subscription};
use crate::subjects::work_queue;
use async_nats::jetstream::{self, consumer, stream, AckKind};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Name of the durable consumer every worker of a pool pulls through.
const CONSUMER: &str = "workers";

fn transport(e: impl std::fmt::Display) -> BusError {
    BusError::Transport(e.to_string())
}

/// The stream that stores `queue`.
pub fn stream_name(queue: &str) -> String {
    format!("SY_WORK_{}", queue.replace('-', "_"))
}

/// The NATS [`Bus`].
pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    consumers: Mutex<HashMap<String, consumer::PullConsumer>>,
}

impl NatsBus {
    /// Connects to the NATS server at `url` (JetStream must be enabled). The client
    /// reconnects on its own when the connection drops.
    pub async fn connect(url: &str) -> BusResult<NatsBus> {
        let client = async_nats::ConnectOptions::new()
            .name("switchyard")
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(transport)?;
        let js = jetstream::new(client.clone());
        Ok(NatsBus {
            client,
            js,
            consumers: Mutex::new(HashMap::new()),
        })
    }

    /// Deletes the stream behind `queue` and everything in it (tests and operators).
    pub async fn delete_queue(&self, queue: &str) -> BusResult<()> {
        self.cached_consumers().remove(queue);
        self.js
            .delete_stream(stream_name(queue))
            .await
            .map_err(transport)?;
        Ok(())
    }

    fn cached_consumers(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, consumer::PullConsumer>> {
        self.consumers.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn consumer(&self, queue: &str) -> BusResult<consumer::PullConsumer> {
        if let Some(c) = self.cached_consumers().get(queue) {
            return Ok(c.clone());
        }
        // Declared by another process: look it up.
        let stream = self
            .js
            .get_stream(stream_name(queue))
            .await
            .map_err(|_| BusError::UnknownQueue(queue.to_owned()))?;
        let c: consumer::PullConsumer = stream
            .get_consumer(CONSUMER)
            .await
            .map_err(|_| BusError::UnknownQueue(queue.to_owned()))?;
        self.cached_consumers().insert(queue.to_owned(), c.clone());
        Ok(c)
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, subject: &str, payload: Bytes) -> BusResult<()> {
        check_subject(subject)?;
        self.client
            .publish(subject.to_owned(), payload)
            .await
            .map_err(transport)
    }

    async fn subscribe(&self, subject: &str) -> BusResult<Subscription> {
        check_pattern(subject)?;
        let subscriber = self
            .client
            .subscribe(subject.to_owned())
            .await
            .map_err(transport)?;
        // Make sure the server has the interest before anyone publishes to it.
        self.client.flush().await.map_err(transport)?;
        Ok(into_subscription(subscriber))
    }

    async fn subscribe_queue(&self, subject: &str, group: &str) -> BusResult<Subscription> {
        check_pattern(subject)?;
        let subscriber = self
            .client
            .queue_subscribe(subject.to_owned(), group.to_owned())
            .await
            .map_err(transport)?;
        self.client.flush().await.map_err(transport)?;
        Ok(into_subscription(subscriber))
    }

    fn is_durable(&self) -> bool {
        true
    }

    async fn request(&self, subject: &str, payload: Bytes, timeout: Duration) -> BusResult<Bytes> {
        check_subject(subject)?;
        let request = async_nats::Request::new()
            .payload(payload)
            .timeout(Some(timeout));
        match self.client.send_request(subject.to_owned(), request).await {
            Ok(message) => Ok(message.payload),
            Err(e) => Err(match e.kind() {
                async_nats::RequestErrorKind::TimedOut => BusError::Timeout(subject.to_owned()),
                async_nats::RequestErrorKind::NoResponders => {
                    BusError::NoResponders(subject.to_owned())
                }
                _ => transport(e),
            }),
        }
    }

    async fn request_replies(&self, subject: &str, payload: Bytes) -> BusResult<Replies> {
        check_subject(subject)?;
        let inbox = self.client.new_inbox();
        let replies = self
            .client
            .subscribe(inbox.clone())
            .await
            .map_err(transport)?;
        self.client
            .publish_with_reply(subject.to_owned(), inbox, payload)
            .await
            .map_err(transport)?;
        // With nobody listening, the server answers once with a "no responders" status.
        let subject = subject.to_owned();
        Ok(replies
            .map(move |m| match m.status {
                Some(async_nats::StatusCode::NO_RESPONDERS) => {
                    Err(BusError::NoResponders(subject.clone()))
                }
                _ => Ok(m.payload),
            })
            .boxed())
    }

    async fn respond(&self, reply: &str, payload: Bytes) -> BusResult<()> {
        self.client
            .publish(reply.to_owned(), payload)
            .await
            .map_err(transport)
    }

    async fn declare_queue(&self, queue: &str, config: QueueConfig) -> BusResult<()> {
        check_queue(queue)?;
        let stream = self
            .js
            .get_or_create_stream(stream::Config {
                name: stream_name(queue),
                subjects: vec![work_queue(queue)],
                retention: stream::RetentionPolicy::WorkQueue,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(transport)?;
        // NATS requires more deliveries than backoff steps.
        let max_deliver = config.max_deliver.max(config.backoff.len() as u32 + 1);
        let consumer: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(CONSUMER.to_owned()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: config.ack_wait,
                max_deliver: i64::from(max_deliver),
                backoff: config.backoff.clone(),
                ..Default::default()
            })
            .await
            .map_err(transport)?;
        self.cached_consumers().insert(queue.to_owned(), consumer);
        Ok(())
    }

    async fn enqueue(&self, queue: &str, payload: Bytes) -> BusResult<()> {
        check_queue(queue)?;
        // The second await waits for the stream's acknowledgement: the message is stored.
        self.js
            .publish(work_queue(queue), payload)
            .await
            .map_err(transport)?
            .await
            .map_err(|e| match e.kind() {
                jetstream::context::PublishErrorKind::StreamNotFound => {
                    BusError::UnknownQueue(queue.to_owned())
                }
                _ => transport(e),
            })?;
        Ok(())
    }

    async fn pull(&self, queue: &str, wait: Duration) -> BusResult<Option<Box<dyn Delivery>>> {
        let consumer = self.consumer(queue).await?;
        let mut batch = consumer
            .fetch()
            .max_messages(1)
            .expires(wait.max(Duration::from_millis(100)))
            .messages()
            .await
            .map_err(transport)?;
        match batch.next().await {
            None => Ok(None),
            Some(Err(e)) => Err(transport(e)),
            Some(Ok(message)) => {
                let attempt = message
                    .info()
                    .map(|i| u32::try_from(i.delivered).unwrap_or(u32::MAX))
                    .map_err(transport)?;
                Ok(Some(Box::new(NatsDelivery { message, attempt })))
            }
        }
    }

    async fn queue_depth(&self, queue: &str) -> BusResult<u64> {
        let consumer = self.consumer(queue).await?;
        let info = consumer.get_info().await.map_err(transport)?;
        Ok(info.num_pending + info.num_ack_pending as u64)
    }
}

fn into_subscription(subscriber: async_nats::Subscriber) -> Subscription {
    subscriber
        .map(|m| BusMessage {
            subject: m.subject.to_string(),
            payload: m.payload,
            reply: m.reply.map(|r| r.to_string()),
        })
        .boxed()
}

/// A leased JetStream message.
struct NatsDelivery {
    message: jetstream::Message,
    attempt: u32,
}

#[async_trait]
impl Delivery for NatsDelivery {
    fn payload(&self) -> &[u8] {
        &self.message.payload
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn ack(&self) -> BusResult<()> {
        // Confirmed by the server, so a completed job is not delivered again.
        self.message.double_ack().await.map_err(transport)
    }

    async fn nack(&self, delay: Duration) -> BusResult<()> {
        let delay = (!delay.is_zero()).then_some(delay);
        self.message
            .ack_with(AckKind::Nak(delay))
            .await
            .map_err(transport)
    }

    async fn in_progress(&self) -> BusResult<()> {
        self.message
            .ack_with(AckKind::Progress)
            .await
            .map_err(transport)
    }

    async fn terminate(&self) -> BusResult<()> {
        self.message
            .double_ack_with(AckKind::Term)
            .await
            .map_err(transport)
    }
}
