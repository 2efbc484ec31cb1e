//! The `switchyard` binary: `switchyard` (or `switchyard serve`) runs the control plane with
//! the console; configuration comes from the environment (see README.md).

use tracing_subscriber::EnvFilter;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => {}
        Some("--help") | Some("-h") | Some("help") => {
            println!("usage: switchyard [serve]\n\nRuns the control plane and the console. Configuration is read from the environment; see README.md.");
            return Ok(());
        }
        Some(other) => anyhow::bail!("unknown command {other:?}; try `switchyard --help`"),
    }
    init_logging();
    let config = server::config::Config::from_env()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(server::serve(config))
}

fn init_logging() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
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
