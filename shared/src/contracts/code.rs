//! The console's calls about code intelligence: repositories, search and symbols.

use super::{ConsoleResult, SessionToken};
use crate::code::{
    AddRepositoryRequest, CodeQuery, RepositoryAccepted, RepositoryView, SearchResponse,
    SymbolDetail,
};
use async_trait::async_trait;

/// Code intelligence: repositories, search and symbols.
#[async_trait]
pub trait CodeConsole: Send + Sync + 'static {
    /// The workspace's code repositories.
    async fn repositories(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<RepositoryView>>;

    /// One repository.
    async fn repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RepositoryView>;

    /// Registers a repository and queues its index run (developer and up).
    async fn add_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        req: AddRepositoryRequest,
    ) -> ConsoleResult<RepositoryAccepted>;

    /// Queues an index run (developer and up).
    async fn reindex_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RepositoryAccepted>;

    /// Removes a repository and its index (developer and up).
    async fn delete_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<()>;

    /// Searches the workspace's code.
    async fn search_code(
        &self,
        session: &SessionToken,
        slug: &str,
        query: CodeQuery,
    ) -> ConsoleResult<SearchResponse>;

    /// A symbol with its code and neighbours.
    async fn symbol(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<SymbolDetail>;
}
