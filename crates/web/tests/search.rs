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
    // Arrested in 1938: of the two Петры Ивановы, the one the book of memory dates 1938.
    let arrested_1938 = client.get(&project, "/api/search?q=Ivanov&event=arrest&event_from=1938&event_to=1938").await.json();
    assert_eq!(count(&arrested_1938), 1, "{arrested_1938}");
    assert!(arrested_1938["results"][0]["name"].as_str().unwrap().contains("Сергеевич"), "{arrested_1938}");
    let any_event_1937 = client.get(&project, "/api/search?q=Иванов&event_from=1937&event_to=1937").await.json();
    assert_eq!(count(&any_event_1937), 1, "{any_event_1937}");
    assert!(any_event_1937["results"][0]["name"].as_str().unwrap().contains("Семёнович"), "{any_event_1937}");
    let by_place = client.get(&project, "/api/search?q=Bukharin&place=moscow").await.json();
    assert_eq!(count(&by_place), 1, "{by_place}");
    assert_eq!(by_place["results"][0]["source"], "defectors");
    // Each result shows its record's places as written (the filter ignores case).
    assert_eq!(born_1902["results"][0]["place"], "Горький", "{born_1902}");
    assert_eq!(by_place["results"][0]["place"], "Moscow", "{by_place}");
}

/// A manifest whose source `book` (book.csv) has surname, given name, birth year and `column`.
fn book_manifest(title: &str, column: &str) -> String {
    format!(
        "title = \"{title} (simulated)\"\n[[sources]]\nid = \"book\"\ntitle = \"Book of memory (simulated)\"\nkind = \"book_of_memory\"\nfile = \"book.csv\"\n\
         [sources.columns]\n\"Фамилия\" = \"surname\"\n\"Имя\" = \"given_name\"\n\"Год\" = \"birth_date\"\n{column}\n"
    )
}

/// A register of 3,000 namesakes (Ивановы and Ежовы with every other given name) around one
/// Николай Иванович Ежов written in Cyrillic, English and German.
fn crowd() -> (tempfile::TempDir, rusqlite::Connection) {
    let manifest = book_manifest("Namesakes", r#""Отчество" = "patronymic""#) + r#"
[[sources]]
id = "press"
title = "Foreign press (simulated)"
kind = "press"
file = "press.csv"
[sources.columns]
surname = "surname"
given = "given_name"
born = "birth_date"
"#;
    let (given, patronymic) = (["Пётр", "Сергей", "Михаил", "Никита", "Андрей", "Фёдор"], ["Петрович", "Сергеевич", "Ильич", "Андреевич"]);
    let mut book = String::from("Фамилия,Имя,Отчество,Год\nЕжов,Николай,Иванович,1895\n");
    for i in 0..3000 {
        let surname = if i % 2 == 0 { "Иванов" } else { "Ежов" };
        book.push_str(&format!("{surname},{},{},{}\n", given[i % 6], patronymic[i / 6 % 4], 1880 + i % 50));
    }
    let dir = common::ingested(&[("kartoteka.toml", &manifest), ("book.csv", &book), ("press.csv", "surname,given,born\nYezhov,Nikolai,1895\nJeschow,Nikolai,1895\n")]);
    let mut conn = rusqlite::Connection::open(dir.path().join(store::REGISTER_FILE)).unwrap();
    web::search::ensure_index(&mut conn).unwrap();
    (dir, conn)
}

fn find(conn: &rusqlite::Connection, text: &str, offset: usize, limit: usize) -> web::search::Found {
    let query = web::search::Query { text: text.to_owned(), offset, limit, ..Default::default() };
    web::search::search(conn, &query, &web::sensitivity::Sensitivity::default(), true).unwrap()
}

#[test]
fn names_prepared_when_the_app_opens_rank_as_names_prepared_on_the_spot() {
    let (_dir, conn) = crowd();
    let queries = ["Ежов Николай", "Yezhov Nikolai", "ezhov n i", "Иванов Пётр Сергеевич", "Jeschow"];
    let ranking = |conn: &rusqlite::Connection| -> Vec<Vec<(String, u64)>> {
        queries.iter().map(|q| find(conn, q, 0, web::search::WINDOW).hits.iter().map(|h| (h.best.record_key.clone(), h.score.to_bits())).collect()).collect()
    };
    let on_the_spot = ranking(&conn);
    web::search::prepare_names(&conn).unwrap();
    assert_eq!(web::search::prepare_names(&conn).unwrap(), 0, "a name is prepared once");
    assert_eq!(ranking(&conn), on_the_spot);
}

#[test]
fn a_name_in_a_crowd_of_namesakes_is_found_first_in_every_script_reading_one_window() {
    let (_dir, conn) = crowd();
    for text in ["Ежов Николай", "Yezhov Nikolai", "Jeschow Nikolai", "Iejov Nikolai"] {
        let found = find(&conn, text, 0, 5);
        let names: Vec<&str> = found.hits.iter().map(|h| h.best.name.as_str()).collect();
        let mut top: Vec<&str> = names[..3].to_vec();
        top.sort();
        assert_eq!(top, ["Jeschow Nikolai", "Yezhov Nikolai", "Ежов Николай Иванович"], "{text}: {names:?}");
        assert!(found.hits[3].score < found.hits[2].score, "{text}: the crowd ranks below: {:?}", found.hits);
        // 1,500 Ежовы share the surname key: the search reads about one window (a record can
        // come twice, under the alternative keys of an ambiguous spelling), not all of them.
        assert!(found.rows_read < 2 * web::search::WINDOW, "{text}: read {} rows", found.rows_read);
    }
    // Initials fit every Н. И. of the crowd equally (Никита Ильич too), and only those.
    let initials = find(&conn, "ezhov n i", 0, 20);
    assert_eq!(initials.hits.len(), 20);
    for hit in &initials.hits {
        let words: Vec<&str> = hit.best.name.split(' ').collect();
        assert!(words[0] == "Ежов" && words[1].starts_with('Н') && words[2].starts_with('И'), "{:?}", initials.hits);
    }
    // Rank by the names crate's similarity among equals: the query's own spelling comes first.
    assert_eq!(find(&conn, "Jeschow Nikolai", 0, 1).hits[0].best.name, "Jeschow Nikolai");
    assert_eq!(find(&conn, "Ежов Николай Иванович", 0, 1).hits[0].best.name, "Ежов Николай Иванович");
}

#[test]
fn pages_are_slices_of_one_ranking() {
    let (_dir, conn) = crowd();
    let key = |found: web::search::Found| found.hits.into_iter().map(|h| h.best.record_id).collect::<Vec<_>>();
    let whole = key(find(&conn, "Ivanov P.", 0, 45));
    assert_eq!(whole.len(), 45);
    let pages: Vec<i64> = [0, 15, 30].iter().flat_map(|&offset| key(find(&conn, "Ivanov P.", offset, 15))).collect();
    assert_eq!(pages, whole);
    let unique: std::collections::BTreeSet<&i64> = whole.iter().collect();
    assert_eq!(unique.len(), 45, "no record twice");
}

#[tokio::test]
async fn a_page_beyond_the_window_is_a_clear_4xx() {
    let project = project();
    let mut client = Client::signed_in(&project, "rita").await;
    let reply = client.get(&project, &format!("/api/search?q=Ivanov&offset={}&limit=20", web::search::WINDOW)).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.json()["error"]["field"], "offset", "{}", reply.body);
    let reply = client.get(&project, "/api/search?q=Ivanov&offset=1&limit=1").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn sentence_and_cohort_filters_use_the_register_and_the_last_build() {
    let manifest = book_manifest("Sentences", r#""Приговор" = "sentence.detail""#) + r#"
[[cohorts]]
name = "shot"
where = { "sentence.detail" = "ВМН" }
"#;
    let book = "Фамилия,Имя,Год,Приговор\nИванов,Пётр,1901,ВМН\nИванов,Сергей,1902,10 лет ИТЛ\nИванов,Михаил,1903,ВМН\n";
    let project = common::open(common::ingested(&[("kartoteka.toml", &manifest), ("book.csv", book)]), &[("rita", web::Role::Reviewer)]);
    let person_of = |given: &'static str| {
        project
            .state
            .db
            .read_blocking(move |conn| {
                Ok(conn.query_row(
                    "SELECT p.person_id FROM search_records s JOIN person_records p USING (record_key) WHERE s.display LIKE '%' || ?1 || '%'",
                    [given],
                    |r| r.get::<_, String>(0),
                )?)
            })
            .unwrap()
    };
    // What `kartoteka build` writes for an analysis over the cohort: only Пётр was in it then.
    std::fs::create_dir_all(project.dir.path().join("out/analyses")).unwrap();
    let analysis = serde_json::json!({"name": "shot-by-year", "cohort": {"cohort": "shot", "members": [person_of("Пётр")], "possible": [], "uncertain": "include"}});
    std::fs::write(project.dir.path().join("out/analyses/shot-by-year.json"), analysis.to_string()).unwrap();
    let mut client = Client::signed_in(&project, "rita").await;
    let names = |json: serde_json::Value| {
        let mut names: Vec<String> = json["results"].as_array().unwrap_or_else(|| panic!("{json}")).iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(names(client.get(&project, "/api/search?q=Ivanov").await.json()).len(), 3);
    assert_eq!(names(client.get(&project, &format!("/api/search?q=Ivanov&sentence={}", common::enc("вмн"))).await.json()), ["Иванов Михаил", "Иванов Пётр"]);
    assert_eq!(names(client.get(&project, &format!("/api/search?q=Ivanov&sentence={}", common::enc("10 лет"))).await.json()), ["Иванов Сергей"]);
    assert_eq!(names(client.get(&project, "/api/search?q=Ivanov&cohort=shot").await.json()), ["Иванов Пётр"]);
    let unknown = client.get(&project, "/api/search?q=Ivanov&cohort=nope").await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert!(unknown.json()["error"]["message"].as_str().unwrap().contains("shot"), "{}", unknown.body);
    // The page offers the cohort and keeps the filter in its form.
    let page = client.get(&project, "/?q=Ivanov&cohort=shot").await;
    assert!(page.body.contains("<option value=\"shot\" selected>shot</option>"), "{}", page.body);
    assert!(page.body.contains("Иванов Пётр") && !page.body.contains("Иванов Михаил"), "{}", page.body);

    // A cohort added to the manifest while the server runs, then built: no restart needed.
    let message = |reply: common::Reply| reply.json()["error"]["message"].as_str().unwrap_or_else(|| panic!("{}", reply.body)).to_owned();
    assert!(message(client.get(&project, "/api/search?q=Ivanov&cohort=again").await).contains("unknown cohort"));
    let manifest = std::fs::read_to_string(project.dir.path().join("kartoteka.toml")).unwrap();
    std::fs::write(project.dir.path().join("kartoteka.toml"), manifest + "\n[[cohorts]]\nname = \"again\"\nwhere = { \"sentence.detail\" = \"ВМН\" }\n").unwrap();
    assert!(message(client.get(&project, "/api/search?q=Ivanov&cohort=again").await).contains("no analysis of the last `kartoteka build` covers"));
    assert!(client.get(&project, "/?q=Ivanov").await.body.contains("<option value=\"again\">again</option>"));
    let sergei = client.get(&project, &format!("/api/search?q=Ivanov&sentence={}", common::enc("10 лет"))).await.json()["results"][0]["person_id"].clone();
    let analysis = serde_json::json!({"name": "again-by-year", "cohort": {"cohort": "again", "members": [sergei], "possible": [], "uncertain": "include"}});
    std::fs::write(project.dir.path().join("out/analyses/again-by-year.json"), analysis.to_string()).unwrap();
    assert_eq!(names(client.get(&project, "/api/search?q=Ivanov&cohort=again").await.json()), ["Иванов Сергей"]);
}

/// Stands in for a linkage run (as `store_linkage` writes one): persons replaced whole, with a
/// `link_runs` row. `person_of` is SQL over `records` giving a record's person id, or NULL.
fn link_run(conn: &mut rusqlite::Connection, person_of: &str) {
    let tx = conn.transaction().unwrap();
    tx.execute_batch(&format!(
        "DELETE FROM person_records;
         INSERT INTO person_records (record_key, person_id) SELECT record_key, {person_of} FROM records WHERE {person_of} IS NOT NULL;
         INSERT INTO link_runs (ran_at, records, persons, pairs, decisions, events_json) VALUES ('test', 0, 0, 0, 0, '[]');"
    ))
    .unwrap();
    tx.commit().unwrap();
}

/// Rows of the index whose person is not the one `person_records` gives.
fn stale_persons(conn: &rusqlite::Connection) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM search_names n WHERE n.person_id IS NOT (SELECT p.person_id FROM person_records p WHERE p.record_key = n.record_key)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn the_index_follows_the_persons_of_every_linkage_run() {
    let (_dir, mut conn) = crowd();
    let shown = |found: web::search::Found| format!("{:?}", found.hits);
    // Each record its own person, then pairs of records as one person (ids change), then the
    // records with an odd id left without a person.
    for person_of in ["'A' || record_id", "'B' || (record_id / 2)", "CASE WHEN record_id % 2 = 0 THEN 'C' || record_id END"] {
        link_run(&mut conn, person_of);
        assert!(stale_persons(&conn) > 0, "{person_of}: the run changed persons the index holds");
        // Until the index has the run's persons, a search looks them up.
        let looked_up = shown(find(&conn, "Ежов Н. И.", 0, 40));
        assert_eq!(web::search::ensure_index(&mut conn).unwrap(), web::search::IndexUpdate::Persons, "{person_of}");
        assert_eq!(stale_persons(&conn), 0, "{person_of}");
        assert_eq!(shown(find(&conn, "Ежов Н. И.", 0, 40)), looked_up, "{person_of}: same results from the index");
        assert_eq!(web::search::ensure_index(&mut conn).unwrap(), web::search::IndexUpdate::None, "{person_of}");
    }
    for hit in find(&conn, "Ежов", 0, 40).hits {
        let id = hit.best.record_id;
        assert_eq!(hit.person_id, (id % 2 == 0).then(|| format!("C{id}")), "{hit:?}");
    }
    link_run(&mut conn, "'B' || (record_id / 2)");
    web::search::ensure_index(&mut conn).unwrap();
    for hit in find(&conn, "Ежов", 0, 40).hits {
        assert_eq!(hit.person_id, Some(format!("B{}", hit.best.record_id / 2)), "{hit:?}");
    }
}

#[tokio::test]
async fn records_a_build_adds_beside_the_server_are_found_without_a_restart() {
    let project = common::project();
    let mut client = Client::signed_in(&project, "rita").await;
    let before = client.get(&project, "/api/search?q=Ежов").await.json()["results"][0]["record_id"].clone();
    assert!(!web::refresh_index(&project.state).unwrap(), "nothing changed yet");
    // `kartoteka build` ingests a new version of the book of memory while the server runs.
    let memorial = project.dir.path().join("memorial.csv");
    let mut text = std::fs::read_to_string(&memorial).unwrap();
    text.push_str("Тарасов,Пётр,Ильич,1931,Вена,1951,\n");
    std::fs::write(&memorial, text).unwrap();
    common::ingest_project(project.dir.path());
    assert!(web::refresh_index(&project.state).unwrap());
    let found = client.get(&project, "/api/search?q=Tarasov").await.json();
    assert_eq!(found["results"][0]["name"], "Тарасов Пётр Ильич", "{found}");
    // Results point at the current version of a record, not the superseded one.
    let after = client.get(&project, "/api/search?q=Ежов").await.json()["results"][0]["record_id"].clone();
    assert_ne!(before, after);
    let record = client.get(&project, &format!("/api/records/{after}")).await.json();
    assert_eq!(record["superseded"], false, "{record}");
}

#[tokio::test]
async fn next_links_page_through_the_whole_window() {
    let (dir, conn) = crowd();
    // Persons are not the point here: a stand-in linkage run keeps `open` from linking 3,000 records.
    conn.execute("INSERT INTO link_runs (ran_at, records, persons, pairs, decisions, events_json) VALUES ('test', 0, 0, 0, 0, '[]')", []).unwrap();
    drop(conn);
    let project = common::open(dir, &[("rita", web::Role::Reviewer)]);
    let mut client = Client::signed_in(&project, "rita").await;
    let mut path = "/?q=Ivanov+P.".to_owned();
    let mut shown = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let page = client.get(&project, &path).await;
        pages += 1;
        shown.extend(page.body.split("<a href=\"/records/").skip(1).map(|rest| rest.split('"').next().unwrap().to_owned()));
        let Some(next) = page.body.split("<a rel=\"next\" href=\"").nth(1) else { break };
        path = next.split('"').next().unwrap().replace("&amp;", "&");
        assert!(pages < 10, "{path}");
    }
    assert_eq!((pages, shown.len()), (3, web::search::WINDOW), "pages of 20, 20 and 10 show the whole window");
}

#[tokio::test]
async fn a_source_page_links_the_previous_and_only_an_existing_next_page() {
    let book: String = std::iter::once("Фамилия,Имя,Год\n".to_owned()).chain((0..200).map(|i| format!("Иванов,Пётр,{}\n", 1800 + i))).collect();
    let dir = common::ingested(&[("kartoteka.toml", &book_manifest("Exactly two pages", "")), ("book.csv", &book)]);
    let project = common::open(dir, &[("rita", web::Role::Reviewer)]);
    let mut client = Client::signed_in(&project, "rita").await;
    let first = client.get(&project, "/sources/book").await.body;
    assert!(first.contains("rel=\"next\" href=\"/sources/book?offset=100\"") && !first.contains("rel=\"prev\""), "{first}");
    // The second page is the last: 200 records make two full pages and no empty third.
    let second = client.get(&project, "/sources/book?offset=100").await.body;
    assert!(second.contains("rel=\"prev\" href=\"/sources/book?offset=0\"") && !second.contains("rel=\"next\""), "{second}");
    assert_eq!(second.matches("<a href=\"/records/").count(), 100);
}
