//! The routes, topics and deploys API: every route of it in [`router`].

use super::ops::DeployOutcome;
use crate::control::Control;
use crate::http::extract::{ApiJson, Caller};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use shared::error::{ApiResult, ErrorBody};
use shared::routes::views::{
    CreateSubscriber, CreateTopic, Created, DeadLetterView, DeployView, Deployed, MessageView,
    PlanView, Published, RouteBody, RouteLogs, RouteView, TopicView,
};
use shared::routes::{Manifest, Problem};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/api/v1/workspaces/{slug}/routes`, `/topics` and `/deploys` routes, each with its
/// OpenAPI entry.
pub fn router() -> OpenApiRouter<Arc<Control>> {
    OpenApiRouter::new()
        .routes(routes!(list_routes, create_route))
        .routes(routes!(get_route, update_route, delete_route))
        .routes(routes!(list_topics, create_topic))
        .routes(routes!(delete_topic))
        .routes(routes!(create_subscriber))
        .routes(routes!(delete_subscriber))
        .routes(routes!(publish, messages))
        .routes(routes!(dead_letters))
        .routes(routes!(replay))
        .routes(routes!(get_plan, plan_manifest))
        .routes(routes!(get_drafts, replace_drafts))
        .routes(routes!(list_deploys, deploy))
        .routes(routes!(get_manifest))
        .routes(routes!(rollback))
        .routes(routes!(route_logs))
}

/// The workspace's draft routes (each says whether the live deploy serves it as it is).
#[utoipa::path(get, path = "/workspaces/{slug}/routes", tag = "routes", params(("slug" = String, Path)),
    responses((status = 200, body = [RouteView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_routes(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<RouteView>>> {
    Ok(Json(control.routes.routes(&p, &slug).await?))
}

/// Add a draft route (developer and up; a route with `settings.auth` other than public:
/// admin and up). It is served after the next deploy. 422 naming the field at fault (a bad
/// path pattern: `path`; a script's syntax error: `handler.source` with its line); 409 for
/// a second route with the same method and path.
#[utoipa::path(post, path = "/workspaces/{slug}/routes", tag = "routes", params(("slug" = String, Path)),
    request_body = RouteBody,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_route(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<RouteBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.routes.create_route(&p, &slug, body).await?),
    ))
}

/// A draft route.
#[utoipa::path(get, path = "/workspaces/{slug}/routes/{id}", tag = "routes", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RouteView), (status = 404, body = ErrorBody)))]
pub async fn get_route(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<RouteView>> {
    Ok(Json(control.routes.route(&p, &slug, &id).await?))
}

/// Replace a draft route's definition (developer and up; changing `settings.auth`: admin
/// and up).
#[utoipa::path(put, path = "/workspaces/{slug}/routes/{id}", tag = "routes", params(("slug" = String, Path), ("id" = String, Path)),
    request_body = RouteBody,
    responses((status = 200, body = RouteView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_route(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RouteBody>,
) -> ApiResult<Json<RouteView>> {
    Ok(Json(
        control.routes.update_route(&p, &slug, &id, body).await?,
    ))
}

/// Delete a draft route (developer and up); the live deploy serves it until the next.
#[utoipa::path(delete, path = "/workspaces/{slug}/routes/{id}", tag = "routes", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_route(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    control.routes.delete_route(&p, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's draft topics with their subscribers.
#[utoipa::path(get, path = "/workspaces/{slug}/topics", tag = "routes", params(("slug" = String, Path)),
    responses((status = 200, body = [TopicView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_topics(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<TopicView>>> {
    Ok(Json(control.routes.topics(&p, &slug).await?))
}

/// Add a draft topic (developer and up).
#[utoipa::path(post, path = "/workspaces/{slug}/topics", tag = "routes", params(("slug" = String, Path)),
    request_body = CreateTopic,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_topic(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<CreateTopic>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.routes.create_topic(&p, &slug, body).await?),
    ))
}

/// Delete a draft topic with its subscribers (developer and up).
#[utoipa::path(delete, path = "/workspaces/{slug}/topics/{name}", tag = "routes", params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_topic(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    control.routes.delete_topic(&p, &slug, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a draft subscriber to a topic (developer and up).
#[utoipa::path(post, path = "/workspaces/{slug}/topics/{name}/subscribers", tag = "routes",
    params(("slug" = String, Path), ("name" = String, Path)),
    request_body = CreateSubscriber,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_subscriber(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<CreateSubscriber>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            control
                .routes
                .create_subscriber(&p, &slug, &name, body)
                .await?,
        ),
    ))
}

/// Delete a draft subscriber (developer and up).
#[utoipa::path(delete, path = "/workspaces/{slug}/topics/{name}/subscribers/{id}", tag = "routes",
    params(("slug" = String, Path), ("name" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_subscriber(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    control
        .routes
        .delete_subscriber(&p, &slug, &name, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publish a message (any JSON body) to a deployed topic (developer and up): 202 with its
/// id; each of the live topic's subscribers gets it at least once, retried with backoff,
/// in no promised order.
#[utoipa::path(post, path = "/workspaces/{slug}/topics/{name}/messages", tag = "routes",
    params(("slug" = String, Path), ("name" = String, Path)),
    request_body = Object,
    responses((status = 202, body = Published), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<Published>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(control.routes.publish(&p, &slug, &name, body).await?),
    ))
}

/// Which of a topic's messages to read.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Messages published at or after this time (Unix ms), oldest first; without it, the
    /// latest.
    since: Option<i64>,
    /// At most this many (1-500, default 50).
    limit: Option<usize>,
}

/// A topic's messages (kept for the topic's retention), oldest first, each with how its
/// deliveries stand: the topic's live tail. To follow it, ask again with `since` a little
/// before the newest message's `at` and skip the ids already seen (or show their
/// deliveries' new state).
#[utoipa::path(get, path = "/workspaces/{slug}/topics/{name}/messages", tag = "routes",
    params(("slug" = String, Path), ("name" = String, Path), MessageQuery),
    responses((status = 200, body = [MessageView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn messages(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name)): Path<(String, String)>,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<MessageQuery>,
) -> ApiResult<Json<Vec<MessageView>>> {
    Ok(Json(
        control
            .routes
            .messages(&p, &slug, &name, q.since, q.limit.unwrap_or(50))
            .await?,
    ))
}

/// A topic's dead letters: messages a subscriber could not take within its attempts, not
/// replayed yet, newest first.
#[utoipa::path(get, path = "/workspaces/{slug}/topics/{name}/dead-letters", tag = "routes",
    params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = [DeadLetterView]), (status = 404, body = ErrorBody)))]
pub async fn dead_letters(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<Json<Vec<DeadLetterView>>> {
    Ok(Json(control.routes.dead_letters(&p, &slug, &name).await?))
}

/// Deliver a dead letter's message again to its subscriber (developer and up), as a new
/// delivery with all its attempts; answers the new delivery's job id.
#[utoipa::path(post, path = "/workspaces/{slug}/topics/{name}/dead-letters/{job}/replay", tag = "routes",
    params(("slug" = String, Path), ("name" = String, Path), ("job" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn replay(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name, job)): Path<(String, String, String)>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.routes.replay(&p, &slug, &name, &job).await?),
    ))
}

/// What deploying the drafts now would add, change (field by field) and remove against
/// the live deploy, and the problems that would refuse it.
#[utoipa::path(get, path = "/workspaces/{slug}/deploys/plan", tag = "routes", params(("slug" = String, Path)),
    responses((status = 200, body = PlanView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_plan(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(control.routes.plan(&p, &slug).await?))
}

/// The workspace's deploys, newest (the live one) first.
#[utoipa::path(get, path = "/workspaces/{slug}/deploys", tag = "routes", params(("slug" = String, Path)),
    responses((status = 200, body = [DeployView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_deploys(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<DeployView>>> {
    Ok(Json(control.routes.deploys(&p, &slug).await?))
}

/// The 422 of a refused deploy: the error shape with every problem.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DeployRefused {
    /// The error.
    pub error: RefusedError,
}

/// Why a deploy was refused.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RefusedError {
    /// Always `validation`.
    pub code: String,
    /// A summary.
    pub message: String,
    /// Every problem, with the definition and field it concerns.
    pub problems: Vec<Problem>,
}

/// Apply the drafts (developer and up): the gateway switches to them in one step; requests
/// in flight finish on the version they started with. 422 with every problem when the plan
/// has any; 409 when there is nothing to deploy.
#[utoipa::path(post, path = "/workspaces/{slug}/deploys", tag = "routes", params(("slug" = String, Path)),
    responses((status = 201, body = Deployed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = DeployRefused)))]
pub async fn deploy(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    Ok(match control.routes.deploy(&p, &slug).await? {
        DeployOutcome::Applied(deployed) => (StatusCode::CREATED, Json(deployed)).into_response(),
        DeployOutcome::Refused(problems) => refused("not deployed", problems),
    })
}

/// The 422 answer with every problem.
fn refused(what: &str, problems: Vec<Problem>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(DeployRefused {
            error: RefusedError {
                code: "validation".into(),
                message: shared::routes::validate::refusal(what, &problems),
                problems,
            },
        }),
    )
        .into_response()
}

/// What deploying a manifest would change now, and every problem that would refuse it;
/// nothing is saved (`switchyard plan`).
#[utoipa::path(post, path = "/workspaces/{slug}/deploys/plan", tag = "routes", params(("slug" = String, Path)),
    request_body = Manifest,
    responses((status = 200, body = PlanView), (status = 404, body = ErrorBody)))]
pub async fn plan_manifest(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(manifest): ApiJson<Manifest>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(
        control.routes.plan_manifest(&p, &slug, manifest).await?,
    ))
}

/// Every draft route, topic and subscriber as one manifest (the shape deploys' manifests
/// have).
#[utoipa::path(get, path = "/workspaces/{slug}/drafts", tag = "routes", params(("slug" = String, Path)),
    responses((status = 200, body = Manifest), (status = 404, body = ErrorBody)))]
pub async fn get_drafts(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Manifest>> {
    Ok(Json(control.routes.drafts(&p, &slug).await?))
}

/// Replace every draft with a manifest's definitions (developer and up; a change to a
/// route's auth needs an admin), in one step, and answer the plan against what is live.
/// 422 with every problem, and nothing replaced, when the manifest has any. What
/// `switchyard plan` and `switchyard deploy` send.
#[utoipa::path(put, path = "/workspaces/{slug}/drafts", tag = "routes", params(("slug" = String, Path)),
    request_body = Manifest,
    responses((status = 200, body = PlanView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = DeployRefused)))]
pub async fn replace_drafts(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(manifest): ApiJson<Manifest>,
) -> ApiResult<Response> {
    Ok(
        match control.routes.replace_drafts(&p, &slug, manifest).await? {
            Ok(plan) => Json(plan).into_response(),
            Err(problems) => refused("not saved", problems),
        },
    )
}

/// A deploy's manifest, as applied (canonical JSON; `switchyard deploy` takes it back
/// unchanged).
#[utoipa::path(get, path = "/workspaces/{slug}/deploys/{id}/manifest", tag = "routes",
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Manifest), (status = 404, body = ErrorBody)))]
pub async fn get_manifest(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<Manifest>> {
    Ok(Json(control.routes.manifest(&p, &slug, &id).await?))
}

/// Make an earlier deploy live again (developer and up), as a new deploy. The drafts stay
/// as they are.
#[utoipa::path(post, path = "/workspaces/{slug}/deploys/{id}/rollback", tag = "routes",
    params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 201, body = Deployed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn rollback(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Deployed>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.routes.rollback(&p, &slug, &id).await?),
    ))
}

/// Which route log lines to read.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RouteLogQuery {
    /// Only this route's lines (`GET /users/{id}`; `unmatched` for requests no route
    /// matched).
    route: Option<String>,
    /// Lines at or after this time (Unix ms), oldest first; without it, the latest lines.
    since: Option<i64>,
    /// At most this many (1-1000, default 200).
    limit: Option<usize>,
}

/// The workspace's route logs: per request an access line (with its status and duration),
/// and the lines its handler logged or why it failed. Kept for 7 days. To follow them, ask
/// again with `since` a little before the last line's `at` and skip the ids already seen.
#[utoipa::path(get, path = "/workspaces/{slug}/logs", tag = "routes", params(("slug" = String, Path), RouteLogQuery),
    responses((status = 200, body = RouteLogs), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn route_logs(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<RouteLogQuery>,
) -> ApiResult<Json<RouteLogs>> {
    let query = super::logs::LogQuery {
        route: q.route.filter(|r| !r.is_empty()),
        since: q.since,
        limit: q.limit.unwrap_or(200),
    };
    Ok(Json(control.routes.logs(&p, &slug, query).await?))
}
