//! The tenant gateway: its own listener (`GATEWAY_ADDR`) and origin, never the console's,
//! so handler code can neither read nor set the console's cookies. A request's workspace is
//! its host `{slug}.{GATEWAY_DOMAIN}` or its path prefix `/t/{slug}/`; the workspace's live
//! manifest (its latest deploy, compiled into a [`RouteTable`]) is cached per slug, with
//! absent workspaces cached briefly too, and dropped when a deploy or a deletion is
//! announced on the bus ([`super::ops::LIVE_CHANGED`]) — or, should an announcement be
//! missed, after `GATEWAY_CACHE_SECS`. A request holds the manifest it
//! started with, so a deploy never changes a request in flight.
//!
//! Static handlers are answered here; script handlers run on a worker pool over the bus
//! (request/reply to a queue group, `workers::routes`); publish handlers store the message
//! with its deliveries (`topics.rs`) and answer 202.

use super::ops::LIVE_CHANGED;
use crate::accounts::{Accounts, Principal};
use crate::store::Store;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method as HttpMethod, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use serde_json::{json, Value};
use shared::ids::TenantId;
use shared::routes::validate::header_problem;
use shared::routes::{Handler, Lookup, Manifest, Route, RouteAuth, RouteTable};
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use workers::bus::{Bus, BusError};
use workers::routes::{invoke_subject, Answer, HandlerRequest, Invocation};

/// How long a slug that names no workspace is remembered as such.
const MISSING_TTL: Duration = Duration::from_secs(5);

/// The most workspaces (and absent slugs) cached; beyond it the absent ones are dropped
/// first, so requests to made-up slugs cannot grow the cache without bound.
const MAX_CACHED: usize = 10_000;

/// How the gateway is set up.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Where it listens (`GATEWAY_ADDR`, default `127.0.0.1:3080`).
    pub addr: SocketAddr,
    /// `GATEWAY_DOMAIN`: requests to `{slug}.{domain}` go to that workspace (the path prefix
    /// `/t/{slug}/` works always).
    pub domain: Option<String>,
    /// The worker pool script handlers run on (`ROUTE_POOL`, default `routes`).
    pub pool: String,
    /// Whether the client's address is the first of `X-Forwarded-For` (behind a proxy).
    pub trust_forwarded_for: bool,
    /// The longest a workspace's routes are served from the cache without reading them
    /// again (`GATEWAY_CACHE_SECS`, default 30): deploys are announced at once, this bounds
    /// how long a missed announcement matters.
    pub cache_for: Duration,
}

/// A workspace's live routes, as one request sees them from start to end.
pub struct Live {
    tenant: TenantId,
    version: Option<i64>,
    manifest: Manifest,
    table: RouteTable,
    /// Per route (by index), its per-client-IP limiter when it has a rate limit.
    limiters: Vec<Option<DefaultKeyedRateLimiter<IpAddr>>>,
    /// Per route (by index), its name and metric series; then those of requests no route
    /// matched.
    metrics: Vec<RouteMetrics>,
}

/// A route's name and its series, looked up once per manifest so that counting a request
/// allocates nothing. A status class's counter is made at its first request, so `/metrics`
/// shows only classes that happened.
struct RouteMetrics {
    name: String,
    labels: LatencyLabels,
    classes: [std::sync::OnceLock<Counter>; 5],
    latency: Histogram,
}

impl RouteMetrics {
    fn new(gateway: &Gateway, workspace: &str, name: String) -> RouteMetrics {
        let labels = LatencyLabels {
            workspace: workspace.to_owned(),
            route: name.clone(),
        };
        RouteMetrics {
            latency: gateway.latency.get_or_create(&labels).clone(),
            labels,
            name,
            classes: Default::default(),
        }
    }

    fn observe(&self, requests: &Family<RouteLabels, Counter>, status: StatusCode, seconds: f64) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5);
        self.classes[class - 1]
            .get_or_init(|| {
                requests
                    .get_or_create(&RouteLabels {
                        workspace: self.labels.workspace.clone(),
                        route: self.labels.route.clone(),
                        class: format!("{class}xx"),
                    })
                    .clone()
            })
            .inc();
        self.latency.observe(seconds);
    }
}

impl Live {
    fn new(gateway: &Gateway, tenant: TenantId, version: Option<i64>, manifest: Manifest) -> Live {
        let table = RouteTable::new(manifest.routes.iter().map(|r| (r.method, r.path.as_str())));
        let limiters = manifest
            .routes
            .iter()
            .map(|r| {
                let per_minute = NonZeroU32::new(r.settings.rate_limit_per_minute?)?;
                Some(RateLimiter::keyed(Quota::per_minute(per_minute)))
            })
            .collect();
        let workspace = tenant.to_string();
        let metrics = manifest
            .routes
            .iter()
            .map(Route::name)
            .chain(std::iter::once(UNMATCHED.to_owned()))
            .map(|name| RouteMetrics::new(gateway, &workspace, name))
            .collect();
        Live {
            tenant,
            version,
            manifest,
            table,
            limiters,
            metrics,
        }
    }

    /// The name and series of route `index`, or of requests no route matched.
    fn metrics(&self, index: Option<usize>) -> &RouteMetrics {
        let unmatched = self.metrics.len() - 1;
        &self.metrics[index.filter(|&i| i < unmatched).unwrap_or(unmatched)]
    }
}

/// The route name requests that matched no route are logged and counted under.
const UNMATCHED: &str = "unmatched";

enum Cached {
    Live(Arc<Live>, Instant),
    Missing(Instant),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    workspace: String,
    route: String,
    class: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    workspace: String,
    route: String,
}

/// The gateway.
pub struct Gateway {
    store: Store,
    bus: Arc<dyn Bus>,
    jobs: Arc<crate::jobs::Jobs>,
    pipelines: Arc<crate::pipelines::PipelineOps>,
    accounts: Arc<Accounts>,
    config: GatewayConfig,
    cache: RwLock<HashMap<String, Cached>>,
    /// Counts forgets: a manifest read before one is not cached after it (it may be the
    /// deploy's predecessor).
    forgets: std::sync::atomic::AtomicU64,
    requests: Family<RouteLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    /// Each route's log (access lines, handler lines and failures), written in batches.
    logs: super::logs::RouteLog,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Gateway {
    /// A gateway over `store`, asking workers on the bus of `jobs` (and publishing topics'
    /// deliveries as its jobs), running pipelines with `pipelines`, checking API keys with
    /// `accounts`.
    pub fn new(
        store: Store,
        jobs: Arc<crate::jobs::Jobs>,
        pipelines: Arc<crate::pipelines::PipelineOps>,
        accounts: Arc<Accounts>,
        config: GatewayConfig,
    ) -> Arc<Gateway> {
        Arc::new(Gateway {
            store,
            bus: jobs.bus(),
            jobs,
            pipelines,
            accounts,
            config,
            cache: RwLock::new(HashMap::new()),
            forgets: std::sync::atomic::AtomicU64::new(0),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            logs: super::logs::RouteLog::default(),
        })
    }

    pub(super) fn pipelines(&self) -> &crate::pipelines::PipelineOps {
        &self.pipelines
    }

    /// Its configuration.
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// Adds the gateway's series to `registry` (served at `/metrics`).
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "gateway_requests",
            "Gateway requests by workspace, route and status class",
            self.requests.clone(),
        );
        registry.register(
            "gateway_request_duration_seconds",
            "Time to answer gateway requests, by workspace and route",
            self.latency.clone(),
        );
        registry.register(
            "gateway_log_lines_dropped",
            "Route log lines dropped because the store fell behind",
            self.logs.dropped(),
        );
    }

    /// Listens for deploys and deletions on the bus and drops what they make stale; starts
    /// writing the routes' logs.
    pub async fn watch(self: Arc<Gateway>) -> Result<tokio::task::JoinHandle<()>, BusError> {
        self.logs.start_writing(self.store.clone());
        let mut changes = self.bus.subscribe(LIVE_CHANGED).await?;
        Ok(tokio::spawn(async move {
            while let Some(message) = changes.next().await {
                let tenant = String::from_utf8_lossy(&message.payload).into_owned();
                self.forget(&tenant);
            }
        }))
    }

    /// Drops the cached manifest of the workspace `tenant` (an id).
    pub fn forget(&self, tenant: &str) {
        if let Ok(mut cache) = self.cache.write() {
            self.forgets
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            cache.retain(|_, cached| match cached {
                Cached::Live(live, _) => live.tenant.to_string() != tenant,
                Cached::Missing(_) => true,
            });
        }
    }

    /// The gateway's router: every request goes to [`Gateway::handle`].
    pub fn router(self: Arc<Gateway>) -> axum::Router {
        axum::Router::new().fallback(handle).with_state(self)
    }

    /// The live routes of the workspace `slug` (cached), `None` when there is no such
    /// workspace.
    async fn live(&self, slug: &str) -> Result<Option<Arc<Live>>, crate::store::StoreError> {
        if let Ok(cache) = self.cache.read() {
            match cache.get(slug) {
                // Announcements keep entries fresh; the expiry is for one that was missed
                // (the bus was down), so no manifest stays stale for long.
                Some(Cached::Live(live, at)) if at.elapsed() < self.config.cache_for => {
                    return Ok(Some(live.clone()))
                }
                Some(Cached::Missing(at)) if at.elapsed() < MISSING_TTL => return Ok(None),
                _ => {}
            }
        }
        let before = self.forgets.load(std::sync::atomic::Ordering::SeqCst);
        let Some(workspace) = self.store.workspace_by_slug(slug).await? else {
            if let Ok(mut cache) = self.cache.write() {
                make_room(&mut cache);
                cache.insert(slug.to_owned(), Cached::Missing(Instant::now()));
            }
            return Ok(None);
        };
        let deploy = self.store.live_deploy(workspace.id).await?;
        let manifest = match &deploy {
            Some(d) => serde_json::from_str(&d.manifest).map_err(|e| {
                crate::store::StoreError::Corrupt(format!("deploy {} manifest: {e}", d.id))
            })?,
            None => Manifest::default(),
        };
        let live = Arc::new(Live::new(
            self,
            workspace.id,
            deploy.map(|d| d.version),
            manifest,
        ));
        if let Ok(mut cache) = self.cache.write() {
            // Under the lock forgets take: no forget can slip in between check and insert.
            if self.forgets.load(std::sync::atomic::Ordering::SeqCst) == before {
                make_room(&mut cache);
                cache.insert(slug.to_owned(), Cached::Live(live.clone(), Instant::now()));
            }
        }
        Ok(Some(live))
    }

    /// Which workspace a request is for, and its path below the workspace's prefix.
    fn resolve<'a>(&self, headers: &HeaderMap, path: &'a str) -> Option<(String, &'a str)> {
        if let Some(rest) = path.strip_prefix("/t/") {
            let (slug, below) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            return (!slug.is_empty()).then(|| (slug.to_owned(), below));
        }
        let domain = self.config.domain.as_deref()?;
        // Host names are case-insensitive: compared in lowercase, as slugs are.
        let host = headers
            .get(header::HOST)?
            .to_str()
            .ok()?
            .to_ascii_lowercase();
        let host = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        let slug = host
            .strip_suffix(domain.to_ascii_lowercase().as_str())?
            .strip_suffix('.')?;
        (!slug.is_empty() && !slug.contains('.')).then(|| (slug.to_owned(), path))
    }

    /// A request answered: its line in the server's log, its access line in its route's
    /// log, and its metrics. `route` is the route's index, `None` when none matched.
    fn finished(
        &self,
        live: &Live,
        route: Option<usize>,
        request_id: &str,
        request: &str,
        response: &Response,
        started: Instant,
    ) {
        let metrics = live.metrics(route);
        let status = response.status();
        let seconds = started.elapsed().as_secs_f64();
        let ms = seconds * 1e3;
        tracing::info!(
            target: "switchyard::gateway",
            workspace = %live.tenant,
            version = live.version,
            route = %metrics.name,
            status = status.as_u16(),
            ms,
            request_id = %request_id,
            "request"
        );
        self.logs.push(
            live.tenant,
            &metrics.name,
            request_id,
            Some((status.as_u16(), ms)),
            &format!("{request} → {} in {ms:.1} ms", status.as_u16()),
        );
        metrics.observe(&self.requests, status, seconds);
    }
}

/// A request's id: 128 random bits in hex (32 digits, as a simple UUID), from the thread's
/// generator rather than the kernel's (a system call per request).
fn new_request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Keeps the cache under [`MAX_CACHED`]: absent slugs go first, then everything (it is
/// only a cache).
fn make_room(cache: &mut HashMap<String, Cached>) {
    if cache.len() >= MAX_CACHED {
        cache.retain(|_, c| matches!(c, Cached::Live(..)));
    }
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
}

/// The JSON error shape every gateway failure is answered with.
pub(super) fn error(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    request_id: &str,
) -> Response {
    let mut response = (
        status,
        axum::Json(
            json!({"error": {"code": code, "message": message.into(), "request_id": request_id}}),
        ),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let request_id = new_request_id();
    let (parts, body) = request.into_parts();
    let Some((slug, path)) = gateway.resolve(&parts.headers, parts.uri.path()) else {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no workspace: use /t/{workspace}/... or a workspace's host",
            &request_id,
        );
    };
    let path = path.to_owned();
    let parts_line = format!("{} {path}", parts.method);
    let live = match gateway.live(&slug).await {
        Ok(Some(live)) => live,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                "workspace not found",
                &request_id,
            )
        }
        Err(e) => {
            tracing::error!(%slug, error = %e, "loading a workspace's live routes failed");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the gateway cannot read the workspace's routes right now",
                &request_id,
            );
        }
    };
    let client = client_ip(&gateway.config, &parts.headers, peer);
    let preflight = parts.method == HttpMethod::OPTIONS
        && parts.headers.contains_key(header::ORIGIN)
        && parts
            .headers
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let asked = if preflight {
        parts
            .headers
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("OPTIONS")
            .to_owned()
    } else {
        parts.method.as_str().to_owned()
    };
    let lookup = match live.table.find(&asked, &path) {
        Lookup::Found { route, params } => Ok((route, params)),
        Lookup::MethodNotAllowed { allowed } => {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{asked} is not allowed here"),
                &request_id,
            );
            let allow: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert(header::ALLOW, v);
            }
            Err(response)
        }
        Lookup::NotFound => Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route matches {asked} {path}"),
            &request_id,
        )),
    };
    let (index, params) = match lookup {
        Ok(found) => found,
        Err(response) => {
            gateway.finished(&live, None, &request_id, &parts_line, &response, started);
            return response;
        }
    };
    let Some(route) = live.manifest.routes.get(index) else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
            &request_id,
        );
    };
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = if preflight {
        preflight_answer(route, origin.as_deref(), &request_id)
    } else {
        let call = Call {
            gateway: &gateway,
            live: &live,
            route,
            index,
            client,
            request_id: &request_id,
        };
        let mut response = call.answer(parts, body, path, params).await;
        add_cors(&mut response, route, origin.as_deref());
        response
    };
    gateway.finished(
        &live,
        Some(index),
        &request_id,
        &parts_line,
        &response,
        started,
    );
    response
}

/// One request to one route.
struct Call<'a> {
    gateway: &'a Gateway,
    live: &'a Live,
    route: &'a Route,
    index: usize,
    client: IpAddr,
    request_id: &'a str,
}

impl Call<'_> {
    /// The route's name (`METHOD /path`).
    fn name(&self) -> &str {
        &self.live.metrics(Some(self.index)).name
    }

    async fn answer(
        &self,
        parts: axum::http::request::Parts,
        body: Body,
        path: String,
        params: Vec<(String, String)>,
    ) -> Response {
        let settings = &self.route.settings;
        if let Some(Some(limiter)) = self.live.limiters.get(self.index) {
            if limiter.check_key(&self.client).is_err() {
                let mut response = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "this route takes at most {} requests a minute from one client",
                        settings.rate_limit_per_minute.unwrap_or_default()
                    ),
                    self.request_id,
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                return response;
            }
        }
        if let RouteAuth::ApiKey { min_role } = &settings.auth {
            if let Err(response) = self.authenticate(&parts.headers, *min_role).await {
                return response;
            }
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let too_large = || {
            error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the body is larger than this route's {} bytes",
                    settings.max_body_bytes
                ),
                self.request_id,
            )
        };
        if declared.is_some_and(|n| n > settings.max_body_bytes) {
            return too_large();
        }
        let limit = usize::try_from(settings.max_body_bytes).unwrap_or(usize::MAX);
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => return too_large(),
        };
        match &self.route.handler {
            Handler::Static {
                status,
                headers,
                body,
            } => respond(*status, headers, body),
            Handler::Script { source } => {
                let request = handler_request(&parts, path, params, &bytes);
                self.script(source, request).await
            }
            Handler::Publish { topic } => self.publish(topic, &bytes).await,
            Handler::Pipeline { pipeline_id } => {
                let request = handler_request(&parts, path, params, &bytes);
                let call = super::run_handler::RunCall {
                    pipelines: &self.gateway.pipelines,
                    tenant: self.live.tenant,
                    route: self.name(),
                    request_id: self.request_id,
                    timeout: Duration::from_millis(settings.timeout_ms),
                };
                call.answer(pipeline_id, request).await
            }
        }
    }

    /// Publishes the request's body (JSON, or else its text) to the route's topic: 202 with
    /// the message's id.
    async fn publish(&self, topic: &str, body: &[u8]) -> Response {
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
        };
        let published = super::topics::publish(
            &self.gateway.store,
            &self.gateway.jobs,
            &self.gateway.pipelines,
            &self.gateway.config.pool,
            self.live.tenant,
            &self.live.manifest,
            topic,
            body,
        )
        .await;
        match published {
            Ok(p) => (StatusCode::ACCEPTED, axum::Json(json!({"id": p.id}))).into_response(),
            Err(e) => {
                let status = StatusCode::from_u16(e.code.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let code = serde_json::to_value(e.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "internal".into());
                error(status, &code, e.message, self.request_id)
            }
        }
    }

    async fn authenticate(
        &self,
        headers: &HeaderMap,
        min_role: shared::roles::Role,
    ) -> Result<(), Response> {
        let unauthorized = || {
            let mut r = error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this route needs the workspace's API key: Authorization: Bearer <key>",
                self.request_id,
            );
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        };
        let key = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(unauthorized)?;
        match self.gateway.accounts.authenticate_api_key(key).await {
            Ok(Principal::ApiKey(record)) if record.tenant_id == self.live.tenant => {
                if record.role.at_least(min_role) {
                    Ok(())
                } else {
                    Err(error(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        format!("this route needs a key with the {min_role} role or higher"),
                        self.request_id,
                    ))
                }
            }
            _ => Err(unauthorized()),
        }
    }

    async fn script(&self, source: &str, request: HandlerRequest) -> Response {
        let settings = &self.route.settings;
        let invocation = Invocation {
            tenant_id: self.live.tenant.to_string(),
            route: self.name().to_owned(),
            request_id: self.request_id.to_owned(),
            source: source.to_owned(),
            request,
            timeout_ms: settings.timeout_ms,
            memory_mb: settings.memory_mb,
        };
        let Ok(payload) = serde_json::to_vec(&invocation) else {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
                self.request_id,
            );
        };
        // A little beyond the script's own limit, so its own timeout is the one that speaks.
        let wait = Duration::from_millis(settings.timeout_ms) + Duration::from_millis(500);
        let heard = match self
            .gateway
            .bus
            .request_replies(
                &invoke_subject(&self.gateway.config.pool),
                Bytes::from(payload),
            )
            .await
        {
            Ok(replies) => hear_answer(replies, wait).await,
            Err(e) => Heard::Bus(e),
        };
        match heard {
            Heard::Response {
                status,
                headers,
                body,
                logs,
            } => {
                self.log_lines(&logs);
                respond(status, &headers, &body)
            }
            Heard::Failed { error: why, logs } => {
                self.log_lines(&logs);
                self.log_failure(&why);
                tracing::warn!(target: "switchyard::gateway", workspace = %self.live.tenant, route = %self.name(),
                    request_id = %self.request_id, error = %why, "handler failed");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "handler_failed",
                    "the route's handler failed; its log has the details",
                    self.request_id,
                )
            }
            Heard::Unreadable(e) => {
                tracing::error!(error = %e, "a worker's answer does not parse");
                error(
                    StatusCode::BAD_GATEWAY,
                    "bad_gateway",
                    "the worker's answer was unreadable",
                    self.request_id,
                )
            }
            Heard::WorkerGone => {
                tracing::warn!(target: "switchyard::gateway", workspace = %self.live.tenant, route = %self.name(),
                    request_id = %self.request_id, "the worker running the handler went silent");
                error(
                    StatusCode::BAD_GATEWAY,
                    "bad_gateway",
                    "the worker running the handler stopped (it went silent mid-request)",
                    self.request_id,
                )
            }
            Heard::Nothing => error(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!(
                    "the handler did not answer within {} ms",
                    settings.timeout_ms
                ),
                self.request_id,
            ),
            Heard::Bus(BusError::NoResponders(_)) => error(
                StatusCode::BAD_GATEWAY,
                "bad_gateway",
                "no worker serves this route's pool right now",
                self.request_id,
            ),
            Heard::Bus(e) => {
                tracing::error!(error = %e, "asking a worker failed");
                error(
                    StatusCode::BAD_GATEWAY,
                    "bad_gateway",
                    "the handler's worker could not be reached",
                    self.request_id,
                )
            }
        }
    }

    /// A handler's own lines, in its route's log (and the server's).
    fn log_lines(&self, lines: &[String]) {
        let route = self.name();
        for line in lines {
            tracing::info!(target: "switchyard::gateway", workspace = %self.live.tenant, route = %route,
                request_id = %self.request_id, "{line}");
            self.gateway
                .logs
                .push(self.live.tenant, route, self.request_id, None, line);
        }
    }

    /// Why a handler failed, in its route's log (never in the caller's answer).
    fn log_failure(&self, why: &str) {
        self.gateway.logs.push(
            self.live.tenant,
            self.name(),
            self.request_id,
            None,
            &format!("handler failed: {why}"),
        );
    }
}

/// What the gateway heard from the worker pool about one invocation.
enum Heard {
    /// The handler's response.
    Response {
        status: u16,
        headers: BTreeMap<String, String>,
        body: Value,
        logs: Vec<String>,
    },
    /// The handler failed (why, for the route's log).
    Failed { error: String, logs: Vec<String> },
    /// A worker took the request, then fell silent for [`workers::routes::SILENCE`]: it died.
    WorkerGone,
    /// Nothing in time (no worker took it, or it did not finish).
    Nothing,
    /// A reply that does not parse.
    Unreadable(String),
    /// The bus refused the request.
    Bus(BusError),
}

/// Waits up to `wait` for the answer among a worker's replies. Its notes that it is still
/// working keep the wait going; silence for [`workers::routes::SILENCE`] after one of them
/// means the worker is gone, long before `wait` is over.
async fn hear_answer(mut replies: workers::bus::Replies, wait: Duration) -> Heard {
    let deadline = tokio::time::Instant::now() + wait;
    let mut taken = false;
    loop {
        let until = if taken {
            (tokio::time::Instant::now() + workers::routes::SILENCE).min(deadline)
        } else {
            deadline
        };
        match tokio::time::timeout_at(until, replies.next()).await {
            Ok(Some(Ok(raw))) => match serde_json::from_slice::<Answer>(&raw) {
                Ok(Answer::Working) => taken = true,
                Ok(Answer::Response {
                    status,
                    headers,
                    body,
                    logs,
                }) => {
                    return Heard::Response {
                        status,
                        headers,
                        body,
                        logs,
                    }
                }
                Ok(Answer::Failed { error, logs }) => return Heard::Failed { error, logs },
                Err(e) => return Heard::Unreadable(e.to_string()),
            },
            Ok(Some(Err(e))) => return Heard::Bus(e),
            Ok(None) => return Heard::Bus(BusError::Transport("the replies ended".into())),
            Err(_) if taken && tokio::time::Instant::now() < deadline => return Heard::WorkerGone,
            Err(_) => return Heard::Nothing,
        }
    }
}

/// The client's address: the peer, or the first `X-Forwarded-For` hop behind a trusted
/// proxy.
fn client_ip(config: &GatewayConfig, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if config.trust_forwarded_for {
        if let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
        {
            return ip;
        }
    }
    peer.ip()
}

/// The request as a handler sees it: credentials and cookies never reach tenant code.
fn handler_request(
    parts: &axum::http::request::Parts,
    path: String,
    params: Vec<(String, String)>,
    body: &[u8],
) -> HandlerRequest {
    let query = parts
        .uri
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect::<BTreeMap<String, String>>()
        })
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| *name != header::COOKIE && *name != header::AUTHORIZATION)
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    };
    HandlerRequest {
        method: parts.method.as_str().to_owned(),
        path,
        params: params.into_iter().collect(),
        query,
        headers,
        body,
    }
}

/// A handler's answer as a response: a string body is text, `null` nothing, anything else
/// JSON; headers a route may not set are left out.
pub(super) fn respond(status: u16, headers: &BTreeMap<String, String>, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (content_type, bytes) = match body {
        Value::Null => (None, Vec::new()),
        Value::String(text) => (Some("text/plain; charset=utf-8"), text.clone().into_bytes()),
        other => (
            Some("application/json"),
            serde_json::to_vec(other).unwrap_or_default(),
        ),
    };
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    if let Some(ct) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    for (name, value) in headers {
        if header_problem(name, value).is_some() {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Whether `origin` may call `route` from a browser.
fn origin_allowed(route: &Route, origin: &str) -> bool {
    route
        .settings
        .cors
        .as_ref()
        .is_some_and(|c| c.allowed_origins.iter().any(|o| o == "*" || o == origin))
}

fn add_cors(response: &mut Response, route: &Route, origin: Option<&str>) {
    let Some(origin) = origin.filter(|o| origin_allowed(route, o)) else {
        return;
    };
    if let Ok(v) = HeaderValue::from_str(origin) {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// The answer to a CORS preflight for `route`.
fn preflight_answer(route: &Route, origin: Option<&str>, request_id: &str) -> Response {
    let (Some(cors), Some(origin)) = (route.settings.cors.as_ref(), origin) else {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this route takes no cross-origin requests",
            request_id,
        );
    };
    if !origin_allowed(route, origin) {
        return error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this origin may not call this route",
            request_id,
        );
    }
    let methods = if cors.allowed_methods.is_empty() {
        route.method.as_str().to_owned()
    } else {
        cors.allowed_methods.join(", ")
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    set(header::ACCESS_CONTROL_ALLOW_METHODS, &methods);
    if !cors.allowed_headers.is_empty() {
        set(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            &cors.allowed_headers.join(", "),
        );
    }
    set(
        header::ACCESS_CONTROL_MAX_AGE,
        &cors.max_age_seconds.to_string(),
    );
    set(header::VARY, "Origin");
    response
}
