//! `make bench`: end-to-end no-op job throughput and dispatch latency, on the embedded
//! default (SQLite + in-process bus) and distributed (PostgreSQL + NATS), each beside the
//! floor measured in the same run (an in-process channel round trip; a raw NATS
//! request/reply round trip), so the overhead reads as a ratio; and the embedded database
//! under log load: 20 jobs writing 5,000 log lines each while 10 clients read job pages,
//! beside the same reads on the idle database. Not a test: it asserts nothing and prints
//! tables.

use bytes::Bytes;
use futures::StreamExt;
use server::config::JobsConfig;
use server::jobs::{Jobs, NewJob};
use server::store::{Store, StoreOptions};
use shared::ids::TenantId;
use shared::jobs::JobStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};
use workers::bus::memory::InProcessBus;
use workers::bus::nats::NatsBus;
use workers::bus::Bus;
use workers::pools::PoolName;
use workers::runtime::{run_pool, WorkerConfig};

mod common;
use common::{fresh_postgres, percentile, workspace};

const JOBS: usize = 300;
const HOPS: usize = 2_000;

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

/// A job service on a pool of its own with `slots` worker slots.
struct Service {
    jobs: Arc<Jobs>,
    pool: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    worker: tokio::task::JoinHandle<Result<(), workers::bus::BusError>>,
}

impl Service {
    async fn start(store: &Store, bus: Arc<dyn Bus>, slots: u32) -> Service {
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
        let mut worker = WorkerConfig::new(&pool, slots);
        if !bus.is_durable() {
            // As `switchyard serve` runs its embedded workers: straight to the job service,
            // claiming the pool's jobs themselves.
            let link = Arc::new(server::jobs::StoreLink::new(jobs.clone()));
            worker.claims = Some(link.clone());
            worker.link = Some(link);
        }
        let worker = tokio::spawn(run_pool(bus, worker, stopped));
        Service {
            jobs,
            pool,
            tasks,
            stop,
            worker,
        }
    }
}

/// Submits `JOBS` no-op jobs at once and waits for all; dispatch latency is submission to
/// claim (the store's `started_at - created_at`).
async fn run_jobs(label: &str, store: Store, bus: Arc<dyn Bus>) -> Figures {
    let tenant = workspace(&store).await;
    let Service {
        jobs,
        pool,
        tasks,
        stop,
        worker,
    } = Service::start(&store, bus, 16).await;
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

const LOAD_JOBS: usize = 20;
const LOAD_LINES: u32 = 5_000;
const READERS: usize = 10;

/// What the readers saw.
struct Reads {
    count: usize,
    failed: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// `READERS` clients reading job pages (the job and its first 1,000 log lines, as the
/// console's job page does) round robin over `ids` until `stop` is set.
async fn read_pages(
    store: &Store,
    tenant: TenantId,
    ids: &[shared::ids::JobId],
    stop: tokio::sync::watch::Receiver<bool>,
) -> Reads {
    let mut readers = Vec::new();
    for r in 0..READERS {
        let (store, ids, stop) = (store.clone(), ids.to_vec(), stop.clone());
        readers.push(tokio::spawn(async move {
            let (mut times, mut failed, mut i) = (Vec::new(), 0usize, r);
            while !*stop.borrow() {
                let id = ids[i % ids.len()];
                i += 1;
                let t = Instant::now();
                let page = async {
                    store.job(tenant, id).await?;
                    store.job_log(tenant, id, 0, 1_000).await
                };
                match page.await {
                    Ok(_) => times.push(t.elapsed().as_secs_f64() * 1e3),
                    Err(_) => failed += 1,
                }
            }
            (times, failed)
        }));
    }
    let (mut times, mut failed) = (Vec::new(), 0);
    for r in readers {
        if let Ok((t, f)) = r.await {
            times.extend(t);
            failed += f;
        }
    }
    times.sort_by(f64::total_cmp);
    Reads {
        count: times.len(),
        failed,
        p50_ms: percentile(&times, 0.5),
        p99_ms: percentile(&times, 0.99),
        max_ms: times.last().copied().unwrap_or(0.0),
    }
}

/// The embedded database under log load: `LOAD_JOBS` jobs each writing `LOAD_LINES` log
/// lines through the worker runtime while `READERS` clients read job pages; then the same
/// reads for two seconds on the idle database (the baseline). Answers both, the seconds the
/// writing took and the lines stored.
async fn log_load(store: Store) -> (Reads, Reads, f64, i64) {
    let tenant = workspace(&store).await;
    let Service {
        jobs,
        pool,
        tasks,
        stop: stop_workers,
        worker,
    } = Service::start(&store, Arc::new(InProcessBus::new()), LOAD_JOBS as u32).await;
    let start = Instant::now();
    let mut ids = Vec::with_capacity(LOAD_JOBS);
    for _ in 0..LOAD_JOBS {
        let job = jobs
            .submit(NewJob {
                tenant,
                kind: "diagnostic".into(),
                pool: PoolName::parse(&pool).expect("pool"),
                payload: serde_json::json!({"lines": LOAD_LINES, "seconds": 5}),
                max_attempts: 1,
            })
            .await
            .expect("submit");
        ids.push(job.id);
    }
    let (stop_reading, reading) = tokio::sync::watch::channel(false);
    let loaded = {
        let (store, ids) = (store.clone(), ids.clone());
        tokio::spawn(async move { read_pages(&store, tenant, &ids, reading).await })
    };
    for id in &ids {
        loop {
            let job = store.job(tenant, *id).await.expect("job").expect("exists");
            if job.status.is_final() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let took = start.elapsed().as_secs_f64();
    let _ = stop_reading.send(true);
    let loaded = loaded.await.expect("readers");
    let mut stored = 0;
    for id in &ids {
        stored += store.last_log_seq(*id).await.expect("log");
    }
    let (stop_idle, idle_reading) = tokio::sync::watch::channel(false);
    let idle = {
        let (store, ids) = (store.clone(), ids.clone());
        tokio::spawn(async move { read_pages(&store, tenant, &ids, idle_reading).await })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_idle.send(true);
    let idle = idle.await.expect("readers");
    let _ = stop_workers.send(true);
    let _ = worker.await;
    for t in tasks {
        t.abort();
    }
    (loaded, idle, took, stored)
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
        let load_store = Store::connect(&format!("sqlite://{}/load.db", dir.display()), StoreOptions::default())
            .await
            .expect("sqlite store");
        let (loaded, idle, took, stored) = log_load(load_store).await;
        let _ = std::fs::remove_dir_all(&dir);

        println!(
            "\nEmbedded database under log load: {LOAD_JOBS} jobs x {LOAD_LINES} log lines ({stored} of {} stored in {took:.1} s), {READERS} clients reading job pages (job + 1,000 log lines)\n",
            LOAD_JOBS as u32 * LOAD_LINES
        );
        println!("{:<44} {:>10} {:>8} {:>10} {:>10} {:>10}", "", "reads", "failed", "p50 ms", "p99 ms", "max ms");
        for (label, r) in [("reads while the jobs write", &loaded), ("baseline: same reads, idle database", &idle)] {
            println!("{:<44} {:>10} {:>8} {:>10.2} {:>10.2} {:>10.2}", label, r.count, r.failed, r.p50_ms, r.p99_ms, r.max_ms);
        }
        println!(
            "under load the p99 read is {:.1}x the idle p99 (target: no failed read, p99 <= 50 ms)",
            loaded.p99_ms / idle.p99_ms.max(1e-9)
        );

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
