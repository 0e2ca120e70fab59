//! Idempotent normalisation of name text, so that equal names compare equal byte for byte.
//!
//! Policy: Unicode NFKC, a word that mixes Latin and Cyrillic written in one script by its
//! look-alike letters (typists switched layouts and OCR confuses them: "Hиколай" with a Latin H),
//! lower case, `ё` folded to `е` (Russian print drops the dots freely), every apostrophe-like mark
//! (soft/hard sign letters of ISO 9 and ALA-LC, typographic quotes) written `'`, other punctuation
//! turned into spaces, and runs of whitespace collapsed to one space.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Normalises `text` for display and exact comparison. `normalize(normalize(x)) == normalize(x)`.
pub fn normalize(text: &str) -> String {
    normalize_to_fixed_point(text, true)
}

/// The same normalisation keeping `ё`, which the phonetic encoder reads (Ковалёв/Kovalyov).
/// Plain Latin or Russian letters, the common case, skip the Unicode machinery.
pub(crate) fn normalize_keeping_yo(text: &str) -> String {
    // A word mixing the scripts ("Hиколай") needs the look-alike folding, so it is not plain.
    let (mut latin, mut cyrillic) = (false, false);
    let plain = text.chars().all(|c| match c {
        ' ' => true,
        c if c.is_ascii_alphabetic() => {
            latin = true;
            true
        }
        'А'..='я' | 'ё' | 'Ё' => {
            cyrillic = true;
            true
        }
        _ => false,
    });
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    if plain && !(latin && cyrillic) && words.clone().count() <= 1 {
        return words.next().map(|w| w.chars().flat_map(char::to_lowercase).collect()).unwrap_or_default();
    }
    normalize_to_fixed_point(text, false)
}

fn normalize_to_fixed_point(text: &str, fold_yo: bool) -> String {
    let once = normalize_once(text, fold_yo);
    // Lower-casing can, for a few exotic letters, produce text that NFKC changes again; iterate to
    // the fixed point so the function is idempotent for every input.
    let mut current = once;
    for _ in 0..4 {
        let next = normalize_once(&current, fold_yo);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn normalize_once(text: &str, fold_yo: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    // Look-alikes are folded before lower-casing: a Latin capital H looks like Н, a small h not like н.
    // ASCII text is its own NFKC and holds no Cyrillic, so it skips both.
    let unmixed = if text.is_ascii() { Cow::Borrowed(text) } else { Cow::Owned(fold_homoglyphs(text.nfkc().collect())) };
    for c in unmixed.chars().flat_map(char::to_lowercase).nfkc() {
        let mapped = match c {
            'ё' if fold_yo => Some('е'),
            '\'' | '’' | '‘' | 'ʼ' | 'ʹ' | 'ʺ' | '`' | '′' | '″' | '”' | '“' | 'ˮ' => Some('\''),
            '-' | '‐' | '‑' | '‒' | '–' | '—' => Some('-'),
            c if c.is_alphanumeric() || is_combining_mark(c) => Some(c),
            _ => None,
        };
        match mapped {
            Some(m) => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(m);
            }
            None => pending_space = true,
        }
    }
    out
}

/// Latin and Cyrillic letters that look alike, case by case (a capital H looks like Н, a small h
/// does not look like н; Latin i and ï are the Ukrainian and Belarusian і and ї).
const LOOK_ALIKES: [(char, char); 25] = [
    ('A', 'А'), ('B', 'В'), ('C', 'С'), ('E', 'Е'), ('H', 'Н'), ('K', 'К'), ('M', 'М'), ('O', 'О'), ('P', 'Р'),
    ('T', 'Т'), ('X', 'Х'), ('Y', 'У'), ('I', 'І'), ('Ë', 'Ё'), ('Ï', 'Ї'),
    ('a', 'а'), ('c', 'с'), ('e', 'е'), ('o', 'о'), ('p', 'р'), ('x', 'х'), ('y', 'у'), ('i', 'і'), ('ë', 'ё'),
    ('ï', 'ї'),
];

fn latin_look_alike(cyrillic: char) -> Option<char> {
    LOOK_ALIKES.iter().find(|&&(_, c)| c == cyrillic).map(|&(l, _)| l)
}

fn cyrillic_look_alike(latin: char) -> Option<char> {
    LOOK_ALIKES.iter().find(|&&(l, _)| l == latin).map(|&(_, c)| c)
}

fn is_latin(c: char) -> bool {
    c.is_alphabetic() && matches!(c as u32, 0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF)
}

/// Writes each word (run of letters) that mixes Latin and Cyrillic in one script: in Cyrillic when
/// every Latin letter of it has a Cyrillic look-alike, else in Latin when every Cyrillic letter has
/// a Latin one; a word with letters of both scripts that have no look-alike is left as it is.
/// Only look-alikes are ever replaced, and a folded word is in one script, so the folding is
/// idempotent, also after lower-casing (no letter without a look-alike gains one by it).
fn fold_homoglyphs(text: String) -> String {
    if !(text.chars().any(crate::phonetic::is_cyrillic) && text.chars().any(is_latin)) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find(|c: char| c.is_alphabetic()) {
        out.push_str(&rest[..start]);
        let word_and_after = &rest[start..];
        let end = word_and_after.find(|c: char| !(c.is_alphabetic() || is_combining_mark(c))).unwrap_or(word_and_after.len());
        let word = &word_and_after[..end];
        let (mut latin, mut cyrillic, mut latin_only, mut cyrillic_only) = (false, false, false, false);
        for c in word.chars() {
            if is_latin(c) {
                latin = true;
                latin_only |= cyrillic_look_alike(c).is_none();
            } else if crate::phonetic::is_cyrillic(c) {
                cyrillic = true;
                cyrillic_only |= latin_look_alike(c).is_none();
            }
        }
        match (latin && cyrillic, latin_only, cyrillic_only) {
            (true, false, _) => out.extend(word.chars().map(|c| cyrillic_look_alike(c).unwrap_or(c))),
            (true, true, false) => out.extend(word.chars().map(|c| latin_look_alike(c).unwrap_or(c))),
            _ => out.push_str(word),
        }
        rest = &word_and_after[end..];
    }
    out.push_str(rest);
    out
}

/// Combining diacritics (ALA-LC's tie bar, ISO 9's grave on `g̀`) belong to the letter before them.
pub(crate) fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use expect_test::{Expect, expect};

    fn check(input: &str, expect: Expect) {
        expect.assert_eq(&normalize(input));
    }

    #[test]
    fn folds_case_yo_punctuation_and_spaces() {
        check("  ХРУЩЁВ,  Никита   Сергеевич ", expect!["хрущев никита сергеевич"]);
        check("Ежов Н.И.", expect!["ежов н и"]);
        check("Grigor’ev-Bely", expect!["grigor'ev-bely"]);
        check("ﬁlippov", expect!["filippov"]);
    }

    #[test]
    fn a_word_mixing_latin_and_cyrillic_is_written_in_one_script_by_its_look_alikes() {
        // Every Latin letter has a Cyrillic look-alike: the word is Cyrillic (Memorial's lists).
        check("Hиколай", expect!["николай"]);
        check("Ивaнов", expect!["иванов"]);
        check("Петров Hаум Hестерович", expect!["петров наум нестерович"]);
        check("HИKOЛAЙ", expect!["николай"]);
        check("Iван", expect!["іван"]);
        // Every Cyrillic letter has a Latin look-alike, and Latin letters have none: Latin.
        check("Kоvalenko", expect!["kovalenko"]);
        check("Nіkolai", expect!["nikolai"]);
        // Case decides: a small h does not look like н, so neither script wins.
        check("hиколай", expect!["hиколай"]);
        // Letters of both scripts without look-alikes: left as written.
        check("Шnyrov", expect!["шnyrov"]);
        // One script only, and words of other scripts beside each other: unchanged.
        check("Coxe", expect!["coxe"]);
        check("СОХА", expect!["соха"]);
        check("Ivanov Иванов", expect!["ivanov иванов"]);
        check("Ivanov-Петров", expect!["ivanov-петров"]);
    }

    #[test]
    fn the_plain_fast_path_agrees_with_the_full_one() {
        for text in ["Ковалёв", "YEZHOV", " Ivanov ", "Иван Петров", "", "Ёлкин", "Jeżow", "Hиколай", "Kоvalenko"] {
            assert_eq!(super::normalize_keeping_yo(text), super::normalize_to_fixed_point(text, false), "{text}");
        }
    }
}
