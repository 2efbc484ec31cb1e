//! Switchyard's control plane: configuration, the store, authentication, tenancy, and the
//! HTTP front door (REST API, console, probes, metrics). `main.rs` is a thin shell over
//! [`serve`].

pub mod accounts;
pub mod auth;
pub mod code;
pub mod config;
pub mod console;
pub mod control;
pub mod http;
pub mod jobs;
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
    let bus: Arc<dyn workers::bus::Bus> = match &config.nats_url {
        Some(url) => Arc::new(workers::bus::nats::NatsBus::connect(url).await?),
        None => Arc::new(workers::bus::memory::InProcessBus::new()),
    };
    tracing::info!(nats = config.nats_url.is_some(), "bus ready");
    let job_service = Arc::new(jobs::Jobs::new(
        store.clone(),
        bus.clone(),
        config.jobs.clone(),
    ));
    let job_tasks = job_service.start().await?;
    let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
    let embedded_indexers = config.embedded_indexers;
    let embedded_workers = config.embedded_workers;
    let control = Arc::new(control::Control::new(
        store.clone(),
        Arc::new(config),
        job_service,
    ));
    let mut embedded = Vec::new();
    if embedded_workers > 0 {
        let worker = workers::runtime::WorkerConfig::new("default", embedded_workers);
        embedded.push(tokio::spawn(workers::runtime::run_pool(
            bus.clone(),
            worker,
            workers_stop.clone(),
        )));
    }
    if embedded_indexers > 0 {
        let mut worker = workers::runtime::WorkerConfig::new(code::INDEXER_POOL, embedded_indexers);
        worker.handlers = code::handlers(control.code().clone());
        embedded.push(tokio::spawn(workers::runtime::run_pool(
            bus.clone(),
            worker,
            workers_stop,
        )));
    }
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
    let _ = stop_workers.send(true);
    for worker in embedded {
        let _ = worker.await;
    }
    for task in job_tasks {
        task.abort();
    }
    store.close().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
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
