//! `kartoteka executor`: a worker of a linkage cluster (Apache DataFusion Ballista), with
//! kartoteka's comparison and scoring functions registered. See `docs/distributed.md`.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The scheduler's HOST:PORT (as given to `kartoteka scheduler --bind`).
    #[arg(long)]
    scheduler: String,
    /// Address of this executor's data service (other executors and clients fetch results there).
    #[arg(long, default_value = "127.0.0.1:50051")]
    bind: SocketAddr,
    /// Port of this executor's task service (default: the data port + 1).
    #[arg(long)]
    grpc_port: Option<u16>,
    /// Host name by which the scheduler, other executors and clients reach this executor.
    #[arg(long)]
    external_host: Option<String>,
    /// Folder for shuffle files (default: a new temporary folder).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Tasks run at once (default: one per core).
    #[arg(long, default_value_t = 0)]
    concurrent_tasks: usize,
    /// Seconds between heartbeats to the scheduler.
    #[arg(long, default_value_t = 5)]
    heartbeat: u64,
    /// Seconds to wait for the scheduler to accept connections before giving up.
    #[arg(long, default_value_t = 60)]
    scheduler_wait: u64,
}

pub fn run(args: &Args) -> Result<()> {
    crate::scheduler::init_logging();
    let (host, port) = args
        .scheduler
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
        .with_context(|| format!("--scheduler {:?}: expected HOST:PORT", args.scheduler))?;
    let grpc_port = match args.grpc_port {
        Some(p) => p,
        None => args.bind.port().checked_add(1).context("--bind port 65535 leaves no port for --grpc-port")?,
    };
    eprintln!("kartoteka executor on {} (tasks on port {grpc_port}), scheduler {host}:{port}", args.bind);
    distributed::run_executor(&distributed::ExecutorOptions {
        scheduler_host: host,
        scheduler_port: port,
        bind: args.bind,
        grpc_port,
        external_host: args.external_host.clone(),
        work_dir: args.work_dir.clone(),
        concurrent_tasks: args.concurrent_tasks,
        heartbeat_seconds: args.heartbeat,
        scheduler_wait_seconds: args.scheduler_wait,
    })?;
    Ok(())
}
