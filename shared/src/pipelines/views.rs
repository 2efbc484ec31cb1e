//! The request and response bodies of the pipelines API and the console.

use super::{Graph, Problem};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/workspaces/{slug}/pipelines`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePipeline {
    /// 1 to 100 characters, unique in the workspace.
    pub name: String,
    /// The graph (see the graph format).
    pub graph: Graph,
}

/// `PUT /api/v1/workspaces/{slug}/pipelines/{id}`: saves a new version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdatePipeline {
    /// The new version's graph.
    pub graph: Graph,
    /// A new name, when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Make the new version live at once (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<bool>,
}

/// A saved version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelineSaved {
    /// The pipeline's id.
    pub id: String,
    /// The version the save created.
    pub version: i64,
}

/// A trigger of a pipeline's live version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriggerView {
    /// The trigger node's id.
    pub node: String,
    /// `manual`, `webhook`, `schedule` or `topic`.
    pub kind: String,
    /// A webhook's absolute URL (`POST` any JSON body to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether a webhook requires a signature (`X-Switchyard-Signature`).
    #[serde(default)]
    pub signed: bool,
    /// A schedule's next tick (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<String>,
    /// A topic trigger's topic: each message published to it starts a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// A pipeline with its latest version's graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelineView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The latest version.
    pub version: i64,
    /// The version triggers start.
    pub live_version: i64,
    /// The latest version's graph.
    pub graph: Graph,
    /// The live version's triggers.
    pub triggers: Vec<TriggerView>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last save (RFC 3339).
    pub updated_at: String,
}

/// A pipeline in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PipelineSummary {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The latest version.
    pub version: i64,
    /// The version triggers start.
    pub live_version: i64,
    /// How many nodes the latest version has.
    pub nodes: usize,
    /// Last save (RFC 3339).
    pub updated_at: String,
    /// The latest run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunSummary>,
}

/// A version in a pipeline's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionView {
    /// The version number (1, 2, ...).
    pub version: i64,
    /// Its graph.
    pub graph: Graph,
    /// Who saved it (user id).
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Whether triggers start it.
    pub live: bool,
}

/// `POST .../pipelines/{id}/live`: which version triggers start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetLive {
    /// An existing version.
    pub version: i64,
}

/// `POST .../pipelines/{id}/runs`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// The run's input (any JSON; checked against a manual trigger's `schema`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: serde_json::Value,
    /// Run this version instead of the live one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// `POST /api/v1/workspaces/{slug}/runs/{id}/rerun`: runs again from a node, reusing what
/// finished before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RerunFrom {
    /// The node to start from (usually the one that failed).
    pub node: String,
}

/// A started run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunStarted {
    /// The run's id.
    pub id: String,
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    /// Executing.
    Running,
    /// Every node that could run succeeded.
    Succeeded,
    /// A node failed (or the run could not be executed).
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl RunStatus {
    /// Whether it will not change any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

/// Where a node is in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeRunStatus {
    /// Waiting for the nodes before it.
    Queued,
    /// Executing.
    Running,
    /// Done.
    Succeeded,
    /// Failed after its retries.
    Failed,
    /// Not run: an untaken branch, or the run ended first.
    Skipped,
}

/// A run in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    /// The run's id.
    pub id: String,
    /// Its pipeline.
    pub pipeline_id: String,
    /// The version it pinned.
    pub version: i64,
    /// `manual`, `webhook`, `schedule`, `rerun`, `route` or `topic`.
    pub trigger: String,
    /// Where it is.
    pub status: RunStatus,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Milliseconds from start to end, once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
}

/// One node of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeRunView {
    /// The node's id.
    pub node: String,
    /// Its kind.
    pub kind: String,
    /// Where it is.
    pub status: NodeRunStatus,
    /// Attempts it took.
    pub attempts: u32,
    /// What it received (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub input: Option<serde_json::Value>,
    /// What it produced (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub output: Option<serde_json::Value>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A branch's chosen port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    /// What it logged.
    #[serde(default)]
    pub logs: Vec<String>,
    /// Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    /// Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

/// A run with its nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunView {
    /// The run's id.
    pub id: String,
    /// Its pipeline.
    pub pipeline_id: String,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// The version it pinned.
    pub version: i64,
    /// What started it.
    pub trigger: String,
    /// The run it re-runs, for a re-run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_of: Option<String>,
    /// Where it is.
    pub status: RunStatus,
    /// The run's input.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: serde_json::Value,
    /// The output node's result, once succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub output: Option<serde_json::Value>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    /// Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// Every node of the pinned version, in plan order.
    pub nodes: Vec<NodeRunView>,
    /// The pinned version's graph (the run view draws it).
    pub graph: Graph,
}

/// A save refused: the problems, each with the node, edge and field it concerns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problems {
    /// Every problem.
    pub problems: Vec<Problem>,
}

/// Checks a pipeline's name.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("must be 1 to 100 characters".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(name.to_owned())
}
