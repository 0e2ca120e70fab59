//! The last step of `build`: hand the register's contents to `analysis::profile` for the numbers
//! and to `report` for the page, with the persons and analyses of the step before (and the
//! estimate of `[estimate]`), and write `out/index.html`.

use super::Project;
use super::analyse::Analysed;
use super::export::Contents;
use analysis::profile::{self, Fact, FactValue, SourceCounts};
use anyhow::{Context, Result};
use model::{Diagnostic, Severity};
use crate::estimate::ProjectEstimate;
use report::{EstimateSection, FileLine, PersonsSection, Report, SourceSection};
use std::collections::BTreeMap;
use std::path::Path;
use store::{AssertionRow, DiagnosticRow};

/// How many diagnostics a source lists in the report; the rest are counted.
const DIAGNOSTICS_SHOWN: usize = 50;
/// How many of a field's most frequent values the report shows.
const TOP_VALUES: usize = 12;

pub fn write(contents: &Contents, project: &Project, analysed: &Analysed, estimated: Option<&ProjectEstimate>, out: &Path) -> Result<()> {
    let mut counts: BTreeMap<&str, SourceCounts> = project
        .manifest
        .sources
        .iter()
        .map(|s| {
            let id = s.id.as_str();
            (id, SourceCounts { source: id.to_owned(), records: 0, rejects: 0, warnings: 0, errors: 0 })
        })
        .collect();
    for r in &contents.records {
        if let Some(c) = counts.get_mut(r.source_id.as_str()) {
            c.records += 1;
        }
    }
    for j in &contents.rejects {
        if let Some(c) = counts.get_mut(j.source_id.as_str()) {
            c.rejects += 1;
        }
    }
    for d in &contents.diagnostics {
        if let Some(c) = counts.get_mut(d.source_id.as_str()) {
            if d.severity == "error" { c.errors += 1 } else { c.warnings += 1 }
        }
    }
    let ordered: Vec<SourceCounts> =
        project.manifest.sources.iter().map(|s| counts[s.id.as_str()].clone()).collect();
    let profiles = profile::source_profiles(&ordered, contents.assertions.iter().map(fact));
    let distributions = profile::distributions(contents.assertions.iter().map(fact), TOP_VALUES);

    let sources = project
        .manifest
        .sources
        .iter()
        .zip(&profiles)
        .map(|(spec, profile)| {
            let id = spec.id.as_str();
            let diagnostics: Vec<&DiagnosticRow> = contents.diagnostics.iter().filter(|d| d.source_id == id).collect();
            SourceSection {
                id,
                title: &spec.title,
                kind: spec.kind.as_str(),
                notes: spec.notes.as_deref(),
                files: contents
                    .files
                    .iter()
                    .filter(|f| f.source_id == id)
                    .map(|f| FileLine {
                        path: &f.path,
                        installment: spec
                            .installments
                            .iter()
                            .find(|i| i.files.contains(&f.path))
                            .map(|i| i.title.as_deref().unwrap_or(&i.id)),
                        version: f.version,
                        bytes: f.bytes,
                        sha256: &f.sha256,
                    })
                    .collect(),
                profile,
                diagnostics: diagnostics.iter().take(DIAGNOSTICS_SHOWN).map(|d| worded(d)).collect(),
                diagnostics_total: diagnostics.len() as u64,
            }
        })
        .collect();
    let title = project.manifest.title.as_deref().unwrap_or("kartoteka report");
    let persons = PersonsSection {
        persons: analysed.persons,
        records: analysed.records,
        conflicted: analysed.conflicted,
        conflicts: analysed.conflicts,
        by_records: &analysed.by_records,
        analyses: &analysed.results,
    };
    let estimate = estimated.map(|e| EstimateSection { lists: &e.lists, linkages: &e.linkages, rows: &e.rows, spreads: &e.spreads });
    let html = report::render(&Report { title, sources, distributions: &distributions, persons: Some(persons), estimate });
    let path = out.join("index.html");
    std::fs::write(&path, html).with_context(|| format!("cannot write {}", path.display()))
}

/// An assertion as the profile counts it: dates by year, open-ended dates by their text.
fn fact(a: &AssertionRow) -> Fact<'_> {
    let year = |date: &Option<String>| date.as_deref().and_then(|d| d.get(..4)).and_then(|y| y.parse::<i32>().ok());
    let open = matches!(a.date_precision.as_deref(), Some("before" | "after"));
    let value = match (a.value_type.as_str(), year(&a.date_earliest), year(&a.date_latest)) {
        ("unparsed", ..) => FactValue::Unparsed,
        (_, Some(earliest), Some(latest)) if !open => FactValue::Years { earliest, latest },
        _ => FactValue::Text(a.value_text.as_deref().unwrap_or("")),
    };
    Fact { source: &a.source_id, record: &a.record_key, field: &a.field, value }
}

/// A stored diagnostic worded as the reader first reported it.
fn worded(d: &DiagnosticRow) -> String {
    Diagnostic {
        file: d.path.as_str().into(),
        sheet: d.sheet.as_deref().map(Into::into),
        row: d.row,
        column: d.column.as_deref().map(Into::into),
        severity: if d.severity == "error" { Severity::Error } else { Severity::Warning },
        expected: d.expected.clone(),
        message: d.message.clone(),
    }
    .to_string()
}
