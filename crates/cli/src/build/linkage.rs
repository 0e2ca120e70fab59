//! The linkage step of `build`: the register's current records are linked into persons with
//! every reviewer's decision honoured, person ids inherited from the previous run, and the
//! persons, scored pairs and split/merge history stored in the register in one transaction;
//! `out/clusters.csv` and `out/pairs.csv` are written as `kartoteka link` writes them.
//!
//! The link spec is the `[link]` section of `kartoteka.toml` or a `link.toml` beside it (not
//! both); without either, comparisons and blocking are inferred from the fields records fill.

use super::Project;
use crate::link::{complete_spec, write_clusters, write_pairs};
use anyhow::{Context, Result, bail};
use link::{Decision, DecisionKind, FoldingMatcher, LinkInputs, LinkSpec, Linker};
use model::{PersonId, RecordId};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use store::{DecisionRow, LinkRecord, LinkageRun, PairRow, PersonAssignment, Register};

/// Pairs below this probability are neither stored nor exported.
const PAIR_FLOOR: f64 = 0.02;
/// Pairs strictly inside this band are uncertain: their waterfall is stored for the review queue.
const REVIEW_BAND: (f64, f64) = (0.02, 0.98);

/// What the step did, for the console.
pub struct Linked {
    pub records: usize,
    pub persons: usize,
    pub pairs: usize,
    pub decisions: usize,
    /// Persons split or merged since the previous run.
    pub changes: usize,
    /// Whether linkage ran (otherwise nothing it depends on changed and the latest run stands).
    pub rerun: bool,
}

pub fn run(register: &mut Register, project: &Project, out: &Path, ran_at: &str) -> Result<Linked> {
    let link_records = register.current_link_records()?;
    let records: Vec<model::StandardRecord> = link_records.iter().map(|r| r.record.clone()).collect();
    let spec = complete_spec(declared_spec(project)?, &records, None)?;
    let previous = inherited_persons(&link_records, &register.previous_persons()?);
    let current: BTreeSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    let decision_rows: Vec<DecisionRow> = register
        .decisions_in_force()?
        .into_iter()
        .filter(|d| current.contains(d.record_key_l.as_str()) && current.contains(d.record_key_r.as_str()))
        .collect();
    let inputs_sha256 = store::linkage_inputs_sha256(&link_records, &serde_json::to_string(&spec)?, &decision_rows)?;
    if register.latest_linkage_inputs()?.as_deref() == Some(inputs_sha256.as_str())
        && let Some(linked) = reuse_latest_run(register, &link_records, out, decision_rows.len())?
    {
        return Ok(linked);
    }
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
    let (persons, events, pairs) = if records.is_empty() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        let outcome = link::link(&records, &inputs)?;
        let uncertain = |p: f64| p > REVIEW_BAND.0 && p < REVIEW_BAND.1;
        // Waterfalls come from a linker holding the run's model (no re-training).
        let explainer = if outcome.pairs.iter().any(|p| uncertain(p.match_probability)) {
            Some(Linker::train(&records, &LinkInputs { model: Some(outcome.model.clone()), ..inputs })?.0)
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
        (outcome.persons, outcome.events, pairs)
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
    register.store_linkage(&LinkageRun {
        ran_at,
        persons: &assignments,
        pairs: &pairs,
        decisions: decisions.len(),
        events_json: &events_json,
        inputs_sha256: Some(&inputs_sha256),
    })?;
    export(out, &assignments, &pairs)?;
    let changes = events.iter().filter(|e| matches!(e, link::IdEvent::Split { .. } | link::IdEvent::Merged { .. })).count();
    Ok(Linked {
        records: records.len(),
        persons: persons.iter().collect::<BTreeSet<_>>().len(),
        pairs: pairs.len(),
        decisions: decisions.len(),
        changes,
        rerun: true,
    })
}

/// The latest run's persons and pairs, exported again: its inputs are exactly today's, so a
/// new run would reproduce it. `None` when it does not cover every current record.
fn reuse_latest_run(register: &Register, current: &[LinkRecord], out: &Path, decisions: usize) -> Result<Option<Linked>> {
    let stored: HashMap<String, PersonAssignment> =
        register.previous_persons()?.into_iter().map(|p| (p.record_key.clone(), p)).collect();
    let Some(assignments) = current.iter().map(|r| stored.get(r.record.id.as_str()).cloned()).collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let pairs = register.stored_pairs()?;
    export(out, &assignments, &pairs)?;
    Ok(Some(Linked {
        records: assignments.len(),
        persons: assignments.iter().map(|a| a.person_id.as_str()).collect::<BTreeSet<_>>().len(),
        pairs: pairs.len(),
        decisions,
        changes: 0,
        rerun: false,
    }))
}

/// `out/clusters.csv` in record order and `out/pairs.csv` by record keys.
fn export(out: &Path, assignments: &[PersonAssignment], pairs: &[PairRow]) -> Result<()> {
    write_clusters(&out.join("clusters.csv"), assignments.iter().map(|a| (a.record_key.as_str(), a.person_id.as_str())))?;
    write_pairs(
        &out.join("pairs.csv"),
        pairs.iter().map(|p| (p.record_key_l.as_str(), p.record_key_r.as_str(), p.match_weight, p.match_probability)),
    )
}

/// The project's link spec as written (possibly empty: what it leaves out is inferred).
fn declared_spec(project: &Project) -> Result<LinkSpec> {
    let file = project.dir.join("link.toml");
    let section = project.manifest.sections.get("link");
    match (section, file.exists()) {
        (Some(_), true) => bail!(
            "{}: the link spec is given twice, in kartoteka.toml's [link] section and in link.toml; keep one",
            project.dir.display()
        ),
        (Some(value), false) => {
            value.clone().try_into().map_err(|e| anyhow::anyhow!("kartoteka.toml: [link]: not a link spec: {e}"))
        }
        (None, true) => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("{}: cannot read", file.display()))?;
            toml::from_str(&text).with_context(|| format!("{}: not a link spec", file.display()))
        }
        (None, false) => Ok(LinkSpec::default()),
    }
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
