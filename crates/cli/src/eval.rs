//! `kartoteka eval`: scores a clustering against truth (pairwise and B-cubed P/R/F1).

use crate::standard_csv;
use anyhow::{Result, bail};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Truth: record_id,person_id.
    #[arg(long)]
    truth: PathBuf,
    /// Clusters: record_id,person_id (or cluster_id); missing records are singletons.
    #[arg(long)]
    clusters: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let truth = standard_csv::read_assignment(&args.truth)?;
    let clusters = standard_csv::read_assignment(&args.clusters)?;
    check_against_truth(&truth, &clusters, &args.truth, &args.clusters)?;
    let pairs = |rows: Vec<(u64, String, String)>| rows.into_iter().map(|(_, record, group)| (record, group)).collect::<Vec<_>>();
    let (truth, clusters) = (pairs(truth), pairs(clusters));
    let m = link::metrics::evaluate(&truth, &clusters);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&m)?);
    } else {
        println!("records {}  clusters {}  persons {}", m.n_records, m.n_clusters, m.n_persons);
        println!("pairwise  P {:.4}  R {:.4}  F1 {:.4}", m.pair_precision, m.pair_recall, m.pair_f1);
        println!("B-cubed   P {:.4}  R {:.4}  F1 {:.4}", m.bcubed_precision, m.bcubed_recall, m.bcubed_f1);
    }
    Ok(())
}

/// The clusters must be of the truth's records: a record the truth does not know means the two
/// files are of different registers, and scores would silently leave it out.
fn check_against_truth(truth: &[(u64, String, String)], clusters: &[(u64, String, String)], truth_path: &Path, clusters_path: &Path) -> Result<()> {
    if truth.is_empty() {
        bail!("{}: no records to score against", truth_path.display());
    }
    let known: HashSet<&str> = truth.iter().map(|(_, record, _)| record.as_str()).collect();
    if let Some((line, record, _)) = clusters.iter().find(|(_, record, _)| !known.contains(record.as_str())) {
        bail!("{}: row {line}, column record_id: {record:?} is not in {}", clusters_path.display(), truth_path.display());
    }
    Ok(())
}
