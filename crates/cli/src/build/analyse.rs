//! The profiles-and-analyses step of `build`: one profile per linked person, the cohorts and
//! analyses the manifest declares (`[consensus]`, `[[cohorts]]`, `[[analyses]]`), and their
//! outputs: `out/analyses/NAME.json` (+ `NAME.gexf` for networks), the analysis's main table as
//! `NAME.csv` and `NAME.parquet` (see [`figures_table`]), the analysis pages, the person
//! pages (`out/persons/N.html`, a few hundred persons each) and the profile exports.
//!
//! A person is the set of records the linkage step assigned to one person id
//! (`Register::persons_of_current_records`); their profile combines every claim of those records.
//! Where the records disagree nothing is dropped: each distinct value stays in the profile with
//! the records and sources asserting it, and the consensus is picked by the manifest's
//! `[consensus]` rule (`analysis::person::ConsensusRule`; by default: the most trusted kind of
//! source, then the value most sources give, then most records, then the most precise date, then
//! the earliest source, last the first value in alphabetical order); an initial of a name part
//! is never the consensus over a full form (`decided_by` `full_form`). A whole name (`name`) also
//! counts, part by part, with the parts other records give, where the order of its words can be
//! told (`analysis::person::parts_of_whole_name`). A field whose values contradict each other is
//! a conflict; the console, `profiles.*` and the person pages count them.
//! Analyses then count persons, never records.
//!
//! Profile exports, one row or object per person, ordered by person id:
//! - `profiles.csv` and `profiles.parquet`: `person_id`, `label`, `records`, `sources`,
//!   `conflicts`, then the consensus of every field any person has (in field order);
//! - `profiles.json`: an array with, per person (one line each): `person_id`, `label`, `records`
//!   (`record_id`, `source`), `conflicts`, `values` (the consensus of every field), `alternatives`
//!   (each field whose records give more than one value: `decided_by`, `conflict`,
//!   `corroboration`, and `values` mapping each value to the indexes of the records giving it),
//!   `unparsed` (`field`, `record`, `raw`) and `posts` (`organisation`, `unit`, `role`, `from`,
//!   `to`, `records`). Record indexes point into the person's `records`, so each long record id
//!   is written once; the raw cells behind every value are in `assertions.csv`.

use super::Project;
use super::export::Contents;
use super::table::{Cell, Table};
use analysis::analyses::{self, AnalysisResult, AnalysisSpec, Figures};
use analysis::proportion::Proportion;
use analysis::breakdown::{self, Category, OneWay};
use analysis::cohort::CohortSpec;
use analysis::person::{ConsensusRule, Decision, LinkedRecord, Profile, SourceInfo, build_profile};
use anyhow::{Context, Result, anyhow};
use model::{Field, PersonId, RecordId, SourceId, UncertainDate};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

/// Persons per page of `out/persons/`.
const PERSONS_PER_PAGE: usize = 250;

/// What the step produced, for the main page and the console.
pub struct Analysed {
    pub persons: usize,
    pub records: usize,
    /// Persons with at least one conflicting field.
    pub conflicted: usize,
    /// Conflicting fields over all persons.
    pub conflicts: usize,
    /// Persons by how many records they were linked from.
    pub by_records: OneWay,
    pub results: Vec<AnalysisResult>,
}

/// The manifest's declarations for this step, validated.
struct Declarations {
    rule: ConsensusRule,
    cohorts: Vec<analysis::cohort::Cohort>,
    analyses: Vec<analysis::analyses::Analysis>,
}

fn declarations(project: &Project) -> Result<Declarations> {
    let located = |key: &str, message: &str| anyhow!(super::locate::manifest_error(&project.dir, &project.text, key, message));
    let rule: ConsensusRule = match project.manifest.sections.get("consensus") {
        None => ConsensusRule::default(),
        Some(v) => v.clone().try_into().map_err(|e: toml::de::Error| located("consensus", e.message()))?,
    };
    let cohorts: Vec<CohortSpec> = section_items(project, "cohorts", |v| v.try_into())?;
    let specs: Vec<AnalysisSpec> = section_items(project, "analyses", |v| v.try_into())?;
    let spec_error = |e: analysis::cohort::SpecError| located(&e.key, &e.message);
    let (cohorts, analyses) = analyses::validate(&cohorts, &specs).map_err(spec_error)?;
    let given: BTreeSet<Field> = project.manifest.sources.iter().flat_map(|s| s.columns.iter().map(|c| c.field)).collect();
    analyses::check_fields(&cohorts, &analyses, &given).map_err(spec_error)?;
    Ok(Declarations { rule, cohorts, analyses })
}

/// The items of an array of tables (`[[cohorts]]`), each read on its own so that an error
/// names the item (`cohorts[2]`) and its line.
fn section_items<T>(project: &Project, name: &str, read: impl Fn(toml::Value) -> Result<T, toml::de::Error>) -> Result<Vec<T>> {
    let located = |key: &str, message: &str| anyhow!(super::locate::manifest_error(&project.dir, &project.text, key, message));
    match project.manifest.sections.get(name) {
        None => Ok(Vec::new()),
        Some(toml::Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| read(item.clone()).map_err(|e| located(&format!("{name}[{i}]"), e.message())))
            .collect(),
        Some(_) => Err(located(name, &format!("expected [[{name}]] tables"))),
    }
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
    let profiles = profiles(contents, &sources, &declared.rule)?;
    let results = analyses::run_all(&declared.cohorts, &declared.analyses, &profiles);

    let pages: BTreeMap<&PersonId, usize> = profiles.keys().enumerate().map(|(i, id)| (id, i / PERSONS_PER_PAGE + 1)).collect();
    let link = |id: &PersonId| {
        let page = pages.get(id).copied().unwrap_or(1);
        let label = profiles.get(id).map_or_else(|| id.to_string(), |p| p.label.clone());
        (format!("persons/{page}.html#{}", anchor(id)), label)
    };
    let described = declared.rule.describe();
    let dir = out.join("analyses");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for result in &results {
        let json = serde_json::to_string_pretty(result)?;
        write(&dir.join(format!("{}.json", result.name)), &json)?;
        if let Figures::Network(network) = &result.figures {
            write(&dir.join(format!("{}.gexf", result.name)), &analysis::network::to_gexf(network))?;
        }
        write(&dir.join(format!("{}.html", result.name)), &report::analyses::analysis_page(result, report_title, &described, &link))?;
        let table = figures_table(&result.figures);
        table.write_csv(&dir.join(format!("{}.csv", result.name)))?;
        table.write_parquet(&dir.join(format!("{}.parquet", result.name)), "figures")?;
    }
    write(&dir.join("index.html"), &report::analyses::analyses_index(&results, report_title))?;
    write_person_pages(&profiles, &sources, &declared.rule, out, report_title)?;
    export_profiles(&profiles, out)?;
    let with_records: Vec<(PersonId, Category)> = profiles
        .values()
        .map(|p| (p.person.clone(), Category::Value(if p.records.len() == 1 { "1 record".to_owned() } else { format!("{} records", p.records.len()) })))
        .collect();
    Ok(Analysed {
        persons: profiles.len(),
        records: profiles.values().map(|p| p.records.len()).sum(),
        conflicted: profiles.values().filter(|p| p.conflicts() > 0).count(),
        conflicts: profiles.values().map(Profile::conflicts).sum(),
        by_records: breakdown::one_way(&with_records, analysis::proportion::Confidence::default()),
        results,
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// An HTML anchor for a person id: everything but letters and digits becomes `_` plus its code
/// (linkage's ids are letters and digits already, so they are their own anchors).
fn anchor(id: &PersonId) -> String {
    id.as_str().chars().map(|c| if c.is_alphanumeric() { c.to_string() } else { format!("_{:x}", c as u32) }).collect()
}

/// One profile per linked person, from the claims of all their current records. A record the
/// linkage step left without a person is an error: linkage assigns every current record.
fn profiles(contents: &Contents, sources: &BTreeMap<SourceId, SourceInfo>, rule: &ConsensusRule) -> Result<BTreeMap<PersonId, Profile>> {
    let person_of = |key: &str| contents.persons.get(key).map(String::as_str).ok_or_else(|| anyhow!("record {key} has no person: the linkage step did not assign it"));
    let mut by_person: BTreeMap<&str, BTreeMap<&str, LinkedRecord>> = BTreeMap::new();
    for record in &contents.records {
        let key = record.record_key.as_str();
        by_person.entry(person_of(key)?).or_default().insert(
            key,
            LinkedRecord { record: RecordId::new(key), source: SourceId::new(record.source_id.as_str()), assertions: Vec::new() },
        );
    }
    for row in &contents.assertions {
        let Some(assertion) = row.assertion() else { continue };
        let person = person_of(&row.record_key)?;
        if let Some(record) = by_person.get_mut(person).and_then(|records| records.get_mut(row.record_key.as_str())) {
            record.assertions.push(assertion);
        }
    }
    Ok(by_person
        .into_iter()
        .map(|(person, records)| {
            let person = PersonId::new(person);
            let records: Vec<LinkedRecord> = records.into_values().collect();
            (person.clone(), build_profile(person, &records, sources, rule, &store::Vocabularies))
        })
        .collect())
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

/// `profiles.csv`, `profiles.parquet` and `profiles.json` (see the module note).
fn export_profiles(profiles: &BTreeMap<PersonId, Profile>, out: &Path) -> Result<()> {
    let fields: Vec<Field> = profiles.values().flat_map(|p| p.attributes.iter().map(|a| a.field)).collect::<BTreeSet<_>>().into_iter().collect();
    let names: Vec<String> = fields.iter().map(|f| f.name()).collect();
    let mut schema: Vec<(&str, bool)> = vec![("person_id", false), ("label", false), ("records", true), ("sources", true), ("conflicts", true)];
    schema.extend(names.iter().map(|n| (n.as_str(), false)));
    let mut table = Table::new(&schema);
    for p in profiles.values() {
        let mut row = vec![
            Cell::Text(Some(p.person.to_string())),
            Cell::Text(Some(p.label.clone())),
            Cell::Int(p.records.len() as i64),
            Cell::Int(p.sources.len() as i64),
            Cell::Int(p.conflicts() as i64),
        ];
        row.extend(fields.iter().map(|f| Cell::Text(p.text(*f).map(str::to_owned))));
        table.push_row(row);
    }
    table.write_csv(&out.join("profiles.csv"))?;
    table.write_parquet(&out.join("profiles.parquet"), "profiles")?;

    let path = out.join("profiles.json");
    let file = std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut json = std::io::BufWriter::new(file);
    json.write_all(b"[")?;
    for (i, p) in profiles.values().enumerate() {
        json.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        json.write_all(profile_json(p)?.as_bytes())?;
    }
    json.write_all(b"\n]\n")?;
    json.flush().with_context(|| format!("cannot write {}", path.display()))
}

/// One person of `profiles.json` on one line, its keys in the documented order: records once,
/// everything else citing them by index.
fn profile_json(p: &Profile) -> Result<String> {
    let records: Vec<serde_json::Value> =
        p.records.iter().zip(&p.record_sources).map(|(r, s)| json!({ "record_id": r.as_str(), "source": s.as_str() })).collect();
    let index = |r: &RecordId| p.records.iter().position(|x| x == r);
    let values: serde_json::Map<String, serde_json::Value> = p.attributes.iter().map(|a| (a.field.name(), json!(a.consensus_value().display))).collect();
    let alternatives: serde_json::Map<String, serde_json::Value> = p
        .attributes
        .iter()
        .filter(|a| a.values.len() > 1)
        .map(|a| {
            let decided_by = match a.decision {
                Decision::Unanimous => "unanimous".to_owned(),
                Decision::FullForm => "full_form".to_owned(),
                Decision::By(step) => serde_json::to_value(step).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                Decision::Alphabetical => "alphabetical".to_owned(),
            };
            let values: serde_json::Map<String, serde_json::Value> =
                a.values.iter().map(|v| (v.display.clone(), json!(v.support.iter().map(|s| index(&s.record)).collect::<Vec<_>>()))).collect();
            (a.field.name(), json!({ "decided_by": decided_by, "conflict": a.conflict, "corroboration": a.corroboration, "values": values }))
        })
        .collect();
    let unparsed: Vec<serde_json::Value> =
        p.attributes.iter().flat_map(|a| a.unparsed.iter().map(move |s| json!({ "field": a.field.name(), "record": index(&s.record), "raw": s.raw }))).collect();
    let date = |d: Option<UncertainDate>| d.map(|d| d.to_string());
    let posts: Vec<serde_json::Value> = p
        .posts
        .iter()
        .map(|post| {
            json!({ "organisation": post.organisation, "unit": post.unit, "role": post.role, "from": date(post.from), "to": date(post.to),
                    "records": post.records.iter().map(index).collect::<Vec<_>>() })
        })
        .collect();
    Ok(format!(
        "{{\"person_id\":{},\"label\":{},\"records\":{},\"conflicts\":{},\"values\":{},\"alternatives\":{},\"unparsed\":{},\"posts\":{}}}",
        serde_json::to_string(p.person.as_str())?,
        serde_json::to_string(&p.label)?,
        serde_json::to_string(&records)?,
        p.conflicts(),
        serde_json::to_string(&values)?,
        serde_json::to_string(&alternatives)?,
        serde_json::to_string(&unparsed)?,
        serde_json::to_string(&posts)?
    ))
}


/// An analysis's main table, one row per number, for a spreadsheet or a data frame: breakdowns
/// one row per cell (`row`, `column` for two-way; the share is of the row, missing included,
/// and `share_of_known` of those in it with a value), time series one row
/// per bin and era, durations one per person, survival one per step of each curve, status one
/// per person, successions one per tenure, purges one per year, networks one per tie. Shares and
/// interval bounds are decimal text (empty where undefined); the member lists are in the JSON.
fn figures_table(figures: &Figures) -> Table {
    let text = |t: &str| Cell::Text(Some(t.to_owned()));
    let number = |x: Option<f64>| Cell::Text(x.map(|x| x.to_string()));
    let int = |n: u64| Cell::Int(n as i64);
    let date = |d: Option<UncertainDate>| Cell::Text(d.map(|d| d.to_string()));
    let shares = |p: &Proportion| {
        let bound = |i: Option<analysis::proportion::Interval>, upper: bool| number(i.map(|i| if upper { i.upper } else { i.lower }));
        vec![number(p.share), bound(p.wilson, false), bound(p.wilson, true), bound(p.exact, false), bound(p.exact, true)]
    };
    const SHARES: [(&str, bool); 5] = [("share", false), ("wilson_lower", false), ("wilson_upper", false), ("exact_lower", false), ("exact_upper", false)];
    let with_shares = |head: &[(&'static str, bool)]| -> Vec<(&'static str, bool)> { head.iter().chain(&SHARES).copied().collect() };
    // A breakdown cell's share among those with a value, and its Wilson bounds (empty for the
    // missing category).
    const KNOWN: [(&str, bool); 3] = [("share_of_known", false), ("known_wilson_lower", false), ("known_wilson_upper", false)];
    let known = |c: &breakdown::Cell| {
        let p = c.known.as_ref();
        let bound = |upper: bool| number(p.and_then(|p| p.wilson).map(|i| if upper { i.upper } else { i.lower }));
        vec![number(p.and_then(|p| p.share)), bound(false), bound(true)]
    };
    let with_known = |head: &[(&'static str, bool)]| -> Vec<(&'static str, bool)> { with_shares(head).into_iter().chain(KNOWN).collect() };
    match figures {
        Figures::OneWay(t) => {
            let mut table = Table::new(&with_known(&[("category", false), ("persons", true)]));
            for c in &t.cells {
                table.push_row([vec![text(c.category.label()), int(c.count)], shares(&c.proportion), known(c)].into_iter().flatten().collect());
            }
            table
        }
        Figures::TwoWay(t) => {
            let mut table = Table::new(&with_known(&[("row", false), ("column", false), ("persons", true)]));
            for r in &t.rows {
                for c in &r.cells {
                    table.push_row([vec![text(r.category.label()), text(c.category.label()), int(c.count)], shares(&c.proportion), known(c)].into_iter().flatten().collect());
                }
            }
            table
        }
        Figures::TimeSeries(series) => {
            let mut table = Table::new(&[("span", false), ("label", false), ("from", false), ("to", false), ("persons", true), ("approximate", true), ("possible", true)]);
            for (span, counts) in [("era", &series.eras), ("bin", &series.bins)] {
                for c in counts {
                    table.push_row(vec![text(span), text(&c.label), text(&c.from.to_string()), text(&c.to.to_string()), int(c.count), int(c.approximate), int(c.possible)]);
                }
            }
            table
        }
        Figures::Duration(d) => {
            let mut table = Table::new(&[("person_id", false), ("shortest_days", true), ("point_days", true), ("longest_days", true)]);
            for p in &d.durations {
                table.push_row(vec![text(p.person.as_str()), Cell::Int(p.shortest), Cell::Int(p.point), Cell::Int(p.longest)]);
            }
            table
        }
        Figures::Survival(band) => {
            let mut table = Table::new(&[
                ("curve", false),
                ("day", true),
                ("at_risk", true),
                ("events", true),
                ("censored", true),
                ("survival", false),
                ("standard_error", false),
            ]);
            for (curve, steps) in [("events_at_earliest", &band.earliest), ("midpoints", &band.point), ("events_at_latest", &band.latest)] {
                for s in &steps.steps {
                    table.push_row(vec![
                        text(curve),
                        Cell::Int(s.time),
                        int(s.at_risk),
                        int(s.events),
                        int(s.censored),
                        number(Some(s.survival)),
                        number(Some(s.standard_error)),
                    ]);
                }
            }
            table
        }
        Figures::StatusAt(status) => {
            let mut table = Table::new(&[("person_id", false), ("status", false)]);
            for (label, members) in [("still", &status.still), ("ended", &status.ended), ("uncertain", &status.uncertain), ("unknown", &status.unknown)] {
                for p in members {
                    table.push_row(vec![text(p.as_str()), text(label)]);
                }
            }
            table
        }
        Figures::Succession { posts } => {
            let mut table = Table::new(&[("post", false), ("holder", true), ("person_id", false), ("from", false), ("to", false)]);
            for post in posts {
                for (i, t) in post.holders.iter().enumerate() {
                    table.push_row(vec![text(&post.post.label()), Cell::Int(i as i64 + 1), text(t.person.as_str()), date(t.from), date(t.to)]);
                }
            }
            table
        }
        Figures::Purge(series) => {
            let mut table = Table::new(&with_shares(&[("year", true), ("at_start", true), ("purged", true), ("uncertain", true)]));
            for y in &series.years {
                table.push_row([vec![Cell::Int(y.year.into()), int(y.at_start), int(y.purged.len() as u64), int(y.uncertain)], shares(&y.share)].into_iter().flatten().collect());
            }
            table
        }
        Figures::Network(network) => {
            let mut table = Table::new(&[("source", false), ("target", false), ("tie", false), ("unit", false), ("certain", false), ("overlap_days", true)]);
            for e in &network.edges {
                let tie = serde_json::to_value(e.tie).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                table.push_row(vec![text(e.source.as_str()), text(e.target.as_str()), text(&tie), text(&e.unit), text(&e.certain.to_string()), Cell::Int(e.overlap_days)]);
            }
            table
        }
    }
}
