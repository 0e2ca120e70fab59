//! Security: markup in records stays text, forms need the session's CSRF token, pages need a
//! session, viewers neither review nor see sensitive data, and nothing outside DIR/out is served.

mod common;

use axum::http::StatusCode;
use common::{Client, project};

/// The record id of the first search hit for `q`.
async fn record_of(client: &mut Client, project: &common::TestProject, q: &str) -> i64 {
    let json = client.get(project, &format!("/api/search?q={}", common::enc(q))).await.json();
    json["results"][0]["record_id"].as_i64().unwrap_or_else(|| panic!("{q}: {json}"))
}

#[tokio::test]
async fn record_markup_is_shown_as_text() {
    let project = project();
    let mut client = Client::signed_in(&project, "ada").await;
    let id = record_of(&mut client, &project, "Тухачевский").await;
    let page = client.get(&project, &format!("/records/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;"), "{}", page.body);
    let person = client.get(&project, "/api/search?q=Tukhachevsky").await.json();
    let person_page = client.get(&project, &format!("/persons/{}", person["results"][0]["person_id"].as_str().unwrap())).await;
    assert!(!person_page.body.contains("<script>") && person_page.body.contains("&lt;script&gt;"));
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
}

#[tokio::test]
async fn pages_and_api_need_a_session() {
    let project = project();
    let mut anonymous = Client::default();
    let page = anonymous.get(&project, "/?q=Ежов").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers["location"], "/login");
    let api = anonymous.get(&project, "/api/search?q=Ежов").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.json()["error"]["code"], "unauthorized");
    // A forged or expired cookie is no session.
    anonymous.cookies.push(("kartoteka_session".to_owned(), "0".repeat(64)));
    assert_eq!(anonymous.get(&project, "/api/sources").await.status, StatusCode::UNAUTHORIZED);
    // The search checks the session in the same trip as it searches: no results without one,
    // and a query that does not parse is still a 401 first.
    for path in ["/api/search?q=Ezhov", "/api/search?q=Ezhov&limit=0", "/api/search?q=Ezhov&cohort=none"] {
        assert_eq!(anonymous.get(&project, path).await.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // A wrong password opens nothing.
    let mut client = Client::default();
    client.get(&project, "/login").await;
    let token = client.csrf.clone();
    let reply = client.post(&project, "/login", &[("csrf", &token), ("name", "ada"), ("password", "wrong-password")]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(!client.cookies.iter().any(|(k, _)| k == "kartoteka_session"));
}

#[tokio::test]
async fn session_cookie_is_httponly_and_strict_and_signing_out_ends_it() {
    let project = project();
    let mut client = Client::default();
    client.get(&project, "/login").await;
    let token = client.csrf.clone();
    let reply = client.post(&project, "/login", &[("csrf", &token), ("name", "rita"), ("password", common::PASSWORD)]).await;
    let cookie = reply.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("kartoteka_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    client.get(&project, "/").await;
    let stolen = client.clone();
    let csrf = client.csrf.clone();
    assert_eq!(client.post(&project, "/logout", &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
    let mut replay = stolen;
    assert_eq!(replay.get(&project, "/api/sources").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.get(&project, "/api/search?q=Ezhov").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let project = project();
    let mut client = Client::signed_in(&project, "rita").await;
    let queue = client.get(&project, "/review").await;
    let href = queue.body.split("href=\"/review/pair?").nth(1).expect("a pair in the queue").split('"').next().unwrap().replace("&amp;", "&");
    let pair = client.get(&project, &format!("/review/pair?{href}")).await;
    let [item, version, l, r] = ["item", "version", "l", "r"].map(|k| common::hidden(&pair.body, k).unwrap());
    for csrf in ["", "forged-token"] {
        let form = [("csrf", csrf), ("item", &item), ("version", &version), ("l", &l), ("r", &r), ("action", "accept"), ("why", "same man")];
        let reply = client.post(&project, "/review/decide", &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    }
    // The login form has its own token, bound to a cookie.
    let mut fresh = Client::default();
    let reply = fresh.post(&project, "/login", &[("csrf", "guess"), ("name", "ada"), ("password", common::PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let log = client.get(&project, "/review/log").await;
    assert!(log.body.contains("No decisions yet"), "{}", log.body);
}

#[tokio::test]
async fn viewers_cannot_review_nor_see_sensitive_sources_and_columns() {
    let project = project();
    let mut viewer = Client::signed_in(&project, "vera").await;
    assert_eq!(viewer.get(&project, "/review").await.status, StatusCode::FORBIDDEN);
    assert_eq!(viewer.get(&project, "/api/decisions").await.status, StatusCode::FORBIDDEN);
    let csrf = viewer.csrf.clone();
    let reply = viewer.post(&project, "/review/decide", &[("csrf", &csrf), ("item", "pair:a|b"), ("version", "0"), ("l", "a"), ("r", "b"), ("action", "accept"), ("why", "x")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // The sensitive witness list is invisible: not in sources, not in search.
    let sources = viewer.get(&project, "/api/sources").await.json();
    let ids: Vec<&str> = sources["sources"].as_array().unwrap().iter().map(|s| s["source_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["defectors", "memorial"]);
    let secret = viewer.get(&project, "/api/search?q=Секретов").await.json();
    assert_eq!(secret["results"].as_array().unwrap().len(), 0, "{secret}");
    // The sensitive column of the defectors list is dropped from records.
    let id = record_of(&mut viewer, &project, "Gordievsky").await;
    let record = viewer.get(&project, &format!("/records/{id}")).await;
    assert!(!record.body.contains("Ovation") && !record.body.contains("informant"), "{}", record.body);
    // A reviewer sees both.
    let mut reviewer = Client::signed_in(&project, "rita").await;
    assert!(reviewer.get(&project, &format!("/records/{id}")).await.body.contains("agent Ovation"));
    let secret = reviewer.get(&project, "/api/search?q=Секретов").await.json();
    assert_eq!(secret["results"].as_array().unwrap().len(), 1, "{secret}");
    let witness_id = secret["results"][0]["record_id"].as_i64().unwrap();
    assert_eq!(viewer.get(&project, &format!("/api/records/{witness_id}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn nothing_outside_the_output_folder_is_served() {
    let project = project();
    let out = project.dir.path().join("out");
    std::fs::create_dir_all(out.join("analyses")).unwrap();
    std::fs::write(out.join("report.html"), "<p>the report</p>").unwrap();
    std::fs::write(out.join("analyses/cohorts.json"), r#"{"cohort": "arrested 1937", "persons": 3}"#).unwrap();
    let mut client = Client::signed_in(&project, "ada").await;
    let report = client.get(&project, "/report/report.html").await;
    assert_eq!((report.status, report.body.as_str()), (StatusCode::OK, "<p>the report</p>"));
    let analysis = client.get(&project, "/analyses/cohorts").await;
    assert!(analysis.body.contains("arrested 1937"), "{}", analysis.body);
    // With the report's page of the analysis, its charts are shown too.
    let chart = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><rect width=\"4\" height=\"7\"/><text>1937</text></svg>";
    std::fs::write(out.join("analyses/cohorts.html"), format!("<html><body><h1>cohorts</h1>{chart}<table></table></body></html>")).unwrap();
    let analysis = client.get(&project, "/analyses/cohorts").await;
    assert!(analysis.body.contains(chart) && analysis.body.contains("/report/analyses/cohorts.html"), "{}", analysis.body);
    for path in [
        "/report/../kartoteka.toml",
        "/report/..%2Fkartoteka.toml",
        "/report/%2e%2e/register.sqlite",
        "/report/analyses/../../memorial.csv",
        "/report//etc/passwd",
        "/report/..%5Cregister.sqlite",
        "/analyses/..%2F..%2Fkartoteka",
        "/report/.hidden",
    ] {
        let reply = client.get(&project, path).await;
        assert!(reply.status == StatusCode::NOT_FOUND || reply.status == StatusCode::BAD_REQUEST, "{path}: {} {}", reply.status, reply.body);
        assert!(!reply.body.contains("[[sources]]") && !reply.body.contains("SQLite format"), "{path} leaked");
    }
}

#[tokio::test]
async fn a_person_page_shows_a_viewer_no_pair_with_a_hidden_source() {
    let project = project();
    let mut viewer = Client::signed_in(&project, "vera").await;
    let mut reviewer = Client::signed_in(&project, "rita").await;
    let person = reviewer.get(&project, "/api/search?q=Ежов").await.json()["results"][0]["person_id"].as_str().unwrap().to_owned();
    let seen_by_reviewer = reviewer.get(&project, &format!("/persons/{person}")).await;
    assert!(seen_by_reviewer.body.contains("witnesses:"), "the witness record is linked to Ежов: {}", seen_by_reviewer.body);
    let seen_by_viewer = viewer.get(&project, &format!("/persons/{person}")).await;
    assert_eq!(seen_by_viewer.status, StatusCode::OK);
    assert!(!seen_by_viewer.body.contains("witnesses"), "{}", seen_by_viewer.body);
}

/// A project whose one list hides its birth dates and places from viewers.
fn project_with_hidden_birth() -> common::TestProject {
    let manifest = r#"
[[sources]]
id = "list"
title = "A list with hidden birth data (simulated)"
kind = "testimony"
file = "list.csv"
[sources.columns]
surname = "surname"
given = "given_name"
born = { field = "birth_date", sensitive = true }
place = { field = "birth_place", sensitive = true }
"#;
    let dir = common::ingested(&[("kartoteka.toml", manifest), ("list.csv", "surname,given,born,place\nЕжов,Николай,1895,Санкт-Петербург\n")]);
    common::open(dir, &[("vera", web::Role::Viewer), ("rita", web::Role::Reviewer)])
}

#[tokio::test]
async fn filters_and_ranking_do_not_tell_a_viewer_hidden_values() {
    let project = project_with_hidden_birth();
    let mut viewer = Client::signed_in(&project, "vera").await;
    let mut reviewer = Client::signed_in(&project, "rita").await;
    let found = |json: serde_json::Value| json["results"].as_array().unwrap().len();
    for filter in ["place=%D0%BF%D0%B5%D1%82%D0%B5%D1%80%D0%B1%D1%83%D1%80%D0%B3", "born_from=1895&born_to=1895"] {
        let path = format!("/api/search?q=Ezhov&{filter}");
        assert_eq!(found(reviewer.get(&project, &path).await.json()), 1, "{filter}");
        assert_eq!(found(viewer.get(&project, &path).await.json()), 0, "a viewer's filter matched a hidden value: {filter}");
    }
    // A birth year asked of the reconciliation service neither moves the score nor comes back.
    let mut scores = Vec::new();
    for year in ["1895", "1950"] {
        let queries = serde_json::json!({"q0": {"query": "Ежов Николай", "properties": [{"pid": "birth_year", "v": year}]}}).to_string();
        let reply = viewer.get(&project, &format!("/reconcile?queries={}", common::enc(&queries))).await.json();
        let first = &reply["q0"]["result"][0];
        assert!(!first["description"].as_str().unwrap().contains("1895"), "{reply}");
        scores.push(first["score"].clone());
    }
    assert_eq!(scores[0], scores[1], "the score told the hidden birth year");
}

#[tokio::test]
async fn viewers_cannot_open_a_built_report_that_describes_hidden_sources() {
    // The build withholds sensitive columns from the report but describes sensitive sources.
    let project = project();
    let out = project.dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("index.html"), "<h2 id=\"source-witnesses\">Witness statements</h2>").unwrap();
    let mut viewer = Client::signed_in(&project, "vera").await;
    assert_eq!(viewer.get(&project, "/report/index.html").await.status, StatusCode::FORBIDDEN);
    assert!(!viewer.get(&project, "/analyses").await.body.contains("/report/index.html"));
    let mut reviewer = Client::signed_in(&project, "rita").await;
    assert!(reviewer.get(&project, "/report/index.html").await.body.contains("Witness statements"));
    assert!(reviewer.get(&project, "/analyses").await.body.contains("/report/index.html"));
}
