//! Each format and encoding, read in memory through a manifest: records, locators, assertions
//! and the diagnostics dirty cells produce.

use expect_test::{Expect, expect};
use ingest::{IngestError, Manifest, SourceSpec, read_file_bytes};
use model::{IngestedRecord, Value};

const COLUMNS: &str = r#"
[sources.columns]
"Фамилия" = "surname"
"Пол" = "sex"
"Арест" = "arrest"
"Приговор" = { field = "sentence.detail", values = { "ВМН" = "death" } }
"#;

fn source(settings: &str) -> SourceSpec {
    Manifest::parse(&format!("[[sources]]\nid = \"s\"\n{settings}\n{COLUMNS}")).unwrap().sources.remove(0)
}

/// Reads bytes as the source's first file; shows records and diagnostics one per line.
fn read(spec: &SourceSpec, bytes: &[u8]) -> Result<(Vec<IngestedRecord>, String), IngestError> {
    let mut records = Vec::new();
    let summary = read_file_bytes(spec, &spec.files[0], bytes, |r| records.push(r))?;
    let mut shown = format!(
        "{:?} encoding={:?} sheet={:?} columns={:?}\n",
        summary.format,
        summary.encoding.map(|e| e.as_str()),
        summary.sheet,
        summary.columns
    );
    assert_eq!(summary.records, records.len() as u64);
    for record in &records {
        let values: Vec<String> =
            record.assertions.iter().map(|a| format!("{}={}", a.field, show_value(&a.value))).collect();
        shown += &format!("row {}: {}\n", record.locator.row, values.join(" "));
    }
    for d in &summary.diagnostics {
        shown += &format!("{d}\n");
    }
    Ok((records, shown))
}

fn show_value(value: &Value) -> String {
    match value {
        Value::Text { text } => text.clone(),
        Value::Sex { sex } => sex.code().to_owned(),
        Value::Event { event } => match (&event.date, &event.detail) {
            (Some(date), _) => date.to_string(),
            (None, Some(detail)) => detail.clone(),
            _ => "?".to_owned(),
        },
        Value::Unparsed { reason } => format!("UNPARSED({reason})"),
        other => format!("{other:?}"),
    }
}

fn check(spec: &SourceSpec, bytes: &[u8], expect: Expect) {
    let shown = match read(spec, bytes) {
        Ok((_, shown)) => shown,
        Err(e) => format!("error: {e}"),
    };
    expect.assert_eq(&shown);
}

const TABLE: &str = "Фамилия;Пол;Арест;Приговор\nИванов;м;27/02/38;ВМН\nПетрова;ж;весна 193?;10 лет\n";

#[test]
fn csv_in_each_encoding() {
    for (name, encoding) in
        [("utf-8", encoding_rs::UTF_8), ("cp1251", encoding_rs::WINDOWS_1251), ("koi8-r", encoding_rs::KOI8_R)]
    {
        let (bytes, _, _) = encoding.encode(TABLE);
        let detected = read(&source("file = \"sources/kgb.csv\""), &bytes).unwrap().1;
        let declared = read(&source(&format!("file = \"sources/kgb.csv\"\nencoding = \"{name}\"")), &bytes).unwrap().1;
        assert!(detected.contains(&format!("encoding=Some({name:?})")), "{name}: {detected}");
        assert!(
            declared.contains("row 2: surname=Иванов sex=m arrest.date=1938-02-27 sentence.detail=death"),
            "{declared}"
        );
        assert_eq!(
            detected.lines().filter(|l| l.starts_with("row")).collect::<Vec<_>>(),
            declared.lines().filter(|l| l.starts_with("row")).collect::<Vec<_>>()
        );
    }
    check(
        &source("file = \"sources/kgb.csv\""),
        &encoding_rs::KOI8_R.encode(TABLE).0,
        expect![[r#"
            Csv encoding=Some("koi8-r") sheet=None columns=["Фамилия", "Пол", "Арест", "Приговор"]
            row 2: surname=Иванов sex=m arrest.date=1938-02-27 sentence.detail=death
            row 3: surname=Петрова sex=f arrest.date=UNPARSED(found "весна 193?") sentence.detail=10 лет
            sources/kgb.csv: encoding detected as koi8-r (set `encoding` to be sure)
            sources/kgb.csv:3: column "Арест": expected a date, found "весна 193?"
        "#]],
    );
}

#[test]
fn declared_utf8_that_is_not_is_an_error_naming_the_file() {
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(TABLE);
    check(
        &source("file = \"sources/kgb.csv\"\nencoding = \"utf-8\""),
        &cp1251,
        expect!["error: sources/kgb.csv:1: not valid utf-8 text, which the manifest declares (leave `encoding` out to detect it)"],
    );
}

#[test]
fn declared_cyrillic_code_page_on_utf8_text_is_an_error_naming_the_line() {
    check(
        &source("file = \"sources/kgb.csv\"\nencoding = \"cp1251\""),
        TABLE.as_bytes(),
        expect![[r#"error: sources/kgb.csv:1: the manifest declares cp1251, but the file is UTF-8 text ("Фамилия;Пол;Арест;Приговор"); set `encoding = "utf-8"` or leave it out"#]],
    );
    // ASCII is the same text in every encoding (this one fails only for its missing columns).
    let ascii = read(&source("file = \"sources/kgb.csv\"\nencoding = \"koi8-r\""), b"a,b\n1,2\n").err().unwrap().to_string();
    assert!(ascii.contains("maps columns the file does not have"), "{ascii}");
}

/// A lone carriage return ends a row for the CSV reader (old Mac files, a stray CR pasted into
/// a cell), so it ends a line too: two rows never share a line number (the register keys
/// records by it).
#[test]
fn a_lone_carriage_return_ends_a_line() {
    check(
        &source("file = \"mac.csv\""),
        "Фамилия,Пол,Арест,Приговор\rИванов,м,1937,\rПетров,м,1938,\r".as_bytes(),
        expect![[r#"
            Csv encoding=Some("utf-8") sheet=None columns=["Фамилия", "Пол", "Арест", "Приговор"]
            row 2: surname=Иванов sex=m arrest.date=1937
            row 3: surname=Петров sex=m arrest.date=1938
        "#]],
    );
    check(
        &source("file = \"stray.csv\""),
        "Фамилия,Пол,Арест,Приговор\r\nИванов,м\r,,1937,\r\nПетров,м,1938,\r\n".as_bytes(),
        expect![[r#"
            Csv encoding=Some("utf-8") sheet=None columns=["Фамилия", "Пол", "Арест", "Приговор"]
            row 2: surname=Иванов sex=m
            row 3: arrest.date=1937
            row 4: surname=Петров sex=m arrest.date=1938
            stray.csv:2: 2 cells, the header has 4
        "#]],
    );
}

#[test]
fn an_empty_file_or_sheet_is_an_error_saying_so() {
    check(
        &source("file = \"list.csv\""),
        b"",
        expect![[r#"error: list.csv: no header row (the file is empty, or shorter than `header_row`), so none of the mapped columns "Арест", "Пол", "Приговор", "Фамилия""#]],
    );
    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook.add_worksheet().set_name("Пусто").unwrap();
    check(
        &source("file = \"list.xlsx\""),
        &workbook.save_to_buffer().unwrap(),
        expect![[r#"error: list.xlsx (sheet "Пусто"): no header row (the file is empty, or shorter than `header_row`), so none of the mapped columns "Арест", "Пол", "Приговор", "Фамилия""#]],
    );
}

#[test]
fn csv_quoting_bom_ragged_rows_and_blanks() {
    let text = "\u{FEFF}Фамилия,Пол,Арест,Приговор,Примечание\n\"Сидоров, Иван\",М,\"15.10.1938\",\"ВМН\",\"две\nстроки\"\nКозлов,-,—,,x,лишняя\n\n,,,,\nОрлов,?,до 1937\n";
    check(
        &source("file = \"list.csv\""),
        text.as_bytes(),
        expect![[r#"
            Csv encoding=Some("utf-8") sheet=None columns=["Фамилия", "Пол", "Арест", "Приговор", "Примечание", "column 6"]
            row 2: surname=Сидоров, Иван sex=m arrest.date=1938-10-15 sentence.detail=death
            row 4: surname=Козлов
            row 7: surname=Орлов arrest.date=<1936-12-31
            list.csv:4: 6 cells, the header has 5
            list.csv:7: 3 cells, the header has 5
        "#]],
    );
}

#[test]
fn tsv_headerless_and_late_header() {
    let text = "Фамилия\tПол\tАрест\tПриговор\nИванов\tм\t1938\tВМН\n";
    check(
        &source("file = \"list.tsv\""),
        text.as_bytes(),
        expect![[r#"
            Tsv encoding=Some("utf-8") sheet=None columns=["Фамилия", "Пол", "Арест", "Приговор"]
            row 2: surname=Иванов sex=m arrest.date=1938 sentence.detail=death
        "#]],
    );
    let with_title = "Список лиц, выехавших за границу\n\nФамилия|Пол|Арест|Приговор\nИванов|м|03.1938|\n";
    check(
        &source("file = \"list.txt\"\nheader_row = 2\ndelimiter = \"|\""),
        with_title.as_bytes(),
        expect![[r#"
            Csv encoding=Some("utf-8") sheet=None columns=["Фамилия", "Пол", "Арест", "Приговор"]
            row 4: surname=Иванов sex=m arrest.date=1938-03
        "#]],
    );
    let headerless = Manifest::parse(
        "[[sources]]\nid = \"s\"\nfile = \"x.csv\"\nheader_row = 0\ncolumns.\"column 2\" = \"surname\"\n",
    )
    .unwrap()
    .sources
    .remove(0);
    check(
        &headerless,
        b"1,Ivanov\n2,Petrov\n",
        expect![[r#"
            Csv encoding=Some("utf-8") sheet=None columns=["column 1", "column 2"]
            row 1: surname=Ivanov
            row 2: surname=Petrov
        "#]],
    );
}

#[test]
fn a_mapped_column_the_file_lacks_is_an_error() {
    check(
        &source("file = \"list.csv\""),
        "Фамилия,Пол\nИванов,м\n".as_bytes(),
        expect![[r#"error: list.csv: the manifest maps columns the file does not have: "Арест", "Приговор" (the file's columns: "Фамилия", "Пол")"#]],
    );
}

#[test]
fn json_lines_keys_are_columns() {
    let text = "{\"Фамилия\": \"Иванов\", \"Пол\": \"м\", \"Арест\": \"1937-1938\", \"Возраст\": 41}\n\n[1, 2]\n{\"Приговор\": \"ВМН\", \"Фамилия\": null, \"Пол\": \"x\"}\n{\"Фамилия\": \"Орлов\"} trailing\n";
    check(
        &source("file = \"list.jsonl\""),
        text.as_bytes(),
        expect![[r#"
            Jsonl encoding=Some("utf-8") sheet=None columns=["Фамилия", "Пол", "Арест", "Возраст", "Приговор"]
            row 1: surname=Иванов sex=m arrest.date=1937-01-01/1938-12-31
            row 4: sentence.detail=death sex=UNPARSED(found "x")
            list.jsonl:3: expected a JSON object, invalid type: sequence, expected a JSON object at line 1 column 0; found "[1, 2]"
            list.jsonl:4: column "Пол": expected a sex (m/f), found "x"
            list.jsonl:5: expected a JSON object, trailing characters at line 1 column 34; found "{\"Фамилия\": \"Орлов\"} trailing"
        "#]],
    );
}

fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    workbook.add_worksheet().set_name("Обложка").unwrap().write_string(0, 0, "title page").unwrap();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Список").unwrap();
    for (col, name) in ["Фамилия", "Пол", "Арест", "Приговор"].iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    let date = Format::new().set_num_format("dd.mm.yyyy");
    sheet.write_string(1, 0, "Иванов").unwrap();
    sheet.write_string(1, 1, "м").unwrap();
    sheet.write_datetime_with_format(1, 2, ExcelDateTime::from_ymd(1938, 2, 27).unwrap(), &date).unwrap();
    sheet.write_string(1, 3, "ВМН").unwrap();
    // Row 3 left empty; row 4 has a year as a number and no sentence.
    sheet.write_string(3, 0, "Петрова").unwrap();
    sheet.write_number(3, 2, 1937.0).unwrap();
    sheet.write_string(4, 0, "Орлов").unwrap();
    sheet.write_number(4, 2, 12345.25).unwrap();
    workbook.save_to_buffer().unwrap()
}

#[test]
fn xlsx_chosen_sheet_dates_and_numbers() {
    let bytes = workbook();
    check(
        &source("file = \"list.xlsx\"\nsheet = \"Список\""),
        &bytes,
        expect![[r#"
            Xlsx encoding=None sheet=Some("Список") columns=["Фамилия", "Пол", "Арест", "Приговор"]
            row 2: surname=Иванов sex=m arrest.date=1938-02-27 sentence.detail=death
            row 4: surname=Петрова arrest.date=1937
            row 5: surname=Орлов arrest.date=UNPARSED(found "12345.25")
            list.xlsx[Список]:5: column "Арест": expected a date, found "12345.25"
        "#]],
    );
    let by_index = read(&source("file = \"list.xlsx\"\nsheet = 2"), &bytes).unwrap().1;
    assert!(by_index.starts_with("Xlsx encoding=None sheet=Some(\"Список\")"));
    check(
        &source("file = \"list.xlsx\"\nsheet = \"Лист1\""),
        &bytes,
        expect![[r#"error: list.xlsx: no sheet "Лист1" (the workbook has ["Обложка", "Список"])"#]],
    );
    check(
        &source("file = \"list.xlsx\""),
        b"not a zip",
        expect!["error: list.xlsx: not an XLSX workbook: Zip error: invalid Zip archive: Could not find EOCD"],
    );
}

#[test]
fn locators_carry_source_file_hash_installment_and_page() {
    let spec = Manifest::parse(
        "[[sources]]\nid = \"kgb\"\npage_column = \"стр\"\n[[sources.installments]]\nid = \"1977-03\"\nfile = \"kgb/1.csv\"\n[sources.columns]\n\"Фамилия\" = \"surname\"\n",
    )
    .unwrap()
    .sources
    .remove(0);
    let bytes = "стр,Фамилия\n12,Иванов\n".as_bytes();
    let (records, _) = read(&spec, bytes).unwrap();
    let locator = &records[0].locator;
    assert_eq!(
        (locator.source.as_str(), &*locator.file, locator.installment.as_deref(), locator.page.as_deref(), locator.row),
        ("kgb", "kgb/1.csv", Some("1977-03"), Some("12"), 2)
    );
    assert_eq!(&*locator.file_sha256, "822ced575ec0daeb851c90962aca7303dca87bd5fafadc24eb52db85d7ee561a");
    assert_eq!(records[0].cell("стр"), Some("12"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Any bytes, read as CSV or JSON Lines, give records and diagnostics or an error; never a panic.
    #[test]
    fn reading_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let headerless = Manifest::parse(
            "[[sources]]\nid = \"s\"\nfile = \"x.csv\"\nheader_row = 0\ncolumns.\"column 1\" = \"arrest\"\ncolumns.\"column 2\" = \"sex\"\n",
        )
        .unwrap()
        .sources
        .remove(0);
        for spec in [headerless, source("file = \"x.jsonl\""), source("file = \"x.xlsx\"")] {
            let _ = read_file_bytes(&spec, &spec.files[0], &bytes, |r| assert!(r.locator.row >= 1));
        }
    }

    /// Text made of CSV's own punctuation and Cyrillic, in each encoding, never panics either.
    #[test]
    fn delimited_text_never_panics(text in "[a-cя\",;\t\r\n -]{0,200}", koi8: bool) {
        let spec = Manifest::parse("[[sources]]\nid = \"s\"\nfile = \"x.csv\"\ncolumns.\"я\" = \"birth_date\"\n")
            .unwrap()
            .sources
            .remove(0);
        let bytes = if koi8 { encoding_rs::KOI8_R.encode(&text).0.into_owned() } else { text.into_bytes() };
        let _ = read_file_bytes(&spec, &spec.files[0], &bytes, |_| {});
    }
}

#[test]
fn a_project_on_disk_reads_source_by_source() {
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir(project.path().join("lists")).unwrap();
    std::fs::write(project.path().join("lists/a.csv"), "Фамилия;Пол;Арест;Приговор\nИванов;м;1937;ВМН\n").unwrap();
    let manifest = "[[sources]]\nid = \"a\"\nfiles = [\"lists/a.csv\", \"lists/missing.csv\"]\n";
    std::fs::write(project.path().join("kartoteka.toml"), format!("{manifest}{COLUMNS}")).unwrap();
    let manifest = Manifest::load(project.path()).unwrap();
    let spec = &manifest.sources[0];
    let (sha, bytes) = ingest::hash_file(project.path(), &spec.files[0]).unwrap();
    assert_eq!((sha.len(), bytes), (64, "Фамилия;Пол;Арест;Приговор\nИванов;м;1937;ВМН\n".len() as u64));
    let error = ingest::read_source(project.path(), spec).unwrap_err();
    assert!(error.to_string().starts_with("lists/missing.csv: cannot read the file: "), "{error}");
    let only_first = ingest::SourceSpec { files: spec.files[..1].to_vec(), ..spec.clone() };
    let read = ingest::read_source(project.path(), &only_first).unwrap();
    assert_eq!((read.records().count(), read.diagnostics().count()), (1, 0));
    assert_eq!(read.files[0].summary.sha256.as_ref(), sha);
}
