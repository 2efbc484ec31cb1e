//! The code intelligence API: every route of the area in [`router`].

use crate::control::Control;
use crate::http::extract::{ApiJson, ApiQuery, Caller};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use shared::code::{
    AddRepositoryRequest, CodeQuery, FileOutline, RelatedList, RepositoryAccepted, RepositoryView,
    SearchResponse, SymbolDetail, SymbolView,
};
use shared::error::ErrorBody;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::jobs::JobView;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The `/api/v1/workspaces/{slug}/code` routes, each with its OpenAPI entry. Uploads may be
/// as large as `CODE_UPLOAD_MAX_BYTES`.
pub fn router() -> OpenApiRouter<Arc<Control>> {
    OpenApiRouter::new()
        .routes(routes!(list_repositories, add_repository))
        .routes(routes!(upload_repository))
        .routes(routes!(get_repository, delete_repository))
        .routes(routes!(reindex_repository))
        .routes(routes!(repository_runs))
        .routes(routes!(file_outline))
        .routes(routes!(search))
        .routes(routes!(definitions))
        .routes(routes!(symbol))
        .routes(routes!(callers))
        .routes(routes!(callees))
}

/// Register a repository by git URL or server path (developer and up); its first index run
/// is queued on the `indexer` pool.
#[utoipa::path(post, path = "/workspaces/{slug}/code/repositories", tag = "code", params(("slug" = String, Path)), request_body = AddRepositoryRequest,
    responses((status = 201, body = RepositoryAccepted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn add_repository(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiJson(req): ApiJson<AddRepositoryRequest>,
) -> ApiResult<(StatusCode, Json<RepositoryAccepted>)> {
    Ok((
        StatusCode::CREATED,
        Json(control.code.add_repository(&p, &slug, req).await?),
    ))
}

/// Name of an uploaded repository.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Display name.
    name: Option<String>,
}

/// Register a repository from an uploaded `.tar.gz` or `.zip` (the raw archive as the
/// body). Entries that would leave the upload directory fail the upload; links are skipped.
#[utoipa::path(post, path = "/workspaces/{slug}/code/repositories/upload", tag = "code", params(("slug" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = RepositoryAccepted), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_repository(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: axum::body::Body,
) -> ApiResult<(StatusCode, Json<RepositoryAccepted>)> {
    // Who may upload is settled before a byte of the archive is read: a caller outside the
    // workspace, or below developer, cannot make the server buffer an upload.
    control.code.may_upload(&p, &slug).await?;
    let limit = control.code.engine().config().upload_max_bytes as usize;
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the archive is larger than the upload limit",
        )
    })?;
    let name = q.name.unwrap_or_else(|| "upload".to_owned());
    Ok((
        StatusCode::CREATED,
        Json(
            control
                .code
                .upload_repository(&p, &slug, &name, &body)
                .await?,
        ),
    ))
}

/// The workspace's repositories with their index status.
#[utoipa::path(get, path = "/workspaces/{slug}/code/repositories", tag = "code", params(("slug" = String, Path)),
    responses((status = 200, body = [RepositoryView]), (status = 404, body = ErrorBody)))]
pub async fn list_repositories(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<RepositoryView>>> {
    Ok(Json(control.code.list_repositories(&p, &slug).await?))
}

/// One repository: status (`queued`, `indexing`, `ready`, `failed`), commit, counts,
/// progress of a run under way.
#[utoipa::path(get, path = "/workspaces/{slug}/code/repositories/{id}", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = RepositoryView), (status = 404, body = ErrorBody)))]
pub async fn get_repository(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<RepositoryView>> {
    Ok(Json(control.code.get_repository(&p, &slug, &id).await?))
}

/// Remove a repository and its index (developer and up); a run under way is cancelled.
#[utoipa::path(delete, path = "/workspaces/{slug}/code/repositories/{id}", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_repository(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    control.code.delete_repository(&p, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Index again (developer and up): only files changed since the last run are re-parsed
/// and re-embedded; deleted files leave the index. 409 while a run is under way.
#[utoipa::path(post, path = "/workspaces/{slug}/code/repositories/{id}/reindex", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 202, body = RepositoryAccepted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn reindex_repository(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<RepositoryAccepted>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(control.code.reindex_repository(&p, &slug, &id).await?),
    ))
}

/// The repository's index runs (jobs of kind `code.index`), newest first.
#[utoipa::path(get, path = "/workspaces/{slug}/code/repositories/{id}/runs", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = [JobView]), (status = 404, body = ErrorBody)))]
pub async fn repository_runs(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<JobView>>> {
    Ok(Json(control.code.repository_runs(&p, &slug, &id).await?))
}

/// A file of the repository.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutlineQuery {
    /// File path in the repository.
    path: String,
}

/// The symbols of one file, in source order.
#[utoipa::path(get, path = "/workspaces/{slug}/code/repositories/{id}/outline", tag = "code", params(("slug" = String, Path), ("id" = String, Path), OutlineQuery),
    responses((status = 200, body = FileOutline), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn file_outline(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<OutlineQuery>,
) -> ApiResult<Json<FileOutline>> {
    Ok(Json(
        control.code.file_outline(&p, &slug, &id, &q.path).await?,
    ))
}

/// Hybrid code search: BM25 over identifiers split into sub-words, signatures, docs and
/// code, plus vector similarity, fused by reciprocal rank.
#[utoipa::path(get, path = "/workspaces/{slug}/code/search", tag = "code", params(("slug" = String, Path), CodeQuery),
    responses((status = 200, body = SearchResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiQuery(q): ApiQuery<CodeQuery>,
) -> ApiResult<Json<SearchResponse>> {
    Ok(Json(control.code.search_code(&p, &slug, q).await?))
}

/// A name to look up.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DefinitionQuery {
    /// Exact name or qualified name (`Store::open`).
    name: String,
}

/// Definitions of a name.
#[utoipa::path(get, path = "/workspaces/{slug}/code/definitions", tag = "code", params(("slug" = String, Path), DefinitionQuery),
    responses((status = 200, body = [SymbolView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn definitions(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path(slug): Path<String>,
    ApiQuery(q): ApiQuery<DefinitionQuery>,
) -> ApiResult<Json<Vec<SymbolView>>> {
    Ok(Json(
        control.code.find_definitions(&p, &slug, &q.name).await?,
    ))
}

/// A symbol: signature, docs, code, container, direct callers, callees and other uses.
#[utoipa::path(get, path = "/workspaces/{slug}/code/symbols/{id}", tag = "code", params(("slug" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = SymbolDetail), (status = 404, body = ErrorBody)))]
pub async fn symbol(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<SymbolDetail>> {
    Ok(Json(control.code.symbol_detail(&p, &slug, &id).await?))
}

/// How far to walk the call graph.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepthQuery {
    /// Steps (1-5, default 1).
    depth: Option<u32>,
}

/// Who calls a symbol, to `depth` steps, each with the confidence of its edge.
#[utoipa::path(get, path = "/workspaces/{slug}/code/symbols/{id}/callers", tag = "code", params(("slug" = String, Path), ("id" = String, Path), DepthQuery),
    responses((status = 200, body = RelatedList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn callers(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DepthQuery>,
) -> ApiResult<Json<RelatedList>> {
    Ok(Json(
        control
            .code
            .call_graph(&p, &slug, &id, true, q.depth)
            .await?,
    ))
}

/// What a symbol calls, to `depth` steps.
#[utoipa::path(get, path = "/workspaces/{slug}/code/symbols/{id}/callees", tag = "code", params(("slug" = String, Path), ("id" = String, Path), DepthQuery),
    responses((status = 200, body = RelatedList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn callees(
    State(control): State<Arc<Control>>,
    Caller(p): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DepthQuery>,
) -> ApiResult<Json<RelatedList>> {
    Ok(Json(
        control
            .code
            .call_graph(&p, &slug, &id, false, q.depth)
            .await?,
    ))
}
