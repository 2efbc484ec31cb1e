//! Prometheus metrics: request counts and latency histograms by route and status, served at
//! `/metrics` in the text exposition format to a scraper holding `METRICS_TOKEN`.

use crate::http::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use shared::error::{ApiError, ErrorCode};
use shared::jobs::QueuePressure;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 14))
}

/// The server's metrics registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    jobs: Family<JobLabels, Gauge>,
    pressure: Family<PoolLabels, Gauge>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    pool: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
}

impl Metrics {
    /// A registry with the HTTP metrics registered, and whatever `more` registers (the
    /// gateway's series).
    pub fn new(more: impl FnOnce(&mut Registry)) -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("switchyard");
        more(&mut registry);
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests",
            latency.clone(),
        );
        let jobs = Family::<JobLabels, Gauge>::default();
        registry.register(
            "jobs_open",
            "Queued and running jobs by pool and status",
            jobs.clone(),
        );
        let pressure = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "pool_pressure",
            "Queue pressure per pool: 0 normal, 1 warning (50-80% of capacity), 2 critical",
            pressure.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            latency,
            jobs,
            pressure,
        })
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("encoding metrics failed");
        }
        out
    }
}

/// Middleware counting and timing every request under its route pattern (not its raw path,
/// which would make one series per id).
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    // Only the standard methods become label values; anything else would grow the series.
    let method = match request.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "OTHER",
    }
    .to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| {
            if request.uri().path().starts_with("/pkg/") {
                "/pkg/{asset}".to_owned()
            } else {
                "unmatched".to_owned()
            }
        });
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .latency
        .get_or_create(&labels)
        .observe(start.elapsed().as_secs_f64());
    response
}

/// Whether `headers` carry `Authorization: Bearer <token>` (compared in constant time).
fn scraper_allowed(token: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(token) = token else {
        return false;
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    sent.len() == token.len()
        && sent
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// `GET /metrics`: the request series, plus queue depth and pressure as the job service
/// last counted them.
/// Only for a scraper holding `METRICS_TOKEN`: the series name routes, pools and their load.
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !scraper_allowed(state.control.config().metrics_token.as_deref(), &headers) {
        let message = if state.control.config().metrics_token.is_some() {
            "send the metrics token as Authorization: Bearer <METRICS_TOKEN>"
        } else {
            "metrics are closed: the operator has not set METRICS_TOKEN"
        };
        return IntoResponse::into_response(ApiError::new(ErrorCode::Unauthorized, message));
    }
    // The counts the sweeper keeps (every few seconds): a scrape never counts jobs.
    let counts = state.control.jobs.engine().open_counts();
    state.metrics.jobs.clear();
    state.metrics.pressure.clear();
    let capacity = state.control.jobs.engine().config().pool_capacity;
    let mut depth: std::collections::BTreeMap<String, i64> = Default::default();
    for (pool, status, n) in counts {
        *depth.entry(pool.clone()).or_default() += n;
        let labels = JobLabels {
            pool,
            status: status.as_str().to_owned(),
        };
        state.metrics.jobs.get_or_create(&labels).set(n);
    }
    for (pool, n) in depth {
        let level = match QueuePressure::of(n.max(0) as u64, capacity) {
            QueuePressure::Normal => 0,
            QueuePressure::Warning => 1,
            QueuePressure::Critical => 2,
        };
        state
            .metrics
            .pressure
            .get_or_create(&PoolLabels { pool })
            .set(level);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
