//! Bayesian latent-class multiple systems estimation (Manrique-Vallier 2016, R package LCMCR):
//! persons fall into latent classes with independent list capture probabilities within a class;
//! the class weights follow a stick-breaking prior truncated at K classes with concentration
//! `alpha ~ Gamma(a, b)`, and the population size has the prior `p(N) ~ 1/N`. A Gibbs sampler
//! with data augmentation for the unseen persons draws `N`. Persons with the same capture pattern
//! are exchangeable, so class allocations are drawn per pattern as multinomial counts, which is
//! the same chain as drawing each person's class in turn, only faster.

use super::loglinear::quantile;
use super::mcmc::{effective_sample_size, r_hat};
use super::sampling::multinomial_ordered;
use super::table::OverlapTable;
use super::{Estimate, thousands};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};

/// Sampler settings; the defaults are those of the R reference run in `mse-peers.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct LcmcrOptions {
    /// Truncation level of the stick-breaking prior (number of latent classes).
    pub classes: usize,
    pub a_alpha: f64,
    pub b_alpha: f64,
    pub burn_in: usize,
    pub samples: usize,
    pub thin: usize,
    pub chains: usize,
    pub seed: u64,
}

impl Default for LcmcrOptions {
    fn default() -> Self {
        LcmcrOptions {
            classes: 10,
            a_alpha: 0.25,
            b_alpha: 0.25,
            burn_in: 10_000,
            samples: 1_000,
            thin: 100,
            chains: 4,
            seed: 12345,
        }
    }
}

/// The draws of `N` per chain and their summary.
#[derive(Debug, Clone, PartialEq)]
pub struct LcmcrRun {
    pub chains: Vec<Vec<f64>>,
    pub median: f64,
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
    pub r_hat: f64,
    pub effective_sample_size: f64,
}

/// Runs the chains (in parallel threads; each chain has its own seeded stream, so the result does
/// not depend on scheduling).
pub fn run(table: &OverlapTable, options: &LcmcrOptions) -> LcmcrRun {
    let chains: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..options.chains)
            .map(|c| scope.spawn(move || run_chain(table, options, c as u64)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a sampler thread panicked"))
            .collect()
    });
    let mut pooled: Vec<f64> = chains.iter().flatten().copied().collect();
    pooled.sort_by(f64::total_cmp);
    LcmcrRun {
        median: quantile(&pooled, 0.5),
        mean: pooled.iter().sum::<f64>() / pooled.len() as f64,
        lower: quantile(&pooled, 0.025),
        upper: quantile(&pooled, 0.975),
        r_hat: r_hat(&chains),
        effective_sample_size: effective_sample_size(&chains),
        chains,
    }
}

/// Sweeps before the burn-in during which the concentration `alpha` stays at its start value.
const WARM_UP: usize = 500;

struct State {
    lists: usize,
    classes: usize,
    /// Capture probability of list `j` in class `k`, at `k * lists + j`.
    lambda: Vec<f64>,
    weights: Vec<f64>,
    alpha: f64,
}

impl State {
    /// Relabels the classes from the heaviest down (the stick-breaking prior favours that order).
    fn order_classes_by_weight(&mut self) {
        let mut order: Vec<usize> = (0..self.classes).collect();
        order.sort_by(|&a, &b| self.weights[b].total_cmp(&self.weights[a]).then(a.cmp(&b)));
        self.weights = order.iter().map(|&k| self.weights[k]).collect();
        self.lambda = order
            .iter()
            .flat_map(|&k| self.lambda[k * self.lists..(k + 1) * self.lists].to_vec())
            .collect();
    }
}

fn run_chain(table: &OverlapTable, options: &LcmcrOptions, chain: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    rng.set_stream(chain);
    let (lists, classes) = (table.lists(), options.classes.max(1));
    let cells: Vec<(u32, u64)> = table
        .patterns()
        .map(|m| (m, table.count(m)))
        .filter(|&(_, c)| c > 0)
        .collect();
    let observed = table.observed();
    // Start as LCMCR does: every class at the lists' observed capture rates, four heavy classes,
    // a small concentration, and a warm-up with the concentration held fixed.
    let initial_rates: Vec<f64> = (0..lists)
        .map(|j| table.recorded_by_all(1 << j) as f64 / observed.max(1) as f64)
        .collect();
    let weights = if classes > 4 {
        (0..classes)
            .map(|k| {
                if k < 4 {
                    0.225
                } else {
                    0.1 / (classes - 4) as f64
                }
            })
            .collect()
    } else {
        vec![1.0 / classes as f64; classes]
    };
    let mut state = State {
        lists,
        classes,
        lambda: (0..classes)
            .flat_map(|_| initial_rates.iter().copied())
            .collect(),
        weights,
        alpha: 0.3 / classes as f64,
    };
    let mut class_size = vec![0u64; classes];
    let mut captured = vec![0u64; classes * lists];
    let mut drawn = vec![0u64; classes];
    let mut cell_weights = vec![0.0; classes];
    let mut pattern_probabilities = vec![0.0; classes << lists];
    let mut heaviest_first: Vec<usize> = (0..classes).collect();
    let mut draws = Vec::with_capacity(options.samples);
    let total_sweeps = WARM_UP + options.burn_in + options.samples * options.thin.max(1);
    for sweep in 1..=total_sweeps {
        if sweep == WARM_UP + 1 {
            state.order_classes_by_weight();
        }
        class_size.iter_mut().for_each(|x| *x = 0);
        captured.iter_mut().for_each(|x| *x = 0);
        heaviest_first.sort_unstable_by(|&a, &b| state.weights[b].total_cmp(&state.weights[a]));
        for k in 0..classes {
            fill_pattern_probabilities(
                &state.lambda[k * lists..(k + 1) * lists],
                &mut pattern_probabilities[k << lists..(k + 1) << lists],
            );
        }
        // Classes of the observed persons, pattern by pattern.
        for &(mask, count) in &cells {
            for (k, w) in cell_weights.iter_mut().enumerate() {
                *w = state.weights[k] * pattern_probabilities[(k << lists) + mask as usize];
            }
            multinomial_ordered(&mut rng, count, &cell_weights, &heaviest_first, &mut drawn);
            for k in (0..classes).filter(|&k| drawn[k] > 0) {
                class_size[k] += drawn[k];
                for j in 0..lists {
                    if mask >> j & 1 == 1 {
                        captured[k * lists + j] += drawn[k];
                    }
                }
            }
        }
        // The unseen: how many (negative binomial under p(N) ~ 1/N), then their classes.
        for (k, w) in cell_weights.iter_mut().enumerate() {
            *w = state.weights[k] * pattern_probabilities[k << lists];
        }
        let missed: f64 = cell_weights.iter().sum::<f64>().min(1.0 - 1e-12);
        let unseen = draw_negative_binomial(&mut rng, observed, missed);
        multinomial_ordered(&mut rng, unseen, &cell_weights, &heaviest_first, &mut drawn);
        for k in 0..classes {
            class_size[k] += drawn[k];
        }
        update_parameters(
            &mut rng,
            &mut state,
            &class_size,
            &captured,
            options,
            sweep > WARM_UP,
        );
        let kept = sweep.saturating_sub(WARM_UP + options.burn_in);
        if kept > 0 && kept % options.thin.max(1) == 0 {
            draws.push((observed + unseen) as f64);
        }
    }
    draws
}

/// The probability of every capture pattern for one class, built up one list at a time.
fn fill_pattern_probabilities(lambda: &[f64], out: &mut [f64]) {
    out[0] = 1.0;
    for (j, &l) in lambda.iter().enumerate() {
        let width = 1 << j;
        for mask in 0..width {
            out[mask | width] = out[mask] * l;
            out[mask] *= 1.0 - l;
        }
    }
}

/// Failures before the `successes`-th success when each trial fails with probability `missed`,
/// as a gamma-Poisson mixture.
fn draw_negative_binomial<R: Rng>(rng: &mut R, successes: u64, missed: f64) -> u64 {
    let rate = Gamma::new(successes as f64, missed / (1.0 - missed)).map_or(0.0, |g| g.sample(rng));
    if rate <= 0.0 {
        0
    } else {
        Poisson::new(rate).map_or(0, |p| p.sample(rng) as u64)
    }
}

fn draw_beta<R: Rng>(rng: &mut R, a: f64, b: f64) -> f64 {
    // Beta(1, 1) and Beta(1, b) have closed-form inverses: the common case of an empty class.
    if a == 1.0 {
        let u: f64 = rng.random();
        return if b == 1.0 { u } else { 1.0 - u.powf(1.0 / b) };
    }
    let x = Gamma::new(a, 1.0).map_or(0.0, |g| g.sample(rng));
    let y = Gamma::new(b, 1.0).map_or(0.0, |g| g.sample(rng));
    if x + y > 0.0 { x / (x + y) } else { 0.5 }
}

fn update_parameters<R: Rng>(
    rng: &mut R,
    state: &mut State,
    class_size: &[u64],
    captured: &[u64],
    options: &LcmcrOptions,
    update_alpha: bool,
) {
    let (lists, classes) = (state.lists, state.classes);
    for k in 0..classes {
        for j in 0..lists {
            let hits = captured[k * lists + j] as f64;
            state.lambda[k * lists + j] =
                draw_beta(rng, 1.0 + hits, 1.0 + class_size[k] as f64 - hits)
                    .clamp(1e-12, 1.0 - 1e-12);
        }
    }
    let mut remaining: u64 = class_size.iter().sum();
    let mut stick = 1.0;
    let mut log_rest = 0.0;
    for k in 0..classes {
        remaining -= class_size[k];
        let v = if k + 1 == classes {
            1.0
        } else {
            draw_beta(
                rng,
                1.0 + class_size[k] as f64,
                state.alpha + remaining as f64,
            )
            .clamp(1e-12, 1.0 - 1e-12)
        };
        state.weights[k] = stick * v;
        stick *= 1.0 - v;
        if k + 1 < classes {
            log_rest += (1.0 - v).ln();
        }
    }
    if !update_alpha {
        return;
    }
    let shape = options.a_alpha + classes as f64 - 1.0;
    let rate = options.b_alpha - log_rest;
    state.alpha = Gamma::new(shape, 1.0 / rate)
        .map_or(state.alpha, |g| g.sample(rng))
        .max(1e-10);
}

pub fn estimate(table: &OverlapTable, options: &LcmcrOptions) -> Estimate {
    let observed = table.observed();
    if table.lists() < 3 {
        return Estimate::refused(
            "lcmcr",
            observed,
            "latent classes",
            "the latent-class model needs at least 3 lists".into(),
        );
    }
    let run = run(table, options);
    let mut warnings = Vec::new();
    if run.r_hat > 1.1 {
        warnings.push(format!(
            "chains disagree (R-hat {:.2} > 1.1): run longer before trusting this",
            run.r_hat
        ));
    }
    if run.effective_sample_size < 100.0 {
        warnings.push(format!(
            "only {:.0} effective draws: the interval ends are noisy",
            run.effective_sample_size
        ));
    }
    Estimate {
        method: "lcmcr".into(),
        estimate: Some(run.median),
        lower: Some(run.lower),
        upper: Some(run.upper),
        observed,
        model: format!(
            "posterior median; {} latent classes (stick-breaking, alpha ~ Gamma({}, {})), prior p(N) ~ 1/N; {} chains x ({} burn-in + {} draws thinned by {}), seed {}; posterior mean {}; R-hat {:.3}, effective sample size {:.0}",
            options.classes,
            options.a_alpha,
            options.b_alpha,
            options.chains,
            thousands(options.burn_in as f64),
            thousands(options.samples as f64),
            options.thin,
            options.seed,
            thousands(run.mean),
            run.r_hat,
            run.effective_sample_size
        ),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::test_table;

    fn short(seed: u64) -> LcmcrOptions {
        LcmcrOptions {
            burn_in: 10_000,
            samples: 300,
            thin: 30,
            chains: 2,
            seed,
            ..LcmcrOptions::default()
        }
    }

    #[test]
    fn kosovo_posterior_median_is_near_the_published_figure_for_several_seeds() {
        let table = test_table("kosovo_1999_4list.csv");
        for seed in [1, 2, 3] {
            let run = run(&table, &short(seed));
            assert!(
                (10_000.0..11_000.0).contains(&run.median),
                "seed {seed}: {}",
                run.median
            );
            assert!(run.lower < run.median && run.median < run.upper);
            assert_eq!(run.chains.len(), 2);
            assert!(run.r_hat < 1.2, "seed {seed}: R-hat {}", run.r_hat);
        }
    }

    #[test]
    fn same_seed_same_draws() {
        let table = test_table("kosovo_1999_4list.csv");
        let options = LcmcrOptions {
            burn_in: 100,
            samples: 50,
            thin: 2,
            ..short(5)
        };
        assert_eq!(run(&table, &options), run(&table, &options));
        assert_ne!(
            run(&table, &options).chains,
            run(
                &table,
                &LcmcrOptions {
                    seed: 6,
                    ..options.clone()
                }
            )
            .chains
        );
    }
}
