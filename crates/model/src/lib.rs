//! The vocabulary every stage of kartoteka shares: ids, uncertain dates, records and assertions.
//!
//! This crate does no IO and reads no clock; it only defines types and the pure parsing of values
//! whose shape is part of a contract (the standard record schema's dates, for example).

pub mod assertion;
pub mod date;
pub mod date_parse;
pub mod diagnostic;
pub mod id;
pub mod record;
pub mod stable_hash;

pub use assertion::{
    Assertion, Cell, Event, EventKind, EventPart, Field, IngestedRecord, Post, PostPart, RecordLocator, Value, ValueKind,
};
pub use date::{Calendar, DateError, Day, Precision, UncertainDate};
pub use date_parse::{DateOptions, parse_date};
pub use diagnostic::{Diagnostic, Severity};
pub use id::{PersonId, RecordId, SourceId};
pub use record::{Sex, StandardRecord};
pub use stable_hash::{Fnv1a, fnv1a};
