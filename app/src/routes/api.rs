//! The routes, topics and deploys server functions. Forms send text; the route form is read
//! by `shared::routes::form` (the same field names the API's errors use) and everything
//! else by the same validation the API runs.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::{console, session};
use leptos::prelude::*;
use shared::routes::views::{
    Created, DeadLetterView, DeployView, Deployed, MessageView, PlanView, Published, RouteActivity,
    RouteView, TopicView, TryResponse,
};

#[cfg(feature = "ssr")]
fn field(e: shared::error::FieldError) -> AppError {
    AppError::Api(shared::error::ApiError::field(e.field, e.message))
}

/// The workspace's draft routes.
#[server]
pub async fn list_routes(slug: String) -> Result<Vec<RouteView>, AppError> {
    Ok(console()?.routes.routes(&session(), &slug).await?)
}

/// One draft route.
#[server]
pub async fn get_route(slug: String, id: String) -> Result<RouteView, AppError> {
    Ok(console()?.routes.route(&session(), &slug, &id).await?)
}

/// Adds a draft route (no `id`) or replaces one.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn save_route(
    slug: String,
    id: Option<String>,
    method: String,
    path: String,
    kind: String,
    status: Option<String>,
    body: Option<String>,
    source: Option<String>,
    topic: Option<String>,
    pipeline_id: Option<String>,
    timeout_ms: Option<String>,
    rate_limit: Option<String>,
    max_body_bytes: Option<String>,
    auth: Option<String>,
    cors_origins: Option<String>,
) -> Result<Created, AppError> {
    let form = shared::routes::form::RouteForm {
        method,
        path,
        kind,
        status: status.unwrap_or_default(),
        body: body.unwrap_or_default(),
        source: source.unwrap_or_default(),
        topic: topic.unwrap_or_default(),
        pipeline_id: pipeline_id.unwrap_or_default(),
        timeout_ms: timeout_ms.unwrap_or_default(),
        rate_limit: rate_limit.unwrap_or_default(),
        max_body_bytes: max_body_bytes.unwrap_or_default(),
        auth: auth.unwrap_or_default(),
        cors_origins: cors_origins.unwrap_or_default(),
    };
    let route = form.to_body().map_err(field)?;
    let routes = console()?.routes;
    match id.filter(|i| !i.is_empty()) {
        Some(id) => {
            let saved = routes.update_route(&session(), &slug, &id, route).await?;
            Ok(Created { id: saved.id })
        }
        None => Ok(routes.create_route(&session(), &slug, route).await?),
    }
}

/// Deletes a draft route.
#[server]
pub async fn delete_route(slug: String, id: String) -> Result<(), AppError> {
    Ok(console()?
        .routes
        .delete_route(&session(), &slug, &id)
        .await?)
}

/// What a deploy would change now.
#[server]
pub async fn get_plan(slug: String) -> Result<PlanView, AppError> {
    Ok(console()?.routes.plan(&session(), &slug).await?)
}

/// Applies the drafts.
#[server]
pub async fn deploy(slug: String) -> Result<Deployed, AppError> {
    Ok(console()?.routes.deploy(&session(), &slug).await?)
}

/// The deploy history.
#[server]
pub async fn list_deploys(slug: String) -> Result<Vec<DeployView>, AppError> {
    Ok(console()?.routes.deploys(&session(), &slug).await?)
}

/// A deploy's manifest, as pretty JSON.
#[server]
pub async fn get_manifest(slug: String, id: String) -> Result<String, AppError> {
    let manifest = console()?.routes.manifest(&session(), &slug, &id).await?;
    serde_json::to_string_pretty(&manifest).map_err(|e| AppError::Transport(e.to_string()))
}

/// Deploys an earlier deploy's manifest again.
#[server]
pub async fn rollback(slug: String, id: String) -> Result<Deployed, AppError> {
    Ok(console()?.routes.rollback(&session(), &slug, &id).await?)
}

/// The workspace's draft topics.
#[server]
pub async fn list_topics(slug: String) -> Result<Vec<TopicView>, AppError> {
    Ok(console()?.routes.topics(&session(), &slug).await?)
}

/// Adds a draft topic.
#[server]
pub async fn create_topic(
    slug: String,
    name: String,
    retention_hours: Option<String>,
) -> Result<Created, AppError> {
    let retention_hours = match retention_hours.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<u32>().map_err(|_| {
            AppError::Api(shared::error::ApiError::field(
                "retention_hours",
                "must be a whole number of hours",
            ))
        })?),
    };
    let body = shared::routes::views::CreateTopic {
        name: name.trim().to_owned(),
        retention_hours,
    };
    Ok(console()?
        .routes
        .create_topic(&session(), &slug, body)
        .await?)
}

/// Deletes a draft topic.
#[server]
pub async fn delete_topic(slug: String, name: String) -> Result<(), AppError> {
    Ok(console()?
        .routes
        .delete_topic(&session(), &slug, &name)
        .await?)
}

/// Adds a subscriber to a draft topic: a pipeline when one is chosen, else the script.
#[server]
pub async fn add_subscriber(
    slug: String,
    topic: String,
    name: Option<String>,
    pipeline_id: Option<String>,
    source: Option<String>,
    max_attempts: Option<String>,
) -> Result<Created, AppError> {
    let max_attempts = match max_attempts.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<u32>().map_err(|_| {
            AppError::Api(shared::error::ApiError::field(
                "max_attempts",
                "must be a whole number",
            ))
        })?),
    };
    let body = shared::routes::views::CreateSubscriber {
        name: name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
        handler: match pipeline_id.filter(|p| !p.is_empty()) {
            Some(pipeline_id) => shared::routes::SubscriberHandler::Pipeline { pipeline_id },
            None => shared::routes::SubscriberHandler::Script {
                source: source.unwrap_or_default(),
            },
        },
        max_attempts,
        timeout_ms: None,
    };
    Ok(console()?
        .routes
        .create_subscriber(&session(), &slug, &topic, body)
        .await?)
}

/// Deletes a draft subscriber.
#[server]
pub async fn delete_subscriber(slug: String, topic: String, id: String) -> Result<(), AppError> {
    Ok(console()?
        .routes
        .delete_subscriber(&session(), &slug, &topic, &id)
        .await?)
}

/// Publishes a JSON message to a live topic.
#[server]
pub async fn publish(slug: String, topic: String, body: String) -> Result<Published, AppError> {
    let body: serde_json::Value = serde_json::from_str(&body).map_err(|e| {
        AppError::Api(shared::error::ApiError::field(
            "body",
            format!("is not JSON: {e}"),
        ))
    })?;
    Ok(console()?
        .routes
        .publish(&session(), &slug, &topic, body)
        .await?)
}

/// A topic's latest messages with how each delivery stands.
#[server]
pub async fn list_messages(slug: String, topic: String) -> Result<Vec<MessageView>, AppError> {
    Ok(console()?
        .routes
        .messages(&session(), &slug, &topic)
        .await?)
}

/// A topic's dead letters.
#[server]
pub async fn list_dead_letters(
    slug: String,
    topic: String,
) -> Result<Vec<DeadLetterView>, AppError> {
    Ok(console()?
        .routes
        .dead_letters(&session(), &slug, &topic)
        .await?)
}

/// Delivers a dead letter again.
#[server]
pub async fn replay(slug: String, topic: String, job: String) -> Result<Created, AppError> {
    Ok(console()?
        .routes
        .replay(&session(), &slug, &topic, &job)
        .await?)
}

/// Sends a request to the live deploy through the gateway.
#[server]
pub async fn try_request(
    slug: String,
    method: String,
    path: String,
    headers: Option<String>,
    body: Option<String>,
) -> Result<TryResponse, AppError> {
    let req = shared::routes::views::TryRequest {
        method,
        path,
        headers: headers.unwrap_or_default(),
        body: body.unwrap_or_default(),
    };
    Ok(console()?
        .routes
        .try_request(&session(), &slug, req)
        .await?)
}

/// A route's last hour: requests per minute, latency, its latest log lines.
#[server]
pub async fn get_route_activity(slug: String, route: String) -> Result<RouteActivity, AppError> {
    Ok(console()?
        .routes
        .route_activity(&session(), &slug, &route)
        .await?)
}
