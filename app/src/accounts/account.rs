//! `/account`: password change and the list of signed-in sessions.

use super::api::{list_sessions, ChangePassword, RevokeSession};
use crate::components::{
    checks, field_error, form_error, Card, ClearOnSuccess, Field, FormError, Listing, PageHead,
    Precision, Timestamp,
};
use crate::tenancy::AppFrame;
use leptos::prelude::*;
use shared::api::SessionView;

/// Account settings.
#[component]
pub fn AccountPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let change = ServerAction::<ChangePassword>::new();
    let sessions = Resource::new(
        move || (change.version().get(), revoke.version().get()),
        |_| list_sessions(),
    );
    view! {
        <AppFrame>
            <PageHead title="Account"/>
            <div class="two-columns">
                <PasswordForm change=change/>
                <section aria-labelledby="sessions-heading">
                    <h2 id="sessions-heading">"Sessions"</h2>
                    <FormError message=form_error(revoke.value())/>
                    <Listing items=sessions empty="No sessions" hint=|| "Sessions appear here once you sign in." let:list>
                        <ul class="card-list" data-testid="sessions">
                            {list.into_iter().map(|s| view! { <SessionCard session=s revoke=revoke/> }).collect_view()}
                        </ul>
                    </Listing>
                </section>
            </div>
        </AppFrame>
    }
    .into_any()
}

/// The password change form; emptied once the change went through.
#[component]
fn PasswordForm(change: ServerAction<ChangePassword>) -> impl IntoView {
    let value = change.value();
    view! {
        <Card id="password-heading" title="Change password" about="Changing your password signs out every other session." error=form_error(value)>
            <ClearOnSuccess value=value>
                <ActionForm action=change>
                    <Field label="Current password" name="current_password" kind="password" autocomplete="current-password"
                        check=checks::required server_error=field_error(value, "current_password")/>
                    <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                        hint="At least 10 characters." check=checks::new_password server_error=field_error(value, "new_password")/>
                    <button type="submit" class="button primary">"Change password"</button>
                </ActionForm>
            </ClearOnSuccess>
            <Show when=move || matches!(value.get(), Some(Ok(())))>
                <p class="banner success" role="status">"Password changed. Other sessions have been signed out."</p>
            </Show>
        </Card>
    }
    .into_any()
}

/// One signed-in session: the browser, when it signed in and was last seen; the others can
/// be signed out from here.
#[component]
fn SessionCard(session: SessionView, revoke: ServerAction<RevokeSession>) -> impl IntoView {
    let client = if session.user_agent.is_empty() {
        "Unknown client".to_owned()
    } else {
        session.user_agent.chars().take(80).collect()
    };
    view! {
        <li class="card session">
            <div>
                <p class="card-title">{client}</p>
                <p class="muted small">
                    "Signed in " <Timestamp at=session.created_at precision=Precision::Minute/>
                    " · last active " <Timestamp at=session.last_seen_at precision=Precision::Minute/>
                </p>
            </div>
            {if session.current {
                view! { <span class="badge">"This browser"</span> }.into_any()
            } else {
                view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="id" value=session.id.to_string()/>
                        <button type="submit" class="button small danger">"Sign out"</button>
                    </ActionForm>
                }.into_any()
            }}
        </li>
    }
    .into_any()
}
