//! A worker's view of one batch of blocks: the distinct records of the batch prepared by `link`'s
//! own code, with the global statistics the client computed put back, so that `link::compare`
//! and `link`'s scorer give every pair exactly what the local run gives it.

use crate::ClusterError;
use crate::wire::{Decoded, MatcherKind, RecordPayload};
use link::compare::{Pattern, compare};
use link::fs::Scorer;
use link::namekey::{NameForms, NameMatcher, NamePart};
use link::prepare::{Column, NULL, Prepared};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The records of one batch, prepared; pairs refer to them by position.
pub struct BatchRecords {
    pub data: Prepared,
    pub payloads: Vec<RecordPayload>,
}

impl BatchRecords {
    /// Prepares the distinct records among `payloads` (encoded); returns the batch and, per
    /// payload, the position of its record.
    pub fn new(encoded: &[&[u8]], params: &Decoded) -> Result<(BatchRecords, Vec<usize>), ClusterError> {
        let mut by_rec: HashMap<u32, usize> = HashMap::new();
        let mut payloads: Vec<RecordPayload> = Vec::new();
        let mut positions = Vec::with_capacity(encoded.len());
        for &bytes in encoded {
            let rec = RecordPayload::rec_of(bytes)?;
            if let Some(&p) = by_rec.get(&rec) {
                positions.push(p);
                continue;
            }
            let payload = RecordPayload::decode(bytes)?;
            if payload.texts.len() != params.spec.fields.len() {
                return Err(ClusterError::Wire(format!(
                    "record {} has {} fields, the job {}",
                    payload.rec,
                    payload.texts.len(),
                    params.spec.fields.len()
                )));
            }
            by_rec.insert(rec, payloads.len());
            positions.push(payloads.len());
            payloads.push(payload);
        }
        let records: Vec<model::StandardRecord> = payloads.iter().map(RecordPayload::record).collect();
        let mut data = Prepared::new(&records, &params.spec, &CachingMatcher(params.matcher));
        restore_globals(&mut data, &payloads, params);
        Ok((BatchRecords { data, payloads }, positions))
    }

    /// Whether `rule` is the rule that produces the pair and the pair may link at all; then its mask
    /// in the counts EM trains on (`link::pipeline::count_mask`).
    pub fn candidate(&self, rule: usize, a: usize, b: usize, rule_masks: &[u64]) -> Option<u64> {
        let (ka, kb) = (&self.payloads[a].keys, &self.payloads[b].keys);
        if link::block::producing_rule(ka, kb) != Some(rule) || !link::block::Blocker::allowed(&self.data, a, b) {
            return None;
        }
        Some(link::pipeline::count_mask(&self.data, rule_masks, |r| link::block::same_block(ka[r], kb[r]), a, b))
    }

    pub fn pattern(&self, a: usize, b: usize) -> Pattern {
        compare(&self.data, a, b)
    }

    /// The pair's weight when the run keeps it.
    pub fn kept_weight(&self, scorer: &Scorer, a: usize, b: usize, keep_from: f64) -> Option<f64> {
        link::pipeline::kept_score(scorer, self.pattern(a, b), a, b, keep_from).map(|s| s.weight)
    }
}

/// Dates as the client parsed them, name-key frequencies and term-frequency bases of the whole
/// data set instead of the batch's.
fn restore_globals(data: &mut Prepared, payloads: &[RecordPayload], params: &Decoded) {
    for (f, column) in data.columns.iter_mut().enumerate() {
        match column {
            Column::Dates { lo, hi } => {
                for (i, p) in payloads.iter().enumerate() {
                    (lo[i], hi[i]) = p.days[f];
                }
            }
            Column::Strings { ids, values, key_freq, agree_chance, present, .. } => {
                for (i, p) in payloads.iter().enumerate() {
                    if ids[i] != NULL {
                        key_freq[values[ids[i] as usize].key as usize] = p.key_freq[f];
                    }
                }
                if let Some((n, chance)) = params.scoring.as_ref().and_then(|s| s.tf[f]) {
                    *present = n;
                    *agree_chance = chance;
                }
            }
            Column::Sexes(_) | Column::Numbers(_) => {}
        }
    }
}

/// A name's forms are the same in every batch: computed once per worker process.
struct CachingMatcher(MatcherKind);

/// Distinct values remembered per worker before the cache starts afresh.
const CACHE_LIMIT: usize = 2_000_000;

type FormsCache = Mutex<HashMap<(MatcherKind, NamePart, String), NameForms>>;

impl NameMatcher for CachingMatcher {
    fn forms(&self, text: &str, part: NamePart) -> NameForms {
        static CACHE: OnceLock<FormsCache> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let key = (self.0, part, text.to_owned());
        if let Some(f) = cache.lock().expect("forms cache").get(&key) {
            return f.clone();
        }
        let forms = self.0.matcher().forms(text, part);
        let mut cache = cache.lock().expect("forms cache");
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, forms.clone());
        forms
    }
}
