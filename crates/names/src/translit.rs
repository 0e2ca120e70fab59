//! Transliteration between Cyrillic (Russian, Ukrainian, Belarusian letters) and the Latin
//! systems historians meet: ISO 9, GOST 7.79 B, BGN/PCGN, ALA-LC, the scholarly system, the
//! passport system (ICAO Doc 9303, used by Russian passports since 2013), and the German, French,
//! Polish and Czech press conventions; and back from any Latin spelling to Cyrillic candidates.
//!
//! Each system is a data table `data/translit/<system>.tsv`: `from`, `to`, `when`, and an example
//! with its expected output (the tests run every example and check its row fired). `when` is `*`
//! or conditions joined by `&` (all) and `|` (any): `start`, `end`, `after:LETTERS`,
//! `before:LETTERS`, where `V` stands for the vowels and `S` for the vowels with й ъ ь.
//! Rows with a longer `from` win; among equal lengths, the first row whose condition holds.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// A transliteration system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum System {
    /// ISO 9:1995 = GOST 7.79-2000 system A (one Latin letter, with diacritics, per Cyrillic one).
    Iso9,
    /// GOST 7.79-2000 system B (ASCII with digraphs and backticks).
    Gost779B,
    /// BGN/PCGN 1947, the English-language geographic and press standard.
    BgnPcgn,
    /// ALA-LC, the library standard (with its tie bars).
    AlaLc,
    /// The scholarly (scientific) system of Slavists.
    Scholarly,
    /// ICAO Doc 9303 as used by Russian passports since 2013 (MVD/FMS).
    Icao,
    /// German press convention (Duden): Jeschow, Chruschtschow.
    German,
    /// French press convention: Iejov, Khrouchtchev.
    French,
    /// Polish convention: Jeżow, Chruszczow.
    Polish,
    /// Czech convention: Ježov, Chruščov.
    Czech,
    /// Ukraine's national system (KMU 2010), on Ukrainian passports: Hryhorii, Kyiv.
    Ukrainian,
}

impl System {
    pub const ALL: [System; 11] = [
        System::Iso9,
        System::Gost779B,
        System::BgnPcgn,
        System::AlaLc,
        System::Scholarly,
        System::Icao,
        System::German,
        System::French,
        System::Polish,
        System::Czech,
        System::Ukrainian,
    ];

    /// The name used on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            System::Iso9 => "iso9",
            System::Gost779B => "gost-7.79-b",
            System::BgnPcgn => "bgn-pcgn",
            System::AlaLc => "ala-lc",
            System::Scholarly => "scholarly",
            System::Icao => "icao",
            System::German => "german",
            System::French => "french",
            System::Polish => "polish",
            System::Czech => "czech",
            System::Ukrainian => "ukrainian",
        }
    }

    fn table_text(self) -> &'static str {
        match self {
            System::Iso9 => include_str!("../data/translit/iso9.tsv"),
            System::Gost779B => include_str!("../data/translit/gost779b.tsv"),
            System::BgnPcgn => include_str!("../data/translit/bgn_pcgn.tsv"),
            System::AlaLc => include_str!("../data/translit/ala_lc.tsv"),
            System::Scholarly => include_str!("../data/translit/scholarly.tsv"),
            System::Icao => include_str!("../data/translit/icao.tsv"),
            System::German => include_str!("../data/translit/german.tsv"),
            System::French => include_str!("../data/translit/french.tsv"),
            System::Polish => include_str!("../data/translit/polish.tsv"),
            System::Czech => include_str!("../data/translit/czech.tsv"),
            System::Ukrainian => include_str!("../data/translit/ukrainian.tsv"),
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A system name that is not one of [`System::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transliteration system {0:?}: expected one of iso9, gost-7.79-b, bgn-pcgn, ala-lc, scholarly, icao (passport), german, french, polish, czech, ukrainian (KMU 2010)")]
pub struct UnknownSystem(pub String);

impl FromStr for System {
    type Err = UnknownSystem;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted: String = s.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        Ok(match wanted.as_str() {
            "iso9" | "iso91995" | "gost779a" | "gost779" => System::Iso9,
            "gost779b" | "gostb" => System::Gost779B,
            "bgnpcgn" | "bgn" | "pcgn" => System::BgnPcgn,
            "alalc" | "lc" => System::AlaLc,
            "scholarly" | "scientific" => System::Scholarly,
            "icao" | "passport" | "mvd" | "mvd2013" | "icaodoc9303" => System::Icao,
            "german" | "de" | "duden" => System::German,
            "french" | "fr" => System::French,
            "polish" | "pl" => System::Polish,
            "czech" | "cs" | "cz" => System::Czech,
            "ukrainian" | "uk" | "ua" | "kmu" | "kmu2010" => System::Ukrainian,
            _ => return Err(UnknownSystem(s.to_string())),
        })
    }
}

/// One condition atom of a row.
#[derive(Clone, Debug, PartialEq)]
enum Atom {
    Start,
    End,
    After(Vec<char>),
    Before(Vec<char>),
}

/// One row of a table.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub from: Vec<char>,
    pub to: String,
    /// Any of these conjunctions; empty means always.
    when: Vec<Vec<Atom>>,
    /// The row's example and its expected output, run by the table tests.
    #[cfg_attr(not(test), allow(dead_code))]
    pub example: String,
    #[cfg_attr(not(test), allow(dead_code))]
    pub expected: String,
}

const VOWELS: &str = "аеёиоуыэюяіїє";

fn letter_set(spec: &str) -> Vec<char> {
    spec.chars()
        .flat_map(|c| match c {
            'V' => VOWELS.chars().collect::<Vec<_>>(),
            'S' => VOWELS.chars().chain("йъь".chars()).collect(),
            other => vec![other],
        })
        .collect()
}

fn parse_when(spec: &str) -> Vec<Vec<Atom>> {
    if spec == "*" || spec.is_empty() {
        return Vec::new();
    }
    spec.split('|')
        .map(|conj| {
            conj.split('&')
                .map(|atom| match atom {
                    "start" => Atom::Start,
                    "end" => Atom::End,
                    a if a.starts_with("after:") => Atom::After(letter_set(&a[6..])),
                    a if a.starts_with("before:") => Atom::Before(letter_set(&a[7..])),
                    other => panic!("bad condition {other:?} in a transliteration table"),
                })
                .collect()
        })
        .collect()
}

pub(crate) fn parse_table(text: &str) -> Vec<Rule> {
    let mut rules: Vec<Rule> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let field = |i: usize| fields.get(i).copied().unwrap_or("");
            Rule {
                from: field(0).chars().collect(),
                to: field(1).to_string(),
                when: parse_when(field(2)),
                example: field(3).to_string(),
                expected: field(4).to_string(),
            }
        })
        .collect();
    // Longest first; a stable sort keeps file order among equals.
    rules.sort_by_key(|r| std::cmp::Reverse(r.from.len()));
    rules
}

pub(crate) struct Tables {
    pub by_system: HashMap<System, Vec<Rule>>,
}

pub(crate) static TABLES: LazyLock<Tables> = LazyLock::new(|| Tables {
    by_system: System::ALL.iter().map(|&s| (s, parse_table(s.table_text()))).collect(),
});

fn is_cyrillic_letter(c: char) -> bool {
    crate::phonetic::is_cyrillic(c) && c.is_alphabetic()
}

fn holds(atom: &Atom, lower: &[char], start: usize, end: usize) -> bool {
    match atom {
        Atom::Start => start == 0 || !is_cyrillic_letter(lower[start - 1]),
        Atom::End => end >= lower.len() || !is_cyrillic_letter(lower[end]),
        Atom::After(set) => start > 0 && set.contains(&lower[start - 1]),
        Atom::Before(set) => end < lower.len() && set.contains(&lower[end]),
    }
}

/// Transliterates with the table's rules, recording which rows fired (for the table tests).
pub(crate) fn transliterate(text: &str, rules: &[Rule], mut fired: Option<&mut Vec<usize>>) -> String {
    let original: Vec<char> = text.chars().collect();
    let lower: Vec<char> = original.iter().map(|&c| if c == 'Ё' { 'ё' } else { c.to_lowercase().next().unwrap_or(c) }).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < lower.len() {
        let matched = rules.iter().enumerate().find(|(_, r)| {
            let end = i + r.from.len();
            end <= lower.len()
                && lower[i..end] == r.from[..]
                && (r.when.is_empty() || r.when.iter().any(|conj| conj.iter().all(|a| holds(a, &lower, i, end))))
        });
        match matched {
            Some((index, rule)) => {
                if let Some(fired) = fired.as_deref_mut() {
                    fired.push(index);
                }
                let upper = original[i].is_uppercase();
                let next_upper = original.get(i + rule.from.len()).is_some_and(|c| c.is_uppercase())
                    || (i > 0 && original[i - 1].is_uppercase() && is_cyrillic_letter(lower[i - 1]));
                if upper && next_upper {
                    out.extend(rule.to.chars().flat_map(char::to_uppercase));
                } else if upper {
                    let mut chars = rule.to.chars();
                    if let Some(first) = chars.next() {
                        out.extend(first.to_uppercase());
                        out.extend(chars);
                    }
                } else {
                    out.push_str(&rule.to);
                }
                i += rule.from.len();
            }
            None => {
                out.push(original[i]);
                i += 1;
            }
        }
    }
    out
}

/// Transliterates Cyrillic `text` into `system`; other characters pass through unchanged.
pub fn translit(text: &str, system: System) -> String {
    transliterate(text, &TABLES.by_system[&system], None)
}

/// Latin spelling → Cyrillic letters, gathered from every table, with how many systems use it.
struct Reverse {
    entries: Vec<ReverseEntry>,
}

/// One way a Latin spelling is read back.
struct ReverseEntry {
    latin: Vec<char>,
    cyrillic: String,
    /// How many Russian-language systems write `cyrillic` as `latin` (1 for a Ukrainian-only
    /// reading).
    systems: u32,
    /// Only Ukrainian spelling reads it so (h for г, y for и): like a Ukrainian letter, the rarer
    /// source in these lists.
    ukrainian_only: bool,
}

/// Letters no Russian word starts with, and signs that never follow a vowel.
fn impossible(text: &str, next: &str) -> bool {
    let starts = text.is_empty() && next.starts_with(['ы', 'ь', 'ъ']);
    let sign_after_vowel = next.starts_with(['ь', 'ъ']) && text.ends_with(|c: char| "аеёиоуыэюя".contains(c));
    starts || sign_after_vowel
}

static REVERSE: LazyLock<Reverse> = LazyLock::new(|| {
    let mut counts: HashMap<(String, String), (u32, bool)> = HashMap::new();
    for (&system, rules) in &TABLES.by_system {
        for rule in rules {
            let latin = crate::normalize(&rule.to).replace('\'', "");
            let cyrillic: String = rule.from.iter().collect();
            if latin.is_empty() || cyrillic.chars().count() > 1 && rule.when.is_empty() {
                continue;
            }
            // Russian-language systems are counted; the Ukrainian one only adds readings no
            // other system has, so that it does not outvote them on Russian names.
            let (russian_systems, ukrainian) = counts.entry((latin, cyrillic)).or_insert((0, false));
            if system == System::Ukrainian {
                *ukrainian = true;
            } else {
                *russian_systems += 1;
            }
        }
    }
    let mut entries: Vec<ReverseEntry> = counts
        .into_iter()
        .map(|((latin, cyrillic), (russian_systems, ukrainian))| ReverseEntry {
            latin: latin.chars().collect(),
            cyrillic,
            systems: russian_systems.max(u32::from(ukrainian)),
            ukrainian_only: russian_systems == 0,
        })
        .collect();
    entries.sort_by(|a, b| {
        b.latin.len().cmp(&a.latin.len()).then(b.systems.cmp(&a.systems)).then(a.cyrillic.cmp(&b.cyrillic))
    });
    Reverse { entries }
});

/// Cyrillic candidates a Latin spelling may come from, likeliest first (at most eight).
/// Likelihood counts how many systems write each piece that way; Cyrillic text is returned as is.
pub fn back_translit(latin: &str) -> Vec<String> {
    let normalized = crate::normalize(latin);
    if normalized.chars().any(crate::phonetic::is_cyrillic) {
        return vec![normalized];
    }
    let chars: Vec<char> = normalized.chars().filter(|&c| !crate::normalize::is_combining_mark(c)).collect();
    // Beam search over segmentations: (position, text, score).
    let mut beam: Vec<(usize, String, f64)> = vec![(0, String::new(), 0.0)];
    let mut done: Vec<(String, f64)> = Vec::new();
    while !beam.is_empty() {
        let mut next: Vec<(usize, String, f64)> = Vec::new();
        for (position, text, score) in &beam {
            if *position >= chars.len() {
                done.push((text.clone(), *score));
                continue;
            }
            let mut any = false;
            for entry in &REVERSE.entries {
                let (spelling, cyrillic) = (&entry.latin, &entry.cyrillic);
                let end = position + spelling.len();
                if end <= chars.len() && chars[*position..end] == spelling[..] && !impossible(text, cyrillic) {
                    any = true;
                    let mut extended = text.clone();
                    extended.push_str(cyrillic);
                    // Log-likelihood: the share of systems writing the letter so, with a bonus
                    // for longer pieces (one digraph beats two letters read separately).
                    let share = f64::from(entry.systems) / (System::ALL.len() - 1) as f64;
                    let mut gain = share.ln() + 0.5 * (spelling.len() as f64 - 1.0);
                    // Russian readings first: Ukrainian and Belarusian letters and Ukrainian-only
                    // spellings are the rarer source.
                    if entry.ukrainian_only || cyrillic.contains(['є', 'і', 'ї', 'ґ', 'ў']) {
                        gain -= 2.0;
                    }
                    next.push((end, extended, score + gain));
                }
            }
            if !any {
                let mut extended = text.clone();
                extended.push(chars[*position]);
                next.push((position + 1, extended, score - 5.0));
            }
        }
        next.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.1.cmp(&b.1)));
        next.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        next.truncate(24);
        beam = next;
    }
    done.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<String> = Vec::new();
    for (text, _) in done {
        if !out.contains(&text) {
            out.push(text);
        }
        if out.len() == 8 {
            break;
        }
    }
    out
}

const RUSSIAN_LETTERS: &str = "абвгдежзийклмнопрстуфхцчшщъыьэюя";

fn letter_bit(c: char) -> u64 {
    let c = match c {
        'ё' | 'є' | 'ѣ' => 'е',
        'і' | 'ї' => 'и',
        'ґ' => 'г',
        'ў' => 'у',
        other => other,
    };
    RUSSIAN_LETTERS.chars().position(|l| l == c).map_or(0, |p| 1u64 << p)
}

/// The Cyrillic letters (bit set over а..я) that the start of a normalised name may stand for:
/// for an initial ("J", "Ch") every letter some system writes starting so, for a longer text the
/// letters whose spellings it starts with. Used to check initials across scripts.
pub(crate) fn origins(normalized: &str) -> u64 {
    let chars: Vec<char> = normalized.chars().filter(|c| c.is_alphabetic()).collect();
    let Some(&first) = chars.first() else { return 0 };
    if crate::phonetic::is_cyrillic(first) {
        return letter_bit(first);
    }
    let mut bits = 0;
    for entry in &REVERSE.entries {
        let (spelling, cyrillic) = (&entry.latin, &entry.cyrillic);
        let Some(letter) = cyrillic.chars().next() else { continue };
        let prefix_of_text = chars.len() >= spelling.len() && chars[..spelling.len()] == spelling[..];
        let text_is_prefix = chars.len() <= 2 && spelling.len() >= chars.len() && spelling[..chars.len()] == chars[..];
        if prefix_of_text || text_is_prefix {
            bits |= letter_bit(letter);
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_fires_on_its_example() {
        for system in System::ALL {
            let rules = &TABLES.by_system[&system];
            assert!(rules.len() >= 33, "{system} has only {} rows", rules.len());
            for (index, rule) in rules.iter().enumerate() {
                let mut fired = Vec::new();
                let out = transliterate(&rule.example, rules, Some(&mut fired));
                let from: String = rule.from.iter().collect();
                assert_eq!(out, rule.expected, "{system}: row {from} -> {} on {}", rule.to, rule.example);
                assert!(fired.contains(&index), "{system}: row {from} -> {} did not fire on {}", rule.to, rule.example);
            }
        }
    }

    #[test]
    fn every_system_covers_every_letter() {
        for system in System::ALL {
            for letter in "абвгдеёжзийклмнопрстуфхцчшщъыьэюяєіїґў".chars() {
                let out = translit(&letter.to_string(), system);
                assert!(!out.chars().any(crate::phonetic::is_cyrillic), "{system} leaves {letter} as {out}");
            }
        }
    }

    #[test]
    fn one_name_in_every_system() {
        let all: Vec<String> = System::ALL.iter().map(|&s| format!("{s}: {}", translit("Хрущёв Никита", s))).collect();
        expect_test::expect![[r#"
            iso9: Hruŝëv Nikita
            gost-7.79-b: Xrushhyov Nikita
            bgn-pcgn: Khrushchëv Nikita
            ala-lc: Khrushchëv Nikita
            scholarly: Xruščëv Nikita
            icao: Khrushchev Nikita
            german: Chruschtschow Nikita
            french: Khrouchtchov Nikita
            polish: Chruszczow Nikita
            czech: Chruščov Nikita
            ukrainian: Khrushchiov Nykyta"#]]
        .assert_eq(&all.join("\n"));
    }

    #[test]
    fn system_names_parse() {
        for system in System::ALL {
            assert_eq!(system.name().parse::<System>(), Ok(system));
        }
        assert_eq!("passport".parse::<System>(), Ok(System::Icao));
        assert_eq!("KMU 2010".parse::<System>(), Ok(System::Ukrainian));
        assert!("klingon".parse::<System>().is_err());
    }

    #[test]
    fn back_transliteration_finds_the_cyrillic() {
        assert_eq!(back_translit("Yezhov").first().map(String::as_str), Some("ежов"));
        for (latin, cyrillic) in [("Yezhov", "ежов"), ("Khrushchev", "хрущев"), ("Ivanov", "иванов"), ("Jakow", "яков"), ("Chruszczow", "хрущов")] {
            let candidates = back_translit(latin);
            assert!(candidates.iter().any(|c| c == cyrillic), "{latin}: {candidates:?}");
        }
    }

    #[test]
    fn initials_know_their_origins() {
        assert_ne!(origins("j") & origins("юрий"), 0);
        assert_ne!(origins("y") & origins("юрий"), 0);
        assert_ne!(origins("ch") & origins("хрущев"), 0);
        assert_ne!(origins("n") & origins("николай"), 0);
        assert_eq!(origins("p") & origins("николай"), 0);
    }
}
