//! The code server functions: repositories and their index runs, search, symbols.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::{console, session};
use leptos::prelude::*;
use shared::code::{CodeQuery, RepositoryAccepted, RepositoryView, SearchResponse, SymbolDetail};

/// The workspace's code repositories.
#[server]
pub async fn list_repositories(slug: String) -> Result<Vec<RepositoryView>, AppError> {
    Ok(console()?.code.repositories(&session(), &slug).await?)
}

/// Registers a repository by git URL and queues its index run.
#[server]
pub async fn add_repository(
    slug: String,
    url: String,
    branch: Option<String>,
    credential: Option<String>,
) -> Result<RepositoryAccepted, AppError> {
    let req = shared::code::AddRepositoryRequest {
        url: Some(url),
        path: None,
        name: None,
        branch: branch.filter(|b| !b.trim().is_empty()),
        credential: credential.filter(|c| !c.trim().is_empty()),
    };
    Ok(console()?
        .code
        .add_repository(&session(), &slug, req)
        .await?)
}

/// Queues an index run of a repository.
#[server]
pub async fn reindex_repository(slug: String, id: String) -> Result<RepositoryAccepted, AppError> {
    Ok(console()?
        .code
        .reindex_repository(&session(), &slug, &id)
        .await?)
}

/// Removes a repository and its index.
#[server]
pub async fn delete_repository(slug: String, id: String) -> Result<(), AppError> {
    Ok(console()?
        .code
        .delete_repository(&session(), &slug, &id)
        .await?)
}

/// Searches the workspace's code.
#[server]
pub async fn search_code(slug: String, query: CodeQuery) -> Result<SearchResponse, AppError> {
    Ok(console()?
        .code
        .search_code(&session(), &slug, query)
        .await?)
}

/// A symbol with its code, callers and callees.
#[server]
pub async fn get_symbol(slug: String, id: String) -> Result<SymbolDetail, AppError> {
    Ok(console()?.code.symbol(&session(), &slug, &id).await?)
}
