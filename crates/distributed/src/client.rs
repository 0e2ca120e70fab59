//! A linkage run whose pair work happens on a Ballista cluster.
//!
//! The client prepares and blocks the records with `link` (one pass over the records), writes
//! them as Parquet, and sends two jobs: the records grouped into their blocks, each block's pairs
//! compared and their agreement patterns counted (EM trains on the counts, here), then the same
//! blocks with every candidate scored by the trained model, returning only the pairs the run keeps. `link` clusters those here, so the same
//! input, spec and seed give the same persons, pairs and weights as a local run.

use crate::ClusterError;
use crate::udf::{BLOCK_KEPT, BLOCK_PATTERNS};
use crate::wire::{JobParams, MatcherKind, RecordPayload};
use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::arrow::array::{Array, BinaryArray, Float64Array, RecordBatch, UInt32Array, UInt64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::execution::SessionStateBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use link::pipeline::{LinkOutcome, PatternCount, ScoredPair, finish, keep_from};
use link::{Blocked, LinkInputs};
use model::StandardRecord;
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where and how to run.
pub struct ClusterRun<'a> {
    /// `df://HOST:PORT` of the scheduler.
    pub url: &'a str,
    /// A folder every executor can read at the same path (the records are written there).
    pub work_dir: &'a Path,
    /// Partitions of each shuffle (several per executor core spreads the work).
    pub partitions: usize,
    /// How long to wait for at least one executor to register.
    pub wait_for_executors: Duration,
    /// Where progress lines go (the CLI prints them to stderr).
    pub progress: &'a (dyn Fn(&str) + Sync),
}

/// What the cluster did, for the run report.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ClusterReport {
    pub scheduler: String,
    pub executors_ready: String,
    pub records_parquet_bytes: u64,
    pub blocks_parquet_bytes: u64,
    pub counting_seconds: f64,
    pub scoring_seconds: f64,
    pub kept_pairs: u64,
}

/// The scheduler's host and port from `df://HOST:PORT`.
pub fn parse_url(url: &str) -> Result<(String, u16), ClusterError> {
    let bad = || ClusterError::BadUrl(url.to_owned());
    let rest = url.strip_prefix("df://").ok_or_else(bad)?;
    let (host, port) = rest.trim_end_matches('/').rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// Links `records` with the pair work on the cluster (see the module docs).
pub fn link_on_cluster(
    records: &[StandardRecord],
    inputs: &LinkInputs,
    matcher: MatcherKind,
    run: &ClusterRun,
) -> Result<(LinkOutcome, ClusterReport), ClusterError> {
    let (host, port) = parse_url(run.url)?;
    let runtime = client_runtime()?;
    let executors_ready = runtime.block_on(wait_until_ready(&host, port, run))?;
    (run.progress)(&format!("cluster {}: {executors_ready}", run.url));
    let engine = Engine::Cluster { run, host, port };
    let (outcome, mut report) = link_with(&runtime, &engine, records, inputs, matcher, run.work_dir, run.progress)?;
    report.scheduler = run.url.to_owned();
    report.executors_ready = executors_ready;
    Ok((outcome, report))
}

/// The same jobs on a DataFusion session inside this process: what the cluster computes,
/// without one (tests check the SQL and the functions with it).
pub fn link_in_process(
    records: &[StandardRecord],
    inputs: &LinkInputs,
    matcher: MatcherKind,
    work_dir: &Path,
    partitions: usize,
) -> Result<(LinkOutcome, ClusterReport), ClusterError> {
    let runtime = client_runtime()?;
    link_with(&runtime, &Engine::InProcess { partitions }, records, inputs, matcher, work_dir, &|_| ())
}

fn client_runtime() -> Result<tokio::runtime::Runtime, ClusterError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ClusterError::Process(format!("cannot start the client runtime: {e}")))
}

fn link_with(
    runtime: &tokio::runtime::Runtime,
    engine: &Engine,
    records: &[StandardRecord],
    inputs: &LinkInputs,
    matcher: MatcherKind,
    work_dir: &Path,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(LinkOutcome, ClusterReport), ClusterError> {
    if inputs.new_from.is_some() {
        return Err(ClusterError::Unsupported("incremental linking (only new records) runs locally"));
    }
    let mut report = ClusterReport::default();
    let mut blocked = Blocked::new(records, inputs)?;
    std::fs::create_dir_all(work_dir).map_err(|e| io_error(work_dir, e))?;
    let tables = Tables { records: work_dir.join("records.parquet"), blocks: work_dir.join("blocks.parquet") };
    report.records_parquet_bytes = write_records(&tables.records, records, &blocked)?;
    report.blocks_parquet_bytes = write_blocks(&tables.blocks, &blocked)?;
    progress(&format!(
        "wrote {} records ({} bytes) and their block keys ({} bytes) to {}",
        records.len(),
        report.records_parquet_bytes,
        report.blocks_parquet_bytes,
        work_dir.display()
    ));

    let counting = JobParams::counting(&blocked, inputs.spec, matcher);
    let started = Instant::now();
    let counts = runtime.block_on(count_patterns(engine, &tables, &counting))?;
    report.counting_seconds = started.elapsed().as_secs_f64();
    let mut candidate_pairs = 0u64;
    for r in blocked.blocker.reports.iter_mut() {
        r.pairs = 0;
    }
    let mut pattern_counts: Vec<PatternCount> = Vec::with_capacity(counts.len());
    for (rule, pattern, mask, n) in counts {
        let r = blocked.blocker.reports.get_mut(rule as usize).ok_or_else(|| ClusterError::Wire(format!("rule {rule} unknown")))?;
        r.pairs += n;
        candidate_pairs += n;
        pattern_counts.push((pattern, mask, n));
    }
    progress(&format!("{candidate_pairs} candidate pairs counted in {:.1} s; training the model", report.counting_seconds));
    let linker = blocked.train(inputs, &pattern_counts)?;

    let scoring = counting.scoring(&linker.model, &linker.data, keep_from(inputs));
    let started = Instant::now();
    let scored = runtime.block_on(score_pairs(engine, &tables, &scoring))?;
    report.scoring_seconds = started.elapsed().as_secs_f64();
    report.kept_pairs = scored.len() as u64;
    progress(&format!("{} pairs kept in {:.1} s; clustering", scored.len(), report.scoring_seconds));
    Ok((finish(&linker, scored, inputs, candidate_pairs), report))
}

/// The Parquet files the jobs read.
struct Tables {
    records: PathBuf,
    blocks: PathBuf,
}

/// Where the jobs run.
enum Engine<'a> {
    Cluster { run: &'a ClusterRun<'a>, host: String, port: u16 },
    InProcess { partitions: usize },
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Io { path: path.display().to_string(), reason: e.to_string() }
}

/// One HTTP GET on the scheduler's port (it serves `/readyz` and `/api/*` beside gRPC).
async fn http_get(host: &str, port: u16, path: &str) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect((host, port)))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connection timed out after 5 s"))??;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 10 s"))??;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// Waits until the scheduler answers and has an executor; a clear error when it never does.
async fn wait_until_ready(host: &str, port: u16, run: &ClusterRun<'_>) -> Result<String, ClusterError> {
    if (host, port).to_socket_addrs().map(|mut a| a.next().is_none()).unwrap_or(true) {
        return Err(ClusterError::Unreachable { url: run.url.to_owned(), reason: format!("cannot resolve host {host:?}") });
    }
    let started = Instant::now();
    let mut reported = false;
    loop {
        let status = match http_get(host, port, "/readyz").await {
            Err(e) => return Err(ClusterError::Unreachable { url: run.url.to_owned(), reason: e.to_string() }),
            Ok((200, body)) => return Ok(body.trim().to_owned()),
            Ok((_, body)) => body.trim().to_owned(),
        };
        if started.elapsed() >= run.wait_for_executors {
            return Err(ClusterError::NotReady {
                url: run.url.to_owned(),
                waited: run.wait_for_executors.as_secs(),
                status,
            });
        }
        if !reported {
            (run.progress)(&format!("cluster {}: {status}; waiting for executors", run.url));
            reported = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Prints the scheduler's view of a running job (stages done) whenever it changes.
async fn watch_job(host: String, port: u16, job_name: String, progress: &(dyn Fn(&str) + Sync)) {
    let mut last = String::new();
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let Ok((200, body)) = http_get(&host, port, "/api/jobs").await else { continue };
        let Ok(jobs) = serde_json::from_str::<Vec<serde_json::Value>>(&body) else { continue };
        let line = jobs
            .iter()
            .filter(|j| j["job_name"] == job_name.as_str() && j["status"] == "Running")
            .map(|j| format!("{}: {} of {} stages done", j["job_id"].as_str().unwrap_or("?"), j["completed_stages"], j["num_stages"]))
            .collect::<Vec<_>>()
            .join("; ");
        if !line.is_empty() && line != last {
            progress(&format!("  job {job_name} {line}"));
            last = line;
        }
    }
}

fn writer_properties() -> WriterProperties {
    // Row groups small enough that a scan splits across executors.
    WriterProperties::builder().set_max_row_group_row_count(Some(65_536)).build()
}

fn write_parquet(path: &Path, schema: Arc<Schema>, batches: impl Iterator<Item = Result<RecordBatch, ClusterError>>) -> Result<u64, ClusterError> {
    let file = std::fs::File::create(path).map_err(|e| io_error(path, e))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(writer_properties())).map_err(|e| io_error(path, e))?;
    for batch in batches {
        writer.write(&batch?).map_err(|e| io_error(path, e))?;
    }
    writer.close().map_err(|e| io_error(path, e))?;
    Ok(std::fs::metadata(path).map_err(|e| io_error(path, e))?.len())
}

const CHUNK: usize = 65_536;

/// `records.parquet`: `rec` (input index) and the record's payload.
fn write_records(path: &Path, records: &[StandardRecord], blocked: &Blocked) -> Result<u64, ClusterError> {
    let schema = Arc::new(Schema::new(vec![Field::new("rec", DataType::UInt32, false), Field::new("payload", DataType::Binary, false)]));
    let batches = (0..records.len()).step_by(CHUNK).map(|start| {
        let end = (start + CHUNK).min(records.len());
        let payloads: Vec<Vec<u8>> = (start..end).map(|i| RecordPayload::new(&records[i], i, blocked).encode()).collect();
        let recs: Vec<u32> = (start as u32..end as u32).collect();
        let payloads = BinaryArray::from_iter_values(payloads);
        RecordBatch::try_new(schema.clone(), vec![Arc::new(UInt32Array::from(recs)), Arc::new(payloads)])
            .map_err(|e| io_error(path, e))
    });
    write_parquet(path, schema.clone(), batches)
}

/// `blocks.parquet`: one row per record and rule under which it has a block key.
fn write_blocks(path: &Path, blocked: &Blocked) -> Result<u64, ClusterError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("rule", DataType::UInt32, false),
        Field::new("key", DataType::UInt64, false),
        Field::new("rec", DataType::UInt32, false),
    ]));
    let n = blocked.data.len();
    let batches = (0..n).step_by(CHUNK).map(|start| {
        let (mut rules, mut keys, mut recs) = (Vec::new(), Vec::new(), Vec::new());
        for i in start..(start + CHUNK).min(n) {
            for (r, k) in blocked.blocker.record_keys(i).into_iter().enumerate() {
                if k != link::block::ABSENT {
                    rules.push(r as u32);
                    keys.push(k);
                    recs.push(i as u32);
                }
            }
        }
        RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(UInt32Array::from(rules)), Arc::new(UInt64Array::from(keys)), Arc::new(UInt32Array::from(recs))],
        )
        .map_err(|e| io_error(path, e))
    });
    write_parquet(path, schema.clone(), batches)
}

impl Engine<'_> {
    /// A session for one job, with our functions and the tables registered.
    async fn session(&self, job_name: &str, tables: &Tables) -> Result<SessionContext, ClusterError> {
        let partitions = match self {
            Engine::Cluster { run, .. } => run.partitions,
            Engine::InProcess { partitions } => *partitions,
        };
        let mut config = SessionConfig::new_with_ballista()
            .with_target_partitions(partitions.max(1))
            // Larger batches of blocks: a worker prepares each batch's records afresh (name forms,
            // vocabularies, level caches), so fewer, larger batches share that work among more pairs.
            .with_batch_size(BLOCKS_PER_BATCH)
            .with_ballista_job_name(job_name)
            // Partitioned joins only: a broadcast of the records would not scale.
            .with_ballista_broadcast_join_threshold_bytes(0)
            .with_ballista_broadcast_join_threshold_rows(0);
        config.options_mut().optimizer.hash_join_single_partition_threshold = 0;
        config.options_mut().optimizer.hash_join_single_partition_threshold_rows = 0;
        let mut state = SessionStateBuilder::new().with_default_features().with_config(config).build();
        crate::register_functions(&mut state).map_err(|e| job_error(job_name, e))?;
        let ctx = match self {
            Engine::Cluster { run, .. } => {
                SessionContext::remote_with_state(run.url, state).await.map_err(|e| job_error(job_name, e))?
            }
            Engine::InProcess { .. } => SessionContext::new_with_state(state),
        };
        // Ballista's upgrade of a state to a remote one resets its scalar functions: ours again.
        for f in crate::udf::functions() {
            ctx.register_udf(f.as_ref().clone());
        }
        for (name, path) in [("records", &tables.records), ("blocks", &tables.blocks)] {
            ctx.register_parquet(name, path_text(path)?, ParquetReadOptions::default()).await.map_err(|e| job_error(job_name, e))?;
        }
        Ok(ctx)
    }

    /// Runs one query, reporting progress while it runs on a cluster.
    async fn run(&self, job_name: &str, sql: &str, tables: &Tables) -> Result<Vec<RecordBatch>, ClusterError> {
        let ctx = self.session(job_name, tables).await?;
        let query = async {
            let df = ctx.sql(sql).await.map_err(|e| job_error(job_name, e))?;
            df.collect().await.map_err(|e| job_error(job_name, e))
        };
        match self {
            Engine::InProcess { .. } => query.await,
            Engine::Cluster { run, host, port } => {
                (run.progress)(&format!("job {job_name}: submitted to {}", run.url));
                let watcher = watch_job(host.clone(), *port, job_name.to_owned(), run.progress);
                tokio::select! {
                    result = query => result,
                    () = watcher => unreachable!("the watcher never ends"),
                }
            }
        }
    }
}

fn path_text(path: &Path) -> Result<String, ClusterError> {
    let absolute: PathBuf = std::path::absolute(path).map_err(|e| io_error(path, e))?;
    absolute.to_str().map(str::to_owned).ok_or_else(|| io_error(path, "path is not UTF-8"))
}

fn job_error(job: &str, e: impl std::fmt::Display) -> ClusterError {
    ClusterError::JobFailed { job: job.to_owned(), reason: e.to_string() }
}

/// Rows per batch in the jobs (DataFusion's default is 8,192).
const BLOCKS_PER_BATCH: usize = 32_768;

/// Every block with at least two records: its rule and its records' payloads. A record's payload
/// travels once per block it is in; the pairs exist only inside the functions that take a block.
const BLOCKS: &str = "WITH members AS (
    SELECT b.rule AS rule, b.key AS key, x.payload AS payload
    FROM blocks b JOIN records x ON b.rec = x.rec
), groups AS (
    SELECT rule, array_agg(payload) AS payloads FROM members GROUP BY rule, key HAVING COUNT(*) > 1
)";

fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn column<'b, T: 'static>(batch: &'b RecordBatch, i: usize, job: &str) -> Result<&'b T, ClusterError> {
    batch.column(i).as_any().downcast_ref::<T>().ok_or_else(|| job_error(job, format!("column {i} has type {}", batch.column(i).data_type())))
}

/// Job 1: `(rule, pattern, mask, pairs)` over all candidates (the mask of `link::pipeline::count_mask`).
async fn count_patterns(engine: &Engine<'_>, tables: &Tables, params: &JobParams) -> Result<Vec<(u32, u64, u64, u64)>, ClusterError> {
    let p = sql_literal(&params.to_json());
    let sql = format!(
        "{BLOCKS}
        SELECT rule, pattern, mask, SUM(n) AS n FROM (
            SELECT rule, c['pattern'] AS pattern, c['mask'] AS mask, c['n'] AS n
            FROM (SELECT rule, unnest({BLOCK_PATTERNS}({p}, rule, payloads)) AS c FROM groups) u
        ) v
        GROUP BY rule, pattern, mask"
    );
    let job = "kartoteka-link-patterns";
    let batches = engine.run(job, &sql, tables).await?;
    let mut out = Vec::new();
    for batch in &batches {
        let rule = cast(batch.column(0), &DataType::UInt32).map_err(|e| job_error(job, e))?;
        let rule = rule.as_any().downcast_ref::<UInt32Array>().ok_or_else(|| job_error(job, "rule column"))?;
        let n = cast(batch.column(3), &DataType::UInt64).map_err(|e| job_error(job, e))?;
        let n = n.as_any().downcast_ref::<UInt64Array>().ok_or_else(|| job_error(job, "count column"))?;
        let (pattern, mask) = (column::<UInt64Array>(batch, 1, job)?, column::<UInt64Array>(batch, 2, job)?);
        for i in 0..batch.num_rows() {
            out.push((rule.value(i), pattern.value(i), mask.value(i), n.value(i)));
        }
    }
    Ok(out)
}

/// Job 2: the kept pairs with their weights.
async fn score_pairs(engine: &Engine<'_>, tables: &Tables, params: &JobParams) -> Result<Vec<ScoredPair>, ClusterError> {
    let p = sql_literal(&params.to_json());
    let sql = format!(
        "{BLOCKS}
        SELECT s['l'] AS l, s['r'] AS r, s['w'] AS w
        FROM (SELECT unnest({BLOCK_KEPT}({p}, rule, payloads)) AS s FROM groups) u"
    );
    let job = "kartoteka-link-scores";
    let batches = engine.run(job, &sql, tables).await?;
    let mut out = Vec::new();
    for batch in &batches {
        let (l, r, w) = (column::<UInt32Array>(batch, 0, job)?, column::<UInt32Array>(batch, 1, job)?, column::<Float64Array>(batch, 2, job)?);
        for i in 0..batch.num_rows() {
            let score = link::fs::Score { weight: w.value(i), forbidden: false };
            out.push(ScoredPair { left: l.value(i), right: r.value(i), match_weight: score.weight, match_probability: score.probability() });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(url: &str) -> Result<(String, u16), String> {
        parse_url(url).map_err(|e| e.to_string())
    }

    #[test]
    fn cluster_addresses() {
        assert_eq!(parsed("df://127.0.0.1:50050"), Ok(("127.0.0.1".to_owned(), 50050)));
        assert_eq!(parsed("df://scheduler.example.org:7000/"), Ok(("scheduler.example.org".to_owned(), 7000)));
        let bad = |url: &str| Err(format!("{url:?} is not a cluster address: expected df://HOST:PORT"));
        for url in ["http://127.0.0.1:50050", "df://:50050", "df://host", "df://host:99999"] {
            assert_eq!(parsed(url), bad(url));
        }
    }
}
