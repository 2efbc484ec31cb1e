//! `/login` and `/signup`: the pages a signed-out visitor lands on; `/verify-email`,
//! `/forgot-password` and `/reset-password`: where the account mails' links lead.

use super::api::{
    oauth_providers, LogIn, RequestPasswordReset, ResetPassword, SignUp, VerifyEmail,
};
use crate::components::{checks, field_error, form_error, Field, FormError};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::api::CheckEmail;

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
                <p class="muted"><A href="/forgot-password">"Forgot your password?"</A></p>
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
    // Read inside the form, which is rebuilt whenever the answer changes.
    let (next, login_href) = (StoredValue::new(next), StoredValue::new(login_href));
    view! {
        <Title text="Sign up"/>
        <main class="center-card">
            <div class="card auth-card">
                <p class="brand large"><span class="brand-mark" aria-hidden="true"></span>"Switchyard"</p>
                <h1>"Create your account"</h1>
                <Show when=move || sent(value).is_none() fallback=move || view! { <MailSent sent=sent(value)/> }>
                <OAuthButtons next=next.get_value()/>
                <FormError message=form_error(value)/>
                <ActionForm action=action>
                    <input type="hidden" name="next" value=next.get_value()/>
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
                <p class="muted">"Already have an account? " <A href=login_href.get_value()>"Log in"</A></p>
                </Show>
            </div>
        </main>
    }
    .into_any()
}

/// The answer of an action that mailed something, once it succeeded.
fn sent(
    value: impl Get<Value = Option<Result<CheckEmail, crate::error::AppError>>>,
) -> Option<CheckEmail> {
    value.get().and_then(Result::ok)
}

/// "Check your e-mail": what was mailed, and where.
#[component]
fn MailSent(sent: Option<CheckEmail>) -> impl IntoView {
    sent.map(|s| {
        view! {
            <div class="banner success" role="status" data-testid="mail-sent">
                <strong>"Check your e-mail"</strong>
                <p>{s.message}</p>
                <p class="muted">"Sent to " <code>{s.email}</code> "."</p>
            </div>
        }
    })
}

/// The `token` of the link that led here.
fn token_param() -> String {
    use_query_map()
        .read_untracked()
        .get("token")
        .unwrap_or_default()
}

/// `/verify-email?token=…`: finishes a sign-up with its password (or verifies an older
/// account's address). Opening the link does nothing by itself (mail scanners open links);
/// the form does.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    let value = action.value();
    view! {
        <Title text="Confirm your e-mail address"/>
        <main class="center-card">
            <div class="card auth-card">
                <p class="brand large"><span class="brand-mark" aria-hidden="true"></span>"Switchyard"</p>
                <h1>"Confirm your e-mail address"</h1>
                <p class="muted">"Enter your password to confirm the address and sign in."</p>
                <FormError message=Signal::derive(move || match value.get() {
                    Some(Err(e)) if e.field() != Some("password") => Some(e.message()),
                    _ => None,
                })/>
                <ActionForm action=action>
                    <input type="hidden" name="token" value=token_param()/>
                    <Field label="Password" name="password" kind="password" autocomplete="current-password"
                        hint="The password you chose when signing up, or your account's password."
                        server_error=field_error(value, "password")/>
                    <button type="submit" class="button primary wide" disabled=move || action.pending().get()>
                        {move || if action.pending().get() { "Confirming…" } else { "Confirm and sign in" }}
                    </button>
                </ActionForm>
                <p class="muted">"Link expired or not yours? " <A href="/signup">"Sign up again"</A></p>
            </div>
        </main>
    }
    .into_any()
}

/// `/forgot-password`: asks for a reset link.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let value = action.value();
    view! {
        <Title text="Reset your password"/>
        <main class="center-card">
            <div class="card auth-card">
                <p class="brand large"><span class="brand-mark" aria-hidden="true"></span>"Switchyard"</p>
                <h1>"Reset your password"</h1>
                <Show when=move || sent(value).is_none() fallback=move || view! { <MailSent sent=sent(value)/> }>
                    <p class="muted">"We will mail you a link to choose a new password."</p>
                    <FormError message=form_error(value)/>
                    <ActionForm action=action>
                        <Field label="E-mail" name="email" kind="email" autocomplete="email"
                            check=checks::email server_error=field_error(value, "email")/>
                        <button type="submit" class="button primary wide" disabled=move || action.pending().get()>
                            "Send reset link"
                        </button>
                    </ActionForm>
                </Show>
                <p class="muted"><A href="/login">"Back to log in"</A></p>
            </div>
        </main>
    }
    .into_any()
}

/// `/reset-password?token=…`: chooses the new password.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let value = action.value();
    view! {
        <Title text="Choose a new password"/>
        <main class="center-card">
            <div class="card auth-card">
                <p class="brand large"><span class="brand-mark" aria-hidden="true"></span>"Switchyard"</p>
                <h1>"Choose a new password"</h1>
                <p class="muted">"Every session of yours ends, and the API keys you created are revoked."</p>
                <FormError message=Signal::derive(move || match value.get() {
                    Some(Err(e)) if e.field() != Some("new_password") => Some(e.message()),
                    _ => None,
                })/>
                <ActionForm action=action>
                    <input type="hidden" name="token" value=token_param()/>
                    <Field label="New password" name="new_password" kind="password" autocomplete="new-password"
                        hint="At least 10 characters." check=checks::new_password
                        server_error=field_error(value, "new_password")/>
                    <button type="submit" class="button primary wide" disabled=move || action.pending().get()>
                        "Set password and sign in"
                    </button>
                </ActionForm>
                <p class="muted"><A href="/forgot-password">"Ask for a new link"</A></p>
            </div>
        </main>
    }
    .into_any()
}
