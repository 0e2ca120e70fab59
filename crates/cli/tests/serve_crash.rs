//! `kartoteka serve` killed with SIGKILL while reviewers' decisions stream in: every decision the
//! server acknowledged (201) is in the register afterwards, and the register opens cleanly.

use model::{Assertion, Cell, Field, IngestedRecord, RecordLocator, SourceId, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KARTOTEKA: &str = env!("CARGO_BIN_EXE_kartoteka");

fn register_with_records(dir: &std::path::Path, count: usize) {
    let source = SourceId::new("list");
    let records: Vec<IngestedRecord> = (0..count)
        .map(|i| {
            let surname = format!("Фамилия{i}");
            IngestedRecord {
                locator: RecordLocator { source: source.clone(), file: "list.csv".into(), file_sha256: "0".repeat(64).into(), sheet: None, row: i as u64 + 2, installment: None, page: None },
                cells: vec![Cell { column: "surname".into(), raw: surname.clone() }],
                assertions: vec![Assertion { field: Field::Surname, column: "surname".into(), raw: surname.clone(), value: Value::Text { text: surname } }],
            }
        })
        .collect();
    let mut register = store::Register::open_in(dir).unwrap();
    let entry = store::SourceEntry { id: &source, title: "A list", kind: "other", manifest_json: "{}" };
    let files = [store::FileVersion { path: "list.csv", sha256: &"0".repeat(64), bytes: 0, records: &records, diagnostics: &[] }];
    register.ingest_source(&entry, &files, store::Policy::Strict, "2024-01-01T00:00:00Z", &mut |_| {}).unwrap();
}

/// POSTs one decision; the status code, or None when the server is gone.
fn post_decision(addr: &str, left: &str, right: &str) -> Option<u16> {
    let body = serde_json::json!({"left": left, "right": right, "action": "reject", "why": "different persons", "version": 0}).to_string();
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    // "ada:password-123"
    let request = format!(
        "POST /api/decisions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic YWRhOnBhc3N3b3JkLTEyMw==\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.get(9..12)?.parse().ok()
}

#[test]
fn every_acknowledged_decision_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    register_with_records(dir.path(), 400);
    let mut add = Command::new(KARTOTEKA)
        .args(["user", "add"])
        .arg(dir.path())
        .args(["--name", "ada", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"password-123\n").unwrap();
    assert!(add.wait().unwrap().success());

    let mut server = Command::new(KARTOTEKA).arg("serve").arg(dir.path()).args(["--addr", "127.0.0.1:0"]).stderr(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(server.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).unwrap_or_else(|| panic!("no address in {line:?}")).trim().trim_end_matches('/').to_owned();

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (addr, acknowledged) = (addr.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                for k in 0..199 {
                    let (l, r) = (format!("list:list.csv:{}", 2 + k), format!("list:list.csv:{}", 2 + k + 1 + w * 50));
                    match post_decision(&addr, &l, &r) {
                        Some(201) => acknowledged.lock().unwrap().push(if l <= r { (l, r) } else { (r, l) }),
                        Some(status) => panic!("unexpected status {status}"),
                        None => return,
                    }
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 40 {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    for w in writers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 40);

    let db = web::Db::open(&dir.path().join("register.sqlite")).expect("the register opens after the kill");
    let check: String = db.read_blocking(|conn| Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)).unwrap();
    assert_eq!(check, "ok");
    for (l, r) in &acknowledged {
        let found: i64 = db
            .read_blocking(|conn| Ok(conn.query_row("SELECT count(*) FROM decisions WHERE record_key_l = ?1 AND record_key_r = ?2", [l, r], |row| row.get(0))?))
            .unwrap();
        assert_eq!(found, 1, "acknowledged decision {l} / {r} lost");
    }
    store::Register::open_in(dir.path()).expect("the register opens after the kill");
}
