//! Given-name equivalents and diminutives (Александр/Саша/Aleksander/Oleksandr...), from the data
//! table `data/given_names.tsv`, looked up by matching key so transliteration variants need no rows.

use crate::normalize::normalize;
use crate::phonetic;
use model::Sex;
use std::collections::HashMap;
use std::sync::LazyLock;

const TABLE: &str = include_str!("../data/given_names.tsv");

/// How two given names relate through the equivalence table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum GivenNameMatch {
    /// Forms of one name (a diminutive, a Ukrainian, Belarusian, Polish or Lithuanian form).
    Equivalent,
    /// Related only through a Western translation (Иван/John, Юрий/George): counted only when
    /// [`crate::CompareOptions::loose_equivalents`] is set.
    Loose,
}

/// One group of the table: its sex and whether a member is only loosely equivalent.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Membership {
    pub group: u16,
    pub loose: bool,
}

/// The groups of one lookup key.
#[derive(Debug, Default)]
pub(crate) struct KeyGroups {
    /// The groups a name with this key belongs to when it is not one of `forms`.
    pub by_key: Vec<Membership>,
    /// Where more than one group has a form with this key (Мария and Марио): each such form as
    /// normalized, with the groups that list it as written, which decide for it before the key.
    pub forms: Vec<(String, Vec<Membership>)>,
}

pub(crate) struct GivenTable {
    pub by_key: HashMap<String, KeyGroups>,
    pub sex: Vec<Sex>,
}

pub(crate) static GIVEN: LazyLock<GivenTable> = LazyLock::new(|| {
    let mut by_key: HashMap<String, KeyGroups> = HashMap::new();
    let mut sex = Vec::new();
    for line in TABLE.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut fields = line.split('\t');
        let group_sex = match fields.next() {
            Some("f") => Sex::Female,
            _ => Sex::Male,
        };
        let group = sex.len() as u16;
        sex.push(group_sex);
        for (loose, field) in [(false, fields.next()), (true, fields.next())] {
            for form in field.unwrap_or("").split(',').map(str::trim).filter(|f| !f.is_empty()) {
                // "=Марио": a name the key cannot tell from another group's (Мария), which only
                // its listed spellings reach, so that unlisted spellings of Мария stay Мария's.
                let (as_written_only, form) = match form.strip_prefix('=') {
                    Some(form) => (true, form),
                    None => (false, form),
                };
                let membership = Membership { group, loose };
                let entry = by_key.entry(given_key(form)).or_default();
                if !as_written_only && !entry.by_key.iter().any(|m| m.group == group) {
                    entry.by_key.push(membership);
                }
                let normalized = normalize(form);
                match entry.forms.iter_mut().find(|(f, _)| *f == normalized) {
                    Some((_, groups)) if groups.iter().any(|m| m.group == group) => {}
                    Some((_, groups)) => groups.push(membership),
                    None => entry.forms.push((normalized, vec![membership])),
                }
            }
        }
    }
    // A key only one group has, which its key reaches, needs no forms: the key decides alone.
    for entry in by_key.values_mut() {
        let only = match entry.by_key.as_slice() {
            [only] => only.group,
            _ => continue,
        };
        if entry.forms.iter().flat_map(|(_, groups)| groups).all(|m| m.group == only) {
            entry.forms = Vec::new();
        }
    }
    GivenTable { by_key, sex }
});

/// The lookup key of a given name: the phonetic key without the feminine-surname fold.
pub(crate) fn given_key(text: &str) -> String {
    crate::keying::resolved_key(&phonetic::encode_text(text), 0, false)
}

/// The groups of a given name: those that list it as written (after [`normalize`]) where its key
/// is shared, else those of its key.
pub(crate) fn memberships(text: &str) -> Vec<Membership> {
    let Some(entry) = GIVEN.by_key.get(&given_key(text)) else { return Vec::new() };
    if !entry.forms.is_empty() {
        let normalized = normalize(text);
        if let Some((_, groups)) = entry.forms.iter().find(|(f, _)| *f == normalized) {
            return groups.clone();
        }
    }
    entry.by_key.clone()
}

/// The sex the table gives a given name, when all its groups agree.
pub(crate) fn given_sex(text: &str) -> Option<Sex> {
    let groups = memberships(text);
    let first = GIVEN.sex[groups.first()?.group as usize];
    groups.iter().all(|m| GIVEN.sex[m.group as usize] == first).then_some(first)
}

pub(crate) fn is_known_given(text: &str) -> bool {
    !memberships(text).is_empty()
}

pub(crate) fn relate(a: &[Membership], b: &[Membership]) -> Option<GivenNameMatch> {
    let mut best = None;
    for x in a {
        for y in b.iter().filter(|y| y.group == x.group) {
            if !x.loose && !y.loose {
                return Some(GivenNameMatch::Equivalent);
            }
            best = Some(GivenNameMatch::Loose);
        }
    }
    best
}

/// Whether two given names are forms of one name according to the table (`None`: the table
/// does not relate them; they may still be spelling variants, which [`crate::compare`] finds).
pub fn given_name_equivalence(a: &str, b: &str) -> Option<GivenNameMatch> {
    GivenGroups::of(a).relate(&GivenGroups::of(b))
}

/// The groups of the equivalence table a given name belongs to, looked up once: relating a name
/// to many others ([`GivenGroups::relate`]) then needs no encoding of either.
#[derive(Clone, Debug, Default)]
pub struct GivenGroups(Vec<Membership>);

impl GivenGroups {
    pub fn of(text: &str) -> GivenGroups {
        GivenGroups(memberships(text))
    }

    /// Whether the table lists the name at all (a name it does not list relates to nothing).
    pub fn is_listed(&self) -> bool {
        !self.0.is_empty()
    }

    /// The first group (in table order) that lists the name as an equivalent form, not a loose
    /// one: a name's forms (Николай, Микола, Коля) share it, so it can stand for the name in a
    /// blocking key. A form of two groups (Саша) takes the first only.
    pub fn first_group(&self) -> Option<u16> {
        self.0.iter().filter(|m| !m.loose).map(|m| m.group).min()
    }

    /// [`given_name_equivalence`] of the two names.
    pub fn relate(&self, other: &GivenGroups) -> Option<GivenNameMatch> {
        relate(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diminutives_and_national_forms_are_equivalent() {
        for (a, b) in [
            ("Александр", "Саша"),
            ("Alexander", "Oleksandr"),
            ("Николай", "Mykola"),
            ("Nikolai", "Mikalai"),
            ("Иван", "Ваня"),
            ("Иван", "Jan"),
            ("Иосиф", "Józef"),
            ("Yuri", "Юра"),
        ] {
            assert_eq!(given_name_equivalence(a, b), Some(GivenNameMatch::Equivalent), "{a} {b}");
        }
        assert_eq!(given_name_equivalence("Юрий", "George"), Some(GivenNameMatch::Loose));
        assert_eq!(given_name_equivalence("Иван", "John"), Some(GivenNameMatch::Loose));
        assert_eq!(given_name_equivalence("Иван", "Пётр"), None);
        let (ivan, vanya, john) = (GivenGroups::of("Иван"), GivenGroups::of("Ваня"), GivenGroups::of("John"));
        assert_eq!(ivan.relate(&vanya), Some(GivenNameMatch::Equivalent));
        assert_eq!(ivan.relate(&john), Some(GivenNameMatch::Loose));
        assert!(ivan.is_listed() && !GivenGroups::of("Zzyzx").is_listed());
        // Forms of one name share their first group; a loose form (John) and an unlisted name
        // have none of Иван's.
        assert_eq!(ivan.first_group(), vanya.first_group());
        assert_eq!(GivenGroups::of("Jan").first_group(), ivan.first_group());
        assert!(ivan.first_group().is_some() && ivan.first_group() != GivenGroups::of("Пётр").first_group());
        assert_ne!(john.first_group(), ivan.first_group());
        assert_eq!(GivenGroups::of("Zzyzx").first_group(), None);
        assert_eq!(GivenGroups::of("Zzyzx").relate(&GivenGroups::of("Zzyzx")), None);
    }

    #[test]
    fn sex_comes_from_the_table() {
        assert_eq!(given_sex("Мария"), Some(Sex::Female));
        assert_eq!(given_sex("Nikolai"), Some(Sex::Male));
        assert_eq!(given_sex("Саша"), None);
        assert_eq!(given_sex("Прасковья"), Some(Sex::Female));
        assert_eq!(given_sex("Вацлав"), Some(Sex::Male));
        // Паша is Павел's and Прасковья's, Валя Валентин's and Валентина's.
        assert_eq!(given_sex("Паша"), None);
        assert_eq!(given_sex("Валя"), None);
        // Ян keys as Jan; the loose English Ann keyed alike and made it a woman's name too.
        assert_eq!(given_sex("Ян"), Some(Sex::Male));
    }

    #[test]
    fn church_peasant_and_jewish_forms_are_one_name() {
        for (a, b) in [
            ("Иоанн", "Иван"),
            ("Ян", "Иван"),
            ("Феодор", "Фёдор"),
            ("Симеон", "Семён"),
            ("Стефан", "Степан"),
            ("Авдотья", "Евдокия"),
            ("Аксинья", "Ксения"),
            ("Оксана", "Ксения"),
            ("Параска", "Прасковья"),
            ("Агата", "Агафья"),
            ("Палагея", "Пелагея"),
            ("Гаврила", "Гавриил"),
            ("Опанас", "Афанасий"),
            ("Остап", "Евстафий"),
            ("Сидор", "Исидор"),
            ("Ульян", "Юлиан"),
            ("Вацлав", "Вячеслав"),
            ("Тадеуш", "Фаддей"),
            ("Witold", "Vytautas"),
            ("Мовша", "Моисей"),
            ("Янкель", "Яков"),
            ("Шмуль", "Самуил"),
            ("Ицко", "Исаак"),
            ("Шлема", "Соломон"),
            ("Гирш", "Герш"),
            ("Магомед", "Мухамед"),
            ("Асламбек", "Асланбек"),
        ] {
            assert_eq!(given_name_equivalence(a, b), Some(GivenNameMatch::Equivalent), "{a} {b}");
        }
        // A Russian name given for a Jewish one is not the same name: related only loosely.
        for (a, b) in [("Хаим", "Ефим"), ("Лейба", "Лев"), ("Гирш", "Григорий"), ("Мордух", "Марк"), ("Ганс", "Иван")] {
            assert_eq!(given_name_equivalence(a, b), Some(GivenNameMatch::Loose), "{a} {b}");
        }
    }

    #[test]
    fn similar_names_stay_apart() {
        for (a, b) in [
            ("Ивар", "Иван"),
            ("Ян", "Яков"),
            ("Янина", "Ян"),
            ("Юлий", "Юлиан"),
            ("Лукьян", "Лука"),
            ("Савелий", "Савва"),
            ("Марфа", "Мария"),
            ("Валентин", "Валентина"),
            ("Станислав", "Станислава"),
            ("Максим", "Макс"),
            ("Леонид", "Елена"),
            ("Ефим", "Виталий"),
            ("Кузьма", "Казимир"),
            ("Северин", "Северьян"),
            ("Walter", "Владимир"),
        ] {
            assert_eq!(given_name_equivalence(a, b), None, "{a} {b}");
        }
    }

    /// The first form of each group of a name, and the sex the table gives it.
    fn render(names: &[&str]) -> String {
        let first_forms: Vec<&str> = TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.split('\t').nth(1).and_then(|f| f.split(',').next()).unwrap_or("").trim().trim_start_matches('='))
            .collect();
        names
            .iter()
            .map(|name| {
                let groups: Vec<&str> = memberships(name).iter().map(|m| first_forms[m.group as usize]).collect();
                format!("{name}: {:?} {}\n", given_sex(name), groups.join("|"))
            })
            .collect()
    }

    /// Names whose key is another group's, of the other sex (Лукия keys as Лука, Марио as Мария),
    /// are their own names when written so; the frequent names and their unlisted spellings keep
    /// theirs.
    #[test]
    fn a_name_listed_as_written_decides_before_its_key() {
        expect_test::expect![[r#"
            Лукия: Some(Female) Лукия
            ЛУКИЯ: Some(Female) Лукия
            Лука: Some(Male) Лука
            Марио: Some(Male) Марио
            Mario: Some(Male) Марио
            Мария: Some(Female) Мария
            Maria: Some(Female) Мария
            Mariya: Some(Female) Мария
            Марья: Some(Female) Мария
            Руфь: Some(Female) Руфь
            Руф: Some(Male) Руф
            Мина: Some(Male) Мина
            Минна: Some(Female) Минна
            Вася: Some(Male) Василий
            Васса: Some(Female) Васса
            Саша: None Александр|Александра
        "#]]
        .assert_eq(&render(&[
            "Лукия", "ЛУКИЯ", "Лука", "Марио", "Mario", "Мария", "Maria", "Mariya", "Марья", "Руфь", "Руф", "Мина", "Минна", "Вася",
            "Васса", "Саша",
        ]));
        assert_eq!(given_name_equivalence("Лукия", "Лука"), None);
        assert_eq!(given_name_equivalence("Марио", "Мария"), None);
        for (a, b) in [("Мария", "Maria"), ("Мария", "Mariya"), ("Maria", "Mariya"), ("Марья", "Мария"), ("Лукия", "Lukiya")] {
            assert_eq!(given_name_equivalence(a, b), Some(GivenNameMatch::Equivalent), "{a} {b}");
        }
    }

    /// Lookup is by matching key, so a form whose key another group's form has joins that group
    /// too (Лёня would be Лена, Ann would make Ян a woman's name): every key two groups share is
    /// one of these, listed on purpose.
    #[test]
    fn shared_keys_are_deliberate() {
        let first_forms: Vec<&str> = TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.split('\t').nth(1).and_then(|f| f.split(',').next()).unwrap_or("").trim())
            .collect();
        let shared: std::collections::BTreeSet<String> = GIVEN
            .by_key
            .values()
            .filter_map(|entry| {
                let groups = entry.by_key.iter().chain(entry.forms.iter().flat_map(|(_, groups)| groups));
                let mut names: Vec<&str> = groups.map(|m| first_forms[m.group as usize].trim_start_matches('=')).collect();
                names.sort_unstable();
                names.dedup();
                (names.len() > 1).then(|| names.join("|"))
            })
            .collect();
        // A form reached only as written ("=Марио") is there because its key is another group's.
        for entry in GIVEN.by_key.values() {
            for (form, groups) in &entry.forms {
                let as_written_only = groups.iter().filter(|m| !entry.by_key.iter().any(|k| k.group == m.group));
                for m in as_written_only {
                    assert!(entry.by_key.iter().any(|k| k.group != m.group), "{form} needs no '='");
                }
            }
        }
        let deliberate = [
            "Александр|Александра", // Саша, Шура
            "Бела|Белла",           // Béla, Bella
            "Валентин|Валентина",   // Валя
            "Василий|Васса",        // Вася keys as Васса; each as written is its own group's
            "Екатерина|Кьята",      // as written only: Кьята is a man's name in Memorial's lists
            "Георгий|Юрий",         // Jerzy, Jurgis; George loosely
            "Гирш|Григорий",        // loosely
            "Евгений|Евгения",      // Женя
            "Ефим|Хаим",            // loosely
            "Иван|Иоганн",          // John, Johann, Hans
            "Лев|Лейба",            // loosely
            "Лука|Лукия",           // as written only: Лукия is a woman's name, not Лука's
            "Марио|Мария",          // as written only: Марио is a man's name, not Мария's
            "Марк|Мордух",          // loosely
            "Мина|Минна",           // as written only: Мина is a man's name
            "Павел|Прасковья",      // Паша
            "Руф|Руфь",             // as written only: Руфь (Ruth) is a woman's name
            "Ула|Юлия",             // as written only: Ула is a man's name in Memorial's lists
        ];
        assert_eq!(shared, deliberate.iter().map(|s| s.to_string()).collect());
    }
}
