//! `/`: sends a signed-in user to their workspaces, anyone else to the login page.

use crate::api::current_user;
use leptos::prelude::*;
use leptos_router::components::Redirect;

/// The root page.
#[component]
pub fn Home() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let target = if me.await.is_ok() { "/workspaces" } else { "/login" };
                view! { <Redirect path=target/> }
            })}
        </Suspense>
    }
}
