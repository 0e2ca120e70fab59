//! Proportions with honest intervals: the share of a cohort in a category, with Wilson and exact
//! (Clopper-Pearson) confidence intervals, because these shares are argued over.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::inv_beta_reg;

/// A confidence level strictly between 0 and 1 (e.g. 0.95).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Confidence(f64);

impl Confidence {
    /// The conventional 95 % level.
    pub const NINETY_FIVE: Confidence = Confidence(0.95);

    /// `None` unless `0 < level < 1`.
    pub fn new(level: f64) -> Option<Confidence> {
        (level > 0.0 && level < 1.0).then_some(Confidence(level))
    }

    pub fn level(self) -> f64 {
        self.0
    }

    /// The two-sided standard normal quantile `z` with `P(|Z| <= z) = level`.
    fn z(self) -> f64 {
        let standard = Normal::new(0.0, 1.0).expect("the standard normal has valid parameters");
        standard.inverse_cdf(1.0 - (1.0 - self.0) / 2.0)
    }
}

impl Default for Confidence {
    fn default() -> Self {
        Confidence::NINETY_FIVE
    }
}

/// A closed interval `[lower, upper]` within `[0, 1]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

/// `successes` out of `trials`, with its share and both intervals at one confidence level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Proportion {
    pub successes: u64,
    pub trials: u64,
    /// `successes / trials`; `None` when there are no trials.
    pub share: Option<f64>,
    pub confidence: Confidence,
    pub wilson: Option<Interval>,
    pub exact: Option<Interval>,
    /// The share rests on fewer than [`SMALL_BASE`] persons: a report flags it, because a
    /// percentage of a handful reads as firmer than it is.
    pub small: bool,
}

/// Below this many trials a share is flagged as resting on few cases.
pub const SMALL_BASE: u64 = 30;

impl Proportion {
    /// Panics if `successes > trials`, which no count can produce.
    pub fn new(successes: u64, trials: u64, confidence: Confidence) -> Proportion {
        assert!(successes <= trials, "{successes} successes out of {trials} trials");
        Proportion {
            successes,
            trials,
            share: (trials > 0).then(|| successes as f64 / trials as f64),
            confidence,
            wilson: wilson(successes, trials, confidence),
            exact: clopper_pearson(successes, trials, confidence),
            small: trials < SMALL_BASE,
        }
    }
}

/// The Wilson score interval; `None` for zero trials. Good coverage even for small counts, and
/// never outside `[0, 1]`, unlike the textbook Wald interval.
pub fn wilson(successes: u64, trials: u64, confidence: Confidence) -> Option<Interval> {
    if trials == 0 || successes > trials {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z = confidence.z();
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // Rounding can push a bound a hair past p or past [0, 1]; the bound is exactly p at the edges.
    Some(Interval { lower: (centre - half).clamp(0.0, p), upper: (centre + half).clamp(p, 1.0) })
}

/// The exact (Clopper-Pearson) interval from beta quantiles; `None` for zero trials. It is
/// conservative: its coverage is never below the stated level.
pub fn clopper_pearson(successes: u64, trials: u64, confidence: Confidence) -> Option<Interval> {
    if trials == 0 || successes > trials {
        return None;
    }
    let (k, n) = (successes as f64, trials as f64);
    let p = k / n;
    let tail = (1.0 - confidence.level()) / 2.0;
    let lower = if successes == 0 { 0.0 } else { inv_beta_reg(k, n - k + 1.0, tail) };
    let upper = if successes == trials { 1.0 } else { inv_beta_reg(k + 1.0, n - k, 1.0 - tail) };
    Some(Interval { lower: lower.clamp(0.0, p), upper: upper.clamp(p, 1.0) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// P(X >= k) for X ~ Binomial(n, p), summed term by term (independent of the beta function).
    fn upper_tail(k: u64, n: u64, p: f64) -> f64 {
        (k..=n).map(|i| binomial_pmf(i, n, p)).sum()
    }

    fn lower_tail(k: u64, n: u64, p: f64) -> f64 {
        (0..=k).map(|i| binomial_pmf(i, n, p)).sum()
    }

    fn binomial_pmf(i: u64, n: u64, p: f64) -> f64 {
        let log_choose: f64 = (1..=i).map(|j| ((n - i + j) as f64 / j as f64).ln()).sum();
        (log_choose + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp()
    }

    #[test]
    fn exact_bounds_are_where_the_binomial_tails_reach_alpha_over_two() {
        for (k, n) in [(1, 10), (5, 10), (9, 10), (10, 92), (470 / 20, 470)] {
            let ci = clopper_pearson(k, n, Confidence::NINETY_FIVE).unwrap();
            assert!((upper_tail(k, n, ci.lower) - 0.025).abs() < 1e-9, "{k}/{n} lower {ci:?}");
            assert!((lower_tail(k, n, ci.upper) - 0.025).abs() < 1e-9, "{k}/{n} upper {ci:?}");
        }
    }

    #[test]
    fn exact_edges_are_closed_form() {
        // With k = 0 the upper bound solves (1 - p)^n = alpha / 2.
        let ci = clopper_pearson(0, 10, Confidence::NINETY_FIVE).unwrap();
        assert_eq!(ci.lower, 0.0);
        assert!((ci.upper - (1.0 - 0.025f64.powf(0.1))).abs() < 1e-12);
        let ci = clopper_pearson(10, 10, Confidence::NINETY_FIVE).unwrap();
        assert!((ci.lower - 0.025f64.powf(0.1)).abs() < 1e-12);
        assert_eq!(ci.upper, 1.0);
    }

    #[test]
    fn wilson_matches_the_published_example() {
        // Newcombe (1998), Table I: 81/263 gives 0.2553 to 0.3662 at 95 %.
        let ci = wilson(81, 263, Confidence::NINETY_FIVE).unwrap();
        assert_eq!(format!("{:.4} {:.4}", ci.lower, ci.upper), "0.2553 0.3662");
        // Solved by hand: 5/10 is symmetric about 1/2 with half width z*sqrt(n/4 + z^2/4)/(n + z^2).
        let ci = wilson(5, 10, Confidence::NINETY_FIVE).unwrap();
        let z = 1.959963984540054f64;
        let half = z * (10.0f64 / 4.0 + z * z / 4.0).sqrt() / (10.0 + z * z);
        assert!((ci.lower - (0.5 - half)).abs() < 1e-12 && (ci.upper - (0.5 + half)).abs() < 1e-12);
    }

    #[test]
    fn no_trials_no_interval() {
        let p = Proportion::new(0, 0, Confidence::NINETY_FIVE);
        assert_eq!((p.share, p.wilson, p.exact, p.small), (None, None, None, true));
        assert!(Proportion::new(3, 29, Confidence::NINETY_FIVE).small && !Proportion::new(0, 30, Confidence::NINETY_FIVE).small);
        assert_eq!(Confidence::new(1.0), None);
        assert_eq!(Confidence::new(0.0), None);
    }

    proptest! {
        #[test]
        fn bounds_enclose_the_share(n in 1u64..2000, k_frac in 0.0f64..=1.0, level in 0.5f64..0.999) {
            let k = ((n as f64) * k_frac).round() as u64;
            let confidence = Confidence::new(level).unwrap();
            let p = k as f64 / n as f64;
            for ci in [wilson(k, n, confidence).unwrap(), clopper_pearson(k, n, confidence).unwrap()] {
                prop_assert!(0.0 <= ci.lower && ci.lower <= p && p <= ci.upper && ci.upper <= 1.0, "{ci:?} {k}/{n}");
            }
        }

        #[test]
        fn exact_is_wider_than_wilson_away_from_the_edges(n in 20u64..500, k_frac in 0.2f64..0.8) {
            let k = ((n as f64) * k_frac).round() as u64;
            let w = wilson(k, n, Confidence::NINETY_FIVE).unwrap();
            let e = clopper_pearson(k, n, Confidence::NINETY_FIVE).unwrap();
            prop_assert!(e.upper - e.lower >= w.upper - w.lower);
        }
    }
}
