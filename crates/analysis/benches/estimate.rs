//! Times every estimator on the shared MSE tables (`cargo bench -p analysis --bench estimate`),
//! for the "Estimation" section of BENCHMARKS.md. Prints one line per method and table.
//! Arguments narrow the run: table name fragments (`kosovo`) and family names (`lcmcr`);
//! `lcmcr-chain` adds one LCMCR chain of the R reference length (110,500 sweeps; alone, without a
//! family name, it runs only that chain); `seed=N` sets the LCMCR seed, `burn-in=N` and
//! `samples=N` the chain's length (short runs for `valgrind --tool=callgrind`).

use analysis::estimate::{Family, Options, OverlapTable, estimate, lcmcr};
use std::time::Instant;

/// CPU seconds used so far by the whole process, all threads (`/proc/self/stat`, 100 ticks/s):
/// on this shared machine wall time mostly measures the neighbours' load.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<f64> = after_name
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the name.
    (fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0)) / 100.0
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/mse");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    // `seed=N` sets the LCMCR seed.
    let mut options = Options::default();
    if let Some(seed) = args.iter().find_map(|a| a.strip_prefix("seed=")) {
        options.lcmcr.seed = seed.parse().expect("seed=N with a whole number");
    }
    if let Some(burn_in) = args.iter().find_map(|a| a.strip_prefix("burn-in=")) {
        options.lcmcr.burn_in = burn_in.parse().expect("burn-in=N with a whole number");
    }
    if let Some(samples) = args.iter().find_map(|a| a.strip_prefix("samples=")) {
        options.lcmcr.samples = samples.parse().expect("samples=N with a whole number");
    }
    let chain_only = args.iter().any(|a| a == "lcmcr-chain");
    let families: Vec<Family> = args.iter().filter_map(|a| Family::parse(a)).collect();
    let families = if families.is_empty() && chain_only {
        Vec::new()
    } else if families.is_empty() {
        Family::ALL.to_vec()
    } else {
        families
    };
    let tables: Vec<&String> = args
        .iter()
        .filter(|a| {
            Family::parse(a).is_none()
                && *a != "lcmcr-chain"
                && !a.starts_with("seed=")
                && !a.starts_with("burn-in=")
                && !a.starts_with("samples=")
        })
        .collect();
    for name in ["kosovo_1999_4list", "uk_2013_5list", "new_orleans_5list"] {
        if !tables.is_empty() && !tables.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let text = std::fs::read_to_string(format!("{dir}/{name}.csv")).expect("shared MSE table");
        let table = OverlapTable::parse_csv(&text).expect("valid table");
        for &family in &families {
            let (started, cpu) = (Instant::now(), process_cpu_seconds());
            let rows = estimate(&table, &[family], &options);
            let (seconds, cpu) = (started.elapsed().as_secs_f64(), process_cpu_seconds() - cpu);
            for row in rows {
                println!(
                    "{name}\t{}\twall {:.3}s\tcpu {:.2}s\t{}\t[{}, {}]",
                    row.method,
                    seconds,
                    cpu,
                    row.estimate.map_or("null".into(), |v| format!("{v:.1}")),
                    row.lower.map_or("null".into(), |v| format!("{v:.0}")),
                    row.upper.map_or("null".into(), |v| format!("{v:.0}")),
                );
                if family == Family::Lcmcr {
                    println!("\t{}", row.model);
                }
            }
        }
        if !chain_only {
            continue;
        }
        // One LCMCR chain of 110,500 sweeps: the R package's reference run.
        let one_chain = lcmcr::LcmcrOptions {
            chains: 1,
            ..options.lcmcr.clone()
        };
        let (started, cpu) = (Instant::now(), process_cpu_seconds());
        let run = lcmcr::run(&table, &one_chain);
        println!(
            "{name}\tlcmcr one chain\twall {:.3}s\tcpu {:.2}s\tmedian {:.0}, mean {:.0}, [{:.0}, {:.0}]",
            started.elapsed().as_secs_f64(),
            process_cpu_seconds() - cpu,
            run.median,
            run.mean,
            run.lower,
            run.upper
        );
    }
}
