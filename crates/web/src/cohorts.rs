//! Named cohorts as a search filter: the manifest's `[[cohorts]]`, with the persons the last
//! `kartoteka build` found in each, read from its `out/analyses/*.json`. The web app computes
//! no cohort itself (`analysis` does, at build time).

use crate::WebError;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// When and how large a file or folder was last written (`None` when it does not exist).
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The cohort names of the manifest, read again when the manifest or the last build's analyses
/// changed: a request costs two `stat` calls, and editing the manifest or rebuilding needs no
/// restart of the server.
pub struct Declared {
    project_dir: PathBuf,
    read: Mutex<Read>,
}

/// The names, and the stamps of the manifest and of `out/analyses` they were read at.
struct Read {
    stamps: (Stamp, Stamp),
    names: Arc<Vec<String>>,
}

impl Declared {
    pub fn load(project_dir: &Path) -> Result<Declared, WebError> {
        let stamps = Declared::stamps(project_dir);
        let names = Arc::new(declared(project_dir)?);
        Ok(Declared { project_dir: project_dir.to_owned(), read: Mutex::new(Read { stamps, names }) })
    }

    fn stamps(project_dir: &Path) -> (Stamp, Stamp) {
        (stamp(&project_dir.join("kartoteka.toml")), stamp(&project_dir.join("out").join("analyses")))
    }

    /// The names as the manifest declares them now. A manifest that no longer reads (an edit in
    /// progress) keeps the names it last gave, and is read again on the next call.
    pub fn current(&self) -> Arc<Vec<String>> {
        let now = Declared::stamps(&self.project_dir);
        let mut read = self.read.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if read.stamps != now
            && let Ok(names) = declared(&self.project_dir)
        {
            *read = Read { stamps: now, names: Arc::new(names) };
        }
        read.names.clone()
    }
}

/// The names of the cohorts the manifest in `project_dir` declares, in its order.
pub fn declared(project_dir: &Path) -> Result<Vec<String>, WebError> {
    if !project_dir.join("kartoteka.toml").exists() {
        return Ok(Vec::new());
    }
    let manifest = ingest::manifest::Manifest::load(project_dir).map_err(|e| WebError::Manifest(e.to_string()))?;
    let Some(cohorts) = manifest.sections.get("cohorts").and_then(|c| c.as_array()) else { return Ok(Vec::new()) };
    Ok(cohorts.iter().filter_map(|c| c.get("name")?.as_str().map(str::to_owned)).collect())
}

/// The persons certainly or possibly in cohort `name`, as the analyses under `out_dir` give
/// them; `None` when no analysis of the last build ran over that cohort.
pub fn members(out_dir: &Path, name: &str) -> Result<Option<BTreeSet<String>>, WebError> {
    let mut files: Vec<_> = std::fs::read_dir(out_dir.join("analyses"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| WebError::Internal(format!("{}: {e}", file.display())))?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| WebError::Internal(format!("{}: {e}", file.display())))?;
        let cohort = &json["cohort"];
        if cohort["cohort"].as_str() != Some(name) {
            continue;
        }
        let ids = |list: &str| cohort[list].as_array().into_iter().flatten().filter_map(|p| p.as_str().map(str::to_owned)).collect::<Vec<_>>();
        return Ok(Some(ids("members").into_iter().chain(ids("possible")).collect()));
    }
    Ok(None)
}

/// Fills `query.persons_in` with the persons of its cohort, if it names one; an unknown cohort,
/// or one no analysis of the last build covers, is a 400 naming the `cohort` parameter.
pub async fn resolve(state: &crate::AppState, mut query: crate::search::Query) -> Result<crate::search::Query, WebError> {
    let Some(name) = query.cohort.clone() else { return Ok(query) };
    let cohorts = state.cohorts.current();
    if !cohorts.contains(&name) {
        let known = if cohorts.is_empty() { "none".to_owned() } else { cohorts.join(", ") };
        return Err(WebError::bad("cohort", format!("unknown cohort {name:?}; the manifest declares: {known}")));
    }
    let out = state.config.project_dir.join("out");
    let asked = name.clone();
    let found = tokio::task::spawn_blocking(move || members(&out, &asked)).await.map_err(|e| WebError::Internal(e.to_string()))??;
    let persons = found.ok_or_else(|| WebError::bad("cohort", format!("no analysis of the last `kartoteka build` covers cohort {name:?}, so its persons are not known")))?;
    query.persons_in = Some(std::sync::Arc::new(persons));
    Ok(query)
}
