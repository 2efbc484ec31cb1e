//! The console's calls about pipelines, their versions and runs.

use super::{ConsoleResult, SessionToken};
use crate::pipelines::views::{
    CreatePipeline, PipelineSaved, PipelineSummary, PipelineView, RerunFrom, RunStarted,
    RunSummary, RunView, SetLive, StartRun, UpdatePipeline, VersionView,
};
use crate::pipelines::{Graph, Problem};
use async_trait::async_trait;

/// Pipelines, versions and runs.
#[async_trait]
pub trait PipelinesConsole: Send + Sync + 'static {
    /// The workspace's pipelines.
    async fn pipelines(
        &self,
        session: &SessionToken,
        slug: &str,
    ) -> ConsoleResult<Vec<PipelineSummary>>;

    /// One pipeline with its latest graph.
    async fn pipeline(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<PipelineView>;

    /// Creates a pipeline (developer and up).
    async fn create_pipeline(
        &self,
        session: &SessionToken,
        slug: &str,
        req: CreatePipeline,
    ) -> ConsoleResult<PipelineSaved>;

    /// Saves a new version (developer and up).
    async fn save_pipeline(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
        req: UpdatePipeline,
    ) -> ConsoleResult<PipelineSaved>;

    /// Every problem of a graph, scripts' syntax included, without saving it.
    async fn check_graph(
        &self,
        session: &SessionToken,
        slug: &str,
        graph: Graph,
    ) -> ConsoleResult<Vec<Problem>>;

    /// A pipeline's versions, newest first.
    async fn versions(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<Vec<VersionView>>;

    /// Makes a version live (developer and up).
    async fn set_live(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
        req: SetLive,
    ) -> ConsoleResult<PipelineView>;

    /// Starts a run (developer and up).
    async fn start_run(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
        req: StartRun,
    ) -> ConsoleResult<RunStarted>;

    /// A pipeline's runs, newest first.
    async fn runs(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<Vec<RunSummary>>;

    /// One run with its nodes.
    async fn run(&self, session: &SessionToken, slug: &str, run: &str) -> ConsoleResult<RunView>;

    /// Cancels a run (developer and up).
    async fn cancel_run(
        &self,
        session: &SessionToken,
        slug: &str,
        run: &str,
    ) -> ConsoleResult<RunView>;

    /// Runs a finished run again from a node (developer and up).
    async fn rerun(
        &self,
        session: &SessionToken,
        slug: &str,
        run: &str,
        req: RerunFrom,
    ) -> ConsoleResult<RunStarted>;
}
