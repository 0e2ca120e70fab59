//! Where a key of the manifest is written: errors about a declaration name the file and line a
//! historian opens, not only the dotted key (`analyses[3].fields`) they would have to count to.

use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// `DIR/kartoteka.toml:LINE: KEY: MESSAGE`, the line being where `key` is written (or, when the
/// key itself is absent, as for a required key, where the nearest enclosing part of it is).
/// Without a line (the text does not parse) it is `DIR/kartoteka.toml: KEY: MESSAGE`.
pub fn manifest_error(dir: &Path, text: &str, key: &str, message: &str) -> String {
    let path = dir.join("kartoteka.toml");
    let at = line_of(text, key).map_or_else(String::new, |line| format!(":{line}"));
    if key.is_empty() {
        format!("{}{at}: {message}", path.display())
    } else {
        format!("{}{at}: {key}: {message}", path.display())
    }
}

/// The 1-based line where the dotted key (`cohorts[0].where.arrest.date`, `analyses[2].eras[1].from`)
/// is written, or of the nearest enclosing table that is.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    let root = DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut rest = key;
    let mut found = None;
    loop {
        // Field names hold dots (`arrest.date`): take the longest key of the table that `rest`
        // starts with, followed by its end, a dot or an index.
        let Some((name, value)) = table
            .iter()
            .filter(|(k, _)| rest.strip_prefix(k.get_ref().as_ref()).is_some_and(|after| after.is_empty() || after.starts_with(['.', '['])))
            .max_by_key(|(k, _)| k.get_ref().len())
        else {
            return found;
        };
        found = Some(line(text, name));
        rest = &rest[name.get_ref().len()..];
        let mut value: &Spanned<DeValue> = value;
        while let Some(indexed) = rest.strip_prefix('[') {
            let Some((Ok(index), after)) = indexed.split_once(']').map(|(i, after)| (i.parse::<usize>(), after)) else { return found };
            rest = after;
            match value.get_ref() {
                DeValue::Array(items) => {
                    let Some(item) = items.get(index) else { return found };
                    value = item;
                    found = Some(line(text, value));
                }
                // `held_post = { ... }` stands for a list of one.
                DeValue::Table(_) if index == 0 => {}
                _ => return found,
            }
        }
        match (rest.strip_prefix('.'), value.get_ref()) {
            (Some(after), DeValue::Table(inner)) => {
                rest = after;
                table = inner;
            }
            _ => return found,
        }
    }
}

fn line<T>(text: &str, at: &Spanned<T>) -> usize {
    text[..at.span().start.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"title = "t"

[[cohorts]]
name = "c"
held_post = { matching = "НКВД", on = "1938" }
where = { "execution.occurred" = "true", sex = "m" }

[[analyses]]
name = "a"
kind = "breakdown"
fields = "sex"

[[analyses]]
name = "b"
kind = "time_series"
field = "arrest.date"
eras = [
    { name = "x", from = "1937", to = "1938" },
    { name = "y", from = "1939", to = "1938" },
]
"#;

    #[test]
    fn keys_are_found_on_their_lines() {
        let lines: Vec<Option<usize>> = [
            "analyses[0].fields",
            "analyses[1].field",
            "analyses[1].eras[1]",
            "analyses[1].eras[1].to",
            "cohorts[0].where.execution.occurred",
            "cohorts[0].where.sex",
            "cohorts[0].held_post[0].on",
            // Absent keys fall back to the nearest part written: a required key to its table.
            "analyses[1].granularity",
            "analyses[7].fields",
            "nothing",
            "",
        ]
        .iter()
        .map(|k| line_of(MANIFEST, k))
        .collect();
        assert_eq!(lines, [Some(11), Some(16), Some(19), Some(19), Some(6), Some(6), Some(5), Some(13), Some(8), None, None]);
    }

    #[test]
    fn the_error_names_file_line_and_key() {
        let dir = Path::new("/projects/terror");
        assert_eq!(
            manifest_error(dir, MANIFEST, "analyses[0].fields", "party is given by no source"),
            "/projects/terror/kartoteka.toml:11: analyses[0].fields: party is given by no source"
        );
        assert_eq!(manifest_error(dir, "not toml [", "analyses[0]", "m"), "/projects/terror/kartoteka.toml: analyses[0]: m");
    }
}
