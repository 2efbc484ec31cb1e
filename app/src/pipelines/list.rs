//! `/w/:slug/pipelines`: the workspace's pipelines with their latest run; developers create
//! one (it opens in the editor).

use super::api::{list_pipelines, CreatePipeline};
use crate::components::{
    checks, field_error, form_error, Card, DataTable, Field, Listing, Loaded, PageHead, Precision,
    Timestamp,
};
use crate::tenancy::api::get_workspace;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::pipelines::views::{PipelineSummary, RunStatus};
use shared::roles::Permission;

/// A run status as a coloured label.
#[component]
pub fn RunBadge(
    /// The status shown.
    status: RunStatus,
) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str()) data-testid="run-status">{status.as_str()}</span> }
}

/// The pipelines of the workspace.
#[component]
pub fn PipelinesPage() -> impl IntoView {
    let slug = use_slug();
    let create = ServerAction::<CreatePipeline>::new();
    let workspace = Resource::new(slug, get_workspace);
    let pipelines = Resource::new(slug, list_pipelines);
    view! {
        <PageHead title="Pipelines">"Workflows drawn as graphs: a trigger (by hand, a webhook or a schedule), then scripts, HTTP calls, branches and more. Every save is a version; runs show each node's status live."</PageHead>
        <Loaded resource=workspace let:ws>
            {
                let developer = ws.role.allows(Permission::Develop);
                view! {
                    <Show when=move || developer>
                        <NewPipelineForm create=create/>
                    </Show>
                    <Listing items=pipelines empty="No pipelines yet" hint=|| "A developer creates one with the form above." let:list>
                        <DataTable label="Pipelines" columns=&["Name", "Version", "Nodes", "Last run", "Saved"] testid="pipelines">
                            {list.into_iter().map(|p| view! { <PipelineRow pipeline=p slug=slug()/> }).collect_view()}
                        </DataTable>
                    </Listing>
                }
            }
        </Loaded>
    }
    .into_any()
}

#[component]
fn NewPipelineForm(create: ServerAction<CreatePipeline>) -> impl IntoView {
    let slug = use_slug();
    let value = create.value();
    view! {
        <Card id="new-pipeline" title="New pipeline" about="It starts with a manual trigger and an output; the editor opens." error=form_error(value)>
            <ActionForm action=create>
                <input type="hidden" name="slug" value=slug()/>
                <div class="inline-form">
                    <Field label="Name" name="name" placeholder="Nightly report" class="wide"
                        check=checks::required server_error=field_error(value, "name")/>
                    <button type="submit" class="button primary">"Create pipeline"</button>
                </div>
            </ActionForm>
        </Card>
    }
    .into_any()
}

#[component]
fn PipelineRow(pipeline: PipelineSummary, slug: String) -> impl IntoView {
    let href = format!("/w/{slug}/pipelines/{}", pipeline.id);
    let live = if pipeline.live_version == pipeline.version {
        format!("v{}", pipeline.version)
    } else {
        format!("v{} (live: v{})", pipeline.version, pipeline.live_version)
    };
    let last = pipeline.last_run.clone();
    view! {
        <tr>
            <td><A href=href>{pipeline.name.clone()}</A></td>
            <td>{live}</td>
            <td>{pipeline.nodes}</td>
            <td>{match last {
                Some(run) => view! {
                    <A href=format!("/w/{slug}/pipelines/{}/runs/{}", pipeline.id, run.id)><RunBadge status=run.status/></A>
                    " " <span class="muted small"><Timestamp at=run.created_at precision=Precision::Minute/></span>
                }.into_any(),
                None => view! { <span class="muted">"never run"</span> }.into_any(),
            }}</td>
            <td class="muted small"><Timestamp at=pipeline.updated_at precision=Precision::Minute/></td>
        </tr>
    }
    .into_any()
}
