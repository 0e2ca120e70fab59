//! Analyses declared in the manifest (`[[analyses]]`): each names a kind, a cohort and its
//! parameters, is validated into a typed [`Analysis`], and runs over profiles into a
//! JSON-serialisable [`AnalysisResult`] (written by the build as `out/analyses/NAME.json`).
//!
//! ```toml
//! [[analyses]]
//! name = "sentences-by-nationality"
//! kind = "breakdown"                 # fields = one or two fields
//! cohort = "arrested-1937-38"        # optional: every person when absent
//! fields = ["nationality", "sentence.detail"]
//!
//! [[analyses]]
//! name = "arrests-per-month"
//! kind = "time_series"               # field, granularity (day|month|year), from, to, eras
//! field = "arrest.date"
//! granularity = "month"
//! from = "1937-01"
//! to = "1938-12"
//! eras = [{ name = "Ezhovshchina", from = "1936-09-26", to = "1938-11-25" }]
//! ```
//! Other kinds: `duration` (`start`, `end` date fields), `survival` (`origin`, `event`,
//! `last_seen`: each a date field or a fixed date), `status_at` (`event`, `on`, `last_seen`),
//! `succession` (`matching`: posts whose name contains it), `purge` (`event`, `years = [A, B]`),
//! `network` (`matching`, `head_roles`). Every kind takes `confidence` (default 0.95).

use crate::breakdown::{self, Category};
use crate::cohort::{Cohort, Condition, OneOrMany, Selection, SpecError};
use crate::duration::{self, Durations};
use crate::network::{self, Network};
use crate::person::{Profile, has_event};
use crate::proportion::Confidence;
use crate::survival::{self, StatusAt, Subject, SurvivalBand};
use crate::timeseries::{self, Era, Granularity, TimeSeries};
use crate::turnover::{self, PostHistory, PostKey, PurgeSeries, Tenure};
use model::{Day, Field, PersonId, UncertainDate, ValueKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// `[[analyses]]` as written, before validation. Which keys apply depends on `kind`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSpec {
    pub name: String,
    pub kind: String,
    pub cohort: Option<String>,
    pub confidence: Option<f64>,
    pub fields: Option<OneOrMany<String>>,
    pub field: Option<String>,
    pub granularity: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub eras: Option<Vec<EraSpec>>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub origin: Option<String>,
    pub event: Option<String>,
    pub last_seen: Option<String>,
    pub on: Option<String>,
    pub matching: Option<String>,
    pub years: Option<[i32; 2]>,
    pub head_roles: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraSpec {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// Where a date comes from: a field of each profile, or one fixed date for everyone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFrom {
    Field(Field),
    Fixed(UncertainDate),
}

impl DateFrom {
    fn of(&self, profile: &Profile) -> Option<UncertainDate> {
        match self {
            DateFrom::Field(field) => profile.date(*field),
            DateFrom::Fixed(date) => Some(*date),
        }
    }
}

/// A validated analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analysis {
    pub name: String,
    pub cohort: Option<String>,
    pub confidence: Confidence,
    pub kind: AnalysisKind,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AnalysisKind {
    Breakdown { fields: Vec<Field> },
    TimeSeries { field: Field, granularity: Granularity, range: Option<(Day, Day)>, eras: Vec<Era> },
    Duration { start: Field, end: Field },
    Survival { origin: DateFrom, event: Field, last_seen: Option<DateFrom> },
    StatusAt { event: Field, on: Day, last_seen: Option<DateFrom> },
    Succession { matching: Option<String> },
    Purge { event: Field, first: i32, last: i32 },
    Network { matching: Option<String>, head_roles: Vec<String> },
}

/// The figures of one analysis, in the shape of its kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Figures {
    OneWay(breakdown::OneWay),
    TwoWay(breakdown::TwoWay),
    TimeSeries(TimeSeries),
    Duration(Durations),
    Survival(SurvivalBand),
    StatusAt(StatusAt),
    Succession { posts: Vec<PostHistory> },
    Purge(PurgeSeries),
    Network(Network),
}

/// What `out/analyses/NAME.json` holds: the declaration, the cohort behind it, the figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalysisResult {
    pub name: String,
    pub analysis: Analysis,
    pub cohort: Selection,
    pub figures: Figures,
    /// For each field the analysis reads, the analysed persons whose records disagree on it:
    /// the figures use each person's consensus value, and these say for whom that was a choice.
    pub disagreements: Vec<Disagreement>,
}

/// The analysed persons whose records give more than one value for a field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    pub field: Field,
    /// Records give more than one value (a year and a day within it count too), sorted.
    pub several_values: Vec<PersonId>,
    /// Of those, the persons whose values contradict each other, sorted.
    pub conflicting: Vec<PersonId>,
}

impl Analysis {
    /// Validates a declaration; `key` is where it sits (`analyses[2]`).
    pub fn from_spec(spec: &AnalysisSpec, key: &str) -> Result<Analysis, SpecError> {
        let k = |sub: &str| format!("{key}.{sub}");
        if spec.name.trim().is_empty() || spec.name.contains(['/', '\\']) || spec.name.starts_with('.') || spec.name == "index" {
            return Err(SpecError::new(k("name"), "a name is needed, usable as a file name (no slashes, no leading dot, not \"index\")"));
        }
        let confidence = match spec.confidence {
            None => Confidence::default(),
            Some(c) => Confidence::new(c).ok_or_else(|| SpecError::new(k("confidence"), "expected a number between 0 and 1"))?,
        };
        let need = |value: &Option<String>, sub: &str| value.clone().ok_or_else(|| SpecError::new(k(sub), format!("required for kind {:?}", spec.kind)));
        let field = |text: String, sub: &str| text.parse::<Field>().map_err(|_| SpecError::new(k(sub), format!("unknown field {text:?}")));
        let date_field = |text: String, sub: &str| {
            let f = field(text, sub)?;
            if f.value_kind() == ValueKind::Date {
                Ok(f)
            } else {
                Err(SpecError::new(k(sub), format!("{f} holds no date")))
            }
        };
        let date_from = |text: String, sub: &str| match UncertainDate::parse_standard(&text) {
            Ok(date) => Ok(DateFrom::Fixed(date)),
            Err(_) => date_field(text, sub).map(DateFrom::Field),
        };
        let day = |text: String, sub: &str, latest: bool| {
            UncertainDate::parse_standard(&text)
                .map(|d| if latest { d.latest() } else { d.earliest() })
                .map_err(|e| SpecError::new(k(sub), e.to_string()))
        };
        let kind = match spec.kind.as_str() {
            "breakdown" => {
                let names = spec.fields.clone().map(OneOrMany::into_vec).unwrap_or_default();
                if !(1..=2).contains(&names.len()) {
                    return Err(SpecError::new(k("fields"), "a breakdown takes one or two fields"));
                }
                let fields = names.into_iter().map(|n| field(n, "fields")).collect::<Result<_, _>>()?;
                AnalysisKind::Breakdown { fields }
            }
            "time_series" => {
                let granularity = match spec.granularity.as_deref().unwrap_or("year") {
                    "day" => Granularity::Day,
                    "month" => Granularity::Month,
                    "year" => Granularity::Year,
                    other => return Err(SpecError::new(k("granularity"), format!("expected day, month or year, got {other:?}"))),
                };
                let range = match (spec.from.clone(), spec.to.clone()) {
                    (Some(a), Some(b)) => Some((day(a, "from", false)?, day(b, "to", true)?)),
                    (None, None) => None,
                    _ => return Err(SpecError::new(k("to"), "give both from and to, or neither")),
                };
                let eras = spec
                    .eras
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let (from, to) = (day(e.from, &format!("eras[{i}].from"), false)?, day(e.to, &format!("eras[{i}].to"), true)?);
                        if from > to {
                            return Err(SpecError::new(k(&format!("eras[{i}]")), "the era ends before it starts"));
                        }
                        Ok(Era { name: e.name, from, to })
                    })
                    .collect::<Result<_, _>>()?;
                AnalysisKind::TimeSeries { field: date_field(need(&spec.field, "field")?, "field")?, granularity, range, eras }
            }
            "duration" => AnalysisKind::Duration {
                start: date_field(need(&spec.start, "start")?, "start")?,
                end: date_field(need(&spec.end, "end")?, "end")?,
            },
            "survival" => AnalysisKind::Survival {
                origin: date_from(need(&spec.origin, "origin")?, "origin")?,
                event: date_field(need(&spec.event, "event")?, "event")?,
                last_seen: spec.last_seen.clone().map(|t| date_from(t, "last_seen")).transpose()?,
            },
            "status_at" => {
                let on = UncertainDate::parse_standard(&need(&spec.on, "on")?).map_err(|e| SpecError::new(k("on"), e.to_string()))?;
                if on.earliest() != on.latest() {
                    return Err(SpecError::new(k("on"), "expected one day (YYYY-MM-DD)"));
                }
                AnalysisKind::StatusAt {
                    event: date_field(need(&spec.event, "event")?, "event")?,
                    on: on.earliest(),
                    last_seen: spec.last_seen.clone().map(|t| date_from(t, "last_seen")).transpose()?,
                }
            }
            "succession" => AnalysisKind::Succession { matching: spec.matching.clone() },
            "purge" => {
                let [first, last] = spec.years.ok_or_else(|| SpecError::new(k("years"), "required for kind \"purge\": [FIRST, LAST]"))?;
                if first > last {
                    return Err(SpecError::new(k("years"), "the first year is after the last"));
                }
                if !(1..=9999).contains(&first) || !(1..=9999).contains(&last) {
                    return Err(SpecError::new(k("years"), "years run from 1 to 9999"));
                }
                AnalysisKind::Purge { event: date_field(need(&spec.event, "event")?, "event")?, first, last }
            }
            "network" => AnalysisKind::Network { matching: spec.matching.clone(), head_roles: spec.head_roles.clone().unwrap_or_default() },
            other => {
                return Err(SpecError::new(
                    k("kind"),
                    format!("unknown kind {other:?}; known: breakdown, time_series, duration, survival, status_at, succession, purge, network"),
                ));
            }
        };
        Ok(Analysis { name: spec.name.clone(), cohort: spec.cohort.clone(), confidence, kind })
    }

    /// The fields the analysis reads, each with the key that names it; `None` for the posts a
    /// succession or network reads.
    pub fn reads(&self) -> Vec<(&'static str, Option<Field>)> {
        let date_from = |d: &DateFrom| match d {
            DateFrom::Field(f) => Some(*f),
            DateFrom::Fixed(_) => None,
        };
        match &self.kind {
            AnalysisKind::Breakdown { fields } => fields.iter().map(|f| ("fields", Some(*f))).collect(),
            AnalysisKind::TimeSeries { field, .. } => vec![("field", Some(*field))],
            AnalysisKind::Duration { start, end } => vec![("start", Some(*start)), ("end", Some(*end))],
            AnalysisKind::Survival { origin, event, last_seen } => [
                date_from(origin).map(|f| ("origin", Some(f))),
                Some(("event", Some(*event))),
                last_seen.as_ref().and_then(date_from).map(|f| ("last_seen", Some(f))),
            ]
            .into_iter()
            .flatten()
            .collect(),
            AnalysisKind::StatusAt { event, last_seen, .. } => {
                [Some(("event", Some(*event))), last_seen.as_ref().and_then(date_from).map(|f| ("last_seen", Some(f)))].into_iter().flatten().collect()
            }
            AnalysisKind::Purge { event, .. } => vec![("event", Some(*event))],
            AnalysisKind::Succession { .. } | AnalysisKind::Network { .. } => vec![("kind", None)],
        }
    }

    /// Runs the analysis over the profiles of its cohort (already resolved by the caller).
    pub fn run(&self, cohort: &Cohort, profiles: &BTreeMap<PersonId, Profile>) -> AnalysisResult {
        let selection = cohort.select(profiles.values());
        let members: Vec<&Profile> = selection.analysed().iter().filter_map(|id| profiles.get(id)).collect();
        let dates = |field: Field| -> Vec<(PersonId, Option<UncertainDate>)> { members.iter().map(|p| (p.person.clone(), p.date(field))).collect() };
        let figures = match &self.kind {
            AnalysisKind::Breakdown { fields } => {
                let categories = |f: Field| Category::grouped(&members.iter().map(|p| p.text(f)).collect::<Vec<_>>());
                let ids = members.iter().map(|p| p.person.clone());
                match fields.as_slice() {
                    [row, column] => Figures::TwoWay(breakdown::two_way(
                        &ids.zip(categories(*row)).zip(categories(*column)).map(|((id, r), c)| (id, r, c)).collect::<Vec<_>>(),
                        self.confidence,
                    )),
                    _ => Figures::OneWay(breakdown::one_way(&ids.zip(categories(fields[0])).collect::<Vec<_>>(), self.confidence)),
                }
            }
            AnalysisKind::TimeSeries { field, granularity, range, eras } => {
                Figures::TimeSeries(timeseries::time_series(&dates(*field), *granularity, *range, eras))
            }
            AnalysisKind::Duration { start, end } => {
                Figures::Duration(duration::durations(&members.iter().map(|p| (p.person.clone(), p.date(*start), p.date(*end))).collect::<Vec<_>>()))
            }
            AnalysisKind::Survival { origin, event, last_seen } => {
                let (with_origin, without): (Vec<&&Profile>, Vec<&&Profile>) = members.iter().partition(|p| origin.of(p).is_some());
                let subjects: Vec<Subject> = with_origin
                    .iter()
                    .filter_map(|p| {
                        Some(Subject {
                            person: p.person.clone(),
                            origin: origin.of(p)?,
                            event: p.date(*event),
                            last_seen: last_seen.as_ref().and_then(|l| l.of(p)),
                        })
                    })
                    .collect();
                let mut band = survival::survival_band(&subjects);
                band.no_origin = without.iter().map(|p| p.person.clone()).collect();
                Figures::Survival(band)
            }
            AnalysisKind::StatusAt { event, on, last_seen } => Figures::StatusAt(survival::status_at(
                &members.iter().map(|p| (p.person.clone(), p.date(*event), last_seen.as_ref().and_then(|l| l.of(p)))).collect::<Vec<_>>(),
                *on,
                self.confidence,
            )),
            AnalysisKind::Succession { matching } => Figures::Succession { posts: turnover::post_histories(&tenures(&members, matching.as_deref())) },
            AnalysisKind::Purge { event, first, last } => {
                // Recorded (a flag, a sentence, a place) but not dated: purged at an unknown time.
                let undated: Vec<PersonId> = match event {
                    Field::Event(kind, _) => members.iter().filter(|p| p.date(*event).is_none() && has_event(p, *kind)).map(|p| p.person.clone()).collect(),
                    _ => Vec::new(),
                };
                Figures::Purge(turnover::purge_per_year(&dates(*event), &undated, *first, *last, self.confidence))
            }
            AnalysisKind::Network { matching, head_roles } => {
                let labels = members.iter().map(|p| (p.person.clone(), p.label.clone())).collect();
                Figures::Network(network::service_network(&tenures(&members, matching.as_deref()), &labels, head_roles))
            }
        };
        let disagreements = self
            .reads()
            .into_iter()
            .filter_map(|(_, field)| field)
            .map(|field| {
                let several = |conflict_only: bool| -> Vec<PersonId> {
                    members
                        .iter()
                        .filter(|p| p.attribute(field).is_some_and(|a| a.values.len() > 1 && (a.conflict || !conflict_only)))
                        .map(|p| p.person.clone())
                        .collect()
                };
                Disagreement { field, several_values: several(false), conflicting: several(true) }
            })
            .collect();
        AnalysisResult { name: self.name.clone(), analysis: self.clone(), cohort: selection, figures, disagreements }
    }
}

/// The posts of the members as tenures, limited to posts whose name contains `matching`.
fn tenures(members: &[&Profile], matching: Option<&str>) -> Vec<Tenure> {
    let matching = matching.map(str::to_lowercase);
    members
        .iter()
        .flat_map(|p| {
            p.posts.iter().map(|post| Tenure {
                person: p.person.clone(),
                post: PostKey {
                    organisation: post.organisation.clone().unwrap_or_default(),
                    unit: post.unit.clone().unwrap_or_default(),
                    role: post.role.clone().unwrap_or_default(),
                },
                from: post.from,
                to: post.to,
            })
        })
        .filter(|t| matching.as_ref().is_none_or(|m| t.post.label().to_lowercase().contains(m.as_str())))
        .collect()
}

/// Validates all cohorts and analyses of a manifest together: cohort names must be unique, and
/// every analysis must name a declared cohort.
pub fn validate(cohorts: &[crate::cohort::CohortSpec], analyses: &[AnalysisSpec]) -> Result<(Vec<Cohort>, Vec<Analysis>), SpecError> {
    let mut valid_cohorts: Vec<Cohort> = Vec::new();
    for (i, spec) in cohorts.iter().enumerate() {
        let cohort = Cohort::from_spec(spec, &format!("cohorts[{i}]"))?;
        if cohort.name == "all" || valid_cohorts.iter().any(|c| c.name == cohort.name) {
            return Err(SpecError::new(format!("cohorts[{i}].name"), format!("{:?} is already taken", cohort.name)));
        }
        valid_cohorts.push(cohort);
    }
    let mut valid_analyses: Vec<Analysis> = Vec::new();
    for (i, spec) in analyses.iter().enumerate() {
        let analysis = Analysis::from_spec(spec, &format!("analyses[{i}]"))?;
        if let Some(name) = &analysis.cohort
            && name != "all"
            && !valid_cohorts.iter().any(|c| &c.name == name)
        {
            return Err(SpecError::new(format!("analyses[{i}].cohort"), format!("no cohort named {name:?}")));
        }
        if valid_analyses.iter().any(|a| a.name == analysis.name) {
            return Err(SpecError::new(format!("analyses[{i}].name"), format!("{:?} is already taken", analysis.name)));
        }
        valid_analyses.push(analysis);
    }
    Ok((valid_cohorts, valid_analyses))
}

/// Checks that every field the cohorts and analyses read is one some source gives (`given`:
/// the fields the manifest's columns map to). A field no source gives would make a table of
/// nothing but "(missing)" or a series of undated persons, which reads like a finding; it is a
/// typo or a forgotten column, so the error names the key and the fields the sources do give.
pub fn check_fields(cohorts: &[Cohort], analyses: &[Analysis], given: &BTreeSet<Field>) -> Result<(), SpecError> {
    let missing = |key: String, what: String| {
        let known: Vec<String> = given.iter().map(|f| f.name()).collect();
        Err(SpecError::new(key, format!("{what} is given by no source (the sources give: {})", known.join(", "))))
    };
    for (i, cohort) in cohorts.iter().enumerate() {
        let (mut posts, mut events) = (0, 0);
        for condition in &cohort.conditions {
            match condition {
                Condition::HeldPost { .. } => {
                    if !given.iter().any(|f| matches!(f, Field::Post(_))) {
                        return missing(format!("cohorts[{i}].held_post[{posts}]"), "a post".into());
                    }
                    posts += 1;
                }
                Condition::Event { kind, .. } => {
                    if !given.iter().any(|f| matches!(f, Field::Event(k, _) if k == kind)) {
                        return missing(format!("cohorts[{i}].event[{events}].kind"), format!("the event {}", kind.as_str()));
                    }
                    events += 1;
                }
                Condition::Attribute { field, .. } => {
                    if !given.contains(field) {
                        return missing(format!("cohorts[{i}].where.{field}"), field.to_string());
                    }
                }
            }
        }
    }
    for (i, analysis) in analyses.iter().enumerate() {
        for (key, field) in analysis.reads() {
            let absent = match field {
                Some(field) => !given.contains(&field),
                None => !given.iter().any(|f| matches!(f, Field::Post(_))),
            };
            if absent {
                return missing(format!("analyses[{i}].{key}"), field.map_or_else(|| "a post".to_owned(), |f| f.to_string()));
            }
        }
    }
    Ok(())
}

/// Runs every analysis over its cohort, in declaration order.
pub fn run_all(cohorts: &[Cohort], analyses: &[Analysis], profiles: &BTreeMap<PersonId, Profile>) -> Vec<AnalysisResult> {
    let everyone = Cohort::everyone();
    analyses
        .iter()
        .map(|a| {
            let cohort = a.cohort.as_ref().and_then(|name| cohorts.iter().find(|c| &c.name == name)).unwrap_or(&everyone);
            a.run(cohort, profiles)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::CohortSpec;
    use crate::testing::{profile, profile_of, record};

    #[derive(Deserialize)]
    struct Manifest {
        #[serde(default)]
        cohorts: Vec<CohortSpec>,
        #[serde(default)]
        analyses: Vec<AnalysisSpec>,
    }

    fn profiles(people: &[(&str, &[(&str, &str)])]) -> BTreeMap<PersonId, Profile> {
        people.iter().map(|(id, claims)| (PersonId::new(*id), profile(id, claims))).collect()
    }

    fn fixture() -> BTreeMap<PersonId, Profile> {
        profiles(&[
            ("a", &[("nationality", "русский"), ("arrest", "1937-08-05"), ("trial", "1937-08-15"), ("sentence.detail", "death")]),
            ("b", &[("nationality", "русский"), ("arrest", "1937-09"), ("trial", "1937-10-01"), ("sentence.detail", "camp")]),
            ("c", &[("nationality", "латыш"), ("arrest", "1938-02-01"), ("trial", "1938-02-21"), ("sentence.detail", "death")]),
            ("d", &[("arrest", "1936-12-01")]),
        ])
    }

    fn run(manifest: &str) -> Vec<AnalysisResult> {
        let m: Manifest = serde_json::from_str(manifest).unwrap();
        let (cohorts, analyses) = validate(&m.cohorts, &m.analyses).unwrap();
        run_all(&cohorts, &analyses, &fixture())
    }

    #[test]
    fn declared_analyses_run_over_their_cohort() {
        let results = run(
            r#"{"cohorts": [{"name": "terror", "event": {"kind": "arrest", "between": ["1937-01-01", "1938-12-31"]}}],
                "analyses": [
                  {"name": "sentences", "kind": "breakdown", "cohort": "terror", "fields": ["nationality", "sentence.detail"]},
                  {"name": "per-month", "kind": "time_series", "field": "arrest.date", "granularity": "month", "from": "1937-08", "to": "1937-10"},
                  {"name": "to-trial", "kind": "duration", "cohort": "terror", "start": "arrest.date", "end": "trial.date"}
                ]}"#,
        );
        let json: Vec<String> = results.iter().map(|r| serde_json::to_string(&r.figures).unwrap()).collect();
        let Figures::TwoWay(table) = &results[0].figures else { panic!("{}", json[0]) };
        assert_eq!(results[0].cohort.members.len(), 3);
        let russians = &table.rows[0];
        assert_eq!((russians.category.label(), russians.total, russians.cells[0].count), ("русский", 2, 1));
        let Figures::TimeSeries(series) = &results[1].figures else { panic!("{}", json[1]) };
        let counts: Vec<(String, u64)> = series.bins.iter().map(|b| (b.label.clone(), b.count)).collect();
        assert_eq!(counts, [("1937-08".into(), 1), ("1937-09".into(), 1), ("1937-10".into(), 0)]);
        assert_eq!(series.outside_range.len(), 2);
        let Figures::Duration(d) = &results[2].figures else { panic!("{}", json[2]) };
        let median = d.median.unwrap();
        // a: 10 days; b: 1937-09-01..30 to 1937-10-01, 1..30 days (point 16); c: 20 days.
        assert_eq!((median.lower, median.point, median.upper), (10.0, 16.0, 20.0));
        assert!(json[0].contains(r#""members":["a"]"#), "{}", json[0]);
    }

    #[test]
    fn results_name_the_persons_whose_records_disagree_on_the_fields_read() {
        let mut people = fixture();
        let records = [
            record("e1", "s", &[("nationality", "латыш"), ("arrest", "1937")]),
            record("e2", "t", &[("nationality", "русский"), ("arrest", "1937-08-05")]),
        ];
        people.insert(PersonId::new("e"), profile_of("e", &records));
        let m: Manifest = serde_json::from_str(r#"{"analyses": [{"name": "x", "kind": "breakdown", "fields": ["nationality", "sentence.detail"]}, {"name": "y", "kind": "time_series", "field": "arrest.date"}]}"#).unwrap();
        let (cohorts, analyses) = validate(&m.cohorts, &m.analyses).unwrap();
        let shown: Vec<String> = run_all(&cohorts, &analyses, &people)
            .iter()
            .flat_map(|r| r.disagreements.iter().map(|d| format!("{} {}: {:?} conflicting {:?}", r.name, d.field, d.several_values, d.conflicting)))
            .collect();
        // Two nationalities contradict; a year and a day within it are two values, no conflict.
        assert_eq!(
            shown,
            [
                r#"x nationality: [PersonId("e")] conflicting [PersonId("e")]"#,
                "x sentence.detail: [] conflicting []",
                r#"y arrest.date: [PersonId("e")] conflicting []"#
            ]
        );
    }

    #[test]
    fn persons_without_the_dates_an_analysis_needs_are_listed_not_dropped() {
        let results = run(
            r#"{"analyses": [
                  {"name": "sentenced", "kind": "purge", "event": "sentence.date", "years": [1937, 1938]},
                  {"name": "after-trial", "kind": "survival", "origin": "trial.date", "event": "sentence.date"}
                ]}"#,
        );
        let ids = |v: &[PersonId]| v.iter().map(PersonId::as_str).collect::<Vec<_>>().join(",");
        let Figures::Purge(purge) = &results[0].figures else { panic!("{:?}", results[0].figures) };
        // a, b and c were sentenced at a date no record gives: not "never sentenced".
        assert_eq!(ids(&purge.undated), "a,b,c");
        assert_eq!((purge.purged_in_range.successes, purge.purged_in_range_at_most.successes, purge.members), (0, 3, 4));
        let Figures::Survival(band) = &results[1].figures else { panic!("{:?}", results[1].figures) };
        assert_eq!((ids(&band.no_origin), band.subjects, ids(&band.no_follow_up)), ("d".into(), 0, "a,b,c".into()));
    }

    #[test]
    fn fields_no_source_gives_are_refused_by_key() {
        let check = |manifest: &str| {
            let m: Manifest = serde_json::from_str(manifest).unwrap();
            let (cohorts, analyses) = validate(&m.cohorts, &m.analyses).unwrap();
            let given: BTreeSet<Field> = ["nationality", "arrest.date", "sentence.detail"].iter().map(|f| f.parse().unwrap()).collect();
            check_fields(&cohorts, &analyses, &given).map_err(|e| e.to_string())
        };
        let known = "(the sources give: nationality, arrest.date, sentence.detail)";
        assert_eq!(check(r#"{"analyses": [{"name": "x", "kind": "breakdown", "fields": ["nationality", "party"]}]}"#), Err(format!("analyses[0].fields: party is given by no source {known}")));
        assert_eq!(check(r#"{"analyses": [{"name": "x", "kind": "duration", "start": "arrest.date", "end": "trial.date"}]}"#), Err(format!("analyses[0].end: trial.date is given by no source {known}")));
        assert_eq!(check(r#"{"analyses": [{"name": "x", "kind": "succession"}]}"#), Err(format!("analyses[0].kind: a post is given by no source {known}")));
        assert_eq!(check(r#"{"cohorts": [{"name": "c", "event": [{"kind": "arrest"}, {"kind": "execution"}]}]}"#), Err(format!("cohorts[0].event[1].kind: the event execution is given by no source {known}")));
        assert_eq!(check(r#"{"cohorts": [{"name": "c", "where": {"sex": "m"}}]}"#), Err(format!("cohorts[0].where.sex: sex is given by no source {known}")));
        let fine = r#"{"cohorts": [{"name": "c", "event": {"kind": "arrest"}, "where": {"nationality": "русский"}}],
            "analyses": [{"name": "x", "kind": "survival", "cohort": "c", "origin": "1937-01-01", "event": "arrest.date"}]}"#;
        assert_eq!(check(fine), Ok(()));
    }

    #[test]
    fn declaration_errors_name_the_key() {
        let err = |analyses: &str| {
            let m: Manifest = serde_json::from_str(&format!(r#"{{"analyses": [{analyses}]}}"#)).unwrap();
            validate(&m.cohorts, &m.analyses).unwrap_err().to_string()
        };
        assert_eq!(err(r#"{"name": "x", "kind": "pie"}"#), r#"analyses[0].kind: unknown kind "pie"; known: breakdown, time_series, duration, survival, status_at, succession, purge, network"#);
        assert_eq!(err(r#"{"name": "x", "kind": "breakdown", "fields": []}"#), "analyses[0].fields: a breakdown takes one or two fields");
        assert_eq!(err(r#"{"name": "x", "kind": "duration", "start": "arrest.date"}"#), r#"analyses[0].end: required for kind "duration""#);
        assert_eq!(err(r#"{"name": "x", "kind": "duration", "start": "nationality", "end": "trial"}"#), "analyses[0].start: nationality holds no date");
        assert_eq!(err(r#"{"name": "x", "kind": "breakdown", "fields": "sex", "cohort": "nobody"}"#), r#"analyses[0].cohort: no cohort named "nobody""#);
        assert_eq!(err(r#"{"name": "../x", "kind": "breakdown", "fields": "sex"}"#), r#"analyses[0].name: a name is needed, usable as a file name (no slashes, no leading dot, not "index")"#);
        assert_eq!(err(r#"{"name": "x", "kind": "time_series", "field": "arrest", "from": "1937"}"#), "analyses[0].to: give both from and to, or neither");
        assert_eq!(err(r#"{"name": "x", "kind": "purge", "event": "arrest", "years": [1938, 1936]}"#), "analyses[0].years: the first year is after the last");
        assert_eq!(err(r#"{"name": "x", "kind": "purge", "event": "arrest", "years": [0, 1936]}"#), "analyses[0].years: years run from 1 to 9999");
        assert_eq!(err(r#"{"name": "x", "kind": "breakdown", "fields": "sex", "confidence": 95}"#), "analyses[0].confidence: expected a number between 0 and 1");
    }
}
