//! Search knows names: one person under Cyrillic, Latin, German and initialled spellings, with filters.

mod common;

use common::{Client, project};

fn top_person(reply: &serde_json::Value) -> String {
    reply["results"][0]["person_id"].as_str().unwrap_or_else(|| panic!("no result: {reply}")).to_owned()
}

#[tokio::test]
async fn cyrillic_latin_german_and_initials_find_the_same_person() {
    let project = project();
    let mut client = Client::signed_in(&project, "rita").await;
    let mut persons = Vec::new();
    for q in ["Ежов", "Yezhov", "Jeschow", "ezhov n i", "Ежов Николай Иванович"] {
        let reply = client.get(&project, &format!("/api/search?q={}", common::enc(q))).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json();
        assert!(json["results"][0]["name"].as_str().unwrap().to_lowercase().contains("ежов") || json["results"][0]["name"].as_str().unwrap().contains("Yezhov"), "{q}: {json}");
        persons.push((q, top_person(&json)));
    }
    let first = &persons[0].1;
    for (q, p) in &persons {
        assert_eq!(p, first, "{q} found {p}, Ежов found {first}: {persons:?}");
    }
    // The HTML page shows the same person for a Latin query.
    let page = client.get(&project, "/?q=Yezhov").await;
    assert!(page.body.contains(&format!("/persons/{first}")), "{}", page.body);
}

#[tokio::test]
async fn filters_narrow_by_source_birth_year_place_and_event() {
    let project = project();
    let mut client = Client::signed_in(&project, "rita").await;
    let count = |json: &serde_json::Value| json["results"].as_array().unwrap().len();
    let all = client.get(&project, "/api/search?q=Ivanov").await.json();
    assert!(count(&all) >= 1, "{all}");
    let born_1902 = client.get(&project, "/api/search?q=Ivanov&born_from=1902&born_to=1902").await.json();
    assert_eq!(count(&born_1902), 1, "{born_1902}");
    assert_eq!(born_1902["results"][0]["born_from"], 1902);
    let latin_source = client.get(&project, "/api/search?q=Иванов&source=defectors").await.json();
    assert!(latin_source["results"].as_array().unwrap().iter().all(|r| r["source"] == "defectors"), "{latin_source}");
    assert_eq!(count(&latin_source), 1);
    let arrested = client.get(&project, "/api/search?q=Ezhov&event=arrest").await.json();
    assert_eq!(arrested["results"][0]["source"], "memorial", "{arrested}");
    let by_place = client.get(&project, "/api/search?q=Bukharin&place=moscow").await.json();
    assert_eq!(count(&by_place), 1, "{by_place}");
    assert_eq!(by_place["results"][0]["source"], "defectors");
}
