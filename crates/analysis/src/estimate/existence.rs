//! Does a log-linear model's estimate exist on this table? The linear-programming test of Fienberg
//! and Rinaldo (2012) as used by Chan, Silverman and Vincent (2021): the maximum likelihood estimate
//! is finite exactly when some strictly positive table has the same sufficient statistics as the
//! data; and the estimate is identifiable when the design matrix has full column rank.

use super::linalg::{Matrix, rank};

/// The outcome of the two tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existence {
    /// The maximum likelihood estimate is finite (the LP optimum is strictly positive).
    pub finite: bool,
    /// The design has full column rank.
    pub identifiable: bool,
}

impl Existence {
    pub fn passes(self) -> bool {
        self.finite && self.identifiable
    }

    /// A sentence for the user, or `None` when both tests pass.
    pub fn reason(self) -> Option<&'static str> {
        match (self.finite, self.identifiable) {
            (true, true) => None,
            (false, true) => Some(
                "the maximum likelihood estimate does not exist: no strictly positive table has the observed \
                 margins of this model (LP test of Fienberg & Rinaldo 2012), so the fit runs off to infinity",
            ),
            (true, false) => Some(
                "the estimate is not identifiable: the model has more free parameters than the observed \
                 cells can determine (design matrix not of full rank)",
            ),
            (false, false) => Some(
                "the maximum likelihood estimate neither exists (LP test of Fienberg & Rinaldo 2012) nor is \
                 identifiable (design matrix not of full rank)",
            ),
        }
    }
}

/// Runs both tests for a design (one row per cell, first column the intercept) and cell counts.
pub fn check(design: &Matrix, counts: &[f64]) -> Existence {
    Existence {
        finite: positive_table_exists(design, counts),
        identifiable: rank(design) == design.cols,
    }
}

/// Solves `max t` subject to `X^T x = X^T y`, `x_i >= t`, `t >= 0` and reports whether `t > 0`.
/// With `x = s + t` the constraints read `X^T s + (X^T 1) t = X^T y`, `s, t >= 0`.
fn positive_table_exists(design: &Matrix, counts: &[f64]) -> bool {
    let (cells, params) = (design.rows, design.cols);
    let mut constraints = Matrix::zeros(params, cells + 1);
    let mut rhs = vec![0.0; params];
    for a in 0..params {
        for i in 0..cells {
            let x = design.get(i, a);
            constraints.data[a * (cells + 1) + i] = x;
            constraints.data[a * (cells + 1) + cells] += x;
            rhs[a] += x * counts[i];
        }
    }
    let mut objective = vec![0.0; cells + 1];
    objective[cells] = 1.0;
    let total: f64 = counts.iter().sum();
    match maximize(&constraints, &rhs, &objective) {
        Some(t) => t > 1e-9 * total.max(1.0),
        None => false,
    }
}

/// Two-phase simplex (Bland's rule) for `max c.v` subject to `A v = b`, `v >= 0`; `None` when
/// infeasible or unbounded.
fn maximize(a: &Matrix, b: &[f64], c: &[f64]) -> Option<f64> {
    let (m, n) = (a.rows, a.cols);
    let width = n + m + 1;
    let mut tableau = vec![vec![0.0; width]; m];
    for r in 0..m {
        let sign = if b[r] < 0.0 { -1.0 } else { 1.0 };
        for k in 0..n {
            tableau[r][k] = sign * a.get(r, k);
        }
        tableau[r][n + r] = 1.0;
        tableau[r][width - 1] = sign * b[r];
    }
    let scale = b.iter().fold(1.0f64, |acc, v| acc.max(v.abs()));
    let eps = 1e-11 * scale;
    let mut basis: Vec<usize> = (n..n + m).collect();
    // Phase 1: minimise the artificial variables, i.e. maximise their negated sum.
    let phase_one: Vec<f64> = (0..n + m)
        .map(|k| if k >= n { -1.0 } else { 0.0 })
        .collect();
    run_simplex(&mut tableau, &mut basis, &phase_one, n + m, eps)?;
    let infeasibility: f64 = basis
        .iter()
        .zip(&tableau)
        .filter(|(k, _)| **k >= n)
        .map(|(_, row)| row[width - 1])
        .sum();
    if infeasibility > 1e-7 * scale {
        return None;
    }
    // Drive artificial variables out of the basis; rows where that is impossible are redundant.
    let mut r = 0;
    while r < tableau.len() {
        if basis[r] >= n {
            match (0..n).find(|&k| tableau[r][k].abs() > 1e-9) {
                Some(k) => pivot(&mut tableau, &mut basis, r, k),
                None => {
                    tableau.remove(r);
                    basis.remove(r);
                    continue;
                }
            }
        }
        r += 1;
    }
    let mut phase_two = c.to_vec();
    phase_two.extend(std::iter::repeat_n(0.0, m));
    run_simplex(&mut tableau, &mut basis, &phase_two, n, eps)?;
    Some(
        basis
            .iter()
            .zip(&tableau)
            .map(|(&k, row)| phase_two[k] * row[width - 1])
            .sum(),
    )
}

/// Maximises `objective . v` from the current basic feasible solution, letting only the first
/// `allowed` variables enter. `None` when unbounded.
fn run_simplex(
    tableau: &mut [Vec<f64>],
    basis: &mut [usize],
    objective: &[f64],
    allowed: usize,
    eps: f64,
) -> Option<()> {
    let width = tableau.first().map_or(0, Vec::len);
    for _ in 0..10_000 {
        let reduced = |k: usize| -> f64 {
            objective[k]
                - basis
                    .iter()
                    .zip(tableau.iter())
                    .map(|(&bk, row)| objective[bk] * row[k])
                    .sum::<f64>()
        };
        let Some(entering) = (0..allowed).find(|&k| !basis.contains(&k) && reduced(k) > 1e-10)
        else {
            return Some(());
        };
        let leaving = (0..tableau.len())
            .filter(|&r| tableau[r][entering] > 1e-10)
            .min_by(|&x, &y| {
                let rx = tableau[x][width - 1] / tableau[x][entering];
                let ry = tableau[y][width - 1] / tableau[y][entering];
                if (rx - ry).abs() <= eps {
                    basis[x].cmp(&basis[y])
                } else {
                    rx.total_cmp(&ry)
                }
            })?;
        pivot(tableau, basis, leaving, entering);
    }
    Some(())
}

fn pivot(tableau: &mut [Vec<f64>], basis: &mut [usize], row: usize, col: usize) {
    let p = tableau[row][col];
    for v in tableau[row].iter_mut() {
        *v /= p;
    }
    let pivot_row = tableau[row].clone();
    for (r, other) in tableau.iter_mut().enumerate() {
        if r != row && other[col] != 0.0 {
            let f = other[col];
            for (v, pv) in other.iter_mut().zip(&pivot_row) {
                *v -= f * pv;
            }
        }
    }
    basis[row] = col;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplex_solves_a_small_program() {
        // max v0 + v1 s.t. v0 + 2 v1 + v2 = 4, 3 v0 + v1 + v3 = 6  => v0 = 1.6, v1 = 1.2, value 2.8
        let a = Matrix::from_rows(&[vec![1.0, 2.0, 1.0, 0.0], vec![3.0, 1.0, 0.0, 1.0]]);
        let value = maximize(&a, &[4.0, 6.0], &[1.0, 1.0, 0.0, 0.0]).unwrap();
        assert!((value - 2.8).abs() < 1e-9);
    }

    #[test]
    fn positive_counts_always_pass() {
        let x = Matrix::from_rows(&[
            vec![1.0, 1.0, 0.0],
            vec![1.0, 0.0, 1.0],
            vec![1.0, 1.0, 1.0],
        ]);
        assert_eq!(
            check(&x, &[3.0, 4.0, 5.0]),
            Existence {
                finite: true,
                identifiable: true
            }
        );
        // A zero in a cell that a parameter alone controls drives that parameter to -infinity.
        let x = Matrix::from_rows(&[vec![1.0, 0.0], vec![1.0, 1.0]]);
        assert!(!check(&x, &[3.0, 0.0]).finite);
    }
}
