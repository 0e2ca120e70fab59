//! The reference lists in `shared/data` ingest through the fixture manifest with every row
//! accounted for, dates parsed into intervals, packed dates decoded and `ВМН` read as death.

use expect_test::expect;
use ingest::{Manifest, SourceRead, read_source};
use model::{EventKind, EventPart, Field, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference")
}

fn read(id: &str) -> SourceRead {
    let manifest = Manifest::load(&project()).expect("fixture manifest");
    read_source(&project(), manifest.source(id).expect("source in the fixture")).expect("reference data reads")
}

/// Per date column: (parsed, unparsed) assertion counts, over all files of a source.
fn date_counts(read: &SourceRead) -> BTreeMap<String, (usize, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for assertion in read.records().flat_map(|r| &r.assertions) {
        if assertion.field.value_kind() != model::ValueKind::Date {
            continue;
        }
        let entry = counts.entry(assertion.column.to_string()).or_default();
        if assertion.value.is_unparsed() { entry.1 += 1 } else { entry.0 += 1 }
    }
    counts
}

/// Every unparsed assertion has an error diagnostic at its file, row and column.
fn assert_unparsed_are_reported(read: &SourceRead) {
    for file in &read.files {
        let reported: std::collections::BTreeSet<(u64, String)> = file
            .summary
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.row.unwrap(), d.column.as_deref().unwrap_or("").to_owned()))
            .collect();
        for record in &file.records {
            for assertion in record.assertions.iter().filter(|a| a.value.is_unparsed()) {
                assert!(reported.contains(&(record.locator.row, assertion.column.to_string())), "{:?}", assertion);
            }
        }
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[test]
fn memorial_workbooks_rows_dates_packed_dates_and_sentences() {
    let read = read("memorial-victims");
    let per_file: Vec<String> = read
        .files
        .iter()
        .map(|f| {
            assert_eq!(f.summary.records, f.records.len() as u64);
            assert_eq!(f.summary.sheet.as_deref(), Some("Лист1"));
            format!("{} {}", file_name(&f.summary.path), f.records.len())
        })
        .collect();
    expect![[r#"
        [
            "0-gorky-oblast-2.xlsx 11705",
            "4-Altay.xlsx 23792",
            "6-SevOsetia_2.xlsx 2607",
            "7-Altay_Republic.xlsx 3244",
        ]
    "#]]
    .assert_debug_eq(&per_file);
    // Rows are numbered as a spreadsheet shows them: data starts under the header, on row 2.
    for file in &read.files {
        assert_eq!(file.records.first().unwrap().locator.row, 2);
        assert_eq!(file.records.last().unwrap().locator.row, file.records.len() as u64 + 1);
    }

    // (parsed, unparsed) per date column; the few unparsed are real errors in the data
    // ("0" as an arrest date; packed rehabilitation dates naming 31 April, 31 June, month 0).
    expect![[r#"
        {
            "arrest (date)": (
                38443,
                1,
            ),
            "birthyear": (
                41060,
                0,
            ),
            "execution (date)": (
                17676,
                0,
            ),
            "rehabilitation (date)": (
                22286,
                3,
            ),
            "trial (date)": (
                33914,
                0,
            ),
        }
    "#]]
    .assert_debug_eq(&date_counts(&read));
    assert_unparsed_are_reported(&read);
    let errors: Vec<String> = read
        .diagnostics()
        .filter(|d| d.is_error())
        .map(|d| d.to_string().replace("../../../../../../shared/data/memorial-victims/", ""))
        .collect();
    expect![[r#"
        [
            "0-gorky-oblast-2.xlsx[Лист1]:10679: column \"arrest (date)\": expected a date, found \"0\"",
            "4-Altay.xlsx[Лист1]:8702: column \"rehabilitation (date)\": expected a date, found \"82079\", not a packed date",
            "4-Altay.xlsx[Лист1]:12249: column \"rehabilitation (date)\": expected a date, found \"96991\", not a packed date",
            "4-Altay.xlsx[Лист1]:22500: column \"rehabilitation (date)\": expected a date, found \"80927\", not a packed date",
        ]
    "#]]
    .assert_debug_eq(&errors);

    // Packed dates, checked against the values the data's README gives.
    let rehabilitation = Field::Event(EventKind::Rehabilitation, EventPart::Date);
    let mut decoded: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for assertion in read.records().flat_map(|r| &r.assertions).filter(|a| a.field == rehabilitation) {
        if ["96891", "80961", "81543"].contains(&assertion.raw.as_str()) {
            let date = assertion.value.date().expect("decoded");
            let shown = format!("{}..{} {:?}", date.earliest(), date.latest(), date.precision());
            let seen = decoded.entry(assertion.raw.as_str()).or_default();
            if !seen.contains(&shown) {
                seen.push(shown);
            }
        }
    }
    expect![[r#"
        {
            "80961": [
                "1958-02-01..1958-02-01 Day",
            ],
            "81543": [
                "1959-04-07..1959-04-07 Day",
            ],
        }
    "#]]
    .assert_debug_eq(&decoded);
    // A packed 0 means "unknown": no assertion, no diagnostic.
    let zero_cells = read.records().filter(|r| r.cell("rehabilitation (date)") == Some("0")).count();
    let zero_assertions =
        read.records().flat_map(|r| &r.assertions).filter(|a| a.field == rehabilitation && a.raw == "0").count();
    assert_eq!((zero_cells > 1000, zero_assertions), (true, 0));

    let sentence = Field::Event(EventKind::Sentence, EventPart::Detail);
    let vmn_cells = read.records().filter(|r| r.cell("conviction").map(str::trim) == Some("ВМН")).count();
    let deaths = read
        .records()
        .flat_map(|r| &r.assertions)
        .filter(|a| a.field == sentence)
        .filter(|a| matches!(&a.value, Value::Event { event } if event.detail.as_deref() == Some("death")))
        .count();
    assert_eq!((vmn_cells, deaths), (19_491, 19_491));
}

#[test]
fn moscow_list_every_row_every_date() {
    let read = read("moscow-executed");
    let file = &read.files[0];
    assert_eq!(file.summary.records, 11_788);
    assert_eq!(file.records.len(), 11_788);
    assert_eq!(file.summary.encoding, Some(ingest::Encoding::Utf8));
    expect![[r#"
        {
            "birth_year": (
                11036,
                0,
            ),
            "execution_date": (
                11788,
                0,
            ),
        }
    "#]]
    .assert_debug_eq(&date_counts(&read));
    assert_eq!(read.diagnostics().count(), 0);
    // The printed page is kept on the locator; the name stays whole.
    let first = &file.records[0];
    assert_eq!((first.locator.row, first.locator.page.as_deref()), (2, Some("1")));
    let name = first.assertions.iter().find(|a| a.field == Field::Name).unwrap();
    assert_eq!(name.value, Value::Text { text: "Крон Арнольд Фрицевич".into() });
}
