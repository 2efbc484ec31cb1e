//! Switchyard's control plane: one folder per domain (`accounts`, `tenancy`, `jobs`,
//! `code`, `secrets`, `pipelines`, `routes`), each with its operations, routes, store functions and records; beneath them the
//! store connection, authentication primitives, configuration and the clock; above them the
//! [`control::Control`] facade, the HTTP front door and the console. This file wires them
//! ([`control_plane`]) and serves ([`serve`]); `main.rs` is a thin shell over it.

pub mod accounts;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod code;
pub mod config;
pub mod console;
pub mod control;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod paths;
pub mod pipelines;
pub mod routes;
pub mod secrets;
pub mod store;
pub mod tenancy;

use std::sync::Arc;
use workers::bus::Bus;

/// The control plane over `store` and `bus`: every domain's service, wired. Background work
/// (the job service's loops) starts with `control.jobs.engine().start()`.
pub fn control_plane(
    store: store::Store,
    config: config::Config,
    bus: Arc<dyn Bus>,
) -> Arc<control::Control> {
    let config = Arc::new(config);
    let engine = code::CodeEngine::new(config.code.clone(), config.secrets.clone());
    let jobs = Arc::new(jobs::Jobs::new(
        store.clone(),
        bus.clone(),
        config.jobs.clone(),
        job_kinds(engine.clone(), bus),
    ));
    jobs.observe(Arc::new(code::RepositoryObserver {
        store: store.clone(),
        engine: engine.clone(),
    }));
    let accounts = Arc::new(accounts::Accounts::new(store.clone(), config.clone()));
    let tenancy = Arc::new(tenancy::Tenancy::new(
        store.clone(),
        config.clone(),
        accounts.clone(),
    ));
    tenancy.observe(jobs.clone());
    tenancy.observe(Arc::new(code::WorkspaceFiles {
        store: store.clone(),
        engine: engine.clone(),
    }));
    let job_ops = Arc::new(jobs::JobOps::new(
        store.clone(),
        tenancy.clone(),
        jobs.clone(),
    ));
    let pipelines = Arc::new(pipelines::PipelineOps::new(
        store.clone(),
        tenancy.clone(),
        jobs.clone(),
        config.public_url.clone(),
        config.secrets.clone(),
        config.pipeline_pool.clone(),
    ));
    let code_ops = Arc::new(code::CodeOps::new(
        store.clone(),
        tenancy.clone(),
        jobs.clone(),
        engine,
    ));
    let secrets = Arc::new(secrets::Secrets::new(
        store.clone(),
        tenancy.clone(),
        config.secrets.clone(),
    ));
    let gateway = routes::Gateway::new(
        store.clone(),
        jobs.clone(),
        pipelines.clone(),
        accounts.clone(),
        config.gateway.clone(),
    );
    let route_ops = Arc::new(routes::RouteOps::new(
        store.clone(),
        tenancy.clone(),
        jobs.clone(),
        gateway.clone(),
    ));
    tenancy.observe(route_ops.clone());
    jobs.answer_with(Arc::new(routes::PublishRequests::new(&route_ops)));
    Arc::new(control::Control::new(
        store, config, accounts, tenancy, job_ops, code_ops, secrets, pipelines, route_ops, gateway,
    ))
}

/// The job kinds of a control plane or worker process: the built-in ones, index runs,
/// pipeline runs (these two need the code engine: the indexes, the model and the secrets'
/// key; a run's publish nodes ask the control plane on `bus`) and topic deliveries.
pub fn job_kinds(engine: Arc<code::CodeEngine>, bus: Arc<dyn Bus>) -> workers::kinds::Kinds {
    code::kinds(engine.clone())
        .with(pipelines::runner::RunKind::new(engine, bus))
        .with(workers::routes::DeliverKind)
}

/// A worker of `pool` with `slots` inside the control plane's process: this process's job
/// kinds, and its claims, reports and steps handed straight to the job service (no bus
/// round trip each) unless the bus is shared with other deployments, whose jobs it may
/// pull too. On an in-process bus (no worker elsewhere), it claims the pool's jobs from the
/// store itself, without tickets (`jobs/claims.rs`).
pub fn embedded_worker(
    control: &control::Control,
    pool: &str,
    slots: u32,
) -> workers::runtime::WorkerConfig {
    let mut worker = workers::runtime::WorkerConfig::new(pool, slots);
    worker.kinds = job_kinds(control.code.engine().clone(), control.jobs.engine().bus());
    let jobs = control.jobs.engine();
    if !jobs.config().shared_bus {
        let link = Arc::new(jobs::StoreLink::new(jobs.clone()));
        if !jobs.bus().is_durable() {
            worker.claims = Some(link.clone());
        }
        worker.link = Some(link);
    }
    worker
}

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
    let (embedded_workers, embedded_indexers, embedded_pipeline_workers) = (
        config.embedded_workers,
        config.embedded_indexers,
        config.embedded_pipeline_workers,
    );
    let pipeline_pool = config.pipeline_pool.clone();
    let embedded_route_workers = config.embedded_route_workers;
    let control = control_plane(store.clone(), config, bus.clone());
    control.secrets.reseal_all().await?;
    let job_tasks = control.jobs.engine().start().await?;
    let scheduler = control
        .pipelines
        .start_scheduler(std::time::Duration::from_secs(1));
    let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
    let mut embedded = Vec::new();
    if embedded_workers > 0 {
        let mut worker = embedded_worker(&control, "default", embedded_workers);
        worker.kinds = workers::kinds::Kinds::builtin();
        embedded.push(tokio::spawn(workers::runtime::run_pool(
            bus.clone(),
            worker,
            workers_stop.clone(),
        )));
    }
    if embedded_indexers > 0 {
        let worker = embedded_worker(&control, workers::pools::INDEXER_POOL, embedded_indexers);
        embedded.push(tokio::spawn(workers::runtime::run_pool(
            bus.clone(),
            worker,
            workers_stop.clone(),
        )));
    }
    if embedded_pipeline_workers > 0 {
        let worker = embedded_worker(&control, &pipeline_pool, embedded_pipeline_workers);
        embedded.push(tokio::spawn(workers::runtime::run_pool(
            bus.clone(),
            worker,
            workers_stop.clone(),
        )));
    }
    if embedded_route_workers > 0 {
        // The route pool answers handlers (request/reply) and delivers topics' messages
        // (durable jobs).
        let pool = control.gateway.config().pool.clone();
        embedded.push(tokio::spawn(workers::routes::serve(
            bus.clone(),
            pool.clone(),
            embedded_route_workers as usize,
            workers_stop.clone(),
        )));
        let worker = embedded_worker(&control, &pool, embedded_route_workers);
        embedded.push(tokio::spawn(workers::runtime::run_pool(
            bus.clone(),
            worker,
            workers_stop.clone(),
        )));
    }
    let watcher = control.gateway.clone().watch().await?;
    let gateway_addr = control.gateway.config().addr;
    let gateway_listener = tokio::net::TcpListener::bind(gateway_addr).await?;
    tracing::info!("gateway on http://{gateway_addr}/t/{{workspace}}/");
    let gateway_app = control
        .gateway
        .clone()
        .router()
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let gateway = tokio::spawn(async move {
        if let Err(e) = axum::serve(gateway_listener, gateway_app)
            .with_graceful_shutdown(shutdown_signal())
            .await
        {
            tracing::error!(error = %e, "the gateway stopped");
        }
    });
    let janitor = {
        let control = control.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                control.accounts.forget_idle_limits();
                control.pipelines.forget_idle_limits();
                control.routes.expire_messages().await;
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
    scheduler.abort();
    watcher.abort();
    gateway.abort();
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
