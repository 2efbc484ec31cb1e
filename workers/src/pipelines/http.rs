//! The HTTP node: an outbound request behind the egress guard (checked after DNS and again
//! on every redirect, connecting only to the address that was checked) and a circuit
//! breaker per workspace and host, with a timeout and a cap on the response's size.

use super::nodes::MAX_OUTPUT_BYTES;
use super::Env;
use crate::breaker::CircuitBreaker;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 5;
/// Failures in a row that open a host's breaker.
const BREAKER_FAILURES: u32 = 5;
/// How long an open breaker refuses calls before it lets a probe through.
const BREAKER_OPEN_FOR: Duration = Duration::from_secs(30);

/// The circuit breakers of one process, per workspace and host.
#[derive(Default)]
pub struct Breakers(Mutex<HashMap<(String, String), CircuitBreaker>>);

impl Breakers {
    fn with<T>(&self, tenant: &str, host: &str, f: impl FnOnce(&mut CircuitBreaker) -> T) -> T {
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let breaker = all
            .entry((tenant.to_owned(), host.to_owned()))
            .or_insert_with(|| CircuitBreaker::new(BREAKER_FAILURES, BREAKER_OPEN_FOR));
        f(breaker)
    }
}

/// Sends the request a rendered HTTP node's config describes; answers `{status, headers,
/// body}` or the error with whether trying again could help.
pub(super) async fn request(
    config: &Value,
    env: &Env,
    timeout: Duration,
) -> Result<Value, (String, bool)> {
    let fatal = |m: String| (m, false);
    let method = config
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET");
    let mut method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| fatal(format!("config.method {method:?} is not an HTTP method")))?;
    let mut url = config
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(map) = config.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| fatal(format!("config.headers: {name:?} is not a header name")))?;
            let value = reqwest::header::HeaderValue::from_str(&value)
                .map_err(|_| fatal(format!("config.headers.{name}: not a valid header value")))?;
            headers.insert(name, value);
        }
    }
    let mut body: Option<Vec<u8>> = match config.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone().into_bytes()),
        Some(other) => {
            if !headers.contains_key(reqwest::header::CONTENT_TYPE) {
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    reqwest::header::HeaderValue::from_static("application/json"),
                );
            }
            Some(other.to_string().into_bytes())
        }
    };
    let fail_on_status = config
        .get("fail_on_status")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let deadline = Instant::now() + timeout;

    for _ in 0..=MAX_REDIRECTS {
        let destination = env
            .egress
            .resolve(&url)
            .await
            .map_err(|e| fatal(format!("config.url {e}")))?;
        let pinned = destination
            .pinned()
            .ok_or_else(|| fatal("config.url resolves to no address".to_owned()))?;
        let host = destination.host.clone();
        if !env
            .breakers
            .with(&env.tenant_id, &host, |b| b.try_acquire(Instant::now()))
        {
            return Err((
                format!("{host} failed repeatedly; its circuit is open, so the request was not sent (a probe goes through after {BREAKER_OPEN_FOR:?})"),
                true,
            ));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        // Pin the name exactly as the request carries it (`example.com.` stays with its
        // dot), so the connection can only go to the address that was checked.
        let name = destination.url.host_str().unwrap_or(&host).to_owned();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&name, pinned)
            .timeout(left.max(Duration::from_millis(1)))
            .no_proxy()
            .build()
            .map_err(|e| fatal(format!("the HTTP client did not start: {e}")))?;
        let mut request = client
            .request(method.clone(), destination.url.clone())
            .headers(headers.clone());
        if let Some(bytes) = &body {
            request = request.body(bytes.clone());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                env.breakers
                    .with(&env.tenant_id, &host, |b| b.record_failure(Instant::now()));
                let what = if e.is_timeout() {
                    format!("{host} did not answer within {timeout:?}")
                } else if e.is_connect() {
                    format!("cannot connect to {host}")
                } else {
                    format!("the request to {host} failed")
                };
                return Err((what, true));
            }
        };
        let status = response.status();
        if status.is_server_error() {
            env.breakers
                .with(&env.tenant_id, &host, |b| b.record_failure(Instant::now()));
        } else {
            env.breakers
                .with(&env.tenant_id, &host, |b| b.record_success());
        }
        if status.is_redirection() {
            if let Some(location) = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
            {
                let next = destination
                    .url
                    .join(location)
                    .map_err(|_| fatal(format!("{host} redirected to an invalid URL")))?;
                // Credentials are for the host they were written for: a redirect elsewhere
                // loses them (as browsers and reqwest's own policy do), secrets included.
                let same_origin = next.scheme() == destination.url.scheme()
                    && next.host_str() == destination.url.host_str()
                    && next.port_or_known_default() == destination.url.port_or_known_default();
                if !same_origin {
                    strip_credentials(&mut headers, &env.secrets);
                }
                url = next.to_string();
                if status == reqwest::StatusCode::SEE_OTHER
                    || ((status == reqwest::StatusCode::MOVED_PERMANENTLY
                        || status == reqwest::StatusCode::FOUND)
                        && method == reqwest::Method::POST)
                {
                    method = reqwest::Method::GET;
                    body = None;
                }
                continue;
            }
        }
        let answer = read(response, &host).await?;
        if fail_on_status && status.as_u16() >= 400 {
            let retryable = status.is_server_error() || status.as_u16() == 429;
            // Redacted before it is cut: a cut secret would no longer be recognised.
            let excerpt = answer["body"].as_str().map(|b| {
                let b = shared::pipelines::template::redact(b, &env.secrets);
                format!(": {}", b.chars().take(200).collect::<String>())
            });
            return Err((
                format!("{host} answered {status}{}", excerpt.unwrap_or_default()),
                retryable,
            ));
        }
        return Ok(answer);
    }
    Err(fatal(format!("more than {MAX_REDIRECTS} redirects")))
}

/// Removes the headers that carry credentials: `Authorization`, `Cookie`,
/// `Proxy-Authorization`, and any header whose value holds one of the run's secrets.
fn strip_credentials(
    headers: &mut reqwest::header::HeaderMap,
    secrets: &std::collections::BTreeMap<String, String>,
) {
    use reqwest::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};
    for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
        headers.remove(name);
    }
    let carrying: Vec<reqwest::header::HeaderName> = headers
        .iter()
        .filter(|(_, v)| {
            v.to_str().is_ok_and(|v| {
                secrets
                    .values()
                    .any(|s| !s.is_empty() && v.contains(s.as_str()))
            })
        })
        .map(|(k, _)| k.clone())
        .collect();
    for name in carrying {
        headers.remove(name);
    }
}

/// The response as `{status, headers, body}`: the body as JSON when it is JSON, else as
/// text; refused past [`MAX_OUTPUT_BYTES`].
async fn read(mut response: reqwest::Response, host: &str) -> Result<Value, (String, bool)> {
    let status = response.status().as_u16();
    let headers: serde_json::Map<String, Value> = response
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_owned(),
                Value::String(v.to_str().ok()?.to_owned()),
            ))
        })
        .collect();
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_OUTPUT_BYTES {
                    return Err((
                        format!(
                            "the response from {host} is larger than {} KiB",
                            MAX_OUTPUT_BYTES >> 10
                        ),
                        false,
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(_) => return Err((format!("reading the response from {host} failed"), true)),
        }
    }
    let body = serde_json::from_slice::<Value>(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok(json!({"status": status, "headers": headers, "body": body}))
}
