//! The HTTP front door: one router assembling the REST API (`/api/v1`), the console (Leptos
//! SSR and its server functions), health probes and metrics, wrapped in the cross-cutting
//! layers (request ids and tracing, metrics, CSRF, body limits).

pub mod api;
pub mod csrf;
pub mod extract;
pub mod health;
pub mod metrics;

use crate::console;
use crate::control::Control;
use axum::extract::Request;
use axum::http::HeaderName;
use axum::middleware;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// What the front door's own handlers reach (probes, metrics, CSRF); domain routes take
/// `State<Arc<Control>>`, which this provides.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    /// The control plane.
    pub control: Arc<Control>,
    /// The metrics registry.
    pub metrics: Arc<metrics::Metrics>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API, console, probes and metrics.
pub fn router(control: Arc<Control>) -> Router {
    let state = AppState {
        metrics: metrics::Metrics::new(|registry| control.gateway.register_metrics(registry)),
        control: control.clone(),
    };
    let max_body = control.config().max_body_bytes;
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let id = req
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        // The route pattern, not the path: paths carry secrets (invitation tokens).
        let route = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map_or("unmatched", |p| p.as_str());
        tracing::info_span!("request", request_id = %id, method = %req.method(), route = %route)
    });
    Router::new()
        .merge(api::router(max_body).with_state(control.clone()))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(metrics::serve))
        .merge(crate::accounts::oauth::router().with_state(control.clone()))
        .merge(crate::code::mcp::router().with_state(control.clone()))
        .with_state(state.clone())
        .merge(console::router(control.clone(), max_body))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        // Webhooks are called by other systems, with no session to ride on: outside the
        // CSRF guard, so a sender that names its own origin is not refused.
        .merge(
            crate::pipelines::http::hooks_router()
                .layer(axum::extract::DefaultBodyLimit::max(max_body))
                .with_state(control.clone()),
        )
        .layer(middleware::from_fn_with_state(
            control.clone(),
            extract::identify,
        ))
        .layer(middleware::from_fn_with_state(state, metrics::record))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
