//! Turnover and succession: who held each post over time, who followed whom, and the share of a
//! body (a Central Committee, a set of NKVD chiefs) purged in each year.

use crate::proportion::{Confidence, Proportion};
use model::{Day, PersonId, UncertainDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// A post as the sources name it. Empty parts are empty strings, so posts sort and compare.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PostKey {
    pub organisation: String,
    pub unit: String,
    pub role: String,
}

impl PostKey {
    /// `role, unit, organisation`, skipping empty parts.
    pub fn label(&self) -> String {
        [&self.role, &self.unit, &self.organisation].into_iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join(", ")
    }
}

/// One person's time in one post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tenure {
    pub person: PersonId,
    pub post: PostKey,
    pub from: Option<UncertainDate>,
    pub to: Option<UncertainDate>,
}

/// The change from one holder to the next. The gap is in days, as bounds from the uncertain
/// dates (`predecessor left` to `successor took up`); negative values mean the tenures overlap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Handover {
    pub predecessor: PersonId,
    pub successor: PersonId,
    /// `None` when the predecessor's end or the successor's start is not known.
    pub gap_days: Option<(i64, i64)>,
}

/// The history of one post: its holders in order (the chain of successors) and the handovers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PostHistory {
    pub post: PostKey,
    /// Tenures in time order (by start, or end where the start is unknown).
    pub holders: Vec<Tenure>,
    pub handovers: Vec<Handover>,
    /// Tenures with neither start nor end: they cannot be placed in the chain.
    pub undated: Vec<PersonId>,
}

/// Groups tenures by post and orders each post's holders in time.
pub fn post_histories(tenures: &[Tenure]) -> Vec<PostHistory> {
    let mut by_post: BTreeMap<&PostKey, Vec<&Tenure>> = BTreeMap::new();
    for t in tenures {
        by_post.entry(&t.post).or_default().push(t);
    }
    by_post
        .into_iter()
        .map(|(post, tenures)| {
            let (mut dated, undated): (Vec<&Tenure>, Vec<&Tenure>) = tenures.into_iter().partition(|t| t.from.or(t.to).is_some());
            dated.sort_by_key(|t| (t.from.or(t.to).map(|d| d.midpoint()), t.to.map(|d| d.midpoint()), t.person.clone()));
            let handovers = dated
                .windows(2)
                .map(|pair| Handover {
                    predecessor: pair[0].person.clone(),
                    successor: pair[1].person.clone(),
                    gap_days: pair[0].to.zip(pair[1].from).map(|(left, came)| {
                        let days = |a: Day, b: Day| i64::from(b.days()) - i64::from(a.days());
                        (days(left.latest(), came.earliest()), days(left.earliest(), came.latest()))
                    }),
                })
                .collect();
            let mut undated: Vec<PersonId> = undated.into_iter().map(|t| t.person.clone()).collect();
            undated.sort();
            PostHistory { post: post.clone(), holders: dated.into_iter().cloned().collect(), handovers, undated }
        })
        .collect()
}

/// One year of a purge: members still in the body at its start, and those purged during it.
/// A purge date that spans years ("1937/1938") is placed in none of them, as a time series
/// places no vague date (putting it at its midpoint would choose a year the sources do not):
/// such a member is possibly purged in each year its date touches, and listed as such.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PurgeYear {
    pub year: i32,
    /// Members not certainly purged before the year.
    pub at_start: u64,
    /// Purged within the year (the whole purge date lies in it), sorted.
    pub purged: Vec<PersonId>,
    /// How many members' purge date spans the year and others: `possibly.len()`.
    pub uncertain: u64,
    /// Those members, sorted: possibly purged in the year as well.
    pub possibly: Vec<PersonId>,
    /// `purged / at_start`: a lower bound when `uncertain` is not 0.
    pub share: Proportion,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PurgeSeries {
    pub members: u64,
    pub years: Vec<PurgeYear>,
    /// Purged in any year of the range, of all members: "70 % of the Central Committee". A
    /// lower bound when some were purged at an unknown date (`undated`).
    pub purged_in_range: Proportion,
    /// Members whose purge date touches the range but lies in none of its years (`1937/1938`,
    /// `before 1938`), sorted: dated too vaguely to place in one year.
    pub imprecise: Vec<PersonId>,
    /// Members whose purge is recorded without a date, sorted. They cannot be placed in a
    /// year, so each year counts them as still in the body and its share is a lower bound.
    pub undated: Vec<PersonId>,
    /// The share purged in the range if every undated purge fell within it: the upper bound.
    pub purged_in_range_at_most: Proportion,
}

/// For each member of a body, the date they were purged (arrested, shot), if they were: the
/// share purged per year over `first..=last` and over the whole range. `undated` are the
/// members (without a date in `members`) whose purge is recorded but not dated: they are never
/// counted as not purged without saying so.
pub fn purge_per_year(members: &[(PersonId, Option<UncertainDate>)], undated: &[PersonId], first: i32, last: i32, confidence: Confidence) -> PurgeSeries {
    let dated: Vec<(&PersonId, &UncertainDate)> = members.iter().filter_map(|(p, d)| Some((p, d.as_ref()?))).collect();
    let sorted = |persons: Vec<&PersonId>| -> Vec<PersonId> {
        let mut persons: Vec<PersonId> = persons.into_iter().cloned().collect();
        persons.sort();
        persons
    };
    let years: Vec<PurgeYear> = (first..=last)
        .map(|year| {
            let (from, to) = year_days(year, year);
            // Not certainly purged before the year: undated, or a date reaching into it or later.
            let at_start = members.iter().filter(|(_, d)| d.as_ref().is_none_or(|d| d.latest() >= from)).count() as u64;
            let purged = sorted(dated.iter().filter(|(_, d)| d.lies_between(from, to)).map(|(p, _)| *p).collect());
            let possibly = sorted(dated.iter().filter(|(_, d)| d.touches(from, to) && !d.lies_between(from, to)).map(|(p, _)| *p).collect());
            PurgeYear { year, at_start, share: Proportion::new(purged.len() as u64, at_start, confidence), purged, uncertain: possibly.len() as u64, possibly }
        })
        .collect();
    // Over the whole range a date spanning two of its years is certainly within it.
    let (range_from, range_to) = year_days(first, last);
    let in_range = dated.iter().filter(|(_, d)| d.lies_between(range_from, range_to)).count() as u64;
    let placed = |d: &UncertainDate| (first..=last).any(|year| {
        let (from, to) = year_days(year, year);
        d.lies_between(from, to)
    });
    let imprecise = sorted(dated.iter().filter(|(_, d)| d.touches(range_from, range_to) && !placed(d)).map(|(p, _)| *p).collect());
    let total = members.len() as u64;
    let mut undated: Vec<PersonId> = undated.iter().filter(|p| members.iter().any(|(m, d)| m == *p && d.is_none())).cloned().collect();
    undated.sort();
    undated.dedup();
    PurgeSeries {
        members: total,
        purged_in_range: Proportion::new(in_range, total, confidence),
        purged_in_range_at_most: Proportion::new(in_range + undated.len() as u64, total, confidence),
        imprecise,
        undated,
        years,
    }
}

/// The days from 1 January of `first` to 31 December of `last`.
fn year_days(first: i32, last: i32) -> (Day, Day) {
    let day = |year, month, day| Day::from_ymd(year, month, day).expect("1 January and 31 December exist in every year");
    (day(first, 1, 1), day(last, 12, 31))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn d(text: &str) -> Option<UncertainDate> {
        (!text.is_empty()).then(|| UncertainDate::parse_standard(text).unwrap())
    }

    fn post(role: &str) -> PostKey {
        PostKey { organisation: "НКВД СССР".into(), unit: String::new(), role: role.into() }
    }

    #[test]
    fn successions_of_the_peoples_commissar() {
        let tenure = |who: &str, role: &str, from: &str, to: &str| Tenure {
            person: PersonId::new(who),
            post: post(role),
            from: d(from),
            to: d(to),
        };
        let tenures = [
            tenure("ezhov", "нарком", "1936-09-26", "1938-11-25"),
            tenure("yagoda", "нарком", "1934-07-10", "1936-09-26"),
            tenure("beria", "нарком", "1938-11-25", "1945-12-29"),
            tenure("frinovsky", "замнаркома", "1937", "1938-09"),
            tenure("nobody", "нарком", "", ""),
        ];
        let shown: Vec<String> = post_histories(&tenures)
            .iter()
            .map(|h| {
                let chain: Vec<&str> = h.holders.iter().map(|t| t.person.as_str()).collect();
                let gaps: Vec<String> = h.handovers.iter().map(|x| format!("{}->{} {:?}", x.predecessor, x.successor, x.gap_days)).collect();
                format!("{}: {} | {} | undated {:?}", h.post.label(), chain.join(" > "), gaps.join("; "), h.undated)
            })
            .collect();
        expect![[r#"
            замнаркома, НКВД СССР: frinovsky |  | undated []
            нарком, НКВД СССР: yagoda > ezhov > beria | yagoda->ezhov Some((0, 0)); ezhov->beria Some((0, 0)) | undated [PersonId("nobody")]"#]]
        .assert_eq(&shown.join("\n"));
    }

    #[test]
    fn share_purged_per_year() {
        // Eleven members of a body: 1936 one shot, 1937 three, one dated only to 1937/1938 (in
        // neither year, possibly in both, certainly in the range), 1938 two, one in 1941, one
        // never, one (j) purged at a date no source gives, one (k) in 1935 or 1936 (possibly
        // before the range, so not certainly within it).
        let members: Vec<(PersonId, Option<UncertainDate>)> = [
            ("a", "1936-08-25"),
            ("b", "1937-06-12"),
            ("c", "1937-06-12"),
            ("d", "1937-10"),
            ("e", "1937/1938"),
            ("f", "1938-03-15"),
            ("g", "1938"),
            ("h", "1941-10-28"),
            ("i", ""),
            ("j", ""),
            ("k", "1935/1936"),
        ]
        .iter()
        .map(|(id, date)| (PersonId::new(*id), d(date)))
        .collect();
        let series = purge_per_year(&members, &[PersonId::new("j"), PersonId::new("a")], 1936, 1938, Confidence::NINETY_FIVE);
        let rows: Vec<String> = series
            .years
            .iter()
            .map(|y| {
                let ids = |ps: &[PersonId]| ps.iter().map(|p| p.as_str().to_owned()).collect::<Vec<_>>();
                format!("{} {}/{} unc={} {:.3} {:?} possibly {:?}", y.year, y.purged.len(), y.at_start, y.uncertain, y.share.share.unwrap(), ids(&y.purged), ids(&y.possibly))
            })
            .collect();
        expect![[r#"
            1936 1/11 unc=1 0.091 ["a"] possibly ["k"]
            1937 3/9 unc=1 0.333 ["b", "c", "d"] possibly ["e"]
            1938 2/6 unc=1 0.333 ["f", "g"] possibly ["e"]
            in range 7/11, at most 8/11, undated ["j"], imprecise ["e", "k"]"#]]
        .assert_eq(&format!(
            "{}\nin range {}/{}, at most {}/{}, undated {:?}, imprecise {:?}",
            rows.join("\n"),
            series.purged_in_range.successes,
            series.purged_in_range.trials,
            series.purged_in_range_at_most.successes,
            series.purged_in_range_at_most.trials,
            series.undated.iter().map(PersonId::as_str).collect::<Vec<_>>(),
            series.imprecise.iter().map(PersonId::as_str).collect::<Vec<_>>()
        ));
    }
}
