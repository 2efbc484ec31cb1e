//! `make bench`: the gateway's requests per second and latency, with wrk (Debian's) as the
//! load generator, for a bare axum hello handler built in this run (the floor), a `static`
//! route, a `script` route and a `pipeline` route with one script node — embedded (SQLite,
//! the in-process bus and in-process workers) and distributed (PostgreSQL, NATS and one
//! `switchyard worker` process). Then each script route again at half its peak rate, paced
//! in an open loop (a request's latency counts from when it was due, so a stall cannot hide
//! behind requests that were never sent), for its p99. The pacer is this bench's binary run
//! again as a process of its own (`--pace`), as wrk is: in the gateway's process it would
//! share its threads, and a busy gateway would delay the sending too. Not a test: it
//! asserts nothing and prints a table.

use axum::routing::get;
use serde_json::json;
use server::accounts::Principal;
use server::config::Config;
use server::control::Control;
use server::store::{Store, StoreOptions};
use shared::ids::SessionId;
use shared::pipelines::views::CreatePipeline;
use shared::routes::views::RouteBody;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workers::bus::memory::InProcessBus;
use workers::bus::nats::NatsBus;
use workers::bus::Bus;

mod common;
use common::{fresh_postgres, percentile, workspace_and_owner};

/// How long wrk loads each target.
const LOAD_SECONDS: u32 = 6;
/// wrk's open connections (two cores here: more only queue).
const CONNECTIONS: u32 = 32;

/// One measured target.
struct Row {
    target: String,
    setup: &'static str,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// Where the routes run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Setup {
    Embedded,
    Distributed,
}

impl Setup {
    fn label(self) -> &'static str {
        match self {
            Setup::Embedded => "embedded",
            Setup::Distributed => "distributed",
        }
    }
}

/// wrk against `url`: requests per second and the p50 and p99 latencies in ms.
fn wrk(url: &str) -> (f64, f64, f64) {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{CONNECTIONS}"),
            &format!("-d{LOAD_SECONDS}s"),
            "--latency",
            url,
        ])
        .output()
        .expect("wrk (make bench installs it from Debian)");
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let errors = text.lines().any(|l| l.contains("Non-2xx"));
    if errors {
        eprintln!("wrk saw non-2xx answers from {url}:\n{text}");
    }
    let at = |p: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(p))
            .map(|v| wrk_ms(v.trim()))
            .unwrap_or(f64::NAN)
    };
    (rps, at("50%"), at("99%"))
}

/// A wrk duration (`812.00us`, `1.20ms`, `2.01s`) in ms.
fn wrk_ms(v: &str) -> f64 {
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1e3,
        "ms" => n,
        "s" => n * 1e3,
        "m" => n * 60e3,
        _ => f64::NAN,
    }
}

/// [`paced`] in a process of its own (this binary with `--pace`): its p50 and p99 in ms,
/// and how many requests failed.
fn paced_elsewhere(url: &str, rate: f64, seconds: f64) -> (f64, f64, usize) {
    let out = Command::new(std::env::current_exe().expect("this bench's path"))
        .args(["--pace", url, &rate.to_string(), &seconds.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .expect("the pacer runs");
    assert!(out.status.success(), "the pacer failed: {}", out.status);
    let text = String::from_utf8_lossy(&out.stdout);
    let figures: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(|v| v.parse().expect("the pacer's figures"))
        .collect();
    let [p50, p99, failed] = figures[..] else {
        panic!("the pacer printed {text:?}, not its p50, p99 and failures");
    };
    (p50, p99, failed as usize)
}

/// The pacer's process (`--pace URL RATE SECONDS`): prints [`paced`]'s p50, p99 and
/// failures on one line.
fn pace_main(args: &[String]) {
    let (Some(url), Some(rate), Some(seconds)) = (
        args.first(),
        args.get(1).and_then(|r| r.parse::<f64>().ok()),
        args.get(2).and_then(|s| s.parse::<f64>().ok()),
    ) else {
        eprintln!("usage: --pace URL RATE SECONDS");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (p50, p99, failed) = runtime.block_on(paced(url, rate, seconds));
    println!("{p50} {p99} {failed}");
}

/// `rate` requests per second to `url` for `seconds`, each sent when it is due whatever
/// the earlier ones are doing: the p50 and p99 of (answered - due), in ms, and how many
/// failed.
async fn paced(url: &str, rate: f64, seconds: f64) -> (f64, f64, usize) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("a client");
    let n = (rate * seconds) as usize;
    let every = Duration::from_secs_f64(1.0 / rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let due = start + every * i as u32;
        tokio::time::sleep_until(due).await;
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let ok = match client.get(&url).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (due.elapsed().as_secs_f64() * 1e3, ok)
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    let mut failed = 0;
    for t in tasks {
        match t.await {
            Ok((ms, true)) => latencies.push(ms),
            _ => failed += 1,
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    (
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        failed,
    )
}

/// The floor: axum answering "hello" on its own listener, in this process.
async fn bare_axum() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    let app = axum::Router::new().route("/hello", get(|| async { "hello" }));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// The configuration of a control plane whose gateway, route handlers and pipeline runs
/// all use the pool `pool`.
fn config(pool: &str, nats: Option<String>) -> Config {
    let mut config = Config::from_env().expect("the configuration");
    config.nats_url = nats;
    config.gateway.pool = pool.to_owned();
    config.gateway.addr = SocketAddr::from(([127, 0, 0, 1], 0));
    config.pipeline_pool = pool.to_owned();
    config.jobs.pools.push(pool.to_owned());
    config.jobs.tick = Duration::from_millis(5);
    config.jobs.tenant_concurrency = 10_000;
    config
}

/// A workspace's slug and its owner acting with a session.
async fn workspace(store: &Store) -> (Principal, String) {
    let (user, ws) = workspace_and_owner(store).await;
    let owner = Principal::User {
        user,
        session: SessionId::new(),
    };
    (owner, ws.slug)
}

fn route(path: &str, handler: serde_json::Value) -> RouteBody {
    serde_json::from_value(json!({"method": "GET", "path": path, "handler": handler}))
        .expect("a route")
}

/// The three routes, deployed: `/static`, `/script` and `/pipeline`.
async fn deploy_routes(control: &Control, owner: &Principal, slug: &str) {
    let graph = serde_json::from_value(json!({
        "nodes": [
            {"id": "request", "kind": "manual", "config": {}},
            {"id": "answer", "kind": "script", "config": {"source": "export default (req) => ({status: 200, body: {hello: req.path}})"}},
            {"id": "done", "kind": "output", "config": {}}
        ],
        "edges": [
            {"from": {"node": "request", "port": "out"}, "to": {"node": "answer", "port": "in"}},
            {"from": {"node": "answer", "port": "out"}, "to": {"node": "done", "port": "in"}}
        ]
    }))
    .expect("a graph");
    let pipeline = control
        .pipelines
        .create(
            owner,
            slug,
            CreatePipeline {
                name: "hello".into(),
                graph,
            },
        )
        .await
        .expect("the pipeline");
    for body in [
        route(
            "/static",
            json!({"kind": "static", "status": 200, "body": "hello"}),
        ),
        route(
            "/script",
            json!({"kind": "script", "source": "export default (req) => ({status: 200, body: 'hello ' + req.path})"}),
        ),
        route(
            "/pipeline",
            json!({"kind": "pipeline", "pipeline_id": pipeline.id}),
        ),
    ] {
        control
            .routes
            .create_route(owner, slug, body)
            .await
            .expect("a route");
    }
    control.routes.deploy(owner, slug).await.expect("a deploy");
}

/// A `switchyard worker` process serving `pool` (route handlers and pipeline runs).
fn worker_process(nats: &str, pool: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["worker", "--pool", pool, "--concurrency", "16"])
        .env("NATS_URL", nats)
        .env(
            "DATA_DIR",
            std::env::temp_dir().join(format!("sy-bench-{}", uuid::Uuid::new_v4().simple())),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the switchyard binary starts")
}

async fn measure(setup: Setup, store: Store, bus: Arc<dyn Bus>, nats: &str, rows: &mut Vec<Row>) {
    let pool = format!("b{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let nats_url = (setup == Setup::Distributed).then(|| nats.to_owned());
    let control = server::control_plane(store.clone(), config(&pool, nats_url), bus.clone());
    let tasks = control
        .jobs
        .engine()
        .start()
        .await
        .expect("the job service");
    let watcher = control
        .gateway
        .clone()
        .watch()
        .await
        .expect("the gateway watches deploys");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut process = None;
    match setup {
        Setup::Embedded => {
            tokio::spawn(workers::routes::serve(
                bus.clone(),
                pool.clone(),
                16,
                stopped.clone(),
            ));
            tokio::spawn(workers::runtime::run_pool(
                bus.clone(),
                server::embedded_worker(&control, &pool, 16),
                stopped,
            ));
        }
        Setup::Distributed => process = Some(worker_process(nats, &pool)),
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    let app = control
        .gateway
        .clone()
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let gateway = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let (owner, slug) = workspace(&store).await;
    deploy_routes(&control, &owner, &slug).await;
    let base = format!("http://{addr}/t/{slug}");
    // Until the worker answers (a worker process takes a moment to start).
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let ok = client
            .get(format!("{base}/pipeline"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for target in ["static", "script", "pipeline"] {
        let url = format!("{base}/{target}");
        let (rps, p50, p99) = wrk(&url);
        rows.push(Row {
            target: format!("{target} route"),
            setup: setup.label(),
            rps,
            p50_ms: p50,
            p99_ms: p99,
        });
        if target == "script" {
            let (p50, p99, failed) = paced_elsewhere(&url, (rps / 2.0).max(1.0), 5.0);
            if failed > 0 {
                eprintln!("{failed} paced requests to {url} failed");
            }
            rows.push(Row {
                target: "script route, half its peak".into(),
                setup: setup.label(),
                rps: (rps / 2.0).max(1.0),
                p50_ms: p50,
                p99_ms: p99,
            });
        }
    }
    let _ = stop.send(true);
    if let Some(mut child) = process {
        let _ = child.kill();
        let _ = child.wait();
    }
    gateway.abort();
    watcher.abort();
    for t in tasks {
        t.abort();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--pace") {
        return pace_main(&args[at + 1..]);
    }
    // The control planes' files (session secret, keys, code indexes) go to a scratch
    // directory; set before any thread starts.
    let dir = std::env::temp_dir().join(format!("sy-bench-{}", uuid::Uuid::new_v4().simple()));
    std::env::set_var("DATA_DIR", &dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let nats = std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        let mut rows = Vec::new();
        let floor = bare_axum().await;
        let (rps, p50, p99) = wrk(&format!("http://{floor}/hello"));
        rows.push(Row {
            target: "bare axum hello".into(),
            setup: "this process",
            rps,
            p50_ms: p50,
            p99_ms: p99,
        });
        let started = Instant::now();
        let sqlite = Store::connect(&format!("sqlite://{}/routes.db", dir.display()), StoreOptions::default())
            .await
            .expect("sqlite store");
        measure(Setup::Embedded, sqlite, Arc::new(InProcessBus::new()), &nats, &mut rows).await;
        let (pg, _db) = fresh_postgres().await;
        let bus = NatsBus::connect(&nats).await.expect("NATS");
        measure(Setup::Distributed, pg, Arc::new(bus), &nats, &mut rows).await;
        let _ = std::fs::remove_dir_all(&dir);

        let floor = rows[0].rps;
        println!("\nGateway throughput and latency (wrk -t2 -c{CONNECTIONS} -d{LOAD_SECONDS}s; paced rows: open loop from a process of their own), {:.0} s\n", started.elapsed().as_secs_f64());
        println!("{:<30} {:<13} {:>10} {:>12} {:>9} {:>9}", "", "", "req/s", "% of axum", "p50 ms", "p99 ms");
        for r in &rows {
            println!(
                "{:<30} {:<13} {:>10.0} {:>11.1}% {:>9.2} {:>9.2}",
                r.target,
                r.setup,
                r.rps,
                100.0 * r.rps / floor,
                r.p50_ms,
                r.p99_ms
            );
        }
        println!("\ntargets: static >= 70% of bare axum's req/s; script >= 25%; script p99 <= 5 ms at half its peak rate");
    });
}
