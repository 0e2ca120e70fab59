//! Breakdown tables, one- and two-way: for each category its count, share, interval and the
//! members behind the cell. A missing value is its own category, never silently dropped.

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
    pub proportion: Proportion,
    /// Sorted, so a number in the report links to exactly these persons.
    pub members: Vec<PersonId>,
}

/// A one-way table. Cells are ordered by descending count, then category, `Missing` last.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OneWay {
    pub total: u64,
    pub cells: Vec<Cell>,
}

/// One row of a two-way table: the row category's total and its cells across the columns.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub category: Category,
    pub total: u64,
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
    let mut cells: Vec<Cell> = groups.into_iter().map(|(category, members)| cell(category, members, total, confidence)).collect();
    cells.sort_by_key(|c| display_order(&c.category, c.count));
    OneWay { total, cells }
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
            let cells = columns
                .iter()
                .map(|column| cell(column.clone(), groups.remove(column).unwrap_or_default(), total, confidence))
                .collect();
            Row { category, total, cells }
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

fn cell(category: Category, mut members: Vec<PersonId>, total: u64, confidence: Confidence) -> Cell {
    members.sort();
    let count = members.len() as u64;
    Cell { category, count, proportion: Proportion::new(count, total, confidence), members }
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
        format!("{}={} {share} {ci} {{{}}}", c.category.label(), c.count, ids.join(","))
    }

    fn check_one(spec: &str, expect: Expect) {
        let items: Vec<(PersonId, Category)> = people(spec).into_iter().map(|(id, row, _)| (id, row)).collect();
        let table = one_way(&items, Confidence::NINETY_FIVE);
        let lines: Vec<String> = table.cells.iter().map(show_cell).collect();
        expect.assert_eq(&format!("total {}\n{}", table.total, lines.join("\n")));
    }

    #[test]
    fn one_way_counts_shares_intervals_and_members() {
        check_one(
            "p1:ru p2:ua p3:ru p4: p5:lv p6:ru p7:ua",
            expect![[r#"
                total 7
                ru=3 0.429 [0.158,0.750] {p1,p3,p6}
                ua=2 0.286 [0.082,0.641] {p2,p7}
                lv=1 0.143 [0.026,0.513] {p5}
                (missing)=1 0.143 [0.026,0.513] {p4}"#]],
        );
        check_one("", expect!["total 0\n"]);
    }

    #[test]
    fn two_way_has_every_column_in_every_row_with_row_shares() {
        let table = two_way(&people("a:ru:death b:ru:camp c:ua:death d:ru:death e::camp f:ua:"), Confidence::NINETY_FIVE);
        let shown: Vec<String> = table
            .rows
            .iter()
            .map(|r| format!("{} ({}): {}", r.category.label(), r.total, r.cells.iter().map(show_cell).collect::<Vec<_>>().join(" | ")))
            .collect();
        expect![[r#"
            ru (3): death=2 0.667 [0.208,0.939] {a,d} | camp=1 0.333 [0.061,0.792] {b} | (missing)=0 0.000 [0.000,0.561] {}
            ua (2): death=1 0.500 [0.095,0.905] {c} | camp=0 0.000 [0.000,0.658] {} | (missing)=1 0.500 [0.095,0.905] {f}
            (missing) (1): death=0 0.000 [0.000,0.793] {} | camp=1 1.000 [0.207,1.000] {e} | (missing)=0 0.000 [0.000,0.793] {}"#]]
        .assert_eq(&shown.join("\n"));
        assert_eq!(table.total, 6);
    }
}
