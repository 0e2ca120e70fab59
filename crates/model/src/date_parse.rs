//! Reading the dates historians meet in lists into [`UncertainDate`] intervals.
//!
//! Forms: `27/02/38`, `15.10.1938`, `1938`, `03.1938`, `15.X.1938`, `март 1938`, `15 марта 1938 г.`,
//! `весна 1937` / `spring 1937`, `1930-е` / `1930s`, `до 1937` / `before 1937`, `после 1937` /
//! `after 1937`, `не позднее 1937`, `ок. 1901` / `circa 1901` / `1901?`, ranges `1937-1938` and
//! `1900/1902`, ISO `1938-02-27`, plus Excel serial days and Memorial's packed integers.
//! The functions are pure and take text, so they can be fuzzed; they never panic.

use crate::date::{DateError, days_in_month};
use crate::{Calendar, Day, Precision, UncertainDate};

/// How a source writes its dates; set per source or per column in the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateOptions {
    /// `01.02.1938` is 1 February (true, the Russian habit) or 2 January (false).
    pub day_first: bool,
    /// The century two-digit years fall in: `38` is `two_digit_base + 38` (default 1900).
    pub two_digit_base: i32,
    /// Two-digit years below the pivot fall in the next century (`pivot = 30`: `05` is 2005 with
    /// base 1900). `None`: all two-digit years fall in `two_digit_base`'s century.
    pub two_digit_pivot: Option<u32>,
    /// The calendar the source writes in; Julian (Old Style) dates are converted to Gregorian days.
    pub calendar: Calendar,
}

impl Default for DateOptions {
    fn default() -> Self {
        DateOptions { day_first: true, two_digit_base: 1900, two_digit_pivot: None, calendar: Calendar::Gregorian }
    }
}

/// Parses one cell's text. Blank text is an error here; callers decide what "empty" means.
pub fn parse_date(text: &str, options: &DateOptions) -> Result<UncertainDate, DateError> {
    let fail = || DateError { text: text.to_owned() };
    // Most cells are plain numeric dates: read them without building a normalised copy.
    let trimmed = text.trim();
    if !trimmed.is_empty()
        && trimmed.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'/' | b'-'))
        && let Some(ymd) = parse_numeric(trimmed, options)
    {
        return ymd.interval(options.calendar).ok_or_else(fail);
    }
    let normal = normalise(text);
    let mut rest = normal.as_str();
    let mut approximate = false;
    if let Some(r) = rest.strip_suffix('?') {
        rest = r.trim_end();
        approximate = true;
    }
    for prefix in APPROXIMATE_PREFIXES {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r.trim_start();
            approximate = true;
            break;
        }
    }
    let mut bound = None;
    for (prefix, which) in BOUND_PREFIXES {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r.trim_start();
            bound = Some(which);
            break;
        }
    }
    if !approximate {
        for prefix in APPROXIMATE_PREFIXES {
            if let Some(r) = rest.strip_prefix(prefix) {
                rest = r.trim_start();
                approximate = true;
                break;
            }
        }
    }
    let inner = parse_interval(rest, options).ok_or_else(fail)?;
    let date = match bound {
        None => inner,
        Some(Bound::Before) => UncertainDate::before(Day::from_days(inner.earliest().days() - 1)),
        Some(Bound::NotAfter) => UncertainDate::before(inner.latest()),
        Some(Bound::After) => UncertainDate::after(Day::from_days(inner.latest().days() + 1)),
        Some(Bound::NotBefore) => UncertainDate::after(inner.earliest()),
    }
    .with_calendar(options.calendar);
    Ok(if approximate { date.approximately() } else { date })
}

/// Decodes Memorial's packed date integer: day = v & 31, month = (v >> 5) & 15,
/// year = ((v >> 9) & 255) + 1800. `0` means unknown (`Ok(None)`); a zero day or month leaves
/// the date at month or year precision.
pub fn decode_packed_memorial(value: i64, calendar: Calendar) -> Result<Option<UncertainDate>, DateError> {
    if value == 0 {
        return Ok(None);
    }
    let fail = || DateError { text: value.to_string() };
    if !(0..1 << 17).contains(&value) {
        return Err(fail());
    }
    let day = (value & 31) as u32;
    let month = ((value >> 5) & 15) as u32;
    let year = ((value >> 9) & 255) as i32 + 1800;
    let parts = match (month, day) {
        (0, 0) => Ymd { year, month: None, day: None },
        (0, _) => return Err(fail()),
        (m, 0) => Ymd { year, month: Some(m), day: None },
        (m, d) => Ymd { year, month: Some(m), day: Some(d) },
    };
    parts.interval(calendar).map(Some).ok_or_else(fail)
}

/// The day an Excel serial number names (1900 date system; serial 1 is 1900-01-01, and Excel's
/// phantom 29 February 1900 is skipped). `None` outside 1..=2_958_465 (9999-12-31).
pub fn day_from_excel_serial(serial: f64) -> Option<Day> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let whole = serial.floor() as i32;
    // Serials from 61 on count from 1899-12-30; before Excel's phantom leap day, from 1899-12-31.
    let epoch = if whole >= 61 { -25_569 } else { -25_568 };
    Some(Day::from_days(epoch + whole))
}

#[derive(Clone, Copy)]
enum Bound {
    Before,
    NotAfter,
    After,
    NotBefore,
}

const APPROXIMATE_PREFIXES: [&str; 12] =
    ["приблизительно", "прибл.", "около", "ок.", "ок ", "circa", "about", "approx.", "ca.", "c.", "abt", "~"];

const BOUND_PREFIXES: [(&str, Bound); 8] = [
    ("не позднее", Bound::NotAfter),
    ("не ранее", Bound::NotBefore),
    ("не позже", Bound::NotAfter),
    ("до", Bound::Before),
    ("before", Bound::Before),
    ("после", Bound::After),
    ("after", Bound::After),
    ("с ", Bound::NotBefore),
];

/// Lowercase, one space between words, dashes of every kind as `-`, no trailing year word.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.trim().chars() {
        let c = match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    let mut s = out.as_str();
    loop {
        let before = s.len();
        for suffix in ["г.р.", "года", "год", "гг.", "гг", "г.", "г", "yr."] {
            if let Some(r) = s.strip_suffix(suffix)
                && (r.is_empty() || r.ends_with(|c: char| c.is_ascii_digit() || c == ' ' || c == '.'))
            {
                s = r.trim_end();
                break;
            }
        }
        if s.len() == before {
            break;
        }
    }
    s.strip_prefix("в ").or_else(|| s.strip_prefix("in ")).unwrap_or(s).to_owned()
}

/// A date's parts before it becomes an interval; missing parts widen it.
#[derive(Clone, Copy, Debug)]
struct Ymd {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

impl Ymd {
    fn first_day(self, calendar: Calendar) -> Option<Day> {
        to_day(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1), calendar)
    }

    fn last_day(self, calendar: Calendar) -> Option<Day> {
        let month = self.month.unwrap_or(12);
        let day = match self.day {
            Some(d) => d,
            None => days_in_month(self.year, month, calendar),
        };
        to_day(self.year, month, day, calendar)
    }

    fn precision(self) -> Precision {
        match (self.month, self.day) {
            (_, Some(_)) => Precision::Day,
            (Some(_), None) => Precision::Month,
            (None, None) => Precision::Year,
        }
    }

    fn interval(self, calendar: Calendar) -> Option<UncertainDate> {
        if self.day.is_some() && self.month.is_none() {
            return None;
        }
        let date = UncertainDate::new(self.first_day(calendar)?, self.last_day(calendar)?, self.precision())?;
        Some(date.with_calendar(calendar))
    }
}

fn to_day(year: i32, month: u32, day: u32, calendar: Calendar) -> Option<Day> {
    match calendar {
        Calendar::Gregorian => Day::from_ymd(year, month, day),
        Calendar::Julian => Day::from_julian_ymd(year, month, day),
    }
}

/// A date without before/after or approximation markers: a single form or a range of two.
fn parse_interval(text: &str, options: &DateOptions) -> Option<UncertainDate> {
    if text.is_empty() {
        return None;
    }
    if let Some(date) = parse_single(text, options) {
        return Some(date);
    }
    // A range: two single forms around `-`, `/` or `..`; the second may be a bare two-digit
    // year in the first one's century (`1937-38`).
    for (at, sep) in text.match_indices(['-', '/', '.']) {
        let (sep_len, left) = if sep == "." {
            if !text[at..].starts_with("..") {
                continue;
            }
            (2, &text[..at])
        } else {
            (1, &text[..at])
        };
        let right = text[at + sep_len..].trim();
        let left = left.trim();
        let Some(first) = parse_single(left, options) else {
            continue;
        };
        let second =
            if right.len() == 2 && right.bytes().all(|b| b.is_ascii_digit()) && first.precision() == Precision::Year {
                let century = first.earliest().year() / 100 * 100;
                right
                    .parse::<i32>()
                    .ok()
                    .and_then(|yy| Ymd { year: century + yy, month: None, day: None }.interval(options.calendar))
            } else {
                parse_single(right, options)
            };
        let Some(second) = second else { continue };
        if let Some(range) = UncertainDate::new(first.earliest(), second.latest(), Precision::Range) {
            return Some(range.with_calendar(options.calendar));
        }
    }
    None
}

/// One form: a decade, a numeric date, or a date with month or season words.
fn parse_single(text: &str, options: &DateOptions) -> Option<UncertainDate> {
    if let Some(date) = parse_decade(text, options) {
        return Some(date);
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'/' || b == b'-')
        && let Some(ymd) = parse_numeric(text, options)
    {
        return ymd.interval(options.calendar);
    }
    parse_words(text, options)
}

fn parse_decade(text: &str, options: &DateOptions) -> Option<UncertainDate> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, suffix) = text.split_at(digits_end);
    let suffix = suffix.trim_start_matches([' ', '-', '\'']);
    if !matches!(suffix, "е" | "x" | "х" | "s" | "ые" | "ых" | "е годы" | "х годах" | "х годов")
    {
        return None;
    }
    let start = match digits.len() {
        4 => digits.parse::<i32>().ok()?,
        2 => two_digit_year(digits.parse().ok()?, options),
        _ => return None,
    };
    if start % 10 != 0 {
        return None;
    }
    let date = UncertainDate::new(
        Ymd { year: start, month: None, day: None }.first_day(options.calendar)?,
        Ymd { year: start + 9, month: None, day: None }.last_day(options.calendar)?,
        Precision::Decade,
    )?;
    Some(date.with_calendar(options.calendar))
}

fn two_digit_year(yy: u32, options: &DateOptions) -> i32 {
    match options.two_digit_pivot {
        Some(pivot) if yy < pivot => options.two_digit_base + 100 + yy as i32,
        _ => options.two_digit_base + yy as i32,
    }
}

/// A year of four digits, or of two (the manifest's century rule).
fn year_of(part: &str, options: &DateOptions) -> Option<i32> {
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match part.len() {
        4 => part.parse().ok().filter(|y| *y >= 1),
        2 => Some(two_digit_year(part.parse().ok()?, options)),
        _ => None,
    }
}

fn small_number(part: &str, max: u32) -> Option<u32> {
    if part.is_empty() || part.len() > 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok().filter(|n| (1..=max).contains(n))
}

/// `1938`, `19380227`, `15.10.1938`, `27/02/38`, `03.1938`, `1938-02-27`, `1938-02`.
fn parse_numeric(text: &str, options: &DateOptions) -> Option<Ymd> {
    let separator = text.bytes().find(|b| matches!(b, b'.' | b'/' | b'-'));
    let mut parts = [""; 3];
    let mut count = 0;
    for part in text.split(|c: char| c.is_ascii() && Some(c as u8) == separator) {
        *parts.get_mut(count)? = part;
        count += 1;
    }
    if text.bytes().any(|b| matches!(b, b'.' | b'/' | b'-') && Some(b) != separator) {
        return None;
    }
    match &parts[..count] {
        [y] if y.len() == 4 => Some(Ymd { year: year_of(y, options)?, month: None, day: None }),
        [ymd] if ymd.len() == 8 => Some(Ymd {
            year: year_of(&ymd[..4], options)?,
            month: Some(small_number(&ymd[4..6], 12)?),
            day: Some(small_number(&ymd[6..], 31)?),
        }),
        [y, m] if y.len() == 4 => {
            Some(Ymd { year: year_of(y, options)?, month: Some(small_number(m, 12)?), day: None })
        }
        [m, y] if y.len() == 4 => {
            Some(Ymd { year: year_of(y, options)?, month: Some(small_number(m, 12)?), day: None })
        }
        [y, m, d] if y.len() == 4 => {
            Some(Ymd { year: year_of(y, options)?, month: Some(small_number(m, 12)?), day: Some(small_number(d, 31)?) })
        }
        [a, b, y] => {
            let (d, m) = if options.day_first { (a, b) } else { (b, a) };
            Some(Ymd { year: year_of(y, options)?, month: Some(small_number(m, 12)?), day: Some(small_number(d, 31)?) })
        }
        _ => None,
    }
}

/// Month names (nominative, genitive, abbreviations) in Russian and English, and Roman numerals.
fn month_of(word: &str) -> Option<u32> {
    const STEMS: [(&str, u32); 25] = [
        ("янв", 1),
        ("фев", 2),
        ("мар", 3),
        ("апр", 4),
        ("мая", 5),
        ("май", 5),
        ("мае", 5),
        ("июн", 6),
        ("июл", 7),
        ("авг", 8),
        ("сен", 9),
        ("окт", 10),
        ("ноя", 11),
        ("дек", 12),
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        // December in English is handled below with the Roman numerals' exact matches.
    ];
    const ROMAN: [&str; 12] = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"];
    if word.starts_with("dec") {
        return Some(12);
    }
    if let Some(i) = ROMAN.iter().position(|r| *r == word) {
        return Some(i as u32 + 1);
    }
    if word.chars().count() < 3 {
        return None;
    }
    STEMS.iter().find(|(stem, _)| word.starts_with(stem)).map(|(_, m)| *m)
}

/// Seasons as (first month, last month); winter runs from the previous December.
fn season_of(word: &str) -> Option<(u32, u32)> {
    const SEASONS: [(&str, (u32, u32)); 9] = [
        ("весн", (3, 5)),
        ("spring", (3, 5)),
        ("лет", (6, 8)),
        ("summer", (6, 8)),
        ("осен", (9, 11)),
        ("autumn", (9, 11)),
        ("fall", (9, 11)),
        ("зим", (12, 2)),
        ("winter", (12, 2)),
    ];
    SEASONS.iter().find(|(stem, _)| word.starts_with(stem)).map(|(_, s)| *s)
}

/// `март 1938`, `15 марта 1938`, `march 15, 1938`, `15.x.1938`, `весна 1937`, `spring of 1937`.
fn parse_words(text: &str, options: &DateOptions) -> Option<UncertainDate> {
    let mut year = None;
    let mut month = None;
    let mut season = None;
    let mut day = None;
    for token in text.split([' ', ',', '.']).filter(|t| !t.is_empty() && *t != "of") {
        if token.bytes().all(|b| b.is_ascii_digit()) {
            if token.len() == 4 && year.is_none() {
                year = year_of(token, options);
            } else if token.len() <= 2 && day.is_none() && (month.is_some() || year.is_none()) && year.is_none() {
                day = Some(small_number(token, 31)?);
            } else if token.len() == 2 && year.is_none() {
                year = year_of(token, options);
            } else {
                return None;
            }
        } else if let Some(m) = month_of(token).filter(|_| month.is_none() && season.is_none()) {
            month = Some(m);
        } else if let Some(s) = season_of(token).filter(|_| month.is_none() && season.is_none() && day.is_none()) {
            season = Some(s);
        } else {
            return None;
        }
    }
    let year = year?;
    if let Some((first, last)) = season {
        let first_year = if first > last { year - 1 } else { year };
        let date = UncertainDate::new(
            Ymd { year: first_year, month: Some(first), day: None }.first_day(options.calendar)?,
            Ymd { year, month: Some(last), day: None }.last_day(options.calendar)?,
            Precision::Season,
        )?;
        return Some(date.with_calendar(options.calendar));
    }
    let month = month?;
    Ymd { year, month: Some(month), day }.interval(options.calendar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use proptest::prelude::*;

    fn show(result: Result<UncertainDate, DateError>) -> String {
        match result {
            Ok(d) => format!(
                "{:?} {}..{}{}{}",
                d.precision(),
                d.earliest(),
                d.latest(),
                if d.is_approximate() { " approx" } else { "" },
                if d.calendar() == Calendar::Julian { " julian" } else { "" }
            ),
            Err(e) => e.to_string(),
        }
    }

    fn check(text: &str, expect: Expect) {
        expect.assert_eq(&show(parse_date(text, &DateOptions::default())));
    }

    #[test]
    fn numeric_forms() {
        check("27/02/38", expect!["Day 1938-02-27..1938-02-27"]);
        check("15.10.1938", expect!["Day 1938-10-15..1938-10-15"]);
        check("1938", expect!["Year 1938-01-01..1938-12-31"]);
        check(" 1938 г. ", expect!["Year 1938-01-01..1938-12-31"]);
        check("03.1938", expect!["Month 1938-03-01..1938-03-31"]);
        check("1938-02-27", expect!["Day 1938-02-27..1938-02-27"]);
        check("1938-02", expect!["Month 1938-02-01..1938-02-28"]);
        check("19380227", expect!["Day 1938-02-27..1938-02-27"]);
        check("5.3.1937", expect!["Day 1937-03-05..1937-03-05"]);
        check("15.X.1938", expect!["Day 1938-10-15..1938-10-15"]);
        check("31.04.1938", expect![[r#"not a date: "31.04.1938""#]]);
        check("15.10/1938", expect![[r#"not a date: "15.10/1938""#]]);
        check("38", expect![[r#"not a date: "38""#]]);
    }

    #[test]
    fn word_forms() {
        check("март 1938", expect!["Month 1938-03-01..1938-03-31"]);
        check("15 марта 1938 г.", expect!["Day 1938-03-15..1938-03-15"]);
        check("в мае 1937", expect!["Month 1937-05-01..1937-05-31"]);
        check("March 15, 1938", expect!["Day 1938-03-15..1938-03-15"]);
        check("Dec 1941", expect!["Month 1941-12-01..1941-12-31"]);
        check("весна 1937", expect!["Season 1937-03-01..1937-05-31"]);
        check("осенью 1936", expect!["Season 1936-09-01..1936-11-30"]);
        check("зима 1937", expect!["Season 1936-12-01..1937-02-28"]);
        check("summer of 1941", expect!["Season 1941-06-01..1941-08-31"]);
        check("весна 193?", expect![[r#"not a date: "весна 193?""#]]);
        check("март", expect![[r#"not a date: "март""#]]);
    }

    #[test]
    fn decades_bounds_and_approximations() {
        check("1930-е", expect!["Decade 1930-01-01..1939-12-31"]);
        check("1930s", expect!["Decade 1930-01-01..1939-12-31"]);
        check("30-е гг.", expect!["Decade 1930-01-01..1939-12-31"]);
        check("1935-е", expect![[r#"not a date: "1935-е""#]]);
        check("до 1937", expect!["Before 0001-01-01..1936-12-31"]);
        check("before 1937", expect!["Before 0001-01-01..1936-12-31"]);
        check("не позднее 1937", expect!["Before 0001-01-01..1937-12-31"]);
        check("после 1937", expect!["After 1938-01-01..9999-12-31"]);
        check("after 03.1937", expect!["After 1937-04-01..9999-12-31"]);
        check("ок. 1901", expect!["Year 1901-01-01..1901-12-31 approx"]);
        check("circa 1901", expect!["Year 1901-01-01..1901-12-31 approx"]);
        check("1901?", expect!["Year 1901-01-01..1901-12-31 approx"]);
        check("до ок. 1920", expect!["Before 0001-01-01..1919-12-31 approx"]);
    }

    #[test]
    fn ranges() {
        check("1937-1938", expect!["Range 1937-01-01..1938-12-31"]);
        check("1937 – 1938", expect!["Range 1937-01-01..1938-12-31"]);
        check("1900/1902", expect!["Range 1900-01-01..1902-12-31"]);
        check("1937-38", expect!["Range 1937-01-01..1938-12-31"]);
        check("03.1937-05.1937", expect!["Range 1937-03-01..1937-05-31"]);
        check("1938..1939", expect!["Range 1938-01-01..1939-12-31"]);
        check("1939-1937", expect![[r#"not a date: "1939-1937""#]]);
    }

    #[test]
    fn two_digit_years_follow_the_manifest() {
        let pivot = DateOptions { two_digit_pivot: Some(30), ..DateOptions::default() };
        assert_eq!(show(parse_date("01.02.05", &pivot)), "Day 2005-02-01..2005-02-01");
        assert_eq!(show(parse_date("01.02.38", &pivot)), "Day 1938-02-01..1938-02-01");
        let nineteenth = DateOptions { two_digit_base: 1800, ..DateOptions::default() };
        assert_eq!(show(parse_date("01.02.61", &nineteenth)), "Day 1861-02-01..1861-02-01");
        let month_first = DateOptions { day_first: false, ..DateOptions::default() };
        assert_eq!(show(parse_date("02/27/38", &month_first)), "Day 1938-02-27..1938-02-27");
    }

    #[test]
    fn julian_dates_become_gregorian_days() {
        let old_style = DateOptions { calendar: Calendar::Julian, ..DateOptions::default() };
        assert_eq!(show(parse_date("25.10.1917", &old_style)), "Day 1917-11-07..1917-11-07 julian");
        assert_eq!(show(parse_date("февраль 1917", &old_style)), "Month 1917-02-14..1917-03-13 julian");
        assert_eq!(show(parse_date("1900", &old_style)), "Year 1900-01-13..1901-01-13 julian");
    }

    #[test]
    fn packed_memorial_integers() {
        let show_packed = |v| match decode_packed_memorial(v, Calendar::Gregorian) {
            Ok(Some(d)) => show(Ok(d)),
            Ok(None) => "unknown".to_owned(),
            Err(e) => e.to_string(),
        };
        assert_eq!(show_packed(96891), "Day 1989-03-27..1989-03-27");
        assert_eq!(show_packed(80961), "Day 1958-02-01..1958-02-01");
        assert_eq!(show_packed(0), "unknown");
        assert_eq!(show_packed((150 << 9) | (3 << 5)), "Month 1950-03-01..1950-03-31");
        assert_eq!(show_packed(150 << 9), "Year 1950-01-01..1950-12-31");
        assert_eq!(show_packed((150 << 9) | 5), r#"not a date: "76805""#);
        assert_eq!(show_packed(-1), r#"not a date: "-1""#);
    }

    #[test]
    fn excel_serials() {
        assert_eq!(day_from_excel_serial(1.0).unwrap().to_string(), "1900-01-01");
        assert_eq!(day_from_excel_serial(59.0).unwrap().to_string(), "1900-02-28");
        assert_eq!(day_from_excel_serial(61.0).unwrap().to_string(), "1900-03-01");
        assert_eq!(day_from_excel_serial(13_938.5).unwrap().to_string(), "1938-02-27");
        assert_eq!(day_from_excel_serial(0.0), None);
        assert_eq!(day_from_excel_serial(f64::NAN), None);
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,40}", day_first: bool, julian: bool) {
            let options = DateOptions {
                day_first,
                calendar: if julian { Calendar::Julian } else { Calendar::Gregorian },
                ..DateOptions::default()
            };
            if let Ok(d) = parse_date(&s, &options) {
                prop_assert!(d.earliest() <= d.latest());
            }
        }

        #[test]
        fn never_panics_on_date_like_text(s in "[0-9./ -]{0,12}(г\\.|-е|s|\\?)?") {
            let _ = parse_date(&s, &DateOptions::default());
        }

        #[test]
        fn packed_roundtrip(y in 1800..2055i32, m in 1..=12u32, d in 1..=28u32) {
            let packed = ((y - 1800) as i64) << 9 | (m as i64) << 5 | d as i64;
            let date = decode_packed_memorial(packed, Calendar::Gregorian).unwrap().unwrap();
            prop_assert_eq!(date.earliest().ymd(), (y, m, d));
        }
    }
}
