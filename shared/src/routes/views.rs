//! The request and response bodies of the routes, topics and deploys API and the console.

use super::{Change, Handler, Method, Problem, RouteSettings, SubscriberHandler};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/workspaces/{slug}/routes` and `PUT .../routes/{id}`: a route's definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteBody {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD`, `OPTIONS` or `ANY`.
    pub method: Method,
    /// The path pattern: `/users/{id}`, `/files/{*rest}`.
    pub path: String,
    /// What answers it.
    pub handler: Handler,
    /// Timeout, memory, auth, CORS, rate limit, body size (defaults when absent).
    #[serde(default)]
    pub settings: RouteSettings,
}

/// One line of a route's log: the access line of a request (with its status and
/// duration), or a line its handler logged, or why it failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RouteLogLine {
    /// Unique; with `at`, the order of lines.
    pub id: String,
    /// When, Unix ms.
    pub at: i64,
    /// The route (`GET /users/{id}`), or `unmatched` for a request no route matched.
    pub route: String,
    /// The gateway's request id (the `x-request-id` header of the answer).
    pub request_id: String,
    /// The answer's status, on access lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long the answer took, on access lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// The line.
    pub line: String,
}

/// `GET /api/v1/workspaces/{slug}/logs`: route log lines, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RouteLogs {
    /// The lines.
    pub lines: Vec<RouteLogLine>,
}

/// Requests of one minute, by how they ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteCounts {
    /// The minute's start, Unix ms.
    pub at: i64,
    /// Answered 1xx to 3xx.
    pub ok: u32,
    /// Answered 4xx.
    pub client_errors: u32,
    /// Answered 5xx.
    pub server_errors: u32,
}

/// A route's last hour, for the console: requests per minute by status class, latency
/// percentiles, and its latest log lines.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteActivity {
    /// The route (`GET /users/{id}`).
    pub route: String,
    /// The start of the hour's last minute (the one now), Unix ms.
    pub until: i64,
    /// Each minute of the hour that had requests, oldest first.
    pub minutes: Vec<MinuteCounts>,
    /// Requests in the hour.
    pub requests: u32,
    /// Median time to answer, over the hour's latest (up to 5,000) requests.
    pub p50_ms: Option<f64>,
    /// 95th percentile of the same.
    pub p95_ms: Option<f64>,
    /// The route's latest log lines, oldest first.
    pub recent: Vec<RouteLogLine>,
}

/// A draft route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RouteView {
    /// Its id.
    pub id: String,
    /// Its method.
    pub method: Method,
    /// Its path pattern.
    pub path: String,
    /// What answers it.
    pub handler: Handler,
    /// Its settings.
    pub settings: RouteSettings,
    /// Whether the live deploy serves it exactly like this.
    pub deployed: bool,
    /// RFC 3339.
    pub updated_at: String,
}

/// A definition created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    /// Its id.
    pub id: String,
}

/// `POST /api/v1/workspaces/{slug}/topics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTopic {
    /// Lowercase letters, digits, `.`, `_` and `-`, at most 64, unique in the workspace.
    pub name: String,
    /// How long published messages are kept (default 72).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_hours: Option<u32>,
}

/// `POST /api/v1/workspaces/{slug}/topics/{name}/subscribers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSubscriber {
    /// Unique in the topic (made from the handler's kind when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What receives the messages.
    pub handler: SubscriberHandler,
    /// Deliveries tried before a message is dead-lettered (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// How long one delivery may take, in ms (default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// A draft topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicView {
    /// Its name.
    pub name: String,
    /// How long its messages are kept.
    pub retention_hours: u32,
    /// Its subscribers.
    pub subscribers: Vec<SubscriberView>,
}

/// A draft subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriberView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What receives the messages.
    pub handler: SubscriberHandler,
    /// Deliveries tried before dead-lettering.
    pub max_attempts: u32,
    /// How long one delivery may take, in ms.
    pub timeout_ms: u64,
}

/// `GET /api/v1/workspaces/{slug}/deploys/plan`: what a deploy would change now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanView {
    /// Every definition the deploy would add, change or remove.
    pub changes: Vec<Change>,
    /// What would refuse the deploy.
    pub problems: Vec<Problem>,
    /// The live deploy's version (none before the first deploy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_version: Option<i64>,
    /// The drafts' manifest hash (SHA-256, hex).
    pub hash: String,
}

/// A deploy applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deployed {
    /// The deploy's id.
    pub id: String,
    /// Its version, live from now on.
    pub version: i64,
}

/// How many definitions a deploy added, changed and removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploySummary {
    /// Added.
    pub added: usize,
    /// Changed.
    pub changed: usize,
    /// Removed.
    pub removed: usize,
}

impl DeploySummary {
    /// The counts of `changes`.
    pub fn of(changes: &[Change]) -> DeploySummary {
        let count = |kind| changes.iter().filter(|c| c.change == kind).count();
        DeploySummary {
            added: count(super::ChangeKind::Add),
            changed: count(super::ChangeKind::Change),
            removed: count(super::ChangeKind::Remove),
        }
    }
}

/// A deploy in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployView {
    /// Its id.
    pub id: String,
    /// Its version.
    pub version: i64,
    /// Whether it is the live one.
    pub live: bool,
    /// Its manifest's hash.
    pub hash: String,
    /// What it changed.
    pub summary: DeploySummary,
    /// The version it rolled back to, for a rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<i64>,
    /// Who applied it (their name).
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
}

/// A message published (`POST .../topics/{name}/messages`, 202).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Published {
    /// The message's id: every delivery (and replay) of it carries it, so consumers can
    /// stay idempotent.
    pub id: String,
    /// How many subscribers it is being delivered to.
    pub deliveries: usize,
}

/// A message published to a topic and how each delivery of it stands (the topic's live
/// tail: `GET .../topics/{name}/messages`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView {
    /// Its id (every delivery of it carries it).
    pub id: String,
    /// What was published.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub body: serde_json::Value,
    /// When, Unix ms: to follow the tail, ask again with `since` a little before the newest.
    pub at: i64,
    /// When, RFC 3339.
    pub published_at: String,
    /// Its deliveries to script subscribers (replays included), oldest first.
    pub deliveries: Vec<DeliveryView>,
    /// The pipeline runs it started (pipeline subscribers and topic triggers), oldest
    /// first; each run's page has its nodes.
    #[serde(default)]
    pub runs: Vec<MessageRunView>,
}

/// A pipeline run a message started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageRunView {
    /// The run.
    pub run_id: String,
    /// Its pipeline.
    pub pipeline_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// How it stands.
    pub status: crate::pipelines::views::RunStatus,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One delivery of a message to one subscriber.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    /// The subscriber.
    pub subscriber: String,
    /// The delivery's job (its log has each attempt).
    pub job_id: String,
    /// How it stands: `queued` (also between retries), `running`, `succeeded`, `dead`
    /// (its attempts are spent: a dead letter), `cancelled`.
    pub status: crate::jobs::JobStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// The latest attempt's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The dead delivery this one replays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<String>,
}

/// A message a subscriber could not take: its delivery's attempts are spent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetterView {
    /// The dead delivery (a job; its log has each attempt's error).
    pub job_id: String,
    /// The message.
    pub message_id: String,
    /// The subscriber.
    pub subscriber: String,
    /// Attempts made.
    pub attempts: i64,
    /// The last attempt's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it died (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_at: Option<String>,
    /// What was published.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub body: serde_json::Value,
}

/// A request the console sends to the live deploy through the gateway ("send a request"):
/// it is served exactly as a caller's would be (auth, limits, CORS, the handler).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TryRequest {
    /// The method.
    pub method: String,
    /// The path below the workspace, with its query (`/users/7?full=1`).
    pub path: String,
    /// Headers, one `Name: value` per line.
    #[serde(default)]
    pub headers: String,
    /// The body (empty for none).
    #[serde(default)]
    pub body: String,
}

/// The gateway's answer to a [`TryRequest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TryResponse {
    /// Its status.
    pub status: u16,
    /// Its headers, in the order sent.
    pub headers: Vec<(String, String)>,
    /// Its body as text (cut at [`TRY_BODY_SHOWN`] bytes).
    pub body: String,
    /// Whether the body was cut.
    pub truncated: bool,
    /// How long the gateway took, in ms.
    pub millis: f64,
}

/// How much of a tried request's answer the console shows.
pub const TRY_BODY_SHOWN: usize = 64 * 1024;

/// Parses the console's header lines (`Name: value` per line; blank lines ignored) into
/// pairs, or the first line that is not a header.
pub fn parse_header_lines(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("line {} is not `Name: value`", i + 1));
        };
        let name = name.trim();
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid {
            return Err(format!("line {}: `{name}` is not a header name", i + 1));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_parse_into_pairs_and_name_the_bad_line() {
        assert_eq!(
            parse_header_lines("Authorization: Bearer x\n\n  accept : text/plain  \n"),
            Ok(vec![
                ("Authorization".to_owned(), "Bearer x".to_owned()),
                ("accept".to_owned(), "text/plain".to_owned())
            ])
        );
        assert_eq!(
            parse_header_lines("a: b\nno colon"),
            Err("line 2 is not `Name: value`".to_owned())
        );
        assert_eq!(
            parse_header_lines("bad name: x"),
            Err("line 1: `bad name` is not a header name".to_owned())
        );
    }
}
