//! Survival: Kaplan-Meier curves over censored, interval-uncertain event dates, and "of those
//! in the cohort at D1, how many were still alive / free / in post at D2".
//!
//! An event known only as an interval ("shot in 1938") does not give one curve but a band: we
//! compute the Kaplan-Meier estimate once with every event at its earliest possible time
//! (`earliest`, the lowest curve), once at its latest (`latest`, the highest) and once at the
//! midpoint (`point`). Without censoring, moving events later never lowers the curve, so every
//! placement of the events gives a curve inside the band. With censoring an event moved past a
//! censored person changes the risk set and the curve can leave the band after that time; the
//! band is then the two extreme readings of the dates, not a guaranteed envelope. (A Turnbull
//! estimate would give one curve; the band is easier to argue over and needs no iteration.)
//! Persons without the event are censored at their last sighting; persons with neither are left
//! out and listed.

use crate::proportion::{Confidence, Proportion};
use model::{Day, PersonId, UncertainDate};
use serde::Serialize;

/// One person's follow-up: from the origin (entering the cohort) to the event, or to the last
/// time they were seen without it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub person: PersonId,
    pub origin: UncertainDate,
    pub event: Option<UncertainDate>,
    pub last_seen: Option<UncertainDate>,
}

/// A step of a Kaplan-Meier curve: at `time` days after the origin, the state just after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    pub time: i64,
    pub at_risk: u64,
    pub events: u64,
    pub censored: u64,
    pub survival: f64,
    /// Greenwood's standard error of `survival`.
    pub standard_error: f64,
}

/// A Kaplan-Meier curve: the steps at every time with an event or a censoring, in time order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Curve {
    pub steps: Vec<Step>,
}

impl Curve {
    /// The estimated survival just after `time` (1 before the first event).
    pub fn at(&self, time: i64) -> f64 {
        self.steps.iter().take_while(|s| s.time <= time).last().map_or(1.0, |s| s.survival)
    }

    /// The first time the survival drops to 1/2 or below, if it does.
    pub fn median(&self) -> Option<i64> {
        self.steps.iter().find(|s| s.survival <= 0.5).map(|s| s.time)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SurvivalBand {
    pub earliest: Curve,
    pub point: Curve,
    pub latest: Curve,
    pub subjects: u64,
    pub events: u64,
    /// Persons with neither an event nor a last sighting, sorted.
    pub no_follow_up: Vec<PersonId>,
    /// Cohort members without an origin date, who cannot enter the curve, sorted (filled by
    /// the caller, who knows the cohort; [`survival_band`] sees only subjects with an origin).
    pub no_origin: Vec<PersonId>,
}

/// The Kaplan-Meier estimate from (time, event observed) pairs. At a tie, events come before
/// censorings (the usual convention: someone censored at t was at risk at t).
pub fn kaplan_meier(observations: &[(i64, bool)]) -> Curve {
    let mut sorted = observations.to_vec();
    sorted.sort_by_key(|&(time, event)| (time, !event));
    let mut at_risk = sorted.len() as u64;
    let mut survival = 1.0;
    let mut greenwood_sum = 0.0;
    let mut steps = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let time = sorted[i].0;
        let same: Vec<bool> = sorted[i..].iter().take_while(|o| o.0 == time).map(|o| o.1).collect();
        let events = same.iter().filter(|&&e| e).count() as u64;
        let censored = same.len() as u64 - events;
        if events > 0 {
            survival *= 1.0 - events as f64 / at_risk as f64;
            if at_risk > events {
                greenwood_sum += events as f64 / (at_risk as f64 * (at_risk - events) as f64);
            }
        }
        steps.push(Step { time, at_risk, events, censored, survival, standard_error: survival * greenwood_sum.sqrt() });
        at_risk -= same.len() as u64;
        i += same.len();
    }
    Curve { steps }
}

/// The band of Kaplan-Meier curves for uncertain event dates (see the module note).
pub fn survival_band(subjects: &[Subject]) -> SurvivalBand {
    let days = |a: Day, b: Day| (i64::from(b.days()) - i64::from(a.days())).max(0);
    let mut earliest = Vec::new();
    let mut point = Vec::new();
    let mut latest = Vec::new();
    let mut no_follow_up = Vec::new();
    for s in subjects {
        let o = &s.origin;
        match (&s.event, &s.last_seen) {
            (Some(e), _) => {
                earliest.push((days(o.latest(), e.earliest()), true));
                point.push((days(o.midpoint(), e.midpoint()), true));
                latest.push((days(o.earliest(), e.latest()), true));
            }
            (None, Some(seen)) => {
                // Censoring is taken at the sighting's midpoint in all three curves so that
                // only the event dates move between them.
                let t = days(o.midpoint(), seen.midpoint());
                for curve in [&mut earliest, &mut point, &mut latest] {
                    curve.push((t, false));
                }
            }
            (None, None) => no_follow_up.push(s.person.clone()),
        }
    }
    no_follow_up.sort();
    SurvivalBand {
        subjects: point.len() as u64,
        events: point.iter().filter(|o| o.1).count() as u64,
        earliest: kaplan_meier(&earliest),
        point: kaplan_meier(&point),
        latest: kaplan_meier(&latest),
        no_follow_up,
        no_origin: Vec::new(),
    }
}

/// Where a person stood at the second date.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusAt {
    pub on: Day,
    /// The ending event certainly came after the date, or they were seen after it without it.
    pub still: Vec<PersonId>,
    /// The ending event certainly came on or before the date.
    pub ended: Vec<PersonId>,
    /// The event's interval spans the date.
    pub uncertain: Vec<PersonId>,
    /// No event recorded and not seen on or after the date: lost to follow-up.
    pub unknown: Vec<PersonId>,
    /// Share still, of those whose status is known (`still + ended`).
    pub share_still: Proportion,
    /// Share still, of `still + ended + uncertain`, counting every uncertain one as ended
    /// (`lower`) or as still (`upper`).
    pub share_still_lower: Option<f64>,
    pub share_still_upper: Option<f64>,
}

/// For each person (id, date of the ending event, last sighting without it), the status on `on`.
pub fn status_at(people: &[(PersonId, Option<UncertainDate>, Option<UncertainDate>)], on: Day, confidence: Confidence) -> StatusAt {
    let (mut still, mut ended, mut uncertain, mut unknown) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (person, event, last_seen) in people {
        let bucket = match (event, last_seen) {
            (Some(e), _) if e.latest() <= on => &mut ended,
            (Some(e), _) if e.earliest() > on => &mut still,
            (Some(_), _) => &mut uncertain,
            (None, Some(seen)) if seen.earliest() >= on => &mut still,
            (None, Some(seen)) if seen.latest() >= on => &mut uncertain,
            (None, _) => &mut unknown,
        };
        bucket.push(person.clone());
    }
    for v in [&mut still, &mut ended, &mut uncertain, &mut unknown] {
        v.sort();
    }
    let (s, e, u) = (still.len() as u64, ended.len() as u64, uncertain.len() as u64);
    let with_uncertain = s + e + u;
    StatusAt {
        on,
        share_still: Proportion::new(s, s + e, confidence),
        share_still_lower: (with_uncertain > 0).then(|| s as f64 / with_uncertain as f64),
        share_still_upper: (with_uncertain > 0).then(|| (s + u) as f64 / with_uncertain as f64),
        still,
        ended,
        uncertain,
        unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn show(curve: &Curve) -> String {
        let steps: Vec<String> = curve
            .steps
            .iter()
            .map(|s| format!("t={} n={} d={} c={} S={:.3} se={:.3}", s.time, s.at_risk, s.events, s.censored, s.survival, s.standard_error))
            .collect();
        steps.join("\n")
    }

    #[test]
    fn kaplan_meier_reproduces_the_freireich_6mp_arm() {
        // Gehan (1965) / Freireich 6-MP arm, the textbook example (Klein & Moeschberger, table 4.1A):
        // S = 0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448; SE at t=6 is 0.076.
        let events = [6, 6, 6, 7, 10, 13, 16, 22, 23];
        let censored = [6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35];
        let obs: Vec<(i64, bool)> = events.iter().map(|&t| (t, true)).chain(censored.iter().map(|&t| (t, false))).collect();
        let curve = kaplan_meier(&obs);
        let at_events: Vec<String> = curve.steps.iter().filter(|s| s.events > 0).map(|s| format!("{:.3}", s.survival)).collect();
        assert_eq!(at_events.join(" "), "0.857 0.807 0.753 0.690 0.627 0.538 0.448");
        assert_eq!(format!("{:.3}", curve.steps[0].standard_error), "0.076");
        assert_eq!(curve.median(), Some(23));
        assert_eq!(curve.at(5), 1.0);
        assert_eq!(format!("{:.3}", curve.at(12)), "0.753");
    }

    #[test]
    fn uncertain_events_give_a_band() {
        let d = |t: &str| UncertainDate::parse_standard(t).unwrap();
        let origin = d("1938-01-01");
        let subject = |id: &str, event: Option<&str>, seen: Option<&str>| Subject {
            person: PersonId::new(id),
            origin,
            event: event.map(d),
            last_seen: seen.map(d),
        };
        let subjects = [
            subject("a", Some("1938-01-11"), None), // day 10
            subject("b", Some("1938-01"), None),    // day 0..30
            subject("c", None, Some("1938-01-21")), // censored day 20
            subject("d", Some("1938-02-10"), None), // day 40
            subject("e", None, None),
        ];
        let band = survival_band(&subjects);
        expect![[r#"
            earliest
            t=0 n=4 d=1 c=0 S=0.750 se=0.217
            t=10 n=3 d=1 c=0 S=0.500 se=0.250
            t=20 n=2 d=0 c=1 S=0.500 se=0.250
            t=40 n=1 d=1 c=0 S=0.000 se=0.000
            point
            t=10 n=4 d=1 c=0 S=0.750 se=0.217
            t=15 n=3 d=1 c=0 S=0.500 se=0.250
            t=20 n=2 d=0 c=1 S=0.500 se=0.250
            t=40 n=1 d=1 c=0 S=0.000 se=0.000
            latest
            t=10 n=4 d=1 c=0 S=0.750 se=0.217
            t=20 n=3 d=0 c=1 S=0.750 se=0.217
            t=30 n=2 d=1 c=0 S=0.375 se=0.286
            t=40 n=1 d=1 c=0 S=0.000 se=0.000
            subjects 4 events 3 no follow-up ["e"]"#]]
        .assert_eq(&format!(
            "earliest\n{}\npoint\n{}\nlatest\n{}\nsubjects {} events {} no follow-up {:?}",
            show(&band.earliest),
            show(&band.point),
            show(&band.latest),
            band.subjects,
            band.events,
            band.no_follow_up.iter().map(PersonId::as_str).collect::<Vec<_>>()
        ));
    }

    proptest::proptest! {
        #[test]
        fn without_censoring_the_band_encloses_the_point_curve(
            events in proptest::collection::vec((0i32..400, 0i32..60), 1..40)
        ) {
            let origin = UncertainDate::day(Day::from_ymd(1938, 1, 1).unwrap());
            let subjects: Vec<Subject> = events
                .iter()
                .enumerate()
                .map(|(i, &(start, width))| Subject {
                    person: PersonId::new(format!("p{i}")),
                    origin,
                    event: UncertainDate::new(
                        Day::from_days(origin.earliest().days() + start),
                        Day::from_days(origin.earliest().days() + start + width),
                        model::Precision::Range,
                    ),
                    last_seen: None,
                })
                .collect();
            let band = survival_band(&subjects);
            for t in 0..470 {
                let (low, mid, high) = (band.earliest.at(t), band.point.at(t), band.latest.at(t));
                proptest::prop_assert!(low <= mid + 1e-12 && mid <= high + 1e-12, "t={} {} {} {}", t, low, mid, high);
            }
        }
    }

    #[test]
    fn status_on_a_second_date() {
        // 5 leaders in post on 1938-01-01: who was still alive on 1939-01-01?
        let d = |t: &str| Some(UncertainDate::parse_standard(t).unwrap());
        let people = [
            (PersonId::new("shot-1938"), d("1938-07-29"), None),
            (PersonId::new("shot-1939"), d("1939-02-04"), None),
            (PersonId::new("died-1938-or-39"), d("1938/1939"), None),
            (PersonId::new("seen-1940"), None, d("1940")),
            (PersonId::new("never-seen"), None, d("1937")),
        ];
        let on = Day::from_ymd(1939, 1, 1).unwrap();
        let status = status_at(&people, on, Confidence::NINETY_FIVE);
        let ids = |v: &[PersonId]| v.iter().map(PersonId::as_str).collect::<Vec<_>>().join(",");
        expect![[r#"still seen-1940,shot-1939 ended shot-1938 uncertain died-1938-or-39 unknown never-seen share 0.667 [0.500..0.750]"#]]
        .assert_eq(&format!(
            "still {} ended {} uncertain {} unknown {} share {:.3} [{:.3}..{:.3}]",
            ids(&status.still),
            ids(&status.ended),
            ids(&status.uncertain),
            ids(&status.unknown),
            status.share_still.share.unwrap(),
            status.share_still_lower.unwrap(),
            status.share_still_upper.unwrap(),
        ));
    }
}
