//! Sending the visitor elsewhere from a page.

use leptos::prelude::*;

/// Sends the visitor to `path`. Rendered on the server (a first load), the page answers
/// `302 Found` with `Location: path`, whatever the request accepts, so browsers and
/// monitors alike see a redirect; rendered in the browser (client-side navigation), the
/// router navigates, replacing the page left in the history.
#[component]
pub fn RedirectTo(
    /// Where to go.
    #[prop(into)]
    path: String,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::redirect_page(&path);
    #[cfg(not(feature = "ssr"))]
    {
        let navigate = leptos_router::hooks::use_navigate();
        navigate(
            &path,
            leptos_router::NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    }
}
