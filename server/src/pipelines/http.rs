//! The pipelines API, every route of it in [`router`], and the webhook endpoint
//! (`/hooks/{slug}/{hook}`, outside `/api/v1`: it is called by other systems, without a
//! session or key) in [`hooks_router`].

use super::hooks::{HookAnswer, SigningKey};
use crate::control::Control;
use crate::http::extract::{ApiJson, ApiQuery, Caller};
use crate::jobs::http::{credential, principal_again, same_origin_socket};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use shared::error::{ApiResult, ErrorBody};
use shared::pipelines::views::{
    CreatePipeline, PipelineSaved, PipelineSummary, PipelineView, Problems, RerunFrom, RunStarted,
    RunSummary, RunView, SetLive, StartRun, UpdatePipeline, VersionView,
};
use shared::pipelines::Graph;
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use workers::subjects;

/// The `/api/v1/workspaces/{slug}/pipelines` and `/runs` routes, each with its OpenAPI
/// entry.
pub fn router() -> OpenApiRouter<Arc<Control>> {
    OpenApiRouter::new()
        .routes(routes!(list_pipelines, create_pipeline))
        .routes(routes!(get_pipeline, update_pipeline, delete_pipeline))
        .routes(routes!(check_graph))
        .routes(routes!(list_versions))
        .routes(routes!(get_version))
        .routes(routes!(set_live))
        .routes(routes!(list_runs, start_run))
        .routes(routes!(get_run))
        .routes(routes!(cancel_run))
        .routes(routes!(rerun))
        .routes(routes!(stream_run))
        .routes(routes!(new_signing_key, remove_signing_key))
}

/// `POST /hooks/{slug}/{hook}`: webhook requests (no session or key; a signing key when the
/// hook has one).
pub fn hooks_router() -> axum::Router<Arc<Control>> {
    axum::Router::new().route("/hooks/{slug}/{hook}", axum::routing::post(receive_hook))
}

async fn receive_hook(
    State(control): State<Arc<Control>>,
    Path((slug, hook)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use axum::response::IntoResponse;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let answer = control
        .pipelines
        .receive_hook(
            &slug,
            &hook,
            header("x-switchyard-timestamp"),
            header("x-switchyard-signature"),
            &body,
        )
        .await;
    match answer {
        Ok(HookAnswer::Started(id)) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "run_id": id })),
        )
            .into_response(),
        Ok(HookAnswer::Finished(output)) => (StatusCode::OK, Json(output)).into_response(),
        Ok(HookAnswer::Failed(error)) => (
            StatusCode::BAD_GATEWAY,
            Json(serde_json::json!({"error": {"code": "run_failed", "message": error}})),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Make a new signing key for a webhook node (admin and up). From now on the webhook takes
/// only requests signed with it; the key is shown once.
#[utoipa::path(post, path = "/workspaces/{slug}/pipelines/{id}/hooks/{node}/signing-key", tag = "pipelines",
    params(("slug" = String, Path), ("id" = String, Path), ("node" = String, Path)),
    responses((status = 201, body = SigningKey), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn new_signing_key(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id, node)): Path<(String, String, String)>,
) -> ApiResult<(StatusCode, Json<SigningKey>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            control
                .pipelines
                .new_signing_key(&p, &slug, &id, &node)
                .await?,
        ),
    ))
}

/// Remove a webhook node's signing key (admin and up): it takes unsigned requests again.
#[utoipa::path(delete, path = "/workspaces/{slug}/pipelines/{id}/hooks/{node}/signing-key", tag = "pipelines",
    params(("slug" = String, Path), ("id" = String, Path), ("node" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_signing_key(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id, node)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    control
        .pipelines
        .remove_signing_key(&p, &slug, &id, &node)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's pipelines, each with its latest run.
#[utoipa::path(get, path = "/workspaces/{slug}/pipelines", tag = "pipelines", params(("slug" = String, Path)),
    responses((status = 200, body = [PipelineSummary]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_pipelines(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<PipelineSummary>>> {
    Ok(Json(control.pipelines.list(&p, &slug).await?))
}

/// Create a pipeline (developer and up). Its first version is live. A graph with problems
/// is refused with 422 and every problem (`error.problems`: node, edge, field, line,
/// message).
#[utoipa::path(post, path = "/workspaces/{slug}/pipelines", tag = "pipelines", params(("slug" = String, Path)),
    request_body = CreatePipeline,
    responses((status = 201, body = PipelineSaved), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_pipeline(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<CreatePipeline>,
) -> ApiResult<(StatusCode, Json<PipelineSaved>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.pipelines.create(&p, &slug, req).await?),
    ))
}

/// A pipeline: its latest version's graph, its live version and the live version's
/// triggers (a webhook's absolute URL).
#[utoipa::path(get, path = "/workspaces/{slug}/pipelines/{id}", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = PipelineView), (status = 404, body = ErrorBody)))]
pub async fn get_pipeline(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<PipelineView>> {
    Ok(Json(control.pipelines.get(&p, &slug, &id).await?))
}

/// Save a new version (developer and up); it becomes live unless `live` is false. 422 with
/// the problems of a graph that cannot be saved; 409 when someone saved meanwhile.
#[utoipa::path(put, path = "/workspaces/{slug}/pipelines/{id}", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    request_body = UpdatePipeline,
    responses((status = 200, body = PipelineSaved), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_pipeline(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdatePipeline>,
) -> ApiResult<Json<PipelineSaved>> {
    Ok(Json(control.pipelines.update(&p, &slug, &id, req).await?))
}

/// Delete a pipeline with its versions and runs (developer and up); running runs stop.
#[utoipa::path(delete, path = "/workspaces/{slug}/pipelines/{id}", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_pipeline(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    control.pipelines.delete(&p, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Check a graph without saving it: every problem, scripts' syntax errors with their lines.
#[utoipa::path(post, path = "/workspaces/{slug}/pipelines/check", tag = "pipelines", params(("slug" = String, Path)),
    request_body = Graph,
    responses((status = 200, body = Problems), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn check_graph(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(graph): ApiJson<Graph>,
) -> ApiResult<Json<Problems>> {
    Ok(Json(Problems {
        problems: control.pipelines.check(&p, &slug, graph).await?,
    }))
}

/// A pipeline's versions, newest first.
#[utoipa::path(get, path = "/workspaces/{slug}/pipelines/{id}/versions", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = [VersionView]), (status = 404, body = ErrorBody)))]
pub async fn list_versions(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<VersionView>>> {
    Ok(Json(control.pipelines.versions(&p, &slug, &id).await?))
}

/// One version of a pipeline.
#[utoipa::path(get, path = "/workspaces/{slug}/pipelines/{id}/versions/{version}", tag = "pipelines",
    params(("slug" = String, Path), ("id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, body = VersionView), (status = 404, body = ErrorBody)))]
pub async fn get_version(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id, version)): Path<(String, String, String)>,
) -> ApiResult<Json<VersionView>> {
    let version: i64 = version
        .parse()
        .map_err(|_| shared::error::ApiError::not_found("version"))?;
    Ok(Json(
        control.pipelines.version(&p, &slug, &id, version).await?,
    ))
}

/// Choose the version triggers start (developer and up).
#[utoipa::path(post, path = "/workspaces/{slug}/pipelines/{id}/live", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    request_body = SetLive,
    responses((status = 200, body = PipelineView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_live(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<SetLive>,
) -> ApiResult<Json<PipelineView>> {
    Ok(Json(control.pipelines.set_live(&p, &slug, &id, req).await?))
}

/// Query of a run list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Most runs answered (1-500, default 50).
    pub limit: Option<i64>,
}

/// A pipeline's runs, newest first: status, trigger, version, duration.
#[utoipa::path(get, path = "/workspaces/{slug}/pipelines/{id}/runs", tag = "pipelines",
    params(("slug" = String, Path), ("id" = String, Path), RunsQuery),
    responses((status = 200, body = [RunSummary]), (status = 404, body = ErrorBody)))]
pub async fn list_runs(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> ApiResult<Json<Vec<RunSummary>>> {
    Ok(Json(control.pipelines.runs(&p, &slug, &id, q.limit).await?))
}

/// Start a run of the live version (developer and up) with `input`.
#[utoipa::path(post, path = "/workspaces/{slug}/pipelines/{id}/runs", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    request_body = StartRun,
    responses((status = 201, body = RunStarted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn start_run(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<StartRun>,
) -> ApiResult<(StatusCode, Json<RunStarted>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.pipelines.start_run(&p, &slug, &id, req).await?),
    ))
}

/// A run: status, output or error, and per node its status, attempts, input, output,
/// logs and timing.
#[utoipa::path(get, path = "/workspaces/{slug}/runs/{id}", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RunView), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<RunView>> {
    Ok(Json(control.pipelines.run(&p, &slug, &id).await?))
}

/// Cancel a run (developer and up): it stops at once, running scripts and requests too.
#[utoipa::path(post, path = "/workspaces/{slug}/runs/{id}/cancel", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RunView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_run(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<RunView>> {
    Ok(Json(control.pipelines.cancel_run(&p, &slug, &id).await?))
}

/// Run a finished run again from `node` (developer and up), reusing the results of the
/// nodes before it.
#[utoipa::path(post, path = "/workspaces/{slug}/runs/{id}/rerun", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    request_body = RerunFrom,
    responses((status = 201, body = RunStarted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rerun(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<RerunFrom>,
) -> ApiResult<(StatusCode, Json<RunStarted>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.pipelines.rerun(&p, &slug, &id, req).await?),
    ))
}

/// A run live over WebSocket: `{"type": "run", "run": {...}}` whenever it changes and
/// `{"type": "started", "node": "..."}` when a node starts; closes after the run ends.
#[utoipa::path(get, path = "/workspaces/{slug}/runs/{id}/stream", tag = "pipelines", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 101, description = "WebSocket of run messages"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stream_run(
    ws: WebSocketUpgrade,
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    same_origin_socket(&control, &headers)?;
    // Authorised once here (the view answers 404 for a run the caller cannot see), and
    // again every few seconds while the stream lasts.
    let first = control.pipelines.run(&p, &slug, &id).await?;
    let credential = credential(&headers);
    Ok(ws.on_upgrade(move |socket| follow_run(control, slug, first, socket, credential)))
}

async fn send(socket: &mut WebSocket, message: serde_json::Value) -> bool {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .is_ok()
}

async fn follow_run(
    control: Arc<Control>,
    slug: String,
    first: RunView,
    mut socket: WebSocket,
    credential: Option<crate::jobs::http::Credential>,
) {
    let Some(p) = principal_again(&control, &credential).await else {
        return;
    };
    let Ok(access) = control
        .tenancy
        .authorize(&p, &slug, shared::roles::Permission::ReadWorkspace)
        .await
    else {
        return;
    };
    let tenant = access.tenant().to_string();
    let bus = control.jobs.engine().bus();
    // Listen before sending the first view, so nothing falls between the two.
    let (Ok(mut events), Ok(mut started)) = (
        bus.subscribe(&subjects::events(&tenant, &first.id)).await,
        bus.subscribe(&subjects::step_started(&tenant, &first.id))
            .await,
    ) else {
        return;
    };
    let id = first.id.clone();
    let mut last = first;
    if !send(
        &mut socket,
        serde_json::json!({"type": "run", "run": &last}),
    )
    .await
        || last.status.is_final()
    {
        let _ = socket.close().await;
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            event = events.next() => if event.is_none() { break },
            node = started.next() => match node {
                Some(message) => {
                    let node = String::from_utf8_lossy(&message.payload).into_owned();
                    if !send(&mut socket, serde_json::json!({"type": "started", "node": node})).await {
                        return;
                    }
                    continue;
                }
                None => break,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => continue,
            },
            _ = tick.tick() => {
                let allowed = match principal_again(&control, &credential).await {
                    Some(p) => control.pipelines.run(&p, &slug, &id).await.is_ok(),
                    None => false,
                };
                if !allowed {
                    break;
                }
            }
        }
        let Ok(now) = control.pipelines.run_view(access.tenant(), &id).await else {
            break;
        };
        if now != last {
            if !send(&mut socket, serde_json::json!({"type": "run", "run": &now})).await {
                return;
            }
            last = now;
        }
        if last.status.is_final() {
            break;
        }
    }
    let _ = socket.close().await;
}
