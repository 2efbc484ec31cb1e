//! Routes, topics and subscribers: what a workspace serves on its gateway, and the manifest
//! they compile into for a deploy.
//!
//! [`pattern`] parses and matches path patterns and finds two that can match one path;
//! [`table`] looks a request up among a manifest's routes; [`validate`] reports every
//! problem of a manifest (conflicting routes named together); [`plan`] is the difference
//! between the live manifest and the drafts. The same code runs in the console (inline
//! checks) and on the server (a deploy is refused with the problems).

pub mod form;
pub mod pattern;
pub mod plan;
pub mod table;
pub mod validate;
pub mod views;

pub use pattern::{PathPattern, PatternError};
pub use plan::{plan, Change, ChangeKind, FieldChange};
pub use table::{Lookup, RouteTable};
pub use validate::{validate, Problem};

use crate::roles::Role;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// What a definition is: plans and problems say which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A route, named `METHOD /path`.
    Route,
    /// A topic, named by its name.
    Topic,
    /// A subscriber, named `topic/subscriber`.
    Subscriber,
}

impl Kind {
    /// Its name as plans and messages say it (`route`, `topic`, `subscriber`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Route => "route",
            Kind::Topic => "topic",
            Kind::Subscriber => "subscriber",
        }
    }
}

/// An HTTP method a route answers; `ANY` answers every method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET` (also answers `HEAD` when no route has `HEAD` for the path).
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `HEAD`.
    Head,
    /// `OPTIONS` (a route with CORS settings answers preflights itself).
    Options,
    /// Every method.
    Any,
}

impl Method {
    /// Every method, `ANY` last.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
        Method::Any,
    ];

    /// The method's name (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Any => "ANY",
        }
    }

    /// The method named `name` (case-sensitive, as HTTP has it).
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether one request can be answered by a route with either method.
    pub fn overlaps(self, other: Method) -> bool {
        self == other || self == Method::Any || other == Method::Any
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One route: a method and path pattern, what answers it and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Route {
    /// The method it answers.
    pub method: Method,
    /// Its path pattern (`/users/{id}`; see [`pattern`]).
    pub path: String,
    /// What answers it.
    pub handler: Handler,
    /// Timeout, limits, auth, CORS.
    #[serde(default)]
    pub settings: RouteSettings,
}

impl Route {
    /// `GET /users/{id}`: how plans and problems name it.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// What answers a route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Handler {
    /// A fixed answer.
    Static {
        /// Its status.
        status: u16,
        /// Its headers.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
        /// Its body: a string is sent as text, anything else as JSON.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        body: Value,
    },
    /// JavaScript in the sandbox: `main(req, ctx)` answers `{status, headers, body}`.
    Script {
        /// The script.
        source: String,
    },
    /// A pipeline's live version, run with the request as its input; answers its output.
    Pipeline {
        /// The pipeline.
        pipeline_id: String,
    },
    /// Publishes the request's body to a topic and answers 202 with the message id.
    Publish {
        /// The topic.
        topic: String,
    },
}

impl Handler {
    /// Its kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Handler::Static { .. } => "static",
            Handler::Script { .. } => "script",
            Handler::Pipeline { .. } => "pipeline",
            Handler::Publish { .. } => "publish",
        }
    }
}

/// Who may call a route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RouteAuth {
    /// Anyone.
    #[default]
    Public,
    /// A caller with one of the workspace's API keys (`Authorization: Bearer ...`) whose
    /// role is at least `min_role`.
    ApiKey {
        /// The least role the key must have.
        min_role: Role,
    },
}

/// Which browsers' pages may call a route (CORS); preflights are answered by the gateway.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// Origins (`https://app.example.com`) or `*`.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Methods a preflight may ask for; empty means the route's own.
    #[serde(default)]
    pub allowed_methods: Vec<String>,
    /// Request headers a preflight may ask for.
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    /// How long a browser may cache a preflight's answer.
    #[serde(default = "defaults::cors_max_age")]
    pub max_age_seconds: u32,
}

/// A route's limits and policies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    /// How long the handler may take before the caller gets 504.
    #[serde(default = "defaults::timeout_ms")]
    pub timeout_ms: u64,
    /// The script sandbox's memory.
    #[serde(default = "defaults::memory_mb")]
    pub memory_mb: u32,
    /// Who may call it.
    #[serde(default)]
    pub auth: RouteAuth,
    /// Cross-origin browser access (none when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    /// Requests per minute per client IP (unlimited when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_per_minute: Option<u32>,
    /// The largest request body accepted (413 beyond).
    #[serde(default = "defaults::max_body_bytes")]
    pub max_body_bytes: u64,
}

impl Default for RouteSettings {
    fn default() -> Self {
        RouteSettings {
            timeout_ms: defaults::timeout_ms(),
            memory_mb: defaults::memory_mb(),
            auth: RouteAuth::Public,
            cors: None,
            rate_limit_per_minute: None,
            max_body_bytes: defaults::max_body_bytes(),
        }
    }
}

/// A topic: messages published to it are delivered to each of its subscribers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Its name: lowercase letters, digits, `.`, `_` and `-`, at most 64.
    pub name: String,
    /// How long published messages are kept (for replay and inspection).
    #[serde(default = "defaults::retention_hours")]
    pub retention_hours: u32,
    /// Who receives its messages.
    #[serde(default)]
    pub subscribers: Vec<Subscriber>,
}

/// A topic's subscriber: each message is delivered to it at least once, retried with
/// backoff, and dead-lettered after its last attempt. Delivery order is not promised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Subscriber {
    /// Unique in its topic: lowercase letters, digits, `_` and `-`, at most 64.
    pub name: String,
    /// What receives a message.
    pub handler: SubscriberHandler,
    /// Deliveries tried before the message is dead-lettered.
    #[serde(default = "defaults::max_attempts")]
    pub max_attempts: u32,
    /// How long one delivery may take.
    #[serde(default = "defaults::timeout_ms")]
    pub timeout_ms: u64,
}

/// What receives a topic's messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SubscriberHandler {
    /// JavaScript in the sandbox: `main(message, ctx)`; a throw is a failed delivery.
    Script {
        /// The script.
        source: String,
    },
    /// A run of a pipeline's live version with the message as its input.
    Pipeline {
        /// The pipeline.
        pipeline_id: String,
    },
}

/// Everything a workspace serves, as one deploy applies it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The routes.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// The topics, each with its subscribers.
    #[serde(default)]
    pub topics: Vec<Topic>,
}

impl Manifest {
    /// The same definitions in one order (routes by path then method, topics and
    /// subscribers by name), so equal manifests serialise to equal bytes.
    pub fn canonical(mut self) -> Manifest {
        self.routes
            .sort_by(|a, b| (&a.path, a.method).cmp(&(&b.path, b.method)));
        self.topics.sort_by(|a, b| a.name.cmp(&b.name));
        for topic in &mut self.topics {
            topic.subscribers.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self
    }

    /// The topic named `name`.
    pub fn topic(&self, name: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.name == name)
    }
}

/// The limits on definitions (also what the console's forms allow).
pub mod limits {
    /// Routes per workspace.
    pub const MAX_ROUTES: usize = 500;
    /// Topics per workspace.
    pub const MAX_TOPICS: usize = 200;
    /// Subscribers per topic.
    pub const MAX_SUBSCRIBERS: usize = 50;
    /// The longest handler timeout.
    pub const MAX_TIMEOUT_MS: u64 = 120_000;
    /// The sandbox memory range, in MiB.
    pub const MEMORY_MB: std::ops::RangeInclusive<u32> = 8..=512;
    /// The largest request body a route may accept.
    pub const MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
    /// The longest retention of a topic's messages (30 days).
    pub const MAX_RETENTION_HOURS: u32 = 720;
    /// The most delivery attempts.
    pub const MAX_ATTEMPTS: u32 = 20;
    /// The largest script.
    pub const MAX_SOURCE_BYTES: usize = 256 * 1024;
    /// The largest static body, serialised.
    pub const MAX_STATIC_BODY_BYTES: usize = 256 * 1024;
}

mod defaults {
    pub fn timeout_ms() -> u64 {
        10_000
    }
    pub fn memory_mb() -> u32 {
        64
    }
    pub fn max_body_bytes() -> u64 {
        1024 * 1024
    }
    pub fn retention_hours() -> u32 {
        72
    }
    pub fn max_attempts() -> u32 {
        5
    }
    pub fn cors_max_age() -> u32 {
        600
    }
}
