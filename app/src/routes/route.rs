//! `/w/:slug/routes/:id`: one draft route — edit it (a developer), send a request to what
//! is live at its path, and see its last hour (requests, latency, log lines).

use super::activity::Activity;
use super::api::{get_route, SaveRoute};
use super::fields::RouteFields;
use super::send::SendRequest;
use crate::components::{form_error, Card, Loaded, PageHead};
use crate::pipelines::api::list_pipelines;
use crate::tenancy::api::get_workspace;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::roles::Permission;
use shared::routes::form::RouteForm;
use shared::routes::Method;

/// One route.
#[component]
pub fn RoutePage() -> impl IntoView {
    let slug = use_slug();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let save = ServerAction::<SaveRoute>::new();
    let workspace = Resource::new(slug, get_workspace);
    let pipelines = Resource::new(slug, list_pipelines);
    let route = Resource::new(
        move || (slug(), id(), save.version().get()),
        |(s, i, _)| get_route(s, i),
    );
    view! {
        <PageHead title="Route"/>
        <p><A href=move || format!("/w/{}/routes", slug())>"← All routes"</A></p>
        <Loaded resource=workspace let:ws>
            {
                let developer = ws.role.allows(Permission::Develop);
                let admin = ws.role.allows(Permission::ManageRouteAuth);
                view! {
                    <Loaded resource=route let:route>
                        {
                            let form = RouteForm::of(&route);
                            let value = save.value();
                            let state = if route.deployed { "Live as shown." } else { "Draft: differs from the live deploy (or is not deployed)." };
                            let method = match route.method { Method::Any => "GET".to_owned(), m => m.as_str().to_owned() };
                            view! {
                                <h2 class="job-head"><code>{format!("{} {}", route.method, route.path)}</code></h2>
                                <p class="muted small" data-testid="route-state">{state}</p>
                                <Activity route=format!("{} {}", route.method, route.path)/>
                                <Show when=move || developer>
                                    {
                                        let (id, form, method, path) = (route.id.clone(), form.clone(), method.clone(), route.path.clone());
                                        view! {
                                            <Card id="edit-route" title="Edit" about="Saving changes the draft; deploy to serve it." error=form_error(value)>
                                                <ActionForm action=save>
                                                    <input type="hidden" name="slug" value=slug()/>
                                                    <input type="hidden" name="id" value=id/>
                                                    <Loaded resource=pipelines let:ps>
                                                        <RouteFields initial=form.clone() value=Signal::derive(move || value.get()) admin=admin pipelines=ps.into_iter().map(|p| (p.id, p.name)).collect()/>
                                                    </Loaded>
                                                    <button type="submit" class="button primary">"Save draft"</button>
                                                </ActionForm>
                                                {move || value.get().and_then(Result::ok).map(|_| view! {
                                                    <p class="banner success" role="status">"Saved. " <A href=format!("/w/{}/deploys", slug())>"Deploy it"</A> " to serve it."</p>
                                                })}
                                            </Card>
                                            <SendRequest method=method path=path/>
                                        }
                                    }
                                </Show>
                            }
                        }
                    </Loaded>
                }
            }
        </Loaded>
    }
    .into_any()
}
