//! The web app's reads of the register: records, assertions, persons and sources as the pages
//! and the API show them, with what a viewer may not see already removed.

use crate::WebError;
use crate::sensitivity::Sensitivity;
use model::{Field, Value};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A record with its locator and raw cells.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub record_id: i64,
    pub record_key: String,
    pub source: String,
    pub path: String,
    pub version: i64,
    pub sheet: Option<String>,
    pub row: i64,
    pub installment: Option<String>,
    pub page: Option<String>,
    /// A later version of its file exists: the record is kept but no longer current.
    pub superseded: bool,
    pub person_id: Option<String>,
    pub cells: Vec<Cell>,
    pub assertions: Vec<Assertion>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Cell {
    pub column: String,
    pub raw: String,
}

/// One claim of a record.
#[derive(Clone, Debug, Serialize)]
pub struct Assertion {
    pub field: String,
    pub event: Option<String>,
    pub column: String,
    pub raw: String,
    pub value: Option<String>,
    pub date_earliest: Option<String>,
    pub date_latest: Option<String>,
    pub date_precision: Option<String>,
    /// The typed columns the parsed value is read back from (`stored`), not shown.
    #[serde(skip)]
    pub value_type: String,
    #[serde(skip)]
    pub date_approximate: bool,
}

impl Assertion {
    /// The value as the build reads it back for the profiles; `None` for a field name this build
    /// does not know (a newer register).
    pub fn stored(&self) -> Option<(Field, Value)> {
        let field: Field = self.field.parse().ok()?;
        let stored = store::StoredValue {
            value_type: &self.value_type,
            value_text: self.value.as_deref(),
            date_earliest: self.date_earliest.as_deref(),
            date_latest: self.date_latest.as_deref(),
            date_precision: self.date_precision.as_deref(),
            date_approximate: self.date_approximate,
        };
        Some((field, stored.value(field)))
    }
}

/// The viewer's view: hidden sources are not found at all, hidden columns are dropped.
pub fn record(conn: &Connection, record_id: i64, sensitivity: &Sensitivity, sees_sensitive: bool) -> Result<Option<Record>, WebError> {
    let row = conn
        .query_row(
            "SELECT r.record_key, f.source_id, f.path, f.version, r.sheet, r.row, r.installment, r.page, r.cells_json,
                    NOT EXISTS (SELECT 1 FROM current_files c WHERE c.file_id = r.file_id), p.person_id
             FROM records r JOIN source_files f USING (file_id) LEFT JOIN person_records p ON p.record_key = r.record_key
             WHERE r.record_id = ?1",
            [record_id],
            |r| {
                Ok(Record {
                    record_id,
                    record_key: r.get(0)?,
                    source: r.get(1)?,
                    path: r.get(2)?,
                    version: r.get(3)?,
                    sheet: r.get(4)?,
                    row: r.get(5)?,
                    installment: r.get(6)?,
                    page: r.get(7)?,
                    cells: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
                    superseded: r.get(9)?,
                    person_id: r.get(10)?,
                    assertions: Vec::new(),
                })
            },
        )
        .optional()?;
    let Some(mut record) = row else { return Ok(None) };
    if !sees_sensitive && sensitivity.source(&record.source) {
        return Ok(None);
    }
    if record.superseded {
        // The person assignment belongs to the current version of the row.
        record.person_id = None;
    }
    let mut stmt = conn.prepare_cached(
        "SELECT field, event_kind, column_name, raw, value_text, date_earliest, date_latest, date_precision, value_type, date_approximate
         FROM assertions WHERE record_id = ?1 ORDER BY ordinal",
    )?;
    record.assertions = stmt
        .query_map([record_id], |r| {
            Ok(Assertion {
                field: r.get(0)?,
                event: r.get(1)?,
                column: r.get(2)?,
                raw: r.get(3)?,
                value: r.get(4)?,
                date_earliest: r.get(5)?,
                date_latest: r.get(6)?,
                date_precision: r.get(7)?,
                value_type: r.get(8)?,
                date_approximate: r.get::<_, Option<bool>>(9)?.unwrap_or(false),
            })
        })?
        .collect::<Result<_, _>>()?;
    if !sees_sensitive {
        let source = record.source.clone();
        record.cells.retain(|c| !sensitivity.column(&source, &c.column));
        record.assertions.retain(|a| !sensitivity.column(&source, &a.column) && !sensitivity.field(&source, &a.field));
    }
    Ok(Some(record))
}

/// The current record with this key.
pub fn record_id_of(conn: &Connection, record_key: &str) -> Result<Option<i64>, WebError> {
    Ok(conn
        .query_row(
            "SELECT r.record_id FROM records r JOIN current_files USING (file_id) WHERE r.record_key = ?1",
            [record_key],
            |r| r.get(0),
        )
        .optional()?)
}

/// The person a record key belongs to in the last linkage run.
pub fn person_of(conn: &Connection, record_key: &str) -> Result<Option<String>, WebError> {
    Ok(conn.prepare_cached("SELECT person_id FROM person_records WHERE record_key = ?1")?.query_row([record_key], |r| r.get(0)).optional()?)
}

/// The current records of a person, by record key.
pub fn person_records(conn: &Connection, person_id: &str) -> Result<Vec<i64>, WebError> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.record_id FROM person_records p JOIN records r ON r.record_key = p.record_key
         JOIN current_files USING (file_id) WHERE p.person_id = ?1 ORDER BY p.record_key",
    )?;
    Ok(stmt.query_map([person_id], |r| r.get(0))?.collect::<Result<_, _>>()?)
}

/// A person: its records (those the user may see) with their assertions.
#[derive(Clone, Debug, Serialize)]
pub struct Person {
    pub person_id: String,
    pub records: Vec<Record>,
}

pub fn person(conn: &Connection, person_id: &str, sensitivity: &Sensitivity, sees_sensitive: bool) -> Result<Option<Person>, WebError> {
    let mut records = Vec::new();
    for id in person_records(conn, person_id)? {
        records.extend(record(conn, id, sensitivity, sees_sensitive)?);
    }
    Ok((!records.is_empty()).then(|| Person { person_id: person_id.to_owned(), records }))
}

/// The best name to show for a record: its name parts, or its whole-name field.
pub fn display_name(record: &Record) -> String {
    let part = |field: &str| record.assertions.iter().find(|a| a.field == field).map(|a| a.value.clone().unwrap_or_else(|| a.raw.clone()));
    let parts: Vec<String> = ["surname", "given_name", "patronymic"].iter().filter_map(|f| part(f)).collect();
    if parts.is_empty() { part("name").unwrap_or_else(|| record.record_key.clone()) } else { parts.join(" ") }
}

/// A source with its file versions and record count.
#[derive(Clone, Debug, Serialize)]
pub struct Source {
    pub source_id: String,
    pub title: String,
    pub kind: String,
    pub records: i64,
    pub files: Vec<File>,
    /// The manifest entry (notes, installments, mapping), as JSON.
    pub manifest: serde_json::Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct File {
    pub path: String,
    pub version: i64,
    pub sha256: String,
    pub ingested_at: String,
    pub current: bool,
}

pub fn sources(conn: &Connection, sensitivity: &Sensitivity, sees_sensitive: bool) -> Result<Vec<Source>, WebError> {
    let mut stmt = conn.prepare("SELECT source_id, title, kind, manifest_json FROM sources ORDER BY source_id")?;
    let heads: Vec<(String, String, String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (source_id, title, kind, manifest_json) in heads {
        if !sees_sensitive && sensitivity.source(&source_id) {
            continue;
        }
        let records = conn.query_row(
            "SELECT count(*) FROM records JOIN current_files f USING (file_id) WHERE f.source_id = ?1",
            [&source_id],
            |r| r.get(0),
        )?;
        let mut files = conn.prepare_cached(
            "SELECT path, version, sha256, ingested_at, file_id IN (SELECT file_id FROM current_files)
             FROM source_files WHERE source_id = ?1 ORDER BY path, version",
        )?;
        let files = files
            .query_map([&source_id], |r| {
                Ok(File { path: r.get(0)?, version: r.get(1)?, sha256: r.get(2)?, ingested_at: r.get(3)?, current: r.get(4)? })
            })?
            .collect::<Result<_, _>>()?;
        let manifest = serde_json::from_str(&manifest_json).unwrap_or(serde_json::Value::Null);
        out.push(Source { source_id, title, kind, records, files, manifest });
    }
    Ok(out)
}

/// A page of a source's current records: (record id, row, display name).
pub fn source_records(conn: &Connection, source_id: &str, offset: i64, limit: i64) -> Result<Vec<(i64, i64, String)>, WebError> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.record_id, r.row, coalesce(s.display, r.record_key) FROM records r JOIN current_files f USING (file_id)
         LEFT JOIN search_records s USING (record_id) WHERE f.source_id = ?1 ORDER BY f.path, r.sheet, r.row LIMIT ?2 OFFSET ?3",
    )?;
    Ok(stmt.query_map(params![source_id, limit, offset], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?)
}
