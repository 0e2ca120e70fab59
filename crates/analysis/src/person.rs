//! Person profiles from linked records: for each attribute the values the sources assert, the
//! consensus under a rule a historian can read and change, conflicts, and corroboration; the
//! posts a person held, all with uncertain dates.
//!
//! Every field is an attribute, events included (`arrest.date`, `sentence.detail` are attributes
//! like `nationality`), so one rule decides them all. Posts are not reduced to one value: a
//! person holds many, so they are listed, merged only when they name the same post.

use model::{Assertion, EventKind, EventPart, Field, PersonId, PostPart, RecordId, SourceId, UncertainDate, Value};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What the profile needs to know about a source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub id: SourceId,
    /// The source's kind as the manifest names it (`archive`, `official`, `book_of_memory`, `press`...).
    pub kind: String,
    pub date: Option<UncertainDate>,
}

/// One record of the person with its claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedRecord {
    pub record: RecordId,
    pub source: SourceId,
    pub assertions: Vec<Assertion>,
}

/// A step of the consensus rule, applied in order until one value remains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Keep the values asserted by the most preferred kind of source.
    Kind,
    /// Keep the values asserted by the most distinct sources; among those, by the most records
    /// (one source listing a person twice, as Memorial's extracts do, then still decides).
    Majority,
    /// Keep the narrowest dates (for other values this step changes nothing).
    Precise,
    /// Keep the values asserted by the earliest-dated source.
    Earliest,
}

/// The rule that picks a consensus value. Read from the manifest as
/// `[consensus]` with `kinds = ["archive", "official", ...]` and `order = ["kind", "majority", "precise", "earliest"]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusRule {
    /// Source kinds, most trusted first. Kinds not listed rank below all listed ones.
    #[serde(default = "default_kinds")]
    pub kinds: Vec<String>,
    #[serde(default = "default_order")]
    pub order: Vec<Step>,
}

fn default_kinds() -> Vec<String> {
    // The kinds `ingest` knows, from the most to the least trusted by default.
    ["archive", "official", "book_of_memory", "testimony", "samizdat", "emigre_press", "press", "other"].map(String::from).to_vec()
}

fn default_order() -> Vec<Step> {
    vec![Step::Kind, Step::Majority, Step::Precise, Step::Earliest]
}

impl Default for ConsensusRule {
    fn default() -> Self {
        ConsensusRule { kinds: default_kinds(), order: default_order() }
    }
}

impl ConsensusRule {
    /// The rule in words, for the report.
    pub fn describe(&self) -> String {
        let steps: Vec<String> = self
            .order
            .iter()
            .map(|step| match step {
                Step::Kind => format!("prefer sources of kind {}", self.kinds.join(" > ")),
                Step::Majority => "the value most sources give (then most records)".to_owned(),
                Step::Precise => "the most precise date".to_owned(),
                Step::Earliest => "the value of the earliest source".to_owned(),
            })
            .collect();
        format!("{}; last, the first value in alphabetical order", steps.join("; then "))
    }

    fn kind_rank(&self, kind: &str) -> usize {
        self.kinds.iter().position(|k| k == kind).unwrap_or(self.kinds.len())
    }
}

/// One record's support for a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Support {
    pub record: RecordId,
    pub source: SourceId,
    /// The cell as the source gave it: for a part read from a whole name, the whole name.
    pub raw: String,
    /// The value is a part (`surname`, `given_name`, `patronymic`) read from the record's whole
    /// name (`name`, see [`parts_of_whole_name`]), not a cell of its own.
    pub from_whole_name: bool,
}

/// A distinct value asserted for an attribute, with every record asserting it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssertedValue {
    pub value: Value,
    /// The value as the report shows it.
    pub display: String,
    pub support: Vec<Support>,
    /// Distinct sources asserting this value.
    pub sources: u64,
}

/// Which step of the rule settled the consensus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Only one value was asserted.
    Unanimous,
    /// One value of a name part was written in full and the others are initials (G.), which
    /// say less: the full form was taken, whether the initials fit it or not.
    FullForm,
    By(Step),
    /// Every step left a tie; the first value in alphabetical order was taken.
    Alphabetical,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttributeProfile {
    pub field: Field,
    /// Distinct values, in alphabetical order of their display.
    pub values: Vec<AssertedValue>,
    /// Index into `values` of the consensus value.
    pub consensus: usize,
    pub decision: Decision,
    /// Whether some values contradict each other (for dates: intervals that cannot overlap);
    /// never for the fields that describe the record rather than the person
    /// (`source_record_id`, `note`, `other`).
    pub conflict: bool,
    /// Distinct sources whose value agrees with the consensus (dates agree when they overlap).
    pub corroboration: u64,
    /// Cells that did not parse, kept so the page can show them.
    pub unparsed: Vec<Support>,
}

impl AttributeProfile {
    pub fn consensus_value(&self) -> &AssertedValue {
        &self.values[self.consensus]
    }
}

/// A post held, merged over the records that name the same organisation, unit and role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PostHeld {
    pub organisation: Option<String>,
    pub unit: Option<String>,
    pub role: Option<String>,
    /// The narrowest start any record gives.
    pub from: Option<UncertainDate>,
    pub to: Option<UncertainDate>,
    pub records: Vec<RecordId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub person: PersonId,
    /// The name as the consensus gives it: surname, given name and patronymic where a record
    /// gives them apart, else the whole name.
    pub label: String,
    /// The person's records, sorted.
    pub records: Vec<RecordId>,
    /// The source of each record, aligned with `records`.
    pub record_sources: Vec<SourceId>,
    /// Distinct sources, sorted.
    pub sources: Vec<SourceId>,
    /// Attributes in field order.
    pub attributes: Vec<AttributeProfile>,
    pub posts: Vec<PostHeld>,
}

impl Profile {
    pub fn attribute(&self, field: Field) -> Option<&AttributeProfile> {
        self.attributes.iter().find(|a| a.field == field)
    }

    /// The consensus value of a field.
    pub fn value(&self, field: Field) -> Option<&Value> {
        self.attribute(field).map(|a| &a.consensus_value().value)
    }

    /// The consensus of a field as text (how a breakdown categorises it).
    pub fn text(&self, field: Field) -> Option<&str> {
        self.attribute(field).map(|a| a.consensus_value().display.as_str())
    }

    /// The consensus date of a date field (`birth_date`, `arrest.date`...).
    pub fn date(&self, field: Field) -> Option<UncertainDate> {
        match self.value(field)? {
            Value::Date { date } => Some(*date),
            _ => None,
        }
    }

    /// How many attributes hold values that contradict each other.
    pub fn conflicts(&self) -> usize {
        self.attributes.iter().filter(|a| a.conflict).count()
    }
}

/// Which concept a free-text value names, for the fields a vocabulary covers: `моряк` and
/// `seaman` are one occupation, `Ковно` and `Kaunas` one place. Two values of one concept agree:
/// the records say the same thing in two languages, which is no conflict, and each corroborates
/// the other. The vocabularies are `link`'s; the CLI hands them in through this trait, so the
/// analyses need neither `link` nor tables of their own.
pub trait Concepts: Sync {
    /// The concept `text` names as a value of `field`, if a vocabulary knows it.
    fn concept(&self, field: Field, text: &str) -> Option<String>;

    /// Whether two texts of a name field (`surname`, `given_name`, `patronymic`, `name`) are
    /// spellings of one name in two scripts or transliteration systems (Ежов, Yezhov, Jeschow;
    /// Геннадий, Gennadiy), so that they agree. Only asked for name fields and texts that differ,
    /// neither of them an initial; without a name matcher, none are.
    fn same_name(&self, _field: Field, _a: &str, _b: &str) -> bool {
        false
    }

    /// A whole name (`name`) read into its parts, so that a profile sets them against the parts
    /// other records give ("SERGEEW, Gennadij G." supports Сергеев and Геннадий, and "Сергеев
    /// Петр" contradicts Геннадий). `None` where the order of the words cannot be told ("Ли
    /// Ван": which is the surname?): a guessed reading would make conflicts no source states.
    /// Without a name parser, none is read.
    fn name_parts(&self, _name: &str) -> Option<NameParts> {
        None
    }

    /// Whether an initial (see [`is_initial`]) may stand for `other`, a full form or another
    /// initial, of the same name part: G. for Геннадий, Г. for G. Without a transliteration,
    /// when the first letters are the same up to case.
    fn initial_fits(&self, initial: &str, other: &str) -> bool {
        let first = |text: &str| text.chars().find(|c| c.is_alphabetic()).map(|c| c.to_lowercase().collect::<String>());
        first(initial).is_some() && first(initial) == first(other)
    }
}

/// A whole name's parts as [`Concepts::name_parts`] reads them, each as the name writes it; a
/// part the name gives only by its initial is that initial with its dot (G.).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameParts {
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub patronymic: Option<String>,
}

/// Whether a value of a name part is only an initial: one letter (G, Г.), or two with a dot
/// (Yu., Дж.), the way `names` reads initials. An initial fits every name it may begin
/// ([`Concepts::initial_fits`]) and never becomes the consensus over a full form.
pub fn is_initial(text: &str) -> bool {
    let text = text.trim();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    letters == 1 || (letters == 2 && text.ends_with('.') && !text.contains(char::is_whitespace))
}

/// The parts a record's whole name gives for the name parts the record does not give itself
/// (`gives` says which it does: its own cells are the source's split, and come first), read by
/// [`Concepts::name_parts`]; none where the name cannot be read.
///
/// The profile keeps the whole name as its own attribute besides: it is what the source wrote,
/// the parts are kartoteka's reading of it, and a reader checks the one against the other (each
/// part cites the whole name as its cell, [`Support::from_whole_name`]); a name that cannot be
/// read is only there.
pub fn parts_of_whole_name(name: &str, gives: impl Fn(Field) -> bool, concepts: &dyn Concepts) -> Vec<(Field, String)> {
    let Some(parts) = concepts.name_parts(name) else { return Vec::new() };
    [(Field::Surname, parts.surname), (Field::GivenName, parts.given_name), (Field::Patronymic, parts.patronymic)]
        .into_iter()
        .filter_map(|(field, part)| Some((field, part.filter(|p| !p.trim().is_empty())?)))
        .filter(|(field, _)| !gives(*field))
        .collect()
}

/// No vocabulary: texts agree only when they are the same (up to case and spacing).
pub struct NoConcepts;

impl Concepts for NoConcepts {
    fn concept(&self, _: Field, _: &str) -> Option<String> {
        None
    }
}

/// Builds one person's profile from their records. Sources missing from `sources` rank as an
/// unknown kind without a date.
pub fn build_profile(
    person: PersonId,
    records: &[LinkedRecord],
    sources: &BTreeMap<SourceId, SourceInfo>,
    rule: &ConsensusRule,
    concepts: &dyn Concepts,
) -> Profile {
    let mut by_field: BTreeMap<Field, Vec<(Value, Support)>> = BTreeMap::new();
    let mut unparsed: BTreeMap<Field, Vec<Support>> = BTreeMap::new();
    let mut post_parts: Vec<(RecordId, BTreeMap<PostPart, Value>)> = Vec::new();
    for record in records {
        let mut parts = BTreeMap::new();
        for a in &record.assertions {
            let support = Support { record: record.record.clone(), source: record.source.clone(), raw: a.raw.clone(), from_whole_name: false };
            if let (Field::Name, Value::Text { text }) = (a.field, &a.value) {
                let gives = |field| record.assertions.iter().any(|b| b.field == field);
                for (field, part) in parts_of_whole_name(text, gives, concepts) {
                    by_field.entry(field).or_default().push((Value::Text { text: part }, Support { from_whole_name: true, ..support.clone() }));
                }
            }
            for (field, value) in split(a) {
                match (field, value) {
                    (_, Value::Unparsed { .. }) => unparsed.entry(field).or_default().push(support.clone()),
                    (Field::Post(part), value) => {
                        parts.insert(part, value);
                    }
                    (field, value) => by_field.entry(field).or_default().push((value, support.clone())),
                }
            }
        }
        if !parts.is_empty() {
            post_parts.push((record.record.clone(), parts));
        }
    }
    let fields: BTreeSet<Field> = by_field.keys().chain(unparsed.keys()).copied().filter(|f| !matches!(f, Field::Post(_))).collect();
    let attributes: Vec<AttributeProfile> = fields
        .into_iter()
        .filter_map(|field| {
            attribute(field, by_field.remove(&field).unwrap_or_default(), unparsed.remove(&field).unwrap_or_default(), sources, rule, concepts)
        })
        .collect();
    let mut record_ids: Vec<(RecordId, SourceId)> = records.iter().map(|r| (r.record.clone(), r.source.clone())).collect();
    record_ids.sort();
    let mut source_ids: Vec<SourceId> = records.iter().map(|r| r.source.clone()).collect();
    source_ids.sort();
    source_ids.dedup();
    let (record_ids, record_sources) = record_ids.into_iter().unzip();
    let mut profile = Profile {
        person,
        label: String::new(),
        records: record_ids,
        record_sources,
        sources: source_ids,
        attributes,
        posts: posts(post_parts),
    };
    profile.label = label(&profile);
    profile
}

/// The (field, value) pairs an assertion states; a whole event or post is split into its parts.
fn split(a: &Assertion) -> Vec<(Field, Value)> {
    match (&a.value, a.field) {
        (Value::Event { event }, _) => {
            let text = |part: EventPart, t: &Option<String>| t.clone().map(|text| (Field::Event(event.kind, part), Value::Text { text }));
            [
                event.date.map(|date| (Field::Event(event.kind, EventPart::Date), Value::Date { date })),
                text(EventPart::Place, &event.place),
                text(EventPart::Agency, &event.agency),
                text(EventPart::Detail, &event.detail),
            ]
            .into_iter()
            .flatten()
            .collect()
        }
        (Value::Post { post }, _) => {
            let text = |part: PostPart, t: &Option<String>| t.clone().map(|text| (Field::Post(part), Value::Text { text }));
            [
                text(PostPart::Organisation, &post.organisation),
                text(PostPart::Unit, &post.unit),
                text(PostPart::Role, &post.role),
                post.from.map(|date| (Field::Post(PostPart::From), Value::Date { date })),
                post.to.map(|date| (Field::Post(PostPart::To), Value::Date { date })),
            ]
            .into_iter()
            .flatten()
            .collect()
        }
        (value, field) => vec![(field, value.clone())],
    }
}

/// The key under which two values count as the same: case, spacing and ё/е do not matter.
fn value_key(value: &Value) -> String {
    match value {
        Value::Text { text } => text_key(text),
        other => display(other),
    }
}

/// The key under which two texts count as the same value (`4 Года` and `4 года`): case,
/// spacing and ё/е do not matter. Profiles group their values by it, and so do breakdowns.
pub fn text_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase().replace('ё', "е")
}

fn display(value: &Value) -> String {
    match value {
        Value::Text { text } => text.trim().to_owned(),
        Value::Sex { sex } => sex.code().to_owned(),
        Value::Date { date } => date.to_string(),
        Value::Number { number } => number.to_string(),
        Value::Flag { flag } => flag.to_string(),
        Value::Event { event } => event.kind.as_str().to_owned(),
        Value::Post { post } => [&post.role, &post.unit, &post.organisation].into_iter().flatten().cloned().collect::<Vec<_>>().join(", "),
        Value::Unparsed { reason } => reason.clone(),
    }
}

fn attribute(
    field: Field,
    asserted: Vec<(Value, Support)>,
    unparsed: Vec<Support>,
    sources: &BTreeMap<SourceId, SourceInfo>,
    rule: &ConsensusRule,
    concepts: &dyn Concepts,
) -> Option<AttributeProfile> {
    let mut grouped: BTreeMap<String, AssertedValue> = BTreeMap::new();
    for (value, support) in asserted {
        let entry = grouped.entry(value_key(&value)).or_insert_with(|| AssertedValue {
            display: display(&value),
            value,
            support: Vec::new(),
            sources: 0,
        });
        entry.support.push(support);
    }
    let mut values: Vec<AssertedValue> = grouped.into_values().collect();
    if values.is_empty() {
        // Only unparsed cells: the attribute has no value to show a consensus for.
        return None;
    }
    for v in &mut values {
        v.support.sort_by(|a, b| (&a.source, &a.record).cmp(&(&b.source, &b.record)));
        v.sources = v.support.iter().map(|s| &s.source).collect::<BTreeSet<_>>().len() as u64;
    }
    values.sort_by(|a, b| (&a.display, value_key(&a.value)).cmp(&(&b.display, value_key(&b.value))));
    // An initial says less than a full form: it is the consensus only where no full form is.
    let initial = |v: &AssertedValue| is_name_part(field) && matches!(&v.value, Value::Text { text } if is_initial(text));
    let full_forms: Vec<usize> = (0..values.len()).filter(|&i| !initial(&values[i])).collect();
    let candidates = if full_forms.is_empty() { (0..values.len()).collect() } else { full_forms };
    let (consensus, decision) = decide(&values, candidates, sources, rule);
    let agreement = Agreement::new(field, values.iter().map(|v| &v.value).collect(), concepts);
    let conflict = agreement.conflict();
    let corroboration = (0..values.len())
        .filter(|&i| agreement.agree(i, consensus))
        .flat_map(|i| values[i].support.iter().map(|s| &s.source))
        .collect::<BTreeSet<_>>()
        .len() as u64;
    Some(AttributeProfile { field, values, consensus, decision, conflict, corroboration, unparsed })
}

/// Which of one field's distinct values agree, and so whether they conflict: the one rule that
/// profiles, the analyses' disagreements and every page showing a person's values follow. Two
/// dates agree when their intervals overlap (1937 and 1937-03-05), two texts when they are equal
/// up to case and spacing, name one concept (моряк, seaman) or, in a name field, spell one name
/// (Ежов, Yezhov), an initial of a name part when it fits the other (G., Геннадий), other
/// values when they are equal.
///
/// Settled choices, each with its reason: a whole name without its patronymic agrees with one
/// that has it (a list that omits patronymics says nothing against one); a diminutive or another
/// language's form agrees with the full name (Саша, Александр; Пётр, Петро: one name, as a
/// witness or a Ukrainian clerk wrote it); a й or ь that a transliteration drops agrees (Ильин,
/// ILIN) but one that a Cyrillic text drops does not (Ильин, Илин: Cyrillic writes them by
/// rule, so the two are two spellings, as Иванов and Иванев are).
pub struct Agreement<'v> {
    field: Field,
    values: Vec<&'v Value>,
    concept_of: Vec<Option<String>>,
    /// Which values are initials of a name part.
    initial: Vec<bool>,
    /// Asked, for a name field, whether two texts spell one name or an initial fits a name.
    concepts: &'v dyn Concepts,
}

impl<'v> Agreement<'v> {
    pub fn new(field: Field, values: Vec<&'v Value>, concepts: &'v dyn Concepts) -> Agreement<'v> {
        // Looked up only where two values could disagree.
        let concept_of = values
            .iter()
            .map(|v| match v {
                Value::Text { text } if values.len() > 1 => concepts.concept(field, text),
                _ => None,
            })
            .collect();
        let initial = values.iter().map(|v| is_name_part(field) && matches!(v, Value::Text { text } if is_initial(text))).collect();
        Agreement { field, values, concept_of, initial, concepts }
    }

    /// Whether values `i` and `j` say the same thing.
    pub fn agree(&self, i: usize, j: usize) -> bool {
        match (self.values[i], self.values[j]) {
            (Value::Date { date: x }, Value::Date { date: y }) => x.overlaps(y),
            (a, b) => {
                value_key(a) == value_key(b)
                    || (self.concept_of[i].is_some() && self.concept_of[i] == self.concept_of[j])
                    || match (a, b) {
                        (Value::Text { text: a }, Value::Text { text: b }) if is_name(self.field) => match (self.initial[i], self.initial[j]) {
                            (true, _) => self.concepts.initial_fits(a, b),
                            (false, true) => self.concepts.initial_fits(b, a),
                            (false, false) => self.concepts.same_name(self.field, a, b),
                        },
                        _ => false,
                    }
            }
        }
    }

    /// Whether the values conflict: the field states a fact about the person and two of them
    /// disagree.
    pub fn conflict(&self) -> bool {
        let n = self.values.len();
        describes_the_person(self.field) && (0..n).any(|i| (i + 1..n).any(|j| !self.agree(i, j)))
    }
}

/// Whether a field holds a name or a part of one, whose spellings [`Concepts::same_name`] judges.
fn is_name(field: Field) -> bool {
    is_name_part(field) || field == Field::Name
}

/// Whether a field holds one part of a name, which may be given by its initial.
fn is_name_part(field: Field) -> bool {
    matches!(field, Field::Surname | Field::GivenName | Field::Patronymic)
}

/// Whether a field states a fact about the person, so that two values contradict each other.
/// A record's id in its source, a note and other columns describe the record: two records of
/// one person differ there by nature, which is no conflict.
fn describes_the_person(field: Field) -> bool {
    !matches!(field, Field::SourceRecordId | Field::Note | Field::Other)
}

/// Applies the rule's steps to the candidate values (all of them, or a name part's full forms),
/// narrowing until one remains.
fn decide(values: &[AssertedValue], mut candidates: Vec<usize>, sources: &BTreeMap<SourceId, SourceInfo>, rule: &ConsensusRule) -> (usize, Decision) {
    match candidates[..] {
        [only] if values.len() == 1 => return (only, Decision::Unanimous),
        [only] => return (only, Decision::FullForm),
        _ => {}
    }
    for &step in &rule.order {
        // Smaller scores are better.
        let score = |i: usize| -> (i64, i64) {
            let v = &values[i];
            let source_infos = || v.support.iter().filter_map(|s| sources.get(&s.source));
            match step {
                Step::Kind => {
                    let best = v.support.iter().map(|s| sources.get(&s.source).map_or(rule.kinds.len() + 1, |i| rule.kind_rank(&i.kind))).min();
                    (best.unwrap_or(usize::MAX) as i64, 0)
                }
                Step::Majority => (-(v.sources as i64), -(v.support.len() as i64)),
                Step::Precise => match &v.value {
                    Value::Date { date } => (i64::from(date.latest().days()) - i64::from(date.earliest().days()), 0),
                    _ => (0, 0),
                },
                Step::Earliest => {
                    let earliest = source_infos().filter_map(|i| i.date).map(|d| d.earliest().days()).min();
                    earliest.map_or((1, 0), |d| (0, i64::from(d)))
                }
            }
        };
        let best = candidates.iter().map(|&i| score(i)).min().expect("candidates are never empty");
        candidates.retain(|&i| score(i) == best);
        if candidates.len() == 1 {
            return (candidates[0], Decision::By(step));
        }
    }
    (candidates[0], Decision::Alphabetical)
}

/// Posts from each record's post parts, merged when organisation, unit and role agree.
fn posts(per_record: Vec<(RecordId, BTreeMap<PostPart, Value>)>) -> Vec<PostHeld> {
    let text = |parts: &BTreeMap<PostPart, Value>, part| match parts.get(&part) {
        Some(Value::Text { text }) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        _ => None,
    };
    let date = |parts: &BTreeMap<PostPart, Value>, part| match parts.get(&part) {
        Some(Value::Date { date }) => Some(*date),
        _ => None,
    };
    let mut merged: BTreeMap<(String, String, String), PostHeld> = BTreeMap::new();
    for (record, parts) in per_record {
        let (organisation, unit, role) = (text(&parts, PostPart::Organisation), text(&parts, PostPart::Unit), text(&parts, PostPart::Role));
        let key = |t: &Option<String>| t.as_deref().map(text_key).unwrap_or_default();
        let post = merged.entry((key(&organisation), key(&unit), key(&role))).or_insert_with(|| PostHeld {
            organisation,
            unit,
            role,
            from: None,
            to: None,
            records: Vec::new(),
        });
        post.from = narrowest(post.from, date(&parts, PostPart::From));
        post.to = narrowest(post.to, date(&parts, PostPart::To));
        post.records.push(record);
    }
    let mut posts: Vec<PostHeld> = merged.into_values().collect();
    for p in &mut posts {
        p.records.sort();
    }
    posts.sort_by_key(|p| (p.from.map(|d| d.midpoint()), p.to.map(|d| d.midpoint())));
    posts
}

fn narrowest(a: Option<UncertainDate>, b: Option<UncertainDate>) -> Option<UncertainDate> {
    let width = |d: &UncertainDate| i64::from(d.latest().days()) - i64::from(d.earliest().days());
    match (a, b) {
        (Some(a), Some(b)) => Some(if width(&b) < width(&a) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The parts' consensus where some record gives a part in a cell of its own; else the whole
/// name as a source wrote it ("SERGEEW, Gennadij G."), rather than the parts read from it.
fn label(profile: &Profile) -> String {
    let part_fields = [Field::Surname, Field::GivenName, Field::Patronymic];
    let given_apart = part_fields.iter().filter_map(|&f| profile.attribute(f)).any(|a| a.values.iter().flat_map(|v| &v.support).any(|s| !s.from_whole_name));
    if let (false, Some(name)) = (given_apart, profile.text(Field::Name)) {
        return name.to_owned();
    }
    let mut parts: Vec<&str> = part_fields.into_iter().filter_map(|f| profile.text(f)).collect();
    // A part known only as an initial in another script than the name ("Рябов Анатолий P.") is
    // left out of the heading rather than mix scripts in it; the profile still lists it.
    if let Some(first) = parts.first().map(|p| is_cyrillic(p)) {
        parts.retain(|part| !(is_initial(part) && is_cyrillic(part) != first));
    }
    if parts.is_empty() { profile.person.to_string() } else { parts.join(" ") }
}

fn is_cyrillic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

/// Whether an event kind is recorded for the person at all (a date, a detail or a true flag).
pub fn has_event(profile: &Profile, kind: EventKind) -> bool {
    profile.attributes.iter().any(|a| match a.field {
        Field::Event(k, EventPart::Occurred) if k == kind => matches!(a.consensus_value().value, Value::Flag { flag: true }),
        Field::Event(k, _) => k == kind,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::record;
    use expect_test::expect;

    fn sources() -> BTreeMap<SourceId, SourceInfo> {
        [("fsb-archive", "archive", "1992"), ("memorial", "book_of_memory", "2007"), ("pravda", "press", "1937"), ("izvestia", "press", "1938")]
            .iter()
            .map(|(id, kind, date)| {
                (SourceId::new(*id), SourceInfo { id: SourceId::new(*id), kind: (*kind).into(), date: Some(UncertainDate::parse_standard(date).unwrap()) })
            })
            .collect()
    }

    fn show(profile: &Profile) -> String {
        let mut out = vec![format!("{} «{}» records {:?}", profile.person, profile.label, profile.records.iter().map(RecordId::as_str).collect::<Vec<_>>())];
        for a in &profile.attributes {
            let values: Vec<String> = a.values.iter().map(|v| format!("{}({})", v.display, v.sources)).collect();
            out.push(format!(
                "{}: {} => {} by {:?}{} corroborated {}{}",
                a.field,
                values.join(" "),
                a.consensus_value().display,
                a.decision,
                if a.conflict { " CONFLICT" } else { "" },
                a.corroboration,
                if a.unparsed.is_empty() { String::new() } else { format!(" unparsed {:?}", a.unparsed.iter().map(|s| &s.raw).collect::<Vec<_>>()) }
            ));
        }
        for p in &profile.posts {
            out.push(format!("post {:?} {:?} {:?} {:?}..{:?} {:?}", p.role, p.unit, p.organisation, p.from.map(|d| d.to_string()), p.to.map(|d| d.to_string()), p.records));
        }
        out.join("\n")
    }

    #[test]
    fn consensus_conflicts_and_corroboration() {
        let records = [
            record("r1", "memorial", &[("surname", "Иванов"), ("source_record_id", "17"), ("nationality", "русский"), ("birth_date", "1901"), ("arrest", "1937-08-05"), ("execution.occurred", "true")]),
            record("r2", "pravda", &[("surname", "Иванов"), ("source_record_id", "4"), ("nationality", "украинец"), ("birth_date", "1901-03-05"), ("arrest", "1937-09")]),
            record("r3", "izvestia", &[("surname", "ИВАНОВ "), ("nationality", "украинец"), ("birth_date", "19O1")]),
            record("r4", "fsb-archive", &[("given_name", "Пётр"), ("arrest", "1937-08")]),
            record("r5", "memorial", &[("given_name", "Петр"), ("post.role", "начальник"), ("post.unit", "РО НКВД"), ("post.from", "1935")]),
            record("r6", "pravda", &[("post.role", "Начальник"), ("post.unit", "РО  НКВД"), ("post.from", "1935-04"), ("post.to", "1937")]),
        ];
        let profile = build_profile(PersonId::new("p1"), &records, &sources(), &ConsensusRule::default(), &NoConcepts);
        expect![[r#"
            p1 «Иванов Пётр» records ["r1", "r2", "r3", "r4", "r5", "r6"]
            surname: Иванов(3) => Иванов by Unanimous corroborated 3
            given_name: Пётр(2) => Пётр by Unanimous corroborated 2
            birth_date: 1901(1) 1901-03-05(1) => 1901 by By(Kind) corroborated 2 unparsed ["19O1"]
            nationality: русский(1) украинец(2) => русский by By(Kind) CONFLICT corroborated 1
            source_record_id: 17(1) 4(1) => 17 by By(Kind) corroborated 1
            arrest.date: 1937-08(1) 1937-08-05(1) 1937-09(1) => 1937-08 by By(Kind) CONFLICT corroborated 2
            execution.occurred: true(1) => true by Unanimous corroborated 1
            post Some("начальник") Some("РО НКВД") None Some("1935-04")..Some("1937") [RecordId("r5"), RecordId("r6")]"#]]
        .assert_eq(&show(&profile));
        assert!(has_event(&profile, EventKind::Execution));
        assert!(!has_event(&profile, EventKind::Trial));
    }

    /// A vocabulary in miniature: the occupation of a seaman in three languages.
    struct Sailors;

    impl Concepts for Sailors {
        fn concept(&self, field: Field, text: &str) -> Option<String> {
            (field == Field::Occupation && ["моряк", "seaman", "Seemann"].contains(&text)).then(|| "sailor".to_owned())
        }
    }

    /// "моряк" on one record and "seaman" on another say one thing: no conflict, and each
    /// corroborates the other; a value outside the concept still contradicts them.
    #[test]
    fn values_of_one_concept_agree() {
        let records = [
            record("r1", "memorial", &[("occupation", "моряк")]),
            record("r2", "pravda", &[("occupation", "seaman")]),
            record("r3", "izvestia", &[("occupation", "Seemann")]),
        ];
        let mut with_farmer = records.to_vec();
        with_farmer.push(record("r4", "izvestia", &[("occupation", "колхозник")]));
        let shown: Vec<String> = [(&records[..], &NoConcepts as &dyn Concepts), (&records[..], &Sailors), (&with_farmer[..], &Sailors)]
            .iter()
            .map(|(records, concepts)| show(&build_profile(PersonId::new("p"), records, &sources(), &ConsensusRule::default(), *concepts)).lines().nth(1).unwrap().to_owned())
            .collect();
        expect![[r#"
            occupation: Seemann(1) seaman(1) моряк(1) => моряк by By(Kind) CONFLICT corroborated 1
            occupation: Seemann(1) seaman(1) моряк(1) => моряк by By(Kind) corroborated 3
            occupation: Seemann(1) seaman(1) колхозник(1) моряк(1) => моряк by By(Kind) CONFLICT corroborated 3"#]].assert_eq(&shown.join("\n"));
    }

    /// A name matcher in miniature: one surname in three spellings.
    struct Yezhov;

    impl Concepts for Yezhov {
        fn concept(&self, _: Field, _: &str) -> Option<String> {
            None
        }

        fn same_name(&self, field: Field, a: &str, b: &str) -> bool {
            let spellings = ["Ежов", "Yezhov", "Jeschow"];
            field == Field::Surname && spellings.contains(&a) && spellings.contains(&b)
        }
    }

    /// "Ежов" on one record and "Yezhov" on another spell one surname: no conflict, and each
    /// corroborates the other; another surname still contradicts them, and the matcher is not
    /// asked about other fields.
    #[test]
    fn spellings_of_one_name_agree() {
        let records = [
            record("r1", "memorial", &[("surname", "Ежов"), ("occupation", "Ежов")]),
            record("r2", "pravda", &[("surname", "Yezhov"), ("occupation", "Yezhov")]),
            record("r3", "izvestia", &[("surname", "Jeschow")]),
        ];
        let mut with_ivanov = records.to_vec();
        with_ivanov.push(record("r4", "izvestia", &[("surname", "Иванов")]));
        let shown: Vec<String> = [(&records[..], &NoConcepts as &dyn Concepts), (&records[..], &Yezhov), (&with_ivanov[..], &Yezhov)]
            .iter()
            .flat_map(|(records, concepts)| show(&build_profile(PersonId::new("p"), records, &sources(), &ConsensusRule::default(), *concepts)).lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
            .collect();
        expect![[r#"
            surname: Jeschow(1) Yezhov(1) Ежов(1) => Ежов by By(Kind) CONFLICT corroborated 1
            occupation: Yezhov(1) Ежов(1) => Ежов by By(Kind) CONFLICT corroborated 1
            surname: Jeschow(1) Yezhov(1) Ежов(1) => Ежов by By(Kind) corroborated 3
            occupation: Yezhov(1) Ежов(1) => Ежов by By(Kind) CONFLICT corroborated 1
            surname: Jeschow(1) Yezhov(1) Ежов(1) Иванов(1) => Ежов by By(Kind) CONFLICT corroborated 3
            occupation: Yezhov(1) Ежов(1) => Ежов by By(Kind) CONFLICT corroborated 1"#]].assert_eq(&shown.join("\n"));
    }

    /// A name parser and matcher in miniature: Сергеев's names in two scripts, three whole names
    /// it reads (one it cannot), and initials that fit across the scripts.
    struct Sergeev;

    impl Concepts for Sergeev {
        fn concept(&self, _: Field, _: &str) -> Option<String> {
            None
        }

        fn same_name(&self, field: Field, a: &str, b: &str) -> bool {
            let spellings: &[&str] = match field {
                Field::Surname => &["Сергеев", "SERGEEW"],
                Field::GivenName => &["Геннадий", "Gennadij"],
                Field::Name => &["Сергеев Геннадий Григорьевич", "SERGEEW, Gennadij G."],
                _ => &[],
            };
            spellings.contains(&a) && spellings.contains(&b)
        }

        fn name_parts(&self, name: &str) -> Option<NameParts> {
            let part = |text: &str| (!text.is_empty()).then(|| text.to_owned());
            let (surname, given_name, patronymic) = match name {
                "SERGEEW, Gennadij G." => ("SERGEEW", "Gennadij", "G."),
                "Сергеев Петр" => ("Сергеев", "Петр", ""),
                "Сергеев Геннадий Григорьевич" => ("Сергеев", "Геннадий", "Григорьевич"),
                _ => return None,
            };
            Some(NameParts { surname: part(surname), given_name: part(given_name), patronymic: part(patronymic) })
        }

        fn initial_fits(&self, initial: &str, other: &str) -> bool {
            let letter = |text: &str| text.chars().next().map(|c| match c.to_lowercase().next() {
                Some('g') => 'г',
                Some(c) => c,
                None => c,
            });
            letter(initial) == letter(other)
        }
    }

    fn show_with(records: &[LinkedRecord], concepts: &dyn Concepts) -> String {
        show(&build_profile(PersonId::new("p"), records, &sources(), &ConsensusRule::default(), concepts))
    }

    /// A whole name from one list and the parts from another: read into its parts, the whole
    /// name supports the parts it spells in another script (the initial G. fits Григорьевич, and
    /// the full form stays the consensus), and it stays an attribute of its own, as the source
    /// wrote it. Without a parser the two only stand side by side, as they did.
    #[test]
    fn a_whole_name_supports_the_parts_it_spells() {
        let records = [
            record("r1", "memorial", &[("surname", "Сергеев"), ("given_name", "Геннадий"), ("patronymic", "Григорьевич")]),
            record("r2", "pravda", &[("name", "SERGEEW, Gennadij G.")]),
        ];
        expect![[r#"
            p «Сергеев Геннадий Григорьевич» records ["r1", "r2"]
            surname: Сергеев(1) => Сергеев by Unanimous corroborated 1
            given_name: Геннадий(1) => Геннадий by Unanimous corroborated 1
            patronymic: Григорьевич(1) => Григорьевич by Unanimous corroborated 1
            name: SERGEEW, Gennadij G.(1) => SERGEEW, Gennadij G. by Unanimous corroborated 1
            p «Сергеев Геннадий Григорьевич» records ["r1", "r2"]
            surname: SERGEEW(1) Сергеев(1) => Сергеев by By(Kind) corroborated 2
            given_name: Gennadij(1) Геннадий(1) => Геннадий by By(Kind) corroborated 2
            patronymic: G.(1) Григорьевич(1) => Григорьевич by FullForm corroborated 2
            name: SERGEEW, Gennadij G.(1) => SERGEEW, Gennadij G. by Unanimous corroborated 1"#]].assert_eq(&format!("{}\n{}", show_with(&records, &NoConcepts), show_with(&records, &Sergeev)));
        let profile = build_profile(PersonId::new("p"), &records, &sources(), &ConsensusRule::default(), &Sergeev);
        let read: Vec<(&str, bool)> = profile.attribute(Field::Surname).unwrap().values.iter().flat_map(|v| v.support.iter().map(|s| (s.raw.as_str(), s.from_whole_name))).collect();
        assert_eq!(read, [("SERGEEW, Gennadij G.", true), ("Сергеев", false)]);
    }

    /// A whole name whose given name is another contradicts the given name of the parts, and its
    /// surname still corroborates theirs; a record that gives a part itself is not read again
    /// from its own whole name.
    #[test]
    fn a_whole_name_with_another_given_name_conflicts() {
        let records = [
            record("r1", "memorial", &[("surname", "Сергеев"), ("given_name", "Геннадий")]),
            record("r2", "pravda", &[("name", "Сергеев Петр")]),
            record("r3", "izvestia", &[("name", "Сергеев Петр"), ("given_name", "Геннадий")]),
        ];
        expect![[r#"
            p «Сергеев Геннадий» records ["r1", "r2", "r3"]
            surname: Сергеев(3) => Сергеев by Unanimous corroborated 3
            given_name: Геннадий(2) Петр(1) => Геннадий by By(Kind) CONFLICT corroborated 2
            name: Сергеев Петр(2) => Сергеев Петр by Unanimous corroborated 2"#]].assert_eq(&show_with(&records, &Sergeev));
    }

    /// An initial fits the names it may begin, in any script, and contradicts those it cannot;
    /// it never becomes the consensus over a full form, not even from the most trusted source or
    /// the most sources; where only initials are given, one of them is the consensus. Without a
    /// transliteration an initial fits only the same letter.
    #[test]
    fn initials_fit_but_never_outrank_a_full_form() {
        let cases: [(&[(&str, &str, &str)], &dyn Concepts); 5] = [
            (&[("r1", "fsb-archive", "G."), ("r2", "pravda", "G."), ("r3", "izvestia", "G"), ("r4", "memorial", "Геннадий")], &Sergeev),
            (&[("r1", "fsb-archive", "П."), ("r2", "memorial", "Геннадий")], &Sergeev),
            (&[("r1", "fsb-archive", "G."), ("r2", "memorial", "Г.")], &Sergeev),
            (&[("r1", "fsb-archive", "G."), ("r2", "memorial", "Геннадий")], &NoConcepts),
            (&[("r1", "fsb-archive", "Г."), ("r2", "memorial", "Геннадий"), ("r3", "pravda", "Георгий")], &NoConcepts),
        ];
        let shown: Vec<String> = cases
            .iter()
            .map(|(given, concepts)| {
                let records: Vec<LinkedRecord> = given.iter().map(|(id, source, name)| record(id, source, &[("given_name", name)])).collect();
                show_with(&records, *concepts).lines().nth(1).unwrap().to_owned()
            })
            .collect();
        expect![[r#"
            given_name: G(1) G.(2) Геннадий(1) => Геннадий by FullForm corroborated 4
            given_name: Геннадий(1) П.(1) => Геннадий by FullForm CONFLICT corroborated 1
            given_name: G.(1) Г.(1) => G. by By(Kind) corroborated 2
            given_name: G.(1) Геннадий(1) => Геннадий by FullForm CONFLICT corroborated 1
            given_name: Г.(1) Геннадий(1) Георгий(1) => Геннадий by By(Kind) CONFLICT corroborated 2"#]].assert_eq(&shown.join("\n"));
    }

    /// The heading leaves out a part known only as an initial in another script (the list's
    /// G. beside Сергеев Геннадий); an initial in the name's own script stays.
    #[test]
    fn the_label_does_not_mix_scripts_for_an_initial() {
        let label = |records: &[LinkedRecord]| build_profile(PersonId::new("p"), records, &sources(), &ConsensusRule::default(), &Sergeev).label;
        let parts = record("r1", "memorial", &[("surname", "Сергеев"), ("given_name", "Геннадий")]);
        let latin_initial = record("r2", "pravda", &[("name", "SERGEEW, Gennadij G.")]);
        let cyrillic_initial = record("r3", "izvestia", &[("patronymic", "Г.")]);
        assert_eq!(label(&[parts.clone(), latin_initial]), "Сергеев Геннадий");
        assert_eq!(label(&[parts, cyrillic_initial]), "Сергеев Геннадий Г.");
    }

    /// A whole name that cannot be read (which of "Ли Ван" is the surname?) is not forced into
    /// parts: it stands as the whole name alone and contradicts no part. The label is the parts'
    /// consensus where some record gives them apart, else the whole name as a source wrote it.
    #[test]
    fn a_whole_name_that_cannot_be_read_leaves_the_parts_alone() {
        let records = [
            record("r1", "memorial", &[("surname", "Ван"), ("given_name", "Ли")]),
            record("r2", "pravda", &[("name", "Ли Ван")]),
        ];
        expect![[r#"
            p «Ван Ли» records ["r1", "r2"]
            surname: Ван(1) => Ван by Unanimous corroborated 1
            given_name: Ли(1) => Ли by Unanimous corroborated 1
            name: Ли Ван(1) => Ли Ван by Unanimous corroborated 1"#]].assert_eq(&show_with(&records, &Sergeev));
        let whole_names_only = [record("r1", "memorial", &[("name", "SERGEEW, Gennadij G.")]), record("r2", "pravda", &[("name", "Сергеев Геннадий Григорьевич")])];
        expect![[r#"
            p «SERGEEW, Gennadij G.» records ["r1", "r2"]
            surname: SERGEEW(1) Сергеев(1) => SERGEEW by By(Kind) corroborated 2
            given_name: Gennadij(1) Геннадий(1) => Gennadij by By(Kind) corroborated 2
            patronymic: G.(1) Григорьевич(1) => Григорьевич by FullForm corroborated 2
            name: SERGEEW, Gennadij G.(1) Сергеев Геннадий Григорьевич(1) => SERGEEW, Gennadij G. by By(Kind) corroborated 2"#]].assert_eq(&show_with(&whole_names_only, &Sergeev));
    }

    #[test]
    fn the_rule_is_readable_and_changeable() {
        let records = [
            record("r1", "memorial", &[("nationality", "русский")]),
            record("r2", "pravda", &[("nationality", "украинец")]),
            record("r3", "izvestia", &[("nationality", "украинец")]),
        ];
        let majority_first = ConsensusRule { order: vec![Step::Majority, Step::Kind], ..ConsensusRule::default() };
        let by_majority = build_profile(PersonId::new("p"), &records, &sources(), &majority_first, &NoConcepts);
        assert_eq!(by_majority.text(Field::Nationality), Some("украинец"));
        assert_eq!(by_majority.attribute(Field::Nationality).unwrap().decision, Decision::By(Step::Majority));
        let one_source_twice = [
            record("r1", "memorial", &[("nationality", "русский")]),
            record("r2", "memorial", &[("nationality", "украинец")]),
            record("r3", "memorial", &[("nationality", "Украинец")]),
        ];
        let twice = build_profile(PersonId::new("p"), &one_source_twice, &sources(), &ConsensusRule::default(), &NoConcepts);
        assert_eq!((twice.text(Field::Nationality), twice.attribute(Field::Nationality).unwrap().decision), (Some("украинец"), Decision::By(Step::Majority)));
        let earliest_only = ConsensusRule { order: vec![Step::Earliest], ..ConsensusRule::default() };
        assert_eq!(build_profile(PersonId::new("p"), &records, &sources(), &earliest_only, &NoConcepts).text(Field::Nationality), Some("украинец"));
        expect!["prefer sources of kind archive > official > book_of_memory > testimony > samizdat > emigre_press > press > other; then the value most sources give (then most records); then the most precise date; then the value of the earliest source; last, the first value in alphabetical order"]
            .assert_eq(&ConsensusRule::default().describe());
    }
}
