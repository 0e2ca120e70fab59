//! The W3C / OpenRefine Reconciliation Service API (version 0.2): a manifest, batched queries
//! scored 0-100 with an optional birth year, source or place, a preview, and entity suggest, so
//! a spreadsheet column of names can be reconciled against the register's persons.

use crate::auth::{MaybeUser, Role, SessionUser};
use crate::html::{esc, url};
use crate::search::{self, PersonHit, Query};
use crate::{ApiError, AppState, WebError, register};
use axum::Router;
use axum::extract::{Form, Query as QueryParams, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reconcile", get(reconcile_get).post(reconcile_post))
        .route("/reconcile/preview", get(preview))
        .route("/reconcile/suggest/entity", get(suggest))
}

/// The caller: signed in, or anonymous as a viewer when the server allows public reconciliation.
async fn caller(state: &AppState, user: Option<SessionUser>) -> Result<SessionUser, ApiError> {
    match user {
        Some(user) => Ok(user),
        None if state.config.public_reconcile => Ok(SessionUser { name: "anonymous".to_owned(), role: Role::Viewer, csrf: String::new(), via_cookie: false }),
        None => Err(ApiError(WebError::NotSignedIn)),
    }
}

/// This server's address as the client reached it (`http://host:port`), from the `Host` header:
/// OpenRefine resolves the manifest's view, preview and suggest addresses against its own page,
/// so they must be absolute. Empty (relative addresses) when the header is missing or odd.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let plain = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if plain { format!("http://{host}") } else { String::new() }
}

fn manifest(state: &AppState, headers: &HeaderMap) -> Value {
    let name = state.config.project_dir.file_name().and_then(|n| n.to_str()).unwrap_or("project");
    let base = base_url(headers);
    json!({
        "versions": ["0.2"],
        "name": format!("kartoteka: {name}"),
        "identifierSpace": "https://kartoteka.invalid/person/",
        "schemaSpace": "https://kartoteka.invalid/schema/",
        "defaultTypes": [{"id": "person", "name": "Person"}],
        "view": {"url": format!("{base}/persons/{{{{id}}}}")},
        "preview": {"url": format!("{base}/reconcile/preview?id={{{{id}}}}"), "width": 400, "height": 200},
        "suggest": {"entity": {"service_url": base, "service_path": "/reconcile/suggest/entity"}},
        "batchSize": 20
    })
}

async fn reconcile_get(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    QueryParams(params): QueryParams<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    answer(state, user, &headers, params.get("queries").cloned()).await
}

async fn reconcile_post(State(state): State<AppState>, MaybeUser(user): MaybeUser, headers: HeaderMap, Form(form): Form<Vec<(String, String)>>) -> Result<Response, ApiError> {
    answer(state, user, &headers, form.into_iter().find(|(k, _)| k == "queries").map(|(_, v)| v)).await
}

/// One reconciliation query, validated.
struct Reconcile {
    text: String,
    limit: usize,
    birth_year: Option<i64>,
    source: Option<String>,
    place: Option<String>,
}

fn parse_query(key: &str, value: &Value) -> Result<Reconcile, WebError> {
    let text = value.get("query").and_then(Value::as_str).map(str::trim).filter(|q| !q.is_empty());
    let text = text.ok_or_else(|| WebError::bad(&format!("{key}.query"), "required: the name to reconcile"))?.to_owned();
    if text.chars().count() > search::MAX_QUERY_CHARS {
        return Err(WebError::bad(&format!("{key}.query"), format!("at most {} characters", search::MAX_QUERY_CHARS)));
    }
    let limit = match value.get("limit") {
        None => 5,
        Some(l) => l.as_u64().filter(|l| (1..=search::MAX_LIMIT as u64).contains(l)).ok_or_else(|| WebError::bad(&format!("{key}.limit"), format!("expected 1 to {}", search::MAX_LIMIT)))? as usize,
    };
    let mut query = Reconcile { text, limit, birth_year: None, source: None, place: None };
    for property in value.get("properties").and_then(Value::as_array).into_iter().flatten() {
        let pid = property.get("pid").and_then(Value::as_str).unwrap_or("");
        let v = match property.get("v") {
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(WebError::bad(&format!("{key}.properties"), format!("property {pid:?} needs a string or number value"))),
        };
        match pid {
            "birth_year" => query.birth_year = Some(v.parse().map_err(|_| WebError::bad(&format!("{key}.properties.birth_year"), format!("expected a year, found {v:?}")))?),
            "source" => query.source = Some(v),
            "place" => query.place = Some(v.to_lowercase()),
            other => return Err(WebError::bad(&format!("{key}.properties"), format!("unknown property {other:?}; known: birth_year, source, place"))),
        }
    }
    Ok(query)
}

/// Scores a hit 0-100: the name fit (search already weighed the birth year), less for a place
/// that disagrees.
fn score(hit: &PersonHit, query: &Reconcile) -> f64 {
    let mut score = hit.score * 100.0;
    if let Some(place) = &query.place
        && !hit.best.place.to_lowercase().contains(place.as_str())
    {
        score -= 10.0;
    }
    score.clamp(0.0, 100.0)
}

fn entity_id(hit: &PersonHit) -> String {
    hit.person_id.clone().unwrap_or_else(|| format!("record-{}", hit.best.record_id))
}

async fn answer(state: AppState, user: Option<SessionUser>, headers: &HeaderMap, queries: Option<String>) -> Result<Response, ApiError> {
    let user = caller(&state, user).await?;
    let Some(queries) = queries else { return Ok(Json(manifest(&state, headers)).into_response()) };
    let parsed: Value = serde_json::from_str(&queries).map_err(|e| WebError::bad("queries", format!("not JSON: {e}")))?;
    let batch = parsed.as_object().ok_or_else(|| WebError::bad("queries", "expected an object of queries keyed q0, q1, ..."))?;
    if batch.len() > 100 {
        return Err(WebError::bad("queries", "at most 100 queries per batch").into());
    }
    let mut jobs = Vec::new();
    for (key, value) in batch {
        jobs.push((key.clone(), parse_query(key, value)?));
    }
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let results = state
        .db
        .read(move |conn| {
            let mut out = serde_json::Map::new();
            for (key, job) in jobs {
                let query = Query {
                    text: job.text.clone(),
                    source: job.source.clone(),
                    near_year: job.birth_year,
                    limit: search::MAX_LIMIT,
                    ..Query::default()
                };
                let hits = search::search(conn, &query, &sensitivity, sees)?.hits;
                let mut scored: Vec<(f64, &PersonHit)> = hits.iter().map(|h| (score(h, &job), h)).collect();
                scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.best.record_id.cmp(&b.1.best.record_id)));
                scored.truncate(job.limit);
                let clear = match scored.as_slice() {
                    [(first, _)] => *first >= 90.0,
                    [(first, _), (second, _), ..] => *first >= 90.0 && first - second >= 10.0,
                    [] => false,
                };
                let result: Vec<Value> = scored
                    .iter()
                    .enumerate()
                    .map(|(i, (s, h))| {
                        let born = match (h.best.born_from, h.best.born_to) {
                            (Some(a), Some(b)) if a == b => format!("born {a}; "),
                            (Some(a), Some(b)) if b < 9999 => format!("born {a}–{b}; "),
                            _ => String::new(),
                        };
                        json!({
                            "id": entity_id(h),
                            "name": h.best.name,
                            "score": (s * 10.0).round() / 10.0,
                            "match": i == 0 && clear,
                            "type": [{"id": "person", "name": "Person"}],
                            "description": format!("{born}{} record(s); {}", h.matching_records, h.best.source),
                        })
                    })
                    .collect();
                out.insert(key, json!({ "result": result }));
            }
            Ok(Value::Object(out))
        })
        .await?;
    Ok(Json(results).into_response())
}

async fn preview(State(state): State<AppState>, MaybeUser(user): MaybeUser, QueryParams(params): QueryParams<BTreeMap<String, String>>) -> Result<Response, ApiError> {
    let user = caller(&state, user).await?;
    let id = params.get("id").cloned().ok_or_else(|| WebError::bad("id", "required"))?;
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let pid = id.clone();
    let person = state.db.read(move |conn| register::person(conn, &pid, &sensitivity, sees)).await?;
    let person = person.ok_or_else(|| WebError::NotFound(format!("person {id}")))?;
    let mut body = format!("<div style=\"font-family:sans-serif;font-size:small\"><strong><a href=\"/persons/{}\" target=\"_blank\">{}</a></strong><ul>", url(&id), esc(&id));
    for r in person.records.iter().take(8) {
        let born = r.assertions.iter().find(|a| a.field == "birth_date").map(|a| format!(", born {}", esc(&a.raw))).unwrap_or_default();
        body.push_str(&format!("<li>{}{born} ({} row {})</li>", esc(&register::display_name(r)), esc(&r.source), r.row));
    }
    body.push_str("</ul></div>");
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], Html(body)).into_response())
}

async fn suggest(State(state): State<AppState>, MaybeUser(user): MaybeUser, QueryParams(params): QueryParams<BTreeMap<String, String>>) -> Result<Json<Value>, ApiError> {
    let user = caller(&state, user).await?;
    let prefix = params.get("prefix").map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).ok_or_else(|| WebError::bad("prefix", "required"))?;
    if prefix.chars().count() > search::MAX_QUERY_CHARS {
        return Err(WebError::bad("prefix", format!("at most {} characters", search::MAX_QUERY_CHARS)).into());
    }
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let hits = state.db.read(move |conn| search::suggest(conn, &prefix, &sensitivity, sees, 10)).await?;
    let result: Vec<Value> = hits.iter().map(|h| json!({"id": entity_id(h), "name": h.best.name, "description": h.best.source})).collect();
    Ok(Json(json!({ "result": result })))
}
