//! Pipelines, their immutable versions, webhook triggers and runs. A run is a job of kind
//! `pipeline.run` (its id is the job's id): the job row holds its state and outcome, its
//! journal (`job_steps`) its nodes; the run row says which pipeline, version and trigger.

use crate::jobs::store::insert_job_in;
use crate::jobs::JobRecord;
use crate::store::{id, unique_to_conflict, Scope, Store, StoreError, StoreResult};
use shared::ids::{HookId, JobId, MessageId, PipelineId, TenantId, UserId};
use shared::jobs::JobStatus;
use shared::pipelines::Graph;
use sqlx::any::AnyRow;
use sqlx::Row;

/// A pipeline as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct PipelineRecord {
    /// Its id.
    pub id: PipelineId,
    /// Its workspace.
    pub tenant_id: TenantId,
    /// Its name, unique in the workspace.
    pub name: String,
    /// The newest version.
    pub latest_version: i64,
    /// The version triggers start.
    pub live_version: i64,
    /// Who created it.
    pub created_by: UserId,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last save.
    pub updated_at: i64,
}

const PIPELINE_COLUMNS: &str =
    "id, tenant_id, name, latest_version, live_version, created_by, created_at, updated_at";

impl PipelineRecord {
    fn from_row(row: &AnyRow) -> StoreResult<PipelineRecord> {
        Ok(PipelineRecord {
            id: id(row, "id")?,
            tenant_id: id(row, "tenant_id")?,
            name: row.try_get("name")?,
            latest_version: row.try_get("latest_version")?,
            live_version: row.try_get("live_version")?,
            created_by: id(row, "created_by")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// One saved version.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionRecord {
    /// The version number.
    pub version: i64,
    /// Its graph.
    pub graph: Graph,
    /// Who saved it.
    pub created_by: UserId,
    /// Unix ms.
    pub created_at: i64,
}

impl VersionRecord {
    fn from_row(row: &AnyRow) -> StoreResult<VersionRecord> {
        let raw: String = row.try_get("graph")?;
        Ok(VersionRecord {
            version: row.try_get("version")?,
            graph: serde_json::from_str(&raw)
                .map_err(|e| StoreError::Corrupt(format!("a pipeline graph: {e}")))?,
            created_by: id(row, "created_by")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// A webhook trigger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookRecord {
    /// Its id (in its URL).
    pub id: HookId,
    /// Its pipeline.
    pub pipeline_id: PipelineId,
    /// Its workspace.
    pub tenant_id: TenantId,
    /// The webhook node.
    pub node: String,
    /// The signing key, sealed (JSON of a `Sealed`), when requests must be signed.
    pub signing_key: Option<String>,
}

/// A pipeline's schedule as stored: the live version's schedule node and its next tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRecord {
    /// The pipeline.
    pub pipeline_id: PipelineId,
    /// Its workspace.
    pub tenant_id: TenantId,
    /// The schedule node.
    pub node: String,
    /// Its cron expression.
    pub cron: String,
    /// Its IANA time zone.
    pub timezone: String,
    /// Its missed-tick policy.
    pub missed: super::schedules::Missed,
    /// The next tick (Unix ms).
    pub next_at: i64,
}

/// What a save does to the triggers the store keeps for the live version: its schedule's
/// row and the topic whose messages start it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveTriggers {
    /// Nothing (the live version did not change).
    Keep,
    /// The live version has this schedule (or none) and starts on this topic (or none).
    Set {
        /// Its schedule.
        schedule: Option<ScheduleRecord>,
        /// Its topic trigger's topic.
        topic: Option<String>,
    },
}

/// What started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The console or the API.
    Manual,
    /// A webhook request.
    Webhook,
    /// A schedule's tick.
    Schedule,
    /// A re-run from a node of an earlier run.
    Rerun,
    /// A request to a route with a pipeline handler.
    Route,
    /// A message to a topic with a pipeline subscriber.
    Topic,
}

impl Trigger {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Webhook => "webhook",
            Trigger::Schedule => "schedule",
            Trigger::Rerun => "rerun",
            Trigger::Route => "route",
            Trigger::Topic => "topic",
        }
    }

    fn parse(raw: &str) -> Option<Trigger> {
        [
            Trigger::Manual,
            Trigger::Webhook,
            Trigger::Schedule,
            Trigger::Rerun,
            Trigger::Route,
            Trigger::Topic,
        ]
        .into_iter()
        .find(|t| t.as_str() == raw)
    }
}

/// A run as stored (with its job).
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// The run's id (its job's).
    pub id: JobId,
    /// Its workspace.
    pub tenant_id: TenantId,
    /// Its pipeline.
    pub pipeline_id: PipelineId,
    /// The version it pinned.
    pub version: i64,
    /// What started it.
    pub trigger: Trigger,
    /// The run it re-runs.
    pub rerun_of: Option<JobId>,
    /// Who started it (none for webhooks and schedules).
    pub created_by: Option<UserId>,
    /// Unix ms.
    pub created_at: i64,
    /// The schedule tick it runs for (unique per pipeline).
    pub tick_at: Option<i64>,
    /// The topic message that started it.
    pub message_id: Option<MessageId>,
}

/// A run a topic message started, as its topic's tail lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRun {
    /// The run (its job).
    pub run: JobId,
    /// The message.
    pub message: MessageId,
    /// Its pipeline.
    pub pipeline: PipelineId,
    /// The pipeline's name.
    pub name: String,
    /// Its job's status.
    pub status: JobStatus,
    /// Whether an attempt has started.
    pub started: bool,
    /// Its job's latest error.
    pub error: Option<String>,
}

const RUN_COLUMNS: &str =
    "r.id, r.tenant_id, r.pipeline_id, r.version, r.trigger, r.rerun_of, r.created_by, r.created_at, r.tick_at, r.message_id";

impl RunRecord {
    fn from_row(row: &AnyRow) -> StoreResult<RunRecord> {
        let trigger: String = row.try_get("trigger")?;
        let rerun_of: Option<String> = row.try_get("rerun_of")?;
        let created_by: Option<String> = row.try_get("created_by")?;
        let message_id: Option<String> = row.try_get("message_id")?;
        fn parse_id<T: std::str::FromStr>(raw: String) -> StoreResult<T> {
            raw.parse()
                .map_err(|_| StoreError::Corrupt(format!("id {raw:?}")))
        }
        Ok(RunRecord {
            id: id(row, "id")?,
            tenant_id: id(row, "tenant_id")?,
            pipeline_id: id(row, "pipeline_id")?,
            version: row.try_get("version")?,
            trigger: Trigger::parse(&trigger)
                .ok_or_else(|| StoreError::Corrupt(format!("run trigger {trigger:?}")))?,
            rerun_of: rerun_of.map(parse_id).transpose()?,
            created_by: created_by.map(parse_id).transpose()?,
            created_at: row.try_get("created_at")?,
            tick_at: row.try_get("tick_at")?,
            message_id: message_id.map(parse_id).transpose()?,
        })
    }
}

fn graph_json(graph: &Graph) -> StoreResult<String> {
    serde_json::to_string(graph).map_err(|e| StoreError::Corrupt(format!("a pipeline graph: {e}")))
}

impl Store {
    /// Creates a pipeline with its first version (live), and the hooks of its webhook
    /// nodes, in one transaction.
    pub async fn insert_pipeline(
        &self,
        pipeline: &PipelineRecord,
        graph: &Graph,
        hooks: &[HookRecord],
        triggers: &LiveTriggers,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(pipeline.tenant_id)).await?;
        sqlx::query(&format!(
            "INSERT INTO pipelines ({PIPELINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(pipeline.id.to_string())
        .bind(pipeline.tenant_id.to_string())
        .bind(&pipeline.name)
        .bind(pipeline.latest_version)
        .bind(pipeline.live_version)
        .bind(pipeline.created_by.to_string())
        .bind(pipeline.created_at)
        .bind(pipeline.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_to_conflict(e, "name"))?;
        insert_version(
            &mut tx,
            pipeline,
            1,
            graph,
            pipeline.created_by,
            pipeline.created_at,
        )
        .await?;
        for hook in hooks {
            insert_hook(&mut tx, hook, pipeline.created_at).await?;
        }
        change_live_triggers(&mut tx, pipeline.tenant_id, pipeline.id, triggers).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves a new version after `expected` (the latest the caller read; another save in
    /// between is a conflict), renames when `name` is given, makes it live when `live`, and
    /// adds hooks for new webhook nodes. Answers the new version.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_version(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
        name: Option<&str>,
        graph: &Graph,
        live: bool,
        by: UserId,
        hooks: &[HookRecord],
        triggers: &LiveTriggers,
        now: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {PIPELINE_COLUMNS} FROM pipelines WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let mut record = PipelineRecord::from_row(&row)?;
        let version = record.latest_version + 1;
        record.latest_version = version;
        if live {
            record.live_version = version;
        }
        if let Some(name) = name {
            record.name = name.to_owned();
        }
        let done = sqlx::query(
            "UPDATE pipelines SET name = $1, latest_version = $2, live_version = $3, updated_at = $4
             WHERE id = $5 AND tenant_id = $6 AND latest_version = $7",
        )
        .bind(&record.name)
        .bind(version)
        .bind(record.live_version)
        .bind(now)
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .bind(version - 1)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_to_conflict(e, "name"))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict("version"));
        }
        insert_version(&mut tx, &record, version, graph, by, now).await?;
        for hook in hooks {
            insert_hook(&mut tx, hook, now).await?;
        }
        change_live_triggers(&mut tx, tenant, pipeline, triggers).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Makes `version` the live one.
    pub async fn set_live_version(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
        version: i64,
        triggers: &LiveTriggers,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE pipelines SET live_version = $1, updated_at = $2 WHERE id = $3 AND tenant_id = $4
             AND EXISTS (SELECT 1 FROM pipeline_versions v WHERE v.pipeline_id = $3 AND v.version = $1)",
        )
        .bind(version)
        .bind(now)
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        change_live_triggers(&mut tx, tenant, pipeline, triggers).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Schedules whose next tick is at or before `now` (every workspace).
    pub async fn due_schedules(&self, now: i64, limit: i64) -> StoreResult<Vec<ScheduleRecord>> {
        let mut tx = self.begin_read(Scope::System).await?;
        let rows = sqlx::query(
            "SELECT pipeline_id, tenant_id, node, cron, timezone, missed, next_at FROM pipeline_schedules
             WHERE next_at <= $1 ORDER BY next_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(schedule_from_row).collect()
    }

    /// The pipelines whose live version starts on each message to `topic`.
    pub async fn pipelines_on_topic(
        &self,
        tenant: TenantId,
        topic: &str,
    ) -> StoreResult<Vec<PipelineRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {PIPELINE_COLUMNS} FROM pipelines WHERE tenant_id = $1 AND live_topic = $2
             ORDER BY created_at, id"
        ))
        .bind(tenant.to_string())
        .bind(topic)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(PipelineRecord::from_row).collect()
    }

    /// A pipeline's schedule.
    pub async fn pipeline_schedule(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
    ) -> StoreResult<Option<ScheduleRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(
            "SELECT pipeline_id, tenant_id, node, cron, timezone, missed, next_at FROM pipeline_schedules
             WHERE pipeline_id = $1 AND tenant_id = $2",
        )
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(schedule_from_row).transpose()
    }

    /// Moves a schedule from the tick `from` to `to`; `false` when another control plane
    /// moved it first (or the schedule changed).
    pub async fn advance_schedule(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
        from: i64,
        to: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE pipeline_schedules SET next_at = $1 WHERE pipeline_id = $2 AND tenant_id = $3 AND next_at = $4",
        )
        .bind(to)
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .bind(from)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// One pipeline of `tenant`.
    pub async fn pipeline(
        &self,
        tenant: TenantId,
        id: PipelineId,
    ) -> StoreResult<Option<PipelineRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {PIPELINE_COLUMNS} FROM pipelines WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(PipelineRecord::from_row).transpose()
    }

    /// The workspace's pipelines, by name.
    pub async fn pipelines(&self, tenant: TenantId) -> StoreResult<Vec<PipelineRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {PIPELINE_COLUMNS} FROM pipelines WHERE tenant_id = $1 ORDER BY name, id"
        ))
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(PipelineRecord::from_row).collect()
    }

    /// Deletes a pipeline with its versions, hooks and runs (their jobs too). `false` when
    /// there was none.
    pub async fn delete_pipeline(&self, tenant: TenantId, id: PipelineId) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        sqlx::query(
            "DELETE FROM jobs WHERE tenant_id = $1 AND id IN (SELECT id FROM pipeline_runs WHERE pipeline_id = $2)",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM pipelines WHERE id = $1 AND tenant_id = $2")
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// One version of a pipeline.
    pub async fn pipeline_version(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
        version: i64,
    ) -> StoreResult<Option<VersionRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(
            "SELECT version, graph, created_by, created_at FROM pipeline_versions
             WHERE pipeline_id = $1 AND tenant_id = $2 AND version = $3",
        )
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(VersionRecord::from_row).transpose()
    }

    /// A pipeline's versions, newest first.
    pub async fn pipeline_versions(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
    ) -> StoreResult<Vec<VersionRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(
            "SELECT version, graph, created_by, created_at FROM pipeline_versions
             WHERE pipeline_id = $1 AND tenant_id = $2 ORDER BY version DESC",
        )
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(VersionRecord::from_row).collect()
    }

    /// A pipeline's webhook triggers.
    pub async fn pipeline_hooks(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
    ) -> StoreResult<Vec<HookRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(
            "SELECT id, pipeline_id, tenant_id, node, signing_key FROM pipeline_hooks
             WHERE pipeline_id = $1 AND tenant_id = $2 ORDER BY node",
        )
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(hook_from_row).collect()
    }

    /// The webhook trigger `id` of `tenant`.
    pub async fn pipeline_hook(
        &self,
        tenant: TenantId,
        id: HookId,
    ) -> StoreResult<Option<HookRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(
            "SELECT id, pipeline_id, tenant_id, node, signing_key FROM pipeline_hooks
             WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(hook_from_row).transpose()
    }

    /// The webhook trigger `id` of any workspace (a request to its URL names no workspace
    /// the caller is signed in to; the caller checks the slug against the hook's).
    pub async fn hook_any_tenant(&self, id: HookId) -> StoreResult<Option<HookRecord>> {
        let mut tx = self.begin_read(Scope::System).await?;
        let row = sqlx::query(
            "SELECT id, pipeline_id, tenant_id, node, signing_key FROM pipeline_hooks WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(hook_from_row).transpose()
    }

    /// Sets or clears a webhook's signing key (sealed).
    pub async fn set_hook_signing_key(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
        node: &str,
        sealed: Option<&str>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE pipeline_hooks SET signing_key = $1 WHERE pipeline_id = $2 AND tenant_id = $3 AND node = $4",
        )
        .bind(sealed)
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .bind(node)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a run: its job, its row and, for a re-run, the journal entries it reuses, in
    /// one transaction.
    pub async fn insert_run(
        &self,
        job: &JobRecord,
        run: &RunRecord,
        reused: &[(String, String)],
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(run.tenant_id)).await?;
        insert_job_in(&mut tx, job).await?;
        sqlx::query(
            "INSERT INTO pipeline_runs (id, tenant_id, pipeline_id, version, trigger, rerun_of, created_by, created_at, tick_at, message_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(run.id.to_string())
        .bind(run.tenant_id.to_string())
        .bind(run.pipeline_id.to_string())
        .bind(run.version)
        .bind(run.trigger.as_str())
        .bind(run.rerun_of.map(|r| r.to_string()))
        .bind(run.created_by.map(|u| u.to_string()))
        .bind(run.created_at)
        .bind(run.tick_at)
        .bind(run.message_id.map(|m| m.to_string()))
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_to_conflict(e, "tick"))?;
        for (key, entry) in reused {
            sqlx::query(
                "INSERT INTO job_steps (job_id, tenant_id, key, entry, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(run.id.to_string())
            .bind(run.tenant_id.to_string())
            .bind(key)
            .bind(entry)
            .bind(run.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One run of `tenant`.
    pub async fn pipeline_run(
        &self,
        tenant: TenantId,
        id: JobId,
    ) -> StoreResult<Option<RunRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM pipeline_runs r WHERE r.id = $1 AND r.tenant_id = $2"
        ))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(RunRecord::from_row).transpose()
    }

    /// The runs the topic messages `messages` started, oldest first: each with its
    /// pipeline's name and its job's status, whether it has started, and its error.
    pub async fn message_runs(
        &self,
        tenant: TenantId,
        messages: &[MessageId],
    ) -> StoreResult<Vec<MessageRun>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let list = crate::store::placeholders(2, messages.len());
        let sql = format!(
            "SELECT r.id, r.message_id, r.pipeline_id, p.name, j.status, j.started_at, j.error
             FROM pipeline_runs r
             JOIN pipelines p ON p.id = r.pipeline_id AND p.tenant_id = r.tenant_id
             JOIN jobs j ON j.id = r.id AND j.tenant_id = r.tenant_id
             WHERE r.tenant_id = $1 AND r.message_id IN ({list})
             ORDER BY r.created_at, r.id"
        );
        let mut query = sqlx::query(&sql).bind(tenant.to_string());
        for message in messages {
            query = query.bind(message.to_string());
        }
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok(MessageRun {
                    run: id(row, "id")?,
                    message: id(row, "message_id")?,
                    pipeline: id(row, "pipeline_id")?,
                    name: row.try_get("name")?,
                    status: status
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("job status {status:?}")))?,
                    started: row.try_get::<Option<i64>, _>("started_at")?.is_some(),
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }

    /// A pipeline's runs, newest first, with their jobs.
    pub async fn pipeline_runs(
        &self,
        tenant: TenantId,
        pipeline: PipelineId,
        limit: i64,
    ) -> StoreResult<Vec<(RunRecord, JobRecord)>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLUMNS} FROM pipeline_runs r WHERE r.pipeline_id = $1 AND r.tenant_id = $2
             ORDER BY r.created_at DESC, r.id LIMIT $3"
        ))
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .bind(limit.clamp(1, 500))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let runs: Vec<RunRecord> = rows
            .iter()
            .map(RunRecord::from_row)
            .collect::<StoreResult<_>>()?;
        let ids: Vec<JobId> = runs.iter().map(|r| r.id).collect();
        let mut jobs: std::collections::HashMap<JobId, JobRecord> = self
            .jobs_by_id(tenant, &ids)
            .await?
            .into_iter()
            .map(|j| (j.id, j))
            .collect();
        Ok(runs
            .into_iter()
            .filter_map(|run| {
                let job = jobs.remove(&run.id)?;
                Some((run, job))
            })
            .collect())
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    pipeline: &PipelineRecord,
    version: i64,
    graph: &Graph,
    by: UserId,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO pipeline_versions (pipeline_id, tenant_id, version, graph, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(pipeline.id.to_string())
    .bind(pipeline.tenant_id.to_string())
    .bind(version)
    .bind(graph_json(graph)?)
    .bind(by.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds a hook unless its node has one (a node keeps its URL across versions).
async fn insert_hook(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    hook: &HookRecord,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO pipeline_hooks (id, pipeline_id, tenant_id, node, signing_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (pipeline_id, node) DO NOTHING",
    )
    .bind(hook.id.to_string())
    .bind(hook.pipeline_id.to_string())
    .bind(hook.tenant_id.to_string())
    .bind(&hook.node)
    .bind(hook.signing_key.clone())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn change_live_triggers(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    tenant: TenantId,
    pipeline: PipelineId,
    change: &LiveTriggers,
) -> StoreResult<()> {
    let LiveTriggers::Set { schedule, topic } = change else {
        return Ok(());
    };
    match schedule {
        None => {
            sqlx::query("DELETE FROM pipeline_schedules WHERE pipeline_id = $1 AND tenant_id = $2")
                .bind(pipeline.to_string())
                .bind(tenant.to_string())
                .execute(&mut **tx)
                .await?;
        }
        Some(s) => {
            sqlx::query(
                "INSERT INTO pipeline_schedules (pipeline_id, tenant_id, node, cron, timezone, missed, next_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (pipeline_id) DO UPDATE SET node = excluded.node, cron = excluded.cron,
                 timezone = excluded.timezone, missed = excluded.missed, next_at = excluded.next_at",
            )
            .bind(pipeline.to_string())
            .bind(tenant.to_string())
            .bind(&s.node)
            .bind(&s.cron)
            .bind(&s.timezone)
            .bind(s.missed.as_str())
            .bind(s.next_at)
            .execute(&mut **tx)
            .await?;
        }
    }
    sqlx::query("UPDATE pipelines SET live_topic = $1 WHERE id = $2 AND tenant_id = $3")
        .bind(topic.clone())
        .bind(pipeline.to_string())
        .bind(tenant.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn schedule_from_row(row: &AnyRow) -> StoreResult<ScheduleRecord> {
    let missed: String = row.try_get("missed")?;
    Ok(ScheduleRecord {
        pipeline_id: id(row, "pipeline_id")?,
        tenant_id: id(row, "tenant_id")?,
        node: row.try_get("node")?,
        cron: row.try_get("cron")?,
        timezone: row.try_get("timezone")?,
        missed: super::schedules::Missed::parse(&missed)
            .ok_or_else(|| StoreError::Corrupt(format!("schedule policy {missed:?}")))?,
        next_at: row.try_get("next_at")?,
    })
}

fn hook_from_row(row: &AnyRow) -> StoreResult<HookRecord> {
    Ok(HookRecord {
        id: id(row, "id")?,
        pipeline_id: id(row, "pipeline_id")?,
        tenant_id: id(row, "tenant_id")?,
        node: row.try_get("node")?,
        signing_key: row.try_get("signing_key")?,
    })
}
