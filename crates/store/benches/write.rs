//! Register write throughput: one source of N generated records (10 assertions each) ingested in
//! one transaction, against a floor peer: the same rows inserted by bare prepared statements into
//! two plain tables (no JSON of values, no typed date columns, no unique keys).
//!
//! `cargo bench -p store --bench write` (optional arg: records, default 200,000).

use model::{Assertion, Cell, EventKind, EventPart, Field, IngestedRecord, RecordLocator, SourceId, UncertainDate, Value};
use rusqlite::params;
use std::time::Instant;
use store::{FileVersion, Policy, Register, SourceEntry};

const COLUMNS: [&str; 10] =
    ["id", "surname", "given", "patronymic", "born", "place", "arrest", "trial", "sentence", "note"];

fn record(i: usize) -> IngestedRecord {
    let born = UncertainDate::year(1880 + (i % 60) as i32).expect("valid year");
    let arrest = UncertainDate::month(1937, 1 + (i % 12) as u32).expect("valid month");
    let cells: Vec<Cell> = COLUMNS
        .iter()
        .map(|c| Cell { column: (*c).into(), raw: format!("{c}-{}", i % 997) })
        .collect();
    let text = |field: Field, column: &str, text: String| Assertion {
        field,
        column: column.into(),
        raw: text.clone(),
        value: Value::Text { text },
    };
    let assertions = vec![
        text(Field::SourceRecordId, "id", i.to_string()),
        text(Field::Surname, "surname", format!("Фамилия{}", i % 5000)),
        text(Field::GivenName, "given", format!("Имя{}", i % 300)),
        text(Field::Patronymic, "patronymic", format!("Отчество{}", i % 300)),
        Assertion { field: Field::BirthDate, column: "born".into(), raw: born.to_string(), value: Value::Date { date: born } },
        text(Field::BirthPlace, "place", format!("с. Место{}", i % 2000)),
        Assertion {
            field: Field::Event(EventKind::Arrest, EventPart::Date),
            column: "arrest".into(),
            raw: arrest.to_string(),
            value: Value::Date { date: arrest },
        },
        text(Field::Event(EventKind::Trial, EventPart::Agency), "trial", "НКВД".into()),
        text(Field::Event(EventKind::Sentence, EventPart::Detail), "sentence", "death".into()),
        text(Field::Note, "note", format!("примечание {}", i % 13)),
    ];
    IngestedRecord {
        locator: RecordLocator {
            source: SourceId::new("generated"),
            file: "generated.csv".into(),
            file_sha256: "0".into(),
            sheet: None,
            row: i as u64 + 2,
            installment: None,
            page: None,
        },
        cells,
        assertions,
    }
}

/// This thread's CPU time in seconds (Linux), so a loaded machine does not distort the figure.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|ns| ns.parse::<f64>().ok()))
        .map_or(f64::NAN, |ns| ns / 1e9)
}

fn report(label: &str, n: usize, wall: f64, cpu: f64) {
    println!(
        "{label:<44} {n} records, {} assertions: wall {wall:.2} s ({:.0} records/s), CPU {cpu:.2} s ({:.0} records per CPU-second)",
        n * 10,
        n as f64 / wall,
        n as f64 / cpu
    );
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let records: Vec<IngestedRecord> = (0..n).map(record).collect();
    let dir = tempfile::tempdir().expect("temporary folder");

    let (wall, cpu) = (Instant::now(), thread_cpu_seconds());
    let mut register = Register::open_in(dir.path()).expect("register opens");
    let id = SourceId::new("generated");
    let source = SourceEntry { id: &id, title: "generated", kind: "other", manifest_json: "{}" };
    let file = FileVersion { path: "generated.csv", sha256: "0", bytes: 0, records: &records, diagnostics: &[] };
    register.ingest_source(&source, &[file], Policy::Strict, "2026-01-01T00:00:00Z", &mut |_| {}).expect("ingest");
    drop(register);
    report("kartoteka register (ingest_source)", n, wall.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu);

    let (wall, cpu) = (Instant::now(), thread_cpu_seconds());
    let mut conn = rusqlite::Connection::open(dir.path().join("peer.sqlite")).expect("peer opens");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL").expect("synchronous");
    conn.execute_batch(
        "CREATE TABLE records (id INTEGER PRIMARY KEY, row INTEGER, cells TEXT);
         CREATE TABLE assertions (record INTEGER, field TEXT, raw TEXT, value TEXT);",
    )
    .expect("peer schema");
    let tx = conn.transaction().expect("transaction");
    {
        let mut insert_record = tx.prepare("INSERT INTO records (row, cells) VALUES (?1, ?2)").expect("prepare");
        let mut insert_assertion =
            tx.prepare("INSERT INTO assertions VALUES (?1, ?2, ?3, ?4)").expect("prepare");
        for r in &records {
            insert_record
                .execute(params![r.locator.row as i64, serde_json::to_string(&r.cells).expect("json")])
                .expect("insert");
            let id = tx.last_insert_rowid();
            for a in &r.assertions {
                insert_assertion.execute(params![id, a.field.name(), a.raw, a.raw]).expect("insert");
            }
        }
    }
    tx.commit().expect("commit");
    drop(conn);
    report("peer: bare rusqlite inserts (2 plain tables)", n, wall.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu);
}
