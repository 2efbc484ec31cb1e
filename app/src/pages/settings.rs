//! `/w/:slug/settings`: rename, and (owners) delete the workspace.

use crate::api::{get_workspace, DeleteWorkspace, RenameWorkspace};
use crate::forms::{checks, field_error, form_error, ErrorPanel, Field, FormError};
use crate::frame::use_slug;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::roles::Permission;

/// Workspace settings.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let slug = use_slug();
    let rename = ServerAction::<RenameWorkspace>::new();
    let delete = ServerAction::<DeleteWorkspace>::new();
    let workspace = Resource::new(
        {
            let slug = slug.clone();
            move || (slug(), rename.version().get())
        },
        |(s, _)| get_workspace(s),
    );
    let rename_value = rename.value();
    let delete_value = delete.value();
    view! {
        <Title text="Settings"/>
        <div class="page-head"><h1>"Settings"</h1></div>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match workspace.await {
                    Ok(ws) => {
                        let owner = ws.role.allows(Permission::DeleteWorkspace);
                        let slug = ws.slug.clone();
                        view! {
                            <section class="card" aria-labelledby="rename-heading">
                                <h2 id="rename-heading">"Name"</h2>
                                <FormError message=form_error(rename_value)/>
                                <ActionForm action=rename>
                                    <input type="hidden" name="slug" value=ws.slug.clone()/>
                                    <div class="inline-form">
                                        <Field label="Display name" name="name" value=ws.name.clone() check=checks::workspace_name
                                            server_error=field_error(rename_value, "name")/>
                                        <button type="submit" class="button primary">"Save"</button>
                                    </div>
                                </ActionForm>
                                <Show when=move || matches!(rename_value.get(), Some(Ok(_)))>
                                    <p class="banner success" role="status">"Saved."</p>
                                </Show>
                            </section>
                            {owner.then(|| view! {
                                <section class="card danger-zone" aria-labelledby="delete-heading">
                                    <h2 id="delete-heading">"Delete workspace"</h2>
                                    <p class="muted">"This deletes the workspace, its members' access, its invitations and API keys. It cannot be undone. Type "
                                        <code>{slug.clone()}</code> " to confirm."</p>
                                    <FormError message=form_error(delete_value)/>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="slug" value=slug.clone()/>
                                        <div class="inline-form">
                                            <Field label="Workspace slug" name="confirm" server_error=field_error(delete_value, "confirm")/>
                                            <button type="submit" class="button danger">"Delete workspace"</button>
                                        </div>
                                    </ActionForm>
                                </section>
                            })}
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
