//! Name similarity: a score in [0, 1], a verdict at [`SAME_THRESHOLD`], and the rules that fired.
//! [`PreparedName`] does the per-name work once so that linkage compares in well under a
//! microsecond.

use crate::edit::{self, COSTS, OcrMarks};
use crate::given::{self, GivenNameMatch, Membership};
use crate::phonetic;
use model::Sex;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Scores at or above this are the same name.
pub const SAME_THRESHOLD: f64 = 0.8;

/// Which part of a name a text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Surname,
    Given,
    Patronymic,
    /// A whole name in one field, parsed with [`crate::parse`].
    Full,
}

impl FromStr for Part {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "surname" | "family" | "last" => Ok(Part::Surname),
            "given" | "first" | "forename" => Ok(Part::Given),
            "patronymic" | "middle" => Ok(Part::Patronymic),
            "full" | "name" => Ok(Part::Full),
            other => Err(format!("unknown name part {other:?}: expected surname, given, patronymic or full")),
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Surname => "surname",
            Part::Given => "given",
            Part::Patronymic => "patronymic",
            Part::Full => "full",
        })
    }
}

/// Options of a comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompareOptions {
    /// Count Western translations of given names as equivalent (Юрий/George, Иван/John).
    pub loose_equivalents: bool,
}

/// The outcome of comparing two names.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Similarity in [0, 1].
    pub score: f64,
    /// `score >= SAME_THRESHOLD` and no part contradicts (for full names).
    pub same: bool,
    /// The two are forms of one name for different sexes (Иванов/Иванова, Иванович/Ивановна).
    pub sex_differs: bool,
    /// The rules that made the spellings meet, or that kept them apart.
    pub rules: Vec<String>,
}

impl Comparison {
    /// Whether the two are the same, of one sex, and every difference a spelling convention of
    /// a script or transliteration system or a form the given-name table makes one: what
    /// [`one_name_spelled_two_ways`] reads off the rules.
    fn spelled_alike(&self) -> bool {
        // Rules of a part read "<part>: <rule>"; one without a part (a swapped order) is none.
        let rules: Vec<Option<(&str, &str)>> = self.rules.iter().map(|rule| rule.split_once(": ")).collect();
        // Where the table makes two given names one, the letters between them may differ freely.
        let equivalent = |part: &str| rules.contains(&Some((part, GIVEN_NAME_EQUIVALENT)));
        let spelled_alike = |rule: &Option<(&str, &str)>| {
            rule.is_some_and(|(part, rule)| {
                matches!(rule, "exact" | "spelling variant") || edit::SPELLING_CONVENTIONS.contains(&rule) || equivalent(part)
            })
        };
        self.same && !self.sex_differs && rules.iter().all(spelled_alike)
    }
}

/// Whether two texts are one name spelled two ways: the same, of one sex, and every difference
/// a spelling convention of a script or transliteration system (Ежов, Yezhov, Jeschow;
/// Геннадий, Gennadiy; Ильин, Ilin, Ilyin) or a form the given-name table makes one (Пётр,
/// Петро; Александр, Саша). A different vowel or consonant (Иванов, Иванев), an OCR confusion
/// or an initial is not: a historian reading the two records would count two values. Nor is a
/// й or ь that one of two Cyrillic texts drops (Ильин, Илин; Игорь, Игор): Cyrillic writes
/// them by rule, only a transliteration leaves them out, so between two Cyrillic texts it is a
/// second spelling.
pub fn one_name_spelled_two_ways(a: &str, b: &str, part: Part) -> bool {
    let cyrillic = |text: &str| crate::parse::script_of(text) == crate::Script::Cyrillic;
    if cyrillic(a) && cyrillic(b) {
        let (a, b) = (crate::normalize(a), crate::normalize(b));
        let without_soft = |text: &str| text.chars().filter(|c| !matches!(c, 'й' | 'ь')).collect::<String>();
        if a != b && without_soft(&a) == without_soft(&b) {
            return false;
        }
    }
    compare(a, b, part).spelled_alike()
}

/// Whether an initial (G., Г., Yu.) may stand for `name`, a full form or another initial: some
/// Cyrillic letter may begin both (G. and Геннадий or Георгий, Г. and G., Yu. and Юрий; not G.
/// and Пётр). It says no more than that: an initial fits many names.
pub fn initial_fits(initial: &str, name: &str) -> bool {
    let origins = |text: &str| crate::translit::origins(&crate::normalize(text));
    origins(initial) & origins(name) != 0
}

/// The rule by which the given-name table makes two forms one name (Пётр, Петро; Александр, Саша).
const GIVEN_NAME_EQUIVALENT: &str = "given-name equivalent";

/// Symbol indices kept inline, so a comparison does not chase a pointer per part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Symbols {
    len: u8,
    indices: [u8; edit::MAX_LEN],
    ocr: OcrMarks,
}

impl Default for Symbols {
    fn default() -> Self {
        Symbols { len: 0, indices: [0; edit::MAX_LEN], ocr: OcrMarks::default() }
    }
}

impl Symbols {
    fn new(indices: &[u8]) -> Symbols {
        let mut symbols = Symbols::default();
        let len = indices.len().min(edit::MAX_LEN);
        symbols.indices[..len].copy_from_slice(&indices[..len]);
        symbols.len = len as u8;
        symbols.ocr = OcrMarks::of(&COSTS, symbols.as_slice());
        symbols
    }

    fn as_slice(&self) -> &[u8] {
        &self.indices[..usize::from(self.len)]
    }
}

/// One name part, prepared for repeated comparison.
#[derive(Clone, Debug, Default)]
struct PreparedPart {
    /// A hash of the normalised text: tells an exact match from a spelling variant in
    /// explanations, without keeping the text in every prepared record.
    normalized_hash: u64,
    /// Cost-table indices of the phonetic symbols, gender forms folded to the masculine.
    symbols: Symbols,
    /// The part is an initial (`first_origins` then says all it can tell).
    is_initial: bool,
    /// Cyrillic letters the part's first letter may stand for (bit set, see `translit::origins`).
    first_origins: u64,
    feminine: bool,
    masculine: bool,
    /// Given-name groups (at most four kept inline; no name is in more).
    given: [Membership; 4],
    given_count: u8,
    sex: Option<Sex>,
}

impl PreparedPart {
    fn new(text: &str, part: Part) -> Option<PreparedPart> {
        let normalized = crate::normalize(text);
        if normalized.is_empty() {
            return None;
        }
        let letters = normalized.chars().filter(|c| c.is_alphabetic()).count();
        let is_initial = letters == 1 || (text.trim_end().ends_with('.') && letters <= 2 && !normalized.contains(' '));
        let origins = crate::translit::origins(&normalized);
        if is_initial {
            return Some(PreparedPart {
                normalized_hash: hash_text(&normalized),
                is_initial: true,
                first_origins: origins,
                ..Default::default()
            });
        }
        let mut symbols = phonetic::encode_text(text).symbols;
        let (mut feminine, mut masculine) = (false, false);
        match part {
            Part::Surname => {
                feminine = phonetic::fold_feminine_symbols(&mut symbols);
                masculine = !feminine && phonetic::has_masculine_ending(&symbols);
            }
            Part::Patronymic => {
                feminine = fold_patronymic(&mut symbols);
                masculine = !feminine && (symbols.ends_with(b"ic") || symbols.ends_with(b"iC"));
            }
            Part::Given | Part::Full => {}
        }
        let (memberships, sex) = if part == Part::Given {
            (given::memberships(&normalized), given::given_sex(&normalized))
        } else {
            (Vec::new(), None)
        };
        let mut given = [Membership::default(); 4];
        let given_count = memberships.len().min(given.len());
        given[..given_count].copy_from_slice(&memberships[..given_count]);
        Some(PreparedPart {
            normalized_hash: hash_text(&normalized),
            symbols: Symbols::new(&edit::to_indices(&symbols)),
            is_initial: false,
            first_origins: origins,
            feminine,
            masculine,
            given,
            given_count: given_count as u8,
            sex,
        })
    }
}

/// Stable across runs and platforms, so explanations are deterministic.
fn hash_text(text: &str) -> u64 {
    model::fnv1a(text.as_bytes())
}

/// Folds a feminine patronymic onto the masculine one: -овна/-ovna → -ович/-ovich.
fn fold_patronymic(symbols: &mut Vec<u8>) -> bool {
    for (feminine, masculine) in [(&b"vna"[..], &b"vic"[..]), (b"icna", b"ic")] {
        if symbols.len() > feminine.len() + 2 && symbols.ends_with(feminine) {
            symbols.truncate(symbols.len() - feminine.len());
            symbols.extend_from_slice(masculine);
            return true;
        }
    }
    false
}

/// The score of an edit cost between parts of the given lengths, and the cost above which it is 0.
fn max_cost(len_a: usize, len_b: usize) -> f32 {
    1.5 + 0.15 * len_a.max(len_b) as f32
}

fn score_of(cost: f32, len_a: usize, len_b: usize) -> f64 {
    (1.0 - f64::from(cost) / f64::from(max_cost(len_a, len_b))).clamp(0.0, 1.0)
}

/// Score of one part pair and whether it is a different-sex form; `rules` is filled only when
/// given (the explaining, slower path).
fn compare_parts(
    a: &PreparedPart,
    b: &PreparedPart,
    part: Part,
    options: CompareOptions,
    mut rules: Option<&mut Vec<String>>,
) -> (f64, bool) {
    fn note(rules: &mut Option<&mut Vec<String>>, part: Part, rule: &str) {
        if let Some(rules) = rules.as_deref_mut() {
            rules.push(format!("{part}: {rule}"));
        }
    }
    if a.is_initial || b.is_initial {
        return if a.first_origins & b.first_origins != 0 {
            note(&mut rules, part, "initial agrees");
            (0.85, false)
        } else {
            note(&mut rules, part, "initial differs");
            (0.0, false)
        };
    }
    let sex_differs = (a.feminine && b.masculine)
        || (a.masculine && b.feminine)
        || matches!((a.sex, b.sex), (Some(x), Some(y)) if x != y);
    let (a_symbols, b_symbols) = (a.symbols.as_slice(), b.symbols.as_slice());
    let mut score = if a_symbols == b_symbols {
        if let Some(rules) = rules.as_deref_mut() {
            let rule = if a.normalized_hash == b.normalized_hash { "exact" } else { "spelling variant" };
            rules.push(format!("{part}: {rule}"));
        }
        1.0
    } else if let Some(rules) = rules.as_deref_mut() {
        let (cost, used) = edit::explain(&COSTS, a_symbols, b_symbols);
        rules.extend(used.iter().map(|r| format!("{part}: {r}")));
        score_of(cost, a_symbols.len(), b_symbols.len())
    } else {
        let cutoff = max_cost(a_symbols.len(), b_symbols.len());
        let ocr_rn_m = a.symbols.ocr.meet(b.symbols.ocr);
        score_of(edit::distance(&COSTS, a_symbols, b_symbols, ocr_rn_m, cutoff), a_symbols.len(), b_symbols.len())
    };
    if sex_differs && a.feminine != b.feminine && score >= SAME_THRESHOLD {
        note(&mut rules, part, "gender form");
    }
    if part == Part::Given && score < 1.0 {
        match given::relate(&a.given[..usize::from(a.given_count)], &b.given[..usize::from(b.given_count)]) {
            Some(GivenNameMatch::Equivalent) => {
                note(&mut rules, part, GIVEN_NAME_EQUIVALENT);
                score = score.max(0.95);
            }
            Some(GivenNameMatch::Loose) if options.loose_equivalents => {
                note(&mut rules, part, "given-name translation");
                score = score.max(0.9);
            }
            _ => {}
        }
    }
    (score, sex_differs)
}

/// A name prepared once for many comparisons: build one per record, then call
/// [`PreparedName::similarity`] or [`PreparedName::compare`].
#[derive(Clone, Debug)]
pub struct PreparedName {
    part: Part,
    surname: Option<PreparedPart>,
    given: Option<PreparedPart>,
    patronymic: Option<PreparedPart>,
    options: CompareOptions,
}

impl PreparedName {
    /// Prepares `text` as the given part (a whole name is parsed when `part` is [`Part::Full`]).
    pub fn new(text: &str, part: Part) -> PreparedName {
        Self::with_options(text, part, CompareOptions::default())
    }

    pub fn with_options(text: &str, part: Part, options: CompareOptions) -> PreparedName {
        let mut name = PreparedName { part, surname: None, given: None, patronymic: None, options };
        match part {
            Part::Surname => name.surname = PreparedPart::new(text, Part::Surname),
            Part::Given => name.given = PreparedPart::new(text, Part::Given),
            Part::Patronymic => name.patronymic = PreparedPart::new(text, Part::Patronymic),
            Part::Full => {
                let parsed = crate::parse(text);
                let initials = &parsed.initials;
                name.surname = parsed.surname.as_deref().and_then(|s| PreparedPart::new(s, Part::Surname));
                name.given = match &parsed.given {
                    Some(g) => PreparedPart::new(g, Part::Given),
                    None => initials.first().and_then(|i| PreparedPart::new(i, Part::Given)),
                };
                name.patronymic = match &parsed.patronymic {
                    Some(p) => PreparedPart::new(p, Part::Patronymic),
                    None => initials.get(1).and_then(|i| PreparedPart::new(i, Part::Patronymic)),
                };
            }
        }
        name
    }

    /// The similarity in [0, 1] (symmetric).
    pub fn similarity(&self, other: &PreparedName) -> f64 {
        self.score(other, None).0
    }

    /// The full comparison with verdict and rules.
    pub fn compare(&self, other: &PreparedName) -> Comparison {
        let mut rules = Vec::new();
        let (score, same, sex_differs) = self.score(other, Some(&mut rules));
        Comparison { score, same, sex_differs, rules }
    }

    fn score(&self, other: &PreparedName, mut rules: Option<&mut Vec<String>>) -> (f64, bool, bool) {
        let options = CompareOptions {
            loose_equivalents: self.options.loose_equivalents || other.options.loose_equivalents,
        };
        let slots = [
            (&self.surname, &other.surname, Part::Surname, 0.5),
            (&self.given, &other.given, Part::Given, 0.3),
            (&self.patronymic, &other.patronymic, Part::Patronymic, 0.2),
        ];
        let (mut total, mut weights, mut all_same, mut sex_differs) = (0.0, 0.0, true, false);
        for (a, b, part, weight) in slots {
            if let (Some(a), Some(b)) = (a, b) {
                let (score, differs) = compare_parts(a, b, part, options, rules.as_deref_mut());
                total += weight * score;
                weights += weight;
                all_same &= score >= SAME_THRESHOLD;
                sex_differs |= differs;
            }
        }
        if weights == 0.0 {
            if let Some(rules) = rules {
                rules.push("no comparable part".to_string());
            }
            return (0.0, false, false);
        }
        let mut score = total / weights;
        // A whole name whose surname and given name were read in opposite orders.
        let swapped = if self.part == Part::Full && other.part == Part::Full && score < SAME_THRESHOLD {
            self.swapped_score(other, options)
        } else {
            None
        };
        if let Some(swapped) = swapped.filter(|&s| s > score) {
            if let Some(rules) = rules {
                rules.push("surname and given name swapped".to_string());
            }
            score = swapped;
            all_same = swapped >= SAME_THRESHOLD;
        }
        (score, all_same && score >= SAME_THRESHOLD, sex_differs)
    }

    fn swapped_score(&self, other: &PreparedName, options: CompareOptions) -> Option<f64> {
        let (s1, g1, s2, g2) = (self.surname.as_ref()?, self.given.as_ref()?, other.surname.as_ref()?, other.given.as_ref()?);
        // Most pairs are plainly different: skip the two extra alignments unless the crossed
        // parts start alike and are of similar length.
        let plausible = |x: &PreparedPart, y: &PreparedPart| match (x.symbols.as_slice().first(), y.symbols.as_slice().first()) {
            (Some(&p), Some(&q)) => {
                COSTS.substitution_cost(p, q) < 0.5 && x.symbols.len.abs_diff(y.symbols.len) <= 3
            }
            _ => x.is_initial || y.is_initial,
        };
        if !plausible(s1, g2) || !plausible(g1, s2) {
            return None;
        }
        let (a, _) = compare_parts(s1, g2, Part::Surname, options, None);
        let (b, _) = compare_parts(g1, s2, Part::Given, options, None);
        // A small penalty: the straight reading is the likelier one.
        Some(((a + b) / 2.0 - 0.02).max(0.0))
    }
}

/// Compares two texts as the given part of a name.
pub fn compare(a: &str, b: &str, part: Part) -> Comparison {
    compare_with(a, b, part, CompareOptions::default())
}

/// [`compare`] with options.
pub fn compare_with(a: &str, b: &str, part: Part, options: CompareOptions) -> Comparison {
    PreparedName::with_options(a, part, options).compare(&PreparedName::with_options(b, part, options))
}

/// The similarity in [0, 1] of two texts as the given part of a name (prepare with
/// [`PreparedName`] when comparing one name many times).
pub fn similarity(a: &str, b: &str, part: Part) -> f64 {
    PreparedName::new(a, part).similarity(&PreparedName::new(b, part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_name_fits_in_few_cache_lines() {
        // Linkage and search compare names they fetch from all over memory: size is speed.
        assert!(std::mem::size_of::<PreparedName>() <= 256, "{}", std::mem::size_of::<PreparedName>());
    }

    #[test]
    fn variants_are_same_and_confusables_are_not() {
        for (a, b) in [("Ежов", "Yezhov"), ("Ежов", "Iejov"), ("Хрущёв", "Chruschtschow"), ("Kamenev", "Karnenev")] {
            let c = compare(a, b, Part::Surname);
            assert!(c.same, "{a} {b} {c:?}");
        }
        for (a, b) in [("Medved", "Medvedev"), ("Yezhov", "Yershov"), ("Andropov", "Andronov"), ("Petrov", "Petrenko")] {
            let c = compare(a, b, Part::Surname);
            assert!(!c.same, "{a} {b} {c:?}");
        }
    }

    #[test]
    fn a_latin_capital_h_in_a_cyrillic_name_is_the_cyrillic_letter() {
        // Memorial's Moscow list writes Hиколай (Latin H) 25 times: it compares as Николай does.
        for other in ["Николай", "Nikolai", "Nikolay"] {
            let (c, cyrillic) = (compare("Hиколай", other, Part::Given), compare("Николай", other, Part::Given));
            assert!(c.same && c.score == cyrillic.score, "{other} {c:?} {cyrillic:?}");
        }
        let c = compare("Hиколай Hаумович", "Николай Наумович", Part::Full);
        assert!(c.same && c.score >= 0.99, "{c:?}");
    }

    #[test]
    fn cyrillic_z_and_s_differ_while_a_latin_s_may_be_either() {
        // Захаров and Сахаров are different families; German writes both as Sacharow.
        let cyrillic = similarity("Захаров", "Сахаров", Part::Surname);
        assert!(cyrillic < 0.95 && !compare("Захаров", "Сахаров", Part::Surname).same, "{cyrillic}");
        for one in ["Захаров", "Сахаров"] {
            let c = compare(one, "Sacharow", Part::Surname);
            assert!(c.same && c.score > cyrillic, "{one} {c:?}");
        }
        for (a, b) in [("Кузнецов", "Kusnezow"), ("Ельцин", "Jelzin"), ("Морозов", "Morozov"), ("Васильев", "Wassiljew")] {
            assert!(compare(a, b, Part::Surname).same, "{a} {b}");
        }
    }

    #[test]
    fn a_german_sh_may_be_zh_where_cyrillic_zh_and_sh_differ() {
        assert!(compare("Жданов", "Shdanow", Part::Surname).same);
        assert!(compare("Шаров", "Sharov", Part::Surname).same);
        assert!(!compare("Жаров", "Шаров", Part::Surname).same);
        assert!(!compare("Zharov", "Sharov", Part::Surname).same);
    }

    #[test]
    fn gender_forms_are_same_family_name_with_sex_flag() {
        let c = compare("Иванова", "Ivanov", Part::Surname);
        assert!(c.same && c.sex_differs, "{c:?}");
        let c = compare("Гордиевская", "Gordievsky", Part::Surname);
        assert!(c.same && c.sex_differs, "{c:?}");
        let c = compare("Ивановна", "Ivanovich", Part::Patronymic);
        assert!(c.same && c.sex_differs, "{c:?}");
    }

    #[test]
    fn full_names_in_any_order_and_with_initials() {
        for (a, b) in [
            ("Ежов Николай Иванович", "Nikolai Ivanovich Yezhov"),
            ("Ежов Николай Иванович", "YEZHOV, Nikolai Ivanovich"),
            ("Ежов Николай Иванович", "N. I. Yezhov"),
            ("Ежов Н.И.", "Jeschow, Nikolai"),
        ] {
            let c = compare(a, b, Part::Full);
            assert!(c.same, "{a} | {b} {c:?}");
        }
        let c = compare("Ежов Николай Иванович", "Ежов Павел Иванович", Part::Full);
        assert!(!c.same, "{c:?}");
    }

    /// Which two values of a name a profile counts as one: spellings across scripts and
    /// systems, a dropped soft sign in a transliteration, the table's forms of a given name; not
    /// a dropped й or ь between two Cyrillic texts, another letter or an initial; and which
    /// initials fit which names across scripts.
    #[test]
    fn which_two_values_of_a_name_are_one_and_which_initials_fit() {
        let spelled: Vec<String> = [
            ("Ильин", "ILIN", Part::Surname),
            ("Ильин", "Ilyin", Part::Surname),
            ("Ilyin", "Ilin", Part::Surname),
            ("Ильин", "Илин", Part::Surname),
            ("Игорь", "Игор", Part::Given),
            ("Андрей", "Андре", Part::Given),
            ("Юрьевич", "Юревич", Part::Patronymic),
            ("Ковальов", "Ковалёв", Part::Surname),
            ("Александр", "Саша", Part::Given),
            ("Ильин Григорий", "Илин Григорий", Part::Full),
            ("Ежов Николай Иванович", "Ежов Николай", Part::Full),
            ("Иванов", "Иванев", Part::Surname),
            ("Геннадий", "G.", Part::Given),
        ]
        .iter()
        .map(|(a, b, part)| format!("{part} {a} / {b}: {}", one_name_spelled_two_ways(a, b, *part)))
        .collect();
        expect_test::expect![[r#"
            surname Ильин / ILIN: true
            surname Ильин / Ilyin: true
            surname Ilyin / Ilin: true
            surname Ильин / Илин: false
            given Игорь / Игор: false
            given Андрей / Андре: false
            patronymic Юрьевич / Юревич: false
            surname Ковальов / Ковалёв: true
            given Александр / Саша: true
            full Ильин Григорий / Илин Григорий: false
            full Ежов Николай Иванович / Ежов Николай: true
            surname Иванов / Иванев: false
            given Геннадий / G.: false"#]].assert_eq(&spelled.join("\n"));
        let fits: Vec<String> = [("G.", "Геннадий"), ("G", "Георгий"), ("Г.", "G."), ("Yu.", "Юрий"), ("Ю.", "Yuri"), ("Kh.", "Харитон"), ("G.", "Пётр"), ("Г.", "П.")]
            .iter()
            .map(|(initial, name)| format!("{initial} / {name}: {}", initial_fits(initial, name)))
            .collect();
        expect_test::expect![[r#"
            G. / Геннадий: true
            G / Георгий: true
            Г. / G.: true
            Yu. / Юрий: true
            Ю. / Yuri: true
            Kh. / Харитон: true
            G. / Пётр: false
            Г. / П.: false"#]].assert_eq(&fits.join("\n"));
    }
}
