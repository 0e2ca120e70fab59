//! Writing a source into the register: one transaction per source, under a bad-row policy.
//!
//! A file version is new when its bytes or its source's manifest entry changed; identical bytes
//! under the same manifest entry are a no-op. The whole source is written in one transaction, so
//! a kill at any point leaves the register as it was before the ingest began.

use crate::{Register, StoreError};
use model::{Assertion, Cell, Diagnostic, Field, IngestedRecord, Severity, SourceId, Value};
use rusqlite::{Connection, Transaction, params};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What to do with a bad row: one whose mapped cells did not all parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    /// Any bad row aborts the ingest of its source; nothing of the source is written.
    #[default]
    Strict,
    /// Bad rows go to the `rejects` table with their reason; the rest is stored.
    Lenient,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Strict => "strict",
            Policy::Lenient => "lenient",
        }
    }
}

/// A source as the manifest declares it.
pub struct SourceEntry<'a> {
    pub id: &'a SourceId,
    pub title: &'a str,
    /// The manifest's kind of source (`official`, `emigre_press`...).
    pub kind: &'a str,
    /// The source's whole manifest entry as JSON: a change to it (a new column mapping, say)
    /// makes every file of the source a new version on the next ingest.
    pub manifest_json: &'a str,
}

/// One file of a source as read: its identity and what was read from it.
pub struct FileVersion<'a> {
    /// Relative to the project folder, with `/` separators.
    pub path: &'a str,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: &'a str,
    pub bytes: u64,
    pub records: &'a [IngestedRecord],
    pub diagnostics: &'a [Diagnostic],
}

/// What an ingest did with one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileOutcome {
    /// Same bytes and same manifest entry as the current version: nothing written.
    Unchanged { path: String, version: u32 },
    /// Written as a new version.
    Stored { path: String, version: u32, records: usize, rejects: usize, diagnostics: usize },
}

/// The problems of one bad row (or of a whole file, when `row` is `None`), in file order.
struct BadRow<'a> {
    record: Option<&'a IngestedRecord>,
    problems: Vec<Diagnostic>,
}

impl SourceEntry<'_> {
    fn manifest_sha256(&self) -> String {
        hex::encode(Sha256::digest(self.manifest_json.as_bytes()))
    }
}

impl Register {
    /// Whether the current version of `path` in `source` has these bytes and was read under
    /// this manifest entry, so that ingesting it again would be a no-op (a caller can then
    /// skip reading the file).
    pub fn is_current(&self, source: &SourceEntry, path: &str, sha256: &str) -> Result<bool, StoreError> {
        Ok(current_version(&self.conn, source.id, path)?
            .is_some_and(|(_, sha, manifest, withdrawn)| !withdrawn && sha == sha256 && manifest == source.manifest_sha256()))
    }

    /// Withdraws every current file that `declared` (source id, path) does not name: the
    /// manifest no longer declares it (renamed, replaced by another file, its source removed),
    /// so its records stop being current. Nothing is deleted; declaring the path again ingests
    /// it as a new version. Returns the withdrawn (source id, path), in one transaction.
    pub fn withdraw_undeclared(&mut self, declared: &BTreeSet<(String, String)>, withdrawn_at: &str) -> Result<Vec<(String, String)>, StoreError> {
        let tx = self.conn.transaction()?;
        let current: Vec<(i64, (String, String))> = tx
            .prepare("SELECT file_id, source_id, path FROM current_files ORDER BY source_id, path")?
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
            .collect::<Result<_, _>>()?;
        let mut withdrawn = Vec::new();
        for (file_id, file) in current.into_iter().filter(|(_, file)| !declared.contains(file)) {
            tx.execute("INSERT INTO file_withdrawals (file_id, withdrawn_at) VALUES (?1, ?2)", params![file_id, withdrawn_at])?;
            withdrawn.push(file);
        }
        tx.commit()?;
        Ok(withdrawn)
    }

    /// Writes the files of one source that are new or changed, in one transaction.
    ///
    /// `ingested_at` is stored as given (the store reads no clock). `progress` is called with
    /// the number of records written so far in this call, after each record.
    pub fn ingest_source(
        &mut self,
        source: &SourceEntry,
        files: &[FileVersion],
        policy: Policy,
        ingested_at: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Vec<FileOutcome>, StoreError> {
        let manifest_sha256 = source.manifest_sha256();
        let tx = self.conn.transaction()?;
        let mut changed = Vec::new();
        let mut outcomes = Vec::new();
        for file in files {
            match current_version(&tx, source.id, file.path)? {
                Some((version, sha, manifest, false)) if sha == file.sha256 && manifest == manifest_sha256 => {
                    outcomes.push(FileOutcome::Unchanged { path: file.path.to_owned(), version });
                }
                current => changed.push((file, current.map_or(1, |(version, ..)| version + 1))),
            }
        }
        let bad: Vec<BadRows> =
            changed.iter().map(|(file, _)| bad_rows(file)).collect();
        if policy == Policy::Strict {
            let bad_rows = bad.iter().map(BTreeMap::len).sum();
            if let Some(first) = bad.iter().flat_map(|rows| rows.values()).next() {
                return Err(StoreError::BadRows {
                    source_id: source.id.to_string(),
                    bad_rows,
                    first: Box::new(first.problems[0].clone()),
                });
            }
        }
        if !changed.is_empty() {
            tx.execute(
                "INSERT INTO sources (source_id, title, kind, manifest_json) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source_id) DO UPDATE SET title = excluded.title, kind = excluded.kind,
                     manifest_json = excluded.manifest_json",
                params![source.id.as_str(), source.title, source.kind, source.manifest_json],
            )?;
        }
        let mut written = 0u64;
        for ((file, version), bad) in changed.into_iter().zip(&bad) {
            tx.execute(
                "INSERT INTO source_files (source_id, path, version, sha256, bytes, manifest_sha256, policy, ingested_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    source.id.as_str(),
                    file.path,
                    version,
                    file.sha256,
                    file.bytes as i64,
                    manifest_sha256,
                    policy.as_str(),
                    ingested_at
                ],
            )?;
            let file_id = tx.last_insert_rowid();
            let mut records = 0;
            for record in file.records {
                if !bad.contains_key(&Some(row_key(record))) {
                    insert_record(&tx, file_id, record)?;
                    records += 1;
                    written += 1;
                    progress(written);
                }
            }
            for row in bad.values() {
                insert_reject(&tx, file_id, row)?;
            }
            for diagnostic in file.diagnostics {
                insert_diagnostic(&tx, file_id, diagnostic)?;
            }
            outcomes.push(FileOutcome::Stored {
                path: file.path.to_owned(),
                version,
                records,
                rejects: bad.len(),
                diagnostics: file.diagnostics.len(),
            });
        }
        tx.commit()?;
        Ok(outcomes)
    }
}

/// The latest version of a file of a source: (version, sha256, manifest_sha256, withdrawn).
fn current_version(conn: &Connection, source: &SourceId, path: &str) -> Result<Option<(u32, String, String, bool)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT version, sha256, manifest_sha256, file_id IN (SELECT file_id FROM file_withdrawals) FROM source_files
         WHERE source_id = ?1 AND path = ?2 ORDER BY version DESC LIMIT 1",
    )?;
    let mut rows = stmt.query(params![source.as_str(), path])?;
    Ok(match rows.next()? {
        Some(row) => Some((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        None => None,
    })
}

/// Where a row sits in its file: (sheet, row).
type RowKey<'a> = (Option<&'a str>, u64);

/// A file's bad rows, keyed by [`RowKey`] in file order; `None` for file-wide errors.
type BadRows<'a> = BTreeMap<Option<RowKey<'a>>, BadRow<'a>>;

fn row_key(record: &IngestedRecord) -> RowKey<'_> {
    (record.locator.sheet.as_deref(), record.locator.row)
}

/// The bad rows of a file.
fn bad_rows<'a>(file: &FileVersion<'a>) -> BadRows<'a> {
    let mut bad = BadRows::new();
    for diagnostic in file.diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        let key = diagnostic.row.map(|row| (diagnostic.sheet.as_deref(), row));
        bad.entry(key).or_insert_with(|| BadRow { record: None, problems: Vec::new() }).problems.push(diagnostic.clone());
    }
    for record in file.records {
        let key = Some(row_key(record));
        if let Some(row) = bad.get_mut(&key) {
            row.record = Some(record);
        } else if record.is_bad() {
            let problems = record
                .assertions
                .iter()
                .filter_map(|a| match &a.value {
                    Value::Unparsed { reason } => Some(unparsed_diagnostic(record, a, reason)),
                    _ => None,
                })
                .collect();
            bad.insert(key, BadRow { record: Some(record), problems });
        }
    }
    bad
}

/// A diagnostic for an unparsed assertion that the reader did not report itself.
fn unparsed_diagnostic(record: &IngestedRecord, assertion: &Assertion, reason: &str) -> Diagnostic {
    Diagnostic {
        file: record.locator.file.clone(),
        sheet: record.locator.sheet.clone(),
        row: Some(record.locator.row),
        column: Some(assertion.column.clone()),
        severity: Severity::Error,
        expected: Some(assertion.field.value_kind().expected().to_owned()),
        message: format!("found {:?}: {reason}", assertion.raw),
    }
}

/// The stable key of a record within its file: `source:path:row`, with `#sheet` after the
/// path for workbooks. The same row of a later version of the file has the same key.
pub(crate) fn record_key(record: &IngestedRecord) -> String {
    let l = &record.locator;
    match &l.sheet {
        Some(sheet) => format!("{}:{}#{}:{}", l.source, l.file, sheet, l.row),
        None => format!("{}:{}:{}", l.source, l.file, l.row),
    }
}

fn cells_json(cells: &[Cell]) -> Result<String, StoreError> {
    Ok(serde_json::to_string(cells)?)
}

fn insert_record(tx: &Transaction, file_id: i64, record: &IngestedRecord) -> Result<(), StoreError> {
    let l = &record.locator;
    tx.prepare_cached(
        "INSERT INTO records (file_id, record_key, sheet, row, installment, page, cells_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        file_id,
        record_key(record),
        l.sheet.as_deref(),
        l.row as i64,
        l.installment.as_deref(),
        l.page,
        cells_json(&record.cells)?
    ])?;
    let record_id = tx.last_insert_rowid();
    let mut stmt = tx.prepare_cached(
        "INSERT INTO assertions (record_id, ordinal, field, event_kind, column_name, raw, value_type, value_text,
             value_number, date_earliest, date_latest, date_precision, date_calendar, date_approximate, value_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    for (ordinal, assertion) in record.assertions.iter().enumerate() {
        let event_kind = match assertion.field {
            Field::Event(kind, _) => Some(kind.as_str()),
            _ => None,
        };
        let date = assertion.value.date();
        stmt.execute(params![
            record_id,
            ordinal as i64,
            assertion.field.name(),
            event_kind,
            &*assertion.column,
            assertion.raw,
            value_type(&assertion.value),
            value_text(&assertion.value),
            match assertion.value {
                Value::Number { number } => Some(number),
                _ => None,
            },
            date.map(|d| d.earliest().to_string()),
            date.map(|d| d.latest().to_string()),
            date.map(|d| format!("{:?}", d.precision()).to_lowercase()),
            date.map(|d| format!("{:?}", d.calendar()).to_lowercase()),
            date.map(|d| d.is_approximate()),
            serde_json::to_string(&assertion.value)?,
        ])?;
    }
    Ok(())
}

fn value_type(value: &Value) -> &'static str {
    match value {
        Value::Text { .. } => "text",
        Value::Sex { .. } => "sex",
        Value::Date { .. } => "date",
        Value::Number { .. } => "number",
        Value::Flag { .. } => "flag",
        Value::Event { .. } => "event",
        Value::Post { .. } => "post",
        Value::Unparsed { .. } => "unparsed",
    }
}

/// The parsed value written as text: what exports and the report show beside the raw cell.
/// Events and posts join the parts they have with `; `. Unparsed values have none.
pub(crate) fn value_text(value: &Value) -> Option<String> {
    let join = |parts: Vec<Option<String>>| {
        let parts: Vec<String> = parts.into_iter().flatten().collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    };
    match value {
        Value::Text { text } => Some(text.clone()),
        Value::Sex { sex } => Some(sex.code().to_owned()),
        Value::Date { date } => Some(date.to_string()),
        Value::Number { number } => Some(number.to_string()),
        Value::Flag { flag } => Some(flag.to_string()),
        Value::Event { event } => join(vec![
            event.date.map(|d| d.to_string()),
            event.place.clone(),
            event.agency.clone(),
            event.detail.clone(),
        ]),
        Value::Post { post } => join(vec![
            post.organisation.clone(),
            post.unit.clone(),
            post.role.clone(),
            post.from.map(|d| d.to_string()),
            post.to.map(|d| d.to_string()),
        ]),
        Value::Unparsed { .. } => None,
    }
}

fn insert_reject(tx: &Transaction, file_id: i64, row: &BadRow) -> Result<(), StoreError> {
    let first = &row.problems[0];
    let reason: Vec<String> = row.problems.iter().map(reason_text).collect();
    let cells = row.record.map(|r| r.cells.as_slice()).unwrap_or_default();
    tx.prepare_cached(
        "INSERT INTO rejects (file_id, sheet, row, column_name, reason, cells_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        file_id,
        first.sheet.as_deref(),
        first.row.map(|r| r as i64),
        first.column.as_deref(),
        reason.join("; "),
        cells_json(cells)?
    ])?;
    Ok(())
}

/// A diagnostic without its file and row (the reject row carries those): `column "x": expected ..., found ...`.
fn reason_text(d: &Diagnostic) -> String {
    let mut text = String::new();
    if let Some(column) = &d.column {
        text.push_str(&format!("column {column:?}: "));
    }
    if let Some(expected) = &d.expected {
        text.push_str(&format!("expected {expected}, "));
    }
    text.push_str(&d.message);
    text
}

fn insert_diagnostic(tx: &Transaction, file_id: i64, d: &Diagnostic) -> Result<(), StoreError> {
    let severity = match d.severity {
        Severity::Warning => "warning",
        Severity::Error => "error",
    };
    tx.prepare_cached(
        "INSERT INTO diagnostics (file_id, sheet, row, column_name, severity, expected, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        file_id,
        d.sheet.as_deref(),
        d.row.map(|r| r as i64),
        d.column.as_deref(),
        severity,
        d.expected,
        d.message
    ])?;
    Ok(())
}
