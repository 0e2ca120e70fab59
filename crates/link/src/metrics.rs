//! Evaluation of a clustering against truth: cluster-implied pairwise and B-cubed precision,
//! recall and F1, counted exactly as `shared/bench/evaluate.py` counts them (records missing
//! from the clustering are singletons; clustered records missing from the truth are ignored).

use serde::Serialize;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    pub n_records: usize,
    pub n_clusters: usize,
    pub n_persons: usize,
    pub true_pairs: u64,
    pub pred_pairs: u64,
    pub tp_pairs: u64,
    pub pair_precision: f64,
    pub pair_recall: f64,
    pub pair_f1: f64,
    pub bcubed_precision: f64,
    pub bcubed_recall: f64,
    pub bcubed_f1: f64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 }
}

/// `truth`: (record, person); `clusters`: (record, cluster).
pub fn evaluate(truth: &[(String, String)], clusters: &[(String, String)]) -> Metrics {
    let cluster_of: HashMap<&str, &str> = clusters.iter().map(|(r, c)| (r.as_str(), c.as_str())).collect();
    let mut cluster_ids: HashMap<String, usize> = HashMap::new();
    let mut person_ids: HashMap<&str, usize> = HashMap::new();
    let mut cells: HashMap<(usize, usize), u64> = HashMap::new();
    for (record, person) in truth {
        let c = match cluster_of.get(record.as_str()) {
            Some(c) => (*c).to_owned(),
            None => format!("\u{0}single\u{0}{record}"),
        };
        let nc = cluster_ids.len();
        let ci = *cluster_ids.entry(c).or_insert(nc);
        let np = person_ids.len();
        let pi = *person_ids.entry(person.as_str()).or_insert(np);
        *cells.entry((ci, pi)).or_insert(0) += 1;
    }
    let mut csize = vec![0u64; cluster_ids.len()];
    let mut psize = vec![0u64; person_ids.len()];
    for (&(c, p), &n) in &cells {
        csize[c] += n;
        psize[p] += n;
    }
    let n = truth.len();
    let tp: u64 = cells.values().map(|&x| pairs(x)).sum();
    let pred: u64 = csize.iter().map(|&x| pairs(x)).sum();
    let true_pairs: u64 = psize.iter().map(|&x| pairs(x)).sum();
    let p = if pred > 0 { tp as f64 / pred as f64 } else { 1.0 };
    let r = if true_pairs > 0 { tp as f64 / true_pairs as f64 } else { 1.0 };
    // Summed in a fixed order: the map's order changes from run to run, and with it the last bits
    // of a float sum, and `eval` prints these figures.
    let mut ordered: Vec<((usize, usize), u64)> = cells.into_iter().collect();
    ordered.sort_unstable();
    let (mut bp, mut br) = (0.0, 0.0);
    for &((c, pi), x) in &ordered {
        let x = x as f64;
        bp += x * x / csize[c] as f64;
        br += x * x / psize[pi] as f64;
    }
    let nf = n.max(1) as f64;
    let (bp, br) = (bp / nf, br / nf);
    Metrics {
        n_records: n,
        n_clusters: csize.len(),
        n_persons: psize.len(),
        true_pairs,
        pred_pairs: pred,
        tp_pairs: tp,
        pair_precision: p,
        pair_recall: r,
        pair_f1: f1(p, r),
        bcubed_precision: bp,
        bcubed_recall: br,
        bcubed_f1: f1(bp, br),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(spec: &[(&str, &str)]) -> Vec<(String, String)> {
        spec.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn counts_like_the_reference_scorer() {
        // Truth: {1,2,3} {4,5}; clusters: {1,2} {3,4} and 5 missing (a singleton).
        let truth = rows(&[("1", "A"), ("2", "A"), ("3", "A"), ("4", "B"), ("5", "B")]);
        let clusters = rows(&[("1", "x"), ("2", "x"), ("3", "y"), ("4", "y"), ("9", "z")]);
        let m = evaluate(&truth, &clusters);
        assert_eq!((m.true_pairs, m.pred_pairs, m.tp_pairs), (4, 2, 1));
        assert_eq!((m.pair_precision, m.pair_recall), (0.5, 0.25));
        // B-cubed by hand: precision (2/2*2 + 1/2 + 1/2 + 1) / 5, recall (2*(2/3)+1/3+1/2+1/2)/5.
        assert!((m.bcubed_precision - 0.8).abs() < 1e-12);
        assert!((m.bcubed_recall - (4.0 / 3.0 + 1.0 / 3.0 + 1.0) / 5.0).abs() < 1e-12);
        assert_eq!(m.n_clusters, 3);
    }

    #[test]
    fn same_input_same_figures_to_the_last_bit() {
        // Thousands of cells of unequal sizes, so that a sum in the maps' (per-run random) order
        // would differ in its last bits from one call to the next.
        let truth: Vec<(String, String)> = (0..3000).map(|i| (format!("r{i}"), format!("p{}", i % 997))).collect();
        let clusters: Vec<(String, String)> = (0..3000).map(|i| (format!("r{i}"), format!("c{}", (i * 7) % 1013))).collect();
        let first = evaluate(&truth, &clusters);
        for _ in 0..8 {
            let again = evaluate(&truth, &clusters);
            assert_eq!(again.bcubed_precision.to_bits(), first.bcubed_precision.to_bits());
            assert_eq!(again.bcubed_recall.to_bits(), first.bcubed_recall.to_bits());
        }
    }
}
