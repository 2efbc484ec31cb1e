//! `/workspaces`: the caller's workspaces and the form to create one.

use crate::api::{current_user, CreateWorkspace};
use crate::forms::{checks, field_error, form_error, ErrorPanel, Field, FormError};
use crate::frame::{AppFrame, RoleBadge};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// The workspace list.
#[component]
pub fn WorkspacesPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    let create = ServerAction::<CreateWorkspace>::new();
    let value = create.value();
    view! {
        <Title text="Workspaces"/>
        <AppFrame>
            <div class="page-head">
                <h1>"Workspaces"</h1>
                <p class="muted">"Each workspace has its own members, API keys and everything you build in it."</p>
            </div>
            <div class="two-columns">
                <section aria-labelledby="your-workspaces">
                    <h2 id="your-workspaces">"Your workspaces"</h2>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match me.await {
                                Ok(me) if me.workspaces.is_empty() => view! {
                                    <div class="empty">
                                        <p class="empty-title">"No workspaces yet"</p>
                                        <p class="muted">"Create your first workspace with the form on this page, or ask a teammate for an invitation link."</p>
                                    </div>
                                }.into_any(),
                                Ok(me) => view! {
                                    <ul class="card-list" data-testid="workspace-list">
                                        {me.workspaces.into_iter().map(|w| view! {
                                            <li>
                                                <A href=format!("/w/{}", w.slug) attr:class="card link-card">
                                                    <span class="card-title">{w.name.clone()}</span>
                                                    <span class="muted small">{w.slug.clone()} " · " {w.member_count} {if w.member_count == 1 { " member" } else { " members" }}</span>
                                                    <RoleBadge role=w.role/>
                                                </A>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any(),
                                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                            }
                        })}
                    </Suspense>
                </section>
                <section class="card" aria-labelledby="new-workspace">
                    <h2 id="new-workspace">"New workspace"</h2>
                    <FormError message=form_error(value)/>
                    <ActionForm action=create>
                        <Field label="Name" name="name" placeholder="Acme Platform" check=checks::workspace_name
                            server_error=field_error(value, "name")/>
                        <Field label="Slug" name="slug" placeholder="acme" hint=shared::api::SLUG_HINT
                            check=checks::slug server_error=field_error(value, "slug")/>
                        <button type="submit" class="button primary" disabled=move || create.pending().get()>"Create workspace"</button>
                    </ActionForm>
                </section>
            </div>
        </AppFrame>
    }
}
