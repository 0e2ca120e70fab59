//! The register: an embedded SQLite database in the project folder, with migrations.
//!
//! Everything a source gave is kept here exactly: every record with its locator and raw cells,
//! every assertion with its raw text beside the parsed value, every rejected row and every
//! diagnostic. Nothing is updated in place: a changed file (or a changed manifest entry for its
//! source) becomes a new file version whose records sit beside the old ones. The tables are
//! documented in `docs/register.md`; the schema evolves only by forward migrations (`schema`).

mod concepts;
mod ingest;
mod linkage;
mod read;
pub mod schema;

pub use concepts::Vocabularies;
pub use ingest::{FileOutcome, FileVersion, Policy, SourceEntry};
pub use linkage::{
    Claim, DecisionRow, LinkRecord, LinkageRun, Linked, PairRow, PersonAssignment, declared_link_spec, decisions_sha256,
    FullRun, link_persons, link_persons_with, linkage_inputs_sha256, person_review_item, standard_record, unknown_link_column,
};
pub use read::{AssertionRow, DiagnosticRow, FileRow, RecordRow, RejectRow, SourceRow, StoredValue};

use model::Diagnostic;
use rusqlite::Connection;
use std::path::Path;

/// The file name of the register inside a project folder.
pub const REGISTER_FILE: &str = "register.sqlite";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("register database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the register has schema version {found}, newer than this kartoteka understands ({supported}); use a newer kartoteka")]
    NewerSchema { found: u32, supported: u32 },
    #[error("register migration {version} ({name}) failed: {source}")]
    Migration { version: u32, name: &'static str, source: rusqlite::Error },
    #[error("register holds malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A link spec that cannot be used: where it was declared, the dotted key within it the
    /// error is about (`field[1].tff`, `threshold`; empty for the whole spec), and what is wrong.
    #[error("{place}: {}{message}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
    LinkSpec { place: String, key: String, message: String },
    #[error(transparent)]
    Link(#[from] link::pipeline::LinkError),
    /// A linkage run done outside this process (on a cluster) failed.
    #[error(transparent)]
    Linkage(Box<dyn std::error::Error + Send + Sync>),
    /// The strict policy met bad rows: nothing of the source was written.
    #[error(
        "source {source_id:?}: {bad_rows} bad row(s), nothing of this source was written \
         (--lenient sends bad rows to rejects); first: {first}"
    )]
    BadRows { source_id: String, bad_rows: usize, first: Box<Diagnostic> },
}

/// An open register. All writes go through [`Register::ingest_source`], one transaction each.
pub struct Register {
    conn: Connection,
}

impl Register {
    /// Opens (creating if absent) `DIR/register.sqlite` in WAL mode and migrates it to the
    /// latest schema.
    pub fn open_in(project_dir: &Path) -> Result<Register, StoreError> {
        Self::open(&project_dir.join(REGISTER_FILE))
    }

    /// Opens (creating if absent) the register at `path` and migrates it to the latest schema.
    pub fn open(path: &Path) -> Result<Register, StoreError> {
        let conn = Connection::open(path)?;
        // WAL: readers (the web app, a user's SQLite browser) do not block an ingest, and a
        // killed writer leaves only an uncommitted tail that SQLite discards on the next open.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::prepare(conn)
    }

    /// A register held in memory, for tests and one-off computations.
    pub fn open_in_memory() -> Result<Register, StoreError> {
        Self::prepare(Connection::open_in_memory()?)
    }

    fn prepare(mut conn: Connection) -> Result<Register, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // NORMAL is safe in WAL mode against process crashes (kill -9); only an OS crash or
        // power loss may lose the last committed ingest, never corrupt the register.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        schema::migrate(&mut conn)?;
        Ok(Register { conn })
    }

    /// The schema version of the open register (after migration, always the latest).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::version(&self.conn)
    }
}
