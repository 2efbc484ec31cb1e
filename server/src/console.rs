//! The web console: Leptos server-side rendering and server functions, wired to the control
//! plane through the per-domain contracts of `shared::contracts` (each implemented in its
//! domain's `console.rs`). The console crate (`app`) never sees the store; every call
//! authenticates the session and runs the same operation the REST API runs.

use crate::control::Control;
use app::{shell, App};
use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use shared::contracts::Console;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The console routes (pages, server functions, static assets).
pub fn router(control: Arc<Control>, max_body: usize) -> Router {
    let config = control.config();
    let options = LeptosOptions::builder()
        .output_name("switchyard")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build();
    let console = Console {
        accounts: control.accounts.clone(),
        tenancy: control.tenancy.clone(),
        jobs: control.jobs.clone(),
        code: control.code.clone(),
        secrets: control.secrets.clone(),
        pipelines: control.pipelines.clone(),
        routes: control.routes.clone(),
    };
    let routes = generate_route_list(App);
    let context = move || provide_context(console.clone());
    // The bundle as the build left it, pre-compressed (`make console` writes `.br` and `.gz`
    // beside each file): a browser that accepts br or gzip gets those bytes. File names
    // carry no content hash, so caches revalidate (a 304 when unchanged) instead of keeping
    // a stale bundle that would call server functions the server no longer has.
    let bundle = ServeDir::new(config.site_root.join("pkg"))
        .precompressed_br()
        .precompressed_gzip();
    let revalidate = SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    Router::new()
        .nest_service(
            "/pkg",
            tower::ServiceBuilder::new()
                .layer(revalidate)
                .service(bundle),
        )
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(RequestBodyLimitLayer::new(max_body))
}
