//! Records and profiles from claims written as text, for tests over profiles: this crate's test
//! modules and those of the crates that render profiles (report, through the feature `testing`)
//! build their fixtures with one builder instead of a copy each. Test support only: a field name
//! that is no field is a mistake in the test and panics.

use crate::person::{ConsensusRule, LinkedRecord, NoConcepts, Profile, build_profile};
use model::{Assertion, Field, PersonId, RecordId, SourceId, UncertainDate, Value, ValueKind};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The assertion a cell `raw` of `field` (a field's name; `arrest` is `arrest.date`) stands for:
/// a date in the standard form (one that is not is unparsed, as ingest would leave it), a flag
/// that is `true` or not, anything else as text.
pub fn claim(field: &str, raw: &str) -> Assertion {
    let field: Field = field.parse().unwrap_or_else(|_| panic!("{field:?} is no field"));
    let value = match field.value_kind() {
        ValueKind::Date => match UncertainDate::parse_standard(raw) {
            Ok(date) => Value::Date { date },
            Err(e) => Value::Unparsed { reason: e.to_string() },
        },
        ValueKind::Flag => Value::Flag { flag: raw == "true" },
        _ => Value::Text { text: raw.to_owned() },
    };
    Assertion { field, column: Arc::from(field.name()), raw: raw.to_owned(), value }
}

/// Record `id` of `source`, with an assertion for each `(field, raw)` claim.
pub fn record(id: &str, source: &str, claims: &[(&str, &str)]) -> LinkedRecord {
    LinkedRecord { record: RecordId::new(id), source: SourceId::new(source), assertions: claims.iter().map(|(f, raw)| claim(f, raw)).collect() }
}

/// The profile of person `id` from `records`, by the default consensus rule, with no sources'
/// details and no concepts.
pub fn profile_of(id: &str, records: &[LinkedRecord]) -> Profile {
    build_profile(PersonId::new(id), records, &BTreeMap::new(), &ConsensusRule::default(), &NoConcepts)
}

/// The profile of person `id` from one record, also `id`, of source `s` with these claims.
pub fn profile(id: &str, claims: &[(&str, &str)]) -> Profile {
    profile_of(id, &[record(id, "s", claims)])
}
