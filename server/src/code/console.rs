//! The console's calls about this domain: each authenticates the session, then runs the
//! same operation the REST API runs.

use super::CodeOps;
use async_trait::async_trait;
use shared::code::{
    AddRepositoryRequest, CodeQuery, RepositoryAccepted, RepositoryView, SearchResponse,
    SymbolDetail,
};
use shared::contracts::{CodeConsole, ConsoleResult, SessionToken};

#[async_trait]
impl CodeConsole for CodeOps {
    async fn repositories(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<RepositoryView>> {
        let p = self.tenancy.console_caller(session).await?;
        self.list_repositories(&p, slug).await
    }

    async fn repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RepositoryView> {
        let p = self.tenancy.console_caller(session).await?;
        self.get_repository(&p, slug, id).await
    }

    async fn add_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        req: AddRepositoryRequest,
    ) -> ConsoleResult<RepositoryAccepted> {
        let p = self.tenancy.console_caller(session).await?;
        self.add_repository(&p, slug, req).await
    }

    async fn reindex_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RepositoryAccepted> {
        let p = self.tenancy.console_caller(session).await?;
        self.reindex_repository(&p, slug, id).await
    }

    async fn delete_repository(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<()> {
        let p = self.tenancy.console_caller(session).await?;
        self.delete_repository(&p, slug, id).await
    }

    async fn search_code(
        &self,
        session: &SessionToken,
        slug: &str,
        query: CodeQuery,
    ) -> ConsoleResult<SearchResponse> {
        let p = self.tenancy.console_caller(session).await?;
        self.search_code(&p, slug, query).await
    }

    async fn symbol(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<SymbolDetail> {
        let p = self.tenancy.console_caller(session).await?;
        self.symbol_detail(&p, slug, id).await
    }
}
