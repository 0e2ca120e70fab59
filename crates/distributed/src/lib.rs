//! Linkage on an Apache DataFusion Ballista cluster, with `link`'s own code doing the work.
//!
//! [`udf`] exposes blocking, comparison and scoring as DataFusion functions over record payloads
//! ([`wire`]) that a worker prepares with `link` ([`batch`]); [`process`] runs the scheduler and
//! executor processes with those functions registered; [`client`] runs a linkage whose pair work
//! (candidate join, comparison, scoring) happens on the cluster and whose training and clustering
//! happen on the client, giving the same persons as a local run.

pub mod batch;
pub mod client;
pub mod process;
pub mod udf;
pub mod wire;

pub use client::{ClusterReport, ClusterRun, link_in_process, link_on_cluster, parse_url};
pub use process::{ExecutorOptions, SchedulerOptions, run_executor, run_scheduler};
pub use wire::MatcherKind;

use datafusion::execution::{FunctionRegistry, SessionState};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error("{0:?} is not a cluster address: expected df://HOST:PORT")]
    BadUrl(String),
    #[error("cannot reach the scheduler at {url}: {reason} (is `kartoteka scheduler` running there?)")]
    Unreachable { url: String, reason: String },
    #[error("the scheduler at {url} has no executor after {waited} s ({status}); start `kartoteka executor --scheduler HOST:PORT`")]
    NotReady { url: String, waited: u64, status: String },
    #[error("cluster job {job} failed: {reason}")]
    JobFailed { job: String, reason: String },
    #[error(transparent)]
    Link(#[from] link::pipeline::LinkError),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
    #[error("malformed data between client and workers: {0}")]
    Wire(String),
    #[error("not supported on a cluster: {0}")]
    Unsupported(&'static str),
    #[error("{0}")]
    Process(String),
}

/// Registers our functions in a session (client or scheduler side).
pub fn register_functions(state: &mut SessionState) -> datafusion::common::Result<()> {
    for f in udf::functions() {
        state.register_udf(f)?;
    }
    Ok(())
}
