//! The pipelines server functions: the list, a pipeline with what its editor needs, saving
//! a version (or creating the pipeline), checking a graph, versions, and runs. Graphs travel
//! as JSON text, so a malformed one is answered with a message naming `graph`.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::{console, session};
use leptos::prelude::*;
use shared::pipelines::views::{
    PipelineSaved, PipelineSummary, PipelineView, RunStarted, RunSummary, RunView, VersionView,
};
#[cfg(feature = "ssr")]
use shared::pipelines::Graph;
use shared::pipelines::Problem;

#[cfg(feature = "ssr")]
fn parse_graph(graph: &str) -> Result<Graph, AppError> {
    serde_json::from_str(graph).map_err(|e| {
        AppError::Api(shared::error::ApiError::field(
            "graph",
            format!("is not a pipeline graph: {e}"),
        ))
    })
}

/// The workspace's pipelines.
#[server]
pub async fn list_pipelines(slug: String) -> Result<Vec<PipelineSummary>, AppError> {
    Ok(console()?.pipelines.pipelines(&session(), &slug).await?)
}

/// Creates a pipeline with a manual trigger and an output, and opens its editor.
#[server]
pub async fn create_pipeline(slug: String, name: String) -> Result<PipelineSaved, AppError> {
    let graph: Graph = serde_json::from_value(serde_json::json!({
        "nodes": [
            {"id": "start", "kind": "manual", "config": {}, "position": {"x": 40, "y": 80}},
            {"id": "result", "kind": "output", "config": {}, "position": {"x": 360, "y": 80}}
        ],
        "edges": [{"from": {"node": "start", "port": "out"}, "to": {"node": "result", "port": "in"}}]
    }))
    .map_err(|e| AppError::Transport(e.to_string()))?;
    let req = shared::pipelines::views::CreatePipeline { name, graph };
    let saved = console()?
        .pipelines
        .create_pipeline(&session(), &slug, req)
        .await?;
    leptos_axum::redirect(&format!("/w/{slug}/pipelines/{}", saved.id));
    Ok(saved)
}

/// What the editor opens with: the pipeline, its versions and the workspace's secret names
/// (templates may name them).
#[server]
pub async fn open_pipeline(
    slug: String,
    id: String,
) -> Result<(PipelineView, Vec<VersionView>, Vec<String>), AppError> {
    let console = console()?;
    let session = session();
    let pipeline = console.pipelines.pipeline(&session, &slug, &id).await?;
    let versions = console.pipelines.versions(&session, &slug, &id).await?;
    let secrets = console
        .secrets
        .secrets(&session, &slug)
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    Ok((pipeline, versions, secrets))
}

/// Saves the editor's graph as a new, live version.
#[server]
pub async fn save_pipeline(
    slug: String,
    id: String,
    graph: String,
) -> Result<PipelineSaved, AppError> {
    let graph = parse_graph(&graph)?;
    let req = shared::pipelines::views::UpdatePipeline {
        graph,
        name: None,
        live: None,
    };
    Ok(console()?
        .pipelines
        .save_pipeline(&session(), &slug, &id, req)
        .await?)
}

/// Every problem of a graph, scripts' syntax errors with their lines, without saving.
#[server]
pub async fn check_graph(slug: String, graph: String) -> Result<Vec<Problem>, AppError> {
    let graph = parse_graph(&graph)?;
    Ok(console()?
        .pipelines
        .check_graph(&session(), &slug, graph)
        .await?)
}

/// Starts a run of the live version with `input` (JSON text) and answers its id.
#[server]
pub async fn start_run(slug: String, id: String, input: String) -> Result<RunStarted, AppError> {
    let input: serde_json::Value = if input.trim().is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&input).map_err(|e| {
            AppError::Api(shared::error::ApiError::field(
                "input",
                format!("is not JSON: {e}"),
            ))
        })?
    };
    let req = shared::pipelines::views::StartRun {
        input,
        version: None,
    };
    Ok(console()?
        .pipelines
        .start_run(&session(), &slug, &id, req)
        .await?)
}

/// A pipeline's runs, newest first.
#[server]
pub async fn list_runs(slug: String, id: String) -> Result<Vec<RunSummary>, AppError> {
    Ok(console()?.pipelines.runs(&session(), &slug, &id).await?)
}

/// One run with its nodes.
#[server]
pub async fn get_run(slug: String, run: String) -> Result<RunView, AppError> {
    Ok(console()?.pipelines.run(&session(), &slug, &run).await?)
}

/// Cancels a run.
#[server]
pub async fn cancel_run(slug: String, run: String) -> Result<RunView, AppError> {
    Ok(console()?
        .pipelines
        .cancel_run(&session(), &slug, &run)
        .await?)
}

/// Runs a finished run again from `node`, and opens the new run.
#[server]
pub async fn rerun(slug: String, run: String, node: String) -> Result<RunStarted, AppError> {
    let pipelines = console()?.pipelines;
    let session = session();
    let old = pipelines.run(&session, &slug, &run).await?;
    let started = pipelines
        .rerun(
            &session,
            &slug,
            &run,
            shared::pipelines::views::RerunFrom { node },
        )
        .await?;
    leptos_axum::redirect(&format!(
        "/w/{slug}/pipelines/{}/runs/{}",
        old.pipeline_id, started.id
    ));
    Ok(started)
}
