//! The overlap table every estimator reads: how many persons each combination of lists recorded,
//! parsed from `pattern,count` text or counted from capture histories (optionally per stratum).

use std::collections::BTreeMap;

/// The largest number of lists a table may have (a capture history is a `u32` bit mask).
pub const MAX_LISTS: usize = 20;

/// Counts per capture pattern. A pattern is a bit mask: bit `j` set means list `j` recorded the
/// person, where list 0 is the leftmost character of the `pattern` column. The all-zero pattern
/// (persons no list recorded) is what the estimators estimate; its count is always 0 here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlapTable {
    lists: usize,
    counts: Vec<u64>,
}

/// Why a table could not be built. Line numbers count the header as line 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("line 1, field header: expected `pattern,count`, found `{found}`")]
    Header { found: String },
    #[error("line {line}: expected 2 fields `pattern,count`, found {found}")]
    FieldCount { line: usize, found: usize },
    #[error("line {line}, field pattern: {reason}")]
    Pattern { line: usize, reason: String },
    #[error("line {line}, field count: {reason}")]
    Count { line: usize, reason: String },
    #[error(
        "field pattern: pattern {pattern} is missing; all {expected} observed patterns must be listed, zeros explicit"
    )]
    MissingPattern { pattern: String, expected: usize },
    #[error("the table has no rows")]
    Empty,
    #[error("capture history {index}: {reason}")]
    History { index: usize, reason: String },
}

impl OverlapTable {
    /// Parses `pattern,count` CSV text: a header, then one row per observed pattern.
    pub fn parse_csv(text: &str) -> Result<Self, TableError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line.trim()));
        let (_, header) = lines.next().ok_or(TableError::Empty)?;
        let header_fields: Vec<String> = header
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(|f| unquoted(f).to_ascii_lowercase())
            .collect();
        if header_fields != ["pattern", "count"] {
            return Err(TableError::Header {
                found: header.to_string(),
            });
        }
        let mut lists = None;
        let mut counts: Vec<Option<u64>> = Vec::new();
        let mut total = 0u64;
        for (line, row) in lines.filter(|(_, row)| !row.is_empty()) {
            let fields: Vec<&str> = row.split(',').map(unquoted).collect();
            if fields.len() != 2 {
                return Err(TableError::FieldCount {
                    line,
                    found: fields.len(),
                });
            }
            let pattern = fields[0];
            let width = pattern.chars().count();
            let expected_width = *lists.get_or_insert(width);
            if width != expected_width {
                return Err(TableError::Pattern {
                    line,
                    reason: format!(
                        "`{pattern}` has {width} characters, earlier rows have {expected_width} \
                         (a spreadsheet that reads patterns as numbers drops their leading zeros: \
                         store the column as text)"
                    ),
                });
            }
            if !(1..=MAX_LISTS).contains(&width) {
                return Err(TableError::Pattern {
                    line,
                    reason: format!(
                        "`{pattern}` has {width} characters; between 1 and {MAX_LISTS} lists are supported"
                    ),
                });
            }
            let mask =
                parse_pattern(pattern).map_err(|reason| TableError::Pattern { line, reason })?;
            if mask == 0 {
                return Err(TableError::Pattern {
                    line,
                    reason: format!(
                        "`{pattern}` is the unobserved pattern; leave it out, it is what is estimated"
                    ),
                });
            }
            let count: u64 = fields[1].parse().map_err(|_| TableError::Count {
                line,
                reason: format!("`{}` is not a non-negative whole number", fields[1]),
            })?;
            // Estimators work in f64, exact for whole numbers up to 2^53; a larger total is no
            // count of persons (and its sum overflowed).
            total = total.saturating_add(count);
            if total > MAX_TOTAL {
                return Err(TableError::Count {
                    line,
                    reason: format!("`{count}` brings the table's total above {MAX_TOTAL}, more than any count of persons"),
                });
            }
            if counts.is_empty() {
                counts = vec![None; 1 << width];
            }
            if counts[mask as usize].replace(count).is_some() {
                return Err(TableError::Pattern {
                    line,
                    reason: format!("`{pattern}` appears twice"),
                });
            }
        }
        let lists = lists.ok_or(TableError::Empty)?;
        let expected = (1usize << lists) - 1;
        let mut full = vec![0u64; 1 << lists];
        for mask in 1..(1u32 << lists) {
            full[mask as usize] =
                counts[mask as usize].ok_or_else(|| TableError::MissingPattern {
                    pattern: pattern_string(lists, mask),
                    expected,
                })?;
        }
        Ok(OverlapTable {
            lists,
            counts: full,
        })
    }

    /// A table from counts indexed by capture mask (`counts.len() == 2^lists`, `counts[0]` ignored).
    pub fn from_mask_counts(lists: usize, counts: &[u64]) -> Result<Self, TableError> {
        if !(1..=MAX_LISTS).contains(&lists) || counts.len() != 1 << lists {
            return Err(TableError::History {
                index: 0,
                reason: format!(
                    "{} counts do not make a table of {lists} lists",
                    counts.len()
                ),
            });
        }
        let mut counts = counts.to_vec();
        counts[0] = 0;
        Ok(OverlapTable { lists, counts })
    }

    /// Counts capture histories (one bit mask per person, bit `j` = recorded by list `j`).
    pub fn from_histories(
        lists: usize,
        histories: impl IntoIterator<Item = u32>,
    ) -> Result<Self, TableError> {
        if !(1..=MAX_LISTS).contains(&lists) {
            return Err(TableError::History {
                index: 0,
                reason: format!("{lists} lists; 1 to {MAX_LISTS} are supported"),
            });
        }
        let mut counts = vec![0u64; 1 << lists];
        for (index, mask) in histories.into_iter().enumerate() {
            if mask == 0 || mask >> lists != 0 {
                return Err(TableError::History {
                    index,
                    reason: format!("mask {mask:#b} is not a non-empty set of the {lists} lists"),
                });
            }
            counts[mask as usize] += 1;
        }
        Ok(OverlapTable { lists, counts })
    }

    pub fn lists(&self) -> usize {
        self.lists
    }

    /// Number of persons with exactly this capture pattern.
    pub fn count(&self, mask: u32) -> u64 {
        self.counts[mask as usize]
    }

    /// Every observed pattern (all non-empty masks), in increasing mask order.
    pub fn patterns(&self) -> impl Iterator<Item = u32> + use<> {
        1..(1u32 << self.lists)
    }

    /// Number of distinct persons recorded by at least one list.
    pub fn observed(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Number of persons recorded by every list in `lists_mask` (whatever the other lists say).
    pub fn recorded_by_all(&self, lists_mask: u32) -> u64 {
        self.patterns()
            .filter(|m| m & lists_mask == lists_mask)
            .map(|m| self.count(m))
            .sum()
    }

    /// The pattern as written in the CSV (leftmost character = list 1).
    pub fn pattern(&self, mask: u32) -> String {
        pattern_string(self.lists, mask)
    }

    /// The table as `pattern,count` CSV, in the published order (111..1 down to 0..01).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("pattern,count\n");
        let mut masks: Vec<u32> = self.patterns().collect();
        masks.sort_by_key(|&m| std::cmp::Reverse(self.pattern(m)));
        for m in masks {
            out.push_str(&format!("{},{}\n", self.pattern(m), self.count(m)));
        }
        out
    }

    /// The sum of two tables over the same lists (strata added back together).
    pub fn add(&self, other: &OverlapTable) -> Option<OverlapTable> {
        (self.lists == other.lists).then(|| OverlapTable {
            lists: self.lists,
            counts: self
                .counts
                .iter()
                .zip(&other.counts)
                .map(|(a, b)| a + b)
                .collect(),
        })
    }
}

/// Counts capture histories per stratum (region, year, sex...): one table per stratum value.
pub fn stratify<S: Ord + Clone>(
    lists: usize,
    histories: impl IntoIterator<Item = (S, u32)>,
) -> Result<BTreeMap<S, OverlapTable>, TableError> {
    let mut per_stratum: BTreeMap<S, Vec<u32>> = BTreeMap::new();
    for (stratum, mask) in histories {
        per_stratum.entry(stratum).or_default().push(mask);
    }
    per_stratum
        .into_iter()
        .map(|(s, masks)| Ok((s, OverlapTable::from_histories(lists, masks)?)))
        .collect()
}

fn parse_pattern(pattern: &str) -> Result<u32, String> {
    pattern
        .chars()
        .enumerate()
        .try_fold(0u32, |mask, (j, c)| match c {
            '0' => Ok(mask),
            '1' => Ok(mask | 1 << j),
            other => Err(format!(
                "`{pattern}` has `{other}` at position {}; only 0 and 1 are allowed",
                j + 1
            )),
        })
}

fn pattern_string(lists: usize, mask: u32) -> String {
    (0..lists)
        .map(|j| if mask >> j & 1 == 1 { '1' } else { '0' })
        .collect()
}

/// The largest total a table may hold: 2^53, below which f64 holds every whole number exactly.
const MAX_TOTAL: u64 = 1 << 53;

/// A CSV field without its surrounding blanks and quotes: spreadsheets quote text cells
/// (`"0101",27`) when they save CSV.
fn unquoted(field: &str) -> &str {
    let field = field.trim();
    field.strip_prefix('"').and_then(|f| f.strip_suffix('"')).map_or(field, str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(text: &str, expect: Expect) {
        let shown = match OverlapTable::parse_csv(text) {
            Ok(t) => format!("ok: {} lists, {} observed", t.lists(), t.observed()),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&shown);
    }

    #[test]
    fn parses_and_validates() {
        check(
            "pattern,count\n11,3\n10,4\n01,5\n",
            expect!["ok: 2 lists, 12 observed"],
        );
        check(
            "pattern,count\r\n11,3\r\n10,4\r\n01,5\r\n",
            expect!["ok: 2 lists, 12 observed"],
        );
        check(
            "pat,count\n11,3\n",
            expect!["error: line 1, field header: expected `pattern,count`, found `pat,count`"],
        );
        check(
            "pattern,count\n11,3\n10,4\n",
            expect![
                "error: field pattern: pattern 01 is missing; all 3 observed patterns must be listed, zeros explicit"
            ],
        );
        check(
            "pattern,count\n11,3\n100,4\n",
            expect!["error: line 3, field pattern: `100` has 3 characters, earlier rows have 2 (a spreadsheet that reads patterns as numbers drops their leading zeros: store the column as text)"],
        );
        check(
            "pattern,count\n11,-3\n",
            expect!["error: line 2, field count: `-3` is not a non-negative whole number"],
        );
        check(
            "pattern,count\n1x,3\n",
            expect![
                "error: line 2, field pattern: `1x` has `x` at position 2; only 0 and 1 are allowed"
            ],
        );
        check(
            "pattern,count\n00,3\n",
            expect![
                "error: line 2, field pattern: `00` is the unobserved pattern; leave it out, it is what is estimated"
            ],
        );
        check(
            "pattern,count\n11,3\n11,3\n",
            expect!["error: line 3, field pattern: `11` appears twice"],
        );
        check(
            "pattern,count\n11,3,4\n",
            expect!["error: line 2: expected 2 fields `pattern,count`, found 3"],
        );
        check("pattern,count\n", expect!["error: the table has no rows"]);
        check(
            "pattern,count\n11,18446744073709551615\n10,5\n01,7\n",
            expect!["error: line 2, field count: `18446744073709551615` brings the table's total above 9007199254740992, more than any count of persons"],
        );
        check(
            "\"pattern\",\"count\"\n\"11\",3\n\"10\",\"4\"\n01,5\n",
            expect!["ok: 2 lists, 12 observed"],
        );
    }

    #[test]
    fn leftmost_character_is_the_first_list() {
        let t = OverlapTable::parse_csv("pattern,count\n11,3\n10,4\n01,5\n").unwrap();
        assert_eq!((t.count(0b01), t.count(0b10), t.count(0b11)), (4, 5, 3));
        assert_eq!(t.recorded_by_all(0b01), 7);
        assert_eq!(t.to_csv(), "pattern,count\n11,3\n10,4\n01,5\n");
    }

    #[test]
    fn histories_and_strata() {
        let h = [
            ("north", 0b01),
            ("north", 0b11),
            ("south", 0b10),
            ("north", 0b01),
        ];
        let strata = stratify(2, h).unwrap();
        assert_eq!(strata["north"].count(0b01), 2);
        assert_eq!(strata["south"].observed(), 1);
        let total = strata["north"].add(&strata["south"]).unwrap();
        assert_eq!(total.observed(), 4);
        assert!(OverlapTable::from_histories(2, [0b100]).is_err());
        assert!(OverlapTable::from_histories(2, [0]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn csv_round_trips(lists in 1usize..6, seed in proptest::collection::vec(0u64..50, 64)) {
            let counts: Vec<u64> = (0..1usize << lists).map(|i| if i == 0 { 0 } else { seed[i] }).collect();
            let table = OverlapTable::from_mask_counts(lists, &counts).unwrap();
            proptest::prop_assert_eq!(OverlapTable::parse_csv(&table.to_csv()).unwrap(), table);
        }
    }
}
