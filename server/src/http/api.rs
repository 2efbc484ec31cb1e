//! The REST API under `/api/v1`: each domain declares its routes in its own `http.rs`, each
//! route and its OpenAPI entry in one declaration (utoipa-axum); this file mounts them and
//! serves the OpenAPI document they make.

use crate::control::Control;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router};
use shared::error::{ApiError, ErrorBody};
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Every domain's `/api/v1` routes, and the OpenAPI document they make.
fn routes() -> (Router<Arc<Control>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .merge(crate::accounts::http::router())
                .merge(crate::tenancy::http::router())
                .merge(crate::jobs::http::router())
                .merge(crate::code::http::router())
                .merge(crate::secrets::http::router())
                .merge(crate::pipelines::http::router())
                .merge(crate::routes::http::router()),
        )
        .split_for_parts()
}

/// The OpenAPI document of the REST API (`switchyard openapi` prints it).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// All `/api/v1` routes and the OpenAPI document describing exactly them.
pub fn router(max_body_bytes: usize) -> Router<Arc<Control>> {
    let (api, doc) = routes();
    let doc = Arc::new(doc);
    let openapi = get(move || {
        let doc = doc.clone();
        async move { Json(doc.as_ref().clone()) }
    });
    Router::new()
        .nest(
            "/api/v1",
            Router::new()
                .route("/openapi.json", openapi)
                .fallback(|| async { ApiError::not_found("API route") }),
        )
        .merge(api)
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

/// The document's frame: title, description, shared schemas and tags. The paths come from
/// the routes.
#[derive(OpenApi)]
#[openapi(
    info(title = "Switchyard API", description = "Workspaces, members, invitations, API keys, secrets, jobs, code intelligence, pipelines, and routes, topics and deploys. Authenticate with the session cookie or `Authorization: Bearer <API key>`."),
    components(schemas(ErrorBody, shared::error::ApiError, shared::error::ErrorCode, shared::roles::Role)),
    tags((name = "auth"), (name = "workspaces"), (name = "members"), (name = "api-keys"), (name = "secrets"), (name = "jobs"), (name = "code"), (name = "pipelines"), (name = "routes"))
)]
pub struct ApiDoc;
