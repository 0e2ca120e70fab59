//! Two-list estimators: Lincoln-Petersen and Chapman's bias-corrected version with Seber's variance.
//! On a K-list table any two lists can be picked; the other lists are ignored (collapsed).

use super::table::OverlapTable;
use super::{Estimate, Z_95, thousands};

/// The margins of two lists: sizes and overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairMargins {
    pub first: u64,
    pub second: u64,
    pub both: u64,
}

impl PairMargins {
    /// Lists are numbered from 0 here (list 1 of the CSV is 0).
    pub fn of(table: &OverlapTable, first: usize, second: usize) -> Self {
        PairMargins {
            first: table.recorded_by_all(1 << first),
            second: table.recorded_by_all(1 << second),
            both: table.recorded_by_all(1 << first | 1 << second),
        }
    }

    /// `n1 n2 / m`; `None` without overlap.
    pub fn lincoln_petersen(self) -> Option<f64> {
        (self.both > 0).then(|| self.first as f64 * self.second as f64 / self.both as f64)
    }

    /// `(n1+1)(n2+1)/(m+1) - 1` and its standard error (Seber 1970).
    pub fn chapman(self) -> (f64, f64) {
        let (n1, n2, m) = (self.first as f64, self.second as f64, self.both as f64);
        let estimate = (n1 + 1.0) * (n2 + 1.0) / (m + 1.0) - 1.0;
        let variance =
            (n1 + 1.0) * (n2 + 1.0) * (n1 - m) * (n2 - m) / ((m + 1.0) * (m + 1.0) * (m + 2.0));
        (estimate, variance.sqrt())
    }
}

/// `chapman:IxJ` (lists numbered from 1 in the name) with a normal 95% interval, floored at the
/// number of persons the two lists recorded.
pub fn chapman(table: &OverlapTable, first: usize, second: usize) -> Estimate {
    let method = format!("chapman:{}x{}", first + 1, second + 1);
    let lists = table.lists();
    if first >= lists || second >= lists || first == second {
        return Estimate::refused(
            &method,
            table.observed(),
            "two lists",
            format!(
                "lists {}x{} are not two of lists 1..{lists}",
                first + 1,
                second + 1
            ),
        );
    }
    let margins = PairMargins::of(table, first, second);
    let seen = margins.first + margins.second - margins.both;
    let (estimate, se) = margins.chapman();
    let mut warnings = Vec::new();
    if margins.both < 7 {
        warnings.push(format!("only {} persons are on both lists: the estimate and its variance are unreliable (fewer than 7)", margins.both));
    }
    if lists > 2 {
        warnings.push(format!("uses 2 of {lists} lists and assumes they are independent; positive dependence between lists biases it downwards"));
    }
    let lp = margins
        .lincoln_petersen()
        .map_or("undefined".into(), thousands);
    Estimate {
        method,
        estimate: Some(estimate),
        lower: Some((estimate - Z_95 * se).max(seen as f64)),
        upper: Some(estimate + Z_95 * se),
        observed: seen,
        model: format!(
            "Chapman: n1 {}, n2 {}, both {}; SE {:.1}; Lincoln-Petersen {lp}",
            margins.first, margins.second, margins.both, se
        ),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kosovo_lists_one_and_two() {
        let table = crate::estimate::test_table("kosovo_1999_4list.csv");
        let m = PairMargins::of(&table, 0, 1);
        assert_eq!(
            m,
            PairMargins {
                first: 1910,
                second: 1528,
                both: 403
            }
        );
        let (n, se) = m.chapman();
        assert!((n - 7231.5).abs() < 0.05, "{n}");
        assert!((se - 273.8).abs() < 0.05, "{se}");
        let e = chapman(&table, 0, 1);
        assert_eq!(e.method, "chapman:1x2");
        assert_eq!(e.observed, 3035);
    }
}
