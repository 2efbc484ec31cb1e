//! Routes, deploys and the gateway end to end, on both backends: drafts through the REST
//! API, plans against the live deploy, apply and rollback, and requests to the gateway
//! (by path prefix and by host) answered by static handlers and by script handlers on a
//! worker pool over the bus; role rules, route auth, limits, CORS, and a request in flight
//! finishing on the version it started with.

use crate::common::{Auth, TestApp};
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use server::store::Backend;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use workers::bus::memory::InProcessBus;

/// An app with a route worker pool (`workers`) serving its gateway's pool in-process.
async fn app(backend: Backend, workers: usize) -> (TestApp, tokio::sync::watch::Sender<bool>) {
    let bus: Arc<InProcessBus> = Arc::new(InProcessBus::new());
    let app = TestApp::with_jobs_and_config(
        backend,
        bus.clone(),
        workers::pools::PIPELINES_POOL,
        0,
        |_| {},
    )
    .await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if workers > 0 {
        tokio::spawn(workers::routes::serve(
            bus.clone(),
            app.control.gateway.config().pool.clone(),
            workers,
            stopped,
        ));
    }
    app.control
        .gateway
        .clone()
        .watch()
        .await
        .expect("the gateway watches deploys");
    (app, stop)
}

async fn owner(app: &TestApp) -> Auth {
    let (auth, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&auth, "acme").await;
    auth
}

/// A gateway answer: status, headers, raw body and its JSON (`Null` when not JSON).
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
    json: Value,
}

/// The gateway's router, its requests coming from 127.0.0.1.
fn gateway_router(app: &TestApp) -> axum::Router {
    app.control
        .gateway
        .clone()
        .router()
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))))
}

/// Sends `request` through `router`.
async fn send(router: axum::Router, request: Request<Body>) -> Reply {
    let response = router.oneshot(request).await.expect("the gateway answers");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        json: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// Sends `request` to the gateway.
async fn gateway(app: &TestApp, request: Request<Body>) -> Reply {
    send(gateway_router(app), request).await
}

async fn get(app: &TestApp, path: &str) -> Reply {
    let request = Request::builder()
        .uri(path)
        .body(Body::empty())
        .expect("request");
    gateway(app, request).await
}

async fn create_route(app: &TestApp, auth: &Auth, body: Value) -> String {
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/routes",
            Some(body),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_str().expect("id").to_owned()
}

async fn deploy(app: &TestApp, auth: &Auth) -> Value {
    let a = app
        .call(Method::POST, "/api/v1/workspaces/acme/deploys", None, auth)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body
}

async fn plan(app: &TestApp, auth: &Auth) -> Value {
    let a = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/deploys/plan",
            None,
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body
}

fn static_route(path: &str, body: Value) -> Value {
    json!({"method": "GET", "path": path, "handler": {"kind": "static", "status": 200, "body": body}})
}

async fn plan_apply_rollback(backend: Backend) {
    let (app, _stop) = app(backend, 0).await;
    let auth = owner(&app).await;

    // Nothing is served before the first deploy: the workspace's own 404 shape.
    let before = get(&app, "/t/acme/hello").await;
    assert_eq!(before.status, StatusCode::NOT_FOUND);
    assert_eq!(before.json["error"]["code"], "not_found");
    assert!(before.json["error"]["request_id"].is_string());

    let id = create_route(&app, &auth, static_route("/hello", json!("hello v1"))).await;
    // A bad pattern names the field; a second route with the same method and path is 409.
    let bad = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/routes",
            Some(static_route("hello/{", json!(1))),
            &auth,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(bad.body["error"]["field"], "path");
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("must start with"),
        "{}",
        bad.body
    );
    let twice = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/routes",
            Some(static_route("/hello", json!(2))),
            &auth,
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    assert_eq!(twice.body["error"]["field"], "path");

    let first = plan(&app, &auth).await;
    assert_eq!(
        first["changes"],
        json!([{"kind": "route", "name": "GET /hello", "change": "add"}])
    );
    assert_eq!(first["problems"], json!([]));
    assert!(first.get("live_version").is_none());
    let v1 = deploy(&app, &auth).await;
    assert_eq!(v1["version"], 1);
    let served = get(&app, "/t/acme/hello").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.text, "hello v1");
    assert_eq!(
        served.headers[header::CONTENT_TYPE],
        "text/plain; charset=utf-8"
    );
    // Nothing to deploy now.
    let again = app
        .call(Method::POST, "/api/v1/workspaces/acme/deploys", None, &auth)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);

    // An edit is a draft until deployed: the plan names the field that changed.
    let edited = app
        .call(
            Method::PUT,
            &format!("/api/v1/workspaces/acme/routes/{id}"),
            Some(static_route("/hello", json!({"greeting": "hello v2"}))),
            &auth,
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["deployed"], false);
    assert_eq!(get(&app, "/t/acme/hello").await.text, "hello v1");
    let second = plan(&app, &auth).await;
    assert_eq!(second["live_version"], 1);
    assert_eq!(
        second["changes"],
        json!([{"kind": "route", "name": "GET /hello", "change": "change",
                "diff": [{"field": "handler.body", "before": "hello v1", "after": {"greeting": "hello v2"}}]}])
    );
    let v2 = deploy(&app, &auth).await;
    assert_eq!(v2["version"], 2);
    let served = get(&app, "/t/acme/hello").await;
    assert_eq!(served.json, json!({"greeting": "hello v2"}));
    assert_eq!(served.headers[header::CONTENT_TYPE], "application/json");

    // History, newest first; a manifest is canonical JSON with the hash the plan gave.
    let history = app
        .call(Method::GET, "/api/v1/workspaces/acme/deploys", None, &auth)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    let versions: Vec<(i64, bool)> = history
        .body
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            (
                d["version"].as_i64().unwrap_or(0),
                d["live"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(versions, vec![(2, true), (1, false)]);
    assert_eq!(
        history.body[0]["summary"],
        json!({"added": 0, "changed": 1, "removed": 0})
    );
    assert_eq!(history.body[0]["hash"], second["hash"]);
    let v1_id = v1["id"].as_str().expect("id");
    let manifest = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/deploys/{v1_id}/manifest"),
            None,
            &auth,
        )
        .await;
    assert_eq!(
        manifest.body,
        json!({"routes": [{"method": "GET", "path": "/hello",
                           "handler": {"kind": "static", "status": 200, "body": "hello v1"},
                           "settings": {"timeout_ms": 10000, "memory_mb": 64, "auth": {"kind": "public"}, "max_body_bytes": 1048576}}],
               "topics": []})
    );

    // Rollback is a new deploy of the old manifest; the drafts stay as they were.
    let back = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/deploys/{v1_id}/rollback"),
            None,
            &auth,
        )
        .await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.body);
    assert_eq!(back.body["version"], 3);
    assert_eq!(get(&app, "/t/acme/hello").await.text, "hello v1");
    let history = app
        .call(Method::GET, "/api/v1/workspaces/acme/deploys", None, &auth)
        .await;
    assert_eq!(history.body[0]["rollback_to"], 1);
    assert_eq!(plan(&app, &auth).await["changes"][0]["change"], "change");

    // Two routes that can answer one request: the plan names both, the deploy is refused
    // with every problem, and what is live does not change.
    create_route(&app, &auth, static_route("/{name}", json!("catch"))).await;
    let conflicted = plan(&app, &auth).await;
    assert_eq!(
        conflicted["problems"],
        json!([{"kind": "route", "name": "GET /{name}", "field": "path",
                "message": "conflicts with GET /hello: both answer GET /hello"}])
    );
    let refused = app
        .call(Method::POST, "/api/v1/workspaces/acme/deploys", None, &auth)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["error"]["problems"], conflicted["problems"]);
    let history = app
        .call(Method::GET, "/api/v1/workspaces/acme/deploys", None, &auth)
        .await;
    assert_eq!(history.body.as_array().map(Vec::len), Some(3));
    assert_eq!(get(&app, "/t/acme/hello").await.text, "hello v1");
}
on_both_backends!(
    plan_apply_and_rollback_switch_what_the_gateway_serves,
    plan_apply_rollback
);

async fn script_routes(backend: Backend) {
    let (app, _stop) = app(backend, 4).await;
    let auth = owner(&app).await;
    let source = "export default function main(req, ctx) {\n  ctx.log('user ' + req.params.id);\n  if (req.query.fail) throw new Error('secret detail');\n  return {status: 201, headers: {'x-user': req.params.id}, body: {id: req.params.id, q: req.query.q, sent: req.body, auth: req.headers.authorization || null}};\n}";
    create_route(
        &app,
        &auth,
        json!({"method": "POST", "path": "/users/{id}", "handler": {"kind": "script", "source": source}}),
    )
    .await;
    // A syntax error is refused at its line.
    let broken = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/routes",
            Some(json!({"method": "GET", "path": "/broken", "handler": {"kind": "script", "source": "export default () => {\n  return (;\n}"}})),
            &auth,
        )
        .await;
    assert_eq!(
        broken.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        broken.body
    );
    assert_eq!(broken.body["error"]["field"], "handler.source");
    assert!(
        broken.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("line 2"),
        "{}",
        broken.body
    );
    deploy(&app, &auth).await;

    let request = Request::builder()
        .method(Method::POST)
        .uri("/t/acme/users/42?q=find%20me")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, "Bearer not-for-handlers")
        .header(header::COOKIE, "sy_session=not-for-handlers")
        .body(Body::from(r#"{"name": "Ada"}"#))
        .expect("request");
    let answer = gateway(&app, request).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.headers["x-user"], "42");
    assert_eq!(
        answer.json,
        json!({"id": "42", "q": "find me", "sent": {"name": "Ada"}, "auth": null})
    );

    // By host too.
    let by_host = Request::builder()
        .method(Method::POST)
        .uri("/users/7")
        .header(header::HOST, "acme.gw.test:3080")
        .body(Body::empty())
        .expect("request");
    let answer = gateway(&app, by_host).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["id"], "7");
    // Host names are case-insensitive (a browser may send them as typed).
    let shouted = Request::builder()
        .method(Method::POST)
        .uri("/users/8")
        .header(header::HOST, "ACME.GW.Test")
        .body(Body::empty())
        .expect("request");
    let answer = gateway(&app, shouted).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["id"], "8");

    // A handler's error reaches its log, never the caller: 500 with a request id.
    let failing = Request::builder()
        .method(Method::POST)
        .uri("/t/acme/users/1?fail=1")
        .body(Body::empty())
        .expect("request");
    let answer = gateway(&app, failing).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json["error"]["code"], "handler_failed");
    assert!(!answer.text.contains("secret detail"), "{}", answer.text);
    assert_eq!(
        answer.json["error"]["request_id"].as_str(),
        answer.headers["x-request-id"].to_str().ok()
    );

    // Unknown paths and methods, in the JSON error shape.
    let missing = get(&app, "/t/acme/nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json["error"]["message"],
        "no route matches GET /nope"
    );
    let wrong = get(&app, "/t/acme/users/42").await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.headers[header::ALLOW], "POST");
    let nobody = get(&app, "/t/nobody/users/42").await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert_eq!(nobody.json["error"]["message"], "workspace not found");
}
on_both_backends!(script_routes_run_on_the_worker_pool, script_routes);

async fn limits_auth_and_cors(backend: Backend) {
    let (app, _stop) = app(backend, 2).await;
    let auth = owner(&app).await;
    let (dev, _) = app.sign_up("dev@example.com").await;
    app.add_member(&auth, "acme", &dev, "dev@example.com", "developer")
        .await;
    let (viewer, _) = app.sign_up("viewer@example.com").await;
    app.add_member(&auth, "acme", &viewer, "viewer@example.com", "viewer")
        .await;

    let keyed = json!({"method": "POST", "path": "/private", "handler": {"kind": "script", "source": "export default (req) => ({body: req.body})"},
        "settings": {"auth": {"kind": "api_key", "min_role": "developer"}, "max_body_bytes": 64, "rate_limit_per_minute": 3,
                     "cors": {"allowed_origins": ["https://app.example.com"], "allowed_headers": ["content-type"]}}});
    // Viewers read; developers edit but do not decide who may call a route; admins do.
    let as_viewer = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/routes",
            Some(static_route("/v", json!(1))),
            &viewer,
        )
        .await;
    assert_eq!(as_viewer.status, StatusCode::FORBIDDEN);
    let as_dev = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/routes",
            Some(keyed.clone()),
            &dev,
        )
        .await;
    assert_eq!(as_dev.status, StatusCode::FORBIDDEN, "{}", as_dev.body);
    assert!(as_dev.body["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("settings.auth"));
    create_route(&app, &auth, keyed).await;
    let listed = app
        .call(Method::GET, "/api/v1/workspaces/acme/routes", None, &viewer)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    let as_viewer = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/deploys",
            None,
            &viewer,
        )
        .await;
    assert_eq!(as_viewer.status, StatusCode::FORBIDDEN);
    deploy(&app, &dev).await;

    let (dev_key, _) = app.api_key(&auth, "acme", "developer").await;
    let (viewer_key, _) = app.api_key(&auth, "acme", "viewer").await;
    let call = |key: Option<&str>, body: &str| {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri("/t/acme/private")
            .header(header::ORIGIN, "https://app.example.com");
        if let Some(key) = key {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        builder.body(Body::from(body.to_owned())).expect("request")
    };
    let none = gateway(&app, call(None, "1")).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers[header::WWW_AUTHENTICATE], "Bearer");
    let low = gateway(&app, call(Some(&viewer_key), "1")).await;
    assert_eq!(low.status, StatusCode::FORBIDDEN);
    let ok = gateway(&app, call(Some(&dev_key), "[1,2]")).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json, json!([1, 2]));
    assert_eq!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.com"
    );
    // The fourth request this minute from this client is refused (the three above counted).
    let big = gateway(&app, call(Some(&dev_key), &"x".repeat(65))).await;
    assert_eq!(big.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(big.headers[header::RETRY_AFTER], "60");

    // A preflight from an allowed origin is answered by the gateway; others are not.
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/t/acme/private")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .expect("request")
    };
    let allowed = gateway(&app, preflight("https://app.example.com")).await;
    assert_eq!(allowed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_METHODS],
        "POST"
    );
    assert_eq!(
        allowed.headers[header::ACCESS_CONTROL_ALLOW_HEADERS],
        "content-type"
    );
    let other = gateway(&app, preflight("https://evil.example.com")).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert!(other
        .headers
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}
on_both_backends!(route_auth_limits_and_cors, limits_auth_and_cors);

async fn oversized_bodies(backend: Backend) {
    let (app, _stop) = app(backend, 1).await;
    let auth = owner(&app).await;
    create_route(
        &app,
        &auth,
        json!({"method": "POST", "path": "/small", "handler": {"kind": "script", "source": "export default (req) => req.body"},
               "settings": {"max_body_bytes": 16}}),
    )
    .await;
    deploy(&app, &auth).await;
    let send = |body: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/t/acme/small")
            .body(Body::from(body.to_owned()))
            .expect("request")
    };
    let fits = gateway(&app, send("\"fits\"")).await;
    assert_eq!((fits.status, fits.text.as_str()), (StatusCode::OK, "fits"));
    let big = gateway(&app, send(&"x".repeat(17))).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(big.json["error"]["code"], "payload_too_large");
}
on_both_backends!(oversized_bodies_are_413, oversized_bodies);

async fn in_flight(backend: Backend) {
    let (app, _stop) = app(backend, 2).await;
    let auth = owner(&app).await;
    let slow = "export default () => { const end = Date.now() + 1500; while (Date.now() < end) {} return 'old' }";
    let id = create_route(
        &app,
        &auth,
        json!({"method": "GET", "path": "/slow", "handler": {"kind": "script", "source": slow}}),
    )
    .await;
    deploy(&app, &auth).await;
    let first = {
        let request = Request::builder()
            .uri("/t/acme/slow")
            .body(Body::empty())
            .expect("request");
        let router = gateway_router(&app);
        tokio::spawn(async move { send(router, request).await.text })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let edited = app
        .call(
            Method::PUT,
            &format!("/api/v1/workspaces/acme/routes/{id}"),
            Some(static_route("/slow", json!("new"))),
            &auth,
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    deploy(&app, &auth).await;
    // The deploy is served at once; the request that started before it ends on its version.
    assert_eq!(get(&app, "/t/acme/slow").await.text, "new");
    assert_eq!(first.await.expect("the slow request"), "old");
}
on_both_backends!(a_request_in_flight_finishes_on_its_version, in_flight);

async fn no_workers(backend: Backend) {
    let (app, _stop) = app(backend, 0).await;
    let auth = owner(&app).await;
    create_route(
        &app,
        &auth,
        json!({"method": "GET", "path": "/s", "handler": {"kind": "script", "source": "export default () => 1"}}),
    )
    .await;
    deploy(&app, &auth).await;
    let answer = get(&app, "/t/acme/s").await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.text);
    assert_eq!(
        answer.json["error"]["message"],
        "no worker serves this route's pool right now"
    );

    // A deleted workspace is forgotten by the gateway at once.
    let gone = app
        .call(
            Method::DELETE,
            "/api/v1/workspaces/acme?confirm=acme",
            None,
            &auth,
        )
        .await;
    assert!(gone.status.is_success(), "{}", gone.body);
    let answer = get(&app, "/t/acme/s").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json["error"]["message"], "workspace not found");
}
on_both_backends!(
    without_workers_502_and_a_deleted_workspace_is_forgotten,
    no_workers
);

async fn unserved_kinds(backend: Backend) {
    let (app, _stop) = app(backend, 0).await;
    let auth = owner(&app).await;
    let topic = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics",
            Some(json!({"name": "orders.created"})),
            &auth,
        )
        .await;
    assert_eq!(topic.status, StatusCode::CREATED, "{}", topic.body);
    let bad_topic = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics",
            Some(json!({"name": "Orders"})),
            &auth,
        )
        .await;
    assert_eq!(bad_topic.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_topic.body["error"]["field"], "name");
    // A pipeline the workspace does not have is refused, as a handler and as a subscriber:
    // nothing is saved that would not answer.
    let pipeline = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/routes",
            Some(json!({"method": "POST", "path": "/run", "handler": {"kind": "pipeline", "pipeline_id": uuid::Uuid::new_v4().to_string()}})),
            &auth,
        )
        .await;
    assert_eq!(
        pipeline.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        pipeline.body
    );
    assert_eq!(pipeline.body["error"]["field"], "handler.pipeline_id");
    let subscriber = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics/orders.created/subscribers",
            Some(json!({"handler": {"kind": "pipeline", "pipeline_id": uuid::Uuid::new_v4().to_string()}})),
            &auth,
        )
        .await;
    assert_eq!(
        subscriber.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        subscriber.body
    );
    let topics = app
        .call(Method::GET, "/api/v1/workspaces/acme/topics", None, &auth)
        .await;
    assert_eq!(
        topics.body,
        json!([{"name": "orders.created", "retention_hours": 72, "subscribers": []}])
    );
}
on_both_backends!(pipelines_the_workspace_lacks_are_refused, unserved_kinds);

/// An app whose route pool also runs job workers (topics' deliveries), retrying fast.
async fn app_with_deliveries(backend: Backend) -> TestApp {
    let pool = format!("rt{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let bus: Arc<InProcessBus> = Arc::new(InProcessBus::new());
    let app = TestApp::with_jobs_and_config(backend, bus.clone(), &pool, 2, |c| {
        c.gateway.pool = pool.clone();
        c.jobs.retry.base_delay = Duration::from_millis(100);
        c.jobs.retry.max_delay = Duration::from_millis(200);
    })
    .await;
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    std::mem::forget(_stop);
    tokio::spawn(workers::routes::serve(bus, pool, 2, stopped));
    app
}

/// Polls `path` until `done` holds for its body, for up to 30 s.
async fn eventually(
    app: &TestApp,
    auth: &Auth,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..300 {
        last = app.call(Method::GET, path, None, auth).await.body;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never got there: {last}");
}

async fn topic_delivery(backend: Backend) {
    let app = app_with_deliveries(backend).await;
    let auth = owner(&app).await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics",
            Some(json!({"name": "orders"})),
            &auth,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // One subscriber fails its first two attempts, one always fails (after 2 attempts).
    let flaky = "export default (m, ctx) => { ctx.log('attempt ' + m.attempt); if (m.attempt < 3) throw new Error('not yet'); return {took: m.body.n, id: m.id} }";
    let broken = "export default (m) => { throw new Error('broken ' + m.body.n) }";
    for (name, source, attempts) in [("flaky", flaky, 5), ("broken", broken, 2)] {
        let a = app
            .call(
                Method::POST,
                "/api/v1/workspaces/acme/topics/orders/subscribers",
                Some(json!({"name": name, "handler": {"kind": "script", "source": source}, "max_attempts": attempts})),
                &auth,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
    // Publishing needs a deployed topic.
    let early = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics/orders/messages",
            Some(json!({"n": 0})),
            &auth,
        )
        .await;
    assert_eq!(early.status, StatusCode::NOT_FOUND, "{}", early.body);
    create_route(
        &app,
        &auth,
        json!({"method": "POST", "path": "/orders", "handler": {"kind": "publish", "topic": "orders"}}),
    )
    .await;
    deploy(&app, &auth).await;

    let published = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics/orders/messages",
            Some(json!({"n": 7})),
            &auth,
        )
        .await;
    assert_eq!(published.status, StatusCode::ACCEPTED, "{}", published.body);
    assert_eq!(published.body["deliveries"], 2);
    let message = published.body["id"].as_str().expect("id").to_owned();

    // The broken subscriber's delivery dies after its two attempts: a dead letter.
    let dead = eventually(
        &app,
        &auth,
        "/api/v1/workspaces/acme/topics/orders/dead-letters",
        |d| d.as_array().is_some_and(|l| !l.is_empty()),
    )
    .await;
    assert_eq!(dead.as_array().map(Vec::len), Some(1), "{dead}");
    assert_eq!(dead[0]["subscriber"], "broken");
    assert_eq!(dead[0]["message_id"], message.as_str());
    assert_eq!(dead[0]["attempts"], 2);
    assert_eq!(dead[0]["body"], json!({"n": 7}));
    assert!(
        dead[0]["error"].as_str().unwrap_or("").contains("broken 7"),
        "{dead}"
    );

    // The flaky one succeeds on its third attempt, with the same message id.
    let jobs = eventually(
        &app,
        &auth,
        "/api/v1/workspaces/acme/jobs?status=succeeded",
        |j| j.as_array().is_some_and(|l| !l.is_empty()),
    )
    .await;
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs}");
    assert_eq!(jobs[0]["kind"], "topic.deliver");
    assert_eq!(jobs[0]["attempts"], 3, "{jobs}");
    assert_eq!(jobs[0]["result"], json!({"took": 7, "id": message}));

    // A replay is a new delivery of the same message; it leaves the dead-letter list.
    let job = dead[0]["job_id"].as_str().expect("job");
    let replayed = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/topics/orders/dead-letters/{job}/replay"),
            None,
            &auth,
        )
        .await;
    assert_eq!(replayed.status, StatusCode::CREATED, "{}", replayed.body);
    let listed = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/topics/orders/dead-letters",
            None,
            &auth,
        )
        .await;
    assert_eq!(listed.body, json!([]));
    // ... and dies again (the subscriber is still broken): back on the list as the replay.
    let again = eventually(
        &app,
        &auth,
        "/api/v1/workspaces/acme/topics/orders/dead-letters",
        |d| d.as_array().is_some_and(|l| !l.is_empty()),
    )
    .await;
    assert_eq!(again[0]["job_id"], replayed.body["id"]);
    assert_eq!(again[0]["message_id"], message.as_str());

    // The topic's tail: the message with how each delivery ended, the replay among them.
    let tail = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/topics/orders/messages",
            None,
            &auth,
        )
        .await;
    assert_eq!(tail.status, StatusCode::OK, "{}", tail.body);
    assert_eq!(tail.body.as_array().map(Vec::len), Some(1), "{}", tail.body);
    assert_eq!(tail.body[0]["id"], message.as_str());
    assert_eq!(tail.body[0]["body"], json!({"n": 7}));
    let mut deliveries: Vec<(String, String, i64, bool)> = tail.body[0]["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| {
            (
                d["subscriber"].as_str().unwrap_or_default().to_owned(),
                d["status"].as_str().unwrap_or_default().to_owned(),
                d["attempts"].as_i64().unwrap_or_default(),
                d["replay_of"] == dead[0]["job_id"],
            )
        })
        .collect();
    deliveries.sort();
    assert_eq!(
        deliveries,
        vec![
            ("broken".to_owned(), "dead".to_owned(), 2, false),
            ("broken".to_owned(), "dead".to_owned(), 2, true),
            ("flaky".to_owned(), "succeeded".to_owned(), 3, false),
        ],
        "{}",
        tail.body
    );
    let after = tail.body[0]["at"].as_i64().expect("at") + 1;
    let newer = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/topics/orders/messages?since={after}"),
            None,
            &auth,
        )
        .await;
    assert_eq!(newer.body, json!([]), "nothing published since");
    for (path, status) in [
        (
            "/topics/orders/messages?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/topics/nowhere/messages", StatusCode::NOT_FOUND),
    ] {
        let a = app
            .call(
                Method::GET,
                &format!("/api/v1/workspaces/acme{path}"),
                None,
                &auth,
            )
            .await;
        assert_eq!(a.status, status, "{path}: {}", a.body);
    }

    // The gateway's publish route answers 202 with the message id.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/t/acme/orders")
        .body(Body::from(r#"{"n": 8}"#))
        .expect("request");
    let answer = gateway(&app, request).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
    assert!(
        answer.json["id"].as_str().is_some_and(|id| id.len() == 36),
        "{}",
        answer.text
    );
    app.finish().await;
}
on_both_backends!(
    topics_deliver_at_least_once_with_dead_letters_and_replay,
    topic_delivery
);

async fn missed_announcement(backend: Backend) {
    let app = TestApp::with_jobs_and_config(
        backend,
        Arc::new(InProcessBus::new()),
        workers::pools::PIPELINES_POOL,
        0,
        |c| c.gateway.cache_for = Duration::from_millis(500),
    )
    .await;
    let auth = owner(&app).await;
    create_route(&app, &auth, static_route("/v", json!("one"))).await;
    deploy(&app, &auth).await;
    assert_eq!(get(&app, "/t/acme/v").await.text, "one");
    // A deploy this gateway is not told about (its announcement lost): the cached routes
    // are served until they expire, then the new ones.
    let tenant: shared::ids::TenantId = app
        .call(Method::GET, "/api/v1/workspaces/acme", None, &auth)
        .await
        .body["id"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("the workspace's id");
    let manifest = json!({"routes": [{"method": "GET", "path": "/v", "handler": {"kind": "static", "status": 200, "body": "two"}}], "topics": []});
    let user = app.store.deploys(tenant, 1).await.expect("deploys")[0].created_by;
    app.store
        .insert_deploy(
            tenant,
            shared::ids::DeployId::new(),
            &manifest.to_string(),
            "unannounced",
            "{}",
            None,
            user,
            0,
        )
        .await
        .expect("a deploy");
    assert_eq!(get(&app, "/t/acme/v").await.text, "one");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(get(&app, "/t/acme/v").await.text, "two");
    app.finish().await;
}
on_both_backends!(
    a_missed_announcement_is_caught_up_by_the_cache_expiry,
    missed_announcement
);

/// Creates pipeline `name` (manual → script `source` → output) and answers its id.
async fn script_pipeline(app: &TestApp, auth: &Auth, name: &str, source: &str) -> String {
    let graph = json!({
        "nodes": [
            {"id": "start", "kind": "manual", "config": {}},
            {"id": "work", "kind": "script", "config": {"source": source}},
            {"id": "result", "kind": "output", "config": {}}
        ],
        "edges": [
            {"from": {"node": "start", "port": "out"}, "to": {"node": "work", "port": "in"}},
            {"from": {"node": "work", "port": "out"}, "to": {"node": "result", "port": "in"}}
        ]
    });
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/pipelines",
            Some(json!({"name": name, "graph": graph})),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_str().expect("id").to_owned()
}

async fn pipeline_routes(backend: Backend) {
    let bus: Arc<InProcessBus> = Arc::new(InProcessBus::new());
    let app =
        TestApp::with_jobs_and_config(backend, bus, workers::pools::PIPELINES_POOL, 2, |_| {})
            .await;
    let auth = owner(&app).await;
    let echo = script_pipeline(
        &app,
        &auth,
        "Echo",
        "export default (req) => ({ status: 201, headers: {'x-order': req.params.id}, body: { id: req.params.id, got: req.body, q: req.query.q } })",
    )
    .await;
    let plain = script_pipeline(
        &app,
        &auth,
        "Plain",
        "export default (req) => ({ total: 3, method: req.method })",
    )
    .await;
    let broken = script_pipeline(
        &app,
        &auth,
        "Broken",
        "export default () => { throw new Error('no stock') }",
    )
    .await;
    let slow = script_pipeline(&app, &auth, "Slow", "export default () => { const end = Date.now() + 1500; while (Date.now() < end) {} return 1 }").await;
    for (path, pipeline, timeout) in [
        ("/orders/{id}", &echo, 10_000),
        ("/plain", &plain, 10_000),
        ("/broken", &broken, 10_000),
        ("/slow", &slow, 300),
    ] {
        create_route(
            &app,
            &auth,
            json!({"method": "POST", "path": path,
            "handler": {"kind": "pipeline", "pipeline_id": pipeline},
            "settings": {"timeout_ms": timeout}}),
        )
        .await;
    }
    let p = plan(&app, &auth).await;
    assert_eq!(p["problems"], json!([]), "{p}");
    deploy(&app, &auth).await;
    let post = |path: &str, body: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/t/acme{path}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .expect("request")
    };

    // The output, shaped like an answer, sets the status, headers and body.
    let r = gateway(&app, post("/orders/o-7?q=fast", r#"{"qty": 2}"#)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.headers["x-order"], "o-7");
    assert_eq!(r.json, json!({"id": "o-7", "got": {"qty": 2}, "q": "fast"}));
    // Any other output is a 200 with it as JSON.
    let r = gateway(&app, post("/plain", "")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json, json!({"total": 3, "method": "POST"}));
    // A failed run is a 500 naming the run and the request, never the handler's error.
    let r = gateway(&app, post("/broken", "")).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(r.json["error"]["code"], "handler_failed");
    assert!(r.json["error"]["request_id"].is_string(), "{}", r.text);
    assert!(!r.text.contains("no stock"), "{}", r.text);
    // Past the route's timeout: 504 at once, and the run goes on to succeed.
    let started = std::time::Instant::now();
    let r = gateway(&app, post("/slow", "")).await;
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT, "{}", r.text);
    assert!(
        started.elapsed() < Duration::from_millis(1_400),
        "{:?}",
        started.elapsed()
    );
    let message = r.json["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let run = message
        .split_whitespace()
        .nth(3)
        .expect("the run's id in the message")
        .to_owned();
    let done = eventually(
        &app,
        &auth,
        &format!("/api/v1/workspaces/acme/runs/{run}"),
        |b| b["status"] == "succeeded",
    )
    .await;
    assert_eq!(done["trigger"], "route", "{done}");
    // Every request was a run of the pipeline's live version, started by the route.
    let runs = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/pipelines/{echo}/runs"),
            None,
            &auth,
        )
        .await;
    assert_eq!(runs.body.as_array().map(Vec::len), Some(1), "{}", runs.body);
    assert_eq!(runs.body[0]["trigger"], "route");

    // A topic's pipeline subscriber: each message is a run (trigger `topic`) whose input
    // is the message, id included.
    let topic = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics",
            Some(json!({"name": "orders"})),
            &auth,
        )
        .await;
    assert_eq!(topic.status, StatusCode::CREATED, "{}", topic.body);
    let sub = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics/orders/subscribers",
            Some(json!({"name": "plain", "handler": {"kind": "pipeline", "pipeline_id": plain}})),
            &auth,
        )
        .await;
    assert_eq!(sub.status, StatusCode::CREATED, "{}", sub.body);
    deploy(&app, &auth).await;
    let published = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics/orders/messages",
            Some(json!({"n": 1})),
            &auth,
        )
        .await;
    assert_eq!(published.status, StatusCode::ACCEPTED, "{}", published.body);
    assert_eq!(published.body["deliveries"], 1);
    let runs_of_plain = format!("/api/v1/workspaces/acme/pipelines/{plain}/runs");
    let runs = eventually(&app, &auth, &runs_of_plain, |b| {
        b.as_array()
            .is_some_and(|runs| runs.iter().any(|r| r["trigger"] == "topic"))
    })
    .await;
    let run = runs
        .as_array()
        .and_then(|r| r.iter().find(|r| r["trigger"] == "topic"))
        .and_then(|r| r["id"].as_str())
        .expect("the topic's run")
        .to_owned();
    let view = eventually(
        &app,
        &auth,
        &format!("/api/v1/workspaces/acme/runs/{run}"),
        |b| b["status"] == "succeeded",
    )
    .await;
    assert_eq!(view["input"]["id"], published.body["id"], "{view}");
    assert_eq!(view["input"]["body"], json!({"n": 1}), "{view}");
    assert_eq!(view["input"]["topic"], "orders", "{view}");
}
on_both_backends!(pipeline_routes_answer_with_the_runs_output, pipeline_routes);

async fn drafts_at_once(backend: Backend) {
    let (app, _stop) = app(backend, 0).await;
    let auth = owner(&app).await;
    create_route(&app, &auth, static_route("/old", json!("old"))).await;
    let drafts = "/api/v1/workspaces/acme/drafts";
    let a = app.call(Method::GET, drafts, None, &auth).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["routes"][0]["path"], "/old", "{}", a.body);

    // The whole set is replaced: the old route goes, the new definitions come, the plan
    // against what is live (nothing yet) is the answer.
    let manifest = json!({
        "routes": [
            static_route("/b", json!({"b": 1})),
            {"method": "POST", "path": "/orders", "handler": {"kind": "publish", "topic": "orders"}},
        ],
        "topics": [{"name": "orders", "subscribers": [
            {"name": "audit", "handler": {"kind": "script", "source": "export default () => {}"}}
        ]}]
    });
    let a = app
        .call(Method::PUT, drafts, Some(manifest.clone()), &auth)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let changes: Vec<String> = a.body["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["change"].as_str().unwrap_or(""),
                c["kind"].as_str().unwrap_or(""),
                c["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            "add route GET /b",
            "add route POST /orders",
            "add topic orders",
            "add subscriber orders/audit"
        ],
        "{}",
        a.body
    );
    let a = app.call(Method::GET, drafts, None, &auth).await;
    let paths: Vec<&str> = a.body["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    assert_eq!(paths, ["/b", "/orders"]);

    // A manifest with problems replaces nothing and names every problem.
    let bad = json!({"routes": [
        static_route("/users/{id}", json!(1)),
        static_route("/users/{name}", json!(2)),
        {"method": "GET", "path": "nope", "handler": {"kind": "static", "status": 200}},
    ]});
    let a = app.call(Method::PUT, drafts, Some(bad), &auth).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(
        a.body["error"]["problems"].as_array().map(Vec::len),
        Some(2),
        "{}",
        a.body
    );
    let after = app.call(Method::GET, drafts, None, &auth).await;
    assert_eq!(after.body["routes"].as_array().map(Vec::len), Some(2));

    // A developer may replace drafts but not decide who may call a route.
    let (dev, _) = app.sign_up("dev@example.com").await;
    app.add_member(&auth, "acme", &dev, "dev@example.com", "developer")
        .await;
    let guarded = json!({"routes": [{"method": "GET", "path": "/private",
        "handler": {"kind": "static", "status": 200}, "settings": {"auth": {"kind": "api_key", "min_role": "viewer"}}}]});
    let a = app
        .call(Method::PUT, drafts, Some(guarded.clone()), &dev)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = app.call(Method::PUT, drafts, Some(manifest), &dev).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // A deploy's manifest, sent back unchanged, is exactly what is live: no changes.
    let deployed = deploy(&app, &auth).await;
    let id = deployed["id"].as_str().expect("id");
    let live = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/deploys/{id}/manifest"),
            None,
            &auth,
        )
        .await;
    let a = app
        .call(Method::PUT, drafts, Some(live.body.clone()), &auth)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["changes"], json!([]), "{}", a.body);
    assert_eq!(
        app.call(Method::GET, drafts, None, &auth).await.body,
        live.body
    );
}
on_both_backends!(drafts_are_read_and_replaced_all_at_once, drafts_at_once);

async fn cli_deploys(backend: Backend) {
    let (app, _stop) = app(backend, 1).await;
    let auth = owner(&app).await;
    let (key, _) = app.api_key(&auth, "acme", "developer").await;
    // The control plane on a real socket: the CLI is an HTTP client of it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("address");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let dir = std::env::temp_dir().join(format!("sy-cli-it-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("switchyard.toml"),
        "workspace = \"acme\"\n\n[[routes]]\nmethod = \"GET\"\npath = \"/hello/{name}\"\nhandler = { kind = \"script\", file = \"hello.js\" }\n\n[[topics]]\nname = \"orders\"\n",
    )
    .expect("toml");
    std::fs::write(
        dir.join("hello.js"),
        "export default (req, ctx) => { ctx.log('hello ' + req.params.name); return { status: 200, body: { hello: req.params.name } } }",
    )
    .expect("script");
    let client = server::cli::Client {
        url: format!("http://{addr}"),
        key,
        workspace: None,
    };

    // plan: what would change, nothing saved.
    let plan = server::cli::plan(&client, &dir).await.expect("a plan");
    assert_eq!(
        server::cli::render_plan(&plan),
        "nothing is live yet\n+ route GET /hello/{name}\n+ topic orders\n"
    );
    let drafts = app
        .call(Method::GET, "/api/v1/workspaces/acme/drafts", None, &auth)
        .await;
    assert_eq!(drafts.body["routes"], json!([]), "plan saved nothing");

    // deploy: not confirmed saves the drafts only; confirmed deploys them.
    let shown = std::sync::Mutex::new(String::new());
    let show = |t: &str| shown.lock().expect("lock").push_str(t);
    let done = server::cli::deploy(&client, &dir, show, || false)
        .await
        .expect("saved");
    assert_eq!(done, server::cli::Deployed::NotConfirmed);
    assert!(shown
        .lock()
        .expect("lock")
        .contains("+ route GET /hello/{name}"));
    assert_eq!(
        get(&app, "/t/acme/hello/ada").await.status,
        StatusCode::NOT_FOUND
    );
    let done = server::cli::deploy(&client, &dir, |_| {}, || true)
        .await
        .expect("deployed");
    assert_eq!(done, server::cli::Deployed::Version(1));
    let r = get(&app, "/t/acme/hello/ada").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json, json!({"hello": "ada"}));
    // logs --follow: a request's handler line and access line, as they are written.
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let following = {
        let (client, dir) = (client.clone(), dir.clone());
        tokio::spawn(async move {
            server::cli::logs(&client, &dir, Some("GET /hello/{name}"), true, |line| {
                lines_tx.send(line.to_owned()).is_ok()
            })
            .await
        })
    };
    let r = get(&app, "/t/acme/hello/grace").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut printed: Vec<String> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let wanted = |printed: &[String]| {
        printed.iter().any(|l| l.ends_with("hello grace"))
            && printed
                .iter()
                .any(|l| l.contains("GET /hello/{name}") && l.contains("GET /hello/grace → 200 in"))
    };
    while !wanted(&printed) {
        match tokio::time::timeout_at(deadline, lines_rx.recv()).await {
            Ok(Some(line)) => printed.push(line),
            _ => panic!("logs --follow did not print the request's lines: {printed:?}"),
        }
    }
    drop(lines_rx);
    following.abort();
    // Without --follow: the lines so far, the first request's among them.
    let mut all = Vec::new();
    server::cli::logs(&client, &dir, None, false, |line| {
        all.push(line.to_owned());
        true
    })
    .await
    .expect("the log");
    assert!(all.iter().any(|l| l.ends_with("hello ada")), "{all:?}");

    let again = server::cli::deploy(&client, &dir, |_| {}, || panic!("nothing to confirm"))
        .await
        .expect("unchanged");
    assert_eq!(again, server::cli::Deployed::Unchanged);

    // publish: to the deployed topic; a message that is not JSON is refused before sending.
    let id = server::cli::publish(
        &server::cli::Client {
            workspace: Some("acme".into()),
            ..client.clone()
        },
        &dir,
        "orders",
        r#"{"n": 1}"#,
    )
    .await
    .expect("published");
    assert_eq!(id.len(), 36, "{id}");
    // logs TOPIC: the topic's messages.
    let mut tail = Vec::new();
    server::cli::topic_tail(&client, &dir, "orders", false, |line| {
        tail.push(line.to_owned());
        true
    })
    .await
    .expect("the tail");
    assert_eq!(tail.len(), 1, "{tail:?}");
    assert!(
        tail[0].contains(&format!("  orders  {id}  {{\"n\":1}}")),
        "{tail:?}"
    );
    let bad = server::cli::publish(&client, &dir, "orders", "{n: 1").await;
    assert!(bad.expect_err("refused").to_string().contains("not JSON"));

    // A problem in the directory is refused with the problem named, and nothing replaced.
    std::fs::write(dir.join("hello.js"), "export default (req) => {").expect("script");
    let e = server::cli::deploy(&client, &dir, |_| {}, || true)
        .await
        .expect_err("refused")
        .to_string();
    assert!(e.contains("422") && e.contains("handler.source"), "{e}");

    // dev: the broken directory is reported (what is live stays); each fix is deployed
    // as it is saved.
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let watching = {
        let (client, dir) = (client.clone(), dir.clone());
        tokio::spawn(async move {
            server::cli::dev(&client, &dir, Duration::from_millis(50), |event| {
                events_tx.send(event).is_ok()
            })
            .await
        })
    };
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("dev reports")
            .expect("an event")
    };
    match next().await {
        server::cli::DevEvent::Refused(why) => assert!(why.contains("handler.source"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        get(&app, "/t/acme/hello/ada").await.json,
        json!({"hello": "ada"})
    );
    std::fs::write(
        dir.join("hello.js"),
        "export default (req) => ({ status: 200, body: { hi: req.params.name } })",
    )
    .expect("script");
    match next().await {
        server::cli::DevEvent::Deployed { version, plan } => {
            assert_eq!(version, 2);
            assert!(plan.contains("~ route GET /hello/{name}"), "{plan}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        get(&app, "/t/acme/hello/ada").await.json,
        json!({"hi": "ada"})
    );
    std::fs::write(dir.join("switchyard.toml"), "[[routes]\n").expect("toml");
    match next().await {
        server::cli::DevEvent::Refused(why) => assert!(why.contains("switchyard.toml"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        get(&app, "/t/acme/hello/ada").await.json,
        json!({"hi": "ada"})
    );
    watching.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
on_both_backends!(the_cli_plans_deploys_and_publishes_a_directory, cli_deploys);
