//! Candidate generation: several blocking rules at once, each pair produced once, oversized blocks
//! split by further keys (and the pairs that splitting leaves uncompared counted, never hidden).
//!
//! A record's key under a rule is a 64-bit hash of its atoms; a pair is produced by the first rule
//! under which both records share an (effective, post-split) key, so no global pair set is needed
//! and blocks can be processed independently and in parallel.

use crate::prepare::{Column, NULL, Prepared};
use crate::spec::{BlockingSpec, FieldKind};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum BlockingError {
    #[error("blocking key {0:?}: expected `column:how`")]
    Syntax(String),
    #[error("blocking key {0:?}: column is not a compared field")]
    UnknownColumn(String),
    #[error("blocking key {atom:?}: `{how}` does not apply to this column")]
    Inapplicable { atom: String, how: String },
    #[error("{0} blocking rules; at most {max} are supported", max = MAX_RULES)]
    TooManyRules(usize),
}

/// The most blocking rules a spec may have: which rules cover a pair is one bit per rule.
pub const MAX_RULES: usize = 64;

/// How an atom reads a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    Key,
    /// A given name's group in the names crate's table (so Николай, Микола and Коля block
    /// together), else its key.
    Group,
    KeyPrefix(usize),
    Initial,
    Value,
    Year,
    Decade,
    Prefix(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Atom {
    field: usize,
    how: How,
}

/// The key of a record that a rule does not block (an atom's value is missing).
pub const ABSENT: u64 = 0;

/// Whether two records' keys under one rule put them in one block.
pub fn same_block(key_a: u64, key_b: u64) -> bool {
    key_a != ABSENT && key_a == key_b
}

/// The rule that produces a pair: the first under which the records share a block, given each
/// record's keys in rule order ([`Blocker::record_keys`]). Later rules skip the pair.
pub fn producing_rule(keys_a: &[u64], keys_b: &[u64]) -> Option<usize> {
    keys_a.iter().zip(keys_b).position(|(&a, &b)| same_block(a, b))
}

fn mix(h: u64, v: u64) -> u64 {
    // A SplitMix64 step over the running hash: cheap, well spread, deterministic everywhere.
    let mut z = h ^ v.wrapping_add(0x9E37_79B9_7F4A_7C15).wrapping_add(h << 6).wrapping_add(h >> 2);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash_chars(chars: impl Iterator<Item = char>) -> u64 {
    chars.fold(0x243F_6A88_85A3_08D3, |h, c| mix(h, c as u64))
}

impl Atom {
    fn parse(p: &Prepared, text: &str) -> Result<Atom, BlockingError> {
        let (col, how) = text.split_once(':').ok_or_else(|| BlockingError::Syntax(text.to_owned()))?;
        let field = p.field_index(col).ok_or_else(|| BlockingError::UnknownColumn(text.to_owned()))?;
        let how = match how {
            "key" => How::Key,
            "group" => How::Group,
            "initial" => How::Initial,
            "value" => How::Value,
            "year" => How::Year,
            "decade" => How::Decade,
            h if h.starts_with("key") => How::KeyPrefix(h[3..].parse().map_err(|_| BlockingError::Syntax(text.into()))?),
            h if h.starts_with("prefix") => {
                How::Prefix(h[6..].parse().map_err(|_| BlockingError::Syntax(text.into()))?)
            }
            _ => return Err(BlockingError::Syntax(text.to_owned())),
        };
        // Only given names have groups of the given-name table: on another column `group`
        // would silently be its key.
        let fits = matches!(
            (&p.columns[field], how),
            (Column::Strings { .. }, How::Key | How::KeyPrefix(_) | How::Initial | How::Value | How::Prefix(_))
                | (Column::Dates { .. }, How::Year | How::Decade | How::Value)
                | (Column::Sexes(_) | Column::Numbers(_), How::Value)
        ) || (how == How::Group && p.fields[field].kind == FieldKind::Given);
        if !fits {
            return Err(BlockingError::Inapplicable { atom: text.to_owned(), how: format!("{how:?}") });
        }
        Ok(Atom { field, how })
    }

    /// The atom's hash for record `i`, or [`ABSENT`].
    fn value(&self, p: &Prepared, i: usize) -> u64 {
        let h = match &p.columns[self.field] {
            Column::Strings { ids, values, key_names, .. } => {
                let id = ids[i];
                if id == NULL {
                    return ABSENT;
                }
                let v = &values[id as usize];
                match self.how {
                    How::Key => mix(1, v.key as u64),
                    How::Group => match v.given_groups.first_group() {
                        Some(g) => mix(8, g as u64),
                        None => mix(1, v.key as u64),
                    },
                    How::KeyPrefix(n) => hash_chars(key_names[v.key as usize].chars().take(n)),
                    How::Initial => match v.chars.first() {
                        Some(&c) => mix(2, c as u64),
                        None => return ABSENT,
                    },
                    How::Prefix(n) => hash_chars(v.normalized.chars().take(n)),
                    _ => mix(3, id as u64),
                }
            }
            // The value of a date is its interval: records agreeing on it exactly share a block.
            Column::Dates { lo, hi } if self.how == How::Value => {
                if lo[i] > hi[i] {
                    return ABSENT;
                }
                mix(mix(7, lo[i] as u64), hi[i] as u64)
            }
            Column::Dates { .. } => match p.years(self.field, i) {
                // A date within one year blocks by that year, a range of up to three years
                // ("1902/1904", about 1903) by its middle one; a wider interval is compared via
                // other rules.
                Some((a, b)) if b - a <= 2 => {
                    let year = a + (b - a) / 2;
                    mix(4, if self.how == How::Decade { year.div_euclid(10) } else { year } as u64)
                }
                _ => return ABSENT,
            },
            Column::Sexes(s) => match s[i] {
                0 => return ABSENT,
                x => mix(5, x as u64),
            },
            Column::Numbers(v) => {
                if v[i].is_nan() {
                    return ABSENT;
                }
                mix(6, v[i].to_bits())
            }
        };
        h | 1
    }
}

/// A multiply-rotate hasher for the integers counted per record or per candidate (block keys,
/// patterns and masks): SipHash's guard against chosen keys buys nothing there and costs much
/// of the counting.
#[derive(Clone, Copy, Default)]
pub struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type IntMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IntHasher>>;

/// What one rule did: its blocks, the pairs it produced, and what splitting cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RuleReport {
    pub rule: String,
    pub blocks: usize,
    pub largest_block: usize,
    /// Pairs produced by this rule and no earlier one.
    pub pairs: u64,
    /// Blocks above the size limit that were split by further keys.
    pub oversized_blocks: usize,
    /// Pairs inside oversized blocks that no sub-block contained (other rules may still find them).
    pub pairs_not_compared: u64,
}

/// Candidate generation over a prepared data set.
pub struct Blocker {
    rules: Vec<Vec<Atom>>,
    /// Per record, per rule: effective block key (post-split), or [`ABSENT`]; record `i`'s keys
    /// are `keys[i * rules.len()..][..rules.len()]`, so a pair's keys under every rule (which
    /// rules produce and cover it) take two cache lines instead of two reads per rule.
    keys: Vec<u64>,
    pub reports: Vec<RuleReport>,
}

fn pairs_in(n: usize) -> u64 {
    (n as u64) * (n as u64).saturating_sub(1) / 2
}

impl Blocker {
    /// Parses the rules and computes every record's effective keys; splits oversized blocks.
    pub fn new(p: &Prepared, rules: &[BlockingSpec], max_block: usize) -> Result<Blocker, BlockingError> {
        let parsed: Vec<Vec<Atom>> = rules
            .iter()
            .map(|r| r.keys.iter().map(|k| Atom::parse(p, k)).collect::<Result<Vec<_>, _>>())
            .collect::<Result<_, _>>()?;
        // Secondary atoms for splitting: every key-like atom of any rule, in rule order.
        let mut secondary: Vec<Atom> = Vec::new();
        for a in parsed.iter().flatten() {
            if !secondary.contains(a) {
                secondary.push(*a);
            }
        }
        for f in 0..p.fields.len() {
            if let Column::Strings { .. } = p.columns[f] {
                for a in [Atom { field: f, how: How::Key }, Atom { field: f, how: How::Value }] {
                    if !secondary.contains(&a) {
                        secondary.push(a);
                    }
                }
            }
        }
        if parsed.len() > MAX_RULES {
            return Err(BlockingError::TooManyRules(parsed.len()));
        }
        // Each atom's value of every record, computed once for all the rules that read it (a
        // birth year is read by several, and converting days to years was most of keying).
        let atoms: Vec<Atom> = secondary.iter().filter(|a| parsed.iter().flatten().any(|b| b == *a)).copied().collect();
        let atom_values: Vec<Vec<u64>> = atoms.iter().map(|a| (0..p.len()).into_par_iter().map(|i| a.value(p, i)).collect()).collect();
        let values_of = |rule: &[Atom]| -> Vec<&[u64]> {
            rule.iter().map(|a| atom_values[atoms.iter().position(|b| b == a).expect("every rule's atom is listed")].as_slice()).collect()
        };
        // Rules are keyed independently (their splitting rounds count blocks one record at a time).
        let keyed: Vec<(Vec<u64>, RuleReport)> = parsed
            .par_iter()
            .zip(rules)
            .with_max_len(1)
            .map(|(rule, spec)| effective_keys(p, rule, &values_of(rule), &secondary, max_block.max(2), spec.keys.join(" + ")))
            .collect();
        drop(atom_values);
        let (rule_keys, reports): (Vec<Vec<u64>>, Vec<RuleReport>) = keyed.into_iter().unzip();
        let mut keys = vec![ABSENT; p.len() * parsed.len()];
        // Each record's row of keys, records in parallel.
        keys.par_chunks_mut(parsed.len().max(1)).with_min_len(4096).enumerate().for_each(|(i, row)| {
            for (key, rule) in row.iter_mut().zip(&rule_keys) {
                *key = rule[i];
            }
        });
        Ok(Blocker { rules: parsed, keys, reports })
    }

    /// Whether a pair is allowed at all (sources that never repeat a person).
    pub fn allowed(p: &Prepared, a: usize, b: usize) -> bool {
        let (sa, sb) = (p.source[a], p.source[b]);
        !(sa == sb && p.unique_source[sa as usize])
    }

    /// Every rule's blocks of two or more records that hold a pair no earlier rule blocks, cut
    /// into [`Span`]s: what the passes over the candidates walk, in one deterministic order.
    pub fn layout(&self) -> Layout {
        // Rules are laid out in parallel (each one's sort is parallel too, but its blocks are
        // cut serially).
        let rules = (0..self.rules.len())
            .into_par_iter()
            .with_max_len(1)
            .map(|r| {
                let keyed: Vec<(u64, u32)> = (0..self.keys.len() / self.rules.len())
                    .map(|i| (self.keys[i * self.rules.len() + r], i as u32))
                    .filter(|(k, _)| *k != ABSENT)
                    .collect();
                let keyed = sorted_by_key(keyed);
                // Only blocks of two or more records hold pairs; single records are dropped, and
                // so is a block whose records all share an earlier rule's block: every pair of it
                // is that rule's candidate (a later rule's block is often an earlier one's whole,
                // and walking its pairs only to skip each cost as much as comparing some).
                let n = self.rules.len();
                let within_earlier = |block: &[(u64, u32)]| {
                    let first = block[0].1 as usize * n;
                    (0..r).any(|e| {
                        let key = self.keys[first + e];
                        key != ABSENT && block[1..].iter().all(|m| self.keys[m.1 as usize * n + e] == key)
                    })
                };
                let mut members: Vec<u32> = Vec::new();
                let mut starts: Vec<usize> = Vec::new();
                let mut i = 0;
                while i < keyed.len() {
                    let j = i + keyed[i..].iter().take_while(|m| m.0 == keyed[i].0).count();
                    if j - i > 1 && !within_earlier(&keyed[i..j]) {
                        starts.push(members.len());
                        members.extend(keyed[i..j].iter().map(|m| m.1));
                    }
                    i = j;
                }
                starts.push(members.len());
                members.shrink_to_fit();
                RuleBlocks { members, starts }
            })
            .collect();
        Layout { rules }
    }

    /// Runs `visit` on every candidate pair of one span, `a < b`, in one fixed order (see
    /// [`Candidate`]; a pair is a candidate of the first rule that blocks it, so each comes
    /// once); `keep` filters which pairs are wanted (e.g. only pairs touching new records).
    /// Returns how many candidates the span produced.
    pub fn visit_span(
        &self,
        p: &Prepared,
        layout: &Layout,
        span: &Span,
        keep: &(dyn Fn(usize, usize) -> bool + Sync),
        mut visit: impl FnMut(&Candidate),
    ) -> u64 {
        let rule = span.rule;
        let rule_blocks = &layout.rules[rule];
        let mut produced = 0u64;
        for number in span.blocks.clone() {
            let block = &rule_blocks.members[rule_blocks.starts[number]..rule_blocks.starts[number + 1]];
            let mut first_in_block = true;
            for (x, &a) in block.iter().enumerate() {
                let (a, keys_a, source_a) = (a as usize, self.keys_of(a as usize), p.source[a as usize]);
                let unique = p.unique_source[source_a as usize];
                for (y, &b) in block.iter().enumerate().skip(x + 1) {
                    let (b, source_b) = (b as usize, p.source[b as usize]);
                    if (unique && source_b == source_a) || !keep(a, b) {
                        continue;
                    }
                    // A pair an earlier rule blocks is that rule's candidate; most pairs of a
                    // later rule's blocks are, so those rules' keys are read first.
                    let keys_b = self.keys_of(b);
                    if keys_a[..rule].iter().zip(&keys_b[..rule]).any(|(&k, &l)| same_block(k, l)) {
                        continue;
                    }
                    let covering = keys_a[rule..]
                        .iter()
                        .zip(&keys_b[rule..])
                        .enumerate()
                        .fold(0u64, |c, (r, (&k, &l))| c | ((same_block(k, l) as u64) << (rule + r)));
                    produced += 1;
                    visit(&Candidate {
                        a,
                        b,
                        block,
                        block_number: number,
                        at: (x, y),
                        first_in_block,
                        same_source: source_b == source_a,
                        covering,
                    });
                    first_in_block = false;
                }
            }
        }
        produced
    }

    /// The fields a rule's atoms read.
    pub fn rule_fields(&self, rule: usize) -> Vec<usize> {
        self.rules[rule].iter().map(|a| a.field).collect()
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Record `i`'s keys under every rule, in rule order.
    fn keys_of(&self, i: usize) -> &[u64] {
        &self.keys[i * self.rules.len()..][..self.rules.len()]
    }

    /// Whether some rule puts `a` and `b` in one block (the blocking recall of a true pair).
    pub fn covers(&self, a: usize, b: usize) -> bool {
        producing_rule(self.keys_of(a), self.keys_of(b)).is_some()
    }

    /// Record `i`'s effective (post-split) key under every rule, in rule order: what a pair
    /// generator elsewhere (a cluster's join on keys) needs to produce the same candidates.
    pub fn record_keys(&self, i: usize) -> Vec<u64> {
        self.keys_of(i).to_vec()
    }

    /// Per rule, the fields it does not read, one bit per field (see [`crate::pipeline::fields_not_read`]).
    pub fn rule_masks(&self, fields: usize) -> Vec<u64> {
        (0..self.rules.len())
            .map(|r| {
                let read = self.rule_fields(r).iter().fold(0u64, |m, &f| m | (1 << f));
                !read & ((1u64 << fields) - 1)
            })
            .collect()
    }
}

/// A candidate pair as [`Blocker::visit_span`] meets it.
pub struct Candidate<'s> {
    /// The records, `a < b`.
    pub a: usize,
    pub b: usize,
    /// The block holding the pair (its records) and the pair's positions in it.
    pub block: &'s [u32],
    /// The block's number among its rule's blocks (see [`Layout::block`]).
    pub block_number: usize,
    pub at: (usize, usize),
    /// Whether no pair of this block was visited before (per-block work starts here).
    pub first_in_block: bool,
    /// Whether both records come from one source.
    pub same_source: bool,
    /// The rules that block the pair: bit `r` for rule `r`, the span's rule and later ones.
    pub covering: u64,
}

/// One rule's blocks of two or more records: block `b` is `members[starts[b]..starts[b + 1]]`.
struct RuleBlocks {
    members: Vec<u32>,
    starts: Vec<usize>,
}

/// A run of consecutive blocks of one rule with at most [`Layout::SPAN_PAIRS`] record pairs
/// (or one larger block): a unit of parallel work small enough to keep per-pair data for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub rule: usize,
    blocks: std::ops::Range<usize>,
}

/// The blocks of every rule (see [`Blocker::layout`]).
pub struct Layout {
    rules: Vec<RuleBlocks>,
}

impl Layout {
    /// Record pairs in a span of several blocks: at most 2^16, so a span's pairs can name their
    /// comparison patterns in 16 bits.
    pub const SPAN_PAIRS: u64 = 1 << 16;

    /// The records of block `number` of a rule (see [`Candidate::block_number`]).
    pub fn block(&self, rule: usize, number: usize) -> &[u32] {
        let blocks = &self.rules[rule];
        &blocks.members[blocks.starts[number]..blocks.starts[number + 1]]
    }

    /// Every rule's spans, rule by rule, blocks in order.
    pub fn spans(&self) -> Vec<Span> {
        self.spans_of(Self::SPAN_PAIRS)
    }

    fn spans_of(&self, span_pairs: u64) -> Vec<Span> {
        let mut spans = Vec::new();
        for (r, rule) in self.rules.iter().enumerate() {
            let blocks = rule.starts.len() - 1;
            let (mut first, mut pairs) = (0, 0u64);
            for b in 0..blocks {
                let here = pairs_in(rule.starts[b + 1] - rule.starts[b]);
                if b > first && pairs + here > span_pairs {
                    spans.push(Span { rule: r, blocks: first..b });
                    (first, pairs) = (b, 0);
                }
                pairs += here;
            }
            if first < blocks {
                spans.push(Span { rule: r, blocks: first..blocks });
            }
        }
        spans
    }
}

/// Records' (key, index) pairs, indices ascending, sorted by key and then index: a stable
/// radix sort of the keys [`RADIX_BITS`] at a time (least significant first), so records of one
/// key keep their ascending order. A rule's 100,000 keys took a comparison sort about 40M
/// instructions.
fn sorted_by_key(mut keyed: Vec<(u64, u32)>) -> Vec<(u64, u32)> {
    debug_assert!(keyed.windows(2).all(|w| w[0].1 < w[1].1), "indices ascend");
    const DIGITS: usize = 64usize.div_ceil(RADIX_BITS);
    const BUCKETS: usize = 1 << RADIX_BITS;
    let digit_of = |key: u64, digit: usize| (key >> (RADIX_BITS * digit)) as usize & (BUCKETS - 1);
    let mut counts = vec![[0u32; BUCKETS]; DIGITS];
    for &(key, _) in &keyed {
        for (digit, count) in counts.iter_mut().enumerate() {
            count[digit_of(key, digit)] += 1;
        }
    }
    let mut other = vec![(0u64, 0u32); keyed.len()];
    for (digit, count) in counts.iter().enumerate() {
        // A digit all keys share leaves the order as it is.
        if count.iter().any(|&c| c as usize == keyed.len()) {
            continue;
        }
        let mut next = [0u32; BUCKETS];
        let mut start = 0;
        for (n, &c) in next.iter_mut().zip(count) {
            *n = start;
            start += c;
        }
        for &(key, i) in &keyed {
            let b = digit_of(key, digit);
            other[next[b] as usize] = (key, i);
            next[b] += 1;
        }
        std::mem::swap(&mut keyed, &mut other);
    }
    keyed
}

/// Bits of a key [`sorted_by_key`] sorts by in one pass: six passes, each counting into 2,048
/// buckets (16 KB with the next positions, within the first-level cache).
const RADIX_BITS: usize = 11;

/// A rule's keys, given its atoms' values of every record in the rule's order (`values`).
fn effective_keys(p: &Prepared, rule: &[Atom], values: &[&[u64]], secondary: &[Atom], max_block: usize, name: String) -> (Vec<u64>, RuleReport) {
    let n = p.len();
    let mut keys: Vec<u64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut h = 0x5851_F42D_4C95_7F2Du64;
            for atom in values {
                let v = atom[i];
                if v == ABSENT {
                    return ABSENT;
                }
                h = mix(h, v);
            }
            h | 1
        })
        .collect();
    let mut report = RuleReport { rule: name, ..RuleReport::default() };
    let sizes = |keys: &[u64]| {
        let mut counts: IntMap<u64, usize> = IntMap::default();
        for &k in keys.iter().filter(|k| **k != ABSENT) {
            *counts.entry(k).or_insert(0) += 1;
        }
        counts
    };
    let mut counts = sizes(&keys);
    let original_oversized: IntMap<u64, usize> =
        counts.iter().filter(|(_, c)| **c > max_block).map(|(k, c)| (*k, *c)).collect();
    report.oversized_blocks = original_oversized.len();
    let original = (!original_oversized.is_empty()).then(|| keys.clone());
    let extra: Vec<&Atom> = secondary.iter().filter(|a| !rule.contains(a)).collect();
    for round in 0.. {
        let oversized: IntMap<u64, usize> =
            counts.iter().filter(|(_, c)| **c > max_block).map(|(k, c)| (*k, *c)).collect();
        if oversized.is_empty() {
            break;
        }
        // Split by the next secondary atom; when those run out, into consecutive chunks.
        let mut chunk_pos: IntMap<u64, usize> = IntMap::default();
        for (i, key) in keys.iter_mut().enumerate() {
            if *key == ABSENT || !oversized.contains_key(key) {
                continue;
            }
            let salt = match extra.get(round) {
                Some(a) => a.value(p, i),
                None => {
                    let pos = chunk_pos.entry(*key).or_insert(0);
                    *pos += 1;
                    ((*pos - 1) / max_block) as u64
                }
            };
            *key = mix(*key, salt.wrapping_add(round as u64)) | 1;
        }
        counts = sizes(&keys);
    }
    if let Some(original) = original {
        let before: u64 = original_oversized.values().map(|&c| pairs_in(c)).sum();
        let mut parts: IntMap<u64, usize> = IntMap::default();
        for (i, k) in keys.iter().enumerate() {
            if original_oversized.contains_key(&original[i]) {
                *parts.entry(*k).or_insert(0) += 1;
            }
        }
        let after: u64 = parts.values().map(|&c| pairs_in(c)).sum();
        report.pairs_not_compared = before - after;
    }
    report.blocks = counts.len();
    report.largest_block = counts.values().copied().max().unwrap_or(0);
    (keys, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namekey::FoldingMatcher;
    use crate::spec::{FieldKind, FieldSpec, LinkSpec};
    use std::collections::{BTreeMap, BTreeSet};
    use expect_test::{Expect, expect};
    use model::{StandardRecord, UncertainDate};

    proptest::proptest! {
        /// The radix sort gives a comparison sort's order: by key, then index. Keys drawn from
        /// a few values repeat (ties by index) and share most digits (passes skipped).
        #[test]
        fn keys_sort_as_a_comparison_sort_does(picks in proptest::collection::vec(0usize..6, 0..300), spread in proptest::prelude::any::<u64>()) {
            let values = [1u64, 2, spread, spread ^ 0xff00, u64::MAX, spread.rotate_left(13)];
            let keyed: Vec<(u64, u32)> = picks.iter().enumerate().map(|(i, &k)| (values[k], i as u32)).collect();
            let mut expected = keyed.clone();
            expected.sort_unstable();
            proptest::prop_assert_eq!(sorted_by_key(keyed), expected);
        }
    }

    /// Which records one rule puts together, given each record's birth date.
    fn check_year_blocks(births: &[&str], expect: Expect) {
        let records: Vec<StandardRecord> = births
            .iter()
            .enumerate()
            .map(|(i, b)| StandardRecord {
                id: i.to_string().as_str().into(),
                birth_date: UncertainDate::parse_standard(b).ok(),
                ..StandardRecord::default()
            })
            .collect();
        let spec = LinkSpec { fields: vec![FieldSpec::new("birth_date", FieldKind::Date)], ..LinkSpec::default() };
        let p = Prepared::new(&records, &spec, &FoldingMatcher);
        let blocker = Blocker::new(&p, &[BlockingSpec { keys: vec!["birth_date:year".into()] }], 150).expect("rule parses");
        let shown: Vec<String> = births
            .iter()
            .enumerate()
            .map(|(a, birth)| {
                let mates: Vec<&str> = (0..births.len()).filter(|&b| b != a && blocker.covers(a, b)).map(|b| births[b]).collect();
                format!("{birth}: {}", if mates.is_empty() { "alone".to_owned() } else { mates.join(", ") })
            })
            .collect();
        expect.assert_eq(&shown.join("\n"));
    }

    #[test]
    fn a_birth_year_or_a_short_range_blocks_by_its_year() {
        check_year_blocks(
            &["1903-12-14", "1902/1904", "1903", "1903/1904", "1900/1906", "1902"],
            expect![[r#"
                1903-12-14: 1902/1904, 1903, 1903/1904
                1902/1904: 1903-12-14, 1903, 1903/1904
                1903: 1903-12-14, 1902/1904, 1903/1904
                1903/1904: 1903-12-14, 1902/1904, 1903
                1900/1906: alone
                1902: alone"#]],
        );
    }

    /// Given names blocked by their group in the given-name table: a name's forms in any
    /// language (and its diminutive) together, another name and an unlisted one by their keys.
    #[test]
    fn a_given_names_forms_share_its_group() {
        let names = ["Николай", "Микола", "Nikolaj", "Коля", "Пётр", "Petro", "Zzyzx", "Zzyzx", "Павел"];
        let records: Vec<StandardRecord> = names
            .iter()
            .enumerate()
            .map(|(i, n)| StandardRecord { id: i.to_string().as_str().into(), given_name: Some((*n).to_owned()), ..StandardRecord::default() })
            .collect();
        let spec = LinkSpec { fields: vec![FieldSpec::new("given_name", FieldKind::Given)], ..LinkSpec::default() };
        let p = Prepared::new(&records, &spec, &FoldingMatcher);
        let blocker = Blocker::new(&p, &[BlockingSpec { keys: vec!["given_name:group".into()] }], 150).expect("rule parses");
        let shown: Vec<String> = (0..names.len())
            .map(|a| {
                let mates: Vec<&str> = (0..names.len()).filter(|&b| b != a && blocker.covers(a, b)).map(|b| names[b]).collect();
                format!("{}: {}", names[a], if mates.is_empty() { "alone".to_owned() } else { mates.join(", ") })
            })
            .collect();
        expect![[r#"
            Николай: Микола, Nikolaj, Коля
            Микола: Николай, Nikolaj, Коля
            Nikolaj: Николай, Микола, Коля
            Коля: Николай, Микола, Nikolaj
            Пётр: Petro
            Petro: Пётр
            Zzyzx: Zzyzx
            Zzyzx: Zzyzx
            Павел: alone"#]]
        .assert_eq(&shown.join("\n"));
        // A surname has no group: asked for one, the rule is refused rather than keyed by its key.
        let spec = LinkSpec { fields: vec![FieldSpec::new("surname", FieldKind::Surname)], ..LinkSpec::default() };
        let p = Prepared::new(&records, &spec, &FoldingMatcher);
        let refused = Blocker::new(&p, &[BlockingSpec { keys: vec!["surname:group".into()] }], 150).err();
        assert_eq!(refused, Some(BlockingError::Inapplicable { atom: "surname:group".into(), how: "Group".into() }));
    }

    /// A simulated register of `persons` on 3 lists, prepared and blocked by the inferred rules
    /// with blocks of at most `limit` records.
    fn simulated_blocks(persons: usize, limit: usize) -> (Prepared, Blocker) {
        let records = crate::simulate::simulate(persons, 3, 9).records;
        let spec = LinkSpec::infer(&records);
        let p = Prepared::new(&records, &spec, &FoldingMatcher);
        let blocker = Blocker::new(&p, &spec.blocking, limit).expect("rules parse");
        (p, blocker)
    }

    /// The spans visit exactly the allowed pairs that some rule blocks together, each once, also
    /// when a small block limit splits blocks and spans hold many blocks.
    #[test]
    fn spans_visit_every_blocked_pair_once() {
        let (p, blocker) = simulated_blocks(400, 6);
        let layout = blocker.layout();
        let spans = layout.spans_of(10);
        assert!(spans.len() > 3 * blocker.rule_count(), "{} spans", spans.len());
        let mut visited = Vec::new();
        let mut produced = 0;
        for span in &spans {
            let mut numbers = Vec::new();
            let first = visited.len();
            produced += blocker.visit_span(&p, &layout, span, &|_, _| true, |c| {
                visited.push((c.a, c.b));
                numbers.extend(c.first_in_block.then_some(c.block_number));
            });
            // A candidate's block is found again by its number.
            blocker.visit_span(&p, &layout, span, &|_, _| true, |c| assert_eq!(layout.block(span.rule, c.block_number), c.block));
            assert!(numbers.windows(2).all(|w| w[0] < w[1]), "blocks in order");
            assert_eq!(visited.len() > first, !numbers.is_empty());
        }
        let expected: BTreeSet<(usize, usize)> = (0..p.len())
            .flat_map(|a| (a + 1..p.len()).map(move |b| (a, b)))
            .filter(|&(a, b)| Blocker::allowed(&p, a, b) && blocker.covers(a, b))
            .collect();
        assert_eq!(produced as usize, visited.len());
        assert_eq!(visited.iter().copied().collect::<BTreeSet<_>>(), expected);
        // No block is laid out whose pairs an earlier rule's block all holds, and some were.
        let mut laid_out = 0;
        for (r, rule) in layout.rules.iter().enumerate() {
            for number in 0..rule.starts.len() - 1 {
                let block = layout.block(r, number);
                let produces = |(x, &a): (usize, &u32)| {
                    block[x + 1..].iter().any(|&b| producing_rule(&blocker.record_keys(a as usize), &blocker.record_keys(b as usize)) == Some(r))
                };
                assert!(block.iter().enumerate().any(produces), "rule {r} block {number}");
                laid_out += 1;
            }
        }
        let blocks: usize = (0..blocker.rule_count())
            .map(|r| {
                let mut sizes: BTreeMap<u64, usize> = BTreeMap::new();
                for i in 0..p.len() {
                    *sizes.entry(blocker.record_keys(i)[r]).or_insert(0) += 1;
                }
                sizes.iter().filter(|&(&k, &n)| k != ABSENT && n > 1).count()
            })
            .sum();
        assert!(laid_out < blocks, "{laid_out} of {blocks} blocks laid out");
        assert_eq!(visited.len(), expected.len(), "a pair was visited twice");
    }

    /// Comparing a block's pairs with its records gathered (and its value pairs remembered)
    /// gives every pair the pattern comparing it alone gives.
    #[test]
    fn block_comparer_gives_each_pair_its_own_pattern() {
        let (p, blocker) = simulated_blocks(2000, 40);
        let layout = blocker.layout();
        let mut comparer = crate::compare::BlockComparer::new(&p);
        let (mut pairs, mut differ, mut patterns) = (0, 0, BTreeSet::new());
        for span in &layout.spans_of(20) {
            blocker.visit_span(&p, &layout, span, &|_, _| true, |c| {
                if c.first_in_block {
                    comparer.load(c.block);
                }
                let pattern = comparer.compare(c.at.0, c.at.1);
                pairs += 1;
                differ += (pattern != crate::compare::compare(&p, c.a, c.b)) as usize;
                patterns.insert(pattern);
            });
        }
        assert!(pairs > 1000 && patterns.len() > 100, "{pairs} pairs, {} patterns", patterns.len());
        assert_eq!(differ, 0, "of {pairs} pairs");
    }
}
