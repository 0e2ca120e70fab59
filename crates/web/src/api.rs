//! The JSON API (search, persons, records, sources, decisions) and its OpenAPI document. Input is
//! validated; every error is `{"error": {"code", "message", "field"?}}` with a 4xx status.

use crate::auth::{self, MaybeUser, Role, SessionUser};
use crate::review::{self, Action, NewDecision};
use crate::search::{self, Query};
use crate::{ApiError, AppState, WebError, clock, register};
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Query as QueryParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/search", get(search_api))
        .route("/api/persons/{id}", get(person_api))
        .route("/api/records/{id}", get(record_api))
        .route("/api/sources", get(sources_api))
        .route("/api/decisions", get(decisions_api).post(decide_api))
        .fallback(not_found)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError(WebError::NotFound(format!("{} (see /api/openapi.json)", uri.path()))).into_response()
    } else {
        WebError::NotFound(uri.path().to_owned()).into_response()
    }
}

/// A signed-in API client (cookie session or HTTP Basic); 401 JSON otherwise.
pub struct ApiUser(pub SessionUser);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ApiUser, ApiError> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(user)) => Ok(ApiUser(user)),
            MaybeUser(None) => Err(ApiError(WebError::NotSignedIn)),
        }
    }
}

/// A search's answer, serialised straight from the hits (no `Value` tree per request); fields in
/// alphabetical order, as the API has always written them.
#[derive(serde::Serialize)]
struct SearchReply<'a> {
    offset: usize,
    query: &'a str,
    results: Vec<SearchResult<'a>>,
}

#[derive(serde::Serialize)]
struct SearchResult<'a> {
    born_from: Option<i64>,
    born_to: Option<i64>,
    matching_records: usize,
    name: &'a str,
    person_id: Option<&'a str>,
    place: Option<&'a str>,
    record_id: i64,
    record_key: &'a str,
    score: f64,
    source: &'a str,
}

async fn search_api(State(state): State<AppState>, headers: HeaderMap, QueryParams(params): QueryParams<BTreeMap<String, String>>) -> Result<Response, ApiError> {
    // The common case, a session cookie and a query without a cohort: the session check and the
    // search in one trip to the blocking pool. A query that does not parse, or names a cohort,
    // takes the path below, so a client that is not signed in gets 401 before any 400.
    if let Some(token) = auth::cookie_in(&headers, auth::SESSION_COOKIE)
        && let Ok(query) = Query::parse(&params)
        && query.cohort.is_none()
    {
        let (token, sensitivity) = (token.to_owned(), state.sensitivity.clone());
        let found = state
            .db
            .read(move |conn| {
                let Some(user) = auth::session_user(conn, &token)? else { return Ok(None) };
                let hits = search::search(conn, &query, &sensitivity, user.sees_sensitive())?.hits;
                Ok(Some((user, query, hits)))
            })
            .await?;
        if let Some((user, query, hits)) = found {
            return Ok(search_reply(&state, &user, &query, &hits));
        }
    }
    let user = auth::user_of(&headers, &state).await?.ok_or(WebError::NotSignedIn)?;
    let query = crate::cohorts::resolve(&state, Query::parse(&params)?).await?;
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let (query, hits) = state
        .db
        .read(move |conn| {
            let hits = search::search(conn, &query, &sensitivity, sees)?.hits;
            Ok((query, hits))
        })
        .await?;
    Ok(search_reply(&state, &user, &query, &hits))
}

/// The JSON answer to a search, with the fields `user` may not see left out.
fn search_reply(state: &AppState, user: &SessionUser, query: &Query, hits: &[search::PersonHit]) -> Response {
    let sees = user.sees_sensitive();
    let hide = |source: &str, field: &str| !sees && state.sensitivity.field(source, field);
    let results: Vec<SearchResult> = hits
        .iter()
        .map(|h| {
            let hide_birth = hide(&h.best.source, "birth_date");
            SearchResult {
                born_from: if hide_birth { None } else { h.best.born_from },
                born_to: if hide_birth { None } else { h.best.born_to },
                matching_records: h.matching_records,
                name: &h.best.name,
                person_id: h.person_id.as_deref(),
                place: if hide(&h.best.source, "birth_place") { None } else { Some(&h.best.place) },
                record_id: h.best.record_id,
                record_key: &h.best.record_key,
                score: h.score,
                source: &h.best.source,
            }
        })
        .collect();
    Json(SearchReply { offset: query.offset, query: &query.text, results }).into_response()
}

async fn person_api(State(state): State<AppState>, ApiUser(user): ApiUser, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    if !valid_person_id(&id) {
        return Err(WebError::bad("id", "a person id is letters, digits, '-' or '_' (at most 64)").into());
    }
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let pid = id.clone();
    let (person, version) = state
        .db
        .read(move |conn| Ok((register::person(conn, &pid, &sensitivity, sees)?, review::version(conn, &review::person_item(&pid))?)))
        .await?;
    let person = person.ok_or_else(|| WebError::NotFound(format!("person {id}")))?;
    let mut json = serde_json::to_value(person).map_err(|e| WebError::Internal(e.to_string()))?;
    // The review version a decision on a pair of its records names in `persons`.
    json["version"] = version.into();
    Ok(Json(json))
}

async fn record_api(State(state): State<AppState>, ApiUser(user): ApiUser, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id: i64 = id.parse().map_err(|_| WebError::bad("id", format!("a record id is a whole number, found {id:?}")))?;
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let record = state.db.read(move |conn| register::record(conn, id, &sensitivity, sees)).await?;
    let record = record.ok_or_else(|| WebError::NotFound(format!("record {id}")))?;
    Ok(Json(serde_json::to_value(record).map_err(|e| WebError::Internal(e.to_string()))?))
}

async fn sources_api(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Value>, ApiError> {
    let (sensitivity, sees) = (state.sensitivity.clone(), user.sees_sensitive());
    let sources = state.db.read(move |conn| register::sources(conn, &sensitivity, sees)).await?;
    Ok(Json(json!({ "sources": sources })))
}

async fn decisions_api(State(state): State<AppState>, ApiUser(user): ApiUser, QueryParams(params): QueryParams<BTreeMap<String, String>>) -> Result<Json<Value>, ApiError> {
    user.require(Role::Reviewer)?;
    let item = params.get("item").cloned();
    let limit: i64 = match params.get("limit") {
        None => 100,
        Some(l) => l.parse().ok().filter(|l| (1..=10_000).contains(l)).ok_or_else(|| WebError::bad("limit", "expected a number from 1 to 10000"))?,
    };
    // Under blind double review a reviewer sees what their review form shows: their own votes
    // (and merges or splits), never another reviewer's vote, decision or note.
    let blind_for = (review::Sight::of(state.config.double_review, user.role >= Role::Admin) == review::Sight::Blind).then(|| user.name.clone());
    let reply = state
        .db
        .read(move |conn| {
            let rows = review::decisions(conn, item.as_deref(), &[], limit, blind_for.as_deref())?;
            Ok(match &blind_for {
                Some(me) => json!({ "decisions": rows, "votes": review::votes_of(conn, me, item.as_deref(), limit)?, "blind": true }),
                None => json!({ "decisions": rows }),
            })
        })
        .await?;
    Ok(Json(reply))
}

fn string_field<'a>(body: &'a Value, name: &str, max: usize) -> Result<&'a str, WebError> {
    let value = body.get(name).ok_or_else(|| WebError::bad(name, "required"))?;
    let text = value.as_str().ok_or_else(|| WebError::bad(name, "expected a string"))?.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(WebError::bad(name, format!("expected 1 to {max} characters")));
    }
    Ok(text)
}

/// The optional `persons` of a decision: `{"PERSON_ID": version}`, the review version of each
/// person the client saw the pair's two records in (from `/api/persons/{id}`).
fn seen_persons(body: &Value) -> Result<Option<BTreeMap<String, i64>>, WebError> {
    let Some(persons) = body.get("persons") else { return Ok(None) };
    let persons = persons.as_object().ok_or_else(|| WebError::bad("persons", "expected an object of person id to the version you saw"))?;
    let mut seen = BTreeMap::new();
    for (person, version) in persons {
        if !valid_person_id(person) {
            return Err(WebError::bad("persons", format!("{person:?} is not a person id")));
        }
        let version = version.as_i64().filter(|v| *v >= 0).ok_or_else(|| WebError::bad("persons", format!("{person}: expected a whole number >= 0")))?;
        seen.insert(person.clone(), version);
    }
    Ok(Some(seen))
}

fn valid_person_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// POST /api/decisions: `{"left", "right", "action": "accept"|"reject", "why", "version",
/// "persons"?}`; with `persons`, a decision on a pair whose persons changed since (a record in a
/// person not named, a named person holding neither record, or at another version) is a conflict.
/// Under blind double review (`serve --double-review`) a reviewer's call is a vote, exactly as
/// through the review page's form (`review::vote`, held to the same rule): 202 while it waits for
/// a second reviewer, 201 when it agrees with the first and so makes the decision. An admin's is
/// a decision, as through the form.
async fn decide_api(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    user.check_csrf(headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or(""))?;
    user.require(Role::Reviewer)?;
    let Json(body) = body.map_err(|e| WebError::bad("body", e.body_text()))?;
    if !body.is_object() {
        return Err(WebError::bad("body", "expected a JSON object").into());
    }
    let action = Action::parse(string_field(&body, "action", 16)?)?;
    if !matches!(action, Action::Accept | Action::Reject) {
        return Err(WebError::bad("action", "the API decides on pairs: accept or reject").into());
    }
    let (item, l, r) = review::pair_item(string_field(&body, "left", 500)?, string_field(&body, "right", 500)?);
    if l == r {
        return Err(WebError::bad("right", "a pair needs two different records").into());
    }
    let why = string_field(&body, "why", 2000)?.to_owned();
    let version = body.get("version").ok_or_else(|| WebError::bad("version", "required: the item's version you decided on (0 for a new item)"))?;
    let version = version.as_i64().filter(|v| *v >= 0).ok_or_else(|| WebError::bad("version", "expected a whole number >= 0"))?;
    let persons = seen_persons(&body)?;
    // As the form: admins settle disagreements with a plain decision.
    let double = state.config.double_review && user.role < Role::Admin;
    let who = user.name.clone();
    let (item, version, decided) = state
        .db
        .write(move |conn| {
            for key in [&l, &r] {
                if register::record_id_of(conn, key)?.is_none() {
                    return Err(WebError::bad(if key == &l { "left" } else { "right" }, format!("no current record {key:?}")));
                }
            }
            let at = clock::now();
            // `persons` is held to the same rule as a pair page's form (`review::decide`, `review::vote`).
            let decided = if double {
                let vote = review::NewVote { item: &item, version, left: &l, right: &r, persons_seen: persons.as_ref(), action, who: &who, why: &why, at: &at };
                review::vote(conn, &vote)?
            } else {
                let constraints = vec![(l, r, action == Action::Accept)];
                review::decide(conn, &NewDecision { item: item.clone(), version, action, constraints, persons_seen: persons, who, why, at, sight: review::Sight::Sighted })?;
                true
            };
            let version = review::version(conn, &item)?;
            Ok((item, version, decided))
        })
        .await?;
    if !double {
        return Ok((StatusCode::CREATED, Json(json!({ "item": item, "version": version }))).into_response());
    }
    // A vote stays blind: the answer says whether it made the decision, never how others voted.
    let status = if decided { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok((status, Json(json!({ "item": item, "version": version, "vote": action.as_str(), "decided": decided }))).into_response())
}

async fn openapi() -> Json<Value> {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let errors = |codes: &[&str]| -> Value {
        codes.iter().map(|c| ((*c).to_owned(), json!({"description": "error", "content": {"application/json": {"schema": error}}}))).collect::<serde_json::Map<_, _>>().into()
    };
    let ok = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}});
    let mut search_responses = errors(&["400", "401"]);
    search_responses["200"] = ok("persons found, best first");
    let mut person_responses = errors(&["400", "401", "404"]);
    person_responses["200"] = ok("the person's records with assertions, and its review version (name it in a decision's persons)");
    let mut record_responses = person_responses.clone();
    record_responses["200"] = ok("the record: locator, raw cells, assertions");
    let mut list_responses = errors(&["401", "403"]);
    list_responses["200"] = ok("a list");
    let mut decide_responses = errors(&["400", "401", "403", "409", "503"]);
    decide_responses["409"]["description"] = "stale or decided: nothing was stored. The message names the latest decision on the item (who chose what, when), \
                                              except to a reviewer under blind double review, who is told only that the pair is decided or that an item changed".into();
    decide_responses["201"] = ok("decided: the item and its new version (under double review, with vote and decided: true, when this vote agreed with another reviewer's)");
    decide_responses["202"] = ok("under blind double review (a reviewer, not an admin): the vote is stored and waits for a second reviewer's \
                                  (item, version, vote, decided: false); a second vote that disagrees leaves the pair to an admin");
    let query = |name: &str, kind: &str, description: &str| json!({"name": name, "in": "query", "schema": {"type": kind}, "description": description});
    Json(json!({
        "openapi": "3.0.3",
        "info": {"title": "kartoteka", "version": env!("CARGO_PKG_VERSION"),
                 "description": "A register of persons reconstructed from many lists. Sign in with a session cookie or HTTP Basic."},
        "components": {
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}, "cookie": {"type": "apiKey", "in": "cookie", "name": "kartoteka_session"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"},
                               "item": {"type": "string", "description": "a conflict's stale item: the pair, or person:ID"}}}}}}
        },
        "security": [{"basic": []}, {"cookie": []}],
        "paths": {
            "/api/search": {"get": {"summary": "Search persons by name in any script", "parameters": [
                query("q", "string", "a name: Ежов, Yezhov, Jeschow, \"ezhov n i\" (required, at most 200 characters)"),
                query("source", "string", "only records of this source"),
                query("born_from", "integer", "born in or after this year"),
                query("born_to", "integer", "born in or before this year"),
                query("place", "string", "birth place or residence contains this text"),
                query("event", "string", "has an event of this kind (arrest, sentence, execution, ...)"),
                query("event_from", "integer", "has an event (of that kind, or any) whose date can be in or after this year"),
                query("event_to", "integer", "has an event (of that kind, or any) whose date can be in or before this year"),
                query("sentence", "string", "a sentence contains this text, normalised (death) or as written (ВМН)"),
                query("cohort", "string", "persons in this cohort of the manifest, as the last build computed it"),
                query("limit", "integer", "1 to 50, default 20"),
                query("offset", "integer", "persons of the ranking to skip; offset + limit is at most 50 (narrow the search to see others)")], "responses": search_responses}},
            "/api/persons/{id}": {"get": {"summary": "A person", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}], "responses": person_responses}},
            "/api/records/{id}": {"get": {"summary": "A record", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}], "responses": record_responses}},
            "/api/sources": {"get": {"summary": "Sources with files and record counts", "responses": list_responses.clone()}},
            "/api/decisions": {
                "get": {"summary": "Reviewers' decisions, newest first (reviewer role)",
                        "description": "Under blind double review (serve --double-review) a reviewer (not an admin) sees what the review page shows them: \
                                        only their own decisions (merges, splits; not one that two votes made), with blind: true and votes, their own votes \
                                        (item, action, record_key_l, record_key_r, voted_at, why); an undo of their decision by someone else is by 'someone else', \
                                        without its note. These are the only decisions they can undo (POST /review/undo): any other id, existing or not, is the same 404. \
                                        Admins, and everyone without double review, see every decision.",
                        "parameters": [query("item", "string", "only this item"), query("limit", "integer", "1 to 10000")], "responses": list_responses},
                "post": {"summary": "Decide on a pair (reviewer role; cookie sessions send X-CSRF-Token); under blind double review a reviewer votes, as on the review page",
                         "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["left", "right", "action", "why", "version"],
                            "properties": {"left": {"type": "string"}, "right": {"type": "string"}, "action": {"type": "string", "enum": ["accept", "reject"]},
                                           "why": {"type": "string"}, "version": {"type": "integer", "minimum": 0},
                                           "persons": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                                                       "description": "the version (from /api/persons/{id}) of each person the two records were in when you looked; \
                                                                       with it, the decision is a 409 naming the person that changed (error.item, error.field 'persons') when either record \
                                                                       is now in a person not named (a re-link moved it), a named person holds neither record, or a named person's version \
                                                                       changed (a merge, split or other decision since): the same rule as the review page's form"}}}}}},
                         "responses": decide_responses}
            },
            "/reconcile": {"get": {"summary": "W3C Reconciliation Service API: manifest, or queries with ?queries=", "responses": {"200": ok("manifest or results")}}}
        }
    }))
}
