//! The Memorial example (`examples/memorial`) on the real extracts in `shared/data`: `kartoteka
//! build` runs, and its analyses agree with figures computed here straight from the workbooks
//! with calamine, without any of kartoteka's parsing: executions per region, arrests per month
//! in 1937-38, and days from arrest to trial.
//!
//! Analyses count linked persons, not rows. The test takes the persons from `out/clusters.csv`
//! (linkage is not what is tested here) and combines each person's rows itself by the documented
//! consensus rule as it applies to one source: the value most rows give; on a tie a date given to
//! the day before a vaguer one; then the first value in alphabetical order.

use calamine::{Data, Reader, open_workbook_auto};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const FILES: [&str; 4] = ["0-gorky-oblast-2.xlsx", "4-Altay.xlsx", "6-SevOsetia_2.xlsx", "7-Altay_Republic.xlsx"];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/memorial-victims").canonicalize().expect("the shared reference data is present")
}

/// One data row, as this test reads it.
struct Row {
    file: &'static str,
    /// The 1-based row number a spreadsheet shows.
    row: u64,
    region: String,
    /// The execution cell read as a flag; `None` when empty.
    executed: Option<bool>,
    arrest: DateCell,
    trial: DateCell,
}

/// A date cell: given to the day (days since 1970), given otherwise (the text), or empty.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum DateCell {
    Day(i64),
    Vaguer(String),
    Empty,
}

/// Days since 1970-01-01 of a civil date.
fn days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// A date given to the day: `dd/mm/yy` (19yy), `dd.mm.yyyy`, or an Excel date cell.
fn exact_day(cell: &Data) -> Option<i64> {
    match cell {
        Data::DateTime(dt) => Some(dt.as_f64().floor() as i64 - 25_569),
        Data::String(s) => {
            let s = s.trim();
            let parts: Vec<&str> = s.split(['/', '.']).collect();
            let [d, m, y] = parts.as_slice() else { return None };
            let (d, m, y): (i64, i64, i64) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
            let y = if y < 100 { 1900 + y } else { y };
            let valid = (1..=12).contains(&m) && d >= 1 && d <= [31, if y % 4 == 0 { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
            valid.then(|| days(y, m, d))
        }
        _ => None,
    }
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.trim().to_owned(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn date_cell(cell: &Data) -> DateCell {
    match (exact_day(cell), text(cell)) {
        (Some(day), _) => DateCell::Day(day),
        (None, t) if t.is_empty() => DateCell::Empty,
        (None, t) => DateCell::Vaguer(t.to_lowercase()),
    }
}

fn read_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for file in FILES {
        let mut book = open_workbook_auto(data_dir().join(file)).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        let first_row = u64::from(range.start().unwrap().0) + 1;
        let mut it = range.rows().enumerate();
        let (_, header) = it.next().unwrap();
        let col = |name: &str| header.iter().position(|h| text(h) == name).unwrap_or_else(|| panic!("{file}: no column {name}"));
        let (region, execution, arrest, trial) = (col("Region"), col("execution (true/falce)"), col("arrest (date)"), col("trial (date)"));
        for (i, cells) in it {
            rows.push(Row {
                file,
                row: first_row + i as u64,
                region: text(&cells[region]),
                executed: match text(&cells[execution]).to_lowercase().as_str() {
                    "t" | "true" => Some(true),
                    "f" | "false" | "falce" => Some(false),
                    _ => None,
                },
                arrest: date_cell(&cells[arrest]),
                trial: date_cell(&cells[trial]),
            });
        }
    }
    rows
}

/// The value most of a person's rows give (empty cells give none); on a tie the smallest by
/// `Ord`, which the callers order as the rule does.
fn consensus<T: Ord + Clone>(values: impl IntoIterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let most = *counts.values().max()?;
    counts.into_iter().find(|(_, n)| *n == most).map(|(v, _)| v)
}

/// A person's date: the most frequent, a day before a vaguer date, earlier days first.
fn consensus_day(cells: impl IntoIterator<Item = DateCell>) -> Option<i64> {
    match consensus(cells.into_iter().filter(|c| *c != DateCell::Empty))? {
        DateCell::Day(day) => Some(day),
        _ => None,
    }
}

/// The persons of `out/clusters.csv`, each with the (file name, row) of their records.
fn persons(out: &Path) -> BTreeMap<String, Vec<(String, u64)>> {
    let mut reader = csv::Reader::from_path(out.join("clusters.csv")).unwrap();
    let mut persons: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for r in reader.records() {
        let r = r.unwrap();
        // `source:path#sheet:row`
        let (path_sheet, row) = r[0].rsplit_once(':').unwrap();
        let path = path_sheet.rsplit_once('#').map_or(path_sheet, |(p, _)| p);
        let name = Path::new(path).file_name().unwrap().to_string_lossy().into_owned();
        persons.entry(r[1].to_owned()).or_default().push((name, row.parse().unwrap()));
    }
    persons
}

/// Builds the example in a temporary folder whose manifest points at the data by absolute path.
fn build_example() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/memorial/kartoteka.toml")).unwrap();
    let manifest = manifest.replace("../../../shared/data/memorial-victims", &data_dir().to_string_lossy());
    std::fs::write(dir.path().join("kartoteka.toml"), manifest).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kartoteka")).arg("build").arg(dir.path()).arg("--lenient").output().unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{log}");
    (dir, log)
}

/// (file name, row) of every rejected row: those records are not in the register.
fn rejected(out: &Path) -> BTreeSet<(String, u64)> {
    let mut reader = csv::Reader::from_path(out.join("rejects.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (file, row) = (at("file"), at("row"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let name = Path::new(&r[file]).file_name().unwrap().to_string_lossy().into_owned();
            (name, r[row].parse().unwrap())
        })
        .collect()
}

fn analysis(out: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("analyses").join(format!("{name}.json"))).unwrap()).unwrap()
}

#[test]
fn memorial_analyses_agree_with_a_direct_reading_of_the_workbooks() {
    let (dir, log) = build_example();
    let out = dir.path().join("out");
    let rejected = rejected(&out);
    let rows: BTreeMap<(String, u64), Row> =
        read_rows().into_iter().filter(|r| !rejected.contains(&(r.file.to_owned(), r.row))).map(|r| ((r.file.to_owned(), r.row), r)).collect();
    assert!(rows.len() > 35_000, "most of the 41,348 rows are kept: {} ({} rejected)\n{log}", rows.len(), rejected.len());
    let persons: Vec<Vec<&Row>> = persons(&out).into_values().map(|keys| keys.iter().map(|k| &rows[k]).collect()).collect();
    assert_eq!(persons.iter().map(Vec::len).sum::<usize>(), rows.len(), "every kept row is one person's record");
    let linked = persons.iter().filter(|p| p.len() > 1).count();
    assert!(persons.len() < rows.len() && linked > 0, "near-duplicates are linked: {} persons, {linked} of several rows", persons.len());
    assert!(log.contains(&format!("{} persons profiled from {} records", persons.len(), rows.len())), "{log}");
    let profiles = std::fs::read_to_string(out.join("profiles.csv")).unwrap();
    assert_eq!(profiles.lines().count(), persons.len() + 1, "one profile per person");

    // Executions per region, counting persons: executed and region by the rule, missing region
    // as its own category. A person whose rows tie between executed and not is possibly in the
    // cohort (the rule breaks the tie only alphabetically), and the cohort includes the possible.
    let mut executed: BTreeMap<String, u64> = BTreeMap::new();
    let mut tied = 0;
    for p in &persons {
        let flags: Vec<bool> = p.iter().filter_map(|r| r.executed).collect();
        let (yes, no) = (flags.iter().filter(|f| **f).count(), flags.iter().filter(|f| !**f).count());
        tied += usize::from(yes > 0 && yes == no);
        if yes > 0 && yes >= no {
            let region = consensus(p.iter().map(|r| r.region.clone()).filter(|r| !r.is_empty())).unwrap_or_else(|| "(missing)".into());
            *executed.entry(region).or_default() += 1;
        }
    }
    let by_region = analysis(&out, "executed-per-region");
    let figures = &by_region["figures"];
    let computed: BTreeMap<String, u64> = figures["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["category"]["value"].as_str().unwrap_or("(missing)").to_owned(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(computed, executed);
    assert!(executed.values().sum::<u64>() > 1000);
    assert_eq!(by_region["cohort"]["possible"].as_array().unwrap().len(), tied, "the tied persons are the possible members");
    assert!(tied > 100, "{tied}");

    // Arrests per month, 1937-38: the persons whose date is given to the day are exactly the
    // counts (a date given only as the year is placed in no month, not in its midpoint's July).
    let mut per_month: BTreeMap<String, u64> = BTreeMap::new();
    for day in persons.iter().filter_map(|p| consensus_day(p.iter().map(|r| r.arrest.clone()))) {
        let (start, end) = (days(1937, 1, 1), days(1939, 1, 1));
        if (start..end).contains(&day) {
            let (y, m) = (1937..=1938).flat_map(|y| (1..=12).map(move |m| (y, m))).rfind(|&(y, m)| days(y, m, 1) <= day).unwrap();
            *per_month.entry(format!("{y:04}-{m:02}")).or_default() += 1;
        }
    }
    let series = analysis(&out, "arrests-per-month-1937-38");
    let bins = series["figures"]["bins"].as_array().unwrap();
    assert_eq!(bins.len(), 24);
    for bin in bins {
        let label = bin["label"].as_str().unwrap();
        let count = bin["count"].as_u64().unwrap();
        assert_eq!(count, per_month.get(label).copied().unwrap_or(0), "{label}");
        assert!(bin["possible"].as_u64().unwrap() >= count);
    }
    let year_only = persons
        .iter()
        .filter(|p| matches!(consensus(p.iter().map(|r| r.arrest.clone()).filter(|c| *c != DateCell::Empty)), Some(DateCell::Vaguer(_))))
        .count();
    assert_eq!(series["figures"]["imprecise"].as_array().unwrap().len(), year_only, "dates vaguer than a month are listed apart");
    assert!(year_only > 1000, "{year_only}");
    let peak = bins.iter().max_by_key(|b| b["count"].as_u64().unwrap()).unwrap();
    assert!(peak["label"].as_str().unwrap().starts_with("1937"), "the mass operations peak in 1937: {peak}");

    // Days from arrest to trial for the persons whose two dates are given to the day.
    let mut exact: Vec<i64> = persons
        .iter()
        .filter_map(|p| Some(consensus_day(p.iter().map(|r| r.trial.clone()))? - consensus_day(p.iter().map(|r| r.arrest.clone()))?))
        .filter(|d| *d >= 0)
        .collect();
    exact.sort_unstable();
    let durations = analysis(&out, "days-arrest-to-trial");
    let mut reported: Vec<i64> = durations["figures"]["durations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["shortest"] == d["longest"])
        .map(|d| d["point"].as_i64().unwrap())
        .collect();
    reported.sort_unstable();
    assert_eq!(reported.len(), exact.len());
    assert_eq!(reported, exact);
    assert!(exact.len() > 1000, "{}", exact.len());
    let median = (exact[(exact.len() - 1) / 2] + exact[exact.len() / 2]) as f64 / 2.0;
    let all = &durations["figures"]["median"];
    assert!(all["lower"].as_f64().unwrap() <= all["point"].as_f64().unwrap() && all["point"].as_f64().unwrap() <= all["upper"].as_f64().unwrap());
    assert!(median > 0.0 && median < 365.0, "median {median} days");

    // "сведений нет" (no information) is no sentence: it is among the missing.
    let sentences = analysis(&out, "sentences-by-nationality");
    let columns: Vec<&str> = sentences["figures"]["columns"].as_array().unwrap().iter().filter_map(|c| c["value"].as_str()).collect();
    assert!(columns.contains(&"death") && !columns.iter().any(|c| c.to_lowercase().contains("сведений")), "{columns:?}");

    // Every analysis has its page, and persons have theirs.
    for name in ["executed-per-region", "arrests-per-month-1937-38", "days-arrest-to-trial", "sentences-by-nationality", "executed-by-education", "rehabilitations-per-year"] {
        assert!(out.join("analyses").join(format!("{name}.html")).exists(), "{name}");
    }
    assert!(out.join("persons/1.html").exists());
}
