//! `/login` and `/signup`: the pages a signed-out visitor lands on.

use super::api::{oauth_providers, LogIn, SignUp};
use crate::components::{checks, field_error, form_error, Field, FormError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// Where to go once signed in (`?next=`, checked by the server function).
fn next_param() -> String {
    use_query_map()
        .read_untracked()
        .get("next")
        .unwrap_or_default()
}

/// "Continue with …" links for the configured OAuth2 providers, and the error of a failed
/// OAuth attempt (it comes back as `?oauth_error=`).
#[component]
fn OAuthButtons(next: String) -> impl IntoView {
    let providers = Resource::new(|| (), |_| oauth_providers());
    let failed = use_query_map().read_untracked().get("oauth_error");
    let encoded_next = next
        .replace('%', "%25")
        .replace('&', "%26")
        .replace('#', "%23")
        .replace('?', "%3F");
    view! {
        {failed.map(|m| view! { <div class="banner error" role="alert">{m}</div> })}
        <Suspense fallback=|| ()>
            {move || {
                let encoded_next = encoded_next.clone();
                Suspend::new(async move {
                    let list = providers.await.unwrap_or_default();
                    let any = !list.is_empty();
                    view! {
                        <div class="oauth-buttons">
                            {list.into_iter().map(|p| view! {
                                // A full page load: the router must not handle this path.
                                <a class="button wide" rel="external" href=format!("/auth/oauth/{}/start?next={}", p.id, encoded_next)>
                                    "Continue with " {p.name}
                                </a>
                            }).collect_view()}
                        </div>
                        {any.then(|| view! { <p class="divider"><span>"or"</span></p> })}
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}

/// `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let value = action.value();
    let next = next_param();
    let signup_href = if next.is_empty() {
        "/signup".to_owned()
    } else {
        format!("/signup?next={next}")
    };
    view! {
        <Title text="Log in"/>
        <main class="center-card">
            <div class="card auth-card">
                <p class="brand large"><span class="brand-mark" aria-hidden="true"></span>"Switchyard"</p>
                <h1>"Log in"</h1>
                <OAuthButtons next=next.clone()/>
                <FormError message=form_error(value)/>
                <ActionForm action=action>
                    <input type="hidden" name="next" value=next/>
                    <Field label="E-mail" name="email" kind="email" autocomplete="email"
                        check=checks::email server_error=field_error(value, "email")/>
                    <Field label="Password" name="password" kind="password" autocomplete="current-password"
                        check=checks::required server_error=field_error(value, "password")/>
                    <button type="submit" class="button primary wide" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Logging in…" } else { "Log in" }}
                    </button>
                </ActionForm>
                <p class="muted">"New here? " <A href=signup_href>"Create an account"</A></p>
            </div>
        </main>
    }
    .into_any()
}

/// `/signup`.
#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let value = action.value();
    let next = next_param();
    let login_href = if next.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?next={next}")
    };
    view! {
        <Title text="Sign up"/>
        <main class="center-card">
            <div class="card auth-card">
                <p class="brand large"><span class="brand-mark" aria-hidden="true"></span>"Switchyard"</p>
                <h1>"Create your account"</h1>
                <OAuthButtons next=next.clone()/>
                <FormError message=form_error(value)/>
                <ActionForm action=action>
                    <input type="hidden" name="next" value=next/>
                    <Field label="Name" name="name" autocomplete="name" check=checks::display_name
                        server_error=field_error(value, "name")/>
                    <Field label="E-mail" name="email" kind="email" autocomplete="email" check=checks::email
                        server_error=field_error(value, "email")/>
                    <Field label="Password" name="password" kind="password" autocomplete="new-password"
                        hint="At least 10 characters." check=checks::new_password
                        server_error=field_error(value, "password")/>
                    <button type="submit" class="button primary wide" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
                    </button>
                </ActionForm>
                <p class="muted">"Already have an account? " <A href=login_href>"Log in"</A></p>
            </div>
        </main>
    }
    .into_any()
}
