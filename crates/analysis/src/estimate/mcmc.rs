//! Convergence diagnostics for several Markov chains of one scalar: the Gelman-Rubin potential
//! scale reduction (R-hat) and the effective sample size with Geyer's initial positive sequence.

/// R-hat of equally long chains: `sqrt(((n-1)/n W + B/n) / W)`; 1 means the chains agree.
pub fn r_hat(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len() as f64;
    let n = chains.iter().map(Vec::len).min().unwrap_or(0) as f64;
    if m < 2.0 || n < 2.0 {
        return f64::NAN;
    }
    let means: Vec<f64> = chains.iter().map(|c| mean(c)).collect();
    let grand = mean(&means);
    let between = n / (m - 1.0) * means.iter().map(|x| (x - grand).powi(2)).sum::<f64>();
    let within = chains
        .iter()
        .zip(&means)
        .map(|(c, mu)| variance(c, *mu))
        .sum::<f64>()
        / m;
    if within == 0.0 {
        return 1.0;
    }
    (((n - 1.0) / n * within + between / n) / within).sqrt()
}

/// Effective sample size of all chains together: `m n / (1 + 2 sum rho_t)`, the autocorrelations
/// averaged over chains and summed in pairs until a pair sum turns negative (Geyer 1992).
pub fn effective_sample_size(chains: &[Vec<f64>]) -> f64 {
    let m = chains.len();
    let n = chains.iter().map(Vec::len).min().unwrap_or(0);
    if m == 0 || n < 4 {
        return f64::NAN;
    }
    let means: Vec<f64> = chains.iter().map(|c| mean(&c[..n])).collect();
    let variances: Vec<f64> = chains
        .iter()
        .zip(&means)
        .map(|(c, mu)| variance(&c[..n], *mu))
        .collect();
    let rho = |lag: usize| -> f64 {
        let mut total = 0.0;
        for ((c, mu), var) in chains.iter().zip(&means).zip(&variances) {
            if *var == 0.0 {
                continue;
            }
            let cov: f64 = (0..n - lag)
                .map(|i| (c[i] - mu) * (c[i + lag] - mu))
                .sum::<f64>()
                / n as f64;
            total += cov / (var * (n as f64 - 1.0) / n as f64);
        }
        total / m as f64
    };
    let mut sum = 0.0;
    let mut lag = 1;
    while lag + 1 < n {
        let pair = rho(lag) + rho(lag + 1);
        if pair < 0.0 {
            break;
        }
        sum += pair;
        lag += 2;
    }
    (m * n) as f64 / (1.0 + 2.0 * sum).max(1e-12)
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

fn variance(x: &[f64], mu: f64) -> f64 {
    x.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_draws_have_full_size_and_agreeing_chains() {
        // A deterministic low-discrepancy sequence stands in for independent draws.
        let chain = |offset: f64| {
            (0..1000)
                .map(|i| (i as f64 * 0.618_033_988_75 + offset) % 1.0)
                .collect::<Vec<_>>()
        };
        let chains = vec![chain(0.1), chain(0.5)];
        assert!((r_hat(&chains) - 1.0).abs() < 0.01);
        assert!(effective_sample_size(&chains) > 1000.0);
        // A chain stuck far from the other gives a large R-hat.
        let stuck = vec![chain(0.0), chain(0.0).iter().map(|x| x + 5.0).collect()];
        assert!(r_hat(&stuck) > 2.0);
        // A slowly drifting chain has few effective draws.
        let drift: Vec<f64> = (0..1000).map(|i| (i as f64 / 100.0).sin()).collect();
        assert!(effective_sample_size(&[drift]) < 100.0);
    }
}
