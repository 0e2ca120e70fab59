//! Re-linking a project's register with reviewers' decisions: the same run `kartoteka build`
//! makes (`store::link_persons`), with the project's declared link spec (its manifest's `[link]`
//! section or `link.toml`), so a re-link from the review page gives the persons a build would.

use crate::WebError;
use rusqlite::Connection;
use serde::Serialize;
use std::path::Path;

/// What a run did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub records: usize,
    pub persons: usize,
    pub pairs: usize,
    pub decisions: usize,
}

/// Links the register's current records with the project's link spec, honouring every decision
/// in force, and stores the persons (ids inherited from the previous run), the pairs and their
/// waterfalls.
pub fn relink(conn: &mut Connection, project_dir: &Path, ran_at: &str) -> Result<RunSummary, WebError> {
    let section = if project_dir.join("kartoteka.toml").exists() {
        let manifest = ingest::manifest::Manifest::load(project_dir).map_err(|e| WebError::Manifest(e.to_string()))?;
        manifest.sections.get("link").cloned()
    } else {
        None
    };
    let declared = store::declared_link_spec(project_dir, section.as_ref())?;
    let linked = store::link_persons(conn, &declared, ran_at)?;
    Ok(RunSummary { records: linked.records, persons: linked.persons, pairs: linked.pairs.len(), decisions: linked.decisions })
}

/// Whether linkage has ever run on this register.
pub fn has_run(conn: &Connection) -> Result<bool, WebError> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM link_runs)", [], |r| r.get(0))?)
}
