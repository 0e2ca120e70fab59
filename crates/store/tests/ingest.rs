//! Writing sources into the register: round trip, idempotence, versions, policies, atomicity.

use expect_test::expect;
use model::{
    Assertion, Cell, Diagnostic, Event, EventKind, EventPart, Field, IngestedRecord, RecordLocator, Severity, Sex,
    SourceId, UncertainDate, Value,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use store::{FileOutcome, FileVersion, Policy, Register, SourceEntry, StoreError};

const PATH: &str = "data/kgb.csv";

fn record(row: u64, surname: &str, born: &str) -> IngestedRecord {
    let born_value = match UncertainDate::parse_standard(born) {
        Ok(date) => Value::Date { date },
        Err(_) => Value::Unparsed { reason: "not a date".into() },
    };
    IngestedRecord {
        locator: RecordLocator {
            source: SourceId::new("kgb"),
            file: PATH.into(),
            file_sha256: "ignored".into(),
            sheet: None,
            row,
            installment: Some("1".into()),
            page: None,
        },
        cells: vec![
            Cell { column: "Фамилия".into(), raw: surname.into() },
            Cell { column: "Пол".into(), raw: "м".into() },
            Cell { column: "Год".into(), raw: born.into() },
            Cell { column: "Приговор".into(), raw: "ВМН".into() },
        ],
        assertions: vec![
            Assertion {
                field: Field::Surname,
                column: "Фамилия".into(),
                raw: surname.into(),
                value: Value::Text { text: surname.into() },
            },
            Assertion { field: Field::Sex, column: "Пол".into(), raw: "м".into(), value: Value::Sex { sex: Sex::Male } },
            Assertion { field: Field::BirthDate, column: "Год".into(), raw: born.into(), value: born_value },
            Assertion {
                field: Field::Event(EventKind::Sentence, EventPart::Detail),
                column: "Приговор".into(),
                raw: "ВМН".into(),
                value: Value::Event {
                    event: Event {
                        kind: EventKind::Sentence,
                        date: None,
                        place: None,
                        agency: None,
                        detail: Some("death".into()),
                    },
                },
            },
        ],
    }
}

fn date_error(row: u64, raw: &str) -> Diagnostic {
    Diagnostic {
        file: PATH.into(),
        sheet: None,
        row: Some(row),
        column: Some("Год".into()),
        severity: Severity::Error,
        expected: Some("a date".into()),
        message: format!("found {raw:?}"),
    }
}

fn ingest(
    register: &mut Register,
    manifest: &str,
    sha: &str,
    records: &[IngestedRecord],
    diagnostics: &[Diagnostic],
    policy: Policy,
) -> Result<Vec<FileOutcome>, StoreError> {
    let id = SourceId::new("kgb");
    let source = SourceEntry { id: &id, title: "KGB list (SIMULATED)", kind: "emigre_press", manifest_json: manifest };
    let file = FileVersion { path: PATH, sha256: sha, bytes: 100, records, diagnostics };
    register.ingest_source(&source, &[file], policy, "2026-01-01T00:00:00Z", &mut |_| {})
}

fn exported(register: &Register) -> String {
    let mut out = String::new();
    register
        .for_each_current_record(|r| {
            let cells: Vec<String> = r.cells.iter().map(|c| format!("{}={}", c.column, c.raw)).collect();
            out.push_str(&format!("{} v{} inst={:?} {}\n", r.record_key, r.version, r.installment, cells.join(",")));
        })
        .unwrap();
    register
        .for_each_current_assertion(|a| {
            out.push_str(&format!(
                "  {} #{} {} [{}] {:?} -> {} {:?} {:?}..{:?} {:?}\n",
                a.record_key,
                a.ordinal,
                a.field,
                a.column,
                a.raw,
                a.value_type,
                a.value_text,
                a.date_earliest,
                a.date_latest,
                a.date_precision
            ));
        })
        .unwrap();
    out
}

#[test]
fn records_and_assertions_round_trip() {
    let mut register = Register::open_in_memory().unwrap();
    let records = [record(2, "Иванов", "1901"), record(3, "Петров", "1905-03-01")];
    let outcome = ingest(&mut register, "{}", "s1", &records, &[], Policy::Strict).unwrap();
    assert_eq!(
        outcome,
        vec![FileOutcome::Stored { path: PATH.into(), version: 1, records: 2, rejects: 0, diagnostics: 0 }]
    );
    expect![[r#"
        kgb:data/kgb.csv:2 v1 inst=Some("1") Фамилия=Иванов,Пол=м,Год=1901,Приговор=ВМН
        kgb:data/kgb.csv:3 v1 inst=Some("1") Фамилия=Петров,Пол=м,Год=1905-03-01,Приговор=ВМН
          kgb:data/kgb.csv:2 #0 surname [Фамилия] "Иванов" -> text Some("Иванов") None..None None
          kgb:data/kgb.csv:2 #1 sex [Пол] "м" -> sex Some("m") None..None None
          kgb:data/kgb.csv:2 #2 birth_date [Год] "1901" -> date Some("1901") Some("1901-01-01")..Some("1901-12-31") Some("year")
          kgb:data/kgb.csv:2 #3 sentence.detail [Приговор] "ВМН" -> event Some("death") None..None None
          kgb:data/kgb.csv:3 #0 surname [Фамилия] "Петров" -> text Some("Петров") None..None None
          kgb:data/kgb.csv:3 #1 sex [Пол] "м" -> sex Some("m") None..None None
          kgb:data/kgb.csv:3 #2 birth_date [Год] "1905-03-01" -> date Some("1905-03-01") Some("1905-03-01")..Some("1905-03-01") Some("day")
          kgb:data/kgb.csv:3 #3 sentence.detail [Приговор] "ВМН" -> event Some("death") None..None None
    "#]]
    .assert_eq(&exported(&register));
    let sources = register.sources().unwrap();
    assert_eq!(sources[0].title, "KGB list (SIMULATED)");
}

#[test]
fn re_ingesting_identical_bytes_is_a_no_op() {
    let mut register = Register::open_in_memory().unwrap();
    let records = [record(2, "Иванов", "1901")];
    ingest(&mut register, "{}", "s1", &records, &[], Policy::Strict).unwrap();
    let before = register.content_fingerprint().unwrap();
    let id = SourceId::new("kgb");
    let entry = |manifest_json| SourceEntry { id: &id, title: "t", kind: "k", manifest_json };
    assert!(register.is_current(&entry("{}"), PATH, "s1").unwrap());
    assert!(!register.is_current(&entry("{}"), PATH, "s2").unwrap());
    assert!(!register.is_current(&entry("{\"x\":1}"), PATH, "s1").unwrap());
    assert!(!register.is_current(&entry("{}"), "data/other.csv", "s1").unwrap());
    let outcome = ingest(&mut register, "{}", "s1", &records, &[], Policy::Strict).unwrap();
    assert_eq!(outcome, vec![FileOutcome::Unchanged { path: PATH.into(), version: 1 }]);
    assert_eq!(register.content_fingerprint().unwrap(), before);
}

#[test]
fn a_changed_file_is_a_new_version_and_the_old_one_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut register = Register::open_in(dir.path()).unwrap();
    ingest(&mut register, "{}", "s1", &[record(2, "Иванов", "1901")], &[], Policy::Strict).unwrap();
    let first_version = register.content_fingerprint().unwrap();
    let outcome =
        ingest(&mut register, "{}", "s2", &[record(2, "Иванов-Петров", "1901")], &[], Policy::Strict).unwrap();
    assert_eq!(
        outcome,
        vec![FileOutcome::Stored { path: PATH.into(), version: 2, records: 1, rejects: 0, diagnostics: 0 }]
    );
    let versions: Vec<(u32, String)> =
        register.files(false).unwrap().into_iter().map(|f| (f.version, f.sha256)).collect();
    assert_eq!(versions, vec![(1, "s1".to_owned()), (2, "s2".to_owned())]);
    assert_eq!(register.files(true).unwrap()[0].version, 2);
    assert_ne!(register.content_fingerprint().unwrap(), first_version);
    let mut current = Vec::new();
    register.for_each_current_record(|r| current.push(r.cells[0].raw.clone())).unwrap();
    assert_eq!(current, vec!["Иванов-Петров"]);
    let conn = rusqlite::Connection::open(dir.path().join(store::REGISTER_FILE)).unwrap();
    let mut stmt = conn.prepare("SELECT json_extract(cells_json, '$[0].raw') FROM records ORDER BY record_id").unwrap();
    let all: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(all, vec!["Иванов", "Иванов-Петров"]);
}

#[test]
fn a_changed_manifest_entry_makes_a_new_version_of_the_same_bytes() {
    let mut register = Register::open_in_memory().unwrap();
    let records = [record(2, "Иванов", "1901")];
    ingest(&mut register, r#"{"map":1}"#, "s1", &records, &[], Policy::Strict).unwrap();
    let outcome = ingest(&mut register, r#"{"map":2}"#, "s1", &records, &[], Policy::Strict).unwrap();
    assert!(matches!(outcome[0], FileOutcome::Stored { version: 2, .. }), "{outcome:?}");
    assert_eq!(register.sources().unwrap()[0].manifest_json, r#"{"map":2}"#);
}

#[test]
fn strict_policy_writes_nothing_of_a_source_with_a_bad_row() {
    let mut register = Register::open_in_memory().unwrap();
    let before = register.content_fingerprint().unwrap();
    let records = [record(2, "Иванов", "1901"), record(3, "Петров", "весна 193?")];
    let err = ingest(&mut register, "{}", "s1", &records, &[date_error(3, "весна 193?")], Policy::Strict)
        .unwrap_err();
    expect![[r#"source "kgb": 1 bad row(s), nothing of this source was written (--lenient sends bad rows to rejects); first: data/kgb.csv:3: column "Год": expected a date, found "весна 193?""#]]
        .assert_eq(&err.to_string());
    assert_eq!(register.content_fingerprint().unwrap(), before);
}

#[test]
fn strict_policy_names_an_unparsed_value_even_without_a_diagnostic() {
    let mut register = Register::open_in_memory().unwrap();
    let err = ingest(&mut register, "{}", "s1", &[record(7, "Петров", "19O1")], &[], Policy::Strict).unwrap_err();
    expect![[r#"source "kgb": 1 bad row(s), nothing of this source was written (--lenient sends bad rows to rejects); first: data/kgb.csv:7: column "Год": expected a date, found "19O1": not a date"#]]
        .assert_eq(&err.to_string());
}

#[test]
fn lenient_policy_sends_bad_rows_to_rejects_and_keeps_the_rest() {
    let mut register = Register::open_in_memory().unwrap();
    let records = [record(2, "Иванов", "1901"), record(3, "Петров", "весна 193?")];
    let outcome =
        ingest(&mut register, "{}", "s1", &records, &[date_error(3, "весна 193?")], Policy::Lenient).unwrap();
    assert_eq!(
        outcome,
        vec![FileOutcome::Stored { path: PATH.into(), version: 1, records: 1, rejects: 1, diagnostics: 1 }]
    );
    let rejects = register.current_rejects().unwrap();
    assert_eq!(rejects.len(), 1);
    assert_eq!((rejects[0].row, rejects[0].column.as_deref()), (Some(3), Some("Год")));
    assert_eq!(rejects[0].reason, r#"column "Год": expected a date, found "весна 193?""#);
    assert_eq!(rejects[0].cells[0].raw, "Петров");
    let mut kept = Vec::new();
    register.for_each_current_record(|r| kept.push(r.row)).unwrap();
    assert_eq!(kept, vec![2]);
    assert_eq!(register.current_diagnostics().unwrap()[0].severity, "error");
}

#[test]
fn an_ingest_interrupted_mid_source_leaves_the_register_as_it_was() {
    let mut register = Register::open_in_memory().unwrap();
    ingest(&mut register, "{}", "s1", &[record(2, "Иванов", "1901")], &[], Policy::Strict).unwrap();
    let before = register.content_fingerprint().unwrap();
    let records: Vec<IngestedRecord> = (2..50).map(|row| record(row, "Сидоров", "1910")).collect();
    let id = SourceId::new("kgb");
    let source = SourceEntry { id: &id, title: "t", kind: "k", manifest_json: "{}" };
    let file = FileVersion { path: PATH, sha256: "s2", bytes: 1, records: &records, diagnostics: &[] };
    let interrupted = catch_unwind(AssertUnwindSafe(|| {
        register.ingest_source(&source, &[file], Policy::Strict, "t", &mut |written| {
            assert!(written < 10, "interrupted after {written} records");
        })
    }));
    assert!(interrupted.is_err());
    assert_eq!(register.content_fingerprint().unwrap(), before);
}

/// A file the manifest no longer declares stops being current (its records stay in the
/// register); declared again, it is ingested as a new, current version.
#[test]
fn an_undeclared_file_is_withdrawn_and_comes_back_as_a_new_version() {
    let mut register = Register::open_in_memory().unwrap();
    let records = [record(2, "Иванов", "1901")];
    ingest(&mut register, "{}", "s1", &records, &[], Policy::Strict).unwrap();
    let declared = |paths: &[&str]| paths.iter().map(|p| ("kgb".to_owned(), (*p).to_owned())).collect();
    let kept = register.withdraw_undeclared(&declared(&[PATH]), "2026-01-02T00:00:00Z").unwrap();
    let withdrawn = register.withdraw_undeclared(&declared(&["data/renamed.csv"]), "2026-01-02T00:00:00Z").unwrap();
    assert_eq!((kept, withdrawn), (vec![], vec![("kgb".to_owned(), PATH.to_owned())]));
    assert!(register.files(true).unwrap().is_empty());
    assert_eq!(exported(&register), "", "no current records");
    let id = SourceId::new("kgb");
    let entry = SourceEntry { id: &id, title: "t", kind: "k", manifest_json: "{}" };
    assert!(!register.is_current(&entry, PATH, "s1").unwrap(), "a withdrawn file is read again");
    let outcome = ingest(&mut register, "{}", "s1", &records, &[], Policy::Strict).unwrap();
    assert!(matches!(outcome[0], FileOutcome::Stored { version: 2, .. }), "{outcome:?}");
    let current: Vec<u32> = register.files(true).unwrap().iter().map(|f| f.version).collect();
    assert_eq!((current, register.files(false).unwrap().len()), (vec![2], 2));
}
