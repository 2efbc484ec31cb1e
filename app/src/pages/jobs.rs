//! `/w/:slug/jobs` (the job list and "Run a test job") and `/w/:slug/jobs/:id` (a job with
//! its live log).

use crate::api::{get_job, list_jobs, list_pools, CancelJob, RetryJob, RunTestJob};
use crate::forms::{form_error, ErrorPanel, FormError};
use crate::frame::use_slug;
use crate::live::follow_job;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use shared::jobs::{JobLogEntry, JobStatus, JobView};

/// A job status as a coloured label.
#[component]
pub fn StatusBadge(status: JobStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str()) data-testid="job-status">{status.as_str()}</span> }
}

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

fn when(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or_default().replace('T', " ")
}

/// The job list.
#[component]
pub fn JobsPage() -> impl IntoView {
    let slug = use_slug();
    let query = use_query_map();
    let status = move || query.read().get("status").filter(|s| !s.is_empty());
    let pool = move || query.read().get("pool").filter(|s| !s.is_empty());
    let run = ServerAction::<RunTestJob>::new();
    let jobs = Resource::new(
        {
            let slug = slug.clone();
            move || (slug(), status(), pool())
        },
        |(s, status, pool)| list_jobs(s, status, pool),
    );
    let pools = Resource::new(
        {
            let slug = slug.clone();
            move || (slug(), run.version().get())
        },
        |(s, _)| list_pools(s),
    );
    let form_slug = slug();
    let selected = status().unwrap_or_default();
    let selected_pool = pool().unwrap_or_default();
    view! {
        <Title text="Jobs"/>
        <div class="page-head">
            <h1>"Jobs"</h1>
            <p class="muted">"Work that runs on the worker pools: queued, leased to a worker, retried with backoff, and kept in the dead-letter list when its attempts run out."</p>
        </div>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                pools.await.ok().map(|list| view! {
                    <dl class="stats" data-testid="queues">
                        {list.into_iter().map(|p| view! {
                            <div class="stat">
                                <dt>"Queue " <code>{p.pool.clone()}</code></dt>
                                <dd>
                                    {p.queued} " queued · " {p.running} " running "
                                    <span class=format!("badge pressure-{}", p.pressure.as_str())>{p.pressure.as_str()}</span>
                                </dd>
                            </div>
                        }).collect_view()}
                    </dl>
                })
            })}
        </Suspense>
        <section class="card" aria-labelledby="test-job">
            <h2 id="test-job">"Run a test job"</h2>
            <p class="muted small">"The diagnostic job writes log lines over a few seconds on the default pool; it can be told to fail (it is retried, then dead-lettered) or to hang until cancelled."</p>
            <FormError message=form_error(run.value())/>
            <ActionForm action=run>
                <input type="hidden" name="slug" value=form_slug/>
                <div class="inline-form">
                    <div class="field narrow">
                        <label for="job-lines">"Lines"</label>
                        <input id="job-lines" name="lines" type="number" min="0" max="10000" value="10"/>
                    </div>
                    <div class="field narrow">
                        <label for="job-seconds">"Seconds"</label>
                        <input id="job-seconds" name="seconds" type="number" min="0" max="3600" step="0.1" value="3"/>
                    </div>
                    <label class="check"><input type="checkbox" name="fail"/>" Fail"</label>
                    <label class="check"><input type="checkbox" name="hang"/>" Hang until cancelled"</label>
                    <button type="submit" class="button primary">"Run test job"</button>
                </div>
            </ActionForm>
        </section>
        <form method="get" class="filters" aria-label="Filter jobs">
            <label for="filter-status">"Status"</label>
            <select id="filter-status" name="status">
                <option value="" selected=selected.is_empty()>"All"</option>
                {JobStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=selected == s.as_str()>{s.as_str()}</option> }).collect_view()}
            </select>
            <label for="filter-pool">"Pool"</label>
            <input id="filter-pool" name="pool" type="text" placeholder="any" value=selected_pool/>
            <button type="submit" class="button small">"Filter"</button>
        </form>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let slug = slug();
                Suspend::new(async move {
                    match jobs.await {
                        Ok(list) if list.is_empty() => view! {
                            <div class="empty">
                                <p class="empty-title">"No jobs"</p>
                                <p class="muted">"Run a test job above to see the data plane at work."</p>
                            </div>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table" data-testid="jobs">
                                <thead><tr><th>"Job"</th><th>"Kind"</th><th>"Pool"</th><th>"Status"</th><th>"Attempts"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|j| {
                                        let id = j.id.to_string();
                                        view! {
                                            <tr>
                                                <td><A href=format!("/w/{slug}/jobs/{id}")><code>{short(&id)}</code></A></td>
                                                <td>{j.kind.clone()}</td>
                                                <td>{j.pool.clone()}</td>
                                                <td><StatusBadge status=j.status/></td>
                                                <td>{j.attempts} " / " {j.max_attempts}</td>
                                                <td class="muted small">{when(&j.created_at)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
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
        {
            let slug = slug.clone();
            move || (slug(), id(), retry.version().get())
        },
        |(s, id, _)| async move {
            match id.parse() {
                Ok(id) => get_job(s, id).await,
                Err(_) => Err(crate::error::AppError::Api(
                    shared::error::ApiError::not_found("job"),
                )),
            }
        },
    );
    // Filled by the live stream once the browser has it; until then the page shows what the
    // server rendered.
    let live_job = RwSignal::new(None::<JobView>);
    let live_lines = RwSignal::new(None::<Vec<JobLogEntry>>);
    follow_job(slug.clone(), id, retry.version(), live_job, live_lines);
    let form_slug = slug();
    view! {
        <Title text="Job"/>
        <FormError message=form_error(cancel.value())/>
        <FormError message=form_error(retry.value())/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let form_slug = form_slug.clone();
                Suspend::new(async move {
                    match initial.await {
                        Ok((first, first_lines)) => {
                            let job = Signal::derive(move || live_job.get().unwrap_or_else(|| first.clone()));
                            let lines = Signal::derive(move || live_lines.get().unwrap_or_else(|| first_lines.clone()));
                            let job_id = job.with_untracked(|j| j.id.to_string());
                            let cancel_form = {
                                let (slug, id) = (form_slug.clone(), job_id.clone());
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
                                let (slug, id) = (form_slug.clone(), job_id.clone());
                                move || {
                                    matches!(job.get().status, JobStatus::Dead | JobStatus::Failed | JobStatus::Cancelled).then(|| {
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
                                    <h1>"Job " <code>{short(&job_id)}</code></h1>
                                    {move || view! { <StatusBadge status=job.get().status/> }}
                                </div>
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
                                            lines.iter().map(|l| format!("{}  {}", when(&l.at), l.line)).collect::<Vec<_>>().join("\n")
                                        }
                                    })}
                                </pre>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
