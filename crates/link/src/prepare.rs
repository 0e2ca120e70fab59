//! Records turned into compact columns once, so that comparing a pair touches only integers and
//! interned strings: every distinct value is normalized, keyed and counted a single time.

use crate::namekey::{NameMatcher, normalize};
use crate::spec::{FieldKind, FieldSpec, LinkSpec, LinkType, column_text};
use model::{Sex, StandardRecord, UncertainDate};
use rayon::prelude::*;
use std::collections::HashMap;

/// Marks an absent value in the interned id columns.
pub const NULL: u32 = u32::MAX;

/// One distinct value of a name or text column.
#[derive(Clone, Debug)]
pub struct Value {
    pub normalized: String,
    /// The interned `normalized`: two values of a column with one normalized form have one
    /// spelling id (comparing them is then one integer comparison).
    pub spelling: u32,
    /// The characters similarity works on: phonetic Latin for names, normalized text otherwise.
    pub chars: Vec<char>,
    /// The letters of `chars`, each as bit `c % 64` (for a quick bound of their similarity).
    pub letters: u64,
    /// The interned key (names: the matching key; places and occupations: the concept, else the
    /// folded spelling; text: the value itself).
    pub key: u32,
    /// Places and occupations: the vocabulary's concept and group, or [`NULL`]. Given names: 0
    /// when the names crate's table of given names knows the name.
    pub concept: u32,
    pub group: u32,
    /// Given names: the groups of the names crate's table of given names that list the
    /// normalized form, looked up once per value instead of per compared pair (empty for other
    /// fields and for names the table does not list, which relate to nothing).
    pub given_groups: names::GivenGroups,
}

/// A field's values for every record.
#[derive(Debug)]
pub enum Column {
    /// Names and text: per record an index into `values` (or [`NULL`]).
    Strings {
        ids: Vec<u32>,
        values: Vec<Value>,
        key_names: Vec<String>,
        /// Records per key.
        key_freq: Vec<u32>,
        /// Σ f² over keys, the chance two random records agree on the key (the base of TF).
        agree_chance: f64,
        present: u32,
        /// Levels of value pairs already compared, for columns with few distinct values.
        levels: LevelCache,
    },
    /// Dates as day intervals; `lo > hi` marks an absent date.
    Dates { lo: Vec<i32>, hi: Vec<i32> },
    /// 0 absent, 1 male, 2 female.
    Sexes(Vec<u8>),
    Numbers(Vec<f64>),
}

/// Levels of value pairs, filled as pairs are compared (0 = not yet, else level + 1), for the
/// [`LevelCache::MAX_VALUES`] most frequent values of a column. Given names, patronymics and
/// places repeat endlessly, so most comparisons become one lookup even when OCR noise makes the
/// distinct spellings run into the hundreds of thousands (those rare ones are computed each time).
/// Racing threads compute the same level, so the result never depends on the order.
#[derive(Debug)]
pub struct LevelCache {
    /// Per value id, its row in the cache, or [`NULL`] when it is too rare to have one.
    slot: Vec<u32>,
    cells: Vec<std::sync::atomic::AtomicU8>,
}

impl LevelCache {
    pub const MAX_VALUES: usize = 4096;

    /// A cache for the most frequent of values whose record counts are `counts` (ties to the
    /// earlier value, so the slots never depend on thread timing).
    fn new(counts: &[u32]) -> LevelCache {
        let mut order: Vec<u32> = (0..counts.len() as u32).collect();
        order.sort_by_key(|&v| (std::cmp::Reverse(counts[v as usize]), v));
        order.truncate(Self::MAX_VALUES);
        let mut slot = vec![NULL; counts.len()];
        for (s, &v) in order.iter().enumerate() {
            slot[v as usize] = s as u32;
        }
        let width = order.len();
        let cells: Vec<std::sync::atomic::AtomicU8> = (0..width * (width + 1) / 2).map(|_| std::sync::atomic::AtomicU8::new(0)).collect();
        // Fresh zeroed memory is mapped page by page when first touched: a page first read (the
        // shared zero page) and then written by a comparing thread is copied with a TLB flush on
        // every core, in a VM an interrupt each (a sixth of comparing at 100k). Written once here,
        // each page is mapped for good.
        for cell in cells.iter().step_by(4096) {
            cell.store(0, std::sync::atomic::Ordering::Relaxed);
        }
        LevelCache { slot, cells }
    }

    /// Value `v`'s row in the cache, or [`NULL`] (a comparer of many pairs of few values looks
    /// each up once).
    pub fn slot(&self, v: u32) -> u32 {
        self.slot[v as usize]
    }

    /// The cached level of two values given their [`LevelCache::slot`]s, or `compute` it (and
    /// remember it when both values have a slot).
    pub fn get_or_by_slots(&self, sa: u32, sb: u32, compute: impl FnOnce() -> u8) -> u8 {
        use std::sync::atomic::Ordering::Relaxed;
        if sa == NULL || sb == NULL {
            return compute();
        }
        // One cell per unordered pair of slots, the frequent values' pairs first (and together).
        let (lo, hi) = (sa.min(sb) as usize, sa.max(sb) as usize);
        let cell = &self.cells[hi * (hi + 1) / 2 + lo];
        match cell.load(Relaxed) {
            0 => {
                let level = compute();
                cell.store(level + 1, Relaxed);
                level
            }
            known => known - 1,
        }
    }
}

/// The prepared data set: ids, sources and one column per compared field.
#[derive(Debug)]
pub struct Prepared {
    pub record_ids: Vec<model::RecordId>,
    pub source: Vec<u32>,
    pub source_names: Vec<String>,
    /// Per source index: true when the source never repeats a person.
    pub unique_source: Vec<bool>,
    pub fields: Vec<FieldSpec>,
    pub columns: Vec<Column>,
}

impl Prepared {
    pub fn len(&self) -> usize {
        self.record_ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.record_ids.is_empty()
    }

    pub fn new(records: &[StandardRecord], spec: &LinkSpec, matcher: &dyn NameMatcher) -> Prepared {
        let mut source_index: HashMap<&str, u32> = HashMap::new();
        let mut source_names = Vec::new();
        // Records come list by list, so a record's source is mostly the one before it.
        let mut last: Option<(&str, u32)> = None;
        let source: Vec<u32> = records
            .iter()
            .map(|r| {
                let name = r.source.as_ref().map_or("", |s| s.as_str());
                if let Some((last_name, index)) = last
                    && last_name == name
                {
                    return index;
                }
                let index = *source_index.entry(name).or_insert_with(|| {
                    source_names.push(name.to_owned());
                    source_names.len() as u32 - 1
                });
                last = Some((name, index));
                index
            })
            .collect();
        let unique_source = source_names
            .iter()
            .map(|s| spec.link_type == LinkType::LinkOnly || spec.unique_sources.contains(s))
            .collect();
        // A column a task: names cost far more than dates or sexes.
        let columns = spec.fields.par_iter().with_max_len(1).map(|f| prepare_column(records, f, matcher)).collect();
        Prepared {
            record_ids: records.par_iter().map(|r| r.id.clone()).collect(),
            source,
            source_names,
            unique_source,
            fields: spec.fields.clone(),
            columns,
        }
    }

    pub fn field_index(&self, column: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.column == column)
    }

    /// The birth year interval of record `i` in a date column, if present.
    pub fn years(&self, field: usize, i: usize) -> Option<(i32, i32)> {
        match &self.columns[field] {
            Column::Dates { lo, hi } if lo[i] <= hi[i] => {
                Some((model::Day::from_days(lo[i]).year(), model::Day::from_days(hi[i]).year()))
            }
            _ => None,
        }
    }

    /// A record's value of a field as a short text, for explanations.
    pub fn display(&self, field: usize, i: usize) -> Option<String> {
        match &self.columns[field] {
            Column::Strings { ids, values, .. } => (ids[i] != NULL).then(|| values[ids[i] as usize].normalized.clone()),
            Column::Dates { lo, hi } => (lo[i] <= hi[i]).then(|| {
                let (a, b) = (model::Day::from_days(lo[i]), model::Day::from_days(hi[i]));
                if a == b { a.to_string() } else { format!("{a}/{b}") }
            }),
            Column::Sexes(s) => match s[i] {
                1 => Some("m".into()),
                2 => Some("f".into()),
                _ => None,
            },
            Column::Numbers(v) => (!v[i].is_nan()).then(|| v[i].to_string()),
        }
    }
}

/// Hashes texts eight bytes at a time: interning a column's values (every record's text looked
/// up once) took most of preparing it with SipHash, whose guard against chosen keys a run over
/// its own records does not need. Only looked up, never iterated, so the hash decides no order.
#[derive(Clone, Copy, Default)]
struct TextHasher(u64);

impl std::hash::Hasher for TextHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, byte: u8) {
        self.add(byte as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl TextHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
}

type TextMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<TextHasher>>;

/// Parses a date the standard way, or as `yyyymmdd` digits (a common export form).
pub fn parse_date(text: &str) -> Option<UncertainDate> {
    if let Ok(d) = UncertainDate::parse_standard(text) {
        return Some(d);
    }
    let t = text.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return UncertainDate::parse_standard(&format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..])).ok();
    }
    None
}

fn prepare_column(records: &[StandardRecord], field: &FieldSpec, matcher: &dyn NameMatcher) -> Column {
    match field.kind {
        FieldKind::Date => {
            let (mut lo, mut hi) = (Vec::with_capacity(records.len()), Vec::with_capacity(records.len()));
            for r in records {
                let date = if field.column == "birth_date" {
                    r.birth_date
                } else {
                    column_text(r, &field.column).and_then(|t| parse_date(&t))
                };
                match date {
                    Some(d) => {
                        lo.push(d.earliest().days());
                        hi.push(d.latest().days());
                    }
                    None => {
                        lo.push(1);
                        hi.push(0);
                    }
                }
            }
            Column::Dates { lo, hi }
        }
        FieldKind::Sex => Column::Sexes(
            records
                .iter()
                .map(|r| {
                    let sex = if field.column == "sex" {
                        r.sex
                    } else {
                        column_text(r, &field.column).and_then(|t| Sex::from_code(&t))
                    };
                    match sex {
                        None => 0,
                        Some(Sex::Male) => 1,
                        Some(Sex::Female) => 2,
                    }
                })
                .collect(),
        ),
        FieldKind::Numeric => Column::Numbers(
            records
                .iter()
                .map(|r| column_text(r, &field.column).and_then(|t| t.trim().parse().ok()).unwrap_or(f64::NAN))
                .collect(),
        ),
        kind => {
            let mut raw_index: TextMap<&str, u32> = TextMap::default();
            let mut raw_values: Vec<&str> = Vec::new();
            let ids: Vec<u32> = records
                .iter()
                .map(|r| match column_text(r, &field.column) {
                    None => NULL,
                    Some(t) => {
                        // Standard columns borrow from the record; `other` does too. Dates and
                        // sex are not string columns, so the text is always borrowed here.
                        let t: &str = match t {
                            std::borrow::Cow::Borrowed(s) => s,
                            std::borrow::Cow::Owned(_) => unreachable!("string columns borrow"),
                        };
                        *raw_index.entry(t).or_insert_with(|| {
                            raw_values.push(t);
                            raw_values.len() as u32 - 1
                        })
                    }
                })
                .collect();
            let part = kind.name_part();
            let vocabulary = match kind {
                FieldKind::Place => Some(crate::vocab::places()),
                FieldKind::Occupation => Some(crate::vocab::occupations()),
                FieldKind::Nationality => Some(crate::vocab::nationalities()),
                _ => None,
            };
            let forms: Vec<ValueForms> = raw_values
                .par_iter()
                .map(|t| match (part, vocabulary) {
                    (Some(p), _) => {
                        let f = matcher.forms(t, p);
                        let chars = f.phonetic.chars().collect();
                        let given = p == crate::namekey::NamePart::Given;
                        let known = given && names::GivenGroups::of(t).is_listed();
                        let groups = if given { names::GivenGroups::of(&f.normalized) } else { names::GivenGroups::default() };
                        ValueForms {
                            normalized: f.normalized,
                            chars,
                            key: f.key,
                            resolved: known.then_some(crate::vocab::Resolved { concept: 0, group: None }),
                            given_groups: groups,
                        }
                    }
                    // A known place or occupation keys by its concept, any other by its folded
                    // spelling (Москва and Moskva are one key even when no table lists them).
                    (None, Some(v)) => {
                        let resolved = v.resolve(t);
                        let key = match resolved {
                            Some(r) => format!("@{}", v.id(r.concept)),
                            None => crate::vocab::folded(t),
                        };
                        ValueForms {
                            normalized: normalize(t),
                            chars: crate::vocab::folded(t).chars().collect(),
                            key,
                            resolved,
                            given_groups: names::GivenGroups::default(),
                        }
                    }
                    // Text is compared on its phonetic Latin form too, so that a place written in
                    // Cyrillic and in transliteration (Москва, Moskwa) still comes out similar.
                    // Values with digits (codes, numbers, dates) are compared as written.
                    (None, None) => {
                        let n = normalize(t);
                        let chars = if n.chars().any(|c| c.is_ascii_digit()) {
                            n.chars().collect()
                        } else {
                            matcher.forms(t, crate::namekey::NamePart::Full).phonetic.chars().collect()
                        };
                        ValueForms { normalized: n.clone(), chars, key: n, resolved: None, given_groups: names::GivenGroups::default() }
                    }
                })
                .collect();
            let mut key_index: TextMap<String, u32> = TextMap::default();
            let mut key_names = Vec::new();
            let mut spellings: TextMap<String, u32> = TextMap::default();
            let values: Vec<Value> = forms
                .into_iter()
                .map(|ValueForms { normalized, chars, key, resolved, given_groups }| {
                    let key = *key_index.entry(key.clone()).or_insert_with(|| {
                        key_names.push(key);
                        key_names.len() as u32 - 1
                    });
                    let next = spellings.len() as u32;
                    let spelling = *spellings.entry(normalized.clone()).or_insert(next);
                    let concept = resolved.map_or(NULL, |r| r.concept);
                    let group = resolved.and_then(|r| r.group).unwrap_or(NULL);
                    let letters = chars.iter().fold(0u64, |m, &c| m | 1 << (c as u32 % 64));
                    Value { normalized, spelling, chars, letters, key, concept, group, given_groups }
                })
                .collect();
            let mut key_freq = vec![0u32; key_names.len()];
            let mut value_freq = vec![0u32; values.len()];
            let mut present = 0u32;
            for &id in &ids {
                if id != NULL {
                    key_freq[values[id as usize].key as usize] += 1;
                    value_freq[id as usize] += 1;
                    present += 1;
                }
            }
            let p = present.max(1) as f64;
            let agree_chance = key_freq.iter().map(|&c| (c as f64 / p).powi(2)).sum();
            let levels = LevelCache::new(&value_freq);
            Column::Strings { ids, values, key_names, key_freq, agree_chance, present, levels }
        }
    }
}

/// A distinct value's forms, before its key and spelling are numbered.
struct ValueForms {
    normalized: String,
    /// The characters similarity reads (phonetic Latin for names and text).
    chars: Vec<char>,
    key: String,
    /// The vocabulary's concept, or a listed given name.
    resolved: Option<crate::vocab::Resolved>,
    given_groups: names::GivenGroups,
}
