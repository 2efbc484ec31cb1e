//! `/w/:slug/api-keys`: create (secret shown once), list and revoke API keys.

use crate::api::{list_api_keys, CreateApiKey, RevokeApiKey};
use crate::forms::{checks, field_error, form_error, ErrorPanel, Field, FormError, RoleSelect};
use crate::frame::{use_slug, RoleBadge};
use leptos::prelude::*;
use leptos_meta::Title;

/// API keys of the workspace.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let slug = use_slug();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let value = create.value();
    let form_slug = slug();
    let keys = Resource::new(
        {
            let slug = slug.clone();
            move || (slug(), create.version().get(), revoke.version().get())
        },
        |(s, _, _)| list_api_keys(s),
    );
    view! {
        <Title text="API keys"/>
        <div class="page-head">
            <h1>"API keys"</h1>
            <p class="muted">"A key authenticates " <code>"Authorization: Bearer <key>"</code> " on the REST API, for this workspace only, with the key's role."</p>
        </div>
        <section class="card" aria-labelledby="new-key">
            <h2 id="new-key">"New API key"</h2>
            <FormError message=form_error(value)/>
            <ActionForm action=create>
                <input type="hidden" name="slug" value=form_slug/>
                <div class="inline-form">
                    <Field label="Name" name="name" placeholder="CI deploys" check=checks::required server_error=field_error(value, "name")/>
                    <div class="field">
                        <label for="key-role">"Role"</label>
                        <RoleSelect id="key-role"/>
                    </div>
                    <button type="submit" class="button primary">"Create key"</button>
                </div>
            </ActionForm>
            {move || value.get().and_then(Result::ok).map(|k| view! {
                <div class="reveal" data-testid="new-key">
                    <p><strong>"Copy this key now."</strong> " It is shown only once; Switchyard keeps only a hash of it."</p>
                    <div class="secret-row">
                        <code class="secret" data-testid="new-key-secret">{k.key.clone()}</code>
                        <CopyButton text=k.key.clone()/>
                    </div>
                </div>
            })}
        </section>
        <FormError message=form_error(revoke.value())/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let slug = slug();
                Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! {
                            <div class="empty">
                                <p class="empty-title">"No API keys"</p>
                                <p class="muted">"Create a key above to call the API from scripts or CI."</p>
                            </div>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table" data-testid="api-keys">
                                <thead><tr><th>"Name"</th><th>"Key"</th><th>"Role"</th><th>"Created"</th><th>"Last used"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|k| {
                                        let slug = slug.clone();
                                        view! {
                                        <tr>
                                            <td>{k.name.clone()}</td>
                                            <td><code>{k.prefix.clone()} "…"</code></td>
                                            <td><RoleBadge role=k.role/></td>
                                            <td class="muted small">{k.created_at.get(..10).unwrap_or_default().to_owned()}</td>
                                            <td class="muted small">{k.last_used_at.clone().map(|t| t.get(..16).unwrap_or_default().replace('T', " ")).unwrap_or_else(|| "never".to_owned())}</td>
                                            <td class="actions">
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="slug" value=slug.clone()/>
                                                    <input type="hidden" name="id" value=k.id.to_string()/>
                                                    <button type="submit" class="button small danger">"Revoke"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }}).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Copies `text` to the clipboard and says so.
#[component]
pub fn CopyButton(text: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let copy = move |_| {
        let clipboard = window().navigator().clipboard();
        // The promise settles on its own; there is nothing to do with its result.
        let _ = clipboard.write_text(&text);
        set_copied.set(true);
    };
    view! {
        <button type="button" class="button small" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}
