//! The Switchyard web console: server-rendered and hydrated (Leptos). Pages live in
//! [`pages`], shared pieces of the frame in [`frame`] and [`forms`], and every piece of data
//! comes through the server functions in [`api`], which reach the control plane only through
//! the `ConsoleService` contract from `shared`.

#![recursion_limit = "512"]

pub mod api;
pub mod error;
pub mod forms;
pub mod frame;
pub mod highlight;
pub mod live;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The console's routes. Every page renders in `SsrMode::Async`: the server waits for the
/// page's data, so a signed-out visitor gets a real redirect and pages work before (and
/// without) the WASM bundle.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: mark the page interactive (the
    // browser tests wait for this before typing).
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Stylesheet id="switchyard" href="/pkg/switchyard.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Meta name="description" content="Switchyard console"/>
        <Title formatter=|page: String| if page.is_empty() { "Switchyard".to_owned() } else { format!("{page} · Switchyard") }/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/") view=pages::home::Home ssr=SsrMode::Async/>
                <Route path=path!("/login") view=pages::auth::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/signup") view=pages::auth::SignupPage ssr=SsrMode::Async/>
                <Route path=path!("/invitations/:token") view=pages::invitation::InvitationPage ssr=SsrMode::Async/>
                <Route path=path!("/workspaces") view=pages::workspaces::WorkspacesPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/w/:slug") view=frame::WorkspaceFrame ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::overview::OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("members") view=pages::members::MembersPage ssr=SsrMode::Async/>
                    <Route path=path!("api-keys") view=pages::api_keys::ApiKeysPage ssr=SsrMode::Async/>
                    <Route path=path!("settings") view=pages::settings::SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("jobs") view=pages::jobs::JobsPage ssr=SsrMode::Async/>
                    <Route path=path!("jobs/:id") view=pages::jobs::JobPage ssr=SsrMode::Async/>
                    <Route path=path!("workers") view=pages::workers::WorkersPage ssr=SsrMode::Async/>
                    <Route path=path!("code") view=pages::code::RepositoriesPage ssr=SsrMode::Async/>
                    <Route path=path!("code/search") view=pages::code::SearchPage ssr=SsrMode::Async/>
                    <Route path=path!("code/symbols/:id") view=pages::code::SymbolPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
