//! The console's calls about routes, topics and deploys: each authenticates the session,
//! then runs the same operation the REST API runs. "Send a request" goes through this
//! process's gateway in memory, exactly as a caller's request would (auth, limits, CORS, the
//! handler), from the loopback address.

use super::{DeployOutcome, RouteOps};
use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method};
use shared::contracts::{ConsoleResult, RoutesConsole, SessionToken};
use shared::error::ApiError;
use shared::roles::Permission;
use shared::routes::views::{
    parse_header_lines, CreateSubscriber, CreateTopic, Created, DeadLetterView, DeployView,
    Deployed, MessageView, PlanView, Published, RouteActivity, RouteBody, RouteView, TopicView,
    TryRequest, TryResponse, TRY_BODY_SHOWN,
};
use shared::routes::Manifest;
use std::net::SocketAddr;

/// How many of a topic's latest messages its console card shows.
const TAIL: usize = 20;
use std::time::Instant;
use tower::ServiceExt;

/// The largest answer "send a request" reads (the first [`TRY_BODY_SHOWN`] bytes are shown).
const TRY_BODY_READ: usize = 16 * 1024 * 1024;

#[async_trait]
impl RoutesConsole for RouteOps {
    async fn routes(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<RouteView>> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::routes(self, &p, slug).await
    }

    async fn route(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<RouteView> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::route(self, &p, slug, id).await
    }

    async fn create_route(
        &self,
        session: &SessionToken,
        slug: &str,
        body: RouteBody,
    ) -> ConsoleResult<Created> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::create_route(self, &p, slug, body).await
    }

    async fn update_route(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
        body: RouteBody,
    ) -> ConsoleResult<RouteView> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::update_route(self, &p, slug, id, body).await
    }

    async fn delete_route(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<()> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::delete_route(self, &p, slug, id).await
    }

    async fn topics(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<TopicView>> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::topics(self, &p, slug).await
    }

    async fn create_topic(
        &self,
        session: &SessionToken,
        slug: &str,
        body: CreateTopic,
    ) -> ConsoleResult<Created> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::create_topic(self, &p, slug, body).await
    }

    async fn delete_topic(
        &self,
        session: &SessionToken,
        slug: &str,
        name: &str,
    ) -> ConsoleResult<()> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::delete_topic(self, &p, slug, name).await
    }

    async fn create_subscriber(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
        body: CreateSubscriber,
    ) -> ConsoleResult<Created> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::create_subscriber(self, &p, slug, topic, body).await
    }

    async fn delete_subscriber(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
        id: &str,
    ) -> ConsoleResult<()> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::delete_subscriber(self, &p, slug, topic, id).await
    }

    async fn plan(&self, session: &SessionToken, slug: &str) -> ConsoleResult<PlanView> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::plan(self, &p, slug).await
    }

    async fn deploy(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Deployed> {
        let p = self.tenancy().console_caller(session).await?;
        match RouteOps::deploy(self, &p, slug).await? {
            DeployOutcome::Applied(deployed) => Ok(deployed),
            DeployOutcome::Refused(problems) => Err(ApiError::new(
                shared::error::ErrorCode::Validation,
                shared::routes::validate::refusal("not deployed", &problems),
            )),
        }
    }

    async fn deploys(&self, session: &SessionToken, slug: &str) -> ConsoleResult<Vec<DeployView>> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::deploys(self, &p, slug).await
    }

    async fn manifest(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<Manifest> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::manifest(self, &p, slug, id).await
    }

    async fn rollback(
        &self,
        session: &SessionToken,
        slug: &str,
        id: &str,
    ) -> ConsoleResult<Deployed> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::rollback(self, &p, slug, id).await
    }

    async fn publish(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
        body: serde_json::Value,
    ) -> ConsoleResult<Published> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::publish(self, &p, slug, topic, body).await
    }

    async fn messages(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
    ) -> ConsoleResult<Vec<MessageView>> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::messages(self, &p, slug, topic, None, TAIL).await
    }

    async fn dead_letters(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
    ) -> ConsoleResult<Vec<DeadLetterView>> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::dead_letters(self, &p, slug, topic).await
    }

    async fn replay(
        &self,
        session: &SessionToken,
        slug: &str,
        topic: &str,
        job: &str,
    ) -> ConsoleResult<Created> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::replay(self, &p, slug, topic, job).await
    }

    async fn route_activity(
        &self,
        session: &SessionToken,
        slug: &str,
        route: &str,
    ) -> ConsoleResult<RouteActivity> {
        let p = self.tenancy().console_caller(session).await?;
        RouteOps::activity(self, &p, slug, route).await
    }

    async fn try_request(
        &self,
        session: &SessionToken,
        slug: &str,
        req: TryRequest,
    ) -> ConsoleResult<TryResponse> {
        let p = self.tenancy().console_caller(session).await?;
        let access = self
            .tenancy()
            .authorize(&p, slug, Permission::Develop)
            .await?;
        let request = gateway_request(access.workspace.slug.as_str(), req)?;
        let started = Instant::now();
        let response = self
            .gateway()
            .clone()
            .router()
            .oneshot(request)
            .await
            .map_err(|_| ApiError::internal())?;
        let millis = started.elapsed().as_secs_f64() * 1e3;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let bytes = axum::body::to_bytes(response.into_body(), TRY_BODY_READ)
            .await
            .map_err(|_| ApiError::field("path", "the answer is larger than 16 MiB"))?;
        let truncated = bytes.len() > TRY_BODY_SHOWN;
        let shown = &bytes[..bytes.len().min(TRY_BODY_SHOWN)];
        Ok(TryResponse {
            status,
            headers,
            body: String::from_utf8_lossy(shown).into_owned(),
            truncated,
            millis,
        })
    }
}

/// The gateway request for a console's "send a request", checked field by field.
fn gateway_request(slug: &str, req: TryRequest) -> Result<Request, ApiError> {
    let method = Method::from_bytes(req.method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| ApiError::field("method", "is not an HTTP method"))?;
    let path = req.path.trim();
    if !path.starts_with('/') {
        return Err(ApiError::field("path", "must start with /"));
    }
    let uri: axum::http::Uri = format!("/t/{slug}{path}")
        .parse()
        .map_err(|_| ApiError::field("path", "is not a valid request path"))?;
    let mut request = Request::new(Body::from(req.body));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    let headers = parse_header_lines(&req.headers).map_err(|e| ApiError::field("headers", e))?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ApiError::field("headers", format!("`{name}` is not a header name")))?;
        let value = HeaderValue::from_str(&value).map_err(|_| {
            ApiError::field("headers", format!("the value of `{name}` is not valid"))
        })?;
        request.headers_mut().append(name, value);
    }
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))));
    Ok(request)
}
