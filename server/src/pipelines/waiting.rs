//! Runs a caller waits for: a webhook that answers with its run's output, a route answered
//! by a pipeline. The wait follows the run's job events on the bus and reads the run's job
//! at each change of status (and every second, in case an event was lost), so the answer
//! comes as soon as the run ends; a run that outlives the wait goes on.

use super::ops::PipelineOps;
use super::Cause;
use futures::StreamExt;
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::ids::{JobId, TenantId};
use shared::jobs::JobStatus;
use std::time::Duration;
use tokio::time::Instant;

/// How a waited-for run stands when the wait ends.
#[derive(Debug)]
pub enum RunEnd {
    /// It succeeded: its output node's result (null without one).
    Finished(serde_json::Value),
    /// It failed, was cancelled or is dead: why.
    Failed(String),
    /// It is still running (the wait is over; the run goes on).
    Running,
}

impl PipelineOps {
    /// Starts a run of `tenant`'s pipeline `pipeline` (its live version) with `input`, for a
    /// route or a topic; 404 for a pipeline the workspace does not have.
    pub async fn start_for(
        &self,
        tenant: TenantId,
        pipeline: &str,
        input: serde_json::Value,
        cause: Cause,
    ) -> ApiResult<JobId> {
        if input.to_string().len() > super::MAX_INPUT_BYTES {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "a run's input is at most {} KiB as JSON",
                    super::MAX_INPUT_BYTES >> 10
                ),
            ));
        }
        let id = pipeline
            .parse()
            .map_err(|_| ApiError::not_found("pipeline"))?;
        let record = self
            .store()
            .pipeline(tenant, id)
            .await?
            .ok_or_else(|| ApiError::not_found("pipeline"))?;
        self.start_triggered(tenant, &record, input, cause).await
    }

    /// Waits up to `wait` for the run `run` to end.
    pub async fn wait_for_run(
        &self,
        tenant: TenantId,
        run: JobId,
        wait: Duration,
    ) -> ApiResult<RunEnd> {
        let subject = workers::subjects::events(&tenant.to_string(), &run.to_string());
        // Subscribed before the first read: an end between the two is seen by the read.
        let mut events = match self.jobs().bus().subscribe(&subject).await {
            Ok(events) => Some(events),
            Err(e) => {
                tracing::warn!(%run, error = %e, "following a run's events failed; reading its job instead");
                None
            }
        };
        let until = Instant::now() + wait;
        loop {
            if let Some(end) = self.run_end(tenant, run).await? {
                return Ok(end);
            }
            let now = Instant::now();
            if now >= until {
                return Ok(RunEnd::Running);
            }
            let nap = (until - now).min(Duration::from_secs(1));
            match events.as_mut() {
                Some(stream) => {
                    // Only a change of status can end the run; step events are skipped.
                    let status_changed = async {
                        while let Some(message) = stream.next().await {
                            if is_status_event(&message.payload) {
                                return true;
                            }
                        }
                        false
                    };
                    match tokio::time::timeout(nap, status_changed).await {
                        Ok(true) | Err(_) => {}
                        Ok(false) => events = None,
                    }
                }
                None => tokio::time::sleep(nap.min(Duration::from_millis(100))).await,
            }
        }
    }

    /// How the run stands, when it has ended.
    async fn run_end(&self, tenant: TenantId, run: JobId) -> ApiResult<Option<RunEnd>> {
        let Some(job) = self.store().job(tenant, run).await? else {
            return Ok(Some(RunEnd::Failed("the run was deleted".into())));
        };
        Ok(match job.status {
            JobStatus::Succeeded => Some(RunEnd::Finished(
                job.result
                    .as_deref()
                    .and_then(|r| serde_json::from_str(r).ok())
                    .unwrap_or(serde_json::Value::Null),
            )),
            JobStatus::Failed | JobStatus::Dead | JobStatus::Cancelled => Some(RunEnd::Failed(
                job.error.unwrap_or_else(|| job.status.to_string()),
            )),
            JobStatus::Queued | JobStatus::Running => None,
        })
    }
}

fn is_status_event(payload: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| {
            v.get("type")
                .and_then(|t| t.as_str())
                .map(|t| t == "status")
        })
        .unwrap_or(false)
}
