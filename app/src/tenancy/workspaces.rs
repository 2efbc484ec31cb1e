//! `/workspaces`: the caller's workspaces and the form to create one.

use super::api::{current_user, CreateWorkspace};
use super::frame::AppFrame;
use super::roles::RoleBadge;
use crate::components::{
    checks, field_error, form_error, Card, ClearOnSuccess, Field, Listing, PageHead,
};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::Workspace;

/// The workspace list.
#[component]
pub fn WorkspacesPage() -> impl IntoView {
    let workspaces = Resource::new(
        || (),
        |_| async { current_user().await.map(|me| me.workspaces) },
    );
    view! {
        <AppFrame>
            <PageHead title="Workspaces">"Each workspace has its own members, API keys and everything you build in it."</PageHead>
            <div class="two-columns">
                <section aria-labelledby="your-workspaces">
                    <h2 id="your-workspaces">"Your workspaces"</h2>
                    <Listing items=workspaces empty="No workspaces yet"
                        hint=|| "Create your first workspace with the form on this page, or ask a teammate for an invitation link."
                        let:list>
                        <ul class="card-list" data-testid="workspace-list">
                            {list.into_iter().map(|w| view! { <li><WorkspaceCard workspace=w/></li> }).collect_view()}
                        </ul>
                    </Listing>
                </section>
                <NewWorkspaceForm/>
            </div>
        </AppFrame>
    }
    .into_any()
}

/// A workspace as a card linking to it.
#[component]
fn WorkspaceCard(workspace: Workspace) -> impl IntoView {
    let members = if workspace.member_count == 1 {
        " member"
    } else {
        " members"
    };
    view! {
        <A href=format!("/w/{}", workspace.slug) attr:class="card link-card">
            <span class="card-title">{workspace.name.clone()}</span>
            <span class="muted small">{workspace.slug.clone()} " · " {workspace.member_count} {members}</span>
            <RoleBadge role=workspace.role/>
        </A>
    }
    .into_any()
}

/// Creates a workspace and opens it.
#[component]
fn NewWorkspaceForm() -> impl IntoView {
    let create = ServerAction::<CreateWorkspace>::new();
    let value = create.value();
    view! {
        <Card id="new-workspace" title="New workspace" error=form_error(value)>
            <ClearOnSuccess value=value>
                <ActionForm action=create>
                    <Field label="Name" name="name" placeholder="Acme Platform" check=checks::workspace_name
                        server_error=field_error(value, "name")/>
                    <Field label="Slug" name="slug" placeholder="acme" hint=shared::api::SLUG_HINT
                        check=checks::slug server_error=field_error(value, "slug")/>
                    <button type="submit" class="button primary" disabled=move || create.pending().get()>"Create workspace"</button>
                </ActionForm>
            </ClearOnSuccess>
        </Card>
    }
    .into_any()
}
