//! `/w/:slug/api-keys`: create (secret shown once), list and revoke API keys.

use super::api::{list_api_keys, CreateApiKey, RevokeApiKey};
use super::frame::use_slug;
use super::reveal::Reveal;
use super::roles::{RoleBadge, RoleSelect};
use crate::components::{
    checks, field_error, form_error, Card, ClearOnSuccess, ConfirmButton, DataTable, Field,
    FormError, Listing, PageHead, Precision, Timestamp,
};
use leptos::prelude::*;
use shared::api::ApiKey;

/// API keys of the workspace.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let slug = use_slug();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (slug(), create.version().get(), revoke.version().get()),
        |(s, _, _)| list_api_keys(s),
    );
    view! {
        <PageHead title="API keys">"A key authenticates " <code>"Authorization: Bearer <key>"</code> " on the REST API, for this workspace only, with the key's role."</PageHead>
        <NewKeyForm create=create/>
        <FormError message=form_error(revoke.value())/>
        <Listing items=keys empty="No API keys" hint=|| "Create a key above to call the API from scripts or CI." let:list>
            <DataTable label="API keys" columns=&["Name", "Key", "Role", "Created", "Last used"] actions=true testid="api-keys">
                {list.into_iter().map(|k| view! { <KeyRow key=k slug=slug() revoke=revoke/> }).collect_view()}
            </DataTable>
        </Listing>
    }
    .into_any()
}

/// The form for a new key (emptied after each key), and the new key's secret, shown once.
#[component]
fn NewKeyForm(create: ServerAction<CreateApiKey>) -> impl IntoView {
    let slug = use_slug();
    let value = create.value();
    view! {
        <Card id="new-key" title="New API key" error=form_error(value)>
            <ClearOnSuccess value=value>
                <ActionForm action=create>
                    <input type="hidden" name="slug" value=slug()/>
                    <div class="inline-form">
                        <Field label="Name" name="name" placeholder="CI deploys" check=checks::required server_error=field_error(value, "name")/>
                        <div class="field">
                            <label for="key-role">"Role"</label>
                            <RoleSelect id="key-role"/>
                        </div>
                        <button type="submit" class="button primary">"Create key"</button>
                    </div>
                </ActionForm>
            </ClearOnSuccess>
            {move || value.get().and_then(Result::ok).map(|k| view! {
                <Reveal value=k.key.clone() testid="new-key" value_testid="new-key-secret">
                    <p><strong>"Copy this key now."</strong> " It is shown only once; Switchyard keeps only a hash of it."</p>
                </Reveal>
            })}
        </Card>
    }
    .into_any()
}

/// One key: its name, prefix, role, dates, and Revoke behind a confirmation.
#[component]
fn KeyRow(key: ApiKey, slug: String, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    view! {
        <tr>
            <td>{key.name.clone()}</td>
            <td><code>{key.prefix.clone()} "…"</code></td>
            <td><RoleBadge role=key.role/></td>
            <td class="muted small"><Timestamp at=key.created_at/></td>
            <td class="muted small">
                {match key.last_used_at {
                    Some(at) => view! { <Timestamp at=at precision=Precision::Minute/> }.into_any(),
                    None => view! { <span>"never"</span> }.into_any(),
                }}
            </td>
            <td class="actions">
                <ActionForm action=revoke>
                    <input type="hidden" name="slug" value=slug/>
                    <input type="hidden" name="id" value=key.id.to_string()/>
                    <div class="row-actions">
                        <ConfirmButton label="Revoke" question="Revoke this key?"/>
                    </div>
                </ActionForm>
            </td>
        </tr>
    }
    .into_any()
}
