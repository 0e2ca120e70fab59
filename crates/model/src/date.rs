//! Uncertain dates: every date is an interval of days with the precision the source gave it.
//!
//! Historical sources say "1938", "autumn 1936", "before 1937" or give Old Style (Julian) dates.
//! We never invent a day: a date is the interval of days it could be, on the proleptic Gregorian
//! calendar, plus the precision and calendar it was written in so a reader can see what was said.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A day on the proleptic Gregorian calendar, counted from 1970-01-01 (day 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Day(i32);

impl Day {
    /// The earliest day we represent; open "before" intervals start here.
    pub const MIN: Day = Day(-719_162); // 0001-01-01
    /// The latest day we represent; open "after" intervals end here.
    pub const MAX: Day = Day(2_932_896); // 9999-12-31

    pub fn from_days(days: i32) -> Day {
        Day(days.clamp(Self::MIN.0, Self::MAX.0))
    }

    pub fn days(self) -> i32 {
        self.0
    }

    /// A Gregorian calendar date, or `None` when the day does not exist (31 April, 29 Feb 1900...).
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month, Calendar::Gregorian) {
            return None;
        }
        Some(Day(days_from_civil(year, month, day)))
    }

    /// A Julian (Old Style) calendar date, converted to the Gregorian day it names.
    pub fn from_julian_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month, Calendar::Julian) {
            return None;
        }
        // Julian day number of the Julian date, then shift to our epoch (JDN of 1970-01-01 is 2440588).
        let a = (14 - month as i32) / 12;
        let y = year + 4800 - a;
        let m = month as i32 + 12 * a - 3;
        let jdn = day as i32 + (153 * m + 2) / 5 + 365 * y + y / 4 - 32083;
        Some(Day(jdn - 2_440_588))
    }

    /// The Gregorian (year, month, day) of this day.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// The last day of a Gregorian month.
    pub fn last_of_month(year: i32, month: u32) -> Option<Day> {
        Day::from_ymd(year, month, days_in_month(year, month, Calendar::Gregorian))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// The calendar a source wrote a date in. The interval itself is always Gregorian.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Calendar {
    #[default]
    Gregorian,
    /// Old Style, used in Russia until 1918-02-14 (New Style).
    Julian,
}

/// How precisely a source stated a date. Determines how the interval was derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Precision {
    Day,
    Month,
    Season,
    Year,
    Decade,
    /// An explicit range, e.g. `1900/1902`.
    Range,
    /// "before D": the interval is open at the start.
    Before,
    /// "after D": the interval is open at the end.
    After,
}

/// A date as a closed interval of days `[earliest, latest]` with its precision.
///
/// Invariant: `earliest <= latest`. Open-ended dates use [`Day::MIN`] / [`Day::MAX`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UncertainDate {
    earliest: Day,
    latest: Day,
    precision: Precision,
    calendar: Calendar,
    /// The source marked the value as approximate ("1901?", "ок. 1901", "circa").
    approximate: bool,
}

impl UncertainDate {
    /// An interval; `None` when `earliest > latest`.
    pub fn new(earliest: Day, latest: Day, precision: Precision) -> Option<UncertainDate> {
        (earliest <= latest).then_some(UncertainDate {
            earliest,
            latest,
            precision,
            calendar: Calendar::Gregorian,
            approximate: false,
        })
    }

    pub fn day(day: Day) -> UncertainDate {
        UncertainDate {
            earliest: day,
            latest: day,
            precision: Precision::Day,
            calendar: Calendar::Gregorian,
            approximate: false,
        }
    }

    pub fn year(year: i32) -> Option<UncertainDate> {
        Self::new(Day::from_ymd(year, 1, 1)?, Day::from_ymd(year, 12, 31)?, Precision::Year)
    }

    pub fn month(year: i32, month: u32) -> Option<UncertainDate> {
        Self::new(Day::from_ymd(year, month, 1)?, Day::last_of_month(year, month)?, Precision::Month)
    }

    pub fn years(first: i32, last: i32) -> Option<UncertainDate> {
        Self::new(Day::from_ymd(first, 1, 1)?, Day::from_ymd(last, 12, 31)?, Precision::Range)
    }

    pub fn before(day: Day) -> UncertainDate {
        UncertainDate { earliest: Day::MIN, latest: day, precision: Precision::Before, ..Self::day(day) }
    }

    pub fn after(day: Day) -> UncertainDate {
        UncertainDate { earliest: day, latest: Day::MAX, precision: Precision::After, ..Self::day(day) }
    }

    pub fn with_calendar(self, calendar: Calendar) -> UncertainDate {
        UncertainDate { calendar, ..self }
    }

    pub fn approximately(self) -> UncertainDate {
        UncertainDate { approximate: true, ..self }
    }

    pub fn earliest(&self) -> Day {
        self.earliest
    }
    pub fn latest(&self) -> Day {
        self.latest
    }
    pub fn precision(&self) -> Precision {
        self.precision
    }
    pub fn calendar(&self) -> Calendar {
        self.calendar
    }
    pub fn is_approximate(&self) -> bool {
        self.approximate
    }

    /// The midpoint day, for sorting and for a point estimate where one is unavoidable.
    pub fn midpoint(&self) -> Day {
        Day((self.earliest.0 as i64 + self.latest.0 as i64).div_euclid(2) as i32)
    }

    /// Whether the two intervals share at least one day.
    pub fn overlaps(&self, other: &UncertainDate) -> bool {
        self.touches(other.earliest, other.latest)
    }

    /// Whether the date certainly lies in the days `from..=to`: its whole interval does.
    pub fn lies_between(&self, from: Day, to: Day) -> bool {
        from <= self.earliest && self.latest <= to
    }

    /// Whether the date may lie in the days `from..=to`: its interval shares a day with them.
    pub fn touches(&self, from: Day, to: Day) -> bool {
        self.earliest <= to && from <= self.latest
    }

    /// Days between the intervals (0 when they overlap).
    pub fn gap_days(&self, other: &UncertainDate) -> i32 {
        if self.overlaps(other) {
            0
        } else if self.latest < other.earliest {
            other.earliest.0 - self.latest.0
        } else {
            self.earliest.0 - other.latest.0
        }
    }

    /// Parses the standard record schema's forms: `1901`, `1901-03`, `1901-03-05`, `1900/1902`,
    /// and any of these followed by `?` (approximate). Surrounding whitespace is ignored.
    pub fn parse_standard(text: &str) -> Result<UncertainDate, DateError> {
        let t = text.trim();
        let (t, approximate) = match t.strip_suffix('?') {
            Some(rest) => (rest.trim_end(), true),
            None => (t, false),
        };
        let err = || DateError { text: text.to_owned() };
        let date = if let Some((a, b)) = t.split_once('/') {
            let first = Self::parse_standard(a).map_err(|_| err())?;
            let last = Self::parse_standard(b).map_err(|_| err())?;
            Self::new(first.earliest, last.latest, Precision::Range).ok_or_else(err)?
        } else {
            let parts: Vec<&str> = t.split('-').collect();
            let num = |s: &str, len: std::ops::RangeInclusive<usize>| -> Option<i64> {
                (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
            };
            match parts.as_slice() {
                [y] => Self::year(num(y, 4..=4).ok_or_else(err)? as i32),
                [y, m] => Self::month(num(y, 4..=4).ok_or_else(err)? as i32, num(m, 1..=2).ok_or_else(err)? as u32),
                [y, m, d] => Day::from_ymd(
                    num(y, 4..=4).ok_or_else(err)? as i32,
                    num(m, 1..=2).ok_or_else(err)? as u32,
                    num(d, 1..=2).ok_or_else(err)? as u32,
                )
                .map(Self::day),
                _ => None,
            }
            .ok_or_else(err)?
        };
        Ok(if approximate { date.approximately() } else { date })
    }
}

impl fmt::Display for UncertainDate {
    /// Writes the form `parse_standard` reads back where one exists (`1901`, `1901-03`,
    /// `1901-03-05`, `a/b`), `<D` / `>D` for open intervals, with `?` when approximate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y1, m1, _) = self.earliest.ymd();
        match self.precision {
            Precision::Day => write!(f, "{}", self.earliest)?,
            Precision::Month => write!(f, "{y1:04}-{m1:02}")?,
            Precision::Year => write!(f, "{y1:04}")?,
            Precision::Before => write!(f, "<{}", self.latest)?,
            Precision::After => write!(f, ">{}", self.earliest)?,
            Precision::Season | Precision::Decade | Precision::Range => {
                write!(f, "{}/{}", self.earliest, self.latest)?
            }
        }
        if self.approximate {
            f.write_str("?")?;
        }
        Ok(())
    }
}

/// A value that is not a date in the expected forms. The raw text is kept for the diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a date: {text:?}")]
pub struct DateError {
    pub text: String,
}

pub fn is_leap(year: i32, calendar: Calendar) -> bool {
    match calendar {
        Calendar::Gregorian => (year % 4 == 0 && year % 100 != 0) || year % 400 == 0,
        Calendar::Julian => year % 4 == 0,
    }
}

pub fn days_in_month(year: i32, month: u32, calendar: Calendar) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year, calendar) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days, exact for the proleptic Gregorian calendar.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use proptest::prelude::*;

    fn check(text: &str, expect: Expect) {
        let shown = match UncertainDate::parse_standard(text) {
            Ok(d) => format!("{d} [{}..{}] {:?}", d.earliest(), d.latest(), d.precision()),
            Err(e) => e.to_string(),
        };
        expect.assert_eq(&shown);
    }

    #[test]
    fn a_date_lies_between_days_only_wholly_and_touches_them_on_any_shared_day() {
        let year = UncertainDate::year(1938).unwrap();
        let day = |m, d| Day::from_ymd(1938, m, d).unwrap();
        let (july_first, july_last) = (day(7, 1), day(7, 31));
        assert!(!year.lies_between(july_first, july_last), "a year is not certainly in July");
        assert!(year.touches(july_first, july_last));
        assert!(year.lies_between(day(1, 1), day(12, 31)), "the bounds are inclusive");
        assert!(!year.touches(Day::from_ymd(1939, 1, 1).unwrap(), Day::from_ymd(1939, 12, 31).unwrap()));
        assert!(UncertainDate::day(day(12, 31)).touches(day(12, 31), day(12, 31)));
    }

    #[test]
    fn standard_forms() {
        check("1901", expect!["1901 [1901-01-01..1901-12-31] Year"]);
        check("1900-02", expect!["1900-02 [1900-02-01..1900-02-28] Month"]);
        check("1904-02", expect!["1904-02 [1904-02-01..1904-02-29] Month"]);
        check("1901-03-05", expect!["1901-03-05 [1901-03-05..1901-03-05] Day"]);
        check(" 1900/1902 ", expect!["1900-01-01/1902-12-31 [1900-01-01..1902-12-31] Range"]);
        check("1901?", expect!["1901? [1901-01-01..1901-12-31] Year"]);
        check("1901-02-30", expect![[r#"not a date: "1901-02-30""#]]);
        check("1902/1900", expect![[r#"not a date: "1902/1900""#]]);
        check("", expect![[r#"not a date: """#]]);
        check("19O1", expect![[r#"not a date: "19O1""#]]);
    }

    #[test]
    fn julian_dates_shift_by_the_century_gap() {
        // The October Revolution: 25 October 1917 Old Style is 7 November New Style.
        let os = Day::from_julian_ymd(1917, 10, 25).unwrap();
        assert_eq!(os.to_string(), "1917-11-07");
        // 29 February 1900 exists only in the Julian calendar.
        assert_eq!(Day::from_julian_ymd(1900, 2, 29).unwrap().to_string(), "1900-03-13");
        assert_eq!(Day::from_ymd(1900, 2, 29), None);
    }

    #[test]
    fn epoch_and_bounds() {
        assert_eq!(Day::from_ymd(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(Day::from_ymd(1, 1, 1), Some(Day::MIN));
        assert_eq!(Day::from_ymd(9999, 12, 31), Some(Day::MAX));
    }

    #[test]
    fn gaps_and_overlaps() {
        let a = UncertainDate::year(1937).unwrap();
        let b = UncertainDate::month(1937, 6).unwrap();
        let c = UncertainDate::year(1939).unwrap();
        assert!(a.overlaps(&b));
        assert_eq!(a.gap_days(&b), 0);
        assert_eq!(a.gap_days(&c), 366);
        assert_eq!(c.gap_days(&a), 366);
        assert!(UncertainDate::before(Day::from_ymd(1937, 1, 1).unwrap()).overlaps(&UncertainDate::year(1900).unwrap()));
    }

    proptest! {
        #[test]
        fn civil_roundtrip(days in Day::MIN.days()..=Day::MAX.days()) {
            let (y, m, d) = Day::from_days(days).ymd();
            prop_assert_eq!(Day::from_ymd(y, m, d), Some(Day::from_days(days)));
        }

        #[test]
        fn display_of_standard_forms_parses_back(y in 1..9999i32, m in 1..=12u32, d in 1..=28u32, which in 0..3u8) {
            let date = match which {
                0 => UncertainDate::year(y).unwrap(),
                1 => UncertainDate::month(y, m).unwrap(),
                _ => UncertainDate::day(Day::from_ymd(y, m, d).unwrap()),
            };
            prop_assert_eq!(UncertainDate::parse_standard(&date.to_string()), Ok(date));
        }

        #[test]
        fn parse_standard_never_panics(s in "\\PC*") {
            let _ = UncertainDate::parse_standard(&s);
        }
    }
}
