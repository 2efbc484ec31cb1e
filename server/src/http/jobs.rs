//! The jobs and workers API: every route of the area in [`router`].

use crate::control::ControlResult;
use crate::http::api::path_id;
use crate::http::extract::{ApiJson, Caller};
use crate::http::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use shared::error::ErrorBody;
use shared::jobs::{JobLogPage, JobSubmitted, JobView, SubmitJobRequest, WorkerView};

/// The `/api/v1/workspaces/{slug}/jobs` and `/workers` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workspaces/{slug}/jobs", get(list_jobs).post(submit_job))
        .route("/workspaces/{slug}/jobs/{id}", get(get_job))
        .route("/workspaces/{slug}/jobs/{id}/logs", get(job_logs))
        .route("/workspaces/{slug}/jobs/{id}/cancel", post(cancel_job))
        .route("/workspaces/{slug}/jobs/{id}/retry", post(retry_job))
        .route("/workspaces/{slug}/workers", get(list_workers))
}

/// Submit a job (developer and up); 429 with `Retry-After` while its pool is at capacity.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/jobs", tag = "jobs", params(("slug" = String, Path)), request_body = SubmitJobRequest,
    responses((status = 201, body = JobSubmitted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn submit_job(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<SubmitJobRequest>,
) -> ControlResult<(StatusCode, Json<JobSubmitted>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.control.submit_job(&p, &slug, req).await?),
    ))
}

/// Filters of the job list.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct JobQuery {
    /// Only jobs in this state.
    status: Option<String>,
    /// Only jobs of this pool.
    pool: Option<String>,
    /// At most this many (1-500, default 100).
    limit: Option<i64>,
}

/// The workspace's jobs, newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/jobs", tag = "jobs", params(("slug" = String, Path), JobQuery),
    responses((status = 200, body = [JobView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    Query(q): Query<JobQuery>,
) -> ControlResult<Json<Vec<JobView>>> {
    Ok(Json(
        state
            .control
            .list_jobs(&p, &slug, q.status.as_deref(), q.pool.as_deref(), q.limit)
            .await?,
    ))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/jobs/{id}", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<Json<JobView>> {
    Ok(Json(
        state
            .control
            .get_job(&p, &slug, path_id(&id, "job")?)
            .await?,
    ))
}

/// Where to continue a log from.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct LogQuery {
    /// Lines after this sequence number (default 0: from the start).
    after: Option<i64>,
}

/// A job's log lines.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/jobs/{id}/logs", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path), LogQuery),
    responses((status = 200, body = JobLogPage), (status = 404, body = ErrorBody)))]
pub async fn job_logs(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<LogQuery>,
) -> ControlResult<Json<JobLogPage>> {
    Ok(Json(
        state
            .control
            .job_logs(&p, &slug, path_id(&id, "job")?, q.after.unwrap_or(0))
            .await?,
    ))
}

/// Stop a job (developer and up).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/jobs/{id}/cancel", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<Json<JobView>> {
    Ok(Json(
        state
            .control
            .cancel_job(&p, &slug, path_id(&id, "job")?)
            .await?,
    ))
}

/// Run a dead, failed or cancelled job again (developer and up).
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/jobs/{id}/retry", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<Json<JobView>> {
    Ok(Json(
        state
            .control
            .retry_job(&p, &slug, path_id(&id, "job")?)
            .await?,
    ))
}

/// Workers of the pools the workspace can use.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/workers", tag = "jobs", params(("slug" = String, Path)),
    responses((status = 200, body = [WorkerView]), (status = 404, body = ErrorBody)))]
pub async fn list_workers(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ControlResult<Json<Vec<WorkerView>>> {
    Ok(Json(state.control.workers(&p, &slug).await?))
}
