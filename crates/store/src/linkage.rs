//! What linkage reads from and writes to the register: current records as standard records,
//! the decisions in force, the previous run's persons, and one run's results in one transaction.
//!
//! The `link` crate never sees the register (it is pure); `kartoteka build` and the web app's
//! re-link move plain data between the two through these functions.

use crate::{Register, StoreError};
use model::{RecordId, Sex, SourceId, StandardRecord, UncertainDate, Value};
use rusqlite::params;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

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
    for d in decisions {
        for part in [d.record_key_l.as_str(), d.record_key_r.as_str(), if d.must_link { "must_link" } else { "cannot_link" }] {
            hasher.update(part.as_bytes());
            hasher.update(b"\x1f");
        }
    }
    Ok(hex::encode(hasher.finalize()))
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
        let mut stmt = self.conn.prepare(
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
    pub fn previous_persons(&self) -> Result<Vec<PersonAssignment>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT record_key, content_sha256, person_id FROM person_records ORDER BY record_key")?;
        let rows = stmt.query_map([], |r| {
            Ok(PersonAssignment { record_key: r.get(0)?, content_sha256: r.get(1)?, person_id: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The person of every current record, by record key: what profiles, cohorts and analyses
    /// group records by. Empty until linkage has run; a current record that the latest run did
    /// not see (its source was ingested after it) is missing.
    pub fn persons_of_current_records(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT p.record_key, p.person_id FROM person_records p
             WHERE p.record_key IN (SELECT r.record_key FROM records r JOIN current_files USING (file_id))
             ORDER BY p.record_key",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Reviewers' decisions in force, oldest first: undone decisions are dropped, and of several
    /// decisions about one pair (in either order) only the latest counts.
    pub fn decisions_in_force(&self) -> Result<Vec<DecisionRow>, StoreError> {
        let mut stmt = self.conn.prepare(
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
    pub fn latest_linkage_inputs(&self) -> Result<Option<String>, StoreError> {
        let latest = self.conn.query_row(
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
    pub fn stored_pairs(&self) -> Result<Vec<PairRow>, StoreError> {
        let mut stmt = self.conn.prepare(
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

    /// Replaces the persons and scored pairs with one run's and appends the run to `link_runs`,
    /// all in one transaction: readers see the previous run or this one, never a mixture.
    pub fn store_linkage(&mut self, run: &LinkageRun) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
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
            "INSERT INTO link_runs (ran_at, records, persons, pairs, decisions, events_json, inputs_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                run.ran_at,
                run.persons.len() as i64,
                persons as i64,
                run.pairs.len() as i64,
                run.decisions as i64,
                run.events_json,
                run.inputs_sha256
            ],
        )?;
        tx.commit()?;
        Ok(())
    }
}
