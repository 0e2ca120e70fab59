//! `kartoteka eval`: scores a clustering against truth (pairwise and B-cubed P/R/F1).

use crate::standard_csv;
use anyhow::Result;
use std::path::PathBuf;

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
