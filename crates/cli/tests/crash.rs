//! A `kartoteka build` killed with SIGKILL in the middle of an ingest leaves the register
//! exactly as it was, and the next build completes.

mod common;

use common::{build, kartoteka};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

const LARGE_ROWS: usize = 6_000;

fn write_project(dir: &Path, with_large: bool) {
    let mut manifest = String::from(
        r#"
[[sources]]
id = "small"
file = "small.csv"
[sources.columns]
"Фамилия" = "surname"
"Год" = "birth_date"
"#,
    );
    if with_large {
        manifest.push_str(
            r#"
[[sources]]
id = "large"
file = "large.csv"
[sources.columns]
"Фамилия" = "surname"
"Год" = "birth_date"
"Арест" = "arrest.date"
"#,
        );
        let mut large = String::from("Фамилия,Год,Арест\n");
        for i in 0..LARGE_ROWS {
            large.push_str(&format!("Фамилия{i},{},{:02}.{:02}.1937\n", 1880 + i % 60, 1 + i % 28, 1 + i % 12));
        }
        std::fs::write(dir.join("large.csv"), large).unwrap();
    }
    std::fs::write(dir.join("kartoteka.toml"), manifest).unwrap();
    std::fs::write(dir.join("small.csv"), "Фамилия,Год\nИванов,1901\nПетров,1902\n").unwrap();
}

fn fingerprint(dir: &Path) -> String {
    store::Register::open_in(dir).unwrap().content_fingerprint().unwrap()
}

#[test]
fn a_build_killed_mid_ingest_leaves_the_register_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path(), false);
    assert!(build(dir.path(), &[]).status.success());
    let before = fingerprint(dir.path());

    write_project(dir.path(), true);
    let mut child = kartoteka()
        .arg("build")
        .arg(dir.path())
        .env("KARTOTEKA_TEST_PAUSE_AFTER_RECORDS", (LARGE_ROWS / 2).to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut paused = false;
    for line in stderr.lines() {
        if line.unwrap().starts_with("paused after") {
            paused = true;
            break;
        }
    }
    assert!(paused, "the build reached the middle of the large source's ingest");
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(dir.path().join("register.sqlite-wal").exists(), "the kill left an uncommitted write-ahead log");

    assert_eq!(fingerprint(dir.path()), before, "the interrupted ingest left no trace");

    let rerun = build(dir.path(), &[]);
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    let register = store::Register::open_in(dir.path()).unwrap();
    let mut records = 0;
    register.for_each_current_record(|_| records += 1).unwrap();
    assert_eq!(records, LARGE_ROWS + 2);
}
