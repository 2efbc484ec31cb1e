//! `/w/:slug/jobs/:id`: one job with its live log; cancel it, or retry it once it ended.

use super::api::{get_job, CancelJob, RetryJob};
use super::live::follow_job;
use crate::components::{form_error, ErrorPanel, FormError, Loading, Precision};
use crate::error::AppError;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use shared::error::ApiError;
use shared::ids::JobId;
use shared::jobs::{JobLogEntry, JobStatus, JobView};

/// A job status as a coloured label.
#[component]
pub fn StatusBadge(
    /// The status shown.
    status: JobStatus,
) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str()) data-testid="job-status">{status.as_str()}</span> }
}

/// The first eight characters of an id: enough to tell jobs apart on a page.
pub(crate) fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

/// One job with its live log.
#[component]
pub fn JobPage() -> impl IntoView {
    let slug = use_slug();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let cancel = ServerAction::<CancelJob>::new();
    let retry = ServerAction::<RetryJob>::new();
    let initial = Resource::new(
        move || (slug(), id(), retry.version().get()),
        |(s, id, _)| async move {
            match id.parse() {
                Ok(id) => get_job(s, id).await,
                Err(_) => Err(AppError::Api(ApiError::not_found("job"))),
            }
        },
    );
    // Filled by the live stream once the browser has it; until then the page shows what the
    // server rendered.
    let live_job = RwSignal::new(None::<JobView>);
    let live_lines = RwSignal::new(None::<Vec<JobLogEntry>>);
    follow_job(
        move || {
            let slug = slug();
            let id = params.read().get("id")?;
            let valid = !slug.is_empty() && id.parse::<JobId>().is_ok();
            valid.then_some((slug, id))
        },
        move || retry.version().get(),
        live_job,
        live_lines,
    );
    view! {
        <Title text="Job"/>
        <FormError message=form_error(cancel.value())/>
        <FormError message=form_error(retry.value())/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok((first, first_lines)) => {
                        let job = Signal::derive(move || live_job.get().unwrap_or_else(|| first.clone()));
                        let lines = Signal::derive(move || live_lines.get().unwrap_or_else(|| first_lines.clone()));
                        view! { <JobDetail job=job lines=lines slug=slug() cancel=cancel retry=retry/> }.into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// The job's state, its Cancel or Retry button, its last error or result, and its log.
#[component]
fn JobDetail(
    job: Signal<JobView>,
    lines: Signal<Vec<JobLogEntry>>,
    slug: String,
    cancel: ServerAction<CancelJob>,
    retry: ServerAction<RetryJob>,
) -> impl IntoView {
    let job_id = job.with_untracked(|j| j.id.to_string());
    let cancel_form = {
        let (slug, id) = (slug.clone(), job_id.clone());
        move || {
            (!job.get().status.is_final()).then(|| {
                let (slug, id) = (slug.clone(), id.clone());
                view! {
                    <ActionForm action=cancel>
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="button danger" disabled=move || job.get().cancel_requested>
                            {move || if job.get().cancel_requested { "Cancelling…" } else { "Cancel job" }}
                        </button>
                    </ActionForm>
                }
            })
        }
    };
    let retry_form = {
        let (slug, id) = (slug, job_id.clone());
        move || {
            matches!(
                job.get().status,
                JobStatus::Dead | JobStatus::Failed | JobStatus::Cancelled
            )
            .then(|| {
                let (slug, id) = (slug.clone(), id.clone());
                view! {
                    <ActionForm action=retry>
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="button">"Retry"</button>
                    </ActionForm>
                }
            })
        }
    };
    view! {
        <div class="page-head job-head">
            <h1>"Job " <code>{short_id(&job_id)}</code></h1>
            {move || view! { <StatusBadge status=job.get().status/> }}
        </div>
        {move || job.get().queue.map(|q| view! { <p class="muted" data-testid="queue-place">"Queued: " {q.describe()}</p> })}
        <dl class="stats">
            <div class="stat"><dt>"Kind"</dt><dd>{move || job.get().kind}</dd></div>
            <div class="stat"><dt>"Attempts"</dt><dd data-testid="job-attempts">{move || job.with(|j| format!("{} / {}", j.attempts, j.max_attempts))}</dd></div>
            <div class="stat"><dt>"Pool"</dt><dd>{move || job.get().pool}</dd></div>
        </dl>
        <div class="button-row">
            {cancel_form}
            {retry_form}
        </div>
        {move || job.get().error.map(|e| view! { <div class="banner error" role="status">"Last error: " {e}</div> })}
        {move || job.get().result.map(|r| view! { <p class="muted small">"Result: " <code>{r.to_string()}</code></p> })}
        <h2>"Log"</h2>
        <pre class="log" data-testid="job-log" aria-live="polite">
            {move || lines.with(|lines| {
                if lines.is_empty() {
                    "No output yet.".to_owned()
                } else {
                    lines.iter().map(|l| format!("{}  {}", Precision::Second.format(&l.at), l.line)).collect::<Vec<_>>().join("\n")
                }
            })}
        </pre>
    }
    .into_any()
}
