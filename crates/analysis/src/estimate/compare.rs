//! Cross-method warnings: where two methods' intervals do not even overlap, the reader must know
//! that the choice of method (its assumption about list dependence) decides the answer.

use super::{Estimate, thousands};

fn interval(e: &Estimate) -> Option<(f64, f64)> {
    Some((e.lower.or(e.estimate)?, e.upper.or(e.estimate)?))
}

/// Adds, to each method, a warning naming the methods whose intervals are disjoint from its own.
/// Two-list estimators are compared with nothing: they ignore the other lists by design.
pub fn add_disagreements(estimates: &mut [Estimate]) {
    let comparable: Vec<(usize, (f64, f64))> = estimates
        .iter()
        .enumerate()
        .filter(|(_, e)| e.family() != "chapman")
        .filter_map(|(i, e)| interval(e).map(|iv| (i, iv)))
        .collect();
    let mut notes: Vec<Vec<String>> = vec![Vec::new(); estimates.len()];
    for &(i, (lo_i, hi_i)) in &comparable {
        for &(j, (lo_j, hi_j)) in &comparable {
            if i != j && (hi_i < lo_j || hi_j < lo_i) {
                notes[i].push(format!(
                    "{} ({}-{})",
                    estimates[j].method,
                    thousands(lo_j),
                    thousands(hi_j)
                ));
            }
        }
    }
    for (e, others) in estimates.iter_mut().zip(notes) {
        if !others.is_empty() {
            e.warnings.push(format!(
                "its interval does not overlap those of {}: the methods' assumptions about list dependence, not the data, decide the number",
                others.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: &str, lo: f64, hi: f64) -> Estimate {
        Estimate {
            method: method.into(),
            estimate: Some((lo + hi) / 2.0),
            lower: Some(lo),
            upper: Some(hi),
            observed: 1,
            model: String::new(),
            warnings: vec![],
        }
    }

    #[test]
    fn flags_disjoint_intervals_only() {
        let mut rows = vec![
            row("bhs", 100.0, 200.0),
            row("lcmcr", 150.0, 250.0),
            row("dga", 300.0, 400.0),
            row("chapman:1x2", 10.0, 20.0),
        ];
        add_disagreements(&mut rows);
        assert_eq!(rows[1].warnings.len(), 1);
        assert!(
            rows[0].warnings[0].contains("dga (300-400)"),
            "{:?}",
            rows[0].warnings
        );
        assert!(
            rows[2].warnings[0].contains("bhs (100-200), lcmcr (150-250)"),
            "{:?}",
            rows[2].warnings
        );
        assert!(rows[3].warnings.is_empty());
    }
}
