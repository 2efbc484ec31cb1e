//! The egress guard around git: a repository served over plain HTTP on loopback (git's
//! smart protocol, by `git http-backend`) is refused by the default rule, fetched when
//! the operator allows exactly that address and http, and never followed through a
//! redirect; a name is checked by the addresses it resolves to; a checkout is bounded in
//! bytes; git runs without the server's configuration. Loopback only: no test connects
//! anywhere else. The guard does not touch the store, so one backend is enough.

use crate::code::{git, wait_ready, write, Repo};
use crate::common::{Auth, TestApp};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Value};
use server::code::git::{Git, GitError, GitLimits, Remote};
use server::store::Backend;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use workers::bus::memory::InProcessBus;
use workers::egress::EgressPolicy;

/// Answers 401 unless the request carries the expected `Authorization` header.
async fn require_authorization(
    State(expected): State<Option<String>>,
    request: Request,
    next: Next,
) -> Response {
    let sent = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match &expected {
        Some(expected) if sent != Some(expected.as_str()) => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"git\"")],
        )
            .into_response(),
        _ => next.run(request).await,
    }
}

/// Git's smart HTTP protocol, as hosts speak it: `git http-backend` run as a CGI program
/// over the repositories under `root`.
async fn git_http_backend(State(root): State<PathBuf>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 64 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut command = tokio::process::Command::new("git");
    command
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", &root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or_default())
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("CONTENT_TYPE", header_text(header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env(
            "HTTP_GIT_PROTOCOL",
            header_text(header::HeaderName::from_static("git-protocol")),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().expect("git http-backend runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let feed = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let _ = stdin.write_all(&body).await;
    });
    let output = child
        .wait_with_output()
        .await
        .expect("git http-backend ends");
    let _ = feed.await;
    // CGI: header lines, a blank line, the body.
    let out = output.stdout;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            out.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        })
        .unwrap_or((out.len(), out.len()));
    let mut response = Response::builder();
    for line in String::from_utf8_lossy(&out[..split.0]).lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("status") {
                let code = value.trim().split(' ').next().unwrap_or("200");
                response = response.status(code.parse::<u16>().unwrap_or(200));
            } else {
                response = response.header(name.trim(), value.trim());
            }
        }
    }
    response
        .body(axum::body::Body::from(out[split.1..].to_vec()))
        .expect("response")
}

/// Serves the bare repository `x.git` under `root` over smart HTTP and redirects
/// `/moved.git/...` to it; with `authorization`, only to requests that carry that header.
async fn serve_git_http(
    root: &Path,
    authorization: Option<String>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = axum::Router::new()
        .route(
            "/moved.git/{*rest}",
            axum::routing::get(|UrlPath(rest): UrlPath<String>| async move {
                Redirect::temporary(&format!("/x.git/{rest}"))
            }),
        )
        .fallback(git_http_backend)
        .with_state(root.to_path_buf())
        .layer(axum::middleware::from_fn_with_state(
            authorization,
            require_authorization,
        ));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (addr, task)
}

/// A directory holding a bare copy of `repo` as `x.git`.
fn bare_copy(repo: &Repo) -> PathBuf {
    let root = repo.0.with_extension("served");
    std::fs::create_dir_all(&root).expect("mkdir");
    git(
        &root,
        &[
            "clone",
            "-q",
            "--bare",
            repo.0.to_str().expect("utf-8"),
            "x.git",
        ],
    );
    root
}

async fn app_with(backend: Backend, egress: EgressPolicy) -> TestApp {
    let bus: Arc<dyn workers::bus::Bus> = Arc::new(InProcessBus::new());
    TestApp::with_jobs_and_config(backend, bus, "indexer", 1, move |c| c.code.egress = egress).await
}

async fn register(app: &TestApp, owner: &Auth, url: &str) -> (StatusCode, Value) {
    let a = app
        .call(
            Method::POST,
            "/api/v1/workspaces/acme/code/repositories",
            Some(json!({"url": url})),
            owner,
        )
        .await;
    (a.status, a.body)
}

/// Polls a repository until its index run fails; answers its error.
async fn wait_failed(app: &TestApp, owner: &Auth, id: &str) -> String {
    let path = format!("/api/v1/workspaces/acme/code/repositories/{id}");
    for _ in 0..600 {
        let a = app.call(Method::GET, &path, None, owner).await;
        match a.body["status"].as_str() {
            Some("failed") => return a.body["error"].as_str().expect("error").to_owned(),
            Some("ready") => panic!("the run should have failed: {}", a.body),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("{path} never failed");
}

#[tokio::test]
async fn git_reaches_only_what_the_egress_rule_allows() {
    let repo = Repo::new();
    let bare = bare_copy(&repo);
    let (addr, server) = serve_git_http(&bare, None).await;
    let port = addr.port();

    // The default rule: https to public addresses only.
    let app = app_with(Backend::Sqlite, EgressPolicy::public_https()).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&owner, "acme").await;
    for (url, message) in [
        (format!("http://127.0.0.1:{port}/x.git"), "url must be an https:// URL".to_owned()),
        (
            format!("https://127.0.0.1:{port}/x.git"),
            "url reaches 127.0.0.1, which is a loopback address; Switchyard connects only to public addresses unless the operator allows more with EGRESS_ALLOW".to_owned(),
        ),
        (
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "url reaches 169.254.169.254, which is a cloud metadata address; Switchyard connects only to public addresses unless the operator allows more with EGRESS_ALLOW".to_owned(),
        ),
        (
            format!("https://x-access-token:secret@127.0.0.1:{port}/x.git"),
            "url must not carry a user name or password; store the credential as a workspace secret and name it in `credential`".to_owned(),
        ),
    ] {
        let (status, body) = register(&app, &owner, &url).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert_eq!(body["error"]["field"], "url", "{url}: {body}");
        assert_eq!(body["error"]["message"], message, "{url}: {body}");
    }
    // A name passes registration (it may resolve elsewhere later) and is refused when
    // fetched, by the address it resolves to.
    let (status, body) = register(&app, &owner, &format!("https://localhost:{port}/x.git")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let error = wait_failed(&app, &owner, body["id"].as_str().expect("id")).await;
    assert_eq!(
        error,
        "the repository URL reaches localhost, which is a loopback address; Switchyard connects only to public addresses unless the operator allows more with EGRESS_ALLOW"
    );
    app.finish().await;

    // The operator allows this one address and port, over http.
    let allowed = EgressPolicy::new(&format!("127.0.0.1:{port}"), true).expect("policy");
    let app = app_with(Backend::Sqlite, allowed).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&owner, "acme").await;
    let (status, body) = register(&app, &owner, &format!("http://127.0.0.1:{port}/x.git")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ready = wait_ready(&app, &owner, "acme", body["id"].as_str().expect("id")).await;
    assert_eq!(ready["commit"], repo.head().as_str(), "{ready}");
    assert_eq!(ready["files_indexed"], 3, "{ready}");

    // A redirect, even to the same allowed server, is not followed; git's output stays in
    // the server's log.
    let (status, body) =
        register(&app, &owner, &format!("http://127.0.0.1:{port}/moved.git")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let error = wait_failed(&app, &owner, body["id"].as_str().expect("id")).await;
    assert_eq!(error, GitError::Redirected.to_string());

    // Another port of the same address is not allowed.
    let (status, body) = register(
        &app,
        &owner,
        &format!("http://127.0.0.1:{}/x.git", port + 1),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    app.finish().await;
    server.abort();
    let _ = std::fs::remove_dir_all(&bare);
}

#[tokio::test]
async fn a_private_repository_clones_with_its_workspace_secret() {
    let repo = Repo::new();
    let bare = bare_copy(&repo);
    // HTTP basic authentication as GitHub takes a token: user x-access-token.
    let expected = "Basic eC1hY2Nlc3MtdG9rZW46Z2hwX3MzY3JldA=="; // x-access-token:ghp_s3cret
    let (addr, server) = serve_git_http(&bare, Some(expected.to_owned())).await;
    let url = format!("http://127.0.0.1:{}/x.git", addr.port());
    let allowed = EgressPolicy::new(&format!("127.0.0.1:{}", addr.port()), true).expect("policy");
    let app = app_with(Backend::Sqlite, allowed).await;
    let (owner, _) = app.sign_up("owner@example.com").await;
    app.create_workspace(&owner, "acme").await;
    let add = |body: Value| {
        let (app, owner) = (&app, &owner);
        async move {
            app.call(
                Method::POST,
                "/api/v1/workspaces/acme/code/repositories",
                Some(body),
                owner,
            )
            .await
        }
    };

    // A credential must name a secret the workspace has.
    let a = add(json!({"url": url, "credential": "GIT_TOKEN"})).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(a.body["error"]["field"], "credential");
    assert_eq!(
        a.body["error"]["message"],
        "the workspace has no secret named GIT_TOKEN; add it under Secrets first"
    );
    let a = add(json!({"url": url, "credential": "git token"})).await;
    assert_eq!(a.body["error"]["field"], "credential", "{}", a.body);
    let local = format!("file://{}", repo.0.display());
    let a = add(json!({"url": local, "credential": "GIT_TOKEN"})).await;
    assert_eq!(a.body["error"]["field"], "credential", "{}", a.body);

    // Without it the host refuses; the failure says so in our words.
    let a = add(json!({"url": url})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let error = wait_failed(&app, &owner, a.body["id"].as_str().expect("id")).await;
    assert_eq!(error, GitError::Unauthorized.to_string());

    // With it the clone succeeds; the view names the secret, never its value.
    let set = app
        .set_secret(&owner, "acme", "GIT_TOKEN", "ghp_s3cret")
        .await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
    let a =
        add(json!({"url": format!("{url}/"), "credential": "GIT_TOKEN", "name": "private"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["id"].as_str().expect("id").to_owned();
    let ready = wait_ready(&app, &owner, "acme", &id).await;
    assert_eq!(ready["credential"], "GIT_TOKEN");
    assert_eq!(ready["commit"], repo.head().as_str());
    assert!(!ready.to_string().contains("ghp_s3cret"), "{ready}");
    // Nor does the job that ran it show the value.
    let job = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/workspaces/acme/jobs/{}",
                ready["job_id"].as_str().expect("job id")
            ),
            None,
            &owner,
        )
        .await;
    assert_eq!(job.status, StatusCode::OK, "{}", job.body);
    assert!(!job.body.to_string().contains("ghp_s3cret"), "{}", job.body);
    let logs = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/workspaces/acme/jobs/{}/logs",
                ready["job_id"].as_str().expect("job id")
            ),
            None,
            &owner,
        )
        .await;
    assert!(
        !logs.body.to_string().contains("ghp_s3cret"),
        "{}",
        logs.body
    );
    app.finish().await;
    server.abort();
    let _ = std::fs::remove_dir_all(&bare);
}

#[tokio::test]
async fn a_checkout_is_bounded_in_bytes() {
    let repo = Repo::new();
    // 300 kB that do not compress.
    let noise: String = (0..300_000u32)
        .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
        .collect();
    write(&repo.0, "data/noise.txt", &noise);
    git(&repo.0, &["add", "-A"]);
    git(&repo.0, &["commit", "-q", "-m", "noise"]);
    let home = tempdir("home");
    let target = tempdir("checkout").join("repo");
    let remote = Remote::Local(repo.0.canonicalize().expect("repo"));
    let small = limits(100_000);
    let refused = Git::new(&remote, None, &home, small)
        .checkout(None, &target)
        .await;
    assert_eq!(refused, Err(GitError::TooLarge { limit: 100_000 }));
    assert!(!target.exists(), "a refused clone leaves nothing behind");
    let enough = limits(10_000_000);
    let commit = Git::new(&remote, None, &home, enough)
        .checkout(None, &target)
        .await
        .expect("clone");
    assert_eq!(commit, repo.head());
    assert_eq!(
        std::fs::read_to_string(target.join("data/noise.txt")).expect("file"),
        noise
    );
    let _ = std::fs::remove_dir_all(target.parent().expect("parent"));
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn a_missing_branch_is_said_in_our_words() {
    let repo = Repo::new();
    let home = tempdir("home");
    let target = tempdir("checkout").join("repo");
    let remote = Remote::Local(repo.0.canonicalize().expect("repo"));
    let limits = limits(10_000_000);
    let refused = Git::new(&remote, None, &home, limits)
        .checkout(Some("no-such-branch"), &target)
        .await;
    assert_eq!(refused, Err(GitError::NoSuchBranch));
    let _ = std::fs::remove_dir_all(target.parent().expect("parent"));
    let _ = std::fs::remove_dir_all(&home);
}

#[tokio::test]
async fn a_checkout_is_bounded_in_entries() {
    let repo = Repo::new();
    for i in 0..300 {
        write(&repo.0, &format!("many/f{i}.txt"), "x\n");
    }
    git(&repo.0, &["add", "-A"]);
    git(&repo.0, &["commit", "-q", "-m", "many"]);
    let home = tempdir("home");
    let target = tempdir("checkout").join("repo");
    let remote = Remote::Local(repo.0.canonicalize().expect("repo"));
    let few = GitLimits {
        max_files: 200,
        ..limits(10_000_000)
    };
    let refused = Git::new(&remote, None, &home, few)
        .checkout(None, &target)
        .await;
    assert_eq!(refused, Err(GitError::TooManyFiles { limit: 200 }));
    assert!(!target.exists(), "a refused clone leaves nothing behind");
    let _ = std::fs::remove_dir_all(target.parent().expect("parent"));
    let _ = std::fs::remove_dir_all(&home);
}

/// A minute and `max_bytes`.
fn limits(max_bytes: u64) -> GitLimits {
    GitLimits {
        timeout: Duration::from_secs(60),
        max_bytes,
        max_files: 100_000,
    }
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sy-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}
