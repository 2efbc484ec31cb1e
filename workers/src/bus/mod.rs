//! The `Bus` seam: how the control plane and workers talk. Two implementations, one
//! conformance suite (`tests/bus_conformance.rs`):
//!
//! - [`memory::InProcessBus`] — the embedded default: everything inside one process.
//! - [`nats::NatsBus`] — NATS core for publish/subscribe and request/reply, JetStream
//!   work-queue streams (explicit acks) for durable work.
//!
//! The bus offers three things:
//! 1. publish/subscribe on subjects (ephemeral: a message nobody listens to is gone; NATS
//!    wildcards `*` for one token and `>` for the rest);
//! 2. request/reply with a timeout (fails fast when nobody listens), and requests whose
//!    answerer replies more than once (notes that it is still at work, then its answer);
//! 3. durable work queues: enqueue; pull under a lease; ack, nack with a delay, extend the
//!    lease (in progress), or terminate. A delivery not acked before its lease ends is
//!    delivered again (after the queue's backoff), at most `max_deliver` times.
//!
//! Subjects are documented in ARCHITECTURE.md and built only by [`crate::subjects`]; [`names`]
//! says what a subject, pattern or queue name may look like.

pub mod memory;
pub mod names;
pub mod nats;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use std::time::Duration;

/// Why a bus operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    /// Nobody answered a request in time.
    #[error("request to {0} timed out")]
    Timeout(String),
    /// Nobody listens on the request's subject.
    #[error("no responder on {0}")]
    NoResponders(String),
    /// A subject or queue name is not valid.
    #[error("invalid subject or queue name {0:?}")]
    InvalidName(String),
    /// The queue was never declared.
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    /// The transport failed (connection, server error).
    #[error("bus transport error: {0}")]
    Transport(String),
}

/// Result of a bus operation.
pub type BusResult<T> = Result<T, BusError>;

/// A message on the core bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusMessage {
    /// The subject it was published on.
    pub subject: String,
    /// Its bytes.
    pub payload: Bytes,
    /// Where to send the answer, for a request.
    pub reply: Option<String>,
}

/// A live subscription: messages as they arrive. Dropping it unsubscribes.
pub type Subscription = BoxStream<'static, BusMessage>;

/// The replies to one request, as they arrive. Dropping it stops listening.
pub type Replies = BoxStream<'static, BusResult<Bytes>>;

/// How a work queue treats unacknowledged work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long a delivery's lease lasts before it is delivered again.
    pub ack_wait: Duration,
    /// Deliveries of one message at most (then it is dropped from the queue).
    pub max_deliver: u32,
    /// The lease of the n-th delivery, replacing `ack_wait` (the last entry repeats), as
    /// JetStream's consumer backoff does; empty: `ack_wait` for every delivery. Growing
    /// leases space out redeliveries of work whose holders keep dying.
    pub backoff: Vec<Duration>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            ack_wait: Duration::from_secs(30),
            max_deliver: 10,
            backoff: Vec::new(),
        }
    }
}

/// One delivery of a queued message, held under a lease until it is settled.
#[async_trait]
pub trait Delivery: Send + Sync {
    /// The message's bytes.
    fn payload(&self) -> &[u8];
    /// Which delivery of the message this is (1 for the first).
    fn attempt(&self) -> u32;
    /// Done: the message leaves the queue.
    async fn ack(&self) -> BusResult<()>;
    /// Not now: deliver again after `delay`.
    async fn nack(&self, delay: Duration) -> BusResult<()>;
    /// Still working: the lease starts over.
    async fn in_progress(&self) -> BusResult<()>;
    /// Never: the message leaves the queue without being done.
    async fn terminate(&self) -> BusResult<()>;
}

/// The seam between the control plane and the workers.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes `payload` on `subject` to whoever listens now.
    async fn publish(&self, subject: &str, payload: Bytes) -> BusResult<()>;
    /// Listens on `subject` (wildcards allowed).
    async fn subscribe(&self, subject: &str) -> BusResult<Subscription>;
    /// Listens on `subject` as a member of `group`: each message reaches one member of the
    /// group (and every plain subscriber), so replicas can share the work of answering.
    async fn subscribe_queue(&self, subject: &str, group: &str) -> BusResult<Subscription>;
    /// Whether queued work outlives this process (JetStream) or not (in-process).
    fn is_durable(&self) -> bool;
    /// Sends a request and waits up to `timeout` for the first answer.
    async fn request(&self, subject: &str, payload: Bytes, timeout: Duration) -> BusResult<Bytes>;
    /// Sends a request whose answerer may reply more than once (notes that it is still at
    /// work, then its answer): its replies as they come, until the caller drops them. A
    /// request nobody listens for fails with [`BusError::NoResponders`], at once or as the
    /// first reply. The caller decides how long to wait.
    async fn request_replies(&self, subject: &str, payload: Bytes) -> BusResult<Replies>;
    /// Answers a request (publishes on its reply subject); may be called more than once
    /// for [`Bus::request_replies`].
    async fn respond(&self, reply: &str, payload: Bytes) -> BusResult<()>;
    /// Creates the work queue `queue` if missing, or updates its settings.
    async fn declare_queue(&self, queue: &str, config: QueueConfig) -> BusResult<()>;
    /// Adds a message to a work queue; it is stored before this returns.
    async fn enqueue(&self, queue: &str, payload: Bytes) -> BusResult<()>;
    /// Takes the next message of `queue` under a lease, waiting up to `wait` for one.
    async fn pull(&self, queue: &str, wait: Duration) -> BusResult<Option<Box<dyn Delivery>>>;
    /// Messages in `queue` not yet settled (waiting or leased).
    async fn queue_depth(&self, queue: &str) -> BusResult<u64>;
}

/// The lease of delivery number `delivery` (1 for the first) under `config`.
pub fn lease_for(config: &QueueConfig, delivery: u32) -> Duration {
    if config.backoff.is_empty() {
        return config.ack_wait;
    }
    let index = (delivery.max(1) as usize - 1).min(config.backoff.len() - 1);
    config.backoff[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_sets_each_deliverys_lease_and_repeats_its_last_step() {
        let mut c = QueueConfig {
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            backoff: vec![Duration::from_secs(1), Duration::from_secs(5)],
        };
        assert_eq!(lease_for(&c, 1), Duration::from_secs(1));
        assert_eq!(lease_for(&c, 2), Duration::from_secs(5));
        assert_eq!(lease_for(&c, 9), Duration::from_secs(5));
        c.backoff.clear();
        assert_eq!(lease_for(&c, 3), Duration::from_secs(30));
    }
}
