//! Bayesian model averaging over decomposable graphical models (Madigan & York 1997; R package
//! dga): for every decomposable graph on the lists and every candidate number of unseen persons
//! on a grid, the posterior is the hyper-Dirichlet marginal likelihood of the completed table
//! (cliques over separators), times the multinomial coefficient, times the prior `p(N) ~ 1/N`;
//! graphs are equally likely a priori. The prior cell weight is `delta = 2^-K`.

use super::table::OverlapTable;
use super::{Estimate, thousands};
use statrs::function::gamma::ln_gamma;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DgaOptions {
    /// The prior weight of each cell of the complete table; `None` for `2^-K`.
    pub delta: Option<f64>,
    /// The largest number of unseen persons considered; `None` for dga's reference grid
    /// (60,000 when more than 3,000 persons are observed, else 20 times the observed).
    pub max_unseen: Option<u64>,
}

/// A decomposable graph: its cliques in a running-intersection order and the separators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecomposableGraph {
    /// Edges as masks of two lists.
    pub edges: Vec<u32>,
    pub cliques: Vec<u32>,
    /// Separators (possibly empty masks, one per clique after the first).
    pub separators: Vec<u32>,
}

/// Every decomposable graph on `lists` vertices (61 on 4, 822 on 5).
pub fn decomposable_graphs(lists: usize) -> Vec<DecomposableGraph> {
    let pairs: Vec<u32> = (0..lists)
        .flat_map(|i| (i + 1..lists).map(move |j| 1u32 << i | 1 << j))
        .collect();
    (0u64..1 << pairs.len())
        .filter_map(|chosen| {
            let edges: Vec<u32> = pairs
                .iter()
                .enumerate()
                .filter(|(e, _)| chosen >> e & 1 == 1)
                .map(|(_, &p)| p)
                .collect();
            junction_order(lists, &edges).map(|(cliques, separators)| DecomposableGraph {
                edges,
                cliques,
                separators,
            })
        })
        .collect()
}

fn is_complete(set: u32, edges: &[u32]) -> bool {
    let members: Vec<u32> = (0..32).filter(|j| set >> j & 1 == 1).collect();
    members.iter().enumerate().all(|(a, &i)| {
        members[a + 1..]
            .iter()
            .all(|&j| edges.contains(&(1 << i | 1 << j)))
    })
}

/// The maximal cliques in an order with the running intersection property, or `None` when no
/// such order exists (the graph is not chordal).
fn junction_order(lists: usize, edges: &[u32]) -> Option<(Vec<u32>, Vec<u32>)> {
    let complete: Vec<u32> = (1..(1u32 << lists))
        .filter(|&s| is_complete(s, edges))
        .collect();
    let cliques: Vec<u32> = complete
        .iter()
        .copied()
        .filter(|&s| !complete.iter().any(|&t| t != s && t & s == s))
        .collect();
    let mut order = vec![cliques[0]];
    let mut separators = Vec::new();
    let mut left: Vec<u32> = cliques[1..].to_vec();
    while !left.is_empty() {
        let covered = order.iter().fold(0, |a, c| a | c);
        // Next: a clique whose intersection with the covered lists lies inside one placed clique,
        // preferring one that touches them (so components stay together).
        let pick = left
            .iter()
            .enumerate()
            .filter(|&(_, &c)| order.iter().any(|&o| c & covered & o == c & covered))
            .max_by_key(|&(_, &c)| (c & covered).count_ones())
            .map(|(i, _)| i)?;
        let clique = left.remove(pick);
        separators.push(clique & covered);
        order.push(clique);
    }
    Some((order, separators))
}

/// The posterior over the number of unseen persons and over graphs.
#[derive(Debug, Clone, PartialEq)]
pub struct DgaPosterior {
    /// Posterior probability of `observed + i` for each `i` on the grid `0..=max_unseen`.
    pub total: Vec<f64>,
    pub graphs: Vec<DecomposableGraph>,
    pub graph_probability: Vec<f64>,
    pub observed: u64,
}

impl DgaPosterior {
    fn cumulative_quantile(&self, q: f64) -> f64 {
        let mut acc = 0.0;
        for (i, p) in self.total.iter().enumerate() {
            acc += p;
            if acc >= q {
                return (self.observed + i as u64) as f64;
            }
        }
        (self.observed + self.total.len() as u64 - 1) as f64
    }

    pub fn median(&self) -> f64 {
        self.cumulative_quantile(0.5)
    }

    pub fn mean(&self) -> f64 {
        self.total
            .iter()
            .enumerate()
            .map(|(i, p)| (self.observed + i as u64) as f64 * p)
            .sum()
    }

    pub fn interval(&self) -> (f64, f64) {
        (
            self.cumulative_quantile(0.025),
            self.cumulative_quantile(0.975),
        )
    }
}

/// Computes the posterior. For each subset of lists, the log marginal likelihood of its margin
/// depends on the unseen count only through the margin's all-zero cell, so it is tabulated once
/// per subset and grid point and each graph adds up its cliques and separators.
pub fn posterior(table: &OverlapTable, options: &DgaOptions) -> DgaPosterior {
    let lists = table.lists();
    let observed = table.observed();
    let delta = options.delta.unwrap_or(1.0 / (1u64 << lists) as f64);
    let max_unseen = options.max_unseen.unwrap_or(if observed > 3000 {
        60_000
    } else {
        20 * observed
    });
    let grid = max_unseen as usize + 1;
    let total_prior = delta * (1u64 << lists) as f64;
    // Per subset: the margin's log marginal likelihood (with the total's normalising term), per grid point.
    let mut per_subset = vec![Vec::new(); 1 << lists];
    for subset in 1..(1u32 << lists) {
        let cell_prior = delta * (1u64 << (lists - subset.count_ones() as usize)) as f64;
        let mut margin = vec![0u64; 1 << lists];
        for mask in table.patterns() {
            margin[(mask & subset) as usize] += table.count(mask);
        }
        let fixed: f64 = (1..(1u32 << lists))
            .filter(|&m| m & subset == m && m != 0)
            .map(|m| ln_gamma(margin[m as usize] as f64 + cell_prior) - ln_gamma(cell_prior))
            .sum();
        per_subset[subset as usize] = (0..grid)
            .map(|u| {
                let zero_cell = margin[0] as f64 + u as f64;
                fixed + ln_gamma(zero_cell + cell_prior) - ln_gamma(cell_prior)
                    + ln_gamma(total_prior)
                    - ln_gamma(observed as f64 + u as f64 + total_prior)
            })
            .collect::<Vec<f64>>();
    }
    let log_fact_observed: f64 = table
        .patterns()
        .map(|m| ln_gamma(table.count(m) as f64 + 1.0))
        .sum();
    let common: Vec<f64> = (0..grid)
        .map(|u| {
            let n = observed as f64 + u as f64;
            ln_gamma(n + 1.0) - ln_gamma(u as f64 + 1.0) - log_fact_observed - n.ln()
        })
        .collect();
    let graphs = decomposable_graphs(lists);
    let log_weight = |g: &DecomposableGraph, u: usize| -> f64 {
        let cliques: f64 = g.cliques.iter().map(|&c| per_subset[c as usize][u]).sum();
        let separators: f64 = g
            .separators
            .iter()
            .filter(|&&s| s != 0)
            .map(|&s| per_subset[s as usize][u])
            .sum();
        cliques - separators + common[u]
    };
    let graph_tops: Vec<f64> = graphs
        .iter()
        .map(|g| {
            (0..grid)
                .map(|u| log_weight(g, u))
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    let top = graph_tops.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = vec![0.0; grid];
    let mut graph_probability = vec![0.0; graphs.len()];
    // Terms more than e^-60 below the largest cannot move any reported figure: skip them.
    for (gi, g) in graphs
        .iter()
        .enumerate()
        .filter(|&(gi, _)| graph_tops[gi] > top - 60.0)
    {
        for (u, t) in total.iter_mut().enumerate() {
            let lw = log_weight(g, u) - top;
            if lw > -60.0 {
                let w = lw.exp();
                *t += w;
                graph_probability[gi] += w;
            }
        }
    }
    let norm: f64 = total.iter().sum();
    total.iter_mut().for_each(|t| *t /= norm);
    graph_probability.iter_mut().for_each(|p| *p /= norm);
    DgaPosterior {
        total,
        graphs,
        graph_probability,
        observed,
    }
}

fn graph_name(g: &DecomposableGraph) -> String {
    let cliques: Vec<String> = g
        .cliques
        .iter()
        .map(|&c| {
            (0..32)
                .filter(|j| c >> j & 1 == 1)
                .map(|j| (j + 1).to_string())
                .collect::<Vec<_>>()
                .join("")
        })
        .collect();
    format!("[{}]", cliques.join(","))
}

pub fn estimate(table: &OverlapTable, options: &DgaOptions) -> Estimate {
    let observed = table.observed();
    if !(3..=5).contains(&table.lists()) {
        return Estimate::refused(
            "dga",
            observed,
            "decomposable graphs",
            format!(
                "dga averages over graphs on 3 to 5 lists; this table has {}",
                table.lists()
            ),
        );
    }
    let post = posterior(table, options);
    let (lower, upper) = post.interval();
    let best = (0..post.graphs.len())
        .max_by(|&a, &b| post.graph_probability[a].total_cmp(&post.graph_probability[b]))
        .unwrap_or(0);
    let mut warnings = Vec::new();
    let edge_mass = post.total.last().copied().unwrap_or(0.0);
    if edge_mass > 1e-6 {
        warnings.push(format!("the posterior is still {edge_mass:.1e} at the end of the grid ({} unseen): the upper tail is cut", thousands((post.total.len() - 1) as f64)));
    }
    let sorted: Vec<f64> = {
        let mut p = post.graph_probability.clone();
        p.sort_by(|a, b| b.total_cmp(a));
        p
    };
    Estimate {
        method: "dga".into(),
        estimate: Some(post.median()),
        lower: Some(lower),
        upper: Some(upper),
        observed,
        model: format!(
            "posterior median averaged over {} decomposable graphs (delta {}, prior p(N) ~ 1/N); top graph {} with probability {:.3} (next {:.3}); posterior mean {}",
            post.graphs.len(),
            options
                .delta
                .map_or(format!("2^-{}", table.lists()), |d| d.to_string()),
            graph_name(&post.graphs[best]),
            post.graph_probability[best],
            sorted.get(1).copied().unwrap_or(0.0),
            thousands(post.mean())
        ),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::test_table;

    #[test]
    fn counts_decomposable_graphs() {
        assert_eq!(decomposable_graphs(3).len(), 8);
        assert_eq!(decomposable_graphs(4).len(), 61);
        assert_eq!(decomposable_graphs(5).len(), 822);
    }

    #[test]
    fn kosovo_matches_the_r_package() {
        // dga 2.0.2: median 12,595, mean 12,749, [9,827, 16,544], top model probability 0.986.
        let post = posterior(&test_table("kosovo_1999_4list.csv"), &DgaOptions::default());
        assert!((post.median() - 12595.0).abs() <= 5.0, "{}", post.median());
        assert!((post.mean() - 12749.0).abs() <= 5.0, "{}", post.mean());
        let (lo, hi) = post.interval();
        assert!(
            (lo - 9827.0).abs() <= 5.0 && (hi - 16544.0).abs() <= 5.0,
            "{lo} {hi}"
        );
        let top = post.graph_probability.iter().copied().fold(0.0, f64::max);
        assert!((top - 0.986).abs() < 0.001, "{top}");
    }

    #[test]
    fn uk_matches_the_r_package() {
        // dga 2.0.2: median 22,990, mean 21,282, [10,387, 33,508], top model probability 0.443.
        let post = posterior(&test_table("uk_2013_5list.csv"), &DgaOptions::default());
        assert!((post.median() - 22990.0).abs() <= 10.0, "{}", post.median());
        assert!((post.mean() - 21282.0).abs() <= 10.0, "{}", post.mean());
        let (lo, hi) = post.interval();
        assert!(
            (lo - 10387.0).abs() <= 10.0 && (hi - 33508.0).abs() <= 10.0,
            "{lo} {hi}"
        );
        let top = post.graph_probability.iter().copied().fold(0.0, f64::max);
        assert!((top - 0.443).abs() < 0.001, "{top}");
    }
}
