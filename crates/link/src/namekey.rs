//! The narrow seam between linkage and name matching: what `link` needs from a name, per distinct value.
//!
//! Linkage asks three things of a name: a normalized spelling (for the "exact" level), a
//! script-independent key (for blocking and the "variant" level), and a phonetic Latin form whose
//! string similarity is meaningful across transliteration systems. [`NameMatcher`] is that seam;
//! [`FoldingMatcher`] is our own small implementation (Cyrillic folded to Latin, transliteration
//! digraphs folded to one class, vowels dropped from the key), used until the `names` crate offers
//! `key`/`translit` with the same guarantees, and kept as the measured baseline afterwards.

use serde::{Deserialize, Serialize};

/// Which part of a name a value is; matchers may treat parts differently (patronymic initials).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NamePart {
    Surname,
    Given,
    Patronymic,
    Full,
}

/// The forms of one name value that linkage compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameForms {
    /// Lower-case, punctuation-free, single-spaced original script.
    pub normalized: String,
    /// A Latin phonetic form: similarity between two of these is meaningful across scripts.
    pub phonetic: String,
    /// The matching key: equal keys mean "the same name written differently".
    pub key: String,
}

/// What linkage needs from name matching. Called once per distinct value, never per pair.
pub trait NameMatcher: Sync {
    fn forms(&self, text: &str, part: NamePart) -> NameForms;
}

/// Cyrillic and Latin (with the diacritics of Lithuanian, Polish, Czech and scholarly
/// transliteration) folded into one phonetic Latin alphabet.
#[derive(Clone, Copy, Debug, Default)]
pub struct FoldingMatcher;

impl NameMatcher for FoldingMatcher {
    fn forms(&self, text: &str, _part: NamePart) -> NameForms {
        let normalized = normalize(text);
        let phonetic = phonetic(&normalized);
        let key = key_of_phonetic(&phonetic);
        NameForms { normalized, phonetic, key }
    }
}

/// The `names` crate's script-independent key (with its transliteration tables and given-name
/// equivalents) for blocking and the variant level; similarity still runs on our phonetic form.
#[derive(Clone, Copy, Debug, Default)]
pub struct NamesCrateMatcher;

impl NameMatcher for NamesCrateMatcher {
    fn forms(&self, text: &str, _part: NamePart) -> NameForms {
        let normalized = normalize(text);
        let phonetic = phonetic(&normalized);
        NameForms { key: names::key(text), normalized, phonetic }
    }
}

/// Lower case, letters and digits kept, every other run of characters becomes one space.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        // Small Cyrillic а-я are letters: most names are, and Unicode's table of letters costs a
        // search a character.
        if ('а'..='я').contains(&c) || c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

fn fold_char(c: char, out: &mut String) {
    let s = match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ґ' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' | 'є' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'ы' | 'і' | 'ї' | 'й' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ў' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' | '\'' | 'ʹ' | 'ʺ' => "",
        'ю' => "iu",
        'я' => "ia",
        'š' | 'ś' | 'ş' => "sh",
        'ž' | 'ż' | 'ź' => "zh",
        'č' | 'ć' | 'ç' => "ch",
        'ą' | 'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' => "a",
        'ę' | 'ė' | 'é' | 'è' | 'ë' | 'ê' | 'ě' => "e",
        'į' | 'í' | 'ì' | 'ï' | 'î' | 'ı' => "i",
        'ų' | 'ū' | 'ú' | 'ù' | 'ü' | 'û' | 'ů' => "u",
        'ó' | 'ò' | 'ö' | 'ô' | 'õ' | 'ø' => "o",
        'ł' => "l",
        'ń' | 'ñ' | 'ň' => "n",
        'ř' => "rzh",
        'ý' => "i",
        'ß' => "ss",
        c if c.is_ascii_alphanumeric() || c == ' ' => {
            out.push(c);
            return;
        }
        _ => "",
    };
    out.push_str(s);
}

/// The digraphs and letters [`phonetic`] folds, tried in this order at each position (the first
/// that matches wins).
const RULES: &[(&str, &str)] = &[
    ("shtsch", "S"),
    ("schtsch", "S"),
    ("shch", "S"),
    ("szcz", "S"),
    ("tsch", "C"),
    ("sch", "S"),
    ("tch", "C"),
    ("cz", "C"),
    ("ch", "C"),
    ("sh", "S"),
    ("sz", "S"),
    ("zh", "Z"),
    ("rz", "Z"),
    ("kh", "H"),
    ("ts", "c"),
    ("tz", "c"),
    ("ph", "f"),
    ("ck", "k"),
    ("x", "ks"),
    ("q", "k"),
    ("w", "v"),
    ("h", "g"),
    ("ou", "u"),
    ("y", "i"),
    ("j", "i"),
];

/// [`RULES`] by their first letter, in their order: at a position only the rules starting with
/// its letter can match, so the first of those that matches is the first of all (trying all 25
/// at every letter was most of preparing a name).
static RULES_BY_FIRST: std::sync::LazyLock<Vec<Vec<(&str, &str)>>> = std::sync::LazyLock::new(|| {
    let mut by_first = vec![Vec::new(); 128];
    for &(from, to) in RULES {
        by_first[from.as_bytes()[0] as usize].push((from, to));
    }
    by_first
});

/// Transliteration-independent phonetic Latin: `Хрущёв`, `Khrushchev`, `Chruschtschow`, `Hruščov`
/// land close together. Digraphs of the common systems fold to one letter each (upper-case
/// letters stand for sounds written with two or more Latin letters).
pub fn phonetic(normalized: &str) -> String {
    let mut latin = String::with_capacity(normalized.len() + 4);
    for c in normalized.chars() {
        fold_char(c, &mut latin);
    }
    let mut out = String::with_capacity(latin.len());
    let bytes = latin.as_str();
    let mut i = 0;
    let by_first = &*RULES_BY_FIRST;
    'outer: while i < bytes.len() {
        let first = bytes.as_bytes()[i] as usize;
        for (from, to) in by_first.get(first).map_or(&[][..], Vec::as_slice) {
            if bytes[i..].starts_with(from) {
                out.push_str(to);
                i += from.len();
                continue 'outer;
            }
        }
        let c = bytes[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
    // `iu`/`ia`/`ie`/`io` after a consonant or at the start are one vowel written two ways.
    let mut collapsed = String::with_capacity(out.len());
    let mut prev: Option<char> = None;
    for c in out.chars() {
        if prev == Some(c) {
            continue;
        }
        if prev == Some('i') && matches!(c, 'u' | 'a' | 'e' | 'o') {
            collapsed.pop();
        }
        collapsed.push(c);
        prev = Some(c);
    }
    collapsed
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// Grammatical endings that vary between a name's forms: Lithuanian male (-as, -is, -us) and
/// female (-ienė, -aitė, -ytė) endings, which Lithuanian lists also add to Slavic names (Ivanovas).
const ENDINGS: &[&str] = &["aite", "ite", "ene", "as", "is", "us"];

/// The key: the phonetic form without its variable ending and without vowels (a leading vowel
/// becomes `V`), so that Александр/Oleksandr, Иванов/Ivanova/Ivanovas and
/// Петраускас/Petrauskienė share one.
pub fn key_of_phonetic(phonetic: &str) -> String {
    let mut stem = phonetic;
    for ending in ENDINGS {
        if stem.len() >= ending.len() + 4
            && let Some(s) = stem.strip_suffix(ending)
        {
            stem = s;
            break;
        }
    }
    let mut key = String::with_capacity(stem.len());
    let mut previous = None;
    for (i, c) in stem.chars().enumerate() {
        if c == ' ' {
            continue;
        }
        // Latin letters that stand for different Russian sounds in different systems are one
        // class in the key (the phonetic form keeps them apart for similarity): "ch" is х in
        // German and the scholarly system, ч in English, ш in French; "sch" is ш and ж in
        // German; "s" is з in German, "z" is ц there and з in English.
        let c = match c {
            'H' | 'S' | 'Z' => 'C',
            'z' | 'c' => 's',
            c => c,
        };
        if is_vowel(c) {
            if i == 0 {
                key.push('V');
            }
        } else if previous != Some(c) {
            // A letter written twice is one sound; the same consonant again after a vowel is a
            // syllable (Ковальенко, Ковальуленко), which the key keeps.
            key.push(c);
        }
        previous = Some(c);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(names: &[&str], expect: Expect) {
        let shown: Vec<String> = names
            .iter()
            .map(|n| {
                let f = FoldingMatcher.forms(n, NamePart::Surname);
                format!("{n}: {} {}", f.phonetic, f.key)
            })
            .collect();
        expect.assert_eq(&shown.join("\n"));
    }

    #[test]
    fn transliterations_share_a_key() {
        check(
            &["Хрущёв", "Khrushchev", "Chruschtschow", "Hruščov", "Тимошенко", "Tymoshenko", "Timoschenko"],
            expect![[r#"
                Хрущёв: HruSev CrCv
                Khrushchev: HruSev CrCv
                Chruschtschow: CruSov CrCv
                Hruščov: gruSov grCv
                Тимошенко: timoSenko tmCnk
                Tymoshenko: timoSenko tmCnk
                Timoschenko: timoSenko tmCnk"#]],
        );
        check(
            &["Александр", "Oleksandr", "Иванов", "Ivanova", "Ivanovas", "Петраускас", "Petrauskienė", "Petrauskaitė", "Григорий", "Hryhoriy"],
            expect![[r#"
                Александр: aleksandr Vlksndr
                Oleksandr: oleksandr Vlksndr
                Иванов: ivanov Vvnv
                Ivanova: ivanova Vvnv
                Ivanovas: ivanovas Vvnv
                Петраускас: petrauskas ptrsk
                Petrauskienė: petrauskene ptrsk
                Petrauskaitė: petrauskaite ptrsk
                Григорий: grigori grgr
                Hryhoriy: grigori grgr"#]],
        );
    }

    #[test]
    fn sibilants_of_the_transliteration_systems_share_a_key() {
        check(
            &["Кузнецов", "Kuznetsov", "Kusnezow", "Шевченко", "Chevtchenko", "Schewtschenko", "Жуков", "Schukow"],
            expect![[r#"
                Кузнецов: kuznecov ksnsv
                Kuznetsov: kuznecov ksnsv
                Kusnezow: kusnezov ksnsv
                Шевченко: SevCenko CvCnk
                Chevtchenko: CevCenko CvCnk
                Schewtschenko: SevCenko CvCnk
                Жуков: Zukov Ckv
                Schukow: Sukov Ckv"#]],
        );
    }

    #[test]
    fn normalize_drops_punctuation_and_case() {
        assert_eq!(normalize("  Иванов-Петров, И. "), "иванов петров и");
        assert_eq!(normalize(""), "");
    }
}
