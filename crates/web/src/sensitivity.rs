//! What viewers may not see: sources and columns the manifest marks `sensitive`.

use crate::WebError;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The sensitive sources, columns and fields of a project. Keyed by source, so a lookup (one per
/// search candidate) allocates nothing.
#[derive(Clone, Debug, Default)]
pub struct Sensitivity {
    sources: BTreeSet<String>,
    /// Column names, by source.
    columns: BTreeMap<String, BTreeSet<String>>,
    /// Field names such as `birth_place` or `arrest.date`, by source.
    fields: BTreeMap<String, BTreeSet<String>>,
}

impl Sensitivity {
    pub fn from_manifest(manifest: &ingest::manifest::Manifest) -> Sensitivity {
        let mut out = Sensitivity::default();
        for source in &manifest.sources {
            let id = source.id.as_str().to_owned();
            if source.sensitive {
                out.sources.insert(id.clone());
            }
            for column in source.columns.iter().filter(|c| c.sensitive) {
                out.columns.entry(id.clone()).or_default().insert(column.column.to_string());
                out.fields.entry(id.clone()).or_default().insert(column.field.name());
            }
        }
        out
    }

    /// Reads `DIR/kartoteka.toml`; a project without a manifest has nothing marked sensitive,
    /// but a manifest that does not parse stops the server (fail closed).
    pub fn load(project_dir: &Path) -> Result<Sensitivity, WebError> {
        if !project_dir.join("kartoteka.toml").exists() {
            return Ok(Sensitivity::default());
        }
        let manifest = ingest::manifest::Manifest::load(project_dir).map_err(|e| WebError::Manifest(e.to_string()))?;
        Ok(Sensitivity::from_manifest(&manifest))
    }

    pub fn source(&self, source: &str) -> bool {
        self.sources.contains(source)
    }

    pub fn column(&self, source: &str, column: &str) -> bool {
        self.source(source) || self.columns.get(source).is_some_and(|c| c.contains(column))
    }

    pub fn field(&self, source: &str, field: &str) -> bool {
        self.source(source) || self.fields.get(source).is_some_and(|f| f.contains(field))
    }

    /// The sources that hide from viewers some field `hidden` picks (whole sensitive sources
    /// aside): a filter on such a field must not match their records for a viewer.
    pub fn sources_hiding(&self, hidden: impl Fn(&str) -> bool) -> BTreeSet<&str> {
        self.fields.iter().filter(|(_, fields)| fields.iter().any(|f| hidden(f))).map(|(source, _)| source.as_str()).collect()
    }

    /// The sensitive source ids, for excluding them in queries.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(String::as_str)
    }
}
