//! `/w/:slug/workers`: the worker processes of the pools this workspace can use, refreshed
//! every two seconds.

use crate::api::list_workers;
use crate::forms::ErrorPanel;
use crate::frame::use_slug;
use leptos::prelude::*;
use leptos_meta::Title;

/// Workers.
#[component]
pub fn WorkersPage() -> impl IntoView {
    let slug = use_slug();
    let tick = RwSignal::new(0u64);
    // In the browser only (effects do not run on the server): refresh every two seconds.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_secs(2),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let workers = Resource::new(move || (slug(), tick.get()), |(s, _)| list_workers(s));
    view! {
        <Title text="Workers"/>
        <div class="page-head">
            <h1>"Workers"</h1>
            <p class="muted">"Processes that run jobs, by pool. A worker that stops announcing itself is shown offline after ten seconds."</p>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match workers.await {
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty">
                            <p class="empty-title">"No workers"</p>
                            <p class="muted">"Start one with " <code>"switchyard worker --pool default"</code> ", or run the server with embedded workers."</p>
                        </div>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="workers">
                            <thead><tr><th>"Pool"</th><th>"Host"</th><th>"Status"</th><th>"Running"</th><th>"Last heartbeat"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|w| view! {
                                    <tr>
                                        <td>{w.pool.clone()}</td>
                                        <td>{w.host.clone()} <span class="muted small">" · " {w.id.clone()}</span></td>
                                        <td><span class=format!("badge worker-{}", w.status)>{w.status.clone()}</span></td>
                                        <td>{w.running} " / " {w.concurrency}</td>
                                        <td class="muted small">{w.last_heartbeat.get(..19).unwrap_or_default().replace('T', " ")}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}
