//! `/w/:slug/secrets`: the workspace's secrets by name; admins set, replace and delete them.
//! A value is typed once and never shown again.

use super::api::{list_secrets, DeleteSecret, SetSecret};
use crate::components::{
    checks, field_error, form_error, Card, ClearOnSuccess, ConfirmButton, DataTable, Field,
    FormError, Listing, Loaded, PageHead, Precision, Timestamp,
};
use crate::tenancy::api::get_workspace;
use crate::tenancy::use_slug;
use leptos::prelude::*;
use shared::roles::Permission;
use shared::secrets::{SecretView, SECRET_NAME_HINT};

/// Secrets of the workspace.
#[component]
pub fn SecretsPage() -> impl IntoView {
    let slug = use_slug();
    let set = ServerAction::<SetSecret>::new();
    let delete = ServerAction::<DeleteSecret>::new();
    let workspace = Resource::new(slug, get_workspace);
    let secrets = Resource::new(
        move || (slug(), set.version().get(), delete.version().get()),
        |(s, _, _)| list_secrets(s),
    );
    view! {
        <PageHead title="Secrets">"Tokens and passwords the workspace uses by name — a private repository's credential, and later pipeline nodes and route handlers (" <code>"{{ secrets.NAME }}"</code> "). Values are encrypted at rest and never shown again once set."</PageHead>
        <Loaded resource=workspace let:ws>
            {
                let admin = ws.role.allows(Permission::ManageSecrets);
                view! {
                    <Show when=move || admin>
                        <SetSecretForm set=set/>
                    </Show>
                    <FormError message=form_error(delete.value())/>
                    <Listing items=secrets empty="No secrets" hint=|| "An admin adds one with the form above." let:list>
                        <DataTable label="Secrets" columns=&["Name", "Set by", "Updated", "Created"] actions=admin testid="secrets">
                            {list.into_iter().map(|s| view! { <SecretRow secret=s slug=slug() admin=admin delete=delete/> }).collect_view()}
                        </DataTable>
                    </Listing>
                }
            }
        </Loaded>
    }
    .into_any()
}

/// Sets a secret; the form is emptied once it is stored, so the value leaves the page.
#[component]
fn SetSecretForm(set: ServerAction<SetSecret>) -> impl IntoView {
    let slug = use_slug();
    let value = set.value();
    view! {
        <Card id="set-secret" title="Set a secret" about="A name already in use gets the new value." error=form_error(value)>
            <ClearOnSuccess value=value>
                <ActionForm action=set>
                    <input type="hidden" name="slug" value=slug()/>
                    <div class="inline-form">
                        <Field label="Name" name="name" placeholder="GITHUB_TOKEN" hint=SECRET_NAME_HINT
                            check=checks::secret_name server_error=field_error(value, "name")/>
                        <Field label="Value" name="value" kind="password" autocomplete="new-password" class="wide"
                            check=checks::secret_value server_error=field_error(value, "value")/>
                        <button type="submit" class="button primary">"Save secret"</button>
                    </div>
                </ActionForm>
            </ClearOnSuccess>
            {move || value.get().and_then(Result::ok).map(|s| view! {
                <p class="banner success" role="status">"Saved " <code>{s.name}</code> "."</p>
            })}
        </Card>
    }
    .into_any()
}

/// One secret: its name, who set it and when, and Delete (admins) behind a confirmation.
#[component]
fn SecretRow(
    secret: SecretView,
    slug: String,
    admin: bool,
    delete: ServerAction<DeleteSecret>,
) -> impl IntoView {
    view! {
        <tr>
            <td><code>{secret.name.clone()}</code></td>
            <td>{secret.updated_by.clone()}</td>
            <td class="muted small"><Timestamp at=secret.updated_at precision=Precision::Minute/></td>
            <td class="muted small"><Timestamp at=secret.created_at/></td>
            {admin.then(|| view! {
                <td class="actions">
                    <ActionForm action=delete>
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="name" value=secret.name.clone()/>
                        <div class="row-actions">
                            <ConfirmButton label="Delete" question="Delete this secret?"/>
                        </div>
                    </ActionForm>
                </td>
            })}
        </tr>
    }
    .into_any()
}
