//! Linkage benchmark: `cargo bench -p link --bench linkage -- febrl4 | sim N [SEED]`.
//! Times the whole run (records in memory to persons) and scores it against the truth; run it
//! under `/usr/bin/time -v` for peak memory. Splink runs beside it via `shared/bench/run_splink.py`.

use link::{FoldingMatcher, LinkInputs, LinkSpec, LinkType};
use model::{RecordId, SourceId, StandardRecord};
use std::time::Instant;

const FEBRL4: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/febrl/febrl4");

/// FEBRL files have no quoted cells, so a plain split reads them.
fn read_febrl(path: &str, source: &str) -> Vec<StandardRecord> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let mut r = StandardRecord { source: Some(SourceId::new(source)), ..StandardRecord::default() };
            for (h, v) in header.iter().zip(cells) {
                let v = v.trim();
                if v.is_empty() {
                    continue;
                }
                match *h {
                    "record_id" => r.id = RecordId::new(v),
                    "given_name" => r.given_name = Some(v.to_owned()),
                    "surname" => r.surname = Some(v.to_owned()),
                    other => {
                        r.other.insert(other.to_owned(), v.to_owned());
                    }
                }
            }
            r
        })
        .collect()
}

fn read_truth(path: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().skip(1).filter_map(|l| l.split_once(',')).map(|(a, b)| (a.to_owned(), b.to_owned())).collect()
}

fn run(name: &str, records: &[StandardRecord], truth: &[(String, String)], spec: LinkSpec) {
    let start = Instant::now();
    let spec = LinkSpec { fields: LinkSpec::infer(records).fields, blocking: LinkSpec::infer(records).blocking, ..spec };
    let inputs = LinkInputs::first_run(&spec, &FoldingMatcher);
    let outcome = link::link(records, &inputs).expect("links");
    let seconds = start.elapsed().as_secs_f64();
    let clusters: Vec<(String, String)> =
        records.iter().zip(&outcome.persons).map(|(r, p)| (r.id.to_string(), p.to_string())).collect();
    let m = link::metrics::evaluate(truth, &clusters);
    println!(
        "{}",
        serde_json::json!({
            "data": name, "records": records.len(), "seconds": seconds, "candidate_pairs": outcome.candidate_pairs,
            "pair_precision": m.pair_precision, "pair_recall": m.pair_recall, "pair_f1": m.pair_f1,
            "bcubed_precision": m.bcubed_precision, "bcubed_recall": m.bcubed_recall, "bcubed_f1": m.bcubed_f1,
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("febrl4") => {
            let mut records = read_febrl(&format!("{FEBRL4}/a.csv"), "a");
            records.extend(read_febrl(&format!("{FEBRL4}/b.csv"), "b"));
            let truth = read_truth(&format!("{FEBRL4}/truth.csv"));
            run("febrl4", &records, &truth, LinkSpec { link_type: LinkType::LinkOnly, ..LinkSpec::default() });
        }
        Some("sim") => {
            let persons: usize = args.get(1).and_then(|a| a.parse().ok()).expect("sim PERSONS [SEED]");
            let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(7);
            let register = link::simulate::simulate(persons, 5, seed);
            let truth: Vec<(String, String)> = register.truth.iter().map(|(r, p)| (r.to_string(), p.clone())).collect();
            run(&format!("simulated register, {persons} persons, seed {seed}"), &register.records, &truth, LinkSpec::default());
        }
        _ => eprintln!("usage: cargo bench -p link --bench linkage -- febrl4 | sim PERSONS [SEED]"),
    }
}
