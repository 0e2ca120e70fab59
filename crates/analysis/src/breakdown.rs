//! Breakdown tables, one- and two-way: for each category its count, share, interval and the
//! members behind the cell. A missing value is its own category, never silently dropped, and
//! every value's share is given twice: of everyone, and of those with a value (`known`), so
//! that a reader sees both denominators and the missing are never counted as "no".

use crate::person::text_key;
use crate::proportion::{Confidence, Proportion};
use model::PersonId;
use serde::Serialize;
use std::collections::BTreeMap;

/// A category of a breakdown: a value the profiles give, or the honest "not stated".
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Value(String),
    Missing,
}

impl Category {
    pub fn from_option(value: Option<&str>) -> Category {
        match value.map(str::trim) {
            Some(v) if !v.is_empty() => Category::Value(v.to_owned()),
            _ => Category::Missing,
        }
    }

    /// One category per value, values that differ only in case, spacing or ё/е (`4 года`,
    /// `4 Года`) taken as one and shown in their most frequent spelling (ties: the first in
    /// alphabetical order).
    pub fn grouped(values: &[Option<&str>]) -> Vec<Category> {
        let mut spellings: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
        for value in values.iter().flatten().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            *spellings.entry(text_key(value)).or_default().entry(value).or_default() += 1;
        }
        let shown: BTreeMap<String, &str> = spellings
            .into_iter()
            .map(|(key, counts)| {
                let most = counts.values().copied().max().unwrap_or(0);
                (key, counts.into_iter().find(|(_, n)| *n == most).map_or("", |(v, _)| v))
            })
            .collect();
        values
            .iter()
            .map(|v| match v.map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => Category::Value(shown[&text_key(v)].to_owned()),
                None => Category::Missing,
            })
            .collect()
    }

    /// How a table shows the category; `Missing` is shown as "(missing)".
    pub fn label(&self) -> &str {
        match self {
            Category::Value(v) => v,
            Category::Missing => "(missing)",
        }
    }
}

/// One cell: how many, the share of its row (or of everyone, one-way), and who.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub category: Category,
    pub count: u64,
    /// The share of everyone in the row (one-way: in the table), the missing included.
    pub proportion: Proportion,
    /// The share of those in the row with a value; `None` for the missing category itself.
    pub known: Option<Proportion>,
    /// Sorted, so a number in the report links to exactly these persons.
    pub members: Vec<PersonId>,
}

/// A one-way table. Cells are ordered by descending count, then category, `Missing` last.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OneWay {
    pub total: u64,
    /// Of `total`, those with a value: the denominator of each cell's `known` share.
    pub known_total: u64,
    pub cells: Vec<Cell>,
}

/// One row of a two-way table: the row category's total and its cells across the columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub category: Category,
    pub total: u64,
    /// Of `total`, those with a value in the column attribute.
    pub known_total: u64,
    /// One cell per column of the table, in the table's column order (zero cells included);
    /// each share is of the row total.
    pub cells: Vec<Cell>,
}

/// A two-way table: rows by one attribute, columns by another; shares are row shares.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TwoWay {
    pub total: u64,
    pub columns: Vec<Category>,
    pub rows: Vec<Row>,
}

/// Tabulates one attribute. Each item is a person with their category.
pub fn one_way(items: &[(PersonId, Category)], confidence: Confidence) -> OneWay {
    let groups = group(items.iter().map(|(id, c)| (c.clone(), id.clone())));
    let total = items.len() as u64;
    let known_total = known(&groups);
    let mut cells: Vec<Cell> = groups.into_iter().map(|(category, members)| cell(category, members, total, known_total, confidence)).collect();
    cells.sort_by_key(|c| display_order(&c.category, c.count));
    OneWay { total, known_total, cells }
}

/// Tabulates two attributes; each item is a person with their row and column categories.
pub fn two_way(items: &[(PersonId, Category, Category)], confidence: Confidence) -> TwoWay {
    let column_totals = one_way(&items.iter().map(|(id, _, c)| (id.clone(), c.clone())).collect::<Vec<_>>(), confidence);
    let columns: Vec<Category> = column_totals.cells.into_iter().map(|c| c.category).collect();
    let mut by_row: BTreeMap<Category, Vec<(PersonId, Category)>> = BTreeMap::new();
    for (id, row, column) in items {
        by_row.entry(row.clone()).or_default().push((id.clone(), column.clone()));
    }
    let mut rows: Vec<Row> = by_row
        .into_iter()
        .map(|(category, members)| {
            let total = members.len() as u64;
            let mut groups = group(members.into_iter().map(|(id, column)| (column, id)));
            let known_total = known(&groups);
            let cells = columns
                .iter()
                .map(|column| cell(column.clone(), groups.remove(column).unwrap_or_default(), total, known_total, confidence))
                .collect();
            Row { category, total, known_total, cells }
        })
        .collect();
    rows.sort_by_key(|r| display_order(&r.category, r.total));
    TwoWay { total: items.len() as u64, columns, rows }
}

fn group(items: impl Iterator<Item = (Category, PersonId)>) -> BTreeMap<Category, Vec<PersonId>> {
    let mut groups: BTreeMap<Category, Vec<PersonId>> = BTreeMap::new();
    for (category, id) in items {
        groups.entry(category).or_default().push(id);
    }
    groups
}

/// How many of the grouped persons have a value.
fn known(groups: &BTreeMap<Category, Vec<PersonId>>) -> u64 {
    groups.iter().filter(|(c, _)| **c != Category::Missing).map(|(_, m)| m.len() as u64).sum()
}

fn cell(category: Category, mut members: Vec<PersonId>, total: u64, known_total: u64, confidence: Confidence) -> Cell {
    members.sort();
    let count = members.len() as u64;
    let known = (category != Category::Missing).then(|| Proportion::new(count, known_total, confidence));
    Cell { category, count, proportion: Proportion::new(count, total, confidence), known, members }
}

/// Largest first, ties by category name, the missing category always last.
fn display_order(category: &Category, count: u64) -> (bool, std::cmp::Reverse<u64>, Category) {
    (*category == Category::Missing, std::cmp::Reverse(count), category.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn people(spec: &str) -> Vec<(PersonId, Category, Category)> {
        // "id:row:column" items; an empty part is missing.
        spec.split_whitespace()
            .map(|item| {
                let parts: Vec<&str> = item.split(':').collect();
                (PersonId::new(parts[0]), Category::from_option(Some(parts[1])), Category::from_option(parts.get(2).copied()))
            })
            .collect()
    }

    fn show_cell(c: &Cell) -> String {
        let ids: Vec<&str> = c.members.iter().map(PersonId::as_str).collect();
        let share = c.proportion.share.map_or("-".into(), |s| format!("{s:.3}"));
        let ci = c.proportion.wilson.map_or("-".into(), |i| format!("[{:.3},{:.3}]", i.lower, i.upper));
        let known = c.known.as_ref().map_or("-".into(), |k| format!("{}/{}", k.successes, k.trials));
        format!("{}={} {share} {ci} of-known {known}{} {{{}}}", c.category.label(), c.count, if c.proportion.small { " small" } else { "" }, ids.join(","))
    }

    fn check_one(spec: &str, expect: Expect) {
        let items: Vec<(PersonId, Category)> = people(spec).into_iter().map(|(id, row, _)| (id, row)).collect();
        let table = one_way(&items, Confidence::NINETY_FIVE);
        let lines: Vec<String> = table.cells.iter().map(show_cell).collect();
        expect.assert_eq(&format!("total {} known {}\n{}", table.total, table.known_total, lines.join("\n")));
    }

    #[test]
    fn one_way_counts_shares_intervals_and_members() {
        check_one(
            "p1:ru p2:ua p3:ru p4: p5:lv p6:ru p7:ua",
            expect![[r#"
                total 7 known 6
                ru=3 0.429 [0.158,0.750] of-known 3/6 small {p1,p3,p6}
                ua=2 0.286 [0.082,0.641] of-known 2/6 small {p2,p7}
                lv=1 0.143 [0.026,0.513] of-known 1/6 small {p5}
                (missing)=1 0.143 [0.026,0.513] of-known - small {p4}"#]],
        );
        check_one("", expect![[r#"
            total 0 known 0
        "#]]);
    }

    #[test]
    fn two_way_has_every_column_in_every_row_with_row_shares() {
        let table = two_way(&people("a:ru:death b:ru:camp c:ua:death d:ru:death e::camp f:ua:"), Confidence::NINETY_FIVE);
        let shown: Vec<String> = table
            .rows
            .iter()
            .map(|r| format!("{} ({}, {} known): {}", r.category.label(), r.total, r.known_total, r.cells.iter().map(show_cell).collect::<Vec<_>>().join(" | ")))
            .collect();
        expect![[r#"
            ru (3, 3 known): death=2 0.667 [0.208,0.939] of-known 2/3 small {a,d} | camp=1 0.333 [0.061,0.792] of-known 1/3 small {b} | (missing)=0 0.000 [0.000,0.561] of-known - small {}
            ua (2, 1 known): death=1 0.500 [0.095,0.905] of-known 1/1 small {c} | camp=0 0.000 [0.000,0.658] of-known 0/1 small {} | (missing)=1 0.500 [0.095,0.905] of-known - small {f}
            (missing) (1, 1 known): death=0 0.000 [0.000,0.793] of-known 0/1 small {} | camp=1 1.000 [0.207,1.000] of-known 1/1 small {e} | (missing)=0 0.000 [0.000,0.793] of-known - small {}"#]]
        .assert_eq(&shown.join("\n"));
        assert_eq!(table.total, 6);
    }

    #[test]
    fn values_differing_in_case_or_spacing_are_one_category_in_their_commonest_spelling() {
        let shown: Vec<String> =
            Category::grouped(&[Some("4 года"), Some("4 Года"), Some(" 4  года"), None, Some(""), Some("Ёж"), Some("еж"), Some("4 года")]).iter().map(|c| c.label().to_owned()).collect();
        assert_eq!(shown, ["4 года", "4 года", "4 года", "(missing)", "(missing)", "Ёж", "Ёж", "4 года"]);
    }
}
