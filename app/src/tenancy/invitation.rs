//! `/invitations/:token`: what an invitation offers, and accepting it.
//!
//! A signed-out visitor sees the offer and links to log in or sign up (200); a token that
//! is unknown, used or expired answers 404.

use super::api::{current_user, preview_invitation, AcceptInvitation};
use crate::components::{form_error, ErrorPanel, FormError, Loading};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

/// The invitation landing page.
#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let preview = Resource::new(token, preview_invitation);
    let me = Resource::new(|| (), |_| current_user());
    let accept = ServerAction::<AcceptInvitation>::new();
    view! {
        <Title text="Invitation"/>
        <main class="center-card">
            <div class="card auth-card">
                <p class="brand large"><span class="brand-mark" aria-hidden="true"></span>"Switchyard"</p>
                <Suspense fallback=|| view! { <Loading/> }>
                    {move || {
                        let token = token();
                        Suspend::new(async move {
                            match (preview.await, me.await) {
                                (Err(e), _) => view! {
                                    <h1>"Invitation unavailable"</h1>
                                    <ErrorPanel error=e/>
                                    <A href="/workspaces">"Go to your workspaces"</A>
                                }.into_any(),
                                (Ok(p), Ok(me)) => view! {
                                    <h1>"Join " {p.workspace_name.clone()}</h1>
                                    <p>"You are invited to " <strong>{p.workspace_slug.clone()}</strong> " as " <strong>{p.role.as_str()}</strong> "."</p>
                                    <p class="muted small">"Signed in as " {me.user.email.clone()} ". The invitation was sent to " {p.email.clone()} "."</p>
                                    <FormError message=form_error(accept.value())/>
                                    <ActionForm action=accept>
                                        <input type="hidden" name="token" value=token.clone()/>
                                        <button type="submit" class="button primary wide">"Accept invitation"</button>
                                    </ActionForm>
                                }.into_any(),
                                (Ok(p), Err(_)) => {
                                    let next = format!("/invitations/{token}");
                                    view! {
                                        <h1>"Join " {p.workspace_name.clone()}</h1>
                                        <p>"You are invited as " <strong>{p.role.as_str()}</strong> ". Sign in or create an account to accept."</p>
                                        <div class="button-row">
                                            <A href=format!("/login?next={next}") attr:class="button primary">"Log in"</A>
                                            <A href=format!("/signup?next={next}") attr:class="button">"Create account"</A>
                                        </div>
                                    }.into_any()
                                }
                            }
                        })
                    }}
                </Suspense>
            </div>
        </main>
    }
    .into_any()
}
