//! The link spec: which columns are compared how, which keys block, which lists never repeat a person.
//!
//! A spec is plain data (serde), so `link.toml` parses straight into it; [`LinkSpec::infer`] builds
//! the zero-configuration spec from the columns that records actually fill.

use crate::namekey::NamePart;
use model::StandardRecord;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// How a column is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Surname,
    Given,
    Patronymic,
    /// A whole name in one field.
    Fullname,
    /// An uncertain date (`1901`, `1901-03`, `1900/1902`, `19011105`).
    Date,
    Sex,
    /// Free text: exact, one edit, Jaro-Winkler bands.
    Text,
    /// A place name: the gazetteer's equivalents across languages and renamings, then spelling.
    Place,
    /// An occupation: the vocabulary's equivalents across languages, then its occupational group.
    Occupation,
    /// A nationality: the vocabulary's equivalents across languages (литовец, lietuvis, Lithuanian).
    Nationality,
    /// A number: exact, within 1, within 3.
    Numeric,
}

impl FieldKind {
    pub fn name_part(self) -> Option<NamePart> {
        match self {
            FieldKind::Surname => Some(NamePart::Surname),
            FieldKind::Given => Some(NamePart::Given),
            FieldKind::Patronymic => Some(NamePart::Patronymic),
            FieldKind::Fullname => Some(NamePart::Full),
            _ => None,
        }
    }
}

/// One compared field: a column of the standard schema (or any other column) and its kind.
/// A misspelt key (`tff = false`) is an error, not a setting left out in silence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub column: String,
    pub kind: FieldKind,
    /// Term-frequency adjustment of exact agreement (rare values weigh more). Default: on for
    /// names and text.
    #[serde(default)]
    pub tf: Option<bool>,
}

impl FieldSpec {
    pub fn new(column: &str, kind: FieldKind) -> FieldSpec {
        FieldSpec { column: column.to_owned(), kind, tf: None }
    }
    pub fn tf_enabled(&self) -> bool {
        self.tf.unwrap_or(matches!(
            self.kind,
            FieldKind::Surname
                | FieldKind::Given
                | FieldKind::Patronymic
                | FieldKind::Fullname
                | FieldKind::Text
                | FieldKind::Place
                | FieldKind::Occupation
                | FieldKind::Nationality
        ))
    }
}

/// One blocking rule: records whose atoms all agree (and are all present) are compared.
/// Atoms are written `column:how` with `how` one of `key` (name key), `key3` (first 3 letters of
/// the key), `group` (a given name's group in the given-name table, so Николай and Микола agree;
/// the key for a name the table does not list), `initial`, `value` (normalized text; a date's
/// exact interval), `year` (birth year), `decade`, `prefix3`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingSpec {
    pub keys: Vec<String>,
}

/// Which pairs are candidates at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// Pairs within and across sources.
    #[default]
    DedupeAndLink,
    /// Only pairs across sources (every source is a list that never repeats a person).
    LinkOnly,
}

/// The whole link spec (`link.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Match probability at or above which two records are the same person.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    #[serde(default)]
    pub link_type: LinkType,
    /// Sources that never list one person twice: their records are never linked to each other.
    #[serde(default)]
    pub unique_sources: BTreeSet<String>,
    /// Blocks larger than this are split by further keys (reported, never silent).
    #[serde(default = "default_max_block")]
    pub max_block: usize,
    /// Random pairs sampled to estimate u probabilities.
    #[serde(default = "default_u_sample")]
    pub u_sample_pairs: usize,
    #[serde(default)]
    pub seed: u64,
    /// One EM over all candidates that also re-estimates u there, instead of the default: m from
    /// anchor pairs against u from random pairs, then EM for lambda (see `fs::train_by_anchors`).
    #[serde(default)]
    pub em_full: bool,
    #[serde(default, rename = "field")]
    pub fields: Vec<FieldSpec>,
    #[serde(default, rename = "blocking")]
    pub blocking: Vec<BlockingSpec>,
}

/// "More likely the same person than not": the Bayes decision boundary of the model.
fn default_threshold() -> f64 {
    0.5
}
fn default_max_block() -> usize {
    150
}
fn default_u_sample() -> usize {
    300_000
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            threshold: default_threshold(),
            link_type: LinkType::default(),
            unique_sources: BTreeSet::new(),
            max_block: default_max_block(),
            u_sample_pairs: default_u_sample(),
            seed: 0,
            em_full: false,
            fields: Vec::new(),
            blocking: Vec::new(),
        }
    }
}

/// The standard schema's columns and how each is compared when a spec does not say.
pub const STANDARD_FIELDS: &[(&str, FieldKind)] = &[
    ("surname", FieldKind::Surname),
    ("given_name", FieldKind::Given),
    ("patronymic", FieldKind::Patronymic),
    ("name", FieldKind::Fullname),
    ("birth_date", FieldKind::Date),
    ("sex", FieldKind::Sex),
    ("birth_place", FieldKind::Place),
    ("nationality", FieldKind::Nationality),
    ("occupation", FieldKind::Occupation),
];

/// The text of a column of a record, standard or other; `None` when empty.
pub fn column_text<'r>(record: &'r StandardRecord, column: &str) -> Option<std::borrow::Cow<'r, str>> {
    use std::borrow::Cow;
    let s: Option<&str> = match column {
        "surname" => record.surname.as_deref(),
        "given_name" => record.given_name.as_deref(),
        "patronymic" => record.patronymic.as_deref(),
        "name" => record.name.as_deref(),
        "birth_place" => record.birth_place.as_deref(),
        "nationality" => record.nationality.as_deref(),
        "occupation" => record.occupation.as_deref(),
        "sex" => return record.sex.map(|s| Cow::Borrowed(s.code())),
        "birth_date" => return record.birth_date.map(|d| Cow::Owned(d.to_string())),
        other => record.other.get(other).map(String::as_str),
    };
    s.map(trimmed).filter(|s| !s.is_empty()).map(Cow::Borrowed)
}

/// `text` without leading and trailing whitespace, as [`str::trim`], which it calls only when
/// an end is whitespace (the general search costs more than the rest of reading a column).
fn trimmed(text: &str) -> &str {
    let inner = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    if inner(text.chars().next()) && inner(text.chars().next_back()) { text } else { text.trim() }
}

impl LinkSpec {
    /// This spec with what it leaves out (compared fields, blocking rules) inferred from the
    /// records as [`LinkSpec::infer`] would.
    /// Inferred blocking reads only the compared fields, each as its kind allows.
    pub fn completed_for(mut self, records: &[StandardRecord]) -> LinkSpec {
        if self.fields.is_empty() {
            self.fields = LinkSpec::infer(records).fields;
        }
        if self.blocking.is_empty() {
            self.blocking = LinkSpec::infer_for(records, Some(&self.fields)).blocking;
        }
        self
    }

    /// The zero-configuration spec: every filled standard column with its usual comparator, every
    /// other filled column as text; blocking on name keys with birth years, plus other columns
    /// distinctive enough to identify a record nearly alone.
    pub fn infer(records: &[StandardRecord]) -> LinkSpec {
        LinkSpec::infer_for(records, None)
    }

    /// [`LinkSpec::infer`], with blocking over `declared` fields only when given.
    fn infer_for(records: &[StandardRecord], declared: Option<&[FieldSpec]>) -> LinkSpec {
        // Per filled column, its distinct values (only counted and read as dates: not ordered).
        let mut filled: BTreeMap<String, HashSet<&str>> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for (col, _) in STANDARD_FIELDS {
            order.push((*col).to_owned());
        }
        // A standard column is filled once any record fills it (later records need not be read).
        let mut standard_filled = [false; STANDARD_FIELDS.len()];
        for r in records {
            for ((col, _), filled) in STANDARD_FIELDS.iter().zip(&mut standard_filled) {
                *filled = *filled || column_text(r, col).is_some();
            }
            for (col, value) in &r.other {
                let value = trimmed(value);
                if value.is_empty() {
                    continue;
                }
                // Distinct values of other columns decide which of them may block alone.
                match filled.get_mut(col.as_str()) {
                    Some(values) => {
                        values.insert(value);
                    }
                    None => {
                        if !order.contains(col) {
                            order.push(col.clone());
                        }
                        filled.entry(col.clone()).or_default().insert(value);
                    }
                }
            }
        }
        for ((col, _), _) in STANDARD_FIELDS.iter().zip(standard_filled).filter(|(_, filled)| *filled) {
            filled.entry((*col).to_owned()).or_default();
        }
        // Other columns are dates when nearly all their values read as dates, text otherwise.
        let reads_as_dates = |col: &str| {
            filled.get(col).is_some_and(|values| {
                let dates = values.iter().filter(|v| crate::prepare::parse_date(v).is_some()).count();
                !values.is_empty() && dates * 10 >= values.len() * 9
            })
        };
        let usual_kind = |col: &str| match STANDARD_FIELDS.iter().find(|(c, _)| *c == col) {
            Some((_, kind)) => *kind,
            None if reads_as_dates(col) => FieldKind::Date,
            None => FieldKind::Text,
        };
        let fields: Vec<FieldSpec> = order
            .iter()
            .filter(|c| filled.contains_key(*c))
            .map(|c| FieldSpec::new(c, usual_kind(c)))
            .collect();
        let compared = declared.unwrap_or(&fields);
        let kind_of = |col: &str| compared.iter().find(|f| f.column == col).map(|f| f.kind);
        let has = |c: &str| filled.contains_key(c) && kind_of(c).is_some();
        let mut atoms: Vec<String> = Vec::new();
        for c in ["surname", "given_name", "patronymic", "name"] {
            if has(c) {
                atoms.push(format!("{c}:key"));
            }
        }
        if has("birth_date") && kind_of("birth_date") == Some(FieldKind::Date) {
            atoms.push("birth_date:year".to_owned());
        }
        let n = records.len().max(1) as f64;
        let mut distinctive: Vec<String> = Vec::new();
        let by_value = |c: &str| matches!(kind_of(c), Some(FieldKind::Text | FieldKind::Date));
        for c in order.iter().filter(|c| by_value(c) && !STANDARD_FIELDS.iter().any(|(s, _)| s == *c)) {
            let distinct = filled.get(c).map_or(0, |s| s.len()) as f64;
            if distinct / n >= 0.3 {
                atoms.push(format!("{c}:value"));
            }
            if distinct / n >= 0.8 {
                distinctive.push(format!("{c}:value"));
            }
        }
        let mut blocking = Vec::new();
        let full_names = has("surname") && has("given_name") && has("patronymic") && has("birth_date");
        if full_names {
            // Russian-style full names: rules that stay small at millions of records (a bare
            // given name + year block would hold thousands of Ivans).
            for keys in [
                &["surname:key", "given_name:key"][..],
                &["surname:key", "birth_date:year"],
                &["surname:key", "patronymic:key"],
                &["given_name:key", "patronymic:key", "birth_date:year"],
                &["given_name:key", "patronymic:initial", "birth_date:year", "surname:initial"],
                &["surname:key", "given_name:initial"],
                &["given_name:key", "patronymic:key", "surname:key3"],
                // A surname that OCR or a rare transliteration moved to another key (Шевчук,
                // Shevcuk) still shares its first letters: 100k pairwise F1 0.888 -> 0.890 for
                // 7% more candidates (the first letter alone: 0.891 for 19%).
                &["given_name:key", "birth_date:year", "surname:key2"],
            ] {
                blocking.push(BlockingSpec { keys: keys.iter().map(|k| (*k).to_owned()).collect() });
            }
            // A birthplace the gazetteer knows stands in for a surname that transliteration or
            // a Lithuanian ending changed (Иванский, Ivanskijus) when the patronymic is missing.
            if kind_of("birth_place") == Some(FieldKind::Place) && has("birth_place") {
                let keys = ["given_name:key", "birth_place:key", "birth_date:year"];
                blocking.push(BlockingSpec { keys: keys.iter().map(|k| (*k).to_owned()).collect() });
            }
            // A given name in another language's form (Николай, Микола; Евдокия, Явдоха) has
            // another key: the given-name table's group still holds it with its surname.
            blocking.push(BlockingSpec { keys: vec!["surname:key".to_owned(), "given_name:group".to_owned()] });
            atoms.retain(|a| !a.ends_with(":key") && a != "birth_date:year");
            for a in &atoms {
                for name in ["surname:key", "given_name:key"] {
                    blocking.push(BlockingSpec { keys: vec![name.to_owned(), a.clone()] });
                }
            }
        } else {
            for (i, a) in atoms.iter().enumerate() {
                for b in &atoms[i + 1..] {
                    blocking.push(BlockingSpec { keys: vec![a.clone(), b.clone()] });
                }
            }
        }
        for d in distinctive {
            blocking.push(BlockingSpec { keys: vec![d] });
        }
        if blocking.is_empty() {
            blocking.extend(atoms.into_iter().map(|a| BlockingSpec { keys: vec![a] }));
        }
        LinkSpec { fields, blocking, ..LinkSpec::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    proptest::proptest! {
        #[test]
        fn trimmed_is_trim(text in "[ \t\u{a0}\u{3000}a-zИв]{0,6}") {
            proptest::prop_assert_eq!(trimmed(&text), text.trim());
        }
    }

    fn check_blocking(spec: LinkSpec, records: &[StandardRecord], expect: Expect) {
        let rules: Vec<String> = spec.completed_for(records).blocking.iter().map(|b| b.keys.join(" + ")).collect();
        expect.assert_eq(&rules.join("\n"));
    }

    /// Which rule first puts two records in one block, for pairs of (surname, given name, birth).
    #[test]
    fn full_names_block_a_surname_another_key_holds_by_given_name_year_and_first_letters() {
        use crate::block::{Blocker, producing_rule};
        let pairs = [
            (("Шевчук", "Іван", "1897"), ("Shevcuk", "Iwan", "1897")),
            (("Шевчук", "Іван", "1897"), ("Shevcuk", "Iwan", "1899")),
            (("Шевчук", "Іван", "1897"), ("Schewtschuk", "Iwan", "1903")),
            (("Смирнов", "Иван", "1896"), ("Smirnow", "Iwan", "1896")),
            // One name in its Ukrainian and German forms, the birth years two apart.
            (("Ивананова", "Явдоха", "1903"), ("Iwananowa", "Jewdokija", "1905")),
        ];
        let record = |id: usize, (surname, given, birth): (&str, &str, &str)| StandardRecord {
            id: id.to_string().as_str().into(),
            surname: Some(surname.to_owned()),
            given_name: Some(given.to_owned()),
            // One patronymic makes these full names; the others' would block them by themselves.
            patronymic: (id == 6).then(|| "Иванович".to_owned()),
            birth_date: model::UncertainDate::parse_standard(birth).ok(),
            ..StandardRecord::default()
        };
        let records: Vec<StandardRecord> = pairs.iter().enumerate().flat_map(|(i, &(a, b))| [record(2 * i, a), record(2 * i + 1, b)]).collect();
        let spec = LinkSpec::infer(&records);
        let p = crate::prepare::Prepared::new(&records, &spec, &crate::namekey::FoldingMatcher);
        let blocker = Blocker::new(&p, &spec.blocking, 150).expect("rules parse");
        let shown: Vec<String> = pairs
            .iter()
            .enumerate()
            .map(|(i, (a, b))| {
                let rule = producing_rule(&blocker.record_keys(2 * i), &blocker.record_keys(2 * i + 1));
                let by = rule.map_or("not compared".to_owned(), |r| spec.blocking[r].keys.join(" + "));
                format!("{} {} {} / {} {} {}: {by}", a.0, a.1, a.2, b.0, b.1, b.2)
            })
            .collect();
        expect![[r#"
            Шевчук Іван 1897 / Shevcuk Iwan 1897: given_name:key + birth_date:year + surname:key2
            Шевчук Іван 1897 / Shevcuk Iwan 1899: not compared
            Шевчук Іван 1897 / Schewtschuk Iwan 1903: surname:key + given_name:key
            Смирнов Иван 1896 / Smirnow Iwan 1896: surname:key + given_name:key
            Ивананова Явдоха 1903 / Iwananowa Jewdokija 1905: surname:key + given_name:group"#]].assert_eq(&shown.join("\n"));
    }

    #[test]
    fn inferred_blocking_reads_compared_fields_as_their_kind_allows() {
        let record = |id: &str, surname: &str, fled: &str, place: &str| StandardRecord {
            id: id.into(),
            surname: Some(surname.to_owned()),
            other: [("defection.date".to_owned(), fled.to_owned()), ("defection.place".to_owned(), place.to_owned())].into(),
            ..StandardRecord::default()
        };
        let records = [record("1", "Гусев", "1977", "Токио"), record("2", "Gusev", "1977-03", "Tokyo")];
        // Undeclared, a column of dates is compared as dates (blocking on the exact date).
        let inferred = LinkSpec::default().completed_for(&records);
        let kinds: Vec<String> = inferred.fields.iter().map(|f| format!("{} {:?}", f.column, f.kind)).collect();
        expect![[r#"surname Surname, defection.date Date, defection.place Text"#]].assert_eq(&kinds.join(", "));
        check_blocking(
            LinkSpec::default(),
            &records,
            expect![[r#"
                surname:key + defection.date:value
                surname:key + defection.place:value
                defection.date:value + defection.place:value
                defection.date:value
                defection.place:value"#]],
        );
        // Declared text, the same column blocks by its text.
        let declared = LinkSpec {
            fields: vec![
                FieldSpec::new("surname", FieldKind::Surname),
                FieldSpec::new("defection.date", FieldKind::Text),
                FieldSpec::new("defection.place", FieldKind::Text),
            ],
            ..LinkSpec::default()
        };
        check_blocking(declared, &records, expect![[r#"
            surname:key + defection.date:value
            surname:key + defection.place:value
            defection.date:value + defection.place:value
            defection.date:value
            defection.place:value"#]]);
    }
}
