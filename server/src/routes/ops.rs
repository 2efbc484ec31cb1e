//! The routes, topics and deploys operations. Every method authorises its caller first:
//! reads need `ReadWorkspace`; editing drafts and deploying `Develop`; setting or changing a
//! route's auth `ManageRouteAuth`.
//!
//! Drafts are what the console and the CLI edit; a deploy compiles them into one canonical
//! manifest, refuses it with every problem (the shared checks, scripts' syntax in the
//! sandbox, pipelines that do not exist), records it as the next version and tells every
//! gateway (on the bus) that the workspace's live manifest changed.

use super::store::{DeployRecord, RouteRecord, TopicRecord};
use crate::accounts::Principal;
use crate::clock::{now_ms, rfc3339_ms};
use crate::jobs::{Jobs, NewJob};
use crate::store::{Store, StoreError};
use crate::tenancy::{Access, Tenancy};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::error::{ApiError, ApiResult};
use shared::ids::{DeployId, JobId, PipelineId, RouteId, SubscriberId, TenantId, TopicId};
use shared::roles::Permission;
use shared::routes::views::{
    CreateSubscriber, CreateTopic, Created, DeadLetterView, DeploySummary, DeployView, Deployed,
    MessageView, PlanView, Published, RouteBody, RouteView, SubscriberView, TopicView,
};
use shared::routes::{
    plan, validate, Handler, Kind, Manifest, Problem, Route, RouteAuth, Subscriber,
    SubscriberHandler, Topic,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use workers::bus::Bus;
use workers::pools::PoolName;

/// The subject every gateway listens on: the payload is a workspace id whose live manifest
/// changed (or that was deleted).
pub const LIVE_CHANGED: &str = "sy.gateway.live";

/// How many deploys the history shows.
const HISTORY: i64 = 100;

/// The routes, topics and deploys operations.
pub struct RouteOps {
    store: Store,
    tenancy: Arc<Tenancy>,
    bus: Arc<dyn Bus>,
    gateway: Arc<super::Gateway>,
    jobs: Arc<Jobs>,
}

/// What a deploy's summary column holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredSummary {
    #[serde(flatten)]
    counts: DeploySummary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rollback_to: Option<i64>,
}

/// A deploy's answer: applied, or refused with every problem (422).
#[derive(Debug)]
pub enum DeployOutcome {
    /// Live from now on.
    Applied(Deployed),
    /// Not applied.
    Refused(Vec<Problem>),
}

impl RouteOps {
    /// Operations on `store`, authorised by `tenancy`; a deploy switches this process's
    /// `gateway` at once and is announced on `bus` to the others.
    /// Messages are delivered as durable jobs on `jobs`, on the gateway's pool.
    pub fn new(
        store: Store,
        tenancy: Arc<Tenancy>,
        jobs: Arc<Jobs>,
        gateway: Arc<super::Gateway>,
    ) -> RouteOps {
        RouteOps {
            store,
            tenancy,
            bus: jobs.bus(),
            gateway,
            jobs,
        }
    }

    pub(super) fn tenancy(&self) -> &Tenancy {
        &self.tenancy
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub(super) fn gateway(&self) -> &Arc<super::Gateway> {
        &self.gateway
    }

    /// Publishes `body` to the live topic `topic` (developer and up): stored with one
    /// delivery job per subscriber.
    pub async fn publish(
        &self,
        p: &Principal,
        slug: &str,
        topic: &str,
        body: serde_json::Value,
    ) -> ApiResult<Published> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        self.publish_live(access.tenant(), topic, body).await
    }

    /// Publishes `body` to `tenant`'s live topic `topic`.
    async fn publish_live(
        &self,
        tenant: TenantId,
        topic: &str,
        body: serde_json::Value,
    ) -> ApiResult<Published> {
        let live = self.live_manifest(tenant).await?;
        super::topics::publish(
            &self.store,
            &self.jobs,
            self.gateway.pipelines(),
            self.gateway.config().pool.as_str(),
            tenant,
            &live,
            topic,
            body,
        )
        .await
    }

    /// Publishes for a run of `tenant`'s pipeline (its publish node, asked over the bus by
    /// the worker running it): the same as [`RouteOps::publish`], without a caller to
    /// authorize (the control plane started that run). `None` when this store has no such
    /// workspace and another deployment on a shared bus may have it (see
    /// `JobsConfig::shared_bus`).
    pub(super) async fn publish_for_run(
        &self,
        tenant: TenantId,
        topic: &str,
        message: serde_json::Value,
    ) -> Option<ApiResult<Published>> {
        match self.store.workspace(tenant).await {
            Ok(Some(_)) => {}
            Ok(None) if self.jobs.config().shared_bus => return None,
            Ok(None) => return Some(Err(ApiError::not_found("workspace"))),
            Err(e) => return Some(Err(e.into())),
        }
        Some(self.publish_live(tenant, topic, message).await)
    }

    /// A topic's messages with how each delivery stands, oldest first: published at or
    /// after `since` (Unix ms), else the latest `limit` (1-500).
    pub async fn messages(
        &self,
        p: &Principal,
        slug: &str,
        topic: &str,
        since: Option<i64>,
        limit: usize,
    ) -> ApiResult<Vec<MessageView>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        if !(1..=500).contains(&limit) {
            return Err(ApiError::field("limit", "must be from 1 to 500"));
        }
        let drafted = self
            .store
            .topics(access.tenant())
            .await?
            .iter()
            .any(|t| t.name == topic);
        if !drafted
            && self
                .live_manifest(access.tenant())
                .await?
                .topic(topic)
                .is_none()
        {
            return Err(ApiError::not_found("topic"));
        }
        let messages = self
            .store
            .messages(access.tenant(), topic, since, limit as i64)
            .await?;
        let ids: Vec<_> = messages.iter().map(|(m, _)| m.id).collect();
        let mut runs = self
            .gateway
            .pipelines()
            .message_runs(access.tenant(), &ids)
            .await?;
        Ok(messages
            .into_iter()
            .map(|(message, deliveries)| {
                let runs = runs.remove(&message.id).unwrap_or_default();
                super::topics::message_view(message, deliveries, runs)
            })
            .collect())
    }

    /// The dead letters of a topic not replayed yet, newest first.
    pub async fn dead_letters(
        &self,
        p: &Principal,
        slug: &str,
        topic: &str,
    ) -> ApiResult<Vec<DeadLetterView>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let letters = self
            .store
            .dead_letters(access.tenant(), topic, HISTORY)
            .await?;
        Ok(letters
            .into_iter()
            .map(super::topics::dead_letter_view)
            .collect())
    }

    /// Delivers a dead letter's message again, to the same subscriber, as a new job with
    /// all its attempts (developer and up).
    pub async fn replay(
        &self,
        p: &Principal,
        slug: &str,
        topic: &str,
        job: &str,
    ) -> ApiResult<Created> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let tenant = access.tenant();
        let job: JobId = job
            .parse()
            .map_err(|_| ApiError::not_found("dead letter"))?;
        let dead = self
            .store
            .dead_letters(tenant, topic, HISTORY)
            .await?
            .into_iter()
            .find(|d| d.job.id == job)
            .ok_or_else(|| ApiError::not_found("dead letter"))?;
        let payload: serde_json::Value =
            serde_json::from_str(&dead.job.payload).map_err(|_| ApiError::internal())?;
        let pool = PoolName::parse(&dead.job.pool).map_err(|_| ApiError::internal())?;
        let again = self
            .jobs
            .admit(NewJob {
                tenant,
                kind: dead.job.kind.clone(),
                pool,
                payload,
                max_attempts: u32::try_from(dead.job.max_attempts).unwrap_or(1),
            })
            .await?;
        self.store
            .insert_replay(tenant, &dead, topic, &again)
            .await?;
        self.jobs.wake(&again.pool);
        Ok(Created {
            id: again.id.to_string(),
        })
    }

    /// Deletes the messages past their topic's retention and the route log lines past
    /// theirs (call periodically).
    pub async fn expire_messages(&self) {
        match self.store.expire_messages(now_ms()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "expired topic messages deleted"),
            Err(e) => tracing::warn!(error = %e, "deleting expired topic messages failed"),
        }
        match self
            .store
            .expire_route_logs(now_ms() - super::logs::RETENTION_MS)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(lines = n, "expired route log lines deleted"),
            Err(e) => tracing::warn!(error = %e, "deleting expired route log lines failed"),
        }
    }

    /// A route's last hour (by its name, `GET /users/{id}`): requests per minute by status
    /// class, latency percentiles, and its latest log lines.
    pub async fn activity(
        &self,
        p: &Principal,
        slug: &str,
        route: &str,
    ) -> ApiResult<shared::routes::views::RouteActivity> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let until = now_ms() / 60_000 * 60_000;
        let since = until - 59 * 60_000;
        let (minutes, mut durations) = self
            .store
            .route_activity(access.tenant(), route, since)
            .await?;
        durations.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| {
            (!durations.is_empty())
                .then(|| durations[((durations.len() - 1) as f64 * q).round() as usize])
        };
        let recent = self
            .store
            .route_logs(
                access.tenant(),
                &super::logs::LogQuery {
                    route: Some(route.to_owned()),
                    since: None,
                    limit: 30,
                },
            )
            .await?;
        Ok(shared::routes::views::RouteActivity {
            route: route.to_owned(),
            until,
            requests: minutes
                .iter()
                .map(|m| m.ok + m.client_errors + m.server_errors)
                .sum(),
            minutes,
            p50_ms: at(0.5),
            p95_ms: at(0.95),
            recent,
        })
    }

    /// The workspace's route log lines, oldest first: from `query.since` on, else the latest.
    pub async fn logs(
        &self,
        p: &Principal,
        slug: &str,
        query: super::logs::LogQuery,
    ) -> ApiResult<shared::routes::views::RouteLogs> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        Ok(shared::routes::views::RouteLogs {
            lines: self.store.route_logs(access.tenant(), &query).await?,
        })
    }

    /// The workspace's draft routes.
    pub async fn routes(&self, p: &Principal, slug: &str) -> ApiResult<Vec<RouteView>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let live = self.live_manifest(access.tenant()).await?;
        let routes = self.store.routes(access.tenant()).await?;
        Ok(routes.into_iter().map(|r| route_view(r, &live)).collect())
    }

    /// One draft route.
    pub async fn route(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<RouteView> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let record = self.route_record(access.tenant(), id).await?;
        let live = self.live_manifest(access.tenant()).await?;
        Ok(route_view(record, &live))
    }

    /// Adds a draft route; a bad definition is refused with its first problem's field.
    pub async fn create_route(
        &self,
        p: &Principal,
        slug: &str,
        body: RouteBody,
    ) -> ApiResult<Created> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let route = route_of(body);
        if route.settings.auth != RouteAuth::Public {
            self.may_set_auth(&access)?;
        }
        self.check_route(access.tenant(), &route).await?;
        let now = now_ms();
        let record = RouteRecord {
            id: RouteId::new(),
            route,
            created_by: access.acting_user,
            created_at: now,
            updated_at: now,
        };
        self.store
            .insert_route(access.tenant(), &record)
            .await
            .map_err(same_route)?;
        Ok(Created {
            id: record.id.to_string(),
        })
    }

    /// Replaces a draft route's definition.
    pub async fn update_route(
        &self,
        p: &Principal,
        slug: &str,
        id: &str,
        body: RouteBody,
    ) -> ApiResult<RouteView> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let tenant = access.tenant();
        let before = self.route_record(tenant, id).await?;
        let route = route_of(body);
        if route.settings.auth != before.route.settings.auth {
            self.may_set_auth(&access)?;
        }
        self.check_route(tenant, &route).await?;
        if !self
            .store
            .update_route(tenant, before.id, &route, now_ms())
            .await
            .map_err(same_route)?
        {
            return Err(ApiError::not_found("route"));
        }
        let record = self.route_record(tenant, id).await?;
        Ok(route_view(record, &self.live_manifest(tenant).await?))
    }

    /// Deletes a draft route (it stays live until the next deploy).
    pub async fn delete_route(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<()> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let record = self.route_record(access.tenant(), id).await?;
        if record.route.settings.auth != RouteAuth::Public {
            self.may_set_auth(&access)?;
        }
        if !self.store.delete_route(access.tenant(), record.id).await? {
            return Err(ApiError::not_found("route"));
        }
        Ok(())
    }

    /// The workspace's draft topics with their subscribers.
    pub async fn topics(&self, p: &Principal, slug: &str) -> ApiResult<Vec<TopicView>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        Ok(self
            .store
            .topics(access.tenant())
            .await?
            .into_iter()
            .map(topic_view)
            .collect())
    }

    /// Adds a draft topic.
    pub async fn create_topic(
        &self,
        p: &Principal,
        slug: &str,
        body: CreateTopic,
    ) -> ApiResult<Created> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let topic = Topic {
            name: body.name,
            retention_hours: body.retention_hours.unwrap_or(72),
            subscribers: vec![],
        };
        let manifest = Manifest {
            routes: vec![],
            topics: vec![topic.clone()],
        };
        if let Some(problem) = validate(&manifest).into_iter().next() {
            return Err(field_error(&problem));
        }
        let id = TopicId::new();
        self.store
            .insert_topic(
                access.tenant(),
                id,
                &topic.name,
                topic.retention_hours,
                now_ms(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    ApiError::conflict(Some("name"), "the workspace has a topic with this name")
                }
                e => e.into(),
            })?;
        Ok(Created { id: id.to_string() })
    }

    /// Deletes a draft topic with its subscribers.
    pub async fn delete_topic(&self, p: &Principal, slug: &str, name: &str) -> ApiResult<()> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        if !self.store.delete_topic(access.tenant(), name).await? {
            return Err(ApiError::not_found("topic"));
        }
        Ok(())
    }

    /// Adds a draft subscriber to a topic.
    pub async fn create_subscriber(
        &self,
        p: &Principal,
        slug: &str,
        topic: &str,
        body: CreateSubscriber,
    ) -> ApiResult<Created> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let tenant = access.tenant();
        let topics = self.store.topics(tenant).await?;
        let Some(existing) = topics.iter().find(|t| t.name == topic) else {
            return Err(ApiError::not_found("topic"));
        };
        let name = match body.name {
            Some(name) => name,
            None => free_name(&body.handler, existing),
        };
        let subscriber = Subscriber {
            name,
            handler: body.handler,
            max_attempts: body.max_attempts.unwrap_or(5),
            timeout_ms: body.timeout_ms.unwrap_or(10_000),
        };
        let manifest = Manifest {
            routes: vec![],
            topics: vec![Topic {
                name: topic.to_owned(),
                retention_hours: existing.retention_hours,
                subscribers: vec![subscriber.clone()],
            }],
        };
        let mut problems = validate(&manifest);
        problems.extend(self.server_problems(tenant, &manifest).await?);
        if let Some(problem) = problems.into_iter().next() {
            return Err(field_error(&problem));
        }
        let id = SubscriberId::new();
        let added = self
            .store
            .insert_subscriber(tenant, topic, id, &subscriber, now_ms())
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    ApiError::conflict(Some("name"), "the topic has a subscriber with this name")
                }
                e => e.into(),
            })?;
        if !added {
            return Err(ApiError::not_found("topic"));
        }
        Ok(Created { id: id.to_string() })
    }

    /// Deletes a draft subscriber.
    pub async fn delete_subscriber(
        &self,
        p: &Principal,
        slug: &str,
        topic: &str,
        id: &str,
    ) -> ApiResult<()> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let id: SubscriberId = id.parse().map_err(|_| ApiError::not_found("subscriber"))?;
        if !self
            .store
            .delete_subscriber(access.tenant(), topic, id)
            .await?
        {
            return Err(ApiError::not_found("subscriber"));
        }
        Ok(())
    }

    /// What deploying the drafts now would change, and what would refuse it.
    pub async fn plan(&self, p: &Principal, slug: &str) -> ApiResult<PlanView> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let tenant = access.tenant();
        let draft = self.draft_manifest(tenant).await?;
        self.plan_of(tenant, &draft).await
    }

    /// What deploying `draft` would change now, and what would refuse it.
    pub(super) async fn plan_of(&self, tenant: TenantId, draft: &Manifest) -> ApiResult<PlanView> {
        let live = self.store.live_deploy(tenant).await?;
        let live_manifest = manifest_of(live.as_ref())?;
        let mut problems = validate(draft);
        problems.extend(self.server_problems(tenant, draft).await?);
        Ok(PlanView {
            changes: plan(&live_manifest, draft),
            problems,
            live_version: live.map(|d| d.version),
            hash: hash_of(&canonical_json(draft)?),
        })
    }

    /// Applies the drafts as the next deploy, or refuses them with every problem.
    pub async fn deploy(&self, p: &Principal, slug: &str) -> ApiResult<DeployOutcome> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let tenant = access.tenant();
        let draft = self.draft_manifest(tenant).await?;
        let mut problems = validate(&draft);
        problems.extend(self.server_problems(tenant, &draft).await?);
        if !problems.is_empty() {
            return Ok(DeployOutcome::Refused(problems));
        }
        let live = self.store.live_deploy(tenant).await?;
        let changes = plan(&manifest_of(live.as_ref())?, &draft);
        if changes.is_empty() && live.is_some() {
            return Err(ApiError::conflict(
                None,
                "nothing to deploy: the drafts are what is live",
            ));
        }
        let summary = StoredSummary {
            counts: DeploySummary::of(&changes),
            rollback_to: None,
        };
        let deployed = self.record(&access, &draft, &summary, None).await?;
        Ok(DeployOutcome::Applied(deployed))
    }

    /// Makes an earlier deploy's manifest live again, as a new deploy.
    pub async fn rollback(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<Deployed> {
        let access = self.tenancy.authorize(p, slug, Permission::Develop).await?;
        let tenant = access.tenant();
        let target = self.deploy_record(tenant, id).await?;
        let manifest = manifest_of(Some(&target))?;
        let live = self.store.live_deploy(tenant).await?;
        let changes = plan(&manifest_of(live.as_ref())?, &manifest);
        let summary = StoredSummary {
            counts: DeploySummary::of(&changes),
            rollback_to: Some(target.version),
        };
        self.record(&access, &manifest, &summary, Some(target.id))
            .await
    }

    /// The workspace's deploys, newest first.
    pub async fn deploys(&self, p: &Principal, slug: &str) -> ApiResult<Vec<DeployView>> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        let records = self.store.deploys(access.tenant(), HISTORY).await?;
        let live = records.first().map(|d| d.id);
        let mut names = std::collections::BTreeMap::new();
        for d in &records {
            if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(d.created_by) {
                let name = self.store.user(d.created_by).await?.map(|u| u.name);
                slot.insert(name.unwrap_or_else(|| "a deleted account".to_owned()));
            }
        }
        Ok(records
            .into_iter()
            .map(|d| {
                let summary: StoredSummary = serde_json::from_str(&d.summary).unwrap_or_default();
                DeployView {
                    id: d.id.to_string(),
                    version: d.version,
                    live: Some(d.id) == live,
                    hash: d.hash,
                    summary: summary.counts,
                    rollback_to: summary.rollback_to,
                    created_by: names.get(&d.created_by).cloned().unwrap_or_default(),
                    created_at: rfc3339_ms(d.created_at),
                }
            })
            .collect())
    }

    /// A deploy's manifest (canonical JSON, as applied).
    pub async fn manifest(&self, p: &Principal, slug: &str, id: &str) -> ApiResult<Manifest> {
        let access = self
            .tenancy
            .authorize(p, slug, Permission::ReadWorkspace)
            .await?;
        manifest_of(Some(&self.deploy_record(access.tenant(), id).await?))
    }

    /// Records `manifest` as the next deploy and tells the gateways.
    async fn record(
        &self,
        access: &Access,
        manifest: &Manifest,
        summary: &StoredSummary,
        rollback_of: Option<DeployId>,
    ) -> ApiResult<Deployed> {
        let tenant = access.tenant();
        let json = canonical_json(manifest)?;
        let id = DeployId::new();
        let summary = serde_json::to_string(summary).map_err(|_| ApiError::internal())?;
        let version = self
            .store
            .insert_deploy(
                tenant,
                id,
                &json,
                &hash_of(&json),
                &summary,
                rollback_of,
                access.acting_user,
                now_ms(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ApiError::conflict(
                    None,
                    "another deploy was applied at the same time; look at the plan again",
                ),
                e => e.into(),
            })?;
        self.announce(tenant).await;
        Ok(Deployed {
            id: id.to_string(),
            version,
        })
    }

    /// Tells every gateway that `tenant`'s live manifest changed: this process's at once
    /// (the next request here sees the deploy), the others over the bus.
    pub async fn announce(&self, tenant: TenantId) {
        self.gateway.forget(&tenant.to_string());
        if let Err(e) = self
            .bus
            .publish(LIVE_CHANGED, Bytes::from(tenant.to_string()))
            .await
        {
            tracing::warn!(%tenant, error = %e, "announcing a deploy failed; gateways catch up on their cache's expiry");
        }
    }

    pub(super) fn may_set_auth(&self, access: &Access) -> ApiResult<()> {
        if access.role.allows(Permission::ManageRouteAuth) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only admins and owners decide who may call a route (settings.auth)",
            ))
        }
    }

    async fn route_record(&self, tenant: TenantId, id: &str) -> ApiResult<RouteRecord> {
        let id: RouteId = id.parse().map_err(|_| ApiError::not_found("route"))?;
        self.store
            .route(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("route"))
    }

    async fn deploy_record(&self, tenant: TenantId, id: &str) -> ApiResult<DeployRecord> {
        let id: DeployId = id.parse().map_err(|_| ApiError::not_found("deploy"))?;
        self.store
            .deploy(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("deploy"))
    }

    async fn live_manifest(&self, tenant: TenantId) -> ApiResult<Manifest> {
        manifest_of(self.store.live_deploy(tenant).await?.as_ref())
    }

    /// The drafts as one canonical manifest.
    pub(super) async fn draft_manifest(&self, tenant: TenantId) -> ApiResult<Manifest> {
        let routes = self.store.routes(tenant).await?;
        let topics = self.store.topics(tenant).await?;
        Ok(Manifest {
            routes: routes.into_iter().map(|r| r.route).collect(),
            topics: topics
                .into_iter()
                .map(|t| Topic {
                    name: t.name,
                    retention_hours: t.retention_hours,
                    subscribers: t.subscribers.into_iter().map(|s| s.subscriber).collect(),
                })
                .collect(),
        }
        .canonical())
    }

    /// One route's problems, refused with the first: its own checks (not conflicts or
    /// missing topics, which the plan reports) and its script's syntax.
    async fn check_route(&self, tenant: TenantId, route: &Route) -> ApiResult<()> {
        let alone = Manifest {
            routes: vec![route.clone()],
            topics: vec![],
        };
        let mut problems: Vec<Problem> = validate(&alone)
            .into_iter()
            .filter(|p| p.field.as_deref() != Some("handler.topic"))
            .collect();
        problems.extend(self.server_problems(tenant, &alone).await?);
        match problems.first() {
            Some(problem) => Err(field_error(problem)),
            None => Ok(()),
        }
    }

    /// What only the server can check: scripts' syntax (in the sandbox, with lines) and that
    /// the pipelines named exist in the workspace.
    pub(super) async fn server_problems(
        &self,
        tenant: TenantId,
        manifest: &Manifest,
    ) -> ApiResult<Vec<Problem>> {
        let mut scripts = Vec::new();
        let mut pipelines = Vec::new();
        for route in &manifest.routes {
            match &route.handler {
                Handler::Script { source } => {
                    scripts.push((Kind::Route, route.name(), source.clone()))
                }
                Handler::Pipeline { pipeline_id } => {
                    pipelines.push((Kind::Route, route.name(), pipeline_id.clone()));
                }
                Handler::Static { .. } | Handler::Publish { .. } => {}
            }
        }
        for topic in &manifest.topics {
            for s in &topic.subscribers {
                let name = format!("{}/{}", topic.name, s.name);
                match &s.handler {
                    SubscriberHandler::Script { source } => {
                        scripts.push((Kind::Subscriber, name, source.clone()))
                    }
                    SubscriberHandler::Pipeline { pipeline_id } => {
                        pipelines.push((Kind::Subscriber, name, pipeline_id.clone()))
                    }
                }
            }
        }
        let mut problems = tokio::task::spawn_blocking(move || {
            scripts
                .into_iter()
                .filter_map(|(kind, name, source)| match sandbox::check(&source) {
                    Ok(()) => None,
                    Err(sandbox::ScriptError::Syntax { line, message, .. }) => Some(Problem {
                        line: Some(line),
                        ..Problem::new(
                            kind,
                            &name,
                            Some("handler.source"),
                            format!("line {line}: {message}"),
                        )
                    }),
                    Err(e) => Some(Problem::new(
                        kind,
                        &name,
                        Some("handler.source"),
                        e.to_string(),
                    )),
                })
                .collect::<Vec<Problem>>()
        })
        .await
        .map_err(|_| ApiError::internal())?;
        if !pipelines.is_empty() {
            let known: BTreeSet<PipelineId> = self
                .store
                .pipelines(tenant)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            for (kind, name, id) in pipelines {
                // A malformed id is the shared check's problem already.
                if id
                    .parse::<PipelineId>()
                    .is_ok_and(|id| !known.contains(&id))
                {
                    problems.push(Problem::new(
                        kind,
                        &name,
                        Some("handler.pipeline_id"),
                        "the workspace has no such pipeline",
                    ));
                }
            }
        }
        Ok(problems)
    }
}

fn route_of(body: RouteBody) -> Route {
    Route {
        method: body.method,
        path: body.path,
        handler: body.handler,
        settings: body.settings,
    }
}

fn route_view(record: RouteRecord, live: &Manifest) -> RouteView {
    let deployed = live.routes.contains(&record.route);
    RouteView {
        id: record.id.to_string(),
        method: record.route.method,
        path: record.route.path,
        handler: record.route.handler,
        settings: record.route.settings,
        deployed,
        updated_at: rfc3339_ms(record.updated_at),
    }
}

fn topic_view(record: TopicRecord) -> TopicView {
    TopicView {
        name: record.name,
        retention_hours: record.retention_hours,
        subscribers: record
            .subscribers
            .into_iter()
            .map(|s| SubscriberView {
                id: s.id.to_string(),
                name: s.subscriber.name,
                handler: s.subscriber.handler,
                max_attempts: s.subscriber.max_attempts,
                timeout_ms: s.subscriber.timeout_ms,
            })
            .collect(),
    }
}

/// A name for a new subscriber of `topic` from its handler's kind: `script`, `script-2`...
fn free_name(handler: &SubscriberHandler, topic: &TopicRecord) -> String {
    let base = match handler {
        SubscriberHandler::Script { .. } => "script",
        SubscriberHandler::Pipeline { .. } => "pipeline",
    };
    let taken = |name: &str| topic.subscribers.iter().any(|s| s.subscriber.name == name);
    (1..)
        .map(|n| {
            if n == 1 {
                base.to_owned()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|name| !taken(name))
        .unwrap_or_else(|| base.to_owned())
}

/// A problem as the 422 of a single definition: its field and message.
fn field_error(problem: &Problem) -> ApiError {
    ApiError::field(
        problem.field.clone().unwrap_or_else(|| "definition".into()),
        problem.message.clone(),
    )
}

/// Another route with the same method and path.
fn same_route(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::conflict(
            Some("path"),
            "the workspace has a route with this method and path",
        ),
        e => e.into(),
    }
}

/// A deploy's manifest (the empty manifest before the first deploy).
fn manifest_of(deploy: Option<&DeployRecord>) -> ApiResult<Manifest> {
    match deploy {
        None => Ok(Manifest::default()),
        Some(d) => serde_json::from_str(&d.manifest).map_err(|e| {
            tracing::error!(deploy = %d.id, error = %e, "a stored manifest does not parse");
            ApiError::internal()
        }),
    }
}

/// The manifest as the bytes its hash covers.
fn canonical_json(manifest: &Manifest) -> ApiResult<String> {
    serde_json::to_string(&manifest.clone().canonical()).map_err(|_| ApiError::internal())
}

fn hash_of(json: &str) -> String {
    Sha256::digest(json.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[async_trait::async_trait]
impl crate::tenancy::WorkspaceObserver for RouteOps {
    async fn deleting(&self, _tenant: TenantId) -> Vec<std::path::PathBuf> {
        Vec::new()
    }

    /// The gateways forget the workspace's routes.
    async fn deleted(&self, tenant: TenantId) {
        self.announce(tenant).await;
    }
}
