//! Cross-language vocabularies for free-text fields: a gazetteer of historical place names, tables
//! of occupations and nationalities, each resolving a value in any language or script to a concept.
//!
//! Lists of one person write his birthplace in the language of the list (Ковно, Kaunas, Kowno) and
//! his occupation too (колхозник, collective farmer); spelling similarity sees nothing in common.
//! The tables (`data/places.tsv`, `data/occupations.tsv`) say which forms are one concept. Values
//! are matched on a folded phonetic form (so one spelling per language covers its transliterations),
//! then without generic words ("г.", "oblast"), then as their longest known part (occupations) and
//! finally within one edit of a single concept's form (OCR). Resolution runs once per distinct value.

use crate::compare::within_one_edit;
use crate::namekey::{normalize, phonetic};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// A concept a value resolved to: its index and its group (occupations; places have none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub concept: u32,
    pub group: Option<u32>,
}

/// One vocabulary: forms (folded) to concepts.
#[derive(Debug)]
pub struct Vocabulary {
    ids: Vec<String>,
    groups: Vec<Option<u32>>,
    group_names: Vec<String>,
    index: HashMap<String, u32>,
    /// Folded forms as characters, by length, for the one-edit fallback.
    forms_by_len: Vec<Vec<(Vec<char>, u32)>>,
    generic: HashSet<String>,
    /// Whether a longer value takes the concept of its longest known part.
    match_parts: bool,
    /// Forms that fold like a form of another concept: dropped, and listed for the tests.
    pub ambiguous: Vec<String>,
}

/// The place gazetteer.
pub fn places() -> &'static Vocabulary {
    static PLACES: LazyLock<Vocabulary> =
        LazyLock::new(|| Vocabulary::parse(include_str!("../data/places.tsv"), false, false));
    &PLACES
}

/// The nationality vocabulary.
pub fn nationalities() -> &'static Vocabulary {
    static NATIONALITIES: LazyLock<Vocabulary> =
        LazyLock::new(|| Vocabulary::parse(include_str!("../data/nationalities.tsv"), false, false));
    &NATIONALITIES
}

/// The occupation vocabulary.
pub fn occupations() -> &'static Vocabulary {
    static OCCUPATIONS: LazyLock<Vocabulary> =
        LazyLock::new(|| Vocabulary::parse(include_str!("../data/occupations.tsv"), true, true));
    &OCCUPATIONS
}

/// The form a value is looked up by: apostrophes and soft signs dropped (Vil'no, Вільно), folded
/// to phonetic Latin, spaces and hyphens removed.
pub fn folded(text: &str) -> String {
    let cleaned: String = text.chars().filter(|c| !matches!(c, '\'' | '’' | 'ʼ' | 'ʹ' | '`')).collect();
    phonetic(&normalize(&cleaned)).chars().filter(|c| *c != ' ').collect()
}

/// Folded forms shorter than this are looked up exactly only (Тула, Уфа are one edit from much).
const MIN_FUZZY_LEN: usize = 5;

impl Vocabulary {
    /// Parses `id <TAB> [group <TAB>] forms|...` lines (`#` comments, `!generic` words).
    fn parse(text: &str, grouped: bool, match_parts: bool) -> Vocabulary {
        let mut v = Vocabulary {
            ids: Vec::new(),
            groups: Vec::new(),
            group_names: Vec::new(),
            index: HashMap::new(),
            forms_by_len: Vec::new(),
            generic: HashSet::new(),
            match_parts,
            ambiguous: Vec::new(),
        };
        let mut conflicted: HashSet<String> = HashSet::new();
        for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let cells: Vec<&str> = line.split('\t').collect();
            if cells[0] == "!generic" {
                for word in cells.get(1).unwrap_or(&"").split('|') {
                    v.generic.extend(normalize(word).split(' ').filter(|w| !w.is_empty()).map(str::to_owned));
                }
                continue;
            }
            let (id, group, forms) = match (grouped, cells.as_slice()) {
                (true, [id, group, forms]) => (*id, Some(*group), *forms),
                (false, [id, forms]) => (*id, None, *forms),
                _ => panic!("vocabulary line {line:?}: expected {} tab-separated cells", if grouped { 3 } else { 2 }),
            };
            let concept = v.ids.len() as u32;
            v.ids.push(id.to_owned());
            v.groups.push(group.map(|g| match v.group_names.iter().position(|n| n == g) {
                Some(i) => i as u32,
                None => {
                    v.group_names.push(g.to_owned());
                    v.group_names.len() as u32 - 1
                }
            }));
            for form in forms.split('|') {
                let key = folded(form);
                if key.is_empty() || conflicted.contains(&key) {
                    continue;
                }
                match v.index.get(&key) {
                    Some(&other) if other != concept => {
                        v.ambiguous.push(format!("{form} ({} / {id})", v.ids[other as usize]));
                        v.index.remove(&key);
                        conflicted.insert(key);
                    }
                    _ => {
                        v.index.insert(key, concept);
                    }
                }
            }
        }
        let mut by_len: Vec<Vec<(Vec<char>, u32)>> = Vec::new();
        let mut sorted: Vec<(&String, &u32)> = v.index.iter().collect();
        sorted.sort();
        for (key, &concept) in sorted {
            let chars: Vec<char> = key.chars().collect();
            if by_len.len() <= chars.len() {
                by_len.resize(chars.len() + 1, Vec::new());
            }
            by_len[chars.len()].push((chars, concept));
        }
        v.forms_by_len = by_len;
        v
    }

    pub fn id(&self, concept: u32) -> &str {
        &self.ids[concept as usize]
    }

    pub fn group_name(&self, group: u32) -> &str {
        &self.group_names[group as usize]
    }

    fn resolved(&self, concept: u32) -> Resolved {
        Resolved { concept, group: self.groups[concept as usize] }
    }

    /// The concept a value stands for, if the vocabulary knows it.
    pub fn resolve(&self, text: &str) -> Option<Resolved> {
        if let Some(c) = self.resolve_exact(text) {
            return Some(self.resolved(c));
        }
        let words = self.words(text);
        if self.match_parts {
            for len in (1..words.len()).rev() {
                for start in 0..=words.len() - len {
                    if let Some(&c) = self.index.get(&folded(&words[start..start + len].join(" "))) {
                        return Some(self.resolved(c));
                    }
                }
            }
        } else if let Some(c) = self.settlement_of_parts(text) {
            return Some(self.resolved(c));
        }
        (!words.is_empty()).then(|| self.within_one_edit(&folded(&words.join(" ")))).flatten().map(|c| self.resolved(c))
    }

    /// The value's words without the generic ones.
    fn words(&self, text: &str) -> Vec<String> {
        let cleaned: String = text.chars().filter(|c| !matches!(c, '\'' | '’' | 'ʼ' | 'ʹ' | '`')).collect();
        normalize(&cleaned).split(' ').filter(|w| !w.is_empty() && !self.generic.contains(*w)).map(str::to_owned).collect()
    }

    /// A form as written, or without its generic words ("г. Вильнюс", "Kyiv oblast").
    fn resolve_exact(&self, text: &str) -> Option<u32> {
        if let Some(&c) = self.index.get(&folded(text)) {
            return Some(c);
        }
        let words = self.words(text);
        (!words.is_empty()).then(|| self.index.get(&folded(&words.join(" "))).copied()).flatten()
    }

    /// An address of several parts ("Киевская обл., г. Белая Церковь"; "Вильно, Антоколь") is the
    /// one settlement (not region, ids `region_*`) its parts name exactly, if they name one: a
    /// village of a known region is not that region, so regions alone resolve nothing.
    fn settlement_of_parts(&self, text: &str) -> Option<u32> {
        let mut found: Option<u32> = None;
        for part in text.split([',', ';']).filter(|p| !p.trim().is_empty()) {
            match self.resolve_exact(part) {
                Some(c) if !self.ids[c as usize].starts_with("region_") => match found {
                    Some(f) if f != c => return None,
                    _ => found = Some(c),
                },
                _ => {}
            }
        }
        found
    }

    /// The one concept with a form within one edit of `form`, if exactly one has.
    fn within_one_edit(&self, form: &str) -> Option<u32> {
        let chars: Vec<char> = form.chars().collect();
        if chars.len() < MIN_FUZZY_LEN {
            return None;
        }
        let mut found: Option<u32> = None;
        for len in chars.len() - 1..=chars.len() + 1 {
            for (candidate, concept) in self.forms_by_len.get(len).into_iter().flatten() {
                if within_one_edit(&chars, candidate) {
                    match found {
                        Some(f) if f != *concept => return None,
                        _ => found = Some(*concept),
                    }
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn check(vocabulary: &Vocabulary, values: &[&str], expect: Expect) {
        let shown: Vec<String> = values
            .iter()
            .map(|v| {
                let r = vocabulary.resolve(v);
                let concept = r.map_or("-".to_owned(), |r| vocabulary.id(r.concept).to_owned());
                let group = r.and_then(|r| r.group).map_or(String::new(), |g| format!(" ({})", vocabulary.group_name(g)));
                format!("{v}: {concept}{group}")
            })
            .collect();
        expect.assert_eq(&shown.join("\n"));
    }

    #[test]
    fn no_form_folds_onto_two_concepts() {
        assert_eq!(places().ambiguous, Vec::<String>::new());
        assert_eq!(occupations().ambiguous, Vec::<String>::new());
        assert_eq!(nationalities().ambiguous, Vec::<String>::new());
    }

    #[test]
    fn places_resolve_across_languages_scripts_and_renamings() {
        check(
            places(),
            &[
                "Ковно", "Kaunas", "Kowno", "Kauen", "Вильно", "Vil'no", "Wilna", "Vilnius", "Львів", "Lwów", "Lemberg",
                "Харьков", "Kharkiv", "Charkow", "Charkovas", "Екатеринослав", "Днепропетровск", "Jekaterinoslaw",
                "Schitomir", "Oryol", "Орёл", "Tverė", "г. Вильнюс", "Киевская обл.", "Kyiv oblast", "Kaunass",
                "Тула", "Тулы", "Ракитно", "Киевская обл., г. Белая Церковь", "Ракитно, Kyiv oblast",
                "Вильно, Антоколь", "УССР, Киевская обл., г. Киев", "Минская обл., Минский р-н, д. Вишневка",
            ],
            expect![[r#"
                Ковно: kaunas
                Kaunas: kaunas
                Kowno: kaunas
                Kauen: kaunas
                Вильно: vilnius
                Vil'no: vilnius
                Wilna: vilnius
                Vilnius: vilnius
                Львів: lviv
                Lwów: lviv
                Lemberg: lviv
                Харьков: kharkiv
                Kharkiv: kharkiv
                Charkow: kharkiv
                Charkovas: kharkiv
                Екатеринослав: dnipro
                Днепропетровск: dnipro
                Jekaterinoslaw: dnipro
                Schitomir: zhytomyr
                Oryol: oryol
                Орёл: oryol
                Tverė: tver
                г. Вильнюс: vilnius
                Киевская обл.: region_kyiv
                Kyiv oblast: region_kyiv
                Kaunass: kaunas
                Тула: tula
                Тулы: -
                Ракитно: -
                Киевская обл., г. Белая Церковь: -
                Ракитно, Kyiv oblast: -
                Вильно, Антоколь: vilnius
                УССР, Киевская обл., г. Киев: kyiv
                Минская обл., Минский р-н, д. Вишневка: -"#]],
        );
    }

    /// The example of defectors (`examples/defectors`) writes places of flight and occupations in
    /// Russian on the KGB's list and in English in the Western press: each pair is one concept.
    #[test]
    fn places_of_defection_and_defectors_occupations_resolve_across_languages() {
        let pairs: [(&Vocabulary, &str, &str); 19] = [
            (places(), "Монреаль", "Montréal"),
            (places(), "Стокгольм", "Stockholm"),
            (places(), "Париж", "Paris"),
            (places(), "Токио", "Tokyo"),
            (places(), "Лондон", "London"),
            (places(), "Нью-Йорк", "New York"),
            (places(), "Хельсинки", "Helsingfors"),
            (places(), "Відень", "Vienna"),
            (places(), "Бейрут", "Beirut"),
            (places(), "Западный Берлин", "Berlin"),
            (occupations(), "переводчик", "interpreter"),
            (occupations(), "шахматист", "chess player"),
            (occupations(), "физик", "physicist"),
            (occupations(), "дипломат", "diplomat"),
            (occupations(), "артист балета", "ballet dancer"),
            (occupations(), "сотрудник торгпредства", "trade mission employee"),
            (occupations(), "лётчик", "pilot"),
            (occupations(), "спортсмен", "athlete"),
            (occupations(), "певица", "Sänger"),
        ];
        let shown: Vec<String> = pairs
            .iter()
            .map(|(vocabulary, russian, other)| {
                let concept = |text: &str| {
                    let r = vocabulary.resolve(text);
                    let group = r.and_then(|r| r.group).map_or(String::new(), |g| format!(" ({})", vocabulary.group_name(g)));
                    r.map_or("-".to_owned(), |r| vocabulary.id(r.concept).to_owned()) + &group
                };
                format!("{russian}: {} / {other}: {}", concept(russian), concept(other))
            })
            .collect();
        expect![[r#"
            Монреаль: montreal / Montréal: montreal
            Стокгольм: stockholm / Stockholm: stockholm
            Париж: paris / Paris: paris
            Токио: tokyo / Tokyo: tokyo
            Лондон: london / London: london
            Нью-Йорк: new_york / New York: new_york
            Хельсинки: helsinki / Helsingfors: helsinki
            Відень: vienna / Vienna: vienna
            Бейрут: beirut / Beirut: beirut
            Западный Берлин: berlin / Berlin: berlin
            переводчик: interpreter (foreign_service) / interpreter: interpreter (foreign_service)
            шахматист: chess_player (sport) / chess player: chess_player (sport)
            физик: physicist (education) / physicist: physicist (education)
            дипломат: diplomat (foreign_service) / diplomat: diplomat (foreign_service)
            артист балета: dancer (arts) / ballet dancer: dancer (arts)
            сотрудник торгпредства: trade_mission_employee (foreign_service) / trade mission employee: trade_mission_employee (foreign_service)
            лётчик: pilot (transport) / pilot: pilot (transport)
            спортсмен: athlete (sport) / athlete: athlete (sport)
            певица: singer (arts) / Sänger: singer (arts)"#]].assert_eq(&shown.join("\n"));
    }

    #[test]
    fn nationalities_resolve_across_languages() {
        check(
            nationalities(),
            &["литовец", "литовка", "lietuvis", "Lithuanian", "латыш", "Latvian", "украинка", "українець", "еврей", "žydas", "Jewish", "русский", "rusas", "эскимос"],
            expect![[r#"
                литовец: lithuanian
                литовка: lithuanian
                lietuvis: lithuanian
                Lithuanian: lithuanian
                латыш: latvian
                Latvian: latvian
                украинка: ukrainian
                українець: ukrainian
                еврей: jewish
                žydas: jewish
                Jewish: jewish
                русский: russian
                rusas: russian
                эскимос: -"#]],
        );
    }

    #[test]
    fn occupations_resolve_across_languages_with_their_group() {
        check(
            occupations(),
            &[
                "колхозник", "колгоспник", "kolūkietis", "collective farmer", "Kolchosbauer", "kolkhoznik", "крестьянин",
                "рабочий", "worker", "Arbeiter", "rabochiy", "рабочий завода", "колхозник колхоза им. Ленина",
                "директор школы", "school principal", "счетовод", "bookkeeper", "accountant", "engine driver",
                "шофёр", "сапожник артели", "колхознвк", "астроном",
            ],
            expect![[r#"
                колхозник: collective_farmer (agriculture)
                колгоспник: collective_farmer (agriculture)
                kolūkietis: collective_farmer (agriculture)
                collective farmer: collective_farmer (agriculture)
                Kolchosbauer: collective_farmer (agriculture)
                kolkhoznik: collective_farmer (agriculture)
                крестьянин: peasant (agriculture)
                рабочий: worker (industry)
                worker: worker (industry)
                Arbeiter: worker (industry)
                rabochiy: worker (industry)
                рабочий завода: worker (industry)
                колхозник колхоза им. Ленина: collective_farmer (agriculture)
                директор школы: school_principal (education)
                school principal: school_principal (education)
                счетовод: bookkeeper (office)
                bookkeeper: bookkeeper (office)
                accountant: accountant (office)
                engine driver: engine_driver (transport)
                шофёр: driver (transport)
                сапожник артели: shoemaker (crafts)
                колхознвк: collective_farmer (agriculture)
                астроном: -"#]],
        );
    }
}
