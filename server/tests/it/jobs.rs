//! Durable jobs end to end: REST submission, the dispatcher, a worker pool pulling from its
//! queue, heartbeats, log shipping, retries into the dead letter, cancellation, and the
//! admission limits. Over the in-process bus and over NATS JetStream.

use crate::common::{Auth, TestApp};
use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};
use server::store::Backend;
use shared::jobs::JobStatus;
use std::sync::Arc;
use std::time::Duration;
use workers::bus::memory::InProcessBus;
use workers::bus::nats::NatsBus;
use workers::bus::Bus;

fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A pool name of this test alone (tests share one NATS server).
fn pool() -> String {
    format!("p{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// Polls a job until `done` holds (or fails the test after 30 s).
async fn wait_for(app: &TestApp, auth: &Auth, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let a = app.call(Method::GET, path, None, auth).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        if done(&a.body) {
            return a.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never reached the expected state");
}

async fn submit(
    app: &TestApp,
    auth: &Auth,
    pool: &str,
    payload: Value,
    max_attempts: u32,
) -> String {
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/jobs",
            Some(json!({"kind": "diagnostic", "pool": pool, "payload": payload, "max_attempts": max_attempts})),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["status"], "queued");
    a.body["id"].as_str().expect("job id").to_owned()
}

/// `tickets`: the embedded worker takes tickets over the bus even on an in-process bus
/// (on NATS it always does), instead of claiming its pool's jobs itself.
async fn jobs_run_fail_into_the_dead_letter_and_cancel(
    bus: Arc<dyn Bus>,
    backend: Backend,
    tickets: bool,
) {
    let pool = pool();
    let app =
        TestApp::with_jobs_and_config(backend, bus, &pool, 4, |c| c.jobs.shared_bus = tickets)
            .await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;

    // A diagnostic job runs, logs its lines in order, and succeeds once.
    let id = submit(&app, &ada, &pool, json!({"lines": 5, "seconds": 0.3}), 3).await;
    let path = format!("/api/v1/workspaces/acme/jobs/{id}");
    let job = wait_for(&app, &ada, &path, |j| j["status"] == "succeeded").await;
    assert_eq!(
        (job["attempts"].clone(), job["result"].clone()),
        (json!(1), json!({"lines": 5}))
    );
    assert!(job["finished_at"].is_string() && job["started_at"].is_string());
    let logs = app
        .call(Method::GET, &format!("{path}/logs"), None, &ada)
        .await;
    let lines: Vec<&str> = logs.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_str().unwrap())
        .collect();
    assert_eq!(
        lines,
        (1..=5)
            .map(|n| format!("diagnostic line {n} of 5"))
            .collect::<Vec<_>>()
    );
    let later = app
        .call(Method::GET, &format!("{path}/logs?after=3"), None, &ada)
        .await;
    assert_eq!(later.body["lines"].as_array().unwrap().len(), 2);

    // A job that always fails is retried, then dead; a retry by hand queues it afresh.
    let poison = submit(
        &app,
        &ada,
        &pool,
        json!({"lines": 1, "seconds": 0, "fail": true}),
        2,
    )
    .await;
    let ppath = format!("/api/v1/workspaces/acme/jobs/{poison}");
    let dead = wait_for(&app, &ada, &ppath, |j| j["status"] == "dead").await;
    assert_eq!(dead["attempts"], 2);
    assert_eq!(dead["error"], "the diagnostic job was asked to fail");
    let dead_list = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/jobs?status=dead",
            None,
            &ada,
        )
        .await;
    assert_eq!(
        dead_list.body.as_array().unwrap().len(),
        1,
        "the dead-letter list"
    );
    let retried = app
        .call(Method::POST, &format!("{ppath}/retry"), None, &ada)
        .await;
    assert_eq!(
        (
            retried.status,
            retried.body["status"].clone(),
            retried.body["attempts"].clone(),
            retried.body["max_attempts"].clone()
        ),
        (StatusCode::OK, json!("queued"), json!(2), json!(4))
    );
    // The poison job did not block others meanwhile.
    let other = submit(&app, &ada, &pool, json!({"lines": 1, "seconds": 0}), 1).await;
    wait_for(
        &app,
        &ada,
        &format!("/api/v1/workspaces/acme/jobs/{other}"),
        |j| j["status"] == "succeeded",
    )
    .await;

    // A hanging job is cancelled while it runs; its worker stops it.
    let hang = submit(
        &app,
        &ada,
        &pool,
        json!({"lines": 1, "seconds": 0, "hang": true}),
        1,
    )
    .await;
    let hpath = format!("/api/v1/workspaces/acme/jobs/{hang}");
    wait_for(&app, &ada, &hpath, |j| j["status"] == "running").await;
    let cancel = app
        .call(Method::POST, &format!("{hpath}/cancel"), None, &ada)
        .await;
    assert_eq!(
        (cancel.status, cancel.body["cancel_requested"].clone()),
        (StatusCode::OK, json!(true))
    );
    wait_for(&app, &ada, &hpath, |j| j["status"] == "cancelled").await;
    let hlogs = app
        .call(Method::GET, &format!("{hpath}/logs"), None, &ada)
        .await;
    assert_eq!(
        hlogs.body["lines"].as_array().unwrap().last().unwrap()["line"],
        "cancelled while hanging"
    );
    let again = app
        .call(Method::POST, &format!("{hpath}/cancel"), None, &ada)
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "an ended job cannot be cancelled"
    );

    // The worker pool shows up, online.
    let workers = app
        .call(Method::GET, "/api/v1/workspaces/acme/workers", None, &ada)
        .await;
    let mine: Vec<&Value> = workers
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["pool"] == json!(pool))
        .collect();
    assert_eq!(mine.len(), 1, "{}", workers.body);
    assert_eq!(
        (mine[0]["status"].clone(), mine[0]["concurrency"].clone()),
        (json!("online"), json!(4))
    );
    app.finish().await;
}

#[tokio::test]
async fn jobs_on_the_in_process_bus() {
    jobs_run_fail_into_the_dead_letter_and_cancel(
        Arc::new(InProcessBus::new()),
        Backend::Sqlite,
        false,
    )
    .await;
}

#[tokio::test]
async fn jobs_on_the_in_process_bus_with_tickets() {
    jobs_run_fail_into_the_dead_letter_and_cancel(
        Arc::new(InProcessBus::new()),
        Backend::Sqlite,
        true,
    )
    .await;
}

#[tokio::test]
async fn jobs_on_nats_and_postgres() {
    let bus = NatsBus::connect(&nats_url())
        .await
        .expect("NATS at TEST_NATS_URL");
    jobs_run_fail_into_the_dead_letter_and_cancel(Arc::new(bus), Backend::Postgres, true).await;
}

#[tokio::test]
async fn submissions_are_validated_authorised_and_admitted() {
    let mut app = TestApp::with_config(Backend::Sqlite, |c| {
        c.jobs.pool_capacity = 5;
        // This test is about the pool as a whole; the workspace share has its own.
        c.jobs.workspace_queue_share = 100;
        c.jobs.pools.push("gpu".into());
    })
    .await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let (vic, _) = app.sign_up("vic@example.com").await;
    let (eve, _) = app.sign_up("eve@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let globex = app.create_workspace(&eve, "globex").await;
    let globex_id = globex["id"].as_str().unwrap().to_owned();
    app.reconfigure(|c| {
        c.jobs.private_pools.insert("gpu".into(), globex_id);
    });
    app.add_member(&ada, "acme", &vic, "vic@example.com", "viewer")
        .await;
    let jobs = "/api/v1/workspaces/acme/jobs";
    for (body, field) in [
        (json!({"kind": "mine-bitcoin"}), "kind"),
        (json!({"kind": "diagnostic", "pool": "Not.A.Pool"}), "pool"),
        (
            json!({"kind": "diagnostic", "payload": {"lines": 50000}}),
            "payload.lines",
        ),
        (
            json!({"kind": "diagnostic", "payload": {"seconds": -2}}),
            "payload.seconds",
        ),
        (
            json!({"kind": "diagnostic", "payload": {"lines": "many"}}),
            "payload",
        ),
        (
            json!({"kind": "diagnostic", "max_attempts": 0}),
            "max_attempts",
        ),
        (json!({"kind": "diagnostic", "priority": 1}), "priority"),
    ] {
        let a = app.call(Method::POST, jobs, Some(body.clone()), &ada).await;
        assert_eq!(
            (a.status, a.body["error"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}: {}",
            a.body
        );
    }
    // A pool private to another workspace reads as unknown; its owner may use it, and only
    // its owner sees its workers.
    let gpu = json!({"kind": "diagnostic", "pool": "gpu"});
    let refused = app.call(Method::POST, jobs, Some(gpu.clone()), &ada).await;
    assert_eq!(
        (refused.status, refused.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("pool"))
    );
    let owned = app
        .call(
            Method::POST,
            "/api/v1/workspaces/globex/jobs",
            Some(gpu),
            &eve,
        )
        .await;
    assert_eq!(owned.status, StatusCode::CREATED, "{}", owned.body);
    for (id, pool) in [("w-default", "default"), ("w-gpu", "gpu")] {
        app.store
            .upsert_worker(&server::jobs::WorkerRecord {
                id: id.into(),
                pool: pool.into(),
                host: "h".into(),
                status: "online".into(),
                running: 0,
                concurrency: 1,
                started_at: 0,
                last_heartbeat: workers::clock::now_ms(),
            })
            .await
            .unwrap();
    }
    let pools_seen = |body: &Value| -> Vec<String> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|w| w["pool"].as_str().unwrap().to_owned())
            .collect()
    };
    let acme_workers = app
        .call(Method::GET, "/api/v1/workspaces/acme/workers", None, &ada)
        .await;
    assert_eq!(pools_seen(&acme_workers.body), vec!["default"]);
    // Host names are the operator's: an owner sees them, a viewer does not.
    assert_eq!(acme_workers.body[0]["host"], "h");
    let viewer_workers = app
        .call(Method::GET, "/api/v1/workspaces/acme/workers", None, &vic)
        .await;
    assert_eq!(
        viewer_workers.body[0]["host"], "",
        "{}",
        viewer_workers.body
    );
    let globex_workers = app
        .call(Method::GET, "/api/v1/workspaces/globex/workers", None, &eve)
        .await;
    let mut seen = pools_seen(&globex_workers.body);
    seen.sort();
    assert_eq!(seen, vec!["default", "gpu"]);

    let ok = json!({"kind": "diagnostic", "payload": {"lines": 1}});
    assert_eq!(
        app.call(Method::POST, jobs, Some(ok.clone()), &vic)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(Method::POST, jobs, Some(ok.clone()), &eve)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::GET, jobs, None, &eve).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::GET, jobs, None, &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );

    // No worker runs here: jobs stay queued and the pool fills up. Past 80% of its
    // capacity of 5, submissions get 429 with Retry-After.
    for _ in 0..5 {
        assert_eq!(
            app.call(Method::POST, jobs, Some(ok.clone()), &ada)
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let pools = app
        .call(Method::GET, "/api/v1/workspaces/acme/pools", None, &vic)
        .await;
    assert_eq!(
        pools.body,
        json!([{"pool": "default", "queued": 5, "running": 0, "capacity": 5, "pressure": "critical"}])
    );
    // Another workspace sees the pool's pressure (why it would get 429) but not acme's jobs.
    let globex_pools = app
        .call(Method::GET, "/api/v1/workspaces/globex/pools", None, &eve)
        .await;
    let default = globex_pools
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pool"] == "default")
        .cloned()
        .unwrap();
    assert_eq!(
        default,
        json!({"pool": "default", "queued": 0, "running": 0, "capacity": 5, "pressure": "critical"})
    );
    let full = app.call(Method::POST, jobs, Some(ok.clone()), &ada).await;
    assert_eq!(
        (full.status, full.body["error"]["code"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("rate_limited"))
    );
    assert!(full.headers.contains_key(header::RETRY_AFTER));
    let listed = app
        .call(Method::GET, &format!("{jobs}?status=queued"), None, &vic)
        .await;
    assert_eq!(
        listed.body.as_array().unwrap().len(),
        5,
        "viewers read jobs"
    );
    let id = listed.body[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/api/v1/workspaces/globex/jobs/{id}"),
            None,
            &eve
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::POST, &format!("{jobs}/{id}/cancel"), None, &vic)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad_status = app
        .call(Method::GET, &format!("{jobs}?status=finished"), None, &ada)
        .await;
    assert_eq!(
        (bad_status.status, bad_status.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("status"))
    );

    // The private pool is bound to globex's id: a new workspace under the same slug, once
    // globex is deleted, gets none of it.
    assert_eq!(
        app.call(
            Method::DELETE,
            "/api/v1/workspaces/globex?confirm=globex",
            None,
            &eve
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    app.create_workspace(&vic, "globex").await;
    let taken = app
        .call(
            Method::POST,
            "/api/v1/workspaces/globex/jobs",
            Some(json!({"kind": "diagnostic", "pool": "gpu"})),
            &vic,
        )
        .await;
    assert_eq!(
        (taken.status, taken.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("pool")),
        "{}",
        taken.body
    );
    app.finish().await;
}

#[tokio::test]
async fn one_workspaces_backlog_does_not_refuse_the_others() {
    let app = TestApp::with_config(Backend::Sqlite, |c| {
        c.jobs.pool_capacity = 10;
        c.jobs.workspace_queue_share = 30;
    })
    .await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let (eve, _) = app.sign_up("eve@example.com").await;
    app.create_workspace(&ada, "acme").await;
    app.create_workspace(&eve, "globex").await;
    let ok = json!({"kind": "diagnostic", "payload": {"lines": 1}});
    // No worker runs: acme's jobs stay queued. Its share is 30% of 10.
    for _ in 0..3 {
        let a = app
            .call(
                Method::POST,
                "/api/v1/workspaces/acme/jobs",
                Some(ok.clone()),
                &ada,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
    let full = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/jobs",
            Some(ok.clone()),
            &ada,
        )
        .await;
    assert_eq!(full.status, StatusCode::TOO_MANY_REQUESTS, "{}", full.body);
    assert!(full.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("this workspace has 3 open jobs"));
    assert!(full.headers.contains_key(header::RETRY_AFTER));
    let other = app
        .call(
            Method::POST,
            "/api/v1/workspaces/globex/jobs",
            Some(ok.clone()),
            &eve,
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::CREATED,
        "another workspace is still admitted: {}",
        other.body
    );
    app.finish().await;
}

#[tokio::test]
async fn a_draining_worker_hands_back_what_it_cannot_finish() {
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let pool = pool();
    let app = TestApp::with_jobs(Backend::Sqlite, bus.clone(), &pool, 0).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let id = submit(&app, &ada, &pool, json!({"lines": 6, "seconds": 3}), 5).await;
    let path = format!("/api/v1/workspaces/acme/jobs/{id}");

    let mut config = workers::runtime::WorkerConfig::new(&pool, 1);
    config.drain_timeout = Duration::from_millis(300);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let draining = tokio::spawn(workers::runtime::run_pool(bus.clone(), config, stopped));
    wait_for(&app, &ada, &path, |j| j["status"] == "running").await;
    stop.send(true).unwrap();
    draining.await.unwrap().unwrap();
    let released = app.call(Method::GET, &path, None, &ada).await.body;
    assert_eq!(released["status"], "queued", "{released}");
    assert_eq!(released["error"], "released by a draining worker");
    assert_eq!(
        (
            released["attempts"].clone(),
            released["max_attempts"].clone()
        ),
        (json!(1), json!(6)),
        "a release costs no attempt"
    );

    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(workers::runtime::run_pool(
        bus,
        workers::runtime::WorkerConfig::new(&pool, 1),
        stopped,
    ));
    let done = wait_for(&app, &ada, &path, |j| j["status"] == "succeeded").await;
    assert_eq!(done["attempts"], 2);
    app.finish().await;
}

/// The indexer pool runs what Switchyard submits (code index runs); a user's job for it is
/// refused by name, so it cannot queue behind or ahead of other workspaces' index runs.
#[tokio::test]
async fn internal_pools_take_no_user_jobs() {
    let app = TestApp::with_config(Backend::Sqlite, |c| {
        c.jobs.pools.push(workers::pools::INDEXER_POOL.into());
    })
    .await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/jobs",
            Some(json!({"kind": "diagnostic", "pool": "indexer"})),
            &ada,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(a.body["error"]["field"], "pool");
    assert_eq!(
        a.body["error"]["message"],
        "the indexer pool runs only jobs Switchyard submits itself; submit to another pool"
    );
    let index_kind = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/jobs",
            Some(json!({"kind": "code.index", "pool": "default"})),
            &ada,
        )
        .await;
    assert_eq!(
        index_kind.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        index_kind.body
    );
    assert_eq!(index_kind.body["error"]["field"], "kind");
    app.finish().await;
}

/// A workspace's concurrency counts its jobs across pools: limited to one job at a time,
/// with a job waiting in each of two pools, it gets one ticket in a dispatch round, not one
/// per pool (each pool's room is read before any ticket of the round goes out).
async fn a_workspaces_concurrency_counts_across_pools(backend: Backend) {
    let (first, second) = (pool(), pool());
    let app = TestApp::with_config(backend, |c| {
        c.jobs.pools.extend([first.clone(), second.clone()]);
        c.jobs.tenant_concurrency = 1;
    })
    .await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let work = json!({"lines": 1, "seconds": 0.1});
    let ids = [
        submit(&app, &ada, &first, work.clone(), 1).await,
        submit(&app, &ada, &second, work, 1).await,
    ];
    let jobs = app.control.jobs.engine();
    assert_eq!(jobs.dispatch_once().await.expect("a round"), 1);
    let bus = jobs.bus();
    let mut tickets = 0;
    for pool in [&first, &second] {
        tickets += bus.queue_depth(pool).await.unwrap_or(0);
    }
    assert_eq!(tickets, 1, "one ticket on the two pools' queues");
    let mut dispatched = 0;
    for id in &ids {
        let job = app
            .store
            .job_any_tenant(id.parse().expect("a job id"))
            .await
            .expect("read")
            .expect("the job");
        assert_eq!(job.status, JobStatus::Queued);
        dispatched += usize::from(job.dispatched_at.is_some());
    }
    assert_eq!(dispatched, 1, "one job marked as sent");
    // The ticket out counts against the workspace's one slot in the next round too.
    assert_eq!(jobs.dispatch_once().await.expect("a round"), 0);
    app.finish().await;
}

#[tokio::test]
async fn concurrency_across_pools_on_sqlite() {
    a_workspaces_concurrency_counts_across_pools(Backend::Sqlite).await;
}

#[tokio::test]
async fn concurrency_across_pools_on_postgres() {
    a_workspaces_concurrency_counts_across_pools(Backend::Postgres).await;
}

/// Deleting a workspace stops its running jobs: the worker is told, and its slot frees.
#[tokio::test]
async fn a_deleted_workspace_stops_its_running_jobs() {
    let pool = pool();
    let app = TestApp::with_jobs(Backend::Sqlite, Arc::new(InProcessBus::new()), &pool, 1).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    let id = submit(&app, &ada, &pool, json!({"lines": 1, "hang": true}), 1).await;
    let path = format!("/api/v1/workspaces/acme/jobs/{id}");
    wait_for(&app, &ada, &path, |j| j["status"] == "running").await;
    let running = |app: &TestApp| {
        let (store, pool) = (app.store.clone(), pool.clone());
        async move {
            store
                .workers(&[pool])
                .await
                .expect("workers")
                .iter()
                .map(|w| w.running)
                .sum::<i64>()
        }
    };
    for _ in 0..100 {
        if running(&app).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(running(&app).await, 1, "the hanging job holds the slot");
    let deleted = app
        .call(
            Method::DELETE,
            "/api/v1/workspaces/acme?confirm=acme",
            None,
            &ada,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    for _ in 0..100 {
        if running(&app).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        running(&app).await,
        0,
        "the worker stopped the deleted workspace's job"
    );
    app.finish().await;
}

/// Fair dispatch: workspace A queues 200 jobs on a one-slot pool, then workspace B submits
/// one. B's job starts as soon as the job running when it arrived has finished — not after
/// A's backlog.
async fn a_small_workspace_is_not_queued_behind_a_big_backlog(
    bus: Arc<dyn Bus>,
    backend: Backend,
    tickets: bool,
) {
    let pool = pool();
    let app =
        TestApp::with_jobs_and_config(backend, bus, &pool, 1, |c| c.jobs.shared_bus = tickets)
            .await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let (eve, _) = app.sign_up("eve@example.com").await;
    let acme: shared::ids::TenantId = app.create_workspace(&ada, "acme").await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let globex: shared::ids::TenantId = app.create_workspace(&eve, "globex").await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let work = json!({"lines": 1, "seconds": 0.2});
    for _ in 0..200 {
        submit(&app, &ada, &pool, work.clone(), 1).await;
    }
    let b = app
        .call(
            Method::POST,
            "/api/v1/workspaces/globex/jobs",
            Some(json!({"kind": "diagnostic", "pool": pool, "payload": work, "max_attempts": 1})),
            &eve,
        )
        .await;
    assert_eq!(b.status, StatusCode::CREATED, "{}", b.body);
    let b_id = b.body["id"].as_str().unwrap().to_owned();
    wait_for(
        &app,
        &eve,
        &format!("/api/v1/workspaces/globex/jobs/{b_id}"),
        |j| j["status"] == "succeeded",
    )
    .await;
    let b_job = app
        .store
        .job(globex, b_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let b_started = b_job.started_at.expect("B started");
    let filter = server::jobs::JobFilter {
        status: None,
        pool: None,
        limit: 500,
    };
    let a_jobs = app.store.jobs(acme, &filter).await.unwrap();
    assert_eq!(a_jobs.len(), 200);
    // A's jobs ran while A was still submitting; what counts is how many of A's started
    // between B's submission and B's start.
    let overtook = a_jobs
        .iter()
        .filter(|j| {
            j.started_at
                .is_some_and(|s| s >= b_job.created_at && s < b_started)
        })
        .count();
    assert!(
        overtook <= 1,
        "{overtook} of A's jobs started after B was submitted and before B started"
    );
    assert!(
        a_jobs.iter().any(|j| j.status == JobStatus::Queued),
        "A's backlog was still waiting when B ran"
    );
    app.finish().await;
}

#[tokio::test]
async fn fair_dispatch_in_process() {
    a_small_workspace_is_not_queued_behind_a_big_backlog(
        Arc::new(InProcessBus::new()),
        Backend::Sqlite,
        false,
    )
    .await;
}

#[tokio::test]
async fn fair_dispatch_in_process_with_tickets() {
    a_small_workspace_is_not_queued_behind_a_big_backlog(
        Arc::new(InProcessBus::new()),
        Backend::Sqlite,
        true,
    )
    .await;
}

#[tokio::test]
async fn fair_dispatch_over_nats_on_postgres() {
    let bus = workers::bus::nats::NatsBus::connect(&nats_url())
        .await
        .expect("NATS at TEST_NATS_URL (make test starts one)");
    a_small_workspace_is_not_queued_behind_a_big_backlog(Arc::new(bus), Backend::Postgres, true)
        .await;
}

/// A claim or heartbeat for a job the store does not know (an orphaned ticket, say of a
/// deleted workspace) is answered at once, so the worker drops the ticket instead of
/// waiting out its claim timeout and handing it back, again and again.
#[tokio::test]
async fn requests_about_unknown_jobs_are_answered_gone_at_once() {
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let pool = pool();
    let app = TestApp::with_jobs(Backend::Sqlite, bus.clone(), &pool, 0).await;
    let (tenant, job) = (
        shared::ids::TenantId::new().to_string(),
        shared::ids::JobId::new().to_string(),
    );
    let claim = serde_json::to_vec(&workers::protocol::Claim {
        worker_id: "w-1".into(),
    })
    .unwrap();
    let started = std::time::Instant::now();
    let answer = bus
        .request(
            &workers::subjects::claim(&tenant, &job),
            claim.into(),
            Duration::from_secs(5),
        )
        .await
        .expect("an answer, not a timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
    let reply: workers::protocol::ClaimReply = serde_json::from_slice(&answer).unwrap();
    assert!(
        matches!(reply, workers::protocol::ClaimReply::Refused { .. }),
        "{reply:?}"
    );
    let beat = serde_json::to_vec(&workers::protocol::Heartbeat {
        worker_id: "w-1".into(),
        attempt: 1,
    })
    .unwrap();
    let answer = bus
        .request(
            &workers::subjects::heartbeat(&tenant, &job),
            beat.into(),
            Duration::from_secs(5),
        )
        .await
        .expect("an answer, not a timeout");
    let reply: workers::protocol::HeartbeatReply = serde_json::from_slice(&answer).unwrap();
    assert!(!reply.keep && reply.cancel, "the worker stops the attempt");
    app.finish().await;
}

/// `/metrics` shows queue depth from the counts the job service keeps (refreshed every few
/// seconds), not from a count of the jobs table per scrape.
#[tokio::test]
async fn metrics_show_the_kept_queue_depth() {
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let pool = pool();
    let app = TestApp::with_jobs(Backend::Sqlite, bus, &pool, 0).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    app.create_workspace(&ada, "acme").await;
    submit(&app, &ada, &pool, json!({"lines": 1}), 1).await;
    submit(&app, &ada, &pool, json!({"lines": 1}), 1).await;
    let series = format!("switchyard_jobs_open{{pool=\"{pool}\",status=\"queued\"}} 2");
    let mut text = String::new();
    for _ in 0..100 {
        let request = axum::http::Request::get("/metrics")
            .header(header::AUTHORIZATION, "Bearer test-metrics-token")
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, _, body) = app.send_raw(request).await;
        assert_eq!(status, StatusCode::OK);
        text = String::from_utf8(body).unwrap();
        if text.contains(&series) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text.contains(&series), "{text}");
    assert_eq!(
        app.control.jobs.engine().open_counts(),
        vec![(pool.clone(), JobStatus::Queued, 2)],
        "the scrape showed what the job service kept"
    );
    app.finish().await;
}

/// The embedded default loses its tickets with the in-process bus when it restarts; the
/// queued jobs are sent again at start, not after the redispatch interval.
#[tokio::test]
async fn queued_jobs_are_sent_again_after_an_embedded_restart() {
    let pool = pool();
    let mut app =
        TestApp::with_jobs(Backend::Sqlite, Arc::new(InProcessBus::new()), &pool, 0).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let acme: shared::ids::TenantId = app.create_workspace(&ada, "acme").await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let id: shared::ids::JobId = submit(&app, &ada, &pool, json!({"lines": 1}), 1)
        .await
        .parse()
        .unwrap();
    // Its ticket goes onto the first process's bus, where no worker will ever take it.
    for _ in 0..100 {
        let job = app.store.job(acme, id).await.unwrap().unwrap();
        if job.dispatched_at.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop_background();

    // The restarted process: a new in-process bus, its workers, the same database.
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let config = app.control.config().clone();
    assert!(config.jobs.redispatch_after >= Duration::from_secs(60));
    let control = server::control_plane(app.store.clone(), config, bus.clone());
    let tasks = control.jobs.engine().start().await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(workers::runtime::run_pool(
        bus,
        workers::runtime::WorkerConfig::new(&pool, 1),
        stopped,
    ));
    let started = std::time::Instant::now();
    loop {
        let job = app.store.job(acme, id).await.unwrap().unwrap();
        if job.status == JobStatus::Succeeded {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the job was not sent again: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let _ = worker.await;
    for t in tasks {
        t.abort();
    }
    app.finish().await;
}

/// The `Link` conformance suite, against both implementations on both backends: over the
/// bus (what worker processes use) and straight to the job service (workers embedded in the
/// control plane). Only the lease holder's attempt claims, keeps, logs, ends or releases a
/// job, and a ticket naming another workspace or no known job gets nothing; then the
/// journal: a claimed attempt's steps are recorded and announced; the same key again keeps
/// the later entry; an attempt that lost the job is refused as lost and changes nothing; a
/// journal naming another workspace reaches nothing.
async fn links_act_only_for_the_attempt_holding_the_job(backend: Backend, direct: bool) {
    use durable::{Entry, JournalError, StepStatus};
    use futures::StreamExt;
    use server::jobs::store::{AttemptEnd, JobRecord};
    use shared::jobs::JobStatus;
    use workers::link::{AttemptRef, BusLink, JobRef, Link};
    use workers::protocol::{
        Claim, ClaimReply, Complete, Heartbeat, LogBatch, LogLine, Outcome, Release,
    };

    let pool = pool();
    let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
    let app = TestApp::with_jobs(backend, bus.clone(), &pool, 0).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let acme = app.create_workspace(&ada, "acme").await;
    let globex = app.create_workspace(&ada, "globex").await;
    let tenant_of = |ws: &Value| -> shared::ids::TenantId {
        ws["id"]
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("a workspace id")
    };
    let (acme, globex) = (tenant_of(&acme), tenant_of(&globex));
    let link: Arc<dyn Link> = if direct {
        Arc::new(server::jobs::StoreLink::new(
            app.control.jobs.engine().clone(),
        ))
    } else {
        Arc::new(BusLink::new(bus.clone(), Duration::from_secs(1)))
    };
    let now = durable::now_ms();

    // The life of one attempt through the link.
    let queued = JobRecord::queued(
        acme,
        &pool,
        "diagnostic".into(),
        r#"{"n":1}"#.into(),
        3,
        now,
    );
    app.store.insert_job(&queued).await.expect("a job");
    let (acme_s, globex_s, id_s) = (acme.to_string(), globex.to_string(), queued.id.to_string());
    let of = JobRef {
        tenant: &acme_s,
        job: &id_s,
    };
    let claim = |worker: &str| Claim {
        worker_id: worker.to_owned(),
    };
    let refused = |reply: ClaimReply| match reply {
        ClaimReply::Refused { reason } => reason,
        granted => panic!("expected a refusal, got {granted:?}"),
    };
    let misnamed = JobRef {
        tenant: &globex_s,
        job: &id_s,
    };
    assert_eq!(
        refused(link.claim(misnamed, &claim("w1")).await.expect("an answer")),
        "the ticket names another workspace"
    );
    let unknown = shared::ids::JobId::new().to_string();
    let gone = JobRef {
        tenant: &acme_s,
        job: &unknown,
    };
    assert_eq!(
        refused(link.claim(gone, &claim("w1")).await.expect("an answer")),
        "the job no longer exists"
    );
    match link.claim(of, &claim("w1")).await.expect("an answer") {
        ClaimReply::Granted(workers::protocol::Grant {
            attempt,
            kind,
            payload,
            log_seq,
            journal,
            ..
        }) => {
            assert_eq!(
                (attempt, kind.as_str(), payload.as_str(), log_seq),
                (1, "diagnostic", r#"{"n":1}"#, 0)
            );
            assert!(journal.is_empty());
        }
        refusal => panic!("the first claim is granted, got {refusal:?}"),
    }
    assert_eq!(
        refused(link.claim(of, &claim("w2")).await.expect("an answer")),
        "the job is not waiting to run"
    );
    // The holder's own reports under another workspace's name change nothing.
    let misbeat = link
        .heartbeat(
            misnamed,
            &Heartbeat {
                worker_id: "w1".into(),
                attempt: 1,
            },
        )
        .await;
    assert!(!matches!(misbeat, Ok(ref r) if r.keep), "{misbeat:?}");
    let mislog = LogBatch {
        worker_id: "w1".into(),
        attempt: 1,
        lines: vec![LogLine {
            seq: 1,
            at: now,
            line: "misnamed".into(),
        }],
        progress: None,
    };
    let logged = link.log(misnamed, &mislog).await;
    assert!(!matches!(logged, Ok(ref r) if r.recorded), "{logged:?}");
    let misdone = Complete {
        worker_id: "w1".into(),
        attempt: 1,
        outcome: Outcome::Cancelled,
    };
    let ended = link.complete(misnamed, &misdone).await;
    assert!(!matches!(ended, Ok(ref r) if r.recorded), "{ended:?}");
    let misreleased = Release {
        worker_id: "w1".into(),
        attempt: 1,
    };
    let released = link.release(misnamed, &misreleased).await;
    assert!(!matches!(released, Ok(ref r) if r.recorded), "{released:?}");
    let still = app
        .store
        .job(acme, queued.id)
        .await
        .expect("the store")
        .expect("the job");
    assert_eq!(
        (still.status, still.lease_holder.as_deref()),
        (JobStatus::Running, Some("w1"))
    );
    assert!(app
        .store
        .job_log(acme, queued.id, 0, 10)
        .await
        .expect("the log")
        .is_empty());
    let beat = |worker: &str, attempt: i64| Heartbeat {
        worker_id: worker.to_owned(),
        attempt,
    };
    let kept = link.heartbeat(of, &beat("w1", 1)).await.expect("an answer");
    assert!(kept.keep && !kept.cancel, "{kept:?}");
    for (worker, attempt) in [("w2", 1), ("w1", 2)] {
        let lost = link
            .heartbeat(of, &beat(worker, attempt))
            .await
            .expect("an answer");
        assert!(!lost.keep, "{worker} at attempt {attempt}: {lost:?}");
    }
    let batch = |worker: &str, seq: i64| LogBatch {
        worker_id: worker.to_owned(),
        attempt: 1,
        lines: vec![LogLine {
            seq,
            at: now,
            line: format!("line {seq} from {worker}"),
        }],
        progress: None,
    };
    assert!(
        link.log(of, &batch("w1", 1))
            .await
            .expect("an answer")
            .recorded
    );
    assert!(
        !link
            .log(of, &batch("w2", 2))
            .await
            .expect("an answer")
            .recorded
    );
    let lines: Vec<String> = app
        .store
        .job_log(acme, queued.id, 0, 10)
        .await
        .expect("the log")
        .into_iter()
        .map(|l| l.line)
        .collect();
    assert_eq!(lines, vec!["line 1 from w1".to_owned()]);
    let done = |worker: &str| Complete {
        worker_id: worker.to_owned(),
        attempt: 1,
        outcome: Outcome::Succeeded {
            result: json!({"ok": worker}),
        },
    };
    assert!(
        !link
            .complete(of, &done("w2"))
            .await
            .expect("an answer")
            .recorded
    );
    assert!(
        link.complete(of, &done("w1"))
            .await
            .expect("an answer")
            .recorded
    );
    let ended = app
        .store
        .job(acme, queued.id)
        .await
        .expect("the store")
        .expect("the job");
    assert_eq!(ended.status, JobStatus::Succeeded);
    assert_eq!(ended.result.as_deref(), Some(r#"{"ok":"w1"}"#));
    assert!(
        !link
            .complete(of, &done("w1"))
            .await
            .expect("an answer")
            .recorded,
        "only once"
    );

    // A draining worker hands its attempt back: the job waits again; a stranger cannot.
    let second = JobRecord::queued(acme, &pool, "diagnostic".into(), "{}".into(), 3, now);
    app.store.insert_job(&second).await.expect("a job");
    let second_s = second.id.to_string();
    let handed = JobRef {
        tenant: &acme_s,
        job: &second_s,
    };
    assert!(matches!(
        link.claim(handed, &claim("w1")).await.expect("an answer"),
        ClaimReply::Granted(workers::protocol::Grant { attempt: 1, .. })
    ));
    let release = |worker: &str| Release {
        worker_id: worker.to_owned(),
        attempt: 1,
    };
    assert!(
        !link
            .release(handed, &release("w2"))
            .await
            .expect("an answer")
            .recorded
    );
    assert!(
        link.release(handed, &release("w1"))
            .await
            .expect("an answer")
            .recorded
    );
    let back = app
        .store
        .job(acme, second.id)
        .await
        .expect("the store")
        .expect("the job");
    assert_eq!((back.status, back.lease_holder), (JobStatus::Queued, None));
    // A job of `tenant` that w1 holds at attempt 1.
    let claimed = |tenant: shared::ids::TenantId| {
        let (store, pool) = (&app.store, &pool);
        async move {
            let job = JobRecord::queued(tenant, pool, "diagnostic".into(), "{}".into(), 3, now);
            store.insert_job(&job).await.expect("a job");
            store
                .claim_job(job.tenant_id, job.id, "w1", now, now + 60_000)
                .await
                .expect("the store")
                .expect("claimed by w1");
            job
        }
    };
    let job = claimed(acme).await;
    let holder = |tenant: shared::ids::TenantId, worker: &str, attempt: i64| AttemptRef {
        tenant: tenant.to_string(),
        job: job.id.to_string(),
        worker_id: worker.to_owned(),
        attempt,
    };
    let entry = |key: &str, output: Value| Entry {
        key: key.to_owned(),
        status: StepStatus::Succeeded,
        output,
        error: None,
        choice: None,
        attempts: 1,
        started_at: now,
        finished_at: now,
        logs: vec![],
    };
    let store = &app.store;
    let journal_of = |tenant: shared::ids::TenantId, job: shared::ids::JobId| async move {
        let mut steps: Vec<(String, Value)> = store
            .job_steps(tenant, job)
            .await
            .expect("the journal")
            .iter()
            .map(|raw| {
                let e: Entry = serde_json::from_str(raw).expect("an entry");
                (e.key, e.output)
            })
            .collect();
        steps.sort_by(|a, b| a.0.cmp(&b.0));
        steps
    };

    let mut started = bus
        .subscribe(&workers::subjects::step_started(
            &acme.to_string(),
            &job.id.to_string(),
        ))
        .await
        .expect("a subscription");
    let first = link.journal(holder(acme, "w1", 1));
    first.started("a").await;
    let announced = tokio::time::timeout(Duration::from_secs(3), started.next())
        .await
        .expect("the start is announced")
        .expect("a message");
    assert_eq!(announced.payload, bytes::Bytes::from("a"));
    first.record(&entry("a", json!(1))).await.expect("recorded");
    first.record(&entry("b", json!(2))).await.expect("recorded");
    first
        .record(&entry("a", json!(3)))
        .await
        .expect("recorded again");
    assert_eq!(
        journal_of(acme, job.id).await,
        vec![("a".to_owned(), json!(3)), ("b".to_owned(), json!(2))],
        "the same key keeps the later entry"
    );

    for (who, stranger) in [
        ("another worker", holder(acme, "w2", 1)),
        ("another attempt", holder(acme, "w1", 2)),
    ] {
        assert_eq!(
            link.journal(stranger).record(&entry("c", json!(0))).await,
            Err(JournalError::Lost),
            "{who}"
        );
    }
    // Naming another workspace reaches nothing: the store refuses it as not this attempt's;
    // over the bus the control plane stays silent about a job it holds for another
    // workspace (as it must on a shared bus), so the worker hears nothing.
    let foreign = link
        .journal(holder(globex, "w1", 1))
        .record(&entry("c", json!(0)))
        .await;
    if direct {
        assert_eq!(foreign, Err(JournalError::Lost));
    } else {
        assert!(
            matches!(foreign, Err(JournalError::Unavailable(_))),
            "{foreign:?}"
        );
    }
    assert_eq!(
        journal_of(acme, job.id).await,
        vec![("a".to_owned(), json!(3)), ("b".to_owned(), json!(2))],
        "no stranger's record was written"
    );

    // The lease expires and w2 takes the job: w1's attempt can write nothing more.
    let lost = AttemptEnd::Retry {
        error: "lease expired".into(),
        retry_at: now,
    };
    app.store
        .end_expired_attempt(job.id, 1, &lost, now + 120_000)
        .await
        .expect("the store")
        .expect("requeued");
    app.store
        .claim_job(job.tenant_id, job.id, "w2", now + 120_001, now + 180_000)
        .await
        .expect("the store")
        .expect("claimed by w2");
    assert_eq!(
        first.record(&entry("c", json!(4))).await,
        Err(JournalError::Lost)
    );
    link.journal(holder(acme, "w2", 2))
        .record(&entry("c", json!(5)))
        .await
        .expect("the new holder records");
    assert_eq!(
        journal_of(acme, job.id).await,
        vec![
            ("a".to_owned(), json!(3)),
            ("b".to_owned(), json!(2)),
            ("c".to_owned(), json!(5))
        ]
    );

    // Many records at once: each lands in its own job's
    // journal, in its own workspace, and the fence still refuses a stranger's among them.
    let mut jobs = Vec::new();
    for tenant in [acme, acme, globex] {
        jobs.push((tenant, claimed(tenant).await.id));
    }
    let attempt = |tenant: shared::ids::TenantId, job: shared::ids::JobId, worker: &str| {
        link.journal(AttemptRef {
            tenant: tenant.to_string(),
            job: job.to_string(),
            worker_id: worker.to_owned(),
            attempt: 1,
        })
    };
    let burst = jobs.iter().flat_map(|&(tenant, job)| {
        let (mine, stranger) = (attempt(tenant, job, "w1"), attempt(tenant, job, "w9"));
        (0..10).map(move |i| {
            let (mine, stranger) = (mine.clone(), stranger.clone());
            async move {
                let key = format!("k{i}");
                let written = mine.record(&entry(&key, json!(i))).await;
                let refused = stranger.record(&entry(&key, json!(-1))).await;
                (written, refused)
            }
        })
    });
    for (written, refused) in futures::future::join_all(burst).await {
        assert_eq!(written, Ok(()));
        assert_eq!(refused, Err(JournalError::Lost));
    }
    for &(tenant, job) in &jobs {
        let expected: Vec<(String, Value)> = (0..10).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(
            journal_of(tenant, job).await,
            expected,
            "job {job} of {tenant}"
        );
    }

    // Records abandoned while their writes are under way (their callers gave up) hold no
    // write: later records are still written, alone or gathered.
    let (tenant, job) = jobs[0];
    let journal = attempt(tenant, job, "w1");
    for i in 10..13 {
        let _ = tokio::time::timeout(
            Duration::ZERO,
            journal.record(&entry(&format!("k{i}"), json!(i))),
        )
        .await;
    }
    let entries: Vec<Entry> = (13..16)
        .map(|i| entry(&format!("k{i}"), json!(i)))
        .collect();
    let later = entries.iter().map(|e| journal.record(e));
    let later = tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(later))
        .await
        .expect("later records are not held up by abandoned ones");
    assert!(later.iter().all(Result::is_ok), "{later:?}");
    app.finish().await;
}

mod links {
    use super::*;

    #[tokio::test]
    async fn over_the_bus_on_sqlite() {
        links_act_only_for_the_attempt_holding_the_job(Backend::Sqlite, false).await;
    }

    #[tokio::test]
    async fn over_the_bus_on_postgres() {
        links_act_only_for_the_attempt_holding_the_job(Backend::Postgres, false).await;
    }

    #[tokio::test]
    async fn to_the_job_service_on_sqlite() {
        links_act_only_for_the_attempt_holding_the_job(Backend::Sqlite, true).await;
    }

    #[tokio::test]
    async fn to_the_job_service_on_postgres() {
        links_act_only_for_the_attempt_holding_the_job(Backend::Postgres, true).await;
    }
}

/// Workers that claim their pool's jobs themselves (an in-process bus): a claim of several
/// jobs (free slots) at once takes workspaces in turn in the order of their ids, each its
/// oldest due job a turn, and the next claim goes on after the workspace served last; a
/// workspace at its concurrency (counted across pools: a ticket out in another pool
/// counts) waits, and its slot freed wakes the worker that came up short; a job not yet
/// due is left; the dispatcher sends the pool no tickets but wakes its workers; a cancel of
/// a job claimed reaches the worker's subscription.
async fn direct_claims_take_workspaces_in_turn_within_their_concurrency(backend: Backend) {
    use futures::StreamExt;
    use server::jobs::store::{AttemptEnd, JobRecord};
    use shared::ids::{JobId, TenantId};

    let (pool, other) = (pool(), pool());
    let app = TestApp::with_config(backend, |c| {
        c.jobs.pools.extend([pool.clone(), other.clone()]);
        c.jobs.tenant_concurrency = 3;
    })
    .await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let mut tenants: Vec<TenantId> = Vec::new();
    for slug in ["acme", "globex", "initech"] {
        let ws = app.create_workspace(&ada, slug).await;
        tenants.push(ws["id"].as_str().and_then(|t| t.parse().ok()).expect("id"));
    }
    tenants.sort_by_key(|t| t.to_string());
    let [a, b, c] = [tenants[0], tenants[1], tenants[2]];
    let now = durable::now_ms();
    let job = |tenant: TenantId, pool: &str, age: i64| {
        let mut job = JobRecord::queued(
            tenant,
            pool,
            "diagnostic".into(),
            r#"{"lines":1}"#.into(),
            1,
            now - age,
        );
        job.created_at = now - age;
        job
    };
    // The first workspace by id has the youngest jobs and the last the oldest, so oldest
    // first across workspaces would be another order. `a` has one job more than its
    // concurrency; `b` one job due only in a minute.
    let a_jobs = [
        job(a, &pool, 4),
        job(a, &pool, 3),
        job(a, &pool, 2),
        job(a, &pool, 1),
    ];
    let b_jobs = [job(b, &pool, 14), job(b, &pool, 13), job(b, &pool, 12)];
    let c_jobs = [job(c, &pool, 24), job(c, &pool, 23), job(c, &pool, 22)];
    let mut later = job(b, &pool, 0);
    later.run_at = now + 60_000;
    // A fourth of b's with a ticket sent before the pool was claimed so: the ticket is
    // never pulled and counts for nothing; the job waits its turn like any other.
    let ticketed_here = job(b, &pool, 11);
    for j in a_jobs
        .iter()
        .chain(&b_jobs)
        .chain(&c_jobs)
        .chain([&later, &ticketed_here])
    {
        app.store.insert_job(j).await.expect("a job");
    }
    app.store
        .mark_dispatched(&[(ticketed_here.id, 0)], now)
        .await
        .expect("marked");
    let jobs = app.control.jobs.engine();
    let woken = jobs.serve_directly(&pool);
    assert!(jobs.claims_directly(&pool));

    // The dispatcher sends no ticket for the pool; it wakes the pool's workers.
    assert_eq!(jobs.dispatch_once().await.expect("a round"), 0);
    assert_eq!(jobs.bus().queue_depth(&pool).await.unwrap_or(0), 0);
    tokio::time::timeout(Duration::from_secs(1), woken.notified())
        .await
        .expect("the round woke the pool's workers");

    let claim = |at_most: usize| {
        let (jobs, pool) = (jobs.clone(), pool.clone());
        async move {
            let mut claimed: Vec<JobId> = Vec::new();
            for next in jobs
                .claim_next(&pool, "w1", at_most)
                .await
                .expect("a claim")
            {
                assert_eq!(next.grant.attempt, 1);
                assert_eq!(next.grant.kind, "diagnostic");
                assert!(next.grant.journal.is_empty());
                assert!(next.cancels.is_some(), "it listens for a cancel");
                claimed.push(next.job.parse().expect("a job id"));
            }
            claimed.sort();
            claimed
        }
    };
    let set = |of: &[&JobRecord]| {
        let mut ids: Vec<JobId> = of.iter().map(|j| j.id).collect();
        ids.sort();
        ids
    };
    // Four free slots: a, b, c, then a again.
    assert_eq!(
        claim(4).await,
        set(&[&a_jobs[0], &b_jobs[0], &c_jobs[0], &a_jobs[1]]),
        "in turn, each workspace's oldest first"
    );
    // One: the turn after the batch's last (a), not the first by id again.
    assert_eq!(claim(1).await, set(&[&b_jobs[1]]));
    // Five: c, a, b, c; a's and b's fourth wait on their concurrency, b's fifth is not
    // due.
    assert_eq!(
        claim(5).await,
        set(&[&c_jobs[1], &a_jobs[2], &b_jobs[2], &c_jobs[2]])
    );
    for j in a_jobs[..3].iter().chain(&b_jobs).chain(&c_jobs) {
        let job = app
            .store
            .job(j.tenant_id, j.id)
            .await
            .expect("read")
            .expect("the job");
        assert_eq!(
            (job.status, job.lease_holder.as_deref(), job.attempt),
            (JobStatus::Running, Some("w1"), 1)
        );
    }
    for j in [&a_jobs[3], &later, &ticketed_here] {
        let job = app
            .store
            .job(j.tenant_id, j.id)
            .await
            .expect("read")
            .expect("the job");
        assert_eq!((job.status, job.attempt), (JobStatus::Queued, 0));
    }

    // One of a's ends; a ticket of a's out in another pool takes the freed slot.
    let end = |id: JobId| {
        let store = app.store.clone();
        async move {
            store
                .end_attempt_of(
                    a,
                    id,
                    "w1",
                    1,
                    &AttemptEnd::Succeeded("{}".into()),
                    durable::now_ms(),
                )
                .await
                .expect("an end")
                .expect("ended")
        }
    };
    end(a_jobs[0].id).await;
    let ticketed = job(a, &other, 0);
    app.store.insert_job(&ticketed).await.expect("a job");
    app.store
        .mark_dispatched(&[(ticketed.id, 0)], durable::now_ms())
        .await
        .expect("marked");
    assert!(claim(4).await.is_empty());
    // Another ends, reported by its worker: the slot freed wakes the worker that came up
    // short, a's fourth goes now, and a cancel asked for reaches its worker.
    let _left_over = tokio::time::timeout(Duration::from_millis(50), woken.notified()).await;
    let link = server::jobs::StoreLink::new(jobs.clone());
    let (a_id, ended) = (a.to_string(), a_jobs[1].id.to_string());
    let recorded = workers::link::Link::complete(
        &link,
        workers::link::JobRef {
            tenant: &a_id,
            job: &ended,
        },
        &workers::protocol::Complete {
            worker_id: "w1".into(),
            attempt: 1,
            outcome: workers::protocol::Outcome::Succeeded { result: json!({}) },
        },
    )
    .await
    .expect("an answer");
    assert!(recorded.recorded);
    tokio::time::timeout(Duration::from_secs(1), woken.notified())
        .await
        .expect("the freed slot woke the worker that came up short");
    let mut next = jobs
        .claim_next(&pool, "w2", 4)
        .await
        .expect("a claim")
        .pop()
        .expect("a's fourth");
    assert_eq!(next.job, a_jobs[3].id.to_string());
    let cancelled = jobs
        .cancel(a, a_jobs[3].id)
        .await
        .expect("a cancel")
        .expect("the job");
    assert!(cancelled.cancel_requested);
    let heard = tokio::time::timeout(
        Duration::from_secs(5),
        next.cancels.as_mut().expect("listening").next(),
    )
    .await;
    assert!(matches!(heard, Ok(Some(_))), "the worker heard the cancel");

    // Once no worker claims so, the pool gets tickets again.
    jobs.stop_serving_directly(&pool);
    assert!(!jobs.claims_directly(&pool));
    app.finish().await;
}

mod direct_claims {
    use super::*;

    #[tokio::test]
    async fn on_sqlite() {
        direct_claims_take_workspaces_in_turn_within_their_concurrency(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn on_postgres() {
        direct_claims_take_workspaces_in_turn_within_their_concurrency(Backend::Postgres).await;
    }
}

/// The whole life of jobs on workers claiming their pool's jobs themselves, on PostgreSQL
/// (SQLite runs it in `jobs_on_the_in_process_bus`).
#[tokio::test]
async fn jobs_on_the_in_process_bus_and_postgres() {
    jobs_run_fail_into_the_dead_letter_and_cancel(
        Arc::new(InProcessBus::new()),
        Backend::Postgres,
        false,
    )
    .await;
}

/// Ends of attempts written together in one statement (as workers report them at once):
/// each is judged by its own fence — a succeeded, a retried and a sleeping attempt are
/// written as they would be alone, while an end from another worker, of another attempt or
/// naming another workspace changes nothing — and two ends of one job are judged one after
/// the other.
async fn ends_written_together_keep_each_ones_fence(backend: Backend) {
    use server::jobs::store::{AttemptEnd, EndOf, JobRecord};
    use shared::ids::TenantId;

    let pool = pool();
    let app = TestApp::with_config(backend, |c| c.jobs.pools.push(pool.clone())).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let mut tenants: Vec<TenantId> = Vec::new();
    for slug in ["acme", "globex"] {
        let ws = app.create_workspace(&ada, slug).await;
        tenants.push(ws["id"].as_str().and_then(|t| t.parse().ok()).expect("id"));
    }
    let (acme, globex) = (tenants[0], tenants[1]);
    let now = durable::now_ms();
    let mut running = Vec::new();
    for _ in 0..7 {
        let job = JobRecord::queued(acme, &pool, "diagnostic".into(), "{}".into(), 3, now);
        app.store.insert_job(&job).await.expect("a job");
        let claimed = app
            .store
            .claim_job(acme, job.id, "w1", now, now + 60_000)
            .await
            .expect("a claim")
            .expect("claimed");
        running.push(claimed.id);
    }
    let end = |id, tenant, worker: &str, attempt, end| EndOf {
        tenant,
        id,
        worker: worker.to_owned(),
        attempt,
        end,
        now: now + 5,
    };
    let answers = app
        .store
        .end_attempts(&[
            end(
                running[0],
                acme,
                "w1",
                1,
                AttemptEnd::Succeeded(r#"{"ok":1}"#.into()),
            ),
            end(
                running[1],
                acme,
                "w2",
                1,
                AttemptEnd::Succeeded("{}".into()),
            ),
            end(
                running[2],
                acme,
                "w1",
                2,
                AttemptEnd::Succeeded("{}".into()),
            ),
            end(
                running[3],
                globex,
                "w1",
                1,
                AttemptEnd::Succeeded("{}".into()),
            ),
            end(
                running[4],
                acme,
                "w1",
                1,
                AttemptEnd::Retry {
                    error: "boom".into(),
                    retry_at: now + 1_000,
                },
            ),
            end(running[5], acme, "w1", 1, AttemptEnd::Sleep(now + 9_000)),
        ])
        .await
        .expect("the ends");
    let written: Vec<bool> = answers.iter().map(Option::is_some).collect();
    assert_eq!(written, [true, false, false, false, true, true]);
    let read = |id| {
        let store = app.store.clone();
        async move { store.job(acme, id).await.expect("read").expect("the job") }
    };
    let done = read(running[0]).await;
    assert_eq!(
        (
            done.status,
            done.result.as_deref(),
            done.lease_holder.as_deref(),
            done.finished_at
        ),
        (
            JobStatus::Succeeded,
            Some(r#"{"ok":1}"#),
            None,
            Some(now + 5)
        )
    );
    assert_eq!(
        answers[0].as_ref().map(|j| j.status),
        Some(JobStatus::Succeeded)
    );
    for untouched in &running[1..4] {
        let job = read(*untouched).await;
        assert_eq!(
            (
                job.status,
                job.lease_holder.as_deref(),
                job.result.as_deref()
            ),
            (JobStatus::Running, Some("w1"), None),
            "a refused end changes nothing"
        );
    }
    let retried = read(running[4]).await;
    assert_eq!(
        (
            retried.status,
            retried.error.as_deref(),
            retried.run_at,
            retried.max_attempts,
            retried.lease_holder.as_deref()
        ),
        (JobStatus::Queued, Some("boom"), now + 1_000, 3, None)
    );
    let asleep = read(running[5]).await;
    assert_eq!(
        (
            asleep.status,
            asleep.run_at,
            asleep.max_attempts,
            asleep.finished_at
        ),
        (JobStatus::Queued, now + 9_000, 4, None),
        "a sleep does not count against the attempts"
    );
    // Two ends of one job: the first is written, the second finds it ended.
    let twice = app
        .store
        .end_attempts(&[
            end(
                running[6],
                acme,
                "w1",
                1,
                AttemptEnd::Failed("first".into()),
            ),
            end(
                running[6],
                acme,
                "w1",
                1,
                AttemptEnd::Succeeded("{}".into()),
            ),
        ])
        .await
        .expect("the ends");
    assert_eq!(
        twice
            .iter()
            .map(|j| j.as_ref().map(|j| j.status))
            .collect::<Vec<_>>(),
        [Some(JobStatus::Failed), None]
    );
    app.finish().await;
}

mod group_ends {
    use super::*;

    #[tokio::test]
    async fn on_sqlite() {
        ends_written_together_keep_each_ones_fence(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn on_postgres() {
        ends_written_together_keep_each_ones_fence(Backend::Postgres).await;
    }
}
