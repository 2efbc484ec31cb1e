//! Routes answered by a pipeline: the request (`{method, path, params, query, headers,
//! body}`) is the input of a run of the pipeline's live version, and the caller gets the
//! run's output once it ends — 504 when it outlives the route's timeout (the run goes on;
//! its id is in the answer), 500 with the request id when it fails (the error goes to the
//! log, not to the caller). An output shaped like a script's answer (`{status, headers?,
//! body?}`) is answered as one; any other output is a 200 with it as JSON.

use super::gateway::{error, respond};
use crate::pipelines::{Cause, PipelineOps, RunEnd};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use shared::error::ErrorCode;
use shared::ids::TenantId;
use std::collections::BTreeMap;
use std::time::Duration;
use workers::routes::HandlerRequest;

/// One request to a pipeline route.
pub(super) struct RunCall<'a> {
    pub pipelines: &'a PipelineOps,
    pub tenant: TenantId,
    pub route: &'a str,
    pub request_id: &'a str,
    pub timeout: Duration,
}

impl RunCall<'_> {
    /// Runs `pipeline` with `request` and answers with how the run ended.
    pub(super) async fn answer(&self, pipeline: &str, request: HandlerRequest) -> Response {
        let input = match serde_json::to_value(&request) {
            Ok(input) => input,
            Err(_) => return self.internal(),
        };
        let run = match self
            .pipelines
            .start_for(self.tenant, pipeline, input, Cause::Route)
            .await
        {
            Ok(run) => run,
            Err(e) => {
                tracing::warn!(target: "switchyard::gateway", workspace = %self.tenant, route = %self.route,
                    request_id = %self.request_id, error = %e, "the route's pipeline did not start");
                // Too large is the caller's; anything else (the pipeline was deleted) is
                // the route's.
                let (status, code) = match e.code {
                    ErrorCode::PayloadTooLarge => {
                        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
                    }
                    _ => (StatusCode::INTERNAL_SERVER_ERROR, "handler_failed"),
                };
                return error(
                    status,
                    code,
                    format!("the route's pipeline did not start: {}", e.message),
                    self.request_id,
                );
            }
        };
        match self
            .pipelines
            .wait_for_run(self.tenant, run, self.timeout)
            .await
        {
            Ok(RunEnd::Finished(output)) => answer_of(&output),
            Ok(RunEnd::Failed(why)) => {
                tracing::warn!(target: "switchyard::gateway", workspace = %self.tenant, route = %self.route,
                    request_id = %self.request_id, run = %run, error = %why, "handler failed");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "handler_failed",
                    format!("the route's pipeline run {run} failed; its log has the details"),
                    self.request_id,
                )
            }
            Ok(RunEnd::Running) => error(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!(
                    "the pipeline run {run} did not end within {} ms; it goes on",
                    self.timeout.as_millis()
                ),
                self.request_id,
            ),
            Err(e) => {
                tracing::error!(target: "switchyard::gateway", run = %run, error = %e, "waiting for a route's run failed");
                self.internal()
            }
        }
    }

    fn internal(&self) -> Response {
        error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
            self.request_id,
        )
    }
}

/// A run's output as the caller's answer.
fn answer_of(output: &Value) -> Response {
    if let Some((status, headers, body)) = response_shape(output) {
        return respond(status, &headers, &body);
    }
    respond(200, &BTreeMap::new(), output)
}

/// `{status, headers?, body?}` with a status of 100-599 and string headers, and nothing
/// else: the output says how to answer.
fn response_shape(output: &Value) -> Option<(u16, BTreeMap<String, String>, Value)> {
    let object = output.as_object()?;
    if object
        .keys()
        .any(|k| !matches!(k.as_str(), "status" | "headers" | "body"))
    {
        return None;
    }
    let status = u16::try_from(object.get("status")?.as_u64()?).ok()?;
    if !(100..=599).contains(&status) {
        return None;
    }
    let headers = match object.get("headers") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect::<Option<BTreeMap<_, _>>>()?,
        Some(_) => return None,
    };
    let body = object.get("body").cloned().unwrap_or(Value::Null);
    Some((status, headers, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_output_shaped_like_an_answer_sets_the_status() {
        assert_eq!(
            response_shape(&json!({"status": 201, "headers": {"x-a": "1"}, "body": {"id": 3}})),
            Some((
                201,
                BTreeMap::from([("x-a".to_owned(), "1".to_owned())]),
                json!({"id": 3})
            ))
        );
        assert_eq!(
            response_shape(&json!({"status": 404})),
            Some((404, BTreeMap::new(), Value::Null))
        );
        for plain in [
            json!({"status": "ok"}),
            json!({"status": 200, "total": 3}),
            json!({"status": 700}),
            json!({"status": 200, "headers": {"x": 1}}),
            json!([1, 2]),
            json!(null),
        ] {
            assert_eq!(response_shape(&plain), None, "{plain}");
        }
    }
}
