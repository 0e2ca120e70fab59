//! Linkage uncertainty: the same estimators re-run over several linkages of the same records
//! (sampled from the match probabilities, or one per threshold), reporting how far each
//! estimator's answer moves. No R package carries this uncertainty into the estimate.
//!
//! A drawn linkage draws each stored pair in or out independently with its (marginal)
//! probability ([`Linkable::draws`]). The caller clusters the drawn-in pairs, and the pairs at
//! each threshold, as the build does (the CLI with `link::pipeline::BuildRule`), so these
//! linkages do not over-merge as connected components would ([`Linkable::histories_joined`]).

use super::table::{OverlapTable, TableError};
use super::{Estimate, Family, Options, estimate};
use rand::Rng;

/// A scored candidate pair of records (indexes into [`Linkable::list_of`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPair {
    pub left: usize,
    pub right: usize,
    /// The pairwise match weight (bits), whose probability is `match_probability`.
    pub match_weight: f64,
    pub match_probability: f64,
}

/// The records behind an estimate: the list each is on, the scored pairs between them, and the
/// reviewers' decisions. From it come the capture histories of any linkage of those records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Linkable {
    /// The list (numbered from 0) of each record.
    pub list_of: Vec<usize>,
    pub pairs: Vec<ScoredPair>,
    /// Pairs a reviewer said are the same person: joined in every linkage.
    pub must_link: Vec<(usize, usize)>,
    /// Pairs a reviewer said are different persons: never joined directly (a chain of other
    /// links may still bring them together, as in threshold clustering generally).
    pub cannot_link: Vec<(usize, usize)>,
}

impl Linkable {
    /// The capture histories (one bit per list) of the persons a partition gives, `person_of`
    /// holding any person key per record.
    pub fn histories_of<K: Ord>(&self, person_of: &[K]) -> Vec<u32> {
        let mut masks: std::collections::BTreeMap<&K, u32> = Default::default();
        for (person, &list) in person_of.iter().zip(&self.list_of) {
            *masks.entry(person).or_default() |= 1 << list;
        }
        masks.into_values().collect()
    }

    /// One linkage drawn from the match probabilities: whether each pair (in order) is drawn in,
    /// each independently with its probability.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<bool> {
        self.pairs.iter().map(|pair| rng.random::<f64>() < pair.match_probability).collect()
    }

    /// `count` linkages drawn from the match probabilities with a seeded stream.
    pub fn draws(&self, count: usize, seed: u64) -> Vec<Vec<bool>> {
        let mut rng = super::sampling::SweepRng::from_chacha(seed, 0);
        (0..count).map(|_| self.draw(&mut rng)).collect()
    }

    /// Persons as the connected components of the pairs `joined` marks (one flag per pair), the
    /// reviewers' decisions applied.
    pub fn histories_joined(&self, joined: &[bool]) -> Vec<u32> {
        let mut parent: Vec<usize> = (0..self.list_of.len()).collect();
        let forbidden: std::collections::BTreeSet<(usize, usize)> = self
            .cannot_link
            .iter()
            .map(|&(a, b)| (a.min(b), a.max(b)))
            .collect();
        for (pair, &join) in self.pairs.iter().zip(joined) {
            let key = (pair.left.min(pair.right), pair.left.max(pair.right));
            if join && !forbidden.contains(&key) {
                union(&mut parent, pair.left, pair.right);
            }
        }
        for &(a, b) in &self.must_link {
            union(&mut parent, a, b);
        }
        let roots: Vec<usize> = (0..parent.len()).map(|r| find(&mut parent, r)).collect();
        self.histories_of(&roots)
    }
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

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
    Ok(spread_of(&estimate_each(lists, linkages, families, options)?))
}

/// The estimates under each linkage, in the order given.
pub fn estimate_each(
    lists: usize,
    linkages: &[Vec<u32>],
    families: &[Family],
    options: &Options,
) -> Result<Vec<Vec<Estimate>>, TableError> {
    linkages
        .iter()
        .map(|histories| {
            OverlapTable::from_histories(lists, histories.iter().copied())
                .map(|t| estimate(&t, families, options))
        })
        .collect()
}

/// How each method of the first linkage's rows varies over all the linkages' rows.
pub fn spread_of(runs: &[Vec<Estimate>]) -> Vec<Spread> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    first
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
        .collect()
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
    fn thresholds_and_decisions_shape_the_persons() {
        // Records 0-1 (lists 0, 1) score 0.9, 1-2 (lists 1, 2) 0.6, 3-4 (lists 0, 2) 0.3.
        let records = Linkable {
            list_of: vec![0, 1, 2, 0, 2],
            pairs: vec![
                ScoredPair { left: 0, right: 1, match_weight: 3.17, match_probability: 0.9 },
                ScoredPair { left: 1, right: 2, match_weight: 0.58, match_probability: 0.6 },
                ScoredPair { left: 3, right: 4, match_weight: -1.22, match_probability: 0.3 },
            ],
            ..Linkable::default()
        };
        let sorted = |mut h: Vec<u32>| {
            h.sort();
            h
        };
        let at = |records: &Linkable, threshold: f64| {
            let joined: Vec<bool> = records.pairs.iter().map(|p| p.match_probability >= threshold).collect();
            sorted(records.histories_joined(&joined))
        };
        assert_eq!(at(&records, 0.5), vec![0b001, 0b100, 0b111]);
        assert_eq!(at(&records, 0.95), vec![0b001, 0b001, 0b010, 0b100, 0b100]);
        assert_eq!(at(&records, 0.2), vec![0b101, 0b111]);
        let decided = Linkable {
            must_link: vec![(3, 4)],
            cannot_link: vec![(2, 1)],
            ..records.clone()
        };
        assert_eq!(at(&decided, 0.5), vec![0b011, 0b100, 0b101]);
        assert_eq!(sorted(records.histories_of(&["a", "a", "b", "c", "b"])), vec![0b001, 0b011, 0b100]);
        // Sampling joins each pair at about its probability.
        let mut rng = crate::estimate::sampling::SweepRng::from_chacha(1, 0);
        let joined = (0..2000)
            .filter(|_| records.histories_joined(&records.draw(&mut rng)).contains(&0b101))
            .count();
        assert!((500..700).contains(&joined), "{joined}");
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
