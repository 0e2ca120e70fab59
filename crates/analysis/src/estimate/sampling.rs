//! Random draws the resampling and Gibbs code share: multinomial counts by sequential binomials.

use rand::Rng;
use rand_distr::{Binomial, Distribution};

/// Splits `count` items among categories with the given (unnormalised, non-negative) weights,
/// visiting the categories in the given order (the draw is exact in any order; heaviest first
/// lets the remaining count reach zero after a few binomial draws).
pub fn multinomial_ordered<R: Rng + ?Sized>(
    rng: &mut R,
    count: u64,
    weights: &[f64],
    order: &[usize],
    out: &mut [u64],
) {
    out.iter_mut().for_each(|o| *o = 0);
    let mut remaining = count;
    let mut mass: f64 = weights.iter().sum();
    for (rank, &k) in order.iter().enumerate() {
        if remaining == 0 {
            break;
        }
        let w = weights[k];
        if rank + 1 == order.len() || w >= mass {
            out[k] = remaining;
            break;
        }
        let drawn = binomial(rng, remaining, w / mass);
        out[k] = drawn;
        remaining -= drawn;
        mass -= w;
    }
}

/// [`multinomial_ordered`] visiting the categories in index order.
pub fn multinomial<R: Rng + ?Sized>(rng: &mut R, count: u64, weights: &[f64], out: &mut [u64]) {
    let order: Vec<usize> = (0..weights.len()).collect();
    multinomial_ordered(rng, count, weights, &order, out);
}

/// A binomial draw: inversion when the smaller tail's mean is below 10 (cheap, no set-up), the
/// BTPE algorithm of `rand_distr` otherwise.
pub fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if !(p > 0.0) {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let (q, flipped) = if p > 0.5 { (1.0 - p, true) } else { (p, false) };
    let x = if (n as f64) * q < 10.0 {
        let odds = q / (1.0 - q);
        let a = (n + 1) as f64 * odds;
        let mut r = if n < 1 << 30 {
            (1.0 - q).powi(n as i32)
        } else {
            (n as f64 * (-q).ln_1p()).exp()
        };
        let mut u: f64 = rng.random();
        let mut x = 0;
        while u > r && x < n {
            u -= r;
            x += 1;
            r *= a / x as f64 - odds;
        }
        x
    } else {
        Binomial::new(n, q).map_or(0, |b| b.sample(rng))
    };
    if flipped { n - x } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

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
    }
}
