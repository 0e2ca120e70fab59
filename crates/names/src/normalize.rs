//! Idempotent normalisation of name text, so that equal names compare equal byte for byte.
//!
//! Policy: Unicode NFKC, lower case, `ё` folded to `е` (Russian print drops the dots freely),
//! every apostrophe-like mark (soft/hard sign letters of ISO 9 and ALA-LC, typographic quotes)
//! written `'`, other punctuation turned into spaces, and runs of whitespace collapsed to one space.

use unicode_normalization::UnicodeNormalization;

/// Normalises `text` for display and exact comparison. `normalize(normalize(x)) == normalize(x)`.
pub fn normalize(text: &str) -> String {
    normalize_to_fixed_point(text, true)
}

/// The same normalisation keeping `ё`, which the phonetic encoder reads (Ковалёв/Kovalyov).
/// Plain Latin or Russian letters, the common case, skip the Unicode machinery.
pub(crate) fn normalize_keeping_yo(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphabetic() || ('А'..='я').contains(&c) || c == 'ё' || c == 'Ё';
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    if text.chars().all(|c| plain(c) || c == ' ') && words.clone().count() <= 1 {
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
    for c in text.nfkc().flat_map(char::to_lowercase).nfkc() {
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
    fn the_plain_fast_path_agrees_with_the_full_one() {
        for text in ["Ковалёв", "YEZHOV", " Ivanov ", "Иван Петров", "", "Ёлкин", "Jeżow"] {
            assert_eq!(super::normalize_keeping_yo(text), super::normalize_to_fixed_point(text, false), "{text}");
        }
    }
}
