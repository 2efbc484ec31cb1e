//! The console's calls about pipelines: each authenticates the session, then runs the same
//! operation the REST API runs.

use super::PipelineOps;
use async_trait::async_trait;
use shared::contracts::{ConsoleResult, PipelinesConsole, SessionToken};
use shared::pipelines::views::{
    CreatePipeline, PipelineSaved, PipelineSummary, PipelineView, RerunFrom, RunStarted,
    RunSummary, RunView, SetLive, StartRun, UpdatePipeline, VersionView,
};
use shared::pipelines::{Graph, Problem};

#[async_trait]
impl PipelinesConsole for PipelineOps {
    async fn pipelines(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<PipelineSummary>> {
        let p = self.tenancy().console_caller(session).await?;
        self.list(&p, slug).await
    }

    async fn pipeline(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<PipelineView> {
        let p = self.tenancy().console_caller(session).await?;
        self.get(&p, slug, id).await
    }

    async fn create_pipeline(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreatePipeline,
    ) -> ConsoleResult<PipelineSaved> {
        let p = self.tenancy().console_caller(session).await?;
        self.create(&p, slug, req).await
    }

    async fn save_pipeline(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
        req: UpdatePipeline,
    ) -> ConsoleResult<PipelineSaved> {
        let p = self.tenancy().console_caller(session).await?;
        self.update(&p, slug, id, req).await
    }

    async fn check_graph(
        &self,
        session: &SessionToken,
        slug: &str,
        graph: Graph,
    ) -> ConsoleResult<Vec<Problem>> {
        let p = self.tenancy().console_caller(session).await?;
        self.check(&p, slug, graph).await
    }

    async fn versions(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<Vec<VersionView>> {
        let p = self.tenancy().console_caller(session).await?;
        PipelineOps::versions(self, &p, slug, id).await
    }

    async fn set_live(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
        req: SetLive,
    ) -> ConsoleResult<PipelineView> {
        let p = self.tenancy().console_caller(session).await?;
        PipelineOps::set_live(self, &p, slug, id, req).await
    }

    async fn start_run(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
        req: StartRun,
    ) -> ConsoleResult<RunStarted> {
        let p = self.tenancy().console_caller(session).await?;
        PipelineOps::start_run(self, &p, slug, id, req).await
    }

    async fn runs(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<Vec<RunSummary>> {
        let p = self.tenancy().console_caller(session).await?;
        PipelineOps::runs(self, &p, slug, id, None).await
    }

    async fn run(&self, session: &SessionToken, slug: &str, run: &str) -> ConsoleResult<RunView> {
        let p = self.tenancy().console_caller(session).await?;
        PipelineOps::run(self, &p, slug, run).await
    }

    async fn cancel_run(
        &self,
        session: &SessionToken,
        slug: &str,
        run: &str,
    ) -> ConsoleResult<RunView> {
        let p = self.tenancy().console_caller(session).await?;
        PipelineOps::cancel_run(self, &p, slug, run).await
    }

    async fn rerun(
        &self,
        session: &SessionToken,
        slug: &str,
        run: &str,
        req: RerunFrom,
    ) -> ConsoleResult<RunStarted> {
        let p = self.tenancy().console_caller(session).await?;
        PipelineOps::rerun(self, &p, slug, run, req).await
    }
}
