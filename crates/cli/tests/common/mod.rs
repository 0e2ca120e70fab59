//! Helpers shared by the `kartoteka` binary's integration tests: projects in temporary folders.
// Each test binary includes this module and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `kartoteka` binary built for these tests.
pub fn kartoteka() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kartoteka"))
}

/// Runs `kartoteka build DIR` with extra arguments.
pub fn build(dir: &Path, extra: &[&str]) -> Output {
    kartoteka().arg("build").arg(dir).args(extra).output().expect("kartoteka runs")
}

/// What a run printed on stdout, as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a run printed on stderr, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A small project in `dir`: `list.csv` holding `csv`, read as source `list` by a manifest of
/// `head` (top-level keys, each line ending in a newline), the source's lines and `columns` (the
/// lines of its `[sources.columns]`, then any further sections). The manifest's lines stand
/// where the tests that quote its line numbers expect them: line 1 is empty, `head` follows.
pub fn write_list_project(dir: &Path, head: &str, columns: &str, csv: &str) {
    let manifest = format!("\n{head}[[sources]]\nid = \"list\"\nfile = \"list.csv\"\n[sources.columns]\n{columns}");
    std::fs::write(dir.join("kartoteka.toml"), manifest).unwrap();
    std::fs::write(dir.join("list.csv"), csv).unwrap();
}

/// The shipped example project.
pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/defectors")
}

/// A copy of a project's manifest and `data/` in a fresh folder (no register, no `out/`).
pub fn copy_project(from: &Path, to: &Path) {
    std::fs::copy(from.join("kartoteka.toml"), to.join("kartoteka.toml")).unwrap();
    std::fs::create_dir_all(to.join("data")).unwrap();
    for entry in std::fs::read_dir(from.join("data")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join("data").join(entry.file_name())).unwrap();
    }
}

/// Every file under `out/`, by its path relative to `out/` (with `/`), with its bytes.
pub fn out_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                files.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(&dir.join("out"), &dir.join("out"), &mut files);
    files.sort();
    files
}
