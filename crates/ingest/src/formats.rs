//! The file formats: delimited text, XLSX workbooks and JSON Lines, each read row by row into a
//! [`RowSink`] without holding the whole table. Readers take bytes or text, not paths, so they can be
//! fuzzed and tested in memory.

use model::date_parse::day_from_excel_serial;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt::{self, Write};
use std::io::Cursor;
use std::sync::Arc;

/// Where rows go. `header` names `cells` one for one (readers pad short rows and name extra cells).
pub(crate) trait RowSink {
    /// The header of a table; `Err` stops the file (a mapped column is missing).
    fn header(&mut self, header: &[Arc<str>]) -> Result<(), crate::IngestError>;
    /// One data row; `row` is the 1-based line/row a spreadsheet user sees.
    fn row(&mut self, row: u64, header: &[Arc<str>], cells: &[&str]);
    /// A row whose keys differ from the last one (JSON Lines): map by these names.
    fn row_with_own_header(&mut self, row: u64, header: &[Arc<str>], cells: &[&str]);
    /// The worksheet being read (workbooks), before any row.
    fn sheet(&mut self, name: &Arc<str>);
    /// A problem with the file's shape at a row (ragged row, malformed line).
    fn problem(&mut self, row: Option<u64>, severity: model::Severity, message: String);
}

/// The name of a column without a header cell: its 1-based number.
fn numbered(index: usize) -> Arc<str> {
    format!("column {}", index + 1).into()
}

/// Header names, with blank ones replaced by their number.
fn header_names<'a>(cells: impl Iterator<Item = &'a str>) -> Vec<Arc<str>> {
    cells.enumerate().map(|(i, c)| if c.trim().is_empty() { numbered(i) } else { Arc::from(c.trim()) }).collect()
}

/// Guesses a delimiter from the first lines: the candidate that splits them most consistently.
pub fn sniff_delimiter(text: &str) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(20).collect();
    let count_outside_quotes = |line: &str, delimiter: u8| {
        let mut quoted = false;
        line.bytes()
            .filter(|&b| {
                if b == b'"' {
                    quoted = !quoted;
                }
                b == delimiter && !quoted
            })
            .count()
    };
    let mut best = (0usize, 0usize, b',');
    for delimiter in CANDIDATES {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, delimiter)).collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        if first == 0 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == first).count();
        if (consistent, first) > (best.0, best.1) {
            best = (consistent, first, delimiter);
        }
    }
    best.2
}

/// Reads delimited text. `header_row` is the 1-based record holding the names (0: none).
pub(crate) fn read_delimited(
    text: &str,
    delimiter: u8,
    header_row: u32,
    sink: &mut impl RowSink,
) -> Result<(), crate::IngestError> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut header: Vec<Arc<str>> = Vec::new();
    let mut index = 0u32;
    let mut have_header = false;
    let mut lines = crate::decode::RecordLines::new(text.as_bytes());
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let row = e.position().map(|p| p.line());
                sink.problem(row, model::Severity::Error, format!("unreadable delimited text: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        index += 1;
        // The line the record starts on, counted from its byte offset (quoted fields may span lines).
        let line = lines.of_record_at(record.position().map(|p| p.byte()));
        if !have_header {
            if header_row == 0 {
                header = (0..record.len()).map(numbered).collect();
            } else if index == header_row {
                header = header_names(record.iter());
            } else {
                continue;
            }
            sink.header(&header)?;
            have_header = true;
            if header_row != 0 {
                continue;
            }
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut cells: Vec<&str> = record.iter().collect();
        emit_row(line, &header, &mut cells, false, sink);
    }
    if !have_header {
        sink.problem(None, model::Severity::Warning, "the file has no rows".to_owned());
        sink.header(&header)?;
    }
    Ok(())
}

/// Pads or names cells so the header and the row line up, reporting ragged rows. Workbooks
/// leave trailing empty cells out, so a short row there is normal (`short_is_normal`). Cells
/// beyond the header are named by their number.
fn emit_row(row: u64, header: &[Arc<str>], cells: &mut Vec<&str>, short_is_normal: bool, sink: &mut impl RowSink) {
    if cells.len() != header.len() && !header.is_empty() {
        let extra_blank = cells.len() > header.len() && cells[header.len()..].iter().all(|c| c.trim().is_empty());
        let normal_short = cells.len() < header.len() && short_is_normal;
        if !extra_blank && !normal_short {
            sink.problem(
                Some(row),
                model::Severity::Warning,
                format!("{} cells, the header has {}", cells.len(), header.len()),
            );
        }
    }
    while cells.len() < header.len() {
        cells.push("");
    }
    if cells.len() > header.len() {
        let wide: Vec<Arc<str>> = header.iter().cloned().chain((header.len()..cells.len()).map(numbered)).collect();
        sink.row(row, &wide, cells);
    } else {
        sink.row(row, header, cells);
    }
}

/// The chosen worksheet of an XLSX workbook.
pub(crate) fn read_xlsx(
    bytes: &[u8],
    sheet: Option<&crate::manifest::SheetChoice>,
    header_row: u32,
    file: &str,
    sink: &mut impl RowSink,
) -> Result<(), crate::IngestError> {
    use calamine::{DataRef, Reader};
    let not_a_workbook =
        |e: calamine::XlsxError| crate::IngestError::NotAWorkbook { file: file.to_owned(), message: e.to_string() };
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(not_a_workbook)?;
    let names = workbook.sheet_names();
    let name = match sheet {
        None => names.first().cloned(),
        Some(crate::manifest::SheetChoice::Index(i)) => names.get(i - 1).cloned(),
        Some(crate::manifest::SheetChoice::Name(n)) => names.iter().find(|s| *s == n).cloned(),
    }
    .ok_or_else(|| crate::IngestError::NoSuchSheet {
        file: file.to_owned(),
        sheet: match sheet {
            Some(crate::manifest::SheetChoice::Index(i)) => format!("#{i}"),
            Some(crate::manifest::SheetChoice::Name(n)) => n.clone(),
            None => "#1".to_owned(),
        },
        available: names.clone(),
    })?;
    sink.sheet(&Arc::from(name.as_str()));
    let mut reader = workbook.worksheet_cells_reader(&name).map_err(not_a_workbook)?;

    let mut header: Vec<Arc<str>> = Vec::new();
    let mut have_header = false;
    let mut texts: Vec<String> = Vec::new();
    let mut current_row: Option<u32> = None;
    let mut width = 0usize;
    let mut flush = |row: u32, texts: &[String], header: &mut Vec<Arc<str>>, have_header: &mut bool| {
        let spreadsheet_row = row + 1;
        if !*have_header && (header_row == 0 || spreadsheet_row == header_row) {
            *header = if header_row == 0 {
                (0..texts.len()).map(numbered).collect()
            } else {
                header_names(texts.iter().map(String::as_str))
            };
            sink.header(header)?;
            *have_header = true;
        }
        if *have_header && spreadsheet_row > header_row && texts.iter().any(|t| !t.trim().is_empty()) {
            let mut cells: Vec<&str> = texts.iter().map(String::as_str).collect();
            emit_row(u64::from(spreadsheet_row), header, &mut cells, true, sink);
        }
        Ok::<(), crate::IngestError>(())
    };
    loop {
        let cell = match reader.next_cell() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(e) => return Err(not_a_workbook(e)),
        };
        let (row, column) = cell.get_position();
        if current_row != Some(row) {
            if let Some(previous) = current_row {
                flush(previous, &texts[..width], &mut header, &mut have_header)?;
                width = 0;
            }
            current_row = Some(row);
        }
        let column = column as usize;
        if texts.len() <= column {
            texts.resize(column + 1, String::new());
        }
        // Cell texts are reused from row to row, so a row costs no allocation once warm.
        for stale in width..=column {
            match texts.get_mut(stale) {
                Some(text) => text.clear(),
                None => texts.push(String::new()),
            }
        }
        width = width.max(column + 1);
        let text = &mut texts[column];
        match cell.get_value() {
            DataRef::Empty => {}
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => text.push_str(s),
            DataRef::SharedString(s) => text.push_str(s),
            DataRef::Int(i) => write!(text, "{i}").unwrap_or(()),
            DataRef::Float(f) => write_number(text, *f),
            DataRef::Bool(b) => write!(text, "{b}").unwrap_or(()),
            // A cell formatted as a date: its serial day (durations are not met in lists).
            DataRef::DateTime(dt) => match day_from_excel_serial(dt.as_f64()) {
                Some(day) => write!(text, "{day}").unwrap_or(()),
                None => write_number(text, dt.as_f64()),
            },
            DataRef::Error(e) => write!(text, "#{e}").unwrap_or(()),
        }
    }
    if let Some(previous) = current_row {
        flush(previous, &texts[..width], &mut header, &mut have_header)?;
    }
    if !have_header {
        sink.problem(None, model::Severity::Warning, "the sheet has no rows".to_owned());
        sink.header(&header)?;
    }
    Ok(())
}

/// A spreadsheet number as a person reads it: `1938`, not `1938.0`.
fn write_number(text: &mut String, f: f64) {
    let written = if f.fract() == 0.0 && f.abs() < 1e15 { write!(text, "{}", f as i64) } else { write!(text, "{f}") };
    written.unwrap_or(());
}

/// JSON Lines: each non-blank line one object; its keys are the columns, in the line's order.
pub(crate) fn read_jsonl(text: &str, sink: &mut impl RowSink) -> Result<(), crate::IngestError> {
    sink.header(&[])?;
    let mut names: std::collections::HashMap<String, Arc<str>> = std::collections::HashMap::new();
    let mut header: Vec<Arc<str>> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let row = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let mut deserializer = serde_json::Deserializer::from_str(line);
        let object = match deserializer.deserialize_map(ObjectVisitor).and_then(|o| deserializer.end().map(|()| o)) {
            Ok(object) => object,
            Err(e) => {
                // The line itself goes into the diagnostic (and so into `rejects`): no record
                // holds it, and nothing a source gave may be lost.
                sink.problem(Some(row), model::Severity::Error, format!("expected a JSON object, {e}; found {line:?}"));
                continue;
            }
        };
        header.clear();
        header
            .extend(object.0.iter().map(|(k, _)| names.entry(k.clone()).or_insert_with(|| k.as_str().into()).clone()));
        let cells: Vec<&str> = object.0.iter().map(|(_, v)| v.as_str()).collect();
        sink.row_with_own_header(row, &header, &cells);
    }
    Ok(())
}

/// A JSON object's entries in file order, each value as the text a cell would hold.
struct OrderedObject(Vec<(String, String)>);

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = OrderedObject;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedObject, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            let text = match value {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            entries.push((key, text));
        }
        Ok(OrderedObject(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_prefers_the_consistent_delimiter() {
        assert_eq!(sniff_delimiter("a;b;c\n1;2;3\n"), b';');
        assert_eq!(sniff_delimiter("a,b\n\"x;y;z\",2\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter("single column\n"), b',');
    }

    #[test]
    fn spreadsheet_numbers_read_as_written() {
        let text = |f| {
            let mut text = String::new();
            write_number(&mut text, f);
            text
        };
        assert_eq!((text(1938.0), text(35.5)), ("1938".to_owned(), "35.5".to_owned()));
    }
}
