//! Ingest throughput: generates a 1M-row CSV and a large XLSX list into a temporary folder and
//! reads them through a manifest (decode, parse, map, dates), reporting records/s and MB/s.
//! Python's csv module reads the same CSV as a peer baseline (splitting only) when python3 exists.
//!
//! `cargo bench -p ingest --bench ingest` (optional args: CSV rows, XLSX rows).

use ingest::{Manifest, read_file_with};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const SURNAMES: [&str; 8] = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Лебедев", "Козлов", "Новиков", "Морозов"];
const GIVEN: [&str; 6] = ["Иван", "Пётр", "Анна", "Мария", "Николай", "Фёдор"];
const PATRONYMICS: [&str; 5] = ["Иванович", "Петрович", "Ивановна", "Сергеевич", "Николаевна"];
const SENTENCES: [&str; 4] = ["ВМН", "10 лет", "8 лет", "освобожден"];
const PLACES: [&str; 4] =
    ["г. Горького", "Саратовская обл., с. Богородское", "г. Риги", "АССР Немцев Поволжья, с. Норки"];

const MANIFEST: &str = r#"
[[sources]]
id = "generated"
file = "FILE"
[sources.columns]
id = "source_record_id"
surname = "surname"
given = "given_name"
patronymic = "patronymic"
sex = "sex"
born = "birth_date"
birthplace = "birth_place"
arrest = "arrest.date"
sentence = { field = "sentence.detail", values = { "ВМН" = "death" } }
rehabilitation = { field = "rehabilitation.date", packed = true }
"#;

const HEADER: [&str; 10] =
    ["id", "surname", "given", "patronymic", "sex", "born", "birthplace", "arrest", "sentence", "rehabilitation"];

/// The row `i` of the generated list: a mix of the date forms real lists use.
fn row(i: usize) -> [String; 10] {
    let arrest = match i % 4 {
        0 => format!("{:02}/{:02}/3{}", i % 28 + 1, i % 12 + 1, 7 + i % 2),
        1 => format!("{:02}.{:02}.193{}", i % 28 + 1, i % 12 + 1, i % 10),
        2 => format!("193{}", i % 10),
        _ => format!("март 193{}", i % 10),
    };
    let packed = if i.is_multiple_of(3) { 0 } else { ((150 + i % 40) << 9) | ((i % 12 + 1) << 5) | (i % 28 + 1) };
    [
        (100_000 + i).to_string(),
        SURNAMES[i % SURNAMES.len()].to_owned(),
        GIVEN[i % GIVEN.len()].to_owned(),
        PATRONYMICS[i % PATRONYMICS.len()].to_owned(),
        if i.is_multiple_of(7) { "ж" } else { "м" }.to_owned(),
        (1870 + i % 50).to_string(),
        PLACES[i % PLACES.len()].to_owned(),
        arrest,
        SENTENCES[i % SENTENCES.len()].to_owned(),
        packed.to_string(),
    ]
}

fn write_csv(path: &Path, rows: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "{}", HEADER.join(",")).unwrap();
    for i in 0..rows {
        let cells = row(i);
        let quoted: Vec<String> =
            cells.iter().map(|c| if c.contains(',') { format!("\"{c}\"") } else { c.clone() }).collect();
        writeln!(out, "{}", quoted.join(",")).unwrap();
    }
}

fn write_xlsx(path: &Path, rows: usize) {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory();
    for (col, name) in HEADER.iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    for i in 0..rows {
        for (col, cell) in row(i).iter().enumerate() {
            let r = i as u32 + 1;
            match cell.parse::<f64>() {
                Ok(number) => sheet.write_number(r, col as u16, number).unwrap(),
                Err(_) => sheet.write_string(r, col as u16, cell).unwrap(),
            };
        }
    }
    workbook.save(path).unwrap();
}

/// CPU time this thread has run, in seconds (Linux); the machine is shared, so wall time alone
/// understates the code's speed when other jobs compete for the two cores.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e9)
}

/// Reads the file through the manifest; returns (records, assertions, wall seconds, CPU seconds).
fn ingest(dir: &Path, file: &str) -> (u64, u64, f64, f64) {
    let manifest = Manifest::parse(&MANIFEST.replace("FILE", file)).unwrap();
    let spec = &manifest.sources[0];
    let mut assertions = 0u64;
    let (start, cpu_start) = (Instant::now(), thread_cpu_seconds());
    let summary =
        read_file_with(dir, spec, &spec.files[0], |record| assertions += record.assertions.len() as u64).unwrap();
    let (seconds, cpu) = (start.elapsed().as_secs_f64(), thread_cpu_seconds() - cpu_start);
    assert!(summary.diagnostics.is_empty(), "{:?}", &summary.diagnostics[..summary.diagnostics.len().min(3)]);
    (summary.records, assertions, seconds, cpu)
}

fn report(label: &str, bytes: u64, records: u64, assertions: u64, seconds: f64) {
    println!(
        "{label}: {records} records, {assertions} assertions, {:.1} MB in {seconds:.2} s: {:.0} records/s, {:.1} MB/s",
        bytes as f64 / 1e6,
        records as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );
}

fn report_cpu(label: &str, bytes: u64, records: u64, cpu: f64) {
    println!(
        "{label} (CPU time {cpu:.2} s): {:.0} records/s, {:.1} MB/s per CPU-second",
        records as f64 / cpu,
        bytes as f64 / 1e6 / cpu
    );
}

/// Python's csv module splitting the same file into rows (no decoding of values): a floor for
/// what a scripted ingest costs.
fn python_peer(path: &Path, bytes: u64) {
    let script = "import csv,sys,time\nt=time.perf_counter()\nc=time.thread_time()\nn=0\nwith open(sys.argv[1],encoding='utf-8',newline='') as f:\n    r=csv.reader(f)\n    next(r)\n    for row in r: n+=1\nprint(n, time.perf_counter()-t, time.thread_time()-c)";
    let Ok(output) = std::process::Command::new("python3").arg("-c").arg(script).arg(path).output() else {
        println!("python3 csv peer: python3 not available");
        return;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    let rows = parts.next().and_then(|p| p.parse::<u64>().ok());
    let seconds = parts.next().and_then(|p| p.parse::<f64>().ok());
    let cpu = parts.next().and_then(|p| p.parse::<f64>().ok());
    if let (Some(rows), Some(seconds), Some(cpu)) = (rows, seconds, cpu) {
        report("python3 csv.reader (peer, split only)", bytes, rows, 0, seconds);
        report_cpu("python3 csv.reader (peer, split only)", bytes, rows, cpu);
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let csv_rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let xlsx_rows: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();

    let start = Instant::now();
    write_csv(&dir.path().join("list.csv"), csv_rows);
    println!("generated {csv_rows}-row CSV in {:.1} s", start.elapsed().as_secs_f64());
    let csv_bytes = std::fs::metadata(dir.path().join("list.csv")).unwrap().len();
    let (records, assertions, seconds, cpu) = ingest(dir.path(), "list.csv");
    assert_eq!(records, csv_rows as u64);
    report("kartoteka ingest CSV", csv_bytes, records, assertions, seconds);
    report_cpu("kartoteka ingest CSV", csv_bytes, records, cpu);
    python_peer(&dir.path().join("list.csv"), csv_bytes);

    let start = Instant::now();
    write_xlsx(&dir.path().join("list.xlsx"), xlsx_rows);
    println!("generated {xlsx_rows}-row XLSX in {:.1} s", start.elapsed().as_secs_f64());
    let xlsx_bytes = std::fs::metadata(dir.path().join("list.xlsx")).unwrap().len();
    let (records, assertions, seconds, cpu) = ingest(dir.path(), "list.xlsx");
    assert_eq!(records, xlsx_rows as u64);
    report("kartoteka ingest XLSX", xlsx_bytes, records, assertions, seconds);
    report_cpu("kartoteka ingest XLSX", xlsx_bytes, records, cpu);
}
