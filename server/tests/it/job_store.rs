//! The job part of the `Store` conformance suite, on SQLite and PostgreSQL: claims, leases
//! and fencing, retries and the dead letter, cancellation, logs, workers, and isolation.

use crate::common::TestDb;
use server::accounts::store::*;
use server::jobs::store::*;
use server::store::*;
use server::tenancy::store::*;
use shared::ids::{JobId, TenantId, UserId};
use shared::jobs::JobStatus;

async fn setup(store: &Store) -> (TenantId, TenantId) {
    let owner = UserRecord {
        id: UserId::new(),
        email: "owner@example.com".into(),
        name: "Owner".into(),
        password_hash: None,
        created_at: 1,
        email_verified_at: Some(1),
    };
    store.create_user(&owner, None).await.unwrap();
    let mut tenants = Vec::new();
    for slug in ["acme", "globex"] {
        let ws = WorkspaceRecord {
            id: TenantId::new(),
            slug: slug.into(),
            name: slug.into(),
            created_at: 1,
        };
        store.create_workspace(&ws, owner.id).await.unwrap();
        tenants.push(ws.id);
    }
    (tenants[0], tenants[1])
}

fn job(tenant: TenantId, now: i64) -> JobRecord {
    JobRecord::queued(
        tenant,
        "default",
        "diagnostic".into(),
        r#"{"lines":3}"#.into(),
        3,
        now,
    )
}

async fn pools_with_due_jobs(store: &Store, now: i64) -> Vec<String> {
    let rooms = store.rooms_with_due_jobs(now).await.unwrap();
    rooms.into_iter().map(|r| r.pool).collect()
}

async fn claims_are_exclusive_and_completion_is_fenced(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let (acme, _) = setup(&store).await;
    let j = job(acme, 1_000);
    store.insert_job(&j).await.unwrap();
    assert_eq!(
        store.rooms_with_due_jobs(1_000).await.unwrap(),
        vec![PoolRoom {
            pool: "default".into(),
            slots: 0,
            outstanding: 0,
            waiting: vec![(acme, 0)]
        }]
    );
    let due: Vec<JobId> = store
        .due_jobs_of("default", &[(acme, 10)], 1_000)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(due, vec![j.id]);
    assert_eq!(store.pool_outstanding("default").await.unwrap(), 0);
    // Marked in one statement with a job (of another pool) whose attempt moved on: that
    // one is not marked.
    let mut moved_on = job(acme, 1_000);
    moved_on.pool = "other".into();
    store.insert_job(&moved_on).await.unwrap();
    store
        .mark_dispatched(&[(j.id, 0), (moved_on.id, 1)], 1_001)
        .await
        .unwrap();
    assert_eq!(
        pools_with_due_jobs(&store, 2_000).await,
        vec!["other"],
        "its ticket was for an attempt it is past"
    );
    store
        .mark_dispatched(&[(moved_on.id, 0)], 1_600)
        .await
        .unwrap();
    assert_eq!(
        store.pool_outstanding("default").await.unwrap(),
        1,
        "a ticket holds a slot"
    );
    assert!(
        store
            .due_jobs_of("default", &[(acme, 10)], 2_000)
            .await
            .unwrap()
            .is_empty(),
        "dispatched jobs are not due again"
    );
    assert!(pools_with_due_jobs(&store, 2_000).await.is_empty());
    assert!(store.stale_dispatches(1_000, 10).await.unwrap().is_empty());
    assert_eq!(
        store.stale_dispatches(1_500, 10).await.unwrap().len(),
        1,
        "a ticket never claimed is sent again"
    );

    assert!(
        store
            .claim_job(TenantId::new(), j.id, "w0", 1_100, 31_100)
            .await
            .unwrap()
            .is_none(),
        "a claim naming another workspace is refused"
    );
    let running = store
        .claim_job(j.tenant_id, j.id, "w1", 1_100, 31_100)
        .await
        .unwrap()
        .expect("claimed");
    assert_eq!(
        (
            running.status,
            running.attempt,
            running.lease_holder.as_deref()
        ),
        (JobStatus::Running, 1, Some("w1"))
    );
    assert_eq!(running.started_at, Some(1_100));
    assert_eq!(
        store
            .claim_job(j.tenant_id, j.id, "w2", 1_101, 31_101)
            .await
            .unwrap(),
        None,
        "one claim per attempt"
    );
    assert!(!store.extend_lease(j.id, "w2", 1, 40_000).await.unwrap());
    assert!(store.extend_lease(j.id, "w1", 1, 40_000).await.unwrap());

    let ok = AttemptEnd::Succeeded(r#"{"ok":true}"#.into());
    assert_eq!(
        store.end_attempt(j.id, "w2", 1, &ok, 1_200).await.unwrap(),
        None,
        "not the lease holder"
    );
    assert_eq!(
        store.end_attempt(j.id, "w1", 2, &ok, 1_200).await.unwrap(),
        None,
        "not this attempt"
    );
    let done = store
        .end_attempt(j.id, "w1", 1, &ok, 1_200)
        .await
        .unwrap()
        .expect("completed");
    assert_eq!(
        (done.status, done.result.as_deref(), done.finished_at),
        (JobStatus::Succeeded, Some(r#"{"ok":true}"#), Some(1_200))
    );
    assert_eq!(done.lease_holder, None);
    assert_eq!(
        store.end_attempt(j.id, "w1", 1, &ok, 1_300).await.unwrap(),
        None,
        "completion is recorded once"
    );
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    claims_are_exclusive_and_completion_is_fenced,
    claims_are_exclusive_and_completion_is_fenced
);

/// The dispatcher's two reads: every pool with due jobs, its room and the workspaces
/// waiting on it (with their active jobs in every pool) in one; then each waiting
/// workspace's next jobs, each within its own limit and oldest first, in another.
async fn the_dispatchers_reads_see_every_pool_and_workspace_waiting(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let (acme, globex) = setup(&store).await;
    let online = |id: &str, pool: &str, concurrency: i64| WorkerRecord {
        id: id.into(),
        pool: pool.into(),
        host: "host-1".into(),
        status: "online".into(),
        running: 0,
        concurrency,
        started_at: 1_000,
        last_heartbeat: 1_000,
    };
    store
        .upsert_worker(&online("a", "default", 4))
        .await
        .unwrap();
    store
        .upsert_worker(&online("b", "default", 2))
        .await
        .unwrap();
    store.upsert_worker(&online("c", "gpu", 8)).await.unwrap();
    let queued = |tenant: TenantId, pool: &str, at: i64| {
        let mut j = job(tenant, at);
        j.pool = pool.into();
        j
    };
    // acme: three waiting in default (one not due yet), one running in gpu, one with a
    // ticket in default; globex: two waiting in default, one in gpu.
    let a1 = queued(acme, "default", 300);
    let a2 = queued(acme, "default", 100);
    let a3 = queued(acme, "default", 200);
    let later = queued(acme, "default", 9_000);
    let running = queued(acme, "gpu", 100);
    let ticketed = queued(acme, "default", 100);
    let g1 = queued(globex, "default", 150);
    let g2 = queued(globex, "default", 50);
    let g3 = queued(globex, "gpu", 100);
    for j in [&a1, &a2, &a3, &later, &running, &ticketed, &g1, &g2, &g3] {
        store.insert_job(j).await.unwrap();
    }
    store
        .claim_job(acme, running.id, "c", 500, 60_000)
        .await
        .unwrap()
        .unwrap();
    store
        .mark_dispatched(&[(ticketed.id, 0)], 500)
        .await
        .unwrap();
    let mut waiting_default = vec![(acme, 2), (globex, 0)];
    waiting_default.sort();
    assert_eq!(
        store.rooms_with_due_jobs(1_000).await.unwrap(),
        vec![
            PoolRoom {
                pool: "default".into(),
                slots: 6,
                outstanding: 1,
                waiting: waiting_default,
            },
            PoolRoom {
                pool: "gpu".into(),
                slots: 8,
                outstanding: 1,
                waiting: vec![(globex, 0)],
            },
        ]
    );
    let ids = |jobs: Vec<JobRecord>| -> Vec<JobId> { jobs.into_iter().map(|j| j.id).collect() };
    let mut expected = vec![(acme, vec![a2.id, a3.id]), (globex, vec![g2.id])];
    expected.sort();
    let expected: Vec<JobId> = expected.into_iter().flat_map(|(_, jobs)| jobs).collect();
    assert_eq!(
        ids(store
            .due_jobs_of("default", &[(globex, 1), (acme, 2)], 1_000)
            .await
            .unwrap()),
        expected,
        "each workspace's oldest due jobs within its take, grouped by workspace"
    );
    assert_eq!(
        ids(store
            .due_jobs_of("default", &[(acme, 10)], 1_000)
            .await
            .unwrap()),
        vec![a2.id, a3.id, a1.id],
        "not the one due later, nor the one with a ticket"
    );
    // More workspaces than one statement takes: each is read.
    let owner = store
        .user_by_email("owner@example.com")
        .await
        .unwrap()
        .unwrap();
    let mut many = vec![(acme, 1), (globex, 1)];
    let mut expected = vec![a2.id, g2.id];
    for i in 0..TENANTS_AT_ONCE {
        let ws = WorkspaceRecord {
            id: TenantId::new(),
            slug: format!("more-{i}"),
            name: format!("more {i}"),
            created_at: 1,
        };
        store.create_workspace(&ws, owner.id).await.unwrap();
        let j = queued(ws.id, "default", 100);
        store.insert_job(&j).await.unwrap();
        many.push((ws.id, 1));
        expected.push(j.id);
    }
    let mut read = ids(store.due_jobs_of("default", &many, 1_000).await.unwrap());
    read.sort();
    expected.sort();
    assert_eq!(read, expected);
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    the_dispatchers_reads_see_every_pool_and_workspace_waiting,
    the_dispatchers_reads_see_every_pool_and_workspace_waiting
);

async fn failures_retry_later_then_go_to_the_dead_letter(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let (acme, _) = setup(&store).await;
    let j = job(acme, 1_000);
    store.insert_job(&j).await.unwrap();
    store
        .claim_job(j.tenant_id, j.id, "w1", 1_000, 2_000)
        .await
        .unwrap()
        .unwrap();
    let retry = AttemptEnd::Retry {
        error: "boom".into(),
        retry_at: 5_000,
    };
    let queued = store
        .end_attempt(j.id, "w1", 1, &retry, 1_100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            queued.status,
            queued.error.as_deref(),
            queued.run_at,
            queued.dispatched_at
        ),
        (JobStatus::Queued, Some("boom"), 5_000, None)
    );
    assert!(
        store
            .due_jobs_of("default", &[(acme, 10)], 4_999)
            .await
            .unwrap()
            .is_empty(),
        "waits out its backoff"
    );
    assert_eq!(
        store
            .due_jobs_of("default", &[(acme, 10)], 5_000)
            .await
            .unwrap()
            .len(),
        1
    );

    let second = store
        .claim_job(j.tenant_id, j.id, "w2", 5_000, 6_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.attempt, 2);
    let dead = store
        .end_attempt(j.id, "w2", 2, &AttemptEnd::Dead("boom again".into()), 5_100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (dead.status, dead.error.as_deref()),
        (JobStatus::Dead, Some("boom again"))
    );

    let other = store.retry_job(acme, JobId::new(), 6_000).await.unwrap();
    assert_eq!(other, None);
    let again = store.retry_job(acme, j.id, 6_000).await.unwrap().unwrap();
    assert_eq!(
        (
            again.status,
            again.attempt,
            again.max_attempts,
            again.error.clone(),
            again.finished_at
        ),
        (JobStatus::Queued, 2, 5, None, None),
        "attempt numbers keep growing (they fence reports); the retry adds fresh attempts"
    );
    // Retrying a job that is not finished changes nothing.
    assert_eq!(
        store.retry_job(acme, j.id, 7_000).await.unwrap().unwrap(),
        again
    );
    // Each retry grants the attempts the job was submitted with (3), never what has piled
    // up before (5).
    let third = store
        .claim_job(j.tenant_id, j.id, "w3", 7_000, 8_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.attempt, 3);
    store
        .end_attempt(
            j.id,
            "w3",
            3,
            &AttemptEnd::Dead("boom thrice".into()),
            7_100,
        )
        .await
        .unwrap()
        .unwrap();
    let fourth_run = store.retry_job(acme, j.id, 8_000).await.unwrap().unwrap();
    assert_eq!(
        (fourth_run.attempt, fourth_run.max_attempts),
        (3, 6),
        "attempts granted by a second retry"
    );
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    failures_retry_later_then_go_to_the_dead_letter,
    failures_retry_later_then_go_to_the_dead_letter
);

async fn expired_leases_are_reclaimed_and_a_heartbeat_wins(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let (acme, _) = setup(&store).await;
    let j = job(acme, 1_000);
    store.insert_job(&j).await.unwrap();
    store
        .claim_job(j.tenant_id, j.id, "w1", 1_000, 1_100)
        .await
        .unwrap()
        .unwrap();
    assert!(store.expired_leases(1_050, 10).await.unwrap().is_empty());
    assert_eq!(store.expired_leases(1_200, 10).await.unwrap().len(), 1);

    // The worker's heartbeat lands first: the sweeper's view is stale and loses.
    assert!(store.extend_lease(j.id, "w1", 1, 2_000).await.unwrap());
    let lost = AttemptEnd::Retry {
        error: "lease expired".into(),
        retry_at: 1_200,
    };
    assert_eq!(
        store
            .end_expired_attempt(j.id, 1, &lost, 1_200)
            .await
            .unwrap(),
        None
    );

    // Silent past the lease: reclaimed for a retry; the old holder cannot complete it.
    let requeued = store
        .end_expired_attempt(j.id, 1, &lost, 2_100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (requeued.status, requeued.error.as_deref()),
        (JobStatus::Queued, Some("lease expired"))
    );
    let late = store
        .end_attempt(j.id, "w1", 1, &AttemptEnd::Succeeded("{}".into()), 2_200)
        .await
        .unwrap();
    assert_eq!(
        late, None,
        "a worker that lost its lease cannot record a result"
    );
    let next = store
        .claim_job(j.tenant_id, j.id, "w2", 2_300, 3_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.attempt, 2);
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    expired_leases_are_reclaimed_and_a_heartbeat_wins,
    expired_leases_are_reclaimed_and_a_heartbeat_wins
);

async fn cancellation_stops_queued_jobs_and_flags_running_ones(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let (acme, globex) = setup(&store).await;
    let (queued, running) = (job(acme, 1_000), job(acme, 1_000));
    store.insert_job(&queued).await.unwrap();
    store.insert_job(&running).await.unwrap();
    store
        .claim_job(running.tenant_id, running.id, "w1", 1_000, 9_000)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        store
            .request_cancel(globex, queued.id, 1_100)
            .await
            .unwrap(),
        None,
        "another workspace cannot"
    );
    let c = store
        .request_cancel(acme, queued.id, 1_100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.status, c.finished_at),
        (JobStatus::Cancelled, Some(1_100))
    );
    assert_eq!(
        store
            .claim_job(queued.tenant_id, queued.id, "w1", 1_200, 9_000)
            .await
            .unwrap(),
        None,
        "a cancelled job is not run"
    );

    let r = store
        .request_cancel(acme, running.id, 1_100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.status, r.cancel_requested), (JobStatus::Running, true));
    let stopped = store
        .end_attempt(running.id, "w1", 1, &AttemptEnd::Cancelled, 1_300)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stopped.status, JobStatus::Cancelled);
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    cancellation_stops_queued_jobs_and_flags_running_ones,
    cancellation_stops_queued_jobs_and_flags_running_ones
);

async fn logs_counts_and_listing_stay_in_their_workspace(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let (acme, globex) = setup(&store).await;
    let j = job(acme, 1_000);
    store.insert_job(&j).await.unwrap();
    let line = |seq: i64, text: &str| JobLogLine {
        seq,
        at: 1_000 + seq,
        line: text.into(),
    };
    // A batch, then a redelivery that overlaps it.
    store
        .append_job_logs(acme, j.id, &[line(1, "one"), line(2, "two")])
        .await
        .unwrap();
    store
        .append_job_logs(acme, j.id, &[line(2, "duplicate delivery")])
        .await
        .unwrap();
    store.append_job_logs(acme, j.id, &[]).await.unwrap();
    let lines: Vec<String> = store
        .job_log(acme, j.id, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect();
    assert_eq!(
        lines,
        vec!["one", "two"],
        "a redelivered line is recorded once"
    );
    assert_eq!(store.job_log(acme, j.id, 1, 100).await.unwrap().len(), 1);
    assert!(store
        .job_log(globex, j.id, 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.job(globex, j.id).await.unwrap(), None);
    assert_eq!(
        store.job(acme, j.id).await.unwrap().map(|j| j.id),
        Some(j.id)
    );

    let filter = JobFilter {
        status: Some(JobStatus::Queued),
        pool: Some("default".into()),
        limit: 10,
    };
    assert_eq!(store.jobs(acme, &filter).await.unwrap().len(), 1);
    assert!(store.jobs(globex, &filter).await.unwrap().is_empty());
    let running = JobFilter {
        status: Some(JobStatus::Running),
        ..filter.clone()
    };
    assert!(store.jobs(acme, &running).await.unwrap().is_empty());

    store
        .claim_job(j.tenant_id, j.id, "w1", 1_000, 9_000)
        .await
        .unwrap()
        .unwrap();
    store.insert_job(&job(globex, 1_000)).await.unwrap();
    assert_eq!(store.active_jobs(acme).await.unwrap(), 1);
    assert_eq!(store.active_jobs(globex).await.unwrap(), 0);
    let counts = store.open_job_counts(None).await.unwrap();
    assert_eq!(
        counts,
        vec![
            ("default".to_owned(), JobStatus::Queued, 1),
            ("default".to_owned(), JobStatus::Running, 1)
        ]
    );
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    logs_counts_and_listing_stay_in_their_workspace,
    logs_counts_and_listing_stay_in_their_workspace
);

async fn workers_report_and_go_offline_when_silent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let mk = |id: &str, pool: &str, beat: i64| WorkerRecord {
        id: id.into(),
        pool: pool.into(),
        host: "host-1".into(),
        status: "online".into(),
        running: 1,
        concurrency: 4,
        started_at: 1_000,
        last_heartbeat: beat,
    };
    store
        .upsert_worker(&mk("a", "default", 1_000))
        .await
        .unwrap();
    store
        .upsert_worker(&mk("b", "default", 5_000))
        .await
        .unwrap();
    store.upsert_worker(&mk("c", "gpu", 5_000)).await.unwrap();
    store
        .upsert_worker(&WorkerRecord {
            running: 3,
            ..mk("a", "default", 6_000)
        })
        .await
        .unwrap();
    assert_eq!(store.mark_silent_workers_offline(5_500).await.unwrap(), 2);
    let listed: Vec<(String, String, i64)> = store
        .workers(&["default".to_owned()])
        .await
        .unwrap()
        .into_iter()
        .map(|w| (w.id, w.status, w.running))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("a".into(), "online".into(), 3),
            ("b".into(), "offline".into(), 0)
        ]
    );
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    workers_report_and_go_offline_when_silent,
    workers_report_and_go_offline_when_silent
);

async fn submissions_are_judged_and_a_claim_resumes_from_the_journal(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let (acme, globex) = setup(&store).await;
    // Admission: at most two open jobs of a workspace in the pool, a queue of at most 10.
    let first = job(acme, 1_000);
    let second = job(acme, 1_000);
    let third = job(acme, 1_000);
    let refused = |own, depth| Admission::Refused { own, depth };
    assert_eq!(
        store.submit_job(&first, 2, Some(10)).await.unwrap(),
        Admission::Stored
    );
    assert_eq!(
        store.submit_job(&second, 2, Some(10)).await.unwrap(),
        Admission::Stored
    );
    assert_eq!(
        store.submit_job(&third, 2, Some(10)).await.unwrap(),
        refused(2, 2),
        "the workspace's share is full"
    );
    assert_eq!(store.job(acme, third.id).await.unwrap(), None);
    let other = job(globex, 1_000);
    assert_eq!(
        store.submit_job(&other, 2, Some(1)).await.unwrap(),
        refused(0, 2),
        "the pool's queue is too deep"
    );
    assert_eq!(
        store.submit_job(&other, 2, None).await.unwrap(),
        refused(0, 2),
        "a pool without capacity admits none"
    );
    assert_eq!(store.job(globex, other.id).await.unwrap(), None);
    assert_eq!(
        store.submit_job(&other, 2, Some(2)).await.unwrap(),
        Admission::Stored
    );
    let stored = store.job(acme, first.id).await.unwrap().unwrap();
    assert_eq!(stored, first, "stored as submitted");

    // A claim names the workspace; the first attempt starts from nothing.
    assert!(store
        .claim_job_to_resume(globex, first.id, "w1", 1_000, 31_000)
        .await
        .unwrap()
        .is_none());
    let claimed = store
        .claim_job_to_resume(acme, first.id, "w1", 1_000, 31_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            claimed.record.status,
            claimed.record.attempt,
            claimed.log_seq
        ),
        (JobStatus::Running, 1, 0)
    );
    assert_eq!(claimed.record.lease_holder.as_deref(), Some("w1"));
    assert!(claimed.steps.is_empty());
    assert!(store
        .claim_job_to_resume(acme, first.id, "w2", 1_000, 31_000)
        .await
        .unwrap()
        .is_none());

    // The attempt logs and records two steps (the later one recorded first), then is
    // released; the next attempt resumes after the last log line with the journal in the
    // order the steps were recorded.
    let lines: Vec<JobLogLine> = (1..=3)
        .map(|seq| JobLogLine {
            seq,
            at: 1_000 + seq,
            line: format!("line {seq}"),
        })
        .collect();
    store.append_job_logs(acme, first.id, &lines).await.unwrap();
    let step = |worker: &str, key: &str, entry: &str, at: i64| StepRecord {
        tenant: acme,
        job: first.id,
        worker: worker.into(),
        attempt: 1,
        key: key.into(),
        entry: entry.into(),
        at,
    };
    // Steps reported together are written together, each fenced on its own: a stranger's
    // is refused beside the holder's, even under the same key and whichever comes first,
    // and of one key the holder reported twice the later entry is kept.
    let stale = r#"{"key":"b","stale":true}"#;
    assert_eq!(
        store
            .record_steps(
                &[
                    step("w1", "b", r#"{"key":"b","v":1}"#, 2_000),
                    step("w2", "c", r#"{"key":"c"}"#, 2_000),
                    step("w2", "b", stale, 2_000),
                    step("w1", "b", r#"{"key":"b"}"#, 2_000),
                    step("w2", "b", stale, 2_000),
                ],
                false
            )
            .await
            .unwrap(),
        vec![true, false, false, true, false]
    );
    let stranger = |key: &str| StepRecord {
        tenant: globex,
        ..step("w1", key, r#"{"key":"stranger"}"#, 2_000)
    };
    assert_eq!(
        store
            .record_steps(
                &[
                    stranger("a"),
                    step("w1", "a", r#"{"key":"a"}"#, 1_500),
                    stranger("a"),
                    stranger("d"),
                ],
                true
            )
            .await
            .unwrap(),
        vec![false, true, false, false],
        "a step naming another workspace than its job's is refused"
    );
    store
        .end_attempt(first.id, "w1", 1, &AttemptEnd::Released, 2_500)
        .await
        .unwrap()
        .unwrap();
    let resumed = store
        .claim_job_to_resume(acme, first.id, "w2", 2_600, 32_600)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((resumed.record.attempt, resumed.log_seq), (2, 3));
    assert_eq!(resumed.steps, vec![r#"{"key":"a"}"#, r#"{"key":"b"}"#]);
    store.close().await;
    db.drop_db().await;
}
on_both_backends!(
    submissions_are_judged_and_a_claim_resumes_from_the_journal,
    submissions_are_judged_and_a_claim_resumes_from_the_journal
);
