//! `/w/:slug/workers`: the worker processes of the pools this workspace can use, refreshed
//! every two seconds.

use super::api::list_workers;
use crate::components::{every, DataTable, Listing, PageHead, Precision, Timestamp};
use crate::tenancy::use_slug;
use leptos::prelude::*;
use shared::jobs::WorkerView;
use std::time::Duration;

/// Workers.
#[component]
pub fn WorkersPage() -> impl IntoView {
    let slug = use_slug();
    let tick = RwSignal::new(0u64);
    every(Duration::from_secs(2), move || tick.update(|t| *t += 1));
    let workers = Resource::new(move || (slug(), tick.get()), |(s, _)| list_workers(s));
    view! {
        <PageHead title="Workers">"Processes that run jobs, by pool. A worker that stops announcing itself is shown offline after ten seconds."</PageHead>
        <Listing items=workers empty="No workers"
            hint=|| view! { "Start one with " <code>"switchyard worker --pool default"</code> ", or run the server with embedded workers." }
            let:list>
            <DataTable label="Workers" columns=&["Pool", "Host", "Status", "Running", "Last heartbeat"] testid="workers">
                {list.into_iter().map(|w| view! { <WorkerRow worker=w/> }).collect_view()}
            </DataTable>
        </Listing>
    }
    .into_any()
}

/// One worker process.
#[component]
fn WorkerRow(worker: WorkerView) -> impl IntoView {
    view! {
        <tr>
            <td>{worker.pool.clone()}</td>
            <td>
                {(!worker.host.is_empty()).then(|| view! { {worker.host.clone()} <span class="muted small">" · "</span> })}
                <span class="muted small">{worker.id.clone()}</span>
            </td>
            <td><span class=format!("badge worker-{}", worker.status)>{worker.status.clone()}</span></td>
            <td class="nowrap">{worker.running} " / " {worker.concurrency}</td>
            <td class="muted small"><Timestamp at=worker.last_heartbeat precision=Precision::Second/></td>
        </tr>
    }
    .into_any()
}
