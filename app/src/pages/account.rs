//! `/account`: password change and the list of signed-in sessions.

use crate::api::{list_sessions, ChangePassword, RevokeSession};
use crate::forms::{checks, field_error, form_error, ErrorPanel, Field, FormError};
use crate::frame::AppFrame;
use leptos::prelude::*;
use leptos_meta::Title;

/// Account settings.
#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let revoke = ServerAction::<RevokeSession>::new();
    let value = change.value();
    let sessions = Resource::new(
        move || (change.version().get(), revoke.version().get()),
        |_| list_sessions(),
    );
    view! {
        <Title text="Account"/>
        <AppFrame>
            <div class="page-head"><h1>"Account"</h1></div>
            <div class="two-columns">
                <section class="card" aria-labelledby="password-heading">
                    <h2 id="password-heading">"Change password"</h2>
                    <p class="muted small">"Changing your password signs out every other session."</p>
                    <FormError message=form_error(value)/>
                    <ActionForm action=change>
                        <Field label="Current password" name="current_password" kind="password" autocomplete="current-password"
                            check=checks::required server_error=field_error(value, "current_password")/>
                        <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                            hint="At least 10 characters." check=checks::new_password server_error=field_error(value, "new_password")/>
                        <button type="submit" class="button primary">"Change password"</button>
                    </ActionForm>
                    <Show when=move || matches!(value.get(), Some(Ok(())))>
                        <p class="banner success" role="status">"Password changed. Other sessions have been signed out."</p>
                    </Show>
                </section>
                <section aria-labelledby="sessions-heading">
                    <h2 id="sessions-heading">"Sessions"</h2>
                    <FormError message=form_error(revoke.value())/>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match sessions.await {
                                Ok(list) => view! {
                                    <ul class="card-list" data-testid="sessions">
                                        {list.into_iter().map(|s| view! {
                                            <li class="card session">
                                                <div>
                                                    <p class="card-title">{if s.user_agent.is_empty() { "Unknown client".to_owned() } else { s.user_agent.chars().take(80).collect::<String>() }}</p>
                                                    <p class="muted small">"Signed in " {s.created_at.get(..16).unwrap_or_default().replace('T', " ")} " · last active " {s.last_seen_at.get(..16).unwrap_or_default().replace('T', " ")}</p>
                                                </div>
                                                {if s.current {
                                                    view! { <span class="badge">"This browser"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <ActionForm action=revoke>
                                                            <input type="hidden" name="id" value=s.id.to_string()/>
                                                            <button type="submit" class="button small danger">"Sign out"</button>
                                                        </ActionForm>
                                                    }.into_any()
                                                }}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any(),
                                Err(e) => view! { <ErrorPanel error=e/> }.into_any(),
                            }
                        })}
                    </Suspense>
                </section>
            </div>
        </AppFrame>
    }
}
