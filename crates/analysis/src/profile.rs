//! Source profiles for the first report: per source, how complete each field is and what went
//! wrong; per field, how its values are distributed. Pure counting over plain facts.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One assertion, as the profile needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fact<'a> {
    pub source: &'a str,
    /// The record's key; a record with several assertions of one field counts once.
    pub record: &'a str,
    pub field: &'a str,
    pub value: FactValue<'a>,
}

/// The parsed value of a fact, as far as a distribution needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactValue<'a> {
    /// Counted as written (after the source's vocabulary).
    Text(&'a str),
    /// A date, counted by the years it can fall in: `1937`, or `1935–1937` when wider.
    Years { earliest: i32, latest: i32 },
    /// The cell did not parse.
    Unparsed,
}

/// What the register holds for one source besides its facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceCounts {
    pub source: String,
    pub records: u64,
    pub rejects: u64,
    pub warnings: u64,
    pub errors: u64,
}

/// How one field is filled in one source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldCompleteness {
    pub field: String,
    /// Records with at least one assertion of the field (parsed or not).
    pub records_with: u64,
    /// `records_with` over the source's records; 0 for a source without records.
    pub share: f64,
    /// Assertions of the field whose cell did not parse.
    pub unparsed: u64,
}

/// One source's profile. Fields are in name order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceProfile {
    pub source: String,
    pub records: u64,
    pub rejects: u64,
    pub warnings: u64,
    pub errors: u64,
    pub fields: Vec<FieldCompleteness>,
}

/// The distribution of one field's values over all sources.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Distribution {
    pub field: String,
    /// Parsed assertions counted.
    pub total: u64,
    pub distinct: u64,
    /// The most frequent values with their counts, by descending count then value.
    pub top: Vec<(String, u64)>,
    /// Assertions whose value is not among `top`.
    pub rest: u64,
    pub unparsed: u64,
}

/// The profiles of the sources in `counts` (in its order) from the facts.
pub fn source_profiles<'a>(counts: &[SourceCounts], facts: impl IntoIterator<Item = Fact<'a>>) -> Vec<SourceProfile> {
    // (source, field) -> (records seen, unparsed)
    let mut seen: BTreeMap<(&str, &str), (BTreeSet<&str>, u64)> = BTreeMap::new();
    for fact in facts {
        let entry = seen.entry((fact.source, fact.field)).or_default();
        entry.0.insert(fact.record);
        if fact.value == FactValue::Unparsed {
            entry.1 += 1;
        }
    }
    counts
        .iter()
        .map(|c| SourceProfile {
            source: c.source.clone(),
            records: c.records,
            rejects: c.rejects,
            warnings: c.warnings,
            errors: c.errors,
            fields: seen
                .range((c.source.as_str(), "")..)
                .take_while(|((source, _), _)| *source == c.source)
                .map(|((_, field), (records, unparsed))| FieldCompleteness {
                    field: (*field).to_owned(),
                    records_with: records.len() as u64,
                    share: if c.records == 0 { 0.0 } else { records.len() as f64 / c.records as f64 },
                    unparsed: *unparsed,
                })
                .collect(),
        })
        .collect()
}

/// Per field (in name order), the distribution of its values over all facts, keeping the
/// `top_n` most frequent values.
pub fn distributions<'a>(facts: impl IntoIterator<Item = Fact<'a>>, top_n: usize) -> Vec<Distribution> {
    let mut by_field: BTreeMap<&str, (BTreeMap<String, u64>, u64)> = BTreeMap::new();
    for fact in facts {
        let (values, unparsed) = by_field.entry(fact.field).or_default();
        let key = match fact.value {
            FactValue::Text(text) => text.to_owned(),
            FactValue::Years { earliest, latest } if earliest == latest => earliest.to_string(),
            FactValue::Years { earliest, latest } => format!("{earliest}–{latest}"),
            FactValue::Unparsed => {
                *unparsed += 1;
                continue;
            }
        };
        *values.entry(key).or_default() += 1;
    }
    by_field
        .into_iter()
        .map(|(field, (values, unparsed))| {
            let total = values.values().sum();
            let distinct = values.len() as u64;
            let mut ranked: Vec<(String, u64)> = values.into_iter().collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            ranked.truncate(top_n);
            let shown: u64 = ranked.iter().map(|(_, n)| n).sum();
            Distribution { field: field.to_owned(), total, distinct, top: ranked, rest: total - shown, unparsed }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn fact<'a>(source: &'a str, record: &'a str, field: &'a str, value: FactValue<'a>) -> Fact<'a> {
        Fact { source, record, field, value }
    }

    fn facts() -> Vec<Fact<'static>> {
        vec![
            fact("a", "a1", "surname", FactValue::Text("Иванов")),
            fact("a", "a2", "surname", FactValue::Text("Петров")),
            fact("a", "a2", "birth_date", FactValue::Years { earliest: 1901, latest: 1901 }),
            fact("a", "a1", "birth_date", FactValue::Unparsed),
            fact("b", "b1", "surname", FactValue::Text("Ivanov")),
            fact("b", "b1", "surname", FactValue::Text("Иванов")),
            fact("b", "b1", "birth_date", FactValue::Years { earliest: 1900, latest: 1902 }),
        ]
    }

    #[test]
    fn completeness_counts_records_not_assertions() {
        let counts = [
            SourceCounts { source: "a".into(), records: 4, rejects: 1, warnings: 0, errors: 1 },
            SourceCounts { source: "b".into(), records: 1, rejects: 0, warnings: 2, errors: 0 },
            SourceCounts { source: "empty".into(), records: 0, rejects: 0, warnings: 0, errors: 0 },
        ];
        let shown: Vec<String> = source_profiles(&counts, facts())
            .iter()
            .map(|p| {
                let fields: Vec<String> =
                    p.fields.iter().map(|f| format!("{}={}/{} ({:.2}, {} unparsed)", f.field, f.records_with, p.records, f.share, f.unparsed)).collect();
                format!("{} rejects={} [{}]", p.source, p.rejects, fields.join(", "))
            })
            .collect();
        expect![[r#"
            [
                "a rejects=1 [birth_date=2/4 (0.50, 1 unparsed), surname=2/4 (0.50, 0 unparsed)]",
                "b rejects=0 [birth_date=1/1 (1.00, 0 unparsed), surname=1/1 (1.00, 0 unparsed)]",
                "empty rejects=0 []",
            ]
        "#]]
        .assert_debug_eq(&shown);
    }

    #[test]
    fn distributions_rank_values_and_bucket_dates_by_year() {
        let shown: Vec<String> = distributions(facts(), 1)
            .iter()
            .map(|d| format!("{} total={} distinct={} top={:?} rest={} unparsed={}", d.field, d.total, d.distinct, d.top, d.rest, d.unparsed))
            .collect();
        expect![[r#"
            [
                "birth_date total=2 distinct=2 top=[(\"1900–1902\", 1)] rest=1 unparsed=1",
                "surname total=4 distinct=3 top=[(\"Иванов\", 2)] rest=2 unparsed=0",
            ]
        "#]]
        .assert_debug_eq(&shown);
    }
}
