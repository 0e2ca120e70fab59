//! Durations between two events of a person (arrest to trial, trial to execution) in days, with
//! median and quartiles that carry the uncertainty of the dates as bounds.
//!
//! For dates known only as intervals, a duration is itself an interval: at least
//! `end.earliest - start.latest` (never below 0, as the events are in order) and at most
//! `end.latest - start.earliest`. Order statistics are monotone, so the true median lies between
//! the median of the shortest possible durations and the median of the longest; the point value
//! is taken between midpoints. Quantiles use linear interpolation between order statistics
//! (Hyndman and Fan type 7, the default of R and NumPy).

use model::{PersonId, UncertainDate};
use serde::Serialize;

/// One person's duration in days, as bounds and a midpoint value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonDuration {
    pub person: PersonId,
    pub shortest: i64,
    pub point: i64,
    pub longest: i64,
}

/// A quantile with the bounds the date uncertainty allows.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bounded {
    pub lower: f64,
    pub point: f64,
    pub upper: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Durations {
    /// Persons with both dates, in input order.
    pub durations: Vec<PersonDuration>,
    /// `None` when no person has both dates.
    pub q1: Option<Bounded>,
    pub median: Option<Bounded>,
    pub q3: Option<Bounded>,
    /// Persons lacking one of the two dates (or with an open-ended one), sorted.
    pub missing: Vec<PersonId>,
    /// Persons whose end certainly precedes their start: a data problem to look at, sorted.
    pub inconsistent: Vec<PersonId>,
}

/// Measures `start -> end` for each person.
pub fn durations(items: &[(PersonId, Option<UncertainDate>, Option<UncertainDate>)]) -> Durations {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut inconsistent = Vec::new();
    for (person, start, end) in items {
        let (Some(start), Some(end)) = (start.filter(bounded), end.filter(bounded)) else {
            missing.push(person.clone());
            continue;
        };
        let days = |a: model::Day, b: model::Day| i64::from(b.days()) - i64::from(a.days());
        let longest = days(start.earliest(), end.latest());
        if longest < 0 {
            inconsistent.push(person.clone());
            continue;
        }
        let shortest = days(start.latest(), end.earliest()).max(0);
        let point = days(start.midpoint(), end.midpoint()).clamp(shortest, longest);
        out.push(PersonDuration { person: person.clone(), shortest, point, longest });
    }
    missing.sort();
    inconsistent.sort();
    let quantile_of = |q: f64| -> Option<Bounded> {
        let pick = |f: fn(&PersonDuration) -> i64| {
            let mut v: Vec<i64> = out.iter().map(f).collect();
            v.sort_unstable();
            quantile(&v, q)
        };
        Some(Bounded { lower: pick(|d| d.shortest)?, point: pick(|d| d.point)?, upper: pick(|d| d.longest)? })
    };
    Durations { q1: quantile_of(0.25), median: quantile_of(0.5), q3: quantile_of(0.75), durations: out, missing, inconsistent }
}

fn bounded(date: &UncertainDate) -> bool {
    date.earliest() != model::Day::MIN && date.latest() != model::Day::MAX
}

/// The type-7 quantile of sorted values; `None` for no values.
pub fn quantile(sorted: &[i64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q;
    let below = h.floor() as usize;
    let above = (below + 1).min(last);
    Some(sorted[below] as f64 + (h - below as f64) * (sorted[above] - sorted[below]) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn d(text: &str) -> Option<UncertainDate> {
        (!text.is_empty()).then(|| UncertainDate::parse_standard(text).unwrap())
    }

    #[test]
    fn quantiles_interpolate_like_r() {
        // R: quantile(c(1, 2, 4, 10), c(.25, .5, .75)) gives 1.75 3.00 5.50.
        let v = [1, 2, 4, 10];
        assert_eq!([0.25, 0.5, 0.75].map(|q| quantile(&v, q).unwrap()), [1.75, 3.0, 5.5]);
        assert_eq!(quantile(&[7], 0.5), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn uncertain_dates_widen_the_quartiles() {
        let items: Vec<_> = [
            ("a", "1937-08-01", "1937-08-11"), // exactly 10 days
            ("b", "1937-08-01", "1937-09"),    // 31..60 days
            ("c", "1937-09-01", "1937-09-21"), // exactly 20 days
            ("d", "1937-10", "1937-10-15"),    // 0..14 (overlapping), never negative
            ("e", "1937-10-15", ""),           // no trial date
            ("f", "1938-01-01", "1937-12-31"), // trial before arrest: inconsistent
        ]
        .iter()
        .map(|(id, a, b)| (PersonId::new(*id), d(a), d(b)))
        .collect();
        let result = durations(&items);
        let rows: Vec<String> =
            result.durations.iter().map(|p| format!("{} {}..{}..{}", p.person, p.shortest, p.point, p.longest)).collect();
        let q = |b: Option<Bounded>| b.map(|b| format!("{}/{}/{}", b.lower, b.point, b.upper)).unwrap();
        expect![[r#"
            a 10..10..10
            b 31..45..60
            c 20..20..20
            d 0..0..14
            q1 7.5/7.5/13
            median 15/15/17
            q3 22.75/26.25/30
            missing ["e"] inconsistent ["f"]"#]]
        .assert_eq(&format!(
            "{}\nq1 {}\nmedian {}\nq3 {}\nmissing {:?} inconsistent {:?}",
            rows.join("\n"),
            q(result.q1),
            q(result.median),
            q(result.q3),
            result.missing.iter().map(PersonId::as_str).collect::<Vec<_>>(),
            result.inconsistent.iter().map(PersonId::as_str).collect::<Vec<_>>()
        ));
    }
}
