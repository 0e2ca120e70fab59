//! Load test of the web app's search: a register of N simulated persons (default 1,000,000, one
//! record each, names in Cyrillic and in several Latin transliterations), served on loopback,
//! queried by C concurrent keep-alive clients (default 50) with names in the other script or
//! with initials, bounded by a request count (default 20,000) and a time limit (60 s). Prints
//! latency percentiles, throughput and errors.
//!
//! `cargo bench -p web --bench load -- [persons] [clients] [requests] [lists]`
//!
//! Building a 1M register takes minutes: with `KARTOTEKA_LOAD_DIR=DIR` the register is built in
//! DIR once (with its queries in `DIR/queries.txt`) and reused by later runs of the same size.

use model::{Assertion, Cell, Field, IngestedRecord, RecordLocator, SourceId, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::io::{Read, Write};
use std::net::TcpStream;

fn arg(n: usize, default: usize) -> usize {
    std::env::args().filter(|a| !a.starts_with('-')).nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

/// Writes the simulated records into a register through the store, and their persons.
fn build_register(dir: &std::path::Path, persons: usize, lists: usize) -> (Vec<String>, usize, usize) {
    let simulated = link::simulate::simulate(persons, lists, 7);
    let distinct: std::collections::HashSet<&String> = simulated.truth.iter().map(|(_, p)| p).collect();
    let (record_count, person_count) = (simulated.records.len(), distinct.len());
    let source = SourceId::new("simulated");
    let file: Arc<str> = Arc::from("simulated.csv");
    let sha: Arc<str> = Arc::from("0".repeat(64));
    let mut queries = Vec::new();
    let records: Vec<IngestedRecord> = simulated
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut assertions = Vec::new();
            let mut cells = Vec::new();
            let mut text = |field: Field, column: &str, value: &Option<String>| {
                if let Some(v) = value {
                    cells.push(Cell { column: Arc::from(column), raw: v.clone() });
                    assertions.push(Assertion { field, column: Arc::from(column), raw: v.clone(), value: Value::Text { text: v.clone() } });
                }
            };
            text(Field::Surname, "surname", &r.surname);
            text(Field::GivenName, "given_name", &r.given_name);
            text(Field::Patronymic, "patronymic", &r.patronymic);
            text(Field::BirthPlace, "birth_place", &r.birth_place);
            if let Some(date) = r.birth_date {
                let raw = date.earliest().year().to_string();
                cells.push(Cell { column: Arc::from("birth_date"), raw: raw.clone() });
                assertions.push(Assertion { field: Field::BirthDate, column: Arc::from("birth_date"), raw, value: Value::Date { date } });
            }
            // Every 50th record gives a query: its surname in another script, or with initials.
            if i % 50 == 0
                && let Some(surname) = &r.surname
            {
                let other = if surname.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)) {
                    names::translit(surname, names::System::BgnPcgn)
                } else {
                    names::back_translit(surname).into_iter().next().unwrap_or_else(|| surname.clone())
                };
                let initial = r.given_name.as_deref().and_then(|g| g.chars().next()).map(|c| format!(" {c}.")).unwrap_or_default();
                queries.push(if i % 100 == 0 { other } else { format!("{surname}{initial}") });
            }
            IngestedRecord {
                locator: RecordLocator { source: source.clone(), file: file.clone(), file_sha256: sha.clone(), sheet: None, row: i as u64 + 2, installment: None, page: None },
                cells,
                assertions,
            }
        })
        .collect();
    let mut register = store::Register::open_in(dir).unwrap();
    let entry = store::SourceEntry { id: &source, title: "Simulated register", kind: "other", manifest_json: "{}" };
    let files = [store::FileVersion { path: "simulated.csv", sha256: &sha, bytes: 0, records: &records, diagnostics: &[] }];
    register.ingest_source(&entry, &files, store::Policy::Lenient, "2024-01-01T00:00:00Z", &mut |_| {}).unwrap();
    drop(register);
    // The persons are the simulation's truth (linkage has its own benchmark).
    let mut conn = rusqlite::Connection::open(dir.join(store::REGISTER_FILE)).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut insert = tx.prepare("INSERT INTO person_records (record_key, person_id) VALUES (?1, ?2)").unwrap();
        for (i, (_, person)) in simulated.truth.iter().enumerate() {
            insert.execute(rusqlite::params![format!("simulated:simulated.csv:{}", i + 2), person]).unwrap();
        }
        tx.execute("INSERT INTO link_runs (ran_at, records, persons, pairs, decisions, events_json) VALUES ('bench', ?1, ?1, 0, 0, '[]')", [persons as i64]).unwrap();
    }
    tx.commit().unwrap();
    (queries, record_count, person_count)
}

/// CPU seconds (user + system) used so far by `/proc/<what>/stat`'s process or thread.
fn cpu_seconds(what: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{what}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The process's resident anonymous memory (`RssAnon`: its heap, not the register's pages it
/// maps), in KiB.
fn anonymous_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("RssAnon:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

fn get(stream: &mut TcpStream, path: &str, cookie: &str, buffer: &mut Vec<u8>) -> std::io::Result<u16> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    buffer.clear();
    let mut chunk = [0u8; 16384];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed"));
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return Ok(head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0));
            }
        }
    }
}

fn main() {
    let (persons, clients, requests, lists) = (arg(1, 1_000_000), arg(2, 50), arg(3, 20_000), arg(4, 4));
    let temporary = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("KARTOTEKA_LOAD_DIR").map(|d| std::path::PathBuf::from(d).join(format!("{persons}-{lists}")));
    let dir = kept.clone().unwrap_or_else(|| temporary.path().to_owned());
    let started = Instant::now();
    let (queries, record_count, person_count) = match kept.as_ref().map(|d| d.join("queries.txt")).filter(|q| q.is_file()) {
        Some(saved) => {
            let text = std::fs::read_to_string(&saved).unwrap();
            let mut lines = text.lines();
            let counts: Vec<usize> = lines.next().unwrap().split(' ').map(|n| n.parse().unwrap()).collect();
            (lines.map(str::to_owned).collect(), counts[0], counts[1])
        }
        None => {
            std::fs::create_dir_all(&dir).unwrap();
            let built = build_register(&dir, persons, lists);
            if kept.is_some() {
                std::fs::write(dir.join("queries.txt"), format!("{} {}\n{}\n", built.1, built.2, built.0.join("\n"))).unwrap();
            }
            built
        }
    };
    let built = started.elapsed();
    let started = Instant::now();
    let state = web::open(web::Config::new(&dir)).unwrap();
    let indexed = started.elapsed();
    state.db.write_blocking(|conn| web::auth::add_user(conn, "bench", web::Role::Viewer, "bench-password")).unwrap();
    let token = state.db.write_blocking(|conn| web::auth::open_session(conn, "bench")).unwrap();
    let cookie = format!("{}={token}", web::auth::SESSION_COOKIE);
    let paths: Arc<Vec<String>> = Arc::new(queries.iter().map(|q| format!("/api/search?q={}", web_url(q))).collect());
    // The server gets its own runtime; the clients are plain threads with keep-alive connections.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(async move { axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), web::router(state)).await.unwrap() });
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let per_client = requests.div_ceil(clients);
    let started = Instant::now();
    let cpu_before = cpu_seconds("self");
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (paths, cookie) = (paths.clone(), cookie.clone());
            std::thread::spawn(move || {
                let connect = || {
                    let stream = TcpStream::connect(addr).unwrap();
                    stream.set_nodelay(true).unwrap();
                    stream
                };
                let mut stream = connect();
                let (mut latencies, mut errors, mut buffer) = (Vec::with_capacity(per_client), 0usize, Vec::new());
                for k in 0..per_client {
                    if Instant::now() > deadline {
                        break;
                    }
                    let path = &paths[(c * 7919 + k * 104_729) % paths.len()];
                    let t = Instant::now();
                    match get(&mut stream, path, &cookie, &mut buffer) {
                        Ok(200) => latencies.push(t.elapsed()),
                        _ => {
                            errors += 1;
                            stream = connect();
                        }
                    }
                }
                (latencies, errors, cpu_seconds("thread-self"))
            })
        })
        .collect();
    let (mut latencies, mut errors, mut client_cpu) = (Vec::new(), 0, 0.0);
    for task in tasks {
        let (l, e, cpu) = task.join().unwrap();
        latencies.extend(l);
        errors += e;
        client_cpu += cpu;
    }
    let wall = started.elapsed();
    let server_cpu = cpu_seconds("self") - cpu_before - client_cpu;
    let mut sorted = latencies;
    sorted.sort();
    let pct = |p: f64| sorted.get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
    println!(
        "simulated persons: {persons} over {lists} lists; register: {record_count} records of {person_count} persons; distinct queries: {}; clients: {clients}",
        queries.len()
    );
    println!(
        "register built (simulate + ingest + persons): {:.1} s; web app opened (search index, prepared names): {:.1} s",
        built.as_secs_f64(),
        indexed.as_secs_f64()
    );
    println!(
        "requests: {} ok, {errors} errors in {:.1} s ({:.0} requests/s)",
        sorted.len(),
        wall.as_secs_f64(),
        sorted.len() as f64 / wall.as_secs_f64()
    );
    println!("latency ms: p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}", pct(0.5), pct(0.9), pct(0.99), pct(1.0));
    println!("anonymous memory of the process after the run (RssAnon): {} MiB", anonymous_rss_kib() / 1024);
    let per_request = |cpu: f64| cpu * 1000.0 / sorted.len().max(1) as f64;
    println!(
        "CPU: server {server_cpu:.1} s ({:.2} ms per request), clients {client_cpu:.1} s ({:.2} ms per request), over {:.1} s of wall time",
        per_request(server_cpu),
        per_request(client_cpu),
        wall.as_secs_f64()
    );
}

fn web_url(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
