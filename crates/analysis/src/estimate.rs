//! Multiple systems estimation: how many persons no list recorded, from the overlaps of several
//! lists. Every estimator returns the same [`Estimate`] row so that a report can show them side
//! by side; `estimate` is `None` where a method cannot give a number, with the reason.

pub mod bhs;
pub mod compare;
pub mod dga;
pub mod existence;
pub mod glm;
pub mod hierarchical;
pub mod lcmcr;
pub mod linalg;
pub mod linkage;
pub mod loglinear;
pub mod mcmc;
pub mod plot;
pub mod sampling;
pub mod sparsemse;
pub mod table;
pub mod two_list;

pub use hierarchical::HierarchicalModel;
pub use table::{OverlapTable, TableError, stratify};

use std::collections::BTreeMap;

/// The normal quantile for two-sided 95% intervals; its square is the chi-square(1) bound.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// One method's answer. `method` starts with the family name (`chapman:1x2`, `loglinear:bic`,
/// `bhs`, `sparsemse`, `lcmcr`, `dga`); `model` says which model was used and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Estimate {
    pub method: String,
    pub estimate: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub observed: u64,
    pub model: String,
    pub warnings: Vec<String>,
}

impl Estimate {
    /// A method that cannot give a number, and why.
    pub fn refused(method: &str, observed: u64, model: &str, reason: String) -> Self {
        Estimate {
            method: method.to_string(),
            estimate: None,
            lower: None,
            upper: None,
            observed,
            model: model.to_string(),
            warnings: vec![reason],
        }
    }

    pub fn family(&self) -> &str {
        self.method.split(':').next().unwrap_or(&self.method)
    }
}

/// The estimator families `--method` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Chapman,
    Loglinear,
    Bhs,
    SparseMse,
    Lcmcr,
    Dga,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::Chapman,
        Family::Loglinear,
        Family::Bhs,
        Family::SparseMse,
        Family::Lcmcr,
        Family::Dga,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Chapman => "chapman",
            Family::Loglinear => "loglinear",
            Family::Bhs => "bhs",
            Family::SparseMse => "sparsemse",
            Family::Lcmcr => "lcmcr",
            Family::Dga => "dga",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Settings for every family; the defaults are those of the R packages (see `mse-peers.md`).
#[derive(Debug, Clone)]
pub struct Options {
    /// The two lists Chapman uses (numbered from 0).
    pub pair: (usize, usize),
    pub loglinear: loglinear::LoglinearOptions,
    pub lcmcr: lcmcr::LcmcrOptions,
    pub dga: dga::DgaOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pair: (0, 1),
            loglinear: Default::default(),
            lcmcr: Default::default(),
            dga: Default::default(),
        }
    }
}

/// Whether the table can identify the total at all: the model with every two-list interaction
/// (pairs that never overlap handled as in SparseMSE) must have a finite, identifiable estimate.
/// With two lists there is nothing to check beyond a non-empty overlap.
pub fn table_check(table: &OverlapTable) -> Result<(), String> {
    if table.lists() < 2 {
        return Err(
            "one list cannot say how many persons it missed: at least two lists are needed".into(),
        );
    }
    if table.lists() == 2 {
        return if table.count(0b11) > 0 {
            Ok(())
        } else {
            Err(
                "the two lists share nobody: their overlap carries no information on the total"
                    .into(),
            )
        };
    }
    let all_pairs = sparsemse::all_pairs(table.lists());
    match sparsemse::check(table, &all_pairs).reason() {
        None => Ok(()),
        Some(reason) => Err(format!(
            "the model with all two-list interactions fails: {reason}. The data cannot tell list dependence \
             from the number unseen, so any single number would rest on an untestable assumption"
        )),
    }
}

/// Runs the asked families on a table, in family order, then adds cross-method warnings.
pub fn estimate(table: &OverlapTable, families: &[Family], options: &Options) -> Vec<Estimate> {
    let mut families = families.to_vec();
    families.sort();
    families.dedup();
    let mut out = Vec::new();
    for family in families {
        match family {
            Family::Chapman => out.push(two_list::chapman(table, options.pair.0, options.pair.1)),
            Family::Loglinear => out.extend(loglinear::estimate(table, &options.loglinear)),
            Family::Bhs => out.push(bhs::estimate(table, &options.loglinear)),
            Family::SparseMse => out.push(sparsemse::estimate(table)),
            Family::Lcmcr => out.push(lcmcr::estimate(table, &options.lcmcr)),
            Family::Dga => out.push(dga::estimate(table, &options.dga)),
        }
    }
    compare::add_disagreements(&mut out);
    out
}

/// Estimates per stratum and for their sum. The sum's interval combines the strata's intervals
/// as independent normal errors (half-widths added in quadrature); a stratum without an
/// estimate makes the sum `None` for that method.
pub fn estimate_stratified<S: Ord + Clone + std::fmt::Display>(
    strata: &BTreeMap<S, OverlapTable>,
    families: &[Family],
    options: &Options,
) -> (BTreeMap<S, Vec<Estimate>>, Vec<Estimate>) {
    let per: BTreeMap<S, Vec<Estimate>> = strata
        .iter()
        .map(|(s, t)| (s.clone(), estimate(t, families, options)))
        .collect();
    let mut sums: Vec<Estimate> = Vec::new();
    let Some(first) = per.values().next() else {
        return (per, sums);
    };
    for row in first {
        let rows: Vec<&Estimate> = per
            .values()
            .filter_map(|es| es.iter().find(|e| e.method == row.method))
            .collect();
        let observed = rows.iter().map(|e| e.observed).sum();
        let missing: Vec<String> = per
            .iter()
            .filter(|(_, es)| {
                es.iter()
                    .all(|e| e.method != row.method || e.estimate.is_none())
            })
            .map(|(s, _)| s.to_string())
            .collect();
        if !missing.is_empty() {
            sums.push(Estimate::refused(
                &row.method,
                observed,
                "sum of strata",
                format!("no estimate in strata {}", missing.join(", ")),
            ));
            continue;
        }
        let total: f64 = rows.iter().filter_map(|e| e.estimate).sum();
        let half = |side: fn(&Estimate) -> Option<f64>| -> Option<f64> {
            rows.iter()
                .map(|e| Some((side(e)? - e.estimate?).powi(2)))
                .sum::<Option<f64>>()
                .map(f64::sqrt)
        };
        sums.push(Estimate {
            method: row.method.clone(),
            estimate: Some(total),
            lower: half(|e| e.lower).map(|h| (total - h).max(observed as f64)),
            upper: half(|e| e.upper).map(|h| total + h),
            observed,
            model: format!("sum over {} strata", rows.len()),
            warnings: Vec::new(),
        });
    }
    (per, sums)
}

/// `12,345` for a person count (rounded to one decimal when it has one).
pub fn thousands(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    let whole = rounded.trunc() as i64;
    let digits = whole.abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if whole < 0 { "-" } else { "" };
    let tenth = ((rounded - rounded.trunc()).abs() * 10.0).round() as i64;
    if tenth == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{tenth}")
    }
}

/// A published table from `shared/data/mse/` (tests only: the crate itself reads no files).
#[cfg(test)]
pub(crate) fn test_table(name: &str) -> OverlapTable {
    let path = format!(
        "{}/../../../shared/data/mse/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    OverlapTable::parse_csv(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artificial_table_is_refused_and_published_tables_pass() {
        let reason = table_check(&test_table("artificial_3list_sparsemse.csv")).unwrap_err();
        assert!(reason.contains("not identifiable"), "{reason}");
        for name in [
            "kosovo_1999_4list.csv",
            "uk_2013_5list.csv",
            "new_orleans_5list.csv",
            "snowshoe_hare_6occ.csv",
        ] {
            assert_eq!(table_check(&test_table(name)), Ok(()), "{name}");
        }
    }

    /// Captures a population of `size` persons on independent lists with the given probabilities.
    fn simulate(size: u64, probabilities: &[f64], seed: u64) -> OverlapTable {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let histories = (0..size).map(|_| {
            probabilities.iter().enumerate().fold(0u32, |m, (j, &p)| {
                if rng.random::<f64>() < p {
                    m | 1 << j
                } else {
                    m
                }
            })
        });
        OverlapTable::from_histories(
            probabilities.len(),
            histories.filter(|&m| m != 0).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 3, failure_persistence: None, ..Default::default() })]
        /// On populations of known size with independent lists, the 95% intervals of Chapman and
        /// of the independence log-linear model cover the truth at about their nominal rate.
        #[test]
        fn intervals_cover_the_truth_at_about_the_nominal_rate(
            size in 800u64..3000,
            probabilities in proptest::collection::vec(0.15f64..0.45, 3),
            seed in 0u64..1_000_000,
        ) {
            let replicates = 160;
            let options = Options::default();
            let (mut chapman, mut loglinear) = (0, 0);
            for r in 0..replicates {
                let table = simulate(size, &probabilities, seed * 1000 + r);
                let rows = estimate(&table, &[Family::Chapman, Family::Loglinear], &options);
                let covers = |method: &str| rows.iter().any(|e| e.method == method && e.lower.unwrap() <= size as f64 && size as f64 <= e.upper.unwrap());
                chapman += covers("chapman:1x2") as u32;
                loglinear += covers("loglinear:independence") as u32;
            }
            // 95% nominal; with 160 replicates the binomial standard deviation is 1.7 points.
            for (name, hits) in [("chapman", chapman), ("loglinear", loglinear)] {
                let rate = hits as f64 / replicates as f64;
                proptest::prop_assert!((0.88..=1.0).contains(&rate), "{} covered {}", name, rate);
            }
        }
    }

    #[test]
    fn strata_are_estimated_and_summed() {
        let north = simulate(1500, &[0.3, 0.4, 0.25], 1);
        let south = simulate(900, &[0.2, 0.35, 0.3], 2);
        let strata: BTreeMap<&str, OverlapTable> =
            [("north", north.clone()), ("south", south.clone())]
                .into_iter()
                .collect();
        let (per, sums) = estimate_stratified(&strata, &[Family::Chapman], &Options::default());
        let north_n = per["north"][0].estimate.unwrap();
        let south_n = per["south"][0].estimate.unwrap();
        assert_eq!(sums[0].estimate, Some(north_n + south_n));
        assert_eq!(
            sums[0].observed,
            per["north"][0].observed + per["south"][0].observed
        );
        assert!(
            sums[0].lower.unwrap() < north_n + south_n
                && north_n + south_n < sums[0].upper.unwrap()
        );
    }

    #[test]
    fn formats_counts() {
        assert_eq!(thousands(10356.48), "10,356.5");
        assert_eq!(thousands(7231.0), "7,231");
        assert_eq!(thousands(96.0), "96");
        assert_eq!(thousands(1234567.0), "1,234,567");
    }
}
