//! The REST API under `/api/v1`: every route of it is in [`router`], and every handler is
//! listed in the OpenAPI document ([`ApiDoc`]).

use crate::auth::sessions::clear_cookie;
use crate::control::{ControlResult, Failure};
use crate::http::error::error_response;
use crate::http::extract::{ApiJson, Caller, Client};
use crate::http::AppState;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use shared::api::*;
use shared::contracts::SignedIn;
use shared::error::{ApiError, ErrorBody};
use utoipa::OpenApi;

/// All `/api/v1` routes.
pub fn router(max_body_bytes: usize, upload_max_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/password", post(change_password))
        .route("/auth/sessions", get(list_sessions))
        .route("/auth/sessions/{id}", delete(revoke_session))
        .route("/auth/providers", get(providers))
        .route("/me", get(me))
        .route("/workspaces", get(list_workspaces).post(create_workspace))
        .route(
            "/workspaces/{slug}",
            get(get_workspace)
                .patch(rename_workspace)
                .delete(delete_workspace),
        )
        .route("/workspaces/{slug}/members", get(list_members))
        .route(
            "/workspaces/{slug}/members/{user_id}",
            patch(update_member).delete(remove_member),
        )
        .route(
            "/workspaces/{slug}/invitations",
            get(list_invitations).post(create_invitation),
        )
        .route(
            "/workspaces/{slug}/invitations/{id}",
            delete(revoke_invitation),
        )
        .route(
            "/workspaces/{slug}/api-keys",
            get(list_api_keys).post(create_api_key),
        )
        .route("/workspaces/{slug}/api-keys/{id}", delete(revoke_api_key))
        .route("/invitations/{token}", get(preview_invitation))
        .route("/invitations/{token}/accept", post(accept_invitation))
        .route("/openapi.json", get(openapi))
        .merge(crate::http::jobs::router())
        .merge(crate::http::code::router(upload_max_bytes))
        .fallback(|| async { error_response(ApiError::not_found("API route")) })
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

/// An id from the path; a malformed id names nothing that exists, so it is a 404.
pub(crate) fn path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, Failure> {
    raw.parse().map_err(|_| ApiError::not_found(what).into())
}

fn signed_in(s: SignedIn) -> Response {
    let mut response = Json(AuthResponse { user: s.user }).into_response();
    if let Ok(v) = HeaderValue::from_str(&s.set_cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// Create an account and sign in (sets the session cookie).
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 200, body = AuthResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn signup(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ControlResult<Response> {
    let s = state.control.sign_up(req, &client).await?;
    Ok(signed_in(s))
}

/// Sign in with e-mail and password (sets the session cookie).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ControlResult<Response> {
    let s = state.control.log_in(req, &client).await?;
    Ok(signed_in(s))
}

/// End the session and clear its cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, Caller(p): Caller) -> ControlResult<Response> {
    state.control.log_out(&p).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie(state.control.config().secure_cookies())) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Change the password; every session ends and a new one starts for this client.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    Caller(p): Caller,
    Client(client): Client,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ControlResult<Response> {
    let s = state.control.change_password(&p, req, &client).await?;
    Ok(signed_in(s))
}

/// The caller's live sessions.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth", responses((status = 200, body = [SessionView]), (status = 401, body = ErrorBody)))]
async fn list_sessions(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ControlResult<Json<Vec<SessionView>>> {
    Ok(Json(state.control.sessions(&p).await?))
}

/// End one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> ControlResult<StatusCode> {
    state
        .control
        .revoke_session(&p, path_id(&id, "session")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// OAuth2 providers offered for login (start one at `/auth/oauth/{id}/start`).
#[utoipa::path(get, path = "/api/v1/auth/providers", tag = "auth", responses((status = 200, body = [OAuthProvider])))]
async fn providers(State(state): State<AppState>) -> Json<Vec<OAuthProvider>> {
    Json(state.control.oauth_providers())
}

/// The signed-in user and their workspaces.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, Caller(p): Caller) -> ControlResult<Json<MeResponse>> {
    Ok(Json(state.control.me(&p).await?))
}

/// Workspaces the caller can see.
#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces", responses((status = 200, body = [Workspace]), (status = 401, body = ErrorBody)))]
async fn list_workspaces(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ControlResult<Json<Vec<Workspace>>> {
    Ok(Json(state.control.workspaces(&p).await?))
}

/// Create a workspace; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", request_body = CreateWorkspaceRequest,
    responses((status = 201, body = Workspace), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_workspace(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<CreateWorkspaceRequest>,
) -> ControlResult<(StatusCode, Json<Workspace>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.control.create_workspace(&p, req).await?),
    ))
}

/// One workspace.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}", tag = "workspaces", params(("slug" = String, Path)),
    responses((status = 200, body = Workspace), (status = 404, body = ErrorBody)))]
async fn get_workspace(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ControlResult<Json<Workspace>> {
    Ok(Json(state.control.workspace(&p, &slug).await?))
}

/// Rename a workspace (admin and up).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}", tag = "workspaces", params(("slug" = String, Path)), request_body = UpdateWorkspaceRequest,
    responses((status = 200, body = Workspace), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn rename_workspace(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<UpdateWorkspaceRequest>,
) -> ControlResult<Json<Workspace>> {
    Ok(Json(state.control.rename_workspace(&p, &slug, req).await?))
}

/// `?confirm=` of a workspace deletion.
#[derive(Deserialize, utoipa::IntoParams)]
struct DeleteConfirmation {
    /// The workspace's slug, typed again.
    #[serde(default)]
    confirm: String,
}

/// Delete a workspace and everything in it (owner only); `confirm` must repeat the slug.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}", tag = "workspaces", params(("slug" = String, Path), DeleteConfirmation),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn delete_workspace(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    Query(q): Query<DeleteConfirmation>,
) -> ControlResult<StatusCode> {
    state
        .control
        .delete_workspace(&p, &slug, &q.confirm)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The workspace's members.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/members", tag = "members", params(("slug" = String, Path)),
    responses((status = 200, body = [Member]), (status = 404, body = ErrorBody)))]
async fn list_members(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ControlResult<Json<Vec<Member>>> {
    Ok(Json(state.control.members(&p, &slug).await?))
}

/// Change a member's role (admin and up; the last owner stays owner).
#[utoipa::path(patch, path = "/api/v1/workspaces/{slug}/members/{user_id}", tag = "members", params(("slug" = String, Path), ("user_id" = String, Path)),
    request_body = UpdateMemberRequest, responses((status = 200, body = Member), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_member(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<UpdateMemberRequest>,
) -> ControlResult<Json<Member>> {
    let user_id = path_id(&user_id, "member")?;
    Ok(Json(
        state
            .control
            .change_member_role(&p, &slug, user_id, req.role)
            .await?,
    ))
}

/// Remove a member, or leave (the last owner cannot).
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/members/{user_id}", tag = "members", params(("slug" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_member(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, user_id)): Path<(String, String)>,
) -> ControlResult<StatusCode> {
    let user_id = path_id(&user_id, "member")?;
    state.control.remove_member(&p, &slug, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invitations not yet used (admin and up).
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/invitations", tag = "members", params(("slug" = String, Path)),
    responses((status = 200, body = [PendingInvitation]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_invitations(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ControlResult<Json<Vec<PendingInvitation>>> {
    Ok(Json(state.control.invitations(&p, &slug).await?))
}

/// Invite someone by e-mail; the answer holds the single-use link.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/invitations", tag = "members", params(("slug" = String, Path)), request_body = CreateInvitationRequest,
    responses((status = 201, body = InvitationCreated), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_invitation(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<CreateInvitationRequest>,
) -> ControlResult<(StatusCode, Json<InvitationCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.control.invite(&p, &slug, req).await?),
    ))
}

/// Withdraw an invitation.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/invitations/{id}", tag = "members", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_invitation(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<StatusCode> {
    state
        .control
        .revoke_invitation(&p, &slug, path_id(&id, "invitation")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an invitation offers (no sign-in needed; the token is the credential).
#[utoipa::path(get, path = "/api/v1/invitations/{token}", tag = "members", params(("token" = String, Path)),
    responses((status = 200, body = InvitationPreview), (status = 404, body = ErrorBody)))]
async fn preview_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ControlResult<Json<InvitationPreview>> {
    Ok(Json(state.control.invitation_preview(&token).await?))
}

/// Accept an invitation as the signed-in user.
#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", tag = "members", params(("token" = String, Path)),
    responses((status = 200, body = Workspace), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn accept_invitation(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(token): Path<String>,
) -> ControlResult<Json<Workspace>> {
    Ok(Json(state.control.accept_invitation(&p, &token).await?))
}

/// The workspace's API keys (admin and up); never the secrets.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/api-keys", tag = "api-keys", params(("slug" = String, Path)),
    responses((status = 200, body = [ApiKey]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_api_keys(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ControlResult<Json<Vec<ApiKey>>> {
    Ok(Json(state.control.api_keys(&p, &slug).await?))
}

/// Create an API key; `key` in the answer is the only time the secret is shown.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/api-keys", tag = "api-keys", params(("slug" = String, Path)), request_body = CreateApiKeyRequest,
    responses((status = 201, body = ApiKeyCreated), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_api_key(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<CreateApiKeyRequest>,
) -> ControlResult<(StatusCode, Json<ApiKeyCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.control.create_api_key(&p, &slug, req).await?),
    ))
}

/// Revoke an API key.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/api-keys/{id}", tag = "api-keys", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<StatusCode> {
    state
        .control
        .revoke_api_key(&p, &slug, path_id(&id, "API key")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This document.
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The OpenAPI description of `/api/v1`, generated from the handlers above.
#[derive(OpenApi)]
#[openapi(
    info(title = "Switchyard API", description = "Workspaces, members, invitations and API keys. Authenticate with the session cookie or `Authorization: Bearer <API key>`."),
    paths(signup, login, logout, providers, change_password, list_sessions, revoke_session, me, list_workspaces, create_workspace,
        get_workspace, rename_workspace, delete_workspace, list_members, update_member, remove_member, list_invitations,
        create_invitation, revoke_invitation, preview_invitation, accept_invitation, list_api_keys, create_api_key, revoke_api_key,
        crate::http::jobs::submit_job, crate::http::jobs::list_jobs, crate::http::jobs::get_job, crate::http::jobs::job_logs,
        crate::http::jobs::cancel_job, crate::http::jobs::retry_job, crate::http::jobs::list_workers, crate::http::jobs::stream_job, crate::http::jobs::list_pools,
        crate::http::code::add_repository, crate::http::code::upload_repository, crate::http::code::list_repositories,
        crate::http::code::get_repository, crate::http::code::delete_repository, crate::http::code::reindex_repository,
        crate::http::code::repository_runs, crate::http::code::file_outline, crate::http::code::search,
        crate::http::code::definitions, crate::http::code::symbol, crate::http::code::callers, crate::http::code::callees),
    components(schemas(ErrorBody, shared::error::ApiError, shared::error::ErrorCode, shared::roles::Role)),
    tags((name = "auth"), (name = "workspaces"), (name = "members"), (name = "api-keys"), (name = "jobs"), (name = "code"))
)]
pub struct ApiDoc;
