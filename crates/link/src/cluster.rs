//! Clustering pairs into persons without chaining: connected components of strong links, then
//! each component re-clustered by average linkage over *all* its record pairs, so a chain
//! A-B-C whose ends disagree is cut instead of merged. Must-links are always joined, cannot-links
//! and hard rules never. Two groups of records are weighed field by field: a field counts by
//! the mean over the pairs that both give it, so one record's birth date and another's
//! patronymic each count once for the group instead of being diluted by the pairs that lack it.
//! Average linkage merges greedily, so each record is then weighed once more against every
//! cluster of its component and moved (or set apart) where its own evidence says.

use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

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
        // A set's root is its smallest member (`union` hangs the larger root below the smaller).
        let roots: Vec<u32> = (0..n).map(|i| self.find(i) as u32).collect();
        let mut size = vec![0u32; n];
        for &r in &roots {
            size[r as usize] += 1;
        }
        let mut index = vec![u32::MAX; n];
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for (r, &s) in size.iter().enumerate().filter(|&(_, &s)| s > 1) {
            index[r] = groups.len() as u32;
            groups.push(Vec::with_capacity(s as usize));
        }
        for (i, &r) in roots.iter().enumerate() {
            if let Some(g) = groups.get_mut(index[r as usize] as usize) {
                g.push(i as u32);
            }
        }
        groups
    }
}

/// What the clustering did, for the run report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClusterReport {
    pub components: usize,
    /// Components cut into several persons (chains broken by average linkage, records set apart
    /// by reassignment).
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
        self.weight_within(EVIDENCE_FIELDS)
    }

    /// [`Self::weight`] of evidence whose fields from `fields` on are all NaN (the same sum
    /// without reading them).
    pub fn weight_within(&self, fields: usize) -> f64 {
        debug_assert!(self.fields[fields..].iter().all(|w| w.is_nan()), "evidence beyond the fields given");
        self.base + self.fields[..fields].iter().filter(|w| !w.is_nan()).sum::<f64>()
    }
}

/// The evidence between every two groups of one component, each summed over the pairs between
/// them: the upper triangle of a group-by-group table, held field by field (a component of 300
/// records has 45,000 pairs of groups), over the first `fields` fields (no pair gives the rest).
struct BetweenTable {
    fields: usize,
    base: Vec<f64>,
    pairs: Vec<u32>,
    /// Per pair of groups, `fields` sums and, per field, the pairs that both give it.
    field_sums: Vec<f64>,
    field_pairs: Vec<u32>,
    forbidden: Vec<bool>,
}

impl BetweenTable {
    /// `n` cells, each summing the evidence of the pairs between two groups (numbered by
    /// [`triangle_cell`]) or between one record and a cluster.
    fn new(n: usize, fields: usize) -> BetweenTable {
        BetweenTable {
            fields,
            base: vec![0.0; n],
            pairs: vec![0; n],
            field_sums: vec![0.0; n * fields],
            field_pairs: vec![0; n * fields],
            forbidden: vec![false; n],
        }
    }

    fn add(&mut self, cell: usize, e: &Evidence) {
        debug_assert!(e.fields[self.fields..].iter().all(|w| w.is_nan()), "evidence beyond the fields given");
        self.add_parts(cell, e.base, &e.fields[..self.fields]);
    }

    /// [`Self::add`] of an evidence's base and its first `fields` fields.
    fn add_parts(&mut self, cell: usize, base: f64, fields: &[f64]) {
        self.base[cell] += base.clamp(-40.0, 40.0);
        self.pairs[cell] += 1;
        let row = cell * self.fields;
        for (f, &w) in fields.iter().enumerate().filter(|(_, w)| !w.is_nan()) {
            self.field_sums[row + f] += w.clamp(-40.0, 40.0);
            self.field_pairs[row + f] += 1;
        }
    }

    /// [`Self::add_parts`] of a [`RecordPairs`] row: values already clamped, a field not
    /// `given` held as 0.
    fn add_given(&mut self, cell: usize, base: f64, fields: &[f64], given: u16) {
        self.base[cell] += base;
        self.pairs[cell] += 1;
        let row = cell * self.fields;
        let sums = &mut self.field_sums[row..row + self.fields];
        let pairs = &mut self.field_pairs[row..row + self.fields];
        for (f, ((sum, count), &w)) in sums.iter_mut().zip(pairs.iter_mut()).zip(fields).enumerate() {
            *sum += w;
            *count += u32::from(given >> f & 1);
        }
    }

    fn clear(&mut self, cell: usize) {
        self.base[cell] = 0.0;
        self.pairs[cell] = 0;
        self.field_sums[cell * self.fields..][..self.fields].fill(0.0);
        self.field_pairs[cell * self.fields..][..self.fields].fill(0);
        self.forbidden[cell] = false;
    }

    /// Adds cell `from`'s evidence to cell `into` (the pairs of two groups merged into one).
    fn merge(&mut self, into: usize, from: usize) {
        self.base[into] += self.base[from];
        self.pairs[into] += self.pairs[from];
        let (into_row, from_row) = (into * self.fields, from * self.fields);
        for f in 0..self.fields {
            self.field_sums[into_row + f] += self.field_sums[from_row + f];
            self.field_pairs[into_row + f] += self.field_pairs[from_row + f];
        }
        self.forbidden[into] |= self.forbidden[from];
    }

    /// The weight of joining a cell's two groups (mean base plus each field's mean over the pairs
    /// that give it), or NaN when they may not join.
    fn weight(&self, cell: usize) -> f64 {
        if self.forbidden[cell] || self.pairs[cell] == 0 {
            return f64::NAN;
        }
        let row = cell * self.fields;
        let fields: f64 = (0..self.fields)
            .filter(|&f| self.field_pairs[row + f] > 0)
            .map(|f| self.field_sums[row + f] / self.field_pairs[row + f] as f64)
            .sum();
        self.base[cell] / self.pairs[cell] as f64 + fields
    }
}

/// The cell of `i != j` in the upper triangle of an `n` by `n` table, row by row.
fn triangle_cell(n: usize, i: usize, j: usize) -> usize {
    let (i, j) = (i.min(j), i.max(j));
    i * (2 * n - i - 1) / 2 + j - i - 1
}

/// Two groups that may merge: the heaviest first, ties to the smaller first group, then the
/// smaller second (the order of a scan of all pairs of groups, kept for identical results).
struct MergeCandidate {
    weight: f64,
    first: u32,
    second: u32,
}

impl PartialEq for MergeCandidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for MergeCandidate {}

impl PartialOrd for MergeCandidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MergeCandidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.weight
            .partial_cmp(&other.weight)
            .expect("candidates have weights")
            .then_with(|| other.first.cmp(&self.first))
            .then_with(|| other.second.cmp(&self.second))
    }
}

/// The evidence of every pair inside a component, which average linkage reads all of: given
/// the whole component at once, a source of evidence can gather what its records share.
pub trait ComponentWeights: Sync {
    /// Calls `visit(x, y, evidence)` for every pair of positions `x < y` of `group` (record
    /// indices), `x` then `y` ascending; `None` when a hard rule forbids the pair. The evidence
    /// is lent mutably so a wrapper can adjust it in place (a component has up to 45,000 pairs).
    fn each_pair(&self, group: &[u32], visit: &mut dyn FnMut(usize, usize, Option<&mut Evidence>));

    /// How many of [`Evidence::fields`] the evidence may give (the later ones are always NaN),
    /// so average linkage sums only those.
    fn fields(&self) -> usize {
        EVIDENCE_FIELDS
    }
}

impl<F: Fn(usize, usize) -> Option<Evidence> + Sync + ?Sized> ComponentWeights for F {
    fn each_pair(&self, group: &[u32], visit: &mut dyn FnMut(usize, usize, Option<&mut Evidence>)) {
        for (x, &a) in group.iter().enumerate() {
            for (y, &b) in group.iter().enumerate().skip(x + 1) {
                visit(x, y, self(a as usize, b as usize).as_mut());
            }
        }
    }
}

/// The least weight at which average linkage merges two groups, by how many records each holds.
/// A merge of two groups of two or more records each joins two persons that have each already
/// gathered records, and weak ones mostly join two persons: on the simulated register (100k,
/// seed 7, one threshold of -1 bit) such merges weighing -1 to 2 bits added 588 false pairs for
/// 285 true ones, where a record joining a group of two or three at those weights added 2,507
/// false for 4,647 true.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MergeThresholds {
    pub two_records: f64,
    /// Also the weight a record needs to stay in or move to a cluster when records are reassigned.
    pub record_and_group: f64,
    pub two_groups: f64,
}

impl MergeThresholds {
    /// The same threshold whatever the groups' sizes (the tests' clusterings predate sizes).
    #[cfg(test)]
    fn uniform(weight: f64) -> MergeThresholds {
        MergeThresholds { two_records: weight, record_and_group: weight, two_groups: weight }
    }

    /// The threshold of merging groups of `a` and `b` records.
    fn of(&self, a: u32, b: u32) -> f64 {
        match (a > 1, b > 1) {
            (false, false) => self.two_records,
            (true, true) => self.two_groups,
            _ => self.record_and_group,
        }
    }
}

/// Inputs to clustering. Edges are candidate pairs at or above the threshold weight.
pub struct ClusterInput<'a> {
    pub n: usize,
    pub edges: &'a [(u32, u32, f64)],
    pub must_link: &'a [(u32, u32)],
    pub cannot_link: &'a [(u32, u32)],
    pub thresholds: MergeThresholds,
    /// Edges at or above this weight join components (at most any of `thresholds`).
    pub component_weight: f64,
    /// Components with more records are first split at a raised threshold.
    pub max_component: usize,
}

/// Components a thread takes at a time in average linkage.
const COMPONENTS_PER_TASK: usize = 8;

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
    // Each work item: a component (ascending records), the weight its edges reached, and for
    // an oversized one the edges inside it (indices into `input.edges`) at that weight, so
    // tightening reads only those instead of every edge of the run per oversized component.
    let mut work: Vec<(Vec<u32>, f64, Vec<u32>)> =
        components.groups().into_iter().map(|g| (g, input.component_weight, Vec::new())).collect();
    report.components = work.len();
    let mut oversized_of = vec![u32::MAX; if work.iter().any(|w| w.0.len() > input.max_component) { input.n } else { 0 }];
    for (k, (group, _, _)) in work.iter().enumerate().filter(|(_, w)| w.0.len() > input.max_component) {
        for &r in group {
            oversized_of[r as usize] = k as u32;
        }
    }
    for (e, &(a, _, w)) in input.edges.iter().enumerate() {
        if let Some(&k) = oversized_of.get(a as usize)
            && k != u32::MAX
            && w >= input.component_weight
        {
            work[k as usize].2.push(e as u32);
        }
    }
    // Tighten oversized components: re-split them using only stronger edges.
    let mut ready: Vec<Vec<u32>> = Vec::new();
    while let Some((group, threshold, edges)) = work.pop() {
        if group.len() <= input.max_component {
            ready.push(group);
            continue;
        }
        report.components_tightened += 1;
        let raised = threshold + 2.0;
        // Both ends of a must-link or of an edge at the component's weight lie in the component.
        let position = |r: u32| group.binary_search(&r).ok();
        let mut uf = UnionFind::new(group.len());
        for &(a, b) in input.must_link {
            if let (Some(i), Some(j)) = (position(a), position(b)) {
                uf.union(i, j);
            }
        }
        let stronger: Vec<u32> = edges.into_iter().filter(|&e| input.edges[e as usize].2 >= raised).collect();
        for &e in &stronger {
            let (a, b, _) = input.edges[e as usize];
            uf.union(position(a).expect("an edge inside"), position(b).expect("an edge inside"));
        }
        let parts = uf.groups();
        let mut part_of = vec![u32::MAX; group.len()];
        for (p, part) in parts.iter().enumerate() {
            for &i in part {
                part_of[i as usize] = p as u32;
            }
        }
        let mut part_edges: Vec<Vec<u32>> = vec![Vec::new(); parts.len()];
        for e in stronger {
            let i = position(input.edges[e as usize].0).expect("an edge inside");
            part_edges[part_of[i] as usize].push(e);
        }
        for (part, edges) in parts.into_iter().zip(part_edges) {
            work.push((part.into_iter().map(|i| group[i as usize]).collect(), raised, edges));
        }
    }
    let must_root: Vec<u32> =
        if input.must_link.is_empty() { Vec::new() } else { (0..input.n).map(|r| must.find(r) as u32).collect() };
    // The largest components first, so the threads share the work to the end; in tasks of a
    // few components each, so that a thread out of work can always take some (rayon splits a
    // range only so far, and a thread left with a long run of components worked alone for the
    // last sixth of the stage).
    ready.par_sort_unstable_by_key(|g| (std::cmp::Reverse(g.len()), g[0]));
    let results: Vec<(Vec<u32>, usize)> = ready
        .par_iter()
        .with_max_len(COMPONENTS_PER_TASK)
        .map(|g| {
            let (slot_at, slots) = must_groups(g, &must_root);
            average_linkage(g, &slot_at, slots, &cannot, &input.thresholds, weights)
        })
        .collect();
    let mut label: Vec<u32> = (0..input.n as u32).collect();
    for (group, (first, parts)) in ready.iter().zip(results) {
        if parts > 1 {
            report.components_split += 1;
        }
        for (&r, first) in group.iter().zip(first) {
            label[r as usize] = first;
        }
    }
    (label, report)
}

/// The must-link groups inside one component (`group`): per position, its group, numbered in
/// the order of the groups' first positions; and how many groups. `must_root` gives every
/// record's must-link group (empty: there are no must-links).
fn must_groups(group: &[u32], must_root: &[u32]) -> (Vec<u32>, usize) {
    if must_root.is_empty() {
        return ((0..group.len() as u32).collect(), group.len());
    }
    let mut number: HashMap<u32, u32> = HashMap::new();
    let slot_at = group
        .iter()
        .map(|&r| {
            let next = number.len() as u32;
            *number.entry(must_root[r as usize]).or_insert(next)
        })
        .collect();
    (slot_at, number.len())
}

/// Average-linkage agglomeration of one component (`group`, ascending records) from its
/// must-link groups (`slot_at`: each position's group of `slots`): repeatedly merge the two
/// groups whose evidence weighs most ([`BetweenTable::weight`]), while it reaches their sizes'
/// threshold ([`MergeThresholds::of`]) and no pair between them is forbidden. Returns per
/// position the first record of its final group, and how many groups remain.
fn average_linkage<W: ComponentWeights + ?Sized>(
    group: &[u32],
    slot_at: &[u32],
    slots: usize,
    cannot: &HashMap<u32, Vec<u32>>,
    thresholds: &MergeThresholds,
    pairs: &W,
) -> (Vec<u32>, usize) {
    debug_assert!(group.windows(2).all(|w| w[0] < w[1]), "a component's records ascend");
    let mut merged_into: Vec<u32> = (0..slots as u32).collect();
    // Two records are one cluster or two whatever reassignment weighs, so it skips them.
    let reassigning = slots > 1 && group.len() > 2;
    let mut record_pairs = RecordPairs::new(if reassigning { group.len() } else { 0 }, pairs.fields().min(EVIDENCE_FIELDS));
    if slots > 1 {
        let mut between = BetweenTable::new(slots * (slots - 1) / 2, pairs.fields().min(EVIDENCE_FIELDS));
        let at = |i: usize, j: usize| triangle_cell(slots, i, j);
        pairs.each_pair(group, &mut |x, y, evidence| {
            let (ca, cb) = (slot_at[x] as usize, slot_at[y] as usize);
            if reassigning {
                // The pair's row, clamped once, serves the table of groups too.
                let stored = record_pairs.set(x, y, evidence.as_deref());
                if ca != cb {
                    let cell = at(ca, cb);
                    match stored {
                        Some(pair) => {
                            let row = &record_pairs.values[pair * record_pairs.width..][..record_pairs.width];
                            between.add_given(cell, row[0], &row[1..], record_pairs.given[pair]);
                        }
                        None => between.forbidden[cell] = true,
                    }
                }
                return;
            }
            if ca == cb {
                return;
            }
            let cell = at(ca, cb);
            match evidence {
                Some(e) => between.add(cell, e),
                None => between.forbidden[cell] = true,
            }
        });
        if !cannot.is_empty() {
            for (x, a) in group.iter().enumerate() {
                for b in cannot.get(a).into_iter().flatten() {
                    let Ok(y) = group.binary_search(b) else { continue };
                    if reassigning {
                        record_pairs.set(x, y, None);
                    }
                    if slot_at[x] != slot_at[y] {
                        between.forbidden[at(slot_at[x] as usize, slot_at[y] as usize)] = true;
                    }
                }
            }
        }
        // Each pair of groups' weight while neither side changes (NaN: may not join), and the
        // pairs that may merge, heaviest first; an entry whose weight has changed since is stale.
        // A group grows only by a merge, which weighs all its cells again for its new size; a
        // candidate is checked against its sizes' threshold once more when popped (a merge can
        // leave a cell's weight bit for bit the same).
        let mut current: Vec<f64> = vec![f64::NAN; between.base.len()];
        let mut size = vec![0u32; slots];
        for &s in slot_at {
            size[s as usize] += 1;
        }
        let mut heap = std::collections::BinaryHeap::new();
        for i in 0..slots {
            for j in i + 1..slots {
                let cell = at(i, j);
                current[cell] = between.weight(cell);
                if current[cell] >= thresholds.of(size[i], size[j]) {
                    heap.push(MergeCandidate { weight: current[cell], first: i as u32, second: j as u32 });
                }
            }
        }
        let mut alive = vec![true; slots];
        while let Some(MergeCandidate { weight, first, second }) = heap.pop() {
            let (i, j) = (first as usize, second as usize);
            if !alive[i] || !alive[j] || current[at(i, j)].to_bits() != weight.to_bits() || weight < thresholds.of(size[i], size[j]) {
                continue;
            }
            alive[j] = false;
            merged_into[j] = i as u32;
            size[i] += size[j];
            for x in (0..slots).filter(|&x| x != i && alive[x]) {
                let (into, from) = (at(i, x), at(j, x));
                between.merge(into, from);
                current[into] = between.weight(into);
                if current[into] >= thresholds.of(size[i], size[x]) {
                    heap.push(MergeCandidate { weight: current[into], first: i.min(x) as u32, second: i.max(x) as u32 });
                }
            }
        }
    }
    // A merged group points to a group of smaller number, so roots resolve in one ascending pass.
    for s in 0..slots {
        merged_into[s] = merged_into[merged_into[s] as usize];
    }
    let mut cluster_of: Vec<usize> = slot_at.iter().map(|&s| merged_into[s as usize] as usize).collect();
    if reassigning {
        let mut slot_sizes = vec![0u32; slots];
        for &s in slot_at {
            slot_sizes[s as usize] += 1;
        }
        let movable: Vec<bool> = slot_at.iter().map(|&s| slot_sizes[s as usize] == 1).collect();
        reassign_records(&mut cluster_of, &record_pairs, &movable, thresholds.record_and_group);
    }
    let mut first_record = vec![u32::MAX; group.len()];
    let first = cluster_of
        .iter()
        .zip(group)
        .map(|(&c, &r)| {
            if first_record[c] == u32::MAX {
                first_record[c] = r;
            }
            first_record[c]
        })
        .collect();
    let parts = first_record.iter().filter(|&&r| r != u32::MAX).count();
    (first, parts)
}

/// The evidence of every pair of a component's records, by position: per pair its base and
/// first `fields` fields in one row of a triangle (a NaN base: forbidden), each already clamped
/// as [`BetweenTable::add`] clamps it, a field a record lacks held as 0 beside a mask of the
/// fields given, so that reassignment sums a row without a branch a field (adding +0 leaves a
/// sum bit for bit the same: it starts at +0 and so is never -0).
struct RecordPairs {
    n: usize,
    width: usize,
    values: Vec<f64>,
    /// Per pair, bit `f` set when both records give field `f`.
    given: Vec<u16>,
}

impl RecordPairs {
    fn new(n: usize, fields: usize) -> RecordPairs {
        debug_assert!(fields <= u16::BITS as usize, "a field mask holds every field");
        let width = fields + 1;
        let cells = n * n.saturating_sub(1) / 2;
        RecordPairs { n, width, values: vec![f64::NAN; cells * width], given: vec![0; cells] }
    }

    /// Sets pair `(x, y)`'s evidence (`None`: forbidden); returns its cell when it has evidence.
    fn set(&mut self, x: usize, y: usize, evidence: Option<&Evidence>) -> Option<usize> {
        let cell = triangle_cell(self.n, x, y);
        let row = cell * self.width;
        match evidence {
            Some(e) => {
                self.values[row] = e.base.clamp(-40.0, 40.0);
                let mut given = 0u16;
                for (f, (value, &w)) in self.values[row + 1..row + self.width].iter_mut().zip(&e.fields).enumerate() {
                    if w.is_nan() {
                        *value = 0.0;
                    } else {
                        *value = w.clamp(-40.0, 40.0);
                        given |= 1 << f;
                    }
                }
                self.given[cell] = given;
                Some(cell)
            }
            None => {
                self.values[row] = f64::NAN;
                None
            }
        }
    }
}

/// Rounds of [`reassign_records`] at most (it stops sooner once no record moves).
const REASSIGN_ROUNDS: usize = 4;

/// Average linkage merges greedily, so a record can end in a cluster that later merges made
/// worse for it. Each movable record (`cluster_of`: per position, its cluster) is weighed
/// against every cluster of its component (its own without it), as average linkage weighs two
/// groups: it moves to the one that weighs most if that beats its own and reaches the
/// threshold, and leaves its own for a cluster of its own when that falls below the threshold.
/// A record alone stays alone: average linkage already weighed joining it. Cluster numbers
/// stay below the component's record count (a leaver takes an unused one).
fn reassign_records(
    cluster_of: &mut [usize],
    pairs: &RecordPairs,
    movable: &[bool],
    threshold: f64,
) {
    let n = cluster_of.len();
    let mut sizes = vec![0usize; n];
    for &c in cluster_of.iter() {
        sizes[c] += 1;
    }
    // Per cluster, the evidence between it and the record weighed.
    let mut towards = BetweenTable::new(n, pairs.width - 1);
    let mut touched: Vec<usize> = Vec::new();
    // A record's weighing reads only where every record is, so one that stayed is not weighed
    // again until some record has moved since (records after a round's last move mostly).
    let mut moves = 0usize;
    let mut stayed_after = vec![usize::MAX; n];
    for _ in 0..REASSIGN_ROUNDS {
        let mut moved = false;
        for x in (0..n).filter(|&x| movable[x]) {
            if stayed_after[x] == moves {
                continue;
            }
            for &c in &touched {
                towards.clear(c);
            }
            touched.clear();
            // The pairs of x in ascending y: (y, x) down column x of the triangle, then row x.
            let mut cell = x.saturating_sub(1);
            for y in (0..n).filter(|&y| y != x) {
                debug_assert_eq!(cell, triangle_cell(n, x, y));
                let c = cluster_of[y];
                if towards.pairs[c] == 0 && !towards.forbidden[c] {
                    touched.push(c);
                }
                let row = &pairs.values[cell * pairs.width..][..pairs.width];
                if row[0].is_nan() {
                    towards.forbidden[c] = true;
                } else {
                    towards.add_given(c, row[0], &row[1..], pairs.given[cell]);
                }
                cell += match (y + 1).cmp(&x) {
                    std::cmp::Ordering::Less => n - y - 2,
                    std::cmp::Ordering::Equal => n - x,
                    std::cmp::Ordering::Greater => 1,
                };
            }
            let own = cluster_of[x];
            let best = touched
                .iter()
                .filter(|&&c| c != own)
                .map(|&c| (towards.weight(c), c))
                .filter(|&(w, _)| w >= threshold)
                .fold(None, |best: Option<(f64, usize)>, (w, c)| match best {
                    Some((m, d)) if w < m || (w == m && c > d) => best,
                    _ => Some((w, c)),
                });
            let own_weight = if sizes[own] > 1 { Some(towards.weight(own)) } else { None };
            let target = match (own_weight, best) {
                (Some(o), Some((w, c))) if w > o => c,
                (Some(o), None) if o < threshold => sizes.iter().position(|&s| s == 0).expect("fewer clusters than records"),
                _ => {
                    stayed_after[x] = moves;
                    continue;
                }
            };
            sizes[own] -= 1;
            sizes[target] += 1;
            cluster_of[x] = target;
            moves += 1;
            moved = true;
        }
        if !moved {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn run(n: usize, strong: &[(u32, u32)], weights: &(dyn Fn(usize, usize) -> Option<f64> + Sync), must: &[(u32, u32)], cannot: &[(u32, u32)]) -> Vec<u32> {
        let edges: Vec<(u32, u32, f64)> =
            strong.iter().map(|&(a, b)| (a, b, weights(a as usize, b as usize).unwrap_or(-50.0))).collect();
        let input = ClusterInput { n, edges: &edges, must_link: must, cannot_link: cannot, thresholds: MergeThresholds::uniform(3.0), component_weight: 3.0, max_component: 100 };
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
                let input = ClusterInput { n: 3, edges: &edges, must_link: &[(0, 1)], cannot_link: &[], thresholds: MergeThresholds::uniform(3.0), component_weight: 0.0, max_component: 100 };
                format!("split {split}: {:?}", cluster(&input, &weight).0)
            })
            .collect();
        expect_test::expect!["split false: [0, 0, 2], split true: [0, 0, 0]"].assert_eq(&shown.join(", "));
    }

    /// Average linkage as a scan of all pairs of groups after every merge, the heaviest first
    /// and ties to the first pair in order, each pair held to its sizes' threshold (what the heap
    /// of merge candidates must reproduce), then the records reassigned.
    fn scanned_average_linkage(n: usize, weight: &dyn Fn(usize, usize) -> Option<f64>, thresholds: &MergeThresholds) -> Vec<u32> {
        let mut groups: Vec<Vec<usize>> = (0..n).map(|r| vec![r]).collect();
        let between = |g: &[usize], h: &[usize]| {
            let (mut sum, mut pairs) = (0.0, 0u32);
            for &a in g {
                for &b in h {
                    sum += weight(a.min(b), a.max(b))?.clamp(-40.0, 40.0);
                    pairs += 1;
                }
            }
            Some(sum / pairs as f64)
        };
        loop {
            let mut best: Option<(f64, usize, usize)> = None;
            for i in (0..n).filter(|&i| !groups[i].is_empty()) {
                for j in (i + 1..n).filter(|&j| !groups[j].is_empty()) {
                    if let Some(w) = between(&groups[i], &groups[j])
                        && w >= thresholds.of(groups[i].len() as u32, groups[j].len() as u32)
                        && best.is_none_or(|(m, _, _)| w > m)
                    {
                        best = Some((w, i, j));
                    }
                }
            }
            let Some((_, i, j)) = best else { break };
            let moved = std::mem::take(&mut groups[j]);
            groups[i].extend(moved);
        }
        let mut cluster_of = vec![0; n];
        for (c, g) in groups.iter().enumerate() {
            for &r in g {
                cluster_of[r] = c;
            }
        }
        let mut pairs = RecordPairs::new(n, EVIDENCE_FIELDS);
        for a in 0..n {
            for b in a + 1..n {
                pairs.set(a, b, weight(a, b).map(Evidence::whole).as_ref());
            }
        }
        reassign_records(&mut cluster_of, &pairs, &vec![true; n], thresholds.record_and_group);
        (0..n).map(|r| (0..n).find(|&q| cluster_of[q] == cluster_of[r]).expect("r itself") as u32).collect()
    }

    proptest::proptest! {
        /// Small whole weights make many ties between pairs of groups.
        #[test]
        fn merges_follow_the_scan_of_all_pairs_ties_included(cells in proptest::collection::vec(-3i8..6, 66)) {
            let n = 12;
            let cell = |a: usize, b: usize| cells[a * (2 * n - a - 1) / 2 + b - a - 1];
            let weight = |a: usize, b: usize| (cell(a, b) != -3).then(|| cell(a, b) as f64);
            let edges: Vec<(u32, u32, f64)> = (0..n as u32).flat_map(|a| (a + 1..n as u32).map(move |b| (a, b, 10.0))).collect();
            let thresholds = MergeThresholds { two_records: 0.0, record_and_group: 1.0, two_groups: 2.0 };
            let input = ClusterInput { n, edges: &edges, must_link: &[], cannot_link: &[], thresholds, component_weight: -1.0, max_component: 100 };
            let clustered = cluster(&input, &|a: usize, b: usize| weight(a, b).map(Evidence::whole)).0;
            proptest::prop_assert_eq!(clustered, scanned_average_linkage(n, &weight, &thresholds));
        }
    }

    /// A component larger than `max_component` is split by edges 2 bits stronger, again and
    /// again while a part is still too large.
    #[test]
    fn oversized_components_are_split_by_stronger_edges() {
        let edges = [(0, 1, 5.0), (1, 2, 1.0), (2, 3, 5.0), (3, 4, 5.0), (4, 5, 0.5)];
        let shown: Vec<String> = [3, 2]
            .iter()
            .map(|&max_component| {
                let input = ClusterInput { n: 6, edges: &edges, must_link: &[], cannot_link: &[], thresholds: MergeThresholds::uniform(3.0), component_weight: 0.0, max_component };
                let (labels, report) = cluster(&input, &|_: usize, _: usize| Some(Evidence::whole(12.0)));
                format!("at most {max_component}: {labels:?}, {} tightened", report.components_tightened)
            })
            .collect();
        expect_test::expect!["at most 3: [0, 0, 2, 2, 2, 5], 1 tightened, at most 2: [0, 0, 2, 3, 4, 5], 3 tightened"].assert_eq(&shown.join(", "));
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

    /// Greedy merges leave records where later merges made them weak. 4 joins {0, 1} through its
    /// strong link to 0 before {2, 3}, whose records it matches better, are weighed. 5 joins the
    /// must-linked {0, 6} before {1, 2} does, and then disagrees with the group they make.
    #[test]
    fn records_that_greedy_merges_misplace_move_or_leave() {
        let moved = |a: usize, b: usize| {
            Some(match (a.min(b), a.max(b)) {
                (0, 4) => 20.0,
                (0, 1) | (2, 3) => 15.0,
                (2, 4) | (3, 4) => 9.0,
                (1, 4) => -8.0,
                _ => -10.0,
            })
        };
        let leaves = |a: usize, b: usize| {
            Some(match (a.min(b), a.max(b)) {
                (5, 6) | (1, 2) => 20.0,
                (0, 5) => 16.0,
                (0, 1) | (0, 2) | (1, 6) | (2, 6) | (0, 6) => 17.0,
                _ => -16.0,
            })
        };
        let shown = [
            format!("{:?}", run(5, &[(0, 4), (0, 1), (2, 3), (2, 4)], &moved, &[], &[])),
            format!("{:?}", run(7, &[(5, 6), (1, 2), (0, 1)], &leaves, &[(0, 6)], &[])),
        ];
        expect_test::expect!["[0, 0, 2, 2, 2], [0, 0, 0, 3, 4, 5, 0]"].assert_eq(&shown.join(", "));
    }

    /// {0, 1} and {2, 3} are each one person's; every pair between them weighs 4, as do 4 with
    /// 0 and 1, and 5 with 6 weighs 2. At one threshold of 3 the two groups merge (their tie
    /// with record 4 goes to the lower group) and 5 stays apart from 6; with two groups held to
    /// 5 and two records to 1, record 4 joins {0, 1} and 5 joins 6.
    #[test]
    fn merge_thresholds_follow_the_groups_sizes() {
        let w = |a: usize, b: usize| {
            Some(match (a.min(b), a.max(b)) {
                (0, 1) | (2, 3) => 20.0,
                (0 | 1, 2 | 3) | (0 | 1, 4) => 4.0,
                (5, 6) => 2.0,
                _ => -10.0,
            })
        };
        let edges = [(0, 1, 20.0), (0, 2, 4.0), (0, 4, 4.0), (2, 3, 20.0), (5, 6, 2.0)];
        let shown: Vec<String> = [MergeThresholds::uniform(3.0), MergeThresholds { two_records: 1.0, record_and_group: 3.0, two_groups: 5.0 }]
            .into_iter()
            .map(|thresholds| {
                let input = ClusterInput { n: 7, edges: &edges, must_link: &[], cannot_link: &[], thresholds, component_weight: 0.0, max_component: 100 };
                format!("{:?}", cluster(&input, &|a: usize, b: usize| w(a, b).map(Evidence::whole)).0)
            })
            .collect();
        expect_test::expect!["[0, 0, 0, 0, 4, 5, 6], [0, 0, 2, 2, 0, 5, 5]"].assert_eq(&shown.join(", "));
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
        // Reassignment does not move 4 next to 2, whom it may not join, though {2, 3} weighs
        // more for it than {0, 1}.
        let rivals = |a: usize, b: usize| {
            Some(match (a.min(b), a.max(b)) {
                (0, 1) | (2, 3) => 25.0,
                (2, 4) | (3, 4) => 20.0,
                (0, 4) | (1, 4) => 10.0,
                _ => -10.0,
            })
        };
        assert_eq!(run(5, &[(0, 1), (2, 3), (0, 4), (2, 4)], &rivals, &[], &[(2, 4)]), vec![0, 0, 2, 2, 0]);
    }
}
