//! Fault tests of the data plane, on PostgreSQL and NATS with real processes: a worker
//! killed with SIGKILL in the middle of a job, a job accepted but never dispatched before
//! the control plane died, a NATS restart while jobs wait in the queue, two control planes
//! firing the same schedule ticks, and a route's worker killed in the middle of a request.

use crate::common::{Auth, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use server::store::Backend;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use workers::bus::nats::NatsBus;

fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

fn pool() -> String {
    format!("f{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// A data directory of its own for a process (its generated keys), under the temp directory.
fn scratch_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sy-fault-{}", uuid::Uuid::new_v4().simple()))
}

/// A `switchyard worker` process; killed with SIGKILL when dropped.
struct WorkerProcess(Child);

impl WorkerProcess {
    fn start(nats: &str, pool: &str) -> WorkerProcess {
        WorkerProcess::with_env(nats, pool, &[])
    }

    /// A worker with these environment variables besides NATS's URL and a data directory.
    fn with_env(nats: &str, pool: &str, env: &[(&str, &str)]) -> WorkerProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["worker", "--pool", pool, "--concurrency", "2"])
            .env("NATS_URL", nats)
            .env("DATA_DIR", scratch_dir())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the switchyard binary starts");
        WorkerProcess(child)
    }

    fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

async fn wait_for(
    app: &TestApp,
    auth: &Auth,
    path: &str,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..secs * 10 {
        let a = app.call(Method::GET, path, None, auth).await;
        if a.status == StatusCode::OK && done(&a.body) {
            return a.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last = app.call(Method::GET, path, None, auth).await;
    panic!(
        "{path} never reached the expected state; last: {}",
        last.body
    );
}

async fn submit(app: &TestApp, auth: &Auth, pool: &str, payload: Value) -> String {
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/jobs",
            Some(json!({"kind": "diagnostic", "pool": pool, "payload": payload})),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_job_survives_its_worker_being_killed() {
    let pool = pool();
    let bus = Arc::new(NatsBus::connect(&nats_url()).await.expect("NATS"));
    let app = TestApp::with_jobs(Backend::Postgres, bus, &pool, 0).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let id = submit(&app, &ada, &pool, json!({"lines": 10, "seconds": 3})).await;
    let path = format!("/api/v1/workspaces/acme/jobs/{id}");

    let mut first = WorkerProcess::start(&nats_url(), &pool);
    wait_for(&app, &ada, &path, 30, |j| j["status"] == "running").await;
    // Once a line of it is stored (not after a fixed time: on a loaded machine the first
    // line can take longer), kill it without warning.
    wait_for(&app, &ada, &format!("{path}/logs"), 30, |j| {
        j["lines"].as_array().is_some_and(|l| !l.is_empty())
    })
    .await;
    first.kill9();
    let _second = WorkerProcess::start(&nats_url(), &pool);

    let done = wait_for(&app, &ada, &path, 60, |j| j["status"] == "succeeded").await;
    assert_eq!(
        done["attempts"], 2,
        "the lease expired and a second attempt finished: {done}"
    );
    assert_eq!(done["result"], json!({"lines": 10}));
    assert_eq!(
        done["error"],
        "the worker stopped answering (lease expired)"
    );
    // The log keeps both attempts' lines, numbered in one sequence.
    let logs = app
        .call(Method::GET, &format!("{path}/logs"), None, &ada)
        .await;
    let seqs: Vec<i64> = logs.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(
        seqs.len() > 10,
        "lines of the killed attempt are kept too: {seqs:?} {}",
        logs.body
    );
    app.finish().await;
}

#[tokio::test]
async fn an_accepted_job_runs_after_the_control_plane_died_before_dispatching_it() {
    let pool = pool();
    let bus = Arc::new(NatsBus::connect(&nats_url()).await.expect("NATS"));
    // A control plane that accepts the job but dies before its dispatcher runs: the job
    // exists only in the store.
    let down = TestApp::with_config(Backend::Postgres, |c| {
        c.jobs.pools.push(pool.clone());
        c.jobs.group = format!("cp-{}", uuid::Uuid::new_v4().simple());
    })
    .await;
    let (ada, _) = down.sign_up("ada@example.com").await;
    down.create_workspace(&ada, "acme").await;
    let id = submit(&down, &ada, &pool, json!({"lines": 2, "seconds": 0.2})).await;
    let job = down
        .store
        .job_any_tenant(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.status.as_str(), job.dispatched_at), ("queued", None));

    // A new control plane on the same store finds it and a worker runs it.
    let jobs = Arc::new(server::jobs::Jobs::new(
        down.store.clone(),
        bus,
        down.control.jobs.engine().config().clone(),
        workers::kinds::Kinds::builtin(),
    ));
    let tasks = jobs.start().await.unwrap();
    let _worker = WorkerProcess::start(&nats_url(), &pool);
    let path = format!("/api/v1/workspaces/acme/jobs/{id}");
    let done = wait_for(&down, &ada, &path, 60, |j| j["status"] == "succeeded").await;
    assert_eq!(done["attempts"], 1);
    for t in tasks {
        t.abort();
    }
    down.finish().await;
}

/// A NATS server of this test alone, on a free port, with its own JetStream directory.
struct OwnNats {
    child: Child,
    port: u16,
}

impl OwnNats {
    fn start(port: u16, dir: &std::path::Path) -> OwnNats {
        let child = Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (Debian package) is installed");
        OwnNats { child, port }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    async fn wait_up(&self) {
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nats-server did not start");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn queued_jobs_complete_across_a_nats_restart() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = std::env::temp_dir().join(format!("sy-nats-{}", uuid::Uuid::new_v4().simple()));
    let mut nats = OwnNats::start(port, &dir);
    nats.wait_up().await;
    let pool = pool();
    let bus = Arc::new(NatsBus::connect(&nats.url()).await.unwrap());
    let app = TestApp::with_jobs(Backend::Postgres, bus, &pool, 0).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let _worker = WorkerProcess::start(&nats.url(), &pool);

    // Two long jobs fill the worker's two slots; four more wait in the JetStream queue.
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(submit(&app, &ada, &pool, json!({"lines": 6, "seconds": 3})).await);
    }
    for _ in 0..4 {
        ids.push(submit(&app, &ada, &pool, json!({"lines": 1, "seconds": 0.1})).await);
    }
    for id in &ids[..2] {
        wait_for(
            &app,
            &ada,
            &format!("/api/v1/workspaces/acme/jobs/{id}"),
            30,
            |j| j["status"] == "running",
        )
        .await;
    }

    // NATS goes away and comes back on the same port and storage; the control plane and
    // the worker reconnect, and every job completes.
    nats.stop();
    tokio::time::sleep(Duration::from_millis(500)).await;
    nats = OwnNats::start(port, &dir);
    nats.wait_up().await;
    for id in &ids {
        wait_for(
            &app,
            &ada,
            &format!("/api/v1/workspaces/acme/jobs/{id}"),
            90,
            |j| j["status"] == "succeeded",
        )
        .await;
    }
    drop(nats);
    let _ = std::fs::remove_dir_all(&dir);
    app.finish().await;
}

/// A `switchyard serve` process on PostgreSQL and NATS, without embedded workers, and its
/// data directory (where its outbox is).
struct ServerProcess(Child, std::path::PathBuf);

impl ServerProcess {
    fn start(database_url: &str, nats: &str, port: u16, pool: &str, group: &str) -> ServerProcess {
        ServerProcess::with_env(database_url, nats, port, pool, group, &[])
    }

    /// A server with these environment variables besides the usual ones.
    fn with_env(
        database_url: &str,
        nats: &str,
        port: u16,
        pool: &str,
        group: &str,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        let data_dir = scratch_dir();
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("serve")
            .env("DATA_DIR", &data_dir)
            .env("WORKER_POOLS", pool)
            .env("CONTROL_PLANE_GROUP", group)
            .env("SWITCHYARD_ADDR", format!("127.0.0.1:{port}"))
            .env("GATEWAY_ADDR", "127.0.0.1:0")
            .env("DATABASE_URL", database_url)
            .env("NATS_URL", nats)
            // Other tests' control planes share this NATS server.
            .env("SHARED_NATS", "true")
            .env("EMBEDDED_WORKERS", "0")
            .env("SESSION_SECRET", "fault-test-secret-fault-test-secret-!!")
            .env("JOB_LEASE_SECS", "10")
            .env("AUTH_ATTEMPTS_PER_IP_PER_MINUTE", "1000")
            .env("SITE_ROOT", "target/no-site")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the switchyard binary starts");
        ServerProcess(child, data_dir)
    }

    /// The token of the newest verification link in this server's outbox, waiting for it.
    async fn verification_token(&self) -> String {
        let outbox = self.1.join("outbox");
        for _ in 0..100 {
            let mut files: Vec<_> = std::fs::read_dir(&outbox)
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            files.sort();
            if let Some(text) = files.last().and_then(|f| std::fs::read_to_string(f).ok()) {
                return crate::common::link_token(&text, "/verify-email");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no verification mail in {}", outbox.display());
    }

    fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

async fn wait_http(base: &str) {
    let http = oauth2::reqwest::Client::new();
    for _ in 0..150 {
        if http.get(format!("{base}/health/live")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server at {base} did not come up");
}

/// Sends JSON over real HTTP; answers the status, the session cookie set (if any) and the
/// JSON body.
async fn http_json(
    method: &str,
    url: &str,
    body: Option<Value>,
    auth: &[(&str, String)],
) -> (u16, Option<String>, Value) {
    let http = oauth2::reqwest::Client::new();
    let mut request = match method {
        "POST" => http.post(url),
        _ => http.get(url),
    };
    for (name, value) in auth {
        request = request.header(*name, value.as_str());
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let bytes = response.bytes().await.unwrap_or_default();
    (
        status,
        cookie,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn no_accepted_job_is_lost_when_the_server_is_killed() {
    let db = crate::common::TestDb::new(Backend::Postgres).await;
    let pool = pool();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let group = format!("cp-{}", uuid::Uuid::new_v4().simple());

    let mut first = ServerProcess::start(&db.url, &nats_url(), port, &pool, &group);
    wait_http(&base).await;
    http_json(
        "POST",
        &format!("{base}/api/v1/auth/signup"),
        Some(
            json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}),
        ),
        &[],
    )
    .await;
    let token = first.verification_token().await;
    let (_, cookie, _) = http_json(
        "POST",
        &format!("{base}/api/v1/auth/verify-email"),
        Some(json!({ "token": token, "password": "correct horse battery" })),
        &[],
    )
    .await;
    let session = [("cookie", cookie.expect("a session cookie"))];
    let (status, _, _) = http_json(
        "POST",
        &format!("{base}/api/v1/workspaces"),
        Some(json!({"slug": "acme", "name": "Acme"})),
        &session,
    )
    .await;
    assert_eq!(status, 201);
    let (_, _, key) = http_json(
        "POST",
        &format!("{base}/api/v1/workspaces/acme/api-keys"),
        Some(json!({"name": "faults", "role": "developer"})),
        &session,
    )
    .await;
    let bearer = [(
        "authorization",
        format!("Bearer {}", key["key"].as_str().unwrap()),
    )];

    // Accept a burst of jobs and kill the server the moment the last one is accepted:
    // some are on the queue, some only in the store.
    let mut ids = Vec::new();
    for _ in 0..20 {
        let (status, _, job) = http_json(
            "POST",
            &format!("{base}/api/v1/workspaces/acme/jobs"),
            Some(
                json!({"kind": "diagnostic", "pool": pool, "payload": {"lines": 1, "seconds": 0}}),
            ),
            &bearer,
        )
        .await;
        assert_eq!(status, 201, "{job}");
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    first.kill9();

    let second = ServerProcess::start(&db.url, &nats_url(), port, &pool, &group);
    wait_http(&base).await;
    let _worker = WorkerProcess::start(&nats_url(), &pool);
    for id in &ids {
        let mut last = Value::Null;
        for _ in 0..600 {
            let (_, _, job) = http_json(
                "GET",
                &format!("{base}/api/v1/workspaces/acme/jobs/{id}"),
                None,
                &bearer,
            )
            .await;
            last = job;
            if last["status"] == "succeeded" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(last["status"], "succeeded", "job {id} was lost: {last}");
        assert_eq!(last["attempts"], 1);
    }
    drop(second);
    db.drop_db().await;
}

/// A control plane on PostgreSQL and NATS whose pipeline runs go to a pool of their own
/// (no worker in this process), with Ada owning the workspace `acme`.
async fn pipelines_app() -> (TestApp, Auth, String) {
    let pool = pool();
    let bus = Arc::new(NatsBus::connect(&nats_url()).await.expect("NATS"));
    let app = TestApp::with_jobs_and_config(Backend::Postgres, bus, &pool, 0, |c| {
        c.pipeline_pool = pool.clone();
    })
    .await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    (app, ada, pool)
}

/// A `switchyard worker` of a pipelines pool whose HTTP nodes may reach loopback.
fn pipeline_worker(nats: &str, pool: &str) -> WorkerProcess {
    WorkerProcess::with_env(
        nats,
        pool,
        &[("EGRESS_ALLOW", "127.0.0.1"), ("EGRESS_ALLOW_HTTP", "true")],
    )
}

#[tokio::test]
async fn a_pipeline_run_resumes_from_its_journal_after_its_worker_is_killed() {
    let (app, ada, pool) = pipelines_app().await;
    let (before, before_hits) = crate::common::counting_server(vec![200]).await;
    let (after, after_hits) = crate::common::counting_server(vec![200]).await;
    let node =
        |id: &str, kind: &str, config: Value| json!({"id": id, "kind": kind, "config": config});
    let edge = |from: &str, to: &str| json!({"from": {"node": from, "port": "out"}, "to": {"node": to, "port": "in"}});
    let graph = json!({
        "nodes": [
            node("start", "manual", json!({})),
            node("before", "http", json!({"method": "POST", "url": before})),
            node("slow", "script", json!({"source": "export default (x) => { const end = Date.now() + 4000; while (Date.now() < end) {} return x.body }", "timeout_seconds": 60})),
            node("after", "http", json!({"method": "POST", "url": after, "body": "{{ nodes.slow }}"})),
            node("done", "output", json!({"value": {"before": "{{ nodes.before.body.hit }}", "after": "{{ nodes.after.body.hit }}"}}))
        ],
        "edges": [edge("start", "before"), edge("before", "slow"), edge("slow", "after"), edge("after", "done")]
    });
    let created = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/pipelines",
            Some(json!({"name": "Resumable", "graph": graph})),
            &ada,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let started = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/pipelines/{id}/runs"),
            Some(json!({"input": {}})),
            &ada,
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let path = format!(
        "/api/v1/workspaces/acme/runs/{}",
        started.body["id"].as_str().unwrap()
    );

    let mut first = pipeline_worker(&nats_url(), &pool);
    // Kill the worker while `slow` runs: `before` is done and journalled.
    wait_for(&app, &ada, &path, 60, |r| {
        r["nodes"].as_array().is_some_and(|nodes| {
            nodes
                .iter()
                .any(|n| n["node"] == "before" && n["status"] == "succeeded")
        })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill9();
    assert_eq!(
        after_hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "killed before `after`"
    );
    let _second = pipeline_worker(&nats_url(), &pool);

    let done = wait_for(&app, &ada, &path, 90, |r| r["status"] == "succeeded").await;
    assert_eq!(done["output"], json!({"before": 1, "after": 1}), "{done}");
    // The completed node was replayed from the journal, never sent again.
    assert_eq!(before_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(after_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    app.finish().await;
}

/// Two `switchyard serve` processes on one PostgreSQL database both run the scheduler: each
/// tick of a schedule makes exactly one run (one job, one run row), however the two race.
#[tokio::test]
async fn two_control_plane_processes_make_one_run_per_schedule_tick() {
    let (app, ada, pool) = pipelines_app().await;
    // Once a year, so only the ticks this test makes happen.
    let graph = json!({
        "nodes": [{"id": "tick", "kind": "schedule", "config": {"cron": "0 0 1 1 *", "timezone": "UTC", "missed": "skip"}},
                  {"id": "done", "kind": "output", "config": {}}],
        "edges": [{"from": {"node": "tick", "port": "out"}, "to": {"node": "done", "port": "in"}}]
    });
    let created = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/pipelines",
            Some(json!({"name": "Ticking", "graph": graph})),
            &ada,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let pipeline = created.body["id"].as_str().unwrap().to_owned();

    let group = format!("cp-{}", uuid::Uuid::new_v4().simple());
    let env = [("PIPELINE_POOL", pool.as_str())];
    let ports: Vec<u16> = (0..2)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        })
        .collect();
    let servers: Vec<ServerProcess> = ports
        .iter()
        .map(|port| ServerProcess::with_env(&app.db_url(), &nats_url(), *port, &pool, &group, &env))
        .collect();
    for port in &ports {
        wait_http(&format!("http://127.0.0.1:{port}")).await;
    }

    // The database as its owner, to make a tick due now (both schedulers look every second).
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&app.db_url())
        .await
        .expect("PostgreSQL");
    let count = |sql: &'static str| {
        let (admin, pipeline) = (admin.clone(), pipeline.clone());
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(pipeline)
                .fetch_one(&admin)
                .await
                .expect("a count")
        }
    };
    for tick in 1..=3_i64 {
        let due = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
            - 200;
        sqlx::query("UPDATE pipeline_schedules SET next_at = $1 WHERE pipeline_id = $2")
            .bind(due)
            .bind(&pipeline)
            .execute(&admin)
            .await
            .expect("the tick is due");
        let mut fired = 0;
        for _ in 0..100 {
            fired = count("SELECT COUNT(*) FROM pipeline_runs WHERE pipeline_id = $1").await;
            let advanced: i64 =
                sqlx::query_scalar("SELECT next_at FROM pipeline_schedules WHERE pipeline_id = $1")
                    .bind(&pipeline)
                    .fetch_one(&admin)
                    .await
                    .expect("the schedule");
            if fired == tick && advanced > due {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Both planes have looked at least twice since: a late duplicate would show now.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert_eq!(
            count("SELECT COUNT(*) FROM pipeline_runs WHERE pipeline_id = $1").await,
            tick,
            "runs after tick {tick} (fired {fired})"
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM jobs j JOIN pipelines p ON p.tenant_id = j.tenant_id WHERE p.id = $1 AND j.kind = 'pipeline.run'").await,
            tick,
            "one job per run after tick {tick}"
        );
        let ticked: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pipeline_runs WHERE pipeline_id = $1 AND tick_at = $2",
        )
        .bind(&pipeline)
        .bind(due)
        .fetch_one(&admin)
        .await
        .expect("a count");
        assert_eq!(ticked, 1, "tick {tick} ran once");
    }
    drop(servers);
    admin.close().await;
    app.finish().await;
}

/// The gateway of a control plane on PostgreSQL and NATS whose route handlers run only on a
/// `switchyard worker` process: killed in the middle of a request, the caller gets a 502 as
/// soon as the worker's silence shows, not the 504 of the route's 20 s timeout.
#[tokio::test]
async fn a_route_worker_killed_mid_request_answers_502_before_the_timeout() {
    use axum::body::Body;
    use axum::extract::connect_info::MockConnectInfo;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let pool = pool();
    let bus = Arc::new(NatsBus::connect(&nats_url()).await.expect("NATS"));
    let app = TestApp::with_jobs_and_config(Backend::Postgres, bus, &pool, 0, |c| {
        c.gateway.pool = pool.clone();
    })
    .await;
    app.control
        .gateway
        .clone()
        .watch()
        .await
        .expect("the gateway watches deploys");
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    for (path, source) in [
        ("/ping", "export default () => 'pong'"),
        ("/spin", "export default () => { while (true) {} }"),
    ] {
        let created = app
            .call(
                Method::POST,
                "/api/v1/workspaces/acme/routes",
                Some(json!({"method": "GET", "path": path,
                            "handler": {"kind": "script", "source": source},
                            "settings": {"timeout_ms": 20_000}})),
                &ada,
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    let deployed = app
        .call(Method::POST, "/api/v1/workspaces/acme/deploys", None, &ada)
        .await;
    assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.body);
    let gateway =
        app.control
            .gateway
            .clone()
            .router()
            .layer(MockConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                40_000,
            ))));
    let call = |path: &str| {
        let request = Request::builder()
            .uri(format!("/t/acme{path}"))
            .body(Body::empty())
            .expect("request");
        let gateway = gateway.clone();
        async move {
            let response = gateway.oneshot(request).await.expect("the gateway answers");
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
            )
        }
    };

    let mut worker = WorkerProcess::start(&nats_url(), &pool);
    // The worker is up once it answers.
    let mut up = false;
    for _ in 0..100 {
        if call("/ping").await.0 == StatusCode::OK {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(up, "the worker process serves the route pool");

    let spinning = tokio::spawn(call("/spin"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        !spinning.is_finished(),
        "the handler spins until it is stopped"
    );
    let killed = std::time::Instant::now();
    worker.kill9();
    let (status, body) = tokio::time::timeout(Duration::from_secs(30), spinning)
        .await
        .expect("the caller is answered")
        .expect("the request task");
    let waited = killed.elapsed();
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"]["code"], "bad_gateway", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("stopped"),
        "{body}"
    );
    assert!(
        waited < Duration::from_secs(10),
        "answered {waited:?} after the kill, well within the route's 20 s timeout"
    );
    app.finish().await;
}
