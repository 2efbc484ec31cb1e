//! `/w/:slug/jobs`: the queues, "Run a test job", and the job list, which refreshes itself
//! while any listed job is still queued or running.

use super::api::{list_jobs, list_pools};
use super::job::{short_id, StatusBadge};
use super::test_job::TestJobForm;
use crate::components::{every, DataTable, Listing, PageHead, Precision, Timestamp};
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::jobs::{JobStatus, JobView, PoolView};
use std::time::Duration;

/// How often the list is refreshed while a job in it is open.
const REFRESH: Duration = Duration::from_secs(2);

/// The job list.
#[component]
pub fn JobsPage() -> impl IntoView {
    let slug = use_slug();
    let query = use_query_map();
    let status = move || query.read().get("status").filter(|s| !s.is_empty());
    let pool = move || query.read().get("pool").filter(|s| !s.is_empty());
    let tick = RwSignal::new(0u64);
    let jobs = Resource::new(
        move || (slug(), status(), pool(), tick.get()),
        |(s, status, pool, _)| list_jobs(s, status, pool),
    );
    let pools = Resource::new(move || (slug(), tick.get()), |(s, _)| list_pools(s));
    // Jobs change state on the workers; a finished list needs no more refreshing.
    every(REFRESH, move || {
        let open = jobs.with_untracked(
            |answer| matches!(answer, Some(Ok(list)) if list.iter().any(|j| !j.status.is_final())),
        );
        if open {
            tick.update(|t| *t += 1);
        }
    });
    view! {
        <PageHead title="Jobs">"Work that runs on the worker pools: queued, leased to a worker, retried with backoff, and kept in the dead-letter list when its attempts run out."</PageHead>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                pools.await.ok().map(|list| view! { <QueueStats pools=list/> })
            })}
        </Transition>
        <TestJobForm/>
        <JobFilters status=status().unwrap_or_default() pool=pool().unwrap_or_default()/>
        <Listing items=jobs empty="No jobs" hint=|| "Run a test job above to see the data plane at work." let:list>
            <DataTable label="Jobs" columns=&["Job", "Kind", "Pool", "Status", "Attempts", "Created"] testid="jobs">
                {list.into_iter().map(|j| view! { <JobRow job=j slug=slug()/> }).collect_view()}
            </DataTable>
        </Listing>
    }
    .into_any()
}

/// Depth and pressure of each queue the workspace can use.
#[component]
fn QueueStats(pools: Vec<PoolView>) -> impl IntoView {
    view! {
        <dl class="stats" data-testid="queues">
            {pools.into_iter().map(|p| view! {
                <div class="stat">
                    <dt>"Queue " <code>{p.pool.clone()}</code></dt>
                    <dd>
                        {p.queued} " queued · " {p.running} " running "
                        <span class=format!("badge pressure-{}", p.pressure.as_str())>{p.pressure.as_str()}</span>
                    </dd>
                </div>
            }).collect_view()}
        </dl>
    }
    .into_any()
}

/// Filters by status and pool (a plain GET form: the filters live in the URL).
#[component]
fn JobFilters(status: String, pool: String) -> impl IntoView {
    view! {
        <form method="get" class="filters" aria-label="Filter jobs">
            <label for="filter-status">"Status"</label>
            <select id="filter-status" name="status">
                <option value="" selected=status.is_empty()>"All"</option>
                {JobStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=status == s.as_str()>{s.as_str()}</option> }).collect_view()}
            </select>
            <label for="filter-pool">"Pool"</label>
            <input id="filter-pool" name="pool" type="text" placeholder="any" value=pool/>
            <button type="submit" class="button small">"Filter"</button>
        </form>
    }
    .into_any()
}

/// One job in the list, linking to its page.
#[component]
fn JobRow(job: JobView, slug: String) -> impl IntoView {
    let id = job.id.to_string();
    view! {
        <tr>
            <td><A href=format!("/w/{slug}/jobs/{id}")><code>{short_id(&id)}</code></A></td>
            <td>{job.kind.clone()}</td>
            <td>{job.pool.clone()}</td>
            <td><StatusBadge status=job.status/></td>
            <td class="nowrap">{job.attempts} " / " {job.max_attempts}</td>
            <td class="muted small"><Timestamp at=job.created_at precision=Precision::Second/></td>
        </tr>
    }
    .into_any()
}
