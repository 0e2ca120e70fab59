//! The person page marks a field a conflict by the profiles' rule (`analysis::person::Agreement`):
//! a year and a day within it agree, one value written in two languages (моряк, seaman; Горький,
//! Gorky) agrees, one name in two scripts (Геннадий, Gennadiy) agrees, and only values that say
//! different things are a conflict.

mod common;

use common::Client;
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
