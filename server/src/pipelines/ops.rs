//! The pipeline operations: definitions and their versions, runs (start, list, view, cancel,
//! re-run from a node) and webhook signing keys. Every method authorises its caller first:
//! reads need `ReadWorkspace`, saving and running `Develop`, signing keys `ManageSecrets`.

use super::schedules::Schedule;
use super::store::{HookRecord, LiveTriggers, PipelineRecord, RunRecord, Trigger, VersionRecord};
use super::views::{node_views, run_status, run_summary, status_of};
use crate::accounts::Principal;
use crate::clock::{now_ms, rfc3339_ms};
use crate::code::indexer::Credential;
use crate::jobs::{JobRecord, Jobs, NewJob};
use crate::secrets::cipher::Keyring;
use crate::store::{Store, StoreError};
use crate::tenancy::{Access, Tenancy};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::ids::{HookId, JobId, MessageId, PipelineId, TenantId};
use shared::pipelines::template::secrets_named;
use shared::pipelines::views::{
    check_name, CreatePipeline, PipelineSaved, PipelineSummary, PipelineView, RerunFrom,
    RunStarted, RunStatus, RunSummary, RunView, SetLive, StartRun, TriggerView, UpdatePipeline,
    VersionView,
};
use shared::pipelines::{compile, Graph, NodeKind, Plan, Problem};
use shared::roles::Permission;
use shared::routes::views::MessageRunView;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use workers::pipelines::{RunJob, RUN_KIND};
use workers::pools::PoolName;

/// Attempts a run's job gets: a run's own failures are final (nodes retry inside it), so
/// further attempts only resume a run whose worker died.
const RUN_ATTEMPTS: u32 = 5;

/// The largest run input, as JSON.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// The pipeline operations.
pub struct PipelineOps {
    store: Store,
    tenancy: Arc<Tenancy>,
    jobs: Arc<Jobs>,
    public_url: url::Url,
    keyring: Arc<Keyring>,
    hooks: governor::DefaultKeyedRateLimiter<String>,
    pool: PoolName,
}

impl PipelineOps {
    /// Operations running pipelines on `jobs`, authorised by `tenancy`; webhook URLs start
    /// with `public_url`; webhooks' signing keys are sealed with `keyring`; runs go to the
    /// worker pool `pool`.
    pub fn new(
        store: Store,
        tenancy: Arc<Tenancy>,
        jobs: Arc<Jobs>,
        public_url: url::Url,
        keyring: Arc<Keyring>,
        pool: String,
    ) -> PipelineOps {
        let pool = PoolName::parse(&pool).unwrap_or_else(|_| {
            PoolName::parse(workers::pools::PIPELINES_POOL).expect("a valid pool name")
        });
        PipelineOps {
            pool,
            store,
            tenancy,
            jobs,
            public_url,
            keyring,
            hooks: super::hooks::hook_limiter(),
        }
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn tenancy(&self) -> &Tenancy {
        &self.tenancy
    }

    pub(super) fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    pub(super) fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    pub(super) fn hooks_limiter(&self) -> &governor::DefaultKeyedRateLimiter<String> {
        &self.hooks
    }

    /// The id of `tenant`'s pipeline `id` (404 for any other).
    pub(super) async fn pipeline_in(&self, tenant: TenantId, id: &str) -> ApiResult<PipelineId> {
        Ok(self.pipeline_of(tenant, id).await?.id)
    }

    /// Forgets the per-hook request counts that no longer limit anything (call periodically).
    pub fn forget_idle_limits(&self) {
        self.hooks.retain_recent();
    }

    async fn secret_names(&self, tenant: TenantId) -> ApiResult<Vec<String>> {
        Ok(self
            .store
            .secrets(tenant)
            .await?
            .into_iter()
            .map(|s| s.record.name)
            .collect())
    }

    /// Every problem of `graph` in `tenant`, scripts' syntax included (checked in the
    /// sandbox, with their lines).
    async fn problems(&self, tenant: TenantId, graph: &Graph) -> ApiResult<Vec<Problem>> {
        let secrets = self.secret_names(tenant).await?;
        let mut problems = shared::pipelines::validate(graph, &secrets);
        let scripts: Vec<(String, String)> = graph
            .nodes
            .iter()
            .filter(|n| NodeKind::parse(&n.kind) == Some(NodeKind::Script))
            .filter_map(|n| Some((n.id.clone(), n.config.get("source")?.as_str()?.to_owned())))
            .collect();
        let checked = tokio::task::spawn_blocking(move || {
            scripts
                .into_iter()
                .filter_map(|(id, source)| match sandbox::check(&source) {
                    Ok(()) => None,
                    Err(sandbox::ScriptError::Syntax { line, message, .. }) => Some(Problem {
                        line: Some(line),
                        ..Problem::setting(&id, "source", format!("line {line}: {message}"))
                    }),
                    Err(e) => Some(Problem::setting(&id, "source", e.to_string())),
                })
                .collect::<Vec<Problem>>()
        })
        .await
        .map_err(|_| ApiError::internal())?;
        problems.extend(checked);
        if let Err(more) = Schedule::of_graph(graph) {
            // The shared check names a bad cron already; add only what it cannot know.
            let more: Vec<Problem> = more
                .into_iter()
                .filter(|p| !problems_has(&problems, p.node.as_deref(), p.field.as_deref()))
                .collect();
            problems.extend(more);
        }
        Ok(problems)
    }

    /// What making `graph` the live version does to the pipeline's schedule and topic.
    fn live_triggers(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
        graph: &Graph,
    ) -> ApiResult<LiveTriggers> {
        let schedule = match Schedule::of_graph(graph) {
            Ok(None) => None,
            Ok(Some(schedule)) => Some(
                schedule
                    .record(tenant, pipeline, now_ms())
                    .ok_or_else(|| ApiError::field("graph", "the schedule never fires"))?,
            ),
            Err(problems) => return Err(ApiError::problems(problems)),
        };
        let topic = graph
            .nodes
            .iter()
            .find(|n| NodeKind::parse(&n.kind) == Some(NodeKind::Topic))
            .and_then(|n| n.config.get("topic")?.as_str())
            .map(str::to_owned);
        Ok(LiveTriggers::Set { schedule, topic })
    }

    async fn checked(&self, tenant: TenantId, graph: &Graph) -> ApiResult<()> {
        let problems = self.problems(tenant, graph).await?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::problems(problems))
        }
    }

    fn new_hooks(&self, tenant: TenantId, pipeline: PipelineId, graph: &Graph) -> Vec<HookRecord> {
        graph
            .nodes
            .iter()
            .filter(|n| NodeKind::parse(&n.kind) == Some(NodeKind::Webhook))
            .map(|n| HookRecord {
                id: HookId::new(),
                pipeline_id: pipeline,
                tenant_id: tenant,
                node: n.id.clone(),
                signing_key: None,
            })
            .collect()
    }

    /// Creates a pipeline; its first version is live.
    pub async fn create(
        &self,
        p: &Principal,
        slug: &str,
        req: CreatePipeline,
    ) -> ApiResult<PipelineSaved> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let name = check_name(&req.name).map_err(|m| ApiError::field("name", m))?;
        self.checked(access.tenant(), &req.graph).await?;
        let now = now_ms();
        let record = PipelineRecord {
            id: PipelineId::new(),
            tenant_id: access.tenant(),
            name,
            latest_version: 1,
            live_version: 1,
            created_by: access.acting_user,
            created_at: now,
            updated_at: now,
        };
        let hooks = self.new_hooks(access.tenant(), record.id, &req.graph);
        let triggers = self.live_triggers(access.tenant(), record.id, &req.graph)?;
        self.store
            .insert_pipeline(&record, &req.graph, &hooks, &triggers)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    ApiError::conflict(Some("name"), "a pipeline of this workspace has this name")
                }
                e => e.into(),
            })?;
        Ok(PipelineSaved {
            id: record.id.to_string(),
            version: 1,
        })
    }

    /// Saves a new version (live unless `live: false`).
    pub async fn update(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        req: UpdatePipeline,
    ) -> ApiResult<PipelineSaved> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let pipeline = self.pipeline_of(access.tenant(), id).await?;
        let name = req
            .name
            .as_deref()
            .map(check_name)
            .transpose()
            .map_err(|m| ApiError::field("name", m))?;
        self.checked(access.tenant(), &req.graph).await?;
        let hooks = self.new_hooks(access.tenant(), pipeline.id, &req.graph);
        let live = req.live.unwrap_or(true);
        let triggers = if live {
            self.live_triggers(access.tenant(), pipeline.id, &req.graph)?
        } else {
            LiveTriggers::Keep
        };
        let version = self
            .store
            .save_version(
                access.tenant(),
                pipeline.id,
                name.as_deref(),
                &req.graph,
                live,
                access.acting_user,
                &hooks,
                &triggers,
                now_ms(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict("name") => {
                    ApiError::conflict(Some("name"), "a pipeline of this workspace has this name")
                }
                StoreError::Conflict(_) => ApiError::conflict(
                    None,
                    "the pipeline was saved by someone else meanwhile; reload and save again",
                ),
                StoreError::NotFound => ApiError::not_found("pipeline"),
                e => e.into(),
            })?;
        Ok(PipelineSaved {
            id: pipeline.id.to_string(),
            version,
        })
    }

    /// Checks a graph without saving it: its problems (the editor's "check" before a save).
    pub async fn check(&self, p: &Principal, slug: &str, graph: Graph) -> ApiResult<Vec<Problem>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        self.problems(access.tenant(), &graph).await
    }

    async fn pipeline_of(&self, tenant: TenantId, id: &str) -> ApiResult<PipelineRecord> {
        let id: PipelineId = id.parse().map_err(|_| ApiError::not_found("pipeline"))?;
        self.store
            .pipeline(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("pipeline"))
    }

    async fn version_of(
        &self,
        pipeline: &PipelineRecord,
        version: i64,
    ) -> ApiResult<VersionRecord> {
        self.store
            .pipeline_version(pipeline.tenant_id, pipeline.id, version)
            .await?
            .ok_or_else(|| ApiError::not_found("version"))
    }

    async fn triggers(
        &self,
        access: &Access,
        pipeline: &PipelineRecord,
        graph: &Graph,
    ) -> ApiResult<Vec<TriggerView>> {
        let hooks = self
            .store
            .pipeline_hooks(access.tenant(), pipeline.id)
            .await?;
        let schedule = self
            .store
            .pipeline_schedule(access.tenant(), pipeline.id)
            .await?;
        Ok(graph
            .nodes
            .iter()
            .filter_map(|n| Some((n, NodeKind::parse(&n.kind).filter(|k| k.is_trigger())?)))
            .map(|(n, kind)| {
                let hook = hooks.iter().find(|h| h.node == n.id);
                TriggerView {
                    node: n.id.clone(),
                    kind: kind.as_str().to_owned(),
                    url: hook.map(|h| self.hook_url(&access.workspace.slug, h.id)),
                    signed: hook.is_some_and(|h| h.signing_key.is_some()),
                    next_at: schedule
                        .as_ref()
                        .filter(|s| s.node == n.id)
                        .map(|s| rfc3339_ms(s.next_at)),
                    topic: (kind == NodeKind::Topic)
                        .then(|| n.config.get("topic")?.as_str().map(str::to_owned))
                        .flatten(),
                }
            })
            .collect())
    }

    /// A webhook's absolute URL.
    pub fn hook_url(&self, slug: &str, hook: HookId) -> String {
        let base = self.public_url.as_str().trim_end_matches('/');
        format!("{base}/hooks/{slug}/{hook}")
    }

    /// One pipeline with its latest graph and the live version's triggers.
    pub async fn get(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<PipelineView> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let pipeline = self.pipeline_of(access.tenant(), id).await?;
        let latest = self.version_of(&pipeline, pipeline.latest_version).await?;
        let live = if pipeline.live_version == pipeline.latest_version {
            latest.graph.clone()
        } else {
            self.version_of(&pipeline, pipeline.live_version)
                .await?
                .graph
        };
        Ok(PipelineView {
            id: pipeline.id.to_string(),
            name: pipeline.name.clone(),
            version: pipeline.latest_version,
            live_version: pipeline.live_version,
            triggers: self.triggers(&access, &pipeline, &live).await?,
            graph: latest.graph,
            created_at: rfc3339_ms(pipeline.created_at),
            updated_at: rfc3339_ms(pipeline.updated_at),
        })
    }

    /// The workspace's pipelines, each with its latest run.
    pub async fn list(&self, p: &Principal, slug: &str) -> ApiResult<Vec<PipelineSummary>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let mut out = Vec::new();
        for pipeline in self.store.pipelines(access.tenant()).await? {
            let latest = self.version_of(&pipeline, pipeline.latest_version).await?;
            let last_run = self
                .store
                .pipeline_runs(access.tenant(), pipeline.id, 1)
                .await?
                .into_iter()
                .next()
                .map(|(run, job)| run_summary(&run, &job));
            out.push(PipelineSummary {
                id: pipeline.id.to_string(),
                name: pipeline.name,
                version: pipeline.latest_version,
                live_version: pipeline.live_version,
                nodes: latest.graph.nodes.len(),
                updated_at: rfc3339_ms(pipeline.updated_at),
                last_run,
            });
        }
        Ok(out)
    }

    /// Deletes a pipeline with its versions, hooks and runs; running runs are stopped.
    pub async fn delete(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<()> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let pipeline = self.pipeline_of(access.tenant(), id).await?;
        for (run, job) in self
            .store
            .pipeline_runs(access.tenant(), pipeline.id, 500)
            .await?
        {
            if !job.status.is_final() {
                self.jobs.cancel(access.tenant(), run.id).await?;
            }
        }
        if !self
            .store
            .delete_pipeline(access.tenant(), pipeline.id)
            .await?
        {
            return Err(ApiError::not_found("pipeline"));
        }
        Ok(())
    }

    /// A pipeline's versions, newest first.
    pub async fn versions(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
    ) -> ApiResult<Vec<VersionView>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let pipeline = self.pipeline_of(access.tenant(), id).await?;
        Ok(self
            .store
            .pipeline_versions(access.tenant(), pipeline.id)
            .await?
            .into_iter()
            .map(|v| version_view(v, pipeline.live_version))
            .collect())
    }

    /// One version.
    pub async fn version(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        version: i64,
    ) -> ApiResult<VersionView> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let pipeline = self.pipeline_of(access.tenant(), id).await?;
        let v = self.version_of(&pipeline, version).await?;
        Ok(version_view(v, pipeline.live_version))
    }

    /// Makes an existing version the live one (triggers start it from now on).
    pub async fn set_live(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        req: SetLive,
    ) -> ApiResult<PipelineView> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let pipeline = self.pipeline_of(access.tenant(), id).await?;
        let version = self
            .store
            .pipeline_version(access.tenant(), pipeline.id, req.version)
            .await?
            .ok_or_else(|| ApiError::field("version", "no such version"))?;
        let triggers = self.live_triggers(access.tenant(), pipeline.id, &version.graph)?;
        self.store
            .set_live_version(
                access.tenant(),
                pipeline.id,
                req.version,
                &triggers,
                now_ms(),
            )
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ApiError::field("version", "no such version"),
                e => e.into(),
            })?;
        self.get(p, slug, id).await
    }

    /// Starts a run of the live version (or `req.version`) by hand.
    pub async fn start_run(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        req: StartRun,
    ) -> ApiResult<RunStarted> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let pipeline = self.pipeline_of(access.tenant(), id).await?;
        let version = req.version.unwrap_or(pipeline.live_version);
        let v = self
            .store
            .pipeline_version(access.tenant(), pipeline.id, version)
            .await?
            .ok_or_else(|| ApiError::field("version", "no such version"))?;
        if req.input.to_string().len() > MAX_INPUT_BYTES {
            return Err(ApiError::field(
                "input",
                format!("must be at most {} KiB as JSON", MAX_INPUT_BYTES >> 10),
            ));
        }
        let schema = v
            .graph
            .nodes
            .iter()
            .find(|n| NodeKind::parse(&n.kind) == Some(NodeKind::Manual))
            .and_then(|n| n.config.get("schema"));
        if let Some(schema) = schema {
            shared::pipelines::schema::check_input(schema, &req.input)
                .map_err(|m| ApiError::field("input", m))?;
        }
        let launch = Launch::by(Trigger::Manual, access.acting_user, None);
        let run = self
            .submit(
                access.tenant(),
                &pipeline,
                &v,
                req.input,
                launch,
                Vec::new(),
            )
            .await?;
        Ok(RunStarted {
            id: run.to_string(),
        })
    }

    /// Starts a run of `pipeline`'s live version from outside the console: a webhook's
    /// request, a schedule's tick (a second run of one tick is a conflict), a route's
    /// request, a topic's message.
    pub(crate) async fn start_triggered(
        &self,
        tenant: TenantId,
        pipeline: &PipelineRecord,
        input: serde_json::Value,
        cause: Cause,
    ) -> ApiResult<JobId> {
        let v = self.version_of(pipeline, pipeline.live_version).await?;
        self.submit(tenant, pipeline, &v, input, cause.launch(), Vec::new())
            .await
    }

    /// Starts a run of each pipeline whose live version has a topic trigger on `topic`,
    /// with `input` (the message `message`); answers how many started. A pipeline that
    /// cannot start stops the publish before its message is stored (see `routes::topics`).
    pub(crate) async fn start_on_topic(
        &self,
        tenant: TenantId,
        topic: &str,
        message: MessageId,
        input: &serde_json::Value,
    ) -> ApiResult<usize> {
        let pipelines = self.store.pipelines_on_topic(tenant, topic).await?;
        for pipeline in &pipelines {
            self.start_triggered(tenant, pipeline, input.clone(), Cause::Topic { message })
                .await
                .map_err(|e| {
                    ApiError::new(
                        ErrorCode::Unavailable,
                        format!(
                            "the pipeline {} did not start: {}",
                            pipeline.name, e.message
                        ),
                    )
                })?;
        }
        Ok(pipelines.len())
    }

    /// The runs the topic messages `messages` started, by message, oldest first.
    pub(crate) async fn message_runs(
        &self,
        tenant: TenantId,
        messages: &[MessageId],
    ) -> ApiResult<BTreeMap<MessageId, Vec<MessageRunView>>> {
        let mut runs: BTreeMap<MessageId, Vec<MessageRunView>> = BTreeMap::new();
        for run in self.store.message_runs(tenant, messages).await? {
            let status = status_of(run.status, run.started);
            runs.entry(run.message).or_default().push(MessageRunView {
                run_id: run.run.to_string(),
                pipeline_id: run.pipeline.to_string(),
                pipeline: run.name,
                status,
                error: run.error.filter(|_| status == RunStatus::Failed),
            });
        }
        Ok(runs)
    }

    /// Stores a run with its job (and a re-run's reused journal) in one transaction.
    async fn submit(
        &self,
        tenant: TenantId,
        pipeline: &PipelineRecord,
        version: &VersionRecord,
        input: serde_json::Value,
        launch: Launch,
        reused: Vec<(String, String)>,
    ) -> ApiResult<JobId> {
        let mut names = BTreeSet::new();
        for node in &version.graph.nodes {
            secrets_named(&node.config, &mut names);
        }
        let mut secrets = Vec::new();
        for name in names {
            let record = self.store.secret(tenant, &name).await?.ok_or_else(|| {
                ApiError::field(
                    "graph",
                    format!("the workspace has no secret {name:?} any more; set it or change the pipeline"),
                )
            })?;
            secrets.push(Credential {
                name,
                sealed: record.sealed,
            });
        }
        let searches = version
            .graph
            .nodes
            .iter()
            .any(|n| NodeKind::parse(&n.kind) == Some(NodeKind::CodeSearch));
        let code_repos = if searches {
            self.store
                .code_repos(tenant)
                .await?
                .into_iter()
                .map(|r| r.id.to_string())
                .collect()
        } else {
            Vec::new()
        };
        let payload = super::runner::RunPayload {
            run: RunJob {
                tenant_id: tenant.to_string(),
                pipeline_id: pipeline.id.to_string(),
                version: version.version,
                graph: version.graph.clone(),
                input,
                reused: reused.iter().map(|(k, _)| k.clone()).collect(),
            },
            secrets,
            code_repos,
        };
        let payload = serde_json::to_value(&payload).map_err(|_| ApiError::internal())?;
        let pool = self.pool.clone();
        let job = self
            .jobs
            .admit(NewJob {
                tenant,
                kind: RUN_KIND.to_owned(),
                pool,
                payload,
                max_attempts: RUN_ATTEMPTS,
            })
            .await?;
        let run = RunRecord {
            id: job.id,
            tenant_id: tenant,
            pipeline_id: pipeline.id,
            version: version.version,
            trigger: launch.trigger,
            rerun_of: launch.rerun_of,
            created_by: launch.by,
            created_at: job.created_at,
            tick_at: launch.tick,
            message_id: launch.message,
        };
        self.store
            .insert_run(&job, &run, &reused)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ApiError::conflict(None, "this tick's run exists"),
                e => e.into(),
            })?;
        self.jobs.wake(&job.pool);
        Ok(job.id)
    }

    /// A pipeline's runs, newest first.
    pub async fn runs(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        limit: Option<i64>,
    ) -> ApiResult<Vec<RunSummary>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let pipeline = self.pipeline_of(access.tenant(), id).await?;
        Ok(self
            .store
            .pipeline_runs(access.tenant(), pipeline.id, limit.unwrap_or(50))
            .await?
            .iter()
            .map(|(run, job)| run_summary(run, job))
            .collect())
    }

    async fn run_of(&self, tenant: TenantId, id: &str) -> ApiResult<(RunRecord, JobRecord)> {
        let id: JobId = id.parse().map_err(|_| ApiError::not_found("run"))?;
        let run = self
            .store
            .pipeline_run(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("run"))?;
        let job = self
            .store
            .job(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("run"))?;
        Ok((run, job))
    }

    /// A run with every node's status, attempts, input, output, logs and timing.
    pub async fn run(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<RunView> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        self.run_view(access.tenant(), id).await
    }

    /// [`PipelineOps::run`] for a caller already authorised in `tenant` (the live stream).
    pub(crate) async fn run_view(&self, tenant: TenantId, id: &str) -> ApiResult<RunView> {
        let (run, job) = self.run_of(tenant, id).await?;
        let pipeline = self
            .store
            .pipeline(tenant, run.pipeline_id)
            .await?
            .ok_or_else(|| ApiError::not_found("run"))?;
        let version = self.version_of(&pipeline, run.version).await?;
        let entries = self.entries(tenant, run.id).await?;
        let payload: Option<super::runner::RunPayload> = serde_json::from_str(&job.payload).ok();
        let input = payload
            .as_ref()
            .map(|p| p.run.input.clone())
            .unwrap_or_default();
        let plan = plan_of(&version.graph);
        let status = run_status(&job);
        let nodes = node_views(&version.graph, plan.as_ref(), &entries, &input, status);
        Ok(RunView {
            id: run.id.to_string(),
            pipeline_id: pipeline.id.to_string(),
            pipeline_name: pipeline.name,
            version: run.version,
            trigger: run.trigger.as_str().to_owned(),
            rerun_of: run.rerun_of.map(|r| r.to_string()),
            status,
            input,
            output: job
                .result
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            error: job.error.clone().filter(|_| status == RunStatus::Failed),
            created_at: rfc3339_ms(run.created_at),
            started_at: job.started_at,
            finished_at: job.finished_at,
            nodes,
            graph: version.graph,
        })
    }

    async fn entries(
        &self,
        tenant: TenantId,
        job: JobId,
    ) -> ApiResult<BTreeMap<String, durable::Entry>> {
        Ok(self
            .store
            .job_steps(tenant, job)
            .await?
            .into_iter()
            .filter_map(|raw| serde_json::from_str::<durable::Entry>(&raw).ok())
            .map(|e| (e.key.clone(), e))
            .collect())
    }

    /// Stops a run at once.
    pub async fn cancel_run(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<RunView> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let (run, job) = self.run_of(access.tenant(), id).await?;
        if job.status.is_final() {
            return Err(ApiError::conflict(None, "the run has already ended"));
        }
        self.jobs.cancel(access.tenant(), run.id).await?;
        self.run_view(access.tenant(), id).await
    }

    /// Runs a finished run again from `node`: what finished before it (and does not depend
    /// on it) is reused from the journal; `node` and everything after it run again.
    pub async fn rerun(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        req: RerunFrom,
    ) -> ApiResult<RunStarted> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let (run, job) = self.run_of(access.tenant(), id).await?;
        if !job.status.is_final() {
            return Err(ApiError::conflict(
                None,
                "the run has not ended yet; cancel it first",
            ));
        }
        let pipeline = self
            .store
            .pipeline(access.tenant(), run.pipeline_id)
            .await?
            .ok_or_else(|| ApiError::not_found("run"))?;
        let version = self.version_of(&pipeline, run.version).await?;
        let plan = plan_of(&version.graph).ok_or_else(|| {
            ApiError::new(ErrorCode::Conflict, "this version cannot run any more")
        })?;
        if plan.step(&req.node).is_none() || req.node == plan.trigger {
            return Err(ApiError::field(
                "node",
                "must be a node of the run's version, not its trigger",
            ));
        }
        let mut redo = plan.downstream(&req.node);
        redo.insert(req.node.clone());
        let reused: Vec<(String, String)> = self
            .entries(access.tenant(), run.id)
            .await?
            .into_values()
            // A node's own entries (`node`, a long delay's `node#wake`) go with the node.
            .filter(|e| {
                let node = e.key.split('#').next().unwrap_or(&e.key);
                !redo.contains(node) && e.status == durable::StepStatus::Succeeded
            })
            .filter_map(|e| Some((e.key.clone(), serde_json::to_string(&e).ok()?)))
            .collect();
        let payload: Option<super::runner::RunPayload> = serde_json::from_str(&job.payload).ok();
        let input = payload.map(|p| p.run.input).unwrap_or_default();
        let launch = Launch::by(Trigger::Rerun, access.acting_user, Some(run.id));
        let new = self
            .submit(access.tenant(), &pipeline, &version, input, launch, reused)
            .await?;
        Ok(RunStarted {
            id: new.to_string(),
        })
    }
}

/// What starts a run, and on whose behalf.
struct Launch {
    trigger: Trigger,
    by: Option<shared::ids::UserId>,
    rerun_of: Option<JobId>,
    tick: Option<i64>,
    message: Option<MessageId>,
}

impl Launch {
    /// A run started in the console or the API by `by` (a manual run or a re-run).
    fn by(trigger: Trigger, by: shared::ids::UserId, rerun_of: Option<JobId>) -> Launch {
        Launch {
            trigger,
            by: Some(by),
            rerun_of,
            tick: None,
            message: None,
        }
    }
}

/// What started a run from outside the console, with what the run keeps of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A request to one of its webhooks.
    Webhook,
    /// A tick of its schedule (Unix ms): one run per tick.
    Schedule {
        /// The tick.
        tick: i64,
    },
    /// A request to a route whose handler it is.
    Route,
    /// A message to a topic it subscribes to or is triggered by.
    Topic {
        /// The message.
        message: MessageId,
    },
}

impl Cause {
    fn launch(self) -> Launch {
        let (trigger, tick, message) = match self {
            Cause::Webhook => (Trigger::Webhook, None, None),
            Cause::Schedule { tick } => (Trigger::Schedule, Some(tick), None),
            Cause::Route => (Trigger::Route, None, None),
            Cause::Topic { message } => (Trigger::Topic, None, Some(message)),
        };
        Launch {
            trigger,
            by: None,
            rerun_of: None,
            tick,
            message,
        }
    }
}

fn problems_has(problems: &[Problem], node: Option<&str>, field: Option<&str>) -> bool {
    problems
        .iter()
        .any(|p| p.node.as_deref() == node && p.field.as_deref() == field)
}

fn plan_of(graph: &Graph) -> Option<Plan> {
    // Secrets were checked when the version was saved; a plan for viewing needs none.
    let names: Vec<String> = {
        let mut set = BTreeSet::new();
        for node in &graph.nodes {
            secrets_named(&node.config, &mut set);
        }
        set.into_iter().collect()
    };
    compile(graph, &names).ok()
}

fn version_view(v: VersionRecord, live: i64) -> VersionView {
    VersionView {
        version: v.version,
        graph: v.graph,
        created_by: v.created_by.to_string(),
        created_at: rfc3339_ms(v.created_at),
        live: v.version == live,
    }
}
