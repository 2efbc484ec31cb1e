//! The `Bus` conformance suite: written once, run against the in-process bus and against a
//! real NATS server with JetStream (`TEST_NATS_URL`, default `nats://127.0.0.1:4222`).

use bytes::Bytes;
use futures::StreamExt;
use std::time::Duration;
use workers::bus::memory::InProcessBus;
use workers::bus::nats::NatsBus;
use workers::bus::{Bus, BusError, QueueConfig, Subscription};

fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A name no other test uses (subjects and queues share one NATS server).
fn unique() -> String {
    format!("t{}", uuid::Uuid::new_v4().simple())
}

async fn next(sub: &mut Subscription, wait: Duration) -> Option<String> {
    tokio::time::timeout(wait, sub.next())
        .await
        .ok()
        .flatten()
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
}

fn leases(ack_wait_ms: u64, max_deliver: u32) -> QueueConfig {
    QueueConfig {
        ack_wait: Duration::from_millis(ack_wait_ms),
        max_deliver,
        backoff: Vec::new(),
    }
}

macro_rules! conformance {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn in_process() {
                let bus = InProcessBus::new();
                super::$name(&bus, &unique()).await;
            }

            #[tokio::test]
            async fn nats() {
                let bus = NatsBus::connect(&nats_url())
                    .await
                    .expect("NATS with JetStream at TEST_NATS_URL (make test starts one)");
                let id = unique();
                super::$name(&bus, &id).await;
                let _ = bus.delete_queue(&id).await;
            }
        }
    };
}

async fn publish_reaches_matching_subscribers_only(bus: &dyn Bus, id: &str) {
    let mut one = bus.subscribe(&format!("sy.test.{id}.*")).await.unwrap();
    let mut rest = bus.subscribe(&format!("sy.test.{id}.>")).await.unwrap();
    let mut other = bus.subscribe(&format!("sy.test.{id}x.>")).await.unwrap();
    bus.publish(&format!("sy.test.{id}.a"), Bytes::from("first"))
        .await
        .unwrap();
    bus.publish(&format!("sy.test.{id}.a.b"), Bytes::from("second"))
        .await
        .unwrap();
    let wait = Duration::from_secs(3);
    assert_eq!(next(&mut one, wait).await.as_deref(), Some("first"));
    assert_eq!(next(&mut rest, wait).await.as_deref(), Some("first"));
    assert_eq!(next(&mut rest, wait).await.as_deref(), Some("second"));
    let quiet = Duration::from_millis(300);
    assert_eq!(
        next(&mut one, quiet).await,
        None,
        "`*` matches one token only"
    );
    assert_eq!(next(&mut other, quiet).await, None);
    assert!(matches!(
        bus.publish("bad subject", Bytes::new()).await,
        Err(BusError::InvalidName(_))
    ));
    assert!(matches!(
        bus.subscribe("a.>.b").await,
        Err(BusError::InvalidName(_))
    ));
}
conformance!(publish_reaches_matching_subscribers_only);

async fn request_reply_answers_times_out_and_fails_fast(bus: &dyn Bus, id: &str) {
    let echo = format!("sy.test.{id}.echo");
    let mut requests = bus.subscribe(&echo).await.unwrap();
    let silent = format!("sy.test.{id}.silent");
    let _never_answers = bus.subscribe(&silent).await.unwrap();
    let answer = async {
        let m = requests.next().await.expect("a request");
        let reply = m.reply.expect("requests carry a reply subject");
        let upper = String::from_utf8_lossy(&m.payload).to_uppercase();
        bus.respond(&reply, Bytes::from(upper)).await.unwrap();
    };
    let ask = bus.request(&echo, Bytes::from("ping"), Duration::from_secs(3));
    let (_, got) = tokio::join!(answer, ask);
    assert_eq!(got.unwrap(), Bytes::from("PING"));

    let timed_out = bus
        .request(&silent, Bytes::from("x"), Duration::from_millis(300))
        .await;
    assert!(
        matches!(timed_out, Err(BusError::Timeout(_))),
        "{timed_out:?}"
    );
    let nobody = bus
        .request(
            &format!("sy.test.{id}.nobody"),
            Bytes::from("x"),
            Duration::from_secs(3),
        )
        .await;
    assert!(
        matches!(nobody, Err(BusError::NoResponders(_))),
        "{nobody:?}"
    );
}
conformance!(request_reply_answers_times_out_and_fails_fast);

async fn a_request_hears_every_reply_until_it_stops_listening(bus: &dyn Bus, id: &str) {
    let work = format!("sy.test.{id}.work");
    let mut requests = bus.subscribe(&work).await.unwrap();
    let mut replies = bus
        .request_replies(&work, Bytes::from("job"))
        .await
        .unwrap();
    let m = tokio::time::timeout(Duration::from_secs(3), requests.next())
        .await
        .expect("the request arrives")
        .expect("a request");
    assert_eq!(m.payload, Bytes::from("job"));
    let reply = m.reply.expect("requests carry a reply subject");
    for note in ["working", "working", "done"] {
        bus.respond(&reply, Bytes::from(note)).await.unwrap();
    }
    let mut heard = Vec::new();
    for _ in 0..3 {
        let got = tokio::time::timeout(Duration::from_secs(3), replies.next())
            .await
            .expect("a reply arrives")
            .expect("the replies go on")
            .expect("a reply, not an error");
        heard.push(String::from_utf8_lossy(&got).into_owned());
    }
    assert_eq!(heard, ["working", "working", "done"], "in the order sent");

    let nobody = async {
        match bus
            .request_replies(&format!("sy.test.{id}.nobody"), Bytes::from("x"))
            .await
        {
            Err(e) => Err(e),
            Ok(mut replies) => {
                match tokio::time::timeout(Duration::from_secs(3), replies.next()).await {
                    Ok(Some(Err(e))) => Err(e),
                    other => Ok(format!("{other:?}")),
                }
            }
        }
    }
    .await;
    assert!(
        matches!(nobody, Err(BusError::NoResponders(_))),
        "{nobody:?}"
    );
}
conformance!(a_request_hears_every_reply_until_it_stops_listening);

async fn queue_delivers_each_message_once_until_acked(bus: &dyn Bus, q: &str) {
    bus.declare_queue(q, leases(30_000, 5)).await.unwrap();
    bus.enqueue(q, Bytes::from("a")).await.unwrap();
    bus.enqueue(q, Bytes::from("b")).await.unwrap();
    assert_eq!(bus.queue_depth(q).await.unwrap(), 2);
    let wait = Duration::from_secs(3);
    let (first, second) = tokio::join!(bus.pull(q, wait), bus.pull(q, wait));
    let (first, second) = (
        first.unwrap().expect("one"),
        second.unwrap().expect("the other"),
    );
    let mut got = vec![first.payload().to_vec(), second.payload().to_vec()];
    got.sort();
    assert_eq!(
        got,
        vec![b"a".to_vec(), b"b".to_vec()],
        "two pullers get different messages"
    );
    assert_eq!((first.attempt(), second.attempt()), (1, 1));
    assert!(
        bus.pull(q, Duration::from_millis(300))
            .await
            .unwrap()
            .is_none(),
        "leased messages are not handed out again"
    );
    first.ack().await.unwrap();
    second.ack().await.unwrap();
    assert_eq!(bus.queue_depth(q).await.unwrap(), 0);
    assert!(bus
        .pull(q, Duration::from_millis(300))
        .await
        .unwrap()
        .is_none());
}
conformance!(queue_delivers_each_message_once_until_acked);

async fn nack_delivers_again_after_the_delay(bus: &dyn Bus, q: &str) {
    bus.declare_queue(q, leases(30_000, 5)).await.unwrap();
    bus.enqueue(q, Bytes::from("job")).await.unwrap();
    let d = bus
        .pull(q, Duration::from_secs(3))
        .await
        .unwrap()
        .expect("delivered");
    d.nack(Duration::from_secs(1)).await.unwrap();
    assert!(
        bus.pull(q, Duration::from_millis(200))
            .await
            .unwrap()
            .is_none(),
        "not before the delay"
    );
    let again = bus
        .pull(q, Duration::from_secs(5))
        .await
        .unwrap()
        .expect("delivered again");
    assert_eq!((again.payload(), again.attempt()), (&b"job"[..], 2));
    again.ack().await.unwrap();
}
conformance!(nack_delivers_again_after_the_delay);

async fn an_expired_lease_is_delivered_again(bus: &dyn Bus, q: &str) {
    bus.declare_queue(q, leases(1_000, 5)).await.unwrap();
    bus.enqueue(q, Bytes::from("job")).await.unwrap();
    let lost = bus
        .pull(q, Duration::from_secs(3))
        .await
        .unwrap()
        .expect("delivered");
    assert_eq!(lost.attempt(), 1);
    // The holder goes silent; after the lease another puller gets the message.
    let again = bus
        .pull(q, Duration::from_secs(6))
        .await
        .unwrap()
        .expect("redelivered");
    assert_eq!((again.payload(), again.attempt()), (&b"job"[..], 2));
    again.ack().await.unwrap();
    assert_eq!(bus.queue_depth(q).await.unwrap(), 0);
}
conformance!(an_expired_lease_is_delivered_again);

async fn in_progress_extends_the_lease(bus: &dyn Bus, q: &str) {
    bus.declare_queue(q, leases(1_000, 5)).await.unwrap();
    bus.enqueue(q, Bytes::from("long job")).await.unwrap();
    let held = bus
        .pull(q, Duration::from_secs(3))
        .await
        .unwrap()
        .expect("delivered");
    let keep_alive = async {
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            held.in_progress().await.unwrap();
        }
    };
    let competitor = bus.pull(q, Duration::from_millis(2_000));
    let (_, stolen) = tokio::join!(keep_alive, competitor);
    assert!(
        stolen.unwrap().is_none(),
        "a lease kept alive is not redelivered"
    );
    held.ack().await.unwrap();
    assert_eq!(bus.queue_depth(q).await.unwrap(), 0);
}
conformance!(in_progress_extends_the_lease);

async fn terminate_and_max_deliver_stop_redelivery(bus: &dyn Bus, q: &str) {
    bus.declare_queue(q, leases(1_000, 2)).await.unwrap();
    bus.enqueue(q, Bytes::from("poison")).await.unwrap();
    bus.enqueue(q, Bytes::from("doomed")).await.unwrap();
    let wait = Duration::from_secs(3);
    let mut seen = Vec::new();
    // Nack everything until nothing comes back: each message at most twice.
    while let Some(d) = bus.pull(q, wait).await.unwrap() {
        seen.push((
            String::from_utf8_lossy(d.payload()).into_owned(),
            d.attempt(),
        ));
        if d.payload() == b"doomed" {
            d.terminate().await.unwrap();
        } else {
            d.nack(Duration::ZERO).await.unwrap();
        }
        assert!(seen.len() <= 4, "delivered too often: {seen:?}");
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("doomed".to_owned(), 1),
            ("poison".to_owned(), 1),
            ("poison".to_owned(), 2)
        ]
    );
}
conformance!(terminate_and_max_deliver_stop_redelivery);

async fn undeclared_queues_are_an_error(bus: &dyn Bus, q: &str) {
    assert!(bus.enqueue(q, Bytes::from("x")).await.is_err());
    assert!(matches!(
        bus.pull(q, Duration::from_millis(100)).await,
        Err(BusError::UnknownQueue(_))
    ));
    assert!(matches!(
        bus.declare_queue("Bad.Name", QueueConfig::default()).await,
        Err(BusError::InvalidName(_))
    ));
}
conformance!(undeclared_queues_are_an_error);

/// JetStream keeps queued work when the client that enqueued it goes away.
#[tokio::test]
async fn nats_queued_work_survives_the_producer() {
    let q = unique();
    {
        let producer = NatsBus::connect(&nats_url()).await.unwrap();
        producer.declare_queue(&q, leases(30_000, 5)).await.unwrap();
        producer.enqueue(&q, Bytes::from("kept")).await.unwrap();
    }
    let worker = NatsBus::connect(&nats_url()).await.unwrap();
    let d = worker
        .pull(&q, Duration::from_secs(3))
        .await
        .unwrap()
        .expect("still queued");
    assert_eq!(d.payload(), b"kept");
    d.ack().await.unwrap();
    worker.delete_queue(&q).await.unwrap();
}

async fn queue_groups_share_messages_and_plain_subscribers_see_all(bus: &dyn Bus, id: &str) {
    let subject = format!("sy.test.{id}.work");
    let mut a = bus.subscribe_queue(&subject, "replicas").await.unwrap();
    let mut b = bus.subscribe_queue(&subject, "replicas").await.unwrap();
    let mut watcher = bus.subscribe(&subject).await.unwrap();
    for n in 0..6 {
        bus.publish(&subject, Bytes::from(format!("m{n}")))
            .await
            .unwrap();
    }
    let quiet = Duration::from_millis(500);
    let mut group_got = Vec::new();
    while let Some(m) = next(&mut a, quiet).await {
        group_got.push(m);
    }
    while let Some(m) = next(&mut b, quiet).await {
        group_got.push(m);
    }
    group_got.sort();
    assert_eq!(
        group_got,
        (0..6).map(|n| format!("m{n}")).collect::<Vec<_>>(),
        "each message to exactly one member"
    );
    let mut all = Vec::new();
    while let Some(m) = next(&mut watcher, quiet).await {
        all.push(m);
    }
    assert_eq!(all.len(), 6);
}
conformance!(queue_groups_share_messages_and_plain_subscribers_see_all);

async fn backoff_sets_the_lease_of_each_delivery(bus: &dyn Bus, q: &str) {
    bus.declare_queue(
        q,
        QueueConfig {
            ack_wait: Duration::from_secs(30),
            max_deliver: 3,
            backoff: vec![Duration::from_secs(1), Duration::from_secs(2)],
        },
    )
    .await
    .unwrap();
    bus.enqueue(q, Bytes::from("job")).await.unwrap();
    let first = bus
        .pull(q, Duration::from_secs(3))
        .await
        .unwrap()
        .expect("delivered");
    assert_eq!(first.attempt(), 1);
    // Not the 30 s ack_wait: the first backoff step is the first lease.
    let second = bus
        .pull(q, Duration::from_secs(6))
        .await
        .unwrap()
        .expect("redelivered after 1 s");
    assert_eq!(second.attempt(), 2);
    assert!(
        bus.pull(q, Duration::from_millis(800))
            .await
            .unwrap()
            .is_none(),
        "the second lease is longer"
    );
    let third = bus
        .pull(q, Duration::from_secs(6))
        .await
        .unwrap()
        .expect("redelivered after 2 s");
    assert_eq!(third.attempt(), 3);
    third.ack().await.unwrap();
}
conformance!(backoff_sets_the_lease_of_each_delivery);
