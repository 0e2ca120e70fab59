//! A malformed manifest gets an error that names the key; a good one validates into typed specs.

use expect_test::{Expect, expect};
use ingest::{DateEncoding, Format, Manifest, SourceKind};
use model::{EventKind, EventPart, Field};

fn check(manifest: &str, expect: Expect) {
    let shown = match Manifest::parse(manifest) {
        Ok(m) => format!("ok: {} sources", m.sources.len()),
        Err(e) => e.to_string(),
    };
    expect.assert_eq(&shown);
}

const GOOD: &str = r#"
[[sources]]
id = "a"
file = "a.csv"

[[sources]]
id = "b"
file = "b.csv"
"#;

#[test]
fn errors_name_the_key() {
    check(GOOD, expect!["ok: 2 sources"]);
    check(
        &format!("{GOOD}\n[[sources]]\nid = \"c\"\nfile = \"c.csv\"\ncolumns.arrest = \"arestt\"\n"),
        expect![[r#"kartoteka.toml: sources[2].columns.arrest: unknown field "arestt""#]],
    );
    check(
        "[[sources]]\nid = \"a\"\nfile = \"a.csv\"\ncolumns.\"Дата ареста\" = { field = \"arrest\", calendar = \"mayan\" }\n",
        expect![[
            r#"kartoteka.toml: sources[0].columns."Дата ареста".calendar: expected "gregorian" or "julian", found "mayan""#
        ]],
    );
    check(
        "[[sources]]\nid = \"a\"\nfile = \"a.csv\"\ncolumns.x = { field = \"surname\", fiel = 1 }\n",
        expect![
            "kartoteka.toml: sources[0].columns.x: unknown field `fiel`, expected one of `field`, `values`, `vocabulary`, `sensitive`, `day_first`, `two_digit_base`, `two_digit_pivot`, `calendar`, `packed`"
        ],
    );
    check(
        "[[sources]]\nid = \"a\"\nfile = \"a.csv\"\ncolumns.x = { field = \"surname\", packed = true }\n",
        expect!["kartoteka.toml: sources[0].columns.x.packed: packed dates need a date field, and surname is not one"],
    );
    check(
        "[[sources]]\nid = \"a\"\nfile = \"a.csv\"\ncolumns.x = { field = \"sentence.detail\", vocabulary = \"nope\" }\n",
        expect!["kartoteka.toml: sources[0].columns.x.vocabulary: no [vocabularies.nope] table"],
    );
    check(
        "[[sources]]\nid = \"a\"\nfiles = [\"a.csv\", \"b.csv\"]\n[[sources.installments]]\nid = \"2\"\nfile = \"a.csv\"\n",
        expect![[r#"kartoteka.toml: sources[0].installments[0].file: "a.csv" is already a file of this source (sources[0].files[0])"#]],
    );
    check(
        "[[sources]]\nid = \"a\"\nkind = \"tabloid\"\nfile = \"a.csv\"\n",
        expect![
            "kartoteka.toml: sources[0].kind: unknown source kind \"tabloid\" (expected one of official, samizdat, emigre_press, archive, book_of_memory, press, testimony, other)"
        ],
    );
    check(
        "[[sources]]\nid = \"a\"\ndate = \"весна 193?\"\nfile = \"a.csv\"\n",
        expect![[r#"kartoteka.toml: sources[0].date: expected a date, found "весна 193?""#]],
    );
    check(
        "[[sources]]\nid = \"a\"\nfile = \"a.doc\"\n",
        expect![[
            r#"kartoteka.toml: sources[0].file: cannot tell the format of "a.doc" from its extension; set `format`"#
        ]],
    );
    check(
        "[[sources]]\nid = \"a\"\n",
        expect!["kartoteka.toml: sources[0]: a source needs `file`, `files` or `installments`"],
    );
    check(
        "[[sources]]\nid = \"a\"\n[[sources.installments]]\nid = \"1\"\ndate = \"1977-13\"\nfile = \"a.csv\"\n",
        expect![[r#"kartoteka.toml: sources[0].installments[0].date: expected a date, found "1977-13""#]],
    );
    check(
        &format!("{GOOD}\n[[sources]]\nid = \"a\"\nfile = \"x.csv\"\n"),
        expect![[r#"kartoteka.toml: sources[2].id: duplicate source id "a""#]],
    );
    check(
        "[[sources]]\nid = \"a\"\nfile = \"a.csv\"\ndelimiter = \";;\"\n",
        expect![[r#"kartoteka.toml: sources[0].delimiter: expected one ASCII character (or "tab"), found ";;""#]],
    );
    check(
        "[[sources]]\nid = \"a\"\nfile = \"a.xlsx\"\nsheet = 0\n",
        expect!["kartoteka.toml: sources[0].sheet: expected a sheet name or a 1-based number, found 0"],
    );
    check(
        "titel = \"x\"\n",
        expect![[r#"kartoteka.toml: titel: unknown key (a string here; other stages' sections are tables)"#]],
    );
    check(
        "[[sources]]\nid = \"a\"\nfile = \"a.csv\"\nencodng = \"cp1251\"\n",
        expect![[r#"
            kartoteka.toml: TOML parse error at line 4, column 1
              |
            4 | encodng = "cp1251"
              | ^^^^^^^
            unknown field `encodng`, expected one of `id`, `title`, `kind`, `date`, `notes`, `file`, `files`, `installments`, `format`, `encoding`, `delimiter`, `sheet`, `header_row`, `page_column`, `missing`, `sensitive`, `dates`, `columns`
        "#]],
    );
}

#[test]
fn a_full_source_validates_into_typed_specs() {
    let manifest = Manifest::parse(
        r#"
title = "Defectors"

[vocabularies.sentences]
"ВМН" = "death"

[link]
threshold = 0.9

[[sources]]
id = "kgb-list"
title = "KGB list of defectors"
kind = "emigre_press"
encoding = "cp1251"
delimiter = ";"
missing = ["нет данных"]
sensitive = true

[sources.dates]
two_digit_pivot = 30
calendar = "julian"

[[sources.installments]]
id = "1977-03"
date = "03.1977"
file = "kgb/part1.txt"

[[sources.installments]]
id = "1977-04"
date = "апрель 1977"
files = ["kgb/part2.txt", "kgb/part2b.txt"]

[sources.columns]
"Фамилия" = "surname"
"Пол" = { field = "sex", values = { "муж." = "m" } }
"Приговор" = { field = "sentence.detail", vocabulary = "sentences", values = { "расстрел" = "death" } }
"Реабилитирован" = { field = "rehabilitation", packed = true, calendar = "gregorian" }
"#,
    )
    .unwrap();
    assert_eq!(manifest.title.as_deref(), Some("Defectors"));
    assert!(manifest.sections.contains_key("link"));
    let source = &manifest.sources[0];
    assert_eq!(source.kind, SourceKind::EmigrePress);
    assert!(source.sensitive && source.missing.contains("нет данных"));
    let files: Vec<(&str, Option<&str>, Format)> =
        source.files.iter().map(|f| (f.path.as_str(), f.installment.as_deref(), f.format)).collect();
    assert_eq!(
        files,
        [
            ("kgb/part1.txt", Some("1977-03"), Format::Csv),
            ("kgb/part2.txt", Some("1977-04"), Format::Csv),
            ("kgb/part2b.txt", Some("1977-04"), Format::Csv)
        ]
    );
    assert!(source.files.iter().all(|f| f.delimiter == Some(b';') && f.encoding == Some(ingest::Encoding::Cp1251)));
    // Dates in the manifest itself are ours, on the Gregorian calendar, whatever the source writes.
    assert_eq!(source.installments[1].date.unwrap().to_string(), "1977-04");
    let sentence = source.column("Приговор").unwrap();
    assert_eq!(sentence.field, Field::Event(EventKind::Sentence, EventPart::Detail));
    assert_eq!(
        (sentence.vocabulary.lookup("вмн"), sentence.vocabulary.lookup("Расстрел")),
        (Some("death"), Some("death"))
    );
    assert!(sentence.sensitive);
    let rehabilitation = source.column("Реабилитирован").unwrap();
    assert_eq!(rehabilitation.date_encoding, DateEncoding::PackedMemorial);
    assert_eq!(rehabilitation.dates.calendar, model::Calendar::Gregorian);
    assert_eq!(source.column("Фамилия").unwrap().dates.calendar, model::Calendar::Julian);
    assert_eq!(source.column("Фамилия").unwrap().dates.two_digit_pivot, Some(30));
}
