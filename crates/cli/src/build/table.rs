//! A small column table written both as CSV (safe to open in a spreadsheet) and as Parquet.
//!
//! Exports are built row by row into typed columns, then written: the CSV with every text cell
//! guarded against formula injection, the Parquet with the plain column writers of the `parquet`
//! crate (no arrow, no compression codecs), in row groups so memory stays bounded per group.

use anyhow::{Context, Result};
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// One column of a table.
pub enum Column {
    /// UTF-8 text; `None` is an empty CSV cell and a Parquet null.
    Text(Vec<Option<String>>),
    /// A whole number, always present.
    Int(Vec<i64>),
}

/// A table of named, equally long columns.
pub struct Table {
    names: Vec<String>,
    columns: Vec<Column>,
}

/// One cell handed to [`Table::push_row`].
pub enum Cell {
    Text(Option<String>),
    Int(i64),
}

const ROW_GROUP: usize = 65_536;

impl Table {
    /// A table whose columns are given as (name, is_int).
    pub fn new(schema: &[(&str, bool)]) -> Table {
        Table {
            names: schema.iter().map(|(name, _)| (*name).to_owned()).collect(),
            columns: schema
                .iter()
                .map(|(_, is_int)| if *is_int { Column::Int(Vec::new()) } else { Column::Text(Vec::new()) })
                .collect(),
        }
    }

    /// Appends a row; the cells must match the schema's order and types.
    pub fn push_row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        for (column, cell) in self.columns.iter_mut().zip(cells) {
            match (column, cell) {
                (Column::Text(values), Cell::Text(value)) => values.push(value),
                (Column::Int(values), Cell::Int(value)) => values.push(value),
                _ => panic!("export row does not match its table's schema"),
            }
        }
    }

    fn len(&self) -> usize {
        match self.columns.first() {
            Some(Column::Text(v)) => v.len(),
            Some(Column::Int(v)) => v.len(),
            None => 0,
        }
    }

    /// Writes the table as CSV with a header row; text cells that a spreadsheet would run as
    /// a formula are prefixed with `'`.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        writer.write_record(&self.names)?;
        let mut row: Vec<String> = Vec::with_capacity(self.columns.len());
        for i in 0..self.len() {
            row.clear();
            for column in &self.columns {
                row.push(match column {
                    Column::Text(values) => values[i].as_deref().map(spreadsheet_safe).unwrap_or_default(),
                    Column::Int(values) => values[i].to_string(),
                });
            }
            writer.write_record(&row)?;
        }
        writer.into_inner().map_err(|e| e.into_error())?.flush()?;
        Ok(())
    }

    /// Writes the table as an uncompressed Parquet file.
    pub fn write_parquet(&self, path: &Path, name: &str) -> Result<()> {
        let file = File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        let fields = self
            .names
            .iter()
            .zip(&self.columns)
            .map(|(name, column)| {
                let field = match column {
                    Column::Text(_) => Type::primitive_type_builder(name, parquet::basic::Type::BYTE_ARRAY)
                        .with_repetition(parquet::basic::Repetition::OPTIONAL)
                        .with_converted_type(parquet::basic::ConvertedType::UTF8),
                    Column::Int(_) => Type::primitive_type_builder(name, parquet::basic::Type::INT64)
                        .with_repetition(parquet::basic::Repetition::REQUIRED),
                };
                Ok(Arc::new(field.build()?))
            })
            .collect::<Result<Vec<_>>>()?;
        let schema = Arc::new(Type::group_type_builder(name).with_fields(fields).build()?);
        let properties = Arc::new(WriterProperties::builder().build());
        let mut writer = SerializedFileWriter::new(BufWriter::new(file), schema, properties)?;
        let rows = self.len();
        for start in (0..rows.max(1)).step_by(ROW_GROUP) {
            let range = start..(start + ROW_GROUP).min(rows);
            let mut group = writer.next_row_group()?;
            for column in &self.columns {
                let mut out = group.next_column()?.context("parquet schema has fewer columns than the table")?;
                match column {
                    Column::Text(values) => {
                        let values = &values[range.clone()];
                        let present: Vec<ByteArray> =
                            values.iter().flatten().map(|v| ByteArray::from(v.as_bytes().to_vec())).collect();
                        let levels: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
                        out.typed::<ByteArrayType>().write_batch(&present, Some(&levels), None)?;
                    }
                    Column::Int(values) => {
                        out.typed::<Int64Type>().write_batch(&values[range.clone()], None, None)?;
                    }
                }
                out.close()?;
            }
            group.close()?;
        }
        writer.close()?;
        Ok(())
    }
}

/// A cell that a spreadsheet would take as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a
/// leading `'`, so an export of hostile source text cannot run code in the reader's spreadsheet.
pub fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_quoted() {
        for (input, expected) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+7", "'+7"),
            ("-", "'-"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Иванов", "Иванов"),
            ("1937-05-01", "1937-05-01"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(input), expected);
        }
    }

    #[test]
    fn csv_and_parquet_hold_the_same_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut table = Table::new(&[("id", false), ("row", true)]);
        table.push_row(vec![Cell::Text(Some("=1+1".into())), Cell::Int(2)]);
        table.push_row(vec![Cell::Text(None), Cell::Int(3)]);
        table.write_csv(&dir.path().join("t.csv")).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("t.csv")).unwrap(), "id,row\n'=1+1,2\n,3\n");
        table.write_parquet(&dir.path().join("t.parquet"), "t").unwrap();
        let reader =
            parquet::file::reader::SerializedFileReader::new(File::open(dir.path().join("t.parquet")).unwrap()).unwrap();
        let rows: Vec<String> = parquet::file::reader::FileReader::get_row_iter(&reader, None)
            .unwrap()
            .map(|row| row.unwrap().to_string())
            .collect();
        assert_eq!(rows, vec![r#"{id: "=1+1", row: 2}"#, "{id: null, row: 3}"]);
    }
}
