//! What linkage reads from and writes to the register: current records as standard records,
//! the decisions in force, the previous run's persons, and one run's results in one transaction.
//!
//! The `link` crate never sees the register (it is pure); `kartoteka build` and the web app's
//! re-link move plain data between the two through these functions.

use crate::{Register, StoreError};
use link::{Decision, DecisionKind, FoldingMatcher, LinkInputs, LinkSpec, Linker};
use model::{PersonId, RecordId, Sex, SourceId, StandardRecord, UncertainDate, Value};
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

/// Pairs below this probability are neither stored nor exported.
const PAIR_FLOOR: f64 = 0.02;
/// Pairs strictly inside this band are uncertain: their waterfall is stored for the review queue.
const REVIEW_BAND: (f64, f64) = (0.02, 0.98);

/// One claim of a record, as the mapping to a standard record needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The kartoteka field (`surname`, `birth_date`, `defection.date`, ...).
    pub field: String,
    /// The parsed value as text, or the raw cell where it did not parse.
    pub text: String,
    /// The date, for date-valued claims that parsed.
    pub date: Option<UncertainDate>,
}

/// A current record ready for linkage: its standard form (id = the register's record key) and a
/// fingerprint of its source and raw cells, which stays the same when only its row moves.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkRecord {
    pub record: StandardRecord,
    pub content_sha256: String,
}

/// The person a previous linkage run gave a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonAssignment {
    pub record_key: String,
    /// NULL for runs written before schema version 3 (and by writers that do not fill it).
    pub content_sha256: Option<String>,
    pub person_id: String,
}

/// A reviewer's decision that is in force: not undone, and the latest about its pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionRow {
    pub record_key_l: String,
    pub record_key_r: String,
    pub must_link: bool,
    pub who: String,
    pub decided_at: String,
    pub why: String,
}

/// A scored pair for the review queue.
#[derive(Clone, Debug, PartialEq)]
pub struct PairRow {
    pub record_key_l: String,
    pub record_key_r: String,
    pub match_weight: f64,
    pub match_probability: f64,
    /// The waterfall as JSON, for pairs worth a review.
    pub explanation_json: Option<String>,
}

/// Everything one linkage run stores.
pub struct LinkageRun<'a> {
    /// When it ran (UTC, RFC 3339, from the caller: the store reads no clock).
    pub ran_at: &'a str,
    pub persons: &'a [PersonAssignment],
    pub pairs: &'a [PairRow],
    /// Decisions honoured by the run.
    pub decisions: usize,
    /// The split / merge / create / retire history against the previous run, as JSON.
    pub events_json: &'a str,
    /// [`linkage_inputs_sha256`] of what the run was given.
    pub inputs_sha256: Option<&'a str>,
    /// What a later run with new records reuses: the trained model, the completed spec (both
    /// JSON) and [`decisions_sha256`] of the decisions honoured.
    pub model_json: Option<&'a str>,
    pub spec_json: Option<&'a str>,
    pub decisions_sha256: Option<&'a str>,
}

/// A fingerprint of everything a linkage run depends on: the records (standard form and raw
/// content), the spec (as JSON) and the decisions in force. Same fingerprint as the latest run
/// means a new run would reproduce it exactly.
pub fn linkage_inputs_sha256(records: &[LinkRecord], spec_json: &str, decisions: &[DecisionRow]) -> Result<String, StoreError> {
    let mut hasher = Sha256::new();
    for r in records {
        hasher.update(serde_json::to_vec(&r.record)?);
        hasher.update(r.content_sha256.as_bytes());
        hasher.update(b"\x1e");
    }
    hasher.update(b"\x1d");
    hasher.update(spec_json.as_bytes());
    hash_decisions(&mut hasher, decisions);
    Ok(hex::encode(hasher.finalize()))
}

/// A fingerprint of the decisions in force (pairs and kinds, in order).
pub fn decisions_sha256(decisions: &[DecisionRow]) -> String {
    let mut hasher = Sha256::new();
    hash_decisions(&mut hasher, decisions);
    hex::encode(hasher.finalize())
}

fn hash_decisions(hasher: &mut Sha256, decisions: &[DecisionRow]) {
    for d in decisions {
        for part in [d.record_key_l.as_str(), d.record_key_r.as_str(), if d.must_link { "must_link" } else { "cannot_link" }] {
            hasher.update(part.as_bytes());
            hasher.update(b"\x1f");
        }
    }
}

/// Fields that describe the person besides the standard columns and so are compared by
/// linkage (generically, as text); notes, source ids, sentences and posts are not.
fn compared_as_other(field: &str) -> bool {
    matches!(field, "education" | "party" | "social_position" | "residence")
        || field.ends_with(".date")
        || field.ends_with(".place")
}

/// Maps one record's claims to the standard schema. The first claim of a field wins; a record
/// that gives only a whole name has it split into parts (`GUSEV, Grigoriy S.` gives surname
/// `GUSEV`, given name `Grigoriy` and patronymic initial `S`), so it blocks and compares with
/// records whose sources split names.
pub fn standard_record(record_key: &str, source_id: &str, claims: &[Claim]) -> StandardRecord {
    let mut record = StandardRecord {
        id: RecordId::new(record_key),
        source: Some(SourceId::new(source_id)),
        ..StandardRecord::default()
    };
    for claim in claims.iter().filter(|c| !c.text.trim().is_empty()) {
        let slot = match claim.field.as_str() {
            "surname" => &mut record.surname,
            "given_name" => &mut record.given_name,
            "patronymic" => &mut record.patronymic,
            "name" => &mut record.name,
            "birth_place" => &mut record.birth_place,
            "nationality" => &mut record.nationality,
            "occupation" => &mut record.occupation,
            "sex" => {
                record.sex = record.sex.or(match claim.text.as_str() {
                    "m" => Some(Sex::Male),
                    "f" => Some(Sex::Female),
                    _ => None,
                });
                continue;
            }
            "birth_date" => {
                record.birth_date = record.birth_date.or(claim.date);
                continue;
            }
            other if compared_as_other(other) => {
                record.other.entry(other.to_owned()).or_insert_with(|| claim.text.clone());
                continue;
            }
            _ => continue,
        };
        slot.get_or_insert_with(|| claim.text.clone());
    }
    if record.surname.is_none()
        && record.given_name.is_none()
        && record.patronymic.is_none()
        && let Some(whole) = &record.name
    {
        let parsed = names::parse(whole);
        if parsed.surname.is_some() {
            let initial = |i: usize| parsed.initials.get(i).cloned();
            record.given_name = parsed.given.clone().or_else(|| initial(0));
            record.patronymic = parsed.patronymic.clone().or_else(|| initial(1));
            record.surname = parsed.surname;
            record.name = None;
        }
    }
    record
}

/// SHA-256 over a record's source and raw cells, lowercase hex.
fn content_sha256(source_id: &str, cells_json: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(source_id.as_bytes());
    hasher.update(b"\x1f");
    hasher.update(cells_json.as_bytes());
    hex::encode(hasher.finalize())
}

impl Register {
    /// Every record of a current file version as a standard record, by source, path, sheet, row.
    pub fn current_link_records(&self) -> Result<Vec<LinkRecord>, StoreError> {
        current_link_records(&self.conn)
    }

    /// The persons the latest linkage run gave records (current or not), by record key.
    pub fn previous_persons(&self) -> Result<Vec<PersonAssignment>, StoreError> {
        previous_persons(&self.conn)
    }

    /// The person of every current record, by record key.
    pub fn persons_of_current_records(&self) -> Result<BTreeMap<String, String>, StoreError> {
        persons_of_current_records(&self.conn)
    }

    /// Reviewers' decisions in force, oldest first.
    pub fn decisions_in_force(&self) -> Result<Vec<DecisionRow>, StoreError> {
        decisions_in_force(&self.conn)
    }

    /// The inputs fingerprint of the latest linkage run, if it recorded one.
    pub fn latest_linkage_inputs(&self) -> Result<Option<String>, StoreError> {
        latest_linkage_inputs(&self.conn)
    }

    /// The scored pairs of the latest run, by left then right record key.
    pub fn stored_pairs(&self) -> Result<Vec<PairRow>, StoreError> {
        stored_pairs(&self.conn)
    }

    /// The spec (completed with its defaults) of the latest linkage run, `None` before any run
    /// or when the register predates recording it: what re-clustering the stored pairs needs.
    pub fn latest_link_spec(&self) -> Result<Option<LinkSpec>, StoreError> {
        latest_spec(&self.conn)
    }

    /// The model of the latest linkage run (with [`Register::latest_link_spec`], what scores any
    /// pair of the current records as that run did), `None` as for the spec.
    pub fn latest_link_model(&self) -> Result<Option<link::fs::FsModel>, StoreError> {
        latest_model(&self.conn)
    }

    /// Replaces the persons and scored pairs with one run's, all in one transaction.
    pub fn store_linkage(&mut self, run: &LinkageRun) -> Result<(), StoreError> {
        store_linkage(&mut self.conn, run)
    }

    /// Links the current records into persons and stores them, honouring the decisions in force and
    /// inheriting person ids; what `kartoteka build` and the web app's re-link both run.
    pub fn link_persons(&mut self, declared: &LinkSpec, ran_at: &str) -> Result<Linked, StoreError> {
        link_persons(&mut self.conn, declared, ran_at)
    }

    /// [`Register::link_persons`] with a run over all records done by `full_run` (`kartoteka build
    /// --cluster` runs it on a cluster); incremental runs stay here.
    pub fn link_persons_with(&mut self, declared: &LinkSpec, ran_at: &str, full_run: FullRun) -> Result<Linked, StoreError> {
        link_persons_with(&mut self.conn, declared, ran_at, full_run)
    }
}

/// Every record of a current file version as a standard record, by source, path, sheet, row.
pub(crate) fn current_link_records(conn: &Connection) -> Result<Vec<LinkRecord>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT r.record_key, f.source_id, r.cells_json, a.field, a.value_text, a.raw, a.value_json
         FROM records r JOIN current_files f USING (file_id) LEFT JOIN assertions a ON a.record_id = r.record_id
         ORDER BY f.source_id, f.path, r.sheet, r.row, a.ordinal",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    // (record key, source, cells) of the record being gathered, and its claims.
    let mut open: Option<(String, String, String)> = None;
    let mut claims: Vec<Claim> = Vec::new();
    let mut close = |open: &mut Option<(String, String, String)>, claims: &mut Vec<Claim>| {
        if let Some((key, source, cells)) = open.take() {
            out.push(LinkRecord {
                record: standard_record(&key, &source, claims),
                content_sha256: content_sha256(&source, &cells),
            });
        }
        claims.clear();
    };
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        if open.as_ref().is_none_or(|(k, _, _)| *k != key) {
            close(&mut open, &mut claims);
            open = Some((key, row.get(1)?, row.get(2)?));
        }
        let Some(field) = row.get::<_, Option<String>>(3)? else { continue };
        let text: String = row.get::<_, Option<String>>(4)?.map_or_else(|| row.get(5), Ok)?;
        let value: Option<String> = row.get(6)?;
        let date = match value {
            Some(json) => serde_json::from_str::<Value>(&json)?.date().copied(),
            None => None,
        };
        claims.push(Claim { field, text, date });
    }
    close(&mut open, &mut claims);
    Ok(out)
}

/// The persons the latest linkage run gave records (current or not), by record key.
pub(crate) fn previous_persons(conn: &Connection) -> Result<Vec<PersonAssignment>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT record_key, content_sha256, person_id FROM person_records ORDER BY record_key")?;
    let rows = stmt.query_map([], |r| {
        Ok(PersonAssignment { record_key: r.get(0)?, content_sha256: r.get(1)?, person_id: r.get(2)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The person of every current record, by record key: what profiles, cohorts and analyses
/// group records by. Empty until linkage has run; a current record that the latest run did
/// not see (its source was ingested after it) is missing.
pub(crate) fn persons_of_current_records(conn: &Connection) -> Result<BTreeMap<String, String>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT p.record_key, p.person_id FROM person_records p
         WHERE p.record_key IN (SELECT r.record_key FROM records r JOIN current_files USING (file_id))
         ORDER BY p.record_key",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reviewers' decisions in force, oldest first: undone decisions are dropped, and of several
/// decisions about one pair (in either order) only the latest counts.
pub(crate) fn decisions_in_force(conn: &Connection) -> Result<Vec<DecisionRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT record_key_l, record_key_r, kind, who, decided_at, why FROM decisions
         WHERE decision_id NOT IN (SELECT decision_id FROM decision_undos) ORDER BY decision_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DecisionRow {
            record_key_l: r.get(0)?,
            record_key_r: r.get(1)?,
            must_link: r.get::<_, String>(2)? == "must_link",
            who: r.get(3)?,
            decided_at: r.get(4)?,
            why: r.get(5)?,
        })
    })?;
    let mut latest: BTreeMap<(String, String), (usize, DecisionRow)> = BTreeMap::new();
    for (order, row) in rows.enumerate() {
        let row = row?;
        let pair = if row.record_key_l <= row.record_key_r {
            (row.record_key_l.clone(), row.record_key_r.clone())
        } else {
            (row.record_key_r.clone(), row.record_key_l.clone())
        };
        latest.insert(pair, (order, row));
    }
    let mut in_force: Vec<(usize, DecisionRow)> = latest.into_values().collect();
    in_force.sort_by_key(|(order, _)| *order);
    Ok(in_force.into_iter().map(|(_, row)| row).collect())
}

/// The inputs fingerprint of the latest linkage run, if it recorded one.
pub(crate) fn latest_linkage_inputs(conn: &Connection) -> Result<Option<String>, StoreError> {
    let latest = conn.query_row(
        "SELECT inputs_sha256 FROM link_runs ORDER BY run_id DESC LIMIT 1",
        [],
        |r| r.get::<_, Option<String>>(0),
    );
    match latest {
        Ok(sha) => Ok(sha),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The scored pairs of the latest run, by left then right record key.
pub(crate) fn stored_pairs(conn: &Connection) -> Result<Vec<PairRow>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT record_key_l, record_key_r, match_weight, match_probability, explanation_json FROM link_pairs
         ORDER BY record_key_l, record_key_r",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(PairRow {
            record_key_l: r.get(0)?,
            record_key_r: r.get(1)?,
            match_weight: r.get(2)?,
            match_probability: r.get(3)?,
            explanation_json: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The `review_items` key of a person: what a reviewer's decision names the person's version by.
/// One definition for the store, which bumps it when a run moves the person's records, and the
/// web app, which bumps it on a decision and checks it.
pub fn person_review_item(person_id: &str) -> String {
    format!("person:{person_id}")
}

/// The persons whose set of records `persons` changes against `person_records` (the previous
/// run's): each person a record leaves, and each person a record joins unless it never held
/// records nor had a version (a person new to the register starts at version 0 with its records,
/// so a first run writes no versions). A merge of the previous rows (in key order, which is
/// SQLite's binary order and Rust's alike) with the run's keys sorted, so memory stays an index
/// per record; the changed persons come out in id order.
fn persons_changed(tx: &Connection, persons: &[PersonAssignment]) -> Result<BTreeSet<String>, StoreError> {
    // A first run (no previous persons, no person ever versioned) changes no person's version:
    // every person is new. It is the common large case, so it costs two lookups, not a merge.
    let history: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM person_records) OR EXISTS (SELECT 1 FROM review_items WHERE item >= 'person:' AND item < 'person;')",
        [],
        |r| r.get(0),
    )?;
    if !history {
        return Ok(BTreeSet::new());
    }
    let mut order: Vec<usize> = (0..persons.len()).collect();
    order.sort_unstable_by(|&a, &b| persons[a].record_key.cmp(&persons[b].record_key));
    let mut run = order.iter().map(|&i| &persons[i]).peekable();
    let mut changed = BTreeSet::new();
    let mut joined: BTreeSet<&str> = BTreeSet::new();
    let mut previous = tx.prepare("SELECT record_key, person_id FROM person_records ORDER BY record_key")?;
    let mut rows = previous.query([])?;
    while let Some(row) = rows.next()? {
        let (key, was): (String, String) = (row.get(0)?, row.get(1)?);
        // Records this run has and the previous did not join their persons.
        while let Some(new) = run.next_if(|p| p.record_key < key) {
            joined.insert(&new.person_id);
        }
        match run.next_if(|p| p.record_key == key) {
            Some(now) if now.person_id == was => {}
            Some(now) => {
                joined.insert(&now.person_id);
                changed.insert(was);
            }
            None => {
                changed.insert(was);
            }
        }
    }
    joined.extend(run.map(|p| p.person_id.as_str()));
    let mut held = tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM person_records WHERE person_id = ?1) OR EXISTS (SELECT 1 FROM review_items WHERE item = ?2)",
    )?;
    for person in joined {
        if !changed.contains(person) && held.query_row(params![person, person_review_item(person)], |r| r.get::<_, bool>(0))? {
            changed.insert(person.to_owned());
        }
    }
    Ok(changed)
}

/// Replaces the persons and scored pairs with one run's and appends the run to `link_runs`,
/// all in one transaction: readers see the previous run or this one, never a mixture. Every
/// person whose set of records the run changes has its review version bumped in the same
/// transaction, so a reviewer's decision naming a person at a version is about the records the
/// reviewer saw in it (a re-link that swaps records between two persons, or moves one into a
/// person being split, makes the decision stale); a run that moves no record writes no version.
pub(crate) fn store_linkage(conn: &mut Connection, run: &LinkageRun) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    let changed = persons_changed(&tx, run.persons)?;
    {
        let mut bump = tx.prepare(
            "INSERT INTO review_items (item, version) VALUES (?1, 1) ON CONFLICT (item) DO UPDATE SET version = version + 1",
        )?;
        for person in &changed {
            bump.execute([person_review_item(person)])?;
        }
    }
    tx.execute_batch("DELETE FROM person_records; DELETE FROM link_pairs;")?;
    {
        let mut insert =
            tx.prepare("INSERT INTO person_records (record_key, person_id, content_sha256) VALUES (?1, ?2, ?3)")?;
        for p in run.persons {
            insert.execute(params![p.record_key, p.person_id, p.content_sha256])?;
        }
        let mut insert = tx.prepare(
            "INSERT OR REPLACE INTO link_pairs (record_key_l, record_key_r, match_weight, match_probability, explanation_json)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for p in run.pairs {
            insert.execute(params![p.record_key_l, p.record_key_r, p.match_weight, p.match_probability, p.explanation_json])?;
        }
    }
    let persons = run.persons.iter().map(|p| p.person_id.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    tx.execute(
        "INSERT INTO link_runs (ran_at, records, persons, pairs, decisions, events_json, inputs_sha256, model_json, spec_json,
                                decisions_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            run.ran_at,
            run.persons.len() as i64,
            persons as i64,
            run.pairs.len() as i64,
            run.decisions as i64,
            run.events_json,
            run.inputs_sha256,
            run.model_json,
            run.spec_json,
            run.decisions_sha256
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// What one linkage of the register did, and the persons and pairs it left there.
#[derive(Debug)]
pub struct Linked {
    pub records: usize,
    pub persons: usize,
    pub decisions: usize,
    /// Persons split or merged since the previous run.
    pub changes: usize,
    /// Whether linkage ran (otherwise nothing it depends on changed and the latest run stands).
    pub rerun: bool,
    /// Whether it linked only new records against the persons of the latest run (reusing its
    /// model), because nothing else changed.
    pub incremental: bool,
    /// The person of every current record, in record order.
    pub assignments: Vec<PersonAssignment>,
    /// The stored pairs, by left then right record key.
    pub pairs: Vec<PairRow>,
}

/// The link spec a project declares: the `[link]` section of its manifest or a `link.toml`
/// beside it (not both); without either, the empty spec (everything inferred from the records).
pub fn declared_link_spec(project_dir: &Path, manifest_section: Option<&toml::Value>) -> Result<LinkSpec, StoreError> {
    let file = project_dir.join("link.toml");
    let invalid = |place: String, message: String| StoreError::LinkSpec { place, key: String::new(), message };
    match (manifest_section, file.exists()) {
        (Some(_), true) => Err(invalid(
            project_dir.display().to_string(),
            "the link spec is given twice, in kartoteka.toml's [link] section and in link.toml; keep one".to_owned(),
        )),
        (Some(section), false) => {
            spec_from_section(section).map_err(|(key, message)| StoreError::LinkSpec { place: "kartoteka.toml: [link]".to_owned(), key, message })
        }
        (None, true) => {
            let text = std::fs::read_to_string(&file).map_err(|e| invalid(file.display().to_string(), format!("cannot read: {e}")))?;
            toml::from_str(&text).map_err(|e| invalid(file.display().to_string(), format!("not a link spec: {e}")))
        }
        (None, false) => Ok(LinkSpec::default()),
    }
}

/// The first field of `spec` whose column is neither a standard column, nor one `known`
/// accepts, nor one any record fills, as (its key in the spec, what is wrong): a typo there
/// (`surnme`) would otherwise compare nothing and silently change the linkage.
pub fn unknown_link_column(spec: &LinkSpec, records: &[StandardRecord], known: impl Fn(&str) -> bool) -> Option<(String, String)> {
    let (index, field) = spec.fields.iter().enumerate().find(|(_, field)| {
        let column = field.column.as_str();
        !link::spec::STANDARD_FIELDS.iter().any(|(standard, _)| *standard == column)
            && !known(column)
            && !records.iter().any(|r| r.other.contains_key(column))
    })?;
    Some((
        format!("field[{index}].column"),
        format!(
            "{:?} is not a column of any record (standard columns: {})",
            field.column,
            link::spec::STANDARD_FIELDS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
        ),
    ))
}

/// The `[link]` section as a spec, or (the key the error is about, the error) on one line. A
/// TOML value carries no line numbers: the key (`field[2]`, `field[1].tff` for a misspelt key)
/// is what lets the manifest's reader find the line.
fn spec_from_section(section: &toml::Value) -> Result<LinkSpec, (String, String)> {
    let one_line = |e: toml::de::Error| e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    // serde names a misspelt key only in its message: "unknown field `tff`, expected ...".
    let key_of = |within: String, message: &str| {
        let unknown = message.strip_prefix("unknown field `").and_then(|rest| rest.split_once('`')).map(|(key, _)| key);
        match unknown {
            Some(key) if within.is_empty() => key.to_owned(),
            Some(key) => format!("{within}.{key}"),
            None => within,
        }
    };
    for list in ["field", "blocking"] {
        for (i, entry) in section.get(list).and_then(toml::Value::as_array).into_iter().flatten().enumerate() {
            let checked = match list {
                "field" => entry.clone().try_into::<link::FieldSpec>().map(drop),
                _ => entry.clone().try_into::<link::spec::BlockingSpec>().map(drop),
            };
            checked.map_err(|e| {
                let message = one_line(e);
                (key_of(format!("{list}[{i}]"), &message), message)
            })?;
        }
    }
    section.clone().try_into().map_err(|e| {
        let message = one_line(e);
        match key_of(String::new(), &message) {
            key if key.is_empty() => (key, format!("not a link spec: {message}")),
            key => (key, message),
        }
    })
}

/// Links the register's current records into persons with the declared spec (what it leaves
/// out inferred from the records), every decision in force honoured and person ids inherited
/// from the previous run, and stores persons, scored pairs (with waterfalls for the uncertain
/// ones) and the split/merge history in one transaction. When the records, the spec and the
/// decisions are those of the latest run, that run stands and nothing is linked.
pub fn link_persons(conn: &mut Connection, declared: &LinkSpec, ran_at: &str) -> Result<Linked, StoreError> {
    link_persons_with(conn, declared, ran_at, &|records, inputs| Ok(link::link(records, inputs)?))
}

/// A linkage run over all of a register's records (not only new ones): `link::link`, or the same
/// run elsewhere giving the same outcome (a cluster's).
pub type FullRun<'a> = &'a dyn Fn(&[StandardRecord], &LinkInputs) -> Result<link::LinkOutcome, StoreError>;

/// [`link_persons`] with the full run done by `full_run`.
pub fn link_persons_with(conn: &mut Connection, declared: &LinkSpec, ran_at: &str, full_run: FullRun) -> Result<Linked, StoreError> {
    if !(declared.threshold > 0.0 && declared.threshold < 1.0) {
        return Err(StoreError::LinkSpec {
            place: "link spec".to_owned(),
            key: "threshold".to_owned(),
            message: format!("{} is not a probability strictly between 0 and 1", declared.threshold),
        });
    }
    let link_records = current_link_records(conn)?;
    let records: Vec<StandardRecord> = link_records.iter().map(|r| r.record.clone()).collect();
    // A field of the register (`defection.date`) that no record fills yet is a declared column.
    if let Some((key, message)) = unknown_link_column(declared, &records, |column| column.parse::<model::Field>().is_ok()) {
        return Err(StoreError::LinkSpec { place: "link spec".to_owned(), key, message });
    }
    let spec = declared.clone().completed_for(&records);
    let previous = inherited_persons(&link_records, &previous_persons(conn)?);
    let current: BTreeSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let decision_rows: Vec<DecisionRow> = decisions_in_force(conn)?
        .into_iter()
        .filter(|d| current.contains(d.record_key_l.as_str()) && current.contains(d.record_key_r.as_str()))
        .collect();
    let inputs_sha256 = linkage_inputs_sha256(&link_records, &serde_json::to_string(&spec)?, &decision_rows)?;
    if latest_linkage_inputs(conn)?.as_deref() == Some(inputs_sha256.as_str())
        && let Some(linked) = latest_run(conn, &link_records, decision_rows.len())?
    {
        return Ok(linked);
    }
    let spec_json = serde_json::to_string(&spec)?;
    let decisions_sha = decisions_sha256(&decision_rows);
    let previous_rows = previous_persons(conn)?;
    let reusable = reusable_run(conn, &spec_json, &decisions_sha)?;
    let decisions: Vec<Decision> = decision_rows.into_iter().map(decision).collect();
    let inputs = LinkInputs {
        spec: &spec,
        matcher: &FoldingMatcher,
        decisions: &decisions,
        previous: &previous,
        new_from: None,
        model: None,
        pair_floor: PAIR_FLOOR,
    };
    let mut incremental = false;
    let (persons, events, pairs, model) = if records.is_empty() {
        (Vec::new(), Vec::new(), Vec::new(), None)
    } else if let Some((model, (order, old))) =
        reusable.and_then(|model| incremental_order(&link_records, &previous_rows).map(|o| (model, o)))
    {
        // Old records first, then the new ones: only pairs touching a new record are compared.
        incremental = true;
        let ordered: Vec<StandardRecord> = order.iter().map(|&i| records[i].clone()).collect();
        let inputs = LinkInputs { new_from: Some(old), model: Some(model), ..inputs };
        let outcome = link::link(&ordered, &inputs)?;
        let mut pairs = pair_rows(&ordered, &outcome, &inputs)?;
        pairs.extend(stored_pairs(conn)?);
        pairs.sort_by(|x, y| (&x.record_key_l, &x.record_key_r).cmp(&(&y.record_key_l, &y.record_key_r)));
        let mut position = vec![0; records.len()];
        for (p, &i) in order.iter().enumerate() {
            position[i] = p;
        }
        let persons: Vec<PersonId> = position.iter().map(|&p| outcome.persons[p].clone()).collect();
        (persons, outcome.events, pairs, Some(outcome.model))
    } else {
        let outcome = full_run(&records, &inputs)?;
        let pairs = pair_rows(&records, &outcome, &inputs)?;
        (outcome.persons, outcome.events, pairs, Some(outcome.model))
    };
    let assignments: Vec<PersonAssignment> = link_records
        .iter()
        .zip(&persons)
        .map(|(r, p)| PersonAssignment {
            record_key: r.record.id.to_string(),
            content_sha256: Some(r.content_sha256.clone()),
            person_id: p.to_string(),
        })
        .collect();
    let events_json = serde_json::to_string(&events)?;
    let model_json = model.map(|m| serde_json::to_string(&m)).transpose()?;
    store_linkage(
        conn,
        &LinkageRun {
            ran_at,
            persons: &assignments,
            pairs: &pairs,
            decisions: decisions.len(),
            events_json: &events_json,
            inputs_sha256: Some(&inputs_sha256),
            model_json: model_json.as_deref(),
            spec_json: Some(&spec_json),
            decisions_sha256: Some(&decisions_sha),
        },
    )?;
    let changes = events.iter().filter(|e| matches!(e, link::IdEvent::Split { .. } | link::IdEvent::Merged { .. })).count();
    Ok(Linked {
        records: records.len(),
        persons: persons.iter().collect::<BTreeSet<_>>().len(),
        decisions: decisions.len(),
        changes,
        rerun: true,
        incremental,
        assignments,
        pairs,
    })
}

/// The model of the latest run, when that run used this spec and honoured these decisions.
fn reusable_run(conn: &Connection, spec_json: &str, decisions_sha: &str) -> Result<Option<link::fs::FsModel>, StoreError> {
    let Some((model, spec, decisions)) = latest_run_settings(conn)? else {
        return Ok(None);
    };
    match model {
        Some(model) if spec.as_deref() == Some(spec_json) && decisions.as_deref() == Some(decisions_sha) => {
            Ok(Some(serde_json::from_str(&model)?))
        }
        _ => Ok(None),
    }
}

/// The latest run's model, spec and decisions digest (each absent in registers of older
/// versions); `None` before any run.
type RunSettings = (Option<String>, Option<String>, Option<String>);

fn latest_run_settings(conn: &Connection) -> Result<Option<RunSettings>, StoreError> {
    let latest = conn.query_row(
        "SELECT model_json, spec_json, decisions_sha256 FROM link_runs ORDER BY run_id DESC LIMIT 1",
        [],
        |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?)),
    );
    match latest {
        Ok(row) => Ok(Some(row)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The model the latest run scored with, when the register recorded it.
pub(crate) fn latest_model(conn: &Connection) -> Result<Option<link::fs::FsModel>, StoreError> {
    match latest_run_settings(conn)? {
        Some((Some(model), _, _)) => Ok(Some(serde_json::from_str(&model)?)),
        _ => Ok(None),
    }
}

/// The spec the latest run linked with, when the register recorded it.
pub(crate) fn latest_spec(conn: &Connection) -> Result<Option<LinkSpec>, StoreError> {
    match latest_run_settings(conn)? {
        Some((_, Some(spec), _)) => Ok(Some(serde_json::from_str(&spec)?)),
        _ => Ok(None),
    }
}

/// The order of an incremental run (indices into `current`, the previous run's records first)
/// and how many of them the previous run saw, when every record the previous run assigned is still current and unchanged and some records
/// are new; `None` when anything else changed (then everything is linked again).
fn incremental_order(current: &[LinkRecord], previous: &[PersonAssignment]) -> Option<(Vec<usize>, usize)> {
    let before: HashMap<&str, Option<&str>> =
        previous.iter().map(|p| (p.record_key.as_str(), p.content_sha256.as_deref())).collect();
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for (i, r) in current.iter().enumerate() {
        match before.get(r.record.id.as_str()) {
            Some(Some(content)) if *content == r.content_sha256 => old.push(i),
            Some(_) => return None,
            None => new.push(i),
        }
    }
    if old.len() != previous.len() || old.is_empty() || new.is_empty() {
        return None;
    }
    let seen = old.len();
    old.extend(new);
    Some((old, seen))
}

/// The run's pairs as stored: keys in order, waterfalls for the uncertain ones (from a linker
/// holding the run's model, so nothing is trained twice).
fn pair_rows(records: &[StandardRecord], outcome: &link::LinkOutcome, inputs: &LinkInputs) -> Result<Vec<PairRow>, StoreError> {
    let uncertain = |p: f64| p > REVIEW_BAND.0 && p < REVIEW_BAND.1;
    let explainer = if outcome.pairs.iter().any(|p| uncertain(p.match_probability)) {
        let reuse = LinkInputs { model: Some(outcome.model.clone()), ..*inputs };
        Some(Linker::train(records, &reuse)?)
    } else {
        None
    };
    let mut pairs = Vec::with_capacity(outcome.pairs.len());
    for p in &outcome.pairs {
        let (a, b) = (&records[p.left as usize].id, &records[p.right as usize].id);
        let (l, r) = if a <= b { (a, b) } else { (b, a) };
        let explanation_json = match &explainer {
            Some(linker) if uncertain(p.match_probability) => Some(serde_json::to_string(&linker.explain(l, r)?)?),
            _ => None,
        };
        pairs.push(PairRow {
            record_key_l: l.to_string(),
            record_key_r: r.to_string(),
            match_weight: p.match_weight,
            match_probability: p.match_probability,
            explanation_json,
        });
    }
    pairs.sort_by(|x, y| (&x.record_key_l, &x.record_key_r).cmp(&(&y.record_key_l, &y.record_key_r)));
    Ok(pairs)
}

/// The latest run's persons and pairs: its inputs are exactly today's, so a new run would
/// reproduce it. `None` when it does not cover every current record.
fn latest_run(conn: &Connection, current: &[LinkRecord], decisions: usize) -> Result<Option<Linked>, StoreError> {
    let stored: HashMap<String, PersonAssignment> =
        previous_persons(conn)?.into_iter().map(|p| (p.record_key.clone(), p)).collect();
    let Some(assignments) = current.iter().map(|r| stored.get(r.record.id.as_str()).cloned()).collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    Ok(Some(Linked {
        records: assignments.len(),
        persons: assignments.iter().map(|a| a.person_id.as_str()).collect::<BTreeSet<_>>().len(),
        decisions,
        changes: 0,
        rerun: false,
        incremental: false,
        assignments,
        pairs: stored_pairs(conn)?,
    }))
}

fn decision(row: DecisionRow) -> Decision {
    Decision {
        left: RecordId::new(row.record_key_l),
        right: RecordId::new(row.record_key_r),
        kind: if row.must_link { DecisionKind::MustLink } else { DecisionKind::CannotLink },
        who: row.who,
        when: row.decided_at,
        why: row.why,
    }
}

/// The previous person of each current record, which the new clustering inherits ids from.
/// A record whose content the previous run saw under another key (its row moved in a new file
/// version) takes that record's person; otherwise a record keeps the person its key had, unless
/// the record that had the key moved elsewhere (then the row is new).
fn inherited_persons(current: &[LinkRecord], previous: &[PersonAssignment]) -> BTreeMap<RecordId, PersonId> {
    let by_key: HashMap<&str, &PersonAssignment> = previous.iter().map(|p| (p.record_key.as_str(), p)).collect();
    let present: HashSet<&str> = current.iter().map(|r| r.content_sha256.as_str()).collect();
    // Identical rows of one source share a fingerprint; the smallest key's person stands for them.
    let mut by_content: HashMap<&str, &str> = HashMap::new();
    for p in previous {
        if let Some(content) = &p.content_sha256 {
            by_content.entry(content.as_str()).or_insert(p.person_id.as_str());
        }
    }
    let mut inherited = BTreeMap::new();
    for r in current {
        let key = r.record.id.as_str();
        let same = by_key.get(key).filter(|p| p.content_sha256.as_deref() == Some(r.content_sha256.as_str()));
        let person = same
            .map(|p| p.person_id.as_str())
            .or_else(|| by_content.get(r.content_sha256.as_str()).copied())
            .or_else(|| {
                let edited_in_place = |p: &&&PersonAssignment| p.content_sha256.as_deref().is_none_or(|c| !present.contains(c));
                by_key.get(key).filter(edited_in_place).map(|p| p.person_id.as_str())
            });
        if let Some(person) = person {
            inherited.insert(r.record.id.clone(), PersonId::new(person));
        }
    }
    inherited
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current(key: &str, content: &str) -> LinkRecord {
        LinkRecord {
            record: model::StandardRecord { id: RecordId::new(key), ..Default::default() },
            content_sha256: content.to_owned(),
        }
    }

    fn before(key: &str, content: Option<&str>, person: &str) -> PersonAssignment {
        PersonAssignment { record_key: key.to_owned(), content_sha256: content.map(str::to_owned), person_id: person.to_owned() }
    }

    #[test]
    fn moved_rows_keep_their_person_and_edited_rows_keep_their_key_s_person() {
        let previous = [
            before("s:f:2", Some("c-ivanov"), "P1"),
            before("s:f:3", Some("c-petrov"), "P2"),
            before("s:f:4", None, "P3"),
            before("s:f:6", Some("c-sidorov"), "P4"),
        ];
        // A row was inserted at the top: Ivanov moved to row 3, Petrov to row 4 (over a record
        // without a fingerprint); row 2 is new; row 5 is unknown; row 6 was edited in place.
        let now = [
            current("s:f:2", "c-new"),
            current("s:f:3", "c-ivanov"),
            current("s:f:4", "c-petrov"),
            current("s:f:5", "c-x"),
            current("s:f:6", "c-sidorov-corrected"),
        ];
        let inherited = inherited_persons(&now, &previous);
        let got: Vec<(&str, &str)> = inherited.iter().map(|(r, p)| (r.as_str(), p.as_str())).collect();
        assert_eq!(got, vec![("s:f:3", "P1"), ("s:f:4", "P2"), ("s:f:6", "P4")]);
    }
}
