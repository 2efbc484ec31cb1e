//! The jobs and workers API: every route of the area in [`router`].

use crate::control::Control;
use crate::http::extract::path_id;
use crate::http::extract::{ApiJson, Caller};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use shared::error::ApiError;
use shared::error::ApiResult;
use shared::error::ErrorBody;
use shared::ids::{JobId, TenantId};
use shared::jobs::{
    JobLogPage, JobStreamMessage, JobSubmitted, JobView, SubmitJobRequest, WorkerView,
};
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use workers::subjects;

/// The `/api/v1/workspaces/{slug}/jobs`, `/workers` and `/pools` routes, each with its
/// OpenAPI entry.
pub fn router() -> OpenApiRouter<Arc<Control>> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs, submit_job))
        .routes(routes!(get_job))
        .routes(routes!(job_logs))
        .routes(routes!(cancel_job))
        .routes(routes!(retry_job))
        .routes(routes!(stream_job))
        .routes(routes!(list_workers))
        .routes(routes!(list_pools))
}

/// Submit a job (developer and up); 429 with `Retry-After` while its pool is at capacity.
#[utoipa::path(post, path = "/workspaces/{slug}/jobs", tag = "jobs", params(("slug" = String, Path)), request_body = SubmitJobRequest,
    responses((status = 201, body = JobSubmitted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn submit_job(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<SubmitJobRequest>,
) -> ApiResult<(StatusCode, Json<JobSubmitted>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.jobs.submit_job(&p, &slug, req).await?),
    ))
}

/// Filters of the job list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Only jobs in this state.
    status: Option<String>,
    /// Only jobs of this pool.
    pool: Option<String>,
    /// At most this many (1-500, default 100).
    limit: Option<i64>,
}

/// The workspace's jobs, newest first.
#[utoipa::path(get, path = "/workspaces/{slug}/jobs", tag = "jobs", params(("slug" = String, Path), JobQuery),
    responses((status = 200, body = [JobView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_jobs(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    Query(q): Query<JobQuery>,
) -> ApiResult<Json<Vec<JobView>>> {
    Ok(Json(
        control
            .jobs
            .list_jobs(&p, &slug, q.status.as_deref(), q.pool.as_deref(), q.limit)
            .await?,
    ))
}

/// One job.
#[utoipa::path(get, path = "/workspaces/{slug}/jobs/{id}", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn get_job(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(
        control
            .jobs
            .get_job(&p, &slug, path_id(&id, "job")?)
            .await?,
    ))
}

/// Where to continue a log from.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Lines after this sequence number (default 0: from the start).
    after: Option<i64>,
}

/// A job's log lines.
#[utoipa::path(get, path = "/workspaces/{slug}/jobs/{id}/logs", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path), LogQuery),
    responses((status = 200, body = JobLogPage), (status = 404, body = ErrorBody)))]
pub async fn job_logs(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<JobLogPage>> {
    Ok(Json(
        control
            .jobs
            .job_logs(&p, &slug, path_id(&id, "job")?, q.after.unwrap_or(0))
            .await?,
    ))
}

/// Stop a job (developer and up).
#[utoipa::path(post, path = "/workspaces/{slug}/jobs/{id}/cancel", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_job(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(
        control
            .jobs
            .cancel_job(&p, &slug, path_id(&id, "job")?)
            .await?,
    ))
}

/// Run a dead, failed or cancelled job again (developer and up).
#[utoipa::path(post, path = "/workspaces/{slug}/jobs/{id}/retry", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = JobView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_job(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<JobView>> {
    Ok(Json(
        control
            .jobs
            .retry_job(&p, &slug, path_id(&id, "job")?)
            .await?,
    ))
}

/// Workers of the pools the workspace can use.
#[utoipa::path(get, path = "/workspaces/{slug}/workers", tag = "jobs", params(("slug" = String, Path)),
    responses((status = 200, body = [WorkerView]), (status = 404, body = ErrorBody)))]
pub async fn list_workers(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<WorkerView>>> {
    Ok(Json(control.jobs.workers(&p, &slug).await?))
}

/// The queues of the pools the workspace can use: depth and pressure.
#[utoipa::path(get, path = "/workspaces/{slug}/pools", tag = "jobs", params(("slug" = String, Path)),
    responses((status = 200, body = [shared::jobs::PoolView]), (status = 404, body = ErrorBody)))]
pub async fn list_pools(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<shared::jobs::PoolView>>> {
    Ok(Json(control.jobs.pools(&p, &slug).await?))
}

/// A live view of a job over WebSocket: first its state and the log so far, then every
/// change as it happens, as JSON messages `{"type": "job", "job": {...}}` and
/// `{"type": "log", "lines": [...]}`. Closes after the job ends.
#[utoipa::path(get, path = "/workspaces/{slug}/jobs/{id}/stream", tag = "jobs", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 101, description = "WebSocket of job and log messages"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stream_job(
    ws: WebSocketUpgrade,
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    same_origin_socket(&control, &headers)?;
    let id: JobId = path_id(&id, "job")?;
    let tenant = control.jobs.job_stream_target(&p, &slug, id).await?;
    let credential = credential(&headers);
    Ok(ws.on_upgrade(move |socket| follow(control, tenant, id, socket, credential, slug)))
}

/// Refuses a WebSocket opened by another site's page (a browser always names the page that
/// opens one).
pub(crate) fn same_origin_socket(control: &Control, headers: &HeaderMap) -> ApiResult<()> {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let own = control.config().public_origin();
        if origin != own
            && origin != format!("http://{host}")
            && origin != format!("https://{host}")
        {
            return Err(ApiError::forbidden("cross-site WebSocket refused"));
        }
    }
    Ok(())
}

/// The credential a stream was opened with, to check it again while it lasts.
pub(crate) enum Credential {
    Session(String),
    Key(String),
}

pub(crate) fn credential(headers: &HeaderMap) -> Option<Credential> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|k| Credential::Key(k.trim().to_owned()));
    bearer.or_else(|| crate::http::extract::session_token(headers).map(Credential::Session))
}

/// Whether the stream's caller may still watch the job (the session may have ended, the
/// member been removed, the key revoked).
async fn still_allowed(
    control: &Arc<Control>,
    credential: &Option<Credential>,
    slug: &str,
    id: JobId,
) -> bool {
    match principal_again(control, credential).await {
        Some(p) => control.jobs.job_stream_target(&p, slug, id).await.is_ok(),
        None => false,
    }
}

/// Who a stream's credential names now (`None` once the session ended or the key was
/// revoked).
pub(crate) async fn principal_again(
    control: &Arc<Control>,
    credential: &Option<Credential>,
) -> Option<crate::accounts::Principal> {
    match credential {
        Some(Credential::Session(token)) => control.accounts.recheck_session(token).await.ok(),
        Some(Credential::Key(key)) => control.accounts.authenticate_api_key(key).await.ok(),
        None => None,
    }
}

async fn send_json(socket: &mut WebSocket, message: JobStreamMessage) -> bool {
    match serde_json::to_string(&message) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

/// Sends what changed since `last_seq` and `last_status`; answers whether to stop (the job
/// has ended, or the client went away).
async fn catch_up(
    control: &Arc<Control>,
    tenant: TenantId,
    id: JobId,
    socket: &mut WebSocket,
    last_seq: &mut i64,
    last_status: &mut Option<String>,
) -> bool {
    let Ok((job, lines)) = control.jobs.job_snapshot(tenant, id, *last_seq).await else {
        return true;
    };
    if let Some(last) = lines.last() {
        *last_seq = last.seq;
        if !send_json(socket, JobStreamMessage::Log { lines }).await {
            return true;
        }
    }
    let ended = job.status.is_final();
    let status = format!(
        "{}/{}/{}/{:?}",
        job.status, job.attempts, job.cancel_requested, job.progress
    );
    if last_status.as_deref() != Some(status.as_str()) {
        *last_status = Some(status);
        if !send_json(socket, JobStreamMessage::Job { job: Box::new(job) }).await {
            return true;
        }
    }
    ended
}

async fn follow(
    control: Arc<Control>,
    tenant: TenantId,
    id: JobId,
    mut socket: WebSocket,
    credential: Option<Credential>,
    slug: String,
) {
    let subject = subjects::events(&tenant.to_string(), &id.to_string());
    // Listen before reading the backlog, so nothing falls between the two.
    let mut events = match control.jobs.engine().bus().subscribe(&subject).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "job stream: cannot subscribe");
            return;
        }
    };
    let (mut last_seq, mut last_status) = (0, None);
    if catch_up(
        &control,
        tenant,
        id,
        &mut socket,
        &mut last_seq,
        &mut last_status,
    )
    .await
    {
        let _ = socket.close().await;
        return;
    }
    // Events say that something changed; the store says what. A slow tick covers events
    // the ephemeral bus dropped.
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            event = events.next() => {
                if event.is_none() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            },
            _ = tick.tick() => {
                if !still_allowed(&control, &credential, &slug, id).await {
                    break;
                }
            }
        }
        if catch_up(
            &control,
            tenant,
            id,
            &mut socket,
            &mut last_seq,
            &mut last_status,
        )
        .await
        {
            break;
        }
    }
    let _ = socket.close().await;
}
