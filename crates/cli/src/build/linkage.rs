//! The linkage step of `build`: the register links its current records into persons
//! (`store::link_persons`, the same run the web app's re-link makes; with `--cluster` a full run
//! compares and scores its pairs on the cluster, with the same result), and `out/clusters.csv`
//! and `out/pairs.csv` are written as `kartoteka link` writes them.
//!
//! The link spec is the `[link]` section of `kartoteka.toml` or a `link.toml` beside it (not
//! both); without either, comparisons and blocking are inferred from the fields records fill.

use super::Project;
use crate::link::{ClusterArgs, link_on_cluster, write_clusters, write_pairs};
use anyhow::{Result, anyhow};
use link::LinkSpec;
use std::cell::Cell;
use std::path::Path;
use store::{PairRow, PersonAssignment, Register, StoreError};

/// What the step did, for the console.
pub struct Linked {
    pub records: usize,
    pub persons: usize,
    pub pairs: usize,
    pub decisions: usize,
    /// Persons split or merged since the previous run.
    pub changes: usize,
    /// Whether linkage ran (otherwise nothing it depends on changed and the latest run stands).
    pub rerun: bool,
}

/// The project's link spec; an error in the manifest's `[link]` section names its line.
pub fn declared_spec(project: &Project) -> Result<LinkSpec> {
    store::declared_link_spec(&project.dir, project.manifest.sections.get("link")).map_err(|e| located(project, e))
}

/// A link spec error as the manifest's other errors read (file, line, key) when the spec is the
/// manifest's `[link]` section; `store` gets the section as a parsed value, without lines.
fn located(project: &Project, error: StoreError) -> anyhow::Error {
    match error {
        StoreError::LinkSpec { key, message, .. } if project.manifest.sections.contains_key("link") => {
            let key = if key.is_empty() { "link".to_owned() } else { format!("link.{key}") };
            anyhow!(super::locate::manifest_error(&project.dir, &project.text, &key, &message))
        }
        other => other.into(),
    }
}

pub fn run(register: &mut Register, project: &Project, out: &Path, ran_at: &str, cluster: &ClusterArgs) -> Result<Linked> {
    let declared = declared_spec(project)?;
    let linked = match &cluster.cluster {
        None => register.link_persons(&declared, ran_at).map_err(|e| located(project, e))?,
        Some(url) => {
            let on_cluster = Cell::new(false);
            let linked = register.link_persons_with(&declared, ran_at, &|records, inputs| {
                on_cluster.set(true);
                let scratch = project.dir.join(".cluster-input");
                let (outcome, _report) = link_on_cluster(cluster, url, &scratch, records, inputs)
                    .map_err(|e| store::StoreError::Linkage(e.into()))?;
                Ok(outcome)
            })
            .map_err(|e| located(project, e))?;
            if linked.rerun && !on_cluster.get() {
                eprintln!("linkage: only the new records were linked, here (incremental runs do not use the cluster)");
            }
            linked
        }
    };
    export(out, &linked.assignments, &linked.pairs)?;
    Ok(Linked {
        records: linked.records,
        persons: linked.persons,
        pairs: linked.pairs.len(),
        decisions: linked.decisions,
        changes: linked.changes,
        rerun: linked.rerun,
    })
}

/// `out/clusters.csv` in record order and `out/pairs.csv` by record keys.
fn export(out: &Path, assignments: &[PersonAssignment], pairs: &[PairRow]) -> Result<()> {
    write_clusters(&out.join("clusters.csv"), assignments.iter().map(|a| (a.record_key.as_str(), a.person_id.as_str())))?;
    write_pairs(
        &out.join("pairs.csv"),
        pairs.iter().map(|p| (p.record_key_l.as_str(), p.record_key_r.as_str(), p.match_weight, p.match_probability)),
    )
}
