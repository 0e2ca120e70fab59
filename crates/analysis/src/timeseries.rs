//! Time series of dated events by day, month or year, and counts per era (Stalin, Khrushchev...).
//!
//! How an uncertain date is counted (the choice is ours, so it is written here and in every
//! result): a dated member is counted in a bin only when its whole interval lies in that bin
//! (`count`). A member whose interval spans several bins ("1938" in a monthly series, "winter
//! 1937" across the new year) is placed in none of them: putting it at its interval's start or
//! midpoint would invent a peak there (every "1938" in July 1938). Such members are listed
//! apart (`imprecise`), and `possible` counts every member whose interval touches the bin, so
//! the true number always lies within `[count, possible]`. Eras are counted by the same rule.
//! Open-ended dates ("before 1938") are reported apart as `open_ended`, members without a date
//! as `undated`, and dates wholly outside the series' range as `outside_range`.

use model::{Day, PersonId, UncertainDate};
use serde::{Deserialize, Serialize};

/// The width of a bin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Month,
    Year,
}

impl Granularity {
    /// The bin in words, for "dated too vaguely to place in one month".
    pub fn noun(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Month => "month",
            Granularity::Year => "year",
        }
    }
}

/// A named span of days, e.g. Khrushchev from 1953-03-05 to 1964-10-14: `[from, to]` inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Era {
    pub name: String,
    pub from: Day,
    pub to: Day,
}

/// The counts for one span of days (a bin or an era).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpanCount {
    /// The span's label: `1937`, `1937-08`, `1937-08-05`, or an era's name.
    pub label: String,
    pub from: Day,
    pub to: Day,
    /// Members whose whole interval lies within the span: a lower bound.
    pub count: u64,
    /// Of `count`, those whose source marked the date approximate (`1937?`, `ок. 1937`): the
    /// interval is what the source wrote, the mark says it may be wrong.
    pub approximate: u64,
    /// Members whose interval touches the span: an upper bound.
    pub possible: u64,
    /// The members counted in `count`, sorted.
    pub members: Vec<PersonId>,
}

/// A series over consecutive bins (empty bins included), plus eras.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimeSeries {
    pub granularity: Granularity,
    /// The counting rule, in words, so the JSON result explains itself.
    pub rule: &'static str,
    pub bins: Vec<SpanCount>,
    pub eras: Vec<SpanCount>,
    /// Members whose interval touches the series' range but lies within none of its bins.
    pub imprecise: Vec<PersonId>,
    /// Members with a date wholly outside the series' range.
    pub outside_range: Vec<PersonId>,
    pub open_ended: Vec<PersonId>,
    pub undated: Vec<PersonId>,
}

pub const COUNTING_RULE: &str = "a dated member is counted in a period only when its whole interval lies in it; \
a member whose interval spans several bins is placed in none and listed as dated too vaguely; 'possible' \
counts every member whose interval touches the period, so the true count lies between the count and 'possible'";

/// Builds the series. `range` limits the bins (inclusive); without it the bins run from the first
/// to the last midpoint. Members are counted in eras by the same rule.
pub fn time_series(
    items: &[(PersonId, Option<UncertainDate>)],
    granularity: Granularity,
    range: Option<(Day, Day)>,
    eras: &[Era],
) -> TimeSeries {
    let mut open_ended = Vec::new();
    let mut undated = Vec::new();
    let mut dated: Vec<(&PersonId, UncertainDate)> = Vec::new();
    for (id, date) in items {
        match date {
            None => undated.push(id.clone()),
            Some(d) if d.earliest() == Day::MIN || d.latest() == Day::MAX => open_ended.push(id.clone()),
            Some(d) => dated.push((id, *d)),
        }
    }
    let range = range.or_else(|| {
        let first = dated.iter().map(|(_, d)| d.midpoint()).min()?;
        let last = dated.iter().map(|(_, d)| d.midpoint()).max()?;
        Some((first, last))
    });
    let bins: Vec<SpanCount> = match range {
        Some((first, last)) if first <= last => bins_between(first, last, granularity)
            .into_iter()
            .map(|(label, from, to)| span_count(label, from, to, &dated))
            .collect(),
        _ => Vec::new(),
    };
    let in_range = |d: &UncertainDate| range.is_some_and(|(first, last)| d.touches(first, last));
    let placed = |d: &UncertainDate| bins.iter().any(|b| d.lies_between(b.from, b.to));
    let mut outside_range: Vec<PersonId> = dated.iter().filter(|(_, d)| !in_range(d)).map(|(id, _)| (*id).clone()).collect();
    let mut imprecise: Vec<PersonId> = dated.iter().filter(|(_, d)| in_range(d) && !placed(d)).map(|(id, _)| (*id).clone()).collect();
    let eras = eras.iter().map(|e| span_count(e.name.clone(), e.from, e.to, &dated)).collect();
    imprecise.sort();
    outside_range.sort();
    open_ended.sort();
    undated.sort();
    TimeSeries { granularity, rule: COUNTING_RULE, bins, eras, imprecise, outside_range, open_ended, undated }
}

fn span_count(label: String, from: Day, to: Day, dated: &[(&PersonId, UncertainDate)]) -> SpanCount {
    let mut members: Vec<PersonId> = Vec::new();
    let (mut possible, mut approximate) = (0, 0);
    for (id, date) in dated {
        if date.lies_between(from, to) {
            members.push((*id).clone());
            approximate += u64::from(date.is_approximate());
        }
        possible += u64::from(date.touches(from, to));
    }
    members.sort();
    SpanCount { label, from, to, count: members.len() as u64, approximate, possible, members }
}

/// The consecutive bins covering `[first, last]`, each as (label, first day, last day).
fn bins_between(first: Day, last: Day, granularity: Granularity) -> Vec<(String, Day, Day)> {
    let mut bins = Vec::new();
    let (mut year, mut month, _) = first.ymd();
    let mut day = first;
    loop {
        let bin = match granularity {
            Granularity::Day => (day.to_string(), day, day),
            Granularity::Month => (
                format!("{year:04}-{month:02}"),
                Day::from_ymd(year, month, 1).expect("valid month"),
                Day::last_of_month(year, month).expect("valid month"),
            ),
            Granularity::Year => (
                format!("{year:04}"),
                Day::from_ymd(year, 1, 1).expect("valid year"),
                Day::from_ymd(year, 12, 31).expect("valid year"),
            ),
        };
        let end = bin.2;
        bins.push(bin);
        if end >= last {
            return bins;
        }
        match granularity {
            Granularity::Day => day = Day::from_days(day.days() + 1),
            Granularity::Month => (year, month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) },
            Granularity::Year => year += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn d(text: &str) -> Option<UncertainDate> {
        (!text.is_empty()).then(|| UncertainDate::parse_standard(text).unwrap())
    }

    fn day(y: i32, m: u32, dd: u32) -> Day {
        Day::from_ymd(y, m, dd).unwrap()
    }

    fn show(series: &TimeSeries) -> String {
        let line = |s: &SpanCount| {
            let ids: Vec<&str> = s.members.iter().map(PersonId::as_str).collect();
            format!("{} n={}{} possible={} {{{}}}", s.label, s.count, if s.approximate > 0 { format!(" approx={}", s.approximate) } else { String::new() }, s.possible, ids.join(","))
        };
        let mut out: Vec<String> = series.bins.iter().map(line).collect();
        out.extend(series.eras.iter().map(line));
        let ids = |v: &[PersonId]| v.iter().map(PersonId::as_str).collect::<Vec<_>>().join(",");
        out.push(format!("imprecise {} outside {} open {} undated {}", ids(&series.imprecise), ids(&series.outside_range), ids(&series.open_ended), ids(&series.undated)));
        out.join("\n")
    }

    fn check(items: &[(&str, &str)], granularity: Granularity, range: Option<(Day, Day)>, eras: &[Era], expect: Expect) {
        let items: Vec<(PersonId, Option<UncertainDate>)> = items.iter().map(|(id, date)| (PersonId::new(*id), d(date))).collect();
        expect.assert_eq(&show(&time_series(&items, granularity, range, eras)));
    }

    #[test]
    fn months_count_only_dates_within_them_and_list_vaguer_ones_apart() {
        let items = [
            ("a", "1937-08-05"),
            ("b", "1937-08"),
            ("c", "1937"), // in no month (not in July, its midpoint): possible everywhere
            ("g", "1937-07/1937-08"),
            ("d", "1937-10-01"),
            ("e", ""),
            ("f", "1940-01-01"),
        ];
        let range = Some((day(1937, 7, 1), day(1937, 10, 31)));
        check(
            &items,
            Granularity::Month,
            range,
            &[],
            expect![[r#"
                1937-07 n=0 possible=2 {}
                1937-08 n=2 possible=4 {a,b}
                1937-09 n=0 possible=1 {}
                1937-10 n=1 possible=2 {d}
                imprecise c,g outside f open  undated e"#]],
        );
    }

    #[test]
    fn years_and_eras_without_a_range_span_the_midpoints() {
        let eras = [
            Era { name: "Stalin".into(), from: day(1945, 1, 1), to: day(1953, 3, 5) },
            Era { name: "Khrushchev".into(), from: day(1953, 3, 6), to: day(1964, 10, 14) },
        ];
        let open = [("x", "1950?"), ("y", "1953"), ("z", "1951/1956"), ("w", "")];
        let mut items: Vec<(PersonId, Option<UncertainDate>)> = open.iter().map(|(id, t)| (PersonId::new(*id), d(t))).collect();
        items.push((PersonId::new("v"), Some(UncertainDate::before(day(1960, 1, 1)))));
        let series = time_series(&items, Granularity::Year, None, &eras);
        expect![[r#"
            1950 n=1 approx=1 possible=1 {x}
            1951 n=0 possible=1 {}
            1952 n=0 possible=1 {}
            1953 n=1 possible=2 {y}
            Stalin n=1 approx=1 possible=3 {x}
            Khrushchev n=0 possible=2 {}
            imprecise z outside  open v undated w"#]]
        .assert_eq(&show(&series));
    }

    #[test]
    fn year_only_dates_make_no_peak_in_a_monthly_series() {
        // Memorial gives some arrests as the year only: by their midpoint all would land in July.
        let mut items: Vec<(PersonId, Option<UncertainDate>)> = (0..10).map(|i| (PersonId::new(format!("y{i}")), d("1938"))).collect();
        items.push((PersonId::new("day"), d("1938-07-14")));
        let series = time_series(&items, Granularity::Month, Some((day(1938, 1, 1), day(1938, 12, 31))), &[]);
        let july = &series.bins[6];
        assert_eq!((july.label.as_str(), july.count, july.possible), ("1938-07", 1, 11));
        assert!(series.bins.iter().all(|b| b.possible >= 10 && b.count <= 1));
        assert_eq!(series.imprecise.len(), 10);
        let placed: u64 = series.bins.iter().map(|b| b.count).sum();
        assert_eq!(placed as usize + series.imprecise.len(), items.len(), "each dated member is placed once or listed apart");
    }

    #[test]
    fn days_bins_are_consecutive() {
        check(
            &[("a", "1938-02-27"), ("b", "1938-03-01")],
            Granularity::Day,
            None,
            &[],
            expect![[r#"
                1938-02-27 n=1 possible=1 {a}
                1938-02-28 n=0 possible=0 {}
                1938-03-01 n=1 possible=1 {b}
                imprecise  outside  open  undated "#]],
        );
    }
}
