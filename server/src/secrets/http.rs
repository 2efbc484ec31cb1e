//! The secrets API, every route of it in [`router`]. Values go in; they never come out.

use crate::control::Control;
use crate::http::extract::{ApiJson, Caller};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use shared::error::{ApiResult, ErrorBody};
use shared::secrets::{SecretView, SetSecretRequest};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/api/v1/workspaces/{slug}/secrets` routes, each with its OpenAPI entry.
pub fn router() -> OpenApiRouter<Arc<Control>> {
    OpenApiRouter::new()
        .routes(routes!(list_secrets))
        .routes(routes!(set_secret, delete_secret))
}

/// The workspace's secrets: names, who set each and when; never the values.
#[utoipa::path(get, path = "/workspaces/{slug}/secrets", tag = "secrets", params(("slug" = String, Path)),
    responses((status = 200, body = [SecretView]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_secrets(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<SecretView>>> {
    Ok(Json(control.secrets.list(&p, &slug).await?))
}

/// Set a secret (admin and up): 201 when new, 200 when its value was replaced. The value
/// is write-only.
#[utoipa::path(put, path = "/workspaces/{slug}/secrets/{name}", tag = "secrets",
    params(("slug" = String, Path), ("name" = String, Path, description = "Capital letters, digits and underscores: GITHUB_TOKEN")),
    request_body = SetSecretRequest,
    responses((status = 200, body = SecretView), (status = 201, body = SecretView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_secret(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name)): Path<(String, String)>,
    ApiJson(req): ApiJson<SetSecretRequest>,
) -> ApiResult<(StatusCode, Json<SecretView>)> {
    let (view, created) = control.secrets.set(&p, &slug, &name, req).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

/// Delete a secret (admin and up).
#[utoipa::path(delete, path = "/workspaces/{slug}/secrets/{name}", tag = "secrets", params(("slug" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_secret(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    control.secrets.delete(&p, &slug, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
