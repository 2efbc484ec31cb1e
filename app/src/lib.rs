//! The Switchyard web console: server-rendered and hydrated (Leptos).
//!
//! One folder per domain, named as in `server` and `shared`: [`accounts`], [`tenancy`],
//! [`jobs`], [`code`], [`pipelines`], [`routes`]. Each holds its pages and the server functions they call (`api.rs`),
//! the console's only data boundary; those reach the control plane only through the
//! per-domain contracts of `shared::contracts`. [`components`] holds what every page repeats
//! (forms, the states of a loading list, tables, confirmation of destructive buttons), and
//! [`server_fns`] the server side of every server function.

#![recursion_limit = "512"]

/// Declares pages as lazy routes that share one WASM chunk.
///
/// `lazy_routes!(chunk { Route => Page, ... })` defines, in a module `chunk`, a route type
/// per page that the route table uses (`Lazy::<Route>`), and one `#[lazy]` function that
/// renders any of them. `cargo leptos build --split` makes that function, and all code only
/// it reaches (the domain's pages, components and server-function calls), a WASM chunk the
/// browser fetches when it first shows one of the chunk's pages. The split is required: an
/// unsplit build imports a placeholder module that does not exist, and does not start.
/// A chunk per domain rather than per page keeps the number of fragments shared between
/// chunks (and so of requests) small.
macro_rules! lazy_routes {
    ($chunk:ident { $($(#[$doc:meta])* $route:ident => $page:ident),+ $(,)? }) => {
        mod $chunk {
            use super::*;

            /// The pages of this chunk.
            #[derive(Clone, Copy, Debug)]
            #[allow(clippy::enum_variant_names, reason = "each variant is named after its route type")]
            enum LazyPage {
                $($route),+
            }

            /// Renders one of the chunk's pages: the body of the chunk, which is named after
            /// the module (the function's own name is the same in every chunk, so its
            /// generated preload function has a name the route types can call).
            #[leptos::lazy($chunk)]
            fn pages(page: LazyPage) -> leptos::prelude::AnyView {
                use leptos::prelude::*;
                match page {
                    $(LazyPage::$route => view! { <$page/> }.into_any()),+
                }
            }

            $(
                $(#[$doc])*
                #[derive(Debug)]
                pub struct $route;

                impl leptos_router::LazyRoute for $route {
                    fn data() -> Self {
                        $route
                    }

                    async fn view(_this: Self) -> leptos::prelude::AnyView {
                        pages(LazyPage::$route).await
                    }

                    // The router awaits this before hydrating a first load, so the page
                    // renders at once, as the server rendered it, instead of suspending.
                    async fn preload() {
                        #[cfg(target_arch = "wasm32")]
                        __preload_pages().await;
                    }
                }
            )+
        }

        pub use $chunk::{$($route),+};
    };
}

pub mod accounts;
pub mod code;
pub mod components;
pub mod error;
pub mod jobs;
pub mod pipelines;
pub mod root;
pub mod routes;
pub mod secrets;
#[cfg(feature = "ssr")]
pub mod server_fns;
pub mod tenancy;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

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
            <Routes fallback=root::NotFound>
                <Route path=path!("/") view=root::Home ssr=SsrMode::Async/>
                <Route path=path!("/login") view=accounts::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/signup") view=accounts::SignupPage ssr=SsrMode::Async/>
                <Route path=path!("/verify-email") view=accounts::VerifyEmailPage ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view=accounts::ForgotPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/reset-password") view=accounts::ResetPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view={Lazy::<accounts::AccountRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/invitations/:token") view={Lazy::<tenancy::InvitationRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/workspaces") view={Lazy::<tenancy::WorkspacesRoute>::new()} ssr=SsrMode::Async/>
                <ParentRoute path=path!("/w/:slug") view={Lazy::<tenancy::WorkspaceFrameRoute>::new()} ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<tenancy::OverviewRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("members") view={Lazy::<tenancy::MembersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("api-keys") view={Lazy::<tenancy::ApiKeysRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("secrets") view={Lazy::<secrets::SecretsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("settings") view={Lazy::<tenancy::SettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("jobs") view={Lazy::<jobs::JobsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("jobs/:id") view={Lazy::<jobs::JobRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("workers") view={Lazy::<jobs::WorkersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("code") view={Lazy::<code::RepositoriesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("code/search") view={Lazy::<code::SearchRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("code/symbols/:id") view={Lazy::<code::SymbolRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("pipelines") view={Lazy::<pipelines::PipelinesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("pipelines/:id") view={Lazy::<pipelines::PipelineRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("pipelines/:id/runs/:run") view={Lazy::<pipelines::RunRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("routes") view={Lazy::<routes::RoutesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("routes/:id") view={Lazy::<routes::RouteRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("topics") view={Lazy::<routes::TopicsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("deploys") view={Lazy::<routes::DeploysRoute>::new()} ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Entry point of the WASM bundle: hydrates the server-rendered page, first fetching the
/// chunk of a lazy route when the page is one.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(App);
}
