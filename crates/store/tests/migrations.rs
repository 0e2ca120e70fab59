//! The schema only moves forward: old registers open and migrate, shipped migrations never change.

use store::{Register, StoreError, schema};

const SCHEMA_V1: &str = include_str!("fixtures/schema_v1.sql");
const DATA_V1: &str = include_str!("fixtures/register_v1_data.sql");

#[test]
fn shipped_migration_1_is_frozen() {
    // Editing a shipped migration would leave existing registers with a schema no code expects;
    // add a new migration instead.
    assert_eq!(schema::MIGRATIONS[0].sql, SCHEMA_V1);
}

#[test]
fn a_new_register_has_the_latest_schema_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::open_in(dir.path()).unwrap();
    assert_eq!(register.schema_version().unwrap(), schema::latest_version());
    let conn = rusqlite::Connection::open(dir.path().join(store::REGISTER_FILE)).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_version_1_register_migrates_and_keeps_its_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(store::REGISTER_FILE);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA_V1).unwrap();
        conn.execute_batch(DATA_V1).unwrap();
    }
    let register = Register::open(&path).unwrap();
    assert_eq!(register.schema_version().unwrap(), schema::latest_version());
    let files = register.files(false).unwrap();
    assert_eq!(files.iter().map(|f| f.version).collect::<Vec<_>>(), vec![1, 2]);
    let current = register.files(true).unwrap();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].sha256, "cc");
    let mut records = Vec::new();
    register.for_each_current_record(|r| records.push(r)).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].cells[0].raw, "Иванов И.");
    let mut assertions = Vec::new();
    register.for_each_current_assertion(|a| assertions.push(a)).unwrap();
    assert_eq!(assertions[0].value_text.as_deref(), Some("Иванов И."));
    assert_eq!(register.current_rejects().unwrap()[0].row, Some(3));
    assert_eq!(register.current_diagnostics().unwrap()[0].expected.as_deref(), Some("a date"));
}

#[test]
fn every_prefix_of_the_migrations_upgrades_to_the_latest() {
    for applied in 0..=schema::MIGRATIONS.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(store::REGISTER_FILE);
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for migration in &schema::MIGRATIONS[..applied] {
                conn.execute_batch(migration.sql).unwrap();
            }
            conn.pragma_update(None, "user_version", applied as u32).unwrap();
        }
        let register = Register::open(&path).unwrap();
        assert_eq!(register.schema_version().unwrap(), schema::latest_version(), "from version {applied}");
    }
}

#[test]
fn a_register_from_a_newer_kartoteka_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(store::REGISTER_FILE);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", schema::latest_version() + 1).unwrap();
    }
    match Register::open(&path) {
        Err(StoreError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (schema::latest_version() + 1, schema::latest_version()))
        }
        other => panic!("expected NewerSchema, got {:?}", other.err()),
    }
}
