//! Re-linking a project's register with reviewers' decisions: the current records become
//! standard records, the effective decisions become must-link / cannot-link data for the `link`
//! crate, and the new persons, scored pairs and waterfalls are written back in one transaction.

use crate::WebError;
use link::{Decision, DecisionKind, FoldingMatcher, LinkInputs, LinkSpec, Linker};
use model::{PersonId, RecordId, Sex, SourceId, StandardRecord, Value};
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::BTreeMap;

/// Pairs whose probability lies strictly inside this band get their waterfall stored for review.
const EXPLAIN_BAND: (f64, f64) = (0.02, 0.98);
/// Pairs below this probability are not kept at all.
const PAIR_FLOOR: f64 = 0.02;

/// What a run did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub records: usize,
    pub persons: usize,
    pub pairs: usize,
    pub decisions: usize,
}

/// The current records as standard records (id = record key), in record-key order.
pub fn standard_records(conn: &Connection) -> Result<Vec<StandardRecord>, WebError> {
    let mut stmt = conn.prepare(
        "SELECT r.record_key, f.source_id, a.field, a.value_text, a.raw, a.value_json
         FROM records r JOIN current_files f USING (file_id) LEFT JOIN assertions a ON a.record_id = r.record_id
         ORDER BY r.record_key, a.ordinal",
    )?;
    let mut rows = stmt.query([])?;
    let mut out: Vec<StandardRecord> = Vec::new();
    while let Some(row) = rows.next()? {
        let key: String = row.get(0)?;
        if out.last().is_none_or(|r| r.id.as_str() != key) {
            out.push(StandardRecord {
                id: RecordId::new(key),
                source: Some(SourceId::new(row.get::<_, String>(1)?)),
                ..StandardRecord::default()
            });
        }
        let record = out.last_mut().expect("pushed above");
        let Some(field) = row.get::<_, Option<String>>(2)? else { continue };
        let text: Option<String> = row.get::<_, Option<String>>(3)?.or(row.get(4)?);
        match field.as_str() {
            "surname" => record.surname = text,
            "given_name" => record.given_name = text,
            "patronymic" => record.patronymic = text,
            "name" => record.name = text,
            "birth_place" => record.birth_place = text,
            "nationality" => record.nationality = text,
            "occupation" => record.occupation = text,
            "sex" => record.sex = text.as_deref().and_then(|s| match s {
                "m" => Some(Sex::Male),
                "f" => Some(Sex::Female),
                _ => None,
            }),
            "birth_date" => {
                let value: Option<Value> = serde_json::from_str(&row.get::<_, String>(5)?).ok();
                record.birth_date = value.as_ref().and_then(Value::date).copied();
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The decisions in force (not undone) whose records are both current.
pub fn effective_decisions(conn: &Connection, current: &BTreeMap<RecordId, usize>) -> Result<Vec<Decision>, WebError> {
    let mut stmt = conn.prepare(
        "SELECT record_key_l, record_key_r, kind, who, decided_at, why FROM decisions
         WHERE decision_id NOT IN (SELECT decision_id FROM decision_undos) ORDER BY decision_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Decision {
            left: RecordId::new(r.get::<_, String>(0)?),
            right: RecordId::new(r.get::<_, String>(1)?),
            kind: if r.get::<_, String>(2)? == "must_link" { DecisionKind::MustLink } else { DecisionKind::CannotLink },
            who: r.get(3)?,
            when: r.get(4)?,
            why: r.get(5)?,
        })
    })?;
    let mut out = Vec::new();
    for decision in rows {
        let decision = decision?;
        if current.contains_key(&decision.left) && current.contains_key(&decision.right) {
            out.push(decision);
        }
    }
    Ok(out)
}

/// Links the register's current records, honouring every effective decision, and stores the
/// persons (ids inherited from the previous run), the pairs and their waterfalls.
pub fn relink(conn: &mut Connection, ran_at: &str) -> Result<RunSummary, WebError> {
    let records = standard_records(conn)?;
    let index: BTreeMap<RecordId, usize> = records.iter().enumerate().map(|(i, r)| (r.id.clone(), i)).collect();
    let decisions = effective_decisions(conn, &index)?;
    let previous: BTreeMap<RecordId, PersonId> = {
        let mut stmt = conn.prepare("SELECT record_key, person_id FROM person_records")?;
        stmt.query_map([], |r| Ok((RecordId::new(r.get::<_, String>(0)?), PersonId::new(r.get::<_, String>(1)?))))?
            .collect::<Result<_, _>>()?
    };
    let spec = LinkSpec::infer(&records);
    let matcher = FoldingMatcher;
    let inputs = LinkInputs { spec: &spec, matcher: &matcher, decisions: &decisions, previous: &previous, new_from: None, model: None, pair_floor: PAIR_FLOOR };
    let outcome = link::link(&records, &inputs)?;
    let explainer = if outcome.pairs.iter().any(|p| p.match_probability > EXPLAIN_BAND.0 && p.match_probability < EXPLAIN_BAND.1) {
        let reuse = LinkInputs { model: Some(outcome.model.clone()), ..inputs };
        Some(Linker::train(&records, &reuse)?.0)
    } else {
        None
    };
    let tx = conn.transaction()?;
    tx.execute_batch("DELETE FROM person_records; DELETE FROM link_pairs;")?;
    {
        let mut insert = tx.prepare("INSERT INTO person_records (record_key, person_id) VALUES (?1, ?2)")?;
        for (record, person) in records.iter().zip(&outcome.persons) {
            insert.execute(params![record.id.as_str(), person.as_str()])?;
        }
        let mut insert = tx.prepare(
            "INSERT OR REPLACE INTO link_pairs (record_key_l, record_key_r, match_weight, match_probability, explanation_json)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for pair in &outcome.pairs {
            let (a, b) = (&records[pair.left as usize].id, &records[pair.right as usize].id);
            let (l, r) = if a.as_str() <= b.as_str() { (a, b) } else { (b, a) };
            let explanation = match &explainer {
                Some(linker) if pair.match_probability > EXPLAIN_BAND.0 && pair.match_probability < EXPLAIN_BAND.1 => {
                    Some(serde_json::to_string(&linker.explain(l, r)?).map_err(|e| WebError::Internal(e.to_string()))?)
                }
                _ => None,
            };
            insert.execute(params![l.as_str(), r.as_str(), pair.match_weight, pair.match_probability, explanation])?;
        }
    }
    let persons = outcome.persons.iter().collect::<std::collections::BTreeSet<_>>().len();
    let events = serde_json::to_string(&outcome.events).map_err(|e| WebError::Internal(e.to_string()))?;
    tx.execute(
        "INSERT INTO link_runs (ran_at, records, persons, pairs, decisions, events_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![ran_at, records.len() as i64, persons as i64, outcome.pairs.len() as i64, decisions.len() as i64, events],
    )?;
    tx.commit()?;
    Ok(RunSummary { records: records.len(), persons, pairs: outcome.pairs.len(), decisions: decisions.len() })
}

/// Whether linkage has ever run on this register.
pub fn has_run(conn: &Connection) -> Result<bool, WebError> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM link_runs)", [], |r| r.get(0))?)
}
