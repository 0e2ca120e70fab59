//! Poisson log-linear estimators on the observed cells: one named hierarchical model, or all of
//! them ranked by AIC and BIC (as Rcapture's `closedpMS.t`), with profile-likelihood intervals
//! (the multinomial profile of Rcapture's `closedpCI.t`) and an optional seeded bootstrap.

use super::existence::{self, Existence};
use super::glm::{GlmError, PoissonFit, fit_poisson};
use super::hierarchical::{HierarchicalModel, observed_cells};
use super::sampling::multinomial;
use super::table::OverlapTable;
use super::{Estimate, Z_95, thousands};
use rand::SeedableRng;
use statrs::function::gamma::ln_gamma;

/// A fitted hierarchical model and what it says about the total.
#[derive(Debug, Clone)]
pub struct ModelFit {
    pub model: HierarchicalModel,
    pub fit: PoissonFit,
    pub observed: u64,
    /// Estimated number of persons on no list, `exp(intercept)`.
    pub unobserved: f64,
    pub estimate: f64,
    /// Standard error of the estimate as Rcapture reports it: `sqrt(n0 + n0^2 Var(log n0))`, the
    /// delta-method variance of the unobserved count plus its own Poisson variance.
    pub std_error: f64,
    pub deviance: f64,
    pub residual_df: usize,
    pub aic: f64,
    pub bic: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("model {model}: {reason}")]
    DoesNotExist { model: String, reason: &'static str },
    #[error("model {model}: {source}")]
    Glm { model: String, source: GlmError },
}

/// Checks existence, then fits `model` to the observed cells.
pub fn fit_model(table: &OverlapTable, model: &HierarchicalModel) -> Result<ModelFit, FitError> {
    let (cells, counts) = observed_cells(table);
    let design = model.design(&cells);
    let existence = existence::check(&design, &counts);
    if let Some(reason) = existence.reason() {
        return Err(FitError::DoesNotExist {
            model: model.to_string(),
            reason,
        });
    }
    let fit = fit_poisson(&design, &counts, None).map_err(|source| FitError::Glm {
        model: model.to_string(),
        source,
    })?;
    Ok(summarize(table, model.clone(), fit, cells.len()))
}

pub(crate) fn summarize(
    table: &OverlapTable,
    model: HierarchicalModel,
    fit: PoissonFit,
    cells: usize,
) -> ModelFit {
    let observed = table.observed();
    let unobserved = fit.coefficients[0].exp();
    let parameters = fit.coefficients.len();
    let ll = fit.log_likelihood;
    ModelFit {
        model,
        observed,
        unobserved,
        estimate: observed as f64 + unobserved,
        std_error: (unobserved + (unobserved * fit.standard_error(0)).powi(2)).sqrt(),
        deviance: fit.deviance,
        residual_df: cells - parameters,
        aic: -2.0 * ll + 2.0 * parameters as f64,
        bic: -2.0 * ll + (observed as f64).ln() * parameters as f64,
        fit,
    }
}

/// Wald interval on the log of the unobserved count (SparseMSE's interval).
pub fn wald_log_interval(fit: &ModelFit) -> (f64, f64) {
    let (b0, se) = (fit.fit.coefficients[0], fit.fit.standard_error(0));
    let n = fit.observed as f64;
    (n + (b0 - Z_95 * se).exp(), n + (b0 + Z_95 * se).exp())
}

/// A profile-likelihood interval for the total and the estimate that maximises it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileInterval {
    /// The multinomial maximum likelihood estimate (slightly below the Poisson one).
    pub centre: f64,
    pub lower: f64,
    /// `None` when the likelihood stays within the bound however large the total.
    pub upper: Option<f64>,
}

/// The 95% interval `{N : 2 (l(N_hat) - l(N)) <= chi2_1(0.95)}` for the multinomial profile
/// log-likelihood `l(N) = log N!/(N-n)! + sum_w n_w log(mu_w(N)/N)`, where `mu(N)` is the model
/// fitted to the complete table with `N - n` in the unobserved cell.
pub fn profile_interval(
    table: &OverlapTable,
    model: &HierarchicalModel,
    start: f64,
) -> Option<ProfileInterval> {
    let n = table.observed() as f64;
    let cells: Vec<u32> = (0..(1u32 << table.lists())).collect();
    let design = model.design(&cells);
    let mut counts: Vec<f64> = cells.iter().map(|&c| table.count(c) as f64).collect();
    let mut warm: Option<Vec<f64>> = None;
    let mut profile = |total: f64| -> Option<f64> {
        counts[0] = total - n;
        let fit = fit_poisson(&design, &counts, warm.as_deref()).ok()?;
        let ll = ln_gamma(total + 1.0) - ln_gamma(total - n + 1.0)
            + counts
                .iter()
                .zip(&fit.fitted)
                .filter(|(y, _)| **y > 0.0)
                .map(|(y, mu)| y * (mu / total).ln())
                .sum::<f64>();
        warm = Some(fit.coefficients);
        Some(ll)
    };
    // Golden-section search for the maximum on [n, 20 * start].
    let (mut a, mut b) = (n, (20.0 * start).max(n + 10.0));
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..80 {
        let (c, d) = (b - ratio * (b - a), a + ratio * (b - a));
        if profile(c)? >= profile(d)? {
            b = d
        } else {
            a = c
        }
        if b - a < 1e-4 {
            break;
        }
    }
    let centre = (a + b) / 2.0;
    let top = profile(centre)?;
    let threshold = Z_95 * Z_95;
    let mut below = |total: f64| profile(total).map(|ll| 2.0 * (top - ll) > threshold);
    let lower = if below(n)? {
        bisect(n, centre, &mut below)?
    } else {
        n
    };
    let mut far = centre + (centre - n).max(1.0);
    let mut upper = None;
    for _ in 0..40 {
        if below(far)? {
            upper = Some(bisect(far, centre, &mut below)?);
            break;
        }
        far = centre + 2.0 * (far - centre);
    }
    Some(ProfileInterval {
        centre,
        lower,
        upper,
    })
}

/// Bisects between a point `outside` the interval and one inside it, to 0.01 persons.
fn bisect(
    mut outside: f64,
    mut inside: f64,
    mut is_outside: impl FnMut(f64) -> Option<bool>,
) -> Option<f64> {
    while (outside - inside).abs() > 0.01 {
        let mid = (outside + inside) / 2.0;
        if is_outside(mid)? {
            outside = mid
        } else {
            inside = mid
        }
    }
    Some((outside + inside) / 2.0)
}

/// A seeded bootstrap: resample the observed persons multinomially, refit the same model, take
/// the 2.5% and 97.5% quantiles of the totals. Also returns how many refits failed.
pub fn bootstrap_interval(
    table: &OverlapTable,
    model: &HierarchicalModel,
    replicates: usize,
    seed: u64,
) -> Option<(f64, f64, usize)> {
    let (cells, counts) = observed_cells(table);
    let design = model.design(&cells);
    let n = table.observed();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut draws = vec![0u64; cells.len()];
    let mut totals = Vec::with_capacity(replicates);
    let mut failed = 0;
    for _ in 0..replicates {
        multinomial(&mut rng, n, &counts, &mut draws);
        let resampled: Vec<f64> = draws.iter().map(|&d| d as f64).collect();
        if !existence::check(&design, &resampled).passes() {
            failed += 1;
            continue;
        }
        match fit_poisson(&design, &resampled, None) {
            Ok(fit) => totals.push(n as f64 + fit.coefficients[0].exp()),
            Err(_) => failed += 1,
        }
    }
    if totals.len() < 20 {
        return None;
    }
    totals.sort_by(f64::total_cmp);
    Some((quantile(&totals, 0.025), quantile(&totals, 0.975), failed))
}

/// The `q` quantile of sorted values (linear interpolation, R's type 7).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Every hierarchical model whose estimate exists, fitted; and the models refused with reasons.
pub struct Ranking {
    pub fits: Vec<ModelFit>,
    pub refused: Vec<(HierarchicalModel, String)>,
}

/// The largest number of lists for which all hierarchical models are searched (6,893 at K = 5).
pub const MAX_LISTS_ALL_MODELS: usize = 5;

pub fn rank_all(table: &OverlapTable) -> Ranking {
    let mut ranking = Ranking {
        fits: Vec::new(),
        refused: Vec::new(),
    };
    for model in HierarchicalModel::all(table.lists()) {
        match fit_model(table, &model) {
            Ok(fit) => ranking.fits.push(fit),
            Err(e) => ranking.refused.push((model, e.to_string())),
        }
    }
    ranking
}

/// Options for the log-linear family.
#[derive(Debug, Clone, Default)]
pub struct LoglinearOptions {
    /// A model to fit besides the ranked ones (Rcapture notation).
    pub model: Option<HierarchicalModel>,
    /// Bootstrap replicates and seed; `None` for profile intervals only.
    pub bootstrap: Option<(usize, u64)>,
}

/// The interval an estimate reports: the bootstrap when asked for, else the profile likelihood.
pub(crate) fn interval_for(
    table: &OverlapTable,
    fit: &ModelFit,
    options: &LoglinearOptions,
    warnings: &mut Vec<String>,
) -> (Option<f64>, Option<f64>) {
    if let Some((replicates, seed)) = options.bootstrap {
        return match bootstrap_interval(table, &fit.model, replicates, seed) {
            Some((lo, hi, failed)) => {
                if failed > 0 {
                    warnings.push(format!("{failed} of {replicates} bootstrap tables had no finite estimate and were dropped"));
                }
                (Some(lo), Some(hi))
            }
            None => {
                warnings.push("the bootstrap failed on most resampled tables: no interval".into());
                (None, None)
            }
        };
    }
    match profile_interval(table, &fit.model, fit.estimate) {
        Some(p) => {
            if p.upper.is_none() {
                warnings.push("the profile likelihood never falls below the 95% bound above the estimate: no upper limit".into());
            }
            (Some(p.lower), p.upper)
        }
        None => {
            warnings.push("the profile likelihood could not be computed: no interval".into());
            (None, None)
        }
    }
}

fn estimate_from_fit(
    method: &str,
    table: &OverlapTable,
    fit: &ModelFit,
    why: String,
    options: &LoglinearOptions,
) -> Estimate {
    let mut warnings = Vec::new();
    let (lower, upper) = interval_for(table, fit, options, &mut warnings);
    Estimate {
        method: method.to_string(),
        estimate: Some(fit.estimate),
        lower,
        upper,
        observed: fit.observed,
        model: format!(
            "{} ({} parameters, deviance {:.2} on {} df); {why}",
            fit.model,
            fit.model.parameters(),
            fit.deviance,
            fit.residual_df
        ),
        warnings,
    }
}

/// `loglinear:independence`, `loglinear:aic`, `loglinear:bic`, and `loglinear:[model]` when asked.
pub fn estimate(table: &OverlapTable, options: &LoglinearOptions) -> Vec<Estimate> {
    let observed = table.observed();
    let independence = HierarchicalModel::independence(table.lists());
    let mut out = vec![match fit_model(table, &independence) {
        Ok(fit) => estimate_from_fit(
            "loglinear:independence",
            table,
            &fit,
            "assumes the lists are independent".into(),
            options,
        ),
        Err(e) => Estimate::refused(
            "loglinear:independence",
            observed,
            "independence",
            e.to_string(),
        ),
    }];
    if let Some(model) = &options.model {
        let method = format!("loglinear:{model}");
        out.push(match fit_model(table, model) {
            Ok(fit) => {
                estimate_from_fit(&method, table, &fit, "the model asked for".into(), options)
            }
            Err(e) => Estimate::refused(&method, observed, &model.to_string(), e.to_string()),
        });
    }
    if table.lists() > MAX_LISTS_ALL_MODELS || table.lists() < 3 {
        let reason = format!(
            "the all-models search covers 3 to {MAX_LISTS_ALL_MODELS} lists; this table has {}: use bhs or sparsemse",
            table.lists()
        );
        for method in ["loglinear:aic", "loglinear:bic"] {
            out.push(Estimate::refused(
                method,
                observed,
                "all hierarchical models",
                reason.clone(),
            ));
        }
        return out;
    }
    let ranking = rank_all(table);
    for (method, criterion, score) in [
        (
            "loglinear:aic",
            "AIC",
            (|f: &ModelFit| f.aic) as fn(&ModelFit) -> f64,
        ),
        ("loglinear:bic", "BIC", |f: &ModelFit| f.bic),
    ] {
        let mut order: Vec<&ModelFit> = ranking.fits.iter().collect();
        order.sort_by(|a, b| score(a).total_cmp(&score(b)));
        let Some(best) = order.first() else {
            out.push(Estimate::refused(
                method,
                observed,
                "all hierarchical models",
                "no hierarchical model has an estimate on this table".into(),
            ));
            continue;
        };
        let mut why = format!(
            "lowest {criterion} ({:.2}) of {} hierarchical models with a finite estimate",
            score(best),
            ranking.fits.len()
        );
        if let Some(next) = order.get(1) {
            why.push_str(&format!(
                "; runner-up {} {criterion} {:.2} gives {}",
                next.model,
                score(next),
                thousands(next.estimate)
            ));
        }
        if !ranking.refused.is_empty() {
            why.push_str(&format!(
                "; {} models refused (no finite or identifiable estimate)",
                ranking.refused.len()
            ));
        }
        let mut e = estimate_from_fit(method, table, best, why, options);
        let close: Vec<&&ModelFit> = order
            .iter()
            .skip(1)
            .filter(|f| score(f) - score(best) < 2.0)
            .collect();
        if let (Some(lo), Some(hi)) = (
            close.iter().map(|f| f.estimate).reduce(f64::min),
            close.iter().map(|f| f.estimate).reduce(f64::max),
        ) {
            e.warnings.push(format!(
                "{} other models are within 2 {criterion} points; their estimates range {}-{}",
                close.len(),
                thousands(lo.min(best.estimate)),
                thousands(hi.max(best.estimate))
            ));
        }
        out.push(e);
    }
    out
}

/// The existence check for a model on the observed cells, without fitting.
pub fn check_model(table: &OverlapTable, model: &HierarchicalModel) -> Existence {
    let (cells, counts) = observed_cells(table);
    existence::check(&model.design(&cells), &counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::test_table;

    #[test]
    fn kosovo_bic_best_model_as_published() {
        let table = test_table("kosovo_1999_4list.csv");
        let ranking = rank_all(&table);
        assert_eq!(ranking.fits.len() + ranking.refused.len(), 113);
        let best = ranking
            .fits
            .iter()
            .min_by(|a, b| a.bic.total_cmp(&b.bic))
            .unwrap();
        assert_eq!(best.model.to_string(), "[123,14,34]");
        assert_eq!(best.model.parameters(), 11);
        assert!((best.estimate - 10356.5).abs() < 0.05, "{}", best.estimate);
        assert!((best.deviance - 9.32).abs() < 0.005, "{}", best.deviance);
        assert!((best.std_error - 785.9).abs() < 0.5, "{}", best.std_error);
        let profile = profile_interval(&table, &best.model, best.estimate).unwrap();
        assert!((profile.centre - 10334.5).abs() < 0.5, "{profile:?}");
        assert!(
            (profile.lower - 8994.0).abs() < 2.0 && (profile.upper.unwrap() - 12110.0).abs() < 2.0,
            "{profile:?}"
        );
    }

    #[test]
    fn independence_and_named_rows() {
        let options = LoglinearOptions {
            model: Some(HierarchicalModel::parse(4, "[123,14,34]").unwrap()),
            bootstrap: None,
        };
        let rows = estimate(&test_table("kosovo_1999_4list.csv"), &options);
        let methods: Vec<&str> = rows.iter().map(|e| e.method.as_str()).collect();
        assert_eq!(
            methods,
            [
                "loglinear:independence",
                "loglinear:[123,14,34]",
                "loglinear:aic",
                "loglinear:bic"
            ]
        );
        assert!(
            (rows[0].estimate.unwrap() - 7394.6).abs() < 0.05,
            "{:?}",
            rows[0]
        );
        assert_eq!(rows[1].estimate, rows[3].estimate);
        let uk = estimate(
            &test_table("uk_2013_5list.csv"),
            &LoglinearOptions::default(),
        );
        assert!(
            (uk[0].estimate.unwrap() - 13444.1).abs() < 0.05,
            "{:?}",
            uk[0]
        );
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_estimate() {
        let table = test_table("kosovo_1999_4list.csv");
        let model = HierarchicalModel::parse(4, "[123,14,34]").unwrap();
        let a = bootstrap_interval(&table, &model, 200, 9).unwrap();
        assert_eq!(a, bootstrap_interval(&table, &model, 200, 9).unwrap());
        assert!(a.0 < 10356.5 && 10356.5 < a.1 && a.2 == 0, "{a:?}");
    }

    #[test]
    fn models_without_a_finite_estimate_are_refused() {
        let table = test_table("artificial_3list_sparsemse.csv");
        let err = fit_model(&table, &HierarchicalModel::parse(3, "[12,3]").unwrap()).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
