//! The SparseMSE stepwise refinement (Chan, Silverman & Vincent 2021): from the main-effects
//! model, add the two-list interaction whose observed overlap is least likely under the current
//! fit (two-sided Poisson tail probability), while that probability is below 0.02 and the
//! enlarged model passes the existence and identifiability check. A pair of lists that never
//! overlaps keeps its interaction at minus infinity: the cells containing both lists are dropped
//! and the parameter with them. Interval: Wald on the log of the unobserved count.

use super::existence::{self, Existence};
use super::glm::fit_poisson;
use super::hierarchical::HierarchicalModel;
use super::loglinear::{ModelFit, summarize, wald_log_interval};
use super::table::OverlapTable;
use super::{Estimate, thousands};
use statrs::distribution::{DiscreteCDF, Poisson};

pub const THRESHOLD: f64 = 0.02;

/// Every pair of lists, as masks.
pub fn all_pairs(lists: usize) -> Vec<u32> {
    (0..lists)
        .flat_map(|i| (i + 1..lists).map(move |j| 1u32 << i | 1 << j))
        .collect()
}

/// The model over the retained cells: cells containing a non-overlapping pair of the model are
/// dropped, and so is that pair's parameter.
struct Reduced {
    cells: Vec<u32>,
    counts: Vec<f64>,
    model: HierarchicalModel,
    empty_pairs: Vec<u32>,
}

fn reduce(table: &OverlapTable, pairs: &[u32]) -> Reduced {
    let empty_pairs: Vec<u32> = pairs
        .iter()
        .copied()
        .filter(|&p| table.recorded_by_all(p) == 0)
        .collect();
    let cells: Vec<u32> = table
        .patterns()
        .filter(|&c| empty_pairs.iter().all(|&p| c & p != p))
        .collect();
    let counts = cells.iter().map(|&c| table.count(c) as f64).collect();
    let kept = pairs.iter().copied().filter(|p| !empty_pairs.contains(p));
    Reduced {
        cells,
        counts,
        model: HierarchicalModel::closure(table.lists(), kept),
        empty_pairs,
    }
}

/// The existence and identifiability check for a set of pairs, as SparseMSE's `checkident`.
pub fn check(table: &OverlapTable, pairs: &[u32]) -> Existence {
    let r = reduce(table, pairs);
    existence::check(&r.model.design(&r.cells), &r.counts)
}

/// Fits the model with these pairs; AIC counts the parameters of non-overlapping pairs too.
pub(crate) fn fit_pairs(table: &OverlapTable, pairs: &[u32]) -> Result<ModelFit, String> {
    fit(table, pairs).map(|(f, r)| ModelFit {
        aic: f.aic + 2.0 * r.empty_pairs.len() as f64,
        ..f
    })
}

fn fit(table: &OverlapTable, pairs: &[u32]) -> Result<(ModelFit, Reduced), String> {
    let r = reduce(table, pairs);
    let design = r.model.design(&r.cells);
    let fit = fit_poisson(&design, &r.counts, None).map_err(|e| e.to_string())?;
    Ok((summarize(table, r.model.clone(), fit, r.cells.len()), r))
}

/// Two-sided Poisson tail probability of seeing `observed` when `expected` is the mean.
fn tail_probability(observed: u64, expected: f64) -> f64 {
    let Ok(poisson) = Poisson::new(expected) else {
        return 1.0;
    };
    let lower = poisson.cdf(observed);
    let upper = if observed == 0 {
        1.0
    } else {
        poisson.sf(observed - 1)
    };
    lower.min(upper)
}

fn pair_name(pair: u32) -> String {
    let lists: Vec<String> = (0..32)
        .filter(|j| pair >> j & 1 == 1)
        .map(|j| (j + 1).to_string())
        .collect();
    lists.join(":")
}

/// What the stepwise selection chose.
pub struct Selection {
    /// The two-way interactions chosen, each as the bit mask of its two lists.
    pub pairs: Vec<u32>,
    /// Per step, the pair added and its tail probability.
    pub steps: Vec<(u32, f64)>,
}

/// The stepwise selection.
pub fn stepwise(table: &OverlapTable, threshold: f64) -> Result<Selection, String> {
    let candidates = all_pairs(table.lists());
    let mut chosen: Vec<u32> = Vec::new();
    let mut steps = Vec::new();
    let (mut current, mut reduced) = fit(table, &chosen)?;
    loop {
        let mut best: Option<(u32, f64)> = None;
        for &pair in candidates.iter().filter(|p| !chosen.contains(p)) {
            let expected: f64 = reduced
                .cells
                .iter()
                .zip(&current.fit.fitted)
                .filter(|(c, _)| **c & pair == pair)
                .map(|(_, mu)| mu)
                .sum();
            let mut p = tail_probability(table.recorded_by_all(pair), expected);
            if p < threshold {
                let enlarged: Vec<u32> = chosen.iter().copied().chain([pair]).collect();
                if !check(table, &enlarged).passes() {
                    p = 1.0;
                }
            }
            if best.is_none_or(|(_, bp)| p < bp) {
                best = Some((pair, p));
            }
        }
        match best {
            Some((pair, p)) if p < threshold => {
                chosen.push(pair);
                steps.push((pair, p));
                (current, reduced) = fit(table, &chosen)?;
            }
            _ => return Ok(Selection { pairs: chosen, steps }),
        }
    }
}

pub fn estimate(table: &OverlapTable) -> Estimate {
    let observed = table.observed();
    let Selection { pairs, steps } = match stepwise(table, THRESHOLD) {
        Ok(s) => s,
        Err(reason) => return Estimate::refused("sparsemse", observed, "stepwise", reason),
    };
    if let Some(reason) = check(table, &pairs).reason() {
        return Estimate::refused(
            "sparsemse",
            observed,
            "stepwise",
            format!("the selected model fails the check: {reason}"),
        );
    }
    let (fit, reduced) = match fit(table, &pairs) {
        Ok(f) => f,
        Err(reason) => return Estimate::refused("sparsemse", observed, "stepwise", reason),
    };
    let (lower, upper) = wald_log_interval(&fit);
    let added: Vec<String> = steps
        .iter()
        .map(|(pair, p)| format!("{} (p={:.2e})", pair_name(*pair), p))
        .collect();
    let mut warnings = Vec::new();
    if !reduced.empty_pairs.is_empty() {
        let names: Vec<String> = reduced.empty_pairs.iter().map(|&p| pair_name(p)).collect();
        warnings.push(format!(
            "lists {} never overlap: their interaction is set to minus infinity",
            names.join(", ")
        ));
    }
    Estimate {
        method: "sparsemse".into(),
        estimate: Some(fit.estimate),
        lower: Some(lower),
        upper: Some(upper),
        observed,
        model: format!(
            "main effects{}{}; stepwise by Poisson tail probability of pairwise overlaps < {THRESHOLD}, each model checked for existence; Wald interval on log unseen ({} unseen)",
            if added.is_empty() { "" } else { " + " },
            added.join(" + "),
            thousands(fit.unobserved)
        ),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::estimate::test_table as table;

    #[test]
    fn artificial_table_checks_as_published() {
        // Chan, Silverman & Vincent, Table 2: all pairs not identifiable; AB has no finite MLE;
        // AC and BC pass both tests.
        let t = table("artificial_3list_sparsemse.csv");
        let (ab, ac, bc) = (0b011, 0b101, 0b110);
        assert_eq!(
            check(&t, &[ab, ac, bc]),
            Existence {
                finite: true,
                identifiable: false
            }
        );
        assert_eq!(
            check(&t, &[ab]),
            Existence {
                finite: false,
                identifiable: true
            }
        );
        assert!(!check(&t, &[ab, ac]).finite);
        assert!(check(&t, &[ac, bc]).passes());
        assert!(check(&t, &[]).passes());
    }

    #[test]
    fn uk_matches_the_published_stepwise_fit() {
        let e = estimate(&table("uk_2013_5list.csv"));
        let (n, lo, hi) = (e.estimate.unwrap(), e.lower.unwrap(), e.upper.unwrap());
        assert!((n - 11313.0).abs() < 1.0, "{n}");
        assert!(
            (lo - 9884.0).abs() < 2.0 && (hi - 13027.0).abs() < 2.0,
            "{lo} {hi}"
        );
    }

    #[test]
    fn kosovo_and_new_orleans_match_the_published_fits() {
        let e = estimate(&table("kosovo_1999_4list.csv"));
        assert!((e.estimate.unwrap() - 14341.7).abs() < 0.5, "{e:?}");
        let e = estimate(&table("new_orleans_5list.csv"));
        assert!((e.estimate.unwrap() - 1034.2).abs() < 0.5, "{e:?}");
        assert!(
            (e.lower.unwrap() - 658.0).abs() < 2.0 && (e.upper.unwrap() - 1709.0).abs() < 2.0,
            "{e:?}"
        );
    }
}
