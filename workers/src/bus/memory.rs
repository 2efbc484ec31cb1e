//! The in-process bus: the embedded default, where the control plane and its worker tasks
//! share one process. Same contract as NATS; durability is the process's lifetime (the
//! control plane's store holds what must survive a restart).

use super::names::{check_pattern, check_queue, check_subject, matches};
use super::{
    lease_for, Bus, BusError, BusMessage, BusResult, Delivery, QueueConfig, Replies, Subscription,
};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

/// Messages a subscriber may fall behind by before newer ones are dropped for it (NATS
/// treats slow consumers the same way).
const SUBSCRIBER_BUFFER: usize = 4096;

struct Subscriber {
    pattern: String,
    group: Option<String>,
    tx: mpsc::Sender<BusMessage>,
}

struct Item {
    id: u64,
    payload: Bytes,
    delivered: u32,
    visible_at: Instant,
}

struct Leased {
    item: Item,
    deadline: Instant,
    token: u64,
}

struct Queue {
    config: QueueConfig,
    ready: VecDeque<Item>,
    leased: HashMap<u64, Leased>,
    notify: Arc<Notify>,
}

impl Queue {
    /// Returns leases that ran out to the ready list (after the backoff), and drops
    /// messages that used up their deliveries.
    fn expire_leases(&mut self, now: Instant) {
        let expired: Vec<u64> = self
            .leased
            .iter()
            .filter(|(_, l)| l.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(leased) = self.leased.remove(&id) {
                let mut item = leased.item;
                if item.delivered >= self.config.max_deliver {
                    continue;
                }
                item.visible_at = now;
                self.ready.push_back(item);
            }
        }
    }

    /// The earliest moment something changes without outside help.
    fn next_event(&self) -> Option<Instant> {
        let ready = self.ready.iter().map(|i| i.visible_at);
        let leases = self.leased.values().map(|l| l.deadline);
        ready.chain(leases).min()
    }
}

struct Inner {
    subscribers: Mutex<Vec<Subscriber>>,
    queues: Mutex<HashMap<String, Queue>>,
    ids: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The in-process [`Bus`].
#[derive(Clone)]
pub struct InProcessBus {
    inner: Arc<Inner>,
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcessBus {
    /// An empty bus.
    pub fn new() -> InProcessBus {
        InProcessBus {
            inner: Arc::new(Inner {
                subscribers: Mutex::new(Vec::new()),
                queues: Mutex::new(HashMap::new()),
                ids: AtomicU64::new(1),
            }),
        }
    }

    fn next_id(&self) -> u64 {
        self.inner.ids.fetch_add(1, Ordering::Relaxed)
    }

    fn deliver(&self, message: BusMessage) -> usize {
        let mut subscribers = lock(&self.inner.subscribers);
        subscribers.retain(|s| !s.tx.is_closed());
        let mut reached = 0;
        let mut groups: HashMap<&str, Vec<&Subscriber>> = HashMap::new();
        for s in subscribers
            .iter()
            .filter(|s| matches(&s.pattern, &message.subject))
        {
            match &s.group {
                Some(g) => groups.entry(g.as_str()).or_default().push(s),
                None => {
                    if s.tx.try_send(message.clone()).is_ok() {
                        reached += 1;
                    }
                }
            }
        }
        // One member per queue group, rotating.
        for members in groups.values() {
            let pick = self.next_id() as usize % members.len();
            if members[pick].tx.try_send(message.clone()).is_ok() {
                reached += 1;
            }
        }
        reached
    }

    fn has_listener(&self, subject: &str) -> bool {
        let mut subscribers = lock(&self.inner.subscribers);
        subscribers.retain(|s| !s.tx.is_closed());
        subscribers.iter().any(|s| matches(&s.pattern, subject))
    }

    fn listen(&self, pattern: &str, group: Option<&str>) -> mpsc::Receiver<BusMessage> {
        let (tx, rx) = mpsc::channel(SUBSCRIBER_BUFFER);
        lock(&self.inner.subscribers).push(Subscriber {
            pattern: pattern.to_owned(),
            group: group.map(str::to_owned),
            tx,
        });
        rx
    }
}

fn receiver_stream(rx: mpsc::Receiver<BusMessage>) -> Subscription {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) }).boxed()
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, subject: &str, payload: Bytes) -> BusResult<()> {
        check_subject(subject)?;
        self.deliver(BusMessage {
            subject: subject.to_owned(),
            payload,
            reply: None,
        });
        Ok(())
    }

    async fn subscribe(&self, subject: &str) -> BusResult<Subscription> {
        check_pattern(subject)?;
        Ok(receiver_stream(self.listen(subject, None)))
    }

    async fn subscribe_queue(&self, subject: &str, group: &str) -> BusResult<Subscription> {
        check_pattern(subject)?;
        Ok(receiver_stream(self.listen(subject, Some(group))))
    }

    fn is_durable(&self) -> bool {
        false
    }

    async fn request(&self, subject: &str, payload: Bytes, timeout: Duration) -> BusResult<Bytes> {
        check_subject(subject)?;
        if !self.has_listener(subject) {
            return Err(BusError::NoResponders(subject.to_owned()));
        }
        let inbox = format!("_INBOX.{}", self.next_id());
        let mut answers = self.listen(&inbox, None);
        self.deliver(BusMessage {
            subject: subject.to_owned(),
            payload,
            reply: Some(inbox),
        });
        match tokio::time::timeout(timeout, answers.recv()).await {
            Ok(Some(answer)) => Ok(answer.payload),
            Ok(None) | Err(_) => Err(BusError::Timeout(subject.to_owned())),
        }
    }

    async fn request_replies(&self, subject: &str, payload: Bytes) -> BusResult<Replies> {
        check_subject(subject)?;
        if !self.has_listener(subject) {
            return Err(BusError::NoResponders(subject.to_owned()));
        }
        let inbox = format!("_INBOX.{}", self.next_id());
        let replies = self.listen(&inbox, None);
        self.deliver(BusMessage {
            subject: subject.to_owned(),
            payload,
            reply: Some(inbox),
        });
        Ok(receiver_stream(replies).map(|m| Ok(m.payload)).boxed())
    }

    async fn respond(&self, reply: &str, payload: Bytes) -> BusResult<()> {
        self.deliver(BusMessage {
            subject: reply.to_owned(),
            payload,
            reply: None,
        });
        Ok(())
    }

    async fn declare_queue(&self, queue: &str, config: QueueConfig) -> BusResult<()> {
        check_queue(queue)?;
        let mut queues = lock(&self.inner.queues);
        match queues.get_mut(queue) {
            Some(q) => q.config = config,
            None => {
                queues.insert(
                    queue.to_owned(),
                    Queue {
                        config,
                        ready: VecDeque::new(),
                        leased: HashMap::new(),
                        notify: Arc::new(Notify::new()),
                    },
                );
            }
        }
        Ok(())
    }

    async fn enqueue(&self, queue: &str, payload: Bytes) -> BusResult<()> {
        let id = self.next_id();
        let mut queues = lock(&self.inner.queues);
        let q = queues
            .get_mut(queue)
            .ok_or_else(|| BusError::UnknownQueue(queue.to_owned()))?;
        q.ready.push_back(Item {
            id,
            payload,
            delivered: 0,
            visible_at: Instant::now(),
        });
        q.notify.notify_waiters();
        Ok(())
    }

    async fn pull(&self, queue: &str, wait: Duration) -> BusResult<Option<Box<dyn Delivery>>> {
        let give_up = Instant::now() + wait;
        let notify = lock(&self.inner.queues)
            .get(queue)
            .map(|q| q.notify.clone())
            .ok_or_else(|| BusError::UnknownQueue(queue.to_owned()))?;
        loop {
            // Register interest before looking, so an enqueue in between is not missed.
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next_event = {
                let mut queues = lock(&self.inner.queues);
                let q = queues
                    .get_mut(queue)
                    .ok_or_else(|| BusError::UnknownQueue(queue.to_owned()))?;
                let now = Instant::now();
                q.expire_leases(now);
                if let Some(pos) = q.ready.iter().position(|i| i.visible_at <= now) {
                    if let Some(mut item) = q.ready.remove(pos) {
                        item.delivered += 1;
                        let token = self.next_id();
                        let delivery = MemoryDelivery {
                            bus: self.clone(),
                            queue: queue.to_owned(),
                            id: item.id,
                            token,
                            attempt: item.delivered,
                            payload: item.payload.clone(),
                        };
                        let deadline = now + lease_for(&q.config, item.delivered);
                        q.leased.insert(
                            item.id,
                            Leased {
                                item,
                                deadline,
                                token,
                            },
                        );
                        return Ok(Some(Box::new(delivery)));
                    }
                }
                q.next_event()
            };
            let now = Instant::now();
            if now >= give_up {
                return Ok(None);
            }
            let wake = next_event.map_or(give_up, |t| t.min(give_up));
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    async fn queue_depth(&self, queue: &str) -> BusResult<u64> {
        let queues = lock(&self.inner.queues);
        let q = queues
            .get(queue)
            .ok_or_else(|| BusError::UnknownQueue(queue.to_owned()))?;
        Ok((q.ready.len() + q.leased.len()) as u64)
    }
}

/// A leased message of the in-process bus.
struct MemoryDelivery {
    bus: InProcessBus,
    queue: String,
    id: u64,
    token: u64,
    attempt: u32,
    payload: Bytes,
}

impl MemoryDelivery {
    /// Runs `f` on the queue if this delivery still holds the lease.
    fn with_lease(&self, f: impl FnOnce(&mut Queue, Leased)) {
        let mut queues = lock(&self.bus.inner.queues);
        if let Some(q) = queues.get_mut(&self.queue) {
            if q.leased
                .get(&self.id)
                .is_some_and(|l| l.token == self.token)
            {
                if let Some(leased) = q.leased.remove(&self.id) {
                    f(q, leased);
                }
            }
        }
    }

    /// Removes the message wherever it is (a late ack still settles it).
    fn settle(&self) {
        let mut queues = lock(&self.bus.inner.queues);
        if let Some(q) = queues.get_mut(&self.queue) {
            q.leased.remove(&self.id);
            q.ready.retain(|i| i.id != self.id);
        }
    }
}

#[async_trait]
impl Delivery for MemoryDelivery {
    fn payload(&self) -> &[u8] {
        &self.payload
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn ack(&self) -> BusResult<()> {
        self.settle();
        Ok(())
    }

    async fn nack(&self, delay: Duration) -> BusResult<()> {
        self.with_lease(|q, leased| {
            if leased.item.delivered < q.config.max_deliver {
                let mut item = leased.item;
                item.visible_at = Instant::now() + delay;
                q.ready.push_back(item);
                q.notify.notify_waiters();
            }
        });
        Ok(())
    }

    async fn in_progress(&self) -> BusResult<()> {
        self.with_lease(|q, mut leased| {
            leased.deadline = Instant::now() + lease_for(&q.config, leased.item.delivered);
            q.leased.insert(self.id, leased);
        });
        Ok(())
    }

    async fn terminate(&self) -> BusResult<()> {
        self.settle();
        Ok(())
    }
}
