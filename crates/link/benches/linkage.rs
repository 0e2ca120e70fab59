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

/// This process's user + system CPU seconds so far (Linux `/proc/self/stat`, in clock ticks of
/// 1/100 s), so each stage's CPU shows beside its wall time on a shared machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after_name = &stat[stat.rfind(')').expect("stat has a name") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks = |i: usize| fields[i].parse::<f64>().expect("clock ticks");
    // Fields 14 and 15 of the file (utime, stime), counted here from field 3.
    (ticks(11) + ticks(12)) / 100.0
}

/// This process's resident memory now and at its peak so far, in MiB (`VmRSS`, `VmHWM` of
/// `/proc/self/status`), so each stage shows what it holds and the run shows where its peak falls.
fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib = |field: &str| {
        let line = status.lines().find(|l| l.starts_with(field)).expect("a memory line");
        line.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).expect("kB") / 1024
    };
    (kib("VmRSS:"), kib("VmHWM:"))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn run(name: &str, records: &[StandardRecord], truth: &[(String, String)], spec: LinkSpec) {
    let start = Instant::now();
    let start_cpu = cpu_seconds();
    let (start_rss, _) = memory_mib();
    let (mut stages, mut last) = (serde_json::Map::new(), (start, start_cpu));
    let mut stage_done = |stage: &str| {
        let now = (Instant::now(), cpu_seconds());
        let wall = now.0.duration_since(last.0).as_secs_f64();
        let (rss, peak) = memory_mib();
        stages.insert(
            stage.to_owned(),
            serde_json::json!({ "wall": round3(wall), "cpu": round3(now.1 - last.1), "rss_mib": rss, "peak_rss_mib": peak }),
        );
        last = now;
    };
    let inferred = LinkSpec::infer(records);
    let spec = LinkSpec { fields: inferred.fields, blocking: inferred.blocking, ..spec };
    stage_done("infer spec");
    let inputs = LinkInputs::first_run(&spec, &FoldingMatcher);
    let outcome = link::pipeline::link_observed(records, &inputs, &mut stage_done).expect("links");
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - start_cpu;
    let clusters: Vec<(String, String)> =
        records.iter().zip(&outcome.persons).map(|(r, p)| (r.id.to_string(), p.to_string())).collect();
    let m = link::metrics::evaluate(truth, &clusters);
    let digest = outcome_digest(&outcome);
    println!(
        "{}",
        serde_json::json!({
            "data": name, "records": records.len(), "seconds": seconds, "cpu_seconds": round3(cpu), "rss_mib_before_linking": start_rss,
            "candidate_pairs": outcome.candidate_pairs, "stages": stages,
            "pair_precision": m.pair_precision, "pair_recall": m.pair_recall, "pair_f1": m.pair_f1,
            "bcubed_precision": m.bcubed_precision, "bcubed_recall": m.bcubed_recall, "bcubed_f1": m.bcubed_f1,
            "kept_pairs": outcome.pairs.len(), "outcome_digest": format!("{digest:016x}"),
        })
    );
}

/// An FNV-1a hash of every record's person and every kept pair's score: two runs with the same
/// digest wrote the same clusters.csv and pairs.csv, so a speed change shows it changed nothing.
fn outcome_digest(outcome: &link::LinkOutcome) -> u64 {
    let mut digest = model::Fnv1a::new();
    let mut eat = |bytes: &[u8]| digest.write(bytes);
    for p in &outcome.persons {
        eat(p.as_str().as_bytes());
        eat(b"\n");
    }
    for p in &outcome.pairs {
        eat(&p.left.to_le_bytes());
        eat(&p.right.to_le_bytes());
        eat(&p.match_weight.to_bits().to_le_bytes());
        eat(&p.match_probability.to_bits().to_le_bytes());
    }
    digest.finish()
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
