//! `/w/:slug/pipelines/:id/runs/:run`: a run on its graph. Each node is painted with its
//! status and duration as the run goes (the run's WebSocket); click a node to see its
//! input, output, logs and error. Cancel a running run; re-run a finished one from a node.

use super::api::{get_run, CancelRun, Rerun};
use super::canvas::{status_name, GraphCanvas};
use super::list::RunBadge;
use super::model::Model;
use crate::components::{form_error, ErrorPanel, FormError, Loading, Precision, Timestamp};
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::pipelines::views::{NodeRunStatus, NodeRunView, RunView};
use std::collections::HashMap;

/// The run page.
#[component]
pub fn RunPage() -> impl IntoView {
    let slug = use_slug();
    let params = use_params_map();
    let run_id = move || params.read().get("run").unwrap_or_default();
    let initial = Resource::new(move || (slug(), run_id()), |(s, r)| get_run(s, r));
    view! {
        <Title text="Run"/>
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match initial.await {
                    Ok(run) => view! { <RunDetail first=run slug=slug()/> }.into_any(),
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn RunDetail(first: RunView, slug: String) -> impl IntoView {
    let model = Model::new(&first.graph);
    let run = RwSignal::new(first.clone());
    // Nodes the stream said started before the run's next state arrived.
    let started = RwSignal::new(Vec::<String>::new());
    super::live::follow_run(slug.clone(), first.id.clone(), run, started);
    let nodes = Signal::derive(move || {
        let mut by_id: HashMap<String, NodeRunView> = run.with(|r| {
            r.nodes
                .iter()
                .map(|n| (n.node.clone(), n.clone()))
                .collect()
        });
        for id in started.get() {
            if let Some(n) = by_id.get_mut(&id) {
                if n.status == NodeRunStatus::Queued {
                    n.status = NodeRunStatus::Running;
                }
            }
        }
        by_id
    });
    let picked = RwSignal::new(None::<String>);
    let cancel = ServerAction::<CancelRun>::new();
    let rerun = ServerAction::<Rerun>::new();
    let editor = format!("/w/{slug}/pipelines/{}", first.pipeline_id);
    let (slug2, run_id) = (slug.clone(), first.id.clone());
    view! {
        <div class="page-head job-head">
            <h1>"Run of " <A href=editor>{first.pipeline_name.clone()}</A></h1>
            {move || view! { <RunBadge status=run.get().status/> }}
        </div>
        <FormError message=form_error(cancel.value())/>
        <FormError message=form_error(rerun.value())/>
        <dl class="stats">
            <div class="stat"><dt>"Version"</dt><dd>{format!("v{}", first.version)}</dd></div>
            <div class="stat"><dt>"Trigger"</dt><dd>{first.trigger.clone()}</dd></div>
            <div class="stat"><dt>"Started"</dt><dd><Timestamp at=first.created_at.clone() precision=Precision::Second/></dd></div>
            <div class="stat"><dt>"Duration"</dt><dd data-testid="run-duration">{move || run.with(|r| match (r.started_at, r.finished_at) {
                (Some(s), Some(f)) => format!("{} ms", f - s),
                _ => "—".to_owned(),
            })}</dd></div>
        </dl>
        <div class="button-row">
            {move || (!run.get().status.is_final()).then(|| {
                let (slug, id) = (slug2.clone(), run_id.clone());
                view! {
                    <ActionForm action=cancel>
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="run" value=id/>
                        <button type="submit" class="button danger" data-testid="cancel-run">"Cancel run"</button>
                    </ActionForm>
                }
            })}
        </div>
        {move || run.get().error.map(|e| view! { <div class="banner error" role="status" data-testid="run-error">{e}</div> })}
        {move || run.get().output.map(|o| view! {
            <p class="muted small">"Output: " <code data-testid="run-output">{o.to_string()}</code></p>
        })}
        <div class="run-body">
            <GraphCanvas model=model editable=false problems=Signal::derive(Vec::new) runs=nodes
                pick=Callback::new(move |id: String| picked.set(Some(id)))/>
            <aside class="editor-side" data-testid="node-detail">
                {move || match picked.get().and_then(|id| nodes.with(|n| n.get(&id).cloned())) {
                    None => view! { <p class="muted small">"Click a node to see its input, output and logs."</p> }.into_any(),
                    Some(node) => {
                        let finished = run.with(|r| r.status.is_final());
                        let (slug, id) = (slug.clone(), first.id.clone());
                        view! { <NodeDetail node=node finished=finished slug=slug run=id rerun=rerun/> }.into_any()
                    }
                }}
            </aside>
        </div>
    }
    .into_any()
}

#[component]
fn NodeDetail(
    node: NodeRunView,
    finished: bool,
    slug: String,
    run: String,
    rerun: ServerAction<Rerun>,
) -> impl IntoView {
    let pretty = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
    };
    let (input, output) = (pretty(&node.input), pretty(&node.output));
    let node_id = node.node.clone();
    view! {
        <h2 class="side-title"><code>{node.node.clone()}</code> " " <span class="muted small">{node.kind.clone()}</span></h2>
        <p><span class=format!("badge status-{}", status_name(node.status))>{status_name(node.status)}</span>
            " " <span class="muted small">{format!("{} attempt(s)", node.attempts)} {node.choice.clone().map(|c| format!(" · took {c}"))}</span></p>
        {node.error.clone().map(|e| view! { <div class="banner error">{e}</div> })}
        {input.map(|t| view! { <h3 class="side-title">"Input"</h3><pre class="log">{t}</pre> })}
        {output.map(|t| view! { <h3 class="side-title">"Output"</h3><pre class="log" data-testid="node-output">{t}</pre> })}
        {(!node.logs.is_empty()).then(|| view! { <h3 class="side-title">"Logs"</h3><pre class="log" data-testid="node-logs">{node.logs.join("\n")}</pre> })}
        {finished.then(|| view! {
            <ActionForm action=rerun>
                <input type="hidden" name="slug" value=slug/>
                <input type="hidden" name="run" value=run/>
                <input type="hidden" name="node" value=node_id/>
                <button type="submit" class="button">"Re-run from this node"</button>
            </ActionForm>
        })}
    }
}
