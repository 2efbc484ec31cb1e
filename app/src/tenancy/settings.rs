//! `/w/:slug/settings`: rename, and (owners) delete the workspace.

use super::api::{get_workspace, DeleteWorkspace, RenameWorkspace};
use super::frame::{use_slug, WorkspaceChanged};
use crate::components::{
    checks, field_error, form_error, Card, Field, FormError, Loaded, PageHead,
};
use leptos::prelude::*;
use shared::roles::Permission;

/// Workspace settings.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let slug = use_slug();
    let rename = ServerAction::<RenameWorkspace>::new();
    let workspace = Resource::new(
        move || (slug(), rename.version().get()),
        |(s, _)| get_workspace(s),
    );
    // The side navigation shows the name too: have it reload after a rename.
    if let Some(changed) = use_context::<WorkspaceChanged>() {
        Effect::new(move |_| {
            if matches!(rename.value().get(), Some(Ok(_))) {
                changed.notify();
            }
        });
    }
    view! {
        <PageHead title="Settings"/>
        <Loaded resource=workspace let:ws>
            <RenameForm slug=ws.slug.clone() name=ws.name.clone() rename=rename/>
            {ws.role.allows(Permission::DeleteWorkspace).then(|| view! { <DeleteZone slug=ws.slug.clone()/> })}
        </Loaded>
    }
    .into_any()
}

/// The workspace's display name.
#[component]
fn RenameForm(slug: String, name: String, rename: ServerAction<RenameWorkspace>) -> impl IntoView {
    let value = rename.value();
    view! {
        <Card id="rename-heading" title="Name" error=form_error(value)>
            <ActionForm action=rename>
                <input type="hidden" name="slug" value=slug/>
                <div class="inline-form">
                    <Field label="Display name" name="name" value=name check=checks::workspace_name
                        server_error=field_error(value, "name")/>
                    <button type="submit" class="button primary">"Save"</button>
                </div>
            </ActionForm>
            <Show when=move || matches!(value.get(), Some(Ok(_)))>
                <p class="banner success" role="status">"Saved."</p>
            </Show>
        </Card>
    }
    .into_any()
}

/// Deleting the workspace: the owner types the slug to confirm.
#[component]
fn DeleteZone(slug: String) -> impl IntoView {
    let delete = ServerAction::<DeleteWorkspace>::new();
    let value = delete.value();
    view! {
        <section class="card danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete workspace"</h2>
            <p class="muted">"This deletes the workspace, its members' access, its invitations and API keys. It cannot be undone. Type "
                <code>{slug.clone()}</code> " to confirm."</p>
            <FormError message=form_error(value)/>
            <ActionForm action=delete>
                <input type="hidden" name="slug" value=slug/>
                <div class="inline-form">
                    <Field label="Workspace slug" name="confirm" server_error=field_error(value, "confirm")/>
                    <button type="submit" class="button danger">"Delete workspace"</button>
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}
