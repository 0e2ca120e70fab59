//! `kartoteka build DIR`: the project pipeline, one step after another.
//!
//! 1. load the manifest (`kartoteka.toml`);
//! 2. ingest every source into the register (`DIR/register.sqlite`), one transaction each;
//! 3. link the current records into persons, honouring reviewers' decisions, here or with
//!    `--cluster` on a cluster (`build/linkage.rs`:
//!    persons and scored pairs in the register, `out/clusters.csv`, `out/pairs.csv`), then read
//!    the current register back (later steps get persons from `Register::persons_of_current_records`);
//! 4. write the exports (`out/records.csv`, `assertions.csv`, `rejects.csv`, Parquet twins);
//! 5. profile the linked persons (one profile per person, combining their records), select the
//!    declared cohorts, run the declared analyses over persons (`out/analyses/`, `out/persons/`,
//!    `out/profiles.csv|parquet|json`; see `build/analyse.rs`);
//! 6. write the report (`out/index.html`), linking the persons and the analyses.
//!
//! Everything under `out/` is deterministic: same inputs, byte-identical files.

mod analyse;
mod export;
mod linkage;
mod locate;
mod page;
mod table;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use ingest::{Manifest, SourceSpec};
use model::Day;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{FileOutcome, FileVersion, Policy, Register, SourceEntry};

#[derive(clap::Args)]
pub struct Args {
    /// The project folder, holding `kartoteka.toml`.
    pub dir: PathBuf,
    /// Send bad rows to rejects (and `out/rejects.csv`) instead of aborting their source.
    #[arg(long)]
    pub lenient: bool,
    /// Run the linkage step's pair work on a cluster (incremental runs, which link only new
    /// records, stay here).
    #[command(flatten)]
    pub cluster: crate::link::ClusterArgs,
}

/// Test hook for the crash test: after this many records of an ingest are written (inside its
/// transaction), say so on stderr and stop there until killed.
const PAUSE_ENV: &str = "KARTOTEKA_TEST_PAUSE_AFTER_RECORDS";

/// The manifest with, per source, the JSON of its entry as written (the register keeps it, and
/// a change to it makes a new version of the source's files).
pub struct Project {
    pub dir: PathBuf,
    pub manifest: Manifest,
    entries: Vec<String>,
    /// (source, column) pairs the manifest marks as sensitive: withheld from exports and report.
    pub sensitive: BTreeSet<(String, String)>,
    /// The manifest as written, so an error can name the line of a key.
    pub text: String,
}

/// The manifest's sections beside `[[sources]]` and `[vocabularies]` that a build reads.
const SECTIONS: [&str; 5] = ["link", "estimate", "consensus", "cohorts", "analyses"];

pub fn run(args: &Args) -> Result<()> {
    let project = load_project(&args.dir)?;
    // A misspelt section (`[estimat]`, `[[analysis]]`) would otherwise be skipped in silence.
    if let Some(unknown) = project.manifest.sections.keys().find(|name| !SECTIONS.contains(&name.as_str())) {
        bail!("kartoteka.toml: [{unknown}]: unknown section (a build reads {})", SECTIONS.map(|s| format!("[{s}]")).join(", "));
    }
    analyse::check(&project)?;
    crate::estimate::Declared::from_section(project.manifest.sections.get("estimate"))?;
    // A malformed link spec is refused before anything is ingested, as the manifest's own errors are.
    linkage::declared_spec(&project)?;
    let mut register = Register::open_in(&args.dir)
        .with_context(|| format!("cannot open the register in {}", args.dir.display()))?;
    let policy = if args.lenient { Policy::Lenient } else { Policy::Strict };
    ingest_sources(&project, &mut register, policy)?;
    let out = args.dir.join("out");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let linked = linkage::run(&mut register, &project, &out, &now_utc(), &args.cluster)?;
    if linked.rerun {
        println!(
            "linked {} records into {} persons ({} scored pairs kept, {} decisions honoured, {} persons split or merged)",
            linked.records, linked.persons, linked.pairs, linked.decisions, linked.changes
        );
    } else {
        println!("linkage: unchanged ({} records in {} persons, {} decisions honoured)", linked.records, linked.persons, linked.decisions);
    }
    let contents = export::Contents::read(&register, &project)?;
    export::write(&contents, &out)?;
    // Profiles, cohorts and the declared analyses (their pages, JSON and person pages).
    let title = project.manifest.title.as_deref().unwrap_or("kartoteka");
    let analysed = analyse::run(&contents, &project, &out, title)?;
    println!(
        "{} persons profiled from {} records ({} with conflicting values, {} fields in all, kept as alternatives), {} analyses: {}",
        analysed.persons,
        analysed.records,
        analysed.conflicted,
        analysed.conflicts,
        analysed.results.len(),
        out.join("analyses/index.html").display()
    );
    // Multiple systems estimation over several linkages, when the manifest has `[estimate]`;
    // before the page, which shows it.
    let estimated = crate::estimate::build_step(&project.dir, project.manifest.sections.get("estimate"), &out)?;
    page::write(&contents, &project, &analysed, estimated.as_ref().map(|e| &e.result), &out)?;
    if let Some(estimated) = &estimated {
        println!("{}", estimated.line);
    }
    println!("report: {}", out.join("index.html").display());
    Ok(())
}

fn load_project(dir: &Path) -> Result<Project> {
    let text = std::fs::read_to_string(dir.join("kartoteka.toml")).with_context(|| format!("cannot read {}", dir.join("kartoteka.toml").display()))?;
    let manifest = Manifest::parse(&text).map_err(|e| anyhow::anyhow!(locate::manifest_error(dir, &text, &e.key, &e.message)))?;
    let raw: toml::Table = toml::from_str(&text)?;
    let vocabularies = raw.get("vocabularies").cloned().unwrap_or(toml::Value::Table(Default::default()));
    let raw_sources = raw.get("sources").and_then(toml::Value::as_array).cloned().unwrap_or_default();
    let entries = manifest
        .sources
        .iter()
        .map(|spec| {
            let entry = raw_sources
                .iter()
                .find(|s| s.get("id").and_then(toml::Value::as_str) == Some(spec.id.as_str()))
                .cloned()
                .unwrap_or(toml::Value::Table(Default::default()));
            serde_json::to_string(&serde_json::json!({ "source": entry, "vocabularies": vocabularies }))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sensitive = manifest
        .sources
        .iter()
        .flat_map(|s| {
            s.columns.iter().filter(|c| c.sensitive).map(|c| (s.id.to_string(), c.column.to_string()))
        })
        .collect();
    Ok(Project { dir: dir.to_owned(), manifest, entries, sensitive, text })
}

/// Step 2: every source, in manifest order. A source that fails (bad rows under the strict
/// policy, an unreadable file) is reported and left out; the build then fails after trying all.
fn ingest_sources(project: &Project, register: &mut Register, policy: Policy) -> Result<()> {
    let ingested_at = now_utc();
    let pause_after: Option<u64> = std::env::var(PAUSE_ENV).ok().and_then(|v| v.parse().ok());
    let mut failures = Vec::new();
    for (spec, entry) in project.manifest.sources.iter().zip(&project.entries) {
        match ingest_source(project, register, spec, entry, policy, &ingested_at, pause_after) {
            Ok(line) => println!("{line}"),
            Err(err) => {
                eprintln!("error: {}", crate::message(&err));
                failures.push(spec.id.to_string());
            }
        }
    }
    if !failures.is_empty() {
        bail!("{} source(s) not ingested: {}; nothing of them was written", failures.len(), failures.join(", "));
    }
    // Files the manifest no longer declares (renamed, replaced, their source removed) would
    // otherwise stay current beside their successors and be linked, exported and counted twice.
    let declared = project
        .manifest
        .sources
        .iter()
        .flat_map(|spec| spec.files.iter().map(|file| (spec.id.to_string(), file.path.clone())))
        .collect();
    for (source, path) in register.withdraw_undeclared(&declared, &ingested_at)? {
        println!("{source}: {path} is no longer in the manifest; its records are withdrawn (kept in the register, no longer current)");
    }
    Ok(())
}

fn ingest_source(
    project: &Project,
    register: &mut Register,
    spec: &SourceSpec,
    manifest_json: &str,
    policy: Policy,
    ingested_at: &str,
    pause_after: Option<u64>,
) -> Result<String> {
    let source = SourceEntry { id: &spec.id, title: &spec.title, kind: spec.kind.as_str(), manifest_json };
    let reading = spinner(&format!("reading {}", spec.id));
    let mut reads = Vec::with_capacity(spec.files.len());
    let mut unchanged = 0;
    for file in &spec.files {
        let (sha256, _) = ingest::hash_file(&project.dir, file)?;
        if register.is_current(&source, &file.path, &sha256)? {
            unchanged += 1;
            continue;
        }
        let mut records = Vec::new();
        let summary = ingest::read_file_with(&project.dir, spec, file, |record| {
            records.push(record);
            if records.len() % 4096 == 0 {
                reading.set_position(reading.position() + 4096);
            }
        })?;
        reads.push((summary, records));
    }
    reading.finish_and_clear();
    let files: Vec<FileVersion> = reads
        .iter()
        .map(|(summary, records)| FileVersion {
            path: &summary.path,
            sha256: &summary.sha256,
            bytes: summary.bytes,
            records,
            diagnostics: &summary.diagnostics,
        })
        .collect();
    let total: usize = reads.iter().map(|(_, records)| records.len()).sum();
    let storing = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} records ({per_sec})").expect("valid template"),
    );
    storing.set_message(format!("storing {}", spec.id));
    let outcomes = register.ingest_source(&source, &files, policy, ingested_at, &mut |written| {
        if written % 1024 == 0 {
            storing.set_position(written);
        }
        if pause_after == Some(written) {
            eprintln!("paused after {written} records");
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
    });
    storing.finish_and_clear();
    Ok(describe(spec, unchanged, &outcomes?))
}

/// One line per source: what was stored, or that nothing changed.
fn describe(spec: &SourceSpec, mut unchanged: usize, outcomes: &[FileOutcome]) -> String {
    let (mut stored, mut records, mut rejects, mut diagnostics) = (0, 0, 0, 0);
    for outcome in outcomes {
        match outcome {
            FileOutcome::Unchanged { .. } => unchanged += 1,
            FileOutcome::Stored { records: r, rejects: j, diagnostics: d, .. } => {
                stored += 1;
                records += r;
                rejects += j;
                diagnostics += d;
            }
        }
    }
    // Dirty but readable rows (ragged, a guessed encoding) are stored as diagnostics; say so
    // here, or a historian reading only the console never learns of them.
    let noticed = if diagnostics > 0 { format!(", {diagnostics} diagnostic(s) (out/index.html lists them)") } else { String::new() };
    if stored == 0 {
        format!("{}: unchanged ({unchanged} file(s))", spec.id)
    } else {
        format!("{}: {stored} new file version(s), {records} records stored, {rejects} rejected{noticed}; {unchanged} file(s) unchanged", spec.id)
    }
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("{spinner} {msg} {pos} records").expect("valid template"));
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The current time as RFC 3339 UTC, for `source_files.ingested_at` (never written to `out/`).
fn now_utc() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let day = Day::from_days((secs / 86_400) as i32);
    let s = secs % 86_400;
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}
