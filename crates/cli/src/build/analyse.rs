//! The profiles-and-analyses step of `build`: person profiles from the register, the cohorts and
//! analyses the manifest declares (`[consensus]`, `[[cohorts]]`, `[[analyses]]`), and their
//! outputs: `out/analyses/NAME.json` (+ `NAME.gexf` for networks), the analysis pages, the person
//! pages (`out/persons/N.html`, a few hundred persons each) and the profile exports
//! (`out/profiles.csv`, one row per person, the consensus of each field).
//!
//! Profiles here are still one per record (its id is the record's key): the persons that `build`'s
//! linkage step stores (`Register::persons_of_current_records`) are not yet grouped here.

use super::Project;
use super::export::Contents;
use super::table::spreadsheet_safe;
use analysis::analyses::{self, AnalysisResult, AnalysisSpec, Figures};
use analysis::cohort::CohortSpec;
use analysis::person::{ConsensusRule, LinkedRecord, Profile, SourceInfo, build_profile};
use anyhow::{Context, Result, anyhow};
use model::{Assertion, Day, Field, PersonId, Precision, RecordId, Sex, SourceId, UncertainDate, Value, ValueKind};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use store::AssertionRow;

/// Persons per page of `out/persons/`.
const PERSONS_PER_PAGE: usize = 250;

/// What the step produced, for the main page and the console.
pub struct Analysed {
    pub persons: usize,
    pub results: Vec<AnalysisResult>,
}

/// The manifest's declarations for this step, validated.
struct Declarations {
    rule: ConsensusRule,
    cohorts: Vec<analysis::cohort::Cohort>,
    analyses: Vec<analysis::analyses::Analysis>,
}

fn declarations(project: &Project) -> Result<Declarations> {
    let section = |name: &str| project.manifest.sections.get(name).cloned();
    let rule: ConsensusRule = match section("consensus") {
        None => ConsensusRule::default(),
        Some(v) => v.try_into().map_err(|e| anyhow!("kartoteka.toml: consensus: {e}"))?,
    };
    let cohorts: Vec<CohortSpec> = match section("cohorts") {
        None => Vec::new(),
        Some(v) => v.try_into().map_err(|e| anyhow!("kartoteka.toml: cohorts: {e}"))?,
    };
    let specs: Vec<AnalysisSpec> = match section("analyses") {
        None => Vec::new(),
        Some(v) => v.try_into().map_err(|e| anyhow!("kartoteka.toml: analyses: {e}"))?,
    };
    let (cohorts, analyses) = analyses::validate(&cohorts, &specs).map_err(|e| anyhow!("kartoteka.toml: {e}"))?;
    Ok(Declarations { rule, cohorts, analyses })
}

/// Checks the declarations before anything is ingested, so a typo fails fast.
pub fn check(project: &Project) -> Result<()> {
    declarations(project).map(|_| ())
}

pub fn run(contents: &Contents, project: &Project, out: &Path, report_title: &str) -> Result<Analysed> {
    let declared = declarations(project)?;
    let sources: BTreeMap<SourceId, SourceInfo> = project
        .manifest
        .sources
        .iter()
        .map(|s| (s.id.clone(), SourceInfo { id: s.id.clone(), kind: s.kind.as_str().to_owned(), date: s.date }))
        .collect();
    let profiles = profiles(&contents.assertions, &sources, &declared.rule);
    let results = analyses::run_all(&declared.cohorts, &declared.analyses, &profiles);

    let pages: BTreeMap<&PersonId, usize> = profiles.keys().enumerate().map(|(i, id)| (id, i / PERSONS_PER_PAGE + 1)).collect();
    let link = |id: &PersonId| {
        let page = pages.get(id).copied().unwrap_or(1);
        let label = profiles.get(id).map_or_else(|| id.to_string(), |p| p.label.clone());
        (format!("persons/{page}.html#{}", anchor(id)), label)
    };
    let dir = out.join("analyses");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for result in &results {
        let json = serde_json::to_string_pretty(result)?;
        write(&dir.join(format!("{}.json", result.name)), &json)?;
        if let Figures::Network(network) = &result.figures {
            write(&dir.join(format!("{}.gexf", result.name)), &analysis::network::to_gexf(network))?;
        }
        write(&dir.join(format!("{}.html", result.name)), &report::analyses::analysis_page(result, report_title, &link))?;
    }
    write(&dir.join("index.html"), &report::analyses::analyses_index(&results, report_title))?;
    write_person_pages(&profiles, &sources, &declared.rule, out, report_title)?;
    export_profiles(&profiles, out)?;
    Ok(Analysed { persons: profiles.len(), results })
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// An HTML anchor for a person id: ids hold `:` and `/`, which are fine in an id attribute but
/// not in every URL fragment, so everything but letters and digits becomes `_` plus its code.
fn anchor(id: &PersonId) -> String {
    id.as_str().chars().map(|c| if c.is_alphanumeric() { c.to_string() } else { format!("_{:x}", c as u32) }).collect()
}

/// One profile per record, which stands for its person until linked persons are grouped here.
fn profiles(rows: &[AssertionRow], sources: &BTreeMap<SourceId, SourceInfo>, rule: &ConsensusRule) -> BTreeMap<PersonId, Profile> {
    let mut records: BTreeMap<&str, LinkedRecord> = BTreeMap::new();
    for row in rows {
        let Some(assertion) = assertion(row) else { continue };
        records
            .entry(row.record_key.as_str())
            .or_insert_with(|| LinkedRecord { record: RecordId::new(row.record_key.as_str()), source: SourceId::new(row.source_id.as_str()), assertions: Vec::new() })
            .assertions
            .push(assertion);
    }
    records
        .into_iter()
        .map(|(key, record)| {
            let person = PersonId::new(key);
            (person.clone(), build_profile(person, std::slice::from_ref(&record), sources, rule))
        })
        .collect()
}

/// The assertion a register row holds, rebuilt from its typed columns after the kind of value
/// the field holds (an event's date part is stored as an event with date columns); `None` for a
/// field name this build does not know (a newer register).
fn assertion(row: &AssertionRow) -> Option<Assertion> {
    let field: Field = row.field.parse().ok()?;
    let text = || row.value_text.clone().unwrap_or_default();
    let value = match (row.value_type.as_str(), field.value_kind()) {
        ("unparsed", _) => Value::Unparsed { reason: String::new() },
        (_, ValueKind::Date) => match date(row) {
            Some(date) => Value::Date { date },
            None => Value::Unparsed { reason: "the register's date columns do not form a date".into() },
        },
        (_, ValueKind::Sex) => Sex::from_code(&text()).map_or_else(|| Value::Text { text: text() }, |sex| Value::Sex { sex }),
        (_, ValueKind::Number) => text().parse().map_or_else(|_| Value::Text { text: text() }, |number| Value::Number { number }),
        (_, ValueKind::Flag) => Value::Flag { flag: text() == "true" },
        (_, ValueKind::Text) => Value::Text { text: text() },
    };
    Some(Assertion { field, column: Arc::from(row.column.as_str()), raw: row.raw.clone(), value })
}

fn date(row: &AssertionRow) -> Option<UncertainDate> {
    let day = |text: &Option<String>| -> Option<Day> {
        let d = UncertainDate::parse_standard(text.as_deref()?).ok()?;
        Some(d.earliest())
    };
    let precision = match row.date_precision.as_deref()? {
        "day" => Precision::Day,
        "month" => Precision::Month,
        "season" => Precision::Season,
        "year" => Precision::Year,
        "decade" => Precision::Decade,
        "before" => Precision::Before,
        "after" => Precision::After,
        _ => Precision::Range,
    };
    UncertainDate::new(day(&row.date_earliest)?, day(&row.date_latest)?, precision)
}

fn write_person_pages(profiles: &BTreeMap<PersonId, Profile>, sources: &BTreeMap<SourceId, SourceInfo>, rule: &ConsensusRule, out: &Path, title: &str) -> Result<()> {
    let dir = out.join("persons");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let all: Vec<&Profile> = profiles.values().collect();
    let described = rule.describe();
    for (i, chunk) in all.chunks(PERSONS_PER_PAGE).enumerate() {
        let html = report::analyses::persons_page(chunk, &anchor, sources, &described, title);
        write(&dir.join(format!("{}.html", i + 1)), &html)?;
    }
    Ok(())
}

/// `profiles.csv`: one row per person, the consensus of every field any profile has (in field
/// order), with the person's record and conflict counts. Text is made spreadsheet-safe.
fn export_profiles(profiles: &BTreeMap<PersonId, Profile>, out: &Path) -> Result<()> {
    let fields: Vec<Field> = {
        let present: std::collections::BTreeSet<Field> = profiles.values().flat_map(|p| p.attributes.iter().map(|a| a.field)).collect();
        present.into_iter().collect()
    };
    let path = out.join("profiles.csv");
    let mut writer = csv::Writer::from_path(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut header = vec!["person_id".to_owned(), "label".to_owned(), "records".to_owned(), "conflicts".to_owned()];
    header.extend(fields.iter().map(|f| f.name()));
    writer.write_record(&header)?;
    for p in profiles.values() {
        let mut row = vec![spreadsheet_safe(p.person.as_str()), spreadsheet_safe(&p.label), p.records.len().to_string(), p.conflicts().to_string()];
        row.extend(fields.iter().map(|f| p.text(*f).map(spreadsheet_safe).unwrap_or_default()));
        writer.write_record(&row)?;
    }
    writer.flush().with_context(|| format!("cannot write {}", path.display()))
}
