//! Table-driven verdict test: real spelling variants must be judged the same and confusable
//! different names must not. The tables are split in halves; the thresholds and rules were tuned
//! on `tune` only, and the assertions that matter are on `held-out`.

use names::{Part, compare};

struct Pair {
    split: String,
    part: Part,
    a: String,
    b: String,
}

fn load(text: &str) -> Vec<Pair> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 4, "bad row {line:?}");
            Pair { split: f[0].to_string(), part: f[1].parse().expect("part"), a: f[2].to_string(), b: f[3].to_string() }
        })
        .collect()
}

/// (share judged same, the pairs judged against expectation) for one split.
fn rate(pairs: &[Pair], split: &str, expect_same: bool) -> (f64, usize, Vec<String>) {
    let chosen: Vec<&Pair> = pairs.iter().filter(|p| p.split == split).collect();
    let mut same = 0;
    let mut wrong = Vec::new();
    for p in &chosen {
        let c = compare(&p.a, &p.b, p.part);
        if c.same {
            same += 1;
        }
        if c.same != expect_same {
            wrong.push(format!("{} {} | {} score {:.3} {:?}", p.part, p.a, p.b, c.score, c.rules));
        }
    }
    (same as f64 / chosen.len() as f64, chosen.len(), wrong)
}

#[test]
fn verdicts_on_variant_and_confusable_pairs() {
    let same = load(include_str!("data/same.tsv"));
    let different = load(include_str!("data/different.tsv"));
    assert!(same.len() >= 300 && different.len() >= 300, "{} same, {} different", same.len(), different.len());
    for split in ["tune", "held-out"] {
        let (recall, n_same, missed) = rate(&same, split, true);
        let (false_match, n_diff, wrongly_same) = rate(&different, split, false);
        eprintln!("{split}: recall {recall:.3} over {n_same}, false-match rate {false_match:.3} over {n_diff}");
        for line in missed.iter().chain(&wrongly_same) {
            eprintln!("  {split} wrong: {line}");
        }
        if split == "held-out" {
            assert!(recall >= 0.97, "held-out recall {recall:.3} < 0.97");
            assert!(false_match <= 0.03, "held-out false-match rate {false_match:.3} > 0.03");
        }
    }
}
