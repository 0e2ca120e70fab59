//! Fuzzes delimited-text ingest: arbitrary bytes through encoding detection, delimiter sniffing,
//! CSV splitting and column mapping (dates, sex, numbers, flags) must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn source() -> &'static ingest::SourceSpec {
    static SPEC: OnceLock<ingest::SourceSpec> = OnceLock::new();
    SPEC.get_or_init(|| {
        ingest::Manifest::parse(
            r#"
[[sources]]
id = "fuzz"
file = "fuzz.csv"
header_row = 0
page_column = "column 6"
[sources.columns]
"column 1" = "arrest.date"
"column 2" = "sex"
"column 3" = "age"
"column 4" = { field = "rehabilitation.date", packed = true }
"column 5" = { field = "execution.occurred", values = { "ВМН" = "true" } }
"#,
        )
        .expect("the fuzz manifest is valid")
        .sources
        .remove(0)
    })
}

fuzz_target!(|data: &[u8]| {
    let spec = source();
    let _ = ingest::read_file_bytes(spec, &spec.files[0], data, |record| {
        assert!(record.locator.row >= 1);
    });
});
