//! Server configuration, read once from the environment at start. Every variable is listed
//! in README.md with its default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::auth::oauth::{Provider, ProviderKind};
use crate::auth::ratelimit::AuthLimits;
use crate::mail::{Delivery, MailConfig};
use crate::paths::ServerPaths;
use crate::secrets::cipher::Keyring;
use codeintel::embed::EmbeddingConfig;
use shared::jobs::RetryPolicy;
use std::sync::Arc;
use workers::egress::EgressPolicy;

/// Everything the server is told by its operator.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    /// Directory for the embedded default's files (SQLite database, session secret).
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// PostgreSQL role to act as so row-level security applies; empty keeps the login role.
    pub database_app_role: Option<String>,
    /// The console's public origin, e.g. `https://switchyard.example.com`.
    pub public_url: url::Url,
    /// Secret that signs session tokens (at least 32 bytes).
    pub session_secret: Vec<u8>,
    /// A session unused this long ends.
    pub session_idle_timeout: Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_lifetime: Duration,
    /// Login and sign-up rate limits.
    pub auth_limits: AuthLimits,
    /// How long an invitation link works.
    pub invitation_ttl: Duration,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Directory with the console's compiled assets (`pkg/`), produced by cargo-leptos.
    pub site_root: PathBuf,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    /// OAuth2 login providers (GitHub preset and/or one generic provider).
    pub oauth_providers: Vec<Provider>,
    /// NATS server (with JetStream) for the bus; `None` runs the in-process bus.
    pub nats_url: Option<String>,
    /// Slots of the `default` worker pool run inside the server (0: none).
    pub embedded_workers: u32,
    /// How jobs are leased, retried and admitted.
    pub jobs: JobsConfig,
    /// Slots of the `indexer` pool run inside the server (0: none).
    pub embedded_indexers: u32,
    /// Slots of the pipelines pool run inside the server (0: none): pipeline runs at once.
    pub embedded_pipeline_workers: u32,
    /// The pool pipeline runs go to (`PIPELINE_POOL`, default `pipelines`).
    pub pipeline_pool: String,
    /// The tenant gateway: its listener, domain and the pool its script handlers run on.
    pub gateway: crate::routes::GatewayConfig,
    /// Script handlers the embedded route workers run at once (`EMBEDDED_ROUTE_WORKERS`,
    /// default 8; 0 when separate `switchyard worker --pool routes` processes serve them).
    pub embedded_route_workers: u32,
    /// Code intelligence: index location, allowed server paths, the embedding model.
    pub code: CodeConfig,
    /// The bearer token `/metrics` asks for (`METRICS_TOKEN`); `None` keeps it closed.
    pub metrics_token: Option<String>,
    /// The keys workspace secrets are sealed with (`SECRETS_KEY`, `SECRETS_KEY_PREVIOUS`,
    /// or `DATA_DIR/secrets.key`).
    pub secrets: Arc<Keyring>,
    /// Where account mail goes (`SMTP_URL`, else the outbox under the data dir) and its
    /// sender (`MAIL_FROM`).
    pub mail: crate::mail::MailConfig,
    /// How long an e-mail verification link works (`EMAIL_VERIFICATION_TTL_HOURS`).
    pub verification_ttl: Duration,
    /// How long a password reset link works (`PASSWORD_RESET_TTL_MINUTES`).
    pub password_reset_ttl: Duration,
}

/// A configuration variable has a value we cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    var: &'static str,
    message: String,
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e: T::Err| ConfigError {
            var: name,
            message: format!("{raw:?} is not valid: {e}"),
        }),
    }
}

impl Config {
    /// Reads the configuration from the environment, creating the data directory and the
    /// session secret file when the embedded default needs them.
    pub fn from_env() -> Result<Config, ConfigError> {
        let addr_default: SocketAddr = var("LEPTOS_SITE_ADDR")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        let addr = parsed("SWITCHYARD_ADDR", addr_default)?;
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/switchyard.db", data_dir.display()));
        let database_app_role = match std::env::var("DATABASE_APP_ROLE") {
            Ok(v) if v.trim().is_empty() => None,
            Ok(v) => Some(v.trim().to_owned()),
            Err(_) => Some("switchyard_app".to_owned()),
        };
        let public_url_raw = var("PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        let public_url = url::Url::parse(&public_url_raw).map_err(|e| ConfigError {
            var: "PUBLIC_URL",
            message: format!("{public_url_raw:?} is not a URL: {e}"),
        })?;
        let session_secret = match var("SESSION_SECRET") {
            Some(s) if s.len() >= 32 => s.into_bytes(),
            Some(_) => {
                return Err(ConfigError {
                    var: "SESSION_SECRET",
                    message: "must be at least 32 characters".to_owned(),
                })
            }
            None => load_or_create_secret(&data_dir)?,
        };
        let code = CodeConfig::from_env(&data_dir).map_err(|message| ConfigError {
            var: "CODE_*",
            message,
        })?;
        let secrets = Arc::new(load_keyring(&data_dir).map_err(|message| ConfigError {
            var: "SECRETS_KEY",
            message,
        })?);
        let mail = mail_from_env(&data_dir, &public_url)?;
        let trust_forwarded_for = parsed("TRUST_FORWARDED_FOR", false)?;
        let gateway = crate::routes::GatewayConfig {
            addr: parsed("GATEWAY_ADDR", SocketAddr::from(([127, 0, 0, 1], 3080)))?,
            domain: var("GATEWAY_DOMAIN")
                .map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|d| !d.is_empty()),
            pool: pool_from_env("ROUTE_POOL", workers::routes::POOL)?,
            trust_forwarded_for,
            cache_for: Duration::from_secs(parsed("GATEWAY_CACHE_SECS", 30u64)?.max(1)),
        };
        let site_root = PathBuf::from(
            var("SITE_ROOT")
                .or_else(|| var("LEPTOS_SITE_ROOT"))
                .unwrap_or_else(|| "target/site".to_owned()),
        );
        Ok(Config {
            addr,
            data_dir,
            database_url,
            database_app_role,
            public_url,
            session_secret,
            session_idle_timeout: Duration::from_secs(parsed("SESSION_IDLE_TIMEOUT_SECS", 86_400)?),
            session_lifetime: Duration::from_secs(parsed("SESSION_LIFETIME_SECS", 14 * 86_400)?),
            auth_limits: AuthLimits {
                attempts_per_ip_per_minute: parsed("AUTH_ATTEMPTS_PER_IP_PER_MINUTE", 10)?,
                failed_logins_per_account: parsed("AUTH_FAILED_LOGINS_PER_ACCOUNT", 5)?,
                lockout: Duration::from_secs(parsed("AUTH_LOCKOUT_SECS", 900)?),
            },
            invitation_ttl: Duration::from_secs(parsed("INVITATION_TTL_HOURS", 72u64)? * 3600),
            max_body_bytes: parsed("MAX_BODY_BYTES", 1024 * 1024)?,
            site_root,
            trust_forwarded_for,
            oauth_providers: oauth_providers_from_env()?,
            nats_url: var("NATS_URL"),
            embedded_workers: parsed("EMBEDDED_WORKERS", 4)?,
            embedded_indexers: parsed("EMBEDDED_INDEXERS", 1)?,
            embedded_pipeline_workers: parsed("EMBEDDED_PIPELINE_WORKERS", 8)?,
            pipeline_pool: pool_from_env("PIPELINE_POOL", workers::pools::PIPELINES_POOL)?,
            gateway,
            embedded_route_workers: parsed("EMBEDDED_ROUTE_WORKERS", 8)?,
            code,
            metrics_token: var("METRICS_TOKEN"),
            secrets,
            mail,
            verification_ttl: Duration::from_secs(
                parsed("EMAIL_VERIFICATION_TTL_HOURS", 24u64)? * 3600,
            ),
            password_reset_ttl: Duration::from_secs(
                parsed("PASSWORD_RESET_TTL_MINUTES", 60u64)? * 60,
            ),
            jobs: JobsConfig {
                lease: Duration::from_secs(parsed("JOB_LEASE_SECS", 30u64)?.max(10)),
                group: var("CONTROL_PLANE_GROUP")
                    .unwrap_or_else(|| "switchyard-control-plane".to_owned()),
                private_pools: private_pools_from_env()?,
                pools: var("WORKER_POOLS")
                    .unwrap_or_else(|| {
                        format!(
                            "{},{},{},{}",
                            workers::pools::DEFAULT_POOL,
                            workers::pools::INDEXER_POOL,
                            workers::pools::PIPELINES_POOL,
                            workers::routes::POOL
                        )
                    })
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect(),
                pool_capacity: parsed("POOL_CAPACITY", 10_000)?,
                workspace_queue_share: parsed("WORKSPACE_QUEUE_SHARE_PERCENT", 10u64)?
                    .clamp(1, 100),
                shared_bus: parsed("SHARED_NATS", false)?,
                tenant_concurrency: parsed("WORKSPACE_JOB_CONCURRENCY", 20)?,
                journal_async_commit: match var("JOURNAL_COMMIT").as_deref() {
                    None | Some("durable") => false,
                    Some("async") => true,
                    Some(other) => {
                        return Err(ConfigError {
                            var: "JOURNAL_COMMIT",
                            message: format!("{other:?} is neither durable nor async"),
                        })
                    }
                },
                ..Default::default()
            },
        })
    }

    /// Whether cookies must carry `Secure` (the console is served over https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The console's origin (`scheme://host[:port]`), for CSRF checks.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

/// The mail settings: SMTP when `SMTP_URL` is set (checked now, so a typo stops the start
/// rather than the first sign-up), else the outbox `DATA_DIR/outbox`.
fn mail_from_env(data_dir: &Path, public_url: &url::Url) -> Result<MailConfig, ConfigError> {
    let delivery = match var("SMTP_URL") {
        Some(url) => Delivery::Smtp(url),
        None => Delivery::Outbox(data_dir.join("outbox")),
    };
    // An address literal is no mail domain; a local instance sends as `localhost`.
    let host = match public_url.host() {
        Some(url::Host::Domain(d)) => d,
        _ => "localhost",
    };
    let from = var("MAIL_FROM").unwrap_or_else(|| format!("Switchyard <noreply@{host}>"));
    MailConfig::new(delivery, from).map_err(|e| ConfigError {
        var: match e {
            crate::mail::MailError::Address(_) => "MAIL_FROM",
            _ => "SMTP_URL",
        },
        message: e.to_string(),
    })
}

/// `PRIVATE_POOLS`: `pool=workspace-id,...`. Ids, not slugs: a slug can be taken again by a
/// new workspace once its owner deletes the old one.
fn private_pools_from_env() -> Result<std::collections::BTreeMap<String, String>, ConfigError> {
    let mut pools = std::collections::BTreeMap::new();
    for pair in var("PRIVATE_POOLS").unwrap_or_default().split(',') {
        if pair.trim().is_empty() {
            continue;
        }
        let bad = |message: String| ConfigError {
            var: "PRIVATE_POOLS",
            message,
        };
        let (pool, id) = pair
            .split_once('=')
            .ok_or_else(|| bad(format!("{pair:?} is not pool=workspace-id")))?;
        let id: shared::ids::TenantId = id.trim().parse().map_err(|_| {
            bad(format!(
                "{:?} is not a workspace id (the `id` of GET /api/v1/workspaces/{{slug}}; slugs are not accepted)",
                id.trim()
            ))
        })?;
        pools.insert(pool.trim().to_owned(), id.to_string());
    }
    Ok(pools)
}

fn required(name: &'static str, because: &str) -> Result<String, ConfigError> {
    var(name).ok_or_else(|| ConfigError {
        var: name,
        message: format!("is required when {because} is set"),
    })
}

/// The GitHub preset (`OAUTH_GITHUB_*`) and the generic provider (`OAUTH_GENERIC_*`), each
/// enabled by its client id.
fn oauth_providers_from_env() -> Result<Vec<Provider>, ConfigError> {
    let mut providers = Vec::new();
    if let Some(id) = var("OAUTH_GITHUB_CLIENT_ID") {
        let secret = required("OAUTH_GITHUB_CLIENT_SECRET", "OAUTH_GITHUB_CLIENT_ID")?;
        providers.push(Provider::github(id, secret));
    }
    if let Some(client_id) = var("OAUTH_GENERIC_CLIENT_ID") {
        let because = "OAUTH_GENERIC_CLIENT_ID";
        let id = var("OAUTH_GENERIC_ID").unwrap_or_else(|| "sso".to_owned());
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ConfigError {
                var: "OAUTH_GENERIC_ID",
                message: "may contain only lowercase letters, digits and hyphens".to_owned(),
            });
        }
        providers.push(Provider {
            id,
            display_name: var("OAUTH_GENERIC_NAME").unwrap_or_else(|| "Single sign-on".to_owned()),
            kind: ProviderKind::Generic,
            client_id,
            client_secret: required("OAUTH_GENERIC_CLIENT_SECRET", because)?,
            authorize_url: required("OAUTH_GENERIC_AUTHORIZE_URL", because)?,
            token_url: required("OAUTH_GENERIC_TOKEN_URL", because)?,
            userinfo_url: required("OAUTH_GENERIC_USERINFO_URL", because)?,
            scopes: var("OAUTH_GENERIC_SCOPES")
                .unwrap_or_else(|| "openid email profile".to_owned())
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        });
    }
    Ok(providers)
}

/// Reads `DATA_DIR/session.secret`, or creates it with 48 random bytes (mode 0600).
fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>, ConfigError> {
    let path = data_dir.join("session.secret");
    let err = |message: String| ConfigError {
        var: "SESSION_SECRET",
        message,
    };
    if let Ok(existing) = std::fs::read(&path) {
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| err(format!("cannot create {}: {e}", data_dir.display())))?;
    let secret = crate::auth::secrets::random_token(48).into_bytes();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        // Readable by the server's user only, from the moment it exists.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = |options: &std::fs::OpenOptions| -> std::io::Result<()> {
        use std::io::Write;
        options.open(&path)?.write_all(&secret)
    };
    write(&options).map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
    Ok(secret)
}

/// How the control plane runs jobs.
#[derive(Clone, Debug)]
pub struct JobsConfig {
    /// A running attempt's lease; workers heartbeat at a third of it.
    pub lease: Duration,
    /// Retries of failed attempts.
    pub retry: RetryPolicy,
    /// Open jobs (queued + running) per pool at full capacity; above 80% submissions get 429.
    pub pool_capacity: u64,
    /// The percentage of `pool_capacity` one workspace may hold open in a pool; beyond it
    /// that workspace's submissions get 429 (others' do not).
    pub workspace_queue_share: u64,
    /// Whether other deployments (with their own stores) share the NATS server: then a
    /// request about a job this store does not know may be theirs, and goes unanswered
    /// instead of "gone".
    pub shared_bus: bool,
    /// Running jobs per workspace at most; more wait in the queue.
    pub tenant_concurrency: i64,
    /// How often the dispatcher and the sweeper look (they also wake on submissions).
    pub tick: Duration,
    /// A ticket not claimed for this long is sent again (it may have been lost).
    pub redispatch_after: Duration,
    /// A worker silent this long is shown offline.
    pub worker_silence: Duration,
    /// The pools jobs may be submitted to.
    pub pools: Vec<String>,
    /// The queue group the control-plane replicas answer workers in (each request reaches
    /// one replica).
    pub group: String,
    /// Pools private to one workspace: pool name → workspace id. Other pools serve every
    /// workspace.
    pub private_pools: std::collections::BTreeMap<String, String>,
    /// On PostgreSQL, whether a journal step's commit returns before its WAL reaches the
    /// disk (`JOURNAL_COMMIT=async`): a step then costs no fsync, and a crash of PostgreSQL
    /// itself (not of a worker or control plane) may run a run's last steps again.
    pub journal_async_commit: bool,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            pool_capacity: 10_000,
            workspace_queue_share: 10,
            shared_bus: false,
            tenant_concurrency: 20,
            tick: Duration::from_millis(250),
            redispatch_after: Duration::from_secs(600),
            worker_silence: Duration::from_secs(10),
            pools: vec![workers::pools::DEFAULT_POOL.to_owned()],
            group: "switchyard-control-plane".to_owned(),
            private_pools: Default::default(),
            journal_async_commit: false,
        }
    }
}

/// The secrets keyring from `SECRETS_KEY` (or the key file in `data_dir`, created on first
/// use) and `SECRETS_KEY_PREVIOUS` (comma-separated older keys, while rotating). The server
/// and `switchyard worker` read it alike.
pub fn load_keyring(data_dir: &Path) -> Result<Keyring, String> {
    let previous: Vec<String> = var("SECRETS_KEY_PREVIOUS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    Keyring::load(
        var("SECRETS_KEY").as_deref(),
        &previous,
        &data_dir.join("secrets.key"),
    )
}

/// What a clone may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GitLimits {
    /// The longest a clone or fetch may take.
    pub timeout: Duration,
    /// Most bytes the checkout directory may hold (objects and working tree).
    pub max_bytes: u64,
    /// Most entries (files, links, directories; git's own objects too) it may hold.
    pub max_files: u64,
}

/// Code intelligence settings, read from the environment by the server and by
/// `switchyard worker` alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeConfig {
    /// Where indexes, clones and uploads live (`CODE_DIR`, default `DATA_DIR/code`).
    pub dir: PathBuf,
    /// Where server directories (and `file://` git URLs) may be registered
    /// (`CODE_ALLOWED_ROOT`; never inside `DATA_DIR` or `CODE_DIR`).
    pub server_paths: ServerPaths,
    /// Files larger than this are skipped (`CODE_MAX_FILE_BYTES`, default 1 MB).
    pub max_file_bytes: u64,
    /// Most files an index run looks at, an upload may unpack and a clone may hold
    /// (`CODE_MAX_FILES`, default 100,000; skipped files count).
    pub max_files: u64,
    /// Largest accepted upload (`CODE_UPLOAD_MAX_BYTES`, default 50 MB).
    pub upload_max_bytes: u64,
    /// The embedding model; `None` makes index runs fail with a message saying so.
    pub embedding: Option<EmbeddingConfig>,
    /// Which hosts git may fetch from (`EGRESS_ALLOW`, `EGRESS_ALLOW_HTTP`).
    pub egress: EgressPolicy,
    /// How long a clone may take (`CODE_GIT_TIMEOUT_SECS`, default 600) and how many bytes
    /// its checkout may hold (`CODE_MAX_CLONE_BYTES`, default 1 GiB).
    pub git_limits: GitLimits,
}

impl CodeConfig {
    /// From `CODE_*` and `EMBEDDING_*` variables.
    pub fn from_env(data_dir: &Path) -> Result<CodeConfig, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let number = |name: &str, default: u64| -> Result<u64, String> {
            match var(name) {
                None => Ok(default),
                Some(raw) => raw
                    .trim()
                    .parse()
                    .map_err(|_| format!("{name}: {raw:?} is not a number")),
            }
        };
        let embedding = match (var("EMBEDDING_URL"), var("EMBEDDING_MODEL_DIR")) {
            (Some(url), _) => Some(EmbeddingConfig::Remote {
                url,
                model: var("EMBEDDING_MODEL").unwrap_or_else(|| "text-embedding-3-small".into()),
                api_key: var("EMBEDDING_API_KEY"),
                dims: number("EMBEDDING_DIMS", 1536)? as usize,
            }),
            (None, Some(dir)) => Some(EmbeddingConfig::Local(PathBuf::from(dir))),
            (None, None) => None,
        };
        let dir = var("CODE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("code"));
        let root = var("CODE_ALLOWED_ROOT").map(PathBuf::from);
        let server_paths = ServerPaths::new(root.as_deref(), &[data_dir, dir.as_path()])?;
        let max_files = number("CODE_MAX_FILES", codeintel::index::DEFAULT_MAX_FILES)?.max(1);
        Ok(CodeConfig {
            dir,
            server_paths,
            max_file_bytes: number(
                "CODE_MAX_FILE_BYTES",
                codeintel::index::DEFAULT_MAX_FILE_BYTES,
            )?,
            upload_max_bytes: number("CODE_UPLOAD_MAX_BYTES", 50 * 1024 * 1024)?,
            max_files,
            embedding,
            egress: EgressPolicy::from_env()?,
            git_limits: GitLimits {
                timeout: Duration::from_secs(number("CODE_GIT_TIMEOUT_SECS", 600)?),
                max_bytes: number("CODE_MAX_CLONE_BYTES", 1024 * 1024 * 1024)?,
                max_files,
            },
        })
    }

    /// The vector size of the configured model (384 for all-MiniLM-L6-v2, read from its
    /// config.json), so an index can be opened for reading without loading the model.
    pub fn dims(&self) -> usize {
        match &self.embedding {
            Some(EmbeddingConfig::Remote { dims, .. }) => *dims,
            Some(EmbeddingConfig::Local(dir)) => std::fs::read_to_string(dir.join("config.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v.get("hidden_size").and_then(|h| h.as_u64()))
                .map(|h| h as usize)
                .unwrap_or(384),
            None => 384,
        }
    }

    /// The directory of one workspace's index.
    pub fn workspace_dir(&self, tenant: &str) -> PathBuf {
        self.dir.join("workspaces").join(tenant)
    }
}

/// The worker pool named by `var`, or `default`.
fn pool_from_env(var_name: &'static str, default: &str) -> Result<String, ConfigError> {
    match var(var_name) {
        Some(raw) => Ok(workers::pools::PoolName::parse(raw.trim())
            .map_err(|e| ConfigError {
                var: var_name,
                message: e.to_string(),
            })?
            .as_str()
            .to_owned()),
        None => Ok(default.to_owned()),
    }
}
