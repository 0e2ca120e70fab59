//! Reads source files (CSV/TSV, XLSX, JSON Lines; any encoding) through a manifest into records,
//! assertions and diagnostics.
//!
//! Dirty data is input, not an error: a cell that does not parse still yields its record, with
//! [`model::Value::Unparsed`] and a [`Diagnostic`] naming file, row and column, so the register can
//! apply its strict or lenient policy. [`IngestError`] is only for files that cannot be read at all.
//!
//! Entry points: [`Manifest::load`], then [`read_source`] (everything in memory) or
//! [`read_file_with`] (one file, records streamed to a callback).

pub mod decode;
pub mod formats;
pub mod manifest;
mod mapping;

pub use manifest::{
    ColumnMapping, DateEncoding, Encoding, FileSpec, Format, Installment, Manifest, ManifestError, SheetChoice,
    SourceKind, SourceSpec, Vocabulary,
};
use mapping::{FileContext, RowMapper};
use model::{Diagnostic, IngestedRecord, Severity, SourceId};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// A file that cannot be read at all. Each names the file (relative to the project).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The cause is written into the message, not chained, so it is said once.
    #[error("{file}: cannot read the file: {error}")]
    Unreadable { file: String, error: std::io::Error },
    #[error("{file}: not an XLSX workbook: {message}")]
    NotAWorkbook { file: String, message: String },
    #[error("{file}: no sheet {sheet:?} (the workbook has {available:?})")]
    NoSuchSheet { file: String, sheet: String, available: Vec<String> },
    #[error("{file}:{line}: not valid {encoding} text, which the manifest declares (leave `encoding` out to detect it)")]
    BadEncoding { file: String, line: u64, encoding: &'static str },
    /// Valid UTF-8 with letters beyond ASCII read as a one-byte Cyrillic code page would all
    /// decode, into gibberish (`Фамилия` as `Р¤Р°РјРёР»РёСЏ`).
    #[error("{file}:{line}: the manifest declares {encoding}, but the file is UTF-8 text ({sample:?}); set `encoding = \"utf-8\"` or leave it out")]
    DeclaredButUtf8 { file: String, line: u64, encoding: &'static str, sample: String },
    #[error("{file}: the manifest maps columns the file does not have: {} (the file's columns: {})", quoted(missing), quoted(available))]
    MissingColumns { file: String, missing: Vec<String>, available: Vec<String> },
    /// An empty file (or sheet) has no header, so none of the columns the manifest maps.
    #[error("{file}{}: no header row (the file is empty, or shorter than `header_row`), so none of the mapped columns {}", sheet.as_ref().map(|s| format!(" (sheet {s:?})")).unwrap_or_default(), quoted(missing))]
    Empty { file: String, sheet: Option<String>, missing: Vec<String> },
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

/// What was learnt about one file, apart from its records.
#[derive(Clone, Debug, PartialEq)]
pub struct FileSummary {
    /// The path relative to the project, as the manifest writes it.
    pub path: Arc<str>,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: Arc<str>,
    pub bytes: u64,
    pub format: Format,
    /// The text encoding read (`None` for workbooks).
    pub encoding: Option<Encoding>,
    /// The worksheet read (workbooks only).
    pub sheet: Option<Arc<str>>,
    pub installment: Option<Arc<str>>,
    /// The header, in file order (for JSON Lines, the keys in order of first appearance).
    pub columns: Vec<Arc<str>>,
    pub records: u64,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileSummary {
    /// Rows that an error diagnostic points at: the strict policy rejects the source if any.
    pub fn bad_rows(&self) -> BTreeSet<u64> {
        self.diagnostics.iter().filter(|d| d.is_error()).filter_map(|d| d.row).collect()
    }
}

/// One file read into memory.
#[derive(Clone, Debug, PartialEq)]
pub struct FileRead {
    pub summary: FileSummary,
    pub records: Vec<IngestedRecord>,
}

/// A whole source read into memory, file by file in manifest order.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRead {
    pub source: SourceId,
    pub files: Vec<FileRead>,
}

impl SourceRead {
    pub fn records(&self) -> impl Iterator<Item = &IngestedRecord> {
        self.files.iter().flat_map(|f| &f.records)
    }

    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.files.iter().flat_map(|f| &f.summary.diagnostics)
    }
}

/// Reads every file of a source into memory.
pub fn read_source(project_dir: &Path, spec: &SourceSpec) -> Result<SourceRead, IngestError> {
    let mut files = Vec::with_capacity(spec.files.len());
    for file in &spec.files {
        let mut records = Vec::new();
        let summary = read_file_with(project_dir, spec, file, |record| records.push(record))?;
        files.push(FileRead { summary, records });
    }
    Ok(SourceRead { source: spec.id.clone(), files })
}

/// The SHA-256 (lowercase hex) and length of a file, to tell whether it changed since it was ingested.
pub fn hash_file(project_dir: &Path, file: &FileSpec) -> Result<(String, u64), IngestError> {
    let bytes = read_bytes(project_dir, file)?;
    Ok((hex::encode(Sha256::digest(&bytes)), bytes.len() as u64))
}

fn read_bytes(project_dir: &Path, file: &FileSpec) -> Result<Vec<u8>, IngestError> {
    std::fs::read(project_dir.join(&file.path))
        .map_err(|error| IngestError::Unreadable { file: file.path.clone(), error })
}

/// Reads one file of a source from disk, handing each record to `on_record` as it is read.
pub fn read_file_with(
    project_dir: &Path,
    spec: &SourceSpec,
    file: &FileSpec,
    on_record: impl FnMut(IngestedRecord),
) -> Result<FileSummary, IngestError> {
    let bytes = read_bytes(project_dir, file)?;
    read_file_bytes(spec, file, &bytes, on_record)
}

/// Reads one file's bytes (as if from `file.path`); the pure core of [`read_file_with`].
pub fn read_file_bytes(
    spec: &SourceSpec,
    file: &FileSpec,
    bytes: &[u8],
    on_record: impl FnMut(IngestedRecord),
) -> Result<FileSummary, IngestError> {
    let path: Arc<str> = file.path.as_str().into();
    let sha256: Arc<str> = hex::encode(Sha256::digest(bytes)).into();
    let mut summary = FileSummary {
        path: path.clone(),
        sha256: sha256.clone(),
        bytes: bytes.len() as u64,
        format: file.format,
        encoding: None,
        sheet: None,
        installment: file.installment.clone(),
        columns: Vec::new(),
        records: 0,
        diagnostics: Vec::new(),
    };
    let context = |sheet: Option<Arc<str>>| FileContext {
        source: spec.id.clone(),
        file: path.clone(),
        sha256: sha256.clone(),
        sheet,
        installment: file.installment.clone(),
    };
    match file.format {
        Format::Xlsx => {
            let mut sink = Collector::new(RowMapper::new(spec, context(None)), &mut summary, on_record);
            formats::read_xlsx(bytes, file.sheet.as_ref(), file.header_row, &file.path, &mut sink)?;
            sink.finish();
        }
        Format::Csv | Format::Tsv | Format::Jsonl => {
            if let Some(declared @ (Encoding::Cp1251 | Encoding::Koi8R)) = file.encoding
                && let Some((line, sample)) = decode::utf8_beyond_ascii(bytes)
            {
                return Err(IngestError::DeclaredButUtf8 { file: file.path.clone(), line, encoding: declared.as_str(), sample });
            }
            let decoded = decode::decode(bytes, file.encoding);
            if decoded.had_errors && (file.encoding.is_some() || decoded.encoding == Encoding::Utf8) {
                let line = decode::first_undecodable_line(bytes, decoded.encoding);
                return Err(IngestError::BadEncoding { file: file.path.clone(), line, encoding: decoded.encoding.as_str() });
            }
            summary.encoding = Some(decoded.encoding);
            if decoded.had_errors {
                summary.diagnostics.push(Diagnostic::file_warning(path.clone(), format!("some bytes are not {} and were replaced with U+FFFD", decoded.encoding.as_str())));
            }
            if decoded.guessed && decoded.encoding != Encoding::Utf8 {
                summary.diagnostics.push(Diagnostic::file_warning(path.clone(), format!("encoding detected as {} (set `encoding` to be sure)", decoded.encoding.as_str())));
            }
            let mut sink = Collector::new(RowMapper::new(spec, context(None)), &mut summary, on_record);
            match file.format {
                Format::Jsonl => formats::read_jsonl(&decoded.text, &mut sink)?,
                format => {
                    let delimiter = match (file.delimiter, format) {
                        (Some(d), _) => d,
                        (None, Format::Tsv) => b'\t',
                        (None, _) => formats::sniff_delimiter(&decoded.text),
                    };
                    formats::read_delimited(&decoded.text, delimiter, file.header_row, &mut sink)?;
                }
            }
            sink.finish();
        }
    }
    Ok(summary)
}

/// Collects rows of one file into records, diagnostics and a summary.
struct Collector<'a, 's, F: FnMut(IngestedRecord)> {
    mapper: RowMapper<'a>,
    summary: &'s mut FileSummary,
    on_record: F,
    /// Keys seen so far (JSON Lines), for the summary's column list.
    seen_columns: BTreeSet<Arc<str>>,
}

impl<'a, 's, F: FnMut(IngestedRecord)> Collector<'a, 's, F> {
    fn new(mapper: RowMapper<'a>, summary: &'s mut FileSummary, on_record: F) -> Self {
        Collector { mapper, summary, on_record, seen_columns: BTreeSet::new() }
    }

    fn finish(self) {
        self.summary.diagnostics.sort_by_key(|d| (d.row, d.column.clone()));
    }
}

impl<F: FnMut(IngestedRecord)> formats::RowSink for Collector<'_, '_, F> {
    fn header(&mut self, header: &[Arc<str>]) -> Result<(), IngestError> {
        self.summary.columns = header.to_vec();
        let duplicates: BTreeSet<&Arc<str>> =
            header.iter().enumerate().filter(|(i, h)| header[..*i].contains(h)).map(|(_, h)| h).collect();
        for duplicate in duplicates {
            self.problem(
                None,
                Severity::Warning,
                format!("column {duplicate:?} appears more than once; the first is used"),
            );
        }
        if self.summary.format == Format::Jsonl {
            return Ok(());
        }
        let missing = self.mapper.set_header(header);
        if missing.is_empty() {
            Ok(())
        } else if header.is_empty() {
            Err(IngestError::Empty {
                file: self.summary.path.to_string(),
                sheet: self.summary.sheet.as_ref().map(|s| s.to_string()),
                missing: missing.iter().map(|m| m.to_string()).collect(),
            })
        } else {
            Err(IngestError::MissingColumns {
                file: self.summary.path.to_string(),
                missing: missing.iter().map(|m| m.to_string()).collect(),
                available: header.iter().map(|h| h.to_string()).collect(),
            })
        }
    }

    fn row(&mut self, row: u64, header: &[Arc<str>], cells: &[&str]) {
        if header.len() > self.summary.columns.len() {
            self.summary.columns = header.to_vec();
        }
        let record = self.mapper.map_row(row, header, cells, &mut self.summary.diagnostics);
        self.summary.records += 1;
        (self.on_record)(record);
    }

    fn row_with_own_header(&mut self, row: u64, header: &[Arc<str>], cells: &[&str]) {
        for column in header {
            if self.seen_columns.insert(column.clone()) {
                self.summary.columns.push(column.clone());
            }
        }
        self.mapper.set_header(header);
        let record = self.mapper.map_row(row, header, cells, &mut self.summary.diagnostics);
        self.summary.records += 1;
        (self.on_record)(record);
    }

    fn sheet(&mut self, name: &Arc<str>) {
        self.summary.sheet = Some(name.clone());
        self.mapper.set_sheet(name.clone());
    }

    fn problem(&mut self, row: Option<u64>, severity: Severity, message: String) {
        self.summary.diagnostics.push(Diagnostic {
            file: self.summary.path.clone(),
            sheet: self.summary.sheet.clone(),
            row,
            column: None,
            severity,
            expected: None,
            message,
        });
    }
}
