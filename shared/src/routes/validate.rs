//! Every problem of a manifest, each with the definition and field it concerns. Two routes
//! that can answer the same request are one problem naming both. What only the server can
//! know (a script's syntax, whether a pipeline exists) it adds to these.

use super::pattern::PathPattern;
use super::{limits, Cors, Handler, Kind, Manifest, Method, Route, RouteAuth, SubscriberHandler};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One thing wrong with a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// What the definition is.
    pub kind: Kind,
    /// Which one (`GET /users/{id}`, `orders`, `orders/mailer`).
    pub name: String,
    /// The field it concerns (`path`, `handler.status`, `settings.cors.allowed_origins`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The line of a script it concerns, 1-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What is wrong, as a sentence.
    pub message: String,
}

impl Problem {
    /// A problem of `kind` `name`'s `field`.
    pub fn new(kind: Kind, name: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        Problem {
            kind,
            name: name.to_owned(),
            field: field.map(str::to_owned),
            line: None,
            message: message.into(),
        }
    }
}

/// One line saying why `what` did not happen (`not deployed`): the problem itself when there
/// is one, else how many.
pub fn refusal(what: &str, problems: &[Problem]) -> String {
    match problems {
        [one] => format!(
            "{what}: {} {}: {}",
            one.kind.as_str(),
            one.name,
            one.message
        ),
        many => format!("{what}: there are {} problems", many.len()),
    }
}

/// Every problem of `manifest`, routes first, in its order.
pub fn validate(manifest: &Manifest) -> Vec<Problem> {
    let mut out = Vec::new();
    if manifest.routes.len() > limits::MAX_ROUTES {
        out.push(Problem::new(
            Kind::Route,
            "",
            None,
            format!("a workspace has at most {} routes", limits::MAX_ROUTES),
        ));
    }
    let mut parsed: Vec<(Method, PathPattern, String)> = Vec::new();
    for route in &manifest.routes {
        let name = route.name();
        match PathPattern::parse(&route.path) {
            Ok(pattern) => {
                // Each conflict once, on the later route, naming the earlier.
                if let Some((method, example, other)) =
                    parsed.iter().find_map(|(method, earlier, other)| {
                        let example = method
                            .overlaps(route.method)
                            .then(|| earlier.overlap(&pattern))
                            .flatten()?;
                        Some((*method, example, other))
                    })
                {
                    let asked = if route.method == Method::Any {
                        method
                    } else {
                        route.method
                    };
                    let asked = if asked == Method::Any {
                        Method::Get
                    } else {
                        asked
                    };
                    out.push(Problem::new(
                        Kind::Route,
                        &name,
                        Some("path"),
                        format!("conflicts with {other}: both answer {asked} {example}"),
                    ));
                }
                parsed.push((route.method, pattern, name.clone()));
            }
            Err(e) => out.push(Problem::new(
                Kind::Route,
                &name,
                Some("path"),
                format!("path {e}"),
            )),
        }
        route_problems(route, &name, manifest, &mut out);
    }
    if manifest.topics.len() > limits::MAX_TOPICS {
        out.push(Problem::new(
            Kind::Topic,
            "",
            None,
            format!("a workspace has at most {} topics", limits::MAX_TOPICS),
        ));
    }
    let mut topics = BTreeSet::new();
    for topic in &manifest.topics {
        let name = &topic.name;
        if !is_topic_name(name) {
            out.push(Problem::new(
                Kind::Topic,
                name,
                Some("name"),
                "name must be 1-64 lowercase letters, digits, `.`, `_` or `-`, starting with a letter or digit",
            ));
        }
        if !topics.insert(name.as_str()) {
            out.push(Problem::new(
                Kind::Topic,
                name,
                Some("name"),
                "another topic has this name",
            ));
        }
        if !(1..=limits::MAX_RETENTION_HOURS).contains(&topic.retention_hours) {
            out.push(Problem::new(
                Kind::Topic,
                name,
                Some("retention_hours"),
                format!("retention_hours must be 1-{}", limits::MAX_RETENTION_HOURS),
            ));
        }
        if topic.subscribers.len() > limits::MAX_SUBSCRIBERS {
            out.push(Problem::new(
                Kind::Topic,
                name,
                Some("subscribers"),
                format!(
                    "a topic has at most {} subscribers",
                    limits::MAX_SUBSCRIBERS
                ),
            ));
        }
        let mut subscribers = BTreeSet::new();
        for s in &topic.subscribers {
            let full = format!("{}/{}", topic.name, s.name);
            let mut problem = |field: &str, message: String| {
                out.push(Problem::new(Kind::Subscriber, &full, Some(field), message))
            };
            if !is_identifier(&s.name) {
                problem(
                    "name",
                    "name must be 1-64 lowercase letters, digits, `_` or `-`".into(),
                );
            }
            if !subscribers.insert(s.name.as_str()) {
                problem(
                    "name",
                    "another subscriber of this topic has this name".into(),
                );
            }
            if !(1..=limits::MAX_ATTEMPTS).contains(&s.max_attempts) {
                problem(
                    "max_attempts",
                    format!("max_attempts must be 1-{}", limits::MAX_ATTEMPTS),
                );
            }
            if !(1..=limits::MAX_TIMEOUT_MS).contains(&s.timeout_ms) {
                problem(
                    "timeout_ms",
                    format!("timeout_ms must be 1-{}", limits::MAX_TIMEOUT_MS),
                );
            }
            match &s.handler {
                SubscriberHandler::Script { source } => {
                    if let Some(message) = source_problem(source) {
                        problem("handler.source", message);
                    }
                }
                SubscriberHandler::Pipeline { pipeline_id } => {
                    if uuid::Uuid::parse_str(pipeline_id).is_err() {
                        problem(
                            "handler.pipeline_id",
                            "pipeline_id is not a pipeline's id".into(),
                        );
                    }
                }
            }
        }
    }
    out
}

fn route_problems(route: &Route, name: &str, manifest: &Manifest, out: &mut Vec<Problem>) {
    let mut problem = |field: &str, message: String| {
        out.push(Problem::new(Kind::Route, name, Some(field), message))
    };
    match &route.handler {
        Handler::Static {
            status,
            headers,
            body,
        } => {
            if !(100..=599).contains(status) {
                problem("handler.status", "status must be 100-599".into());
            }
            for (header, value) in headers {
                if let Some(message) = header_problem(header, value) {
                    problem(&format!("handler.headers.{header}"), message);
                }
            }
            if serde_json::to_string(body).map_or(0, |b| b.len()) > limits::MAX_STATIC_BODY_BYTES {
                problem(
                    "handler.body",
                    format!(
                        "body is larger than {} KiB",
                        limits::MAX_STATIC_BODY_BYTES / 1024
                    ),
                );
            }
        }
        Handler::Script { source } => {
            if let Some(message) = source_problem(source) {
                problem("handler.source", message);
            }
        }
        Handler::Pipeline { pipeline_id } => {
            if uuid::Uuid::parse_str(pipeline_id).is_err() {
                problem(
                    "handler.pipeline_id",
                    "pipeline_id is not a pipeline's id".into(),
                );
            }
        }
        Handler::Publish { topic } => {
            if manifest.topic(topic).is_none() {
                problem("handler.topic", format!("there is no topic `{topic}`"));
            }
        }
    }
    let s = &route.settings;
    if !(1..=limits::MAX_TIMEOUT_MS).contains(&s.timeout_ms) {
        problem(
            "settings.timeout_ms",
            format!("timeout_ms must be 1-{}", limits::MAX_TIMEOUT_MS),
        );
    }
    if !limits::MEMORY_MB.contains(&s.memory_mb) {
        problem(
            "settings.memory_mb",
            format!(
                "memory_mb must be {}-{}",
                limits::MEMORY_MB.start(),
                limits::MEMORY_MB.end()
            ),
        );
    }
    if !(1..=limits::MAX_BODY_BYTES).contains(&s.max_body_bytes) {
        problem(
            "settings.max_body_bytes",
            format!("max_body_bytes must be 1-{}", limits::MAX_BODY_BYTES),
        );
    }
    if s.rate_limit_per_minute == Some(0) {
        problem(
            "settings.rate_limit_per_minute",
            "rate_limit_per_minute must be at least 1 (leave it out for no limit)".into(),
        );
    }
    if let RouteAuth::ApiKey { min_role } = &s.auth {
        if *min_role == crate::roles::Role::Owner {
            problem(
                "settings.auth.min_role",
                "API keys never have the owner role: use admin, developer or viewer".into(),
            );
        }
    }
    if let Some(cors) = &s.cors {
        for (field, message) in cors_problems(cors) {
            problem(&format!("settings.cors.{field}"), message);
        }
    }
}

fn cors_problems(cors: &Cors) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if cors.allowed_origins.is_empty() {
        out.push((
            "allowed_origins",
            "allowed_origins needs at least one origin (or `*`)".to_owned(),
        ));
    }
    for origin in &cors.allowed_origins {
        if origin != "*" && !is_origin(origin) {
            out.push((
                "allowed_origins",
                format!("`{origin}` is not an origin like https://app.example.com (scheme, host and port only)"),
            ));
        }
    }
    for method in &cors.allowed_methods {
        if Method::parse(method).is_none_or(|m| m == Method::Any) {
            out.push((
                "allowed_methods",
                format!("`{method}` is not an HTTP method"),
            ));
        }
    }
    for header in &cors.allowed_headers {
        if !is_token(header) {
            out.push((
                "allowed_headers",
                format!("`{header}` is not a header name"),
            ));
        }
    }
    if cors.max_age_seconds > 86_400 {
        out.push((
            "max_age_seconds",
            "max_age_seconds must be at most 86400".to_owned(),
        ));
    }
    out
}

fn source_problem(source: &str) -> Option<String> {
    if source.trim().is_empty() {
        Some("source is empty".into())
    } else if source.len() > limits::MAX_SOURCE_BYTES {
        Some(format!(
            "source is larger than {} KiB",
            limits::MAX_SOURCE_BYTES / 1024
        ))
    } else {
        None
    }
}

/// Why a response header cannot be set, if it cannot.
pub fn header_problem(name: &str, value: &str) -> Option<String> {
    if !is_token(name) {
        return Some(format!("`{name}` is not a header name"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Some(format!(
            "header `{name}` has a control character in its value"
        ));
    }
    let lower = name.to_ascii_lowercase();
    if [
        "content-length",
        "transfer-encoding",
        "connection",
        "set-cookie",
    ]
    .contains(&lower.as_str())
    {
        return Some(format!(
            "header `{name}` is set by the gateway, not by a route"
        ));
    }
    None
}

/// An HTTP token (RFC 9110), as header names are.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A topic's name: `orders.created`, `mail-out`.
pub fn is_topic_name(name: &str) -> bool {
    name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

/// `scheme://host[:port]` with an http(s) scheme and nothing after.
fn is_origin(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => (h, Some(p)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-[]:".contains(c));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.parse::<u16>().is_ok());
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_its_one_problem_or_counts_them() {
        let one = Problem::new(
            Kind::Route,
            "GET /a",
            Some("path"),
            "path must start with `/`",
        );
        assert_eq!(
            refusal("not deployed", std::slice::from_ref(&one)),
            "not deployed: route GET /a: path must start with `/`"
        );
        assert_eq!(
            refusal("not saved", &[one.clone(), one]),
            "not saved: there are 2 problems"
        );
    }
    use serde_json::json;

    fn manifest(value: serde_json::Value) -> Manifest {
        serde_json::from_value(value).unwrap_or_else(|e| panic!("a manifest: {e}"))
    }

    fn fields(problems: &[Problem]) -> Vec<(String, Option<String>)> {
        problems
            .iter()
            .map(|p| (p.name.clone(), p.field.clone()))
            .collect()
    }

    #[test]
    fn a_good_manifest_has_no_problems() {
        let m = manifest(json!({
            "routes": [
                {"method": "GET", "path": "/users/{id}", "handler": {"kind": "static", "status": 200, "body": {"ok": true}}},
                {"method": "POST", "path": "/users/{id}", "handler": {"kind": "script", "source": "export default () => ({status: 201})"},
                 "settings": {"auth": {"kind": "api_key", "min_role": "developer"},
                              "cors": {"allowed_origins": ["https://app.example.com", "http://localhost:5173"], "allowed_headers": ["content-type"]},
                              "rate_limit_per_minute": 60}},
                {"method": "POST", "path": "/orders", "handler": {"kind": "publish", "topic": "orders.created"}},
                {"method": "GET", "path": "/report", "handler": {"kind": "pipeline", "pipeline_id": "6d1f8c8e-0c7a-4b8e-9b4e-6c3f7f1f2a10"}}
            ],
            "topics": [{"name": "orders.created", "subscribers": [
                {"name": "mailer", "handler": {"kind": "script", "source": "export default (m) => m"}}
            ]}]
        }));
        assert_eq!(validate(&m), vec![]);
        assert_eq!(m.routes[0].settings, super::super::RouteSettings::default());
    }

    #[test]
    fn conflicting_routes_are_one_problem_naming_both() {
        let m = manifest(json!({"routes": [
            {"method": "GET", "path": "/users/{id}", "handler": {"kind": "static", "status": 200}},
            {"method": "GET", "path": "/users/me", "handler": {"kind": "static", "status": 200}},
            {"method": "POST", "path": "/users/me", "handler": {"kind": "static", "status": 200}},
            {"method": "ANY", "path": "/files/{*rest}", "handler": {"kind": "static", "status": 200}},
            {"method": "DELETE", "path": "/files/{name}", "handler": {"kind": "static", "status": 200}}
        ]}));
        let problems = validate(&m);
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.name.as_str(), p.message.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (
                    "GET /users/me",
                    "conflicts with GET /users/{id}: both answer GET /users/me"
                ),
                (
                    "DELETE /files/{name}",
                    "conflicts with ANY /files/{*rest}: both answer DELETE /files/name-value"
                ),
            ]
        );
        assert!(problems.iter().all(|p| p.field.as_deref() == Some("path")));
    }

    #[test]
    fn every_bad_field_is_named() {
        let m = manifest(json!({
            "routes": [
                {"method": "GET", "path": "users", "handler": {"kind": "static", "status": 99, "headers": {"x y": "1", "Set-Cookie": "a=b", "X-Ok": "a\nb"}}},
                {"method": "GET", "path": "/a", "handler": {"kind": "script", "source": "  "},
                 "settings": {"timeout_ms": 0, "memory_mb": 4, "max_body_bytes": 0, "rate_limit_per_minute": 0,
                              "auth": {"kind": "api_key", "min_role": "owner"},
                              "cors": {"allowed_origins": ["https://x.com/path", "ftp://x"], "allowed_methods": ["FETCH"], "allowed_headers": ["a b"], "max_age_seconds": 100000}}},
                {"method": "GET", "path": "/b", "handler": {"kind": "pipeline", "pipeline_id": "nope"}},
                {"method": "GET", "path": "/c", "handler": {"kind": "publish", "topic": "missing"}}
            ],
            "topics": [
                {"name": "Orders", "retention_hours": 0, "subscribers": [
                    {"name": "a b", "handler": {"kind": "pipeline", "pipeline_id": "x"}, "max_attempts": 0, "timeout_ms": 0},
                    {"name": "ok", "handler": {"kind": "script", "source": ""}},
                    {"name": "ok", "handler": {"kind": "script", "source": "x"}}
                ]},
                {"name": "Orders"}
            ]
        }));
        let got = fields(&validate(&m));
        let want: Vec<(&str, &str)> = vec![
            ("GET users", "path"),
            ("GET users", "handler.status"),
            ("GET users", "handler.headers.Set-Cookie"),
            ("GET users", "handler.headers.X-Ok"),
            ("GET users", "handler.headers.x y"),
            ("GET /a", "handler.source"),
            ("GET /a", "settings.timeout_ms"),
            ("GET /a", "settings.memory_mb"),
            ("GET /a", "settings.max_body_bytes"),
            ("GET /a", "settings.rate_limit_per_minute"),
            ("GET /a", "settings.auth.min_role"),
            ("GET /a", "settings.cors.allowed_origins"),
            ("GET /a", "settings.cors.allowed_origins"),
            ("GET /a", "settings.cors.allowed_methods"),
            ("GET /a", "settings.cors.allowed_headers"),
            ("GET /a", "settings.cors.max_age_seconds"),
            ("GET /b", "handler.pipeline_id"),
            ("GET /c", "handler.topic"),
            ("Orders", "name"),
            ("Orders", "retention_hours"),
            ("Orders/a b", "name"),
            ("Orders/a b", "max_attempts"),
            ("Orders/a b", "timeout_ms"),
            ("Orders/a b", "handler.pipeline_id"),
            ("Orders/ok", "handler.source"),
            ("Orders/ok", "name"),
            ("Orders", "name"),
            ("Orders", "name"),
        ];
        assert_eq!(
            got,
            want.into_iter()
                .map(|(n, f)| (n.to_owned(), Some(f.to_owned())))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn unknown_fields_and_kinds_do_not_parse() {
        for bad in [
            json!({"routes": [{"method": "GET", "path": "/", "handler": {"kind": "static", "status": 200, "extra": 1}}]}),
            json!({"routes": [{"method": "FETCH", "path": "/", "handler": {"kind": "static", "status": 200}}]}),
            json!({"routes": [{"method": "GET", "path": "/", "handler": {"kind": "lambda"}}]}),
            json!({"routes": [], "extra": []}),
            json!({"topics": [{"name": "t", "subscribers": [{"name": "s", "handler": {"kind": "publish", "topic": "t"}}]}]}),
        ] {
            assert!(
                serde_json::from_value::<Manifest>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn origins() {
        for good in [
            "https://a.com",
            "http://localhost:5173",
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "a.com",
            "https://",
            "https://a.com/",
            "https://a.com:x",
            "https://a.com:99999",
            "javascript://x",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
