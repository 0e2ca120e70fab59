//! The whole linkage run over plain data: prepare, block, compare, train, score, cluster, assign ids.
//!
//! Inputs are records, a spec, reviewers' decisions and the previous assignment of records to
//! persons; outputs are the new assignment with its history, the scored pairs and reports of
//! what every stage did. Nothing here reads files or the clock: `build` and the CLI wire it up.

use crate::block::{Blocker, BlockingError, IntMap, Layout, RuleReport, Span};
use crate::cluster::{ClusterInput, ClusterReport, ComponentWeights, EVIDENCE_FIELDS, Evidence, MergeThresholds, cluster};
use crate::compare::{BlockComparer, Pattern, compare};
use crate::competition::Competition;
use crate::fs::{EmMode, Explanation, FsModel, RecordTfs, Score, Scorer, em, estimate_u, refine_with_labels, summed_by_key, train_by_anchors};
use crate::ids::{Decision, DecisionKind, IdEvent, assign_cluster_ids};
use crate::namekey::NameMatcher;
use crate::prepare::Prepared;
use crate::spec::LinkSpec;
use model::{PersonId, RecordId, StandardRecord};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum LinkError {
    #[error(transparent)]
    Blocking(#[from] BlockingError),
    #[error("the spec compares {0} fields; at most {max} fit a comparison pattern", max = crate::compare::MAX_FIELDS)]
    TooManyFields(usize),
    #[error("record id {0:?} appears more than once")]
    DuplicateRecordId(String),
    #[error("decision names record {0:?}, which is not among the records")]
    UnknownRecord(String),
}

/// How far below the threshold (in bits) the weight between a record and a group of records may
/// be and still merge them (and keep a record in its cluster when records are reassigned). With
/// the mean pair weight, a group's records each carrying part of the evidence (one the birth
/// year, another the patronymic) understated the group: measured on the simulated register
/// (100k, seed 7), 0 bits gave B-cubed F1 0.898, 1 bit 0.903, 2 bits 0.901. Weighed field by
/// field (`cluster::Evidence`), 0 / 0.5 / 1 / 1.5 / 2 bits give pairwise F1 0.885 / 0.888 /
/// 0.888 / 0.887 / 0.883 (then for every merge, whatever the groups' sizes).
const AVERAGE_LINKAGE_MARGIN_BITS: f64 = 1.0;

/// How far below the threshold (in bits) two single records may weigh and still merge, and how
/// far above it two groups of two or more records each must weigh ([`MergeThresholds`]). On the
/// simulated register (100k) they raised pairwise F1 0.8943 / 0.8866 / 0.8726 (seeds 7 / 3 / 8)
/// to 0.8952 / 0.8877 / 0.8733 and B-cubed F1 0.9486 / 0.9405 / 0.9322 to 0.9489 / 0.9408 /
/// 0.9325; groups 0.5 / 1.5 bits above or records 1.75 / 2.5 bits below gave within 0.0005 of
/// that on each seed.
const TWO_RECORDS_MARGIN_BITS: f64 = 2.0;
const TWO_GROUPS_EXTRA_BITS: f64 = 1.0;

/// How far below the threshold (in bits) a link may be and still join records into one
/// component for average linkage to consider.
const COMPONENT_MARGIN_BITS: f64 = 4.0;

/// A scored candidate pair (record indices into the input).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ScoredPair {
    pub left: u32,
    pub right: u32,
    pub match_weight: f64,
    pub match_probability: f64,
}

/// A person with several records from one source: possibly a duplicate inside that list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InternalDuplicate {
    pub person: PersonId,
    pub source: String,
    pub records: Vec<RecordId>,
}

/// Everything a run produced.
#[derive(Debug, Serialize)]
pub struct LinkOutcome {
    /// Person of every input record, in input order.
    pub persons: Vec<PersonId>,
    pub events: Vec<IdEvent>,
    /// Candidate pairs scoring at least the spec's `pair_floor` probability.
    pub pairs: Vec<ScoredPair>,
    pub candidate_pairs: u64,
    pub blocking: Vec<RuleReport>,
    pub clustering: ClusterReport,
    pub internal_duplicates: Vec<InternalDuplicate>,
    pub model: FsModel,
}

/// What a run is given besides the records.
pub struct LinkInputs<'a> {
    pub spec: &'a LinkSpec,
    pub matcher: &'a dyn NameMatcher,
    pub decisions: &'a [Decision],
    pub previous: &'a BTreeMap<RecordId, PersonId>,
    /// Incremental linking: records from this index on are new; older records keep their
    /// previous persons as fixed groups and only pairs touching a new record are compared.
    pub new_from: Option<usize>,
    /// A model trained earlier (incremental runs reuse it instead of re-training).
    pub model: Option<FsModel>,
    /// Pairs below this probability are not returned (they still count as candidates).
    pub pair_floor: f64,
}

/// No earlier persons: what a first run links against.
static NO_PREVIOUS_PERSONS: BTreeMap<RecordId, PersonId> = BTreeMap::new();

impl<'a> LinkInputs<'a> {
    /// A first run: no decisions, no earlier persons or model, pairs kept from probability 0.5.
    pub fn first_run(spec: &'a LinkSpec, matcher: &'a dyn NameMatcher) -> LinkInputs<'a> {
        LinkInputs {
            spec,
            matcher,
            decisions: &[],
            previous: &NO_PREVIOUS_PERSONS,
            new_from: None,
            model: None,
            pair_floor: 0.5,
        }
    }
}

/// Candidates counted by agreement pattern and by the fields that no rule producing them reads:
/// `(pattern, fields not read, pairs)`. EM trains on these counts, never on the pairs, so a
/// cluster can count without sending pairs back.
/// Pairs of records from one source have [`SAME_SOURCE`] set beside those field bits, for the
/// separate prior of such pairs.
pub type PatternCount = (Pattern, u64, u64);

/// The bit of a [`PatternCount`]'s field mask that marks pairs from one source (fields use the
/// low [`crate::compare::MAX_FIELDS`] bits).
pub const SAME_SOURCE: u64 = 1 << 63;

/// The fields that some rule putting a pair in one block does not read (one bit per field), from
/// [`Blocker::rule_masks`] and which rules cover the pair: the fields whose levels the pair
/// tells about independently of blocking (see `fs::train_by_anchors`).
pub fn fields_not_read(rule_masks: &[u64], covers: impl Fn(usize) -> bool) -> u64 {
    (0..rule_masks.len()).filter(|&r| covers(r)).fold(0u64, |m, r| m | rule_masks[r])
}

/// A candidate's mask in a [`PatternCount`]: the fields not read by a covering rule, plus
/// [`SAME_SOURCE`] when both records come from one source. Workers of a cluster call it too.
pub fn count_mask(data: &Prepared, rule_masks: &[u64], covers: impl Fn(usize) -> bool, a: usize, b: usize) -> u64 {
    let same_source = if data.source[a] == data.source[b] { SAME_SOURCE } else { 0 };
    fields_not_read(rule_masks, covers) | same_source
}

/// A data set prepared and blocked, before any pair is compared: what a run computes over the
/// records alone, locally or on the client of a cluster that compares the pairs.
pub struct Blocked {
    pub data: Prepared,
    pub blocker: Blocker,
    index: IdIndex,
}

/// Record indices ordered by record id, for finding a record by its id: four bytes a record
/// where a map from ids would copy every id.
struct IdIndex(Vec<u32>);

impl IdIndex {
    /// The index, or the id whose second occurrence comes first in input order.
    fn new(ids: &[RecordId]) -> Result<IdIndex, LinkError> {
        use rayon::prelude::*;
        let mut order: Vec<u32> = (0..ids.len() as u32).collect();
        order.par_sort_unstable_by(|&x, &y| ids[x as usize].cmp(&ids[y as usize]).then(x.cmp(&y)));
        let repeated = order.windows(2).filter(|w| ids[w[0] as usize] == ids[w[1] as usize]).map(|w| w[1]).min();
        match repeated {
            Some(i) => Err(LinkError::DuplicateRecordId(ids[i as usize].to_string())),
            None => Ok(IdIndex(order)),
        }
    }

    fn get(&self, ids: &[RecordId], id: &RecordId) -> Option<usize> {
        self.0.binary_search_by(|&i| ids[i as usize].cmp(id)).ok().map(|k| self.0[k] as usize)
    }
}

impl Blocked {
    pub fn new(records: &[StandardRecord], inputs: &LinkInputs) -> Result<Blocked, LinkError> {
        let spec = inputs.spec;
        if spec.fields.len() > crate::compare::MAX_FIELDS {
            return Err(LinkError::TooManyFields(spec.fields.len()));
        }
        let data = Prepared::new(records, spec, inputs.matcher);
        let index = IdIndex::new(&data.record_ids)?;
        let blocker = Blocker::new(&data, &spec.blocking, spec.max_block)?;
        Ok(Blocked { data, blocker, index })
    }

    /// Compares every candidate once, spans of blocks in parallel: counts the patterns EM trains
    /// on (unless the inputs give a model) and, when `keep_patterns`, keeps each pair's pattern in
    /// two or four bytes for scoring later, instead of the pairs themselves.
    pub fn compare_candidates(&mut self, inputs: &LinkInputs, keep_patterns: bool) -> Compared {
        let compared = self.compare_spans(inputs, keep_patterns);
        self.record_produced(&compared);
        compared
    }

    /// Each rule's report takes the candidates it produced.
    fn record_produced(&mut self, compared: &Compared) {
        for (report, &n) in self.blocker.reports.iter_mut().zip(&compared.produced) {
            report.pairs = n;
        }
    }

    /// [`Blocked::compare_candidates`] without writing the rules' reports.
    fn compare_spans(&self, inputs: &LinkInputs, keep_patterns: bool) -> Compared {
        use rayon::prelude::*;
        let layout = self.blocker.layout();
        let spans = layout.spans();
        let rule_masks = self.blocker.rule_masks(self.data.fields.len());
        let count = inputs.model.is_none();
        let keep = keeps(inputs);
        let (data, blocker) = (&self.data, &self.blocker);
        let rules = blocker.rule_count();
        let empty = || (IntMap::<(Pattern, u64), u64>::default(), vec![0u64; rules], Vec::<(usize, SpanPatterns)>::new());
        // One span a task: spans differ in cost, and a thread left with a run of them would
        // work alone at the end.
        let (grouped, produced, mut patterns) = spans
            .par_iter()
            .enumerate()
            .with_max_len(1)
            .fold(empty, |(mut grouped, mut produced, mut patterns), (s, span)| {
                // One map lookup a pair: the span's distinct (pattern, covering rules, same source)
                // are numbered, counted by number, and turned into EM's (pattern, mask) counts once.
                let mut store = SpanPatterns::default();
                let mut numbered: IntMap<(Pattern, u64, bool), u32> = IntMap::default();
                let mut classes: Vec<(Pattern, u64, bool)> = Vec::new();
                let mut class_pairs: Vec<u64> = Vec::new();
                let mut comparer = BlockComparer::new(data);
                produced[span.rule] += blocker.visit_span(data, &layout, span, &keep, |c| {
                    if c.first_in_block {
                        comparer.load(c.block);
                        store.blocks.push((c.block_number as u32, store.ids.len() as u32));
                    }
                    let pattern = comparer.compare(c.at.0, c.at.1);
                    let class = if count { (pattern, c.covering, c.same_source) } else { (pattern, 0, false) };
                    let id = *numbered.entry(class).or_insert_with(|| {
                        classes.push(class);
                        class_pairs.push(0);
                        classes.len() as u32 - 1
                    });
                    class_pairs[id as usize] += 1;
                    if keep_patterns {
                        store.ids.push(id);
                        store.push_positions(c.at);
                    }
                });
                if count {
                    for (&(pattern, covering, same_source), &n) in classes.iter().zip(&class_pairs) {
                        let mask = fields_not_read(&rule_masks, |r| covering >> r & 1 != 0) | if same_source { SAME_SOURCE } else { 0 };
                        *grouped.entry((pattern, mask)).or_insert(0) += n;
                    }
                }
                if keep_patterns {
                    store.distinct = classes.iter().map(|&(pattern, _, _)| pattern).collect();
                    patterns.push((s, store));
                }
                (grouped, produced, patterns)
            })
            .reduce(empty, |(mut grouped, mut produced, mut patterns), (g, p, s)| {
                for (k, c) in g {
                    *grouped.entry(k).or_insert(0) += c;
                }
                for (x, y) in produced.iter_mut().zip(p) {
                    *x += y;
                }
                patterns.extend(s);
                (grouped, produced, patterns)
            });
        patterns.sort_unstable_by_key(|(s, _)| *s);
        Compared {
            counts: grouped.into_iter().map(|((p, m), c)| (p, m, c)).collect(),
            candidate_pairs: produced.iter().sum(),
            produced,
            layout,
            spans,
            patterns: patterns.into_iter().map(|(_, p)| p).collect(),
        }
    }

    /// Trains the model (u from random pairs, m by anchors or one full EM, refined by reviewed
    /// pairs) from the candidates' counts, or takes the model the inputs give.
    pub fn train(self, inputs: &LinkInputs, counts: &[PatternCount]) -> Result<Linker, LinkError> {
        self.train_from(inputs, counts, None)
    }

    /// u, each field's level shares among random pairs ([`estimate_u`]), which training starts
    /// from: it reads the records alone, so a run computes it while comparing the candidates.
    fn random_pair_levels(&self, inputs: &LinkInputs) -> Vec<Vec<f64>> {
        estimate_u(&self.data, inputs.spec.u_sample_pairs, inputs.spec.seed)
    }

    /// [`Blocked::train`], given u when it was computed already ([`Blocked::random_pair_levels`]).
    fn train_from(self, inputs: &LinkInputs, counts: &[PatternCount], u: Option<Vec<Vec<f64>>>) -> Result<Linker, LinkError> {
        if let Some(model) = &inputs.model {
            let Blocked { data, blocker, index } = self;
            return Ok(Linker { data, model: model.clone(), blocker, index });
        }
        let u = u.unwrap_or_else(|| self.random_pair_levels(inputs));
        let Blocked { data, blocker, index } = self;
        let spec = inputs.spec;
        // Ordered by (pattern, fields not read), whatever order the counts came in.
        let keyed = counts.iter().map(|&(p, m, c)| ((p, m), c)).collect();
        let grouped: Vec<PatternCount> = summed_by_key(keyed).into_iter().map(|((p, m), c)| (p, m, c)).collect();
        let start = FsModel::initial(&data, &u);
        let trained = if spec.em_full {
            let by_pattern = summed_by_key(grouped.iter().map(|&(p, _, c)| (p, c)).collect());
            em(&by_pattern, start, EmMode::Full, 200, allowed_pairs(&data).total())
        } else {
            train_by_anchors(&start, &grouped, allowed_pairs(&data).total())
        };
        let trained = source_priors(trained, &data, &grouped);
        let linker = Linker { data, model: trained, blocker, index };
        let labelled = linker.labelled(inputs.decisions)?;
        let model = if labelled.is_empty() { linker.model.clone() } else { refine_with_labels(&linker.model, &labelled, 50.0) };
        Ok(Linker { model, ..linker })
    }
}

/// The pairs a run wants: with `new_from`, only those touching a new record.
fn keeps(inputs: &LinkInputs) -> impl Fn(usize, usize) -> bool + Sync + use<> {
    let new_from = inputs.new_from.unwrap_or(0);
    move |a: usize, b: usize| a.max(b) >= new_from
}

/// The candidates compared once (see [`Blocked::compare_candidates`]).
pub struct Compared {
    /// What EM trains on (empty when the inputs give a model).
    pub counts: Vec<PatternCount>,
    pub candidate_pairs: u64,
    /// Per rule, the candidates it produced.
    produced: Vec<u64>,
    layout: Layout,
    spans: Vec<Span>,
    /// Per span, its pairs' patterns in visiting order (empty unless kept).
    patterns: Vec<SpanPatterns>,
}

/// The patterns of one span's pairs: each pair names one of the span's distinct patterns (a
/// pattern may be listed more than once).
#[derive(Default)]
struct SpanPatterns {
    distinct: Vec<Pattern>,
    ids: Narrowest<u16>,
    /// Each pair's two positions in its block, one after the other, and the span's blocks
    /// holding candidates in visiting order as (block number, index of the block's first pair):
    /// scoring finds a pair's records without walking the blocks again.
    positions: Narrowest<u8>,
    blocks: Vec<(u32, u32)>,
}

impl SpanPatterns {
    fn push_positions(&mut self, (x, y): (usize, usize)) {
        self.positions.push(x as u32);
        self.positions.push(y as u32);
    }

    fn positions(&self, k: usize) -> (usize, usize) {
        (self.positions.get(2 * k), self.positions.get(2 * k + 1))
    }
}

/// Numbers kept as `N` while every one fits in it, else as `u32`: a span's pattern ids fit in 16
/// bits (they do in any span of several blocks, see [`Layout::SPAN_PAIRS`]) and its pairs'
/// positions in their blocks in 8 (blocks are split at the spec's `max_block`, 150 by default),
/// and that is how 10M records' candidates fit in 24 GiB.
enum Narrowest<N> {
    Narrow(Vec<N>),
    Wide(Vec<u32>),
}

impl<N> Default for Narrowest<N> {
    fn default() -> Self {
        Narrowest::Narrow(Vec::new())
    }
}

impl<N: Copy + Into<u32> + TryFrom<u32>> Narrowest<N> {
    fn push(&mut self, value: u32) {
        if let Narrowest::Narrow(narrow) = self {
            match N::try_from(value) {
                Ok(v) => return narrow.push(v),
                Err(_) => *self = Narrowest::Wide(narrow.iter().map(|&v| v.into()).collect()),
            }
        }
        if let Narrowest::Wide(wide) = self {
            wide.push(value);
        }
    }

    fn len(&self) -> usize {
        match self {
            Narrowest::Narrow(values) => values.len(),
            Narrowest::Wide(values) => values.len(),
        }
    }

    fn get(&self, k: usize) -> usize {
        match self {
            Narrowest::Narrow(values) => values[k].into() as usize,
            Narrowest::Wide(values) => values[k] as usize,
        }
    }
}

/// A trained linker over one data set: can score and explain any pair.
pub struct Linker {
    pub data: Prepared,
    pub model: FsModel,
    pub blocker: Blocker,
    index: IdIndex,
}

impl Linker {
    /// Prepares the records and trains the model (EM over candidate patterns, u from random pairs).
    pub fn train(records: &[StandardRecord], inputs: &LinkInputs) -> Result<Linker, LinkError> {
        let mut blocked = Blocked::new(records, inputs)?;
        let counts = if inputs.model.is_none() { blocked.compare_candidates(inputs, false).counts } else { Vec::new() };
        blocked.train(inputs, &counts)
    }

    /// The candidates that [`Keeping`] keeps, scored, in the order they were compared.
    fn score_candidates(&self, scorer: &Scorer, compared: &Compared, inputs: &LinkInputs) -> Vec<KeptPair> {
        use rayon::prelude::*;
        let tfs = scorer.record_tfs();
        let keep_from = keep_from(inputs);
        let keeping = Keeping::new(keep_from);
        let per_span: Vec<Vec<KeptPair>> = compared
            .spans
            .par_iter()
            .zip(&compared.patterns)
            .with_max_len(1)
            .map(|(span, patterns)| {
                // Patterns that no prior or term frequency could lift to `keep_from` are not
                // scored pair by pair (a span keeps a few pairs in thousands); of the others, a
                // pair whose first record's adjustments cannot lift it either is not scored
                // (nine in ten of those left at 100k: a term-frequency bound for the rarest key
                // is far above what most records' keys add).
                let before_tf: Vec<Option<f64>> = patterns
                    .distinct
                    .iter()
                    .map(|&p| (crate::fs::probability(scorer.weight_bound(p)) >= keep_from).then(|| scorer.weight_bound_before_tf(p)))
                    .collect();
                let pairs = patterns.ids.len() as u32;
                let block_ends = patterns.blocks.iter().skip(1).map(|&(_, first)| first).chain([pairs]);
                let mut kept = Vec::new();
                for (&(number, first), end) in patterns.blocks.iter().zip(block_ends) {
                    let records = compared.layout.block(span.rule, number as usize);
                    for k in first as usize..end as usize {
                        let id = patterns.ids.get(k);
                        if let Some(before_tf) = before_tf[id] {
                            let (x, y) = patterns.positions(k);
                            let a = records[x] as usize;
                            if keeping.surely_dropped(before_tf + tfs.gain(a)) {
                                continue;
                            }
                            let pattern = patterns.distinct[id];
                            kept.extend(keeping.score(scorer, &tfs, pattern, a, records[y] as usize).map(|p| (p, Some(pattern))));
                        }
                    }
                }
                kept
            })
            .collect();
        per_span.concat()
    }

    /// Reviewed pairs as (pattern, is_match), for refining the model.
    fn labelled(&self, decisions: &[Decision]) -> Result<Vec<(Pattern, bool)>, LinkError> {
        decisions
            .iter()
            .map(|d| {
                let (a, b) = self.pair_of(d)?;
                Ok((compare(&self.data, a, b), d.kind == DecisionKind::MustLink))
            })
            .collect()
    }

    fn pair_of(&self, d: &Decision) -> Result<(usize, usize), LinkError> {
        let a = self.index_of(&d.left)?;
        let b = self.index_of(&d.right)?;
        Ok((a, b))
    }

    pub fn index_of(&self, id: &RecordId) -> Result<usize, LinkError> {
        self.index.get(&self.data.record_ids, id).ok_or_else(|| LinkError::UnknownRecord(id.to_string()))
    }

    /// The waterfall of one pair.
    pub fn explain(&self, left: &RecordId, right: &RecordId) -> Result<Explanation, LinkError> {
        let (a, b) = (self.index_of(left)?, self.index_of(right)?);
        Ok(Scorer::new(&self.model, &self.data).explain(a, b))
    }
}

/// Links records into persons (see the module docs).
pub fn link(records: &[StandardRecord], inputs: &LinkInputs) -> Result<LinkOutcome, LinkError> {
    link_observed(records, inputs, &mut |_| {})
}

/// The stages of a run, in order, as [`link_observed`] reports their ends.
pub const STAGES: [&str; 5] = ["prepare and block", "compare candidates", "train", "score", "cluster and assign ids"];

/// [`link`], calling `stage_done` with each of [`STAGES`] as it ends (a bench reads its clock there).
pub fn link_observed(records: &[StandardRecord], inputs: &LinkInputs, stage_done: &mut dyn FnMut(&str)) -> Result<LinkOutcome, LinkError> {
    let mut blocked = Blocked::new(records, inputs)?;
    stage_done(STAGES[0]);
    // u's random pairs are compared on whichever thread is free while the candidates are.
    let (compared, u) = rayon::join(
        || blocked.compare_spans(inputs, true),
        || inputs.model.is_none().then(|| blocked.random_pair_levels(inputs)),
    );
    blocked.record_produced(&compared);
    stage_done(STAGES[1]);
    // Trained on a worker of the pool: its EM rounds are hundreds of short parallel loops, each
    // a wake-up and a wait for the calling thread when started from outside the pool.
    let linker = rayon::scope(|_| blocked.train_from(inputs, &compared.counts, u))?;
    stage_done(STAGES[2]);
    // One scorer (its tables of term-frequency bits) for scoring and clustering.
    let scorer = Scorer::for_many_pairs(&linker.model, &linker.data);
    let scored = linker.score_candidates(&scorer, &compared, inputs);
    let candidate_pairs = compared.candidate_pairs;
    stage_done(STAGES[3]);
    // The candidates' store (a vector or two per span) is freed by whichever thread is free
    // while clustering begins.
    let (outcome, ()) = rayon::join(|| finish_kept(&linker, &scorer, scored, inputs, candidate_pairs), move || drop(compared));
    drop(scorer);
    free_in_parallel(linker);
    stage_done(STAGES[4]);
    Ok(outcome)
}

/// Frees a linker on both threads: its copies of the record ids and its columns' distinct
/// values are hundreds of thousands of small allocations (at 100k records about a twentieth of
/// a run's serial work when one thread freed them).
fn free_in_parallel(linker: Linker) {
    use rayon::prelude::*;
    let Linker { data, blocker, .. } = linker;
    let Prepared { record_ids, columns, .. } = data;
    rayon::join(|| drop((record_ids, blocker)), || columns.into_par_iter().for_each(drop));
}

/// The match weight (bits) of a match-probability threshold.
fn threshold_weight(threshold: f64) -> f64 {
    (threshold / (1.0 - threshold)).log2()
}

/// The probability from which a scored candidate is kept: the lower of the output floor and
/// the weakest link that may still join a component for clustering.
pub fn keep_from(inputs: &LinkInputs) -> f64 {
    let component_weight = threshold_weight(inputs.spec.threshold) - COMPONENT_MARGIN_BITS;
    inputs.pair_floor.min(crate::fs::probability(component_weight))
}

/// Which scored candidates a run keeps (see [`keep_from`]): the one rule for which pairs are
/// scored.
struct Keeping {
    from: f64,
    /// A weight whose probability is surely below `from` (by a thousandth of a bit, far beyond
    /// rounding), so nearly all pairs are dropped without computing their probability.
    surely_below: f64,
}

impl Keeping {
    fn new(keep_from: f64) -> Keeping {
        let surely_below = if keep_from > 0.0 && keep_from < 1.0 { threshold_weight(keep_from) - 1e-3 } else { f64::NEG_INFINITY };
        Keeping { from: keep_from, surely_below }
    }

    /// Whether a pair whose weight is at most `bound` is surely not kept: below
    /// `surely_below` by more than the rounding of the bound's sum (a pair scored anyway would
    /// be dropped by its weight alone).
    fn surely_dropped(&self, bound: f64) -> bool {
        bound < self.surely_below - 1e-9
    }

    /// The candidate `a`, `b` of this pattern, scored, when the run keeps it.
    fn score(&self, scorer: &Scorer, tfs: &RecordTfs, pattern: Pattern, a: usize, b: usize) -> Option<ScoredPair> {
        let s = scorer.score_pattern_with(pattern, a, b, tfs);
        self.probability_kept(&s).map(|p| ScoredPair { left: a as u32, right: b as u32, match_weight: s.weight, match_probability: p })
    }

    /// The match probability of a scored pair when the run keeps it.
    fn probability_kept(&self, s: &Score) -> Option<f64> {
        if s.weight < self.surely_below || s.forbidden {
            return None;
        }
        Some(s.probability()).filter(|&p| p >= self.from)
    }
}

/// A candidate's score when the run keeps it (see [`keep_from`]): [`Keeping`]'s rule for one
/// pair, as a cluster's workers score theirs.
pub fn kept_score(scorer: &Scorer, pattern: Pattern, a: usize, b: usize, keep_from: f64) -> Option<Score> {
    let s = scorer.score_pattern(pattern, a, b);
    Keeping::new(keep_from).probability_kept(&s).map(|_| s)
}

/// How a run clusters records into persons, given pair weights: what [`finish`] applies to the
/// kept pairs, and what may re-cluster other weights of the same records (a linkage drawn from
/// the match probabilities) exactly as a run would.
pub struct BuildRule<'a> {
    /// The list of each record (pairs inside one list see no competing links).
    pub source: &'a [u32],
    pub sources: usize,
    /// The spec's match-probability threshold.
    pub threshold: f64,
}

impl BuildRule<'_> {
    /// Clusters records (per record, its cluster's smallest record). `links` are the candidates
    /// that may join (pairwise match weights, down to the weakest kept), sorted by record pair:
    /// the competing links are sums of floating-point odds, and summed in another order they can
    /// break an exact tie the other way (a record between two namesakes of equal weight). They
    /// are weighed against each other's competing links, join components from
    /// [`COMPONENT_MARGIN_BITS`] below the threshold, and average linkage then splits each
    /// component over all its pairs, whose evidence `pairs` gives (`None`: the pair never joins
    /// directly; a stored weight not split by field is [`Evidence::whole`]; any
    /// `Fn(a, b) -> Option<Evidence>` will do).
    pub fn cluster<W: ComponentWeights + ?Sized>(
        &self,
        links: &[(u32, u32, f64)],
        must_link: &[(u32, u32)],
        cannot_link: &[(u32, u32)],
        pairs: &W,
    ) -> (Vec<u32>, ClusterReport) {
        use rayon::prelude::*;
        debug_assert!(links.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)), "links sorted by record pair, each once");
        let source = self.source;
        let threshold_weight = threshold_weight(self.threshold);
        let component_weight = threshold_weight - COMPONENT_MARGIN_BITS;
        // Components form over weaker links than the threshold; average linkage then decides with
        // all pairs of a component, so a weak direct link is carried by strong links through others.
        // Clustering weighs each link against the records' other candidates in the same lists.
        let competition = Competition::new(links, source, self.sources);
        let edges: Vec<(u32, u32, f64)> = links
            .par_iter()
            .map(|&(a, b, w)| (a, b, competition.adjusted(a, b, w, source)))
            .filter(|e| e.2 >= component_weight)
            .collect();
        let input = ClusterInput {
            n: source.len(),
            edges: &edges,
            must_link,
            cannot_link,
            thresholds: MergeThresholds {
                two_records: threshold_weight - TWO_RECORDS_MARGIN_BITS,
                record_and_group: threshold_weight - AVERAGE_LINKAGE_MARGIN_BITS,
                two_groups: threshold_weight + TWO_GROUPS_EXTRA_BITS,
            },
            component_weight,
            max_component: 300,
        };
        cluster(&input, &Competing { pairs, competition: &competition, source })
    }
}

/// The evidence of pairs inside components, each weighed against its records' competing links.
struct Competing<'a, W: ?Sized> {
    pairs: &'a W,
    competition: &'a Competition,
    source: &'a [u32],
}

impl<W: ComponentWeights + ?Sized> ComponentWeights for Competing<'_, W> {
    fn each_pair(&self, group: &[u32], visit: &mut dyn FnMut(usize, usize, Option<&mut Evidence>)) {
        // Each record's competing odds in each list, looked up when first needed.
        let lists = self.competition.list_count();
        let mut odds: Vec<f64> = vec![f64::NAN; group.len() * lists];
        let mut odds_in = |x: usize, list: u32| {
            let cell = &mut odds[x * lists + list as usize];
            if cell.is_nan() {
                *cell = self.competition.odds_in(group[x], list);
            }
            *cell
        };
        // The competition moves what every pair has, beside the fields.
        let fields = self.pairs.fields().min(EVIDENCE_FIELDS);
        self.pairs.each_pair(group, &mut |x, y, mut evidence| {
            if let Some(e) = evidence.as_deref_mut() {
                let weight = e.weight_within(fields);
                let (sa, sb) = (self.source[group[x] as usize], self.source[group[y] as usize]);
                let adjusted = self.competition.adjusted_by(weight, (sa, odds_in(y, sa)), (sb, odds_in(x, sb)));
                e.base = e.base + adjusted - weight;
            }
            visit(x, y, evidence)
        });
    }

    fn fields(&self) -> usize {
        self.pairs.fields()
    }
}

/// Components of more records than this are compared with their records gathered.
const GATHERED_COMPONENT: usize = 6;

/// The model's evidence of the pairs inside components, each component's records gathered once
/// (a component holds a person's records and namesakes, so its pairs repeat value pairs).
struct ScoredComponents<'a> {
    scorer: &'a Scorer<'a>,
    /// The kept pairs, sorted, and the pattern of each that the run has at hand: a component of
    /// a few records is mostly such pairs (comparing them again took most of clustering).
    links: &'a [(u32, u32, f64)],
    link_patterns: &'a [Option<Pattern>],
    /// Per record, where its pairs as the left record start in `links` (and the next record's end them).
    links_start: Vec<u32>,
}

impl<'a> ScoredComponents<'a> {
    fn new(scorer: &'a Scorer<'a>, links: &'a [(u32, u32, f64)], link_patterns: &'a [Option<Pattern>]) -> ScoredComponents<'a> {
        let mut links_start = vec![0u32; scorer.data.len() + 1];
        for &(a, _, _) in links {
            links_start[a as usize + 1] += 1;
        }
        for r in 1..links_start.len() {
            links_start[r] += links_start[r - 1];
        }
        ScoredComponents { scorer, links, link_patterns, links_start }
    }

    /// Where in `links` the kept pairs whose left record is `a` lie.
    fn links_from(&self, a: u32) -> std::ops::Range<usize> {
        self.links_start[a as usize] as usize..self.links_start[a as usize + 1] as usize
    }
}

impl ComponentWeights for ScoredComponents<'_> {
    fn each_pair(&self, group: &[u32], visit: &mut dyn FnMut(usize, usize, Option<&mut Evidence>)) {
        let data = self.scorer.data;
        // Most components are a few records, whose pairs are too few to repay gathering them.
        let mut comparer = (group.len() > GATHERED_COMPONENT).then(|| {
            let mut comparer = BlockComparer::new(data);
            comparer.load(group);
            comparer
        });
        for (x, &a) in group.iter().enumerate() {
            let from_a = if comparer.is_none() { self.links_from(a) } else { 0..0 };
            for (y, &b) in group.iter().enumerate().skip(x + 1) {
                let known = || {
                    let k = self.links[from_a.clone()].binary_search_by_key(&b, |l| l.1).ok()?;
                    self.link_patterns[from_a.start + k]
                };
                let pattern = match comparer.as_mut() {
                    Some(comparer) => comparer.compare(x, y),
                    None => known().unwrap_or_else(|| compare(data, a as usize, b as usize)),
                };
                visit(x, y, self.scorer.pattern_evidence(pattern, a as usize, b as usize).as_mut());
            }
        }
    }

    fn fields(&self) -> usize {
        self.scorer.model.fields.len()
    }
}

/// Clusters the kept pairs of a trained linker into persons and assigns their ids: the end of a
/// run, whichever way (here or on a cluster) the candidates were compared and scored.
/// `scored` may come in any order (a cluster returns its pairs as its tasks end): the outcome
/// depends only on the set.
pub fn finish(linker: &Linker, scored: Vec<ScoredPair>, inputs: &LinkInputs, candidate_pairs: u64) -> LinkOutcome {
    let scorer = Scorer::for_many_pairs(&linker.model, &linker.data);
    finish_kept(linker, &scorer, scored.into_iter().map(|p| (p, None)).collect(), inputs, candidate_pairs)
}

/// A kept pair and its comparison pattern when the run has it at hand (clustering compares
/// the pairs of small components, and need not compare these again).
type KeptPair = (ScoredPair, Option<Pattern>);

/// [`finish`] of pairs that may carry their patterns (each the pattern of `(left, right)`).
/// `scorer` is [`Scorer::for_many_pairs`] of the linker.
fn finish_kept(linker: &Linker, scorer: &Scorer, mut scored: Vec<KeptPair>, inputs: &LinkInputs, candidate_pairs: u64) -> LinkOutcome {
    use rayon::prelude::*;
    scored.par_sort_unstable_by(|(x, _), (y, _)| (x.left, x.right).cmp(&(y.left, y.right)));
    let spec = inputs.spec;
    let data = &linker.data;
    let mut must: Vec<(u32, u32)> = Vec::new();
    let mut cannot: Vec<(u32, u32)> = Vec::new();
    for d in inputs.decisions {
        if let Ok((a, b)) = linker.pair_of(d) {
            match d.kind {
                DecisionKind::MustLink => must.push((a as u32, b as u32)),
                DecisionKind::CannotLink => cannot.push((a as u32, b as u32)),
            }
        }
    }
    // Incremental runs keep the existing persons of old records together.
    if let Some(new_from) = inputs.new_from {
        let mut first_of: HashMap<&PersonId, u32> = HashMap::new();
        for i in 0..new_from {
            if let Some(pid) = inputs.previous.get(&data.record_ids[i]) {
                match first_of.get(pid) {
                    Some(&f) => must.push((f, i as u32)),
                    None => {
                        first_of.insert(pid, i as u32);
                    }
                }
            }
        }
    }
    let links: Vec<(u32, u32, f64)> = scored.iter().map(|(p, _)| (p.left, p.right, p.match_weight)).collect();
    let link_patterns: Vec<Option<Pattern>> = scored.iter().map(|(_, pattern)| *pattern).collect();
    let rule = BuildRule { source: &data.source, sources: data.source_names.len(), threshold: spec.threshold };
    let (labels, clustering) =
        rule.cluster(&links, &must, &cannot, &ScoredComponents::new(scorer, &links, &link_patterns));
    // Clusters ordered by their smallest record, which labels them (and comes first in them),
    // their records ascending in one array cluster after cluster (a vector per cluster was most
    // of this stage's allocations, all made and freed on one thread).
    let mut cluster_of: Vec<u32> = vec![0; labels.len()];
    let mut ends: Vec<u32> = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        let c = if l as usize == i {
            ends.push(0);
            ends.len() - 1
        } else {
            cluster_of[l as usize] as usize
        };
        cluster_of[i] = c as u32;
        ends[c] += 1;
    }
    for c in 1..ends.len() {
        ends[c] += ends[c - 1];
    }
    let mut records = vec![0u32; labels.len()];
    let mut next: Vec<u32> = std::iter::once(0).chain(ends.iter().copied()).collect();
    for (i, &c) in cluster_of.iter().enumerate() {
        records[next[c as usize] as usize] = i as u32;
        next[c as usize] += 1;
    }
    drop(next);
    let members: Vec<&[u32]> = ends.iter().scan(0, |start, &end| {
        let cluster = &records[*start as usize..end as usize];
        *start = end;
        Some(cluster)
    }).collect();
    let (ids, events) = assign_cluster_ids(&members, &data.record_ids, inputs.previous, |r| {
        linker.index_of(r).ok().map(|i| cluster_of[i] as usize)
    });
    let persons: Vec<PersonId> = cluster_of.par_iter().map(|&c| ids[c as usize].clone()).collect();
    drop(cluster_of);
    let internal_duplicates: Vec<InternalDuplicate> =
        members.par_iter().filter(|m| m.len() > 1).flat_map_iter(|m| internal_duplicates_of(data, &persons[m[0] as usize], m)).collect();
    let pairs: Vec<ScoredPair> = scored.into_iter().map(|(p, _)| p).filter(|p| p.match_probability >= inputs.pair_floor).collect();
    LinkOutcome {
        persons,
        events,
        pairs,
        candidate_pairs,
        blocking: linker.blocker.reports.clone(),
        clustering,
        internal_duplicates,
        model: linker.model.clone(),
    }
}

/// The records of one person (`members`) that share a source, per source.
fn internal_duplicates_of(data: &Prepared, person: &PersonId, members: &[u32]) -> Vec<InternalDuplicate> {
    let mut sources: Vec<u32> = members.iter().map(|&i| data.source[i as usize]).collect();
    sources.sort_unstable();
    if !sources.windows(2).any(|w| w[0] == w[1]) {
        return Vec::new();
    }
    let mut by_source: BTreeMap<u32, Vec<RecordId>> = BTreeMap::new();
    for &i in members {
        by_source.entry(data.source[i as usize]).or_default().push(data.record_ids[i as usize].clone());
    }
    by_source
        .into_iter()
        .filter(|(_, r)| r.len() > 1)
        .map(|(s, records)| InternalDuplicate { person: person.clone(), source: data.source_names[s as usize].clone(), records })
        .collect()
}

/// The pairs that may link at all (pairs inside a list that never repeats a person are
/// excluded), within one source and across two.
struct AllowedPairs {
    within: f64,
    across: f64,
}

impl AllowedPairs {
    fn total(&self) -> f64 {
        self.within + self.across
    }
}

fn allowed_pairs(data: &Prepared) -> AllowedPairs {
    let n = data.len() as f64;
    let mut per_source = vec![0f64; data.source_names.len()];
    for &s in &data.source {
        per_source[s as usize] += 1.0;
    }
    let pairs = |c: f64| c * (c - 1.0) / 2.0;
    let within: f64 = per_source.iter().zip(&data.unique_source).filter(|(_, u)| !**u).map(|(c, _)| pairs(*c)).sum();
    let across = pairs(n) - per_source.iter().map(|c| pairs(*c)).sum::<f64>();
    AllowedPairs { within, across }
}

/// Separate priors for pairs inside one source and across two, each the match share of its
/// own pairs (EM with m and u fixed), when both kinds of pair may link.
fn source_priors(model: FsModel, data: &Prepared, counts: &[PatternCount]) -> FsModel {
    let allowed = allowed_pairs(data);
    if allowed.within == 0.0 || allowed.across == 0.0 {
        return model;
    }
    let side = |within: bool| summed_by_key(counts.iter().filter(|&&(_, mask, _)| (mask & SAME_SOURCE != 0) == within).map(|&(p, _, c)| (p, c)).collect());
    // The two priors are estimated apart, so on two threads.
    let (lambda_within, mut model) = rayon::join(
        || em(&side(true), model.clone(), EmMode::LambdaOnly, 100, allowed.within).lambda,
        || em(&side(false), model.clone(), EmMode::LambdaOnly, 100, allowed.across),
    );
    model.lambda_within_source = Some(lambda_within);
    model
}

/// Blocking recall on labelled data: of the true pairs (records sharing a person label), how
/// many some blocking rule puts in one block. Returns (covered, total).
pub fn blocking_recall(linker: &Linker, person_of: &[u32]) -> (u64, u64) {
    let mut by_person: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, &p) in person_of.iter().enumerate() {
        by_person.entry(p).or_default().push(i);
    }
    let (mut covered, mut total) = (0, 0);
    for records in by_person.values() {
        for (x, &a) in records.iter().enumerate() {
            for &b in &records[x + 1..] {
                if !Blocker::allowed(&linker.data, a, b) {
                    continue;
                }
                total += 1;
                if linker.blocker.covers(a, b) {
                    covered += 1;
                }
            }
        }
    }
    (covered, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<RecordId> {
        names.iter().map(|n| RecordId::new(*n)).collect()
    }

    #[test]
    fn the_build_rule_cuts_a_chain_whose_ends_do_not_match() {
        // Records 0, 1, 2 on three lists; 0-1 and 1-2 are strong links, 0-2 is never joined
        // (a drawn linkage left it out), weak, or strong.
        let rule = BuildRule { source: &[0, 1, 2], sources: 3, threshold: 0.5 };
        let links = [(0, 1, 10.0), (1, 2, 10.0)];
        let persons = |ends: Option<f64>| {
            let weight = |a: usize, b: usize| if (a.min(b), a.max(b)) == (0, 2) { ends } else { Some(10.0) }.map(Evidence::whole);
            format!("{:?}", rule.cluster(&links, &[], &[], &weight).0)
        };
        let shown = [None, Some(-20.0), Some(10.0)].map(persons).join(" ");
        expect_test::expect!["[0, 0, 2] [0, 0, 2] [0, 0, 0]"].assert_eq(&shown);
    }

    #[test]
    fn the_outcome_does_not_depend_on_the_order_the_scored_pairs_come_in_nor_on_their_patterns() {
        let records = crate::simulate::simulate(700, 4, 5).records;
        let spec = LinkSpec { u_sample_pairs: 20_000, ..LinkSpec::infer(&records) };
        let inputs = LinkInputs::first_run(&spec, &crate::FoldingMatcher);
        let mut blocked = Blocked::new(&records, &inputs).expect("distinct ids");
        let compared = blocked.compare_candidates(&inputs, true);
        let linker = blocked.train(&inputs, &compared.counts).expect("trains");
        let scorer = Scorer::for_many_pairs(&linker.model, &linker.data);
        let kept = linker.score_candidates(&scorer, &compared, &inputs);
        let scored: Vec<ScoredPair> = kept.iter().map(|(p, _)| *p).collect();
        let shown = |o: LinkOutcome| {
            let pairs: Vec<(u32, u32, u64)> = o.pairs.iter().map(|p| (p.left, p.right, p.match_weight.to_bits())).collect();
            (o.persons, pairs)
        };
        let outcome = |order: Vec<ScoredPair>| shown(finish(&linker, order, &inputs, compared.candidate_pairs));
        let as_compared = outcome(scored.clone());
        // The kept pairs' patterns only spare comparing them again.
        assert!(kept.iter().all(|(p, pattern)| *pattern == Some(compare(&linker.data, p.left as usize, p.right as usize))));
        assert_eq!(shown(finish_kept(&linker, &scorer, kept, &inputs, compared.candidate_pairs)), as_compared);
        assert!(as_compared.0.iter().collect::<std::collections::BTreeSet<_>>().len() < records.len(), "some records link");
        let mut reversed = scored.clone();
        reversed.reverse();
        assert_eq!(outcome(reversed), as_compared);
        let mut interleaved: Vec<ScoredPair> = scored.iter().skip(1).step_by(2).cloned().collect();
        interleaved.extend(scored.iter().step_by(2).cloned());
        assert_eq!(outcome(interleaved), as_compared);
    }

    #[test]
    fn the_id_index_finds_every_record_and_names_the_first_repeated_id() {
        let records = ids(&["k", "b", "x", "a"]);
        let index = IdIndex::new(&records).expect("ids are distinct");
        for (i, id) in records.iter().enumerate() {
            assert_eq!(index.get(&records, id), Some(i));
        }
        assert_eq!(index.get(&records, &RecordId::new("c")), None);
        // "b" repeats at position 3, before "a" repeats at position 4.
        let repeated = IdIndex::new(&ids(&["a", "b", "c", "b", "a"])).err();
        assert_eq!(repeated, Some(LinkError::DuplicateRecordId("b".into())));
    }
}
