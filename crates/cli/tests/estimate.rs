//! `kartoteka estimate` end to end on the shared published tables: JSON contract, exit codes,
//! and refusals that name the file, line and field.

use std::process::Command;

fn table(name: &str) -> String {
    format!(
        "{}/../../../shared/data/mse/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn kartoteka(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kartoteka"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn json_rows_follow_the_contract() {
    let (code, stdout, stderr) = kartoteka(&[
        "estimate",
        &table("uk_2013_5list.csv"),
        "--method",
        "bhs",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let row = &rows[0];
    assert_eq!(row["method"], "bhs");
    assert!(
        (row["estimate"].as_f64().unwrap() - 11313.0).abs() < 0.5,
        "{row}"
    );
    assert!(
        (row["lower"].as_f64().unwrap() - 9889.0).abs() < 5.0,
        "{row}"
    );
    assert_eq!(row["observed"], 2744);
    let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "estimate", "lower", "method", "model", "observed", "upper", "warnings"
        ]
    );
}

#[test]
fn text_table_shows_methods_side_by_side() {
    let (code, stdout, stderr) = kartoteka(&[
        "estimate",
        &table("kosovo_1999_4list.csv"),
        "--method",
        "loglinear",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("loglinear:bic"), "{stdout}");
    assert!(stdout.contains("10,356.5"), "{stdout}");
    assert!(
        stdout.contains("[123,14,34] (11 parameters, deviance 9.32 on 4 df); lowest BIC"),
        "{stdout}"
    );
}

#[test]
fn a_table_without_an_estimate_exits_1_with_the_reason() {
    let (code, stdout, stderr) = kartoteka(&["estimate", &table("artificial_3list_sparsemse.csv")]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("artificial_3list_sparsemse.csv: no estimate of the total exists"),
        "{stderr}"
    );
    assert!(stderr.contains("not identifiable"), "{stderr}");
}

#[test]
fn bad_input_names_file_line_and_field_and_bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(&path, "pattern,count\n11,3\n10,x\n01,2\n").unwrap();
    let (code, _, stderr) = kartoteka(&["estimate", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("bad.csv: line 3, field count"), "{stderr}");
    let (code, _, _) = kartoteka(&["estimate", path.to_str().unwrap(), "--method", "nonsense"]);
    assert_eq!(code, 2);
}
