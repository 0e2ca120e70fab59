//! Stable person ids and reviewers' decisions, as plain data the register can store.
//!
//! A new clustering inherits ids from the previous one by maximum overlap: each previous person's
//! id goes to the new cluster holding most of its records (ties to the smaller id), so a person
//! keeps its id unless its records are split or merged, and then the history says so. New persons
//! get an id derived from their smallest record id, so a from-scratch re-run gives the same ids.

use model::{PersonId, RecordId};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// A reviewer's decision about two records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub left: RecordId,
    pub right: RecordId,
    pub kind: DecisionKind,
    pub who: String,
    /// When, as the reviewer's tool recorded it (the link crate reads no clock).
    pub when: String,
    pub why: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    MustLink,
    CannotLink,
}

/// What happened to persons between two clusterings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum IdEvent {
    /// A person with records from no previous person.
    Created { person: PersonId },
    /// A previous person's records now lie in several persons; `kept` holds its id.
    Split { from: PersonId, kept: PersonId, into: Vec<PersonId> },
    /// Several previous persons' records now form one person, which keeps one of their ids.
    Merged { from: Vec<PersonId>, into: PersonId },
    /// A previous person none of whose records remain (its source was withdrawn).
    Retired { person: PersonId },
}

/// The id of a brand-new person: a hash of its smallest record id, so re-runs agree.
fn fresh_id(first_record: &RecordId, taken: &HashSet<PersonId>) -> PersonId {
    for salt in 0u64.. {
        let id = salted_id(first_record, salt);
        if !taken.contains(&id) {
            return id;
        }
    }
    unreachable!("the salt loop always finds a free id")
}

/// The id a new person whose smallest record is `first_record` gets with `salt` (the first salt
/// whose id is not taken is used).
fn salted_id(first_record: &RecordId, salt: u64) -> PersonId {
    person_id(salted_bits(first_record, salt))
}

/// The 48 bits that [`salted_id`] writes out: two ids are equal when these are.
fn salted_bits(first_record: &RecordId, salt: u64) -> u64 {
    (model::fnv1a(first_record.as_str().as_bytes()) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)) & 0xFFFF_FFFF_FFFF
}

/// `P` and the 48 bits in twelve lower-case hex digits (as `format!("P{bits:012x}")`, without
/// formatting machinery: a run names every new person).
fn person_id(bits: u64) -> PersonId {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(13);
    text.push('P');
    for shift in (0..12).rev() {
        text.push(HEX[(bits >> (4 * shift) & 0xF) as usize] as char);
    }
    PersonId::new(text)
}

/// Assigns ids to `clusters` of record numbers (indices into `record_ids`), inheriting from
/// `previous`, without copying record ids: the person of each cluster, and the history.
/// `cluster_of` finds the cluster of a previous record (`None`: it is in none).
pub fn assign_cluster_ids(
    clusters: &[&[u32]],
    record_ids: &[RecordId],
    previous: &BTreeMap<RecordId, PersonId>,
    cluster_of: impl Fn(&RecordId) -> Option<usize>,
) -> (Vec<PersonId>, Vec<IdEvent>) {
    let id = |r: &u32| &record_ids[*r as usize];
    // Overlap of every (new cluster, previous person) pair.
    let mut overlaps: Vec<(usize, PersonId, usize)> = Vec::new();
    let mut prev_sizes: BTreeMap<&PersonId, usize> = BTreeMap::new();
    for pid in previous.values() {
        *prev_sizes.entry(pid).or_insert(0) += 1;
    }
    if !previous.is_empty() {
        for (c, records) in clusters.iter().enumerate() {
            let mut per: BTreeMap<&PersonId, usize> = BTreeMap::new();
            for r in records.iter() {
                if let Some(pid) = previous.get(id(r)) {
                    *per.entry(pid).or_insert(0) += 1;
                }
            }
            overlaps.extend(per.into_iter().map(|(pid, n)| (c, pid.clone(), n)));
        }
    }
    // Largest overlaps first; ties to the smaller person id, then the earlier cluster.
    overlaps.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)).then_with(|| a.0.cmp(&b.0)));
    let mut cluster_id: Vec<Option<PersonId>> = vec![None; clusters.len()];
    let mut used: BTreeSet<PersonId> = BTreeSet::new();
    for (c, pid, _) in &overlaps {
        if cluster_id[*c].is_none() && !used.contains(pid) {
            cluster_id[*c] = Some(pid.clone());
            used.insert(pid.clone());
        }
    }
    // New persons in the order of their smallest records, each taking the first salted id that
    // no previous or earlier new person has.
    let no_record = RecordId::default();
    let first: Vec<&RecordId> = clusters.par_iter().map(|c| c.iter().map(id).min().unwrap_or(&no_record)).collect();
    let mut order: Vec<usize> = (0..clusters.len()).filter(|&c| cluster_id[c].is_none()).collect();
    order.par_sort_by(|&a, &b| first[a].cmp(first[b]));
    let created: Vec<bool> = order.par_iter().map(|&c| !clusters[c].iter().any(|r| previous.contains_key(id(r)))).collect();
    // Unsalted ids that collide with no previous person and no other new person are what the
    // salted search gives, found in parallel; any collision takes the search in order.
    let mut bits: Vec<u64> = order.par_iter().map(|&c| salted_bits(first[c], 0)).collect();
    let unsalted: Vec<PersonId> = bits.par_iter().map(|&b| person_id(b)).collect();
    bits.par_sort_unstable();
    let collide = bits.windows(2).any(|w| w[0] == w[1]) || unsalted.par_iter().any(|p| prev_sizes.contains_key(p));
    let fresh: Vec<PersonId> = if collide {
        // Only asked whether an id is taken (for each new person): hashed, not ordered.
        let mut taken: HashSet<PersonId> = previous.values().cloned().collect();
        order
            .iter()
            .map(|&c| {
                let fresh = fresh_id(first[c], &taken);
                taken.insert(fresh.clone());
                fresh
            })
            .collect()
    } else {
        unsalted
    };
    let mut events: Vec<IdEvent> = Vec::new();
    events.par_extend(fresh.par_iter().zip(&created).filter(|(_, created)| **created).map(|(p, _)| IdEvent::Created { person: p.clone() }));
    for (c, fresh) in order.into_iter().zip(fresh) {
        cluster_id[c] = Some(fresh);
    }
    let cluster_id: Vec<PersonId> = cluster_id.into_iter().map(|c| c.expect("every cluster has an id")).collect();
    // History: where did each previous person's records go, and what did each new one absorb?
    let mut went: BTreeMap<&PersonId, BTreeSet<&PersonId>> = BTreeMap::new();
    let mut came: BTreeMap<&PersonId, BTreeSet<&PersonId>> = BTreeMap::new();
    for (r, old) in previous {
        if let Some(c) = cluster_of(r) {
            let new = &cluster_id[c];
            went.entry(old).or_default().insert(new);
            came.entry(new).or_default().insert(old);
        }
    }
    for (old, news) in &went {
        if news.len() > 1 {
            let kept = if news.contains(old) { (*old).clone() } else { (*news.iter().next().expect("non-empty")).clone() };
            events.push(IdEvent::Split { from: (*old).clone(), kept, into: news.iter().map(|p| (*p).clone()).collect() });
        }
    }
    for (new, olds) in &came {
        if olds.len() > 1 {
            events.push(IdEvent::Merged { from: olds.iter().map(|p| (*p).clone()).collect(), into: (*new).clone() });
        }
    }
    for old in prev_sizes.keys() {
        if !went.contains_key(old) {
            events.push(IdEvent::Retired { person: (*old).clone() });
        }
    }
    (cluster_id, events)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Assigns ids to `clusters` (each a list of record ids), inheriting from `previous`.
    /// Returns the record -> person map and the history of what changed: the tests' view of
    /// [`assign_cluster_ids`].
    fn assign_ids(clusters: &[Vec<RecordId>], previous: &BTreeMap<RecordId, PersonId>) -> (BTreeMap<RecordId, PersonId>, Vec<IdEvent>) {
        let record_ids: Vec<RecordId> = clusters.iter().flatten().cloned().collect();
        let mut next = 0u32;
        let indexed: Vec<Vec<u32>> = clusters
            .iter()
            .map(|c| {
                next += c.len() as u32;
                (next - c.len() as u32..next).collect()
            })
            .collect();
        let mut cluster_of: BTreeMap<&RecordId, usize> = BTreeMap::new();
        for (c, records) in clusters.iter().enumerate() {
            for r in records {
                cluster_of.insert(r, c);
            }
        }
        let indexed: Vec<&[u32]> = indexed.iter().map(Vec::as_slice).collect();
        let (ids, events) = assign_cluster_ids(&indexed, &record_ids, previous, |r| cluster_of.get(r).copied());
        let mut assignment = BTreeMap::new();
        for (c, records) in clusters.iter().enumerate() {
            for r in records {
                assignment.insert(r.clone(), ids[c].clone());
            }
        }
        (assignment, events)
    }

    fn clusters(spec: &[&[&str]]) -> Vec<Vec<RecordId>> {
        spec.iter().map(|c| c.iter().map(|r| RecordId::from(*r)).collect()).collect()
    }

    #[test]
    fn rerun_keeps_ids_and_new_persons_get_fresh_ones() {
        let (first, events) = assign_ids(&clusters(&[&["a1", "b1"], &["a2"]]), &BTreeMap::new());
        assert_eq!(events.len(), 2);
        // Same clusters again, from scratch: same ids (derived from the records).
        let (again, _) = assign_ids(&clusters(&[&["a2"], &["b1", "a1"]]), &BTreeMap::new());
        assert_eq!(first, again);
        // A new source adds c1 to the first person and a new person c2: old ids stay.
        let (third, events) = assign_ids(&clusters(&[&["a1", "b1", "c1"], &["a2"], &["c2"]]), &first);
        assert_eq!(third[&RecordId::from("a1")], first[&RecordId::from("a1")]);
        assert_eq!(third[&RecordId::from("c1")], first[&RecordId::from("a1")]);
        assert_eq!(third[&RecordId::from("a2")], first[&RecordId::from("a2")]);
        assert_eq!(events, vec![IdEvent::Created { person: third[&RecordId::from("c2")].clone() }]);
    }

    proptest::proptest! {
        #[test]
        fn a_person_id_is_its_bits_in_hex(bits in 0u64..1 << 48) {
            proptest::prop_assert_eq!(person_id(bits), PersonId::new(format!("P{bits:012x}")));
        }
    }

    #[test]
    fn a_new_person_whose_id_is_taken_gets_the_next_salt() {
        // Record "x"'s previous person happens to have the id a new person first on "a" would get.
        let a = RecordId::from("a");
        let previous: BTreeMap<RecordId, PersonId> = [(RecordId::from("x"), salted_id(&a, 0))].into_iter().collect();
        let (now, events) = assign_ids(&clusters(&[&["a"], &["x"], &["b"]]), &previous);
        assert_eq!(now[&RecordId::from("x")], salted_id(&a, 0));
        assert_eq!(now[&a], salted_id(&a, 1));
        assert_eq!(now[&RecordId::from("b")], salted_id(&RecordId::from("b"), 0));
        assert_eq!(events.len(), 2, "{events:?}");
    }

    #[test]
    fn splits_and_merges_are_recorded() {
        let previous: BTreeMap<RecordId, PersonId> = [("a", "P1"), ("b", "P1"), ("c", "P1"), ("d", "P2"), ("e", "P3")]
            .into_iter()
            .map(|(r, p)| (RecordId::from(r), PersonId::from(p)))
            .collect();
        let (now, events) = assign_ids(&clusters(&[&["a", "b"], &["c"], &["d", "e"]]), &previous);
        assert_eq!(now[&RecordId::from("a")], PersonId::from("P1"));
        assert_eq!(now[&RecordId::from("d")], PersonId::from("P2"));
        let c_id = now[&RecordId::from("c")].clone();
        assert_ne!(c_id, PersonId::from("P1"));
        assert_eq!(
            events,
            vec![
                IdEvent::Split { from: "P1".into(), kept: "P1".into(), into: vec!["P1".into(), c_id] },
                IdEvent::Merged { from: vec!["P2".into(), "P3".into()], into: "P2".into() },
            ]
        );
    }
}
