//! Clustering pairs into persons without chaining: connected components of strong links, then
//! each component re-clustered by average linkage over *all* its record pairs, so a chain
//! A-B-C whose ends disagree is cut instead of merged. Must-links are always joined, cannot-links
//! and hard rules never.

use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// Plain union-find over record indices.
pub struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> UnionFind {
        UnionFind { parent: (0..n as u32).collect() }
    }
    pub fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.parent[r] as usize != r {
            r = self.parent[r] as usize;
        }
        let mut c = x;
        while self.parent[c] as usize != r {
            let next = self.parent[c] as usize;
            self.parent[c] = r as u32;
            c = next;
        }
        r
    }
    pub fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo as u32;
        }
    }
    /// Members of every set with more than one member, each sorted, sets ordered by first member.
    pub fn groups(&mut self) -> Vec<Vec<u32>> {
        let n = self.parent.len();
        let mut by_root: HashMap<usize, Vec<u32>> = HashMap::new();
        for i in 0..n {
            let r = self.find(i);
            by_root.entry(r).or_default().push(i as u32);
        }
        let mut groups: Vec<Vec<u32>> = by_root.into_values().filter(|g| g.len() > 1).collect();
        groups.sort_unstable_by_key(|g| g[0]);
        groups
    }
}

/// What the clustering did, for the run report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClusterReport {
    pub components: usize,
    /// Components that average linkage cut into several persons (chains broken).
    pub components_split: usize,
    /// Components too large to re-cluster in full, first cut by raising the link threshold.
    pub components_tightened: usize,
    /// Cannot-link decisions between records that must-links force together (must-link wins).
    pub conflicting_decisions: Vec<(u32, u32)>,
}

/// The pair weight used inside a component: `None` when a hard rule forbids the link.
pub type PairWeight<'a> = dyn Fn(usize, usize) -> Option<f64> + Sync + 'a;

/// Inputs to clustering. Edges are candidate pairs at or above the threshold weight.
pub struct ClusterInput<'a> {
    pub n: usize,
    pub edges: &'a [(u32, u32, f64)],
    pub must_link: &'a [(u32, u32)],
    pub cannot_link: &'a [(u32, u32)],
    pub threshold_weight: f64,
    /// Edges at or above this weight join components (at most `threshold_weight`).
    pub component_weight: f64,
    /// Components with more records are first split at a raised threshold.
    pub max_component: usize,
}

/// Clusters records; returns per record the index of its cluster's smallest record.
pub fn cluster(input: &ClusterInput, pair_weight: &PairWeight) -> (Vec<u32>, ClusterReport) {
    let mut report = ClusterReport::default();
    let mut must = UnionFind::new(input.n);
    for &(a, b) in input.must_link {
        must.union(a as usize, b as usize);
    }
    let mut cannot: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(a, b) in input.cannot_link {
        if must.find(a as usize) == must.find(b as usize) {
            report.conflicting_decisions.push((a.min(b), a.max(b)));
            continue;
        }
        cannot.entry(a).or_default().push(b);
        cannot.entry(b).or_default().push(a);
    }
    let mut components = UnionFind::new(input.n);
    for &(a, b) in input.must_link {
        components.union(a as usize, b as usize);
    }
    for &(a, b, w) in input.edges {
        if w >= input.component_weight {
            components.union(a as usize, b as usize);
        }
    }
    let mut work: Vec<(Vec<u32>, f64)> = components.groups().into_iter().map(|g| (g, input.component_weight)).collect();
    report.components = work.len();
    // Tighten oversized components: re-split them using only stronger edges.
    let mut ready: Vec<Vec<u32>> = Vec::new();
    while let Some((group, threshold)) = work.pop() {
        if group.len() <= input.max_component {
            ready.push(group);
            continue;
        }
        report.components_tightened += 1;
        let members: BTreeSet<u32> = group.iter().copied().collect();
        let raised = threshold + 2.0;
        let index: HashMap<u32, usize> = group.iter().enumerate().map(|(i, &r)| (r, i)).collect();
        let mut uf = UnionFind::new(group.len());
        for &(a, b) in input.must_link {
            if members.contains(&a) {
                uf.union(index[&a], index[&b]);
            }
        }
        for &(a, b, w) in input.edges {
            if w >= raised && members.contains(&a) {
                uf.union(index[&a], index[&b]);
            }
        }
        for g in uf.groups() {
            work.push((g.into_iter().map(|i| group[i as usize]).collect(), raised));
        }
    }
    ready.sort_unstable_by_key(|g| g[0]);
    let results: Vec<Vec<Vec<u32>>> =
        ready.par_iter().map(|g| average_linkage(g, &mut must_groups(g, input.must_link), &cannot, input.threshold_weight, pair_weight)).collect();
    let mut label: Vec<u32> = (0..input.n as u32).collect();
    for parts in results {
        if parts.len() > 1 {
            report.components_split += 1;
        }
        for part in parts {
            let first = *part.iter().min().expect("non-empty");
            for r in part {
                label[r as usize] = first;
            }
        }
    }
    (label, report)
}

/// The must-link groups inside one component, as lists of its records.
fn must_groups(group: &[u32], must_link: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let index: HashMap<u32, usize> = group.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    let mut uf = UnionFind::new(group.len());
    for &(a, b) in must_link {
        if let (Some(&i), Some(&j)) = (index.get(&a), index.get(&b)) {
            uf.union(i, j);
        }
    }
    let mut by_root: HashMap<usize, Vec<u32>> = HashMap::new();
    for (i, &r) in group.iter().enumerate() {
        by_root.entry(uf.find(i)).or_default().push(r);
    }
    let mut groups: Vec<Vec<u32>> = by_root.into_values().collect();
    groups.sort_unstable_by_key(|g| g[0]);
    groups
}

/// Average-linkage agglomeration: repeatedly merge the two clusters with the highest mean pair
/// weight, while it is at least `threshold` and no pair between them is forbidden.
fn average_linkage(
    group: &[u32],
    start: &mut Vec<Vec<u32>>,
    cannot: &HashMap<u32, Vec<u32>>,
    threshold: f64,
    pair_weight: &PairWeight,
) -> Vec<Vec<u32>> {
    let mut clusters = std::mem::take(start);
    let k = clusters.len();
    if k <= 1 {
        return clusters;
    }
    let slot: HashMap<u32, usize> =
        clusters.iter().enumerate().flat_map(|(c, members)| members.iter().map(move |&r| (r, c))).collect();
    // sum[i][j] and count[i][j] of weights between clusters i and j; forbidden blocks merging.
    let mut sum = vec![vec![0.0f64; k]; k];
    let mut count = vec![vec![0u32; k]; k];
    let mut forbidden = vec![vec![false; k]; k];
    for (x, &a) in group.iter().enumerate() {
        for &b in &group[x + 1..] {
            let (ca, cb) = (slot[&a], slot[&b]);
            if ca == cb {
                continue;
            }
            match pair_weight(a as usize, b as usize) {
                Some(w) => {
                    let w = w.clamp(-40.0, 40.0);
                    sum[ca][cb] += w;
                    sum[cb][ca] += w;
                    count[ca][cb] += 1;
                    count[cb][ca] += 1;
                }
                None => {
                    forbidden[ca][cb] = true;
                    forbidden[cb][ca] = true;
                }
            }
        }
    }
    for (&a, others) in cannot {
        if let Some(&ca) = slot.get(&a) {
            for b in others {
                if let Some(&cb) = slot.get(b) {
                    forbidden[ca][cb] = true;
                    forbidden[cb][ca] = true;
                }
            }
        }
    }
    let mut alive = vec![true; k];
    loop {
        let mut best: Option<(f64, usize, usize)> = None;
        for i in 0..k {
            if !alive[i] {
                continue;
            }
            for j in i + 1..k {
                if !alive[j] || forbidden[i][j] || count[i][j] == 0 {
                    continue;
                }
                let mean = sum[i][j] / count[i][j] as f64;
                if mean >= threshold && best.is_none_or(|(m, _, _)| mean > m) {
                    best = Some((mean, i, j));
                }
            }
        }
        let Some((_, i, j)) = best else { break };
        let moved = std::mem::take(&mut clusters[j]);
        clusters[i].extend(moved);
        alive[j] = false;
        for x in 0..k {
            if x == i || !alive[x] {
                continue;
            }
            sum[i][x] += sum[j][x];
            sum[x][i] = sum[i][x];
            count[i][x] += count[j][x];
            count[x][i] = count[i][x];
            forbidden[i][x] |= forbidden[j][x];
            forbidden[x][i] = forbidden[i][x];
        }
    }
    let mut out: Vec<Vec<u32>> = clusters.into_iter().filter(|c| !c.is_empty()).collect();
    for c in &mut out {
        c.sort_unstable();
    }
    out.sort_unstable_by_key(|c| c[0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: usize, strong: &[(u32, u32)], weights: &(dyn Fn(usize, usize) -> Option<f64> + Sync), must: &[(u32, u32)], cannot: &[(u32, u32)]) -> Vec<u32> {
        let edges: Vec<(u32, u32, f64)> =
            strong.iter().map(|&(a, b)| (a, b, weights(a as usize, b as usize).unwrap_or(-50.0))).collect();
        let input = ClusterInput { n, edges: &edges, must_link: must, cannot_link: cannot, threshold_weight: 3.0, component_weight: 3.0, max_component: 100 };
        cluster(&input, weights).0
    }

    #[test]
    fn a_chain_of_strong_links_with_disagreeing_ends_is_cut() {
        // 0-1-2-3-4: neighbours agree strongly, everything further apart disagrees.
        let w = |a: usize, b: usize| Some(if a.abs_diff(b) == 1 { 10.0 } else { -15.0 });
        let labels = run(5, &[(0, 1), (1, 2), (2, 3), (3, 4)], &w, &[], &[]);
        let distinct: BTreeSet<u32> = labels.iter().copied().collect();
        assert!(distinct.len() >= 3, "chain merged: {labels:?}");
        // Connected components alone would have given one cluster.
        let mut uf = UnionFind::new(5);
        for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 4)] {
            uf.union(a, b);
        }
        assert_eq!(uf.groups().len(), 1);
    }

    #[test]
    fn a_true_clique_with_one_weak_pair_stays_together() {
        let w = |a: usize, b: usize| Some(if (a, b) == (0, 3) { -2.0 } else { 12.0 });
        assert_eq!(run(4, &[(0, 1), (1, 2), (2, 3)], &w, &[], &[]), vec![0, 0, 0, 0]);
    }

    #[test]
    fn decisions_are_honoured() {
        let w = |_: usize, _: usize| Some(12.0);
        // cannot-link splits a strong pair; must-link joins records with no evidence at all.
        assert_eq!(run(4, &[(0, 1)], &w, &[(2, 3)], &[(0, 1)]), vec![0, 1, 2, 2]);
        let nothing = |_: usize, _: usize| Some(-30.0);
        assert_eq!(run(3, &[], &nothing, &[(0, 2)], &[]), vec![0, 1, 0]);
        // Hard rules (None) forbid a merge the weights would make.
        let sexes = |a: usize, b: usize| if a + b == 1 { None } else { Some(12.0) };
        let labels = run(3, &[(0, 1), (1, 2), (0, 2)], &sexes, &[], &[]);
        assert_ne!(labels[0], labels[1]);
    }
}
