//! The register's side of linkage: records to standard records, decisions in force, one run stored.

use model::{StandardRecord, UncertainDate};
use store::{Claim, LinkageRun, PairRow, PersonAssignment, Register, standard_record};

fn claim(field: &str, text: &str) -> Claim {
    Claim { field: field.to_owned(), text: text.to_owned(), date: None }
}

fn shown(r: &StandardRecord) -> String {
    format!(
        "{} src={:?} surname={:?} given={:?} patronymic={:?} name={:?} sex={:?} born={:?} occupation={:?} other={:?}",
        r.id,
        r.source.as_ref().map(|s| s.as_str()),
        r.surname,
        r.given_name,
        r.patronymic,
        r.name,
        r.sex,
        r.birth_date.map(|d| d.to_string()),
        r.occupation,
        r.other
    )
}

#[test]
fn claims_map_to_the_standard_schema() {
    let born = Claim { date: UncertainDate::year(1939), ..claim("birth_date", "1939") };
    let split = standard_record(
        "kgb:f.csv:3",
        "kgb",
        &[
            claim("surname", "Гусев"),
            claim("given_name", "Григорий"),
            claim("surname", "Гусев-второй"),
            claim("sex", "m"),
            born,
            claim("occupation", "лётчик"),
            claim("defection.date", "1977"),
            claim("defection.place", "Токио"),
            claim("sentence.detail", "12 years"),
            claim("note", "from a clipping"),
            claim("source_record_id", "2"),
        ],
    );
    expect_test::expect![[r#"kgb:f.csv:3 src=Some("kgb") surname=Some("Гусев") given=Some("Григорий") patronymic=None name=None sex=Some(Male) born=Some("1939") occupation=Some("лётчик") other={"defection.date": "1977", "defection.place": "Токио"}"#]]
    .assert_eq(&shown(&split));
    // A source that gives only the whole name has it split, initials standing in for parts.
    let whole = standard_record("press:p.csv:4", "press", &[claim("name", "GUSEV, Grigoriy S."), claim("name", "")]);
    expect_test::expect![[r#"press:p.csv:4 src=Some("press") surname=Some("GUSEV") given=Some("Grigoriy") patronymic=Some("S") name=None sex=None born=None occupation=None other={}"#]]
    .assert_eq(&shown(&whole));
}

#[test]
fn a_run_is_stored_whole_and_replaces_the_previous_one() {
    let mut register = Register::open_in_memory().unwrap();
    let person = |key: &str, person: &str| PersonAssignment {
        record_key: key.to_owned(),
        content_sha256: Some(format!("c-{key}")),
        person_id: person.to_owned(),
    };
    let first = [person("a", "P1"), person("b", "P1"), person("c", "P2")];
    let pairs = [PairRow {
        record_key_l: "a".into(),
        record_key_r: "b".into(),
        match_weight: 7.5,
        match_probability: 0.99,
        explanation_json: None,
    }];
    assert_eq!(register.latest_linkage_inputs().unwrap(), None, "no run yet");
    for (persons, inputs) in [(&first[..], "i1"), (&first[..2], "i2")] {
        let run = LinkageRun {
            ran_at: "2024-01-01T00:00:00Z",
            persons,
            pairs: &pairs,
            decisions: 0,
            events_json: "[]",
            inputs_sha256: Some(inputs),
            model_json: None,
            spec_json: None,
            decisions_sha256: None,
        };
        register.store_linkage(&run).unwrap();
    }
    assert_eq!(register.latest_linkage_inputs().unwrap().as_deref(), Some("i2"));
    assert_eq!(register.stored_pairs().unwrap(), pairs.to_vec());
    let previous = register.previous_persons().unwrap();
    assert_eq!(previous, first[..2].to_vec(), "the second run replaced the first");
    // No record is current in an empty register, so no person is either.
    assert!(register.persons_of_current_records().unwrap().is_empty());
    assert!(register.decisions_in_force().unwrap().is_empty());
    assert!(register.current_link_records().unwrap().is_empty());
}

/// A source of name records: (surname, given name, patronymic, birth year) per row.
fn name_source(register: &mut Register, source: &str, rows: &[(&str, &str, &str, &str)]) {
    use model::{Assertion, Cell, Field, IngestedRecord, RecordLocator, SourceId, Value};
    let path = format!("{source}.csv");
    let records: Vec<IngestedRecord> = rows
        .iter()
        .enumerate()
        .map(|(row, &(surname, given, patronymic, born))| {
            let text = |field: Field, column: &str, raw: &str| Assertion {
                field,
                column: column.into(),
                raw: raw.into(),
                value: Value::Text { text: raw.into() },
            };
            let date = UncertainDate::parse_standard(born).unwrap();
            IngestedRecord {
                locator: RecordLocator {
                    source: SourceId::new(source),
                    file: path.as_str().into(),
                    file_sha256: source.into(),
                    sheet: None,
                    row: row as u64 + 2,
                    installment: None,
                    page: None,
                },
                cells: [surname, given, patronymic, born].iter().map(|c| Cell { column: "c".into(), raw: (*c).into() }).collect(),
                assertions: vec![
                    text(Field::Surname, "surname", surname),
                    text(Field::GivenName, "given", given),
                    text(Field::Patronymic, "patronymic", patronymic),
                    Assertion { field: Field::BirthDate, column: "born".into(), raw: born.into(), value: Value::Date { date } },
                ],
            }
        })
        .collect();
    let id = SourceId::new(source);
    let entry = store::SourceEntry { id: &id, title: source, kind: "list", manifest_json: "{}" };
    let file = store::FileVersion { path: &path, sha256: source, bytes: 1, records: &records, diagnostics: &[] };
    register.ingest_source(&entry, &[file], store::Policy::Strict, "2026-01-01T00:00:00Z", &mut |_| {}).unwrap();
}

const PEOPLE: [(&str, &str, &str, &str); 6] = [
    ("Гусев", "Григорий", "Сергеевич", "1939"),
    ("Петраускас", "Йонас", "Антанович", "1921"),
    ("Шевченко", "Тарас", "Григорьевич", "1914"),
    ("Иванова", "Мария", "Петровна", "1930"),
    ("Кузнецов", "Николай", "Иванович", "1905"),
    ("Белов", "Андрей", "Павлович", "1911"),
];
const LATIN: [(&str, &str, &str, &str); 6] = [
    ("Gusev", "Grigoriy", "Sergeevich", "1939"),
    ("Petrauskas", "Jonas", "Antanovich", "1921"),
    ("Shevchenko", "Taras", "Grigorevich", "1914"),
    ("Ivanova", "Maria", "Petrovna", "1930"),
    ("Kuznetsov", "Nikolai", "Ivanovich", "1905"),
    ("Belov", "Andrei", "Pavlovich", "1911"),
];

#[test]
fn a_new_source_links_against_the_persons_already_formed() {
    let mut register = Register::open_in_memory().unwrap();
    name_source(&mut register, "ru", &PEOPLE);
    name_source(&mut register, "en", &LATIN);
    let spec = link::LinkSpec::default();
    assert_eq!(register.latest_link_spec().unwrap(), None, "no run yet");
    let first = register.link_persons(&spec, "2026-01-01T00:00:00Z").unwrap();
    assert!(first.rerun && !first.incremental);
    let recorded = register.latest_link_spec().unwrap().expect("the run recorded its spec");
    assert_eq!(recorded.threshold, spec.threshold);
    assert!(!recorded.fields.is_empty(), "the spec as completed for the records");
    assert!(register.latest_link_model().unwrap().is_some(), "the run recorded its model");
    assert_eq!((first.records, first.persons), (12, 6), "{:?}", first.assignments);
    let person_of = |linked: &store::Linked, key: &str| {
        linked.assignments.iter().find(|a| a.record_key == key).map(|a| a.person_id.clone()).unwrap()
    };
    // Nothing changed: the latest run stands.
    assert!(!register.link_persons(&spec, "2026-01-02T00:00:00Z").unwrap().rerun);
    name_source(&mut register, "de", &[("Gussew", "Grigori", "Sergejewitsch", "1939"), ("Zweig", "Stefan", "", "1881")]);
    let second = register.link_persons(&spec, "2026-01-03T00:00:00Z").unwrap();
    assert!(second.rerun && second.incremental);
    assert_eq!((second.records, second.persons), (14, 7));
    // Every earlier record keeps its person; Gussew joins Gusev's; the earlier pairs are kept.
    for a in &first.assignments {
        assert_eq!(person_of(&second, &a.record_key), a.person_id, "{}", a.record_key);
    }
    let gusev = person_of(&first, "ru:ru.csv:2");
    assert_eq!(person_of(&second, "de:de.csv:2"), gusev);
    assert!(first.pairs.iter().all(|p| second.pairs.contains(p)));
    assert!(second.pairs.len() > first.pairs.len());
    // A whole run over the same records groups them the same way (its ids come from the
    // records alone, without the history).
    let mut whole = Register::open_in_memory().unwrap();
    name_source(&mut whole, "ru", &PEOPLE);
    name_source(&mut whole, "en", &LATIN);
    name_source(&mut whole, "de", &[("Gussew", "Grigori", "Sergejewitsch", "1939"), ("Zweig", "Stefan", "", "1881")]);
    let at_once = whole.link_persons(&spec, "2026-01-03T00:00:00Z").unwrap();
    assert!(!at_once.incremental);
    let groups = |linked: &store::Linked| {
        let mut by_person: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for a in &linked.assignments {
            by_person.entry(a.person_id.clone()).or_default().push(a.record_key.clone());
        }
        let mut groups: Vec<Vec<String>> = by_person.into_values().collect();
        groups.sort();
        groups
    };
    assert_eq!(groups(&at_once), groups(&second));
}

/// A spec field whose column no record has and no field is named (a typo) is refused by name;
/// a field of the register that no record fills yet is not a typo.
#[test]
fn a_spec_column_that_is_nothing_is_refused() {
    let mut register = Register::open_in_memory().unwrap();
    name_source(&mut register, "ru", &PEOPLE);
    let spec = |column: &str| link::LinkSpec {
        fields: vec![link::FieldSpec::new("surname", link::FieldKind::Surname), link::FieldSpec::new(column, link::FieldKind::Date)],
        ..link::LinkSpec::default()
    };
    let error = register.link_persons(&spec("birth_dat"), "2026-01-01T00:00:00Z").unwrap_err().to_string();
    assert!(error.starts_with("link spec: field[1].column: \"birth_dat\" is not a column of any record (standard columns: surname, "), "{error}");
    assert!(register.link_persons(&spec("defection.date"), "2026-01-01T00:00:00Z").is_ok());
}

/// `[link]` errors name the entry and keep to one line; a misspelt key of an entry is an error.
#[test]
fn a_malformed_link_section_names_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let declared = |text: &str| {
        let section: toml::Value = toml::from_str(text).unwrap();
        store::declared_link_spec(dir.path(), Some(&section)).map(|_| ()).map_err(|e| e.to_string())
    };
    assert_eq!(
        declared("[[field]]\ncolumn = \"surname\"\nkind = \"surname\"\n[[field]]\ncolumn = \"given_name\"\nkind = \"given\"\ntff = false\n"),
        Err("kartoteka.toml: [link]: field[1].tff: unknown field `tff`, expected one of `column`, `kind`, `tf`".to_owned())
    );
    assert_eq!(declared("[[blocking]]\nkyes = [\"surname\"]\n").unwrap_err(), "kartoteka.toml: [link]: blocking[0].kyes: unknown field `kyes`, expected `keys`");
    assert_eq!(declared("[[field]]\nkind = \"surname\"\n").unwrap_err(), "kartoteka.toml: [link]: field[0]: missing field `column`");
    assert_eq!(declared("threshhold = 0.9\n").unwrap_err(), "kartoteka.toml: [link]: threshhold: unknown field `threshhold`, expected one of `threshold`, `link_type`, `unique_sources`, `max_block`, `u_sample_pairs`, `seed`, `em_full`, `field`, `blocking`");
    assert_eq!(declared("threshold = \"high\"\n").unwrap_err(), "kartoteka.toml: [link]: not a link spec: invalid type: string \"high\", expected f64");
    assert_eq!(declared("threshold = 0.9\n"), Ok(()));
}

/// The review versions of persons, as `review_items` holds them ("person:ID" to version).
fn person_versions(path: &std::path::Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT item, version FROM review_items WHERE item LIKE 'person:%' ORDER BY item").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

/// A run's persons: (record key, person id) each.
fn run_of(persons: &[(&str, &str)]) -> Vec<PersonAssignment> {
    persons
        .iter()
        .map(|(key, person)| PersonAssignment { record_key: (*key).to_owned(), content_sha256: Some(format!("c-{key}")), person_id: (*person).to_owned() })
        .collect()
}

fn store_run(register: &mut Register, persons: &[PersonAssignment], inputs: &str) {
    let run = LinkageRun {
        ran_at: "2024-01-01T00:00:00Z",
        persons,
        pairs: &[],
        decisions: 0,
        events_json: "[]",
        inputs_sha256: Some(inputs),
        model_json: None,
        spec_json: None,
        decisions_sha256: None,
    };
    register.store_linkage(&run).unwrap();
}

/// A person's version is the version of its set of records: a run that moves records bumps
/// exactly the persons they leave and join (two records swapped between two persons included,
/// which leaves both the same size); a run that moves none writes no version; a person new to
/// the register starts at version 0, as every person of a first run does.
#[test]
fn a_run_bumps_the_version_of_exactly_the_persons_whose_records_it_moves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.sqlite");
    let mut register = Register::open(&path).unwrap();
    store_run(&mut register, &run_of(&[("a", "P1"), ("b", "P1"), ("c", "P2"), ("d", "P2"), ("e", "P3")]), "i1");
    assert_eq!(person_versions(&path), vec![], "a first run writes no version");
    // A re-link swaps b and c: P1 and P2 keep their sizes, and their ids, but not their records.
    store_run(&mut register, &run_of(&[("a", "P1"), ("b", "P2"), ("c", "P1"), ("d", "P2"), ("e", "P3")]), "i2");
    let swapped = vec![("person:P1".to_owned(), 1), ("person:P2".to_owned(), 1)];
    assert_eq!(person_versions(&path), swapped);
    // A run that moves nothing (other inputs, the same persons) bumps nothing.
    store_run(&mut register, &run_of(&[("a", "P1"), ("b", "P2"), ("c", "P1"), ("d", "P2"), ("e", "P3")]), "i3");
    assert_eq!(person_versions(&path), swapped);
    // New records: one joins P3, one forms a new person P4 (at 0); a record gone from the run
    // (its file version superseded) changes its person too.
    store_run(&mut register, &run_of(&[("a", "P1"), ("b", "P2"), ("c", "P1"), ("e", "P3"), ("f", "P3"), ("g", "P4")]), "i4");
    assert_eq!(person_versions(&path), vec![("person:P1".to_owned(), 1), ("person:P2".to_owned(), 2), ("person:P3".to_owned(), 1)]);
    // A person that lost every record and comes back with one has changed twice.
    store_run(&mut register, &run_of(&[("a", "P1"), ("b", "P1"), ("c", "P1"), ("e", "P3"), ("f", "P3"), ("g", "P4")]), "i5");
    store_run(&mut register, &run_of(&[("a", "P1"), ("b", "P2"), ("c", "P1"), ("e", "P3"), ("f", "P3"), ("g", "P4")]), "i6");
    assert_eq!(
        person_versions(&path),
        vec![("person:P1".to_owned(), 3), ("person:P2".to_owned(), 4), ("person:P3".to_owned(), 1)]
    );
}

/// Through `link_persons`: an incremental run whose new record joins a person bumps that
/// person's version only (the new person starts at 0); a re-run on unchanged inputs stands on
/// the latest run and writes nothing, so the register's tables are as they were, versions too.
#[test]
fn a_new_source_bumps_the_person_it_joins_and_an_unchanged_rerun_keeps_every_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.sqlite");
    let mut register = Register::open(&path).unwrap();
    name_source(&mut register, "ru", &PEOPLE);
    name_source(&mut register, "en", &LATIN);
    let spec = link::LinkSpec::default();
    register.link_persons(&spec, "2026-01-01T00:00:00Z").unwrap();
    assert_eq!(person_versions(&path), vec![]);
    name_source(&mut register, "de", &[("Gussew", "Grigori", "Sergejewitsch", "1939"), ("Zweig", "Stefan", "", "1881")]);
    let second = register.link_persons(&spec, "2026-01-03T00:00:00Z").unwrap();
    assert!(second.incremental);
    let gusev = second.assignments.iter().find(|a| a.record_key == "ru:ru.csv:2").unwrap().person_id.clone();
    assert_eq!(person_versions(&path), vec![(format!("person:{gusev}"), 1)], "{:?}", second.assignments);
    let dump = |path: &std::path::Path| {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut out = Vec::new();
        for table in ["person_records", "link_pairs", "link_runs", "review_items"] {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2")).unwrap();
            let columns = stmt.column_count();
            let rows = stmt
                .query_map([], |r| (0..columns).map(|i| r.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}"))).collect::<Result<Vec<_>, _>>())
                .unwrap();
            out.push((table, rows.collect::<Result<Vec<_>, _>>().unwrap()));
        }
        out
    };
    let before = dump(&path);
    assert!(!register.link_persons(&spec, "2026-01-04T00:00:00Z").unwrap().rerun);
    assert_eq!(dump(&path), before, "an unchanged re-run writes nothing");
}
