//! Search that knows names: every current record is indexed under the `names` keys of its
//! surname, so Ежов, Yezhov, Jeschow and "ezhov n i" all land on the same index entries; given
//! names, patronymics and initials then rank the candidates. The index lives in the register
//! (`search_records`, `name_keys`) and is rebuilt at startup whenever the current records change.

use crate::WebError;
use crate::sensitivity::Sensitivity;
use rusqlite::{Connection, params, params_from_iter};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

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
    surname: Option<String>,
    given: Option<String>,
    patronymic: Option<String>,
    name: Option<String>,
    birth: Option<(i64, i64)>,
    places: Vec<String>,
    events: BTreeSet<String>,
}

fn year_of(date: &str) -> Option<i64> {
    date.get(..4)?.parse().ok()
}

/// A name's key, or of its first letter when it is an initial.
fn part_key(text: Option<&str>) -> String {
    text.map(names::key).unwrap_or_default()
}

impl Indexed {
    fn write(&self, record_id: i64, insert_record: &mut rusqlite::Statement, insert_key: &mut rusqlite::Statement) -> Result<(), WebError> {
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
        insert_record.execute(params![
            record_id,
            self.record_key,
            self.source_id,
            display,
            part_key(given.as_deref()),
            part_key(patronymic.as_deref()),
            self.birth.map(|b| b.0),
            self.birth.map(|b| b.1),
            self.places.join(" | ").to_lowercase(),
            events,
        ])?;
        if let Some(surname) = surname {
            for key in names::keys(&surname).into_iter().filter(|k| !k.is_empty()) {
                insert_key.execute(params![key, record_id])?;
            }
        }
        Ok(())
    }
}

/// Rebuilds the index when the current records changed since it was built; returns whether it did.
pub fn ensure_index(conn: &mut Connection) -> Result<bool, WebError> {
    let now = fingerprint(conn)?;
    let built: Option<String> =
        rusqlite::OptionalExtension::optional(conn.query_row("SELECT fingerprint FROM search_state WHERE id = 1", [], |r| r.get(0)))?;
    if built.as_deref() == Some(now.as_str()) {
        return Ok(false);
    }
    let tx = conn.transaction()?;
    tx.execute_batch("DELETE FROM name_keys; DELETE FROM search_records;")?;
    {
        let mut insert_record = tx.prepare(
            "INSERT INTO search_records (record_id, record_key, source_id, display, given_key, patronymic_key, birth_from, birth_to, place, events)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut insert_key = tx.prepare("INSERT OR IGNORE INTO name_keys (key, record_id) VALUES (?1, ?2)")?;
        let mut select = tx.prepare(
            "SELECT r.record_id, r.record_key, f.source_id, a.field, a.value_text, a.raw, a.date_earliest, a.date_latest, a.event_kind
             FROM records r JOIN current_files f USING (file_id) LEFT JOIN assertions a ON a.record_id = r.record_id
             ORDER BY r.record_id, a.ordinal",
        )?;
        let mut rows = select.query([])?;
        let mut current: Option<(i64, Indexed)> = None;
        while let Some(row) = rows.next()? {
            let record_id: i64 = row.get(0)?;
            if current.as_ref().is_none_or(|(id, _)| *id != record_id) {
                if let Some((id, done)) = current.take() {
                    done.write(id, &mut insert_record, &mut insert_key)?;
                }
                current = Some((record_id, Indexed { record_key: row.get(1)?, source_id: row.get(2)?, ..Indexed::default() }));
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
                _ => {}
            }
            if let Some(kind) = row.get::<_, Option<String>>(8)? {
                record.events.insert(kind);
            }
        }
        if let Some((id, done)) = current.take() {
            done.write(id, &mut insert_record, &mut insert_key)?;
        }
    }
    tx.execute("INSERT OR REPLACE INTO search_state (id, fingerprint) VALUES (1, ?1)", [now])?;
    tx.commit()?;
    Ok(true)
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
    /// A soft preference (reconciliation): records born away from this year rank lower.
    pub near_year: Option<i64>,
    pub limit: usize,
}

pub const MAX_LIMIT: usize = 100;

impl Query {
    /// Validates raw parameters (from a form or the API): the error names the parameter.
    pub fn parse(params: &BTreeMap<String, String>) -> Result<Query, WebError> {
        let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let text = get("q").ok_or_else(|| WebError::bad("q", "a name to search for is required"))?.to_owned();
        if text.chars().count() > 200 {
            return Err(WebError::bad("q", "at most 200 characters"));
        }
        let year = |k: &str| -> Result<Option<i64>, WebError> {
            get(k)
                .map(|v| v.parse::<i64>().ok().filter(|y| (1..=9999).contains(y)).ok_or_else(|| WebError::bad(k, format!("expected a year (1 to 9999), found {v:?}"))))
                .transpose()
        };
        let (born_from, born_to) = (year("born_from")?, year("born_to")?);
        if let (Some(from), Some(to)) = (born_from, born_to) {
            if from > to {
                return Err(WebError::bad("born_to", format!("{to} is before born_from {from}")));
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
        let event = get("event").map(str::to_owned);
        if let Some(e) = &event {
            if !model::EventKind::ALL.iter().any(|k| k.as_str() == e) {
                let known: Vec<&str> = model::EventKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(WebError::bad("event", format!("unknown event {e:?}; expected one of {}", known.join(", "))));
            }
        }
        Ok(Query {
            text,
            source: get("source").map(str::to_owned),
            born_from,
            born_to,
            place: get("place").map(str::to_lowercase),
            event,
            near_year: None,
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
    pub matching_records: usize,
    pub best: RecordHit,
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
        } else if self.key.chars().next() == indexed.chars().next() {
            if self.initial_only { 1.0 } else { 0.4 }
        } else {
            -1.0
        }
    }
}

/// Runs a search. `hide` lists sources the user may not see.
pub fn search(conn: &Connection, query: &Query, sensitivity: &Sensitivity, sees_sensitive: bool) -> Result<Vec<PersonHit>, WebError> {
    let names = name_query(&query.text);
    let (given, patronymic) = (QueryPart::new(names.given.as_deref()), QueryPart::new(names.patronymic.as_deref()));
    let fit_of = |part: &Option<QueryPart>, indexed: &str| part.as_ref().map(|p| p.fit(indexed)).unwrap_or(0.0);
    let mut keys: Vec<String> = Vec::new();
    // The first surname candidate (the parser's) wins; other words only when it finds nothing.
    let mut hits: Vec<(f64, RecordHit, Option<String>)> = Vec::new();
    for (rank, surname) in names.surnames.iter().enumerate() {
        keys.clear();
        keys.extend(names::keys(surname).into_iter().filter(|k| !k.is_empty()));
        if keys.is_empty() {
            continue;
        }
        let mut sql = format!(
            "SELECT DISTINCT s.record_id, s.record_key, s.source_id, s.display, s.given_key, s.patronymic_key, s.birth_from, s.birth_to, s.place, p.person_id
             FROM name_keys k JOIN search_records s USING (record_id) LEFT JOIN person_records p ON p.record_key = s.record_key
             WHERE k.key IN ({})",
            vec!["?"; keys.len()].join(",")
        );
        let mut args: Vec<rusqlite::types::Value> = keys.iter().map(|k| k.clone().into()).collect();
        if let Some(source) = &query.source {
            sql.push_str(" AND s.source_id = ?");
            args.push(source.clone().into());
        }
        if let Some(from) = query.born_from {
            sql.push_str(" AND s.birth_to >= ?");
            args.push(from.into());
        }
        if let Some(to) = query.born_to {
            sql.push_str(" AND s.birth_from <= ?");
            args.push(to.into());
        }
        if let Some(place) = &query.place {
            sql.push_str(" AND instr(s.place, ?) > 0");
            args.push(place.clone().into());
        }
        if let Some(event) = &query.event {
            sql.push_str(" AND instr(s.events, ?) > 0");
            args.push(format!(" {event} ").into());
        }
        if !sees_sensitive {
            for source in sensitivity.sources() {
                sql.push_str(" AND s.source_id <> ?");
                args.push(source.to_owned().into());
            }
        }
        sql.push_str(" LIMIT 2000");
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        while let Some(r) = rows.next()? {
            let given_key: String = r.get(4)?;
            let patronymic_key: String = r.get(5)?;
            let fit = fit_of(&given, &given_key) + 0.7 * fit_of(&patronymic, &patronymic_key);
            let max = 1.0 + f64::from(u8::from(given.is_some())) + 0.7 * f64::from(u8::from(patronymic.is_some()));
            // A surname found only as a later word of the query ranks a little lower.
            let surname_fit = if rank == 0 { 1.0 } else { 0.9 };
            let born: (Option<i64>, Option<i64>) = (r.get(6)?, r.get(7)?);
            let distance = match (query.near_year, born) {
                (Some(year), (Some(from), Some(to))) => (from - year).max(year - to).max(0) as f64,
                (Some(_), _) => 1.0,
                (None, _) => 0.0,
            };
            let score = ((surname_fit + fit) / max - 0.15 * distance.min(4.0)).clamp(0.0, 1.0);
            let hit = RecordHit {
                record_id: r.get(0)?,
                record_key: r.get(1)?,
                source: r.get(2)?,
                name: r.get(3)?,
                born_from: r.get(6)?,
                born_to: r.get(7)?,
                place: r.get(8)?,
            };
            hits.push((score, hit, r.get(9)?));
        }
        if !hits.is_empty() {
            break;
        }
    }
    // One entry per person, with its best record; ties broken by record id for a stable order.
    let mut by_person: BTreeMap<String, PersonHit> = BTreeMap::new();
    for (score, hit, person) in hits {
        let group = person.clone().unwrap_or_else(|| format!("record:{}", hit.record_id));
        let entry = by_person.entry(group).or_insert_with(|| PersonHit { person_id: person, score, matching_records: 0, best: hit.clone() });
        entry.matching_records += 1;
        if score > entry.score || (score == entry.score && hit.record_id < entry.best.record_id) {
            entry.score = score;
            entry.best = hit;
        }
    }
    let mut out: Vec<PersonHit> = by_person.into_values().collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.matching_records.cmp(&a.matching_records)).then(a.best.record_id.cmp(&b.best.record_id)));
    out.truncate(query.limit);
    Ok(out)
}

/// Persons whose indexed name starts like `prefix` (for reconciliation's suggest), by name.
pub fn suggest(conn: &Connection, prefix: &str, sensitivity: &Sensitivity, sees_sensitive: bool, limit: usize) -> Result<Vec<PersonHit>, WebError> {
    let query = Query { text: prefix.to_owned(), limit, ..Query::default() };
    search(conn, &query, sensitivity, sees_sensitive)
}
