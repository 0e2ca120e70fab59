//! `kartoteka link`: links files in the standard record schema into persons, or explains one pair.

use crate::standard_csv;
use anyhow::{Context, Result, bail};
use link::{FoldingMatcher, LinkInputs, LinkSpec, Linker};
use model::RecordId;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// CSV files in the standard record schema (a file without a `source` column is one source).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output folder for clusters.csv, pairs.csv and link_report.json.
    #[arg(long, required_unless_present = "explain")]
    out: Option<PathBuf>,
    /// A link spec (TOML); without one, comparisons are inferred from the columns.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Match probability at or above which records are linked (overrides the spec).
    #[arg(long, value_parser = parse_threshold)]
    threshold: Option<f64>,
    /// Print the waterfall of one pair as JSON instead of linking.
    #[arg(long, num_args = 2, value_names = ["ID1", "ID2"])]
    explain: Option<Vec<String>>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// Where the pair work of a linkage runs: here, or on a cluster (`link` and `build` take these).
#[derive(clap::Args)]
pub struct ClusterArgs {
    /// Compare and score the pairs on a cluster (`kartoteka scheduler`) instead of here; the
    /// persons are the same (needs the `distributed` feature; see docs/distributed.md).
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
    /// Folder for the cluster's Parquet inputs, readable by every executor at the same path
    /// (default: a scratch folder beside the outputs, removed afterwards).
    #[arg(long, requires = "cluster")]
    pub cluster_dir: Option<PathBuf>,
    /// Partitions of each shuffle on the cluster.
    #[arg(long, default_value_t = 8, requires = "cluster")]
    pub cluster_partitions: usize,
    /// Seconds to wait for the cluster's first executor.
    #[arg(long, default_value_t = 60, requires = "cluster")]
    pub cluster_wait: u64,
}

/// `--threshold`: a match probability strictly between 0 and 1 (at 1 nothing links, at 0
/// everything does); out of range it is a usage error, as a spec's threshold is a data error.
fn parse_threshold(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| *p > 0.0 && *p < 1.0)
        .ok_or_else(|| format!("`{text}` is not a probability strictly between 0 and 1"))
}

/// The spec from a file (missing fields and rules inferred) or inferred entirely.
fn load_spec(path: Option<&Path>, records: &[model::StandardRecord], threshold: Option<f64>) -> Result<LinkSpec> {
    let spec = match path {
        None => LinkSpec::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?;
            toml::from_str::<LinkSpec>(&text).with_context(|| format!("{}: not a link spec", p.display()))?
        }
    };
    complete_spec(spec, records, threshold)
}

/// A spec with the fields and blocking rules it leaves out inferred from the records, and the
/// threshold (overridden by `threshold` when given) checked.
pub fn complete_spec(spec: LinkSpec, records: &[model::StandardRecord], threshold: Option<f64>) -> Result<LinkSpec> {
    if let Some((key, message)) = store::unknown_link_column(&spec, records, |_| false) {
        bail!("link spec: {key}: {message}");
    }
    let mut spec = spec.completed_for(records);
    if let Some(t) = threshold {
        spec.threshold = t;
    }
    if !(spec.threshold > 0.0 && spec.threshold < 1.0) {
        bail!("threshold {} is not a probability strictly between 0 and 1", spec.threshold);
    }
    Ok(spec)
}

pub fn run(args: &Args) -> Result<()> {
    let mut warnings = Vec::new();
    let records = standard_csv::read_all(&args.files, &mut warnings)?;
    for w in warnings.iter().take(20) {
        eprintln!("warning: {w}");
    }
    if warnings.len() > 20 {
        eprintln!("warning: ... and {} more", warnings.len() - 20);
    }
    let spec = load_spec(args.spec.as_deref(), &records, args.threshold)?;
    let inputs = LinkInputs::first_run(&spec, &FoldingMatcher);
    if let Some(ids) = &args.explain {
        check_explained(ids, &records, &args.files)?;
        let linker = Linker::train(&records, &inputs)?;
        let explanation = linker.explain(&RecordId::new(ids[0].as_str()), &RecordId::new(ids[1].as_str()))?;
        println!("{}", serde_json::to_string_pretty(&explanation)?);
        return Ok(());
    }
    let out = args.out.as_ref().expect("clap requires --out without --explain");
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let (outcome, cluster_report) = match &args.cluster.cluster {
        None => (link::link(&records, &inputs)?, None),
        Some(url) => {
            let (outcome, report) = link_on_cluster(&args.cluster, url, &out.join(".cluster-input"), &records, &inputs)?;
            (outcome, Some(report))
        }
    };
    write_clusters(&out.join("clusters.csv"), records.iter().zip(&outcome.persons).map(|(r, p)| (r.id.as_str(), p.as_str())))?;
    write_pairs(
        &out.join("pairs.csv"),
        outcome.pairs.iter().map(|p| {
            (records[p.left as usize].id.as_str(), records[p.right as usize].id.as_str(), p.match_weight, p.match_probability)
        }),
    )?;
    let report = serde_json::json!({
        "records": records.len(),
        "persons": outcome.persons.iter().collect::<std::collections::BTreeSet<_>>().len(),
        "candidate_pairs": outcome.candidate_pairs,
        "blocking": outcome.blocking,
        "clustering": outcome.clustering,
        "internal_duplicates": outcome.internal_duplicates,
        "model": outcome.model,
        "spec": spec,
        "cluster": cluster_report,
    });
    std::fs::write(out.join("link_report.json"), serde_json::to_string_pretty(&report)?)?;
    eprintln!(
        "linked {} records into {} persons ({} candidate pairs, {} possible internal duplicates); wrote {}",
        records.len(),
        report["persons"],
        outcome.candidate_pairs,
        outcome.internal_duplicates.len(),
        out.display()
    );
    Ok(())
}

/// `--explain ID1 ID2` names two different records of the files.
fn check_explained(ids: &[String], records: &[model::StandardRecord], files: &[PathBuf]) -> Result<()> {
    let files = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ");
    for id in ids {
        if !records.iter().any(|r| r.id.as_str() == id) {
            bail!("--explain: no record {id:?} in column record_id of {files}");
        }
    }
    if ids[0] == ids[1] {
        bail!("--explain: {:?} twice; name two different records", ids[0]);
    }
    Ok(())
}

/// Links `records` with the pair work on the cluster at `url`; the Parquet inputs go to
/// `--cluster-dir`, or to `scratch`, which is removed afterwards.
#[cfg(feature = "distributed")]
pub fn link_on_cluster(
    cluster: &ClusterArgs,
    url: &str,
    scratch: &Path,
    records: &[model::StandardRecord],
    inputs: &LinkInputs,
) -> Result<(link::LinkOutcome, serde_json::Value)> {
    let work_dir = cluster.cluster_dir.as_deref().unwrap_or(scratch);
    let run = distributed::ClusterRun {
        url,
        work_dir,
        partitions: cluster.cluster_partitions,
        wait_for_executors: std::time::Duration::from_secs(cluster.cluster_wait),
        progress: &|line| eprintln!("{line}"),
    };
    let result = distributed::link_on_cluster(records, inputs, distributed::MatcherKind::Folding, &run);
    if cluster.cluster_dir.is_none() {
        // Our own scratch folder: gone whether the run succeeded or not.
        let _ignored = std::fs::remove_dir_all(scratch);
    }
    let (outcome, report) = result?;
    Ok((outcome, serde_json::to_value(report)?))
}

#[cfg(not(feature = "distributed"))]
pub fn link_on_cluster(
    _cluster: &ClusterArgs,
    _url: &str,
    _scratch: &Path,
    _records: &[model::StandardRecord],
    _inputs: &LinkInputs,
) -> Result<(link::LinkOutcome, serde_json::Value)> {
    bail!("--cluster needs kartoteka built with the `distributed` feature (cargo build --features distributed)")
}

/// Writes `clusters.csv` (the contract: `record_id,person_id`, one row per record).
pub fn write_clusters<'a>(path: &Path, rows: impl Iterator<Item = (&'a str, &'a str)>) -> Result<()> {
    let mut clusters = csv::Writer::from_path(path).with_context(|| format!("{}: cannot create", path.display()))?;
    clusters.write_record(["record_id", "person_id"])?;
    for (record, person) in rows {
        clusters.write_record([record, person])?;
    }
    clusters.flush()?;
    Ok(())
}

/// Writes `pairs.csv` (the contract: `record_id_l,record_id_r,match_weight,match_probability`),
/// weights to 4 decimals and probabilities to 6 so the file is byte-stable.
pub fn write_pairs<'a>(path: &Path, rows: impl Iterator<Item = (&'a str, &'a str, f64, f64)>) -> Result<()> {
    let mut pairs = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("{}: cannot create", path.display()))?,
    );
    writeln!(pairs, "record_id_l,record_id_r,match_weight,match_probability")?;
    let mut row = csv::Writer::from_writer(Vec::new());
    for (left, right, weight, probability) in rows {
        row.write_record([left, right, &format!("{weight:.4}"), &format!("{probability:.6}")])?;
    }
    pairs.write_all(&row.into_inner()?)?;
    pairs.flush()?;
    Ok(())
}
