//! The workspaces API: workspaces, members, invitations and API keys (and `/me`, the caller
//! with their workspaces), every route of it in [`router`].

use crate::control::Control;
use crate::http::extract::{path_id, ApiJson, Caller};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use shared::api::*;
use shared::error::{ApiResult, ErrorBody};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/api/v1/me`, `/workspaces` and `/invitations` routes, each with its OpenAPI entry.
pub fn router() -> OpenApiRouter<Arc<Control>> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list_workspaces, create_workspace))
        .routes(routes!(get_workspace, rename_workspace, delete_workspace))
        .routes(routes!(list_members))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(list_invitations, create_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
        .routes(routes!(preview_invitation))
        .routes(routes!(accept_invitation))
}

/// The signed-in user and their workspaces.
#[utoipa::path(get, path = "/me", tag = "auth", responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
) -> ApiResult<Json<MeResponse>> {
    Ok(Json(control.tenancy.me(&p).await?))
}

/// Workspaces the caller can see.
#[utoipa::path(get, path = "/workspaces", tag = "workspaces", responses((status = 200, body = [Workspace]), (status = 401, body = ErrorBody)))]
pub async fn list_workspaces(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
) -> ApiResult<Json<Vec<Workspace>>> {
    Ok(Json(control.tenancy.workspaces(&p).await?))
}

/// Create a workspace; the caller becomes its owner.
#[utoipa::path(post, path = "/workspaces", tag = "workspaces", request_body = CreateWorkspaceRequest,
    responses((status = 201, body = Workspace), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_workspace(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<CreateWorkspaceRequest>,
) -> ApiResult<(StatusCode, Json<Workspace>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.tenancy.create_workspace(&p, req).await?),
    ))
}

/// One workspace.
#[utoipa::path(get, path = "/workspaces/{slug}", tag = "workspaces", params(("slug" = String, Path)),
    responses((status = 200, body = Workspace), (status = 404, body = ErrorBody)))]
pub async fn get_workspace(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Workspace>> {
    Ok(Json(control.tenancy.workspace(&p, &slug).await?))
}

/// Rename a workspace (admin and up).
#[utoipa::path(patch, path = "/workspaces/{slug}", tag = "workspaces", params(("slug" = String, Path)), request_body = UpdateWorkspaceRequest,
    responses((status = 200, body = Workspace), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rename_workspace(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<UpdateWorkspaceRequest>,
) -> ApiResult<Json<Workspace>> {
    Ok(Json(
        control.tenancy.rename_workspace(&p, &slug, req).await?,
    ))
}

/// `?confirm=` of a workspace deletion.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteConfirmation {
    /// The workspace's slug, typed again.
    #[serde(default)]
    confirm: String,
}

/// Delete a workspace and everything in it (owner only); `confirm` must repeat the slug.
#[utoipa::path(delete, path = "/workspaces/{slug}", tag = "workspaces", params(("slug" = String, Path), DeleteConfirmation),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn delete_workspace(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    Query(q): Query<DeleteConfirmation>,
) -> ApiResult<StatusCode> {
    control
        .tenancy
        .delete_workspace(&p, &slug, &q.confirm)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's members.
#[utoipa::path(get, path = "/workspaces/{slug}/members", tag = "members", params(("slug" = String, Path)),
    responses((status = 200, body = [Member]), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<Member>>> {
    Ok(Json(control.tenancy.members(&p, &slug).await?))
}

/// Change a member's role (admin and up; the last owner stays owner).
#[utoipa::path(patch, path = "/workspaces/{slug}/members/{user_id}", tag = "members", params(("slug" = String, Path), ("user_id" = String, Path)),
    request_body = UpdateMemberRequest, responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_member(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateMemberRequest>,
) -> ApiResult<Json<Member>> {
    let user_id = path_id(&user_id, "member")?;
    Ok(Json(
        control
            .tenancy
            .change_member_role(&p, &slug, user_id, req.role)
            .await?,
    ))
}

/// Remove a member, or leave (the last owner cannot).
#[utoipa::path(delete, path = "/workspaces/{slug}/members/{user_id}", tag = "members", params(("slug" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user_id = path_id(&user_id, "member")?;
    control.tenancy.remove_member(&p, &slug, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invitations not yet used (admin and up).
#[utoipa::path(get, path = "/workspaces/{slug}/invitations", tag = "members", params(("slug" = String, Path)),
    responses((status = 200, body = [PendingInvitation]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_invitations(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<PendingInvitation>>> {
    Ok(Json(control.tenancy.invitations(&p, &slug).await?))
}

/// Invite someone by e-mail; the answer holds the single-use link.
#[utoipa::path(post, path = "/workspaces/{slug}/invitations", tag = "members", params(("slug" = String, Path)), request_body = CreateInvitationRequest,
    responses((status = 201, body = InvitationCreated), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_invitation(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<CreateInvitationRequest>,
) -> ApiResult<(StatusCode, Json<InvitationCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.tenancy.invite(&p, &slug, req).await?),
    ))
}

/// Withdraw an invitation.
#[utoipa::path(delete, path = "/workspaces/{slug}/invitations/{id}", tag = "members", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_invitation(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    control
        .tenancy
        .revoke_invitation(&p, &slug, path_id(&id, "invitation")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invitation offers (no sign-in needed; the token is the credential).
#[utoipa::path(get, path = "/invitations/{token}", tag = "members", params(("token" = String, Path)),
    responses((status = 200, body = InvitationPreview), (status = 404, body = ErrorBody)))]
pub async fn preview_invitation(
    State(control): State<Arc<Control>>,
    Path(token): Path<String>,
) -> ApiResult<Json<InvitationPreview>> {
    Ok(Json(control.tenancy.invitation_preview(&token).await?))
}

/// Accept an invitation as the signed-in user.
#[utoipa::path(post, path = "/invitations/{token}/accept", tag = "members", params(("token" = String, Path)),
    responses((status = 200, body = Workspace), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn accept_invitation(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(token): Path<String>,
) -> ApiResult<Json<Workspace>> {
    Ok(Json(control.tenancy.accept_invitation(&p, &token).await?))
}

/// The workspace's API keys (admin and up); never the secrets.
#[utoipa::path(get, path = "/workspaces/{slug}/api-keys", tag = "api-keys", params(("slug" = String, Path)),
    responses((status = 200, body = [ApiKey]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_api_keys(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<ApiKey>>> {
    Ok(Json(control.tenancy.api_keys(&p, &slug).await?))
}

/// Create an API key; `key` in the answer is the only time the secret is shown.
#[utoipa::path(post, path = "/workspaces/{slug}/api-keys", tag = "api-keys", params(("slug" = String, Path)), request_body = CreateApiKeyRequest,
    responses((status = 201, body = ApiKeyCreated), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_api_key(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, Json<ApiKeyCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.tenancy.create_api_key(&p, &slug, req).await?),
    ))
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/workspaces/{slug}/api-keys/{id}", tag = "api-keys", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_api_key(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    control
        .tenancy
        .revoke_api_key(&p, &slug, path_id(&id, "API key")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
