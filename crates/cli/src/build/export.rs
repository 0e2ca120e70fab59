//! Steps 3 and 4 of `build`: read the current register back (records, assertions and the
//! persons linkage assigned them), then write the exports.
//!
//! Exports hold the current version of every file: `records` (one row per record, raw cells as
//! JSON), `assertions` (one row per claim, raw text beside the parsed value) and `rejects`.
//! Columns the manifest marks `sensitive` are withheld from all of them.

use super::Project;
use super::table::{Cell, Table};
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::Path;
use store::{AssertionRow, DiagnosticRow, FileRow, RecordRow, Register, RejectRow};

/// The current register, as the exports and the report need it (sensitive columns removed).
pub struct Contents {
    pub files: Vec<FileRow>,
    pub records: Vec<RecordRow>,
    pub assertions: Vec<AssertionRow>,
    pub rejects: Vec<RejectRow>,
    pub diagnostics: Vec<DiagnosticRow>,
    /// Each current record's person, by record key, as the linkage step stored them.
    pub persons: BTreeMap<String, String>,
}

impl Contents {
    pub fn read(register: &Register, project: &Project) -> Result<Contents> {
        let withheld = |source: &str, column: &str| project.sensitive.contains(&(source.to_owned(), column.to_owned()));
        let mut records = Vec::new();
        register.for_each_current_record(|mut record| {
            record.cells.retain(|c| !withheld(&record.source_id, &c.column));
            records.push(record);
        })?;
        let mut assertions = Vec::new();
        register.for_each_current_assertion(|a| {
            if !withheld(&a.source_id, &a.column) {
                assertions.push(a);
            }
        })?;
        let mut rejects = register.current_rejects()?;
        for reject in &mut rejects {
            reject.cells.retain(|c| !withheld(&reject.source_id, &c.column));
        }
        Ok(Contents {
            files: register.files(true)?,
            records,
            assertions,
            rejects,
            diagnostics: register.current_diagnostics()?,
            persons: register.persons_of_current_records()?,
        })
    }
}

const RECORDS: &[(&str, bool)] = &[
    ("record_id", false),
    ("source", false),
    ("file", false),
    ("file_version", true),
    ("sheet", false),
    ("row", true),
    ("installment", false),
    ("page", false),
    ("cells", false),
];

const ASSERTIONS: &[(&str, bool)] = &[
    ("record_id", false),
    ("source", false),
    ("ordinal", true),
    ("field", false),
    ("column", false),
    ("raw", false),
    ("value_type", false),
    ("value", false),
    ("date_earliest", false),
    ("date_latest", false),
    ("date_precision", false),
    ("date_calendar", false),
];

const REJECTS: &[(&str, bool)] = &[
    ("source", false),
    ("file", false),
    ("file_version", true),
    ("sheet", false),
    ("row", false),
    ("column", false),
    ("reason", false),
    ("cells", false),
];

fn text(value: &str) -> Cell {
    Cell::Text(Some(value.to_owned()))
}

fn cells_json(cells: &[model::Cell]) -> Result<Cell> {
    Ok(Cell::Text(Some(serde_json::to_string(cells)?)))
}

/// Writes `records`, `assertions` (CSV and Parquet) and `rejects.csv` into `out`.
pub fn write(contents: &Contents, out: &Path) -> Result<()> {
    let mut records = Table::new(RECORDS);
    for r in &contents.records {
        records.push_row(vec![
            text(&r.record_key),
            text(&r.source_id),
            text(&r.path),
            Cell::Int(r.version.into()),
            Cell::Text(r.sheet.clone()),
            Cell::Int(r.row as i64),
            Cell::Text(r.installment.clone()),
            Cell::Text(r.page.clone()),
            cells_json(&r.cells)?,
        ]);
    }
    records.write_csv(&out.join("records.csv"))?;
    records.write_parquet(&out.join("records.parquet"), "records")?;

    let mut assertions = Table::new(ASSERTIONS);
    for a in &contents.assertions {
        assertions.push_row(vec![
            text(&a.record_key),
            text(&a.source_id),
            Cell::Int(a.ordinal.into()),
            text(&a.field),
            text(&a.column),
            text(&a.raw),
            text(&a.value_type),
            Cell::Text(a.value_text.clone()),
            Cell::Text(a.date_earliest.clone()),
            Cell::Text(a.date_latest.clone()),
            Cell::Text(a.date_precision.clone()),
            Cell::Text(a.date_calendar.clone()),
        ]);
    }
    assertions.write_csv(&out.join("assertions.csv"))?;
    assertions.write_parquet(&out.join("assertions.parquet"), "assertions")?;

    let mut rejects = Table::new(REJECTS);
    for j in &contents.rejects {
        rejects.push_row(vec![
            text(&j.source_id),
            text(&j.path),
            Cell::Int(j.version.into()),
            Cell::Text(j.sheet.clone()),
            Cell::Text(j.row.map(|r| r.to_string())),
            Cell::Text(j.column.clone()),
            text(&j.reason),
            cells_json(&j.cells)?,
        ]);
    }
    rejects.write_csv(&out.join("rejects.csv"))?;
    Ok(())
}
