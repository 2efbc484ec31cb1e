//! The pages outside any domain: `/` and the page for unknown paths.

use crate::components::RedirectTo;
use crate::tenancy::api::current_user;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/`: sends a signed-in user to their workspaces, anyone else to the login page (a 302
/// either way).
#[component]
pub fn Home() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let target = if me.await.is_ok() { "/workspaces" } else { "/login" };
                view! { <RedirectTo path=target/> }
            })}
        </Suspense>
    }
}

/// Not found (answers 404).
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="center-card">
            <div class="card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <A href="/workspaces" attr:class="button primary">"Go to your workspaces"</A>
            </div>
        </main>
    }
}
