//! `/w/:slug/routes`: the workspace's draft routes, whether each is live as it is, how many
//! changes wait for a deploy; developers add routes and send requests to the live deploy.

use super::api::{get_plan, list_routes, DeleteRoute, SaveRoute};
use super::fields::RouteFields;
use super::send::SendRequest;
use crate::components::{
    form_error, Card, ClearOnSuccess, ConfirmButton, DataTable, FormError, Listing, Loaded,
    PageHead, Precision, Timestamp,
};
use crate::pipelines::api::list_pipelines;
use crate::tenancy::api::get_workspace;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::roles::Permission;
use shared::routes::form::RouteForm;
use shared::routes::views::{PlanView, RouteView};

/// The routes of the workspace.
#[component]
pub fn RoutesPage() -> impl IntoView {
    let slug = use_slug();
    let save = ServerAction::<SaveRoute>::new();
    let delete = ServerAction::<DeleteRoute>::new();
    let workspace = Resource::new(slug, get_workspace);
    let changed = move || (slug(), save.version().get(), delete.version().get());
    let routes = Resource::new(changed, |(s, _, _)| list_routes(s));
    let plan = Resource::new(changed, |(s, _, _)| get_plan(s));
    let pipelines = Resource::new(slug, list_pipelines);
    view! {
        <PageHead title="Routes">"HTTP endpoints served by the workspace's gateway at " <code>"/t/{workspace}/…"</code> ": a static answer, a script, or a publish to a topic. Edits are drafts until they are deployed."</PageHead>
        <Loaded resource=plan let:plan>
            <PendingBanner plan=plan slug=slug()/>
        </Loaded>
        <Loaded resource=workspace let:ws>
            {
                let developer = ws.role.allows(Permission::Develop);
                let admin = ws.role.allows(Permission::ManageRouteAuth);
                view! {
                    <Show when=move || developer>
                        <Loaded resource=pipelines let:ps>
                            <NewRouteForm save=save admin=admin pipelines=ps.into_iter().map(|p| (p.id, p.name)).collect()/>
                        </Loaded>
                    </Show>
                    <FormError message=form_error(delete.value())/>
                    <Listing items=routes empty="No routes yet" hint=|| "A developer adds one with the form above; it is served once deployed." let:list>
                        <DataTable label="Routes" columns=&["Method", "Path", "Handler", "State", "Updated"] actions=developer testid="routes">
                            {list.into_iter().map(|r| view! { <RouteRow route=r slug=slug() developer=developer delete=delete/> }).collect_view()}
                        </DataTable>
                    </Listing>
                    <Show when=move || developer>
                        <SendRequest method="GET".to_owned() path="/".to_owned()/>
                    </Show>
                }
            }
        </Loaded>
    }
    .into_any()
}

/// "n undeployed changes" with a link to the plan, or what is live.
#[component]
pub fn PendingBanner(plan: PlanView, slug: String) -> impl IntoView {
    let n = plan.changes.len();
    let problems = plan.problems.len();
    let href = format!("/w/{slug}/deploys");
    if n == 0 {
        let text = match plan.live_version {
            Some(v) => format!("Everything is deployed: version {v} is live."),
            None => "Nothing is deployed yet.".to_owned(),
        };
        return view! { <p class="banner info" data-testid="pending">{text}</p> }.into_any();
    }
    let changes = if n == 1 {
        "1 undeployed change".to_owned()
    } else {
        format!("{n} undeployed changes")
    };
    view! {
        <p class="banner warning" data-testid="pending">
            <strong>{changes}</strong>
            {(problems > 0).then(|| format!(" ({problems} problem{} to fix first)", if problems == 1 { "" } else { "s" }))}
            " · " <A href=href>"Review the plan and deploy"</A>
        </p>
    }
    .into_any()
}

#[component]
fn NewRouteForm(
    save: ServerAction<SaveRoute>,
    admin: bool,
    pipelines: Vec<(String, String)>,
) -> impl IntoView {
    let slug = use_slug();
    let value = save.value();
    view! {
        <Card id="new-route" title="Add a route" about="Saved as a draft; the plan shows it until it is deployed." error=form_error(value)>
            <ClearOnSuccess value=value>
                <ActionForm action=save>
                    <input type="hidden" name="slug" value=slug()/>
                    <RouteFields initial=RouteForm::default() value=Signal::derive(move || value.get()) admin=admin pipelines=pipelines/>
                    <button type="submit" class="button primary">"Add route"</button>
                </ActionForm>
            </ClearOnSuccess>
        </Card>
    }
    .into_any()
}

#[component]
fn RouteRow(
    route: RouteView,
    slug: String,
    developer: bool,
    delete: ServerAction<DeleteRoute>,
) -> impl IntoView {
    let href = format!("/w/{slug}/routes/{}", route.id);
    let state = if route.deployed {
        view! { <span class="badge status-succeeded">"live"</span> }.into_any()
    } else {
        view! { <span class="badge status-queued">"draft"</span> }.into_any()
    };
    view! {
        <tr>
            <td><code>{route.method.as_str()}</code></td>
            <td><A href=href><code>{route.path.clone()}</code></A></td>
            <td>{route.handler.kind()}</td>
            <td>{state}</td>
            <td class="muted small"><Timestamp at=route.updated_at.clone() precision=Precision::Minute/></td>
            {developer.then(|| view! {
                <td class="actions">
                    <ActionForm action=delete>
                        <input type="hidden" name="slug" value=slug.clone()/>
                        <input type="hidden" name="id" value=route.id.clone()/>
                        <div class="row-actions">
                            <ConfirmButton label="Delete" question="Delete this draft route?"/>
                        </div>
                    </ActionForm>
                </td>
            })}
        </tr>
    }
    .into_any()
}
