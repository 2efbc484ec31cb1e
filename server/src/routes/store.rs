//! Routes, topics and subscribers as drafts, and the deploys that made them live. A deploy
//! is an immutable manifest with its hash and plan summary; the live one is the workspace's
//! highest version (a rollback is a new deploy of an earlier manifest).

use crate::jobs::store::insert_job_in;
use crate::jobs::JobRecord;
use crate::store::{id, unique_to_conflict, Scope, Store, StoreError, StoreResult};
use shared::ids::{DeployId, JobId, MessageId, RouteId, SubscriberId, TenantId, TopicId, UserId};
use shared::routes::{Manifest, Route, Subscriber};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A draft route.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteRecord {
    /// Its id.
    pub id: RouteId,
    /// Its definition.
    pub route: Route,
    /// Who made it.
    pub created_by: UserId,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last change.
    pub updated_at: i64,
}

const ROUTE_COLUMNS: &str = "id, definition, created_by, created_at, updated_at";

impl RouteRecord {
    fn from_row(row: &AnyRow) -> StoreResult<RouteRecord> {
        Ok(RouteRecord {
            id: id(row, "id")?,
            route: json(row, "definition")?,
            created_by: id(row, "created_by")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A draft topic with its subscribers (by name).
#[derive(Clone, Debug, PartialEq)]
pub struct TopicRecord {
    /// Its id.
    pub id: TopicId,
    /// Its name, unique in the workspace.
    pub name: String,
    /// How long its messages are kept.
    pub retention_hours: u32,
    /// Its subscribers.
    pub subscribers: Vec<SubscriberRecord>,
}

/// A draft subscriber.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriberRecord {
    /// Its id.
    pub id: SubscriberId,
    /// Its definition (its name is unique in its topic).
    pub subscriber: Subscriber,
}

/// A deploy.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployRecord {
    /// Its id.
    pub id: DeployId,
    /// Its number in the workspace, from 1.
    pub version: i64,
    /// The manifest it applied (canonical JSON).
    pub manifest: String,
    /// The manifest's SHA-256, hex.
    pub hash: String,
    /// What it changed (JSON of a `DeploySummary`).
    pub summary: String,
    /// The deploy it rolled back to, if it was a rollback.
    pub rollback_of: Option<DeployId>,
    /// Who applied it.
    pub created_by: UserId,
    /// Unix ms.
    pub created_at: i64,
}

const DEPLOY_COLUMNS: &str =
    "id, version, manifest, hash, summary, rollback_of, created_by, created_at";

impl DeployRecord {
    fn from_row(row: &AnyRow) -> StoreResult<DeployRecord> {
        let rollback_of: Option<String> = row.try_get("rollback_of")?;
        Ok(DeployRecord {
            id: id(row, "id")?,
            version: row.try_get("version")?,
            manifest: row.try_get("manifest")?,
            hash: row.try_get("hash")?,
            summary: row.try_get("summary")?,
            rollback_of: rollback_of
                .map(|raw| {
                    raw.parse()
                        .map_err(|_| StoreError::Corrupt(format!("deploy id {raw:?}")))
                })
                .transpose()?,
            created_by: id(row, "created_by")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// A message published to a topic.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRecord {
    /// Its id.
    pub id: MessageId,
    /// The topic.
    pub topic: String,
    /// What was published (JSON).
    pub body: String,
    /// Unix ms.
    pub published_at: i64,
    /// When it is deleted (its topic's retention), Unix ms.
    pub expires_at: i64,
}

/// One delivery of a message, as its job stands.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRecord {
    /// The delivery's job.
    pub job: JobId,
    /// The subscriber.
    pub subscriber: String,
    /// The job's status.
    pub status: shared::jobs::JobStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// The latest attempt's error.
    pub error: Option<String>,
    /// The dead delivery it replays.
    pub replay_of: Option<JobId>,
}

/// A delivery whose job is dead: a dead letter.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The dead delivery's job (replaying it makes a new one).
    pub job: JobRecord,
    /// The message.
    pub message_id: MessageId,
    /// The subscriber.
    pub subscriber: String,
}

/// A JSON column as a `T`.
fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> StoreResult<T> {
    let raw: String = row.try_get(column)?;
    serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(format!("a definition: {e}")))
}

impl Store {
    /// Adds a draft route; a route with the same method and path is a conflict on `path`.
    pub async fn insert_route(&self, tenant: TenantId, record: &RouteRecord) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        insert_route_in(&mut tx, tenant, record).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a draft route's definition; `false` when there is none.
    pub async fn update_route(
        &self,
        tenant: TenantId,
        id: RouteId,
        route: &Route,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE routes SET method = $1, path = $2, definition = $3, updated_at = $4
             WHERE id = $5 AND tenant_id = $6",
        )
        .bind(route.method.as_str())
        .bind(&route.path)
        .bind(to_json(route)?)
        .bind(now)
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_to_conflict(e, "path"))?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a draft route; `false` when there was none.
    pub async fn delete_route(&self, tenant: TenantId, id: RouteId) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query("DELETE FROM routes WHERE id = $1 AND tenant_id = $2")
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// One draft route.
    pub async fn route(&self, tenant: TenantId, id: RouteId) -> StoreResult<Option<RouteRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {ROUTE_COLUMNS} FROM routes WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(RouteRecord::from_row).transpose()
    }

    /// The workspace's draft routes, by path then method.
    pub async fn routes(&self, tenant: TenantId) -> StoreResult<Vec<RouteRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {ROUTE_COLUMNS} FROM routes WHERE tenant_id = $1 ORDER BY path, method"
        ))
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(RouteRecord::from_row).collect()
    }

    /// Adds a draft topic; another with its name is a conflict on `name`.
    pub async fn insert_topic(
        &self,
        tenant: TenantId,
        id: TopicId,
        name: &str,
        retention_hours: u32,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        insert_topic_in(&mut tx, tenant, id, name, retention_hours, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a draft topic's retention; `false` when there is no such topic.
    pub async fn update_topic(
        &self,
        tenant: TenantId,
        name: &str,
        retention_hours: u32,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "UPDATE topics SET retention_hours = $1, updated_at = $2 WHERE tenant_id = $3 AND name = $4",
        )
        .bind(i64::from(retention_hours))
        .bind(now)
        .bind(tenant.to_string())
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a draft topic with its subscribers; `false` when there was none.
    pub async fn delete_topic(&self, tenant: TenantId, name: &str) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query("DELETE FROM topics WHERE tenant_id = $1 AND name = $2")
            .bind(tenant.to_string())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// The workspace's draft topics with their subscribers, by name.
    pub async fn topics(&self, tenant: TenantId) -> StoreResult<Vec<TopicRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(
            "SELECT id, name, retention_hours FROM topics WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let subscribers = sqlx::query(
            "SELECT id, topic_id, definition FROM topic_subscribers WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.to_string())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut topics = Vec::with_capacity(rows.len());
        for row in &rows {
            let topic_id: TopicId = id(row, "id")?;
            let retention: i64 = row.try_get("retention_hours")?;
            let mut mine = Vec::new();
            for s in &subscribers {
                if id::<TopicId>(s, "topic_id")? == topic_id {
                    mine.push(SubscriberRecord {
                        id: id(s, "id")?,
                        subscriber: json(s, "definition")?,
                    });
                }
            }
            topics.push(TopicRecord {
                id: topic_id,
                name: row.try_get("name")?,
                retention_hours: u32::try_from(retention)
                    .map_err(|_| StoreError::Corrupt(format!("retention {retention}")))?,
                subscribers: mine,
            });
        }
        Ok(topics)
    }

    /// Adds a draft subscriber to the topic `topic`; `false` when there is no such topic;
    /// another subscriber of it with the same name is a conflict on `name`.
    pub async fn insert_subscriber(
        &self,
        tenant: TenantId,
        topic: &str,
        id: SubscriberId,
        subscriber: &Subscriber,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let added = insert_subscriber_in(&mut tx, tenant, topic, id, subscriber, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Replaces every draft route, topic and subscriber of the workspace with `manifest`'s,
    /// in one transaction (the CLI's `switchyard plan` and `deploy` send a whole directory).
    pub async fn replace_drafts(
        &self,
        tenant: TenantId,
        manifest: &Manifest,
        by: UserId,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        for table in ["topic_subscribers", "topics", "routes"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                .bind(tenant.to_string())
                .execute(&mut *tx)
                .await?;
        }
        for route in &manifest.routes {
            let record = RouteRecord {
                id: RouteId::new(),
                route: route.clone(),
                created_by: by,
                created_at: now,
                updated_at: now,
            };
            insert_route_in(&mut tx, tenant, &record).await?;
        }
        for topic in &manifest.topics {
            insert_topic_in(
                &mut tx,
                tenant,
                TopicId::new(),
                &topic.name,
                topic.retention_hours,
                now,
            )
            .await?;
            for subscriber in &topic.subscribers {
                insert_subscriber_in(
                    &mut tx,
                    tenant,
                    &topic.name,
                    SubscriberId::new(),
                    subscriber,
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a draft subscriber of `topic`; `false` when there was none.
    pub async fn delete_subscriber(
        &self,
        tenant: TenantId,
        topic: &str,
        id: SubscriberId,
    ) -> StoreResult<bool> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let done = sqlx::query(
            "DELETE FROM topic_subscribers WHERE id = $1 AND tenant_id = $2
             AND topic_id IN (SELECT id FROM topics WHERE tenant_id = $2 AND name = $3)",
        )
        .bind(id.to_string())
        .bind(tenant.to_string())
        .bind(topic)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a deploy as the workspace's next version (the live one from now on); answers
    /// that version. Two deploys at once: the second is a conflict on `version`.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_deploy(
        &self,
        tenant: TenantId,
        id: DeployId,
        manifest: &str,
        hash: &str,
        summary: &str,
        rollback_of: Option<DeployId>,
        created_by: UserId,
        now: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        let latest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM deploys WHERE tenant_id = $1")
                .bind(tenant.to_string())
                .fetch_one(&mut *tx)
                .await?;
        let version = latest.unwrap_or(0) + 1;
        sqlx::query(&format!(
            "INSERT INTO deploys (tenant_id, {DEPLOY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(version)
        .bind(manifest)
        .bind(hash)
        .bind(summary)
        .bind(rollback_of.map(|d| d.to_string()))
        .bind(created_by.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_to_conflict(e, "version"))?;
        tx.commit().await?;
        Ok(version)
    }

    /// The live deploy: the workspace's highest version.
    pub async fn live_deploy(&self, tenant: TenantId) -> StoreResult<Option<DeployRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys WHERE tenant_id = $1 ORDER BY version DESC LIMIT 1"
        ))
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(DeployRecord::from_row).transpose()
    }

    /// One deploy.
    pub async fn deploy(
        &self,
        tenant: TenantId,
        id: DeployId,
    ) -> StoreResult<Option<DeployRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let row = sqlx::query(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(DeployRecord::from_row).transpose()
    }

    /// The workspace's deploys, newest first (at most `limit`).
    pub async fn deploys(&self, tenant: TenantId, limit: i64) -> StoreResult<Vec<DeployRecord>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys WHERE tenant_id = $1 ORDER BY version DESC LIMIT $2"
        ))
        .bind(tenant.to_string())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter().map(DeployRecord::from_row).collect()
    }

    /// Records a published message with one delivery job per subscriber, in one
    /// transaction (a message is never stored without its deliveries, nor a delivery
    /// without its message).
    pub async fn insert_message(
        &self,
        tenant: TenantId,
        message: &MessageRecord,
        deliveries: &[(JobRecord, String)],
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        sqlx::query(
            "INSERT INTO topic_messages (id, tenant_id, topic, body, published_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(message.id.to_string())
        .bind(tenant.to_string())
        .bind(&message.topic)
        .bind(&message.body)
        .bind(message.published_at)
        .bind(message.expires_at)
        .execute(&mut *tx)
        .await?;
        for (job, subscriber) in deliveries {
            insert_job_in(&mut tx, job).await?;
            insert_delivery(
                &mut tx,
                tenant,
                job,
                message.id,
                &message.topic,
                subscriber,
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a new delivery of a dead letter's message (its replay).
    pub async fn insert_replay(
        &self,
        tenant: TenantId,
        dead: &DeadLetter,
        topic: &str,
        job: &JobRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin(Scope::Tenant(tenant)).await?;
        insert_job_in(&mut tx, job).await?;
        insert_delivery(
            &mut tx,
            tenant,
            job,
            dead.message_id,
            topic,
            &dead.subscriber,
            Some(dead.job.id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Messages of `topic` (at most `limit`), oldest first: published at or after `since`
    /// (Unix ms), else the latest; each with its deliveries, oldest first.
    pub async fn messages(
        &self,
        tenant: TenantId,
        topic: &str,
        since: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<(MessageRecord, Vec<DeliveryRecord>)>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let columns = "id, topic, body, published_at, expires_at";
        let sql = match since {
            Some(_) => format!(
                "SELECT {columns} FROM topic_messages WHERE tenant_id = $1 AND topic = $2
                 AND published_at >= $3 ORDER BY published_at, id LIMIT $4"
            ),
            None => format!(
                "SELECT {columns} FROM (SELECT {columns} FROM topic_messages
                 WHERE tenant_id = $1 AND topic = $2
                 ORDER BY published_at DESC, id DESC LIMIT $3) latest ORDER BY published_at, id"
            ),
        };
        let mut query = sqlx::query(&sql).bind(tenant.to_string()).bind(topic);
        if let Some(since) = since {
            query = query.bind(since);
        }
        let rows = query.bind(limit).fetch_all(&mut *tx).await?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in &rows {
            messages.push((
                MessageRecord {
                    id: id(row, "id")?,
                    topic: row.try_get("topic")?,
                    body: row.try_get("body")?,
                    published_at: row.try_get("published_at")?,
                    expires_at: row.try_get("expires_at")?,
                },
                Vec::new(),
            ));
        }
        if let (Some(first), Some(last)) = (messages.first(), messages.last()) {
            // The deliveries of exactly these messages: of the topic, in their time span.
            let rows = sqlx::query(
                "SELECT d.job_id, d.message_id, d.subscriber, d.replay_of, j.status, j.attempt, j.error
                 FROM topic_deliveries d JOIN jobs j ON j.id = d.job_id
                 JOIN topic_messages m ON m.id = d.message_id
                 WHERE d.tenant_id = $1 AND d.topic = $2 AND m.published_at >= $3 AND m.published_at <= $4
                 ORDER BY d.created_at, d.job_id",
            )
            .bind(tenant.to_string())
            .bind(topic)
            .bind(first.0.published_at)
            .bind(last.0.published_at)
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                let message: MessageId = id(row, "message_id")?;
                let Some((_, deliveries)) = messages.iter_mut().find(|(m, _)| m.id == message)
                else {
                    continue; // a message at the span's edge beyond the limit
                };
                let status: String = row.try_get("status")?;
                deliveries.push(DeliveryRecord {
                    job: id(row, "job_id")?,
                    subscriber: row.try_get("subscriber")?,
                    status: status
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("job status {status:?}")))?,
                    attempts: row.try_get("attempt")?,
                    error: row.try_get("error")?,
                    replay_of: row
                        .try_get::<Option<String>, _>("replay_of")?
                        .map(|raw| {
                            raw.parse()
                                .map_err(|_| StoreError::Corrupt(format!("job id {raw:?}")))
                        })
                        .transpose()?,
                });
            }
        }
        tx.commit().await?;
        Ok(messages)
    }

    /// The dead letters of `topic` not replayed yet, newest first (at most `limit`).
    pub async fn dead_letters(
        &self,
        tenant: TenantId,
        topic: &str,
        limit: i64,
    ) -> StoreResult<Vec<DeadLetter>> {
        let mut tx = self.begin_read(Scope::Tenant(tenant)).await?;
        let rows = sqlx::query(
            "SELECT d.job_id, d.message_id, d.subscriber FROM topic_deliveries d
             JOIN jobs j ON j.id = d.job_id
             WHERE d.tenant_id = $1 AND d.topic = $2 AND j.status = 'dead'
             AND NOT EXISTS (SELECT 1 FROM topic_deliveries r WHERE r.replay_of = d.job_id)
             ORDER BY j.finished_at DESC LIMIT $3",
        )
        .bind(tenant.to_string())
        .bind(topic)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let job: JobId = id(row, "job_id")?;
            let Some(job) = self.job(tenant, job).await? else {
                continue;
            };
            out.push(DeadLetter {
                job,
                message_id: id(row, "message_id")?,
                subscriber: row.try_get("subscriber")?,
            });
        }
        Ok(out)
    }

    /// Deletes the messages past their retention (their deliveries go with them); answers
    /// how many.
    pub async fn expire_messages(&self, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin(Scope::System).await?;
        let done = sqlx::query("DELETE FROM topic_messages WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

async fn insert_delivery(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    tenant: TenantId,
    job: &JobRecord,
    message: MessageId,
    topic: &str,
    subscriber: &str,
    replay_of: Option<JobId>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO topic_deliveries (job_id, tenant_id, message_id, topic, subscriber, replay_of, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(job.id.to_string())
    .bind(tenant.to_string())
    .bind(message.to_string())
    .bind(topic)
    .bind(subscriber)
    .bind(replay_of.map(|j| j.to_string()))
    .bind(job.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_route_in(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    record: &RouteRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO routes (id, tenant_id, method, path, definition, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(record.id.to_string())
    .bind(tenant.to_string())
    .bind(record.route.method.as_str())
    .bind(&record.route.path)
    .bind(to_json(&record.route)?)
    .bind(record.created_by.to_string())
    .bind(record.created_at)
    .bind(record.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| unique_to_conflict(e, "path"))?;
    Ok(())
}

async fn insert_topic_in(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    id: TopicId,
    name: &str,
    retention_hours: u32,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO topics (id, tenant_id, name, retention_hours, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(id.to_string())
    .bind(tenant.to_string())
    .bind(name)
    .bind(i64::from(retention_hours))
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| unique_to_conflict(e, "name"))?;
    Ok(())
}

async fn insert_subscriber_in(
    tx: &mut Transaction<'static, Any>,
    tenant: TenantId,
    topic: &str,
    id: SubscriberId,
    subscriber: &Subscriber,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO topic_subscribers (id, tenant_id, topic_id, name, definition, created_at, updated_at)
         SELECT $1, $2, t.id, $3, $4, $5, $5 FROM topics t WHERE t.tenant_id = $2 AND t.name = $6",
    )
    .bind(id.to_string())
    .bind(tenant.to_string())
    .bind(&subscriber.name)
    .bind(to_json(subscriber)?)
    .bind(now)
    .bind(topic)
    .execute(&mut **tx)
    .await
    .map_err(|e| unique_to_conflict(e, "name"))?;
    Ok(done.rows_affected() == 1)
}
