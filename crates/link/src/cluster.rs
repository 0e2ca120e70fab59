//! Clustering pairs into persons without chaining: connected components of strong links, then
//! each component re-clustered by average linkage over *all* its record pairs, so a chain
//! A-B-C whose ends disagree is cut instead of merged. Must-links are always joined, cannot-links
//! and hard rules never. Two groups of records are weighed field by field: a field counts by
//! the mean over the pairs that both give it, so one record's birth date and another's
//! patronymic each count once for the group instead of being diluted by the pairs that lack it.

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

/// Fields a pair's [`Evidence`] may split its weight into (as many as a comparison pattern holds).
pub const EVIDENCE_FIELDS: usize = crate::compare::MAX_FIELDS;

/// A pair's match weight in parts: what every pair has (the prior, competing links) and what
/// each field adds when both records give it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evidence {
    pub base: f64,
    /// Per field, its weight, or NaN when a record lacks the field (no evidence either way).
    pub fields: [f64; EVIDENCE_FIELDS],
}

impl Evidence {
    /// A weight not split by field (a stored pair weight).
    pub fn whole(weight: f64) -> Evidence {
        Evidence { base: weight, fields: [f64::NAN; EVIDENCE_FIELDS] }
    }

    /// The pair's match weight: the base and every field both records give.
    pub fn weight(&self) -> f64 {
        self.base + self.fields.iter().filter(|w| !w.is_nan()).sum::<f64>()
    }
}

/// The evidence between two groups of records, summed over their pairs.
#[derive(Clone, Copy)]
struct Between {
    base: f64,
    pairs: u32,
    field_sums: [f64; EVIDENCE_FIELDS],
    /// Per field, the pairs that both give it.
    field_pairs: [u32; EVIDENCE_FIELDS],
    forbidden: bool,
}

impl Between {
    const NONE: Between =
        Between { base: 0.0, pairs: 0, field_sums: [0.0; EVIDENCE_FIELDS], field_pairs: [0; EVIDENCE_FIELDS], forbidden: false };

    fn add(&mut self, e: &Evidence) {
        self.base += e.base.clamp(-40.0, 40.0);
        self.pairs += 1;
        for (f, &w) in e.fields.iter().enumerate().filter(|(_, w)| !w.is_nan()) {
            self.field_sums[f] += w.clamp(-40.0, 40.0);
            self.field_pairs[f] += 1;
        }
    }

    fn merge(&mut self, other: &Between) {
        self.base += other.base;
        self.pairs += other.pairs;
        for f in 0..EVIDENCE_FIELDS {
            self.field_sums[f] += other.field_sums[f];
            self.field_pairs[f] += other.field_pairs[f];
        }
        self.forbidden |= other.forbidden;
    }

    /// The weight of joining the two groups (mean base plus each field's mean over the pairs
    /// that give it), or `None` when they may not join.
    fn weight(&self) -> Option<f64> {
        if self.forbidden || self.pairs == 0 {
            return None;
        }
        let fields: f64 = (0..EVIDENCE_FIELDS)
            .filter(|&f| self.field_pairs[f] > 0)
            .map(|f| self.field_sums[f] / self.field_pairs[f] as f64)
            .sum();
        Some(self.base / self.pairs as f64 + fields)
    }
}

/// The evidence of every pair inside a component, which average linkage reads all of: given
/// the whole component at once, a source of evidence can gather what its records share.
pub trait ComponentWeights: Sync {
    /// Calls `visit(x, y, evidence)` for every pair of positions `x < y` of `group` (record
    /// indices), `x` then `y` ascending; `None` when a hard rule forbids the pair.
    fn each_pair(&self, group: &[u32], visit: &mut dyn FnMut(usize, usize, Option<Evidence>));
}

impl<F: Fn(usize, usize) -> Option<Evidence> + Sync + ?Sized> ComponentWeights for F {
    fn each_pair(&self, group: &[u32], visit: &mut dyn FnMut(usize, usize, Option<Evidence>)) {
        for (x, &a) in group.iter().enumerate() {
            for (y, &b) in group.iter().enumerate().skip(x + 1) {
                visit(x, y, self(a as usize, b as usize));
            }
        }
    }
}

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
pub fn cluster<W: ComponentWeights + ?Sized>(input: &ClusterInput, weights: &W) -> (Vec<u32>, ClusterReport) {
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
        ready.par_iter().map(|g| average_linkage(g, &mut must_groups(g, input.must_link), &cannot, input.threshold_weight, weights)).collect();
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

/// Average-linkage agglomeration: repeatedly merge the two clusters whose evidence weighs most
/// ([`Between::weight`]), while it is at least `threshold` and no pair between them is forbidden.
fn average_linkage<W: ComponentWeights + ?Sized>(
    group: &[u32],
    start: &mut Vec<Vec<u32>>,
    cannot: &HashMap<u32, Vec<u32>>,
    threshold: f64,
    pairs: &W,
) -> Vec<Vec<u32>> {
    let mut clusters = std::mem::take(start);
    let k = clusters.len();
    if k <= 1 {
        return clusters;
    }
    let slot: HashMap<u32, usize> =
        clusters.iter().enumerate().flat_map(|(c, members)| members.iter().map(move |&r| (r, c))).collect();
    let slot_at: Vec<usize> = group.iter().map(|r| slot[r]).collect();
    // between[i * k + j] for clusters i < j.
    let mut between = vec![Between::NONE; k * k];
    let at = |i: usize, j: usize| i.min(j) * k + i.max(j);
    pairs.each_pair(group, &mut |x, y, evidence| {
        let (ca, cb) = (slot_at[x], slot_at[y]);
        if ca == cb {
            return;
        }
        match evidence {
            Some(e) => between[at(ca, cb)].add(&e),
            None => between[at(ca, cb)].forbidden = true,
        }
    });
    for (&a, others) in cannot {
        if let Some(&ca) = slot.get(&a) {
            for b in others {
                if let Some(&cb) = slot.get(b) {
                    between[at(ca, cb)].forbidden = true;
                }
            }
        }
    }
    // Each pair of clusters' weight, kept while neither side changes.
    let mut weights: Vec<Option<f64>> = vec![None; k * k];
    for i in 0..k {
        for j in i + 1..k {
            weights[i * k + j] = between[i * k + j].weight();
        }
    }
    let mut alive = vec![true; k];
    loop {
        let mut best: Option<(f64, usize, usize)> = None;
        for i in (0..k).filter(|&i| alive[i]) {
            for j in (i + 1..k).filter(|&j| alive[j]) {
                if let Some(w) = weights[i * k + j]
                    && w >= threshold
                    && best.is_none_or(|(m, _, _)| w > m)
                {
                    best = Some((w, i, j));
                }
            }
        }
        let Some((_, i, j)) = best else { break };
        let moved = std::mem::take(&mut clusters[j]);
        clusters[i].extend(moved);
        alive[j] = false;
        for x in (0..k).filter(|&x| x != i && alive[x]) {
            let from_j = between[at(j, x)];
            between[at(i, x)].merge(&from_j);
            weights[at(i, x)] = between[at(i, x)].weight();
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
        cluster(&input, &|a: usize, b: usize| weights(a, b).map(Evidence::whole)).0
    }

    /// Records 0 and 1 are one person's (must-linked); 2 gives a birth date only 0 also gives and
    /// a patronymic only 1 also gives. Each field counts by the pairs that give it, so the group
    /// gains both; the mean of the two pairs' whole weights would halve each.
    #[test]
    fn a_group_weighs_each_field_over_the_pairs_that_give_it() {
        const DATE: usize = 0;
        const PATRONYMIC: usize = 1;
        let evidence = |date: Option<f64>, patronymic: Option<f64>| {
            let mut e = Evidence::whole(-4.0);
            e.fields[DATE] = date.unwrap_or(f64::NAN);
            e.fields[PATRONYMIC] = patronymic.unwrap_or(f64::NAN);
            e
        };
        let pairs = |a: usize, b: usize| match (a.min(b), a.max(b)) {
            (0, 2) => Some(evidence(Some(5.0), None)),
            (1, 2) => Some(evidence(None, Some(4.0))),
            _ => Some(Evidence::whole(20.0)),
        };
        let edges = [(0, 2, pairs(0, 2).map_or(0.0, |e| e.weight())), (1, 2, pairs(1, 2).map_or(0.0, |e| e.weight()))];
        let shown: Vec<String> = [false, true]
            .iter()
            .map(|&split| {
                let weight = |a: usize, b: usize| pairs(a, b).map(|e| if split { e } else { Evidence::whole(e.weight()) });
                let input = ClusterInput { n: 3, edges: &edges, must_link: &[(0, 1)], cannot_link: &[], threshold_weight: 3.0, component_weight: 0.0, max_component: 100 };
                format!("split {split}: {:?}", cluster(&input, &weight).0)
            })
            .collect();
        expect_test::expect!["split false: [0, 0, 2], split true: [0, 0, 0]"].assert_eq(&shown.join(", "));
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
