//! `make bench`: end-to-end no-op job throughput and dispatch latency, on the embedded
//! default (SQLite + in-process bus) and distributed (PostgreSQL + NATS), each beside the
//! floor measured in the same run (an in-process channel round trip; a raw NATS
//! request/reply round trip), so the overhead reads as a ratio. Not a test: it asserts
//! nothing and prints a table.

use bytes::Bytes;
use futures::StreamExt;
use server::accounts::UserRecord;
use server::config::JobsConfig;
use server::jobs::{Jobs, NewJob};
use server::store::{Store, StoreOptions};
use server::tenancy::WorkspaceRecord;
use shared::ids::{TenantId, UserId};
use shared::jobs::JobStatus;
use sqlx::{Connection, Executor};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workers::bus::memory::InProcessBus;
use workers::bus::nats::NatsBus;
use workers::bus::Bus;
use workers::pools::PoolName;
use workers::runtime::{run_pool, WorkerConfig};

const JOBS: usize = 300;
const HOPS: usize = 2_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Figures {
    label: String,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn channel_floor() -> Figures {
    let (to_server, mut server_rx) =
        tokio::sync::mpsc::channel::<tokio::sync::oneshot::Sender<()>>(16);
    tokio::spawn(async move {
        while let Some(reply) = server_rx.recv().await {
            let _ = reply.send(());
        }
    });
    let mut times = Vec::with_capacity(HOPS);
    let start = Instant::now();
    for _ in 0..HOPS {
        let t = Instant::now();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let _ = to_server.send(tx).await;
        let _ = rx.await;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let total = start.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    Figures {
        label: "floor: in-process channel round trip".into(),
        per_second: HOPS as f64 / total,
        p50_ms: percentile(&times, 0.5),
        p99_ms: percentile(&times, 0.99),
    }
}

async fn nats_floor(url: &str) -> Figures {
    let bus = NatsBus::connect(url).await.expect("NATS for the benchmark");
    let subject = format!("sy.bench.{}", uuid::Uuid::new_v4().simple());
    let mut requests = bus.subscribe(&subject).await.expect("subscribe");
    let bus = Arc::new(bus);
    let responder = bus.clone();
    tokio::spawn(async move {
        while let Some(m) = requests.next().await {
            if let Some(reply) = m.reply {
                let _ = responder.respond(&reply, Bytes::new()).await;
            }
        }
    });
    let mut times = Vec::with_capacity(HOPS);
    let start = Instant::now();
    for _ in 0..HOPS {
        let t = Instant::now();
        let _ = bus
            .request(&subject, Bytes::new(), Duration::from_secs(5))
            .await;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let total = start.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    Figures {
        label: "floor: raw NATS request/reply".into(),
        per_second: HOPS as f64 / total,
        p50_ms: percentile(&times, 0.5),
        p99_ms: percentile(&times, 0.99),
    }
}

async fn workspace(store: &Store) -> TenantId {
    let owner = UserRecord {
        id: UserId::new(),
        email: format!("bench-{}@example.com", uuid::Uuid::new_v4().simple()),
        name: "Bench".into(),
        password_hash: None,
        created_at: 0,
    };
    store.create_user(&owner, None).await.expect("user");
    let ws = WorkspaceRecord {
        id: TenantId::new(),
        slug: format!("bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
        name: "Bench".into(),
        created_at: 0,
    };
    store
        .create_workspace(&ws, owner.id)
        .await
        .expect("workspace");
    ws.id
}

/// Submits `JOBS` no-op jobs at once and waits for all; dispatch latency is submission to
/// claim (the store's `started_at - created_at`).
async fn run_jobs(label: &str, store: Store, bus: Arc<dyn Bus>) -> Figures {
    let tenant = workspace(&store).await;
    let pool = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let config = JobsConfig {
        tenant_concurrency: 1_000,
        tick: Duration::from_millis(20),
        pools: vec![pool.clone()],
        group: format!("bench-{}", uuid::Uuid::new_v4().simple()),
        ..Default::default()
    };
    let jobs = Arc::new(Jobs::new(
        store.clone(),
        bus.clone(),
        config,
        workers::kinds::Kinds::builtin(),
    ));
    let tasks = jobs.start().await.expect("job service");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(run_pool(bus.clone(), WorkerConfig::new(&pool, 16), stopped));
    let start = Instant::now();
    let mut ids = Vec::with_capacity(JOBS);
    for _ in 0..JOBS {
        let job = jobs
            .submit(NewJob {
                tenant,
                kind: "diagnostic".into(),
                pool: PoolName::parse(&pool).expect("pool"),
                payload: serde_json::json!({"lines": 0, "seconds": 0}),
                max_attempts: 1,
            })
            .await
            .expect("submit");
        ids.push(job.id);
    }
    let mut latencies = Vec::with_capacity(JOBS);
    for id in &ids {
        loop {
            let job = store.job(tenant, *id).await.expect("job").expect("exists");
            if job.status == JobStatus::Succeeded {
                latencies.push((job.started_at.unwrap_or(job.created_at) - job.created_at) as f64);
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let total = start.elapsed().as_secs_f64();
    let _ = stop.send(true);
    let _ = worker.await;
    for t in tasks {
        t.abort();
    }
    latencies.sort_by(f64::total_cmp);
    Figures {
        label: label.into(),
        per_second: JOBS as f64 / total,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
    }
}

async fn fresh_postgres() -> (Store, String) {
    sqlx::any::install_default_drivers();
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("sy_test_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .expect("PostgreSQL for the benchmark");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).expect("url");
    url.set_path(&format!("/{name}"));
    (
        Store::connect(url.as_str(), StoreOptions::default())
            .await
            .expect("store"),
        name,
    )
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let nats = std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        let dir = std::env::temp_dir().join(format!("sy-bench-{}", uuid::Uuid::new_v4().simple()));
        let sqlite = Store::connect(&format!("sqlite://{}/bench.db", dir.display()), StoreOptions::default())
            .await
            .expect("sqlite store");
        let channel = channel_floor().await;
        let embedded = run_jobs("jobs: embedded (SQLite + in-process bus)", sqlite, Arc::new(InProcessBus::new())).await;
        let nats_hop = nats_floor(&nats).await;
        let (pg, _db) = fresh_postgres().await;
        let bus = NatsBus::connect(&nats).await.expect("NATS");
        let distributed = run_jobs("jobs: distributed (PostgreSQL + NATS)", pg, Arc::new(bus)).await;
        let _ = std::fs::remove_dir_all(&dir);

        println!("\n{JOBS} no-op jobs submitted at once, 16 worker slots; latency = submission to claim\n");
        println!("{:<44} {:>12} {:>10} {:>10}", "", "per second", "p50 ms", "p99 ms");
        for f in [&channel, &embedded, &nats_hop, &distributed] {
            println!("{:<44} {:>12.0} {:>10.3} {:>10.3}", f.label, f.per_second, f.p50_ms, f.p99_ms);
        }
        println!();
        println!(
            "embedded: a job costs {:.0}x a channel round trip ({:.0} jobs/s vs {:.0} hops/s)",
            channel.per_second / embedded.per_second.max(1e-9),
            embedded.per_second,
            channel.per_second
        );
        println!(
            "distributed: a job costs {:.1}x a NATS round trip ({:.0} jobs/s vs {:.0} round trips/s)",
            nats_hop.per_second / distributed.per_second.max(1e-9),
            distributed.per_second,
            nats_hop.per_second
        );
    });
}
