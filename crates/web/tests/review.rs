//! Review: the queue, decisions with who/when/why, conflicts between concurrent reviewers (the
//! pair page's form and the API refusing a stale decision by one rule, in the same words), undo,
//! decisions honoured by the next linkage run, merge and split, blind double review.

mod common;

use axum::http::StatusCode;
use common::{Client, TestProject, project, project_with};

/// The first pair of the queue and its form fields: (item, version, l, r).
async fn first_pair(client: &mut Client, project: &TestProject) -> [String; 4] {
    let queue = client.get(project, "/review").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    let href = queue.body.split("href=\"/review/pair?").nth(1).expect("a pair in the queue").split('"').next().unwrap().replace("&amp;", "&");
    let pair = client.get(project, &format!("/review/pair?{href}")).await;
    assert!(pair.body.contains("id=\"waterfall\""), "{}", pair.body);
    ["item", "version", "l", "r"].map(|k| common::hidden(&pair.body, k).unwrap_or_else(|| panic!("no {k} in {}", pair.body)))
}

async fn decide(client: &mut Client, project: &TestProject, pair: &[String; 4], action: &str, why: &str) -> common::Reply {
    let csrf = client.csrf.clone();
    let [item, version, l, r] = pair;
    client.post(project, "/review/decide", &[("csrf", &csrf), ("item", item), ("version", version), ("l", l), ("r", r), ("action", action), ("why", why)]).await
}

async fn person_of(client: &mut Client, project: &TestProject, record_key: &str) -> String {
    let id = project.state.db.read_blocking(|conn| web::register::record_id_of(conn, record_key)).unwrap().unwrap();
    client.get(project, &format!("/api/records/{id}")).await.json()["person_id"].as_str().unwrap().to_owned()
}

async fn relink(client: &mut Client, project: &TestProject) {
    let csrf = client.csrf.clone();
    let reply = client.post(project, "/admin/relink", &[("csrf", &csrf)]).await;
    assert!(reply.body.contains("id=\"relinked\""), "{}", reply.body);
}

#[tokio::test]
async fn the_second_of_two_concurrent_reviewers_gets_a_conflict_and_nothing_is_lost() {
    let project = project();
    let mut rita = Client::signed_in(&project, "rita").await;
    let mut rolf = Client::signed_in(&project, "rolf").await;
    let pair = first_pair(&mut rita, &project).await;
    assert_eq!(first_pair(&mut rolf, &project).await, pair, "both see the same most informative pair");
    let (a, b) = tokio::join!(decide(&mut rita, &project, &pair, "accept", "same birth year and place"), decide(&mut rolf, &project, &pair, "reject", "different patronymic"));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT], "{} / {}", a.body, b.body);
    let loser = if a.status == StatusCode::CONFLICT { &a } else { &b };
    assert!(loser.body.contains("someone else decided"), "{}", loser.body);
    let log = rita.get(&project, "/api/decisions").await.json();
    let decisions = log["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{log}");
    let winner = if a.status == StatusCode::SEE_OTHER { ("rita", "accept") } else { ("rolf", "reject") };
    assert_eq!((decisions[0]["who"].as_str().unwrap(), decisions[0]["action"].as_str().unwrap()), winner);
    assert!(decisions[0]["decided_at"].as_str().unwrap().ends_with('Z'));
    // The loser reloads, sees the decision, and can decide on the new version.
    let pair_page = loser_page(if a.status == StatusCode::CONFLICT { &mut rita } else { &mut rolf }, &project, &pair).await;
    assert!(pair_page.contains(winner.0), "{pair_page}");
}

async fn loser_page(client: &mut Client, project: &TestProject, pair: &[String; 4]) -> String {
    client.get(project, &format!("/review/pair?l={}&r={}", common::enc(&pair[2]), common::enc(&pair[3]))).await.body
}

#[tokio::test]
async fn decisions_are_honoured_by_the_next_linkage_run_and_undo_restores() {
    let project = project();
    let mut ada = Client::signed_in(&project, "ada").await;
    let pair = first_pair(&mut ada, &project).await;
    let (l, r) = (&pair[2], &pair[3]);
    let before = (person_of(&mut ada, &project, l).await, person_of(&mut ada, &project, r).await);
    // Decide the opposite of what the machine did, then re-link.
    let action = if before.0 == before.1 { "reject" } else { "accept" };
    assert_eq!(decide(&mut ada, &project, &pair, action, "checked the archive file").await.status, StatusCode::SEE_OTHER);
    relink(&mut ada, &project).await;
    let after = (person_of(&mut ada, &project, l).await, person_of(&mut ada, &project, r).await);
    assert_eq!(after.0 == after.1, action == "accept", "{action}: before {before:?}, after {after:?}");
    // The decided pair left the queue.
    assert!(!ada.get(&project, "/review").await.body.contains(&format!("{} ↔ {}", l, r)));
    // Undo (append-only: the decision stays in the log, marked undone).
    let page = ada.get(&project, &format!("/review/pair?l={}&r={}", common::enc(l), common::enc(r))).await;
    let decision = common::hidden(&page.body, "decision").expect("an undo form");
    let version = page.body.split("name=\"decision\"").nth(1).and_then(|rest| common::hidden(rest, "version")).unwrap();
    let csrf = ada.csrf.clone();
    let reply = ada.post(&project, "/review/undo", &[("csrf", &csrf), ("decision", &decision), ("version", &version), ("why", "wrong file")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    relink(&mut ada, &project).await;
    let undone = (person_of(&mut ada, &project, l).await, person_of(&mut ada, &project, r).await);
    assert_eq!(undone.0 == undone.1, before.0 == before.1, "undo restores the machine's verdict");
    let log = ada.get(&project, "/api/decisions").await.json();
    assert_eq!(log["decisions"][0]["undone"][0], "ada", "{log}");
}

#[tokio::test]
async fn merge_and_split_whole_persons() {
    let project = project();
    let mut ada = Client::signed_in(&project, "ada").await;
    let bukharin = ada.get(&project, "/api/search?q=Бухарин").await.json();
    let ezhov = ada.get(&project, "/api/search?q=Gordievsky").await.json();
    let (a, b) = (bukharin["results"][0]["person_id"].as_str().unwrap().to_owned(), ezhov["results"][0]["person_id"].as_str().unwrap().to_owned());
    assert_ne!(a, b);
    let page = ada.get(&project, &format!("/persons/{a}")).await;
    let version = common::hidden(&page.body, "version").unwrap();
    let csrf = ada.csrf.clone();
    let item = format!("person:{a}");
    let reply = ada.post(&project, "/review/decide", &[("csrf", &csrf), ("item", &item), ("version", &version), ("person", &a), ("action", "merge"), ("other", &b), ("why", "one man, two names")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    relink(&mut ada, &project).await;
    let merged = ada.get(&project, "/api/search?q=Gordievsky").await.json()["results"][0]["person_id"].as_str().unwrap().to_owned();
    let records = ada.get(&project, &format!("/api/persons/{merged}")).await.json();
    let keys: Vec<String> = records["records"].as_array().unwrap().iter().map(|r| r["record_key"].as_str().unwrap().to_owned()).collect();
    assert!(keys.len() >= 2, "{keys:?}");
    // Split the Gordievsky record off again.
    let page = ada.get(&project, &format!("/persons/{merged}")).await;
    let version = common::hidden(&page.body, "version").unwrap();
    let gordievsky = keys.iter().find(|k| k.starts_with("defectors:") && k.ends_with(":4")).unwrap_or_else(|| panic!("{keys:?}")).clone();
    let item = format!("person:{merged}");
    let csrf = ada.csrf.clone();
    let reply = ada.post(&project, "/review/decide", &[("csrf", &csrf), ("item", &item), ("version", &version), ("person", &merged), ("action", "split"), ("split", &gordievsky), ("why", "a namesake after all")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    relink(&mut ada, &project).await;
    let staying = keys.iter().find(|k| **k != gordievsky).unwrap();
    let (left, right) = (person_of(&mut ada, &project, &gordievsky).await, person_of(&mut ada, &project, staying).await);
    assert_ne!(left, right, "split apart: {gordievsky} and {staying}");
    // One of the two keeps the merged person's id.
    assert!(left == merged || right == merged, "{left} {right} {merged}");
}

#[tokio::test]
async fn blind_double_review_decides_on_agreement_and_surfaces_disagreement() {
    let project = project_with(|c| c.double_review = true);
    let mut rita = Client::signed_in(&project, "rita").await;
    let mut rolf = Client::signed_in(&project, "rolf").await;
    let pair = first_pair(&mut rita, &project).await;
    assert_eq!(decide(&mut rita, &project, &pair, "accept", "same man").await.status, StatusCode::SEE_OTHER);
    // Rita's vote is hidden from Rolf, and the pair stays in his queue.
    let page = loser_page(&mut rolf, &project, &pair).await;
    assert!(!page.contains("same man") && page.contains("id=\"decide\""), "{page}");
    assert_eq!(decide(&mut rolf, &project, &pair, "reject", "different patronymic").await.status, StatusCode::SEE_OTHER);
    assert_eq!(rita.get(&project, "/api/decisions").await.json()["decisions"].as_array().unwrap().len(), 0);
    let mut ada = Client::signed_in(&project, "ada").await;
    let disagreements = ada.get(&project, "/review/disagreements").await;
    assert!(disagreements.body.contains("same man") && disagreements.body.contains("different patronymic"), "{}", disagreements.body);
    // Agreement on the next pair makes a decision by both.
    let second = first_pair(&mut rita, &project).await;
    assert_ne!(second, pair);
    decide(&mut rita, &project, &second, "reject", "dates differ").await;
    decide(&mut rolf, &project, &second, "reject", "places differ").await;
    // The decision names both voters and both notes: an admin's to read, not the voters'.
    let log = ada.get(&project, "/api/decisions").await.json();
    assert_eq!(log["decisions"][0]["who"], "rita & rolf", "{log}");
    assert_eq!(log["decisions"][0]["kind"], "cannot_link");
}

#[tokio::test]
async fn a_pair_form_loaded_before_a_split_of_its_person_is_stale() {
    let project = project();
    let mut rita = Client::signed_in(&project, "rita").await;
    let mut rolf = Client::signed_in(&project, "rolf").await;
    let person = rita.get(&project, "/api/search?q=Бухарин").await.json()["results"][0]["person_id"].as_str().unwrap().to_owned();
    let records = rita.get(&project, &format!("/api/persons/{person}")).await.json();
    let keys: Vec<String> = records["records"].as_array().unwrap().iter().map(|r| r["record_key"].as_str().unwrap().to_owned()).collect();
    assert!(keys.len() >= 2, "Бухарин and Bukharin are one person: {keys:?}");
    // Rita opens the pair of the person's first two records; Rolf splits the first one off.
    let page = rita.get(&project, &format!("/review/pair?l={}&r={}", common::enc(&keys[0]), common::enc(&keys[1]))).await;
    let pair = ["item", "version", "l", "r"].map(|k| common::hidden(&page.body, k).unwrap_or_else(|| panic!("no {k} in {}", page.body)));
    let person_page = rolf.get(&project, &format!("/persons/{person}")).await;
    let version = common::hidden(&person_page.body, "version").unwrap();
    let csrf = rolf.csrf.clone();
    let item = format!("person:{person}");
    let split = [("csrf", csrf.as_str()), ("item", &item), ("version", &version), ("person", &person), ("action", "split"), ("split", &keys[0]), ("why", "two men")];
    assert_eq!(rolf.post(&project, "/review/decide", &split).await.status, StatusCode::SEE_OTHER);
    // Rita's form predates the split: it must not silently overrule it.
    let reply = decide(&mut rita, &project, &pair, "accept", "same man").await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    let log = rita.get(&project, "/api/decisions").await.json();
    assert!(log["decisions"].as_array().unwrap().iter().all(|d| d["action"] == "split" && d["undone"].is_null()), "{log}");
}

#[tokio::test]
async fn a_record_is_not_a_pair_with_itself() {
    let project = project();
    let mut rita = Client::signed_in(&project, "rita").await;
    let [_, _, l, _] = first_pair(&mut rita, &project).await;
    let item = format!("pair:{l}|{l}");
    let reply = decide(&mut rita, &project, &[item, "0".to_owned(), l.clone(), l.clone()], "reject", "the same row").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("two different records"), "{}", reply.body);
    assert_eq!(rita.get(&project, "/api/decisions").await.json()["decisions"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn an_empty_queue_says_so() {
    let project = project();
    let mut rita = Client::signed_in(&project, "rita").await;
    assert!(!rita.get(&project, "/review").await.body.contains("nothing-to-review"));
    // Every pair certain (as in the shipped example): an empty table alone reads as broken.
    project.state.db.write_blocking(|conn| Ok(conn.execute("UPDATE link_pairs SET explanation_json = NULL", [])?)).unwrap();
    let queue = rita.get(&project, "/review").await;
    assert!(queue.body.contains("id=\"nothing-to-review\""), "{}", queue.body);
}

#[tokio::test]
async fn a_person_page_shows_the_decisions_on_its_records_to_reviewers_only() {
    let project = project();
    let mut rita = Client::signed_in(&project, "rita").await;
    let person = rita.get(&project, "/api/search?q=Бухарин").await.json()["results"][0]["person_id"].as_str().unwrap().to_owned();
    let records = rita.get(&project, &format!("/api/persons/{person}")).await.json();
    let keys: Vec<String> = records["records"].as_array().unwrap().iter().map(|r| r["record_key"].as_str().unwrap().to_owned()).collect();
    let page = rita.get(&project, &format!("/review/pair?l={}&r={}", common::enc(&keys[0]), common::enc(&keys[1]))).await;
    let pair = ["item", "version", "l", "r"].map(|k| common::hidden(&page.body, k).unwrap());
    assert_eq!(decide(&mut rita, &project, &pair, "reject", "two Bukharins in the archive").await.status, StatusCode::SEE_OTHER);
    // The decision on two of the person's records is on the person's page, linked to its pair.
    let person_page = rita.get(&project, &format!("/persons/{person}")).await;
    assert!(person_page.body.contains("two Bukharins in the archive"), "{}", person_page.body);
    assert!(person_page.body.contains(&format!("/review/pair?l={}", common::enc(&pair[2]))), "{}", person_page.body);
    let mut vera = Client::signed_in(&project, "vera").await;
    assert!(!vera.get(&project, &format!("/persons/{person}")).await.body.contains("two Bukharins"));
}

#[tokio::test]
async fn blind_votes_cannot_overrule_a_decision_already_made() {
    let project = project_with(|c| c.double_review = true);
    let mut ada = Client::signed_in(&project, "ada").await;
    let mut rita = Client::signed_in(&project, "rita").await;
    let mut rolf = Client::signed_in(&project, "rolf").await;
    let pair = first_pair(&mut ada, &project).await;
    // The reviewers open the pair (their forms show no history: the review is blind) ...
    let (rita_form, rolf_form) = (loser_form(&mut rita, &project, &pair).await, loser_form(&mut rolf, &project, &pair).await);
    // ... an admin decides it, and their two agreeing votes come in after.
    assert_eq!(decide(&mut ada, &project, &pair, "reject", "archive file: two men").await.status, StatusCode::SEE_OTHER);
    assert_eq!(decide(&mut rita, &project, &rita_form, "accept", "same man").await.status, StatusCode::CONFLICT);
    assert_eq!(decide(&mut rolf, &project, &rolf_form, "accept", "same man").await.status, StatusCode::CONFLICT);
    let log = ada.get(&project, "/api/decisions").await.json();
    let decisions = log["decisions"].as_array().unwrap();
    assert_eq!((decisions.len(), decisions[0]["who"].as_str(), decisions[0]["undone"].is_null()), (1, Some("ada"), true), "{log}");
}

async fn loser_form(client: &mut Client, project: &TestProject, pair: &[String; 4]) -> [String; 4] {
    let page = loser_page(client, project, pair).await;
    ["item", "version", "l", "r"].map(|k| common::hidden(&page, k).unwrap_or_else(|| panic!("no {k} in {page}")))
}

/// The record keys of the first person a search for `q` finds.
async fn keys_of(client: &mut Client, project: &TestProject, q: &str) -> (String, Vec<String>) {
    let person = client.get(project, &format!("/api/search?q={}", common::enc(q))).await.json()["results"][0]["person_id"].as_str().unwrap().to_owned();
    let records = client.get(project, &format!("/api/persons/{person}")).await.json();
    (person, records["records"].as_array().unwrap().iter().map(|r| r["record_key"].as_str().unwrap().to_owned()).collect())
}

#[tokio::test]
async fn a_pair_form_loaded_before_a_merge_of_its_persons_is_stale() {
    let project = project();
    let mut ada = Client::signed_in(&project, "ada").await;
    let mut rita = Client::signed_in(&project, "rita").await;
    let (bukharin, bukharin_keys) = keys_of(&mut ada, &project, "Бухарин").await;
    let (ezhov, ezhov_keys) = keys_of(&mut ada, &project, "Ежов").await;
    assert!(bukharin_keys.len() >= 2 && ezhov_keys.len() >= 2, "{bukharin_keys:?} {ezhov_keys:?}");
    // Rita opens a pair across the two persons that a merge does not name as its constraint.
    let (l, r) = (bukharin_keys.last().unwrap(), ezhov_keys.last().unwrap());
    let page = rita.get(&project, &format!("/review/pair?l={}&r={}", common::enc(l), common::enc(r))).await.body;
    let [item, version, l, r] = ["item", "version", "l", "r"].map(|k| common::hidden(&page, k).unwrap());
    let seen: Vec<String> = page.split("name=\"seen\" value=\"").skip(1).map(|rest| rest.split('"').next().unwrap().to_owned()).collect();
    assert_eq!(seen.len(), 2, "the form names both persons: {page}");
    // Ada merges the two persons; Rita's form, loaded before, must not pass as if nothing changed.
    let person_page = ada.get(&project, &format!("/persons/{bukharin}")).await;
    let person_version = common::hidden(&person_page.body, "version").unwrap();
    let csrf = ada.csrf.clone();
    let person_item = format!("person:{bukharin}");
    let merge = [("csrf", csrf.as_str()), ("item", &person_item), ("version", &person_version), ("person", &bukharin), ("action", "merge"), ("other", &ezhov), ("why", "one man")];
    assert_eq!(ada.post(&project, "/review/decide", &merge).await.status, StatusCode::SEE_OTHER);
    let csrf = rita.csrf.clone();
    let mut form = vec![("csrf", csrf.as_str()), ("item", &item), ("version", &version), ("l", &l), ("r", &r), ("action", "reject"), ("why", "two men")];
    form.extend(seen.iter().map(|s| ("seen", s.as_str())));
    let reply = rita.post(&project, "/review/decide", &form).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
}

/// The fields a pair page's decision form sends (csrf, item, version, l, r and a `seen` for each
/// person the page showed), as a browser would send them.
async fn pair_form(client: &mut Client, project: &TestProject, l: &str, r: &str) -> Vec<(String, String)> {
    let page = client.get(project, &format!("/review/pair?l={}&r={}", common::enc(l), common::enc(r))).await.body;
    let mut form: Vec<(String, String)> = ["csrf", "item", "version", "l", "r"].map(|k| (k.to_owned(), common::hidden(&page, k).unwrap_or_else(|| panic!("no {k} in {page}")))).into();
    form.extend(page.split("name=\"seen\" value=\"").skip(1).map(|rest| ("seen".to_owned(), rest.split('"').next().unwrap().to_owned())));
    form
}

async fn send_form(client: &mut Client, project: &TestProject, form: &[(String, String)], action: &str, why: &str) -> common::Reply {
    let mut fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fields.extend([("action", action), ("why", why)]);
    client.post(project, "/review/decide", &fields).await
}

/// What an API client reads before deciding on a pair: each record's person, at its review
/// version (`/api/records/{id}`, `/api/persons/{id}`), as the `persons` of a decision.
async fn persons_seen_by_api(client: &mut Client, project: &TestProject, keys: [&str; 2]) -> serde_json::Value {
    let mut seen = serde_json::Map::new();
    for key in keys {
        let person = person_of(client, project, key).await;
        let version = client.get(project, &format!("/api/persons/{person}")).await.json()["version"].clone();
        assert!(version.is_i64(), "{person}: {version}");
        seen.insert(person, version);
    }
    seen.into()
}

async fn decide_by_api(client: &mut Client, project: &TestProject, keys: [&str; 2], persons: &serde_json::Value, why: &str) -> common::Reply {
    let body = serde_json::json!({"left": keys[0], "right": keys[1], "action": "reject", "why": why, "version": 0, "persons": persons});
    let request = axum::http::Request::post("/api/decisions")
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header("x-csrf-token", client.csrf.clone())
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    client.send(project, request).await
}

/// The text of an error page's message, unescaped.
fn error_text(page: &str) -> String {
    let text = page.split("<p class=\"error\">").nth(1).and_then(|rest| rest.split("</p>").next()).unwrap_or_else(|| panic!("no error in {page}"));
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

async fn merge(client: &mut Client, project: &TestProject, person: &str, other: &str, why: &str) {
    let page = client.get(project, &format!("/persons/{person}")).await;
    let version = common::hidden(&page.body, "version").unwrap();
    let (csrf, item) = (client.csrf.clone(), format!("person:{person}"));
    let form = [("csrf", csrf.as_str()), ("item", &item), ("version", &version), ("person", person), ("action", "merge"), ("other", other), ("why", why)];
    let reply = client.post(project, "/review/decide", &form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

/// A reviewer looks at a pair; meanwhile a re-link moves one of its records into a third person.
/// No decision came in between, so no version the reviewer saw moved: only where the record sits
/// tells. The page's form and the API hold the decision to one rule and refuse it alike, in the
/// same words, naming the person the record is in now.
#[tokio::test]
async fn a_record_moved_into_a_person_the_reviewer_did_not_see_is_refused_alike_by_form_and_api() {
    let project = project();
    let mut ada = Client::signed_in(&project, "ada").await;
    let mut rita = Client::signed_in(&project, "rita").await;
    let (bukharin, bukharin_keys) = keys_of(&mut ada, &project, "Бухарин").await;
    let (gordievsky, gordievsky_keys) = keys_of(&mut ada, &project, "Gordievsky").await;
    let (ezhov, ezhov_keys) = keys_of(&mut ada, &project, "Ежов").await;
    assert!(bukharin_keys.len() >= 2 && gordievsky_keys.len() == 1, "{bukharin_keys:?} {gordievsky_keys:?}");
    // Ada merges Gordievsky into Bukharin: a decision, which moves both persons' versions ...
    merge(&mut ada, &project, &bukharin, &gordievsky, "one man").await;
    // ... then Rita looks at Gordievsky's record beside Ezhov's, on the page and through the API ...
    let (moving, staying) = (gordievsky_keys[0].as_str(), ezhov_keys[0].as_str());
    let form = pair_form(&mut rita, &project, moving, staying).await;
    let persons = persons_seen_by_api(&mut rita, &project, [moving, staying]).await;
    let seen: Vec<&str> = form.iter().filter(|(k, _)| k == "seen").map(|(_, v)| v.as_str()).collect();
    assert_eq!(seen.len(), 2, "the form names both persons: {seen:?}");
    assert!(persons.get(&gordievsky).is_some() && persons.get(&ezhov).is_some(), "{persons}");
    // ... and only then does the re-link honour the merge, moving Gordievsky's record.
    relink(&mut ada, &project).await;
    let third = person_of(&mut ada, &project, moving).await;
    assert!(third != gordievsky && third != ezhov, "the record moved into a third person: {third}");
    let current = |person: &str| project.state.db.read_blocking(|conn| web::review::version(conn, &format!("person:{person}"))).unwrap();
    // The re-link moved the version of the person the record left, not of the one it did not touch.
    assert_ne!(persons[&gordievsky].as_i64(), Some(current(&gordievsky)), "a re-link that moves a record moves its person's version");
    assert_eq!(persons[&ezhov].as_i64(), Some(current(&ezhov)), "a re-link that moves none of a person's records keeps its version");

    let page = send_form(&mut rita, &project, &form, "reject", "two men").await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    let api = decide_by_api(&mut rita, &project, [moving, staying], &persons, "two men").await;
    assert_eq!(api.status, StatusCode::CONFLICT, "{}", api.body);
    let error = &api.json()["error"];
    assert_eq!((error["code"].as_str(), error["field"].as_str(), error["item"].as_str()), (Some("conflict"), Some("persons"), Some(format!("person:{third}").as_str())), "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&format!("record {moving} is in person {third} now")) && message.contains("Nothing of yours was stored"), "{message}");
    assert_eq!(error_text(&page.body), message, "the form and the API refuse in the same words");
    let log = ada.get(&project, "/api/decisions").await.json();
    assert!(log["decisions"].as_array().unwrap().iter().all(|d| d["who"] == "ada"), "nothing of Rita's was stored: {log}");
}

/// A decision whose records still sit in the persons its reviewer saw, at the versions they saw,
/// goes through the form and the API alike, a re-link that moved none of them notwithstanding.
#[tokio::test]
async fn a_decision_on_persons_as_the_reviewer_saw_them_goes_through_form_and_api() {
    let project = project();
    let mut ada = Client::signed_in(&project, "ada").await;
    let mut rita = Client::signed_in(&project, "rita").await;
    let (_, bukharin_keys) = keys_of(&mut rita, &project, "Бухарин").await;
    let (_, gordievsky_keys) = keys_of(&mut rita, &project, "Gordievsky").await;
    let (_, ezhov_keys) = keys_of(&mut rita, &project, "Ежов").await;
    let (_, yagoda_keys) = keys_of(&mut rita, &project, "Ягода").await;
    // An earlier decision moved Ezhov's version, so the API names a version other than 0.
    let earlier = pair_form(&mut rita, &project, &ezhov_keys[0], &yagoda_keys[0]).await;
    assert_eq!(send_form(&mut rita, &project, &earlier, "reject", "different men").await.status, StatusCode::SEE_OTHER);
    // Rita looks at two pairs of four other persons' records, one on the page, one through the API.
    let form = pair_form(&mut rita, &project, bukharin_keys.last().unwrap(), &gordievsky_keys[0]).await;
    assert_eq!(form.iter().filter(|(k, _)| k == "seen").count(), 2, "{form:?}");
    let api_pair = [ezhov_keys.last().unwrap().as_str(), yagoda_keys[0].as_str()];
    let persons = persons_seen_by_api(&mut rita, &project, api_pair).await;
    assert!(persons.as_object().unwrap().values().any(|v| v.as_i64() > Some(0)), "{persons}");
    // A re-link in between moves none of their records.
    let before: Vec<String> = [bukharin_keys.last().unwrap(), &gordievsky_keys[0], api_pair[0], api_pair[1]].into_iter().map(String::from).collect();
    let mut persons_before = Vec::new();
    for key in &before {
        persons_before.push(person_of(&mut ada, &project, key).await);
    }
    relink(&mut ada, &project).await;
    for (key, person) in before.iter().zip(&persons_before) {
        assert_eq!(&person_of(&mut ada, &project, key).await, person, "{key}");
    }
    let page = send_form(&mut rita, &project, &form, "reject", "two men").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let api = decide_by_api(&mut rita, &project, api_pair, &persons, "two men").await;
    assert_eq!(api.status, StatusCode::CREATED, "{}", api.body);
    let log = rita.get(&project, "/api/decisions").await.json();
    assert_eq!(log["decisions"].as_array().unwrap().iter().filter(|d| d["who"] == "rita" && d["undone"].is_null()).count(), 3, "{log}");
}

/// Stands in for a re-link that moves records between persons (as a corrected source or a changed
/// spec may): the latest run stored again, each of `moves` (record key, person) applied, through
/// the store's one writer of linkage runs.
fn relink_moving(project: &TestProject, moves: &[(&str, &str)]) {
    let mut register = store::Register::open_in(project.dir.path()).unwrap();
    let mut persons = register.previous_persons().unwrap();
    for (key, person) in moves {
        persons.iter_mut().find(|p| p.record_key == *key).unwrap_or_else(|| panic!("no record {key}")).person_id = (*person).to_owned();
    }
    let pairs = register.stored_pairs().unwrap();
    let run = store::LinkageRun {
        ran_at: "2024-01-02T00:00:00Z",
        persons: &persons,
        pairs: &pairs,
        decisions: 0,
        events_json: "[]",
        inputs_sha256: None,
        model_json: None,
        spec_json: None,
        decisions_sha256: None,
    };
    register.store_linkage(&run).unwrap();
}

/// A reviewer looks at a pair of records in two persons; a re-link then swaps the two records
/// between the persons. Each record still sits in a person the reviewer saw and each person still
/// holds one of them, so only the persons' versions can tell: a re-link that changes a person's
/// records moves its version, and the form and the API refuse the decision alike.
#[tokio::test]
async fn a_pair_whose_records_a_re_link_swapped_between_its_persons_is_stale() {
    let project = project();
    let mut rita = Client::signed_in(&project, "rita").await;
    let (bukharin, bukharin_keys) = keys_of(&mut rita, &project, "Бухарин").await;
    let (ezhov, ezhov_keys) = keys_of(&mut rita, &project, "Ежов").await;
    let (b, e) = (bukharin_keys[0].as_str(), ezhov_keys[0].as_str());
    let form = pair_form(&mut rita, &project, b, e).await;
    let persons = persons_seen_by_api(&mut rita, &project, [b, e]).await;
    assert!(persons.get(&bukharin).is_some() && persons.get(&ezhov).is_some(), "{persons}");
    relink_moving(&project, &[(b, &ezhov), (e, &bukharin)]);
    assert_eq!((person_of(&mut rita, &project, b).await, person_of(&mut rita, &project, e).await), (ezhov.clone(), bukharin.clone()));

    let page = send_form(&mut rita, &project, &form, "reject", "two men").await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    let api = decide_by_api(&mut rita, &project, [b, e], &persons, "two men").await;
    assert_eq!(api.status, StatusCode::CONFLICT, "{}", api.body);
    let error = &api.json()["error"];
    let message = error["message"].as_str().unwrap();
    let stale = error["item"].as_str().and_then(|item| item.strip_prefix("person:")).unwrap_or_else(|| panic!("{error}"));
    assert!((stale == bukharin || stale == ezhov) && error["field"] == "persons", "{error}");
    assert!(message.starts_with(&format!("person {stale} changed while you were looking")) && message.contains("re-link"), "{message}");
    assert_eq!(error_text(&page.body), message, "the form and the API refuse in the same words");
    assert_eq!(rita.get(&project, "/api/decisions").await.json()["decisions"].as_array().unwrap().len(), 0);
}

/// A reviewer opens a person's page to split it; a re-link then moves another record into the
/// person. The split form names only the person's version: that version moved with the record,
/// so the split is refused instead of cutting the new record (which the reviewer never saw) off
/// the records split away.
#[tokio::test]
async fn a_split_of_a_person_a_re_link_moved_a_record_into_is_stale() {
    let project = project();
    let mut ada = Client::signed_in(&project, "ada").await;
    let (bukharin, bukharin_keys) = keys_of(&mut ada, &project, "Бухарин").await;
    let (_, gordievsky_keys) = keys_of(&mut ada, &project, "Gordievsky").await;
    assert!(bukharin_keys.len() >= 2, "{bukharin_keys:?}");
    let page = ada.get(&project, &format!("/persons/{bukharin}")).await;
    let version = common::hidden(&page.body, "version").unwrap();
    relink_moving(&project, &[(&gordievsky_keys[0], &bukharin)]);
    let (csrf, item) = (ada.csrf.clone(), format!("person:{bukharin}"));
    let split = [("csrf", csrf.as_str()), ("item", &item), ("version", &version), ("person", &bukharin), ("action", "split"), ("split", &bukharin_keys[0]), ("why", "two men")];
    let reply = ada.post(&project, "/review/decide", &split).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(error_text(&reply.body).starts_with(&format!("person {bukharin} changed while you were looking")), "{}", reply.body);
    assert_eq!(ada.get(&project, "/api/decisions").await.json()["decisions"].as_array().unwrap().len(), 0, "nothing was cut off");
}

async fn post_decision(client: &mut Client, project: &TestProject, body: serde_json::Value) -> common::Reply {
    let request = axum::http::Request::post("/api/decisions")
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header("x-csrf-token", client.csrf.clone())
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    client.send(project, request).await
}

/// Under blind double review the API does what the review page's form does: a reviewer's call is a
/// vote that waits (202) for a second reviewer, is not a decision, cannot be cast twice, and a
/// second agreeing vote (through the API or the form alike) makes the decision by both; an admin's
/// call is a plain decision.
#[tokio::test]
async fn the_api_under_double_review_records_a_vote_that_waits_for_a_second_reviewer() {
    let project = project_with(|c| c.double_review = true);
    let mut rita = Client::signed_in(&project, "rita").await;
    let mut rolf = Client::signed_in(&project, "rolf").await;
    let mut ada = Client::signed_in(&project, "ada").await;
    let [_, version, l, r] = first_pair(&mut rita, &project).await;
    let version: i64 = version.parse().unwrap();
    let body = |why: &str| serde_json::json!({"left": l, "right": r, "action": "accept", "why": why, "version": version});
    let first = post_decision(&mut rita, &project, body("same man")).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!((first.json()["vote"].as_str(), first.json()["decided"].as_bool()), (Some("accept"), Some(false)), "{}", first.body);
    assert_eq!(ada.get(&project, "/api/decisions").await.json()["decisions"].as_array().unwrap().len(), 0, "a vote is not a decision");
    let again = post_decision(&mut rita, &project, body("same man, surely")).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    // Rolf's page still offers him the pair, blind to Rita's vote; his agreeing vote decides.
    let page = loser_page(&mut rolf, &project, &[String::new(), String::new(), l.clone(), r.clone()]).await;
    assert!(page.contains("id=\"decide\"") && !page.contains("same man"), "{page}");
    let second = post_decision(&mut rolf, &project, body("same birth year")).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.json()["decided"].as_bool(), Some(true), "{}", second.body);
    let log = ada.get(&project, "/api/decisions").await.json();
    let decisions = log["decisions"].as_array().unwrap();
    assert_eq!((decisions.len(), decisions[0]["who"].as_str(), decisions[0]["kind"].as_str()), (1, Some("rita & rolf"), Some("must_link")), "{log}");
    // An admin decides directly, as through the form.
    let [_, version, l, r] = first_pair(&mut ada, &project).await;
    let admin = post_decision(&mut ada, &project, serde_json::json!({"left": l, "right": r, "action": "reject", "why": "archive file", "version": version.parse::<i64>().unwrap()})).await;
    assert_eq!(admin.status, StatusCode::CREATED, "{}", admin.body);
    assert!(admin.json().get("decided").is_none(), "{}", admin.body);
    assert_eq!(ada.get(&project, "/api/decisions").await.json()["decisions"][0]["who"], "ada");
}

/// A blind vote is held to the rule of a decision on the persons its reviewer saw: after a re-link
/// swapped the pair's two records between its persons, the form's vote and the API's are refused
/// alike, in the same words, and no vote is stored.
#[tokio::test]
async fn a_vote_on_persons_a_re_link_changed_is_refused_alike_by_form_and_api() {
    let project = project_with(|c| c.double_review = true);
    let mut rita = Client::signed_in(&project, "rita").await;
    let (bukharin, bukharin_keys) = keys_of(&mut rita, &project, "Бухарин").await;
    let (ezhov, ezhov_keys) = keys_of(&mut rita, &project, "Ежов").await;
    let (b, e) = (bukharin_keys[0].as_str(), ezhov_keys[0].as_str());
    let form = pair_form(&mut rita, &project, b, e).await;
    assert_eq!(form.iter().filter(|(k, _)| k == "seen").count(), 2, "{form:?}");
    let persons = persons_seen_by_api(&mut rita, &project, [b, e]).await;
    relink_moving(&project, &[(b, &ezhov), (e, &bukharin)]);
    let page = send_form(&mut rita, &project, &form, "reject", "two men").await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    let api = decide_by_api(&mut rita, &project, [b, e], &persons, "two men").await;
    assert_eq!(api.status, StatusCode::CONFLICT, "{}", api.body);
    let error = &api.json()["error"];
    assert_eq!(error["field"], "persons", "{error}");
    assert_eq!(error_text(&page.body), error["message"].as_str().unwrap(), "the form and the API refuse in the same words");
    let votes: i64 = project.state.db.read_blocking(|conn| Ok(conn.query_row("SELECT count(*) FROM review_votes", [], |r| r.get(0))?)).unwrap();
    assert_eq!(votes, 0, "nothing of Rita's was stored");
}

/// Under blind double review a reviewer learns through the API, their log and the refusals what
/// their review form shows them and no more: their own votes, never another reviewer's vote,
/// decision, author or note; a refusal says that the pair is decided or that a person changed,
/// not who chose what. An admin sees everything; without double review the same calls name the
/// latest decision's author and action, and list every decision, as before.
#[tokio::test]
async fn a_blind_reviewer_learns_no_other_reviewers_vote_or_decision_through_the_api_or_a_refusal() {
    for double in [true, false] {
        let project = project_with(|c| c.double_review = double);
        let mut ada = Client::signed_in(&project, "ada").await;
        let mut rita = Client::signed_in(&project, "rita").await;
        let mut rolf = Client::signed_in(&project, "rolf").await;
        let (bukharin, bukharin_keys) = keys_of(&mut rita, &project, "Бухарин").await;
        let (_, ezhov_keys) = keys_of(&mut rita, &project, "Ежов").await;
        let (_, yagoda_keys) = keys_of(&mut rita, &project, "Ягода").await;
        let (gordievsky, _) = keys_of(&mut rita, &project, "Gordievsky").await;
        // Rita opens a pair; an admin then merges the person of one of its records.
        let p1 = [bukharin_keys[0].as_str(), ezhov_keys[0].as_str()];
        let form = pair_form(&mut rita, &project, p1[0], p1[1]).await;
        let persons = persons_seen_by_api(&mut rita, &project, p1).await;
        merge(&mut ada, &project, &bukharin, &gordievsky, "one man, two names").await;
        let page = send_form(&mut rita, &project, &form, "reject", "two men").await;
        let api = decide_by_api(&mut rita, &project, p1, &persons, "two men").await;
        assert_eq!((page.status, api.status), (StatusCode::CONFLICT, StatusCode::CONFLICT), "{} / {}", page.body, api.body);
        for message in [error_text(&page.body), api.json()["error"]["message"].as_str().unwrap().to_owned()] {
            assert!(message.starts_with(&format!("person {bukharin} changed while you were looking")), "{message}");
            assert_eq!(message.contains("latest decision on it: ada chose merge"), !double, "{message}");
            assert!(!double || !(message.contains("chose") || message.contains("merge")), "{message}");
        }
        // Rita opens another pair; the admin decides it before her call comes in.
        let p2 = pair_form(&mut rita, &project, ezhov_keys.last().unwrap(), &yagoda_keys[0]).await;
        let admins = pair_form(&mut ada, &project, ezhov_keys.last().unwrap(), &yagoda_keys[0]).await;
        assert_eq!(send_form(&mut ada, &project, &admins, "reject", "archive file: two men").await.status, StatusCode::SEE_OTHER);
        let late = send_form(&mut rita, &project, &p2, "accept", "same man").await;
        assert_eq!(late.status, StatusCode::CONFLICT, "{}", late.body);
        let message = error_text(&late.body);
        if double {
            assert_eq!(message, "this pair is decided already; nothing of yours was stored");
        } else {
            assert!(message.contains("someone else decided") && message.contains("(latest: ada chose reject at "), "{message}");
        }
        let listed = rita.get(&project, "/api/decisions").await;
        if !double {
            // Unchanged: every decision, with its author and note.
            let decisions = listed.json()["decisions"].as_array().unwrap().clone();
            assert_eq!(decisions.iter().map(|d| (d["who"].as_str().unwrap(), d["why"].as_str().unwrap())).collect::<Vec<_>>(),
                       [("ada", "archive file: two men"), ("ada", "one man, two names")], "{}", listed.body);
            assert!(listed.json().get("votes").is_none(), "{}", listed.body);
            assert!(rita.get(&project, &format!("/persons/{bukharin}")).await.body.contains("one man, two names"));
            continue;
        }
        // Rita and Rolf agree on a pair; Rolf votes alone on the next one.
        let p3 = first_pair(&mut rita, &project).await;
        assert_eq!(decide(&mut rita, &project, &p3, "accept", "rita's note").await.status, StatusCode::SEE_OTHER);
        assert_eq!(decide(&mut rolf, &project, &p3, "accept", "rolf's note").await.status, StatusCode::SEE_OTHER);
        let p4 = first_pair(&mut rolf, &project).await;
        assert_eq!(decide(&mut rolf, &project, &p4, "reject", "rolf waits").await.status, StatusCode::SEE_OTHER);
        let others = ["archive file", "one man, two names", "rolf's note", "rolf waits", "rita & rolf"];
        for path in ["/api/decisions".to_owned(), format!("/api/decisions?item={}", common::enc(&p3[0]))] {
            let listed = rita.get(&project, &path).await;
            let json = listed.json();
            assert_eq!(json["decisions"].as_array().map(Vec::len), Some(0), "{}", listed.body);
            let votes = json["votes"].as_array().unwrap();
            assert_eq!(votes.iter().map(|v| (v["item"].as_str().unwrap(), v["action"].as_str().unwrap(), v["why"].as_str().unwrap())).collect::<Vec<_>>(),
                       [(p3[0].as_str(), "accept", "rita's note")], "{}", listed.body);
            assert!(others.iter().all(|other| !listed.body.contains(other)), "{}", listed.body);
        }
        for path in ["/review/log".to_owned(), format!("/persons/{bukharin}")] {
            let page = rita.get(&project, &path).await;
            assert!(page.status == StatusCode::OK && others.iter().all(|other| !page.body.contains(other)), "{path}: {}", page.body);
        }
        // An admin still sees every decision, with both voters and their notes.
        let all = ada.get(&project, "/api/decisions").await;
        let json = all.json();
        assert!(json.get("votes").is_none(), "{}", all.body);
        let whos: Vec<&str> = json["decisions"].as_array().unwrap().iter().map(|d| d["who"].as_str().unwrap()).collect();
        assert_eq!(whos, ["rita & rolf", "ada", "ada"], "{}", all.body);
        assert!(all.body.contains("rita's note / rolf's note") && ada.get(&project, &format!("/persons/{bukharin}")).await.body.contains("one man, two names"));
    }
}

async fn undo(client: &mut Client, project: &TestProject, decision: i64, version: i64, why: &str) -> common::Reply {
    let csrf = client.csrf.clone();
    client.post(project, "/review/undo", &[("csrf", &csrf), ("decision", &decision.to_string()), ("version", &version.to_string()), ("why", why)]).await
}

/// (decision_id, item_version) of the newest decision by `who` that `client`'s `/api/decisions` lists.
async fn listed_decision(client: &mut Client, project: &TestProject, who: &str) -> (i64, i64) {
    let listed = client.get(project, "/api/decisions").await.json();
    let found = listed["decisions"].as_array().unwrap().iter().find(|d| d["who"] == who).unwrap_or_else(|| panic!("no decision by {who} in {listed}")).clone();
    (found["decision_id"].as_i64().unwrap(), found["item_version"].as_i64().unwrap())
}

fn undo_count(project: &TestProject) -> i64 {
    project.state.db.read_blocking(|conn| Ok(conn.query_row("SELECT count(*) FROM decision_undos", [], |r| r.get(0))?)).unwrap()
}

/// Under blind double review a reviewer may undo only the decisions they are shown (those they
/// made alone): an undo of a decision two votes made, or an admin made, is refused exactly as one
/// of an id that does not exist (404, naming nothing, no redirect to the decision's item) and
/// nothing is stored; their own merge they can undo, and an admin can undo the two-vote decision.
/// Without double review a reviewer undoes another's decision as before.
#[tokio::test]
async fn a_blind_reviewer_can_undo_only_their_own_decisions_and_learns_nothing_from_a_refusal() {
    for double in [true, false] {
        let project = project_with(|c| c.double_review = double);
        let mut ada = Client::signed_in(&project, "ada").await;
        let mut rita = Client::signed_in(&project, "rita").await;
        if !double {
            let pair = first_pair(&mut ada, &project).await;
            assert_eq!(decide(&mut ada, &project, &pair, "reject", "archive file").await.status, StatusCode::SEE_OTHER);
            let (id, version) = listed_decision(&mut rita, &project, "ada").await;
            let reply = undo(&mut rita, &project, id, version, "wrong file").await;
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
            assert_eq!(ada.get(&project, "/api/decisions").await.json()["decisions"][0]["undone"][0], "rita");
            continue;
        }
        let mut rolf = Client::signed_in(&project, "rolf").await;
        // Rita and Rolf agree on a pair; Ada decides another; Rita merges two persons alone.
        let p1 = first_pair(&mut rita, &project).await;
        assert_eq!(decide(&mut rita, &project, &p1, "accept", "rita's note").await.status, StatusCode::SEE_OTHER);
        assert_eq!(decide(&mut rolf, &project, &p1, "accept", "rolf's note").await.status, StatusCode::SEE_OTHER);
        let p2 = first_pair(&mut ada, &project).await;
        assert_ne!(p2[0], p1[0]);
        assert_eq!(decide(&mut ada, &project, &p2, "reject", "archive file").await.status, StatusCode::SEE_OTHER);
        let (bukharin, _) = keys_of(&mut rita, &project, "Бухарин").await;
        let (gordievsky, _) = keys_of(&mut rita, &project, "Gordievsky").await;
        merge(&mut rita, &project, &bukharin, &gordievsky, "one man, two names").await;
        let (voted, voted_version) = listed_decision(&mut ada, &project, "rita & rolf").await;
        let (admins, admins_version) = listed_decision(&mut ada, &project, "ada").await;
        let (ritas, ritas_version) = listed_decision(&mut rita, &project, "rita").await;
        let missing = voted.max(admins).max(ritas) + 1000;
        // Each at the version its item is at now: a refusal is not a stale version's.
        let refusals = [undo(&mut rita, &project, voted, voted_version, "changed my mind").await,
                        undo(&mut rita, &project, admins, admins_version, "changed my mind").await,
                        undo(&mut rita, &project, missing, 0, "changed my mind").await];
        for reply in &refusals {
            assert_eq!((reply.status, reply.headers.get(axum::http::header::LOCATION)), (StatusCode::NOT_FOUND, None), "{}", reply.body);
            assert_eq!(reply.body, refusals[2].body, "a refusal does not tell an existing decision from a missing one");
        }
        assert_eq!(error_text(&refusals[0].body), "decision of yours not found");
        assert_eq!(undo_count(&project), 0, "nothing was stored");
        let listed = ada.get(&project, "/api/decisions").await.json();
        assert!(listed["decisions"].as_array().unwrap().iter().all(|d| d["undone"].is_null()), "{listed}");
        // Her own merge she can undo; the admin can undo the decision the two votes made.
        let own = undo(&mut rita, &project, ritas, ritas_version, "a namesake after all").await;
        assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.body);
        let by_admin = undo(&mut ada, &project, voted, voted_version, "the file says two men").await;
        assert_eq!(by_admin.status, StatusCode::SEE_OTHER, "{}", by_admin.body);
        let listed = ada.get(&project, "/api/decisions").await.json();
        let undone: Vec<(&str, Option<&str>)> = listed["decisions"].as_array().unwrap().iter().map(|d| (d["who"].as_str().unwrap(), d["undone"][0].as_str())).collect();
        assert_eq!(undone, [("rita", Some("rita")), ("ada", None), ("rita & rolf", Some("ada"))], "{listed}");
    }
}
