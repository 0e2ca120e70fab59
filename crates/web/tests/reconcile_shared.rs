//! Reconciliation against the shared reference data: Memorial's list of 11,788 people shot in
//! Moscow (names in Cyrillic, one field), reconciled from spreadsheet cells written in English
//! and German press spellings, the Slavists' system and passports' ICAO, with a birth year,
//! through the HTTP API as OpenRefine sends them.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::Client;

const LIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/moscow-executed/mos_memo_executed_moscow.csv");

const MANIFEST: &str = r#"
title = "Расстрелы в Москве (Memorial)"
[[sources]]
id = "moscow"
title = "Shot in Moscow, by last address"
kind = "book_of_memory"
file = "moscow.csv"
[sources.columns]
name = "name"
birth_year = "birth_date"
execution_date = "execution.date"
"#;

#[tokio::test]
async fn press_spellings_reconcile_to_the_right_person_of_the_moscow_list() {
    let list = std::fs::read_to_string(LIST).unwrap();
    let dir = common::ingested(&[("kartoteka.toml", MANIFEST), ("moscow.csv", &list)]);
    // Reconciliation is against records here: the test is about the search, not linkage.
    let register = rusqlite::Connection::open(dir.path().join(store::REGISTER_FILE)).unwrap();
    register.execute("INSERT INTO link_runs (ran_at, records, persons, pairs, decisions, events_json) VALUES ('test', 0, 0, 0, 0, '[]')", []).unwrap();
    drop(register);
    let project = common::open(dir, &[("vera", web::Role::Viewer)]);
    let mut client = Client::signed_in(&project, "vera").await;
    // Every 1,000th person of the list, spelled as a foreign newspaper would.
    let mut reader = csv::Reader::from_reader(list.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).step_by(1000).collect();
    assert!(rows.len() >= 11);
    let systems = [names::System::BgnPcgn, names::System::German, names::System::Scholarly, names::System::Icao];
    let mut queries = serde_json::Map::new();
    for (i, row) in rows.iter().enumerate() {
        let spelled = names::translit(&row[4], systems[i % systems.len()]);
        queries.insert(format!("q{i}"), serde_json::json!({"query": spelled, "type": "person", "properties": [{"pid": "birth_year", "v": &row[5]}]}));
    }
    let body = common::form_encode(&[("queries", &serde_json::Value::Object(queries.clone()).to_string())]);
    let request = Request::post("/reconcile").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from(body)).unwrap();
    let reply = client.send(&project, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let results = reply.json();
    for (i, row) in rows.iter().enumerate() {
        let first = &results[format!("q{i}")]["result"][0];
        assert_eq!(first["name"], &row[4], "{} (born {}) found {first}", queries[&format!("q{i}")]["query"], &row[5]);
        assert!(first["description"].as_str().unwrap().contains(&row[5]), "{first}");
    }
}
