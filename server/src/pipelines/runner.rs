//! The `pipeline.run` job kind: opens the secrets the graph names (on a process holding the
//! workspace secrets' key), gives code_search nodes the workspace's code index and publish
//! nodes a way to the control plane over the bus, and runs the plan through the engine in
//! `workers::pipelines`. Only the control plane submits it.

use crate::code::indexer::Credential;
use crate::code::CodeEngine;
use codeintel::search::{Filters, Mode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shared::error::FieldError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use workers::bus::Bus;
use workers::kinds::{JobContext, JobKind};
use workers::pipelines::{Breakers, CodeSearch, Env, RunJob, RUN_KIND};
use workers::protocol::Outcome;

/// What a run is given: the run itself, the secrets it names (sealed), and the workspace's
/// repositories when it searches code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunPayload {
    /// The run.
    #[serde(flatten)]
    pub run: RunJob,
    /// The secrets the graph names, sealed.
    #[serde(default)]
    pub secrets: Vec<Credential>,
    /// The workspace's repositories when the run was started (code_search nodes search only
    /// these).
    #[serde(default)]
    pub code_repos: Vec<String>,
}

/// The `pipeline.run` kind over this process's code engine (which holds the secrets' key
/// and the code indexes), its HTTP nodes' breakers, and the bus publish nodes ask the
/// control plane on.
pub struct RunKind {
    engine: Arc<CodeEngine>,
    breakers: Arc<Breakers>,
    bus: Arc<dyn Bus>,
}

impl RunKind {
    /// The kind for a process with `engine`, talking to the control plane on `bus`.
    pub fn new(engine: Arc<CodeEngine>, bus: Arc<dyn Bus>) -> RunKind {
        RunKind {
            engine,
            breakers: Arc::new(Breakers::default()),
            bus,
        }
    }

    fn code_search(&self, tenant: String, repos: Vec<String>) -> CodeSearch {
        let engine = self.engine.clone();
        Arc::new(move |query: String, limit: usize| {
            let (engine, tenant, repos) = (engine.clone(), tenant.clone(), repos.clone());
            Box::pin(async move { search(&engine, &tenant, repos, &query, limit).await })
        })
    }
}

#[async_trait::async_trait]
impl JobKind for RunKind {
    type Payload = RunPayload;
    const NAME: &'static str = RUN_KIND;
    // Per-node timeouts bound a run; a delay node may wait up to 30 days.
    const MAX_RUN_TIME: Duration = Duration::from_secs(31 * 86_400);

    fn validate(payload: &RunPayload) -> Result<(), FieldError> {
        payload
            .run
            .tenant_id
            .parse::<shared::ids::TenantId>()
            .map_err(|_| FieldError::new("payload.tenant_id", "is not a workspace id"))?;
        Ok(())
    }

    async fn run(&self, payload: RunPayload, ctx: JobContext) -> Outcome {
        let names: Vec<String> = payload.secrets.iter().map(|c| c.name.clone()).collect();
        let plan = match shared::pipelines::compile(&payload.run.graph, &names) {
            Ok(plan) => plan,
            Err(problems) => {
                let error = problems
                    .first()
                    .map(|p| p.message.clone())
                    .unwrap_or_default();
                return Outcome::Failed {
                    error: format!("the pipeline version cannot run: {error}"),
                    retryable: false,
                };
            }
        };
        let mut secrets = BTreeMap::new();
        for credential in &payload.secrets {
            match self.engine.open_secret(
                &payload.run.tenant_id,
                &credential.name,
                &credential.sealed,
            ) {
                Ok(value) => {
                    secrets.insert(credential.name.clone(), value);
                }
                Err(error) => {
                    return Outcome::Failed {
                        error,
                        retryable: false,
                    }
                }
            }
        }
        let env = Env {
            secrets,
            egress: self.engine.config().egress.clone(),
            breakers: self.breakers.clone(),
            code_search: Some(
                self.code_search(payload.run.tenant_id.clone(), payload.code_repos.clone()),
            ),
            publish: Some(workers::routes::publisher(
                self.bus.clone(),
                payload.run.tenant_id.clone(),
                payload.run.pipeline_id.clone(),
            )),
            limits: sandbox::Limits::default(),
            tenant_id: payload.run.tenant_id.clone(),
        };
        workers::pipelines::execute(&plan, payload.run.input.clone(), &env, &ctx).await
    }
}

/// A code_search node's query: hybrid when the embedding model is there, else by keyword,
/// over the repositories the workspace had when the run started.
async fn search(
    engine: &CodeEngine,
    tenant: &str,
    repos: Vec<String>,
    query: &str,
    limit: usize,
) -> Result<Value, String> {
    if query.trim().is_empty() {
        return Err("config.query is empty".to_owned());
    }
    if repos.is_empty() {
        return Ok(json!({"results": []}));
    }
    let index = engine.index(tenant).await?;
    let vector = match engine.embedder().await {
        Ok(embedder) => Some(
            engine
                .query_vector(&embedder, tenant, query)
                .await
                .map_err(|e| e.to_string())?,
        ),
        Err(_) => None,
    };
    let mode = if vector.is_some() {
        Mode::Hybrid
    } else {
        Mode::Keyword
    };
    let filters = Filters {
        repo_id: None,
        repo_ids: repos,
        language: None,
        kind: None,
        path_glob: None,
    };
    let hits = index
        .search(query, vector.as_deref(), &filters, mode, limit)
        .await
        .map_err(|e| format!("the code search failed: {e}"))?;
    let results: Vec<Value> = hits
        .into_iter()
        .map(|h| {
            json!({"repo_id": h.repo_id, "path": h.path, "symbol": h.symbol, "kind": h.kind,
                   "language": h.language, "line_start": h.line_start, "line_end": h.line_end,
                   "score": h.score, "snippet": h.snippet})
        })
        .collect();
    Ok(json!({ "results": results }))
}
