//! Named cohorts as a search filter: the manifest's `[[cohorts]]`, with the persons the last
//! `kartoteka build` found in each, read from its `out/analyses/*.json`. The web app computes
//! no cohort itself (`analysis` does, at build time).

use crate::WebError;
use std::collections::BTreeSet;
use std::path::Path;

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
    if !state.cohorts.contains(&name) {
        let known = if state.cohorts.is_empty() { "none".to_owned() } else { state.cohorts.join(", ") };
        return Err(WebError::bad("cohort", format!("unknown cohort {name:?}; the manifest declares: {known}")));
    }
    let out = state.config.project_dir.join("out");
    let asked = name.clone();
    let found = tokio::task::spawn_blocking(move || members(&out, &asked)).await.map_err(|e| WebError::Internal(e.to_string()))??;
    let persons = found.ok_or_else(|| WebError::bad("cohort", format!("no analysis of the last `kartoteka build` covers cohort {name:?}, so its persons are not known")))?;
    query.persons_in = Some(std::sync::Arc::new(persons));
    Ok(query)
}
