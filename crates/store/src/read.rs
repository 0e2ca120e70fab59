//! Reading the register back: the current versions of files, their records, assertions,
//! rejects and diagnostics, always in one stable order so exports are deterministic.

use crate::{Register, StoreError};
use model::{Assertion, Cell, Day, Field, Precision, Sex, UncertainDate, Value, ValueKind};
use std::sync::Arc;
use rusqlite::Row;
use sha2::{Digest, Sha256};

/// A source as last declared by the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRow {
    pub source_id: String,
    pub title: String,
    pub kind: String,
    pub manifest_json: String,
}

/// One version of one file of a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub source_id: String,
    pub path: String,
    pub version: u32,
    pub sha256: String,
    pub bytes: u64,
    pub policy: String,
    pub ingested_at: String,
}

/// A record of a current file version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRow {
    /// `source:path:row` (`source:path#sheet:row` for workbooks); unique among current records.
    pub record_key: String,
    pub source_id: String,
    pub path: String,
    pub version: u32,
    pub sheet: Option<String>,
    pub row: u64,
    pub installment: Option<String>,
    pub page: Option<String>,
    pub cells: Vec<Cell>,
}

/// An assertion of a record of a current file version, with its parsed value in typed columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionRow {
    pub record_key: String,
    pub source_id: String,
    pub ordinal: u32,
    pub field: String,
    pub column: String,
    pub raw: String,
    pub value_type: String,
    pub value_text: Option<String>,
    pub date_earliest: Option<String>,
    pub date_latest: Option<String>,
    pub date_precision: Option<String>,
    pub date_calendar: Option<String>,
    /// The source marked the date approximate (`1937?`, `ок. 1937`).
    pub date_approximate: bool,
}

impl AssertionRow {
    /// The assertion the row holds; `None` for a field name this build does not know (a newer
    /// register).
    pub fn assertion(&self) -> Option<Assertion> {
        let field: Field = self.field.parse().ok()?;
        Some(Assertion { field, column: Arc::from(self.column.as_str()), raw: self.raw.clone(), value: self.stored().value(field) })
    }

    pub fn stored(&self) -> StoredValue<'_> {
        StoredValue {
            value_type: &self.value_type,
            value_text: self.value_text.as_deref(),
            date_earliest: self.date_earliest.as_deref(),
            date_latest: self.date_latest.as_deref(),
            date_precision: self.date_precision.as_deref(),
            date_approximate: self.date_approximate,
        }
    }
}

/// A value as an assertion's typed columns in the register hold it: the build and the web read
/// it back by this one reading.
pub struct StoredValue<'a> {
    pub value_type: &'a str,
    pub value_text: Option<&'a str>,
    pub date_earliest: Option<&'a str>,
    pub date_latest: Option<&'a str>,
    pub date_precision: Option<&'a str>,
    pub date_approximate: bool,
}

impl StoredValue<'_> {
    /// The value, rebuilt after the kind of value `field` holds (an event's date part is stored
    /// as an event with date columns).
    pub fn value(&self, field: Field) -> Value {
        let text = || self.value_text.unwrap_or_default().to_owned();
        match (self.value_type, field.value_kind()) {
            ("unparsed", _) => Value::Unparsed { reason: String::new() },
            (_, ValueKind::Date) => match self.date() {
                Some(date) => Value::Date { date },
                None => Value::Unparsed { reason: "the register's date columns do not form a date".into() },
            },
            (_, ValueKind::Sex) => Sex::from_code(&text()).map_or_else(|| Value::Text { text: text() }, |sex| Value::Sex { sex }),
            (_, ValueKind::Number) => text().parse().map_or_else(|_| Value::Text { text: text() }, |number| Value::Number { number }),
            (_, ValueKind::Flag) => Value::Flag { flag: text() == "true" },
            (_, ValueKind::Text) => Value::Text { text: text() },
        }
    }

    fn date(&self) -> Option<UncertainDate> {
        let day = |text: Option<&str>| -> Option<Day> { Some(UncertainDate::parse_standard(text?).ok()?.earliest()) };
        let precision = match self.date_precision? {
            "day" => Precision::Day,
            "month" => Precision::Month,
            "season" => Precision::Season,
            "year" => Precision::Year,
            "decade" => Precision::Decade,
            "before" => Precision::Before,
            "after" => Precision::After,
            _ => Precision::Range,
        };
        let date = UncertainDate::new(day(self.date_earliest)?, day(self.date_latest)?, precision)?;
        // "1937?" stays approximate: profiles show it so and time series count it apart.
        Some(if self.date_approximate { date.approximately() } else { date })
    }
}

/// A row of a current file version that the lenient policy set aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectRow {
    pub source_id: String,
    pub path: String,
    pub version: u32,
    pub sheet: Option<String>,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub reason: String,
    pub cells: Vec<Cell>,
}

/// A diagnostic of a current file version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagnosticRow {
    pub source_id: String,
    pub path: String,
    pub sheet: Option<String>,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub severity: String,
    pub expected: Option<String>,
    pub message: String,
}

fn cells(row: &Row, index: usize) -> rusqlite::Result<Result<Vec<Cell>, serde_json::Error>> {
    let json: String = row.get(index)?;
    Ok(serde_json::from_str(&json))
}

impl Register {
    /// Every source, by id.
    pub fn sources(&self) -> Result<Vec<SourceRow>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT source_id, title, kind, manifest_json FROM sources ORDER BY source_id")?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceRow { source_id: r.get(0)?, title: r.get(1)?, kind: r.get(2)?, manifest_json: r.get(3)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every version of every file (`current_only`: the latest version of each), by source, path, version.
    pub fn files(&self, current_only: bool) -> Result<Vec<FileRow>, StoreError> {
        let table = if current_only { "current_files" } else { "source_files" };
        let mut stmt = self.conn.prepare(&format!(
            "SELECT source_id, path, version, sha256, bytes, policy, ingested_at FROM {table}
             ORDER BY source_id, path, version"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(FileRow {
                source_id: r.get(0)?,
                path: r.get(1)?,
                version: r.get(2)?,
                sha256: r.get(3)?,
                bytes: r.get::<_, i64>(4)? as u64,
                policy: r.get(5)?,
                ingested_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls `each` for every record of a current file version, by source, path, sheet, row.
    pub fn for_each_current_record(&self, mut each: impl FnMut(RecordRow)) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.record_key, f.source_id, f.path, f.version, r.sheet, r.row, r.installment, r.page, r.cells_json
             FROM records r JOIN current_files f USING (file_id)
             ORDER BY f.source_id, f.path, r.sheet, r.row",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            each(RecordRow {
                record_key: r.get(0)?,
                source_id: r.get(1)?,
                path: r.get(2)?,
                version: r.get(3)?,
                sheet: r.get(4)?,
                row: r.get::<_, i64>(5)? as u64,
                installment: r.get(6)?,
                page: r.get(7)?,
                cells: cells(r, 8)??,
            });
        }
        Ok(())
    }

    /// Calls `each` for every assertion of a current record, by source, path, sheet, row, ordinal.
    pub fn for_each_current_assertion(&self, mut each: impl FnMut(AssertionRow)) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.record_key, f.source_id, a.ordinal, a.field, a.column_name, a.raw, a.value_type, a.value_text,
                    a.date_earliest, a.date_latest, a.date_precision, a.date_calendar, a.date_approximate
             FROM assertions a JOIN records r USING (record_id) JOIN current_files f USING (file_id)
             ORDER BY f.source_id, f.path, r.sheet, r.row, a.ordinal",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            each(AssertionRow {
                record_key: r.get(0)?,
                source_id: r.get(1)?,
                ordinal: r.get(2)?,
                field: r.get(3)?,
                column: r.get(4)?,
                raw: r.get(5)?,
                value_type: r.get(6)?,
                value_text: r.get(7)?,
                date_earliest: r.get(8)?,
                date_latest: r.get(9)?,
                date_precision: r.get(10)?,
                date_calendar: r.get(11)?,
                date_approximate: r.get::<_, Option<bool>>(12)?.unwrap_or(false),
            });
        }
        Ok(())
    }

    /// The rejects of current file versions, by source, path, sheet, row.
    pub fn current_rejects(&self) -> Result<Vec<RejectRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT f.source_id, f.path, f.version, j.sheet, j.row, j.column_name, j.reason, j.cells_json
             FROM rejects j JOIN current_files f USING (file_id)
             ORDER BY f.source_id, f.path, j.sheet, j.row, j.reject_id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(RejectRow {
                source_id: r.get(0)?,
                path: r.get(1)?,
                version: r.get(2)?,
                sheet: r.get(3)?,
                row: r.get::<_, Option<i64>>(4)?.map(|v| v as u64),
                column: r.get(5)?,
                reason: r.get(6)?,
                cells: cells(r, 7)??,
            });
        }
        Ok(out)
    }

    /// The diagnostics of current file versions, by source, path, sheet, row, then as reported.
    pub fn current_diagnostics(&self) -> Result<Vec<DiagnosticRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT f.source_id, f.path, d.sheet, d.row, d.column_name, d.severity, d.expected, d.message
             FROM diagnostics d JOIN current_files f USING (file_id)
             ORDER BY f.source_id, f.path, d.sheet, d.row, d.diagnostic_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DiagnosticRow {
                source_id: r.get(0)?,
                path: r.get(1)?,
                sheet: r.get(2)?,
                row: r.get::<_, Option<i64>>(3)?.map(|v| v as u64),
                column: r.get(4)?,
                severity: r.get(5)?,
                expected: r.get(6)?,
                message: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A SHA-256 over the full contents of every table (rows in sorted order), for
    /// checking that a register is exactly as it was (after an interrupted ingest, say).
    pub fn content_fingerprint(&self) -> Result<String, StoreError> {
        let mut hasher = Sha256::new();
        // Virtual tables (full-text indexes) are skipped: their shadow tables hold their contents.
        let mut tables = self.conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
        )?;
        let names: Vec<String> = tables.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for name in names {
            hasher.update(name.as_bytes());
            let width = self.conn.prepare(&format!("SELECT * FROM \"{name}\""))?.column_count();
            // Every column as the sort key: works for tables with and without rowid.
            let order: Vec<String> = (1..=width).map(|i| i.to_string()).collect();
            let mut stmt = self.conn.prepare(&format!("SELECT * FROM \"{name}\" ORDER BY {}", order.join(", ")))?;
            let width = stmt.column_count();
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                for i in 0..width {
                    let value: rusqlite::types::Value = row.get(i)?;
                    hasher.update(format!("{value:?}\u{1f}").as_bytes());
                }
                hasher.update(b"\x1e");
            }
        }
        Ok(hex::encode(hasher.finalize()))
    }
}
