//! The project manifest (`kartoteka.toml`): which sources a project has and how to read them.
//!
//! The TOML is first deserialized into raw structs that mirror the file (serde catches unknown
//! keys and wrong types), then validated into typed structs whose errors name the key, e.g.
//! `sources[2].columns.arrest: unknown field "arestt"`. The format is documented in
//! `docs/manifest.md`.

use model::date_parse::{DateOptions, parse_date};
use model::{Calendar, Field, SourceId, UncertainDate, ValueKind};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

/// The kind of document a source is; it frames how far a historian trusts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    Official,
    Samizdat,
    EmigrePress,
    Archive,
    BookOfMemory,
    Press,
    Testimony,
    Other,
}

impl SourceKind {
    pub const ALL: [SourceKind; 8] = [
        SourceKind::Official,
        SourceKind::Samizdat,
        SourceKind::EmigrePress,
        SourceKind::Archive,
        SourceKind::BookOfMemory,
        SourceKind::Press,
        SourceKind::Testimony,
        SourceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Official => "official",
            SourceKind::Samizdat => "samizdat",
            SourceKind::EmigrePress => "emigre_press",
            SourceKind::Archive => "archive",
            SourceKind::BookOfMemory => "book_of_memory",
            SourceKind::Press => "press",
            SourceKind::Testimony => "testimony",
            SourceKind::Other => "other",
        }
    }
}

impl FromStr for SourceKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| s.to_owned())
    }
}

/// The file format of a source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Delimited text; the delimiter is sniffed unless the manifest gives one.
    Csv,
    /// Tab-separated text.
    Tsv,
    Xlsx,
    /// JSON Lines: one object per line, keys are columns.
    Jsonl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Xlsx => "xlsx",
            Format::Jsonl => "jsonl",
        }
    }

    /// The format a file name's extension implies.
    pub fn from_extension(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Format::Csv, Format::Tsv, Format::Xlsx, Format::Jsonl]
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| s.to_owned())
    }
}

/// The text encoding of a text source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    Utf8,
    Cp1251,
    Koi8R,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Cp1251 => "cp1251",
            Encoding::Koi8R => "koi8-r",
        }
    }

    pub fn encoding_rs(self) -> &'static encoding_rs::Encoding {
        match self {
            Encoding::Utf8 => encoding_rs::UTF_8,
            Encoding::Cp1251 => encoding_rs::WINDOWS_1251,
            Encoding::Koi8R => encoding_rs::KOI8_R,
        }
    }
}

impl FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "cp1251" | "windows-1251" => Ok(Encoding::Cp1251),
            "koi8-r" | "koi8r" => Ok(Encoding::Koi8R),
            _ => Err(s.to_owned()),
        }
    }
}

/// A worksheet chosen by name or by 1-based position.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SheetChoice {
    Name(String),
    /// 1-based, as a spreadsheet user counts tabs.
    Index(usize),
}

/// Value vocabulary: a source's own codes mapped to kartoteka's (`ВМН` → `death`, `ж` → `f`).
/// Lookup is on the trimmed cell, exactly first, then ignoring case. Mapping to `""` marks a
/// code that means "not known" (the cell then makes no assertion).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vocabulary {
    exact: BTreeMap<String, String>,
    folded: BTreeMap<String, String>,
}

impl Vocabulary {
    pub fn new(entries: impl IntoIterator<Item = (String, String)>) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        for (from, to) in entries {
            let from = from.trim().to_owned();
            vocabulary.folded.insert(from.to_lowercase(), to.clone());
            vocabulary.exact.insert(from, to);
        }
        vocabulary
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// The mapped value of a trimmed cell, if the vocabulary has one.
    pub fn lookup(&self, cell: &str) -> Option<&str> {
        if self.exact.is_empty() {
            return None;
        }
        if let Some(found) = self.exact.get(cell) {
            return Some(found);
        }
        // Most cells have no capitals; those need no lowercased copy.
        let found = if cell.chars().any(char::is_uppercase) {
            self.folded.get(&cell.to_lowercase())
        } else {
            self.folded.get(cell)
        };
        found.map(String::as_str)
    }

    /// Entries of `other` override these.
    fn merged(&self, other: &Vocabulary) -> Vocabulary {
        let mut merged = self.clone();
        merged.exact.extend(other.exact.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged.folded.extend(other.folded.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged
    }
}

/// How a date column's cells are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateEncoding {
    /// Text (or a spreadsheet date): every form `model::date_parse` reads.
    Text,
    /// Memorial's packed integers: day = v & 31, month = (v >> 5) & 15, year = ((v >> 9) & 255) + 1800.
    PackedMemorial,
}

/// How one source column maps onto a field.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnMapping {
    /// The column's header (or its 1-based number as text when the file has no header).
    pub column: Arc<str>,
    pub field: Field,
    pub vocabulary: Vocabulary,
    /// Date options for this column (the source's, with this column's overrides).
    pub dates: DateOptions,
    pub date_encoding: DateEncoding,
    /// The column holds personal data that exports should withhold.
    pub sensitive: bool,
}

impl ColumnMapping {
    pub fn value_kind(&self) -> ValueKind {
        self.field.value_kind()
    }
}

/// One file of a source, with everything needed to read it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileSpec {
    /// The path as written in the manifest, relative to the project folder.
    pub path: String,
    /// The installment this file belongs to, for sources published in parts.
    pub installment: Option<Arc<str>>,
    pub format: Format,
    /// `None`: detect (UTF-8 if valid, else chardetng among CP1251 and KOI8-R).
    pub encoding: Option<Encoding>,
    /// `None`: sniff for CSV; tab for TSV.
    pub delimiter: Option<u8>,
    /// For workbooks; `None` is the first sheet.
    pub sheet: Option<SheetChoice>,
    /// The 1-based row holding the column names; 0 when the file has none. Data follows it.
    pub header_row: u32,
}

/// One installment of a source published in parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Installment {
    pub id: Arc<str>,
    pub title: Option<String>,
    pub date: Option<UncertainDate>,
    pub files: Vec<String>,
}

/// One source, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceSpec {
    pub id: SourceId,
    pub title: String,
    pub kind: SourceKind,
    pub date: Option<UncertainDate>,
    /// Where the source comes from and how it is biased, in the historian's words.
    pub notes: Option<String>,
    pub installments: Vec<Installment>,
    /// All files in reading order: the source's own, then each installment's.
    pub files: Vec<FileSpec>,
    pub columns: Vec<ColumnMapping>,
    /// The column giving the printed page, kept on each record's locator.
    pub page_column: Option<Arc<str>>,
    /// Cell texts that mean "nothing here" besides blanks and lone dashes (e.g. `нет данных`).
    pub missing: BTreeSet<String>,
    /// The whole source holds personal data that exports should withhold.
    pub sensitive: bool,
}

impl SourceSpec {
    pub fn column(&self, name: &str) -> Option<&ColumnMapping> {
        self.columns.iter().find(|c| &*c.column == name)
    }
}

/// A validated project manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub title: Option<String>,
    pub sources: Vec<SourceSpec>,
    /// Top-level tables that other stages own (`[link]`, `[cohorts]`...), unvalidated here.
    pub sections: BTreeMap<String, toml::Value>,
}

impl Manifest {
    /// Reads and validates `kartoteka.toml` in a project folder.
    pub fn load(project_dir: &Path) -> Result<Manifest, ManifestError> {
        let path = project_dir.join("kartoteka.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| ManifestError {
            key: String::new(),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        Manifest::parse(&text)
    }

    /// Parses and validates a manifest's text.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let raw: RawManifest =
            toml::from_str(text).map_err(|e| ManifestError { key: String::new(), message: e.to_string() })?;
        raw.validate()
    }

    pub fn source(&self, id: &str) -> Option<&SourceSpec> {
        self.sources.iter().find(|s| s.id.as_str() == id)
    }
}

/// A malformed manifest: the key (`sources[2].columns.arrest`) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ManifestError {
    /// The dotted path of the key; empty when the TOML itself does not parse (the message then
    /// quotes the line).
    pub key: String,
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "kartoteka.toml: {}", self.message)
        } else {
            write!(f, "kartoteka.toml: {}: {}", self.key, self.message)
        }
    }
}

// ---- the file as written ----

#[derive(Deserialize)]
struct RawManifest {
    title: Option<String>,
    #[serde(default)]
    vocabularies: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    sources: Vec<RawSource>,
    /// Sections other stages own (`[link]`, `[cohorts]`...), kept for them.
    #[serde(flatten)]
    sections: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: String,
    title: Option<String>,
    kind: Option<String>,
    date: Option<String>,
    notes: Option<String>,
    file: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    installments: Vec<RawInstallment>,
    format: Option<String>,
    encoding: Option<String>,
    delimiter: Option<String>,
    sheet: Option<RawSheet>,
    header_row: Option<u32>,
    page_column: Option<String>,
    #[serde(default)]
    missing: Vec<String>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    dates: RawDates,
    #[serde(default)]
    columns: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstallment {
    id: String,
    title: Option<String>,
    date: Option<String>,
    file: Option<String>,
    #[serde(default)]
    files: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSheet {
    Index(i64),
    Name(String),
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawDates {
    day_first: Option<bool>,
    two_digit_base: Option<i32>,
    two_digit_pivot: Option<u32>,
    calendar: Option<String>,
    packed: Option<bool>,
}

/// A column written as a table: `arrest = { field = "arrest.date", day_first = false }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    field: String,
    #[serde(default)]
    values: BTreeMap<String, String>,
    vocabulary: Option<String>,
    #[serde(default)]
    sensitive: bool,
    day_first: Option<bool>,
    two_digit_base: Option<i32>,
    two_digit_pivot: Option<u32>,
    calendar: Option<String>,
    packed: Option<bool>,
}

impl RawManifest {
    fn validate(self) -> Result<Manifest, ManifestError> {
        // Other stages' sections are tables (`[link]`) or arrays of tables (`[[cohorts]]`).
        let is_section =
            |v: &toml::Value| v.is_table() || v.as_array().is_some_and(|a| a.iter().all(toml::Value::is_table));
        if let Some((key, value)) = self.sections.iter().find(|(_, v)| !is_section(v)) {
            return Err(err(
                key,
                format!("unknown key (a {} here; other stages' sections are tables)", value.type_str()),
            ));
        }
        let vocabularies: BTreeMap<String, Vocabulary> =
            self.vocabularies.into_iter().map(|(name, entries)| (name, Vocabulary::new(entries))).collect();
        let mut sources = Vec::with_capacity(self.sources.len());
        let mut seen = BTreeSet::new();
        for (index, raw) in self.sources.into_iter().enumerate() {
            let key = format!("sources[{index}]");
            if !seen.insert(raw.id.clone()) {
                return Err(err(format!("{key}.id"), format!("duplicate source id {:?}", raw.id)));
            }
            sources.push(raw.validate(&key, &vocabularies)?);
        }
        Ok(Manifest { title: self.title, sources, sections: self.sections })
    }
}

fn err(key: impl Into<String>, message: impl Into<String>) -> ManifestError {
    ManifestError { key: key.into(), message: message.into() }
}

fn parse_manifest_date(key: &str, text: &str) -> Result<UncertainDate, ManifestError> {
    parse_date(text, &DateOptions::default()).map_err(|_| err(key, format!("expected a date, found {text:?}")))
}

impl RawSource {
    fn validate(self, key: &str, vocabularies: &BTreeMap<String, Vocabulary>) -> Result<SourceSpec, ManifestError> {
        if self.id.trim().is_empty() || self.id.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(err(
                format!("{key}.id"),
                format!("expected an id without spaces or slashes, found {:?}", self.id),
            ));
        }
        let kind = match &self.kind {
            None => SourceKind::Other,
            Some(kind) => kind.parse().map_err(|_| {
                let known: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
                err(
                    format!("{key}.kind"),
                    format!("unknown source kind {kind:?} (expected one of {})", known.join(", ")),
                )
            })?,
        };
        let date = self.date.as_deref().map(|d| parse_manifest_date(&format!("{key}.date"), d)).transpose()?;
        let format = self
            .format
            .as_deref()
            .map(|f| {
                f.parse::<Format>().map_err(|f| {
                    err(format!("{key}.format"), format!("unknown format {f:?} (expected csv, tsv, xlsx or jsonl)"))
                })
            })
            .transpose()?;
        let encoding = self
            .encoding
            .as_deref()
            .map(|e| {
                e.parse::<Encoding>().map_err(|e| {
                    err(format!("{key}.encoding"), format!("unknown encoding {e:?} (expected utf-8, cp1251 or koi8-r)"))
                })
            })
            .transpose()?;
        let delimiter =
            self.delimiter.as_deref().map(|d| parse_delimiter(&format!("{key}.delimiter"), d)).transpose()?;
        let sheet = match self.sheet {
            None => None,
            Some(RawSheet::Name(name)) => Some(SheetChoice::Name(name)),
            Some(RawSheet::Index(i)) if i >= 1 => Some(SheetChoice::Index(i as usize)),
            Some(RawSheet::Index(i)) => {
                return Err(err(
                    format!("{key}.sheet"),
                    format!("expected a sheet name or a 1-based number, found {i}"),
                ));
            }
        };
        let header_row = self.header_row.unwrap_or(1);
        let file_spec =
            |path: String, installment: Option<Arc<str>>, file_key: String| -> Result<FileSpec, ManifestError> {
                if path.trim().is_empty() {
                    return Err(err(file_key, "expected a file path, found an empty string"));
                }
                let format = match format.or_else(|| Format::from_extension(&path)) {
                    Some(format) => format,
                    None => {
                        return Err(err(
                            file_key,
                            format!("cannot tell the format of {path:?} from its extension; set `format`"),
                        ));
                    }
                };
                Ok(FileSpec { path, installment, format, encoding, delimiter, sheet: sheet.clone(), header_row })
            };

        // A file read twice into one source would give its records two versions at once.
        let mut first_key: BTreeMap<String, String> = BTreeMap::new();
        let mut once = |path: &str, file_key: String| match first_key.get(path) {
            Some(first) => Err(err(file_key, format!("{path:?} is already a file of this source ({first})"))),
            None => {
                first_key.insert(path.to_owned(), file_key.clone());
                Ok(file_key)
            }
        };
        let mut files = Vec::new();
        if let Some(file) = self.file {
            let file_key = once(&file, format!("{key}.file"))?;
            files.push(file_spec(file, None, file_key)?);
        }
        for (i, file) in self.files.into_iter().enumerate() {
            let file_key = once(&file, format!("{key}.files[{i}]"))?;
            files.push(file_spec(file, None, file_key)?);
        }
        let mut installments = Vec::new();
        for (i, raw) in self.installments.into_iter().enumerate() {
            let ikey = format!("{key}.installments[{i}]");
            let id: Arc<str> = raw.id.as_str().into();
            let date = raw.date.as_deref().map(|d| parse_manifest_date(&format!("{ikey}.date"), d)).transpose()?;
            let mut paths = Vec::new();
            if let Some(file) = raw.file {
                let file_key = once(&file, format!("{ikey}.file"))?;
                files.push(file_spec(file.clone(), Some(id.clone()), file_key)?);
                paths.push(file);
            }
            for (j, file) in raw.files.into_iter().enumerate() {
                let file_key = once(&file, format!("{ikey}.files[{j}]"))?;
                files.push(file_spec(file.clone(), Some(id.clone()), file_key)?);
                paths.push(file);
            }
            if paths.is_empty() {
                return Err(err(ikey, "an installment needs `file` or `files`"));
            }
            installments.push(Installment { id, title: raw.title, date, files: paths });
        }
        if files.is_empty() {
            return Err(err(key, "a source needs `file`, `files` or `installments`"));
        }

        let source_dates = dates_from_raw(&format!("{key}.dates"), &DateOptions::default(), &self.dates)?;
        let source_packed = self.dates.packed.unwrap_or(false);
        let mut columns = Vec::with_capacity(self.columns.len());
        for (column, raw) in self.columns {
            let ckey = format!("{key}.columns.{}", toml_key(&column));
            let raw: RawColumn = match raw {
                toml::Value::String(field) => RawColumn {
                    field,
                    values: BTreeMap::new(),
                    vocabulary: None,
                    sensitive: false,
                    day_first: None,
                    two_digit_base: None,
                    two_digit_pivot: None,
                    calendar: None,
                    packed: None,
                },
                table @ toml::Value::Table(_) => {
                    table.try_into().map_err(|e: toml::de::Error| err(&ckey, e.message().to_owned()))?
                }
                other => {
                    return Err(err(&ckey, format!("expected a field name or a table, found {}", other.type_str())));
                }
            };
            let field: Field = raw.field.parse().map_err(|_| err(&ckey, format!("unknown field {:?}", raw.field)))?;
            let mut vocab = match &raw.vocabulary {
                None => Vocabulary::default(),
                Some(name) => vocabularies
                    .get(name)
                    .cloned()
                    .ok_or_else(|| err(format!("{ckey}.vocabulary"), format!("no [vocabularies.{name}] table")))?,
            };
            vocab = vocab.merged(&Vocabulary::new(raw.values));
            let dates_raw = RawDates {
                day_first: raw.day_first,
                two_digit_base: raw.two_digit_base,
                two_digit_pivot: raw.two_digit_pivot,
                calendar: raw.calendar,
                packed: raw.packed,
            };
            let column_dates = dates_from_raw(&ckey, &source_dates, &dates_raw)?;
            let packed = dates_raw.packed.unwrap_or(source_packed && field.value_kind() == ValueKind::Date);
            if packed && field.value_kind() != ValueKind::Date {
                return Err(err(
                    format!("{ckey}.packed"),
                    format!("packed dates need a date field, and {field} is not one"),
                ));
            }
            columns.push(ColumnMapping {
                column: column.as_str().into(),
                field,
                vocabulary: vocab,
                dates: column_dates,
                date_encoding: if packed { DateEncoding::PackedMemorial } else { DateEncoding::Text },
                sensitive: raw.sensitive || self.sensitive,
            });
        }
        if let Some(page) = &self.page_column
            && page.trim().is_empty()
        {
            return Err(err(format!("{key}.page_column"), "expected a column name, found an empty string"));
        }

        Ok(SourceSpec {
            title: self.title.unwrap_or_else(|| self.id.clone()),
            id: SourceId::new(self.id),
            kind,
            date,
            notes: self.notes,
            installments,
            files,
            columns,
            page_column: self.page_column.map(|p| p.as_str().into()),
            missing: self.missing.into_iter().map(|m| m.trim().to_owned()).collect(),
            sensitive: self.sensitive,
        })
    }
}

/// A key as TOML would need it written: bare when it can be, quoted otherwise.
fn toml_key(key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

fn parse_delimiter(key: &str, text: &str) -> Result<u8, ManifestError> {
    match text {
        "\\t" | "tab" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => Err(err(key, format!("expected one ASCII character (or \"tab\"), found {text:?}"))),
    }
}

fn dates_from_raw(key: &str, base: &DateOptions, raw: &RawDates) -> Result<DateOptions, ManifestError> {
    let mut options = base.clone();
    if let Some(day_first) = raw.day_first {
        options.day_first = day_first;
    }
    if let Some(base) = raw.two_digit_base {
        if base % 100 != 0 || !(100..=9900).contains(&base) {
            return Err(err(format!("{key}.two_digit_base"), format!("expected a century such as 1900, found {base}")));
        }
        options.two_digit_base = base;
    }
    if let Some(pivot) = raw.two_digit_pivot {
        if pivot > 99 {
            return Err(err(format!("{key}.two_digit_pivot"), format!("expected 0..=99, found {pivot}")));
        }
        options.two_digit_pivot = Some(pivot);
    }
    if let Some(calendar) = &raw.calendar {
        options.calendar = match calendar.as_str() {
            "gregorian" => Calendar::Gregorian,
            "julian" => Calendar::Julian,
            other => {
                return Err(err(
                    format!("{key}.calendar"),
                    format!("expected \"gregorian\" or \"julian\", found {other:?}"),
                ));
            }
        };
    }
    Ok(options)
}
