//! `kartoteka names`: the JSON contract of compare, the parts of key, translit, and usage errors.

use std::process::Command;

fn kartoteka(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kartoteka")).args(args).output().expect("run kartoteka");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn compare_prints_score_verdict_and_rules_as_json() {
    let (code, out) = kartoteka(&["names", "compare", "Ежов Николай Иванович", "YEZHOV, Nikolai Ivanovich", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["same"], true);
    assert!(v["score"].as_f64().is_some_and(|s| (0.8..=1.0).contains(&s)), "{v}");
    assert!(v["rules"].as_array().is_some_and(|r| !r.is_empty()), "{v}");

    let (_, out) = kartoteka(&["names", "compare", "Andropov", "Andronov", "--part", "surname", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["same"], false);
}

#[test]
fn comparing_a_name_without_letters_is_refused_as_key_refuses_it() {
    let (code, out) = kartoteka(&["names", "compare", "", "Ежов", "--json"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(kartoteka(&["names", "key", " ", "--json"]).0, 1);
}

#[test]
fn key_prints_parts_and_shared_keys() {
    let (code, out) = kartoteka(&["names", "key", "Jeschow, Nikolai", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let (_, cyrillic) = kartoteka(&["names", "key", "Ежов", "--json"]);
    let c: serde_json::Value = serde_json::from_str(&cyrillic).expect("json");
    assert_eq!(v["parts"][0]["part"], "surname");
    assert_eq!(v["parts"][0]["key"], c["parts"][0]["key"]);
}

#[test]
fn translit_prints_every_system_or_one() {
    let (code, out) = kartoteka(&["names", "translit", "Хрущёв"]);
    assert_eq!(code, 0);
    assert!(out.contains("german\tChruschtschow"), "{out}");
    assert!(out.contains("ukrainian\tKhrushchiov"), "{out}");
    assert_eq!(out.lines().count(), names::System::ALL.len());
    let (_, out) = kartoteka(&["names", "translit", "Хрущёв", "--system", "polish"]);
    assert_eq!(out.trim(), "polish\tChruszczow");
}

#[test]
fn bad_part_or_system_is_a_usage_error() {
    assert_eq!(kartoteka(&["names", "compare", "a", "b", "--part", "middle-ish"]).0, 2);
    assert_eq!(kartoteka(&["names", "translit", "Ежов", "--system", "klingon"]).0, 2);
}
