//! Turning one row of cells into an [`IngestedRecord`]: raw cells kept in file order, each
//! non-empty mapped cell parsed into an assertion, and a diagnostic for each cell that does not parse.

use crate::manifest::{ColumnMapping, DateEncoding, SourceSpec};
use model::date_parse::{decode_packed_memorial, parse_date};
use model::{
    Assertion, Cell, Diagnostic, Event, EventPart, Field, IngestedRecord, Post, PostPart, RecordLocator, Severity, Sex,
    Value, ValueKind,
};
use std::sync::Arc;

/// What every record of one file shares.
pub(crate) struct FileContext {
    pub source: model::SourceId,
    pub file: Arc<str>,
    pub sha256: Arc<str>,
    pub sheet: Option<Arc<str>>,
    pub installment: Option<Arc<str>>,
}

/// Maps rows of one file; column positions are resolved once per header.
pub(crate) struct RowMapper<'a> {
    spec: &'a SourceSpec,
    context: FileContext,
    /// For each of `spec.columns`, its position in the current header.
    positions: Vec<Option<usize>>,
    /// Indices into `spec.columns` of the mapped columns present, in file order.
    file_order: Vec<usize>,
    page_position: Option<usize>,
}

impl<'a> RowMapper<'a> {
    pub fn new(spec: &'a SourceSpec, context: FileContext) -> RowMapper<'a> {
        RowMapper {
            spec,
            context,
            positions: vec![None; spec.columns.len()],
            file_order: Vec::new(),
            page_position: None,
        }
    }

    pub fn set_sheet(&mut self, sheet: Arc<str>) {
        self.context.sheet = Some(sheet);
    }

    /// Resolves mapped columns against a header; returns the mapped columns it lacks.
    pub fn set_header(&mut self, header: &[Arc<str>]) -> Vec<Arc<str>> {
        let position = |name: &str| header.iter().position(|h| &**h == name);
        let mut missing = Vec::new();
        for (slot, mapping) in self.positions.iter_mut().zip(&self.spec.columns) {
            *slot = position(&mapping.column);
            if slot.is_none() {
                missing.push(mapping.column.clone());
            }
        }
        self.file_order = (0..self.positions.len()).filter(|&i| self.positions[i].is_some()).collect();
        self.file_order.sort_by_key(|&i| self.positions[i]);
        self.page_position = self.spec.page_column.as_deref().and_then(position);
        if let Some(page) = &self.spec.page_column
            && self.page_position.is_none()
        {
            missing.push(page.clone());
        }
        missing
    }

    /// Builds the record for one row. `header[i]` names `cells[i]`; diagnostics go to `diagnostics`.
    pub fn map_row(
        &self,
        row: u64,
        header: &[Arc<str>],
        cells: &[&str],
        diagnostics: &mut Vec<Diagnostic>,
    ) -> IngestedRecord {
        let locator = RecordLocator {
            source: self.context.source.clone(),
            file: self.context.file.clone(),
            file_sha256: self.context.sha256.clone(),
            sheet: self.context.sheet.clone(),
            row,
            installment: self.context.installment.clone(),
            page: self.page_position.and_then(|i| cells.get(i)).map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()),
        };
        let cells_out: Vec<Cell> = header
            .iter()
            .zip(cells)
            .map(|(column, raw)| Cell { column: column.clone(), raw: (*raw).to_owned() })
            .collect();
        let mut assertions = Vec::with_capacity(self.spec.columns.len());
        for &index in &self.file_order {
            let mapping = &self.spec.columns[index];
            let Some(raw) = self.positions[index].and_then(|i| cells.get(i)) else {
                continue;
            };
            let Some(value) = self.parse_cell(mapping, raw) else {
                continue;
            };
            if let Value::Unparsed { reason } = &value {
                diagnostics.push(Diagnostic {
                    file: self.context.file.clone(),
                    sheet: self.context.sheet.clone(),
                    row: Some(row),
                    column: Some(mapping.column.clone()),
                    severity: Severity::Error,
                    expected: Some(mapping.value_kind().expected().to_owned()),
                    message: reason.clone(),
                });
            }
            assertions.push(Assertion {
                field: mapping.field,
                column: mapping.column.clone(),
                raw: (*raw).to_owned(),
                value,
            });
        }
        IngestedRecord { locator, cells: cells_out, assertions }
    }

    /// The value of one mapped cell; `None` when the cell says nothing (blank, a dash, a code the
    /// vocabulary maps to "").
    fn parse_cell(&self, mapping: &ColumnMapping, raw: &str) -> Option<Value> {
        let trimmed = raw.trim();
        if is_blank(trimmed) || self.spec.missing.contains(trimmed) {
            return None;
        }
        let text = mapping.vocabulary.lookup(trimmed).unwrap_or(trimmed).trim();
        if text.is_empty() {
            return None;
        }
        let found = || format!("found {raw:?}");
        Some(match mapping.value_kind() {
            ValueKind::Text => wrap_text(mapping.field, text.to_owned()),
            ValueKind::Sex => match Sex::from_code(text) {
                Some(sex) => Value::Sex { sex },
                None => Value::Unparsed { reason: found() },
            },
            ValueKind::Number => match parse_whole_number(text) {
                Some(number) => Value::Number { number },
                None => Value::Unparsed { reason: found() },
            },
            ValueKind::Flag => match parse_flag(text) {
                Some(flag) => Value::Flag { flag },
                None => Value::Unparsed { reason: found() },
            },
            ValueKind::Date => {
                let date = match mapping.date_encoding {
                    DateEncoding::Text => parse_date(text, &mapping.dates).map(Some),
                    DateEncoding::PackedMemorial => match parse_whole_number(text) {
                        Some(v) => decode_packed_memorial(v, mapping.dates.calendar),
                        None => Err(model::DateError { text: text.to_owned() }),
                    },
                };
                match date {
                    Ok(Some(date)) => wrap_date(mapping.field, date),
                    Ok(None) => return None,
                    Err(_) if mapping.date_encoding == DateEncoding::PackedMemorial => {
                        Value::Unparsed { reason: format!("found {raw:?}, not a packed date") }
                    }
                    Err(_) => Value::Unparsed { reason: found() },
                }
            }
        })
    }
}

/// Blank, or only dashes and question marks: the usual ways a list says "nothing here".
fn is_blank(trimmed: &str) -> bool {
    trimmed.chars().all(|c| matches!(c, '-' | '–' | '—' | '?' | '_' | '.') || c.is_whitespace())
}

/// A whole number, allowing a spreadsheet's `35.0` and a trailing word such as `лет`.
fn parse_whole_number(text: &str) -> Option<i64> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit() && c != '-').unwrap_or(text.len());
    let (digits, rest) = text.split_at(digits_end);
    let rest = rest.trim();
    let rest_ok = rest.is_empty()
        || rest.strip_prefix('.').is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b == b'0'))
        || rest.chars().all(|c| c.is_alphabetic() || c == '.' || c == ' ');
    if digits.is_empty() || !rest_ok {
        return None;
    }
    digits.parse().ok()
}

fn parse_flag(text: &str) -> Option<bool> {
    match text.to_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" | "да" | "д" | "истина" | "+" => Some(true),
        "false" | "f" | "falce" | "no" | "n" | "0" | "нет" | "н" | "ложь" => Some(false),
        _ => None,
    }
}

fn wrap_text(field: Field, text: String) -> Value {
    match field {
        Field::Event(kind, part) => {
            let mut event = Event { kind, date: None, place: None, agency: None, detail: None };
            match part {
                EventPart::Place => event.place = Some(text),
                EventPart::Agency => event.agency = Some(text),
                _ => event.detail = Some(text),
            }
            Value::Event { event }
        }
        Field::Post(part) => {
            let mut post = Post::default();
            match part {
                PostPart::Organisation => post.organisation = Some(text),
                PostPart::Unit => post.unit = Some(text),
                _ => post.role = Some(text),
            }
            Value::Post { post }
        }
        _ => Value::Text { text },
    }
}

fn wrap_date(field: Field, date: model::UncertainDate) -> Value {
    match field {
        Field::Event(kind, _) => {
            Value::Event { event: Event { kind, date: Some(date), place: None, agency: None, detail: None } }
        }
        Field::Post(PostPart::To) => Value::Post { post: Post { to: Some(date), ..Post::default() } },
        Field::Post(_) => Value::Post { post: Post { from: Some(date), ..Post::default() } },
        _ => Value::Date { date },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_flags_and_blanks() {
        assert_eq!(parse_whole_number("35"), Some(35));
        assert_eq!(parse_whole_number("35.0"), Some(35));
        assert_eq!(parse_whole_number("35 лет"), Some(35));
        assert_eq!(parse_whole_number("35.5"), None);
        assert_eq!(parse_whole_number("около 35"), None);
        assert_eq!(parse_flag("Falce"), Some(false));
        assert_eq!(parse_flag("да"), Some(true));
        assert_eq!(parse_flag("может быть"), None);
        assert!(is_blank(" - "));
        assert!(is_blank("—"));
        assert!(!is_blank("-1938"));
    }
}
