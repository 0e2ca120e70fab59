//! Reading and writing CSV files in the standard record schema (`shared/DESIGN.md`), shared by
//! `link`, `simulate` and `eval`. Dirty cells are input: a bad date becomes a warning naming the
//! file, row and column, and the record keeps going without it.

use anyhow::{Context, Result, bail};
use model::{RecordId, Sex, SourceId, StandardRecord, UncertainDate};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

pub const COLUMNS: [&str; 11] = [
    "record_id", "source", "surname", "given_name", "patronymic", "name", "sex", "birth_date", "birth_place",
    "nationality", "occupation",
];

/// Reads one file; records without a `source` column get the file's stem as their source.
pub fn read(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<StandardRecord>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("{}: cannot open", path.display()))?;
    let headers: Vec<String> =
        reader.headers().with_context(|| format!("{}: no header row", path.display()))?.iter().map(|h| h.trim().to_owned()).collect();
    let Some(id_col) = headers.iter().position(|h| h == "record_id") else {
        bail!("{}: row 1: no `record_id` column", path.display());
    };
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut records = Vec::new();
    for (row, result) in reader.records().enumerate() {
        let line = row + 2;
        let rec = result.with_context(|| format!("{}: row {line}: not CSV", path.display()))?;
        let cell = |name: &str| -> Option<String> {
            let i = headers.iter().position(|h| h == name)?;
            rec.get(i).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
        };
        let Some(id) = rec.get(id_col).map(str::trim).filter(|s| !s.is_empty()) else {
            bail!("{}: row {line}, column record_id: empty", path.display());
        };
        let birth_date = cell("birth_date").and_then(|t| match UncertainDate::parse_standard(&t) {
            Ok(d) => Some(d),
            Err(e) => {
                warnings.push(format!("{}: row {line}, column birth_date: {e}; compared as missing", path.display()));
                None
            }
        });
        let sex = cell("sex").and_then(|t| {
            let s = Sex::from_code(&t);
            if s.is_none() {
                warnings.push(format!("{}: row {line}, column sex: {t:?} is not m/f; compared as missing", path.display()));
            }
            s
        });
        let other: BTreeMap<String, String> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| !COLUMNS.contains(&h.as_str()))
            .filter_map(|(i, h)| rec.get(i).map(|v| (h.clone(), v.trim().to_owned())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        records.push(StandardRecord {
            id: RecordId::new(id),
            source: Some(SourceId::new(cell("source").unwrap_or_else(|| stem.clone()))),
            surname: cell("surname"),
            given_name: cell("given_name"),
            patronymic: cell("patronymic"),
            name: cell("name"),
            sex,
            birth_date,
            birth_place: cell("birth_place"),
            nationality: cell("nationality"),
            occupation: cell("occupation"),
            other,
        });
    }
    Ok(records)
}

/// Reads several files into one list; a record id used twice is an error naming both places.
pub fn read_all(paths: &[std::path::PathBuf], warnings: &mut Vec<String>) -> Result<Vec<StandardRecord>> {
    let mut all = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for path in paths {
        for r in read(path, warnings)? {
            if !seen.insert(r.id.to_string()) {
                bail!("{}: column record_id: {:?} appears twice", path.display(), r.id.as_str());
            }
            all.push(r);
        }
    }
    Ok(all)
}

/// Writes records with the standard columns (other columns are not part of the schema).
pub fn write(path: &Path, records: &[StandardRecord]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).with_context(|| format!("{}: cannot create", path.display()))?;
    w.write_record(COLUMNS)?;
    for r in records {
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        w.write_record([
            r.id.to_string(),
            r.source.as_ref().map(|s| s.to_string()).unwrap_or_default(),
            opt(&r.surname),
            opt(&r.given_name),
            opt(&r.patronymic),
            opt(&r.name),
            r.sex.map(|s| s.code().to_owned()).unwrap_or_default(),
            r.birth_date.map(|d| d.to_string()).unwrap_or_default(),
            opt(&r.birth_place),
            opt(&r.nationality),
            opt(&r.occupation),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Reads a two-column assignment file (`record_id` and a person or cluster column).
pub fn read_assignment(path: &Path) -> Result<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let id = headers.iter().position(|h| h == "record_id");
    let group = headers.iter().position(|h| h == "person_id" || h == "cluster_id");
    let (Some(id), Some(group)) = (id, group) else {
        bail!("{}: row 1: expected columns record_id and person_id (or cluster_id)", path.display());
    };
    let mut rows = Vec::new();
    for (row, result) in reader.records().enumerate() {
        let rec = result.with_context(|| format!("{}: row {}: not CSV", path.display(), row + 2))?;
        match (rec.get(id), rec.get(group)) {
            (Some(r), Some(g)) if !r.trim().is_empty() => rows.push((r.trim().to_owned(), g.trim().to_owned())),
            _ => bail!("{}: row {}: record_id or person_id missing", path.display(), row + 2),
        }
    }
    Ok(rows)
}
