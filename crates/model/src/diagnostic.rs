//! Diagnostics: what was wrong with the input, pointing at file, sheet, row and column.
//!
//! Dirty data is input, not an error: a reader returns records plus diagnostics, and the caller
//! decides (strict or lenient policy) what a bad row means.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; the value was still understood (a guessed encoding, a ragged row).
    Warning,
    /// A mapped value could not be understood; the record is bad.
    Error,
}

/// One problem found in a source file.
///
/// Displays as `sources/kgb.csv:17: column "arrest": expected a date, found "весна 193?"`
/// (with `[sheet]` after the file for workbooks; without row or column when not about one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The file's path relative to the project folder.
    pub file: Arc<str>,
    pub sheet: Option<Arc<str>>,
    /// The 1-based line/row number as a spreadsheet user sees it; `None` for the whole file.
    pub row: Option<u64>,
    pub column: Option<Arc<str>>,
    pub severity: Severity,
    /// What was expected, e.g. `a date`.
    pub expected: Option<String>,
    /// What was found or what happened, e.g. `found "весна 193?"`.
    pub message: String,
}

impl Diagnostic {
    /// A warning about a whole file (its encoding, say), not about one row or cell.
    pub fn file_warning(file: Arc<str>, message: String) -> Diagnostic {
        Diagnostic { file, sheet: None, row: None, column: None, severity: Severity::Warning, expected: None, message }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, "[{sheet}]")?;
        }
        if let Some(row) = self.row {
            write!(f, ":{row}")?;
        }
        f.write_str(": ")?;
        if let Some(column) = &self.column {
            write!(f, "column {column:?}: ")?;
        }
        if let Some(expected) = &self.expected {
            write!(f, "expected {expected}, ")?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn display_names_file_row_column_and_expectation() {
        let d = Diagnostic {
            file: "sources/kgb.csv".into(),
            sheet: None,
            row: Some(17),
            column: Some("arrest".into()),
            severity: Severity::Error,
            expected: Some("a date".into()),
            message: "found \"весна 193?\"".into(),
        };
        expect![[r#"sources/kgb.csv:17: column "arrest": expected a date, found "весна 193?""#]]
            .assert_eq(&d.to_string());
        let whole_file = Diagnostic {
            sheet: Some("Лист1".into()),
            row: None,
            column: None,
            expected: None,
            message: "encoding guessed as windows-1251".into(),
            ..d
        };
        expect!["sources/kgb.csv[Лист1]: encoding guessed as windows-1251"].assert_eq(&whole_file.to_string());
    }
}
