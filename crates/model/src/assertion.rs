//! Assertions: the claims one record makes, each with its raw text beside the parsed value.
//!
//! A manifest maps a source's columns to [`Field`]s; every non-empty mapped cell becomes one
//! [`Assertion`]. The string forms of fields (`surname`, `arrest.date`, `post.role`...) are the
//! ones written in `kartoteka.toml` and stored in the register, so they are a contract.

use crate::{Sex, SourceId, UncertainDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// An event in a person's life that lists record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Arrest,
    Trial,
    Sentence,
    Execution,
    Death,
    Burial,
    Defection,
    Rehabilitation,
    Release,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        EventKind::Arrest,
        EventKind::Trial,
        EventKind::Sentence,
        EventKind::Execution,
        EventKind::Death,
        EventKind::Burial,
        EventKind::Defection,
        EventKind::Rehabilitation,
        EventKind::Release,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Arrest => "arrest",
            EventKind::Trial => "trial",
            EventKind::Sentence => "sentence",
            EventKind::Execution => "execution",
            EventKind::Death => "death",
            EventKind::Burial => "burial",
            EventKind::Defection => "defection",
            EventKind::Rehabilitation => "rehabilitation",
            EventKind::Release => "release",
        }
    }
}

impl FromStr for EventKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// Which part of an event a column gives. A source often spreads one event over several
/// columns (the trial's date in one, the sentencing body in another).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventPart {
    /// When it happened: an uncertain date.
    Date,
    /// Where it happened: free text.
    Place,
    /// Who did it (the trial organ, the arresting agency): free text.
    Agency,
    /// What it was, after the source's vocabulary: a sentence such as `death`, a statute.
    Detail,
    /// Whether it happened at all (a true/false column): a flag.
    Occurred,
}

impl EventPart {
    pub const ALL: [EventPart; 5] =
        [EventPart::Date, EventPart::Place, EventPart::Agency, EventPart::Detail, EventPart::Occurred];

    pub fn as_str(self) -> &'static str {
        match self {
            EventPart::Date => "date",
            EventPart::Place => "place",
            EventPart::Agency => "agency",
            EventPart::Detail => "detail",
            EventPart::Occurred => "occurred",
        }
    }
}

/// Which part of a post held (a position in an organisation) a column gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostPart {
    Organisation,
    Unit,
    /// The role or rank held.
    Role,
    /// When the post was taken up: an uncertain date.
    From,
    /// When the post was left: an uncertain date.
    To,
}

impl PostPart {
    pub const ALL: [PostPart; 5] =
        [PostPart::Organisation, PostPart::Unit, PostPart::Role, PostPart::From, PostPart::To];

    pub fn as_str(self) -> &'static str {
        match self {
            PostPart::Organisation => "organisation",
            PostPart::Unit => "unit",
            PostPart::Role => "role",
            PostPart::From => "from",
            PostPart::To => "to",
        }
    }
}

/// What a column says about a person. String forms: the identity fields of the standard schema
/// (`surname`, `given_name`, `patronymic`, `name`, `sex`, `birth_date`, `birth_place`,
/// `nationality`, `occupation`), then `education`, `party`, `social_position`, `residence`,
/// `age`, `source_record_id` (the record's id in its source), `note` (free text such as a
/// biography), `other` (kept under its column name), events as `KIND.PART` (`arrest.date`;
/// a bare `arrest` means `arrest.date`) and posts as `post.PART`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Surname,
    GivenName,
    Patronymic,
    Name,
    Sex,
    BirthDate,
    BirthPlace,
    Nationality,
    Occupation,
    Education,
    Party,
    SocialPosition,
    Residence,
    Age,
    SourceRecordId,
    Note,
    Other,
    Event(EventKind, EventPart),
    Post(PostPart),
}

/// The simple (non-event, non-post) fields and their string forms.
const SIMPLE_FIELDS: [(Field, &str); 17] = [
    (Field::Surname, "surname"),
    (Field::GivenName, "given_name"),
    (Field::Patronymic, "patronymic"),
    (Field::Name, "name"),
    (Field::Sex, "sex"),
    (Field::BirthDate, "birth_date"),
    (Field::BirthPlace, "birth_place"),
    (Field::Nationality, "nationality"),
    (Field::Occupation, "occupation"),
    (Field::Education, "education"),
    (Field::Party, "party"),
    (Field::SocialPosition, "social_position"),
    (Field::Residence, "residence"),
    (Field::Age, "age"),
    (Field::SourceRecordId, "source_record_id"),
    (Field::Note, "note"),
    (Field::Other, "other"),
];

impl Field {
    /// Every field, in a stable order (simple fields, then events, then posts).
    pub fn all() -> Vec<Field> {
        let mut all: Vec<Field> = SIMPLE_FIELDS.iter().map(|(f, _)| *f).collect();
        for kind in EventKind::ALL {
            all.extend(EventPart::ALL.into_iter().map(|part| Field::Event(kind, part)));
        }
        all.extend(PostPart::ALL.into_iter().map(Field::Post));
        all
    }

    /// The canonical string form (`surname`, `arrest.date`, `post.role`).
    pub fn name(self) -> String {
        match self {
            Field::Event(kind, part) => format!("{}.{}", kind.as_str(), part.as_str()),
            Field::Post(part) => format!("post.{}", part.as_str()),
            simple => {
                SIMPLE_FIELDS.iter().find(|(f, _)| *f == simple).map(|(_, s)| (*s).to_owned()).unwrap_or_default()
            }
        }
    }

    /// The kind of value a cell of this field parses into.
    pub fn value_kind(self) -> ValueKind {
        match self {
            Field::Sex => ValueKind::Sex,
            Field::BirthDate | Field::Event(_, EventPart::Date) | Field::Post(PostPart::From | PostPart::To) => {
                ValueKind::Date
            }
            Field::Age => ValueKind::Number,
            Field::Event(_, EventPart::Occurred) => ValueKind::Flag,
            _ => ValueKind::Text,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Field {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((field, _)) = SIMPLE_FIELDS.iter().find(|(_, name)| *name == s) {
            return Ok(*field);
        }
        let unknown = || UnknownName(s.to_owned());
        let (head, part) = match s.split_once('.') {
            Some((head, part)) => (head, Some(part)),
            None => (s, None),
        };
        if head == "post" {
            let part = part.ok_or_else(unknown)?;
            return PostPart::ALL.into_iter().find(|p| p.as_str() == part).map(Field::Post).ok_or_else(unknown);
        }
        let kind: EventKind = head.parse().map_err(|_| unknown())?;
        let part = match part {
            None => EventPart::Date,
            Some(part) => EventPart::ALL.into_iter().find(|p| p.as_str() == part).ok_or_else(unknown)?,
        };
        Ok(Field::Event(kind, part))
    }
}

impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A name that is not one of a closed set (a field, an event kind...).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownName(pub String);

/// The kind of value a field holds; used to say what was expected when a cell does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    Text,
    Sex,
    Date,
    Number,
    Flag,
}

impl ValueKind {
    /// How a diagnostic names what was expected: "expected a date".
    pub fn expected(self) -> &'static str {
        match self {
            ValueKind::Text => "text",
            ValueKind::Sex => "a sex (m/f)",
            ValueKind::Date => "a date",
            ValueKind::Number => "a whole number",
            ValueKind::Flag => "true or false",
        }
    }
}

/// One event as a single column states it; parts the column does not give are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub date: Option<UncertainDate>,
    pub place: Option<String>,
    pub agency: Option<String>,
    /// The normalised detail after the source's vocabulary, e.g. the sentence `death` for `ВМН`.
    pub detail: Option<String>,
}

/// One post held as a single column states it; parts the column does not give are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub organisation: Option<String>,
    pub unit: Option<String>,
    pub role: Option<String>,
    pub from: Option<UncertainDate>,
    pub to: Option<UncertainDate>,
}

/// The parsed value of an assertion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Value {
    /// Free text, after the source's vocabulary (trimmed).
    Text {
        text: String,
    },
    Sex {
        sex: Sex,
    },
    Date {
        date: UncertainDate,
    },
    Number {
        number: i64,
    },
    /// A yes/no column, such as Memorial's "execution (true/false)".
    Flag {
        flag: bool,
    },
    Event {
        event: Event,
    },
    Post {
        post: Post,
    },
    /// The cell did not parse as the field's kind; the raw text stays on the assertion and a
    /// diagnostic says why.
    Unparsed {
        reason: String,
    },
}

impl Value {
    pub fn is_unparsed(&self) -> bool {
        matches!(self, Value::Unparsed { .. })
    }

    /// The date in this value, if it holds one (a date, an event's date, a post's start).
    pub fn date(&self) -> Option<&UncertainDate> {
        match self {
            Value::Date { date } => Some(date),
            Value::Event { event } => event.date.as_ref(),
            Value::Post { post } => post.from.as_ref().or(post.to.as_ref()),
            _ => None,
        }
    }
}

/// One claim of one record: "this source, at this row, says this person-record has this value".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assertion {
    pub field: Field,
    /// The source column the value came from (for `Field::Other`, the name it is kept under).
    pub column: Arc<str>,
    /// The cell exactly as the source gave it (after decoding to UTF-8).
    pub raw: String,
    pub value: Value,
}

/// Where a record is in its source: enough to find the row again by hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLocator {
    pub source: SourceId,
    /// The file's path relative to the project folder, with `/` separators.
    pub file: Arc<str>,
    /// The SHA-256 of the file's bytes, lowercase hex: a changed file is a new version.
    pub file_sha256: Arc<str>,
    /// The worksheet, for workbooks.
    pub sheet: Option<Arc<str>>,
    /// The 1-based line (CSV/TSV, JSON Lines) or row (XLSX) number a spreadsheet user would see.
    pub row: u64,
    /// The installment of a source published in parts (as named in the manifest).
    pub installment: Option<Arc<str>>,
    /// The page, when the manifest names a column that gives it.
    pub page: Option<String>,
}

/// One raw cell of a record, in file order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub column: Arc<str>,
    pub raw: String,
}

/// One entry of a source as read: where it is, its raw cells, and the claims it makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestedRecord {
    pub locator: RecordLocator,
    pub cells: Vec<Cell>,
    pub assertions: Vec<Assertion>,
}

impl IngestedRecord {
    /// Whether some mapped cell failed to parse (the strict policy rejects such a record).
    pub fn is_bad(&self) -> bool {
        self.assertions.iter().any(|a| a.value.is_unparsed())
    }

    /// The raw text of a column, if the record has it.
    pub fn cell(&self, column: &str) -> Option<&str> {
        self.cells.iter().find(|c| &*c.column == column).map(|c| c.raw.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_name_parses_back() {
        for field in Field::all() {
            assert_eq!(field.name().parse::<Field>(), Ok(field), "{field}");
        }
    }

    #[test]
    fn bare_event_means_its_date_and_typos_are_named() {
        assert_eq!("arrest".parse(), Ok(Field::Event(EventKind::Arrest, EventPart::Date)));
        assert_eq!("sentence.detail".parse(), Ok(Field::Event(EventKind::Sentence, EventPart::Detail)));
        assert_eq!("post.role".parse(), Ok(Field::Post(PostPart::Role)));
        assert_eq!("arestt".parse::<Field>(), Err(UnknownName("arestt".into())));
        assert_eq!("post".parse::<Field>(), Err(UnknownName("post".into())));
        assert_eq!("arrest.when".parse::<Field>(), Err(UnknownName("arrest.when".into())));
    }

    /// The register stores values as this JSON; changing it needs a migration.
    #[test]
    fn values_serialize_to_a_stable_json_form() {
        let arrest = UncertainDate::month(1937, 11).unwrap();
        let values = [
            Value::Event {
                event: Event { kind: EventKind::Arrest, date: Some(arrest), place: None, agency: None, detail: None },
            },
            Value::Sex { sex: Sex::Female },
            Value::Unparsed { reason: "found \"весна 193?\"".into() },
        ];
        let json: Vec<String> = values.iter().map(|v| serde_json::to_string(v).unwrap()).collect();
        expect_test::expect![[r#"
            [
                "{\"type\":\"event\",\"event\":{\"kind\":\"arrest\",\"date\":{\"earliest\":-11749,\"latest\":-11720,\"precision\":\"Month\",\"calendar\":\"Gregorian\",\"approximate\":false},\"place\":null,\"agency\":null,\"detail\":null}}",
                "{\"type\":\"sex\",\"sex\":\"Female\"}",
                "{\"type\":\"unparsed\",\"reason\":\"found \\\"весна 193?\\\"\"}",
            ]
        "#]]
        .assert_debug_eq(&json);
        for (value, text) in values.iter().zip(&json) {
            assert_eq!(&serde_json::from_str::<Value>(text).unwrap(), value);
        }
        assert_eq!(serde_json::to_string(&Field::Post(PostPart::Role)).unwrap(), "\"post.role\"");
    }

    #[test]
    fn value_kinds_follow_the_field() {
        assert_eq!(Field::BirthDate.value_kind(), ValueKind::Date);
        assert_eq!(Field::Post(PostPart::To).value_kind(), ValueKind::Date);
        assert_eq!("execution.occurred".parse::<Field>().unwrap().value_kind(), ValueKind::Flag);
        assert_eq!(Field::Age.value_kind(), ValueKind::Number);
        assert_eq!(Field::Surname.value_kind(), ValueKind::Text);
    }
}
