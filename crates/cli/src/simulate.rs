//! `kartoteka simulate`: writes a simulated multi-list register with its truth, in the standard
//! schema and in the column layout of the Splink benchmark runner.

use crate::standard_csv;
use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Invented persons (some appear on no list: the uncounted that estimation is about).
    #[arg(long)]
    persons: usize,
    /// Number of lists (at least 1).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    lists: u16,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder: records.csv, truth.csv, and splink/{records,truth}.csv.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: &Args) -> Result<()> {
    let register = link::simulate::simulate(args.persons, usize::from(args.lists), args.seed);
    let splink_dir = args.out.join("splink");
    std::fs::create_dir_all(&splink_dir).with_context(|| format!("{}: cannot create", splink_dir.display()))?;
    standard_csv::write(&args.out.join("records.csv"), &register.records)?;
    for dir in [&args.out, &splink_dir] {
        let mut truth = csv::Writer::from_path(dir.join("truth.csv"))?;
        truth.write_record(["record_id", "person_id"])?;
        for (r, p) in &register.truth {
            truth.write_record([r.as_str(), p.as_str()])?;
        }
        truth.flush()?;
    }
    let mut splink = csv::Writer::from_path(splink_dir.join("records.csv"))?;
    splink.write_record(link::simulate::SPLINK_HEADER)?;
    for r in &register.records {
        splink.write_record(link::simulate::splink_row(r))?;
    }
    splink.flush()?;
    let listed: std::collections::HashSet<&str> = register.truth.iter().map(|(_, person)| person.as_str()).collect();
    eprintln!(
        "simulated {} records of {} persons in {} lists ({} of {} invented persons on no list) into {}",
        register.records.len(),
        listed.len(),
        register.lists.len(),
        args.persons.saturating_sub(listed.len()),
        args.persons,
        args.out.display()
    );
    Ok(())
}
