//! Random draws the resampling and Gibbs code share: multinomial counts by sequential binomials,
//! binomials by inversion or transformed rejection.

use rand::Rng;
use rand_distr::{Distribution, Exp1};
use std::sync::LazyLock;

/// A 128-bit multiplicative congruential generator returning the state's high 64 bits (Lehmer's
/// method, as Lemire's `lehmer64` with its multiplier 0xda942042e4dd58b5; period 2^126): the
/// Gibbs sampler's stream. Lemire (2019) reports it passes TestU01's BigCrush, O'Neill (2017)
/// that such truncated 128-bit generators pass PractRand; a number costs one full and one half
/// multiplication and an addition (Xoshiro256++, used before, took eleven operations and four
/// stores of its state per number). The state is seeded from a ChaCha stream, so a seed still
/// names one chain, on every platform and version.
#[derive(Debug, Clone)]
pub struct SweepRng(u128);

/// The multiplier of [`SweepRng`].
const SWEEP_MULTIPLIER: u128 = 0xda94_2042_e4dd_58b5;

impl SweepRng {
    pub fn from_chacha(seed: u64, stream: u64) -> Self {
        use rand::{RngCore, SeedableRng};
        let mut chacha = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        chacha.set_stream(stream);
        // An odd state has the full period.
        let state = (u128::from(chacha.next_u64()) << 64 | u128::from(chacha.next_u64())) | 1;
        SweepRng(state)
    }
}

impl rand::RngCore for SweepRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(SWEEP_MULTIPLIER);
        (self.0 >> 64) as u64
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        rand::rand_core::impls::fill_bytes_via_next(self, dst)
    }
}

/// Below this many items expected to be left, the rest are placed one at a time (a uniform draw
/// compared with the running totals of the weights each), which costs less than one binomial
/// draw per remaining category.
const ONE_AT_A_TIME_BELOW: f64 = 16.0;

/// Items are placed one at a time only while fewer than this many are actually left (the choice
/// above goes by the expected count, so that it does not wait for the previous draw; this bound
/// keeps an unlucky large remainder on binomial draws).
const ONE_AT_A_TIME_AT_MOST: u64 = 32;

/// Among few expected items, the next category still takes its binomial draw when at most this
/// many items are expected to fall outside it: one cheap inversion then usually places them all.
const BINOMIAL_IF_LEFT_OVER_AT_MOST: f64 = 1.0;

/// Items are placed one at a time among at most this many categories (their running totals are
/// kept on the stack); with more categories left, binomial draws go on to the end.
const ONE_AT_A_TIME_CATEGORIES: usize = 64;

/// Splits `count` items among categories with the given (unnormalised, non-negative) weights and
/// adds each category's share to `out`, visiting the categories in the given order (the draw is
/// exact in any order; heaviest first lets the remaining count fall fast): a binomial draw per
/// category while many items are expected to remain or the category takes nearly all of them,
/// then the last few items one at a time among the categories not yet visited.
///
/// Each draw's count is the next draw's input, so the choices between methods go by the counts
/// expected before any draw (`count` times the weight share), which the processor resolves
/// without waiting for the chain of draws; the method of a draw never depends on its own
/// uniforms, so every choice is exact.
pub fn multinomial_ordered<R: Rng + ?Sized>(
    rng: &mut R,
    count: u64,
    weights: &[f64],
    order: &[usize],
    out: &mut [u64],
) {
    multinomial_ordered_summed(rng, count, weights, weight_sum(weights), order, out);
}

/// [`multinomial_ordered`] with `mass = weight_sum(weights)` summed by the caller: a caller drawing
/// several multinomials sums all their weights before the first draw, so that no draw's first
/// decisions wait for its sum after the previous draw's last branch (a misprediction there
/// discards only the work that follows it).
pub(crate) fn multinomial_ordered_summed<R: Rng + ?Sized>(
    rng: &mut R,
    count: u64,
    weights: &[f64],
    mass: f64,
    order: &[usize],
    out: &mut [u64],
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        unsafe { multinomial_avx2(rng, count, weights, mass, order, out) };
        return;
    }
    multinomial_body(rng, count, weights, mass, order, out);
}

/// [`multinomial_ordered_summed`] compiled for AVX2: the same operations in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn multinomial_avx2<R: Rng + ?Sized>(
    rng: &mut R,
    count: u64,
    weights: &[f64],
    mass: f64,
    order: &[usize],
    out: &mut [u64],
) {
    multinomial_body(rng, count, weights, mass, order, out);
}

/// The body of [`multinomial_ordered_summed`].
#[inline(always)]
fn multinomial_body<R: Rng + ?Sized>(
    rng: &mut R,
    count: u64,
    weights: &[f64],
    mass: f64,
    order: &[usize],
    out: &mut [u64],
) {
    debug_assert_eq!(mass.to_bits(), weight_sum(weights).to_bits());
    let mut remaining = count;
    let mut mass = mass;
    // Expected items per unit of weight.
    let per_weight = count_to_f64(count) / mass;
    let mut rank = 0;
    while remaining > 0 {
        let k = order[rank];
        let w = weights[k];
        if rank + 1 == order.len() || w >= mass {
            out[k] += remaining;
            return;
        }
        let outside = mass - w;
        if per_weight * mass < ONE_AT_A_TIME_BELOW
            && order.len() - rank <= ONE_AT_A_TIME_CATEGORIES
            && per_weight * outside > BINOMIAL_IF_LEFT_OVER_AT_MOST
            && remaining < ONE_AT_A_TIME_AT_MOST
        {
            place_one_at_a_time(rng, remaining, weights, &order[rank..], out);
            return;
        }
        let drawn = binomial_expecting(rng, remaining, w / mass, per_weight * smaller(w, outside));
        out[k] += drawn;
        remaining -= drawn;
        mass = outside;
        rank += 1;
    }
}

/// The sum of `weights` over four lanes added at the end: a multinomial draw's first decisions
/// wait for this sum, and four short chains of additions end sooner than one long one.
pub(crate) fn weight_sum(weights: &[f64]) -> f64 {
    let mut lanes = [0.0; 4];
    let (blocks, rest) = weights.as_chunks::<4>();
    for block in blocks {
        for (lane, w) in lanes.iter_mut().zip(block) {
            *lane += w;
        }
    }
    for (lane, w) in lanes.iter_mut().zip(rest) {
        *lane += w;
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

/// Places `count` items one at a time among the categories `rest` (at most
/// [`ONE_AT_A_TIME_CATEGORIES`]). An item falls in the first category whose running weight total
/// exceeds its uniform; rather than finding that category per item, each running total counts the
/// items at or above it, lane by lane without branches or stores (a category's share is then the
/// difference of two neighbouring counts). The narrowest of a few fixed widths keeps the counts in
/// registers. The choice of width is inlined into the multinomial draw; the placements themselves
/// stay out of line (inlined too, they took 1.7% more time per LCMCR chain).
#[inline(always)]
fn place_one_at_a_time<R: Rng + ?Sized>(
    rng: &mut R,
    count: u64,
    weights: &[f64],
    rest: &[usize],
    out: &mut [u64],
) {
    if rest.len() <= 8 {
        place_counting::<R, 8>(rng, count, weights, rest, out);
    } else if rest.len() <= 16 {
        place_counting::<R, 16>(rng, count, weights, rest, out);
    } else {
        place_counting::<R, ONE_AT_A_TIME_CATEGORIES>(rng, count, weights, rest, out);
    }
}

/// Every item of [`place_one_at_a_time`] is compared with this many running totals; the others
/// only see items past them.
const PLACED_IN_EVERY_LANE: usize = 8;

/// [`place_one_at_a_time`] with `WIDTH >= rest.len()` lanes (and at least
/// [`PLACED_IN_EVERY_LANE`]); the lanes past `rest` hold an infinite total, which no item reaches.
fn place_counting<R: Rng + ?Sized, const WIDTH: usize>(
    rng: &mut R,
    count: u64,
    weights: &[f64],
    rest: &[usize],
    out: &mut [u64],
) {
    // Rounding can put a draw at the very top: it goes to the last category with weight.
    let Some(last_weighted) = rest.iter().rposition(|&k| weights[k] > 0.0) else {
        out[rest[0]] += count;
        return;
    };
    let mut running = [f64::INFINITY; WIDTH];
    let mut mass = 0.0;
    for (total, &k) in running.iter_mut().zip(rest) {
        mass += weights[k];
        *total = mass;
    }
    // The first lanes count every item; the others only items past the first lanes' last total,
    // which are few, since the heaviest categories come first (a branch taken that rarely is
    // predicted, and the counts of those lanes cost nothing per item). With eight categories or
    // fewer there are no other lanes.
    let (head, tail) = running.split_at(PLACED_IN_EVERY_LANE);
    let head_top = head[PLACED_IN_EVERY_LANE - 1];
    let mut in_head = [0u64; PLACED_IN_EVERY_LANE];
    let mut at_or_above = [0u64; WIDTH];
    for _ in 0..count {
        let u = rng.random::<f64>() * mass;
        for (reached, &total) in in_head.iter_mut().zip(head) {
            *reached += u64::from(total <= u);
        }
        if WIDTH > PLACED_IN_EVERY_LANE && head_top <= u {
            for (reached, &total) in at_or_above[PLACED_IN_EVERY_LANE..].iter_mut().zip(tail) {
                *reached += u64::from(total <= u);
            }
        }
    }
    at_or_above[..PLACED_IN_EVERY_LANE].copy_from_slice(&in_head);
    let mut before = count;
    for (&k, &reached) in rest[..last_weighted].iter().zip(&at_or_above) {
        out[k] += before - reached;
        before = reached;
    }
    out[rest[last_weighted]] += before;
}

/// [`multinomial_ordered`] visiting the categories in index order, into a zeroed `out`.
pub fn multinomial<R: Rng + ?Sized>(rng: &mut R, count: u64, weights: &[f64], out: &mut [u64]) {
    out.iter_mut().for_each(|o| *o = 0);
    let order: Vec<usize> = (0..weights.len()).collect();
    multinomial_ordered(rng, count, weights, &order, out);
}

/// Below this mean of the smaller tail a binomial is drawn by inversion, above it by [`btrs`]:
/// where the two cost the same on this machine kind (inversion's cost grows with the mean,
/// transformed rejection's acceptance rate with it).
const INVERSION_BELOW_MEAN: f64 = 16.0;

/// `1 / i` for `i < 64`: the inversion loop multiplies by these instead of dividing, which keeps
/// a division's latency off each step.
static RECIPROCALS: [f64; 64] = {
    let mut table = [0.0; 64];
    let mut i = 1;
    while i < 64 {
        table[i] = 1.0 / i as f64;
        i += 1;
    }
    table
};

/// A binomial draw: inversion when the smaller tail's mean is small (no set-up), Hörmann's
/// transformed rejection ([`btrs`]) otherwise.
pub fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    binomial_expecting(rng, n, p, count_to_f64(n) * p.min(1.0 - p))
}

/// Inversion is used up to this mean of the smaller tail even when a larger one was expected
/// (an unlucky count), transformed rejection from [`INVERSION_BELOW_MEAN`] up when expected.
const INVERSION_UP_TO_MEAN: f64 = 48.0;

/// Transformed rejection needs a mean of at least 10 (Hörmann's constants assume it).
const REJECTION_FROM_MEAN: f64 = 10.0;

/// [`binomial`] choosing its method by `expected_tail`, the caller's expectation of the smaller
/// tail's mean `n min(p, 1 - p)` known before `n` is drawn: the choice is then resolved early,
/// and the guards on the actual mean (either method is exact at any mean; these bound the cost
/// and keep rejection where its constants hold) are rarely taken, so predicted.
fn binomial_expecting<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64, expected_tail: f64) -> u64 {
    if p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let flipped = p > 0.5;
    let q = smaller(p, 1.0 - p);
    let tail = count_to_f64(n) * q;
    let x = if expected_tail < INVERSION_BELOW_MEAN {
        if tail < INVERSION_UP_TO_MEAN {
            binomial_by_inversion(rng, n, q)
        } else {
            btrs(rng, count_to_f64(n), q) as u64
        }
    } else if tail < REJECTION_FROM_MEAN {
        binomial_by_inversion(rng, n, q)
    } else {
        btrs(rng, count_to_f64(n), q) as u64
    };
    // `n - x` when flipped, by masking: the flip depends only on `p`, but a branch here was
    // mispredicted on about every third draw.
    let flip = 0u64.wrapping_sub(u64::from(flipped));
    x ^ ((x ^ (n - x)) & flip)
}

/// Binomial(n, q) by sequential search from 0: one uniform, and a step per unit of the result.
/// Inlined into the multinomial, so that the generator's state stays in registers.
#[inline(always)]
fn binomial_by_inversion<R: Rng + ?Sized>(rng: &mut R, n: u64, q: f64) -> u64 {
    let odds = q / (1.0 - q);
    let a = count_to_f64(n + 1) * odds;
    // `P(0)`: by squarings for `n` below 256, else by a logarithm and an exponential (whose
    // latency is longer).
    let probability_of_none = if n < 256 {
        power_below_256(1.0 - q, n)
    } else {
        (count_to_f64(n) * ln_one_minus(q)).exp()
    };
    let u: f64 = rng.random();
    // The search runs over `f(x) / f(0)` and their running sum, which do not wait for `P(0)`:
    // only the comparisons with `u` do, so the steps proceed while its squarings finish.
    let (mut term, mut total) = (1.0, 1.0);
    let mut x = 0;
    while u > probability_of_none * total && x < n {
        x += 1;
        let reciprocal = match RECIPROCALS.get(x as usize) {
            Some(&table) => table,
            None => 1.0 / x as f64,
        };
        term *= a * reciprocal - odds;
        total += term;
    }
    x
}

/// A count as a float through `i64`: counts stay far below 2^63, and the direct `u64`
/// conversion takes several instructions and a branch on x86-64.
pub(crate) fn count_to_f64(count: u64) -> f64 {
    count as i64 as f64
}

/// `base^n` for `0 <= base <= 1` and `n < 256` over the eight bits of `n`, without branches
/// (`powi` calls a library loop whose exit mispredicts): the squares `base^(2^i)` do not depend
/// on `n`, so they are ready before the previous draw yields `n`, and the chosen factors
/// multiply as a tree of depth 3. A square is chosen as the larger of it and 0 where its bit
/// is set, of it and 1 where not (squares lie in [0, 1]): exact, and the comparisons vectorise.
fn power_below_256(base: f64, n: u64) -> f64 {
    let mut squares = [base; 8];
    for bit in 1..8 {
        squares[bit] = squares[bit - 1] * squares[bit - 1];
    }
    // Below 256, so the bits fit the 32-bit lanes that compare in one instruction.
    let n = n as u32;
    let mut factors = [0.0; 8];
    for (bit, (factor, &square)) in factors.iter_mut().zip(&squares).enumerate() {
        let floor = if n & 1 << bit != 0 { 0.0 } else { 1.0 };
        *factor = if square > floor { square } else { floor };
    }
    let [f0, f1, f2, f3, f4, f5, f6, f7] = factors;
    (f0 * f1 * (f2 * f3)) * (f4 * f5 * (f6 * f7))
}

/// `ln(1 - q)` for `0 <= q <= 1/2` to a few units in the last place, through the natural
/// logarithm (which costs less than `ln_1p`): `1 - q` rounds, and Kahan's factor
/// `-q / ((1 - q) - 1)` undoes that rounding.
fn ln_one_minus(q: f64) -> f64 {
    let rounded = 1.0 - q;
    if rounded == 1.0 {
        -q
    } else {
        rounded.ln() * (-q / (rounded - 1.0))
    }
}

/// Binomial(n, p) for `p <= 0.5` and `n p >= 10` by transformed rejection with squeeze (BTRS,
/// Hörmann 1993, "The generation of binomial random variates", J. Stat. Comput. Simul. 46): about
/// two uniforms per draw and no set-up tables. Most draws are accepted inside the squeeze box;
/// the others compare with the probability ratio to the mode, first with bounds on it (most are
/// decided there), else exactly, by products of at most 15 factors near the mode and by
/// Stirling's series (tabulated below 10) further out.
fn btrs<R: Rng + ?Sized>(rng: &mut R, n: f64, p: f64) -> f64 {
    // Each draw's `n` is the previous draw's result, so what waits for it is kept short: `p q`
    // before `n`, the squeeze `v <= 0.92 - 4.2 / b` multiplied by `b > 0`, `2 a / us` as
    // `a (2 / us)` (no division), and the point `x = (a (2 / us) + b) u + c` with
    // `a = a0 + 0.0248 b` grouped as `b ((0.0248 (2 / us) + 1) u) + (a0 (2 / us) u + c)`, whose
    // factors in parentheses need only the uniforms and `c`.
    let spq = (n * (p * (1.0 - p))).sqrt();
    let b = 1.15 + 2.53 * spq;
    let a_fixed = -0.0873 + 0.01 * p;
    let a = a_fixed + 0.0248 * b;
    let c = n * p + 0.5;
    let squeeze = 0.92 * b - 4.2;
    loop {
        let u = rng.random::<f64>() - 0.5;
        let v: f64 = rng.random();
        let us = 0.5 - u.abs();
        let w = 2.0 / us;
        let x = b * ((0.0248 * w + 1.0) * u) + (a_fixed * w * u + c);
        // `x` is finite and `k = floor(x)` lies in 0..=n, or the point is rejected.
        if !(x >= 0.0 && x < n + 1.0) {
            continue;
        }
        let k = (x as i64) as f64;
        if us >= 0.07 && v * b <= squeeze {
            return k;
        }
        let hat = v * (2.83 + 5.1 / b) * spq / (a / (us * us) + b);
        if below_probability_ratio(n, p, k, hat) {
            return k;
        }
    }
}

/// The test of [`btrs`] for a point outside its squeeze: `hat <= f(k) / f(mode)`. The ratio is
/// first bracketed without logarithms or loops, and the exact ratio is computed only for the few
/// points between the brackets (see [`probability_ratio_brackets`]).
#[inline(always)]
fn below_probability_ratio(n: f64, p: f64, k: f64, hat: f64) -> bool {
    let (low, high) = probability_ratio_brackets(n, p, k);
    if hat <= low {
        return true;
    }
    if hat > high {
        return false;
    }
    below_exact_probability_ratio(n, p, k, hat)
}

/// Bounds `(low, high)` on `f(k) / f(mode)` for Binomial(n, p), `p <= 1/2`, with
/// `mode = floor((n + 1) p)`. With `mu = (n + 1) p`, `f(i) / f(i - 1) = (n - i + 1) p / (i q)`,
/// so `x = -ln f(k) / f(mode)` is the sum over the steps `i` between `lo = min(k, mode)`
/// (excluded) and `hi = max(k, mode)` of `ln y_i`, where `y_i >= 1` is that ratio or its inverse
/// and `y_i - 1 = |i - mu| / d_i` with `d_i` the ratio's denominator. For `y >= 1`,
/// `2 (y - 1) / (y + 1) <= ln y <= (y - 1) / sqrt(y)`: the step is at least
/// `2 |i - mu| / ((n + 1) p + i (q - p))` and at most `|i - mu| / sqrt(p q i (n + 1 - i))`.
/// The denominators are largest at `i = hi` and smallest at an end of the steps (`i (n + 1 - i)`
/// is concave), and the numerators sum to `S = (k - mode) ((k + mode + 1) / 2 - mu)`:
/// `least = 2 S / ((n + 1) p + hi (q - p)) <= x <= most = S / sqrt(p q min(...))`. Then
/// `e^-x` lies above `1 - x + x^2/2 - x^3/6` and `(1 - x/16)^16` (for `x <= 16`), and below
/// `1 / (1 + x + x^2/2 + x^3/6)` and `(1 + x/16)^-16`. Both bounds are exact at the mode, and
/// near it, where most such points lie, they differ by terms of third order in `k - mode`.
#[inline(always)]
fn probability_ratio_brackets(n: f64, p: f64, k: f64) -> (f64, f64) {
    let q = 1.0 - p;
    let mu = (n + 1.0) * p;
    // Truncation is the floor here: the operand is not negative.
    let mode = (mu as i64) as f64;
    let steps_sum = (k - mode) * (0.5 * (k + mode + 1.0) - mu);
    let (lo, hi) = (smaller(k, mode), larger(k, mode));
    let first = lo + 1.0;
    // At least `n >= 1` when there are steps; at least 1 keeps `0 / 0` out at the mode.
    let spread = larger(smaller(first * (n + 1.0 - first), hi * (n + 1.0 - hi)), 1.0);
    let most = steps_sum / (p * q * spread).sqrt();
    let least = 2.0 * steps_sum / (mu + hi * (q - p));
    let sixteenth_power = |base: f64| {
        let square = base * base;
        let fourth = square * square;
        let eighth = fourth * fourth;
        eighth * eighth
    };
    let low = larger(
        1.0 - most * (1.0 - most * (0.5 - most * (1.0 / 6.0))),
        sixteenth_power(larger(1.0 - most * (1.0 / 16.0), 0.0)),
    );
    let high = 1.0
        / larger(
            1.0 + least * (1.0 + least * (0.5 + least * (1.0 / 6.0))),
            sixteenth_power(1.0 + least * (1.0 / 16.0)),
        );
    (low, high)
}

/// The exact test `hat <= f(k) / f(mode)` for the points [`probability_ratio_brackets`] leaves
/// open: by products of at most 15 factors near the mode, by Stirling's series further out. Out
/// of line, since few draws need it.
#[inline(never)]
fn below_exact_probability_ratio(n: f64, p: f64, k: f64, hat: f64) -> bool {
    let odds = p / (1.0 - p);
    // Truncation is the floor here: the operand is not negative.
    let mode = (((n + 1.0) * p) as i64) as f64;
    if (k - mode).abs() > 15.0 {
        return hat.ln() <= log_ratio_to_mode(n, mode, odds, k);
    }
    // f(i) / f(i - 1) = (n - i + 1) odds / i: the ratio f(k) / f(mode) as a quotient of two
    // products over the steps between them, compared without dividing.
    let (from, to) = if k > mode { (mode, k) } else { (k, mode) };
    let (mut rising, mut steps) = (1.0, 1.0);
    let mut i = from + 1.0;
    while i <= to {
        rising *= (n - i + 1.0) * odds;
        steps *= i;
        i += 1.0;
    }
    if k > mode {
        hat * steps <= rising
    } else {
        hat * rising <= steps
    }
}

/// `ln f(k) / f(mode)` for Binomial(n, p) with `odds = p / (1 - p)`, by Stirling's series: the
/// rare far-tail test of [`btrs`].
fn log_ratio_to_mode(n: f64, mode: f64, odds: f64, k: f64) -> f64 {
    (mode + 0.5) * ((mode + 1.0) / (odds * (n - mode + 1.0))).ln()
        + (n + 1.0) * ((n - mode + 1.0) / (n - k + 1.0)).ln()
        + (k + 0.5) * (odds * (n - k + 1.0) / (k + 1.0)).ln()
        + stirling_tail(mode)
        + stirling_tail(n - mode)
        - stirling_tail(k)
        - stirling_tail(n - k)
}

/// A Beta(a, b) draw: a closed form when `a` is 1 (an empty latent class), else a ratio of two
/// gamma draws. Marsaglia and Tsang's gamma almost never needs a logarithm, so the pair costs
/// less than Cheng's BB (`rbeta`'s), whose every try takes a logarithm and an exponential.
/// Inlined into the sweep's parameter loops (no call per draw, the generator's state stays in
/// registers).
#[inline(always)]
pub fn beta<R: Rng + Clone>(rng: &mut R, layers: &Ziggurat, a: f64, b: f64) -> f64 {
    if a == 1.0 {
        return if b == 1.0 {
            rng.random()
        } else {
            1.0 - uniform_root(rng, b)
        };
    }
    let x = gamma(rng, layers, a);
    let y = gamma(rng, layers, b);
    if x + y > 0.0 { x / (x + y) } else { 0.5 }
}

/// A Gamma(shape, 1) draw by Marsaglia and Tsang's method (2000), boosted by `U^(1/shape)` below
/// shape 1: no set-up object, which matters when every draw has a new shape. Inlined into the
/// Beta draws, so that the generator's state stays in registers.
///
/// With `d = shape - 1/3`, `t = x / sqrt(9 d)` for the normal `x` and `v = (1 + t)^3`, the point
/// is accepted when `ln U < L = x^2 / 2 + d (1 - v + ln v)`. Two squeezes spare the logarithms:
/// Marsaglia and Tsang's `1 - U > 0.0331 x^4`, and one that tightens as the shape grows (theirs
/// does not, so it sent about 8% of the large shapes here to the logarithms): Taylor's formula
/// with Lagrange's remainder gives `ln(1 + t) >= t - t^2/2 + t^3/3 - t^4 / (4 m^4)` with
/// `m = min(1, 1 + t)`, hence `L >= -x^2 t^2 / (12 m^4)`, and `ln U <= U - 1`, so
/// `12 m^4 (1 - U) > x^2 t^2` implies acceptance. Both are tested at once as
/// `12 m^4 (1 - U) > x^2 min(t^2, 0.3972 m^4 x^2)` (0.3972 = 12 * 0.0331). `U` itself is drawn
/// lazily: eight spare bits of the normal's draw place it in one of 256 intervals, and when the
/// squeeze holds at the interval's top (nearly always for large shapes) the point is accepted
/// without drawing the rest; otherwise the rest of `U` within its interval is drawn. Either way
/// `U` is uniform and independent of `x`, so the law is Marsaglia and Tsang's.
#[inline(always)]
pub fn gamma<R: Rng + Clone>(rng: &mut R, layers: &Ziggurat, shape: f64) -> f64 {
    if shape.is_nan() || shape <= 0.0 {
        return 0.0;
    }
    let (shape, boost) = if shape < 1.0 {
        (shape + 1.0, uniform_root(rng, shape))
    } else {
        (shape, 1.0)
    };
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    gamma_trials(rng, layers, d, c) * boost
}

/// Marsaglia and Tsang's trials for `d = shape - 1/3` and `c = 1 / sqrt(9 d)` until one is
/// accepted (see [`gamma`]).
#[inline(always)]
fn gamma_trials<R: Rng + Clone>(rng: &mut R, layers: &Ziggurat, d: f64, c: f64) -> f64 {
    loop {
        let (x, interval) = normal_and_spare_bits(rng, layers);
        if let Some(draw) = gamma_trial_from(rng, d, c, x, interval) {
            return draw;
        }
    }
}

/// One trial of [`gamma`] for the normal `x` and its spare bits `interval`: the draw if the trial
/// is accepted, `None` if rejected.
#[inline(always)]
fn gamma_trial_from<R: Rng + Clone>(rng: &mut R, d: f64, c: f64, x: f64, interval: u64) -> Option<f64> {
    let t = c * x;
    let cube_root = 1.0 + t;
    if cube_root <= 0.0 {
        return None;
    }
    let v = cube_root * cube_root * cube_root;
    let (scale, bound) = gamma_squeeze(x, t, cube_root);
    if scale * INTERVAL_TOPS[interval as usize & (INTERVALS - 1)] >= bound {
        return Some(d * v);
    }
    let u = (count_to_f64(interval) + rng.random::<f64>()) * (1.0 / INTERVALS as f64);
    (scale * (1.0 - u) > bound || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln())).then_some(d * v)
}

/// Gamma draws of the given shapes, each at least 1, in lanes: every lane's first trial (its
/// normal from the ziggurat's first layer test, and the squeeze at the top of its spare bits'
/// interval) runs over arrays the compiler vectorises, including the set-ups' square roots and
/// divisions; a lane whose trial that does not settle goes on alone, exactly as [`gamma`] would
/// (the ziggurat's rare cases, the rest of `U`, further trials). Each lane's draws are its own
/// trials in sequence, so each is Gamma(shape), independent of the others.
#[inline(always)]
pub fn gamma_lanes<R: Rng + Clone, const L: usize>(
    rng: &mut R,
    layers: &Ziggurat,
    shapes: &[f64; L],
) -> [f64; L] {
    let d = shapes.map(|shape| shape - 1.0 / 3.0);
    let mut c = [0.0; L];
    for (c, &d) in c.iter_mut().zip(&d) {
        *c = 1.0 / (9.0 * d).sqrt();
    }
    let bits: [u64; L] = std::array::from_fn(|_| rng.next_u64());
    let (mut widths, mut edges, mut tops) = ([0.0; L], [0.0; L], [0.0; L]);
    for (lane, &bits) in bits.iter().enumerate() {
        let layer = (bits & 0xff) as usize;
        widths[lane] = layers.x[layer];
        edges[lane] = layers.x[layer + 1];
        tops[lane] = INTERVAL_TOPS[spare_bits(bits) as usize];
    }
    let mut draws = [0.0; L];
    // Bit `lane` set where that lane's first trial did not settle.
    let mut unsettled = 0u64;
    for lane in 0..L {
        // As in `normal_and_spare_bits` and `gamma_trial_from`.
        let u = ziggurat_position(bits[lane]);
        let x = u * widths[lane];
        let t = c[lane] * x;
        let cube_root = 1.0 + t;
        let (scale, bound) = gamma_squeeze(x, t, cube_root);
        let settled = (x.abs() < edges[lane]) & (cube_root > 0.0) & (scale * tops[lane] >= bound);
        unsettled |= u64::from(!settled) << lane;
        draws[lane] = d[lane] * (cube_root * cube_root * cube_root);
    }
    while unsettled != 0 {
        let lane = unsettled.trailing_zeros() as usize;
        unsettled &= unsettled - 1;
        draws[lane] = finish_gamma_lane(rng, layers, d[lane], c[lane], bits[lane]);
    }
    draws
}

/// Four Beta(a, b) draws at once: the ratios of eight gamma draws in lanes ([`gamma_lanes`]), a
/// shape below 1 drawn at shape + 1 and boosted by `U^(1 / shape)`, as in [`gamma`].
#[inline(always)]
pub fn beta_lanes<R: Rng + Clone>(
    rng: &mut R,
    layers: &Ziggurat,
    a: &[f64; 4],
    b: &[f64; 4],
) -> [f64; 4] {
    let shapes: [f64; 8] = std::array::from_fn(|lane| {
        let shape = if lane < 4 { a[lane] } else { b[lane - 4] };
        if shape < 1.0 { shape + 1.0 } else { shape }
    });
    let mut draws = gamma_lanes(rng, layers, &shapes);
    for (draw, &shape) in draws.iter_mut().zip(a.iter().chain(b)) {
        if shape < 1.0 {
            *draw *= uniform_root(rng, shape);
        }
    }
    std::array::from_fn(|at| {
        let (x, y) = (draws[at], draws[4 + at]);
        if x + y > 0.0 { x / (x + y) } else { 0.5 }
    })
}

/// The rest of a lane of [`gamma_lanes`] whose first trial, from the 64 random bits `bits`, did
/// not settle: its normal's rare cases, then its squeeze and exact test, then further trials.
#[inline(never)]
fn finish_gamma_lane<R: Rng + Clone>(rng: &mut R, layers: &Ziggurat, d: f64, c: f64, bits: u64) -> f64 {
    let layer = (bits & 0xff) as usize;
    let interval = spare_bits(bits);
    let u = ziggurat_position(bits);
    let x = u * layers.x[layer];
    let normal = if x.abs() < layers.x[layer + 1] {
        Some(x)
    } else {
        normal_outside_the_box(rng, layers, layer, u, x)
    };
    // A normal rejected by the ziggurat is drawn again, which is a new trial.
    if let Some(x) = normal
        && let Some(draw) = gamma_trial_from(rng, d, c, x, interval)
    {
        return draw;
    }
    gamma_trials(rng, layers, d, c)
}

/// `U^(1 / s)` for a uniform `U`, drawn as `e^(-E / s)` for an exponential `E` (`-ln U`; by
/// `rand_distr`'s ziggurat, a table look-up for nearly every draw): one exponential function
/// instead of a power, which costs about twice as much.
fn uniform_root<R: Rng + Clone>(rng: &mut R, s: f64) -> f64 {
    let exponential: f64 = Exp1.sample(rng);
    (-exponential / s).exp()
}

/// How many intervals [`gamma`]'s spare bits place `U` in.
const INTERVALS: usize = 256;

/// `1 - U` at the top of each of the [`INTERVALS`] intervals of `U` that [`gamma`]'s spare bits
/// choose (exact: multiples of 1/256), looked up rather than computed from the bits.
static INTERVAL_TOPS: [f64; INTERVALS] = {
    let mut tops = [0.0; INTERVALS];
    let mut interval = 0;
    while interval < INTERVALS {
        tops[interval] = (INTERVALS - 1 - interval) as f64 / INTERVALS as f64;
        interval += 1;
    }
    tops
};

/// The squeezes of [`gamma`] for the normal `x`, `t = c x` and `cube_root = 1 + t > 0`, as
/// `(scale, bound)`: the point is accepted when `scale (1 - U) > bound`.
#[inline(always)]
fn gamma_squeeze(x: f64, t: f64, cube_root: f64) -> (f64, f64) {
    let m_squared = cube_root.min(1.0) * cube_root.min(1.0);
    let m_fourth = m_squared * m_squared;
    let x_squared = x * x;
    (
        12.0 * m_fourth,
        x_squared * smaller(t * t, 0.3972 * m_fourth * x_squared),
    )
}

/// The smaller of two numbers that are not NaN, in one instruction (`f64::min` takes six here, as
/// it also handles NaN).
#[inline(always)]
fn smaller(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// The larger of two numbers that are not NaN, in one instruction (as [`smaller`]).
#[inline(always)]
fn larger(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// The layers of the normal ziggurat (Marsaglia and Tsang 2000, in Doornik's ZIGNOR variant,
/// with the layers `rand_distr` uses): `x[i]` the layers' right ends, `f[i] = exp(-x[i]^2 / 2)`. Built
/// once ([`ziggurat`]); callers drawing many normals take the reference once, since each access
/// to the lazily built static checks that it is built.
pub struct Ziggurat {
    x: [f64; ZIGGURAT_LAYERS + 1],
    f: [f64; ZIGGURAT_LAYERS + 1],
}

const ZIGGURAT_LAYERS: usize = 256;
/// Where the base layer's tail starts, and each layer's area (Marsaglia and Tsang's constants
/// for 256 layers).
const ZIGGURAT_TAIL: f64 = 3.654_152_885_361_009;
const ZIGGURAT_AREA: f64 = 0.004_928_673_233_99;

/// The normal ziggurat's tables.
pub fn ziggurat() -> &'static Ziggurat {
    &ZIGGURAT
}

static ZIGGURAT: LazyLock<Ziggurat> = LazyLock::new(|| {
    let density = |x: f64| (-0.5 * x * x).exp();
    let mut x = [0.0; ZIGGURAT_LAYERS + 1];
    x[0] = ZIGGURAT_AREA / density(ZIGGURAT_TAIL);
    x[1] = ZIGGURAT_TAIL;
    for i in 2..ZIGGURAT_LAYERS {
        x[i] = (-2.0 * (ZIGGURAT_AREA / x[i - 1] + density(x[i - 1])).ln()).sqrt();
    }
    Ziggurat {
        x,
        f: x.map(density),
    }
});

/// A standard normal draw by the ziggurat: one generator call and a comparison for about 99% of
/// draws (`rand_distr`'s is a call with the generator's state in memory, and cost about three
/// times as many instructions here).
pub fn standard_normal<R: Rng + Clone>(rng: &mut R, layers: &Ziggurat) -> f64 {
    normal_and_spare_bits(rng, layers).0
}

/// [`standard_normal`] and eight more random bits (a number below 256), independent of the
/// normal: the ziggurat reads bits 0-7 of its 64-bit draw (the layer) and 16-63 (the position, 48
/// bits), so bits 8-15 of the draw it accepts are left over. Inlined into the gamma draws.
#[inline(always)]
fn normal_and_spare_bits<R: Rng + Clone>(rng: &mut R, layers: &Ziggurat) -> (f64, u64) {
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xff) as usize;
        let spare = spare_bits(bits);
        let u = ziggurat_position(bits);
        let x = u * layers.x[i];
        if x.abs() < layers.x[i + 1] {
            return (x, spare);
        }
        // On a copy of the generator: the rare path's call then takes no reference to the
        // caller's, which can stay in registers through the caller's loops.
        let mut rare = rng.clone();
        let outside = normal_outside_the_box(&mut rare, layers, i, u, x);
        *rng = rare;
        if let Some(x) = outside {
            return (x, spare);
        }
    }
}

/// The ziggurat's position in its layer from bits 16-63 of a draw: those 48 bits as the top of
/// a float's fraction in [2, 4), less 3, uniform on [-1, 1).
#[inline(always)]
fn ziggurat_position(bits: u64) -> f64 {
    f64::from_bits((bits >> 16) << 4 | 0x4000_0000_0000_0000) - 3.0
}

/// Bits 8-15 of a ziggurat draw, which it does not read: [`gamma`]'s interval of `U`.
#[inline(always)]
fn spare_bits(bits: u64) -> u64 {
    bits >> 8 & 0xff
}

/// The ziggurat's rare cases: the tail beyond [`ZIGGURAT_TAIL`] (Marsaglia's method) from the
/// base layer, and the wedge of another layer against the density; `None` to draw again.
#[inline(never)]
fn normal_outside_the_box<R: Rng + ?Sized>(
    rng: &mut R,
    layers: &Ziggurat,
    i: usize,
    u: f64,
    x: f64,
) -> Option<f64> {
    if i == 0 {
        let open_unit = |rng: &mut R| ((rng.next_u64() >> 11) as f64 + 0.5) * f64::EPSILON / 2.0;
        loop {
            let tail = open_unit(rng).ln() / ZIGGURAT_TAIL;
            let y = open_unit(rng).ln();
            if -2.0 * y >= tail * tail {
                return Some(if u < 0.0 {
                    tail - ZIGGURAT_TAIL
                } else {
                    ZIGGURAT_TAIL - tail
                });
            }
        }
    }
    let height = layers.f[i + 1] + (layers.f[i] - layers.f[i + 1]) * rng.random::<f64>();
    (height < (-0.5 * x * x).exp()).then_some(x)
}

/// `ln k! - [(k + 1/2) ln(k + 1) - (k + 1) + ln(2 pi)/2]`: the remainder of Stirling's formula for
/// `ln k!`, tabulated below 10 and from its asymptotic series above.
fn stirling_tail(k: f64) -> f64 {
    const SMALL: [f64; 10] = [
        0.081_061_466_795_327_2,
        0.041_340_695_955_409_2,
        0.027_677_925_684_998_3,
        0.020_790_672_103_765_09,
        0.016_644_691_189_821_1,
        0.013_876_128_823_070_7,
        0.011_896_709_945_891_7,
        0.010_411_265_261_972_0,
        0.009_255_462_182_712_73,
        0.008_330_563_433_362_87,
    ];
    if k <= 9.0 {
        return SMALL[k as usize];
    }
    let next_squared = (k + 1.0) * (k + 1.0);
    (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / 1260.0 / next_squared) / next_squared) / (k + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    use statrs::function::factorial::ln_binomial;

    /// Pearson's statistic of `counts` against `expected` (same length), cells pooled from the
    /// left until each expects at least 5, and the chi-square quantile it must stay below.
    fn pearson(counts: &[u64], expected: &[f64]) -> (f64, f64) {
        let (mut statistic, mut cells) = (0.0, 0);
        let (mut observed_run, mut expected_run) = (0.0, 0.0);
        for (&o, &e) in counts.iter().zip(expected) {
            observed_run += o as f64;
            expected_run += e;
            if expected_run >= 5.0 {
                statistic += (observed_run - expected_run).powi(2) / expected_run;
                cells += 1;
                (observed_run, expected_run) = (0.0, 0.0);
            }
        }
        statistic += (observed_run - expected_run).powi(2) / expected_run.max(1e-9);
        let bound = ChiSquared::new(cells.max(2) as f64 - 1.0)
            .unwrap()
            .inverse_cdf(0.9999);
        (statistic, bound)
    }

    /// Pearson's test of 100,000 draws of `draw` against Binomial(n, p).
    fn check_binomial_law(n: u64, p: f64, mut draw: impl FnMut() -> u64) {
        let draws = 100_000;
        let mut counts = vec![0u64; n as usize + 1];
        for _ in 0..draws {
            counts[draw() as usize] += 1;
        }
        let expected: Vec<f64> = (0..=n)
            .map(|k| {
                draws as f64
                    * (ln_binomial(n, k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln())
                        .exp()
            })
            .collect();
        let (statistic, bound) = pearson(&counts, &expected);
        assert!(
            statistic < bound,
            "n {n}, p {p}: chi-square {statistic:.1} >= {bound:.1}"
        );
    }

    #[test]
    fn sweep_stream_bits_are_uniform_alone_and_in_consecutive_pairs() {
        // The samplers read the low byte (the ziggurat's layer), bits 8-15 (gamma's interval)
        // and the top bits (uniforms, the ziggurat's position): each nibble's 16 values, and the
        // pairs of a nibble in consecutive numbers (256 cells), over 409,600 numbers from two
        // streams.
        use rand::RngCore;
        for (seed, stream) in [(1, 0), (12345, 3)] {
            let mut rng = SweepRng::from_chacha(seed, stream);
            let draws: Vec<u64> = (0..409_600).map(|_| rng.next_u64()).collect();
            for shift in [0, 4, 8, 12, 16, 28, 60] {
                let nibble = |x: u64| (x >> shift & 15) as usize;
                let mut single = vec![0u64; 16];
                let mut pairs = vec![0u64; 256];
                for pair in draws.chunks_exact(2) {
                    single[nibble(pair[0])] += 1;
                    single[nibble(pair[1])] += 1;
                    pairs[nibble(pair[0]) * 16 + nibble(pair[1])] += 1;
                }
                let (statistic, bound) = pearson(&single, &[25_600.0; 16]);
                assert!(statistic < bound, "bits {shift}..: chi-square {statistic:.1}");
                let (statistic, bound) = pearson(&pairs, &[800.0; 256]);
                assert!(statistic < bound, "pairs of bits {shift}..: chi-square {statistic:.1}");
            }
        }
    }

    #[test]
    fn binomial_draws_follow_the_exact_distribution_on_both_paths() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        // Inversion (n p < 16; `n` below 16 and above), rejection (n p >= 16, with tails more
        // than 15 steps from the mode at 1000 x 0.3 and 400 x 0.1), both mirrored with p > 1/2,
        // and either side of the switch.
        for (n, p) in [
            (12, 0.3),
            (40, 0.1),
            (300, 0.02),
            (200, 0.075),
            (200, 0.085),
            (60, 0.5),
            (1000, 0.3),
            (400, 0.1),
            (20_000, 0.004),
            (500, 0.93),
            (15, 0.8),
        ] {
            check_binomial_law(n, p, || binomial(&mut rng, n, p));
        }
        assert_eq!(binomial(&mut rng, 7, 0.0), 0);
        assert_eq!(binomial(&mut rng, 7, 1.0), 7);
    }

    #[test]
    fn binomial_draws_keep_their_law_when_the_expected_mean_is_wrong() {
        // The method goes by the caller's expected mean, with guards on the actual one: a small
        // expectation with an actual mean past inversion's limit (rejection), or within it
        // (inversion at a mean of 40), and a large expectation with an actual mean below
        // rejection's minimum (inversion), or above it (rejection), mirrored too.
        let mut rng = SweepRng::from_chacha(31, 0);
        for (n, p, expected) in [
            (600, 0.1, 2.0),
            (400, 0.1, 2.0),
            (80, 0.1, 300.0),
            (150, 0.9, 300.0),
            (300, 0.2, 0.5),
        ] {
            check_binomial_law(n, p, || binomial_expecting(&mut rng, n, p, expected));
        }
    }

    /// Kolmogorov-Smirnov distance between sorted draws and a distribution function.
    fn ks_distance(mut draws: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
        draws.sort_by(f64::total_cmp);
        let n = draws.len() as f64;
        draws
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / n).abs().max((f - (i + 1) as f64 / n).abs())
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn beta_and_gamma_draws_follow_their_distributions() {
        use statrs::distribution::{Beta, Gamma};
        let mut rng = SweepRng::from_chacha(5, 0);
        let draws = 20_000;
        // 1.95 / sqrt(n) is the 0.1% critical value of the Kolmogorov-Smirnov distance.
        let bound = 1.95 / (draws as f64).sqrt();
        // The gamma ratio (large and small, both ways round) and the closed forms.
        for (a, b) in [
            (2.0, 3.0),
            (40.0, 7.5),
            (1200.0, 300.0),
            (1.0, 1.0),
            (1.0, 4.5),
            (0.6, 2.0),
        ] {
            let sample: Vec<f64> = (0..draws)
                .map(|_| beta(&mut rng, ziggurat(), a, b))
                .collect();
            let law = Beta::new(a, b).unwrap();
            let distance = ks_distance(sample, |x| law.cdf(x));
            assert!(
                distance < bound,
                "Beta({a}, {b}): KS {distance:.4} >= {bound:.4}"
            );
        }
        for shape in [0.3, 1.0, 2.5, 600.0] {
            let sample: Vec<f64> = (0..draws)
                .map(|_| gamma(&mut rng, ziggurat(), shape))
                .collect();
            let law = Gamma::new(shape, 1.0).unwrap();
            let distance = ks_distance(sample, |x| law.cdf(x));
            assert!(
                distance < bound,
                "Gamma({shape}): KS {distance:.4} >= {bound:.4}"
            );
        }
    }

    #[test]
    fn gamma_draws_in_lanes_keep_each_lane_s_law_and_their_independence() {
        use statrs::distribution::{Beta, Gamma};
        // Shapes from 1 (whose first trials often go on alone) to class sizes; lanes 0 and 1
        // share a shape. Each lane against its gamma law (KS), the ratios of lanes 0-3 to
        // lanes 4-7 against Beta laws, as the capture probabilities take them, and lanes 0 and
        // 1 above or below their median together (2 x 2 cells of 10,000 expected).
        let shapes = [1.0, 1.0, 1.5, 40.0, 2.0, 7.0, 1.0, 5_000.0];
        let mut rng = SweepRng::from_chacha(53, 0);
        let draws = 40_000;
        let lanes: Vec<[f64; 8]> = (0..draws)
            .map(|_| gamma_lanes(&mut rng, ziggurat(), &shapes))
            .collect();
        let bound = 1.95 / (draws as f64).sqrt();
        for (lane, &shape) in shapes.iter().enumerate() {
            let law = Gamma::new(shape, 1.0).unwrap();
            let distance = ks_distance(lanes.iter().map(|l| l[lane]).collect(), |x| law.cdf(x));
            assert!(distance < bound, "lane {lane}, Gamma({shape}): KS {distance:.4}");
        }
        for lane in 0..4 {
            let (a, b) = (shapes[lane], shapes[lane + 4]);
            let law = Beta::new(a, b).unwrap();
            let ratios = lanes.iter().map(|l| l[lane] / (l[lane] + l[lane + 4])).collect();
            let distance = ks_distance(ratios, |x| law.cdf(x));
            assert!(distance < bound, "Beta({a}, {b}) from lanes: KS {distance:.4}");
        }
        let median = Gamma::new(1.0, 1.0).unwrap().inverse_cdf(0.5);
        let mut together = vec![0u64; 4];
        for l in &lanes {
            together[usize::from(l[0] > median) * 2 + usize::from(l[1] > median)] += 1;
        }
        let (statistic, bound) = pearson(&together, &[10_000.0; 4]);
        assert!(statistic < bound, "lanes 0 and 1: {together:?}");
    }

    #[test]
    fn beta_draws_in_lanes_follow_their_laws_with_and_without_boosts() {
        use statrs::distribution::Beta;
        // Shapes below 1 on either side (boosted), an empty class's stick (a = 1), class sizes.
        let a = [1.0, 0.4, 30.0, 2.0];
        let b = [0.3, 5.0, 700.0, 1.0];
        let mut rng = SweepRng::from_chacha(59, 0);
        let draws = 40_000;
        let lanes: Vec<[f64; 4]> = (0..draws)
            .map(|_| beta_lanes(&mut rng, ziggurat(), &a, &b))
            .collect();
        let bound = 1.95 / (draws as f64).sqrt();
        for at in 0..4 {
            let law = Beta::new(a[at], b[at]).unwrap();
            let distance = ks_distance(lanes.iter().map(|l| l[at]).collect(), |x| law.cdf(x));
            assert!(distance < bound, "Beta({}, {}): KS {distance:.4}", a[at], b[at]);
        }
    }

    #[test]
    fn gamma_squeeze_accepts_only_points_the_exact_test_accepts() {
        // At the squeeze's edge `U = 1 - bound / scale`, `ln U` must not exceed the exact
        // log-acceptance `L`; any `U` the squeeze accepts is below the edge. Shapes from the
        // boosted small ones to the class sizes, normals far into both tails.
        for shape in [1.0f64, 1.3, 2.0, 4.5, 30.0, 600.0, 12_000.0, 1e5] {
            let d = shape - 1.0 / 3.0;
            let c = 1.0 / (9.0 * d).sqrt();
            for step in -9000..=9000 {
                let x = step as f64 * 0.001;
                let t = c * x;
                let cube_root = 1.0 + t;
                if cube_root <= 0.0 {
                    continue;
                }
                // `x^2 / 2 + d (1 - v + ln v)` with `v = (1 + t)^3`, in a form without the
                // cancellation that the direct one suffers at large shapes.
                let exact = 0.5 * x * x + d * (3.0 * t.ln_1p() - 3.0 * t - 3.0 * t * t - t * t * t);
                // The rounding of `exact`: `d` times that of its terms, each about `3 |t|`.
                let rounding = 1e-15 + 16.0 * d * f64::EPSILON * 3.0 * t.abs();
                let (scale, bound) = gamma_squeeze(x, t, cube_root);
                let edge = 1.0 - bound / scale;
                if edge > 0.0 {
                    assert!(
                        edge.ln() <= exact + rounding,
                        "shape {shape}, x {x}: squeeze edge ln {} > exact {exact}",
                        edge.ln()
                    );
                }
            }
        }
    }

    #[test]
    fn spare_bits_are_uniform_and_independent_of_the_normal() {
        // Counts of (spare bits, quartile of the normal): 256 x 4 cells of 400 expected.
        let mut rng = SweepRng::from_chacha(43, 0);
        let quartile = 0.674_489_750_196_081_7;
        let mut counts = vec![0u64; 1024];
        for _ in 0..409_600 {
            let (x, spare) = normal_and_spare_bits(&mut rng, ziggurat());
            let column = [-quartile, 0.0, quartile].partition_point(|&cut| cut <= x);
            counts[spare as usize * 4 + column] += 1;
        }
        let (statistic, bound) = pearson(&counts, &[400.0; 1024]);
        assert!(statistic < bound, "chi-square {statistic:.1} >= {bound:.1}");
    }

    #[test]
    fn gamma_draws_keep_their_tails() {
        use statrs::distribution::Gamma;
        // 0.1% in each tail and the deciles between, at small, middle and class-sized
        // shape (the squeeze, the lazily drawn uniform and the logarithms all take part).
        let mut rng = SweepRng::from_chacha(41, 0);
        let draws = 200_000;
        let levels = [0.001, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.999];
        for shape in [1.0, 1.5, 40.0, 5000.0] {
            let law = Gamma::new(shape, 1.0).unwrap();
            let cuts: Vec<f64> = levels.iter().map(|&p| law.inverse_cdf(p)).collect();
            let mut counts = vec![0u64; cuts.len() + 1];
            for _ in 0..draws {
                let x = gamma(&mut rng, ziggurat(), shape);
                counts[cuts.partition_point(|&cut| cut <= x)] += 1;
            }
            let mut expected = vec![0.0; counts.len()];
            let mut below = 0.0;
            for (e, &p) in expected.iter_mut().zip(levels.iter().chain([1.0].iter())) {
                *e = (p - below) * draws as f64;
                below = p;
            }
            let (statistic, bound) = pearson(&counts, &expected);
            assert!(
                statistic < bound,
                "Gamma({shape}): chi-square {statistic:.1} >= {bound:.1}, {counts:?}"
            );
            // Each 0.1% tail on its own: 200 expected, Poisson sd 14.
            for tail in [counts[0], counts[counts.len() - 1]] {
                assert!(
                    (tail as f64 - 200.0).abs() < 4.0 * 200f64.sqrt(),
                    "Gamma({shape}): {counts:?}"
                );
            }
        }
    }

    #[test]
    fn normal_draws_follow_the_normal_law_in_the_body_and_the_tails() {
        use statrs::distribution::Normal;
        let mut rng = SweepRng::from_chacha(29, 0);
        let draws = 400_000;
        let sample: Vec<f64> = (0..draws)
            .map(|_| standard_normal(&mut rng, ziggurat()))
            .collect();
        let law = Normal::new(0.0, 1.0).unwrap();
        let beyond_tail = sample.iter().filter(|x| x.abs() > ZIGGURAT_TAIL).count() as f64;
        let distance = ks_distance(sample, |x| law.cdf(x));
        let bound = 1.95 / (draws as f64).sqrt();
        assert!(distance < bound, "KS {distance:.5} >= {bound:.5}");
        // The base layer's tail, drawn by its own method: about 103 expected, Poisson sd 10.
        let expected = draws as f64 * 2.0 * law.cdf(-ZIGGURAT_TAIL);
        assert!(
            (beyond_tail - expected).abs() < 4.0 * expected.sqrt(),
            "{beyond_tail} beyond {ZIGGURAT_TAIL}, {expected:.1} expected"
        );
        // The layers tile the density: each has the base layer's area.
        let layers = &*ZIGGURAT;
        for i in 1..ZIGGURAT_LAYERS - 1 {
            let area = layers.x[i] * (layers.f[i + 1] - layers.f[i]);
            assert!(
                (area / ZIGGURAT_AREA - 1.0).abs() < 1e-9,
                "layer {i}: {area}"
            );
        }
    }

    #[test]
    fn draws_sum_to_the_count_and_follow_the_weights() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut out = [0u64; 3];
        let mut totals = [0u64; 3];
        for _ in 0..200 {
            multinomial(&mut rng, 100, &[1.0, 2.0, 7.0], &mut out);
            assert_eq!(out.iter().sum::<u64>(), 100);
            totals.iter_mut().zip(&out).for_each(|(t, o)| *t += o);
        }
        // Expected 2000, 4000, 14000 out of 20000.
        assert!(
            (1800..2200).contains(&totals[0]) && (13600..14400).contains(&totals[2]),
            "{totals:?}"
        );
        multinomial(&mut rng, 5, &[0.0, 1.0], &mut out[..2]);
        assert_eq!(&out[..2], &[0, 5]);
        multinomial(&mut rng, 5, &[0.0, 0.0], &mut out[..2]);
        assert_eq!(out[..2].iter().sum::<u64>(), 5);
    }

    #[test]
    fn multinomial_counts_follow_the_exact_joint_law_on_every_path() {
        // Binomials only (many items), a dominant category taking few items by one binomial
        // with the rest placed one at a time, and one at a time from the start.
        let cases: [(u64, [f64; 3], [usize; 3]); 3] = [
            (40, [6.0, 3.0, 1.0], [0, 1, 2]),
            (9, [0.93, 0.05, 0.02], [0, 1, 2]),
            (6, [0.2, 0.5, 0.3], [1, 2, 0]),
        ];
        let mut rng = SweepRng::from_chacha(17, 0);
        for (count, weights, order) in cases {
            let rounds = 60_000;
            let index = |a: u64, b: u64| (a * (count + 1) + b) as usize;
            let mut observed = vec![0u64; ((count + 1) * (count + 1)) as usize];
            for _ in 0..rounds {
                let mut out = [0u64; 3];
                multinomial_ordered(&mut rng, count, &weights, &order, &mut out);
                assert_eq!(out.iter().sum::<u64>(), count);
                observed[index(out[0], out[1])] += 1;
            }
            let total: f64 = weights.iter().sum();
            let ln_p = weights.map(|w| (w / total).ln());
            let mut expected = vec![0.0; observed.len()];
            for a in 0..=count {
                for b in 0..=count - a {
                    let c = count - a - b;
                    let ln_pmf = ln_binomial(count, a)
                        + ln_binomial(count - a, b)
                        + a as f64 * ln_p[0]
                        + b as f64 * ln_p[1]
                        + c as f64 * ln_p[2];
                    expected[index(a, b)] = rounds as f64 * ln_pmf.exp();
                }
            }
            let (statistic, bound) = pearson(&observed, &expected);
            assert!(
                statistic < bound,
                "{count} items, {weights:?}: chi-square {statistic:.1} >= {bound:.1}"
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn multinomial_draws_for_avx2_are_the_baseline_s_draws() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        // Counts from a few (one at a time) to thousands (rejection, inversion with P(0) from
        // the logarithm), over ten classes with an empty one, in a heaviest-first order.
        let weights = [0.31, 0.2, 0.0, 0.17, 0.12, 0.09, 0.05, 0.035, 0.02, 0.005];
        let order: Vec<usize> = (0..weights.len()).collect();
        let mass = weight_sum(&weights);
        let mut rng = SweepRng::from_chacha(67, 0);
        let mut rng_avx2 = rng.clone();
        for round in 0..20_000u64 {
            let count = [3, 14, 40, 180, 1131, 6000][(round % 6) as usize] + round % 7;
            let (mut baseline, mut avx2) = ([0u64; 10], [0u64; 10]);
            multinomial_body(&mut rng, count, &weights, mass, &order, &mut baseline);
            // SAFETY: the processor has AVX2, checked above.
            unsafe { multinomial_avx2(&mut rng_avx2, count, &weights, mass, &order, &mut avx2) };
            assert_eq!(baseline, avx2, "round {round}");
        }
        assert_eq!(rng.random::<u64>(), rng_avx2.random::<u64>());
    }

    #[test]
    fn items_placed_one_at_a_time_follow_the_weights_in_any_order() {
        // 20 items: the first visited category by a binomial, the last few one at a time.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let weights = [0.5, 3.0, 0.0, 1.5, 5.0];
        let order = [4, 1, 3, 0, 2];
        let (count, rounds) = (20u64, 20_000);
        let mut first_category = vec![0u64; count as usize + 1];
        let mut totals = [0u64; 5];
        for _ in 0..rounds {
            let mut out = [0u64; 5];
            multinomial_ordered(&mut rng, count, &weights, &order, &mut out);
            assert_eq!(out.iter().sum::<u64>(), count);
            assert_eq!(out[2], 0, "a weightless category got items");
            first_category[out[0] as usize] += 1;
            totals.iter_mut().zip(&out).for_each(|(t, o)| *t += o);
        }
        // The lightest category's count is Binomial(20, 0.05) whatever the path.
        let expected: Vec<f64> = (0..=count)
            .map(|k| {
                rounds as f64
                    * (ln_binomial(count, k)
                        + k as f64 * 0.05f64.ln()
                        + (count - k) as f64 * 0.95f64.ln())
                    .exp()
            })
            .collect();
        let (statistic, bound) = pearson(&first_category, &expected);
        assert!(statistic < bound, "chi-square {statistic:.1} >= {bound:.1}");
        let all = (count * rounds) as f64;
        for (k, w) in weights.iter().enumerate() {
            let share = totals[k] as f64 / all;
            assert!((share - w / 10.0).abs() < 0.005, "category {k}: {share}");
        }
    }

    #[test]
    fn items_placed_one_at_a_time_follow_the_weights_at_every_width() {
        // 12 and 24 categories take the wider counting paths; weightless categories sit first, in
        // the middle and last, where rounding could otherwise place an item.
        for categories in [12usize, 24] {
            let weights: Vec<f64> = (0..categories)
                .map(|k| {
                    if k % 5 == 0 || k + 1 == categories {
                        0.0
                    } else {
                        1.0 + (k % 3) as f64
                    }
                })
                .collect();
            let order: Vec<usize> = (0..categories).collect();
            let mass: f64 = weights.iter().sum();
            let mut rng = SweepRng::from_chacha(23, categories as u64);
            let (count, rounds) = (12u64, 20_000);
            let mut totals = vec![0u64; categories];
            for _ in 0..rounds {
                let mut out = vec![0u64; categories];
                multinomial_ordered(&mut rng, count, &weights, &order, &mut out);
                assert_eq!(out.iter().sum::<u64>(), count);
                totals.iter_mut().zip(&out).for_each(|(t, o)| *t += o);
            }
            let all = (count * rounds) as f64;
            for (k, w) in weights.iter().enumerate() {
                let share = totals[k] as f64 / all;
                if *w == 0.0 {
                    assert_eq!(
                        totals[k], 0,
                        "{categories} categories: weightless {k} got items"
                    );
                } else {
                    // Four standard errors of a share near 1/10 from 240,000 items.
                    assert!(
                        (share - w / mass).abs() < 0.0025,
                        "{categories} categories, {k}: {share}"
                    );
                }
            }
        }
    }

    #[test]
    fn counting_places_each_item_where_a_search_per_item_would() {
        // Heaviest first with a light tail past the lanes every item meets (the tail's branch is
        // taken now and then), at widths 8, 16 and 64; the same uniforms searched one by one.
        for categories in [6usize, 12, 24] {
            let weights: Vec<f64> = (0..categories)
                .map(|k| if k == 3 { 0.0 } else { 0.75f64.powi(k as i32) })
                .collect();
            let rest: Vec<usize> = (0..categories).collect();
            let mut rng = SweepRng::from_chacha(47, categories as u64);
            for count in [1u64, 7, 31] {
                let mut searched_rng = rng.clone();
                let mut out = vec![0u64; categories];
                place_one_at_a_time(&mut rng, count, &weights, &rest, &mut out);
                let mass: f64 = weights.iter().sum();
                let mut searched = vec![0u64; categories];
                for _ in 0..count {
                    let u = searched_rng.random::<f64>() * mass;
                    let mut total = 0.0;
                    let mut placed = rest.iter().rposition(|&k| weights[k] > 0.0).unwrap();
                    for (k, w) in weights.iter().enumerate() {
                        total += w;
                        if u < total {
                            placed = k;
                            break;
                        }
                    }
                    searched[placed] += 1;
                }
                assert_eq!(out, searched, "{categories} categories, {count} items");
            }
        }
    }

    #[test]
    fn probability_ratio_brackets_hold_the_exact_ratio_at_every_point() {
        // Every k of tables from rejection's smallest means to the unseen's counts, the ratio
        // summed step by step in logarithms (each step to an ulp or so).
        for n in [20u64, 57, 200, 1131, 6000, 20_000] {
            for p in [0.5, 0.37, 0.2, 0.05, 0.004] {
                let (nf, q) = (n as f64, 1.0 - p);
                let mode = ((nf + 1.0) * p).floor();
                let mut log_ratio = vec![0.0; n as usize + 1];
                for k in (mode as usize + 1)..=n as usize {
                    let i = k as f64;
                    log_ratio[k] = log_ratio[k - 1] + ((nf - i + 1.0) * p / (i * q)).ln();
                }
                for k in (0..mode as usize).rev() {
                    let i = k as f64 + 1.0;
                    log_ratio[k] = log_ratio[k + 1] - ((nf - i + 1.0) * p / (i * q)).ln();
                }
                for (k, &log_ratio) in log_ratio.iter().enumerate() {
                    let ratio = log_ratio.exp();
                    let (low, high) = probability_ratio_brackets(nf, p, k as f64);
                    let slack = 1e-12 * ratio + 1e-300;
                    assert!(
                        low <= ratio + slack && ratio <= high + slack,
                        "n {n}, p {p}, k {k}: {low} <= {ratio} <= {high}"
                    );
                    if k as f64 == mode {
                        assert_eq!((low, high), (1.0, 1.0), "n {n}, p {p}, mode {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn probability_of_no_success_is_accurate_on_both_paths() {
        for q in [1e-300, 1e-17, 1e-9, 1e-4, 0.01, 0.2, 0.37, 0.5f64] {
            let exact = (-q).ln_1p();
            let error = ((ln_one_minus(q) - exact) / exact).abs();
            assert!(
                error < 4.0 * f64::EPSILON,
                "ln(1 - {q}): relative error {error:e}"
            );
        }
        // Powers of 1/2 are exact; other bases against the product of n factors (each rounding
        // at most half a unit in the last place).
        for n in 0..256u64 {
            assert_eq!(power_below_256(0.5, n), 0.5f64.powi(n as i32), "0.5^{n}");
            for base in [0.83, 0.999_999] {
                let product = (0..n).fold(1.0, |p, _| p * base);
                let error = ((power_below_256(base, n) - product) / product).abs();
                let bound = (n + 8) as f64 * f64::EPSILON;
                assert!(error < bound, "{base}^{n}: relative error {error:e}");
            }
        }
    }
}
