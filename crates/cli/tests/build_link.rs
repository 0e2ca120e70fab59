//! `kartoteka build`'s linkage step on the shipped example: persons linked across scripts, ids
//! stable under re-runs and a new source, reviewers' decisions honoured on the next build.

mod common;

use common::{build, copy_project, example_dir, stderr, stdout};
use std::collections::BTreeMap;
use std::path::Path;

// Record keys of the example (`source:path:line`, the header being line 1).
const GUSEV_KGB: &str = "kgb-list:data/installment-1.csv:3";
const GUSEV_PRESS: &str = "western-press:data/western-press.csv:4";
const ILYIN_KGB: &str = "kgb-list:data/installment-1.csv:5";
const ILYIN_PRESS: &str = "western-press:data/western-press.csv:5";
const SIDOROV_KGB: &str = "kgb-list:data/installment-1.csv:2";
const SIDOROV_PRESS: &str = "western-press:data/western-press.csv:22";
const RYABOV_KGB: &str = "kgb-list:data/installment-3.tsv:2";
const RYABOV_PRESS: &str = "western-press:data/western-press.csv:18";
const BELYAEV_PRESS: &str = "western-press:data/western-press.csv:2";

fn built_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_project(&example_dir(), dir.path());
    must_build(dir.path());
    dir
}

fn must_build(dir: &Path) -> String {
    let output = build(dir, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

/// `out/clusters.csv` as record -> person.
fn clusters(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join("out/clusters.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("record_id,person_id"));
    lines
        .map(|l| {
            let (record, person) = l.rsplit_once(',').unwrap();
            (record.to_owned(), person.to_owned())
        })
        .collect()
}

fn register(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(store::REGISTER_FILE)).unwrap()
}

/// What the web app's review writes for a decision.
fn decide(dir: &Path, kind: &str, left: &str, right: &str) {
    register(dir)
        .execute(
            "INSERT INTO decisions (item, action, kind, record_key_l, record_key_r, who, decided_at, why)
             VALUES (?1, ?2, ?3, ?4, ?5, 'tester', '2024-01-01T00:00:00Z', 'test')",
            [format!("pair:{left}|{right}").as_str(), if kind == "must_link" { "merge" } else { "split" }, kind, left, right],
        )
        .unwrap();
}

#[test]
fn corroborated_persons_are_linked_across_the_two_scripts() {
    let dir = built_example();
    let persons = clusters(dir.path());
    assert_eq!(persons.len(), 60 + 28, "every record has a person");
    for (kgb, press) in [(GUSEV_KGB, GUSEV_PRESS), (ILYIN_KGB, ILYIN_PRESS), (SIDOROV_KGB, SIDOROV_PRESS), (RYABOV_KGB, RYABOV_PRESS)] {
        assert_eq!(persons[kgb], persons[press], "{kgb} and {press} are one person");
    }
    assert_ne!(persons[GUSEV_KGB], persons[SIDOROV_KGB]);
    // The README: 24 of the 28 press reports are of persons on the KGB list.
    let mut sources_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (record, person) in &persons {
        sources_of.entry(person).or_default().push(record.split(':').next().unwrap());
    }
    let corroborated = sources_of.values().filter(|s| s.contains(&"kgb-list") && s.contains(&"western-press")).count();
    assert_eq!(corroborated, 24, "persons on both lists");
    assert_eq!(sources_of.len(), 60 + 4, "the 60 of the list and the 4 only the press names");
    // The register holds the same persons and the scored pairs for review.
    let conn = register(dir.path());
    let stored: String = conn
        .query_row("SELECT person_id FROM person_records WHERE record_key = ?1", [GUSEV_PRESS], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, persons[GUSEV_PRESS]);
    let pair: f64 = conn
        .query_row(
            "SELECT match_probability FROM link_pairs WHERE record_key_l = ?1 AND record_key_r = ?2",
            [GUSEV_KGB, GUSEV_PRESS],
            |r| r.get(0),
        )
        .unwrap();
    assert!(pair >= 0.5, "{pair}");
    let pairs = std::fs::read_to_string(dir.path().join("out/pairs.csv")).unwrap();
    assert!(pairs.starts_with("record_id_l,record_id_r,match_weight,match_probability\n"));
    assert!(pairs.contains(&format!("{GUSEV_KGB},{GUSEV_PRESS},")), "{pairs}");
}

#[test]
fn person_ids_survive_a_rerun_and_a_new_source() {
    let dir = built_example();
    let first = clusters(dir.path());
    let pairs = std::fs::read(dir.path().join("out/pairs.csv")).unwrap();
    let stdout = must_build(dir.path());
    assert!(stdout.contains("linkage: unchanged (88 records in"), "nothing changed, nothing re-linked: {stdout}");
    assert_eq!(clusters(dir.path()), first, "a re-run keeps every id");
    assert_eq!(std::fs::read(dir.path().join("out/pairs.csv")).unwrap(), pairs);
    // A third source: a clipping about Gusev in Cyrillic, and a person no other list names.
    std::fs::write(
        dir.path().join("data/memoirs.csv"),
        "ФИО,Год рождения,Род занятий\n\"Гусев Григорий Сергеевич\",1939,лётчик\n\"Шевчук Остап Богданович\",1951,механик\n",
    )
    .unwrap();
    let mut manifest = std::fs::read_to_string(dir.path().join("kartoteka.toml")).unwrap();
    manifest.push_str(
        "\n[[sources]]\nid = \"memoirs\"\ntitle = \"Memoirs (SIMULATED)\"\nkind = \"press\"\nfile = \"data/memoirs.csv\"\n\n\
         [sources.columns]\n\"ФИО\" = \"name\"\n\"Год рождения\" = \"birth_date\"\n\"Род занятий\" = \"occupation\"\n",
    );
    std::fs::write(dir.path().join("kartoteka.toml"), manifest).unwrap();
    must_build(dir.path());
    let after = clusters(dir.path());
    assert_eq!(after.len(), first.len() + 2);
    for (record, person) in &first {
        assert_eq!(&after[record], person, "{record} kept its person");
    }
    assert_eq!(after["memoirs:data/memoirs.csv:2"], first[GUSEV_KGB], "the new record joins Gusev");
    let newcomer = &after["memoirs:data/memoirs.csv:3"];
    assert!(!first.values().any(|p| p == newcomer), "a new person gets a new id");
}

#[test]
fn a_row_inserted_above_moves_records_without_changing_their_persons() {
    let dir = built_example();
    let first = clusters(dir.path());
    let path = dir.path().join("data/western-press.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    std::fs::write(&path, format!("{header}\n\"ORLOV, Yuriy F.\",1924,1979-05-02,Rome,chemist,Le Monde\n{rows}")).unwrap();
    let stdout = must_build(dir.path());
    assert!(stdout.contains("0 persons split or merged"), "{stdout}");
    let after = clusters(dir.path());
    // Every press record moved one line down (a new version of the file) and kept its person.
    for line in 2..=29 {
        let old = format!("western-press:data/western-press.csv:{line}");
        let moved = format!("western-press:data/western-press.csv:{}", line + 1);
        assert_eq!(after[&moved], first[&old], "{old} moved to {moved}");
    }
    let newcomer = &after["western-press:data/western-press.csv:2"];
    assert!(!first.values().any(|p| p == newcomer), "the inserted row is a new person");
}

#[test]
fn decisions_split_a_pair_and_join_another_on_the_next_build() {
    let dir = built_example();
    let before = clusters(dir.path());
    assert_eq!(before[GUSEV_KGB], before[GUSEV_PRESS]);
    assert_ne!(before[SIDOROV_KGB], before[BELYAEV_PRESS]);
    decide(dir.path(), "cannot_link", GUSEV_KGB, GUSEV_PRESS);
    decide(dir.path(), "must_link", BELYAEV_PRESS, SIDOROV_KGB);
    let stdout = must_build(dir.path());
    assert!(stdout.contains("2 decisions honoured"), "{stdout}");
    let after = clusters(dir.path());
    assert_ne!(after[GUSEV_KGB], after[GUSEV_PRESS], "cannot-link splits Gusev");
    assert_eq!(after[SIDOROV_KGB], after[BELYAEV_PRESS], "must-link joins them");
    // Gusev's list record keeps his id; the history says he was split and Sidorov merged.
    assert_eq!(after[GUSEV_KGB], before[GUSEV_KGB]);
    let events: String = register(dir.path())
        .query_row("SELECT events_json FROM link_runs ORDER BY run_id DESC LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert!(events.contains(r#""event":"split""#) && events.contains(r#""event":"merged""#), "{events}");
    // Undoing the cannot-link lets the evidence join Gusev again.
    register(dir.path())
        .execute(
            "INSERT INTO decision_undos (decision_id, who, undone_at, why)
             SELECT decision_id, 'tester', '2024-01-02T00:00:00Z', 'test' FROM decisions WHERE kind = 'cannot_link'",
            [],
        )
        .unwrap();
    must_build(dir.path());
    let undone = clusters(dir.path());
    assert_eq!(undone[GUSEV_KGB], undone[GUSEV_PRESS]);
}
