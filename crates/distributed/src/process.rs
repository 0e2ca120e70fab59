//! The scheduler and executor processes, with our functions registered on both, so that a plan
//! calling them is planned by the scheduler and run by any executor.

use crate::ClusterError;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// How the scheduler runs.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// Address for gRPC (clients, executors) and HTTP (`/healthz`, `/readyz`, `/api/*`).
    pub bind: SocketAddr,
    /// The host name executors and clients use to reach this scheduler.
    pub external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor counts as lost and its tasks re-run.
    pub executor_timeout_seconds: u64,
}

/// How an executor runs.
#[derive(Clone, Debug)]
pub struct ExecutorOptions {
    pub scheduler_host: String,
    pub scheduler_port: u16,
    /// Address of the Arrow Flight service that serves this executor's shuffle output.
    pub bind: SocketAddr,
    /// Port of the executor's gRPC service (tasks from the scheduler).
    pub grpc_port: u16,
    /// The host name the scheduler, other executors and clients use to reach this executor.
    pub external_host: Option<String>,
    /// Where shuffle files go.
    pub work_dir: Option<PathBuf>,
    /// Tasks run at once (0: one per core).
    pub concurrent_tasks: usize,
    pub heartbeat_seconds: u64,
    /// Seconds to wait for the scheduler to accept connections (it may be starting too).
    pub scheduler_wait_seconds: u64,
}

/// The scheduler's session builder: Ballista's defaults plus our functions.
fn session_builder(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let mut state = default_session_builder(config)?;
    crate::register_functions(&mut state)?;
    Ok(state)
}

fn runtime() -> Result<tokio::runtime::Runtime, ClusterError> {
    // Ballista's own binaries use large stacks for deep plans.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 * 1024 * 1024)
        .build()
        .map_err(|e| ClusterError::Process(format!("cannot start the runtime: {e}")))
}

/// Runs a scheduler until the process is stopped.
pub fn run_scheduler(options: &SchedulerOptions) -> Result<(), ClusterError> {
    let mut config = SchedulerConfig::default()
        .with_hostname(options.external_host.clone().unwrap_or_else(|| options.bind.ip().to_string()))
        .with_port(options.bind.port())
        .with_override_session_builder(Arc::new(session_builder));
    config.bind_host = options.bind.ip().to_string();
    config.executor_timeout_seconds = options.executor_timeout_seconds;
    config.expire_dead_executor_interval_seconds = options.executor_timeout_seconds.div_ceil(3).clamp(1, 15);
    config.no_executors_grace_period_seconds = options.executor_timeout_seconds;
    runtime()?.block_on(async {
        let cluster = BallistaCluster::new_from_config(&config).await.map_err(|e| ClusterError::Process(e.to_string()))?;
        start_server(cluster, options.bind, Arc::new(config))
            .await
            .map_err(|e| ClusterError::Process(format!("scheduler on {}: {e}", options.bind)))
    })
}

/// Waits until the scheduler accepts a connection, at most `options.scheduler_wait_seconds`:
/// Ballista's executor gives up at once when the scheduler is not yet listening, and an executor
/// started beside a scheduler that is still starting (a machine's boot, a loaded test run) would
/// never join.
fn wait_for_scheduler(options: &ExecutorOptions) -> Result<(), ClusterError> {
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::{Duration, Instant};
    let address = format!("{}:{}", options.scheduler_host, options.scheduler_port);
    let started = Instant::now();
    loop {
        let attempt = (options.scheduler_host.as_str(), options.scheduler_port).to_socket_addrs().and_then(|mut addrs| {
            let first = addrs.next().ok_or_else(|| std::io::Error::other("the host name has no address"))?;
            TcpStream::connect_timeout(&first, Duration::from_secs(2))
        });
        match attempt {
            Ok(_) => return Ok(()),
            Err(e) if started.elapsed() >= Duration::from_secs(options.scheduler_wait_seconds) => {
                return Err(ClusterError::Unreachable {
                    url: address,
                    reason: format!("{e} (waited {} s)", options.scheduler_wait_seconds),
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

/// Runs an executor until the process is stopped.
pub fn run_executor(options: &ExecutorOptions) -> Result<(), ClusterError> {
    wait_for_scheduler(options)?;
    let mut registry = BallistaFunctionRegistry::default();
    for f in crate::udf::functions() {
        registry.scalar_functions.insert(f.name().to_owned(), f);
    }
    if let Some(dir) = &options.work_dir {
        std::fs::create_dir_all(dir).map_err(|e| ClusterError::Io { path: dir.display().to_string(), reason: e.to_string() })?;
    }
    let config = ExecutorProcessConfig {
        bind_host: options.bind.ip().to_string(),
        port: options.bind.port(),
        grpc_port: options.grpc_port,
        external_host: options.external_host.clone(),
        scheduler_host: options.scheduler_host.clone(),
        scheduler_port: options.scheduler_port,
        work_dir: options.work_dir.as_ref().map(|d| d.display().to_string()),
        vcores: options.concurrent_tasks,
        executor_heartbeat_interval_seconds: options.heartbeat_seconds,
        override_function_registry: Some(Arc::new(registry)),
        ..ExecutorProcessConfig::default()
    };
    runtime()?.block_on(async {
        start_executor_process(Arc::new(config))
            .await
            .map_err(|e| ClusterError::Process(format!("executor on {}: {e}", options.bind)))
    })
}
