//! Linkage uncertainty: the same estimators re-run over several linkages of the same records
//! (sampled from the match probabilities, or one per threshold), reporting how far each
//! estimator's answer moves. No R package carries this uncertainty into the estimate.

use super::table::{OverlapTable, TableError};
use super::{Estimate, Family, Options, estimate};

/// How one method's answer varies over the linkages.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Spread {
    pub method: String,
    /// The estimate under each linkage, in the order given (`None` where it had none).
    pub estimates: Vec<Option<f64>>,
    pub min: Option<f64>,
    pub median: Option<f64>,
    pub max: Option<f64>,
    /// The lowest lower and highest upper interval end over all linkages: an interval that
    /// carries both the sampling and the linkage uncertainty.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    /// Persons observed under each linkage (merging records changes it).
    pub observed: Vec<u64>,
}

/// Runs `families` on the capture histories of every linkage (one bit mask per person).
pub fn spread(
    lists: usize,
    linkages: &[Vec<u32>],
    families: &[Family],
    options: &Options,
) -> Result<Vec<Spread>, TableError> {
    let runs: Vec<Vec<Estimate>> = linkages
        .iter()
        .map(|histories| {
            OverlapTable::from_histories(lists, histories.iter().copied())
                .map(|t| estimate(&t, families, options))
        })
        .collect::<Result<_, _>>()?;
    let Some(first) = runs.first() else {
        return Ok(Vec::new());
    };
    Ok(first
        .iter()
        .map(|row| {
            let per: Vec<Option<&Estimate>> = runs
                .iter()
                .map(|r| r.iter().find(|e| e.method == row.method))
                .collect();
            let estimates: Vec<Option<f64>> =
                per.iter().map(|e| e.and_then(|e| e.estimate)).collect();
            let mut known: Vec<f64> = estimates.iter().flatten().copied().collect();
            known.sort_by(f64::total_cmp);
            let median = (!known.is_empty()).then(|| {
                let h = known.len() / 2;
                if known.len() % 2 == 1 {
                    known[h]
                } else {
                    (known[h - 1] + known[h]) / 2.0
                }
            });
            Spread {
                method: row.method.clone(),
                min: known.first().copied(),
                max: known.last().copied(),
                median,
                lower: per
                    .iter()
                    .flatten()
                    .filter_map(|e| e.lower)
                    .reduce(f64::min),
                upper: per
                    .iter()
                    .flatten()
                    .filter_map(|e| e.upper)
                    .reduce(f64::max),
                observed: per.iter().map(|e| e.map_or(0, |e| e.observed)).collect(),
                estimates,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three lists of a population of 1,000 (person `p` is on list `j` when `(3p, 7p, 9p)[j] + j` ends in
    /// 0-3), where the linkage failed to merge the records of the first `unmerged` persons on several lists.
    fn histories(unmerged: usize) -> Vec<u32> {
        let mut out = Vec::new();
        let mut split = 0;
        for p in 0..1000u32 {
            let mask: u32 = (0..3)
                .filter(|&j| (p * [3, 7, 9][j] + j as u32) % 10 < 4)
                .fold(0, |m, j| m | 1 << j);
            if mask == 0 {
                continue;
            }
            // A linkage that fails to merge some records splits a person into one record per list.
            if split < unmerged && mask.count_ones() > 1 {
                split += 1;
                out.extend((0..3).filter(|j| mask >> j & 1 == 1).map(|j| 1u32 << j));
            } else {
                out.push(mask);
            }
        }
        out
    }

    #[test]
    fn under_linking_inflates_the_estimate_and_the_spread_shows_it() {
        let linkages = vec![histories(0), histories(20), histories(60)];
        let spreads = spread(
            3,
            &linkages,
            &[Family::Chapman, Family::Loglinear],
            &Options::default(),
        )
        .unwrap();
        let chapman = spreads.iter().find(|s| s.method == "chapman:1x2").unwrap();
        let values: Vec<f64> = chapman.estimates.iter().map(|e| e.unwrap()).collect();
        assert!(values[0] < values[1] && values[1] < values[2], "{values:?}");
        assert_eq!(
            (chapman.min, chapman.max),
            (Some(values[0]), Some(values[2]))
        );
        assert_eq!(chapman.median, Some(values[1]));
        assert!(chapman.lower.unwrap() < values[0] && chapman.upper.unwrap() > values[2]);
        assert!(chapman.observed[0] < chapman.observed[2]);
        assert!(spreads.iter().any(|s| s.method == "loglinear:independence"));
    }
}
