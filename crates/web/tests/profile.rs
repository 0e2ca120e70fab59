//! The person page marks a field a conflict by the profiles' rule (`analysis::person::Agreement`):
//! a year and a day within it agree, one value written in two languages (моряк, seaman; Горький,
//! Gorky) agrees, one name in two scripts (Геннадий, Gennadiy) agrees, and only values that say
//! different things are a conflict. A whole name is read into its parts as the profiles read it:
//! "SERGEEW, Gennadij G." supports Сергеев and Геннадий, and one with another given name is a
//! conflict.

mod common;

use axum::http::StatusCode;
use common::{Client, TestProject};
use expect_test::expect;
use web::Role;

const MANIFEST: &str = r#"
title = "Profile conflicts (simulated data)"

[[sources]]
id = "kgb"
title = "A list of defectors (simulated)"
kind = "official"
file = "kgb.csv"
[sources.columns]
"Фамилия" = "surname"
"Имя" = "given_name"
"Отчество" = "patronymic"
"Год рождения" = "birth_date"
"Место рождения" = "birth_place"
"Род занятий" = "occupation"
"Национальность" = "nationality"
"Примечание" = "note"

[[sources]]
id = "press"
title = "Clippings (simulated)"
kind = "press"
file = "press.csv"
[sources.columns]
surname = "surname"
given = "given_name"
patronymic = "patronymic"
born = "birth_date"
birthplace = "birth_place"
occupation = "occupation"
nationality = "nationality"
note = "note"
"#;

const KGB: &str = "Фамилия,Имя,Отчество,Год рождения,Место рождения,Род занятий,Национальность,Примечание
Сергеев,Геннадий,Григорьевич,1934,Горький,моряк,русский,стр. 41
Николаев,Борис,Фёдорович,1946,Свердловск,физик,русский,стр. 42
Ковалёв,Владимир,Андреевич,1930,Москва,врач,украинец,стр. 42
";

const PRESS: &str = "surname,given,patronymic,born,birthplace,occupation,nationality,note
Сергеев,Gennadiy,Grigoryevich,05.03.1934,Gorky,seaman,Ukrainian,The Times
Ковалёв,Владимир,Андреевич,1930,Moscow,physician,Ukrainian,Die Welt
";

/// Each field of the profile table: its values, and whether the page marks it a conflict.
fn profile_rows(body: &str) -> Vec<String> {
    let table = body.split("<table id=\"profile\">").nth(1).unwrap().split("</table>").next().unwrap();
    table
        .split("<tr")
        .skip(2)
        .map(|row| {
            let cells: Vec<&str> = row.split("<td>").skip(1).map(|c| c.split("</td>").next().unwrap()).collect();
            let values: Vec<&str> = cells[1].split("<br>").map(|v| v.split(" (<a").next().unwrap()).collect();
            format!("{}: {}", cells[0], values.join(" / "))
        })
        .collect()
}

#[tokio::test]
async fn a_year_and_a_day_within_it_or_one_value_or_name_in_two_languages_is_no_conflict() {
    let project = common::open(common::ingested(&[("kartoteka.toml", MANIFEST), ("kgb.csv", KGB), ("press.csv", PRESS)]), &[("ada", Role::Admin)]);
    let sergeev: String = project
        .state
        .db
        .read_blocking(|conn| {
            Ok(conn.query_row(
                "SELECT p.person_id FROM person_records p JOIN records r USING (record_key) JOIN assertions a USING (record_id)
                 WHERE a.field = 'surname' AND a.value_text = 'Сергеев' GROUP BY p.person_id HAVING COUNT(*) = 2",
                [],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    let mut ada = Client::signed_in(&project, "ada").await;
    let page = ada.get(&project, &format!("/persons/{sergeev}")).await;
    expect![[r#"
        birth_date: 1934 / 1934-03-05
        birth_place: Gorky / Горький
        given_name: Gennadiy / Геннадий
        nationality ⚠ conflict: Ukrainian / русский
        note: The Times / стр. 41
        occupation: seaman / моряк
        patronymic: Grigoryevich / Григорьевич
        surname: Сергеев"#]]
    .assert_eq(&profile_rows(&page.body).join("\n"));
}

const WHOLE_NAMES_MANIFEST: &str = r#"
title = "Whole names against parts (simulated data)"

[[sources]]
id = "kgb"
title = "A list of defectors (simulated)"
kind = "official"
file = "kgb.csv"
[sources.columns]
"Фамилия" = "surname"
"Имя" = "given_name"
"Отчество" = "patronymic"
"Год рождения" = "birth_date"
"Место рождения" = "birth_place"
"Род занятий" = "occupation"

[[sources]]
id = "press"
title = "Clippings (simulated)"
kind = "press"
file = "press.csv"
[sources.columns]
name = "name"
born = "birth_date"
birthplace = "birth_place"
occupation = "occupation"
"#;

const KGB_PARTS: &str = "Фамилия,Имя,Отчество,Год рождения,Место рождения,Род занятий
Сергеев,Геннадий,Григорьевич,1934-03-05,Горький,моряк
Николаев,Борис,Фёдорович,1946-11-20,Свердловск,физик
Ковалёв,Владимир,Андреевич,1930-01-14,Москва,врач
Ильин,Григорий,Юрьевич,1941-07-02,Рига,инженер
";

const PRESS_WHOLE_NAMES: &str = "name,born,birthplace,occupation
\"SERGEEW, Gennadij G.\",1934-03-05,Gorky,seaman
\"NIKOLAEV, Pavel F.\",1946-11-20,Sverdlovsk,physicist
\"KOVALEV, Vladimir A.\",1930-01-14,Moscow,physician
\"ILIN, Grigoriy Y.\",1941-07-02,Riga,engineer
";

/// Each field of the profile table with its values and the records citing them, tags dropped.
fn profile_rows_with_records(body: &str) -> Vec<String> {
    let table = body.split("<table id=\"profile\">").nth(1).unwrap().split("</table>").next().unwrap();
    let text = |html: &str| html.split('<').enumerate().map(|(i, piece)| if i == 0 { piece } else { piece.split_once('>').map_or("", |(_, t)| t) }).collect::<String>();
    table
        .split("<tr")
        .skip(2)
        .map(|row| {
            let cells: Vec<&str> = row.split("<td>").skip(1).map(|c| c.split("</td>").next().unwrap()).collect();
            format!("{}: {}", cells[0], cells[1].split("<br>").map(text).collect::<Vec<_>>().join(" / "))
        })
        .collect()
}

/// The person of a record, by its key.
fn person_of(project: &TestProject, record_key: &str) -> String {
    project
        .state
        .db
        .read_blocking(|conn| Ok(conn.query_row("SELECT person_id FROM person_records WHERE record_key = ?1", [record_key], |r| r.get(0))?))
        .unwrap()
}

/// Сергеев's whole name in the press supports the parts of the list, in another script and with
/// the patronymic's initial. The linkage keeps Николаев Борис and "NIKOLAEV, Pavel F." apart;
/// a historian who merges them sees the given names marked a conflict, and the initial F.
/// fitting Фёдорович.
#[tokio::test]
async fn a_whole_name_supports_the_parts_it_spells_and_contradicts_another_given_name() {
    let project = common::open(common::ingested(&[("kartoteka.toml", WHOLE_NAMES_MANIFEST), ("kgb.csv", KGB_PARTS), ("press.csv", PRESS_WHOLE_NAMES)]), &[("ada", Role::Admin)]);
    let mut ada = Client::signed_in(&project, "ada").await;
    let sergeev = person_of(&project, "kgb:kgb.csv:2");
    assert_eq!(person_of(&project, "press:press.csv:2"), sergeev, "the linkage joins Сергеев and SERGEEW");
    let (nikolaev, pavel) = (person_of(&project, "kgb:kgb.csv:3"), person_of(&project, "press:press.csv:3"));
    assert_ne!(nikolaev, pavel, "the linkage keeps Борис and Pavel apart");
    let page = ada.get(&project, &format!("/persons/{nikolaev}")).await;
    let version = common::hidden(&page.body, "version").unwrap();
    let (csrf, item) = (ada.csrf.clone(), format!("person:{nikolaev}"));
    let merge = [("csrf", csrf.as_str()), ("item", &item), ("version", &version), ("person", &nikolaev), ("action", "merge"), ("other", &pavel), ("why", "one man")];
    assert_eq!(ada.post(&project, "/review/decide", &merge).await.status, StatusCode::SEE_OTHER);
    let relinked = ada.post(&project, "/admin/relink", &[("csrf", &csrf)]).await;
    assert!(relinked.body.contains("id=\"relinked\""), "{}", relinked.body);
    let merged = person_of(&project, "kgb:kgb.csv:3");
    assert_eq!(person_of(&project, "press:press.csv:3"), merged);
    let mut shown = Vec::new();
    for person in [sergeev, merged] {
        let page = ada.get(&project, &format!("/persons/{person}")).await;
        shown.extend(profile_rows_with_records(&page.body));
    }
    expect![[r#"
        birth_date: 1934-03-05 (kgb:2, press:2)
        birth_place: Gorky (press:2) / Горький (kgb:2)
        given_name: Gennadij (press:2 in the whole name) / Геннадий (kgb:2)
        name: SERGEEW, Gennadij G. (press:2)
        occupation: seaman (press:2) / моряк (kgb:2)
        patronymic: G. (press:2 in the whole name) / Григорьевич (kgb:2)
        surname: SERGEEW (press:2 in the whole name) / Сергеев (kgb:2)
        birth_date: 1946-11-20 (kgb:3, press:3)
        birth_place: Sverdlovsk (press:3) / Свердловск (kgb:3)
        given_name ⚠ conflict: Pavel (press:3 in the whole name) / Борис (kgb:3)
        name: NIKOLAEV, Pavel F. (press:3)
        occupation: physicist (press:3) / физик (kgb:3)
        patronymic: F. (press:3 in the whole name) / Фёдорович (kgb:3)
        surname: NIKOLAEV (press:3 in the whole name) / Николаев (kgb:3)"#]].assert_eq(&shown.join("\n"));
}
