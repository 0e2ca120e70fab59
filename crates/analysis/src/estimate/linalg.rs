//! The small dense linear algebra the log-linear fits need (at most a few dozen parameters), so the
//! crate carries no linear-algebra dependency: Cholesky solve and inverse, and the rank of a matrix.

/// A dense row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Matrix {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    pub fn from_rows(rows: &[Vec<f64>]) -> Self {
        let cols = rows.first().map_or(0, Vec::len);
        Matrix {
            rows: rows.len(),
            cols,
            data: rows.iter().flatten().copied().collect(),
        }
    }

    pub fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    pub fn row(&self, r: usize) -> &[f64] {
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// `self * v`.
    pub fn times(&self, v: &[f64]) -> Vec<f64> {
        (0..self.rows)
            .map(|r| self.row(r).iter().zip(v).map(|(a, b)| a * b).sum())
            .collect()
    }
}

/// The Cholesky factor `L` of a symmetric positive definite matrix, or `None` when the matrix is
/// not positive definite to working precision (a singular information matrix).
pub fn cholesky(a: &Matrix) -> Option<Matrix> {
    let n = a.rows;
    let mut l = Matrix::zeros(n, n);
    let scale = (0..n)
        .map(|i| a.get(i, i).abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    for j in 0..n {
        let mut d = a.get(j, j);
        for k in 0..j {
            d -= l.get(j, k) * l.get(j, k);
        }
        if d <= scale * 1e-13 {
            return None;
        }
        let d = d.sqrt();
        l.data[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a.get(i, j);
            for k in 0..j {
                s -= l.get(i, k) * l.get(j, k);
            }
            l.data[i * n + j] = s / d;
        }
    }
    Some(l)
}

/// Solves `L L^T x = b` for a Cholesky factor `L`.
pub fn cholesky_solve(l: &Matrix, b: &[f64]) -> Vec<f64> {
    let n = l.rows;
    let mut y = b.to_vec();
    for i in 0..n {
        for k in 0..i {
            y[i] -= l.get(i, k) * y[k];
        }
        y[i] /= l.get(i, i);
    }
    for i in (0..n).rev() {
        for k in i + 1..n {
            y[i] -= l.get(k, i) * y[k];
        }
        y[i] /= l.get(i, i);
    }
    y
}

/// The inverse of `L L^T`, column by column.
pub fn cholesky_inverse(l: &Matrix) -> Matrix {
    let n = l.rows;
    let mut inv = Matrix::zeros(n, n);
    for c in 0..n {
        let mut e = vec![0.0; n];
        e[c] = 1.0;
        for (r, v) in cholesky_solve(l, &e).into_iter().enumerate() {
            inv.data[r * n + c] = v;
        }
    }
    inv
}

/// The column rank of a matrix (Gaussian elimination with partial pivoting).
pub fn rank(a: &Matrix) -> usize {
    let mut m = a.clone();
    let tolerance = 1e-9 * m.data.iter().fold(1.0f64, |acc, v| acc.max(v.abs()));
    let mut rank = 0;
    for c in 0..m.cols {
        let Some(pivot) =
            (rank..m.rows).max_by(|&x, &y| m.get(x, c).abs().total_cmp(&m.get(y, c).abs()))
        else {
            break;
        };
        if m.get(pivot, c).abs() <= tolerance {
            continue;
        }
        for k in 0..m.cols {
            m.data.swap(pivot * m.cols + k, rank * m.cols + k);
        }
        for r in rank + 1..m.rows {
            let f = m.get(r, c) / m.get(rank, c);
            for k in c..m.cols {
                m.data[r * m.cols + k] -= f * m.data[rank * m.cols + k];
            }
        }
        rank += 1;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts() {
        let a = Matrix::from_rows(&[vec![4.0, 2.0], vec![2.0, 3.0]]);
        let l = cholesky(&a).unwrap();
        let x = cholesky_solve(&l, &[2.0, 1.0]);
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        let inv = cholesky_inverse(&l);
        assert!((inv.get(0, 0) - 0.375).abs() < 1e-12 && (inv.get(0, 1) + 0.25).abs() < 1e-12);
        assert!(cholesky(&Matrix::from_rows(&[vec![1.0, 1.0], vec![1.0, 1.0]])).is_none());
    }

    #[test]
    fn rank_counts_independent_columns() {
        let a = Matrix::from_rows(&[
            vec![1.0, 1.0, 2.0],
            vec![1.0, 0.0, 1.0],
            vec![1.0, 1.0, 2.0],
        ]);
        assert_eq!(rank(&a), 2);
        assert_eq!(
            rank(&Matrix::from_rows(&[
                vec![1.0, 0.0],
                vec![0.0, 1.0],
                vec![1.0, 1.0]
            ])),
            2
        );
    }
}
