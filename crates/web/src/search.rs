//! Search that knows names: every current record is indexed under the `names` keys of its
//! surname, so Ежов, Yezhov, Jeschow and "ezhov n i" all land on the same index entries. The
//! index (`search_names`) is ordered by surname key, given-name key, patronymic initial and birth
//! year, so the best candidates of a query are the first rows of a few range scans: a search
//! reads a window of at most [`WINDOW`] persons, ranks them with the `names` crate's similarity,
//! and pages are slices of that window. The index lives in the register and is rebuilt whenever
//! the current records change (at startup, and within seconds of a `kartoteka build` beside a
//! serving app: `crate::refresh_index`); it holds each record's person, copied again
//! whenever a linkage run changed the persons (until then, searches look persons up).

use crate::WebError;
use crate::sensitivity::Sensitivity;
use names::{Part, PreparedName};
use rusqlite::{Connection, params, params_from_iter};
use rusqlite::types::Value as SqlValue;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// What the current records look like, cheaply: the index is stale when this changes.
fn fingerprint(conn: &Connection) -> Result<String, WebError> {
    Ok(conn.query_row(
        "SELECT count(*) || ':' || coalesce(max(r.record_id), 0) || ':' || coalesce(sum(r.record_id), 0)
         FROM records r JOIN current_files USING (file_id)",
        [],
        |r| r.get(0),
    )?)
}

/// The name-related facts of one record, as the index needs them.
#[derive(Default)]
struct Indexed {
    record_key: String,
    source_id: String,
    person_id: Option<String>,
    surname: Option<String>,
    given: Option<String>,
    patronymic: Option<String>,
    name: Option<String>,
    birth: Option<(i64, i64)>,
    places: Vec<String>,
    sentences: Vec<String>,
    events: BTreeSet<String>,
}

fn year_of(date: &str) -> Option<i64> {
    date.get(..4)?.parse().ok()
}

/// A name's key, or of its first letter when it is an initial.
fn part_key(text: Option<&str>) -> String {
    text.map(names::key).unwrap_or_default()
}

/// The first letter of a key (keys are ASCII), or "" for none.
fn initial_of(key: &str) -> &str {
    key.get(..1).unwrap_or("")
}

/// One row of `search_names`, kept in memory so the table is written in key order.
struct NameRow {
    surname_key: String,
    given_key: String,
    patronymic_initial: String,
    birth_year: i64,
    record_id: i64,
    birth_to: i64,
    patronymic_key: String,
    source_id: String,
    record_key: String,
    display: String,
    person_id: Option<String>,
    place: String,
}

impl Indexed {
    /// Writes the record's `search_records` row and returns its `search_names` rows.
    fn write(self, record_id: i64, insert_record: &mut rusqlite::Statement) -> Result<Vec<NameRow>, WebError> {
        let parsed = match (&self.surname, &self.name) {
            (None, Some(whole)) => Some(names::parse(whole)),
            _ => None,
        };
        let surname = self.surname.clone().or_else(|| parsed.as_ref().and_then(|p| p.surname.clone()));
        let given = self.given.clone().or_else(|| parsed.as_ref().and_then(|p| p.given.clone().or_else(|| p.initials.first().cloned())));
        let patronymic =
            self.patronymic.clone().or_else(|| parsed.as_ref().and_then(|p| p.patronymic.clone().or_else(|| p.initials.get(1).cloned())));
        let display = match (&self.surname, &self.name) {
            (Some(_), _) | (None, None) => {
                [&surname, &self.given, &self.patronymic].iter().filter_map(|p| p.as_deref()).collect::<Vec<_>>().join(" ")
            }
            (None, Some(whole)) => whole.clone(),
        };
        let events: String = self.events.iter().map(|e| format!(" {e}")).collect::<String>() + " ";
        let (given_key, patronymic_key) = (part_key(given.as_deref()), part_key(patronymic.as_deref()));
        // As written for the page, lower-cased in `search_records` for the place filter.
        let place = self.places.join(" | ");
        insert_record.execute(params![
            record_id,
            self.record_key,
            self.source_id,
            display,
            given_key,
            patronymic_key,
            self.birth.map(|b| b.0),
            self.birth.map(|b| b.1),
            place.to_lowercase(),
            events,
            self.sentences.join(" | ").to_lowercase(),
        ])?;
        let Some(surname) = surname else { return Ok(Vec::new()) };
        let (birth_year, birth_to) = self.birth.unwrap_or((UNKNOWN_YEAR, UNKNOWN_YEAR));
        let mut keys = names::keys(&surname);
        keys.retain(|k| !k.is_empty());
        keys.dedup();
        Ok(keys
            .into_iter()
            .map(|surname_key| NameRow {
                surname_key,
                given_key: given_key.clone(),
                patronymic_initial: initial_of(&patronymic_key).to_owned(),
                birth_year,
                record_id,
                birth_to,
                patronymic_key: patronymic_key.clone(),
                source_id: self.source_id.clone(),
                record_key: self.record_key.clone(),
                display: display.clone(),
                person_id: self.person_id.clone(),
                place: place.clone(),
            })
            .collect())
    }
}

/// `search_names.birth_year` and `birth_to` of a record without a birth date: no year range
/// filter (years are 1 to 9999) lets it through.
const UNKNOWN_YEAR: i64 = 0;

/// The latest linkage run, whose persons `person_records` holds (`None` before any run).
fn latest_run(conn: &Connection) -> Result<Option<i64>, WebError> {
    Ok(conn.prepare_cached("SELECT max(run_id) FROM link_runs")?.query_row([], |r| r.get(0))?)
}

/// Whether the index holds the persons of the latest linkage run, so searches can read persons
/// from it instead of looking each candidate up in `person_records`.
fn persons_current(conn: &Connection) -> Result<bool, WebError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM search_state WHERE id = 1 AND persons_run IS (SELECT max(run_id) FROM link_runs))")?
        .query_row([], |r| r.get(0))?)
}

/// Copies the latest run's persons into the index, writing only the rows whose person changed
/// (a re-link moves few records).
fn refresh_persons(tx: &rusqlite::Transaction) -> Result<(), WebError> {
    tx.execute_batch(
        "UPDATE search_names AS n SET person_id = p.person_id FROM person_records p
         WHERE p.record_key = n.record_key AND n.person_id IS NOT p.person_id;
         UPDATE search_names SET person_id = NULL
         WHERE person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM person_records p WHERE p.record_key = search_names.record_key);",
    )?;
    Ok(())
}

/// What `ensure_index` had to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexUpdate {
    /// The index was up to date.
    None,
    /// A linkage run changed the persons: they were copied into the index.
    Persons,
    /// The current records changed: the index was rebuilt.
    Rebuilt,
}

/// Rebuilds the index when the current records changed since it was built, or copies the persons
/// of the latest linkage run into it when only they changed; says which it did.
pub fn ensure_index(conn: &mut Connection) -> Result<IndexUpdate, WebError> {
    let now = fingerprint(conn)?;
    let run = latest_run(conn)?;
    let built: Option<String> =
        rusqlite::OptionalExtension::optional(conn.query_row("SELECT fingerprint FROM search_state WHERE id = 1", [], |r| r.get(0)))?;
    if built.as_deref() == Some(now.as_str()) {
        if persons_current(conn)? {
            return Ok(IndexUpdate::None);
        }
        let tx = conn.transaction()?;
        refresh_persons(&tx)?;
        tx.execute("UPDATE search_state SET persons_run = ?1 WHERE id = 1", [run])?;
        tx.commit()?;
        return Ok(IndexUpdate::Persons);
    }
    let tx = conn.transaction()?;
    tx.execute_batch("DELETE FROM search_names; DELETE FROM search_records;")?;
    let mut name_rows = Vec::new();
    {
        let mut insert_record = tx.prepare(
            "INSERT INTO search_records (record_id, record_key, source_id, display, given_key, patronymic_key, birth_from, birth_to, place, events, sentence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        let mut select = tx.prepare(
            "SELECT r.record_id, r.record_key, f.source_id, a.field, a.value_text, a.raw, a.date_earliest, a.date_latest, a.event_kind,
                    (SELECT p.person_id FROM person_records p WHERE p.record_key = r.record_key)
             FROM records r JOIN current_files f USING (file_id) LEFT JOIN assertions a ON a.record_id = r.record_id
             ORDER BY r.record_id, a.ordinal",
        )?;
        let mut rows = select.query([])?;
        let mut current: Option<(i64, Indexed)> = None;
        while let Some(row) = rows.next()? {
            let record_id: i64 = row.get(0)?;
            if current.as_ref().is_none_or(|(id, _)| *id != record_id) {
                if let Some((id, done)) = current.take() {
                    name_rows.extend(done.write(id, &mut insert_record)?);
                }
                current = Some((record_id, Indexed { record_key: row.get(1)?, source_id: row.get(2)?, person_id: row.get(9)?, ..Indexed::default() }));
            }
            let Some((_, record)) = current.as_mut() else { continue };
            let Some(field) = row.get::<_, Option<String>>(3)? else { continue };
            let text: Option<String> = row.get::<_, Option<String>>(4)?.or(row.get(5)?);
            match field.as_str() {
                "surname" => record.surname = text,
                "given_name" => record.given = text,
                "patronymic" => record.patronymic = text,
                "name" => record.name = text,
                "birth_date" => {
                    let from = row.get::<_, Option<String>>(6)?.as_deref().and_then(year_of);
                    let to = row.get::<_, Option<String>>(7)?.as_deref().and_then(year_of);
                    if let (Some(from), Some(to)) = (from, to) {
                        record.birth = Some((from, to));
                    }
                }
                "birth_place" | "residence" => record.places.extend(text),
                // The normalised sentence (`death`) and the source's words (`ВМН`).
                "sentence.detail" => record.sentences.extend(text.into_iter().chain(row.get::<_, Option<String>>(5)?)),
                _ => {}
            }
            if let Some(kind) = row.get::<_, Option<String>>(8)? {
                record.events.insert(kind);
            }
        }
        if let Some((id, done)) = current.take() {
            name_rows.extend(done.write(id, &mut insert_record)?);
        }
    }
    // In key order, the B-tree is appended to rather than split all over.
    name_rows.sort_unstable_by(|a, b| {
        (&a.surname_key, &a.given_key, &a.patronymic_initial, a.birth_year, a.record_id).cmp(&(&b.surname_key, &b.given_key, &b.patronymic_initial, b.birth_year, b.record_id))
    });
    {
        let mut insert_name = tx.prepare(
            "INSERT OR IGNORE INTO search_names (surname_key, given_key, patronymic_initial, birth_year, record_id, birth_to, patronymic_key, source_id, record_key, display, person_id, place)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for n in &name_rows {
            insert_name.execute(params![
                n.surname_key,
                n.given_key,
                n.patronymic_initial,
                n.birth_year,
                n.record_id,
                n.birth_to,
                n.patronymic_key,
                n.source_id,
                n.record_key,
                n.display,
                n.person_id,
                n.place
            ])?;
        }
    }
    tx.execute("INSERT OR REPLACE INTO search_state (id, fingerprint, persons_run) VALUES (1, ?1, ?2)", params![now, run])?;
    tx.commit()?;
    Ok(IndexUpdate::Rebuilt)
}

/// A validated search.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub text: String,
    pub source: Option<String>,
    pub born_from: Option<i64>,
    pub born_to: Option<i64>,
    pub place: Option<String>,
    pub event: Option<String>,
    /// An event (of kind `event`, or any) whose date can fall in these years.
    pub event_from: Option<i64>,
    pub event_to: Option<i64>,
    /// Text the record's sentence contains (normalised or as written), lower-cased.
    pub sentence: Option<String>,
    /// A cohort of the manifest; `persons_in` holds its persons once the caller has read them.
    pub cohort: Option<String>,
    pub persons_in: Option<Arc<BTreeSet<String>>>,
    /// A soft preference (reconciliation): records born away from this year rank lower.
    pub near_year: Option<i64>,
    /// Surnames whose key starts with the query's (suggest, as the user types), not only equal.
    pub surname_prefix: bool,
    /// How many persons of the ranked window to skip (a page's start).
    pub offset: usize,
    pub limit: usize,
}

pub const MAX_LIMIT: usize = WINDOW;

/// The longest name a search takes: each word of the query may be looked up as a surname, so a
/// longer text would cost a range scan per word.
pub const MAX_QUERY_CHARS: usize = 200;

/// The most persons a search reads and ranks; pages are slices of them, so `offset + limit`
/// stays within it (narrow the search with filters to see others).
pub const WINDOW: usize = 50;

/// A filtered search stops after reading this many index rows, so a rare filter on a common
/// surname cannot make one request read the whole surname.
const MAX_ROWS_READ: usize = 20_000;

impl Query {
    /// Validates raw parameters (from a form or the API): the error names the parameter.
    pub fn parse(params: &BTreeMap<String, String>) -> Result<Query, WebError> {
        let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let text = get("q").ok_or_else(|| WebError::bad("q", "a name to search for is required"))?.to_owned();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(WebError::bad("q", format!("at most {MAX_QUERY_CHARS} characters")));
        }
        let year = |k: &str| -> Result<Option<i64>, WebError> {
            get(k)
                .map(|v| v.parse::<i64>().ok().filter(|y| (1..=9999).contains(y)).ok_or_else(|| WebError::bad(k, format!("expected a year (1 to 9999), found {v:?}"))))
                .transpose()
        };
        let (born_from, born_to) = (year("born_from")?, year("born_to")?);
        let (event_from, event_to) = (year("event_from")?, year("event_to")?);
        for (from, to, name) in [(born_from, born_to, "born"), (event_from, event_to, "event")] {
            if let (Some(from), Some(to)) = (from, to)
                && from > to
            {
                return Err(WebError::bad(&format!("{name}_to"), format!("{to} is before {name}_from {from}")));
            }
        }
        let limit = match get("limit") {
            None => 20,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| WebError::bad("limit", format!("expected a number from 1 to {MAX_LIMIT}, found {v:?}")))?,
        };
        let offset = match get("offset") {
            None => 0,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|o| o + limit <= WINDOW)
                .ok_or_else(|| WebError::bad("offset", format!("expected a number from 0 to {}, found {v:?}; narrow the search with filters to see further", WINDOW - limit)))?,
        };
        let event = get("event").map(str::to_owned);
        if let Some(e) = &event
            && !model::EventKind::ALL.iter().any(|k| k.as_str() == e)
        {
            let known: Vec<&str> = model::EventKind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(WebError::bad("event", format!("unknown event {e:?}; expected one of {}", known.join(", "))));
        }
        let cohort = get("cohort").map(str::to_owned);
        if let Some(name) = &cohort
            && (name.chars().count() > 100 || name.chars().any(char::is_control))
        {
            return Err(WebError::bad("cohort", "a cohort name from the manifest (at most 100 characters)"));
        }
        Ok(Query {
            text,
            source: get("source").map(str::to_owned),
            born_from,
            born_to,
            place: get("place").map(str::to_lowercase),
            event,
            event_from,
            event_to,
            sentence: get("sentence").map(str::to_lowercase),
            cohort,
            persons_in: None,
            near_year: None,
            surname_prefix: false,
            offset,
            limit,
        })
    }
}

/// One matching record.
#[derive(Clone, Debug, Serialize)]
pub struct RecordHit {
    pub record_id: i64,
    pub record_key: String,
    pub source: String,
    pub name: String,
    pub born_from: Option<i64>,
    pub born_to: Option<i64>,
    pub place: String,
}

/// One person found, with its best-matching record.
#[derive(Clone, Debug, Serialize)]
pub struct PersonHit {
    /// `None` for a record that no linkage run has assigned yet.
    pub person_id: Option<String>,
    /// In [0, 1]: how well the name, given name and patronymic fit the query.
    pub score: f64,
    /// The person's records among those the search read.
    pub matching_records: usize,
    pub best: RecordHit,
}

/// A page of results and what it cost.
#[derive(Clone, Debug)]
pub struct Found {
    pub hits: Vec<PersonHit>,
    /// Index rows the search read (the window and what filters skipped).
    pub rows_read: usize,
}

/// The query's name split into the surname candidates to look up and the rest to rank by.
struct NameQuery {
    surnames: Vec<String>,
    given: Option<String>,
    patronymic: Option<String>,
}

fn name_query(text: &str) -> NameQuery {
    let parsed = names::parse(text);
    let mut surnames: Vec<String> = parsed.surname.iter().cloned().collect();
    // The parser may take a surname-like word for a given name: try every full word too.
    for word in text.split(|c: char| !c.is_alphabetic() && c != '-' && c != '\'').filter(|w| w.chars().count() > 1) {
        if !surnames.iter().any(|s| s == word) {
            surnames.push(word.to_owned());
        }
    }
    NameQuery {
        surnames,
        given: parsed.given.or_else(|| parsed.initials.first().cloned()),
        patronymic: parsed.patronymic.or_else(|| parsed.initials.get(1).cloned()),
    }
}

/// One part of the query (given name or patronymic), keyed once per search.
struct QueryPart {
    key: String,
    initial_only: bool,
}

impl QueryPart {
    fn new(text: Option<&str>) -> Option<QueryPart> {
        let text = text?;
        let key = names::key(text);
        (!key.is_empty()).then(|| QueryPart { key, initial_only: text.trim_end_matches('.').chars().count() == 1 })
    }

    /// How well an indexed part key fits: full agreement, initials, disagreement.
    fn fit(&self, indexed: &str) -> f64 {
        if indexed.is_empty() {
            0.0
        } else if !self.initial_only && self.key == indexed {
            1.0
        } else if self.key.get(..1) == indexed.get(..1) {
            if self.initial_only { 1.0 } else { 0.4 }
        } else {
            -1.0
        }
    }

    /// The key range of keys that start with this part's initial: `[initial, next letter)`.
    fn initial_range(&self) -> (String, String) {
        let first = self.key.as_bytes()[0];
        ((first as char).to_string(), ((first + 1) as char).to_string())
    }
}

/// A slice of the index that one range scan reads: an SQL condition on `search_names` with its
/// arguments, and the best fit any of its rows can have.
#[derive(Clone)]
struct Slice {
    condition: String,
    args: Vec<SqlValue>,
    best_fit: f64,
}

impl Slice {
    fn new(condition: &str, args: Vec<SqlValue>, best_fit: f64) -> Slice {
        Slice { condition: condition.to_owned(), args, best_fit }
    }

    /// The slices of one name part's column, best first: agreeing keys, then initials, then
    /// records without that part, then disagreeing ones.
    fn of_given(part: Option<&QueryPart>) -> Vec<Slice> {
        let Some(part) = part else { return vec![Slice::new("", Vec::new(), 0.0)] };
        let (from, to) = part.initial_range();
        let mut slices = Vec::new();
        if part.initial_only {
            slices.push(Slice::new("n.given_key >= ? AND n.given_key < ?", vec![from.clone().into(), to.clone().into()], 1.0));
        } else {
            slices.push(Slice::new("n.given_key = ?", vec![part.key.clone().into()], 1.0));
            slices.push(Slice::new("n.given_key >= ? AND n.given_key < ? AND n.given_key <> ?", vec![from.clone().into(), to.clone().into(), part.key.clone().into()], 0.4));
        }
        slices.push(Slice::new("n.given_key = ''", Vec::new(), 0.0));
        slices.push(Slice::new("n.given_key <> '' AND (n.given_key < ? OR n.given_key >= ?)", vec![from.into(), to.into()], -1.0));
        slices
    }

    fn of_patronymic(part: Option<&QueryPart>) -> Vec<Slice> {
        let Some(part) = part else { return vec![Slice::new("", Vec::new(), 0.0)] };
        let initial: SqlValue = initial_of(&part.key).to_owned().into();
        vec![
            Slice::new("n.patronymic_initial = ?", vec![initial.clone()], 1.0),
            Slice::new("n.patronymic_initial = ''", Vec::new(), 0.0),
            Slice::new("n.patronymic_initial NOT IN ('', ?)", vec![initial], -1.0),
        ]
    }

    /// Born in the year itself first (no penalty), then everyone else.
    fn of_year(year: Option<i64>) -> Vec<Slice> {
        match year {
            None => vec![Slice::new("", Vec::new(), 0.0)],
            Some(y) => vec![
                Slice::new("n.birth_year <= ? AND n.birth_to >= ?", vec![y.into(), y.into()], 0.0),
                Slice::new("NOT (n.birth_year <= ? AND n.birth_to >= ?)", vec![y.into(), y.into()], -YEAR_PENALTY),
            ],
        }
    }

    fn and(mut self, other: &Slice) -> Slice {
        if !other.condition.is_empty() {
            if !self.condition.is_empty() {
                self.condition.push_str(" AND ");
            }
            self.condition.push_str(&other.condition);
        }
        self.args.extend(other.args.iter().cloned());
        self
    }
}

/// The score lost per year of distance from a reconciliation query's birth year (at most 4).
const YEAR_PENALTY: f64 = 0.15;

/// The filters of a query as one SQL condition on `search_names n` (and `search_records s`
/// when it filters by place or event), with its arguments.
fn filters(query: &Query, sensitivity: &Sensitivity, sees_sensitive: bool) -> (String, Vec<SqlValue>, bool) {
    let (mut sql, mut args) = (String::new(), Vec::<SqlValue>::new());
    if let Some(source) = &query.source {
        sql.push_str(" AND n.source_id = ?");
        args.push(source.clone().into());
    }
    if let Some(from) = query.born_from {
        sql.push_str(" AND n.birth_to >= ?");
        args.push(from.into());
    }
    if let Some(to) = query.born_to {
        sql.push_str(" AND n.birth_year <= ? AND n.birth_year <> 0");
        args.push(to.into());
    }
    if !sees_sensitive {
        // A viewer's filter on a field a source hides must not match that source's records:
        // which records match would tell the hidden value.
        let is_event = |field: &str, kind: Option<&str>| {
            field.split_once('.').is_some_and(|(k, _)| kind.map_or_else(|| model::EventKind::ALL.iter().any(|e| e.as_str() == k), |kind| k == kind))
        };
        let dated = query.born_from.is_some() || query.born_to.is_some();
        let evented = query.event.is_some() || query.event_from.is_some() || query.event_to.is_some();
        let hidden = |field: &str| {
            (dated && field == "birth_date")
                || (query.place.is_some() && (field == "birth_place" || field == "residence"))
                || (evented && is_event(field, query.event.as_deref()))
                || (query.sentence.is_some() && is_event(field, Some("sentence")))
        };
        let mut hiding: BTreeSet<&str> = sensitivity.sources().collect();
        hiding.extend(sensitivity.sources_hiding(hidden));
        for source in hiding {
            sql.push_str(" AND n.source_id <> ?");
            args.push(source.to_owned().into());
        }
    }
    let mut joins_records = false;
    if let Some(place) = &query.place {
        sql.push_str(" AND instr(s.place, ?) > 0");
        args.push(place.clone().into());
        joins_records = true;
    }
    if let Some(event) = &query.event {
        sql.push_str(" AND instr(s.events, ?) > 0");
        args.push(format!(" {event} ").into());
        joins_records = true;
    }
    if query.event_from.is_some() || query.event_to.is_some() {
        // The register's date columns are ISO days, so text order is date order.
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM assertions a WHERE a.record_id = n.record_id AND a.event_kind = coalesce(?, a.event_kind)
              AND a.date_latest >= ? AND a.date_earliest <= ?)",
        );
        args.push(query.event.clone().into());
        args.push(format!("{:04}-01-01", query.event_from.unwrap_or(1)).into());
        args.push(format!("{:04}-12-31", query.event_to.unwrap_or(9999)).into());
    }
    if let Some(sentence) = &query.sentence {
        sql.push_str(" AND instr(s.sentence, ?) > 0");
        args.push(sentence.clone().into());
        joins_records = true;
    }
    (sql, args, joins_records)
}

/// A record read from the index, before ranking.
struct Candidate {
    score: f64,
    record_id: i64,
    record_key: String,
    source: String,
    display: String,
    born: (i64, i64),
    person: Option<String>,
    place: String,
}

/// Runs a search. Sources marked sensitive are left out unless `sees_sensitive`.
pub fn search(conn: &Connection, query: &Query, sensitivity: &Sensitivity, sees_sensitive: bool) -> Result<Found, WebError> {
    let names = name_query(&query.text);
    let (given, patronymic) = (QueryPart::new(names.given.as_deref()), QueryPart::new(names.patronymic.as_deref()));
    let max = 1.0 + f64::from(u8::from(given.is_some())) + 0.7 * f64::from(u8::from(patronymic.is_some()));
    // Every combination of the parts' slices, best first: reading them in this order reads the
    // best candidates first, and the window fills after a few range scans.
    let mut slices: Vec<Slice> = Vec::new();
    for g in Slice::of_given(given.as_ref()) {
        for p in Slice::of_patronymic(patronymic.as_ref()) {
            for y in Slice::of_year(query.near_year) {
                let best_fit = g.best_fit + 0.7 * p.best_fit;
                let mut slice = g.clone().and(&p).and(&y);
                slice.best_fit = best_fit / max + y.best_fit;
                slices.push(slice);
            }
        }
    }
    slices.sort_by(|a, b| b.best_fit.total_cmp(&a.best_fit));
    let (filter_sql, filter_args, joins_records) = filters(query, sensitivity, sees_sensitive);
    let join = if joins_records { "JOIN search_records s ON s.record_id = n.record_id" } else { "" };
    // Right after a linkage run, until the index has its persons, they are looked up.
    let (person, join_persons) = if persons_current(conn)? {
        ("n.person_id", "")
    } else {
        ("p.person_id", "LEFT JOIN person_records p ON p.record_key = n.record_key")
    };
    // Keys are ASCII: every key that starts with `k` sorts in [k, k + DEL).
    let surname_condition = if query.surname_prefix { "n.surname_key >= ? AND n.surname_key < ?" } else { "n.surname_key = ?" };
    // One statement per slice, written once per search and prepared once per connection.
    let statements: Vec<String> = slices
        .iter()
        .map(|slice| {
            let condition = if slice.condition.is_empty() { String::new() } else { format!(" AND {}", slice.condition) };
            format!(
                "SELECT n.record_id, n.record_key, n.source_id, n.display, n.given_key, n.patronymic_key, n.birth_year, n.birth_to, {person}, n.place
                 FROM search_names n {join} {join_persons}
                 WHERE {surname_condition}{condition}{filter_sql}
                 ORDER BY n.given_key, n.patronymic_initial, n.birth_year, n.record_id"
            )
        })
        .collect();
    let mut candidates: Vec<Candidate> = Vec::new();
    let (mut seen_records, mut persons) = (HashSet::new(), HashSet::new());
    let mut rows_read = 0usize;
    // The first surname candidate (the parser's) wins; other words only when it finds nothing.
    'surnames: for (rank, surname) in names.surnames.iter().enumerate() {
        let mut keys = names::keys(surname);
        keys.retain(|k| !k.is_empty());
        keys.dedup();
        // A surname found only as a later word of the query ranks a little lower.
        let surname_fit = if rank == 0 { 1.0 } else { 0.9 };
        for (slice, sql) in slices.iter().zip(&statements) {
            for key in &keys {
                let prefix_end = query.surname_prefix.then(|| SqlValue::from(format!("{key}\u{7f}")));
                let args = std::iter::once(SqlValue::from(key.clone())).chain(prefix_end).chain(slice.args.iter().cloned()).chain(filter_args.iter().cloned());
                let mut stmt = conn.prepare_cached(sql)?;
                let mut rows = stmt.query(params_from_iter(args))?;
                while let Some(r) = rows.next()? {
                    if rows_read == MAX_ROWS_READ {
                        break 'surnames;
                    }
                    rows_read += 1;
                    let record_id: i64 = r.get(0)?;
                    if !seen_records.insert(record_id) {
                        continue;
                    }
                    let key_at = |i: usize| r.get_ref(i).map(|v| v.as_str().unwrap_or(""));
                    let fit_of = |part: &Option<QueryPart>, indexed: &str| part.as_ref().map(|p| p.fit(indexed)).unwrap_or(0.0);
                    let fit = fit_of(&given, key_at(4)?) + 0.7 * fit_of(&patronymic, key_at(5)?);
                    // What a viewer may not see of the record neither ranks it nor comes back.
                    let source: String = r.get(2)?;
                    let hidden = |field: &str| !sees_sensitive && sensitivity.field(&source, field);
                    let born: (i64, i64) = if hidden("birth_date") { (UNKNOWN_YEAR, UNKNOWN_YEAR) } else { (r.get(6)?, r.get(7)?) };
                    let place: String = if hidden("birth_place") || hidden("residence") { String::new() } else { r.get(9)? };
                    let distance = match (query.near_year, born) {
                        (Some(_), (UNKNOWN_YEAR, _)) => 1.0,
                        (Some(year), (from, to)) => (from - year).max(year - to).max(0) as f64,
                        (None, _) => 0.0,
                    };
                    let person: Option<String> = r.get(8)?;
                    if let Some(cohort) = &query.persons_in
                        && !person.as_ref().is_some_and(|p| cohort.contains(p))
                    {
                        continue;
                    }
                    persons.insert(person.clone().unwrap_or_else(|| format!("record:{record_id}")));
                    candidates.push(Candidate {
                        score: ((surname_fit + fit) / max - YEAR_PENALTY * distance.min(4.0)).clamp(0.0, 1.0),
                        record_id,
                        record_key: r.get(1)?,
                        source,
                        display: r.get(3)?,
                        born,
                        person,
                        place,
                    });
                    if persons.len() >= WINDOW {
                        break 'surnames;
                    }
                }
            }
        }
        if !candidates.is_empty() {
            break;
        }
    }
    Ok(Found { hits: rank(query, candidates), rows_read })
}

/// Groups the window's records by person, ranks the persons by score, then by the `names`
/// similarity of their best record's name to the query, and cuts the requested page.
fn rank(query: &Query, candidates: Vec<Candidate>) -> Vec<PersonHit> {
    let asked = PreparedName::new(&query.text, Part::Full);
    let likes = similarities(&asked, candidates.iter().map(|c| c.display.as_str()));
    // One entry per person, with its best record; ties broken by similarity and record id.
    let mut by_person: HashMap<String, (f64, f64, usize, Candidate)> = HashMap::with_capacity(candidates.len());
    for (c, like) in candidates.into_iter().zip(likes) {
        let group = match &c.person {
            Some(person) => person.clone(),
            None => format!("record:{}", c.record_id),
        };
        match by_person.get_mut(&group) {
            None => {
                by_person.insert(group, (c.score, like, 1, c));
            }
            Some(entry) => {
                entry.2 += 1;
                let better = (c.score, like, -c.record_id) > (entry.0, entry.1, -entry.3.record_id);
                if better {
                    (entry.0, entry.1, entry.3) = (c.score, like, c);
                }
            }
        }
    }
    // The record id, unique among the persons' best records, makes the order total.
    let mut ranked: Vec<(f64, f64, usize, Candidate)> = by_person.into_values().collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)).then(b.2.cmp(&a.2)).then(a.3.record_id.cmp(&b.3.record_id)));
    ranked
        .into_iter()
        .skip(query.offset)
        .take(query.limit)
        .map(|(score, _, matching_records, c)| {
            let known = |year: i64| (c.born.0 != UNKNOWN_YEAR).then_some(year);
            PersonHit {
                person_id: c.person,
                score,
                matching_records,
                best: RecordHit {
                    record_id: c.record_id,
                    place: c.place,
                    record_key: c.record_key,
                    source: c.source,
                    name: c.display,
                    born_from: known(c.born.0),
                    born_to: known(c.born.1),
                },
            }
        })
        .collect()
}

/// The names of the indexed records, prepared for comparison once when the web app opens the
/// register (see [`prepare_names`]): preparing a name costs far more than comparing it, and a
/// search compares the query with up to [`WINDOW`] names and more. Keyed by the name's text, so
/// registers opened in one process share it.
static PREPARED: std::sync::LazyLock<std::sync::RwLock<HashMap<Box<str>, PreparedName>>> = std::sync::LazyLock::new(Default::default);

/// Prepares the name of every record in the search index that is not prepared yet, on every
/// core; returns how many it prepared. Call after [`ensure_index`]: a search prepares a name it
/// does not find here on the spot, every time.
pub fn prepare_names(conn: &Connection) -> Result<usize, WebError> {
    let mut missing: Vec<String> = Vec::new();
    {
        let known = PREPARED.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut select = conn.prepare("SELECT display FROM search_names")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let display = row.get_ref(0)?.as_str().map_err(|e| WebError::Internal(e.to_string()))?;
            if !known.contains_key(display) {
                missing.push(display.to_owned());
            }
        }
    }
    missing.sort_unstable();
    missing.dedup();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = missing.len().div_ceil(threads).max(1);
    let prepared: Vec<Vec<(Box<str>, PreparedName)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = missing
            .chunks(chunk)
            .map(|names| scope.spawn(move || names.iter().map(|n| (Box::from(n.as_str()), PreparedName::new(n, Part::Full))).collect::<Vec<_>>()))
            .collect();
        workers.into_iter().map(|w| w.join().expect("preparing names panicked")).collect()
    });
    let mut table = PREPARED.write().unwrap_or_else(|poisoned| poisoned.into_inner());
    prepared.into_iter().for_each(|names| table.extend(names));
    Ok(missing.len())
}

/// The similarity of `asked` to each of `displays`, in order.
fn similarities<'a>(asked: &PreparedName, displays: impl Iterator<Item = &'a str>) -> Vec<f64> {
    let known = PREPARED.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    displays
        .map(|display| match known.get(display) {
            Some(name) => asked.similarity(name),
            None => asked.similarity(&PreparedName::new(display, Part::Full)),
        })
        .collect()
}

/// Persons whose indexed surname starts like `prefix` (for reconciliation's suggest, called as
/// the user types: "Gus" already finds Гусев), by name.
pub fn suggest(conn: &Connection, prefix: &str, sensitivity: &Sensitivity, sees_sensitive: bool, limit: usize) -> Result<Vec<PersonHit>, WebError> {
    let query = Query { text: prefix.to_owned(), limit, surname_prefix: true, ..Query::default() };
    Ok(search(conn, &query, sensitivity, sees_sensitive)?.hits)
}
