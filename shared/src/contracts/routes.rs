//! The console's calls about routes, topics and deploys.

use super::{ConsoleResult, SessionToken};
use crate::routes::views::{
    CreateSubscriber, CreateTopic, Created, DeadLetterView, DeployView, Deployed, MessageView,
    PlanView, Published, RouteActivity, RouteBody, RouteView, TopicView, TryRequest, TryResponse,
};
use crate::routes::Manifest;
use async_trait::async_trait;

/// Draft routes and topics, the plan against the live deploy, deploys, and messages.
#[async_trait]
pub trait RoutesConsole: Send + Sync + 'static {
    /// The workspace's draft routes.
    async fn routes(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<RouteView>>;

    /// One draft route.
    async fn route(&self, session: &SessionToken, slug: &str, id: &str)
        -> ConsoleResult<RouteView>;

    /// Adds a draft route (developer and up; auth other than public: admin).
    async fn create_route(
        &self,
        session: &SessionToken,
        slug: &str,
        body: RouteBody,
    ) -> ConsoleResult<Created>;

    /// Replaces a draft route.
    async fn update_route(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
        body: RouteBody,
    ) -> ConsoleResult<RouteView>;

    /// Deletes a draft route (the live deploy keeps serving it until the next deploy).
    async fn delete_route(&self, session: &SessionToken, slug: &str, id: &str)
        -> ConsoleResult<()>;

    /// The workspace's draft topics with their subscribers.
    async fn topics(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<TopicView>>;

    /// Adds a draft topic.
    async fn create_topic(
        &self,
        session: &SessionToken,
        slug: &str,
        body: CreateTopic,
    ) -> ConsoleResult<Created>;

    /// Deletes a draft topic and its subscribers.
    async fn delete_topic(
        &self,
        session: &SessionToken,
        slug: &str,
        name: &str,
    ) -> ConsoleResult<()>;

    /// Adds a draft subscriber to a topic.
    async fn create_subscriber(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
        body: CreateSubscriber,
    ) -> ConsoleResult<Created>;

    /// Deletes a draft subscriber.
    async fn delete_subscriber(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
        id: &str,
    ) -> ConsoleResult<()>;

    /// What a deploy would change now, and what would refuse it.
    async fn plan(&self, session: &SessionToken, slug: &str) -> ConsoleResult<PlanView>;

    /// Applies the drafts; a plan with problems is refused with them (422).
    async fn deploy(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Deployed>;

    /// The deploy history, newest first.
    async fn deploys(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<DeployView>>;

    /// A deploy's manifest.
    async fn manifest(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<Manifest>;

    /// Deploys an earlier deploy's manifest again.
    async fn rollback(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<Deployed>;

    /// Publishes a message to a live topic.
    async fn publish(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
        body: serde_json::Value,
    ) -> ConsoleResult<Published>;

    /// A topic's latest messages, oldest first, with how each delivery stands.
    async fn messages(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
    ) -> ConsoleResult<Vec<MessageView>>;

    /// A topic's dead letters not replayed yet.
    async fn dead_letters(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
    ) -> ConsoleResult<Vec<DeadLetterView>>;

    /// Delivers a dead letter again.
    async fn replay(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
        job: &str,
    ) -> ConsoleResult<Created>;

    /// A route's last hour (by its name, `GET /users/{id}`): requests per minute by status
    /// class, latency percentiles, and its latest log lines.
    async fn route_activity(
        &self,
        session: &SessionToken,
        slug: &str,
        route: &str,
    ) -> ConsoleResult<RouteActivity>;

    /// Sends a request to the live deploy through the gateway (developer and up).
    async fn try_request(
        &self,
        session: &SessionToken,
        slug: &str,
        req: TryRequest,
    ) -> ConsoleResult<TryResponse>;
}
