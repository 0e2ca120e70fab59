//! Hierarchical log-linear models for K lists, named as in Rcapture (`[123,14,34]`: the maximal
//! interaction terms, every main effect implied), their design matrices, and the enumeration of
//! all of them for the all-models search.

use super::linalg::Matrix;
use super::table::OverlapTable;
use std::fmt;

/// A hierarchical model: a set of interaction terms (bit masks of lists, two or more lists each)
/// closed under taking subsets; every main effect is always in. The K-way term is never allowed
/// (it is confounded with the unobserved cell).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HierarchicalModel {
    lists: usize,
    /// All interaction terms, sorted by (order, mask).
    interactions: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("model `{text}`: {reason}")]
    Parse { text: String, reason: String },
}

impl HierarchicalModel {
    pub fn independence(lists: usize) -> Self {
        HierarchicalModel {
            lists,
            interactions: Vec::new(),
        }
    }

    /// The smallest hierarchical model containing `terms` (each a mask of two or more lists).
    pub fn closure(lists: usize, terms: impl IntoIterator<Item = u32>) -> Self {
        let mut interactions: Vec<u32> = Vec::new();
        for term in terms {
            let mut sub = term;
            loop {
                if sub.count_ones() >= 2 && !interactions.contains(&sub) {
                    interactions.push(sub);
                }
                if sub == 0 {
                    break;
                }
                sub = (sub - 1) & term;
            }
        }
        interactions.sort_by_key(|&t| (t.count_ones(), t));
        HierarchicalModel {
            lists,
            interactions,
        }
    }

    /// Parses Rcapture's notation: `[123,14,34]` (lists numbered from 1), `[12:3]`-style separators
    /// are not needed; `independence` and `[]` mean main effects only. Lists 10 and above are
    /// written with dots between list numbers (`[1.10,2.11]`).
    pub fn parse(lists: usize, text: &str) -> Result<Self, ModelError> {
        let err = |reason: String| ModelError::Parse {
            text: text.to_string(),
            reason,
        };
        let inner = text.trim();
        if inner.eq_ignore_ascii_case("independence") {
            return Ok(Self::independence(lists));
        }
        let inner = inner
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .ok_or_else(|| err("write the terms in brackets, e.g. [12,34]".into()))?;
        let mut terms = Vec::new();
        for term in inner.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let numbers: Vec<&str> = if term.contains('.') {
                term.split('.').collect()
            } else {
                term.split("").filter(|s| !s.is_empty()).collect()
            };
            let mut mask = 0u32;
            for n in numbers {
                let list: usize = n
                    .parse()
                    .map_err(|_| err(format!("`{n}` is not a list number")))?;
                if list == 0 || list > lists {
                    return Err(err(format!("list {list} is not one of lists 1..{lists}")));
                }
                mask |= 1 << (list - 1);
            }
            terms.push(mask);
        }
        if terms
            .iter()
            .any(|&t| t.count_ones() as usize == lists && lists > 1)
        {
            return Err(err(format!(
                "the {lists}-way term cannot be estimated: it is confounded with the unobserved cell"
            )));
        }
        Ok(Self::closure(lists, terms))
    }

    pub fn lists(&self) -> usize {
        self.lists
    }

    pub fn interactions(&self) -> &[u32] {
        &self.interactions
    }

    pub fn contains(&self, term: u32) -> bool {
        term.count_ones() < 2 || self.interactions.contains(&term)
    }

    pub fn with_term(&self, term: u32) -> Self {
        Self::closure(self.lists, self.interactions.iter().copied().chain([term]))
    }

    /// The design columns: intercept (mask 0), the main effects, then the interactions.
    pub fn columns(&self) -> Vec<u32> {
        std::iter::once(0)
            .chain((0..self.lists).map(|j| 1 << j))
            .chain(self.interactions.iter().copied())
            .collect()
    }

    pub fn parameters(&self) -> usize {
        1 + self.lists + self.interactions.len()
    }

    /// The maximal terms, as Rcapture names them.
    pub fn generators(&self) -> Vec<u32> {
        let mut gens: Vec<u32> = self
            .interactions
            .iter()
            .copied()
            .filter(|&t| !self.interactions.iter().any(|&u| u != t && u & t == t))
            .collect();
        gens.sort_by_key(|&t| self.term_name(t));
        gens
    }

    fn term_name(&self, term: u32) -> String {
        let members: Vec<String> = (0..self.lists)
            .filter(|j| term >> j & 1 == 1)
            .map(|j| (j + 1).to_string())
            .collect();
        members.join(if self.lists >= 10 { "." } else { "" })
    }

    /// The design matrix over the given cells (capture masks): column `t` is 1 where the cell
    /// contains every list of term `t`.
    pub fn design(&self, cells: &[u32]) -> Matrix {
        let columns = self.columns();
        let rows: Vec<Vec<f64>> = cells
            .iter()
            .map(|&c| {
                columns
                    .iter()
                    .map(|&t| if c & t == t { 1.0 } else { 0.0 })
                    .collect()
            })
            .collect();
        Matrix::from_rows(&rows)
    }

    /// Every hierarchical model with all main effects and without the K-way term, ordered by
    /// number of parameters then terms (Rcapture's `closedpMS.t` fits these).
    pub fn all(lists: usize) -> Vec<Self> {
        let candidates: Vec<u32> = {
            let mut c: Vec<u32> = (1..(1u32 << lists))
                .filter(|t| t.count_ones() >= 2 && (t.count_ones() as usize) < lists)
                .collect();
            c.sort_by_key(|&t| (t.count_ones(), t));
            c
        };
        let mut out = Vec::new();
        let mut chosen = Vec::new();
        enumerate_downsets(&candidates, 0, &mut chosen, &mut out, lists);
        out.sort_by_key(|m| (m.parameters(), m.interactions.clone()));
        out
    }
}

fn enumerate_downsets(
    candidates: &[u32],
    next: usize,
    chosen: &mut Vec<u32>,
    out: &mut Vec<HierarchicalModel>,
    lists: usize,
) {
    if next == candidates.len() {
        out.push(HierarchicalModel {
            lists,
            interactions: chosen.clone(),
        });
        return;
    }
    enumerate_downsets(candidates, next + 1, chosen, out, lists);
    let term = candidates[next];
    let faces_present = (0..lists)
        .filter(|j| term >> j & 1 == 1)
        .map(|j| term & !(1 << j))
        .all(|face| face.count_ones() < 2 || chosen.contains(&face));
    if faces_present {
        chosen.push(term);
        enumerate_downsets(candidates, next + 1, chosen, out, lists);
        chosen.pop();
    }
}

impl fmt::Display for HierarchicalModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.interactions.is_empty() {
            return write!(f, "independence");
        }
        let mut parts: Vec<String> = self
            .generators()
            .iter()
            .map(|&g| self.term_name(g))
            .collect();
        // Main effects not covered by an interaction are named too, as Rcapture does.
        let covered = self.interactions.iter().fold(0, |acc, t| acc | t);
        parts.extend(
            (0..self.lists)
                .filter(|j| covered >> j & 1 == 0)
                .map(|j| (j + 1).to_string()),
        );
        write!(f, "[{}]", parts.join(","))
    }
}

/// The observed cells of a table in mask order, with their counts as reals.
pub fn observed_cells(table: &OverlapTable) -> (Vec<u32>, Vec<f64>) {
    table.patterns().map(|m| (m, table.count(m) as f64)).unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_all_hierarchical_models() {
        // Simplicial complexes on n labelled vertices, minus the full simplex: 1, 8, 113, 6893.
        assert_eq!(HierarchicalModel::all(2).len(), 1);
        assert_eq!(HierarchicalModel::all(3).len(), 8);
        assert_eq!(HierarchicalModel::all(4).len(), 113);
    }

    #[test]
    fn parses_and_names_models() {
        let m = HierarchicalModel::parse(4, "[123,14,34]").unwrap();
        assert_eq!(m.to_string(), "[123,14,34]");
        assert_eq!(m.parameters(), 11);
        assert_eq!(
            HierarchicalModel::parse(4, "[12]").unwrap().to_string(),
            "[12,3,4]"
        );
        assert_eq!(
            HierarchicalModel::parse(3, "independence")
                .unwrap()
                .parameters(),
            4
        );
        assert!(HierarchicalModel::parse(3, "[123]").is_err());
        assert!(HierarchicalModel::parse(3, "[15]").is_err());
    }
}
