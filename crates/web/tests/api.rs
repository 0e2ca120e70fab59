//! The JSON API validates its input with clear 4xx errors, documents itself in OpenAPI, and the
//! reconciliation service returns the right candidate first.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Client, TestProject, project, project_with};
use expect_test::expect;

async fn error_of(client: &mut Client, project: &TestProject, path: &str) -> String {
    let reply = client.get(project, path).await;
    let json = reply.json();
    format!("{} {} {}: {}", reply.status.as_u16(), json["error"]["code"].as_str().unwrap(), json["error"]["field"].as_str().unwrap_or("-"), json["error"]["message"].as_str().unwrap())
}

#[tokio::test]
async fn invalid_input_gets_a_clear_4xx_json_error() {
    let project = project();
    let mut client = Client::signed_in(&project, "rita").await;
    let mut seen = Vec::new();
    for path in [
        "/api/search",
        "/api/search?q=%20",
        "/api/search?q=Ежов&limit=0",
        "/api/search?q=Ежов&limit=many",
        "/api/search?q=Ежов&born_from=1900&born_to=1890",
        "/api/search?q=Ежов&born_from=nineteen",
        "/api/search?q=Ежов&event=picnic",
        "/api/search?q=Ежов&event_from=1938&event_to=1937",
        "/api/search?q=Ежов&offset=45&limit=20",
        "/api/records/abc",
        "/api/records/999999",
        "/api/persons/..%2F..%2Fetc",
        "/api/persons/P000000000000",
        "/api/nothing",
    ] {
        seen.push(format!("{path} -> {}", error_of(&mut client, &project, path).await));
    }
    expect![[r#"
        /api/search -> 400 invalid q: a name to search for is required
        /api/search?q=%20 -> 400 invalid q: a name to search for is required
        /api/search?q=Ежов&limit=0 -> 400 invalid limit: expected a number from 1 to 50, found "0"
        /api/search?q=Ежов&limit=many -> 400 invalid limit: expected a number from 1 to 50, found "many"
        /api/search?q=Ежов&born_from=1900&born_to=1890 -> 400 invalid born_to: 1890 is before born_from 1900
        /api/search?q=Ежов&born_from=nineteen -> 400 invalid born_from: expected a year (1 to 9999), found "nineteen"
        /api/search?q=Ежов&event=picnic -> 400 invalid event: unknown event "picnic"; expected one of arrest, trial, sentence, execution, death, burial, defection, rehabilitation, release
        /api/search?q=Ежов&event_from=1938&event_to=1937 -> 400 invalid event_to: 1937 is before event_from 1938
        /api/search?q=Ежов&offset=45&limit=20 -> 400 invalid offset: expected a number from 0 to 30, found "45"; narrow the search with filters to see further
        /api/records/abc -> 400 invalid id: a record id is a whole number, found "abc"
        /api/records/999999 -> 404 not_found -: record 999999 not found
        /api/persons/..%2F..%2Fetc -> 400 invalid id: a person id is letters, digits, '-' or '_' (at most 64)
        /api/persons/P000000000000 -> 404 not_found -: person P000000000000 not found
        /api/nothing -> 404 not_found -: /api/nothing (see /api/openapi.json) not found"#]]
    .assert_eq(&seen.join("\n"));
}

async fn post_json(client: &mut Client, project: &TestProject, body: &str, csrf: Option<&str>) -> common::Reply {
    let mut request = Request::post("/api/decisions").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = csrf {
        request = request.header("x-csrf-token", token);
    }
    client.send(project, request.body(Body::from(body.to_owned())).unwrap()).await
}

/// The keys of the first two records of the memorial list.
fn two_memorial_records(project: &TestProject) -> Vec<String> {
    project
        .state
        .db
        .read_blocking(|conn| {
            let mut stmt = conn.prepare("SELECT record_key FROM search_records WHERE source_id = 'memorial' ORDER BY record_id LIMIT 2")?;
            Ok(stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?)
        })
        .unwrap()
}

#[tokio::test]
async fn decisions_through_the_api_are_validated_and_versioned() {
    let project = project();
    let mut client = Client::signed_in(&project, "rita").await;
    let csrf = client.csrf.clone();
    let keys = two_memorial_records(&project);
    let good = serde_json::json!({"left": keys[0], "right": keys[1], "action": "reject", "why": "different men", "version": 0}).to_string();
    assert_eq!(post_json(&mut client, &project, &good, None).await.status, StatusCode::FORBIDDEN, "cookie sessions need the CSRF header");
    let cases = [
        ("{not json", "body"),
        ("[1, 2]", "body"),
        (r#"{"right": "x", "action": "accept", "why": "w", "version": 0}"#, "left"),
        (&good.replace("reject", "maybe"), "action"),
        (&good.replace("\"version\":0", "\"version\":-1"), "version"),
        (&good.replace(&keys[1], "memorial:nowhere.csv:9"), "right"),
    ];
    for (body, field) in cases {
        let reply = post_json(&mut client, &project, body, Some(&csrf)).await;
        assert!(reply.status.is_client_error(), "{body}: {}", reply.status);
        assert_eq!(reply.json()["error"]["field"], field, "{body}: {}", reply.body);
    }
    let created = post_json(&mut client, &project, &good, Some(&csrf)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["version"], 1);
    // The same version again is a conflict: someone (here: we) decided in between.
    let again = post_json(&mut client, &project, &good, Some(&csrf)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"]["code"], "conflict");
}

/// The first person a search for `q` finds, its record keys and its review version.
async fn person_of_search(client: &mut Client, project: &TestProject, q: &str) -> (String, Vec<String>, i64) {
    let person = client.get(project, &format!("/api/search?q={}", common::enc(q))).await.json()["results"][0]["person_id"].as_str().unwrap().to_owned();
    let json = client.get(project, &format!("/api/persons/{person}")).await.json();
    let keys = json["records"].as_array().unwrap().iter().map(|r| r["record_key"].as_str().unwrap().to_owned()).collect();
    (person, keys, json["version"].as_i64().expect("a person's review version"))
}

#[tokio::test]
async fn an_api_decision_names_the_persons_it_saw_and_a_stale_one_is_a_conflict_naming_it() {
    let project = project();
    let mut ada = Client::signed_in(&project, "ada").await;
    let mut rita = Client::signed_in(&project, "rita").await;
    let (bukharin, bukharin_keys, bukharin_version) = person_of_search(&mut rita, &project, "Бухарин").await;
    let (ezhov, ezhov_keys, ezhov_version) = person_of_search(&mut rita, &project, "Ежов").await;
    let (gordievsky, _, _) = person_of_search(&mut rita, &project, "Gordievsky").await;
    // A pair across the two persons that a merge of them does not name as its constraint.
    let (left, right) = (bukharin_keys.last().unwrap(), ezhov_keys.last().unwrap());
    let body = |persons: serde_json::Value| serde_json::json!({"left": left, "right": right, "action": "reject", "why": "two men", "version": 0, "persons": persons}).to_string();
    let seen = serde_json::json!({ &bukharin: bukharin_version, &ezhov: ezhov_version });
    let mut outcomes = Vec::new();
    let csrf = rita.csrf.clone();
    let mut post = async |label: &str, body: String| {
        let reply = post_json(&mut rita, &project, &body, Some(&csrf)).await;
        let error = &reply.json()["error"];
        let line = format!("{label}: {} {} {} {}", reply.status.as_u16(), error["field"].as_str().unwrap_or("-"), error["item"].as_str().unwrap_or("-"), error["message"].as_str().unwrap_or("-"));
        // The time of the latest decision, which a conflict names, changes from run to run.
        let line = match line.split_once(" at 20") {
            Some((head, tail)) => format!("{head} at TIME{}", &tail[tail.find(')').unwrap_or(0)..]),
            None => line,
        };
        outcomes.push(line.replace(&bukharin, "BUKHARIN").replace(&ezhov, "EZHOV").replace(&gordievsky, "GORDIEVSKY").replace(left.as_str(), "LEFT").replace(right.as_str(), "RIGHT"));
    };
    post("not an object", body(serde_json::json!(["x"]))).await;
    post("not a person id", body(serde_json::json!({"../x": 0}))).await;
    post("one person left out", body(serde_json::json!({ &bukharin: bukharin_version }))).await;
    post("a person of neither record", body(serde_json::json!({ &bukharin: bukharin_version, &ezhov: ezhov_version, &gordievsky: 0 }))).await;
    // Ada merges the two persons after Rita looked: Rita's versions are stale.
    let person_page = ada.get(&project, &format!("/persons/{bukharin}")).await;
    let person_version = common::hidden(&person_page.body, "version").unwrap();
    let (ada_csrf, item) = (ada.csrf.clone(), format!("person:{bukharin}"));
    let merge = [("csrf", ada_csrf.as_str()), ("item", &item), ("version", &person_version), ("person", &bukharin), ("action", "merge"), ("other", &ezhov), ("why", "one man")];
    assert_eq!(ada.post(&project, "/review/decide", &merge).await.status, StatusCode::SEE_OTHER);
    post("seen before the merge", body(seen.clone())).await;
    let current = |person: &str| project.state.db.read_blocking(|conn| web::review::version(conn, &format!("person:{person}"))).unwrap();
    post("seen after it", body(serde_json::json!({ &bukharin: current(&bukharin), &ezhov: current(&ezhov) }))).await;
    expect![[r#"
        not an object: 400 persons - expected an object of person id to the version you saw
        not a person id: 400 persons - "../x" is not a person id
        one person left out: 409 persons person:EZHOV record RIGHT is in person EZHOV now, not in a person you saw (you saw person BUKHARIN). Nothing of yours was stored; review the current state and decide again
        a person of neither record: 409 persons person:GORDIEVSKY person GORDIEVSKY, which you saw, holds none of the decision's records now. Nothing of yours was stored; review the current state and decide again
        seen before the merge: 409 persons person:BUKHARIN person BUKHARIN changed while you were looking (a decision on it or its records, or a re-link moving records into or out of it; latest decision on it: ada chose merge at TIME): it is now at version 1, you saw version 0. Nothing of yours was stored; review the current state and decide again
        seen after it: 201 - - -"#]].assert_eq(&outcomes.join("\n"));
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint() {
    let project = project();
    let mut anonymous = Client::default();
    let doc = anonymous.get(&project, "/api/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    expect![[r#"["/api/decisions", "/api/persons/{id}", "/api/records/{id}", "/api/search", "/api/sources", "/reconcile"]"#]].assert_eq(&format!("{paths:?}"));
}

fn basic(name: &str) -> String {
    // base64 of "name:password-123" without a dependency: small enough to spell out.
    let text = format!("{name}:{}", common::PASSWORD);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    format!("Basic {out}")
}

async fn reconcile(project: &TestProject, auth: Option<&str>, queries: &serde_json::Value) -> common::Reply {
    let mut request = Request::post("/reconcile").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(auth) = auth {
        request = request.header(header::AUTHORIZATION, auth);
    }
    let body = common::form_encode(&[("queries", &queries.to_string())]);
    Client::default().send(project, request.body(Body::from(body)).unwrap()).await
}

#[tokio::test]
async fn reconciliation_returns_the_right_candidate_first() {
    let project = project();
    let auth = basic("vera");
    let manifest = Client::default()
        .send(&project, Request::get("/reconcile").header(header::AUTHORIZATION, &auth).body(Body::empty()).unwrap())
        .await
        .json();
    assert_eq!(manifest["versions"][0], "0.2");
    assert_eq!(manifest["defaultTypes"][0]["id"], "person");
    let queries = serde_json::json!({
        "q0": {"query": "Yezhov Nikolai", "type": "person", "properties": [{"pid": "birth_year", "v": "1895"}]},
        "q1": {"query": "Бухарин Н. И.", "limit": 3},
        "q2": {"query": "Ivanov Petr", "properties": [{"pid": "birth_year", "v": 1902}]},
        "q3": {"query": "Nobodyevich"}
    });
    let reply = reconcile(&project, Some(&auth), &queries).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let results = reply.json();
    let name = |q: &str| results[q]["result"][0]["name"].as_str().unwrap_or("").to_owned();
    assert!(name("q0").contains("Ежов") || name("q0").contains("Yezhov"), "{results}");
    assert!(name("q1").contains("Бухарин"), "the full patronymic initials fit the Cyrillic record best: {results}");
    assert_eq!(results["q1"]["result"][0]["match"], true, "{results}");
    assert!(results["q1"]["result"].as_array().unwrap().len() <= 3);
    let top_ivanov = results["q2"]["result"][0]["description"].as_str().unwrap();
    assert!(top_ivanov.contains("born 1902"), "the 1902 Ivanov ranks first: {results}");
    assert_eq!(results["q3"]["result"].as_array().unwrap().len(), 0);
    // Preview and suggest.
    let id = results["q0"]["result"][0]["id"].as_str().unwrap();
    let preview = Client::default()
        .send(&project, Request::get(format!("/reconcile/preview?id={id}")).header(header::AUTHORIZATION, &auth).body(Body::empty()).unwrap())
        .await;
    assert!(preview.body.contains("1895"), "{}", preview.body);
    let suggest = Client::default()
        .send(&project, Request::get("/reconcile/suggest/entity?prefix=Jeschow").header(header::AUTHORIZATION, &auth).body(Body::empty()).unwrap())
        .await
        .json();
    assert_eq!(suggest["result"][0]["id"], id, "{suggest}");
    // Bad queries are 400 with the failing key.
    let bad = reconcile(&project, Some(&auth), &serde_json::json!({"q0": {"limit": 3}})).await;
    assert_eq!((bad.status, bad.json()["error"]["field"].as_str().unwrap()), (StatusCode::BAD_REQUEST, "q0.query"));
}

#[tokio::test]
async fn reconciliation_is_private_unless_the_server_opens_it() {
    let queries = serde_json::json!({"q0": {"query": "Ежов"}});
    let closed = project();
    assert_eq!(reconcile(&closed, None, &queries).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reconcile(&closed, Some("Basic dmVyYTp3cm9uZw=="), &queries).await.status, StatusCode::UNAUTHORIZED);
    let open = project_with(|c| c.public_reconcile = true);
    let reply = reconcile(&open, None, &queries).await;
    assert_eq!(reply.status, StatusCode::OK);
    // Anonymous callers see what a viewer sees: the sensitive witness list is not among the results.
    let witness = reconcile(&open, None, &serde_json::json!({"q0": {"query": "Секретов"}})).await.json();
    assert_eq!(witness["q0"]["result"].as_array().unwrap().len(), 0, "{witness}");
}

#[tokio::test]
async fn basic_credentials_follow_a_changed_password_or_role_at_once() {
    let project = project();
    let auth = basic("rita");
    let decisions = |auth: String| {
        let project = &project;
        async move { Client::default().send(project, Request::get("/api/decisions").header(header::AUTHORIZATION, auth).body(Body::empty()).unwrap()).await.status }
    };
    assert_eq!(decisions(auth.clone()).await, StatusCode::OK);
    // Demoted to viewer while the server runs (`kartoteka user add` from another process).
    project.state.db.write_blocking(|conn| web::auth::add_user(conn, "rita", web::Role::Viewer, common::PASSWORD)).unwrap();
    assert_eq!(decisions(auth.clone()).await, StatusCode::FORBIDDEN, "the old role was remembered");
    // A new password: the old one opens nothing any more.
    project.state.db.write_blocking(|conn| web::auth::add_user(conn, "rita", web::Role::Reviewer, "a-new-password")).unwrap();
    assert_eq!(decisions(auth).await, StatusCode::UNAUTHORIZED, "the old password was remembered");
}

#[tokio::test]
async fn html_forms_do_not_take_basic_credentials_for_a_csrf_token() {
    // A browser that once answered the API's Basic challenge re-sends those credentials with any
    // form a third-party page submits; such a form has no CSRF token and must change nothing.
    let project = project();
    let keys = two_memorial_records(&project);
    let (item, _, _) = web::review::pair_item(&keys[0], &keys[1]);
    let form = common::form_encode(&[("item", &item), ("version", "0"), ("l", &keys[0]), ("r", &keys[1]), ("action", "reject"), ("why", "forged")]);
    for path in ["/review/decide", "/admin/relink"] {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::AUTHORIZATION, basic("ada"))
            .body(Body::from(form.clone()))
            .unwrap();
        let reply = Client::default().send(&project, request).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}: {}", reply.body);
    }
    assert_eq!(project.state.db.read_blocking(|conn| web::review::decisions(conn, None, &[], 10, None)).unwrap().len(), 0);
}

#[tokio::test]
async fn reconciliation_refuses_names_longer_than_a_search_takes() {
    // Every word of a name may be looked up as a surname: a long text would cost a range scan
    // per word, so it is refused like a long search.
    let project = project();
    let auth = basic("vera");
    let long = "Ivanov ".repeat(40);
    let reply = reconcile(&project, Some(&auth), &serde_json::json!({"q0": {"query": long}})).await;
    assert_eq!((reply.status, reply.json()["error"]["field"].as_str().unwrap()), (StatusCode::BAD_REQUEST, "q0.query"), "{}", reply.body);
    let path = format!("/reconcile/suggest/entity?prefix={}", common::enc(&long));
    let suggest = Client::default().send(&project, Request::get(path).header(header::AUTHORIZATION, &auth).body(Body::empty()).unwrap()).await;
    assert_eq!((suggest.status, suggest.json()["error"]["field"].as_str().unwrap()), (StatusCode::BAD_REQUEST, "prefix"), "{}", suggest.body);
}

#[tokio::test]
async fn the_reconciliation_manifest_gives_openrefine_absolute_addresses() {
    // OpenRefine resolves the manifest's addresses against its own page (localhost:3333), so a
    // relative "/persons/{{id}}" would open OpenRefine's own host.
    let project = project();
    let request = Request::get("/reconcile").header(header::AUTHORIZATION, basic("vera")).header(header::HOST, "127.0.0.1:8080").body(Body::empty()).unwrap();
    let manifest = Client::default().send(&project, request).await.json();
    let urls: Vec<&str> = [&manifest["view"]["url"], &manifest["preview"]["url"], &manifest["suggest"]["entity"]["service_url"]].map(|u| u.as_str().unwrap_or("")).to_vec();
    expect![[r#"["http://127.0.0.1:8080/persons/{{id}}", "http://127.0.0.1:8080/reconcile/preview?id={{id}}", "http://127.0.0.1:8080"]"#]].assert_eq(&format!("{urls:?}"));
}

#[tokio::test]
async fn suggest_finds_persons_as_the_name_is_typed() {
    let project = project();
    let auth = basic("vera");
    let mut seen = Vec::new();
    for prefix in ["Gord", "Бух", "Yezh", "Zzzz"] {
        let path = format!("/reconcile/suggest/entity?prefix={}", common::enc(prefix));
        let reply = Client::default().send(&project, Request::get(path).header(header::AUTHORIZATION, &auth).body(Body::empty()).unwrap()).await.json();
        let names: Vec<&str> = reply["result"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        seen.push(format!("{prefix}: {names:?}"));
    }
    expect![[r#"
        Gord: ["Gordievsky Oleg"]
        Бух: ["Бухарин Николай Иванович"]
        Yezh: ["Yezhov Nikolai"]
        Zzzz: []"#]].assert_eq(&seen.join("\n"));
}

#[tokio::test]
async fn openrefine_can_call_the_service_from_its_page_and_frame_previews() {
    // OpenRefine fetches the manifest and suggestions from its own page (another origin), and
    // shows previews in a frame: without CORS it cannot add the service at all.
    let project = project_with(|c| c.public_reconcile = true);
    let get = |path: &str| Request::get(path).header(header::ORIGIN, "http://localhost:3333").body(Body::empty()).unwrap();
    let manifest = Client::default().send(&project, get("/reconcile")).await;
    assert_eq!(manifest.headers["access-control-allow-origin"], "*");
    let id = reconcile(&project, None, &serde_json::json!({"q0": {"query": "Ежов"}})).await.json()["q0"]["result"][0]["id"].as_str().unwrap().to_owned();
    let preview = Client::default().send(&project, get(&format!("/reconcile/preview?id={id}"))).await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.headers.get("x-frame-options").is_none(), "{:?}", preview.headers);
    assert!(!preview.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors"));
    // The app's own pages still refuse to be framed and answer no other origin.
    let login = Client::default().send(&project, get("/login")).await;
    assert_eq!(login.headers["x-frame-options"], "DENY");
    assert!(login.headers.get("access-control-allow-origin").is_none());
}
