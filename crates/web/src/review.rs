//! Review: the queue of uncertain pairs (probability nearest 0.5 first), pairs side by side with
//! the match waterfall, and decisions (accept, reject, merge, split) stored append-only with who,
//! when and why. Every reviewed item (a pair or a person) has a version; a decision names the
//! version its reviewer saw (a pair's also the persons its records were in, at their versions),
//! and a decision on a changed item, or on a record since moved into a person its reviewer did
//! not see, is refused as a conflict, so two reviewers deciding at once never overwrite each
//! other. Undo appends, never deletes. With blind double review on, decisions start as votes: two
//! agreeing votes make the decision, and disagreements wait on their own page for an admin.

use crate::WebError;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// What a reviewer decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The two records are one person (must-link).
    Accept,
    /// The two records are different persons (cannot-link).
    Reject,
    /// Two persons are one (must-link between them).
    Merge,
    /// Some records of a person are someone else (cannot-link across, must-link within).
    Split,
}

impl Action {
    pub fn parse(text: &str) -> Result<Action, WebError> {
        match text {
            "accept" => Ok(Action::Accept),
            "reject" => Ok(Action::Reject),
            "merge" => Ok(Action::Merge),
            "split" => Ok(Action::Split),
            other => Err(WebError::bad("action", format!("unknown action {other:?}; expected accept, reject, merge or split"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Merge => "merge",
            Action::Split => "split",
        }
    }
}

/// The item key of a pair: the two record keys in order.
pub fn pair_item(a: &str, b: &str) -> (String, String, String) {
    let (l, r) = if a <= b { (a, b) } else { (b, a) };
    (pair_key(l, r), l.to_owned(), r.to_owned())
}

/// The item key of two record keys as given (a stored pair is in order already).
fn pair_key(l: &str, r: &str) -> String {
    format!("pair:{l}|{r}")
}

/// Registers the SQL function `pair_item(l, r)`, the item key of a stored pair as [`pair_key`]
/// writes it, so the queries below match decisions and votes to pairs by the one definition.
pub fn register_sql_functions(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("pair_item", 2, flags, |ctx| {
        let (l, r): (Option<String>, Option<String>) = (ctx.get(0)?, ctx.get(1)?);
        Ok(l.zip(r).map(|(l, r)| pair_key(&l, &r)))
    })
}

/// The item key of a person; the store's, which a linkage run bumps when it moves the person's
/// records.
pub fn person_item(person_id: &str) -> String {
    store::person_review_item(person_id)
}

/// The version of an item (0 before any decision).
pub fn version(conn: &Connection, item: &str) -> Result<i64, WebError> {
    Ok(conn.query_row("SELECT version FROM review_items WHERE item = ?1", [item], |r| r.get(0)).optional()?.unwrap_or(0))
}

/// A pair waiting for review.
#[derive(Clone, Debug, Serialize)]
pub struct Pending {
    pub record_key_l: String,
    pub record_key_r: String,
    pub match_probability: f64,
    pub match_weight: f64,
}

/// The uncertain pairs nobody has decided yet, most informative (nearest 0.5) first. With
/// `votes_of` (double review), pairs this reviewer voted on, or that have two votes, are left out.
pub fn queue(conn: &Connection, limit: i64, votes_of: Option<&str>) -> Result<Vec<Pending>, WebError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.record_key_l, p.record_key_r, p.match_probability, p.match_weight FROM link_pairs p
         WHERE p.explanation_json IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.item = pair_item(p.record_key_l, p.record_key_r)
                           AND d.decision_id NOT IN (SELECT decision_id FROM decision_undos))
           AND (?2 IS NULL OR (
                NOT EXISTS (SELECT 1 FROM review_votes v WHERE v.item = pair_item(p.record_key_l, p.record_key_r) AND v.who = ?2)
                AND (SELECT count(*) FROM review_votes v WHERE v.item = pair_item(p.record_key_l, p.record_key_r)) < 2))
         ORDER BY abs(p.match_probability - 0.5), p.record_key_l, p.record_key_r LIMIT ?1",
    )?;
    Ok(stmt
        .query_map(params![limit, votes_of], |r| {
            Ok(Pending { record_key_l: r.get(0)?, record_key_r: r.get(1)?, match_probability: r.get(2)?, match_weight: r.get(3)? })
        })?
        .collect::<Result<_, _>>()?)
}

/// The stored pair, with its waterfall (JSON of `link::fs::Explanation`) when it was uncertain.
pub fn pair(conn: &Connection, l: &str, r: &str) -> Result<Option<(f64, f64, Option<serde_json::Value>)>, WebError> {
    let row: Option<(f64, f64, Option<String>)> = conn
        .query_row(
            "SELECT match_weight, match_probability, explanation_json FROM link_pairs WHERE record_key_l = ?1 AND record_key_r = ?2",
            params![l, r],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    Ok(row.map(|(w, p, e)| (w, p, e.and_then(|e| serde_json::from_str(&e).ok()))))
}

/// A decision as the audit trail shows it.
#[derive(Clone, Debug, Serialize)]
pub struct DecisionRow {
    pub decision_id: i64,
    pub item: String,
    pub action: String,
    pub kind: String,
    pub record_key_l: String,
    pub record_key_r: String,
    pub who: String,
    pub decided_at: String,
    pub why: String,
    /// The current version of the decision's item (what an undo of it must name).
    pub item_version: i64,
    /// (who, when, why) when undone.
    pub undone: Option<(String, String, String)>,
}

/// Who a blind reviewer is told undid one of their decisions when someone else did: the undo's
/// author and note (a later decision's action, "superseded by a later reject decision") are
/// another reviewer's call on the item, which blind double review hides.
pub const SOMEONE_ELSE: &str = "someone else";

/// Decisions, newest first; when `item` is given, those of the item (for a pair: also the
/// merges and splits that decided on its two records) and those about any of `records` (a
/// person's page shows what was decided about its records on their pairs). With `blind_for`
/// (a reviewer, not an admin, under blind double review) only that reviewer's own decisions
/// (a merge or split of theirs: their votes are not decisions, and a decision two votes made
/// names the other voter), an undo of one by someone else shown as [`SOMEONE_ELSE`]'s without
/// its note: what the review form hides from them, no list shows.
pub fn decisions(conn: &Connection, item: Option<&str>, records: &[String], limit: i64, blind_for: Option<&str>) -> Result<Vec<DecisionRow>, WebError> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.decision_id, d.item, d.action, d.kind, d.record_key_l, d.record_key_r, d.who, d.decided_at, d.why,
                u.who, u.undone_at, u.why, coalesce(i.version, 0)
         FROM decisions d LEFT JOIN decision_undos u USING (decision_id) LEFT JOIN review_items i ON i.item = d.item
         WHERE (?1 IS NULL OR d.item = ?1 OR pair_item(d.record_key_l, d.record_key_r) = ?1
                OR d.record_key_l IN (SELECT value FROM json_each(?3)) OR d.record_key_r IN (SELECT value FROM json_each(?3)))
           AND (?4 IS NULL OR d.who = ?4)
         ORDER BY d.decision_id DESC LIMIT ?2",
    )?;
    let records = serde_json::to_string(records).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(stmt
        .query_map(params![item, limit, records, blind_for], |r| {
            let undone_by: Option<String> = r.get(9)?;
            Ok(DecisionRow {
                decision_id: r.get(0)?,
                item: r.get(1)?,
                action: r.get(2)?,
                kind: r.get(3)?,
                record_key_l: r.get(4)?,
                record_key_r: r.get(5)?,
                who: r.get(6)?,
                decided_at: r.get(7)?,
                why: r.get(8)?,
                item_version: r.get(12)?,
                undone: match undone_by {
                    Some(who) if blind_for.is_some_and(|me| me != who) => Some((SOMEONE_ELSE.to_owned(), r.get(10)?, String::new())),
                    Some(who) => Some((who, r.get(10)?, r.get(11)?)),
                    None => None,
                },
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// A reviewer's own blind vote, as their pair page shows it ("You voted accept").
#[derive(Clone, Debug, Serialize)]
pub struct OwnVote {
    pub item: String,
    pub action: String,
    pub record_key_l: String,
    pub record_key_r: String,
    pub voted_at: String,
    pub why: String,
}

/// `who`'s own votes, newest first (of `item` only, when given); never another reviewer's.
pub fn votes_of(conn: &Connection, who: &str, item: Option<&str>, limit: i64) -> Result<Vec<OwnVote>, WebError> {
    let mut stmt = conn.prepare_cached(
        "SELECT item, action, record_key_l, record_key_r, voted_at, why FROM review_votes
         WHERE who = ?1 AND (?2 IS NULL OR item = ?2) ORDER BY vote_id DESC LIMIT ?3",
    )?;
    Ok(stmt
        .query_map(params![who, item, limit], |r| {
            Ok(OwnVote { item: r.get(0)?, action: r.get(1)?, record_key_l: r.get(2)?, record_key_r: r.get(3)?, voted_at: r.get(4)?, why: r.get(5)? })
        })?
        .collect::<Result<_, _>>()?)
}

/// A decision to store: on `item` as its reviewer saw it at `version`, as link constraints.
pub struct NewDecision {
    pub item: String,
    pub version: i64,
    pub action: Action,
    /// (left, right, must_link) constraints the decision stands for.
    pub constraints: Vec<(String, String, bool)>,
    /// The persons the reviewer saw the decision's records in, each (by id) at the version they
    /// saw: a pair's page names them in its form (`seen`), an API client in `persons`. Both are
    /// held to `check_persons_seen`. `None` when the client named no person (an API client
    /// that leaves `persons` out, a person's own page, whose item is the person): then only
    /// `item`'s version is checked.
    pub persons_seen: Option<BTreeMap<String, i64>>,
    pub who: String,
    pub why: String,
    pub at: String,
    /// Whether its reviewer is blind (a reviewer, not an admin, under double review): a refusal
    /// then names no decision on the item.
    pub sight: Sight,
}

/// Whether a refusal may name who decided what on the item: `Sighted` for an admin, or anyone
/// without double review; `Blind` for a reviewer under it, whose review form hides the item's
/// history and the other votes, so that a refusal must not show them either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sight {
    Sighted,
    Blind,
}

impl Sight {
    /// Blind for a reviewer below admin under double review, as the review form decides.
    pub fn of(double_review: bool, is_admin: bool) -> Sight {
        if double_review && !is_admin { Sight::Blind } else { Sight::Sighted }
    }
}

/// The two record keys of a pair's item; `None` for a person's.
pub fn pair_of_item(item: &str) -> Option<(&str, &str)> {
    item.strip_prefix("pair:").and_then(|p| p.split_once('|'))
}

/// The person id of a person's item ([`person_item`]); `None` for a pair's.
pub fn person_of_item(item: &str) -> Option<&str> {
    item.strip_prefix("person:")
}

/// An item as a reviewer reads it: "the pair A and B", "person P".
pub fn item_label(item: &str) -> String {
    if let Some((l, r)) = pair_of_item(item) {
        format!("the pair {l} and {r}")
    } else {
        person_of_item(item).map_or_else(|| item.to_owned(), |p| format!("person {p}"))
    }
}

/// What every stale refusal ends with: the reviewer's next step.
const DECIDE_AGAIN: &str = "Nothing of yours was stored; review the current state and decide again";

/// Fails with a conflict naming what changed when `item` is no longer at `seen`; else bumps it.
fn claim(tx: &rusqlite::Transaction, item: &str, seen: i64, sight: Sight) -> Result<i64, WebError> {
    check_version(tx, item, seen, sight)?;
    bump(tx, item)?;
    Ok(seen + 1)
}

/// Fails with a conflict naming what changed when `item` is no longer at `seen`: to a sighted
/// reviewer with the latest decision on it (who chose what, when); to a blind one without it.
fn check_version(tx: &rusqlite::Transaction, item: &str, seen: i64, sight: Sight) -> Result<(), WebError> {
    let now: i64 = tx.query_row("SELECT version FROM review_items WHERE item = ?1", [item], |r| r.get(0)).optional()?.unwrap_or(0);
    if now != seen {
        let last: Option<(String, String, String)> = if sight == Sight::Blind {
            None
        } else {
            tx.query_row(
                "SELECT who, action, decided_at FROM decisions WHERE item = ?1 OR pair_item(record_key_l, record_key_r) = ?1
                 ORDER BY decision_id DESC LIMIT 1",
                [item],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
        };
        let latest = last.map(|(who, action, at)| format!("{who} chose {action} at {at}"));
        let label = item_label(item);
        // A person's version also moves when a linkage run moves records into or out of it.
        let what = match (person_of_item(item), latest) {
            (Some(_), latest) => format!(
                "{label} changed while you were looking (a decision on it or its records, or a re-link moving records into or out of it{})",
                latest.map(|latest| format!("; latest decision on it: {latest}")).unwrap_or_default()
            ),
            (None, Some(latest)) => format!("someone else decided on {label} while you were looking (latest: {latest})"),
            (None, None) => format!("someone else decided on {label} while you were looking"),
        };
        return Err(WebError::Stale {
            item: item.to_owned(),
            message: format!("{what}: it is now at version {now}, you saw version {seen}. {DECIDE_AGAIN}"),
        });
    }
    Ok(())
}

/// The one rule for the persons a reviewer saw a decision's (or a vote's) records in, for a pair's
/// form and the API alike: it goes through only while each of its records sits in one of those
/// persons, each of those persons still holds one of its records, and each is at the version the
/// reviewer saw (a version moves with every change to the person's records, a re-link's too);
/// else it is refused as stale, naming the person that changed. Checks only: a decision bumps the
/// persons of its records after (`touch_related`), a blind vote bumps nothing, so that the second
/// reviewer's page, loaded before the first vote, stays current.
fn check_persons_seen(tx: &rusqlite::Transaction, records: &BTreeSet<&str>, seen: &BTreeMap<String, i64>, sight: Sight) -> Result<(), WebError> {
    let stale = |person: &str, what: String| WebError::Stale { item: person_item(person), message: format!("{what}. {DECIDE_AGAIN}") };
    let mut holding = BTreeSet::new();
    for key in records {
        if let Some(person) = crate::register::person_of(tx, key)? {
            if !seen.contains_key(&person) {
                let saw = if seen.is_empty() { "no person".to_owned() } else { seen.keys().map(|p| format!("person {p}")).collect::<Vec<_>>().join(", ") };
                return Err(stale(&person, format!("record {key} is in person {person} now, not in a person you saw (you saw {saw})")));
            }
            holding.insert(person);
        }
    }
    if let Some(person) = seen.keys().find(|person| !holding.contains(*person)) {
        return Err(stale(person, format!("person {person}, which you saw, holds none of the decision's records now")));
    }
    for (person, version) in seen {
        check_version(tx, &person_item(person), *version, sight)?;
    }
    Ok(())
}

fn bump(tx: &rusqlite::Transaction, item: &str) -> Result<(), WebError> {
    tx.execute("INSERT INTO review_items (item, version) VALUES (?1, 1) ON CONFLICT (item) DO UPDATE SET version = version + 1", [item])?;
    Ok(())
}

/// Bumps every other item the constraints touch (the pair of each, the persons its records
/// belong to now): a reviewer who loaded one of them before this decision then gets a
/// conflict, instead of overruling a decision they never saw.
fn touch_related<'a>(tx: &rusqlite::Transaction, item: &str, constraints: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), WebError> {
    let mut related = BTreeSet::new();
    for (a, b) in constraints {
        related.insert(pair_item(a, b).0);
        for key in [a, b] {
            if let Some(person) = crate::register::person_of(tx, key)? {
                related.insert(person_item(&person));
            }
        }
    }
    related.remove(item);
    for other in &related {
        bump(tx, other)?;
    }
    Ok(())
}

/// Stores a decision in one immediate transaction; returns the new decision ids.
pub fn decide(conn: &mut Connection, decision: &NewDecision) -> Result<Vec<i64>, WebError> {
    if decision.why.chars().count() > 2000 {
        return Err(WebError::bad("why", "a note has at most 2000 characters"));
    }
    if decision.constraints.is_empty() {
        return Err(WebError::bad("records", "the decision names no pair of records"));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    claim(&tx, &decision.item, decision.version, decision.sight)?;
    if let Some(seen) = &decision.persons_seen {
        let records = decision.constraints.iter().flat_map(|(a, b, _)| [a.as_str(), b.as_str()]).collect();
        check_persons_seen(&tx, &records, seen, decision.sight)?;
    }
    touch_related(&tx, &decision.item, decision.constraints.iter().map(|(a, b, _)| (a.as_str(), b.as_str())))?;
    let mut ids = Vec::new();
    for (a, b, must) in &decision.constraints {
        let (l, r) = if a <= b { (a, b) } else { (b, a) };
        // The latest word on a pair of records wins: an opposite decision still in force on
        // the same two records is undone (and says why), so the constraints never contradict.
        tx.execute(
            "INSERT OR IGNORE INTO decision_undos (decision_id, who, undone_at, why)
             SELECT decision_id, ?4, ?5, 'superseded by a later ' || ?6 || ' decision' FROM decisions
             WHERE record_key_l = ?1 AND record_key_r = ?2 AND kind <> ?3
               AND decision_id NOT IN (SELECT decision_id FROM decision_undos)",
            params![l, r, if *must { "must_link" } else { "cannot_link" }, decision.who, decision.at, decision.action.as_str()],
        )?;
        tx.execute(
            "INSERT INTO decisions (item, action, kind, record_key_l, record_key_r, who, decided_at, why) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                decision.item,
                decision.action.as_str(),
                if *must { "must_link" } else { "cannot_link" },
                l,
                r,
                decision.who,
                decision.at,
                decision.why
            ],
        )?;
        ids.push(tx.last_insert_rowid());
    }
    tx.commit()?;
    Ok(ids)
}

/// What a blind reviewer's undo of a decision they cannot see is told, whether the id is another
/// reviewer's decision, one two votes made, or none at all: the same 404 in the same words, so
/// that it names no decision, item or reviewer, nor tells whether the id exists.
const NOT_YOURS: &str = "decision of yours";

/// Undoes every decision of `item` made together with `decision_id` (one reviewer's action). A
/// blind reviewer (`sight`) may undo only the decisions `decisions`' `blind_for` shows them, the
/// ones they made alone (its `who` is theirs, as there): any other id is refused as [`NOT_YOURS`]
/// before its version is checked (a stale refusal or an undo, whose redirect names the item, would
/// tell about it); their own decision's stale refusal names no decision.
pub fn undo(conn: &mut Connection, decision_id: i64, seen: i64, who: &str, why: &str, at: &str, sight: Sight) -> Result<String, WebError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: Option<(String, String, String)> = tx
        .query_row("SELECT item, who, decided_at FROM decisions WHERE decision_id = ?1", [decision_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (item, decided_by, decided_at) = match (found, sight) {
        (Some(found), Sight::Sighted) => found,
        (Some(found), Sight::Blind) if found.1 == who => found,
        (_, Sight::Blind) => return Err(WebError::NotFound(NOT_YOURS.to_owned())),
        (None, Sight::Sighted) => return Err(WebError::NotFound(format!("decision {decision_id}"))),
    };
    claim(&tx, &item, seen, sight)?;
    let undone = tx.execute(
        "INSERT OR IGNORE INTO decision_undos (decision_id, who, undone_at, why)
         SELECT decision_id, ?4, ?5, ?6 FROM decisions WHERE item = ?1 AND who = ?2 AND decided_at = ?3",
        params![item, decided_by, decided_at, who, at, why],
    )?;
    if undone == 0 {
        return Err(WebError::Conflict(format!("decision {decision_id} was already undone")));
    }
    tx.commit()?;
    Ok(item)
}

/// One reviewer's blind vote on a pair (double review).
pub struct NewVote<'a> {
    pub item: &'a str,
    /// The version of `item` the reviewer saw.
    pub version: i64,
    /// The pair's records, as [`pair_item`] orders them.
    pub left: &'a str,
    pub right: &'a str,
    /// The persons the reviewer saw the two records in, as [`NewDecision::persons_seen`], held to
    /// the same rule.
    pub persons_seen: Option<&'a BTreeMap<String, i64>>,
    pub action: Action,
    pub who: &'a str,
    pub why: &'a str,
    pub at: &'a str,
}

/// Records a blind vote; when it is the second vote and agrees with the first, the decision is
/// made (by both reviewers). Returns whether a decision was made. A vote is held to the rules of
/// a decision (`decide`): on a pair at the version its reviewer saw, whose records sit in the
/// persons they saw, at their versions; else it is refused as stale and nothing is stored. Its
/// refusals are blind, as its reviewer's form: they may say that the pair is decided, or that
/// an item changed, never who decided or what.
pub fn vote(conn: &mut Connection, vote: &NewVote) -> Result<bool, WebError> {
    let NewVote { item, version, left: l, right: r, persons_seen, action, who, why, at } = *vote;
    if !matches!(action, Action::Accept | Action::Reject) {
        return Err(WebError::bad("action", "double review votes accept or reject"));
    }
    if why.chars().count() > 2000 {
        return Err(WebError::bad("why", "a note has at most 2000 characters"));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // A vote is on an undecided pair: two votes must not overrule a decision (an admin's, or a
    // merge or split of the pair's records) that the voters, blind to the history, never saw.
    let settled: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM decisions WHERE (item = ?1 OR pair_item(record_key_l, record_key_r) = ?1)
           AND decision_id NOT IN (SELECT decision_id FROM decision_undos))",
        [item],
        |r| r.get(0),
    )?;
    if settled {
        return Err(WebError::Conflict("this pair is decided already; nothing of yours was stored".to_owned()));
    }
    check_version(&tx, item, version, Sight::Blind)?;
    if let Some(seen) = persons_seen {
        check_persons_seen(&tx, &BTreeSet::from([l, r]), seen, Sight::Blind)?;
    }
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO review_votes (item, action, record_key_l, record_key_r, who, voted_at, why) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![item, action.as_str(), l, r, who, at, why],
    )?;
    if inserted == 0 {
        return Err(WebError::Conflict("you already voted on this pair".to_owned()));
    }
    let votes: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare("SELECT action, who, why FROM review_votes WHERE item = ?1 ORDER BY vote_id")?;
        stmt.query_map([item], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
    };
    let decided = votes.len() == 2 && votes[0].0 == votes[1].0;
    if decided {
        let seen = tx.query_row("SELECT version FROM review_items WHERE item = ?1", [item], |r| r.get(0)).optional()?.unwrap_or(0);
        // At the version just read: this claim cannot fail, so its refusal's words do not matter.
        claim(&tx, item, seen, Sight::Sighted)?;
        touch_related(&tx, item, [(l, r)])?;
        tx.execute(
            "INSERT INTO decisions (item, action, kind, record_key_l, record_key_r, who, decided_at, why) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                item,
                action.as_str(),
                if action == Action::Accept { "must_link" } else { "cannot_link" },
                l,
                r,
                format!("{} & {}", votes[0].1, votes[1].1),
                at,
                format!("{} / {}", votes[0].2, votes[1].2)
            ],
        )?;
    }
    tx.commit()?;
    Ok(decided)
}

/// Pairs whose two blind votes disagree and that no decision settled yet.
#[derive(Clone, Debug, Serialize)]
pub struct Disagreement {
    pub record_key_l: String,
    pub record_key_r: String,
    /// (who, action, why) of each vote.
    pub votes: Vec<(String, String, String)>,
}

pub fn disagreements(conn: &Connection) -> Result<Vec<Disagreement>, WebError> {
    let mut stmt = conn.prepare(
        "SELECT v.item, v.record_key_l, v.record_key_r, v.who, v.action, v.why FROM review_votes v
         WHERE v.item IN (SELECT item FROM review_votes GROUP BY item HAVING count(DISTINCT action) > 1)
           AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.item = v.item AND d.decision_id NOT IN (SELECT decision_id FROM decision_undos))
         ORDER BY v.item, v.vote_id",
    )?;
    let mut out: Vec<(String, Disagreement)> = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let item: String = r.get(0)?;
        if out.last().is_none_or(|(i, _)| *i != item) {
            out.push((item.clone(), Disagreement { record_key_l: r.get(1)?, record_key_r: r.get(2)?, votes: Vec::new() }));
        }
        out.last_mut().expect("pushed above").1.votes.push((r.get(3)?, r.get(4)?, r.get(5)?));
    }
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queries' `pair_item` is the Rust one: the same key for any record keys (a `|` or
    /// quote inside them too), NULL for a missing side.
    #[test]
    fn the_sql_pair_item_is_the_rust_one() {
        let conn = Connection::open_in_memory().unwrap();
        register_sql_functions(&conn).unwrap();
        for (l, r) in [("memorial:list.csv:1", "press:a.csv:7"), ("a|b", "c'd"), ("Ежов:1", "Ежов:2")] {
            let sql: String = conn.query_row("SELECT pair_item(?1, ?2)", [l, r], |row| row.get(0)).unwrap();
            assert_eq!(sql, pair_item(l, r).0);
        }
        let null: Option<String> = conn.query_row("SELECT pair_item('a', NULL)", [], |row| row.get(0)).unwrap();
        assert_eq!(null, None);
    }
}
