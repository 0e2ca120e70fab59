//! The standard record schema: the common shape of a record for linkage, simulation and exports.

use crate::{RecordId, SourceId, UncertainDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Sex as a source records it. Absent when the source says nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The code used in the standard schema and exports (`m` / `f`).
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "m",
            Sex::Female => "f",
        }
    }

    /// Parses the standard schema's codes, case-insensitively, with the usual Russian ones.
    pub fn from_code(s: &str) -> Option<Sex> {
        match s.trim().to_lowercase().as_str() {
            "m" | "male" | "м" | "муж" | "мужской" => Some(Sex::Male),
            "f" | "female" | "ж" | "жен" | "женский" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// One record in the standard schema (see `shared/DESIGN.md`). Empty fields are `None`/empty;
/// columns the schema does not name are kept in `other`, in column order by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StandardRecord {
    pub id: RecordId,
    pub source: Option<SourceId>,
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub patronymic: Option<String>,
    /// The whole name in one field, when a source does not split it.
    pub name: Option<String>,
    pub sex: Option<Sex>,
    pub birth_date: Option<UncertainDate>,
    pub birth_place: Option<String>,
    pub nationality: Option<String>,
    pub occupation: Option<String>,
    pub other: BTreeMap<String, String>,
}

impl Default for RecordId {
    fn default() -> Self {
        RecordId::new(String::new())
    }
}
