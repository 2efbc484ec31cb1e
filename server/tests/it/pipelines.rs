//! Pipelines end to end through the REST API, on both backends: saving versions (and the
//! problems a graph cannot be saved with), runs on a `pipelines` worker pool with their nodes
//! painted from the journal, re-runs from a failed node that reuse what finished before it
//! (a local counting server proves no step ran twice), cancellation, webhooks (signed and
//! not) and secrets kept out of everything a run records.

use crate::common::counting_server;
use crate::common::{Auth, TestApp};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use server::store::Backend;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use workers::bus::memory::InProcessBus;

async fn app(backend: Backend) -> TestApp {
    TestApp::with_jobs_and_config(
        backend,
        Arc::new(InProcessBus::new()),
        workers::pools::PIPELINES_POOL,
        4,
        |c| {
            // HTTP nodes may reach the tests' own servers on loopback, and only those.
            c.code.egress = workers::egress::EgressPolicy::new("127.0.0.1", true).expect("rule");
        },
    )
    .await
}

async fn owner(app: &TestApp) -> Auth {
    let (auth, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&auth, "acme").await;
    auth
}

/// The id of workspace `acme`, for looking into the store.
async fn tenant_of(app: &TestApp, auth: &Auth) -> shared::ids::TenantId {
    let ws = app
        .call(Method::GET, "/api/v1/workspaces/acme", None, auth)
        .await;
    ws.body["id"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("the workspace's id")
}

fn node(id: &str, kind: &str, config: Value) -> Value {
    json!({"id": id, "kind": kind, "config": config, "position": {"x": 0, "y": 0}})
}

fn edge(from: &str, port: &str, to: &str) -> Value {
    json!({"from": {"node": from, "port": port}, "to": {"node": to, "port": "in"}})
}

async fn create(app: &TestApp, auth: &Auth, name: &str, graph: Value) -> String {
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/pipelines",
            Some(json!({"name": name, "graph": graph})),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["version"], 1);
    a.body["id"].as_str().expect("id").to_owned()
}

async fn start(app: &TestApp, auth: &Auth, pipeline: &str, input: Value) -> String {
    let a = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/pipelines/{pipeline}/runs"),
            Some(json!({ "input": input })),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_str().expect("run id").to_owned()
}

/// Polls a run until it has ended (or fails the test after 30 s).
async fn finished(app: &TestApp, auth: &Auth, run: &str) -> Value {
    for _ in 0..600 {
        let a = app
            .call(
                Method::GET,
                &format!("/api/v1/workspaces/acme/runs/{run}"),
                None,
                auth,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        if ["succeeded", "failed", "cancelled"].contains(&a.body["status"].as_str().unwrap_or("")) {
            return a.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run} never ended");
}

fn node_of<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["nodes"]
        .as_array()
        .and_then(|nodes| nodes.iter().find(|n| n["node"] == id))
        .unwrap_or_else(|| panic!("no node {id} in {run}"))
}

fn branching() -> Value {
    json!({
        "nodes": [
            node("start", "manual", json!({})),
            node("double", "script", json!({"source": "export default function main(input, ctx) {\n  ctx.log('doubling ' + input.n);\n  return { n: input.n * 2 };\n}"})),
            node("check", "branch", json!({"condition": "{{ nodes.double.n }} > 10"})),
            node("big", "set", json!({"fields": {"size": "big", "n": "{{ nodes.double.n }}"}})),
            node("small", "set", json!({"fields": {"size": "small"}})),
            node("join", "merge", json!({})),
            node("done", "output", json!({}))
        ],
        "edges": [
            edge("start", "out", "double"), edge("double", "out", "check"),
            edge("check", "true", "big"), edge("check", "false", "small"),
            edge("big", "out", "join"), edge("small", "out", "join"),
            edge("join", "out", "done")
        ]
    })
}

async fn a_pipeline_is_saved_run_and_painted_node_by_node(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    let id = create(&app, &auth, "Sizer", branching()).await;

    let got = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{id}"),
            None,
            &auth,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["version"], 1);
    assert_eq!(got.body["live_version"], 1);
    assert_eq!(
        got.body["triggers"],
        json!([{"node": "start", "kind": "manual", "signed": false}])
    );
    assert_eq!(got.body["graph"]["nodes"].as_array().map(Vec::len), Some(7));

    let run = start(&app, &auth, &id, json!({"n": 7})).await;
    let done = finished(&app, &auth, &run).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["output"], json!({"big": {"size": "big", "n": 14}}));
    assert_eq!(done["version"], 1);
    assert_eq!(done["trigger"], "manual");
    assert_eq!(done["input"], json!({"n": 7}));
    let double = node_of(&done, "double");
    assert_eq!(double["status"], "succeeded");
    assert_eq!(double["attempts"], 1);
    assert_eq!(double["input"], json!({"n": 7}));
    assert_eq!(double["output"], json!({"n": 14}));
    assert_eq!(double["logs"], json!(["doubling 7"]));
    assert!(double["started_at"].as_i64() <= double["finished_at"].as_i64());
    assert_eq!(node_of(&done, "check")["choice"], "true");
    assert_eq!(node_of(&done, "small")["status"], "skipped");
    assert_eq!(node_of(&done, "start")["status"], "succeeded");
    assert_eq!(
        node_of(&done, "join")["input"],
        json!({"big": {"size": "big", "n": 14}})
    );

    // The other side of the branch, on another run.
    let small = finished(&app, &auth, &start(&app, &auth, &id, json!({"n": 1})).await).await;
    assert_eq!(small["output"], json!({"small": {"size": "small"}}));
    assert_eq!(node_of(&small, "big")["status"], "skipped");

    let runs = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{id}/runs"),
            None,
            &auth,
        )
        .await;
    assert_eq!(runs.body.as_array().map(Vec::len), Some(2));
    assert_eq!(runs.body[0]["id"], small["id"]);
    assert!(runs.body[0]["duration_ms"].as_i64().is_some());
    let list = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/pipelines",
            None,
            &auth,
        )
        .await;
    assert_eq!(list.body[0]["name"], "Sizer");
    assert_eq!(list.body[0]["nodes"], 7);
    assert_eq!(list.body[0]["last_run"]["status"], "succeeded");
    app.finish().await;
}
on_both_backends!(
    a_pipeline_is_saved_run_and_painted,
    a_pipeline_is_saved_run_and_painted_node_by_node
);

async fn a_graph_with_problems_is_refused_with_each_one(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    let graph = json!({
        "nodes": [
            node("start", "manual", json!({})),
            node("a", "script", json!({"source": "export default (x) => {\n  return x +;\n}"})),
            node("b", "set", json!({"fields": {"k": "{{ secrets.MISSING }}"}})),
        ],
        "edges": [edge("start", "out", "a"), edge("a", "out", "b"), edge("b", "out", "a")]
    });
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/pipelines",
            Some(json!({"name": "Broken", "graph": graph})),
            &auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(a.body["error"]["field"], "graph");
    let problems = a.body["error"]["problems"]
        .as_array()
        .expect("problems")
        .clone();
    let has = |node: &str, field: Option<&str>, text: &str| {
        problems.iter().any(|p| {
            p["node"] == node
                && p.get("field").and_then(Value::as_str) == field
                && p["message"].as_str().is_some_and(|m| m.contains(text))
        })
    };
    assert!(has("a", None, "cycle"), "{problems:#?}");
    assert!(has("a", Some("config.source"), "line 2"), "{problems:#?}");
    assert!(
        has("b", Some("config.fields.k"), "no secret \"MISSING\""),
        "{problems:#?}"
    );
    let syntax = problems
        .iter()
        .find(|p| p["field"] == "config.source")
        .expect("the syntax error");
    assert_eq!(syntax["line"], 2);
    // Nothing was saved.
    let list = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/pipelines",
            None,
            &auth,
        )
        .await;
    assert_eq!(list.body, json!([]));
    // The check endpoint answers the same problems without saving.
    let checked = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/pipelines/check",
            Some(graph),
            &auth,
        )
        .await;
    assert_eq!(checked.status, StatusCode::OK);
    assert_eq!(
        checked.body["problems"].as_array().map(Vec::len),
        Some(problems.len())
    );
    app.finish().await;
}
on_both_backends!(
    a_graph_with_problems_is_refused,
    a_graph_with_problems_is_refused_with_each_one
);

async fn versions_are_immutable_and_runs_pin_theirs(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    let v1 = json!({"nodes": [node("start", "manual", json!({})), node("out", "output", json!({"value": "one"}))],
                    "edges": [edge("start", "out", "out")]});
    let id = create(&app, &auth, "Versions", v1.clone()).await;
    let mut v2 = v1.clone();
    v2["nodes"][1]["config"]["value"] = json!("two");
    let saved = app
        .call(
            Method::PUT,
            &format!("/api/v1/workspaces/acme/pipelines/{id}"),
            Some(json!({"graph": v2})),
            &auth,
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body, json!({"id": id, "version": 2}));
    let run = finished(&app, &auth, &start(&app, &auth, &id, json!({})).await).await;
    assert_eq!(
        (run["version"].clone(), run["output"].clone()),
        (json!(2), json!("two"))
    );

    let versions = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{id}/versions"),
            None,
            &auth,
        )
        .await;
    let numbers: Vec<i64> = versions
        .body
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(numbers, vec![2, 1]);
    let graph =
        |v: &Value| serde_json::from_value::<shared::pipelines::Graph>(v.clone()).expect("a graph");
    assert_eq!(graph(&versions.body[1]["graph"]), graph(&v1));
    assert_eq!(versions.body[0]["live"], true);

    // Back to version 1: runs start it again; the run of version 2 keeps its version.
    let live = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/pipelines/{id}/live"),
            Some(json!({"version": 1})),
            &auth,
        )
        .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    assert_eq!(
        (
            live.body["version"].clone(),
            live.body["live_version"].clone()
        ),
        (json!(2), json!(1))
    );
    let again = finished(&app, &auth, &start(&app, &auth, &id, json!({})).await).await;
    assert_eq!(again["output"], "one");
    let old = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/workspaces/acme/runs/{}",
                run["id"].as_str().unwrap_or("")
            ),
            None,
            &auth,
        )
        .await;
    assert_eq!(old.body["version"], 2);
    let bad = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/pipelines/{id}/live"),
            Some(json!({"version": 9})),
            &auth,
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("version"))
    );
    app.finish().await;
}
on_both_backends!(
    versions_are_immutable,
    versions_are_immutable_and_runs_pin_theirs
);

async fn a_failed_run_reruns_from_its_failed_node_without_repeating_the_rest(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    let (first, first_hits) = counting_server(vec![200]).await;
    let (flaky, flaky_hits) = counting_server(vec![503, 200]).await;
    let graph = json!({
        "nodes": [
            node("start", "manual", json!({})),
            node("first", "http", json!({"method": "POST", "url": first, "body": {"n": "{{ input.n }}"}})),
            node("flaky", "http", json!({"method": "GET", "url": flaky})),
            node("done", "output", json!({"value": {"first": "{{ nodes.first.body.hit }}", "flaky": "{{ nodes.flaky.body.hit }}"}}))
        ],
        "edges": [edge("start", "out", "first"), edge("first", "out", "flaky"), edge("flaky", "out", "done")]
    });
    let id = create(&app, &auth, "Flaky", graph).await;
    let failed = finished(&app, &auth, &start(&app, &auth, &id, json!({"n": 3})).await).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("node flaky") && e.contains("503")),
        "{failed}"
    );
    assert_eq!(node_of(&failed, "flaky")["status"], "failed");
    assert_eq!(node_of(&failed, "done")["status"], "skipped");
    assert_eq!(first_hits.load(Ordering::SeqCst), 1);

    let rerun = app
        .call(
            Method::POST,
            &format!(
                "/api/v1/workspaces/acme/runs/{}/rerun",
                failed["id"].as_str().unwrap_or("")
            ),
            Some(json!({"node": "flaky"})),
            &auth,
        )
        .await;
    assert_eq!(rerun.status, StatusCode::CREATED, "{}", rerun.body);
    let done = finished(&app, &auth, rerun.body["id"].as_str().expect("id")).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["trigger"], "rerun");
    assert_eq!(done["rerun_of"], failed["id"]);
    assert_eq!(done["output"], json!({"first": 1, "flaky": 2}));
    // The first request was reused from the journal, not sent again.
    assert_eq!(first_hits.load(Ordering::SeqCst), 1);
    assert_eq!(flaky_hits.load(Ordering::SeqCst), 2);
    assert_eq!(node_of(&done, "first")["output"]["body"], json!({"hit": 1}));

    let bad = app
        .call(
            Method::POST,
            &format!(
                "/api/v1/workspaces/acme/runs/{}/rerun",
                failed["id"].as_str().unwrap_or("")
            ),
            Some(json!({"node": "nowhere"})),
            &auth,
        )
        .await;
    assert_eq!(
        (bad.status, bad.body["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("node"))
    );
    app.finish().await;
}
on_both_backends!(
    a_failed_run_reruns_from_its_failed_node,
    a_failed_run_reruns_from_its_failed_node_without_repeating_the_rest
);

async fn a_cancelled_run_stops_at_once(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    let graph = json!({
        "nodes": [node("start", "manual", json!({})),
                  node("spin", "script", json!({"source": "export default () => { for (;;) {} }", "timeout_seconds": 120})),
                  node("after", "output", json!({}))],
        "edges": [edge("start", "out", "spin"), edge("spin", "out", "after")]
    });
    let id = create(&app, &auth, "Spinner", graph).await;
    let run = start(&app, &auth, &id, json!({})).await;
    // Wait until the script runs.
    for _ in 0..200 {
        let a = app
            .call(
                Method::GET,
                &format!("/api/v1/workspaces/acme/runs/{run}"),
                None,
                &auth,
            )
            .await;
        if a.body["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let began = std::time::Instant::now();
    let c = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/runs/{run}/cancel"),
            None,
            &auth,
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    let done = finished(&app, &auth, &run).await;
    assert_eq!(done["status"], "cancelled");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "stopped in {:?}",
        began.elapsed()
    );
    assert_eq!(node_of(&done, "after")["status"], "skipped");
    let again = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/runs/{run}/cancel"),
            None,
            &auth,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    app.finish().await;
}
on_both_backends!(a_cancelled_run_stops, a_cancelled_run_stops_at_once);

async fn hook(
    app: &TestApp,
    url: &str,
    body: &str,
    headers: &[(&str, String)],
) -> (StatusCode, Value) {
    let path = url.trim_start_matches("http://127.0.0.1:3000");
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    let (status, _, bytes) = app
        .send_raw(builder.body(Body::from(body.to_owned())).expect("request"))
        .await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn signature(key: &str, timestamp: &str, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let bytes = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

async fn webhooks_start_runs_and_signed_ones_refuse_forgeries(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    let graph = json!({
        "nodes": [node("hook", "webhook", json!({})),
                  node("greet", "set", json!({"fields": {"hello": "{{ input.name }}"}})),
                  node("done", "output", json!({}))],
        "edges": [edge("hook", "out", "greet"), edge("greet", "out", "done")]
    });
    let id = create(&app, &auth, "Hooked", graph.clone()).await;
    let got = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{id}"),
            None,
            &auth,
        )
        .await;
    let url = got.body["triggers"][0]["url"]
        .as_str()
        .expect("a webhook URL")
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:3000/hooks/acme/"),
        "{url}"
    );

    let (status, body) = hook(&app, &url, r#"{"name": "ada"}"#, &[]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let run = finished(&app, &auth, body["run_id"].as_str().expect("run id")).await;
    assert_eq!(
        (run["trigger"].clone(), run["output"].clone()),
        (json!("webhook"), json!({"hello": "ada"}))
    );
    assert_eq!(
        hook(&app, &url, "not json", &[]).await.0,
        StatusCode::BAD_REQUEST
    );
    // Another system's page or service may name its own origin: webhooks are not the
    // console's state changes, so the CSRF guard does not apply to them.
    let (status, _) = hook(
        &app,
        &url,
        "{}",
        &[("origin", "https://elsewhere.example".to_owned())],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let wrong_slug = url.replace("/hooks/acme/", "/hooks/other/");
    assert_eq!(
        hook(&app, &wrong_slug, "{}", &[]).await.0,
        StatusCode::NOT_FOUND
    );

    // A signing key: unsigned, forged and stale requests are refused, signed ones run.
    let key = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/pipelines/{id}/hooks/hook/signing-key"),
            None,
            &auth,
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.body);
    let key = key.body["key"].as_str().expect("key").to_owned();
    let body = r#"{"name": "grace"}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string();
    assert_eq!(
        hook(&app, &url, body, &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    let forged = signature("not the key", &now, body);
    assert_eq!(
        hook(
            &app,
            &url,
            body,
            &[
                ("x-switchyard-timestamp", now.clone()),
                ("x-switchyard-signature", forged)
            ]
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let stale = (now.parse::<i64>().unwrap_or(0) - 3600).to_string();
    let old = signature(&key, &stale, body);
    assert_eq!(
        hook(
            &app,
            &url,
            body,
            &[
                ("x-switchyard-timestamp", stale),
                ("x-switchyard-signature", old)
            ]
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let good = signature(&key, &now, body);
    let (status, answer) = hook(
        &app,
        &url,
        body,
        &[
            ("x-switchyard-timestamp", now.clone()),
            ("x-switchyard-signature", good),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let signed = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{id}"),
            None,
            &auth,
        )
        .await;
    assert_eq!(signed.body["triggers"][0]["signed"], true);

    // A node that waits answers with the run's output.
    let mut waiting = graph;
    waiting["nodes"][0]["config"] = json!({"wait_seconds": 20});
    let saved = app
        .call(
            Method::PUT,
            &format!("/api/v1/workspaces/acme/pipelines/{id}"),
            Some(json!({"graph": waiting})),
            &auth,
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let remove = app
        .call(
            Method::DELETE,
            &format!("/api/v1/workspaces/acme/pipelines/{id}/hooks/hook/signing-key"),
            None,
            &auth,
        )
        .await;
    assert_eq!(remove.status, StatusCode::NO_CONTENT);
    let (status, answer) = hook(&app, &url, r#"{"name": "lin"}"#, &[]).await;
    assert_eq!((status, answer), (StatusCode::OK, json!({"hello": "lin"})));
    app.finish().await;
}
on_both_backends!(
    webhooks_start_runs,
    webhooks_start_runs_and_signed_ones_refuse_forgeries
);

async fn secrets_stay_out_of_what_a_run_records(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    let set = app
        .set_secret(&auth, "acme", "API_TOKEN", "tok-very-secret-1")
        .await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
    let graph = json!({
        "nodes": [node("start", "manual", json!({})),
                  node("auth", "set", json!({"fields": {"header": "Bearer {{ secrets.API_TOKEN }}"}})),
                  node("echo", "script", json!({"source": "export default (x, ctx) => { ctx.log('sending', x.header); return x.header }"})),
                  node("done", "output", json!({}))],
        "edges": [edge("start", "out", "auth"), edge("auth", "out", "echo"), edge("echo", "out", "done")]
    });
    let id = create(&app, &auth, "Secretive", graph).await;
    let run = finished(&app, &auth, &start(&app, &auth, &id, json!({})).await).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["output"], "Bearer [secret API_TOKEN]");
    let text = run.to_string();
    assert!(!text.contains("tok-very-secret-1"), "{text}");
    assert_eq!(
        node_of(&run, "echo")["logs"],
        json!(["sending Bearer [secret API_TOKEN]"])
    );
    // Nor the job's payload (the value travels sealed) or its journal in the store.
    let tenant = tenant_of(&app, &auth).await;
    let job: shared::ids::JobId = run["id"]
        .as_str()
        .and_then(|j| j.parse().ok())
        .expect("run id");
    let stored = app
        .store
        .job(tenant, job)
        .await
        .expect("store")
        .expect("the run's job");
    assert!(!stored.payload.contains("tok-very-secret-1"));
    assert!(stored.payload.contains("API_TOKEN"));
    let journal = app.store.job_steps(tenant, job).await.expect("journal");
    assert_eq!(journal.len(), 3);
    assert!(journal.iter().all(|e| !e.contains("tok-very-secret-1")));
    app.finish().await;
}
on_both_backends!(
    secrets_stay_out_of_runs,
    secrets_stay_out_of_what_a_run_records
);

/// Two control planes on one PostgreSQL database look for due ticks at the same moment:
/// each tick makes one run. Missed ticks follow the schedule's policy.
#[tokio::test]
async fn each_schedule_tick_runs_once_across_control_planes() {
    let app = app(Backend::Postgres).await;
    let auth = owner(&app).await;
    let graph = |missed: &str| {
        json!({
            "nodes": [node("tick", "schedule", json!({"cron": "*/5 * * * *", "timezone": "Europe/Paris", "missed": missed})),
                      node("done", "output", json!({"value": "{{ input.scheduled_at }}"}))],
            "edges": [edge("tick", "out", "done")]
        })
    };
    let id = create(&app, &auth, "Every five minutes", graph("skip")).await;
    let got = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{id}"),
            None,
            &auth,
        )
        .await;
    assert_eq!(got.body["triggers"][0]["kind"], "schedule");
    assert!(
        got.body["triggers"][0]["next_at"].as_str().is_some(),
        "{}",
        got.body
    );
    let tenant = tenant_of(&app, &auth).await;
    let pipeline: shared::ids::PipelineId = id.parse().expect("id");
    let next = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .pipeline_schedule(tenant, pipeline)
                .await
                .expect("store")
                .expect("a schedule")
                .next_at
        }
    };
    let tick = next(&app).await;
    assert_eq!(tick % 300_000, 0, "ticks fall on five-minute marks");

    // A second control plane over the same database.
    let other = server::control_plane(
        app.store.clone(),
        app.control.config().clone(),
        app.control.jobs.engine().bus(),
    );
    let (a, b) = tokio::join!(
        app.control.pipelines.fire_due(tick + 1_000),
        other.pipelines.fire_due(tick + 1_000)
    );
    assert_eq!(
        a.expect("fired") + b.expect("fired"),
        1,
        "one run for the tick"
    );
    assert_eq!(next(&app).await, tick + 300_000);
    let runs = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{id}/runs"),
            None,
            &auth,
        )
        .await;
    assert_eq!(runs.body.as_array().map(Vec::len), Some(1), "{}", runs.body);
    assert_eq!(runs.body[0]["trigger"], "schedule");
    let run = finished(&app, &auth, runs.body[0]["id"].as_str().expect("id")).await;
    assert!(
        run["output"].as_str().is_some_and(|at| at.ends_with('Z')),
        "{run}"
    );
    // Firing the same moment again starts nothing.
    assert_eq!(
        app.control
            .pipelines
            .fire_due(tick + 1_000)
            .await
            .expect("fired"),
        0
    );

    // Down for an hour: with `skip` the missed ticks make no run and the schedule goes on
    // after now; with `run_once` the latest missed tick runs once.
    let later = tick + 3_600_000;
    assert_eq!(
        app.control.pipelines.fire_due(later).await.expect("fired"),
        0
    );
    assert_eq!(next(&app).await, later + 300_000);
    let saved = app
        .call(
            Method::PUT,
            &format!("/api/v1/workspaces/acme/pipelines/{id}"),
            Some(json!({"graph": graph("run_once")})),
            &auth,
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let due = next(&app).await;
    let (a, b) = tokio::join!(
        app.control.pipelines.fire_due(due + 3_600_000),
        other.pipelines.fire_due(due + 3_600_000)
    );
    assert_eq!(
        a.expect("fired") + b.expect("fired"),
        1,
        "one run for the missed ticks"
    );
    // A bad zone is a problem of the node's setting.
    let mut bad = graph("skip");
    bad["nodes"][0]["config"]["timezone"] = json!("Mars/Olympus");
    let refused = app
        .call(
            Method::PUT,
            &format!("/api/v1/workspaces/acme/pipelines/{id}"),
            Some(json!({"graph": bad})),
            &auth,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.body["error"]["problems"][0]["field"],
        "config.timezone"
    );
    app.finish().await;
}

/// A code_search node queries the workspace's code index (an `indexer` worker indexed a
/// repository first) and its results flow into the next node.
#[tokio::test]
async fn a_code_search_node_finds_the_workspaces_code() {
    let app = TestApp::with_jobs_and_config(
        Backend::Sqlite,
        Arc::new(InProcessBus::new()),
        workers::pools::PIPELINES_POOL,
        2,
        |c| c.jobs.pools.push(workers::pools::INDEXER_POOL.to_owned()),
    )
    .await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut indexer = workers::runtime::WorkerConfig::new(workers::pools::INDEXER_POOL, 1);
    indexer.kinds = server::job_kinds(
        app.control.code.engine().clone(),
        app.control.jobs.engine().bus(),
    );
    let indexing = tokio::spawn(workers::runtime::run_pool(
        app.control.jobs.engine().bus(),
        indexer,
        stopped,
    ));
    let auth = owner(&app).await;
    let repo = crate::code::Repo::new();
    let added = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/code/repositories",
            Some(json!({"url": format!("file://{}", repo.0.display())})),
            &auth,
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    crate::code::wait_ready(&app, &auth, "acme", added.body["id"].as_str().expect("id")).await;

    let graph = json!({
        "nodes": [node("start", "manual", json!({})),
                  node("find", "code_search", json!({"query": "{{ input.q }}", "limit": 5})),
                  node("paths", "script", json!({"source": "export default (x) => x.results.map(r => r.path + ':' + r.symbol)"})),
                  node("done", "output", json!({}))],
        "edges": [edge("start", "out", "find"), edge("find", "out", "paths"), edge("paths", "out", "done")]
    });
    let id = create(&app, &auth, "Code finder", graph).await;
    let run = finished(
        &app,
        &auth,
        &start(&app, &auth, &id, json!({"q": "value added tax"})).await,
    )
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let found: Vec<String> = run["output"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert!(
        found.iter().any(|f| f.starts_with("billing/tax.py:")),
        "{found:?}"
    );
    let _ = stop.send(true);
    let _ = indexing.await;
    app.finish().await;
}

/// A long delay: the run sleeps without a worker and without a place in the queue's
/// counts, its first node done; cancelling it ends it at once.
async fn a_long_delay_sleeps_without_holding_anything(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    let graph = json!({
        "nodes": [node("start", "manual", json!({})),
                  node("first", "set", json!({"fields": {"a": 1}})),
                  node("wait", "delay", json!({"seconds": 3600})),
                  node("done", "output", json!({}))],
        "edges": [edge("start", "out", "first"), edge("first", "out", "wait"), edge("wait", "out", "done")]
    });
    let id = create(&app, &auth, "Patient", graph).await;
    let run = start(&app, &auth, &id, json!({})).await;
    let tenant = tenant_of(&app, &auth).await;
    let job: shared::ids::JobId = run.parse().expect("id");
    // Asleep: queued for an hour from now, its first node journalled.
    let mut asleep = None;
    for _ in 0..200 {
        let stored = app
            .store
            .job(tenant, job)
            .await
            .expect("store")
            .expect("job");
        if stored.status == shared::jobs::JobStatus::Queued && stored.started_at.is_some() {
            asleep = Some(stored);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let asleep = asleep.expect("the run went to sleep");
    assert!(asleep.run_at > asleep.created_at + 3_500_000, "{asleep:?}");
    assert_eq!(asleep.attempt, 1);
    assert_eq!(asleep.max_attempts, 6, "sleeping spent no attempt");
    let counts = app
        .store
        .open_job_counts(Some(tenant))
        .await
        .expect("counts");
    assert!(
        counts.is_empty(),
        "a sleeping run is not counted: {counts:?}"
    );
    let view = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/runs/{run}"),
            None,
            &auth,
        )
        .await;
    assert_eq!(view.body["status"], "running");
    assert_eq!(node_of(&view.body, "first")["status"], "succeeded");
    assert_eq!(node_of(&view.body, "wait")["status"], "running");
    let cancelled = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/runs/{run}/cancel"),
            None,
            &auth,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    app.finish().await;
}
on_both_backends!(
    a_long_delay_sleeps,
    a_long_delay_sleeps_without_holding_anything
);

/// The runs of `pipeline` (newest first), once `count` of them have ended.
async fn runs_ended(app: &TestApp, auth: &Auth, pipeline: &str, count: usize) -> Vec<Value> {
    for _ in 0..600 {
        let runs = app
            .call(
                Method::GET,
                &format!("/api/v1/workspaces/acme/pipelines/{pipeline}/runs"),
                None,
                auth,
            )
            .await;
        let list = runs.body.as_array().cloned().unwrap_or_default();
        let ended = list
            .iter()
            .filter(|r| ["succeeded", "failed"].contains(&r["status"].as_str().unwrap_or("")))
            .count();
        if ended >= count {
            assert_eq!(list.len(), count, "{}", runs.body);
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("pipeline {pipeline} never had {count} ended runs");
}

/// Publishes `body` to acme's `topic` through the REST API; answers the 202's body.
async fn publish(app: &TestApp, auth: &Auth, topic: &str, body: Value) -> Value {
    let a = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/topics/{topic}/messages"),
            Some(body),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    a.body
}

async fn pipelines_publish_and_start_on_topics(backend: Backend) {
    let app = app(backend).await;
    let auth = owner(&app).await;
    app.create_workspace(&auth, "globex").await;
    for slug in ["acme", "globex"] {
        let a = app
            .call(
                Method::POST,
                &format!("/api/v1/workspaces/{slug}/topics"),
                Some(json!({"name": "orders"})),
                &auth,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        let d = app
            .call(
                Method::POST,
                &format!("/api/v1/workspaces/{slug}/deploys"),
                None,
                &auth,
            )
            .await;
        assert_eq!(d.status, StatusCode::CREATED, "{}", d.body);
    }
    let on_orders = |factor: i64| {
        json!({
            "nodes": [
                node("orders", "topic", json!({"topic": "orders"})),
                node("double", "script", json!({"source": format!("export default (m) => ({{ got: m.body.n * {factor}, id: m.id, topic: m.topic }})")})),
                node("result", "output", json!({}))
            ],
            "edges": [edge("orders", "out", "double"), edge("double", "out", "result")]
        })
    };
    let consumer = create(&app, &auth, "Consumer", on_orders(2)).await;
    // Another workspace's pipeline on its own topic of the same name.
    let globex = app
        .call(
            Method::POST,
            "/api/v1/workspaces/globex/pipelines",
            Some(json!({"name": "Theirs", "graph": on_orders(100)})),
            &auth,
        )
        .await;
    assert_eq!(globex.status, StatusCode::CREATED, "{}", globex.body);
    let view = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{consumer}"),
            None,
            &auth,
        )
        .await;
    assert_eq!(
        view.body["triggers"],
        json!([{"node": "orders", "kind": "topic", "signed": false, "topic": "orders"}])
    );

    // A run's publish node publishes its input; the topic starts the consumer with it.
    let producer = create(
        &app,
        &auth,
        "Producer",
        json!({
            "nodes": [
                node("start", "manual", json!({})),
                node("send", "publish", json!({"topic": "orders"})),
                node("result", "output", json!({}))
            ],
            "edges": [edge("start", "out", "send"), edge("send", "out", "result")]
        }),
    )
    .await;
    let run = finished(
        &app,
        &auth,
        &start(&app, &auth, &producer, json!({"n": 21})).await,
    )
    .await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let sent = &run["output"];
    assert_eq!(sent["topic"], "orders", "{run}");
    assert_eq!(sent["deliveries"], 1, "one pipeline starts on it: {run}");
    let message = sent["id"].as_str().expect("a message id").to_owned();
    let consumed = runs_ended(&app, &auth, &consumer, 1).await;
    assert_eq!(consumed[0]["trigger"], "topic");
    let consumed = finished(&app, &auth, consumed[0]["id"].as_str().expect("id")).await;
    assert_eq!(
        consumed["output"],
        json!({"got": 42, "id": message, "topic": "orders"})
    );

    // Published from REST too; another workspace's pipeline never starts on acme's topic.
    let published = publish(&app, &auth, "orders", json!({"n": 5})).await;
    assert_eq!(published["deliveries"], 1, "{published}");
    let consumed = runs_ended(&app, &auth, &consumer, 2).await;
    let latest = finished(&app, &auth, consumed[0]["id"].as_str().expect("id")).await;
    assert_eq!(latest["output"]["got"], 10);
    // The topic's tail lists the run each message started, with its pipeline and status.
    let tail = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/topics/orders/messages",
            None,
            &auth,
        )
        .await;
    assert_eq!(tail.status, StatusCode::OK, "{}", tail.body);
    let run_of = |i: usize| {
        json!([{"run_id": consumed[i]["id"], "pipeline_id": consumer, "pipeline": "Consumer",
            "status": "succeeded"}])
    };
    assert_eq!(tail.body[0]["id"], message.as_str(), "{}", tail.body);
    assert_eq!(tail.body[0]["runs"], run_of(1), "{}", tail.body);
    assert_eq!(tail.body[1]["id"], published["id"], "{}", tail.body);
    assert_eq!(tail.body[1]["runs"], run_of(0), "{}", tail.body);
    assert_eq!(tail.body.as_array().map(Vec::len), Some(2), "{}", tail.body);
    let theirs = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/workspaces/globex/pipelines/{}/runs",
                globex.body["id"].as_str().expect("id")
            ),
            None,
            &auth,
        )
        .await;
    assert_eq!(
        theirs.body,
        json!([]),
        "globex's pipeline ran on acme's topic"
    );

    // A topic that is not deployed: the publish node fails its run, saying so.
    let nowhere = create(
        &app,
        &auth,
        "Nowhere",
        json!({
            "nodes": [node("start", "manual", json!({})), node("send", "publish", json!({"topic": "nowhere", "message": {"n": "{{ input.n }}"}}))],
            "edges": [edge("start", "out", "send")]
        }),
    )
    .await;
    let failed = finished(
        &app,
        &auth,
        &start(&app, &auth, &nowhere, json!({"n": 1})).await,
    )
    .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = node_of(&failed, "send")["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("deployed topic"), "{failed}");

    // A new live version without the topic trigger stops the runs.
    let manual = json!({
        "nodes": [node("start", "manual", json!({})), node("result", "output", json!({}))],
        "edges": [edge("start", "out", "result")]
    });
    let saved = app
        .call(
            Method::PUT,
            &format!("/api/v1/workspaces/acme/pipelines/{consumer}"),
            Some(json!({ "graph": manual })),
            &auth,
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(
        publish(&app, &auth, "orders", json!({"n": 6})).await["deliveries"],
        0
    );
    // ... and making the first version live again starts them again.
    let live = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/pipelines/{consumer}/live"),
            Some(json!({"version": 1})),
            &auth,
        )
        .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    assert_eq!(
        publish(&app, &auth, "orders", json!({"n": 7})).await["deliveries"],
        1
    );

    // What cannot be saved: publishing to the topic that starts the pipeline, a bad topic
    // name, a secret in a message.
    let looping = json!({
        "nodes": [node("orders", "topic", json!({"topic": "orders"})), node("again", "publish", json!({"topic": "orders"}))],
        "edges": [edge("orders", "out", "again")]
    });
    let bad_name = json!({
        "nodes": [node("start", "manual", json!({})), node("send", "publish", json!({"topic": "Orders!"}))],
        "edges": [edge("start", "out", "send")]
    });
    let secret = json!({
        "nodes": [node("start", "manual", json!({})), node("send", "publish", json!({"topic": "orders", "message": {"token": "{{ secrets.API_TOKEN }}"}}))],
        "edges": [edge("start", "out", "send")]
    });
    for (graph, node, field, says) in [
        (looping, "again", "config.topic", "forever"),
        (bad_name, "send", "config.topic", "topic name"),
        (secret, "send", "config.message", "may not hold secrets"),
    ] {
        let a = app
            .call(
                Method::POST,
                "/api/v1/workspaces/acme/pipelines",
                Some(json!({"name": "Refused", "graph": graph})),
                &auth,
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
        let problems = a.body["error"]["problems"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            problems.iter().any(|p| p["node"] == node
                && p["field"] == field
                && p["message"].as_str().unwrap_or("").contains(says)),
            "{}",
            a.body
        );
    }
    app.finish().await;
}
on_both_backends!(
    pipelines_publish_to_topics_and_start_on_them,
    pipelines_publish_and_start_on_topics
);
