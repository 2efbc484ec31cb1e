//! Tenant isolation and role checks: every workspace endpoint is tried as a member of another
//! workspace, as each role below the one it needs (as a user and as an API key), without
//! credentials and with a revoked key. Each must be refused with 404/403/401 and change
//! nothing. Runs on SQLite and PostgreSQL.

use crate::common::{Auth, TestApp};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use server::store::{Backend, Store};
use shared::ids::TenantId;
use shared::roles::Role;

/// Everything a refused request could have changed, minus usage timestamps.
async fn snapshot(store: &Store, tenant: TenantId) -> String {
    let ws = store.workspace(tenant).await.unwrap();
    let members: Vec<_> = store
        .members(tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.user_id, m.role))
        .collect();
    let invitations: Vec<_> = store
        .pending_invitations(tenant, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.id, i.email, i.role))
        .collect();
    let keys: Vec<_> = store
        .api_keys(tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.id, k.name, k.role))
        .collect();
    let filter = server::jobs::JobFilter {
        limit: 500,
        ..Default::default()
    };
    let jobs: Vec<_> = store
        .jobs(tenant, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.id, j.status, j.attempt, j.cancel_requested))
        .collect();
    // Secrets with their sealed values: a refused write must not re-seal one either.
    let secrets: Vec<_> = store
        .secrets(tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.record.name, s.record.sealed, s.record.updated_at))
        .collect();
    // Pipelines with their versions, hooks (and signing keys) and runs.
    let mut pipelines = Vec::new();
    for p in store.pipelines(tenant).await.unwrap() {
        let versions = store.pipeline_versions(tenant, p.id).await.unwrap().len();
        let hooks: Vec<_> = store
            .pipeline_hooks(tenant, p.id)
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.node, h.signing_key))
            .collect();
        let runs = store.pipeline_runs(tenant, p.id, 500).await.unwrap().len();
        pipelines.push((
            p.id,
            p.name,
            p.latest_version,
            p.live_version,
            versions,
            hooks,
            runs,
        ));
    }
    // Draft routes, topics and the deploys (with what they made live).
    let routes: Vec<_> = store
        .routes(tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.route, r.updated_at))
        .collect();
    let topics = store.topics(tenant).await.unwrap();
    let deploys: Vec<_> = store
        .deploys(tenant, 500)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.version, d.hash))
        .collect();
    format!("{ws:?}|{members:?}|{invitations:?}|{keys:?}|{jobs:?}|{secrets:?}|{pipelines:?}|{routes:?}|{topics:?}|{deploys:?}")
}

/// The pipeline every pipeline endpoint is tried on: a webhook trigger and a set node.
fn pipeline_graph() -> Value {
    json!({
        "nodes": [{"id": "hook", "kind": "webhook", "config": {}},
                  {"id": "shape", "kind": "set", "config": {"fields": {"a": "{{ input.a }}"}}}],
        "edges": [{"from": {"node": "hook", "port": "out"}, "to": {"node": "shape", "port": "in"}}]
    })
}

async fn submit_job(app: &TestApp, auth: &Auth) -> String {
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/jobs",
            Some(json!({"kind": "diagnostic"})),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

struct Endpoint {
    method: Method,
    path: String,
    body: Option<Value>,
    needs: Role,
}

async fn every_endpoint_refuses_foreigners_and_lower_roles(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (ada, _) = app.sign_up("ada@example.com").await;
    let (adam, _) = app.sign_up("adam@example.com").await;
    let (dev, _) = app.sign_up("dev@example.com").await;
    let (vic, _) = app.sign_up("vic@example.com").await;
    let (_tom, tom_id) = app.sign_up("tom@example.com").await;
    let (eve, _) = app.sign_up("eve@example.com").await;
    let acme = app.create_workspace(&ada, "acme").await;
    let globex = app.create_workspace(&eve, "globex").await;
    app.add_member(&ada, "acme", &adam, "adam@example.com", "admin")
        .await;
    app.add_member(&ada, "acme", &dev, "dev@example.com", "developer")
        .await;
    app.add_member(&ada, "acme", &vic, "vic@example.com", "viewer")
        .await;
    app.add_member(&ada, "acme", &_tom, "tom@example.com", "viewer")
        .await;

    let users = [
        (Role::Admin, adam),
        (Role::Developer, dev),
        (Role::Viewer, vic.clone()),
    ];
    let mut keys = Vec::new();
    for role in [Role::Admin, Role::Developer, Role::Viewer] {
        keys.push((
            role,
            Auth::Bearer(app.api_key(&ada, "acme", role.as_str()).await.0),
        ));
    }
    let (revoked, revoked_id) = app.api_key(&ada, "acme", "owner").await;
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/workspaces/acme/api-keys/{revoked_id}"),
            None,
            &ada
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let (eve_key, _) = app.api_key(&eve, "globex", "owner").await;
    let (_, target_key) = app.api_key(&ada, "acme", "viewer").await;
    let invitation = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/invitations",
            Some(json!({"email": "later@example.com", "role": "viewer"})),
            &ada,
        )
        .await;
    let invitation_id = invitation.body["id"].as_str().unwrap().to_owned();
    // A queued job (no worker runs here) and a cancelled one to retry.
    let job_id = submit_job(&app, &ada).await;
    let dead_job = submit_job(&app, &ada).await;
    let cancelled = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/jobs/{dead_job}/cancel"),
            None,
            &ada,
        )
        .await;
    assert_eq!(cancelled.body["status"], "cancelled");

    let token = app
        .set_secret(&ada, "acme", "DEPLOY_TOKEN", "acme-token")
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.body);

    // A pipeline with a queued run (no worker runs here) and a cancelled one to re-run.
    let created = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/pipelines",
            Some(json!({"name": "Intake", "graph": pipeline_graph()})),
            &ada,
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let pipeline = created.body["id"].as_str().unwrap().to_owned();
    let start_run = |auth: Auth| {
        let (app, path) = (
            &app,
            format!("/api/v1/workspaces/acme/pipelines/{pipeline}/runs"),
        );
        async move {
            let a = app
                .call(Method::POST, &path, Some(json!({"input": {"a": 1}})), &auth)
                .await;
            assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
            a.body["id"].as_str().unwrap().to_owned()
        }
    };
    let run = start_run(ada.clone()).await;
    let ended_run = start_run(ada.clone()).await;
    let stopped = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/runs/{ended_run}/cancel"),
            None,
            &ada,
        )
        .await;
    assert_eq!(stopped.body["status"], "cancelled", "{}", stopped.body);

    // A deployed route and a topic.
    let static_route = |path: &str| json!({"method": "GET", "path": path, "handler": {"kind": "static", "status": 200, "body": "hi"}});
    let route = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/routes",
            Some(static_route("/hello")),
            &ada,
        )
        .await;
    assert_eq!(route.status, StatusCode::CREATED, "{}", route.body);
    let route = route.body["id"].as_str().unwrap().to_owned();
    let topic = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/topics",
            Some(json!({"name": "orders"})),
            &ada,
        )
        .await;
    assert_eq!(topic.status, StatusCode::CREATED, "{}", topic.body);
    let deployed = app
        .call(Method::POST, "/api/v1/workspaces/acme/deploys", None, &ada)
        .await;
    assert_eq!(deployed.status, StatusCode::CREATED, "{}", deployed.body);
    let deploy = deployed.body["id"].as_str().unwrap().to_owned();

    let ws = "/api/v1/workspaces/acme";
    let pl = format!("{ws}/pipelines/{pipeline}");
    let rt = format!("{ws}/routes/{route}");
    let keyed_route = json!({"method": "GET", "path": "/hello", "handler": {"kind": "static", "status": 200},
                             "settings": {"auth": {"kind": "api_key", "min_role": "viewer"}}});
    let endpoints = vec![
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/routes"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/routes"),
            body: Some(static_route("/planted")),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: rt.clone(),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::PUT,
            path: rt.clone(),
            body: Some(static_route("/moved")),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::PUT,
            path: rt.clone(),
            body: Some(keyed_route),
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::DELETE,
            path: rt.clone(),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/topics"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/topics"),
            body: Some(json!({"name": "planted"})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::DELETE,
            path: format!("{ws}/topics/orders"),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/topics/orders/subscribers"),
            body: Some(json!({"handler": {"kind": "script", "source": "export default () => 1"}})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/topics/orders/messages"),
            body: Some(json!({"n": 1})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/topics/orders/messages"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/topics/orders/dead-letters"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/topics/orders/dead-letters/{job_id}/replay"),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/deploys/plan"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/deploys/plan"),
            body: Some(json!({"routes": []})),
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/drafts"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/logs"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::PUT,
            path: format!("{ws}/drafts"),
            body: Some(json!({"routes": [], "topics": [{"name": "planted"}]})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/deploys"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/deploys"),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/deploys/{deploy}/manifest"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/deploys/{deploy}/rollback"),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/pipelines"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/pipelines"),
            body: Some(json!({"name": "Planted", "graph": pipeline_graph()})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/pipelines/check"),
            body: Some(pipeline_graph()),
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::GET,
            path: pl.clone(),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::PUT,
            path: pl.clone(),
            body: Some(json!({"graph": pipeline_graph()})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::DELETE,
            path: pl.clone(),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{pl}/versions"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{pl}/versions/1"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{pl}/live"),
            body: Some(json!({"version": 1})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{pl}/runs"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{pl}/runs"),
            body: Some(json!({"input": {}})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{pl}/hooks/hook/signing-key"),
            body: None,
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::DELETE,
            path: format!("{pl}/hooks/hook/signing-key"),
            body: None,
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/runs/{run}"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/runs/{run}/cancel"),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/runs/{ended_run}/rerun"),
            body: Some(json!({"node": "shape"})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: ws.into(),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::PATCH,
            path: ws.into(),
            body: Some(json!({"name": "Hijacked"})),
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::DELETE,
            path: format!("{ws}?confirm=acme"),
            body: None,
            needs: Role::Owner,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/members"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::PATCH,
            path: format!("{ws}/members/{tom_id}"),
            body: Some(json!({"role": "developer"})),
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::DELETE,
            path: format!("{ws}/members/{tom_id}"),
            body: None,
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/invitations"),
            body: None,
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/invitations"),
            body: Some(json!({"email": "x@example.com", "role": "viewer"})),
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::DELETE,
            path: format!("{ws}/invitations/{invitation_id}"),
            body: None,
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/api-keys"),
            body: None,
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/api-keys"),
            body: Some(json!({"name": "x", "role": "viewer"})),
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::DELETE,
            path: format!("{ws}/api-keys/{target_key}"),
            body: None,
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/secrets"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::PUT,
            path: format!("{ws}/secrets/DEPLOY_TOKEN"),
            body: Some(json!({"value": "stolen"})),
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::PUT,
            path: format!("{ws}/secrets/NEW_ONE"),
            body: Some(json!({"value": "planted"})),
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::DELETE,
            path: format!("{ws}/secrets/DEPLOY_TOKEN"),
            body: None,
            needs: Role::Admin,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/jobs"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/jobs"),
            body: Some(json!({"kind": "diagnostic", "payload": {"lines": 1}})),
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/jobs/{job_id}"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/jobs/{job_id}/logs"),
            body: None,
            needs: Role::Viewer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/jobs/{job_id}/cancel"),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::POST,
            path: format!("{ws}/jobs/{dead_job}/retry"),
            body: None,
            needs: Role::Developer,
        },
        Endpoint {
            method: Method::GET,
            path: format!("{ws}/workers"),
            body: None,
            needs: Role::Viewer,
        },
    ];

    let acme_id: TenantId = acme["id"].as_str().unwrap().parse().unwrap();
    let globex_id: TenantId = globex["id"].as_str().unwrap().parse().unwrap();
    let before = (
        snapshot(&app.store, acme_id).await,
        snapshot(&app.store, globex_id).await,
    );

    for e in &endpoints {
        let label = format!("{} {}", e.method, e.path);
        let try_as = |auth: Auth| {
            let (method, path, body) = (e.method.clone(), e.path.clone(), e.body.clone());
            let app = &app;
            async move { app.call(method, &path, body, &auth).await }
        };
        let a = try_as(eve.clone()).await;
        assert_eq!(
            a.status,
            StatusCode::NOT_FOUND,
            "{label} as a member of another workspace: {}",
            a.body
        );
        let a = try_as(Auth::Bearer(eve_key.clone())).await;
        assert_eq!(
            a.status,
            StatusCode::NOT_FOUND,
            "{label} with another workspace's key: {}",
            a.body
        );
        for (role, user) in &users {
            if !role.at_least(e.needs) {
                let a = try_as(user.clone()).await;
                assert_eq!(
                    a.status,
                    StatusCode::FORBIDDEN,
                    "{label} as {role}: {}",
                    a.body
                );
                assert_eq!(a.body["error"]["code"], "forbidden");
            }
        }
        for (role, key) in &keys {
            if !role.at_least(e.needs) {
                let a = try_as(key.clone()).await;
                assert_eq!(
                    a.status,
                    StatusCode::FORBIDDEN,
                    "{label} with a {role} key: {}",
                    a.body
                );
            }
        }
        let a = try_as(Auth::None).await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "{label} without credentials: {}",
            a.body
        );
        let a = try_as(Auth::Bearer(revoked.clone())).await;
        assert_eq!(
            a.status,
            StatusCode::UNAUTHORIZED,
            "{label} with a revoked key: {}",
            a.body
        );
    }
    // Another workspace's ids through one's own slug reach nothing either.
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/workspaces/globex/members/{tom_id}"),
            Some(json!({"role": "owner"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/workspaces/globex/members/{tom_id}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/workspaces/globex/api-keys/{target_key}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/workspaces/globex/invitations/{invitation_id}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/workspaces/globex/jobs/{job_id}"),
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/workspaces/globex/secrets/DEPLOY_TOKEN".to_owned(),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/workspaces/globex/jobs/{job_id}/cancel"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/workspaces/globex/jobs/{job_id}/logs"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/workspaces/globex/pipelines/{pipeline}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/workspaces/globex/pipelines/{pipeline}"),
            Some(json!({"graph": pipeline_graph()})),
        ),
        (
            Method::POST,
            format!("/api/v1/workspaces/globex/pipelines/{pipeline}/runs"),
            Some(json!({"input": {}})),
        ),
        (
            Method::GET,
            format!("/api/v1/workspaces/globex/runs/{run}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/workspaces/globex/runs/{run}/cancel"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/workspaces/globex/pipelines/{pipeline}/hooks/hook/signing-key"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/workspaces/globex/routes/{route}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/v1/workspaces/globex/routes/{route}"),
            Some(static_route("/stolen")),
        ),
        (
            Method::DELETE,
            format!("/api/v1/workspaces/globex/routes/{route}"),
            None,
        ),
        (
            Method::DELETE,
            "/api/v1/workspaces/globex/topics/orders".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/workspaces/globex/topics/orders/messages".to_owned(),
            Some(json!({"n": 1})),
        ),
        (
            Method::GET,
            "/api/v1/workspaces/globex/topics/orders/messages".to_owned(),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/workspaces/globex/deploys/{deploy}/manifest"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/workspaces/globex/deploys/{deploy}/rollback"),
            None,
        ),
    ] {
        let a = app.call(method.clone(), &path, body, &eve).await;
        assert_eq!(
            a.status,
            StatusCode::NOT_FOUND,
            "{method} {path} with a foreign id: {}",
            a.body
        );
    }
    let after = (
        snapshot(&app.store, acme_id).await,
        snapshot(&app.store, globex_id).await,
    );
    assert_eq!(before, after, "refused requests changed nothing");

    // The roles that are allowed do get through (the table above is not vacuous).
    assert_eq!(
        app.call(Method::GET, ws, None, &vic).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, &format!("{ws}/api-keys"), None, &keys[0].1)
            .await
            .status,
        StatusCode::OK
    );

    // Account endpoints are per user: another user's session cannot be ended.
    let ada_sessions = app
        .call(Method::GET, "/api/v1/auth/sessions", None, &ada)
        .await;
    let ada_session = ada_sessions.body[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/auth/sessions/{ada_session}"),
            None,
            &eve
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &ada).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &Auth::None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/me", None, &Auth::Bearer(revoked))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let listed = app
        .call(
            Method::GET,
            "/api/v1/workspaces",
            None,
            &Auth::Bearer(eve_key),
        )
        .await;
    let slugs: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, vec!["globex"], "a key sees only its workspace");

    // Even an owner's key mints no keys and invites nobody: a leaked key must not outlive
    // its own revocation through another one, or let its holder in as a member.
    let (owner_key, _) = app.api_key(&ada, "acme", "owner").await;
    let owner_key = Auth::Bearer(owner_key);
    for (path, body) in [
        (
            "/api/v1/workspaces/acme/api-keys",
            json!({"name": "x", "role": "viewer"}),
        ),
        (
            "/api/v1/workspaces/acme/invitations",
            json!({"email": "mole@example.com", "role": "viewer"}),
        ),
    ] {
        let a = app.call(Method::POST, path, Some(body), &owner_key).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {}", a.body);
        assert!(
            a.body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("an API key cannot create")),
            "{path}: {}",
            a.body
        );
    }
    app.finish().await;
}
on_both_backends!(
    every_endpoint_refuses_foreigners_and_lower_roles,
    every_endpoint_refuses_foreigners_and_lower_roles
);
