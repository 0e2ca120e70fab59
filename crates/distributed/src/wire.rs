//! What the client sends to the cluster: one payload per record and the parameters of a job.
//!
//! A payload carries a record's compared values as text (the same text `link` reads), its
//! dates as the day intervals the client parsed, its block keys and the global frequency of
//! its name keys, so a worker rebuilds exactly the comparison and score the local run computes.
//! Payloads travel as compact bytes ([`RecordPayload::encode`]): a worker decodes every record of
//! every block it gets, and parsing JSON cost it as much as comparing the pairs.
//! Floating-point parameters travel as their bits: a decimal round trip could move a weight.

use crate::ClusterError;
use link::fs::FsModel;
use link::prepare::{Column, NULL, Prepared};
use link::spec::{FieldSpec, LinkSpec, LinkType, column_text};
use model::StandardRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One record as a worker sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordPayload {
    /// The record's index in the client's input order.
    pub rec: u32,
    pub source: String,
    /// Effective block key under every rule (0 = absent).
    pub keys: Vec<u64>,
    /// Per field: the text `link` reads for it (dates travel in `days`).
    pub texts: Vec<Option<String>>,
    /// Per field: how many records share this record's name key (string fields), else 0.
    pub key_freq: Vec<u32>,
    /// Per field: the date's day interval (`lo > hi` when absent or not a date field).
    pub days: Vec<(i32, i32)>,
}

impl RecordPayload {
    /// The payload of record `i` of a prepared, blocked data set.
    pub fn new(record: &StandardRecord, i: usize, blocked: &link::Blocked) -> RecordPayload {
        let data = &blocked.data;
        let mut texts = Vec::with_capacity(data.fields.len());
        let mut key_freq = Vec::with_capacity(data.fields.len());
        let mut days = Vec::with_capacity(data.fields.len());
        for (f, field) in data.fields.iter().enumerate() {
            match &data.columns[f] {
                Column::Dates { lo, hi } => {
                    texts.push(None);
                    key_freq.push(0);
                    days.push((lo[i], hi[i]));
                }
                column => {
                    texts.push(column_text(record, &field.column).map(|t| t.into_owned()));
                    key_freq.push(match column {
                        Column::Strings { ids, values, key_freq: freq, .. } if ids[i] != NULL => {
                            freq[values[ids[i] as usize].key as usize]
                        }
                        _ => 0,
                    });
                    days.push((1, 0));
                }
            }
        }
        RecordPayload {
            rec: i as u32,
            source: data.source_names[data.source[i] as usize].clone(),
            keys: blocked.blocker.record_keys(i),
            texts,
            key_freq,
            days,
        }
    }

    /// The record a worker prepares: field `j`'s text in the other column `f{j}`.
    pub fn record(&self) -> StandardRecord {
        let mut r = StandardRecord {
            id: model::RecordId::new(self.rec.to_string()),
            source: (!self.source.is_empty()).then(|| model::SourceId::new(self.source.as_str())),
            ..StandardRecord::default()
        };
        for (j, text) in self.texts.iter().enumerate() {
            if let Some(t) = text {
                r.other.insert(field_column(j), t.clone());
            }
        }
        r
    }

    /// The payload as bytes: the record index, then the source, keys, texts (absent: length
    /// `u32::MAX`), key frequencies and day intervals, numbers little-endian, lists and texts
    /// prefixed by their length.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.texts.iter().flatten().map(String::len).sum::<usize>() + 24 * self.texts.len());
        out.extend(self.rec.to_le_bytes());
        put_text(&mut out, Some(&self.source));
        put_len(&mut out, self.keys.len());
        self.keys.iter().for_each(|k| out.extend(k.to_le_bytes()));
        put_len(&mut out, self.texts.len());
        self.texts.iter().for_each(|t| put_text(&mut out, t.as_deref()));
        put_len(&mut out, self.key_freq.len());
        self.key_freq.iter().for_each(|f| out.extend(f.to_le_bytes()));
        put_len(&mut out, self.days.len());
        for (lo, hi) in &self.days {
            out.extend(lo.to_le_bytes());
            out.extend(hi.to_le_bytes());
        }
        out
    }

    /// The record index of an encoded payload, without decoding the rest.
    pub fn rec_of(bytes: &[u8]) -> Result<u32, ClusterError> {
        Reader(bytes).u32()
    }

    /// A payload from [`RecordPayload::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<RecordPayload, ClusterError> {
        let mut r = Reader(bytes);
        let rec = r.u32()?;
        let source = r.text()?.ok_or_else(|| ClusterError::Wire(format!("record {rec}: no source")))?;
        let keys = r.list(|r| Ok(u64::from_le_bytes(r.array()?)))?;
        let texts = r.list(Reader::text)?;
        let key_freq = r.list(Reader::u32)?;
        let days = r.list(|r| Ok((i32::from_le_bytes(r.array()?), i32::from_le_bytes(r.array()?))))?;
        if !r.0.is_empty() {
            return Err(ClusterError::Wire(format!("record {rec}: {} bytes after the payload", r.0.len())));
        }
        Ok(RecordPayload { rec, source, keys, texts, key_freq, days })
    }
}

const ABSENT_TEXT: u32 = u32::MAX;

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend((len as u32).to_le_bytes());
}

fn put_text(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => out.extend(ABSENT_TEXT.to_le_bytes()),
        Some(t) => {
            put_len(out, t.len());
            out.extend(t.as_bytes());
        }
    }
}

/// The unread rest of an encoded payload.
struct Reader<'b>(&'b [u8]);

impl<'b> Reader<'b> {
    fn bytes(&mut self, n: usize) -> Result<&'b [u8], ClusterError> {
        if self.0.len() < n {
            return Err(ClusterError::Wire(format!("record payload cut short ({} bytes left, {n} needed)", self.0.len())));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ClusterError> {
        Ok(self.bytes(N)?.try_into().expect("N bytes"))
    }

    fn u32(&mut self) -> Result<u32, ClusterError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn text(&mut self) -> Result<Option<String>, ClusterError> {
        match self.u32()? {
            ABSENT_TEXT => Ok(None),
            len => {
                let bytes = self.bytes(len as usize)?;
                let text = std::str::from_utf8(bytes).map_err(|e| ClusterError::Wire(format!("record payload text: {e}")))?;
                Ok(Some(text.to_owned()))
            }
        }
    }

    fn list<T>(&mut self, item: impl Fn(&mut Reader<'b>) -> Result<T, ClusterError>) -> Result<Vec<T>, ClusterError> {
        let len = self.u32()? as usize;
        // Every item takes at least 4 bytes: a corrupt length cannot make us allocate much.
        let mut items = Vec::with_capacity(len.min(self.0.len() / 4));
        for _ in 0..len {
            items.push(item(self)?);
        }
        Ok(items)
    }
}

fn field_column(j: usize) -> String {
    format!("f{j}")
}

/// Which name matcher the run uses (workers must use the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatcherKind {
    Folding,
    Names,
}

impl MatcherKind {
    pub fn matcher(self) -> &'static dyn link::NameMatcher {
        match self {
            MatcherKind::Folding => &link::FoldingMatcher,
            MatcherKind::Names => &link::namekey::NamesCrateMatcher,
        }
    }
}

/// A value with every floating-point number replaced by `{"f64": bits}`, so that it crosses the
/// wire exactly whatever fields it has (a model's m, u and priors).
fn floats_to_bits(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => serde_json::json!({ "f64": n.as_f64().map(f64::to_bits) }),
        Value::Array(items) => Value::Array(items.into_iter().map(floats_to_bits).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, floats_to_bits(v))).collect()),
        other => other,
    }
}

fn bits_to_floats(v: serde_json::Value) -> Result<serde_json::Value, ClusterError> {
    use serde_json::Value;
    Ok(match v {
        Value::Object(map) if map.len() == 1 && map.contains_key("f64") => {
            let bits = map["f64"].as_u64().ok_or_else(|| ClusterError::Wire("f64 bits expected".into()))?;
            let n = serde_json::Number::from_f64(f64::from_bits(bits)).ok_or_else(|| ClusterError::Wire("non-finite number".into()))?;
            Value::Number(n)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(bits_to_floats).collect::<Result<_, _>>()?),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| Ok((k, bits_to_floats(v)?))).collect::<Result<_, ClusterError>>()?)
        }
        other => other,
    })
}

/// Per string field, the global statistics term-frequency adjustment divides by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TfStats {
    present: u32,
    agree_chance: u64,
}

/// Scoring parameters: the trained model, the global name-key statistics and the keep cut.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ScoringWire {
    model: serde_json::Value,
    tf: Vec<Option<TfStats>>,
    keep_from: u64,
}

/// Everything a worker needs besides the payloads; sent as a JSON literal argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobParams {
    fields: Vec<FieldSpec>,
    link_type: LinkType,
    unique_sources: BTreeSet<String>,
    matcher: MatcherKind,
    rule_masks: Vec<u64>,
    scoring: Option<ScoringWire>,
}

/// The parameters decoded into what `link` works with.
pub struct Decoded {
    /// The spec a worker prepares its records with (fields renamed to `f{j}`).
    pub spec: LinkSpec,
    pub matcher: MatcherKind,
    pub rule_masks: Vec<u64>,
    pub scoring: Option<Scoring>,
}

pub struct Scoring {
    pub model: FsModel,
    /// Per field: (records with a value, chance two random records agree on the key).
    pub tf: Vec<Option<(u32, f64)>>,
    pub keep_from: f64,
}

impl JobParams {
    /// Parameters for counting patterns (no model yet).
    pub fn counting(blocked: &link::Blocked, spec: &LinkSpec, matcher: MatcherKind) -> JobParams {
        JobParams {
            fields: spec.fields.clone(),
            link_type: spec.link_type,
            unique_sources: spec.unique_sources.clone(),
            matcher,
            rule_masks: blocked.blocker.rule_masks(spec.fields.len()),
            scoring: None,
        }
    }

    /// Parameters for scoring with a trained model.
    pub fn scoring(self, model: &FsModel, data: &Prepared, keep_from: f64) -> JobParams {
        let tf = data
            .columns
            .iter()
            .map(|c| match c {
                Column::Strings { present, agree_chance, .. } => {
                    Some(TfStats { present: *present, agree_chance: agree_chance.to_bits() })
                }
                _ => None,
            })
            .collect();
        let model = floats_to_bits(serde_json::to_value(model).expect("a model serializes"));
        JobParams { scoring: Some(ScoringWire { model, tf, keep_from: keep_from.to_bits() }), ..self }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("parameters serialize")
    }

    pub fn decode(json: &str) -> Result<Decoded, ClusterError> {
        let p: JobParams = serde_json::from_str(json).map_err(|e| ClusterError::Wire(format!("job parameters: {e}")))?;
        let fields = p.fields.iter().enumerate().map(|(j, f)| FieldSpec { column: field_column(j), ..f.clone() }).collect();
        let spec = LinkSpec { fields, link_type: p.link_type, unique_sources: p.unique_sources, ..LinkSpec::default() };
        let scoring = match p.scoring {
            None => None,
            Some(s) => Some(Scoring {
                model: serde_json::from_value(bits_to_floats(s.model)?)
                    .map_err(|e| ClusterError::Wire(format!("model: {e}")))?,
                tf: s.tf.iter().map(|t| t.as_ref().map(|t| (t.present, f64::from_bits(t.agree_chance)))).collect(),
                keep_from: f64::from_bits(s.keep_from),
            }),
        };
        Ok(Decoded { spec, matcher: p.matcher, rule_masks: p.rule_masks, scoring })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn payloads() -> impl Strategy<Value = RecordPayload> {
        (
            any::<u32>(),
            ".{0,8}",
            proptest::collection::vec(any::<u64>(), 0..8),
            proptest::collection::vec(proptest::option::of(".{0,12}"), 0..6),
            proptest::collection::vec(any::<u32>(), 0..6),
            proptest::collection::vec(any::<(i32, i32)>(), 0..6),
        )
            .prop_map(|(rec, source, keys, texts, key_freq, days)| RecordPayload { rec, source, keys, texts, key_freq, days })
    }

    proptest! {
        /// Every payload survives the trip; every cut-short payload is an error, never a panic
        /// or another record.
        #[test]
        fn payloads_cross_the_wire_exactly(payload in payloads(), cut in any::<prop::sample::Index>()) {
            let bytes = payload.encode();
            prop_assert_eq!(RecordPayload::rec_of(&bytes).expect("rec"), payload.rec);
            prop_assert_eq!(RecordPayload::decode(&bytes).expect("decodes"), payload);
            let short = &bytes[..cut.index(bytes.len())];
            prop_assert!(RecordPayload::decode(short).is_err());
            let mut long = bytes.clone();
            long.push(0);
            prop_assert!(RecordPayload::decode(&long).is_err());
        }

        /// Any finite probabilities survive the trip to the workers to the bit.
        #[test]
        fn models_cross_the_wire_exactly(lambda in 1e-12f64..1.0, m in proptest::collection::vec(0.0f64..1.0, 1..8), u in 1e-300f64..1e-3) {
            let mut model: FsModel = serde_json::from_value(serde_json::json!({
                "lambda": 0.5, "fields": [], "em_iterations": 3
            })).expect("a minimal model");
            model.lambda = lambda;
            model.fields.push(link::fs::FieldParams {
                column: "surname".into(),
                kind: link::FieldKind::Surname,
                tf: true,
                levels: m.iter().map(|&m| link::fs::LevelParams { label: format!("{m}"), m, u: u * m }).collect(),
            });
            let wire = floats_to_bits(serde_json::to_value(&model).expect("serializes"));
            let text = serde_json::to_string(&wire).expect("to text");
            let back: FsModel = serde_json::from_value(bits_to_floats(serde_json::from_str(&text).expect("parses")).expect("decodes")).expect("a model");
            prop_assert_eq!(back, model);
        }
    }
}
