//! Switchyard's control plane: configuration, the store, authentication, tenancy, and the
//! HTTP front door (REST API, console, probes, metrics). `main.rs` is a thin shell over
//! [`serve`].

pub mod accounts;
pub mod auth;
pub mod config;
pub mod console;
pub mod control;
pub mod http;
pub mod store;
pub mod tenancy;

use std::sync::Arc;

/// Connects the store, builds the router and serves until Ctrl-C or SIGTERM.
pub async fn serve(config: config::Config) -> anyhow::Result<()> {
    let store = store::Store::connect(
        &config.database_url,
        store::StoreOptions {
            app_role: config.database_app_role.clone(),
            ..Default::default()
        },
    )
    .await?;
    tracing::info!(backend = ?store.backend(), "store ready");
    let addr = config.addr;
    let control = Arc::new(control::Control::new(store.clone(), Arc::new(config)));
    let janitor = {
        let control = control.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                control.forget_idle_limits();
            }
        })
    };
    let app = http::router(control);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("console on http://{addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    janitor.abort();
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
