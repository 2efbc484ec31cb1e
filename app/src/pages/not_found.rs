//! The page for unknown paths.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// Not found.
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
