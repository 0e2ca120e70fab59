//! Throughput of the names crate on real names (Memorial's Moscow execution list, 11,788 full
//! names, read from `shared/data`): keys/s, prepared full-name comparisons/s, same-script and
//! cross-script, and Jaro-Winkler (strsim) on the same pairs as the peer figure. One thread,
//! timed in thread CPU seconds.
//!
//! Run: `cargo bench -p names --bench names`.

use names::{Part, PreparedName, System};
use std::hint::black_box;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/moscow-executed/mos_memo_executed_moscow.csv");

fn load_names() -> Vec<String> {
    let mut reader = csv::Reader::from_path(DATA).unwrap_or_else(|e| panic!("reading {DATA}: {e}"));
    let headers = reader.headers().expect("header").clone();
    let column = headers.iter().position(|h| h == "name").expect("a name column");
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|r| r.get(column).map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty())
        .collect()
}

/// CPU time of this thread in seconds: on a shared machine, wall time would measure the
/// neighbours' load, not this code.
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime failed");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Runs `work` (which performs `per_call` operations) for about a CPU second; ops per CPU second.
fn rate(per_call: usize, mut work: impl FnMut()) -> f64 {
    let start = thread_cpu_seconds();
    let mut calls = 0usize;
    while thread_cpu_seconds() - start < 1.0 || calls == 0 {
        work();
        calls += 1;
    }
    (calls * per_call) as f64 / (thread_cpu_seconds() - start)
}

fn main() {
    let cyrillic = load_names();
    // Half the list written as a German publication would write it, for cross-script pairs.
    let latin: Vec<String> = cyrillic.iter().map(|n| names::translit(n, System::German)).collect();
    let surnames: Vec<&str> = cyrillic.iter().filter_map(|n| n.split_whitespace().next()).collect();
    println!("names: {} (e.g. {:?} / {:?})", cyrillic.len(), cyrillic[1], latin[1]);

    let keys_per_s = rate(surnames.len(), || {
        for s in &surnames {
            black_box(names::key(s));
        }
    });
    let prepare_per_s = rate(cyrillic.len(), || {
        for n in &cyrillic {
            black_box(PreparedName::new(n, Part::Full));
        }
    });

    let prepared_cyrillic: Vec<PreparedName> = cyrillic.iter().map(|n| PreparedName::new(n, Part::Full)).collect();
    let prepared_latin: Vec<PreparedName> = latin.iter().map(|n| PreparedName::new(n, Part::Full)).collect();
    // Pairs as a blocked linkage sees them: each name against its 8 neighbours in sorted order
    // (similar names, the expensive case), plus the true cross-script partner.
    let mut order: Vec<usize> = (0..cyrillic.len()).collect();
    order.sort_by(|&a, &b| cyrillic[a].cmp(&cyrillic[b]));
    let pairs: Vec<(usize, usize)> =
        order.windows(9).flat_map(|w| (1..9).map(move |k| (w[0], w[k]))).collect();
    let same_script = rate(pairs.len(), || {
        for &(a, b) in &pairs {
            black_box(prepared_cyrillic[a].similarity(&prepared_cyrillic[b]));
        }
    });
    let cross_script = rate(pairs.len(), || {
        for &(a, b) in &pairs {
            black_box(prepared_cyrillic[a].similarity(&prepared_latin[b]));
        }
    });
    let partners = rate(cyrillic.len(), || {
        for i in 0..cyrillic.len() {
            black_box(prepared_cyrillic[i].similarity(&prepared_latin[i]));
        }
    });
    let lower: Vec<String> = cyrillic.iter().map(|n| n.to_lowercase()).collect();
    let lower_latin: Vec<String> = latin.iter().map(|n| n.to_lowercase()).collect();
    let jaro_same = rate(pairs.len(), || {
        for &(a, b) in &pairs {
            black_box(strsim::jaro_winkler(&lower[a], &lower[b]));
        }
    });
    let jaro_cross = rate(pairs.len(), || {
        for &(a, b) in &pairs {
            black_box(strsim::jaro_winkler(&lower[a], &lower_latin[b]));
        }
    });
    // What each finds: true cross-script partners judged the same.
    let found = (0..cyrillic.len())
        .filter(|&i| prepared_cyrillic[i].similarity(&prepared_latin[i]) >= names::SAME_THRESHOLD)
        .count();
    let jaro_found = (0..cyrillic.len()).filter(|&i| strsim::jaro_winkler(&lower[i], &lower_latin[i]) >= 0.9).count();

    println!("| measure | per second, one core |");
    println!("|---|---|");
    println!("| key() of a surname | {:.0} |", keys_per_s);
    println!("| PreparedName::new (full name, parse + encode) | {:.0} |", prepare_per_s);
    println!("| full-name similarity, Cyrillic vs Cyrillic neighbours | {:.0} |", same_script);
    println!("| full-name similarity, Cyrillic vs German-Latin neighbours | {:.0} |", cross_script);
    println!("| full-name similarity, true cross-script partners | {:.0} |", partners);
    println!("| peer: strsim::jaro_winkler, same pairs, Cyrillic vs Cyrillic | {:.0} |", jaro_same);
    println!("| peer: strsim::jaro_winkler, same pairs, Cyrillic vs German-Latin | {:.0} |", jaro_cross);
    println!(
        "cross-script partners judged same: names {found}/{n} ({:.1}%), jaro-winkler >= 0.9: {jaro_found}/{n} ({:.1}%)",
        100.0 * found as f64 / cyrillic.len() as f64,
        100.0 * jaro_found as f64 / cyrillic.len() as f64,
        n = cyrillic.len()
    );
}
