//! The register's schema as an ordered list of forward migrations, applied on open.
//!
//! The schema version is SQLite's `PRAGMA user_version`: the number of migrations applied.
//! To change the schema, add `migrations/NNNN_what.sql` and one entry at the end of
//! [`MIGRATIONS`]; never edit a shipped migration (a test compares migration 1 with a frozen copy).

use crate::StoreError;
use rusqlite::Connection;

/// One step of the schema: the SQL that takes version `n - 1` to `n`, where `n` is its
/// 1-based position in [`MIGRATIONS`].
pub struct Migration {
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration in order; the register's current schema version is `MIGRATIONS.len()`.
pub const MIGRATIONS: &[Migration] = &[
    Migration { name: "core register", sql: include_str!("../migrations/0001_core.sql") },
    Migration { name: "linkage, review, accounts, search", sql: include_str!("../migrations/0002_web_review.sql") },
    Migration { name: "record content beside persons", sql: include_str!("../migrations/0003_build_linkage.sql") },
    Migration { name: "linkage inputs fingerprint", sql: include_str!("../migrations/0004_link_inputs.sql") },
    Migration { name: "search ranked inside the index", sql: include_str!("../migrations/0005_search_names.sql") },
    Migration { name: "linkage model for incremental runs", sql: include_str!("../migrations/0006_link_model.sql") },
    Migration { name: "persons in the search index", sql: include_str!("../migrations/0007_search_persons.sql") },
    Migration { name: "places in the search index", sql: include_str!("../migrations/0008_search_places.sql") },
    Migration { name: "places as written in the search index", sql: include_str!("../migrations/0009_search_places_as_written.sql") },
    Migration { name: "files the manifest no longer declares", sql: include_str!("../migrations/0010_withdrawn_files.sql") },
];

/// The schema version this build of kartoteka writes.
pub fn latest_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// The schema version recorded in the database.
pub fn version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

/// Applies the migrations the database has not seen, each in its own transaction together with
/// the bump of `user_version`, so an interrupted upgrade leaves a consistent older version.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    let found = version(conn)?;
    let latest = latest_version();
    if found > latest {
        return Err(StoreError::NewerSchema { found, supported: latest });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let target = index as u32 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)
            .map_err(|source| StoreError::Migration { version: target, name: migration.name, source })?;
        tx.pragma_update(None, "user_version", target)?;
        tx.commit()?;
    }
    Ok(latest)
}
