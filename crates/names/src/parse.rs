//! Parsing a name field into surname, given name, patronymic, initials and particles, in either
//! order and either script ("Ежов Николай Иванович", "N. I. Yezhov", "YEZHOV, Nikolai Ivanovich").

use crate::phonetic::is_cyrillic;
use model::Sex;
use serde::Serialize;

/// The writing system of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Script {
    Cyrillic,
    Latin,
    /// Letters of both.
    Mixed,
    /// No Cyrillic or Latin letters.
    Other,
}

/// A name field split into parts. Texts are kept as written (trimmed), not normalised.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ParsedName {
    pub surname: Option<String>,
    /// The given name, when written in full (an initial goes to `initials` only).
    pub given: Option<String>,
    /// The patronymic, when written in full.
    pub patronymic: Option<String>,
    /// Initials of the given name and the patronymic, in order, whether written out or not.
    pub initials: Vec<String>,
    /// Particles of the surname (von, de, ibn, оглы...).
    pub particles: Vec<String>,
    pub script: Option<Script>,
    /// Sex inferred from the patronymic, the given name or the surname's ending.
    pub sex: Option<Sex>,
}

const PARTICLES: &[&str] = &[
    "von", "van", "de", "der", "den", "di", "da", "du", "del", "della", "le", "la", "ibn", "bin", "ben", "al", "el",
    "фон", "ван", "де", "ди", "оглы", "кызы", "ибн", "бен",
];

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Initial(String),
    Particle(String),
}

/// Detects the script of `text`.
pub fn script_of(text: &str) -> Script {
    let (mut cyrillic, mut latin) = (false, false);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        if is_cyrillic(c) {
            cyrillic = true;
        } else if c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c) {
            latin = true;
        }
    }
    match (cyrillic, latin) {
        (true, true) => Script::Mixed,
        (true, false) => Script::Cyrillic,
        (false, true) => Script::Latin,
        (false, false) => Script::Other,
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || c == ',') {
        // "Н.И." and "N.I." are two initials.
        let pieces: Vec<&str> = raw.split_inclusive('.').filter(|p| !p.is_empty()).collect();
        for piece in pieces {
            let letters: String = piece.chars().filter(|c| c.is_alphabetic() || *c == '-' || *c == '\'' || *c == '’').collect();
            let letter_count = letters.chars().filter(|c| c.is_alphabetic()).count();
            if letter_count == 0 {
                continue;
            }
            let dotted = piece.ends_with('.');
            if letter_count == 1 || (dotted && letter_count <= 2) {
                tokens.push(Token::Initial(letters));
            } else if PARTICLES.contains(&letters.to_lowercase().as_str()) {
                tokens.push(Token::Particle(letters));
            } else {
                tokens.push(Token::Word(letters));
            }
        }
    }
    tokens
}

const PATRONYMIC_ENDINGS: &[&str] = &[
    "вич", "вна", "ична", "ьич", "ьинична", "vich", "vitch", "witsch", "wicz", "vič", "ovna", "evna", "owna",
    "ewna", "ichna", "yevna", "ievna", "ovny", "ovno",
];
const MASCULINE_PATRONYMIC: &[&str] = &["вич", "ьич", "ич", "vich", "vitch", "witsch", "wicz", "vič", "yich", "ich"];
const FEMININE_PATRONYMIC: &[&str] = &["вна", "ична", "ovna", "evna", "owna", "ewna", "ichna"];
const SURNAME_ENDINGS: &[&str] = &[
    "ов", "ев", "ёв", "ин", "ын", "ский", "цкий", "ская", "цкая", "ова", "ева", "ина", "ына", "енко", "ук", "юк",
    "ov", "ev", "in", "yn", "sky", "ski", "skiy", "skij", "skii", "skaya", "skaja", "ska", "ova", "eva", "ina",
    "enko", "ow", "ew", "off", "uk", "yuk", "juk",
];
const FEMININE_SURNAME: &[&str] = &[
    "ова", "ева", "ёва", "ина", "ына", "ская", "цкая", "ая", "ova", "eva", "ina", "yna", "skaya", "skaja", "skaia",
    "ska", "owa", "ewa", "aya", "aja",
];
const MASCULINE_SURNAME: &[&str] = &[
    "ов", "ев", "ёв", "ин", "ын", "ский", "цкий", "ой", "ый", "ov", "ev", "in", "yn", "sky", "ski", "skiy", "skij",
    "skii", "ow", "ew", "off",
];

fn ends_with_any(word: &str, endings: &[&str]) -> bool {
    let lower = word.to_lowercase();
    endings.iter().any(|e| lower.ends_with(e) && lower.chars().count() > e.chars().count() + 1)
}

fn is_patronymic(word: &str) -> bool {
    ends_with_any(word, PATRONYMIC_ENDINGS)
}

/// Whether a patronymic-looking word is built on a known given name (Иванович ← Иван,
/// Sergeyevich ← Sergey), which tells it from a surname in -ович (Шостакович, Kaganovich).
fn is_patronymic_of_known_name(word: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "ьевич", "ьевна", "евич", "евна", "ович", "овна", "ич", "ична", "yevich", "yevna", "ievich", "ievna",
        "jewitsch", "jewna", "evich", "evna", "ovich", "ovna", "ovitch", "owitsch", "ewitsch", "owicz", "ewicz",
        "owna", "ewna", "ovič", "evič", "ich", "itch", "itsch",
    ];
    let lower = word.to_lowercase();
    SUFFIXES.iter().filter(|s| lower.ends_with(*s)).any(|suffix| {
        let stem = &lower[..lower.len() - suffix.len()];
        ["", "й", "ь", "i", "y", "j", "ий"].iter().any(|end| {
            let candidate = format!("{stem}{end}");
            candidate.chars().count() >= 2 && crate::given::is_known_given(&candidate)
        })
    })
}

fn looks_like_surname(word: &str) -> bool {
    ends_with_any(word, SURNAME_ENDINGS) && !crate::given::is_known_given(word)
}

fn is_upper_word(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() > 1 && word.chars().all(|c| !c.is_lowercase())
}

/// Parses a name field. Never fails: an unparseable field gives a name with fewer parts.
pub fn parse(text: &str) -> ParsedName {
    let script = script_of(text);
    let mut parsed = ParsedName { script: Some(script), ..Default::default() };
    let (before_comma, after_comma) = match text.split_once(',') {
        Some((left, right)) => (tokenize(left), Some(tokenize(right))),
        None => (tokenize(text), None),
    };
    let mut initials: Vec<String> = Vec::new();
    let push_particles = |tokens: &[Token], parsed: &mut ParsedName| {
        for t in tokens {
            if let Token::Particle(p) = t {
                parsed.particles.push(p.clone());
            }
        }
    };
    push_particles(&before_comma, &mut parsed);
    let words = |tokens: &[Token]| -> Vec<String> {
        tokens.iter().filter_map(|t| if let Token::Word(w) = t { Some(w.clone()) } else { None }).collect()
    };
    let initials_of = |tokens: &[Token]| -> Vec<String> {
        tokens.iter().filter_map(|t| if let Token::Initial(w) = t { Some(w.clone()) } else { None }).collect()
    };
    let mut rest: Vec<String>;
    if let Some(after) = after_comma {
        // "SURNAME, Given Patronymic": the comma fixes the order.
        push_particles(&after, &mut parsed);
        let surname_words = words(&before_comma);
        parsed.surname = (!surname_words.is_empty()).then(|| surname_words.join(" "));
        initials.extend(initials_of(&before_comma));
        initials.extend(initials_of(&after));
        rest = words(&after);
        assign_given_patronymic(&mut parsed, &mut rest);
    } else {
        initials.extend(initials_of(&before_comma));
        let mut all = words(&before_comma);
        if all.is_empty() {
            // A name that is only a particle-like word ("Da", "Ben") is a name after all.
            all = parsed.particles.drain(..).collect();
        }
        assign_without_comma(&mut parsed, &mut all, script, !initials.is_empty());
    }
    // Initials of parts written in full come first; explicit initials fill what is missing.
    let mut all_initials = Vec::new();
    let first_letter = |s: &str| s.chars().find(|c| c.is_alphabetic()).map(|c| c.to_uppercase().to_string());
    if let Some(g) = &parsed.given {
        all_initials.extend(first_letter(g));
    }
    let mut explicit = initials.into_iter();
    if parsed.given.is_none() {
        all_initials.extend(explicit.next());
    }
    if let Some(p) = &parsed.patronymic {
        all_initials.extend(first_letter(p));
    } else {
        all_initials.extend(explicit.next());
    }
    all_initials.extend(explicit);
    parsed.initials = all_initials;
    parsed.sex = infer_sex(&parsed);
    parsed
}

/// [`parse`], when the text itself tells which word is the surname: a comma after it
/// ("SERGEEW, Gennadij G."), a patronymic in its place ("Ежов Николай Иванович", "Nikolai
/// Ivanovich Yezhov"), capitals ("SERGEEW Gennadij"), initials beside it ("Ежов Н.И."), or the
/// given-name table and the surnames' endings ("Сергеев Геннадий", "Gennadij Sergeew"), with
/// nothing pointing the other way. `None` where only the script's usual order placed the words
/// ("Ли Ван", "Кох", "Лазарь Моисеевич Каганович", whose last word reads as a patronymic): a
/// caller that sets the parts against parts given elsewhere must not take a guess for a reading.
pub fn parse_unambiguous(text: &str) -> Option<ParsedName> {
    let parsed = parse(text);
    if text.contains(',') {
        return parsed.surname.is_some().then_some(parsed);
    }
    let tokens = tokenize(text);
    let has_initials = tokens.iter().any(|t| matches!(t, Token::Initial(_)));
    let words: Vec<&str> = tokens.iter().filter_map(|t| if let Token::Word(w) = t { Some(w.as_str()) } else { None }).collect();
    let Some(surname) = parsed.surname.as_deref() else {
        // A given name alone, or with its patronymic: the parser placed it by the table.
        return Some(parsed);
    };
    let known = crate::given::is_known_given;
    let Some(given) = parsed.given.as_deref().and_then(|g| g.split_whitespace().next()) else {
        // One word, the surname: a known given name could be the one word as well.
        return (!known(surname) && (looks_like_surname(surname) || has_initials)).then_some(parsed);
    };
    // A patronymic fixes the order where it alone stands second or last.
    let patronymic_placed = words.len() >= 3 && parsed.patronymic.is_some() && (is_patronymic(words[1]) != is_patronymic(words[words.len() - 1]));
    let capitals = is_upper_word(surname) && !is_upper_word(given);
    let known_for = known(given) && !known(surname);
    let ending_for = looks_like_surname(surname) && !looks_like_surname(given);
    let against = (known(surname) && !known(given))
        || (looks_like_surname(given) && !looks_like_surname(surname))
        || (is_upper_word(given) && !is_upper_word(surname));
    ((patronymic_placed || capitals || known_for || ending_for) && !against).then_some(parsed)
}

fn assign_given_patronymic(parsed: &mut ParsedName, rest: &mut Vec<String>) {
    if rest.is_empty() {
        return;
    }
    let given = rest.remove(0);
    parsed.given = Some(given);
    if let Some(position) = rest.iter().rposition(|w| is_patronymic(w)) {
        parsed.patronymic = Some(rest.remove(position));
    } else if rest.len() == 1 && script_of(&rest[0]) == Script::Cyrillic {
        parsed.patronymic = Some(rest.remove(0));
    }
    if !rest.is_empty() {
        let extra = rest.join(" ");
        if let Some(g) = parsed.given.as_mut() {
            g.push(' ');
            g.push_str(&extra);
        }
    }
}

fn assign_without_comma(parsed: &mut ParsedName, words: &mut Vec<String>, script: Script, has_initials: bool) {
    match words.len() {
        0 => {}
        1 => {
            let word = words.remove(0);
            if !has_initials && crate::given::is_known_given(&word) && !looks_like_surname(&word) {
                parsed.given = Some(word);
            } else {
                parsed.surname = Some(word);
            }
        }
        2 => {
            let (a, b) = (words[0].clone(), words[1].clone());
            if is_patronymic(&b) && !is_patronymic(&a) && !has_initials && is_patronymic_of_known_name(&b) {
                // "Николай Иванович"
                parsed.given = Some(a);
                parsed.patronymic = Some(b);
            } else if surname_first(&a, &b, script) {
                parsed.surname = Some(a);
                parsed.given = Some(b);
            } else {
                parsed.given = Some(a);
                parsed.surname = Some(b);
            }
        }
        _ => {
            let last = words.len() - 1;
            let (surname_index, patronymic_index) = if is_patronymic(&words[last]) {
                (0, Some(last))
            } else if is_patronymic(&words[1]) {
                (last, Some(1))
            } else if is_upper_word(&words[last]) && !is_upper_word(&words[0]) {
                (last, None)
            } else if script == Script::Cyrillic || is_upper_word(&words[0]) {
                (0, Some(last))
            } else {
                (last, None)
            };
            parsed.surname = Some(words[surname_index].clone());
            parsed.patronymic = patronymic_index.map(|i| words[i].clone());
            let given: Vec<String> = words
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != surname_index && Some(*i) != patronymic_index)
                .map(|(_, w)| w.clone())
                .collect();
            parsed.given = (!given.is_empty()).then(|| given.join(" "));
        }
    }
}

/// Whether, of two words, the first is the surname.
fn surname_first(a: &str, b: &str, script: Script) -> bool {
    let (a_given, b_given) = (crate::given::is_known_given(a), crate::given::is_known_given(b));
    if a_given != b_given {
        return b_given;
    }
    if is_upper_word(a) != is_upper_word(b) {
        return is_upper_word(a);
    }
    let (a_surname, b_surname) = (looks_like_surname(a), looks_like_surname(b));
    if a_surname != b_surname {
        return a_surname;
    }
    // Both may be given names by the table's coarse keys (Iejov, a French spelling of Ежов, keys
    // as Иов): a surname's ending still tells them apart.
    let (a_ending, b_ending) = (ends_with_any(a, SURNAME_ENDINGS), ends_with_any(b, SURNAME_ENDINGS));
    if a_ending != b_ending {
        return a_ending;
    }
    script == Script::Cyrillic
}

fn infer_sex(parsed: &ParsedName) -> Option<Sex> {
    if let Some(p) = &parsed.patronymic {
        if ends_with_any(p, FEMININE_PATRONYMIC) {
            return Some(Sex::Female);
        }
        if ends_with_any(p, MASCULINE_PATRONYMIC) {
            return Some(Sex::Male);
        }
    }
    if let Some(sex) = parsed.given.as_deref().and_then(crate::given::given_sex) {
        return Some(sex);
    }
    let surname = parsed.surname.as_deref()?;
    if ends_with_any(surname, FEMININE_SURNAME) {
        Some(Sex::Female)
    } else if ends_with_any(surname, MASCULINE_SURNAME) {
        Some(Sex::Male)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(input: &str, expect: Expect) {
        let p = parse(input);
        let show = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".to_string());
        let actual = format!(
            "surname={} given={} patronymic={} initials={} particles={} script={:?} sex={:?}",
            show(&p.surname),
            show(&p.given),
            show(&p.patronymic),
            p.initials.join("."),
            p.particles.join(" "),
            p.script.unwrap_or(Script::Other),
            p.sex
        );
        expect.assert_eq(&actual);
    }

    #[test]
    fn parses_the_usual_shapes() {
        check(
            "Ежов Николай Иванович",
            expect!["surname=Ежов given=Николай patronymic=Иванович initials=Н.И particles= script=Cyrillic sex=Some(Male)"],
        );
        check("N. I. Yezhov", expect!["surname=Yezhov given=- patronymic=- initials=N.I particles= script=Latin sex=Some(Male)"]);
        check(
            "YEZHOV, Nikolai Ivanovich",
            expect!["surname=YEZHOV given=Nikolai patronymic=Ivanovich initials=N.I particles= script=Latin sex=Some(Male)"],
        );
        check("Ежов Н.И.", expect!["surname=Ежов given=- patronymic=- initials=Н.И particles= script=Cyrillic sex=Some(Male)"]);
        check(
            "Nikolai Ivanovich Yezhov",
            expect!["surname=Yezhov given=Nikolai patronymic=Ivanovich initials=N.I particles= script=Latin sex=Some(Male)"],
        );
        check(
            "Иванова Мария Петровна",
            expect!["surname=Иванова given=Мария patronymic=Петровна initials=М.П particles= script=Cyrillic sex=Some(Female)"],
        );
        check("Maria Ivanova", expect!["surname=Ivanova given=Maria patronymic=- initials=M particles= script=Latin sex=Some(Female)"]);
        check("Dmitri Schostakowitsch", expect!["surname=Schostakowitsch given=Dmitri patronymic=- initials=D particles= script=Latin sex=Some(Male)"]);
        check("Николай Иванович", expect!["surname=- given=Николай patronymic=Иванович initials=Н.И particles= script=Cyrillic sex=Some(Male)"]);
        // Iejov keys as the given name Иов, Nikolai as Николай: the ending -ov makes Iejov the surname.
        check("Iejov Nikolai", expect!["surname=Iejov given=Nikolai patronymic=- initials=N particles= script=Latin sex=Some(Male)"]);
        check("фон Мекк Надежда", expect!["surname=Мекк given=Надежда patronymic=- initials=Н particles=фон script=Cyrillic sex=Some(Female)"]);
        check(
            "Каганович Лазарь Моисеевич",
            expect!["surname=Каганович given=Лазарь patronymic=Моисеевич initials=Л.М particles= script=Cyrillic sex=Some(Male)"],
        );
    }

    /// A whole name is read into parts only where the text tells which word is the surname;
    /// where only the script's usual order would, there is no reading.
    #[test]
    fn only_names_whose_order_the_text_tells_are_read() {
        let shown: Vec<String> = [
            "SERGEEW, Gennadij G.",
            "SERGEEW Gennadij",
            "Сергеев Геннадий",
            "Геннадий Сергеев",
            "Gennadij Sergeew",
            "Ежов Николай Иванович",
            "Nikolai Ivanovich Yezhov",
            "Ежов Н.И.",
            "Ежов",
            "Николай Иванович",
            "Ли Ван",
            "Кох",
            "Борис Ф.",
            "Лазарь Моисеевич Каганович",
            "Ivanov Petrov",
        ]
        .iter()
        .map(|text| match parse_unambiguous(text) {
            Some(p) => format!("{text}: {} / {} / {}", p.surname.unwrap_or_default(), p.given.unwrap_or_default(), p.patronymic.unwrap_or_default()),
            None => format!("{text}: -"),
        })
        .collect();
        expect![[r#"
            SERGEEW, Gennadij G.: SERGEEW / Gennadij / 
            SERGEEW Gennadij: SERGEEW / Gennadij / 
            Сергеев Геннадий: Сергеев / Геннадий / 
            Геннадий Сергеев: Сергеев / Геннадий / 
            Gennadij Sergeew: Sergeew / Gennadij / 
            Ежов Николай Иванович: Ежов / Николай / Иванович
            Nikolai Ivanovich Yezhov: Yezhov / Nikolai / Ivanovich
            Ежов Н.И.: Ежов /  / 
            Ежов: Ежов /  / 
            Николай Иванович:  / Николай / Иванович
            Ли Ван: -
            Кох: -
            Борис Ф.: -
            Лазарь Моисеевич Каганович: -
            Ivanov Petrov: -"#]].assert_eq(&shown.join("\n"));
    }
}
