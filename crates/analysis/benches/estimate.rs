//! Times every estimator on the shared MSE tables (`cargo bench -p analysis --bench estimate`),
//! for the "Estimation" section of BENCHMARKS.md. Prints one line per method and table.
//! Arguments narrow the run: table name fragments (`kosovo`) and family names (`lcmcr`);
//! `lcmcr-chain` adds one LCMCR chain of the R reference length (110,000 sweeps).

use analysis::estimate::{Family, Options, OverlapTable, estimate, lcmcr};
use std::time::Instant;

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mse");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let families: Vec<Family> = args.iter().filter_map(|a| Family::parse(a)).collect();
    let families = if families.is_empty() {
        Family::ALL.to_vec()
    } else {
        families
    };
    let tables: Vec<&String> = args
        .iter()
        .filter(|a| Family::parse(a).is_none() && *a != "lcmcr-chain")
        .collect();
    for name in ["kosovo_1999_4list", "uk_2013_5list", "new_orleans_5list"] {
        if !tables.is_empty() && !tables.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let text = std::fs::read_to_string(format!("{dir}/{name}.csv")).expect("shared MSE table");
        let table = OverlapTable::parse_csv(&text).expect("valid table");
        for &family in &families {
            let started = Instant::now();
            let rows = estimate(&table, &[family], &Options::default());
            let seconds = started.elapsed().as_secs_f64();
            for row in rows {
                println!(
                    "{name}\t{}\t{:.3}s\t{}\t[{}, {}]",
                    row.method,
                    seconds,
                    row.estimate.map_or("null".into(), |v| format!("{v:.1}")),
                    row.lower.map_or("null".into(), |v| format!("{v:.0}")),
                    row.upper.map_or("null".into(), |v| format!("{v:.0}")),
                );
            }
        }
        if !args.iter().any(|a| a == "lcmcr-chain") {
            continue;
        }
        // One LCMCR chain of 110,000 sweeps: the R package's reference run.
        let one_chain = lcmcr::LcmcrOptions {
            chains: 1,
            ..Default::default()
        };
        let started = Instant::now();
        let run = lcmcr::run(&table, &one_chain);
        println!(
            "{name}\tlcmcr one chain 110,000 sweeps\t{:.3}s\tmedian {:.0}, mean {:.0}, [{:.0}, {:.0}]",
            started.elapsed().as_secs_f64(),
            run.median,
            run.mean,
            run.lower,
            run.upper
        );
    }
}
