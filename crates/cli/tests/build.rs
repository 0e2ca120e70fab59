//! `kartoteka build`: the shipped example, determinism of `out/`, strict and lenient policies.

mod common;

use common::{build, copy_project, example_dir, out_files, stderr, stdout, write_list_project};
use std::path::Path;

#[test]
fn the_readme_example_builds_and_says_where_the_report_is() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(&example_dir(), dir.path());
    let output = build(dir.path(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = format!("report: {}", dir.path().join("out/index.html").display());
    assert!(stdout(&output).contains(&expected), "{}", stdout(&output));
    let names: Vec<String> = out_files(dir.path()).into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "analyses/defections-per-year.csv",
            "analyses/defections-per-year.html",
            "analyses/defections-per-year.json",
            "analyses/defections-per-year.parquet",
            "analyses/index.html",
            "analyses/sentences.csv",
            "analyses/sentences.html",
            "analyses/sentences.json",
            "analyses/sentences.parquet",
            "assertions.csv",
            "assertions.parquet",
            "clusters.csv",
            "index.html",
            "pairs.csv",
            "persons/1.html",
            "profiles.csv",
            "profiles.json",
            "profiles.parquet",
            "records.csv",
            "records.parquet",
            "rejects.csv"
        ]
    );
    let records = std::fs::read_to_string(dir.path().join("out/records.csv")).unwrap();
    // 60 persons on the KGB list, 28 in the press list, one header line.
    assert_eq!(records.lines().count(), 60 + 28 + 1);
    // One profile per linked person: as many as `clusters.csv` has distinct persons.
    let clusters = std::fs::read_to_string(dir.path().join("out/clusters.csv")).unwrap();
    let persons: std::collections::BTreeSet<&str> = clusters.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
    assert!(persons.len() < 88, "the press reports are linked to the list: {} persons", persons.len());
    assert!(stdout(&output).contains(&format!("{} persons profiled from 88 records", persons.len())), "{}", stdout(&output));
    let profiles = std::fs::read_to_string(dir.path().join("out/profiles.csv")).unwrap();
    assert_eq!(profiles.lines().count(), persons.len() + 1);
    let parquet = parquet::file::reader::SerializedFileReader::new(std::fs::File::open(dir.path().join("out/profiles.parquet")).unwrap()).unwrap();
    let first_ids: Vec<String> = parquet::file::reader::FileReader::get_row_iter(&parquet, None)
        .unwrap()
        .map(|row| parquet::record::RowAccessor::get_string(&row.unwrap(), 0).unwrap().clone())
        .collect();
    let csv_ids: Vec<&str> = profiles.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(first_ids, csv_ids, "the Parquet twin has the CSV's persons in the same order");
    // The sentences breakdown as CSV: one row per category, the persons adding up to everyone.
    let sentences = std::fs::read_to_string(dir.path().join("out/analyses/sentences.csv")).unwrap();
    assert!(sentences.starts_with("category,persons,share,wilson_lower,wilson_upper,exact_lower,exact_upper,share_of_known,known_wilson_lower,known_wilson_upper\n"), "{sentences}");
    // The missing are a category of their own and outside the share of those with a value.
    let missing = sentences.lines().find(|l| l.starts_with("(missing),")).expect("the list gives no sentence for the press reports");
    assert!(missing.ends_with(",,,"), "{missing}");
    let counted: usize = sentences.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse::<usize>().unwrap()).sum();
    assert_eq!(counted, persons.len(), "{sentences}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/profiles.json")).unwrap()).unwrap();
    let linked: Vec<&serde_json::Value> = json.as_array().unwrap().iter().filter(|p| p["records"].as_array().unwrap().len() > 1).collect();
    assert_eq!(json.as_array().unwrap().len(), persons.len());
    assert!(linked.iter().any(|p| p["records"].as_array().unwrap().iter().any(|r| r["source"] == "western-press")), "a person combines a list entry and a press report");
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(html.contains("SIMULATED"));
    assert!(html.contains("<a href=\"analyses/index.html\">Analyses</a>"), "the report links the analyses");
    assert!(html.contains("encoding detected as cp1251"), "the CP1251 installment is reported");
}

#[test]
fn out_is_byte_identical_across_builds_and_rebuilds() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    for dir in [first.path(), second.path()] {
        copy_project(&example_dir(), dir);
        assert!(build(dir, &[]).status.success());
    }
    let files = out_files(first.path());
    assert_eq!(files, out_files(second.path()), "two fresh builds differ");
    let rerun = build(first.path(), &[]);
    assert!(stdout(&rerun).contains("kgb-list: unchanged (3 file(s))"), "{}", stdout(&rerun));
    assert_eq!(files, out_files(first.path()), "a rebuild of an unchanged project differs");
}

fn bad_project(dir: &Path) {
    let columns = r#""Фамилия" = "surname"
"Арест" = "arrest.date"
"#;
    write_list_project(dir, "title = \"policy test\"\n", columns, "Фамилия,Арест\nИванов,15.10.1938\nПетров,весна 193?\n=1+2,1937\n");
}

#[test]
fn strict_build_names_the_bad_cell_and_writes_nothing_of_the_source() {
    let dir = tempfile::tempdir().unwrap();
    bad_project(dir.path());
    let output = build(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains(r#"list.csv:3: column "Арест": expected a date"#), "{message}");
    assert!(message.contains("весна 193?"), "{message}");
    let register = store::Register::open_in(dir.path()).unwrap();
    assert!(register.files(false).unwrap().is_empty(), "nothing of the source is written");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn lenient_build_sends_the_bad_row_to_rejects() {
    let dir = tempfile::tempdir().unwrap();
    bad_project(dir.path());
    let output = build(dir.path(), &["--lenient"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("2 records stored, 1 rejected"), "{}", stdout(&output));
    let rejects = std::fs::read_to_string(dir.path().join("out/rejects.csv")).unwrap();
    let mut lines = rejects.lines();
    assert_eq!(lines.next(), Some("source,file,file_version,sheet,row,column,reason,cells"));
    let reject = lines.next().unwrap();
    assert!(reject.starts_with("list,list.csv,1,,3,Арест,"), "{reject}");
    assert!(reject.contains(r#"""raw"":""весна 193?"""#), "the reject keeps the raw cells: {reject}");
    let assertions = std::fs::read_to_string(dir.path().join("out/assertions.csv")).unwrap();
    assert!(assertions.contains(",'=1+2,"), "a formula-like cell is guarded: {assertions}");
    let html = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(html.contains("2 records, 1 rejected rows"), "the report counts rejects");
}

/// A stray carriage return splits a row for the CSV reader; the two parts used to share a line
/// number, and the register refused the second with a raw UNIQUE constraint error.
#[test]
fn a_stray_carriage_return_makes_two_rows_not_a_database_error() {
    let dir = tempfile::tempdir().unwrap();
    bad_project(dir.path());
    std::fs::write(dir.path().join("list.csv"), "Фамилия,Арест\r\nИванов\r,15.10.1938\r\nПетров,1937\r\n").unwrap();
    let output = build(dir.path(), &["--lenient"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("3 records stored, 0 rejected, 1 diagnostic(s) (out/index.html lists them)"), "{}", stdout(&output));
}

/// A build that fails on a broken file keeps what the last good build stored, and the next
/// build after the fix works.
#[test]
fn an_emptied_file_is_refused_by_name_and_the_register_keeps_the_good_version() {
    let dir = tempfile::tempdir().unwrap();
    bad_project(dir.path());
    let good = "Фамилия,Арест\nИванов,15.10.1938\n";
    std::fs::write(dir.path().join("list.csv"), good).unwrap();
    assert!(build(dir.path(), &[]).status.success());
    std::fs::write(dir.path().join("list.csv"), "").unwrap();
    let output = build(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.starts_with("error: list.csv: no header row (the file is empty"), "{message}");
    let records = std::fs::read_to_string(dir.path().join("out/records.csv")).unwrap();
    assert!(records.contains("Иванов"), "the good build's export stands: {records}");
    let register = store::Register::open_in(dir.path()).unwrap();
    assert_eq!(register.files(true).unwrap().len(), 1, "still the good version only");
    std::fs::write(dir.path().join("list.csv"), format!("{good}Петров,1937\n")).unwrap();
    let output = build(dir.path(), &[]);
    assert!(stdout(&output).contains("1 new file version(s), 2 records stored"), "{}", stdout(&output));
}

#[test]
fn an_analysis_of_a_field_no_source_gives_is_refused_with_the_manifest_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(&example_dir(), dir.path());
    let path = dir.path().join("kartoteka.toml");
    let manifest = std::fs::read_to_string(&path).unwrap();
    let line = manifest.lines().position(|l| l == "fields = \"sentence.detail\"").expect("the example breaks sentences down") + 1;
    for (field, message) in [
        ("party", "party is given by no source (the sources give: surname, "),
        ("sentense.detail", "unknown field \"sentense.detail\""),
    ] {
        std::fs::write(&path, manifest.replace("fields = \"sentence.detail\"", &format!("fields = \"{field}\""))).unwrap();
        let output = build(dir.path(), &[]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let expected = format!("{}:{line}: analyses[1].fields: {message}", path.display());
        assert!(stderr(&output).contains(&expected), "{expected}\n{}", stderr(&output));
        assert!(!dir.path().join("out").exists(), "refused before anything is built");
    }
}

/// A file renamed in the manifest: the old path's records used to stay current beside the new
/// path's, so every record of it was linked, exported and counted twice.
#[test]
fn a_file_renamed_in_the_manifest_replaces_the_old_path_instead_of_doubling_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_project(&example_dir(), dir.path());
    assert!(build(dir.path(), &[]).status.success());
    let records_before = std::fs::read_to_string(dir.path().join("out/records.csv")).unwrap().lines().count();
    std::fs::rename(dir.path().join("data/western-press.csv"), dir.path().join("data/press.csv")).unwrap();
    let manifest = std::fs::read_to_string(dir.path().join("kartoteka.toml")).unwrap();
    std::fs::write(dir.path().join("kartoteka.toml"), manifest.replace("data/western-press.csv", "data/press.csv")).unwrap();
    let output = build(dir.path(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(said.contains("western-press: data/western-press.csv is no longer in the manifest; its records are withdrawn"), "{said}");
    assert!(said.contains("linked 88 records into 64 persons"), "{said}");
    let records_after = std::fs::read_to_string(dir.path().join("out/records.csv")).unwrap().lines().count();
    assert_eq!(records_after, records_before);
}

/// A misspelt section used to be passed over in silence: no estimate, no analyses, no error.
#[test]
fn a_misspelt_section_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    bad_project(dir.path());
    let path = dir.path().join("kartoteka.toml");
    let manifest = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{manifest}\n[estimat]\nmethods = [\"chapman\"]\n")).unwrap();
    let output = build(dir.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim(),
        "error: kartoteka.toml: [estimat]: unknown section (a build reads [link], [estimate], [consensus], [cohorts], [analyses])"
    );
}

/// The policy-test project with a clean list and `link` appended to its manifest, built.
fn build_with_link_section(dir: &Path, link: &str) -> std::process::Output {
    bad_project(dir);
    std::fs::write(dir.join("list.csv"), "Фамилия,Арест\nИванов,15.10.1938\n").unwrap();
    let path = dir.join("kartoteka.toml");
    let manifest = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{manifest}\n{link}")).unwrap();
    build(dir, &[])
}

/// A malformed `[link]` section used to be found only after every source was ingested.
#[test]
fn a_malformed_link_section_is_refused_before_anything_is_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let output = build_with_link_section(dir.path(), "[[link.field]]\nkind = \"surname\"\n");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr(&output), format!("error: {}:10: link.field[0]: missing field `column`\n", dir.path().join("kartoteka.toml").display()));
    let register = store::Register::open_in(dir.path()).unwrap();
    assert!(register.files(false).unwrap().is_empty(), "nothing ingested");
}

/// `[link]` errors name the manifest's file and line, as its other errors do (`store` reads
/// the section as a parsed value, without lines): a misspelt key is found on its own line.
#[test]
fn link_section_errors_name_the_manifest_line() {
    let mut seen = Vec::new();
    for link in [
        "[[link.field]]\ncolumn = \"surname\"\nkind = \"surname\"\n[[link.field]]\ncolumn = \"given_name\"\nkind = \"given\"\ntff = false\n",
        "[link]\nthreshold = 0.9\nthreshhold = 0.8\n",
        "[[link.blocking]]\nkyes = [\"surname\"]\n",
        "[link]\nthreshold = 1.5\n",
        "[[link.field]]\ncolumn = \"surname\"\nkind = \"surname\"\n[[link.field]]\ncolumn = \"surnme\"\nkind = \"surname\"\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let output = build_with_link_section(dir.path(), link);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        seen.push(stderr(&output).trim().replace(&dir.path().display().to_string(), "DIR"));
    }
    expect_test::expect![[r#"
        error: DIR/kartoteka.toml:16: link.field[1].tff: unknown field `tff`, expected one of `column`, `kind`, `tf`
        error: DIR/kartoteka.toml:12: link.threshhold: unknown field `threshhold`, expected one of `threshold`, `link_type`, `unique_sources`, `max_block`, `u_sample_pairs`, `seed`, `em_full`, `field`, `blocking`
        error: DIR/kartoteka.toml:11: link.blocking[0].kyes: unknown field `kyes`, expected `keys`
        error: DIR/kartoteka.toml:11: link.threshold: 1.5 is not a probability strictly between 0 and 1
        error: DIR/kartoteka.toml:14: link.field[1].column: "surnme" is not a column of any record (standard columns: surname, given_name, patronymic, name, birth_date, sex, birth_place, nationality, occupation)"#]].assert_eq(&seen.join("\n"));
}

/// "1937?" is a year the source doubts: the mark survives the register into the profile and
/// the time series counts it apart, instead of reading as a firm 1937.
#[test]
fn a_date_marked_approximate_stays_approximate_in_profiles_and_series() {
    let dir = tempfile::tempdir().unwrap();
    let columns = r#""Фамилия" = "surname"
"Арест" = "arrest.date"

[[analyses]]
name = "arrests"
kind = "time_series"
field = "arrest.date"
granularity = "year"
from = "1937"
to = "1938"
"#;
    write_list_project(dir.path(), "", columns, "Фамилия,Арест\nИванов,1937?\nПетров,1937\nСидоров,ок. 1938\n");
    let output = build(dir.path(), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let profiles = std::fs::read_to_string(dir.path().join("out/profiles.csv")).unwrap();
    assert!(profiles.contains(",Иванов,1937?\n") && profiles.contains(",Петров,1937\n") && profiles.contains(",Сидоров,1938?\n"), "{profiles}");
    let series: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/analyses/arrests.json")).unwrap()).unwrap();
    let bins: Vec<(String, u64, u64)> = series["figures"]["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["label"].as_str().unwrap().to_owned(), b["count"].as_u64().unwrap(), b["approximate"].as_u64().unwrap()))
        .collect();
    assert_eq!(bins, [("1937".to_owned(), 2, 1), ("1938".to_owned(), 1, 1)]);
}
