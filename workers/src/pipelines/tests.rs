//! The engine against the real sandbox and a real HTTP server on loopback, with the journal
//! held in memory (`durable::MemoryJournal`): what runs, in what order, what is skipped,
//! replayed, retried, redacted and refused.

use super::*;
use crate::kinds::JobContext;
use durable::{Journal, MemoryJournal, Run};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

fn plan(graph: Value) -> Plan {
    let graph: Graph = serde_json::from_value(graph).expect("a graph");
    shared::pipelines::compile(&graph, &["TOKEN".to_owned()]).expect("valid")
}

fn env(egress: EgressPolicy) -> Env {
    Env {
        secrets: BTreeMap::from([("TOKEN".to_owned(), "tok-123456".to_owned())]),
        egress,
        breakers: Arc::new(Breakers::default()),
        code_search: None,
        publish: None,
        limits: sandbox::Limits::default(),
        tenant_id: "t1".to_owned(),
    }
}

fn context(journal: Arc<MemoryJournal>) -> (JobContext, watch::Sender<bool>) {
    let (tx, rx) = watch::channel(false);
    let replayed = journal.entries();
    (
        JobContext::journalled(rx, Run::resume(journal, replayed)),
        tx,
    )
}

fn node(id: &str, kind: &str, config: Value) -> Value {
    json!({"id": id, "kind": kind, "config": config})
}

fn edge(from: &str, port: &str, to: &str) -> Value {
    json!({"from": {"node": from, "port": port}, "to": {"node": to, "port": "in"}})
}

fn branching() -> Plan {
    plan(json!({
        "nodes": [
            node("start", "manual", json!({})),
            node("double", "script", json!({"source": "export default (x, ctx) => { ctx.log('doubling', x.n); return {n: x.n * 2} }"})),
            node("big", "branch", json!({"condition": "{{ nodes.double.n }} > 10"})),
            node("yes", "set", json!({"fields": {"verdict": "big", "n": "{{ nodes.double.n }}"}})),
            node("no", "set", json!({"fields": {"verdict": "small"}})),
            node("side", "script", json!({"source": "export default (x) => x.n + 1"})),
            node("join", "merge", json!({})),
            node("done", "output", json!({"value": {"merged": "{{ nodes.join }}", "side": "{{ nodes.side }}"}}))
        ],
        "edges": [
            edge("start", "out", "double"), edge("double", "out", "big"),
            edge("big", "true", "yes"), edge("big", "false", "no"),
            edge("start", "out", "side"),
            edge("yes", "out", "join"), edge("no", "out", "join"), edge("side", "out", "join"),
            edge("join", "out", "done")
        ]
    }))
}

#[tokio::test]
async fn a_run_takes_one_side_of_a_branch_and_merges_what_ran() {
    let journal = Arc::new(MemoryJournal::default());
    let (ctx, _stop) = context(journal.clone());
    let outcome = execute(
        &branching(),
        json!({"n": 7}),
        &env(EgressPolicy::default()),
        &ctx,
    )
    .await;
    assert_eq!(
        outcome,
        Outcome::Succeeded {
            result: json!({"merged": {"yes": {"verdict": "big", "n": 14}, "side": 8}, "side": 8})
        }
    );
    let entries = journal.entries();
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    assert!(
        !keys.contains(&"no"),
        "the untaken side never runs: {keys:?}"
    );
    assert_eq!(keys.len(), 6, "{keys:?}");
    let double = entries
        .iter()
        .find(|e| e.key == "double")
        .expect("journalled");
    assert_eq!(double.logs, vec!["doubling 7"]);
    assert_eq!(double.attempts, 1);
    let big = entries.iter().find(|e| e.key == "big").expect("journalled");
    assert_eq!(big.choice.as_deref(), Some("true"));
    // Each node was recorded before anything depending on it started.
    let position = |k: &str| keys.iter().position(|x| *x == k).expect("recorded");
    assert!(position("double") < position("big") && position("big") < position("yes"));
    assert!(position("yes") < position("join") && position("side") < position("join"));
}

#[tokio::test]
async fn a_resumed_run_replays_its_journal_and_runs_only_the_rest() {
    let journal = Arc::new(MemoryJournal::default());
    // An earlier attempt finished `double` (with an output the script would not give now).
    journal
        .record(&durable::Entry {
            key: "double".into(),
            status: durable::StepStatus::Succeeded,
            output: json!({"n": 2}),
            error: None,
            choice: None,
            attempts: 1,
            started_at: 1,
            finished_at: 2,
            logs: vec![],
        })
        .await
        .expect("recorded");
    let (ctx, _stop) = context(journal.clone());
    let outcome = execute(
        &branching(),
        json!({"n": 7}),
        &env(EgressPolicy::default()),
        &ctx,
    )
    .await;
    assert_eq!(
        outcome,
        Outcome::Succeeded {
            result: json!({"merged": {"no": {"verdict": "small"}, "side": 8}, "side": 8})
        }
    );
    assert!(!journal.started_steps().contains(&"double".to_owned()));
}

#[tokio::test]
async fn a_failing_node_is_retried_then_fails_the_run_and_holds_what_follows() {
    let journal = Arc::new(MemoryJournal::default());
    let (ctx, _stop) = context(journal.clone());
    let p = plan(json!({
        "nodes": [
            node("start", "manual", json!({})),
            node("boom", "script", json!({"source": "export default () => { throw new Error('no ' + 'luck') }", "retries": 2, "retry_delay_seconds": 0.01})),
            node("after", "output", json!({}))
        ],
        "edges": [edge("start", "out", "boom"), edge("boom", "out", "after")]
    }));
    let outcome = execute(&p, json!({}), &env(EgressPolicy::default()), &ctx).await;
    assert_eq!(
        outcome,
        Outcome::Failed {
            error: "node boom: Error: no luck (line 1)".into(),
            retryable: false
        }
    );
    let entries = journal.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].attempts, 3);
    assert_eq!(entries[0].logs.len(), 2, "{:?}", entries[0].logs);
}

#[tokio::test]
async fn secrets_never_reach_the_journal() {
    let journal = Arc::new(MemoryJournal::default());
    let (ctx, _stop) = context(journal.clone());
    let p = plan(json!({
        "nodes": [
            node("start", "manual", json!({})),
            node("auth", "set", json!({"fields": {"header": "Bearer {{ secrets.TOKEN }}"}})),
            node("leak", "script", json!({"source": "export default (x, ctx) => { ctx.log('token is', x.header); return x }"})),
            node("done", "output", json!({}))
        ],
        "edges": [edge("start", "out", "auth"), edge("auth", "out", "leak"), edge("leak", "out", "done")]
    }));
    let outcome = execute(&p, json!({}), &env(EgressPolicy::default()), &ctx).await;
    assert_eq!(
        outcome,
        Outcome::Succeeded {
            result: json!({"header": "Bearer [secret TOKEN]"})
        }
    );
    let recorded = serde_json::to_string(&journal.entries()).expect("json");
    assert!(!recorded.contains("tok-123456"), "{recorded}");
    assert!(recorded.contains("token is Bearer [secret TOKEN]"));
}

#[tokio::test]
async fn cancelling_stops_a_running_script_at_once() {
    let journal = Arc::new(MemoryJournal::default());
    let (ctx, stop) = context(journal.clone());
    let p = plan(json!({
        "nodes": [node("start", "manual", json!({})),
                  node("spin", "script", json!({"source": "export default () => { for (;;) {} }", "timeout_seconds": 60}))],
        "edges": [edge("start", "out", "spin")]
    }));
    let e = env(EgressPolicy::default());
    let started = std::time::Instant::now();
    let (outcome, _) = tokio::join!(execute(&p, json!({}), &e, &ctx), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = stop.send(true);
    });
    assert_eq!(outcome, Outcome::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// A loopback HTTP server answering every request with `body` and counting requests.
async fn counting_server(status: u16, body: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), hits)
}

#[tokio::test]
async fn an_http_node_calls_an_allowed_server_and_the_guard_refuses_the_rest() {
    let (base, hits) = counting_server(200, r#"{"id": 42}"#).await;
    let allowed = EgressPolicy::new("127.0.0.1", true).expect("policy");
    let p = plan(json!({
        "nodes": [node("start", "manual", json!({})),
                  node("fetch", "http", json!({"method": "POST", "url": format!("{base}/items/{{{{ input.id }}}}"), "body": {"a": 1}})),
                  node("done", "output", json!({"value": "{{ nodes.fetch.body.id }}"}))],
        "edges": [edge("start", "out", "fetch"), edge("fetch", "out", "done")]
    }));
    let journal = Arc::new(MemoryJournal::default());
    let (ctx, _stop) = context(journal.clone());
    let outcome = execute(&p, json!({"id": 5}), &env(allowed), &ctx).await;
    assert_eq!(outcome, Outcome::Succeeded { result: json!(42) });
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let fetch = journal
        .entries()
        .into_iter()
        .find(|e| e.key == "fetch")
        .expect("journalled");
    assert_eq!(fetch.output["status"], 200);

    // The default rule refuses loopback before connecting.
    let journal = Arc::new(MemoryJournal::default());
    let (ctx, _stop) = context(journal.clone());
    let outcome = execute(
        &p,
        json!({"id": 5}),
        &env(EgressPolicy::new("", true).expect("policy")),
        &ctx,
    )
    .await;
    match outcome {
        Outcome::Failed { error, .. } => assert!(error.contains("loopback"), "{error}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "nothing was sent");
}

#[tokio::test]
async fn a_failing_host_opens_its_breaker() {
    let (base, hits) = counting_server(503, r#"{"down": true}"#).await;
    let e = env(EgressPolicy::new("127.0.0.1", true).expect("policy"));
    let p = plan(json!({
        "nodes": [node("start", "manual", json!({})),
                  node("fetch", "http", json!({"method": "GET", "url": base, "retries": 7, "retry_delay_seconds": 0.001}))],
        "edges": [edge("start", "out", "fetch")]
    }));
    let journal = Arc::new(MemoryJournal::default());
    let (ctx, _stop) = context(journal.clone());
    let outcome = execute(&p, json!({}), &e, &ctx).await;
    match outcome {
        Outcome::Failed { error, .. } => assert!(error.contains("circuit is open"), "{error}"),
        other => panic!("{other:?}"),
    }
    // Five failures open it; the other three attempts were refused without a request.
    assert_eq!(hits.load(Ordering::SeqCst), 5);
    assert_eq!(journal.entries()[0].attempts, 8);
}

#[tokio::test]
async fn a_long_delay_sleeps_without_a_worker_and_resumes_at_its_time() {
    let journal = Arc::new(MemoryJournal::default());
    let p = plan(json!({
        "nodes": [node("start", "manual", json!({})),
                  node("first", "set", json!({"fields": {"a": 1}})),
                  node("wait", "delay", json!({"seconds": 3600})),
                  node("done", "output", json!({}))],
        "edges": [edge("start", "out", "first"), edge("first", "out", "wait"), edge("wait", "out", "done")]
    }));
    let (ctx, _stop) = context(journal.clone());
    let before = durable::now_ms();
    let outcome = execute(&p, json!({}), &env(EgressPolicy::default()), &ctx).await;
    let Outcome::Sleeping { until } = outcome else {
        panic!("not sleeping: {outcome:?}")
    };
    assert!(until >= before + 3_600_000 && until <= durable::now_ms() + 3_600_000);
    let keys: Vec<String> = journal.entries().into_iter().map(|e| e.key).collect();
    assert_eq!(keys, vec!["first", "wait#wake"]);
    // Woken early (another attempt before the time): it sleeps again until the same moment.
    let (ctx, _stop) = context(journal.clone());
    assert_eq!(
        execute(&p, json!({}), &env(EgressPolicy::default()), &ctx).await,
        Outcome::Sleeping { until }
    );
    // At its time (the journal says the wake-up has passed), the run goes on.
    let mut entries = journal.entries();
    for e in &mut entries {
        if e.key == "wait#wake" {
            e.output = json!({"until": durable::now_ms() - 1});
        }
    }
    let woken = Arc::new(MemoryJournal::default());
    for e in &entries {
        woken.record(e).await.expect("recorded");
    }
    let (ctx, _stop) = context(woken.clone());
    assert_eq!(
        execute(&p, json!({}), &env(EgressPolicy::default()), &ctx).await,
        Outcome::Succeeded {
            result: json!({"a": 1})
        }
    );
    assert!(
        !woken.started_steps().contains(&"first".to_owned()),
        "not run again"
    );
}

/// A server that redirects every request to `target`, recording the headers it got.
async fn redirecting_server(target: String) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            log.lock()
                .expect("log")
                .push(String::from_utf8_lossy(&buf[..n]).to_lowercase());
            let answer = format!("HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn a_redirect_to_another_origin_loses_the_credentials() {
    // A final server that records what it was sent, on another port (another origin).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let final_addr = listener.local_addr().expect("addr");
    let recorder = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    {
        let recorder = recorder.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                recorder
                    .lock()
                    .expect("log")
                    .push(String::from_utf8_lossy(&buf[..n]).to_lowercase());
                let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
    }
    let (start, first) = redirecting_server(format!("http://{final_addr}/landing")).await;
    let p = plan(json!({
        "nodes": [node("start", "manual", json!({})),
                  node("fetch", "http", json!({"method": "GET", "url": start,
                      "headers": {"authorization": "Bearer {{ secrets.TOKEN }}", "x-api-key": "{{ secrets.TOKEN }}", "x-plain": "kept"}}))],
        "edges": [edge("start", "out", "fetch")]
    }));
    let allowed = EgressPolicy::new("127.0.0.1", true).expect("policy");
    let journal = Arc::new(MemoryJournal::default());
    let (ctx, _stop) = context(journal.clone());
    let outcome = execute(&p, json!({}), &env(allowed), &ctx).await;
    assert!(matches!(outcome, Outcome::Succeeded { .. }), "{outcome:?}");
    // The first host got the credentials it was written for; the second got none.
    assert!(first.lock().expect("log")[0].contains("authorization: bearer tok-123456"));
    let requests = recorder.lock().expect("log").clone();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].contains("x-plain: kept"), "{}", requests[0]);
    assert!(!requests[0].contains("authorization"), "{}", requests[0]);
    assert!(!requests[0].contains("tok-123456"), "{}", requests[0]);
}
