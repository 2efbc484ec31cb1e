//! Code intelligence through the REST API and MCP: a git repository registered by `file://`
//! URL is indexed by an `indexer` worker (real tree-sitter, embedding model, LanceDB,
//! Tantivy), searched, navigated, re-indexed after a commit, and removed. Validation,
//! roles and cross-workspace isolation on REST and MCP, on both store backends.

use crate::common::{Auth, TestApp};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};
use server::store::Backend;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use workers::bus::memory::InProcessBus;

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub(crate) fn write(dir: &Path, path: &str, text: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
    std::fs::write(full, text).expect("write");
}

/// A git repository under the tests' allowed root.
pub(crate) struct Repo(pub(crate) PathBuf);

impl Repo {
    pub(crate) fn new() -> Repo {
        let dir =
            crate::common::repos_root().join(format!("sy-repo-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        git(&dir, &["init", "-q", "-b", "main"]);
        write(
            &dir,
            "billing/invoice.py",
            "from billing.tax import vat\n\n\ndef invoice_total(lines):\n    \"\"\"Sum the invoice lines and add value added tax.\"\"\"\n    net = sum(line.price for line in lines)\n    return net + vat(net)\n",
        );
        write(
            &dir,
            "billing/tax.py",
            "RATE = 0.2\n\n\ndef vat(amount):\n    \"\"\"Value added tax owed on an amount.\"\"\"\n    return amount * RATE\n",
        );
        write(
            &dir,
            "src/lib.rs",
            "/// Greets someone by name.\npub fn greet(name: &str) -> String {\n    format!(\"hello {name}\")\n}\n",
        );
        git(&dir, &["add", "-A"]);
        git(&dir, &["commit", "-q", "-m", "first"]);
        Repo(dir)
    }

    fn url(&self) -> String {
        format!("file://{}", self.0.display())
    }

    pub(crate) fn head(&self) -> String {
        git(&self.0, &["rev-parse", "HEAD"])
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn app(backend: Backend) -> TestApp {
    let bus: Arc<dyn workers::bus::Bus> = Arc::new(InProcessBus::new());
    TestApp::with_jobs(backend, bus, "indexer", 1).await
}

/// Polls a repository until its index run ends; answers it.
pub(crate) async fn wait_ready(app: &TestApp, auth: &Auth, slug: &str, id: &str) -> Value {
    let path = format!("/api/v1/workspaces/{slug}/code/repositories/{id}");
    for _ in 0..1200 {
        let a = app.call(Method::GET, &path, None, auth).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        match a.body["status"].as_str() {
            Some("ready") => return a.body,
            Some("failed") => panic!("index run failed: {}", a.body),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("{path} never became ready");
}

async fn add_repo(app: &TestApp, auth: &Auth, slug: &str, repo: &Repo) -> String {
    let a = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/{slug}/code/repositories"),
            Some(json!({"url": repo.url()})),
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["status"], "queued");
    a.body["id"].as_str().expect("id").to_owned()
}

async fn search(app: &TestApp, auth: &Auth, slug: &str, query: &str) -> Value {
    let a = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/{slug}/code/search?{query}"),
            None,
            auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body
}

fn symbols_of(results: &Value) -> Vec<String> {
    results["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["symbol"].as_str().expect("symbol").to_owned())
        .collect()
}

async fn indexes_searches_navigates_and_reindexes(backend: Backend) {
    let app = app(backend).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&owner, "acme").await;
    let repo = Repo::new();
    let id = add_repo(&app, &owner, "acme", &repo).await;
    let ready = wait_ready(&app, &owner, "acme", &id).await;
    assert_eq!(ready["commit"], repo.head());
    assert_eq!(ready["url"], repo.url());
    assert_eq!(ready["source"], "git");
    assert_eq!(ready["files_indexed"], 3);
    assert_eq!(ready["symbols"], 3);
    assert_eq!(ready["chunks"], 3);
    assert_eq!(ready["files_skipped"], 0);
    assert!(ready["indexed_at"].is_string());
    assert!(ready.get("error").is_none());
    let list = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/code/repositories",
            None,
            &owner,
        )
        .await;
    assert_eq!(list.body.as_array().map(Vec::len), Some(1));

    // Semantic and keyword search with the documented result shape.
    let found = search(&app, &owner, "acme", "q=how+much+tax+is+due&limit=2").await;
    assert_eq!(found["mode"], "hybrid");
    let first = &found["results"][0];
    assert_eq!(first["symbol"], "vat", "{found}");
    assert_eq!(first["path"], "billing/tax.py");
    assert_eq!(first["kind"], "function");
    assert_eq!(first["language"], "python");
    assert_eq!(first["repo_id"], id.as_str());
    assert_eq!(
        (first["line_start"].as_u64(), first["line_end"].as_u64()),
        (Some(4), Some(6))
    );
    assert!(first["score"].as_f64().is_some_and(|s| s > 0.0));
    assert!(first["snippet"]
        .as_str()
        .is_some_and(|s| s.contains("def vat(amount)")));
    let rust = search(&app, &owner, "acme", "q=greet&lang=rust").await;
    assert_eq!(symbols_of(&rust), ["greet"]);
    let in_billing = search(&app, &owner, "acme", "q=tax&path=billing/**&kind=function").await;
    let mut billing = symbols_of(&in_billing);
    billing.sort();
    assert_eq!(
        billing,
        ["invoice_total", "vat"],
        "the path filter keeps billing/ only"
    );

    // Graph navigation.
    let vat_id = first["symbol_id"].as_str().expect("symbol id").to_owned();
    let callers = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/code/symbols/{vat_id}/callers"),
            None,
            &owner,
        )
        .await;
    assert_eq!(callers.status, StatusCode::OK, "{}", callers.body);
    assert_eq!(
        callers.body["results"][0]["symbol"]["qualified"],
        "invoice_total"
    );
    assert_eq!(
        callers.body["results"][0]["symbol"]["path"],
        "billing/invoice.py"
    );
    assert_eq!(callers.body["results"][0]["line"], 7);
    let total_id = callers.body["results"][0]["symbol"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let callees = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/code/symbols/{total_id}/callees?depth=2"),
            None,
            &owner,
        )
        .await;
    let names: Vec<_> = callees.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["symbol"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("vat")]);
    let detail = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/code/symbols/{vat_id}"),
            None,
            &owner,
        )
        .await;
    assert_eq!(
        detail.body["symbol"]["doc"],
        "Value added tax owed on an amount."
    );
    assert_eq!(detail.body["symbol"]["signature"], "def vat(amount)");
    assert!(detail.body["code"]
        .as_str()
        .is_some_and(|c| c.contains("return amount * RATE")));
    assert_eq!(
        detail.body["callers"][0]["symbol"]["qualified"],
        "invoice_total"
    );
    let outline = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/code/repositories/{id}/outline?path=src/lib.rs"),
            None,
            &owner,
        )
        .await;
    assert_eq!(outline.body["symbols"][0]["symbol"]["qualified"], "greet");
    let defs = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/code/definitions?name=greet",
            None,
            &owner,
        )
        .await;
    assert_eq!(defs.body[0]["path"], "src/lib.rs");

    // A commit that edits, adds and deletes, then an incremental run.
    write(&repo.0, "src/lib.rs", "/// Greets someone by name, loudly.\npub fn greet(name: &str) -> String {\n    shout(&format!(\"hello {name}\"))\n}\n\nfn shout(text: &str) -> String {\n    text.to_uppercase()\n}\n");
    write(&repo.0, "billing/refund.py", "def refund(amount):\n    \"\"\"Money given back to a customer.\"\"\"\n    return -amount\n");
    std::fs::remove_file(repo.0.join("billing/tax.py")).expect("rm");
    git(&repo.0, &["add", "-A"]);
    git(&repo.0, &["commit", "-q", "-m", "second"]);
    let again = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/code/repositories/{id}/reindex"),
            None,
            &owner,
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    let busy = app
        .call(
            Method::POST,
            &format!("/api/v1/workspaces/acme/code/repositories/{id}/reindex"),
            None,
            &owner,
        )
        .await;
    assert_eq!(
        busy.status,
        StatusCode::CONFLICT,
        "a second run while one is queued: {}",
        busy.body
    );
    let ready = wait_ready(&app, &owner, "acme", &id).await;
    assert_eq!(ready["commit"], repo.head());
    assert_eq!(ready["report"]["files_changed"], 2, "{ready}");
    assert_eq!(ready["report"]["files_deleted"], 1);
    assert_eq!(ready["report"]["files_unchanged"], 1);
    assert_eq!(ready["files_indexed"], 3);
    assert!(
        symbols_of(&search(&app, &owner, "acme", "q=vat&mode=keyword").await)
            .iter()
            .all(|s| s != "vat")
    );
    assert_eq!(
        symbols_of(&search(&app, &owner, "acme", "q=refund&mode=keyword").await)[0],
        "refund"
    );
    let old = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/code/symbols/{vat_id}"),
            None,
            &owner,
        )
        .await;
    assert_eq!(
        old.status,
        StatusCode::NOT_FOUND,
        "a deleted file's symbols are gone"
    );
    let runs = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/code/repositories/{id}/runs"),
            None,
            &owner,
        )
        .await;
    assert_eq!(runs.body.as_array().map(Vec::len), Some(2));
    assert_eq!(runs.body[0]["kind"], "code.index");
    assert_eq!(runs.body[0]["status"], "succeeded");
    assert_eq!(runs.body[0]["progress"]["phase"], "done");

    // Removal.
    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/v1/workspaces/acme/code/repositories/{id}"),
            None,
            &owner,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let get = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/code/repositories/{id}"),
            None,
            &owner,
        )
        .await;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
    assert!(symbols_of(&search(&app, &owner, "acme", "q=greet&mode=keyword").await).is_empty());
    app.finish().await;
}
on_both_backends!(
    indexes_searches_navigates_and_reindexes,
    indexes_searches_navigates_and_reindexes
);

async fn bad_input_is_refused_by_name(backend: Backend) {
    let app = app(backend).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&owner, "acme").await;
    let post = |body: Value| {
        let owner = owner.clone();
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "/api/v1/workspaces/acme/code/repositories",
                Some(body),
                &owner,
            )
            .await
        }
    };
    for (body, field) in [
        (json!({}), "url"),
        (json!({"url": "ftp://example.com/repo"}), "url"),
        (json!({"url": "--upload-pack=touch /tmp/x"}), "url"),
        (json!({"url": "file:///etc"}), "url"),
        (json!({"path": "/etc"}), "path"),
        (
            json!({"url": "https://example.com/r.git", "branch": "-x"}),
            "branch",
        ),
        (
            json!({"url": "https://example.com/r.git", "colour": "red"}),
            "colour",
        ),
        (
            json!({"url": "https://example.com/r.git", "name": "n".repeat(101)}),
            "name",
        ),
    ] {
        let a = post(body.clone()).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            a.body
        );
        assert_eq!(a.body["error"]["field"], field, "{body}: {}", a.body);
    }
    let repos = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/code/repositories",
            None,
            &owner,
        )
        .await;
    assert_eq!(repos.body, json!([]), "nothing half-written");
    for (query, field) in [
        ("", "q"),
        ("q=", "q"),
        ("q=x&limit=abc", "limit"),
        ("q=x&limit=0", "limit"),
        ("q=x&lang=cobol", "lang"),
        ("q=x&kind=widget", "kind"),
        ("q=x&mode=psychic", "mode"),
    ] {
        let a = app
            .call(
                Method::GET,
                &format!("/api/v1/workspaces/acme/code/search?{query}"),
                None,
                &owner,
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            a.body
        );
        assert_eq!(a.body["error"]["field"], field, "{query}: {}", a.body);
    }
    let a = app
        .call(
            Method::GET,
            "/api/v1/workspaces/acme/code/symbols/abc/callers?depth=9",
            None,
            &owner,
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(a.body["error"]["field"], "depth");

    // Uploads: an archive escaping its directory is refused whole; a good one is indexed.
    let evil = tar_gz(&[("../escape.py", "x = 1\n")]);
    let a = upload(&app, &owner, "acme", "evil", evil).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(
        a.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("leave the upload directory")),
        "{}",
        a.body
    );
    let a = upload(&app, &owner, "acme", "junk", b"not an archive".to_vec()).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let good = tar_gz(&[(
        "pkg/hello.py",
        "def hello():\n    \"\"\"Say hello.\"\"\"\n    return 'hi'\n",
    )]);
    let a = upload(&app, &owner, "acme", "uploaded", good).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["id"].as_str().expect("id").to_owned();
    let ready = wait_ready(&app, &owner, "acme", &id).await;
    assert_eq!(
        (ready["source"].as_str(), ready["files_indexed"].as_u64()),
        (Some("upload"), Some(1))
    );
    assert_eq!(
        symbols_of(&search(&app, &owner, "acme", "q=hello&mode=keyword").await),
        ["hello"]
    );
    app.finish().await;
}
on_both_backends!(bad_input_is_refused_by_name, bad_input_is_refused_by_name);

fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // Written raw: the tar crate's safe setter refuses `..`, an attacker's archive does not.
        let name = path.as_bytes();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_cksum();
        builder.append(&header, text.as_bytes()).expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

async fn upload(
    app: &TestApp,
    auth: &Auth,
    slug: &str,
    name: &str,
    body: Vec<u8>,
) -> crate::common::Answer {
    let Auth::Cookie(cookie) = auth else {
        panic!("cookie auth")
    };
    let request = Request::post(format!(
        "/api/v1/workspaces/{slug}/code/repositories/upload?name={name}"
    ))
    .header(header::COOKIE, cookie)
    .header(header::ORIGIN, "http://127.0.0.1:3000")
    .header(header::CONTENT_TYPE, "application/gzip")
    .body(Body::from(body))
    .expect("request");
    app.send(request).await
}

async fn mcp(app: &TestApp, key: Option<&str>, body: &str) -> crate::common::Answer {
    let mut request = Request::post("/mcp")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json, text/event-stream");
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    app.send(request.body(Body::from(body.to_owned())).expect("request"))
        .await
}

async fn call_tool(app: &TestApp, key: &str, name: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": name, "arguments": arguments}});
    let a = mcp(app, Some(key), &body.to_string()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["id"], 7);
    a.body["result"].clone()
}

async fn isolation_roles_and_mcp(backend: Backend) {
    let app = app(backend).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    let (other, _) = app.sign_up("other@example.com").await;
    let (viewer, _) = app.sign_up("viewer@example.com").await;
    app.create_workspace(&owner, "acme").await;
    app.create_workspace(&other, "globex").await;
    app.add_member(&owner, "acme", &viewer, "viewer@example.com", "viewer")
        .await;
    let repo = Repo::new();
    let id = add_repo(&app, &owner, "acme", &repo).await;
    wait_ready(&app, &owner, "acme", &id).await;
    let vat = search(&app, &owner, "acme", "q=vat&mode=keyword").await;
    let vat_id = vat["results"][0]["symbol_id"]
        .as_str()
        .expect("id")
        .to_owned();

    // A viewer reads but does not change.
    assert_eq!(
        symbols_of(&search(&app, &viewer, "acme", "q=vat&mode=keyword").await)[0],
        "vat"
    );
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/code/repositories",
            Some(json!({"url": "https://example.com/r.git"})),
            &viewer,
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    for (method, path) in [
        (
            Method::POST,
            format!("/api/v1/workspaces/acme/code/repositories/{id}/reindex"),
        ),
        (
            Method::DELETE,
            format!("/api/v1/workspaces/acme/code/repositories/{id}"),
        ),
    ] {
        let a = app.call(method, &path, None, &viewer).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Another workspace sees nothing of it, through its own slug or acme's.
    let theirs = search(&app, &other, "globex", "q=vat").await;
    assert_eq!(theirs["results"], json!([]));
    for path in [
        format!("/api/v1/workspaces/globex/code/repositories/{id}"),
        format!("/api/v1/workspaces/globex/code/symbols/{vat_id}"),
        format!("/api/v1/workspaces/globex/code/symbols/{vat_id}/callers"),
        format!("/api/v1/workspaces/globex/code/search?q=vat&repo={id}"),
        format!("/api/v1/workspaces/acme/code/repositories/{id}"),
        "/api/v1/workspaces/acme/code/search?q=vat".to_owned(),
    ] {
        let a = app.call(Method::GET, &path, None, &other).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.body);
    }
    let a = app
        .call(
            Method::DELETE,
            &format!("/api/v1/workspaces/globex/code/repositories/{id}"),
            None,
            &other,
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/api/v1/workspaces/acme/code/repositories/{id}"),
            None,
            &owner
        )
        .await
        .status,
        StatusCode::OK
    );

    // MCP as a client drives it.
    let (key, _) = app.api_key(&owner, "acme", "viewer").await;
    let (their_key, _) = app.api_key(&other, "globex", "viewer").await;
    let init = mcp(&app, Some(&key), r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#).await;
    assert_eq!(init.status, StatusCode::OK, "{}", init.body);
    assert_eq!(init.body["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init.body["result"]["serverInfo"]["name"], "switchyard");
    assert!(init.body["result"]["capabilities"]["tools"].is_object());
    assert!(init.headers.contains_key("mcp-session-id"));
    let note = mcp(
        &app,
        Some(&key),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    )
    .await;
    assert_eq!(note.status, StatusCode::ACCEPTED);
    let tools = mcp(
        &app,
        Some(&key),
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    )
    .await;
    let names: Vec<_> = tools.body["result"]["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "search_code",
            "get_symbol",
            "find_callers",
            "find_callees",
            "file_outline"
        ]
    );
    assert!(tools.body["result"]["tools"][0]["inputSchema"]["required"] == json!(["query"]));

    let found = call_tool(
        &app,
        &key,
        "search_code",
        json!({"query": "value added tax", "limit": 3}),
    )
    .await;
    assert_eq!(found["isError"], false);
    assert_eq!(
        found["structuredContent"]["results"][0]["symbol"], "vat",
        "{found}"
    );
    assert!(found["content"][0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("billing/tax.py")));
    let symbol = call_tool(&app, &key, "get_symbol", json!({"symbol_id": vat_id})).await;
    assert_eq!(symbol["structuredContent"]["symbol"]["qualified"], "vat");
    let callers = call_tool(
        &app,
        &key,
        "find_callers",
        json!({"symbol_id": vat_id, "depth": 2}),
    )
    .await;
    assert_eq!(
        callers["structuredContent"]["results"][0]["symbol"]["qualified"],
        "invoice_total"
    );
    let total_id = callers["structuredContent"]["results"][0]["symbol"]["id"].clone();
    let callees = call_tool(&app, &key, "find_callees", json!({"symbol_id": total_id})).await;
    assert_eq!(
        callees["structuredContent"]["results"][0]["symbol"]["qualified"],
        "vat"
    );
    let outline = call_tool(
        &app,
        &key,
        "file_outline",
        json!({"repo": id, "path": "billing/tax.py"}),
    )
    .await;
    assert_eq!(
        outline["structuredContent"]["symbols"][0]["symbol"]["name"],
        "vat"
    );
    // Tool errors are results with isError; another workspace's key finds nothing of acme.
    let missing = call_tool(&app, &key, "get_symbol", json!({})).await;
    assert_eq!(missing["isError"], true);
    assert!(missing["content"][0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("symbol_id")));
    let foreign = call_tool(&app, &their_key, "get_symbol", json!({"symbol_id": vat_id})).await;
    assert_eq!(foreign["isError"], true);
    let foreign = call_tool(&app, &their_key, "search_code", json!({"query": "vat"})).await;
    assert_eq!(foreign["structuredContent"]["results"], json!([]));
    let foreign = call_tool(
        &app,
        &their_key,
        "file_outline",
        json!({"repo": id, "path": "billing/tax.py"}),
    )
    .await;
    assert_eq!(foreign["isError"], true);

    // Malformed requests.
    let a = mcp(
        &app,
        None,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = mcp(
        &app,
        Some("sy_not_a_key"),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = mcp(&app, Some(&key), "{not json").await;
    assert_eq!(
        (a.status, a.body["error"]["code"].as_i64()),
        (StatusCode::BAD_REQUEST, Some(-32700))
    );
    let a = mcp(&app, Some(&key), r#"{"id":1,"method":"tools/list"}"#).await;
    assert_eq!(a.body["error"]["code"], -32600);
    let a = mcp(
        &app,
        Some(&key),
        r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
    )
    .await;
    assert_eq!(a.body["error"]["code"], -32600);
    let a = mcp(
        &app,
        Some(&key),
        r#"{"jsonrpc":"2.0","id":1,"method":"resources/list"}"#,
    )
    .await;
    assert_eq!(
        (a.body["id"].as_i64(), a.body["error"]["code"].as_i64()),
        (Some(1), Some(-32601))
    );
    let a = mcp(
        &app,
        Some(&key),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm_rf"}}"#,
    )
    .await;
    assert_eq!(a.body["error"]["code"], -32602);
    let a = mcp(
        &app,
        Some(&key),
        r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
    )
    .await;
    assert_eq!(a.body["result"], json!({}));
    let get = app
        .send(Request::get("/mcp").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    app.finish().await;
}
on_both_backends!(isolation_roles_and_mcp, isolation_roles_and_mcp);

/// `/mcp` and the console accept browser requests only from `PUBLIC_URL`: a DNS-rebound
/// name names itself in `Origin` and `Host` alike, and is refused.
#[tokio::test]
async fn only_the_public_origin_drives_mcp_and_the_console() {
    let app = TestApp::new(Backend::Sqlite).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&owner, "acme").await;
    let (key, _) = app.api_key(&owner, "acme", "viewer").await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}).to_string();
    let send = |origin: &'static str,
                host: &'static str,
                path: &'static str,
                body: String,
                auth: Option<String>| {
        let app = &app;
        async move {
            let mut request = Request::post(path)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json, text/event-stream")
                .header(header::ORIGIN, origin)
                .header(header::HOST, host);
            if let Some(auth) = auth {
                request = request.header(header::AUTHORIZATION, auth);
            }
            app.send(request.body(Body::from(body)).expect("request"))
                .await
        }
    };
    let bearer = Some(format!("Bearer {key}"));
    let rebound = send(
        "http://rebound.example:3000",
        "rebound.example:3000",
        "/mcp",
        initialize.clone(),
        bearer.clone(),
    )
    .await;
    assert_eq!(rebound.status, StatusCode::FORBIDDEN, "{}", rebound.body);
    let console = send(
        "http://127.0.0.1:3000",
        "127.0.0.1:3000",
        "/mcp",
        initialize,
        bearer,
    )
    .await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.body);
    // A state-changing console request from the rebound name, with the session cookie.
    let Auth::Cookie(cookie) = &owner else {
        panic!("cookie auth")
    };
    let request = Request::post("/api/v1/workspaces")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, "http://rebound.example:3000")
        .header(header::HOST, "rebound.example:3000")
        .header(header::COOKIE, cookie)
        .body(Body::from(
            json!({"slug": "rebound", "name": "Rebound"}).to_string(),
        ))
        .expect("request");
    let refused = app.send(request).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    app.finish().await;
}

/// An upload is authorised before its body is read: a stranger's or a viewer's upload that
/// never ends is answered at once (404, 403) instead of being buffered.
#[tokio::test]
async fn an_upload_is_not_read_before_the_role_is_checked() {
    use futures::StreamExt;
    let app = TestApp::new(Backend::Sqlite).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    let (viewer, _) = app.sign_up("viewer@example.com").await;
    let (stranger, _) = app.sign_up("stranger@example.com").await;
    app.create_workspace(&owner, "acme").await;
    app.add_member(&owner, "acme", &viewer, "viewer@example.com", "viewer")
        .await;
    for (auth, expected) in [
        (&stranger, StatusCode::NOT_FOUND),
        (&viewer, StatusCode::FORBIDDEN),
    ] {
        let Auth::Cookie(cookie) = auth else {
            panic!("cookie auth")
        };
        // One chunk, then nothing ever again.
        let endless = futures::stream::once(async {
            Ok::<_, std::io::Error>(bytes::Bytes::from(vec![0x1f; 64 * 1024]))
        })
        .chain(futures::stream::pending());
        let request = Request::post("/api/v1/workspaces/acme/code/repositories/upload?name=x")
            .header(header::COOKIE, cookie)
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/gzip")
            .body(Body::from_stream(endless))
            .expect("request");
        let answer = tokio::time::timeout(Duration::from_secs(10), app.send(request))
            .await
            .expect("answered without reading the body");
        assert_eq!(answer.status, expected, "{}", answer.body);
    }
    app.finish().await;
}

/// Deleting a workspace takes its code off the disk: the index directory, every clone and
/// every upload (its rows go by the database's cascade).
#[tokio::test]
async fn a_deleted_workspace_leaves_no_code_on_disk() {
    let app = app(Backend::Sqlite).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    let ws = app.create_workspace(&owner, "acme").await;
    let repo = Repo::new();
    let cloned = add_repo(&app, &owner, "acme", &repo).await;
    wait_ready(&app, &owner, "acme", &cloned).await;
    let uploaded = upload(
        &app,
        &owner,
        "acme",
        "up",
        tar_gz(&[("lib.py", "def f():\n    return 1\n")]),
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    let uploaded = uploaded.body["id"].as_str().expect("id").to_owned();
    wait_ready(&app, &owner, "acme", &uploaded).await;
    let engine = app.control.code.engine().clone();
    let tenant = ws["id"].as_str().expect("id").to_owned();
    let owned = [
        engine.config().workspace_dir(&tenant),
        engine.checkout_dir(&cloned),
        engine.upload_dir(&uploaded),
    ];
    for dir in &owned {
        assert!(
            dir.is_dir(),
            "{} exists while the workspace does",
            dir.display()
        );
    }
    let deleted = app
        .call(
            Method::DELETE,
            "/api/v1/workspaces/acme?confirm=acme",
            None,
            &owner,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    for dir in &owned {
        assert!(
            !dir.exists(),
            "{} is gone with the workspace",
            dir.display()
        );
    }
    app.finish().await;
}
