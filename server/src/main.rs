//! The `switchyard` binary:
//! - `switchyard` (or `switchyard serve`) runs the control plane with the console;
//! - `switchyard worker --pool NAME --concurrency N` runs a worker pool (its jobs and its
//!   route handlers) that talks to the control plane over NATS only (`NATS_URL`), and
//!   drains on SIGTERM;
//! - `switchyard openapi` prints the REST API's OpenAPI document (for client generators and
//!   the validator `make test` runs);
//! - `switchyard plan|deploy|dev|publish|logs` deploy a directory's routes and topics
//!   through the REST API (once, or on every change) and read their log (`server::cli`).
//!
//! Configuration comes from the environment (see README.md).

use std::sync::Arc;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage:
  switchyard [serve]                                   control plane and console
  switchyard worker [--pool NAME] [--concurrency N]    a worker pool (needs NATS_URL)
  switchyard openapi                                   print the REST API's OpenAPI document
  switchyard plan [DIR]                                what deploying DIR would change (nothing is saved)
  switchyard deploy [DIR] [--yes]                      save DIR as the drafts, show the plan, deploy
  switchyard dev [DIR]                                 deploy DIR, then again on every change to it
  switchyard publish TOPIC [JSON]                      publish a message (JSON, or stdin)
  switchyard logs [ROUTE|TOPIC] [--follow]             the route log (one route's: 'GET /users/{id}'),
                                                       or a topic's messages and deliveries

DIR (default .) holds switchyard.toml (or switchyard.json, a downloaded manifest); the CLI
calls SWITCHYARD_URL with SWITCHYARD_API_KEY, in SWITCHYARD_WORKSPACE (or workspace = in
switchyard.toml).

Configuration is read from the environment; see README.md.";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match args.first().map(String::as_str) {
        None | Some("serve") => {
            init_logging();
            let config = server::config::Config::from_env()?;
            runtime()?.block_on(server::serve(config))
        }
        Some("worker") => {
            let (pool, concurrency) = worker_args(&args[1..])?;
            init_logging();
            runtime()?.block_on(worker(pool, concurrency))
        }
        Some(command @ ("plan" | "deploy" | "dev" | "publish" | "logs")) => {
            let command = command.to_owned();
            runtime()?.block_on(cli(&command, &args[1..]))
        }
        Some("openapi") => {
            println!("{}", server::http::api::openapi().to_pretty_json()?);
            Ok(())
        }
        Some("--help") | Some("-h") | Some("help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => anyhow::bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

fn worker_args(args: &[String]) -> anyhow::Result<(String, u32)> {
    let mut pool = workers::pools::DEFAULT_POOL.to_owned();
    let mut concurrency = 4u32;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value\n\n{USAGE}"))?;
        match flag.as_str() {
            "--pool" => pool = workers::pools::PoolName::parse(value)?.as_str().to_owned(),
            "--concurrency" => {
                concurrency = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or_else(|| {
                        anyhow::anyhow!("--concurrency must be a number from 1 to 256")
                    })?
            }
            other => anyhow::bail!("unknown option {other:?}\n\n{USAGE}"),
        }
    }
    Ok((pool, concurrency))
}

async fn worker(pool: String, concurrency: u32) -> anyhow::Result<()> {
    let url = std::env::var("NATS_URL").map_err(|_| {
        anyhow::anyhow!("NATS_URL must name the NATS server the control plane uses")
    })?;
    let bus: Arc<dyn workers::bus::Bus> =
        Arc::new(workers::bus::nats::NatsBus::connect(&url).await?);
    let data_dir =
        std::path::PathBuf::from(std::env::var("DATA_DIR").unwrap_or_else(|_| "./data".into()));
    let code = server::config::CodeConfig::from_env(&data_dir).map_err(|e| anyhow::anyhow!(e))?;
    let keyring =
        server::config::load_keyring(&data_dir).map_err(|e| anyhow::anyhow!("SECRETS_KEY: {e}"))?;
    let mut config = workers::runtime::WorkerConfig::new(&pool, concurrency);
    config.kinds = server::job_kinds(
        server::code::CodeEngine::new(code, Arc::new(keyring)),
        bus.clone(),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // The pool's route handlers too (the gateway asks `sy.routes.{pool}.invoke`).
    let handlers = tokio::spawn(workers::routes::serve(
        bus.clone(),
        pool.clone(),
        concurrency as usize,
        stopped.clone(),
    ));
    let mut pool_task = tokio::spawn(workers::runtime::run_pool(bus, config, stopped));
    tokio::select! {
        // The pool ended by itself: it could not start (or failed); say why and exit.
        ended = &mut pool_task => return Ok(ended??),
        _ = server::shutdown_signal() => {}
    }
    let _ = stop.send(true);
    pool_task.await??;
    handlers.await??;
    Ok(())
}

/// The default log filter: the index engines (LanceDB, DataFusion, Tantivy) log every table
/// write at INFO, which would drown the server's own lines.
const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,tower_http=info,lancedb=warn,lance=warn,\
lance_core=warn,lance_datafusion=warn,lance_encoding=warn,lance_file=warn,lance_index=warn,\
lance_io=warn,lance_linalg=warn,lance_table=warn,datafusion=warn,tantivy=warn";

fn init_logging() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init();
    } else {
        builder.init();
    }
}

async fn cli(command: &str, args: &[String]) -> anyhow::Result<()> {
    use server::cli;
    let client = cli::Client::from_env()?;
    let yes = args.iter().any(|a| a == "--yes" || a == "-y");
    let rest: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let dir = |i: usize| std::path::PathBuf::from(rest.get(i).map_or(".", |s| s.as_str()));
    match command {
        "plan" => {
            let plan = cli::plan(&client, &dir(0)).await?;
            print!("{}", cli::render_plan(&plan));
            if !plan.problems.is_empty() {
                anyhow::bail!("the plan has {} problem(s)", plan.problems.len());
            }
        }
        "deploy" => {
            let confirm = || {
                if yes {
                    return true;
                }
                eprint!("Deploy these changes? [y/N] ");
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer).is_ok()
                    && matches!(answer.trim(), "y" | "Y" | "yes")
            };
            match cli::deploy(&client, &dir(0), |text| print!("{text}"), confirm).await? {
                cli::Deployed::Unchanged => {
                    println!("nothing to deploy: the directory is what is live")
                }
                cli::Deployed::NotConfirmed => println!("not deployed (the drafts are saved)"),
                cli::Deployed::Version(v) => println!("deployed: version {v} is live"),
            }
        }
        "dev" => {
            let dir = dir(0);
            println!(
                "watching {}; deploying on every change (Ctrl-C to stop)",
                dir.display()
            );
            let at = || chrono::Utc::now().format("%H:%M:%S");
            cli::dev(&client, &dir, cli::DEV_EVERY, |event| {
                match event {
                    cli::DevEvent::Deployed { version, plan } => {
                        print!("{plan}");
                        println!("[{}] deployed: version {version} is live", at());
                    }
                    cli::DevEvent::Unchanged => {
                        println!("[{}] up to date: the directory is what is live", at())
                    }
                    cli::DevEvent::Refused(why) => {
                        eprintln!("[{}] not deployed: {why}", at());
                        eprintln!("  (what was live stays live; fix it and save again)");
                    }
                }
                true
            })
            .await?;
        }
        "logs" => {
            let follow = args.iter().any(|a| a == "--follow" || a == "-f");
            let print = |line: &str| {
                println!("{line}");
                true
            };
            let here = std::path::Path::new(".");
            match rest.first().map(|r| r.as_str()) {
                // A topic's name has no space ('GET /users/{id}' does); `unmatched` is the
                // route log's requests no route matched.
                Some(topic) if !topic.contains(' ') && topic != "unmatched" => {
                    cli::topic_tail(&client, here, topic, follow, print).await?
                }
                route => cli::logs(&client, here, route, follow, print).await?,
            }
        }
        _ => {
            let topic = rest.first().ok_or_else(|| {
                anyhow::anyhow!("name the topic: switchyard publish TOPIC [JSON]\n\n{USAGE}")
            })?;
            let message = match rest.get(1) {
                Some(text) => (*text).clone(),
                None => std::io::read_to_string(std::io::stdin())?,
            };
            let id = cli::publish(&client, std::path::Path::new("."), topic, &message).await?;
            println!("published {id}");
        }
    }
    Ok(())
}
