//! `kartoteka estimate` end to end on the shared published tables: JSON contract, exit codes,
//! and refusals that name the file, line and field.

fn table(name: &str) -> String {
    format!(
        "{}/../../../shared/data/mse/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn kartoteka(args: &[&str]) -> (i32, String, String) {
    let out = common::kartoteka().args(args).output().expect("runs");
    (out.status.code().unwrap_or(-1), common::stdout(&out), common::stderr(&out))
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

mod common;

/// The shipped two-list example, with `[estimate]` appended to its manifest.
fn example_with_estimate(section: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_project(&common::example_dir(), dir.path());
    let manifest = dir.path().join("kartoteka.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[estimate]\n{section}\n")).unwrap();
    dir
}

#[test]
fn build_and_project_estimate_show_the_spread_over_linkages() {
    let dir = example_with_estimate(
        "methods = [\"chapman\"]\nthresholds = [0.5, 0.99]\nlinkage_samples = 3\nseed = 7",
    );
    let built = common::build(dir.path(), &[]);
    let stdout = common::stdout(&built);
    assert!(built.status.success(), "{}", common::stderr(&built));
    assert!(stdout.contains("estimate: 2 lists, 1 methods over 6 linkages"), "{stdout}");
    let written = std::fs::read_to_string(dir.path().join("out/estimate.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(json["lists"], serde_json::json!(["kgb-list", "western-press"]));
    let names: Vec<&str> = json["linkages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["linkage"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["as linked", "p >= 0.5", "p >= 0.99", "drawn 1", "drawn 2", "drawn 3"]);
    // A stricter threshold joins fewer records: at least as many persons.
    let persons = |i: usize| json["linkages"][i]["persons"].as_u64().unwrap();
    assert!(persons(2) >= persons(1), "{json}");
    let spread = &json["linkage_spread"][0];
    assert_eq!(spread["method"], "chapman:1x2");
    assert_eq!(spread["estimates"].as_array().unwrap().len(), 6);
    assert_eq!(json["estimates"][0]["estimate"], spread["estimates"][0]);
    assert!(spread["min"].as_f64().unwrap() <= spread["max"].as_f64().unwrap());
    assert!(dir.path().join("out/estimate.svg").exists());
    // The command gives the same answer from the same register and settings.
    let (code, stdout, stderr) = kartoteka(&[
        "estimate",
        dir.path().to_str().unwrap(),
        "--method",
        "chapman",
        "--thresholds",
        "0.5,0.99",
        "--linkage-samples",
        "3",
        "--seed",
        "7",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim_end(), written.trim_end());
    let (code, text, _) = kartoteka(&["estimate", dir.path().to_str().unwrap(), "--method", "chapman"]);
    assert_eq!(code, 0);
    assert!(text.contains("Lists (sources of the manifest): 1 = kgb-list, 2 = western-press"), "{text}");
    assert!(text.contains("Linkage uncertainty"), "{text}");
    // The report page shows the estimate as written to estimate.json, and links the files.
    let page = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    let shown = analysis::estimate::thousands(json["estimates"][0]["estimate"].as_f64().unwrap());
    assert!(page.contains("<li><a href=\"#estimate\">"), "{page}");
    assert!(page.contains(&format!("<tr><td>chapman:1x2</td><td class=\"n\">{shown}</td>")), "{shown} in {page}");
    assert!(page.contains("(1 = kgb-list, 2 = western-press)") && page.contains("<a href=\"estimate.json\">"), "{page}");
    assert_eq!(page.matches("<circle").count(), 1, "the plot, inline: {page}");
    // Without `[estimate]` the page has no such section.
    let manifest = dir.path().join("kartoteka.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, &text[..text.find("[estimate]").unwrap()]).unwrap();
    let built = common::build(dir.path(), &[]);
    assert!(built.status.success(), "{}", common::stderr(&built));
    let page = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(!page.contains("id=\"estimate\"") && !page.contains("estimate.json"), "{page}");
}

#[test]
fn project_estimate_needs_a_built_register_and_a_valid_section() {
    let dir = example_with_estimate("methods = [\"chapmann\"]");
    let (code, _, stderr) = kartoteka(&["estimate", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no register yet"), "{stderr}");
    let built = common::build(dir.path(), &[]);
    assert_eq!(built.status.code(), Some(1));
    let stderr = common::stderr(&built);
    assert!(stderr.contains("estimate.methods[0]: unknown method \"chapmann\""), "{stderr}");
}
