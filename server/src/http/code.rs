//! The code intelligence API: every route of the area in [`router`].

use crate::control::ControlResult;
use crate::http::extract::{ApiJson, ApiQuery, Caller};
use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use shared::code::{
    AddRepositoryRequest, CodeQuery, FileOutline, RelatedList, RepositoryAccepted, RepositoryView,
    SearchResponse, SymbolDetail, SymbolView,
};
use shared::error::ErrorBody;
use shared::jobs::JobView;

/// The `/api/v1/workspaces/{slug}/code` routes. Uploads may be as large as
/// `CODE_UPLOAD_MAX_BYTES`.
pub fn router(upload_max_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/workspaces/{slug}/code/repositories",
            get(list_repositories).post(add_repository),
        )
        .route(
            "/workspaces/{slug}/code/repositories/upload",
            post(upload_repository).layer(DefaultBodyLimit::max(upload_max_bytes)),
        )
        .route(
            "/workspaces/{slug}/code/repositories/{id}",
            get(get_repository).delete(delete_repository),
        )
        .route(
            "/workspaces/{slug}/code/repositories/{id}/reindex",
            post(reindex_repository),
        )
        .route(
            "/workspaces/{slug}/code/repositories/{id}/runs",
            get(repository_runs),
        )
        .route(
            "/workspaces/{slug}/code/repositories/{id}/outline",
            get(file_outline),
        )
        .route("/workspaces/{slug}/code/search", get(search))
        .route("/workspaces/{slug}/code/definitions", get(definitions))
        .route("/workspaces/{slug}/code/symbols/{id}", get(symbol))
        .route("/workspaces/{slug}/code/symbols/{id}/callers", get(callers))
        .route("/workspaces/{slug}/code/symbols/{id}/callees", get(callees))
}

/// Register a repository by git URL or server path (developer and up); its first index run
/// is queued on the `indexer` pool.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/code/repositories", tag = "code", params(("slug" = String, Path)), request_body = AddRepositoryRequest,
    responses((status = 201, body = RepositoryAccepted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn add_repository(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<AddRepositoryRequest>,
) -> ControlResult<(StatusCode, Json<RepositoryAccepted>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.control.add_repository(&p, &slug, req).await?),
    ))
}

/// Name of an uploaded repository.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// Display name.
    name: Option<String>,
}

/// Register a repository from an uploaded `.tar.gz` or `.zip` (the raw archive as the
/// body). Entries that would leave the upload directory fail the upload; links are skipped.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/code/repositories/upload", tag = "code", params(("slug" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = RepositoryAccepted), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_repository(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Bytes,
) -> ControlResult<(StatusCode, Json<RepositoryAccepted>)> {
    let name = q.name.unwrap_or_else(|| "upload".to_owned());
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .control
                .upload_repository(&p, &slug, &name, &body)
                .await?,
        ),
    ))
}

/// The workspace's repositories with their index status.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/repositories", tag = "code", params(("slug" = String, Path)),
    responses((status = 200, body = [RepositoryView]), (status = 404, body = ErrorBody)))]
pub async fn list_repositories(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ControlResult<Json<Vec<RepositoryView>>> {
    Ok(Json(state.control.list_repositories(&p, &slug).await?))
}

/// One repository: status (`queued`, `indexing`, `ready`, `failed`), commit, counts,
/// progress of a run under way.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/repositories/{id}", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RepositoryView), (status = 404, body = ErrorBody)))]
pub async fn get_repository(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<Json<RepositoryView>> {
    Ok(Json(state.control.get_repository(&p, &slug, &id).await?))
}

/// Remove a repository and its index (developer and up); a run under way is cancelled.
#[utoipa::path(delete, path = "/api/v1/workspaces/{slug}/code/repositories/{id}", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_repository(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<StatusCode> {
    state.control.delete_repository(&p, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Index again (developer and up): only files changed since the last run are re-parsed
/// and re-embedded; deleted files leave the index. 409 while a run is under way.
#[utoipa::path(post, path = "/api/v1/workspaces/{slug}/code/repositories/{id}/reindex", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 202, body = RepositoryAccepted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn reindex_repository(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<(StatusCode, Json<RepositoryAccepted>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(state.control.reindex_repository(&p, &slug, &id).await?),
    ))
}

/// The repository's index runs (jobs of kind `code.index`), newest first.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/repositories/{id}/runs", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = [JobView]), (status = 404, body = ErrorBody)))]
pub async fn repository_runs(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<Json<Vec<JobView>>> {
    Ok(Json(state.control.repository_runs(&p, &slug, &id).await?))
}

/// A file of the repository.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct OutlineQuery {
    /// File path in the repository.
    path: String,
}

/// The symbols of one file, in source order.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/repositories/{id}/outline", tag = "code", params(("slug" = String, Path), ("id" = String, Path), OutlineQuery),
    responses((status = 200, body = FileOutline), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file_outline(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<OutlineQuery>,
) -> ControlResult<Json<FileOutline>> {
    Ok(Json(
        state.control.file_outline(&p, &slug, &id, &q.path).await?,
    ))
}

/// Hybrid code search: BM25 over identifiers split into sub-words, signatures, docs and
/// code, plus vector similarity, fused by reciprocal rank.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/search", tag = "code", params(("slug" = String, Path), CodeQuery),
    responses((status = 200, body = SearchResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiQuery(q): ApiQuery<CodeQuery>,
) -> ControlResult<Json<SearchResponse>> {
    Ok(Json(state.control.search_code(&p, &slug, q).await?))
}

/// A name to look up.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DefinitionQuery {
    /// Exact name or qualified name (`Store::open`).
    name: String,
}

/// Definitions of a name.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/definitions", tag = "code", params(("slug" = String, Path), DefinitionQuery),
    responses((status = 200, body = [SymbolView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn definitions(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiQuery(q): ApiQuery<DefinitionQuery>,
) -> ControlResult<Json<Vec<SymbolView>>> {
    Ok(Json(
        state.control.find_definitions(&p, &slug, &q.name).await?,
    ))
}

/// A symbol: signature, docs, code, container, direct callers, callees and other uses.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/symbols/{id}", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = SymbolDetail), (status = 404, body = ErrorBody)))]
pub async fn symbol(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ControlResult<Json<SymbolDetail>> {
    Ok(Json(state.control.symbol_detail(&p, &slug, &id).await?))
}

/// How far to walk the call graph.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct DepthQuery {
    /// Steps (1-5, default 1).
    depth: Option<u32>,
}

/// Who calls a symbol, to `depth` steps, each with the confidence of its edge.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/symbols/{id}/callers", tag = "code", params(("slug" = String, Path), ("id" = String, Path), DepthQuery),
    responses((status = 200, body = RelatedList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn callers(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DepthQuery>,
) -> ControlResult<Json<RelatedList>> {
    Ok(Json(
        state
            .control
            .call_graph(&p, &slug, &id, true, q.depth)
            .await?,
    ))
}

/// What a symbol calls, to `depth` steps.
#[utoipa::path(get, path = "/api/v1/workspaces/{slug}/code/symbols/{id}/callees", tag = "code", params(("slug" = String, Path), ("id" = String, Path), DepthQuery),
    responses((status = 200, body = RelatedList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn callees(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DepthQuery>,
) -> ControlResult<Json<RelatedList>> {
    Ok(Json(
        state
            .control
            .call_graph(&p, &slug, &id, false, q.depth)
            .await?,
    ))
}
