//! Test harness: a real store on either backend (a fresh SQLite file, or a fresh PostgreSQL
//! database on `TEST_DATABASE_URL`), and the whole router driven in-process.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use server::auth::ratelimit::AuthLimits;
use server::config::Config;
use server::control::Control;
use server::store::{Backend, Store, StoreOptions};
use sqlx::{Connection, Executor};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use workers::bus::memory::InProcessBus;
use workers::bus::Bus;
use workers::runtime::run_pool;

/// The PostgreSQL server tests use.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database made for one test, dropped by [`TestDb::drop_db`].
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempdir::TempDir>,
}

/// A tiny temporary directory, removed on drop.
pub mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> TempDir {
            let path = std::env::temp_dir()
                .join(format!("switchyard-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path).expect("create temp dir");
            TempDir(path)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestDb {
    /// A fresh, empty database on `backend`.
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempdir::TempDir::new();
                let url = format!("sqlite://{}/test.db", dir.path().display());
                TestDb {
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let name = format!("sy_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::AnyConnection::connect(&admin_url())
                    .await
                    .expect("PostgreSQL at TEST_DATABASE_URL (make test starts one)");
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&admin_url()).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                TestDb {
                    url: url.to_string(),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    /// Connects a store to this database.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url, StoreOptions::default())
            .await
            .expect("store connects and migrates")
    }

    /// Drops the PostgreSQL database (SQLite files go with the temp dir).
    pub async fn drop_db(self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut admin) = sqlx::AnyConnection::connect(&admin_url()).await {
                let _ = admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                let _ = admin.close().await;
            }
        }
    }
}

/// A configuration for tests: generous rate limits unless a test sets its own.
pub fn test_config(database_url: &str) -> Config {
    Config {
        addr: "127.0.0.1:3000".parse().expect("address"),
        data_dir: PathBuf::from("target/test-data"),
        database_url: database_url.to_owned(),
        database_app_role: Some("switchyard_app".to_owned()),
        public_url: url::Url::parse("http://127.0.0.1:3000").expect("url"),
        session_secret: b"test-secret-test-secret-test-secret-!!".to_vec(),
        session_idle_timeout: Duration::from_secs(3600),
        session_lifetime: Duration::from_secs(86_400),
        auth_limits: AuthLimits {
            attempts_per_ip_per_minute: 10_000,
            failed_logins_per_account: 1_000,
            lockout: Duration::from_secs(900),
        },
        invitation_ttl: Duration::from_secs(3600),
        max_body_bytes: 16 * 1024,
        site_root: PathBuf::from("target/no-site"),
        trust_forwarded_for: true,
        oauth_providers: Vec::new(),
        nats_url: None,
        embedded_workers: 0,
        jobs: server::config::JobsConfig {
            lease: Duration::from_secs(3),
            tick: Duration::from_millis(50),
            ..Default::default()
        },
        embedded_indexers: 0,
        embedded_pipeline_workers: 0,
        pipeline_pool: workers::pools::PIPELINES_POOL.to_owned(),
        gateway: server::routes::GatewayConfig {
            addr: "127.0.0.1:0".parse().expect("address"),
            domain: Some("gw.test".to_owned()),
            pool: format!("routes{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            trust_forwarded_for: true,
            cache_for: Duration::from_secs(30),
        },
        embedded_route_workers: 0,
        code: test_code_config(),
        metrics_token: Some("test-metrics-token".to_owned()),
        secrets: Arc::new(server::secrets::cipher::Keyring::from_bytes(&[42; 32])),
        mail: server::mail::MailConfig::new(
            server::mail::Delivery::Outbox(
                std::env::temp_dir().join(format!("sy-outbox-{}", uuid::Uuid::new_v4().simple())),
            ),
            "Switchyard <noreply@localhost>".to_owned(),
        )
        .expect("the outbox settings"),
        verification_ttl: Duration::from_secs(3600),
        password_reset_ttl: Duration::from_secs(600),
    }
}

/// The allowed root of the tests' server paths (and `file://` repositories): a directory of
/// its own under the system temp directory, beside (never around) the index directories.
pub fn repos_root() -> PathBuf {
    let root = std::env::temp_dir().join("sy-repos");
    std::fs::create_dir_all(&root).expect("the repositories' root");
    root
}

/// Code intelligence for tests: a fresh index directory, server paths allowed under
/// [`repos_root`], and the real embedding model when `make model` installed it
/// (`EMBEDDING_MODEL_DIR`, set by `make test`).
pub fn test_code_config() -> server::config::CodeConfig {
    let dir = std::env::temp_dir().join(format!("sy-code-{}", uuid::Uuid::new_v4().simple()));
    let server_paths = server::paths::ServerPaths::new(Some(&repos_root()), &[&dir])
        .expect("the tests' allowed root");
    server::config::CodeConfig {
        dir,
        server_paths,
        max_file_bytes: 1024 * 1024,
        upload_max_bytes: 5 * 1024 * 1024,
        max_files: 100_000,
        embedding: std::env::var("EMBEDDING_MODEL_DIR")
            .ok()
            .filter(|d| !d.is_empty())
            .map(|d| codeintel::embed::EmbeddingConfig::Local(PathBuf::from(d))),
        egress: workers::egress::EgressPolicy::public_https(),
        git_limits: server::config::GitLimits {
            timeout: Duration::from_secs(60),
            max_bytes: 100 * 1024 * 1024,
            max_files: 100_000,
        },
    }
}

/// How a test request authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Cookie(String),
    Bearer(String),
}

/// The router over a real store.
pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub control: Arc<Control>,
    db: TestDb,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
}

/// The `token` of the link to `path` in a mail body.
pub fn link_token(body: &str, path: &str) -> String {
    let line = body
        .lines()
        .find(|l| l.contains(path) && l.contains("token="))
        .unwrap_or_else(|| panic!("no link to {path} in {body:?}"));
    let url = url::Url::parse(line.trim()).expect("the link is a URL");
    url.query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .expect("a token")
}

/// An answer: status, headers and the JSON body (`Null` when empty or not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The session cookie (`sy_session=...`) this answer sets.
    pub fn cookie(&self) -> String {
        let set = self
            .headers
            .get(header::SET_COOKIE)
            .expect("a Set-Cookie header")
            .to_str()
            .expect("ascii");
        set.split(';').next().expect("cookie pair").to_owned()
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        Self::with_config(backend, |_| {}).await
    }

    pub async fn with_config(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let mut config = test_config(&db.url);
        adjust(&mut config);
        let bus: Arc<dyn Bus> = Arc::new(InProcessBus::new());
        let control = server::control_plane(store.clone(), config, bus);
        TestApp {
            router: server::http::router(control.clone()),
            store,
            control,
            db,
            tasks: Vec::new(),
            stop: None,
        }
    }

    /// Starts the job service and `slots` worker slots of `pool` (none for 0),
    /// on `bus`.
    pub async fn with_jobs(backend: Backend, bus: Arc<dyn Bus>, pool: &str, slots: u32) -> TestApp {
        Self::with_jobs_and_config(backend, bus, pool, slots, |_| {}).await
    }

    /// [`TestApp::with_jobs`] with the configuration changed by `adjust`.
    pub async fn with_jobs_and_config(
        backend: Backend,
        bus: Arc<dyn Bus>,
        pool: &str,
        slots: u32,
        adjust: impl FnOnce(&mut Config),
    ) -> TestApp {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let mut config = test_config(&db.url);
        adjust(&mut config);
        // Tests share one NATS server: each control plane answers in its own group, and
        // stays silent about jobs its store does not know (they are another test's). An
        // in-process bus is the test's own: its embedded workers claim their pool's jobs
        // themselves, as `switchyard serve`'s do by default, unless `adjust` says the bus
        // is shared (then they take tickets over the bus, as workers on NATS do).
        config.jobs.shared_bus |= bus.is_durable();
        config.jobs.pools.push(pool.to_owned());
        config.jobs.pools.push(config.gateway.pool.clone());
        config.jobs.group = format!("cp-{}", uuid::Uuid::new_v4().simple());
        let control = server::control_plane(store.clone(), config, bus.clone());
        let mut tasks = control
            .jobs
            .engine()
            .start()
            .await
            .expect("job service starts");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        if slots > 0 {
            let mut worker = server::embedded_worker(&control, pool, slots);
            worker.presence_every = Duration::from_millis(200);
            tasks.push(tokio::spawn(async move {
                let _ = run_pool(bus, worker, stopped).await;
            }));
        }
        TestApp {
            router: server::http::router(control.clone()),
            store,
            control,
            db,
            tasks,
            stop: Some(stop),
        }
    }

    /// Rebuilds the control plane and router over the same store with the configuration
    /// changed by `adjust` (for settings naming what a test creates first, like a workspace
    /// id). Background jobs are not started again.
    pub fn reconfigure(&mut self, adjust: impl FnOnce(&mut Config)) {
        let mut config = self.control.config().clone();
        adjust(&mut config);
        let bus = self.control.jobs.engine().bus();
        self.control = server::control_plane(self.store.clone(), config, bus);
        self.router = server::http::router(self.control.clone());
    }

    /// Stops the job service's loops and the worker pool, as if the process died.
    pub fn stop_background(&mut self) {
        if let Some(stop) = &self.stop {
            let _ = stop.send(true);
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }

    /// The URL of this app's database (for processes and direct connections).
    pub fn db_url(&self) -> String {
        self.db.url.clone()
    }

    pub async fn finish(self) {
        if let Some(stop) = &self.stop {
            let _ = stop.send(true);
        }
        for t in &self.tasks {
            t.abort();
        }
        self.store.close().await;
        self.db.drop_db().await;
    }

    /// Sends a request with a JSON body (if any).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        auth: &Auth,
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("x-forwarded-for", "10.1.1.1");
        builder = match auth {
            Auth::None => builder,
            // As a browser on the console would: the session cookie and the console's Origin.
            Auth::Cookie(c) => builder
                .header(header::COOKIE, c)
                .header(header::ORIGIN, "http://127.0.0.1:3000"),
            Auth::Bearer(k) => builder.header(header::AUTHORIZATION, format!("Bearer {k}")),
        };
        let request = match body {
            Some(b) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request");
        self.send(request).await
    }

    /// Sends a prepared request.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Sends a prepared request and answers the status, headers and raw body bytes.
    pub async fn send_raw(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, bytes.to_vec())
    }

    /// GETs `path` and answers the status and the body as text.
    pub async fn text(&self, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(Body::empty()).expect("request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Signs up `email` and follows the verification link mailed to it; answers the
    /// session cookie and user id.
    pub async fn sign_up(&self, email: &str) -> (Auth, String) {
        let a = self
            .call(
                Method::POST,
                "/api/v1/auth/signup",
                Some(serde_json::json!({"email": email, "password": "correct horse battery", "name": email.split('@').next().unwrap_or("someone")})),
                &Auth::None,
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::ACCEPTED,
            "sign-up of {email}: {}",
            a.body
        );
        let mail = self.mail_to(email, "Confirm your e-mail address").await;
        let token = link_token(&mail.body, "/verify-email");
        let v = self
            .call(
                Method::POST,
                "/api/v1/auth/verify-email",
                Some(serde_json::json!({ "token": token, "password": "correct horse battery" })),
                &Auth::None,
            )
            .await;
        assert_eq!(
            v.status,
            StatusCode::OK,
            "verification of {email}: {}",
            v.body
        );
        let id = v.body["user"]["id"].as_str().expect("user id").to_owned();
        (Auth::Cookie(v.cookie()), id)
    }

    /// The outbox directory this app's mail goes to.
    pub fn outbox(&self) -> PathBuf {
        match &self.control.config().mail.delivery {
            server::mail::Delivery::Outbox(dir) => dir.clone(),
            server::mail::Delivery::Smtp(_) => panic!("the test app mails to an outbox"),
        }
    }

    /// Every message in the outbox to `to`, oldest first.
    pub fn mails(&self, to: &str) -> Vec<server::mail::Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.outbox())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| server::mail::outbox::parse(&t))
            .filter(|m| m.to == to)
            .collect()
    }

    /// The newest message to `to` whose subject starts with `subject`, waiting up to 10 s for
    /// it (mail is sent in the background).
    pub async fn mail_to(&self, to: &str, subject: &str) -> server::mail::Mail {
        for _ in 0..200 {
            if let Some(m) = self
                .mails(to)
                .into_iter()
                .rev()
                .find(|m| m.subject.starts_with(subject))
            {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no mail {subject:?} to {to}; the outbox has {:?}",
            self.mails(to)
        );
    }

    /// Creates a workspace as `owner`.
    /// `PUT`s the secret `name` of workspace `slug`; answers the response.
    pub async fn set_secret(&self, auth: &Auth, slug: &str, name: &str, value: &str) -> Answer {
        self.call(
            Method::PUT,
            &format!("/api/v1/workspaces/{slug}/secrets/{name}"),
            Some(serde_json::json!({ "value": value })),
            auth,
        )
        .await
    }

    pub async fn create_workspace(&self, owner: &Auth, slug: &str) -> Value {
        let a = self
            .call(
                Method::POST,
                "/api/v1/workspaces",
                Some(serde_json::json!({"slug": slug, "name": format!("{slug} team")})),
                owner,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "create {slug}: {}", a.body);
        a.body
    }

    /// Adds `member` to the workspace with `role` through an invitation.
    pub async fn add_member(
        &self,
        owner: &Auth,
        slug: &str,
        member: &Auth,
        email: &str,
        role: &str,
    ) {
        let inv = self
            .call(
                Method::POST,
                &format!("/api/v1/workspaces/{slug}/invitations"),
                Some(serde_json::json!({"email": email, "role": role})),
                owner,
            )
            .await;
        assert_eq!(inv.status, StatusCode::CREATED, "invite: {}", inv.body);
        let token = inv.body["token"].as_str().expect("token");
        let acc = self
            .call(
                Method::POST,
                &format!("/api/v1/invitations/{token}/accept"),
                None,
                member,
            )
            .await;
        assert_eq!(acc.status, StatusCode::OK, "accept: {}", acc.body);
    }

    /// Creates an API key with `role` and answers its secret and id.
    pub async fn api_key(&self, owner: &Auth, slug: &str, role: &str) -> (String, String) {
        let a = self
            .call(
                Method::POST,
                &format!("/api/v1/workspaces/{slug}/api-keys"),
                Some(serde_json::json!({"name": format!("{role} key"), "role": role})),
                owner,
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "api key: {}", a.body);
        (
            a.body["key"].as_str().expect("key").to_owned(),
            a.body["id"].as_str().expect("id").to_owned(),
        )
    }
}

/// Runs an async test body on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                $body(server::store::Backend::Sqlite).await;
            }
            #[tokio::test]
            async fn postgres() {
                $body(server::store::Backend::Postgres).await;
            }
        }
    };
}

/// A loopback HTTP server answering with each of `statuses` in turn (the last one for ever),
/// counting requests: the side effect a pipeline's HTTP node has, to prove a node ran once.
/// Its JSON body is `{"hit": n}`.
pub async fn counting_server(statuses: Vec<u16>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let status = statuses.get(n).or(statuses.last()).copied().unwrap_or(200);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
                let body = format!("{{\"hit\": {}}}", n + 1);
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tokio::io::AsyncWriteExt::write_all(&mut socket, answer.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), hits)
}
