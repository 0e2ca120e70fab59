//! Cohorts: typed filters over person profiles, declared in the manifest (`[[cohorts]]`) or on the
//! command line, and validated into typed conditions with errors naming the offending key.
//!
//! A condition can hold certainly, possibly (the dates allow it but do not prove it) or not.
//! A cohort keeps the two apart: `members` for whom every condition certainly holds, `possible`
//! for the rest that some condition only possibly admits. Analyses use both unless the cohort
//! says `uncertain = "exclude"`, and report the split.
//!
//! Manifest form (all conditions must hold):
//! ```toml
//! [[cohorts]]
//! name = "nkvd-chiefs-1938"
//! held_post = { matching = "начальник УНКВД", on = "1938-01-01" }
//! event = { kind = "arrest", between = ["1937", "1938"] }
//! where = { nationality = ["русский", "украинец"], party = "(missing)", occupation = "~инженер" }
//! uncertain = "include"
//! ```
//! `where` values: a value or a list of values (compared ignoring case), `(missing)`, `(any)`,
//! or `~text` for "contains". A `where` condition tests the person's consensus value; when the
//! consensus rule could break a tie only alphabetically and another value the records give
//! would answer otherwise, the condition holds only possibly.
//!
//! The command-line form joins the same conditions with `;`:
//! `held_post=начальник УНКВД@1938-01-01; event=arrest@1937..1938; nationality=русский|украинец`.

use crate::person::{Decision, Profile, has_event};
use model::{Day, EventKind, EventPart, Field, PersonId, UncertainDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A cohort or analysis declaration that does not validate: `key` names the place, e.g.
/// `cohorts[1].held_post.on`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct SpecError {
    pub key: String,
    pub message: String,
}

impl SpecError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError { key: key.into(), message: message.into() }
    }
}

/// One value or a list of them, as TOML allows either.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(x) => vec![x],
            OneOrMany::Many(v) => v,
        }
    }
}

/// `[[cohorts]]` as written in the manifest, before validation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub held_post: Option<OneOrMany<PostConditionSpec>>,
    #[serde(default)]
    pub event: Option<OneOrMany<EventConditionSpec>>,
    #[serde(default, rename = "where")]
    pub attributes: BTreeMap<String, OneOrMany<String>>,
    #[serde(default)]
    pub uncertain: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostConditionSpec {
    pub matching: String,
    pub on: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventConditionSpec {
    pub kind: String,
    #[serde(default)]
    pub between: Option<[String; 2]>,
}

/// A validated condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "condition")]
pub enum Condition {
    /// Held a post whose organisation, unit or role contains `matching` (ignoring case) on `on`.
    HeldPost { matching: String, on: Day },
    /// The event is recorded; with `between`, its date falls in `[from, to]`.
    Event { kind: EventKind, between: Option<(Day, Day)> },
    Attribute { field: Field, test: AttributeTest },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeTest {
    /// The consensus value is one of these (ignoring case).
    OneOf(Vec<String>),
    Contains(String),
    Missing,
    Present,
}

/// How a cohort treats persons a condition only possibly admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Uncertain {
    Include,
    Exclude,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cohort {
    pub name: String,
    pub description: Option<String>,
    pub conditions: Vec<Condition>,
    pub uncertain: Uncertain,
}

/// Whether a condition holds for a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Match {
    No,
    Possibly,
    Certainly,
}

/// The persons of a cohort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub cohort: String,
    /// Every condition certainly holds; sorted.
    pub members: Vec<PersonId>,
    /// Some condition only possibly holds; sorted.
    pub possible: Vec<PersonId>,
    pub uncertain: Uncertain,
}

impl Selection {
    /// The persons analyses run over, following the cohort's policy for uncertain ones.
    pub fn analysed(&self) -> Vec<PersonId> {
        let mut all = self.members.clone();
        if self.uncertain == Uncertain::Include {
            all.extend(self.possible.iter().cloned());
            all.sort();
        }
        all
    }
}

impl Cohort {
    /// Every person: the cohort an analysis without `cohort` runs over.
    pub fn everyone() -> Cohort {
        Cohort { name: "all".into(), description: Some("every person in the register".into()), conditions: Vec::new(), uncertain: Uncertain::Include }
    }

    /// Validates a manifest declaration; `key` is where it sits (`cohorts[0]`).
    pub fn from_spec(spec: &CohortSpec, key: &str) -> Result<Cohort, SpecError> {
        if spec.name.trim().is_empty() {
            return Err(SpecError::new(format!("{key}.name"), "a cohort needs a name"));
        }
        let mut conditions = Vec::new();
        for (i, post) in spec.held_post.clone().map(OneOrMany::into_vec).unwrap_or_default().iter().enumerate() {
            conditions.push(post_condition(&post.matching, &post.on, &format!("{key}.held_post[{i}]"))?);
        }
        for (i, event) in spec.event.clone().map(OneOrMany::into_vec).unwrap_or_default().iter().enumerate() {
            let between = event.between.as_ref().map(|[a, b]| (a.as_str(), b.as_str()));
            conditions.push(event_condition(&event.kind, between, &format!("{key}.event[{i}]"))?);
        }
        for (name, values) in &spec.attributes {
            conditions.push(attribute_condition(name, values.clone().into_vec(), &format!("{key}.where.{name}"))?);
        }
        let uncertain = match spec.uncertain.as_deref() {
            None | Some("include") => Uncertain::Include,
            Some("exclude") => Uncertain::Exclude,
            Some(other) => return Err(SpecError::new(format!("{key}.uncertain"), format!("expected \"include\" or \"exclude\", got {other:?}"))),
        };
        Ok(Cohort { name: spec.name.clone(), description: spec.description.clone(), conditions, uncertain })
    }

    /// Parses the command-line form (see the module note) into a cohort named `name`.
    pub fn parse_cli(name: &str, text: &str) -> Result<Cohort, SpecError> {
        let mut conditions = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| SpecError::new(part, "expected KEY=VALUE"))?;
            let (key, value) = (key.trim(), value.trim());
            conditions.push(match key {
                "held_post" => {
                    let (matching, on) = value.rsplit_once('@').ok_or_else(|| SpecError::new(key, "expected TEXT@DATE"))?;
                    post_condition(matching, on, key)?
                }
                "event" => match value.split_once('@') {
                    Some((kind, range)) => {
                        let (a, b) = range.split_once("..").ok_or_else(|| SpecError::new(key, "expected KIND@FROM..TO"))?;
                        event_condition(kind, Some((a, b)), key)?
                    }
                    None => event_condition(value, None, key)?,
                },
                field => attribute_condition(field, value.split('|').map(str::to_owned).collect(), field)?,
            });
        }
        Ok(Cohort { name: name.to_owned(), description: Some(text.to_owned()), conditions, uncertain: Uncertain::Include })
    }

    /// How well a person fits: the weakest of the conditions' matches.
    pub fn matches(&self, profile: &Profile) -> Match {
        self.conditions.iter().map(|c| condition_matches(c, profile)).min().unwrap_or(Match::Certainly)
    }

    /// Selects the cohort from the profiles.
    pub fn select<'a>(&self, profiles: impl IntoIterator<Item = &'a Profile>) -> Selection {
        let mut members = Vec::new();
        let mut possible = Vec::new();
        for p in profiles {
            match self.matches(p) {
                Match::Certainly => members.push(p.person.clone()),
                Match::Possibly => possible.push(p.person.clone()),
                Match::No => {}
            }
        }
        members.sort();
        possible.sort();
        Selection { cohort: self.name.clone(), members, possible, uncertain: self.uncertain }
    }
}

fn parse_date(text: &str, key: &str) -> Result<UncertainDate, SpecError> {
    UncertainDate::parse_standard(text).map_err(|e| SpecError::new(key, e.to_string()))
}

fn post_condition(matching: &str, on: &str, key: &str) -> Result<Condition, SpecError> {
    if matching.trim().is_empty() {
        return Err(SpecError::new(format!("{key}.matching"), "empty text matches every post"));
    }
    let on_date = parse_date(on, &format!("{key}.on"))?;
    if on_date.earliest() != on_date.latest() {
        return Err(SpecError::new(format!("{key}.on"), format!("expected one day (YYYY-MM-DD), got {on:?}")));
    }
    Ok(Condition::HeldPost { matching: matching.trim().to_lowercase(), on: on_date.earliest() })
}

fn event_condition(kind: &str, between: Option<(&str, &str)>, key: &str) -> Result<Condition, SpecError> {
    let kind: EventKind = kind.trim().parse().map_err(|_| {
        let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        SpecError::new(format!("{key}.kind"), format!("unknown event {kind:?}; known: {}", known.join(", ")))
    })?;
    let between = match between {
        None => None,
        Some((a, b)) => {
            let from = parse_date(a.trim(), &format!("{key}.between"))?.earliest();
            let to = parse_date(b.trim(), &format!("{key}.between"))?.latest();
            if from > to {
                return Err(SpecError::new(format!("{key}.between"), "the range ends before it starts"));
            }
            Some((from, to))
        }
    };
    Ok(Condition::Event { kind, between })
}

fn attribute_condition(name: &str, values: Vec<String>, key: &str) -> Result<Condition, SpecError> {
    let field: Field = name.parse().map_err(|_| SpecError::new(key, format!("unknown field {name:?}")))?;
    let test = match values.as_slice() {
        [] => return Err(SpecError::new(key, "no value given")),
        [one] if one == "(missing)" => AttributeTest::Missing,
        [one] if one == "(any)" => AttributeTest::Present,
        [one] if one.starts_with('~') => AttributeTest::Contains(one[1..].trim().to_lowercase()),
        many => AttributeTest::OneOf(many.iter().map(|v| v.trim().to_lowercase()).collect()),
    };
    Ok(Condition::Attribute { field, test })
}

fn condition_matches(condition: &Condition, profile: &Profile) -> Match {
    let yes = |b: bool| if b { Match::Certainly } else { Match::No };
    match condition {
        Condition::HeldPost { matching, on } => profile
            .posts
            .iter()
            .filter(|p| [&p.organisation, &p.unit, &p.role].into_iter().flatten().any(|t| t.to_lowercase().contains(matching.as_str())))
            .map(|p| {
                // An unknown start or end leaves the day possible, never certain.
                let started = p.from.map_or(Match::Possibly, |f| if f.latest() <= *on { Match::Certainly } else if f.earliest() <= *on { Match::Possibly } else { Match::No });
                let not_ended = p.to.map_or(Match::Possibly, |t| if t.earliest() >= *on { Match::Certainly } else if t.latest() >= *on { Match::Possibly } else { Match::No });
                started.min(not_ended)
            })
            .max()
            .unwrap_or(Match::No),
        Condition::Event { kind, between } => {
            if !has_event(profile, *kind) {
                return Match::No;
            }
            let Some((from, to)) = between else { return Match::Certainly };
            match profile.date(Field::Event(*kind, EventPart::Date)) {
                None => Match::Possibly,
                Some(d) if d.lies_between(*from, *to) => Match::Certainly,
                Some(d) if d.touches(*from, *to) => Match::Possibly,
                Some(_) => Match::No,
            }
        }
        Condition::Attribute { field, test } => {
            let holds = |value: Option<String>| match test {
                AttributeTest::Missing => value.is_none(),
                AttributeTest::Present => value.is_some(),
                AttributeTest::OneOf(options) => value.is_some_and(|v| options.contains(&v)),
                AttributeTest::Contains(part) => value.is_some_and(|v| v.contains(part.as_str())),
            };
            let consensus = holds(profile.text(*field).map(str::to_lowercase));
            // A tie the rule could only break alphabetically (one record "true", another
            // "false") decides nothing: if another value would answer otherwise, the person
            // only possibly fits (Memorial: 322 persons' execution flags tie this way).
            let tied = profile.attribute(*field).is_some_and(|a| {
                a.decision == Decision::Alphabetical && a.values.iter().any(|v| holds(Some(v.display.to_lowercase())) != consensus)
            });
            if tied { Match::Possibly } else { yes(consensus) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{profile, profile_of, record};

    fn people() -> Vec<Profile> {
        vec![
            profile("chief", &[("post.role", "Начальник УНКВД"), ("post.from", "1937-01-15"), ("post.to", "1938-06"), ("arrest", "1938-06-20"), ("nationality", "русский")]),
            profile("deputy", &[("post.role", "зам. начальника УНКВД"), ("post.from", "1937"), ("arrest", "1938"), ("nationality", "Украинец")]),
            profile("clerk", &[("post.role", "делопроизводитель"), ("post.from", "1936"), ("nationality", "латыш")]),
            profile("outsider", &[("arrest", "1940-02-01")]),
        ]
    }

    fn select(text: &str) -> String {
        let cohort = Cohort::parse_cli("t", text).unwrap();
        let s = cohort.select(&people());
        format!("{:?} possibly {:?}", s.members.iter().map(PersonId::as_str).collect::<Vec<_>>(), s.possible.iter().map(PersonId::as_str).collect::<Vec<_>>())
    }

    #[test]
    fn conditions_select_certain_and_possible_members() {
        assert_eq!(select("held_post=начальник унквд@1938-01-01"), r#"["chief"] possibly []"#);
        assert_eq!(select("held_post=УНКВД@1938-01-01"), r#"["chief"] possibly ["deputy"]"#);
        assert_eq!(select("held_post=УНКВД@1938-07-01"), r#"[] possibly ["deputy"]"#);
        assert_eq!(select("event=arrest@1938-01-01..1938-12-31"), r#"["chief", "deputy"] possibly []"#);
        assert_eq!(select("event=arrest@1938-06..1939"), r#"["chief"] possibly ["deputy"]"#);
        assert_eq!(select("event=arrest"), r#"["chief", "deputy", "outsider"] possibly []"#);
        assert_eq!(select("nationality=русский|украинец"), r#"["chief", "deputy"] possibly []"#);
        assert_eq!(select("nationality=(missing); event=arrest"), r#"["outsider"] possibly []"#);
        assert_eq!(select("post.role=~начальник"), r#"[] possibly []"#);
        assert_eq!(select(""), r#"["chief", "clerk", "deputy", "outsider"] possibly []"#);
    }

    #[test]
    fn a_tie_broken_alphabetically_admits_a_person_only_possibly() {
        let executed = |id: &str, flag: &str| record(id, "s", &[("execution.occurred", flag)]);
        let tied = profile_of("tied", &[executed("r1", "true"), executed("r2", "false")]);
        let outvoted = profile_of("outvoted", &[executed("r3", "true"), executed("r4", "false"), executed("r5", "false")]);
        let shot = profile_of("shot", &[executed("r6", "true")]);
        let people = [tied, outvoted, shot];
        let selected = |text: &str| {
            let s = Cohort::parse_cli("t", text).unwrap().select(&people);
            format!("{:?} possibly {:?}", s.members.iter().map(PersonId::as_str).collect::<Vec<_>>(), s.possible.iter().map(PersonId::as_str).collect::<Vec<_>>())
        };
        // "false" wins the tie only by the alphabet: the tied person is neither in nor out.
        assert_eq!(selected("execution.occurred=true"), r#"["shot"] possibly ["tied"]"#);
        assert_eq!(selected("execution.occurred=false"), r#"["outvoted"] possibly ["tied"]"#);
    }

    #[test]
    fn manifest_form_validates_with_errors_naming_the_key() {
        let parse = |text: &str| -> Result<Cohort, String> {
            #[derive(Deserialize)]
            struct Manifest {
                cohorts: Vec<CohortSpec>,
            }
            let m: Manifest = serde_json::from_str(text).map_err(|e| e.to_string())?;
            Cohort::from_spec(&m.cohorts[0], "cohorts[0]").map_err(|e| e.to_string())
        };
        let good = parse(r#"{"cohorts": [{"name": "c", "held_post": {"matching": "НКВД", "on": "1938-01-01"},
            "event": [{"kind": "arrest", "between": ["1937", "1938"]}], "where": {"sex": "m"}, "uncertain": "exclude"}]}"#)
        .unwrap();
        assert_eq!(good.conditions.len(), 3);
        assert_eq!(good.uncertain, Uncertain::Exclude);
        let err = |text: &str| parse(text).unwrap_err();
        assert_eq!(err(r#"{"cohorts": [{"name": "c", "held_post": {"matching": "x", "on": "1938"}}]}"#), r#"cohorts[0].held_post[0].on: expected one day (YYYY-MM-DD), got "1938""#);
        assert_eq!(err(r#"{"cohorts": [{"name": "c", "event": {"kind": "arest"}}]}"#), r#"cohorts[0].event[0].kind: unknown event "arest"; known: arrest, trial, sentence, execution, death, burial, defection, rehabilitation, release"#);
        assert_eq!(err(r#"{"cohorts": [{"name": "c", "event": {"kind": "arrest", "between": ["1939", "1937"]}}]}"#), "cohorts[0].event[0].between: the range ends before it starts");
        assert_eq!(err(r#"{"cohorts": [{"name": "c", "where": {"nation": "x"}}]}"#), r#"cohorts[0].where.nation: unknown field "nation""#);
        assert_eq!(err(r#"{"cohorts": [{"name": "c", "uncertain": "maybe"}]}"#), r#"cohorts[0].uncertain: expected "include" or "exclude", got "maybe""#);
        assert!(err(r#"{"cohorts": [{"name": "c", "colour": "red"}]}"#).contains("unknown field `colour`"));
        assert_eq!(Cohort::parse_cli("t", "held_post=x").unwrap_err().to_string(), "held_post: expected TEXT@DATE");
    }
}
