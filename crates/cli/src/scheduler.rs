//! `kartoteka scheduler`: the scheduler of a linkage cluster (Apache DataFusion Ballista), with
//! kartoteka's functions registered so it can plan jobs that call them. See `docs/distributed.md`.

use anyhow::Result;
use std::net::SocketAddr;

#[derive(clap::Args)]
pub struct Args {
    /// Address for clients and executors (gRPC) and for health and progress over HTTP
    /// (`/healthz`, `/readyz`, `/api/executors`, `/api/jobs`).
    #[arg(long, default_value = "127.0.0.1:50050")]
    bind: SocketAddr,
    /// Host name by which executors and clients reach this scheduler (default: the bind address).
    #[arg(long)]
    external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor counts as lost and its tasks re-run.
    #[arg(long, default_value_t = 30)]
    executor_timeout: u64,
}

pub fn run(args: &Args) -> Result<()> {
    init_logging();
    eprintln!("kartoteka scheduler listening on {} (health: http://{}/readyz)", args.bind, args.bind);
    distributed::run_scheduler(&distributed::SchedulerOptions {
        bind: args.bind,
        external_host: args.external_host.clone(),
        executor_timeout_seconds: args.executor_timeout,
    })?;
    Ok(())
}

/// Log lines of the cluster processes on stderr; `RUST_LOG` overrides the level.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,h2=warn,tower=warn,hyper=warn"));
    let _already_set = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).with_ansi(false).try_init();
}
