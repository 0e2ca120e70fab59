//! The HTML pages: sign-in, search, persons, records, sources, analyses, the built report, and
//! the review screens. Every text from the register is escaped with [`esc`].

use crate::auth::{self, LOGIN_COOKIE, MaybeUser, Role, SessionUser, User};
use crate::html::{esc, page, url};
use crate::register::{self, Record};
use crate::review::{self, Action, NewDecision, Sight};
use crate::search::{self, Query};
use crate::{AppState, WebError, clock, linking};
use analysis::person::{Agreement, parts_of_whole_name};
use axum::Router;
use axum::extract::{Form, Path, Query as QueryParams, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use model::{Field, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

type Params = QueryParams<BTreeMap<String, String>>;
type FormPairs = Form<Vec<(String, String)>>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(search_page))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/persons/{id}", get(person_page))
        .route("/records/{id}", get(record_page))
        .route("/sources", get(sources_page))
        .route("/sources/{id}", get(source_page))
        .route("/analyses", get(analyses_page))
        .route("/analyses/{name}", get(analysis_page))
        .route("/report/{*path}", get(report_file))
        .route("/review", get(queue_page))
        .route("/review/pair", get(pair_page))
        .route("/review/decide", post(decide))
        .route("/review/undo", post(undo))
        .route("/review/log", get(log_page))
        .route("/review/disagreements", get(disagreements_page))
        .route("/admin/relink", post(relink))
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn csrf_input(user: &SessionUser) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&user.csrf))
}

// ---- sign-in ----

async fn login_page(MaybeUser(user): MaybeUser) -> Response {
    let token = auth::random_token();
    let body = format!(
        "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <p><label>Name <input name=\"name\" id=\"name\" autocomplete=\"username\" required></label></p>\
         <p><label>Password <input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\" required></label></p>\
         <p><button id=\"signin\">Sign in</button></p></form>"
    );
    let cookie = auth::set_cookie(LOGIN_COOKIE, &token, "/login", 3600);
    ([(header::SET_COOKIE, cookie)], Html(page("Sign in", user.as_ref(), &body))).into_response()
}

async fn login(State(state): State<AppState>, headers: HeaderMap, Form(form): FormPairs) -> Result<Response, WebError> {
    let sent = field(&form, "csrf");
    let expected = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == LOGIN_COOKIE)
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    if expected.is_empty() || !auth::constant_time_eq(expected.as_bytes(), sent.as_bytes()) {
        return Err(WebError::Csrf);
    }
    let (name, password) = (field(&form, "name").to_owned(), field(&form, "password").to_owned());
    let token = state
        .db
        .write(move |conn| match auth::check_credentials(conn, &name, &password)? {
            Some(_) => auth::open_session(conn, &name).map(Some),
            None => Ok(None),
        })
        .await?;
    match token {
        Some(token) => Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/".to_owned()), (header::SET_COOKIE, auth::session_cookie(&token))]).into_response()),
        None => Ok((
            StatusCode::UNAUTHORIZED,
            Html(page("Sign in", None, "<p class=\"error\">Wrong name or password.</p><p><a href=\"/login\">Try again</a></p>")),
        )
            .into_response()),
    }
}

async fn logout(State(state): State<AppState>, User(user): User, headers: HeaderMap, Form(form): FormPairs) -> Result<Response, WebError> {
    user.check_form(field(&form, "csrf"))?;
    let mut parts = axum::http::Request::new(());
    *parts.headers_mut() = headers;
    let (parts, ()) = parts.into_parts();
    if let Some(token) = auth::cookie(&parts, auth::SESSION_COOKIE).map(str::to_owned) {
        state.db.write(move |conn| auth::close_session(conn, &token)).await?;
    }
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/login".to_owned()), (header::SET_COOKIE, auth::session_cookie("") + "; Max-Age=0")]).into_response())
}

// ---- search ----

fn years(from: Option<i64>, to: Option<i64>) -> String {
    match (from, to) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) if a <= 1 && b >= 9999 => String::new(),
        (Some(a), Some(b)) => format!("{a}–{b}"),
        _ => String::new(),
    }
}

async fn search_page(State(state): State<AppState>, User(user): User, QueryParams(params): Params) -> Result<Html<String>, WebError> {
    let sees = user.sees_sensitive();
    let sensitivity = state.sensitivity.clone();
    let query = match params.get("q").is_some_and(|q| !q.trim().is_empty()) {
        true => Some(match Query::parse(&params) {
            Ok(query) => crate::cohorts::resolve(&state, query).await,
            Err(e) => Err(e),
        }),
        false => None,
    };
    let run = query.as_ref().and_then(|q| q.as_ref().ok()).cloned();
    let (sources, hits) = state
        .db
        .read(move |conn| {
            let sources = register::sources(conn, &sensitivity, sees)?;
            let hits = run.map(|q| search::search(conn, &q, &sensitivity, sees).map(|found| found.hits)).transpose()?;
            Ok((sources, hits))
        })
        .await?;
    let value = |k: &str| esc(params.get(k).map(String::as_str).unwrap_or(""));
    let mut body = format!(
        "<form method=\"get\" action=\"/\" id=\"search\"><p><input name=\"q\" id=\"q\" size=\"40\" value=\"{}\" placeholder=\"Ежов, Yezhov, ezhov n i\" autofocus> \
         <button id=\"go\">Search</button></p><p>Source <select name=\"source\"><option value=\"\">any</option>",
        value("q")
    );
    for s in &sources {
        let selected = if params.get("source") == Some(&s.source_id) { " selected" } else { "" };
        let _ = write!(body, "<option value=\"{}\"{selected}>{}</option>", esc(&s.source_id), esc(&s.title));
    }
    let _ = write!(
        body,
        "</select> Born from <input name=\"born_from\" size=\"5\" value=\"{}\"> to <input name=\"born_to\" size=\"5\" value=\"{}\"> \
         Place <input name=\"place\" value=\"{}\"> Event <select name=\"event\"><option value=\"\">any</option>",
        value("born_from"),
        value("born_to"),
        value("place")
    );
    for kind in model::EventKind::ALL {
        let selected = if params.get("event").map(String::as_str) == Some(kind.as_str()) { " selected" } else { "" };
        let _ = write!(body, "<option{selected}>{}</option>", kind.as_str());
    }
    let _ = write!(
        body,
        "</select> in <input name=\"event_from\" size=\"5\" value=\"{}\"> to <input name=\"event_to\" size=\"5\" value=\"{}\"> \
         Sentence <input name=\"sentence\" size=\"12\" value=\"{}\" placeholder=\"death, ВМН\">",
        value("event_from"),
        value("event_to"),
        value("sentence")
    );
    let cohorts = state.cohorts.current();
    if !cohorts.is_empty() {
        body.push_str(" Cohort <select name=\"cohort\"><option value=\"\">any</option>");
        for name in cohorts.iter() {
            let selected = if params.get("cohort") == Some(name) { " selected" } else { "" };
            let _ = write!(body, "<option value=\"{}\"{selected}>{}</option>", esc(name), esc(name));
        }
        body.push_str("</select>");
    }
    body.push_str("</p></form>");
    let shown = query.as_ref().and_then(|q| q.as_ref().ok()).map(|q| (q.offset, q.limit));
    match (query, hits) {
        (Some(Err(e)), _) => {
            let _ = write!(body, "<p class=\"error\">{}</p>", esc(&e.to_string()));
        }
        (_, Some(hits)) if hits.is_empty() => body.push_str("<p>No one found.</p>"),
        (_, Some(hits)) => {
            body.push_str("<table id=\"results\"><tr><th>Person</th><th>Name</th><th>Born</th><th>Place</th><th>Source</th><th>Records</th><th>Score</th></tr>");
            for hit in &hits {
                let person = match &hit.person_id {
                    Some(p) => format!("<a class=\"person\" href=\"/persons/{}\">{}</a>", url(p), esc(p)),
                    None => "<span class=\"muted\">not linked</span>".to_owned(),
                };
                let hide = |f: &str| !user.sees_sensitive() && state.sensitivity.field(&hit.best.source, f);
                let born = if hide("birth_date") { String::new() } else { years(hit.best.born_from, hit.best.born_to) };
                let place = if hide("birth_place") || hide("residence") { String::new() } else { hit.best.place.clone() };
                let _ = write!(
                    body,
                    "<tr><td>{person}</td><td><a href=\"/records/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
                    hit.best.record_id,
                    esc(&hit.best.name),
                    esc(&born),
                    esc(&place),
                    esc(&hit.best.source),
                    hit.matching_records,
                    hit.score
                );
            }
            body.push_str("</table>");
            if let Some((offset, limit)) = shown {
                let link = |to: usize, size: usize, label: &str| {
                    let mut at = params.clone();
                    at.insert("offset".to_owned(), to.to_string());
                    at.insert("limit".to_owned(), size.to_string());
                    let query: Vec<String> = at.iter().map(|(k, v)| format!("{}={}", url(k), url(v))).collect();
                    format!("<a rel=\"{label}\" href=\"/?{}\">{label}</a> ", esc(&query.join("&")))
                };
                body.push_str("<p class=\"pages\">");
                if offset > 0 {
                    body.push_str(&link(offset.saturating_sub(limit), limit, "prev"));
                }
                // The last page of the window may be shorter than the others, never left out.
                let rest = search::WINDOW - (offset + limit);
                if hits.len() == limit && rest > 0 {
                    body.push_str(&link(offset + limit, limit.min(rest), "next"));
                }
                body.push_str("</p>");
            }
        }
        _ => {}
    }
    Ok(Html(page("Search", Some(&user), &body)))
}

// ---- records and persons ----

fn date_text(a: &register::Assertion) -> String {
    match (&a.date_earliest, &a.date_latest) {
        (Some(e), Some(l)) if e == l => e.clone(),
        (Some(e), Some(l)) => format!("{e} … {l}"),
        _ => String::new(),
    }
}

fn locator(r: &Record) -> String {
    let mut out = format!("{} · {} v{}", esc(&r.source), esc(&r.path), r.version);
    if let Some(sheet) = &r.sheet {
        let _ = write!(out, " · sheet {}", esc(sheet));
    }
    let _ = write!(out, " · row {}", r.row);
    if let Some(i) = &r.installment {
        let _ = write!(out, " · installment {}", esc(i));
    }
    if let Some(p) = &r.page {
        let _ = write!(out, " · page {}", esc(p));
    }
    out
}

fn assertions_table(records: &[&Record]) -> String {
    let mut out = String::from("<table class=\"assertions\"><tr><th>Field</th><th>Value</th><th>As written</th><th>Column</th><th>Source, row</th></tr>");
    for r in records {
        for a in &r.assertions {
            let value = a.value.clone().unwrap_or_else(|| "(did not parse)".to_owned());
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/records/{}\">{} row {}</a></td></tr>",
                esc(&a.field),
                esc(&value),
                esc(&a.raw),
                esc(&a.column),
                r.record_id,
                esc(&r.source),
                r.row
            );
        }
    }
    out.push_str("</table>");
    out
}

async fn record_page(State(state): State<AppState>, User(user): User, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let id: i64 = id.parse().map_err(|_| WebError::bad("id", "a record id is a number"))?;
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let record = state.db.read(move |conn| register::record(conn, id, &sensitivity, sees)).await?.ok_or_else(|| WebError::NotFound(format!("record {id}")))?;
    let mut body = format!("<p>{}</p><p>Key <code>{}</code></p>", locator(&record), esc(&record.record_key));
    if record.superseded {
        body.push_str("<p class=\"muted\">A later version of this file exists; this record is kept as it was read.</p>");
    }
    if let Some(p) = &record.person_id {
        let _ = write!(body, "<p>Person <a href=\"/persons/{}\">{}</a></p>", url(p), esc(p));
    }
    body.push_str("<h2>Cells as ingested</h2><table class=\"cells\">");
    for cell in &record.cells {
        let _ = write!(body, "<tr><th>{}</th><td>{}</td></tr>", esc(&cell.column), esc(&cell.raw));
    }
    body.push_str("</table><h2>Assertions</h2>");
    body.push_str(&assertions_table(&[&record]));
    Ok(Html(page(&register::display_name(&record), Some(&user), &body)))
}

/// A profile of a person: per field, each distinct value with the records that state it. A field
/// is marked a conflict by the profiles' rule (`analysis::person::Agreement`): a year and a day
/// within it agree, and so do моряк and seaman. A whole name is read into its parts as the
/// profiles read it (`analysis::person::parts_of_whole_name`): each part it gives stands under
/// its field, its record cited "in the whole name", and the whole name keeps its own row, as the
/// source wrote it.
fn profile(records: &[Record]) -> String {
    // Per field and value: the parsed value, and each record stating it with whether it was read
    // from the record's whole name.
    let mut by_field: BTreeMap<String, BTreeMap<String, (Option<Value>, Vec<(&Record, bool)>)>> = BTreeMap::new();
    for r in records {
        for a in r.assertions.iter().filter(|a| a.event.is_none() && !a.field.starts_with("post.")) {
            let stored = a.stored();
            if let Some((Field::Name, Value::Text { text })) = &stored {
                let gives = |field: Field| r.assertions.iter().any(|b| b.field == field.name());
                for (field, part) in parts_of_whole_name(text, gives, &store::Vocabularies) {
                    let entry = by_field.entry(field.name()).or_default().entry(part.clone()).or_insert_with(|| (Some(Value::Text { text: part }), Vec::new()));
                    entry.1.push((r, true));
                }
            }
            let value = a.value.clone().unwrap_or_else(|| a.raw.clone());
            let entry = by_field.entry(a.field.clone()).or_default().entry(value).or_insert_with(|| (stored.map(|(_, v)| v), Vec::new()));
            entry.1.push((r, false));
        }
    }
    let mut out = String::from("<table id=\"profile\"><tr><th>Field</th><th>Values (sources)</th></tr>");
    for (field, values) in by_field {
        let conflict = conflict(&field, &values);
        let class = if conflict { " class=\"conflict\"" } else { "" };
        let mut cell = Vec::new();
        for (value, (_, rs)) in &values {
            let refs: Vec<String> = rs
                .iter()
                .map(|(r, whole)| format!("<a href=\"/records/{}\">{}:{}</a>{}", r.record_id, esc(&r.source), r.row, if *whole { " in the whole name" } else { "" }))
                .collect();
            cell.push(format!("{} ({})", esc(value), refs.join(", ")));
        }
        let _ = write!(out, "<tr{class}><td>{}{}</td><td>{}</td></tr>", esc(&field), if conflict { " ⚠ conflict" } else { "" }, cell.join("<br>"));
    }
    out.push_str("</table>");
    out
}

/// Whether a field's values conflict, as the profiles decide it; values that did not parse are
/// kept apart there and contradict nothing, and a field this build does not know is not profiled.
fn conflict(field: &str, values: &BTreeMap<String, (Option<Value>, Vec<(&Record, bool)>)>) -> bool {
    let Ok(field) = field.parse::<Field>() else { return false };
    let parsed: Vec<&Value> = values.values().filter_map(|(v, _)| v.as_ref()).filter(|v| !matches!(v, Value::Unparsed { .. })).collect();
    Agreement::new(field, parsed, &store::Vocabularies).conflict()
}

fn timeline(records: &[Record]) -> String {
    let mut events: Vec<(String, String, &register::Assertion, &Record)> = Vec::new();
    for r in records {
        for a in r.assertions.iter().filter(|a| a.event.is_some() || a.field.starts_with("post.") || a.field == "birth_date") {
            events.push((a.date_earliest.clone().unwrap_or_else(|| "9999".to_owned()), a.field.clone(), a, r));
        }
    }
    events.sort_by(|x, y| (&x.0, &x.1, x.3.record_id).cmp(&(&y.0, &y.1, y.3.record_id)));
    let mut out = String::from("<table id=\"timeline\"><tr><th>When</th><th>What</th><th>Value</th><th>Source, row</th></tr>");
    for (_, _, a, r) in events {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/records/{}\">{} row {}</a></td></tr>",
            esc(&date_text(a)),
            esc(&a.field),
            esc(a.value.as_deref().unwrap_or(&a.raw)),
            r.record_id,
            esc(&r.source),
            r.row
        );
    }
    out.push_str("</table>");
    out
}

async fn person_page(State(state): State<AppState>, User(user): User, Path(id): Path<String>) -> Result<Html<String>, WebError> {
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let person_id = id.clone();
    // Under blind double review a reviewer sees only their own decisions here, as on a pair's page.
    let blind_for = (Sight::of(state.config.double_review, user.role >= Role::Admin) == Sight::Blind).then(|| user.name.clone());
    let (person, pairs, version, history) = state
        .db
        .read(move |conn| {
            let person = register::person(conn, &person_id, &sensitivity, sees)?;
            let mut pairs = Vec::new();
            if let Some(p) = &person {
                // With each side's source: a viewer sees no pair with a record of a hidden source.
                let mut stmt = conn.prepare_cached(
                    "SELECT p.record_key_l, p.record_key_r, p.match_probability,
                            (SELECT f.source_id FROM records r JOIN current_files f USING (file_id) WHERE r.record_key = p.record_key_l),
                            (SELECT f.source_id FROM records r JOIN current_files f USING (file_id) WHERE r.record_key = p.record_key_r)
                     FROM link_pairs p WHERE p.record_key_l = ?1 OR p.record_key_r = ?1
                     ORDER BY p.match_probability DESC LIMIT 50",
                )?;
                for r in &p.records {
                    let rows = stmt.query_map([&r.record_key], |row| {
                        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, f64>(2)?, row.get::<_, Option<String>>(3)?, row.get::<_, Option<String>>(4)?))
                    })?;
                    for row in rows {
                        let (l, r, p, source_l, source_r) = row?;
                        let hidden = |source: Option<String>| !sees && source.is_none_or(|s| sensitivity.source(&s));
                        if !hidden(source_l) && !hidden(source_r) {
                            pairs.push((l, r, p));
                        }
                    }
                }
            }
            let item = review::person_item(&person_id);
            let keys: Vec<String> = person.iter().flat_map(|p| p.records.iter().map(|r| r.record_key.clone())).collect();
            Ok((person, pairs, review::version(conn, &item)?, review::decisions(conn, Some(&item), &keys, 50, blind_for.as_deref())?))
        })
        .await?;
    let person = person.ok_or_else(|| WebError::NotFound(format!("person {id}")))?;
    let title = person.records.first().map(register::display_name).unwrap_or_else(|| id.clone());
    let mut body = format!("<p>Person <code>{}</code>, {} record(s)</p><h2>Records</h2><table id=\"records\"><tr><th>Record</th><th>Where</th></tr>", esc(&id), person.records.len());
    for r in &person.records {
        let _ = write!(body, "<tr><td><a href=\"/records/{}\">{}</a></td><td>{}</td></tr>", r.record_id, esc(&register::display_name(r)), locator(r));
    }
    body.push_str("</table><h2>Profile</h2>");
    body.push_str(&profile(&person.records));
    body.push_str("<h2>Timeline</h2>");
    body.push_str(&timeline(&person.records));
    body.push_str("<h2>Every assertion</h2>");
    body.push_str(&assertions_table(&person.records.iter().collect::<Vec<_>>()));
    let own: BTreeSet<&str> = person.records.iter().map(|r| r.record_key.as_str()).collect();
    body.push_str("<h2>Scored pairs</h2><table id=\"pairs\"><tr><th>Pair</th><th>Probability</th><th></th></tr>");
    let mut seen = BTreeSet::new();
    for (l, r, p) in &pairs {
        if seen.insert((l, r)) {
            let inside = if own.contains(l.as_str()) && own.contains(r.as_str()) { "same person" } else { "other person" };
            let _ = write!(
                body,
                "<tr><td><a href=\"/review/pair?l={}&amp;r={}\">{} ↔ {}</a></td><td>{p:.3}</td><td>{inside}</td></tr>",
                url(l),
                url(r),
                esc(l),
                esc(r)
            );
        }
    }
    body.push_str("</table>");
    if user.role >= Role::Reviewer {
        let item = review::person_item(&id);
        let _ = write!(
            body,
            "<h2>Decide on this person</h2><form method=\"post\" action=\"/review/decide\">{csrf}\
             <input type=\"hidden\" name=\"item\" value=\"{item}\"><input type=\"hidden\" name=\"version\" value=\"{version}\">\
             <input type=\"hidden\" name=\"person\" value=\"{id}\"><input type=\"hidden\" name=\"action\" value=\"merge\">\
             <p>Merge with person <input name=\"other\" required> because <input name=\"why\" size=\"40\" required> <button>Merge</button></p></form>\
             <form method=\"post\" action=\"/review/decide\">{csrf}<input type=\"hidden\" name=\"item\" value=\"{item}\">\
             <input type=\"hidden\" name=\"version\" value=\"{version}\"><input type=\"hidden\" name=\"person\" value=\"{id}\">\
             <input type=\"hidden\" name=\"action\" value=\"split\"><p>Split off these records:",
            csrf = csrf_input(&user),
            item = esc(&item),
            id = esc(&id),
        );
        for r in &person.records {
            let _ = write!(body, " <label><input type=\"checkbox\" name=\"split\" value=\"{}\"> {}</label>", esc(&r.record_key), esc(&r.record_key));
        }
        body.push_str(" because <input name=\"why\" size=\"40\" required> <button>Split</button></p></form>");
    }
    // Decisions are the reviewers' business (the log and the API show them to reviewers only),
    // and they name records of sources a viewer may not see.
    if user.role >= Role::Reviewer {
        body.push_str(&decisions_table(&history, &user, true));
    }
    Ok(Html(page(&title, Some(&user), &body)))
}

// ---- sources ----

async fn sources_page(State(state): State<AppState>, User(user): User) -> Result<Html<String>, WebError> {
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let sources = state.db.read(move |conn| register::sources(conn, &sensitivity, sees)).await?;
    let mut body = String::from("<table><tr><th>Source</th><th>Kind</th><th>Records</th><th>Files</th></tr>");
    for s in &sources {
        let _ = write!(
            body,
            "<tr><td><a href=\"/sources/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            url(&s.source_id),
            esc(&s.title),
            esc(&s.kind),
            s.records,
            s.files.len()
        );
    }
    body.push_str("</table>");
    Ok(Html(page("Sources", Some(&user), &body)))
}

/// Records a source's page lists at a time.
const SOURCE_PAGE: i64 = 100;

async fn source_page(State(state): State<AppState>, User(user): User, Path(id): Path<String>, QueryParams(params): Params) -> Result<Html<String>, WebError> {
    let offset: i64 = params.get("offset").and_then(|o| o.parse().ok()).filter(|o| *o >= 0).unwrap_or(0);
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let source_id = id.clone();
    let (source, records) = state
        .db
        .read(move |conn| {
            let source = register::sources(conn, &sensitivity, sees)?.into_iter().find(|s| s.source_id == source_id);
            // One record more than a page shows, to know whether a next page exists.
            let records = if source.is_some() { register::source_records(conn, &source_id, offset, SOURCE_PAGE + 1)? } else { Vec::new() };
            Ok((source, records))
        })
        .await?;
    let source = source.ok_or_else(|| WebError::NotFound(format!("source {id}")))?;
    let mut body = format!("<p>{} · {} record(s)</p>", esc(&source.kind), source.records);
    for key in ["notes", "date"] {
        if let Some(v) = source.manifest.get(key).and_then(|v| v.as_str()) {
            let _ = write!(body, "<p><strong>{key}</strong>: {}</p>", esc(v));
        }
    }
    if let Some(installments) = source.manifest.get("installments").and_then(|v| v.as_array()) {
        body.push_str("<h2>Installments</h2><ul>");
        for i in installments {
            let _ = write!(body, "<li>{}</li>", esc(&i.to_string()));
        }
        body.push_str("</ul>");
    }
    body.push_str("<h2>Files</h2><table><tr><th>Path</th><th>Version</th><th>SHA-256</th><th>Ingested</th><th></th></tr>");
    for f in &source.files {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&f.path),
            f.version,
            esc(&f.sha256[..f.sha256.len().min(12)]),
            esc(&f.ingested_at),
            if f.current { "current" } else { "superseded" }
        );
    }
    body.push_str("</table><h2>Records</h2><table><tr><th>Row</th><th>Name</th></tr>");
    for (rid, row, name) in records.iter().take(SOURCE_PAGE as usize) {
        let _ = write!(body, "<tr><td>{row}</td><td><a href=\"/records/{rid}\">{}</a></td></tr>", esc(name));
    }
    body.push_str("</table><p class=\"pages\">");
    if offset > 0 {
        let _ = write!(body, "<a rel=\"prev\" href=\"/sources/{}?offset={}\">Previous</a> ", url(&id), (offset - SOURCE_PAGE).max(0));
    }
    if records.len() as i64 > SOURCE_PAGE {
        let _ = write!(body, "<a rel=\"next\" href=\"/sources/{}?offset={}\">Next</a>", url(&id), offset + SOURCE_PAGE);
    }
    body.push_str("</p>");
    Ok(Html(page(&source.title, Some(&user), &body)))
}

// ---- analyses and the built report (files under DIR/out only) ----

fn out_dir(state: &AppState) -> std::path::PathBuf {
    state.config.project_dir.join("out")
}

/// Resolves a request path to a file under `root`, refusing anything that could leave it.
fn confined(root: &std::path::Path, path: &str) -> Result<std::path::PathBuf, WebError> {
    let not_found = || WebError::NotFound("file".to_owned());
    let mut resolved = root.to_owned();
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains(['\\', ':', '\0']) || part.starts_with('.') {
            return Err(not_found());
        }
        resolved.push(part);
    }
    let canonical_root = root.canonicalize().map_err(|_| not_found())?;
    let canonical = resolved.canonicalize().map_err(|_| not_found())?;
    if !canonical.starts_with(&canonical_root) || !canonical.is_file() {
        return Err(not_found());
    }
    Ok(canonical)
}

/// Whether `user` may open the built report: `kartoteka build` withholds sensitive columns from
/// it but still describes sensitive sources (title, notes, files, record keys), which viewers
/// must not see.
fn reads_report(state: &AppState, user: &SessionUser) -> bool {
    user.sees_sensitive() || state.sensitivity.sources().next().is_none()
}

async fn report_file(State(state): State<AppState>, User(user): User, Path(path): Path<String>) -> Result<Response, WebError> {
    if !reads_report(&state, &user) {
        return Err(WebError::Forbidden("the built report describes sources hidden from viewers; a reviewer or an admin can open it".to_owned()));
    }
    let file = confined(&out_dir(&state), &path)?;
    let kind = match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "json" | "geojson" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "png" => "image/png",
        "gexf" | "xml" => "application/xml",
        _ => "application/octet-stream",
    };
    let bytes = tokio::fs::read(&file).await.map_err(|_| WebError::NotFound("file".to_owned()))?;
    Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
}

fn analysis_names(state: &AppState) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out_dir(state).join("analyses"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_owned))
        .collect();
    names.sort();
    names
}

async fn analyses_page(State(state): State<AppState>, User(user): User) -> Result<Html<String>, WebError> {
    let names = analysis_names(&state);
    let mut body = String::from("<p>Analyses and cohorts as the last <code>kartoteka build</code> computed them.</p><ul>");
    for n in &names {
        let _ = write!(body, "<li><a href=\"/analyses/{}\">{}</a></li>", url(n), esc(n));
    }
    body.push_str("</ul>");
    if names.is_empty() {
        body.push_str("<p class=\"muted\">None yet: run <code>kartoteka build</code>.</p>");
    }
    if reads_report(&state, &user) && out_dir(&state).join("index.html").is_file() {
        body.push_str("<p><a href=\"/report/index.html\">The static report</a></p>");
    }
    Ok(Html(page("Analyses", Some(&user), &body)))
}

/// Renders JSON as nested tables (arrays of objects as one table with a column per key).
fn json_html(value: &serde_json::Value, depth: usize) -> String {
    use serde_json::Value as J;
    if depth > 6 {
        return esc(&value.to_string());
    }
    match value {
        J::Object(map) => {
            let mut out = String::from("<table>");
            for (k, v) in map {
                let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), json_html(v, depth + 1));
            }
            out + "</table>"
        }
        J::Array(items) if !items.is_empty() && items.iter().all(J::is_object) => {
            let mut columns: Vec<&String> = Vec::new();
            for item in items {
                for k in item.as_object().expect("checked above").keys() {
                    if !columns.contains(&k) {
                        columns.push(k);
                    }
                }
            }
            let mut out = String::from("<table><tr>");
            for c in &columns {
                let _ = write!(out, "<th>{}</th>", esc(c));
            }
            out.push_str("</tr>");
            for item in items.iter().take(500) {
                out.push_str("<tr>");
                for c in &columns {
                    let _ = write!(out, "<td>{}</td>", item.get(c.as_str()).map(|v| json_html(v, depth + 1)).unwrap_or_default());
                }
                out.push_str("</tr>");
            }
            out + "</table>"
        }
        J::Array(items) => items.iter().map(|v| json_html(v, depth + 1)).collect::<Vec<_>>().join(", "),
        J::String(s) => esc(s),
        other => esc(&other.to_string()),
    }
}

async fn analysis_page(State(state): State<AppState>, User(user): User, Path(name): Path<String>) -> Result<Html<String>, WebError> {
    if !analysis_names(&state).contains(&name) {
        return Err(WebError::NotFound(format!("analysis {name}")));
    }
    let file = confined(&out_dir(&state), &format!("analyses/{name}.json"))?;
    let text = tokio::fs::read_to_string(&file).await.map_err(|_| WebError::NotFound(format!("analysis {name}")))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| WebError::Internal(format!("{name}.json: {e}")))?;
    let mut body = String::new();
    // The charts the report crate drew for this analysis when `kartoteka build` last ran.
    let drawn = match confined(&out_dir(&state), &format!("analyses/{name}.html")) {
        Ok(file) => tokio::fs::read_to_string(file).await.ok(),
        Err(_) => None,
    };
    if let Some(report) = drawn {
        body.push_str("<div class=\"charts\">");
        for chart in report_charts(&report) {
            body.push_str(chart);
        }
        body.push_str("</div><p class=\"muted\">As of the last build.");
        if reads_report(&state, &user) {
            let _ = write!(body, " <a href=\"/report/analyses/{}.html\">The report's page</a>.", url(&name));
        }
        body.push_str("</p>");
    }
    body.push_str(&json_html(&json, 0));
    Ok(Html(page(&name, Some(&user), &body)))
}

/// The `<svg>` charts of a report page, in order.
fn report_charts(html: &str) -> Vec<&str> {
    let mut charts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let Some(length) = rest[start..].find("</svg>") else { break };
        let end = start + length + "</svg>".len();
        charts.push(&rest[start..end]);
        rest = &rest[end..];
    }
    charts
}

// ---- review ----

/// The decisions of an item (for reviewers: each links its pair's page), with undo forms (each
/// naming its decision's item version) when asked.
fn decisions_table(rows: &[review::DecisionRow], user: &SessionUser, undo_forms: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Decisions</h2><table id=\"decisions\"><tr><th>#</th><th>Action</th><th>Records</th><th>Who</th><th>When</th><th>Why</th><th></th></tr>");
    for d in rows {
        let state = match &d.undone {
            Some((who, at, why)) => format!("undone by {} at {} ({})", esc(who), esc(at), esc(why)),
            None if user.role >= Role::Reviewer && undo_forms => format!(
                "<form method=\"post\" action=\"/review/undo\">{}<input type=\"hidden\" name=\"decision\" value=\"{}\">\
                 <input type=\"hidden\" name=\"version\" value=\"{}\"><input name=\"why\" placeholder=\"why undo\" required> <button>Undo</button></form>",
                csrf_input(user),
                d.decision_id,
                d.item_version
            ),
            None => String::new(),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{} ({})</td><td><a href=\"/review/pair?l={}&amp;r={}\">{} ↔ {}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{state}</td></tr>",
            d.decision_id,
            esc(&d.action),
            esc(&d.kind),
            url(&d.record_key_l),
            url(&d.record_key_r),
            esc(&d.record_key_l),
            esc(&d.record_key_r),
            esc(&d.who),
            esc(&d.decided_at),
            esc(&d.why)
        );
    }
    out + "</table>"
}

async fn queue_page(State(state): State<AppState>, User(user): User) -> Result<Html<String>, WebError> {
    user.require(Role::Reviewer)?;
    let votes_of = state.config.double_review.then(|| user.name.clone());
    let pending = state.db.read(move |conn| review::queue(conn, 100, votes_of.as_deref())).await?;
    let mut body = String::from("<p>Uncertain pairs, the most informative (probability nearest 0.5) first.</p><table id=\"queue\"><tr><th>Pair</th><th>Probability</th><th>Weight</th></tr>");
    for p in &pending {
        let _ = write!(
            body,
            "<tr><td><a class=\"pair\" href=\"/review/pair?l={}&amp;r={}\">{} ↔ {}</a></td><td>{:.3}</td><td>{:.2}</td></tr>",
            url(&p.record_key_l),
            url(&p.record_key_r),
            esc(&p.record_key_l),
            esc(&p.record_key_r),
            p.match_probability,
            p.match_weight
        );
    }
    body.push_str("</table>");
    if pending.is_empty() {
        body.push_str("<p id=\"nothing-to-review\">No uncertain pair waits for review: every pair the last linkage run scored was certain enough, or has been decided. \
                       Persons can still be merged or split from their pages.</p>");
    }
    body.push_str("<p><a href=\"/review/log\">All decisions</a>");
    if state.config.double_review {
        body.push_str(" · <a href=\"/review/disagreements\">Disagreements</a>");
    }
    body.push_str("</p>");
    if user.role >= Role::Admin {
        let _ = write!(body, "<form method=\"post\" action=\"/admin/relink\">{}<button id=\"relink\">Re-link with all decisions</button></form>", csrf_input(&user));
    }
    Ok(Html(page("Review", Some(&user), &body)))
}

fn waterfall(explanation: &serde_json::Value) -> String {
    let num = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
    let text = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or("").to_owned();
    let bar = |w: f64| format!("<span class=\"bar {}\" style=\"width:{:.0}px\"></span>", if w >= 0.0 { "pos" } else { "neg" }, (w.abs() * 12.0).min(300.0));
    let mut running = num(explanation, "prior_weight");
    let mut out = format!(
        "<table id=\"waterfall\"><tr><th>Step</th><th>Left</th><th>Right</th><th>Level</th><th>Weight</th><th></th><th>Running</th></tr>\
         <tr><td>prior</td><td></td><td></td><td></td><td>{running:+.2}</td><td>{}</td><td>{running:+.2}</td></tr>",
        bar(running)
    );
    for f in explanation.get("fields").and_then(|f| f.as_array()).into_iter().flatten() {
        let w = num(f, "weight") + num(f, "tf_adjustment");
        running += w;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{w:+.2}</td><td>{}</td><td>{running:+.2}</td></tr>",
            esc(&text(f, "column")),
            esc(&text(f, "value_l")),
            esc(&text(f, "value_r")),
            esc(&text(f, "level")),
            bar(w)
        );
    }
    let rules: Vec<String> = explanation.get("rules").and_then(|r| r.as_array()).into_iter().flatten().filter_map(|r| r.as_str()).map(esc).collect();
    let _ = write!(
        out,
        "<tr><th colspan=\"4\">match weight{}</th><th>{:+.2}</th><td></td><td>p = {:.3}</td></tr></table>",
        if rules.is_empty() { String::new() } else { format!(" (rules: {})", rules.join(", ")) },
        num(explanation, "match_weight"),
        num(explanation, "match_probability")
    );
    out
}

async fn pair_page(State(state): State<AppState>, User(user): User, QueryParams(params): Params) -> Result<Html<String>, WebError> {
    user.require(Role::Reviewer)?;
    let (item, l, r) = review::pair_item(params.get("l").map(String::as_str).unwrap_or(""), params.get("r").map(String::as_str).unwrap_or(""));
    let (sensitivity, lookup_item, ll, rr) = (state.sensitivity.clone(), item.clone(), l.clone(), r.clone());
    let voted = (state.config.double_review && user.role < Role::Admin).then(|| user.name.clone());
    let (left, right, persons, pair, version, history, my_vote) = state
        .db
        .read(move |conn| {
            let load = |key: &str| -> Result<Option<Record>, WebError> {
                match register::record_id_of(conn, key)? {
                    Some(id) => register::record(conn, id, &sensitivity, true),
                    None => Ok(None),
                }
            };
            let my_vote: Option<String> = match &voted {
                Some(who) => rusqlite::OptionalExtension::optional(conn.query_row(
                    "SELECT action FROM review_votes WHERE item = ?1 AND who = ?2",
                    [&lookup_item, who],
                    |r| r.get(0),
                ))?,
                None => None,
            };
            let (left, right) = (load(&ll)?, load(&rr)?);
            // The persons the reviewer sees the two records in: the form names their versions.
            let mut persons = std::collections::BTreeMap::new();
            for person in [&left, &right].into_iter().flatten().filter_map(|r| r.person_id.as_deref()) {
                let item = review::person_item(person);
                let version = review::version(conn, &item)?;
                persons.insert(item, version);
            }
            Ok((left, right, persons, review::pair(conn, &ll, &rr)?, review::version(conn, &lookup_item)?, review::decisions(conn, Some(&lookup_item), &[], 50, None)?, my_vote))
        })
        .await?;
    let (Some(left), Some(right)) = (left, right) else { return Err(WebError::NotFound("pair".to_owned())) };
    let seen: String = persons.iter().map(|(item, v)| format!("<input type=\"hidden\" name=\"seen\" value=\"{v} {}\">", esc(item))).collect();
    let mut body = String::from("<div class=\"side\">");
    for record in [&left, &right] {
        let person = record.person_id.as_deref().map(|p| format!(" · person <a href=\"/persons/{}\">{}</a>", url(p), esc(p))).unwrap_or_default();
        let _ = write!(body, "<div class=\"record\"><h2><a href=\"/records/{}\">{}</a></h2><p>{}{person}</p><table>", record.record_id, esc(&register::display_name(record)), locator(record));
        for a in &record.assertions {
            let _ = write!(body, "<tr><th>{}</th><td>{}</td></tr>", esc(&a.field), esc(&a.raw));
        }
        body.push_str("</table></div>");
    }
    body.push_str("</div><h2>Why the machine scored it so</h2>");
    match &pair {
        Some((_, _, Some(explanation))) => body.push_str(&waterfall(explanation)),
        Some((w, p, None)) => {
            let _ = write!(body, "<p>Weight {w:+.2}, probability {p:.3} (certain enough that no waterfall was kept).</p>");
        }
        None => body.push_str("<p class=\"muted\">The last linkage run did not score this pair.</p>"),
    }
    if let Some(vote) = my_vote {
        let _ = write!(body, "<p>You voted <strong>{}</strong>; the other reviewer's vote stays hidden until both have voted.</p>", esc(&vote));
    } else {
        let _ = write!(
            body,
            "<h2>Your decision</h2><form method=\"post\" action=\"/review/decide\" id=\"decide\">{}\
             <input type=\"hidden\" name=\"item\" value=\"{}\"><input type=\"hidden\" name=\"version\" value=\"{version}\">\
             <input type=\"hidden\" name=\"l\" value=\"{}\"><input type=\"hidden\" name=\"r\" value=\"{}\">{seen}\
             <p><label><input type=\"radio\" name=\"action\" value=\"accept\" id=\"accept\" required> Same person (accept)</label> \
             <label><input type=\"radio\" name=\"action\" value=\"reject\" id=\"reject\"> Different persons (reject)</label></p>\
             <p><label>Why <input name=\"why\" id=\"why\" size=\"60\" required></label> <button id=\"submit\">Decide</button></p></form>",
            csrf_input(&user),
            esc(&item),
            esc(&l),
            esc(&r)
        );
    }
    if !state.config.double_review || user.role >= Role::Admin {
        body.push_str(&decisions_table(&history, &user, true));
    }
    Ok(Html(page("Review a pair", Some(&user), &body)))
}

/// The link constraints a person-level decision stands for.
fn person_constraints(conn: &rusqlite::Connection, action: Action, person: &str, form: &[(String, String)]) -> Result<Vec<(String, String, bool)>, WebError> {
    let keys_of = |p: &str| -> Result<Vec<String>, WebError> {
        let mut stmt = conn.prepare_cached("SELECT record_key FROM person_records WHERE person_id = ?1 ORDER BY record_key")?;
        Ok(stmt.query_map([p], |r| r.get(0))?.collect::<Result<_, _>>()?)
    };
    let own = keys_of(person)?;
    if own.is_empty() {
        return Err(WebError::NotFound(format!("person {person}")));
    }
    match action {
        Action::Merge => {
            let other = field(form, "other").trim();
            let theirs = keys_of(other)?;
            if theirs.is_empty() || other == person {
                return Err(WebError::bad("other", format!("{other:?} is not another person")));
            }
            Ok(vec![(own[0].clone(), theirs[0].clone(), true)])
        }
        Action::Split => {
            let off: BTreeSet<&str> = form.iter().filter(|(k, _)| k == "split").map(|(_, v)| v.as_str()).collect();
            let (leaving, staying): (Vec<&String>, Vec<&String>) = own.iter().partition(|k| off.contains(k.as_str()));
            if leaving.is_empty() || staying.is_empty() || leaving.len() != off.len() {
                return Err(WebError::bad("split", "choose some, not all, of this person's records"));
            }
            let mut out: Vec<(String, String, bool)> = leaving.windows(2).map(|w| (w[0].clone(), w[1].clone(), true)).collect();
            for l in &leaving {
                for s in &staying {
                    out.push(((*l).clone(), (*s).clone(), false));
                }
            }
            Ok(out)
        }
        Action::Accept | Action::Reject => Err(WebError::bad("action", "accept and reject are decisions on a pair")),
    }
}

/// The `seen` fields of a pair's form: "VERSION person:ID" of each person of its records, as
/// person id to version; `None` for a form that names no person (as an API call without
/// `persons`), which `review::decide` then holds to the pair's version only.
fn seen_persons(form: &[(String, String)]) -> Result<Option<BTreeMap<String, i64>>, WebError> {
    let mut seen = BTreeMap::new();
    for (_, value) in form.iter().filter(|(k, _)| k == "seen") {
        let (version, item) = value.split_once(' ').ok_or_else(|| WebError::bad("seen", "expected a version and an item"))?;
        let person = review::person_of_item(item).ok_or_else(|| WebError::bad("seen", format!("{item:?} is not a person")))?;
        seen.insert(person.to_owned(), version.parse().map_err(|_| WebError::bad("seen", "a version is a number"))?);
    }
    Ok((!seen.is_empty()).then_some(seen))
}

async fn decide(State(state): State<AppState>, User(user): User, Form(form): FormPairs) -> Result<Response, WebError> {
    user.check_form(field(&form, "csrf"))?;
    user.require(Role::Reviewer)?;
    let action = Action::parse(field(&form, "action"))?;
    let why = field(&form, "why").trim().to_owned();
    if why.is_empty() {
        return Err(WebError::bad("why", "say why: the note is part of the audit trail"));
    }
    let version: i64 = field(&form, "version").parse().map_err(|_| WebError::bad("version", "missing the version the decision was made on"))?;
    // Admins settle disagreements with a plain decision.
    let double = state.config.double_review && user.role < Role::Admin;
    // A blind reviewer's merge or split is a decision, refused without naming others' decisions.
    let sight = Sight::of(state.config.double_review, user.role >= Role::Admin);
    let who = user.name.clone();
    let at = clock::now();
    let back = state
        .db
        .write(move |conn| {
            match action {
                Action::Accept | Action::Reject => {
                    let (item, l, r) = review::pair_item(field(&form, "l"), field(&form, "r"));
                    if item != field(&form, "item") || register::record_id_of(conn, &l)?.is_none() || register::record_id_of(conn, &r)?.is_none() {
                        return Err(WebError::bad("item", "not a pair of current records"));
                    }
                    if l == r {
                        return Err(WebError::bad("r", "a pair needs two different records"));
                    }
                    let back = format!("/review/pair?l={}&r={}", url(&l), url(&r));
                    let persons_seen = seen_persons(&form)?;
                    if double {
                        let vote = review::NewVote { item: &item, version, left: &l, right: &r, persons_seen: persons_seen.as_ref(), action, who: &who, why: &why, at: &at };
                        review::vote(conn, &vote)?;
                    } else {
                        let constraints = vec![(l, r, action == Action::Accept)];
                        review::decide(conn, &NewDecision { item, version, action, constraints, persons_seen, who, why, at, sight: Sight::Sighted })?;
                    }
                    Ok(back)
                }
                Action::Merge | Action::Split => {
                    let person = field(&form, "person").to_owned();
                    let item = review::person_item(&person);
                    if item != field(&form, "item") {
                        return Err(WebError::bad("item", "the form's item does not match its person"));
                    }
                    let constraints = person_constraints(conn, action, &person, &form)?;
                    review::decide(conn, &NewDecision { item, version, action, constraints, persons_seen: None, who, why, at, sight })?;
                    Ok(format!("/persons/{}", url(&person)))
                }
            }
        })
        .await?;
    Ok(Redirect::to(&back).into_response())
}

async fn undo(State(state): State<AppState>, User(user): User, Form(form): FormPairs) -> Result<Response, WebError> {
    user.check_form(field(&form, "csrf"))?;
    user.require(Role::Reviewer)?;
    let decision: i64 = field(&form, "decision").parse().map_err(|_| WebError::bad("decision", "a decision id is a number"))?;
    let version: i64 = field(&form, "version").parse().map_err(|_| WebError::bad("version", "missing the version the undo was made on"))?;
    let why = field(&form, "why").trim().to_owned();
    if why.is_empty() {
        return Err(WebError::bad("why", "say why the decision is undone"));
    }
    let who = user.name.clone();
    let sight = Sight::of(state.config.double_review, user.role >= Role::Admin);
    let item = state.db.write(move |conn| review::undo(conn, decision, version, &who, &why, &clock::now(), sight)).await?;
    let back = match review::pair_of_item(&item) {
        Some((l, r)) => format!("/review/pair?l={}&r={}", url(l), url(r)),
        None => format!("/persons/{}", url(review::person_of_item(&item).unwrap_or(""))),
    };
    Ok(Redirect::to(&back).into_response())
}

async fn log_page(State(state): State<AppState>, User(user): User) -> Result<Html<String>, WebError> {
    user.require(Role::Reviewer)?;
    // Under blind double review a reviewer's log is their own decisions, as `GET /api/decisions`.
    let blind_for = (Sight::of(state.config.double_review, user.role >= Role::Admin) == Sight::Blind).then(|| user.name.clone());
    let only_own = blind_for.is_some();
    let rows = state.db.read(move |conn| review::decisions(conn, None, &[], 1000, blind_for.as_deref())).await?;
    let mut body = String::new();
    if only_own {
        body.push_str("<p id=\"blind\">Blind double review: you see your own decisions only; the others' stay with the admins.</p>");
    }
    body.push_str(&decisions_table(&rows, &user, false));
    if rows.is_empty() {
        body.push_str("<p>No decisions yet.</p>");
    }
    Ok(Html(page("Decisions", Some(&user), &body)))
}

async fn disagreements_page(State(state): State<AppState>, User(user): User) -> Result<Html<String>, WebError> {
    user.require(Role::Admin)?;
    let rows = state.db.read(review::disagreements).await?;
    let mut body = String::from("<p>Pairs whose two blind reviews disagree. Deciding here settles them.</p><table><tr><th>Pair</th><th>Votes</th></tr>");
    for d in &rows {
        let votes: Vec<String> = d.votes.iter().map(|(who, action, why)| format!("{}: {} ({})", esc(who), esc(action), esc(why))).collect();
        let _ = write!(
            body,
            "<tr><td><a href=\"/review/pair?l={}&amp;r={}\">{} ↔ {}</a></td><td>{}</td></tr>",
            url(&d.record_key_l),
            url(&d.record_key_r),
            esc(&d.record_key_l),
            esc(&d.record_key_r),
            votes.join("<br>")
        );
    }
    body.push_str("</table>");
    Ok(Html(page("Disagreements", Some(&user), &body)))
}

async fn relink(State(state): State<AppState>, User(user): User, Form(form): FormPairs) -> Result<Html<String>, WebError> {
    user.check_form(field(&form, "csrf"))?;
    user.require(Role::Admin)?;
    let project_dir = state.config.project_dir.clone();
    let summary = state
        .db
        .write(move |conn| {
            let summary = linking::relink(conn, &project_dir, &clock::now())?;
            crate::search::ensure_index(conn)?;
            Ok(summary)
        })
        .await?;
    let body = format!(
        "<p id=\"relinked\">Linked {} records into {} persons with {} decisions honoured; {} scored pairs kept.</p><p><a href=\"/review\">Back to review</a></p>",
        summary.records, summary.persons, summary.decisions, summary.pairs
    );
    Ok(Html(page("Re-linked", Some(&user), &body)))
}
