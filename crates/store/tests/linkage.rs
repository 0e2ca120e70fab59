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
