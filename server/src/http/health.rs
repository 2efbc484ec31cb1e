//! Health probes: `/health/live` (the process answers) and `/health/ready` (its dependencies
//! do). The database is critical (503 when down); the console assets are not (the API works
//! without them), so their absence reads as `degraded` with 200.

use crate::http::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// `GET /health/live`.
pub async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /health/ready`.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = match state.control.store().ping().await {
        Ok(()) => json!({"status": "ok", "critical": true}),
        Err(e) => {
            // The detail goes to the log; the public probe says only that it is down.
            tracing::error!(error = %e, "readiness: database check failed");
            json!({"status": "down", "critical": true, "error": "the database does not answer"})
        }
    };
    let site_root = &state.control.config().site_root;
    let assets = if site_root.join("pkg").is_dir() {
        json!({"status": "ok", "critical": false})
    } else {
        json!({"status": "down", "critical": false, "error": format!("no console assets under {}", site_root.display())})
    };
    let database_ok = database["status"] == "ok";
    let all_ok = database_ok && assets["status"] == "ok";
    let (status, overall) = match (database_ok, all_ok) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "down"),
        (true, false) => (StatusCode::OK, "degraded"),
        (true, true) => (StatusCode::OK, "ok"),
    };
    (
        status,
        Json(
            json!({"status": overall, "checks": {"database": database, "console_assets": assets}}),
        ),
    )
}
