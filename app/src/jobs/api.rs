//! The jobs server functions: submit the test job, list and inspect jobs, cancel and retry
//! them, and the pools and workers behind them.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::server_fns::{console, session};
use leptos::prelude::*;
use shared::ids::JobId;
use shared::jobs::{JobLogEntry, JobSubmitted, JobView, PoolView, WorkerView};

/// Runs the diagnostic job ("Run a test job") and opens it. `lines` and `seconds` arrive
/// as typed, so a bad number is answered with a message naming the field rather than a
/// decoding error.
#[server]
pub async fn run_test_job(
    slug: String,
    lines: String,
    seconds: String,
    fail: Option<String>,
    hang: Option<String>,
) -> Result<JobSubmitted, AppError> {
    let lines = shared::jobs::diagnostic::parse_lines(&lines)
        .map_err(|m| shared::error::ApiError::field("lines", m))?;
    let seconds = shared::jobs::diagnostic::parse_seconds(&seconds)
        .map_err(|m| shared::error::ApiError::field("seconds", m))?;
    let req = shared::jobs::SubmitJobRequest {
        kind: "diagnostic".to_owned(),
        pool: "default".to_owned(),
        payload: serde_json::json!({"lines": lines, "seconds": seconds, "fail": fail.is_some(), "hang": hang.is_some()}),
        max_attempts: None,
    };
    let job = console()?.jobs.submit_job(&session(), &slug, req).await?;
    leptos_axum::redirect(&format!("/w/{slug}/jobs/{}", job.id));
    Ok(job)
}

/// The workspace's jobs.
#[server]
pub async fn list_jobs(
    slug: String,
    status: Option<String>,
    pool: Option<String>,
) -> Result<Vec<JobView>, AppError> {
    Ok(console()?
        .jobs
        .jobs(&session(), &slug, status, pool)
        .await?)
}

/// One job and its log so far.
#[server]
pub async fn get_job(slug: String, id: JobId) -> Result<(JobView, Vec<JobLogEntry>), AppError> {
    let jobs = console()?.jobs;
    let session = session();
    let job = jobs.job(&session, &slug, id).await?;
    let log = jobs.job_logs(&session, &slug, id, 0).await?;
    Ok((job, log.lines))
}

/// Stops a job.
#[server]
pub async fn cancel_job(slug: String, id: JobId) -> Result<JobView, AppError> {
    Ok(console()?.jobs.cancel_job(&session(), &slug, id).await?)
}

/// Runs a job again.
#[server]
pub async fn retry_job(slug: String, id: JobId) -> Result<JobView, AppError> {
    Ok(console()?.jobs.retry_job(&session(), &slug, id).await?)
}

/// The workers the workspace can use.
#[server]
pub async fn list_workers(slug: String) -> Result<Vec<WorkerView>, AppError> {
    Ok(console()?.jobs.workers(&session(), &slug).await?)
}

/// Queue depth and pressure of the pools the workspace can use.
#[server]
pub async fn list_pools(slug: String) -> Result<Vec<PoolView>, AppError> {
    Ok(console()?.jobs.pools(&session(), &slug).await?)
}
