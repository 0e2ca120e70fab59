//! `kartoteka link`, `eval` and `estimate` on small, dirty inputs: the messages name the file,
//! row and column, and the exit codes are the contract's (1 bad input, 2 usage).

mod common;

use common::{kartoteka, stderr, stdout};
use std::path::Path;

/// Runs the binary in `dir`; exit code, stdout and stderr.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let output = kartoteka().current_dir(dir).args(args).output().expect("kartoteka runs");
    (output.status.code(), stdout(&output), stderr(&output))
}

/// Two persons in three records; a3's cell over two lines and a blank line put its row apart
/// from its index.
const RECORDS: &str = "record_id,surname,given_name,birth_date,sex\na1,Иванов,Пётр,1901,m\n\na2,Иванов,\"Пётр\nПетрович\",1901,m,лишняя\na3,Сидоров,Олег,весна 193?,m\n";

#[test]
fn link_warnings_name_the_row_a_spreadsheet_shows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("records.csv"), RECORDS).unwrap();
    let (code, _, stderr) = run(dir.path(), &["link", "records.csv", "--out", "out"]);
    assert_eq!(code, Some(0), "{stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("warning")).collect();
    assert_eq!(
        warnings,
        [
            "warning: records.csv: row 4: 6 cells, the header has 5; the cells beyond it are not read",
            "warning: records.csv: row 6, column birth_date: not a date: \"весна 193?\"; compared as missing",
        ]
    );
}

#[test]
fn a_record_id_given_twice_names_both_rows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), RECORDS).unwrap();
    std::fs::write(dir.path().join("b.csv"), "record_id,surname\nb1,Петров\na3,Сидоров\n").unwrap();
    let (code, _, stderr) = run(dir.path(), &["link", "a.csv", "b.csv", "--out", "out"]);
    assert_eq!(
        (code, stderr.trim()),
        (Some(1), "error: b.csv: row 3, column record_id: \"a3\" appears twice (first at a.csv: row 6)")
    );
}

#[test]
fn explain_refuses_unknown_and_identical_records() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("records.csv"), RECORDS).unwrap();
    let explain = |a: &str, b: &str| {
        let (code, _, stderr) = run(dir.path(), &["link", "records.csv", "--explain", a, b]);
        (code, stderr.lines().filter(|l| !l.starts_with("warning")).collect::<Vec<_>>().join("\n"))
    };
    assert_eq!(explain("a1", "nope"), (Some(1), "error: --explain: no record \"nope\" in column record_id of records.csv".to_owned()));
    assert_eq!(explain("a1", "a1"), (Some(1), "error: --explain: \"a1\" twice; name two different records".to_owned()));
    let (code, json) = explain("a1", "a2");
    assert_eq!(code, Some(0), "{json}");
}

#[test]
fn eval_refuses_a_record_in_two_clusters_an_empty_person_and_records_the_truth_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("truth.csv", "record_id,person_id\na,1\nb,1\nc,2\n");
    write("twice.csv", "record_id,person_id\na,x\n\na,y\nc,x\n");
    write("empty.csv", "record_id,cluster_id\na,x\nb,\n");
    write("other.csv", "record_id,person_id\na,x\nzzz,x\n");
    write("none.csv", "record_id,person_id\n");
    let eval = |truth: &str, clusters: &str| {
        let (code, _, stderr) = run(dir.path(), &["eval", "--truth", truth, "--clusters", clusters]);
        (code, stderr.trim().to_owned())
    };
    let shown = [eval("truth.csv", "twice.csv"), eval("truth.csv", "empty.csv"), eval("truth.csv", "other.csv"), eval("none.csv", "truth.csv")];
    assert_eq!(
        shown.map(|(code, message)| format!("{code:?} {message}")),
        [
            "Some(1) error: twice.csv: row 4, column record_id: \"a\" appears twice (first in row 2)",
            "Some(1) error: empty.csv: row 3: record_id or cluster_id empty",
            "Some(1) error: other.csv: row 3, column record_id: \"zzz\" is not in truth.csv",
            "Some(1) error: none.csv: no records to score against",
        ]
    );
    let (code, _, stderr) = run(dir.path(), &["eval", "--truth", "truth.csv", "--clusters", "truth.csv"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn estimate_thresholds_outside_zero_to_one_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(dir.path(), &["estimate", ".", "--thresholds", "0.5,1.5"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("`1.5` is not a probability from 0 to 1"), "{stderr}");
}

#[test]
fn too_few_bootstrap_replicates_for_an_interval_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "pattern,count\n11,30\n10,40\n01,50\n").unwrap();
    let (code, _, stderr) = run(dir.path(), &["estimate", "t.csv", "--method", "loglinear", "--bootstrap", "0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("`0` replicates cannot give a 95% interval; give at least 40"), "{stderr}");
}

#[test]
fn a_missing_file_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kartoteka.toml"),
        "[[sources]]\nid = \"list\"\nfile = \"gone.csv\"\n[sources.columns]\n\"Фамилия\" = \"surname\"\n",
    )
    .unwrap();
    let (code, _, stderr) = run(dir.path(), &["build", "."]);
    assert_eq!(code, Some(1));
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: gone.csv: cannot read the file: "), "{stderr}");
    assert_eq!(first.matches("os error 2").count(), 1, "{stderr}");
}

#[test]
fn a_link_spec_column_no_file_has_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("records.csv"), RECORDS).unwrap();
    std::fs::write(dir.path().join("spec.toml"), "[[field]]\ncolumn = \"surnme\"\nkind = \"surname\"\n").unwrap();
    let (code, _, stderr) = run(dir.path(), &["link", "records.csv", "--out", "out", "--spec", "spec.toml"]);
    let error = stderr.lines().find(|l| l.starts_with("error")).unwrap_or_default();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(error.starts_with("error: link spec: field[0].column: \"surnme\" is not a column of any record"), "{stderr}");
}

#[test]
fn simulating_no_lists_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(dir.path(), &["simulate", "--persons", "10", "--lists", "0", "--out", "sim"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!dir.path().join("sim").exists());
}

#[test]
fn a_file_split_by_semicolons_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("semi.csv"), "record_id;surname\na1;Иванов\n").unwrap();
    let (code, _, stderr) = run(dir.path(), &["link", "semi.csv", "--out", "out"]);
    assert_eq!(
        (code, stderr.trim()),
        (Some(1), "error: semi.csv: row 1: no `record_id` column (the header is one cell split by ';': the standard schema is comma-separated)")
    );
}

#[test]
fn a_link_threshold_outside_zero_to_one_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("records.csv"), RECORDS).unwrap();
    let (code, _, stderr) = run(dir.path(), &["link", "records.csv", "--out", "out", "--threshold", "1.5"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("`1.5` is not a probability strictly between 0 and 1"), "{stderr}");
}
