//! Bayesian latent-class multiple systems estimation (Manrique-Vallier 2016, R package LCMCR):
//! persons fall into latent classes with independent list capture probabilities within a class;
//! the class weights follow a stick-breaking prior truncated at K classes with concentration
//! `alpha ~ Gamma(a, b)`, and the population size has the prior `p(N) ~ 1/N`. A Gibbs sampler
//! with data augmentation for the unseen persons draws `N`. Persons with the same capture pattern
//! are exchangeable, so class allocations are drawn per pattern as multinomial counts, which is
//! the same chain as drawing each person's class in turn, only faster.

use super::loglinear::quantile;
use super::mcmc::{effective_sample_size, r_hat};
use super::sampling::{
    SweepRng, beta, beta_lanes, count_to_f64, gamma, gamma_lanes, multinomial_ordered_summed,
    weight_sum, ziggurat,
};
use super::table::OverlapTable;
use super::{Estimate, thousands};
use rand::Rng;
use rand_distr::{Distribution, Poisson};

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
    /// Capture probability of list `j` in class `k`, at `j * classes + k` (list-major, so that
    /// the per-class loops below run over contiguous memory).
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
        let classes = self.classes;
        self.lambda = (0..self.lists)
            .flat_map(|j| order.iter().map(move |&k| j * classes + k))
            .map(|at| self.lambda[at])
            .collect();
    }

    /// `joint[mask * classes + k]`: class weight times the probability of capture pattern
    /// `mask` in class `k`, built up one list at a time for all classes together.
    fn fill_joint(&self, joint: &mut [f64]) {
        let classes = self.classes;
        joint[..classes].copy_from_slice(&self.weights);
        for j in 0..self.lists {
            let lambda = &self.lambda[j * classes..(j + 1) * classes];
            let width = 1 << j;
            let (without, with) = joint.split_at_mut(width * classes);
            for (from, to) in without
                .chunks_exact_mut(classes)
                .zip(with.chunks_exact_mut(classes))
            {
                for ((f, t), l) in from.iter_mut().zip(to.iter_mut()).zip(lambda) {
                    *t = *f * l;
                    *f *= 1.0 - l;
                }
            }
        }
    }
}

/// Cells re-sort their class order every this many sweeps: the order only sets the cost of the
/// multinomial draws, and the class weights drift slowly.
const REORDER_EVERY: usize = 32;

fn run_chain(table: &OverlapTable, options: &LcmcrOptions, chain: u64) -> Vec<f64> {
    let mut rng = SweepRng::from_chacha(options.seed, chain);
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
        lambda: initial_rates
            .iter()
            .flat_map(|&rate| std::iter::repeat_n(rate, classes))
            .collect(),
        weights,
        alpha: 0.3 / classes as f64,
    };
    // The cells each list recorded (rows of `allocated`), so that summing its persons takes no
    // data-dependent branch.
    let cells_on_list: Vec<Vec<usize>> = (0..lists)
        .map(|j| {
            (0..cells.len())
                .filter(|&row| cells[row].0 >> j & 1 == 1)
                .collect()
        })
        .collect();
    // Every row of class counts is padded to `stride` (a multiple of 4, the padding stays zero), so
    // that the sums run over whole blocks of four.
    let stride = classes.next_multiple_of(BLOCK);
    let every_row: Vec<usize> = (0..=cells.len()).collect();
    let mut class_size = vec![0u64; stride];
    // Persons of class `k` on list `j`, at `j * stride + k`.
    let mut captured = vec![0u64; stride * lists];
    // Persons of each class in each cell, a row per cell and a last row for the unseen: the
    // multinomial draws add into their rows, and the sufficient statistics above are row sums.
    let mut allocated = vec![0u64; (cells.len() + 1) * stride];
    let mut joint = vec![0.0; classes << lists];
    // Each cell's classes, most probable first as of the last re-sort (the order only sets the
    // cost of the multinomial draw, not its law); the last entry is for the unseen.
    let mut orders: Vec<Vec<usize>> = vec![(0..classes).collect(); cells.len() + 1];
    // Each cell's total weight (the unseen's last), summed before the first multinomial draw.
    let mut masses = vec![0.0; cells.len() + 1];
    let mut draws = Vec::with_capacity(options.samples);
    let total_sweeps = WARM_UP + options.burn_in + options.samples * options.thin.max(1);
    for sweep in 1..=total_sweeps {
        if sweep == WARM_UP + 1 {
            state.order_classes_by_weight();
        }
        let reorder = sweep % REORDER_EVERY == 1;
        allocated.fill(0);
        state.fill_joint(&mut joint);
        for (mass, mask) in masses
            .iter_mut()
            .zip(cells.iter().map(|&(mask, _)| mask as usize).chain([0]))
        {
            *mass = weight_sum(&joint[mask * classes..(mask + 1) * classes]);
        }
        let (observed_rows, unseen_row) = allocated.split_at_mut(cells.len() * stride);
        // Classes of the observed persons, pattern by pattern.
        for (((&(mask, count), order), row), &mass) in cells
            .iter()
            .zip(&mut orders)
            .zip(observed_rows.chunks_exact_mut(stride))
            .zip(&masses)
        {
            let cell_weights = &joint[mask as usize * classes..(mask as usize + 1) * classes];
            if reorder {
                sort_heaviest_first(order, cell_weights);
            }
            multinomial_ordered_summed(
                &mut rng,
                count,
                cell_weights,
                mass,
                order,
                &mut row[..classes],
            );
        }
        // The unseen: how many (negative binomial under p(N) ~ 1/N), then their classes.
        let cell_weights = &joint[..classes];
        let unseen_mass = masses[cells.len()];
        let missed = unseen_mass.min(1.0 - 1e-12);
        let unseen = draw_negative_binomial(&mut rng, observed, missed);
        let order = orders.last_mut().expect("the unseen have an order");
        if reorder {
            sort_heaviest_first(order, cell_weights);
        }
        multinomial_ordered_summed(
            &mut rng,
            unseen,
            cell_weights,
            unseen_mass,
            order,
            &mut unseen_row[..classes],
        );
        sum_rows(&mut class_size, &allocated, &every_row);
        for (on_list, rows) in captured.chunks_exact_mut(stride).zip(&cells_on_list) {
            sum_rows(on_list, &allocated, rows);
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

/// Class counts are summed in blocks of this many, kept in registers.
const BLOCK: usize = 4;

/// `total` (a row of `stride = total.len()` counts, a multiple of [`BLOCK`]) becomes the sum of the
/// given rows of `allocated`. For the usual strides the row's length is a constant, so that the
/// whole row's sums stay in registers and each row is added in one pass; otherwise block by block.
fn sum_rows(total: &mut [u64], allocated: &[u64], rows: &[usize]) {
    match total.len() {
        4 => sum_rows_of::<4>(total, allocated, rows),
        8 => sum_rows_of::<8>(total, allocated, rows),
        12 => sum_rows_of::<12>(total, allocated, rows),
        16 => sum_rows_of::<16>(total, allocated, rows),
        _ => sum_rows_by_block(total, allocated, rows),
    }
}

/// [`sum_rows`] for rows of `STRIDE` counts.
fn sum_rows_of<const STRIDE: usize>(total: &mut [u64], allocated: &[u64], rows: &[usize]) {
    let every_row = allocated.as_chunks::<STRIDE>().0;
    let mut sum = [0u64; STRIDE];
    for &row in rows {
        for (s, c) in sum.iter_mut().zip(&every_row[row]) {
            *s += c;
        }
    }
    total.copy_from_slice(&sum);
}

/// [`sum_rows`] for any stride: block by block, so that each block's sum stays in registers and
/// the compiler knows every length.
fn sum_rows_by_block(total: &mut [u64], allocated: &[u64], rows: &[usize]) {
    let stride = total.len();
    for (block, sum) in total.as_chunks_mut::<BLOCK>().0.iter_mut().enumerate() {
        let mut block_sum = [0u64; BLOCK];
        for &row in rows {
            let start = row * stride + block * BLOCK;
            let counts: &[u64; BLOCK] = allocated[start..start + BLOCK]
                .try_into()
                .expect("a block of counts");
            for (s, c) in block_sum.iter_mut().zip(counts) {
                *s += c;
            }
        }
        *sum = block_sum;
    }
}

/// Insertion sort by descending weight: a handful of comparisons when the order is nearly right.
fn sort_heaviest_first(order: &mut [usize], weights: &[f64]) {
    for i in 1..order.len() {
        let mut j = i;
        while j > 0 && weights[order[j - 1]] < weights[order[j]] {
            order.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Failures before the `successes`-th success when each trial fails with probability `missed`,
/// as a gamma-Poisson mixture.
fn draw_negative_binomial<R: Rng + Clone>(rng: &mut R, successes: u64, missed: f64) -> u64 {
    let rate = gamma(rng, ziggurat(), successes as f64) * missed / (1.0 - missed);
    if rate.is_nan() || rate <= 0.0 {
        0
    } else {
        Poisson::new(rate).map_or(0, |p| p.sample(rng) as u64)
    }
}

/// The parameters' draws work on a copy of the generator, which stays in registers through
/// their loops (the sweep's generator is in memory, since the multinomial draws take it by
/// reference); the copy is written back at the end.
fn update_parameters(
    sweep_rng: &mut SweepRng,
    state: &mut State,
    class_size: &[u64],
    captured: &[u64],
    options: &LcmcrOptions,
    update_alpha: bool,
) {
    let mut generator = sweep_rng.clone();
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        unsafe {
            draw_parameters_avx2(&mut generator, state, class_size, captured, options, update_alpha)
        };
        *sweep_rng = generator;
        return;
    }
    draw_parameters(&mut generator, state, class_size, captured, options, update_alpha);
    *sweep_rng = generator;
}

/// [`draw_parameters`] compiled for AVX2, so that the gamma lanes run four to a register; the
/// same operations in the same order (no fused multiply-adds), so the same draws.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn draw_parameters_avx2(
    rng: &mut SweepRng,
    state: &mut State,
    class_size: &[u64],
    captured: &[u64],
    options: &LcmcrOptions,
    update_alpha: bool,
) {
    draw_parameters(rng, state, class_size, captured, options, update_alpha);
}

/// Room for the sticks of this many classes on the stack.
const STACK_CLASSES: usize = 32;

/// Beta draws made together by [`beta_lanes`] (a class's capture probabilities, four lists at a
/// time; the first four sticks).
const AT_ONCE: usize = 4;

#[inline(always)]
fn draw_parameters<R: Rng + Clone>(
    rng: &mut R,
    state: &mut State,
    class_size: &[u64],
    captured: &[u64],
    options: &LcmcrOptions,
    update_alpha: bool,
) {
    let (lists, classes) = (state.lists, state.classes);
    let stride = class_size.len();
    let layers = ziggurat();
    // Class by class, so that whether a class is empty is one branch per class, which keeps its
    // outcome from sweep to sweep (a branch per list and class, inside the Beta draw, was
    // mispredicted about 9 times a sweep): an empty class's capture probabilities are uniform
    // (Beta(1, 1), their prior).
    for k in 0..classes {
        let size = count_to_f64(class_size[k]);
        if class_size[k] == 0 {
            for j in 0..lists {
                state.lambda[j * classes + k] = rng.random::<f64>().clamp(1e-12, 1.0 - 1e-12);
            }
            continue;
        }
        // Four lists' Beta(1 + hits, 1 + misses) draws at once, as ratios of eight gamma draws
        // in lanes (shapes of at least 1: no boost, and the ratio's sum is positive; written
        // out here rather than through `beta_lanes`, which took 3% more time per chain).
        let grouped = lists - lists % AT_ONCE;
        for first in (0..grouped).step_by(AT_ONCE) {
            let mut shapes = [0.0; 2 * AT_ONCE];
            for at in 0..AT_ONCE {
                let hits = count_to_f64(captured[(first + at) * stride + k]);
                shapes[at] = 1.0 + hits;
                shapes[AT_ONCE + at] = 1.0 + size - hits;
            }
            let draws = gamma_lanes(rng, layers, &shapes);
            for at in 0..AT_ONCE {
                let (x, y) = (draws[at], draws[AT_ONCE + at]);
                state.lambda[(first + at) * classes + k] = (x / (x + y)).clamp(1e-12, 1.0 - 1e-12);
            }
        }
        for j in grouped..lists {
            let hits = count_to_f64(captured[j * stride + k]);
            state.lambda[j * classes + k] =
                beta(rng, layers, 1.0 + hits, 1.0 + size - hits).clamp(1e-12, 1.0 - 1e-12);
        }
    }
    // The sticks' Beta(1 + n_k, alpha + persons in later classes) draws: the first four (the
    // heaviest classes, with persons after them) as ratios of eight gamma draws in lanes, the
    // rest one at a time; the last class takes what is left.
    let sticks = classes - 1;
    let mut later: u64 = class_size.iter().sum();
    let (mut on_stack, mut on_heap) = ([1.0; STACK_CLASSES], Vec::new());
    let v: &mut [f64] = if classes <= STACK_CLASSES {
        &mut on_stack[..classes]
    } else {
        on_heap.resize(classes, 1.0);
        &mut on_heap
    };
    let mut next = 0;
    if sticks >= AT_ONCE {
        let (mut a, mut b) = ([0.0; AT_ONCE], [0.0; AT_ONCE]);
        for at in 0..AT_ONCE {
            later -= class_size[at];
            a[at] = 1.0 + count_to_f64(class_size[at]);
            b[at] = state.alpha + count_to_f64(later);
        }
        v[..AT_ONCE].copy_from_slice(&beta_lanes(rng, layers, &a, &b));
        next = AT_ONCE;
    }
    for k in next..sticks {
        later -= class_size[k];
        v[k] = beta(
            rng,
            layers,
            1.0 + count_to_f64(class_size[k]),
            state.alpha + count_to_f64(later),
        );
    }
    let mut stick = 1.0;
    // The product of the sticks' remainders, for alpha's update (one logarithm, not one per class).
    let mut rest = 1.0;
    for (k, &v) in v.iter().enumerate() {
        let v = if k < sticks { v.clamp(1e-12, 1.0 - 1e-12) } else { 1.0 };
        state.weights[k] = stick * v;
        stick *= 1.0 - v;
        if k < sticks {
            rest *= 1.0 - v;
        }
    }
    if !update_alpha {
        return;
    }
    let shape = options.a_alpha + classes as f64 - 1.0;
    let rate = options.b_alpha - f64::ln(rest);
    state.alpha = (gamma(rng, layers, shape) / rate).max(1e-10);
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

    /// A sixth of the reference run's kept sweeps per chain, and four chains: with fewer, a
    /// seed's pooled median strays by several hundred from the posterior's.
    fn short(seed: u64) -> LcmcrOptions {
        LcmcrOptions {
            burn_in: 10_000,
            samples: 600,
            thin: 30,
            chains: 4,
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
            assert_eq!(run.chains.len(), 4);
            assert!(run.r_hat < 1.2, "seed {seed}: R-hat {}", run.r_hat);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn parameters_drawn_for_avx2_are_the_baseline_s_draws() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        // Five lists (a group of four in lanes and one alone), ten classes with empty ones among
        // them and after the last occupied one (sticks boosted below shape 1), many sweeps.
        let (lists, classes) = (5usize, 10usize);
        let stride = classes.next_multiple_of(BLOCK);
        let sizes = [900u64, 0, 310, 41, 7, 0, 1, 0, 0, 0];
        let mut class_size = vec![0u64; stride];
        class_size[..classes].copy_from_slice(&sizes);
        let mut captured = vec![0u64; stride * lists];
        for j in 0..lists {
            for (k, &size) in sizes.iter().enumerate() {
                captured[j * stride + k] = size * (j as u64 + 1) / 7;
            }
        }
        let fresh = || State {
            lists,
            classes,
            lambda: vec![0.5; lists * classes],
            weights: vec![0.1; classes],
            alpha: 0.4,
        };
        let options = LcmcrOptions::default();
        let (mut baseline, mut avx2) = (fresh(), fresh());
        let mut rng = SweepRng::from_chacha(61, 0);
        let mut rng_avx2 = rng.clone();
        for _ in 0..2_000 {
            draw_parameters(&mut rng, &mut baseline, &class_size, &captured, &options, true);
            // SAFETY: the processor has AVX2, checked above.
            unsafe {
                draw_parameters_avx2(&mut rng_avx2, &mut avx2, &class_size, &captured, &options, true)
            };
            assert_eq!(baseline.lambda, avx2.lambda);
            assert_eq!(baseline.weights, avx2.weights);
            assert_eq!(baseline.alpha.to_bits(), avx2.alpha.to_bits());
        }
        assert_eq!(rng.random::<u64>(), rng_avx2.random::<u64>());
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
