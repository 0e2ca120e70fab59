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

/// Every file under `out/`, by name, with its bytes.
pub fn out_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}
