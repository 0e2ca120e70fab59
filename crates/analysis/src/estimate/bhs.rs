//! The Bales-Hesketh-Silverman stepwise procedure (Bales, Hesketh & Silverman 2015, as in
//! `modslavmse::MSEfit`): from the main-effects model, try each two-list interaction, take the one
//! that lowers AIC most, and keep it only if its Wald p-value is below 0.05; stop when none
//! qualifies. A pair that never overlaps is a candidate as in the R code: its parameter runs to
//! minus infinity, its fit is the limit (cells with both lists dropped), and its p-value is 1, so
//! when it has the lowest AIC the procedure stops there.
//! The chosen model must pass the existence check; the interval is the profile likelihood.

use super::glm::fit_poisson;
use super::hierarchical::{HierarchicalModel, observed_cells};
use super::loglinear::{LoglinearOptions, ModelFit, check_model, interval_for, summarize};
use super::sparsemse::{all_pairs, fit_pairs};
use super::table::OverlapTable;
use super::{Estimate, thousands};
use statrs::function::gamma::gamma_ur;

pub const P_THRESHOLD: f64 = 0.05;

/// One accepted step: the interaction added, the AIC after it, its p-value.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub pair: u32,
    pub aic: f64,
    pub p_value: f64,
}

fn fit(table: &OverlapTable, model: &HierarchicalModel) -> Option<ModelFit> {
    let (cells, counts) = observed_cells(table);
    let f = fit_poisson(&model.design(&cells), &counts, None).ok()?;
    Some(summarize(table, model.clone(), f, cells.len()))
}

/// Two-sided normal p-value of `z`: `P(|Z| > |z|) = Q(1/2, z^2/2)`.
fn wald_p_value(z: f64) -> f64 {
    gamma_ur(0.5, z * z / 2.0)
}

/// The stepwise selection; `None` when even the main-effects model cannot be fitted.
pub fn stepwise(table: &OverlapTable) -> Option<(ModelFit, Vec<Step>)> {
    let mut current = fit(table, &HierarchicalModel::independence(table.lists()))?;
    let mut steps = Vec::new();
    loop {
        let best = all_pairs(table.lists())
            .into_iter()
            .filter(|&pair| !current.model.contains(pair))
            .filter_map(|pair| {
                let candidate = if table.recorded_by_all(pair) == 0 {
                    let pairs: Vec<u32> = current
                        .model
                        .interactions()
                        .iter()
                        .copied()
                        .chain([pair])
                        .collect();
                    fit_pairs(table, &pairs).ok()
                } else {
                    fit(table, &current.model.with_term(pair))
                };
                candidate.map(|f| (pair, f))
            })
            .min_by(|a, b| a.1.aic.total_cmp(&b.1.aic));
        let Some((pair, candidate)) = best else { break };
        let p_value = match candidate.model.columns().iter().position(|&t| t == pair) {
            Some(column) => wald_p_value(
                candidate.fit.coefficients[column] / candidate.fit.standard_error(column),
            ),
            None => 1.0,
        };
        if candidate.aic >= current.aic || p_value >= P_THRESHOLD {
            break;
        }
        steps.push(Step {
            pair,
            aic: candidate.aic,
            p_value,
        });
        current = candidate;
    }
    Some((current, steps))
}

pub fn estimate(table: &OverlapTable, options: &LoglinearOptions) -> Estimate {
    let observed = table.observed();
    let Some((fit, steps)) = stepwise(table) else {
        return Estimate::refused(
            "bhs",
            observed,
            "independence",
            "the main-effects model cannot be fitted".into(),
        );
    };
    if let Some(reason) = check_model(table, &fit.model).reason() {
        return Estimate::refused(
            "bhs",
            observed,
            &fit.model.to_string(),
            format!("the model BHS selects fails the check: {reason}"),
        );
    }
    let mut warnings = Vec::new();
    let (lower, upper) = interval_for(table, &fit, options, &mut warnings);
    let added: Vec<String> = steps
        .iter()
        .map(|s| {
            let lists: Vec<String> = (0..table.lists())
                .filter(|j| s.pair >> j & 1 == 1)
                .map(|j| (j + 1).to_string())
                .collect();
            format!("{} (p={:.1e})", lists.join(":"), s.p_value)
        })
        .collect();
    Estimate {
        method: "bhs".into(),
        estimate: Some(fit.estimate),
        lower,
        upper,
        observed,
        model: format!(
            "{}: main effects{}{}; stepwise by AIC, each interaction kept only if p < {P_THRESHOLD}; AIC {:.2}, {} unseen",
            fit.model,
            if added.is_empty() { "" } else { " + " },
            added.join(" + "),
            fit.aic,
            thousands(fit.unobserved)
        ),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::test_table;

    #[test]
    fn uk_five_lists_as_published() {
        let table = test_table("uk_2013_5list.csv");
        let (fit, steps) = stepwise(&table).unwrap();
        // LA:NG, NG:GP, PFNCA:GP, LA:PFNCA, GO:GP, NG:GO
        let pairs: Vec<u32> = steps.iter().map(|s| s.pair).collect();
        assert_eq!(
            pairs,
            vec![0b00011, 0b10010, 0b10100, 0b00101, 0b11000, 0b01010]
        );
        assert!((fit.estimate - 11313.0).abs() < 0.5, "{}", fit.estimate);
        let e = estimate(&table, &LoglinearOptions::default());
        let (lo, hi) = (e.lower.unwrap(), e.upper.unwrap());
        assert!(
            (lo - 9889.0).abs() < 5.0 && (hi - 13063.0).abs() < 5.0,
            "{lo} {hi}"
        );
    }

    #[test]
    fn kosovo_and_new_orleans_as_published() {
        let kosovo = estimate(
            &test_table("kosovo_1999_4list.csv"),
            &LoglinearOptions::default(),
        );
        assert!(
            (kosovo.estimate.unwrap() - 14341.7).abs() < 0.5,
            "{kosovo:?}"
        );
        assert!(
            (kosovo.lower.unwrap() - 12525.0).abs() < 5.0
                && (kosovo.upper.unwrap() - 16543.0).abs() < 5.0,
            "{kosovo:?}"
        );
        let orleans = estimate(
            &test_table("new_orleans_5list.csv"),
            &LoglinearOptions::default(),
        );
        assert!(
            (orleans.estimate.unwrap() - 1034.2).abs() < 0.5,
            "{orleans:?}"
        );
        assert!(
            (orleans.lower.unwrap() - 666.0).abs() < 3.0
                && (orleans.upper.unwrap() - 1762.0).abs() < 3.0,
            "{orleans:?}"
        );
    }
}
