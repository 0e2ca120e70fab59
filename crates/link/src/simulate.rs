//! A simulated register with known truth: invented persons (Russian, Ukrainian, Lithuanian) listed
//! in several lists, each list with its own script, transliteration habits, OCR noise, missing and
//! shifted fields, plus namesakes, siblings and duplicates inside a list. Seeded, so the same
//! seed gives the same register. No real person is described.

use model::{Day, RecordId, Sex, SourceId, StandardRecord, UncertainDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How a list writes names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    Russian,
    Ukrainian,
    /// Lithuanian-language list: Lithuanians in their own forms, others Lithuanized.
    Lithuanian,
    Latin(System),
}

/// Transliteration systems a Latin-script list may use (from the Russian form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    English,
    Scholarly,
    German,
    French,
    Polish,
}

/// One list's habits.
#[derive(Clone, Debug)]
pub struct ListStyle {
    pub id: String,
    pub script: Script,
    pub coverage: f64,
    pub ocr_rate: f64,
    pub missing_patronymic: f64,
    pub patronymic_initial: f64,
    pub missing_birth: f64,
    pub full_birth_date: f64,
    pub year_shift: f64,
    pub has_sex: bool,
    pub has_place: f64,
    pub has_occupation: f64,
}

/// A simulated register: records in the standard schema and the truth.
pub struct Register {
    pub records: Vec<StandardRecord>,
    /// (record id, person id), one per record.
    pub truth: Vec<(RecordId, String)>,
    pub lists: Vec<ListStyle>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ethnicity {
    Russian,
    Ukrainian,
    Lithuanian,
}

struct Person {
    ethnicity: Ethnicity,
    sex: Sex,
    /// Indices into the pools.
    surname: String,
    given: usize,
    father: usize,
    birth: Day,
    place: usize,
    occupation: usize,
}

// Given names: (Russian, Ukrainian, Lithuanian), male then female; patronymics derive from males.
const MALE: &[(&str, &str, &str)] = &[
    ("Иван", "Іван", "Jonas"),
    ("Александр", "Олександр", "Aleksandras"),
    ("Михаил", "Михайло", "Mykolas"),
    ("Николай", "Микола", "Mikalojus"),
    ("Василий", "Василь", "Vasilijus"),
    ("Пётр", "Петро", "Petras"),
    ("Фёдор", "Федір", "Feliksas"),
    ("Алексей", "Олексій", "Aleksejus"),
    ("Григорий", "Григорій", "Grigas"),
    ("Сергей", "Сергій", "Sergejus"),
    ("Андрей", "Андрій", "Andrius"),
    ("Дмитрий", "Дмитро", "Dmitrijus"),
    ("Яков", "Яків", "Jokūbas"),
    ("Степан", "Степан", "Steponas"),
    ("Павел", "Павло", "Povilas"),
    ("Семён", "Семен", "Simonas"),
    ("Антон", "Антін", "Antanas"),
    ("Иосиф", "Йосип", "Juozas"),
    ("Казимир", "Казимир", "Kazimieras"),
    ("Владимир", "Володимир", "Vladimiras"),
    ("Константин", "Костянтин", "Konstantinas"),
    ("Егор", "Єгор", "Jurgis"),
    ("Тимофей", "Тимофій", "Timotiejus"),
    ("Илья", "Ілля", "Ilja"),
    ("Максим", "Максим", "Maksimas"),
    ("Игнатий", "Гнат", "Ignas"),
    ("Роман", "Роман", "Romanas"),
    ("Харитон", "Харитон", "Charitonas"),
    ("Прокофий", "Прокіп", "Prokopas"),
    ("Евгений", "Євген", "Eugenijus"),
];
const FEMALE: &[(&str, &str, &str)] = &[
    ("Мария", "Марія", "Marija"),
    ("Анна", "Ганна", "Ona"),
    ("Евдокия", "Явдоха", "Eudokija"),
    ("Прасковья", "Параска", "Paraskeva"),
    ("Екатерина", "Катерина", "Kotryna"),
    ("Елена", "Олена", "Elena"),
    ("Ольга", "Ольга", "Olga"),
    ("Татьяна", "Тетяна", "Tatjana"),
    ("Наталья", "Наталія", "Natalija"),
    ("Александра", "Олександра", "Aleksandra"),
    ("Агафья", "Одарка", "Agota"),
    ("Ксения", "Оксана", "Ksenija"),
    ("Софья", "Софія", "Sofija"),
    ("Варвара", "Варвара", "Barbora"),
    ("Антонина", "Антоніна", "Antanina"),
];
/// Patronymic stems of the male names (Russian; Ukrainian forms follow the same stem).
const PATRONYMIC_STEM: &[&str] = &[
    "Иванов", "Александров", "Михайлов", "Николаев", "Васильев", "Петров", "Фёдоров", "Алексеев", "Григорьев",
    "Сергеев", "Андреев", "Дмитриев", "Яковлев", "Степанов", "Павлов", "Семёнов", "Антонов", "Иосифов",
    "Казимиров", "Владимиров", "Константинов", "Егоров", "Тимофеев", "Ильин", "Максимов", "Игнатьев",
    "Романов", "Харитонов", "Прокофьев", "Евгеньев",
];
const RU_ROOTS: &[&str] = &[
    "Иван", "Смирн", "Кузнец", "Попов", "Соколов", "Лебед", "Козл", "Новик", "Морозов", "Петр", "Волк", "Солов",
    "Васил", "Зайц", "Павл", "Семён", "Голуб", "Виноград", "Богдан", "Воробь", "Фёдор", "Михайл", "Беляк", "Тарас",
    "Белов", "Комар", "Орл", "Киселёв", "Макар", "Андре", "Ковал", "Ильин", "Гусев", "Титов", "Кузьмин", "Кудрявц",
    "Баран", "Куликов", "Алексе", "Степан", "Яковл", "Сорокин", "Сергее", "Роман", "Захар", "Борисов", "Корол",
    "Герасим", "Пономар", "Григорь", "Лазар", "Медвед", "Ершов", "Никитин", "Соболев", "Рябов", "Поляк", "Цвет",
    "Данилов", "Жуков", "Фролов", "Журавл", "Николаев", "Крылов", "Максимов", "Сидор", "Осипов", "Белоус", "Фомин",
    "Дав", "Мельник", "Щерб", "Чернов", "Абрам", "Март", "Ефим", "Федотов", "Щукин", "Громов", "Шевелёв", "Хохл",
    "Бобр", "Блинов", "Шубин", "Кондрат", "Шилов", "Русак", "Горбун", "Пахом", "Тихон", "Шишк", "Харит", "Рожк",
];
const RU_SUFFIX_M: &[(&str, &str)] = &[("ов", "ова"), ("ин", "ина"), ("ский", "ская"), ("ев", "ева"), ("ичев", "ичева")];
const UA_ROOTS: &[&str] = &[
    "Шевч", "Коваль", "Бондар", "Ткач", "Кравч", "Олійн", "Шевчук", "Поліщ", "Лисен", "Мороз", "Петр", "Савч",
    "Марч", "Руден", "Клим", "Павл", "Гриц", "Гаврил", "Харч", "Дмитр", "Мельнич", "Тимош", "Костен", "Кушн",
    "Литвин", "Бойч", "Панас", "Остап", "Федор", "Левч", "Степан", "Кирил", "Яковч", "Гнат", "Демч", "Юрч",
];
const UA_SUFFIX: &[(&str, &str)] = &[("енко", "енко"), ("ук", "ук"), ("ишин", "ишина"), ("ський", "ська")];
const LT_ROOTS: &[&str] = &[
    "Petr", "Kazl", "Jank", "Stank", "Vasil", "Žuk", "But", "Paul", "Urbon", "Kaval", "Baran", "Navick", "Raman",
    "Savick", "Žilin", "Adom", "Kair", "Mock", "Rimk", "Vait", "Jušk", "Balč", "Grig", "Lukoš", "Šimk", "Dambr",
    "Sakal", "Bagdon", "Jon", "Kučin", "Valanč", "Mažeik", "Girdz", "Šeduv", "Tamoš", "Vilč", "Norvil", "Gudel",
];
/// Male endings; the female (married) form replaces the ending with -ienė.
const LT_ENDINGS: &[&str] = &["auskas", "evičius", "ūnas", "aitis", "ys", "us", "as", "ėnas", "inskas", "onis"];
/// Middles that multiply Slavic roots into the thousands of surnames a real register holds.
const MIDDLES: &[&str] = &["", "ен", "ач", "ик", "уш", "ан", "оч", "ул", "ят", "ог"];
// Places: (Russian, Ukrainian, Lithuanian/Latin native).
const PLACES: &[(&str, &str, &str)] = &[
    ("Москва", "Москва", "Maskva"),
    ("Киев", "Київ", "Kijevas"),
    ("Харьков", "Харків", "Charkovas"),
    ("Вильно", "Вільно", "Vilnius"),
    ("Ковно", "Ковно", "Kaunas"),
    ("Полтава", "Полтава", "Poltava"),
    ("Тула", "Тула", "Tula"),
    ("Рязань", "Рязань", "Riazanė"),
    ("Орёл", "Орел", "Oriolas"),
    ("Чернигов", "Чернігів", "Černigovas"),
    ("Житомир", "Житомир", "Žitomyras"),
    ("Винница", "Вінниця", "Vinica"),
    ("Шяуляй", "Шяуляй", "Šiauliai"),
    ("Паневежис", "Паневежис", "Panevėžys"),
    ("Тверь", "Твер", "Tverė"),
    ("Смоленск", "Смоленськ", "Smolenskas"),
    ("Калуга", "Калуга", "Kaluga"),
    ("Курск", "Курськ", "Kurskas"),
    ("Одесса", "Одеса", "Odesa"),
    ("Николаев", "Миколаїв", "Nikolajevas"),
    ("Екатеринослав", "Катеринослав", "Jekaterinoslavas"),
    ("Саратов", "Саратов", "Saratovas"),
    ("Пермь", "Перм", "Permė"),
    ("Вятка", "Вятка", "Viatka"),
    ("Кострома", "Кострома", "Kostroma"),
    ("Ярославль", "Ярославль", "Jaroslavlis"),
    ("Новгород", "Новгород", "Novgorodas"),
    ("Псков", "Псков", "Pskovas"),
    ("Минск", "Мінськ", "Minskas"),
    ("Гомель", "Гомель", "Gomelis"),
];
/// Occupations as Russian, Ukrainian, Lithuanian and English lists write them.
const OCCUPATIONS: &[(&str, &str, &str, &str)] = &[
    ("колхозник", "колгоспник", "kolūkietis", "collective farmer"),
    ("рабочий", "робітник", "darbininkas", "worker"),
    ("учитель", "вчитель", "mokytojas", "teacher"),
    ("инженер", "інженер", "inžinierius", "engineer"),
    ("счетовод", "рахівник", "sąskaitininkas", "bookkeeper"),
    ("крестьянин", "селянин", "valstietis", "peasant"),
    ("священник", "священик", "kunigas", "priest"),
    ("врач", "лікар", "gydytojas", "physician"),
    ("агроном", "агроном", "agronomas", "agronomist"),
    ("слесарь", "слюсар", "šaltkalvis", "fitter"),
    ("бухгалтер", "бухгалтер", "buhalteris", "accountant"),
    ("военнослужащий", "військовослужбовець", "kariškis", "serviceman"),
    ("студент", "студент", "studentas", "student"),
    ("домохозяйка", "домогосподарка", "namų šeimininkė", "housewife"),
    ("сторож", "сторож", "sargas", "watchman"),
    ("кузнец", "коваль", "kalvis", "blacksmith"),
    ("шофёр", "шофер", "šoferis", "driver"),
    ("портной", "кравець", "siuvėjas", "tailor"),
    ("машинист", "машиніст", "mašinistas", "engine driver"),
    ("директор школы", "директор школи", "mokyklos direktorius", "school principal"),
];

/// A Zipf-like draw over `n` items: a few are common, most are rare.
fn zipf(rng: &mut ChaCha8Rng, n: usize, s: f64) -> usize {
    // Inverse of the continuous power law's CDF, good enough for name frequencies.
    let u: f64 = rng.random();
    // At s = 1 the general formula divides by zero (and gave every draw the first item).
    let x = if (s - 1.0).abs() < 1e-9 {
        (n as f64).powf(u)
    } else {
        (((n as f64).powf(1.0 - s) - 1.0) * u + 1.0).powf(1.0 / (1.0 - s))
    };
    ((x - 1.0) as usize).min(n - 1)
}

fn russian_translit(text: &str, system: System) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let upper = c.is_uppercase();
        let lc = c.to_lowercase().next().unwrap_or(c);
        let at_start = i == 0 || !chars[i - 1].is_alphabetic();
        let after_vowel = i > 0 && "аеёиоуыэюяьъ".contains(chars[i - 1].to_lowercase().next().unwrap_or(' '));
        use System::*;
        let s: &str = match (lc, system) {
            ('а', _) => "a",
            ('б', _) => "b",
            ('в', German | Polish) => "w",
            ('в', _) => "v",
            ('г', _) => "g",
            ('д', _) => "d",
            ('е', English) if at_start || after_vowel => "ye",
            ('е', German | Polish) if at_start || after_vowel => "je",
            ('е', _) => "e",
            ('ё', English) => "yo",
            ('ё', German) => "jo",
            ('ё', Scholarly) => "ë",
            ('ё', French) => "io",
            ('ё', Polish) => "io",
            ('ж', English) => "zh",
            ('ж', German) => "sch",
            ('ж', French) => "j",
            ('ж', Polish) => "ż",
            ('ж', Scholarly) => "ž",
            ('з', German) => "s",
            ('з', _) => "z",
            ('и', _) => "i",
            ('й', English) => "y",
            ('й', French) => "ï",
            ('й', _) => "j",
            ('к', _) => "k",
            ('л', _) => "l",
            ('м', _) => "m",
            ('н', _) => "n",
            ('о', _) => "o",
            ('п', _) => "p",
            ('р', _) => "r",
            ('с', German) if after_vowel => "ss",
            ('с', _) => "s",
            ('т', _) => "t",
            ('у', French) => "ou",
            ('у', _) => "u",
            ('ф', _) => "f",
            ('х', English | French) => "kh",
            ('х', _) => "ch",
            ('ц', English | French) => "ts",
            ('ц', German) => "z",
            ('ц', _) => "c",
            ('ч', English) => "ch",
            ('ч', German) => "tsch",
            ('ч', French) => "tch",
            ('ч', Polish) => "cz",
            ('ч', Scholarly) => "č",
            ('ш', English) => "sh",
            ('ш', German) => "sch",
            ('ш', French) => "ch",
            ('ш', Polish) => "sz",
            ('ш', Scholarly) => "š",
            ('щ', English) => "shch",
            ('щ', German) => "schtsch",
            ('щ', French) => "chtch",
            ('щ', Polish) => "szcz",
            ('щ', Scholarly) => "šč",
            ('ъ', _) => "",
            ('ы', _) => "y",
            ('ь', Scholarly) => "ʹ",
            ('ь', English) => "'",
            ('ь', _) => "",
            ('э', _) => "e",
            ('ю', English) => "yu",
            ('ю', French) => "iou",
            ('ю', _) => "ju",
            ('я', English) => "ya",
            ('я', French) => "ia",
            ('я', _) => "ja",
            _ => {
                out.push(c);
                continue;
            }
        };
        if upper {
            let mut cs = s.chars();
            if let Some(first) = cs.next() {
                out.extend(first.to_uppercase());
                out.push_str(cs.as_str());
            }
        } else {
            out.push_str(s);
        }
    }
    out
}

/// Lithuanian-language lists Lithuanize Slavic names: Иванов -> Ivanovas, Иван -> Ivanas.
fn lithuanize(russian: &str, female: bool) -> String {
    let latin = russian_translit(russian, System::Scholarly)
        .replace('y', "i")
        .replace("ʹ", "")
        .replace('ë', "io");
    if female {
        if latin.ends_with('a') { latin } else { format!("{latin}a") }
    } else if latin.ends_with("ij") {
        format!("{}ijus", &latin[..latin.len() - 2])
    } else if latin.ends_with('a') || latin.ends_with('o') {
        latin
    } else if latin.ends_with('j') {
        format!("{}jus", &latin[..latin.len() - 1])
    } else {
        format!("{latin}as")
    }
}

const OCR_CYR: &[(char, char)] =
    &[('и', 'н'), ('н', 'и'), ('ш', 'щ'), ('щ', 'ш'), ('е', 'с'), ('с', 'е'), ('й', 'и'), ('ё', 'е'), ('л', 'п'), ('п', 'л'), ('в', 'в'), ('б', 'б')];
const OCR_LAT: &[(char, char)] =
    &[('l', 'i'), ('i', 'l'), ('c', 'e'), ('e', 'c'), ('u', 'n'), ('n', 'u'), ('h', 'b'), ('o', 'a'), ('m', 'n'), ('v', 'y')];

fn ocr(rng: &mut ChaCha8Rng, text: &str, rate: f64) -> String {
    if rate == 0.0 {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if i > 0 && rng.random::<f64>() < rate {
            match rng.random_range(0..4) {
                0 => {
                    let table = if c.is_ascii() { OCR_LAT } else { OCR_CYR };
                    let lc = c.to_lowercase().next().unwrap_or(c);
                    out.push(table.iter().find(|(a, _)| *a == lc).map_or(c, |(_, b)| *b));
                }
                1 => {} // a dropped letter
                2 if i + 1 < chars.len() => {
                    out.push(chars[i + 1]);
                    out.push(c);
                    i += 1;
                }
                _ => {
                    out.push(c);
                    out.push(c);
                }
            }
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

fn list_styles(k: usize, rng: &mut ChaCha8Rng) -> Vec<ListStyle> {
    let scripts = [
        Script::Russian,
        Script::Latin(System::English),
        Script::Ukrainian,
        Script::Lithuanian,
        Script::Latin(System::German),
        Script::Russian,
        Script::Latin(System::Scholarly),
        Script::Latin(System::French),
        Script::Latin(System::Polish),
    ];
    (0..k)
        .map(|i| ListStyle {
            id: format!("list{:02}", i + 1),
            script: scripts[i % scripts.len()],
            coverage: rng.random_range(0.25..0.55),
            ocr_rate: if i % 3 == 1 { 0.03 } else { rng.random_range(0.0..0.012) },
            missing_patronymic: rng.random_range(0.05..0.35),
            patronymic_initial: rng.random_range(0.0..0.3),
            missing_birth: rng.random_range(0.03..0.2),
            full_birth_date: if i % 2 == 0 { 0.6 } else { 0.05 },
            year_shift: rng.random_range(0.03..0.12),
            has_sex: i % 4 != 3,
            has_place: rng.random_range(0.3..0.9),
            has_occupation: rng.random_range(0.2..0.8),
        })
        .collect()
}

fn make_person(rng: &mut ChaCha8Rng, previous: Option<&Person>) -> Person {
    let sex = if rng.random::<f64>() < 0.82 { Sex::Male } else { Sex::Female };
    let roll: f64 = rng.random();
    let ethnicity = if roll < 0.6 {
        Ethnicity::Russian
    } else if roll < 0.85 {
        Ethnicity::Ukrainian
    } else {
        Ethnicity::Lithuanian
    };
    let surname = match ethnicity {
        Ethnicity::Russian => {
            let root = RU_ROOTS[zipf(rng, RU_ROOTS.len(), 1.1)];
            let middle = MIDDLES[zipf(rng, MIDDLES.len(), 1.1)];
            let suffix = RU_SUFFIX_M[zipf(rng, RU_SUFFIX_M.len(), 1.3)].0;
            format!("{root}{middle}{suffix}")
        }
        Ethnicity::Ukrainian => {
            let root = UA_ROOTS[zipf(rng, UA_ROOTS.len(), 1.1)];
            let middle = MIDDLES[zipf(rng, MIDDLES.len(), 1.1)];
            let suffix = UA_SUFFIX[zipf(rng, UA_SUFFIX.len(), 1.3)].0;
            format!("{root}{middle}{suffix}")
        }
        Ethnicity::Lithuanian => {
            let root = LT_ROOTS[zipf(rng, LT_ROOTS.len(), 1.05)];
            let ending = LT_ENDINGS[zipf(rng, LT_ENDINGS.len(), 1.1)];
            format!("{root}{ending}")
        }
    };
    let given = if sex == Sex::Male { zipf(rng, MALE.len(), 1.2) } else { zipf(rng, FEMALE.len(), 1.2) };
    let birth = Day::from_ymd(rng.random_range(1870..1922), rng.random_range(1..=12), rng.random_range(1..=28))
        .expect("valid day");
    let mut person = Person {
        ethnicity,
        sex,
        surname,
        given,
        father: zipf(rng, MALE.len(), 1.2),
        birth,
        place: zipf(rng, PLACES.len(), 0.9),
        occupation: zipf(rng, OCCUPATIONS.len(), 1.0),
    };
    if let Some(prev) = previous {
        // Siblings share surname, father and often birthplace; namesakes share the whole name.
        let roll: f64 = rng.random();
        if roll < 0.04 {
            person.ethnicity = prev.ethnicity;
            person.surname = prev.surname.clone();
            person.father = prev.father;
            person.place = prev.place;
        } else if roll < 0.07 {
            person.ethnicity = prev.ethnicity;
            person.sex = prev.sex;
            person.surname = prev.surname.clone();
            person.given = prev.given;
            person.father = prev.father;
        }
    }
    person
}

/// A Lithuanian surname in the person's own form (married women: -ienė).
fn lithuanian_surname(p: &Person) -> String {
    if p.sex == Sex::Male {
        return p.surname.clone();
    }
    let stem = ["ius", "as", "ys", "us", "is"].iter().find_map(|e| p.surname.strip_suffix(e)).unwrap_or(&p.surname);
    format!("{stem}ienė")
}

/// The Russian form of a surname for a sex (Lithuanian surnames come in their Russian spelling).
fn russian_surname(p: &Person) -> String {
    match p.ethnicity {
        Ethnicity::Lithuanian => lithuanian_to_cyrillic(&lithuanian_surname(p)),
        _ if p.sex == Sex::Male => p.surname.replace("ський", "ский"),
        _ => female_slavic(&p.surname.replace("ський", "ский")),
    }
}

fn female_slavic(male: &str) -> String {
    for (m, f) in RU_SUFFIX_M.iter().chain(UA_SUFFIX) {
        if let Some(stem) = male.strip_suffix(m) {
            return format!("{stem}{f}");
        }
    }
    male.to_owned()
}

/// A Lithuanian name as a Russian-language list writes it: Jonas -> Йонас, Balčiūnas -> Бальчюнас.
fn lithuanian_to_cyrillic(latin: &str) -> String {
    const RULES: &[(&str, &str)] = &[
        ("ch", "х"), ("iū", "ю"), ("ią", "я"), ("ja", "я"), ("ju", "ю"), ("jo", "йо"), ("je", "е"), ("ia", "я"), ("iu", "ю"), ("io", "ё"),
        ("ie", "е"), ("š", "ш"), ("ž", "ж"), ("č", "ч"), ("ū", "у"), ("ų", "у"), ("ė", "е"), ("ę", "е"), ("į", "и"),
        ("ą", "а"), ("y", "и"), ("a", "а"), ("b", "б"), ("c", "ц"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"),
        ("h", "х"), ("i", "и"), ("j", "й"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"),
        ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("v", "в"), ("z", "з"),
    ];
    let lower = latin.to_lowercase();
    let mut out = String::new();
    let mut rest = lower.as_str();
    'outer: while !rest.is_empty() {
        for (from, to) in RULES {
            if let Some(r) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("non-empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    let mut chars = out.chars();
    chars.next().map(|f| f.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The given name a Russian-language list writes (Lithuanians keep their own name, in Cyrillic).
fn given_ru(p: &Person) -> String {
    let forms = if p.sex == Sex::Female { FEMALE[p.given] } else { MALE[p.given] };
    if p.ethnicity == Ethnicity::Lithuanian { lithuanian_to_cyrillic(forms.2) } else { forms.0.to_owned() }
}

fn patronymic_ru(p: &Person) -> String {
    if p.ethnicity == Ethnicity::Lithuanian {
        let father = MALE[p.father].2;
        let stem = ["as", "us", "is", "ys", "a"].iter().find_map(|e| father.strip_suffix(e)).unwrap_or(father);
        let stem = lithuanian_to_cyrillic(stem);
        return if p.sex == Sex::Male { format!("{stem}ович") } else { format!("{stem}овна") };
    }
    let stem = PATRONYMIC_STEM[p.father];
    let stem = stem.strip_suffix("ин").map(|s| format!("{s}ин")).unwrap_or_else(|| stem.to_owned());
    if stem == "Ильин" {
        return if p.sex == Sex::Male { "Ильич".into() } else { "Ильинична".into() };
    }
    let base = stem.strip_suffix('в').unwrap_or(&stem).to_owned();
    if p.sex == Sex::Male { format!("{base}вич") } else { format!("{base}вна") }
}

fn ukrainianize(russian: &str) -> String {
    // The spelling differences that matter for matching: и -> и/і, е -> е/є, г stays (read h).
    russian.replace("ий", "ій").replace("ё", "е").replace("ский", "ський").replace("Пётр", "Петр").replace('ы', "и")
}

struct Rendered {
    surname: String,
    given: String,
    patronymic: Option<String>,
    place: String,
    occupation: String,
}

fn render(p: &Person, script: Script, rng: &mut ChaCha8Rng) -> Rendered {
    let female = p.sex == Sex::Female;
    let given_forms = if female { FEMALE[p.given] } else { MALE[p.given] };
    let lithuanian = p.ethnicity == Ethnicity::Lithuanian;
    let ru_given = given_ru(p);
    let ru_surname = russian_surname(p);
    let ru_patronymic = patronymic_ru(p);
    let (place_ru, place_ua, place_lt) = PLACES[p.place];
    let occupation = occupation_in(p.occupation, script);
    match script {
        Script::Russian => Rendered {
            surname: ru_surname,
            given: ru_given,
            patronymic: Some(ru_patronymic),
            place: place_ru.to_owned(),
            occupation,
        },
        Script::Ukrainian => {
            let native = p.ethnicity == Ethnicity::Ukrainian;
            Rendered {
                surname: if native { if female { female_slavic(&p.surname) } else { p.surname.clone() } } else { ukrainianize(&ru_surname) },
                given: if lithuanian { ukrainianize(&ru_given) } else { given_forms.1.to_owned() },
                patronymic: Some(ukrainianize(&ru_patronymic)),
                place: place_ua.to_owned(),
                occupation,
            }
        }
        Script::Lithuanian => {
            let (surname, given) = if lithuanian {
                (lithuanian_surname(p), given_forms.2.to_owned())
            } else {
                (lithuanize(&ru_surname, female), lithuanize(given_forms.0, female))
            };
            Rendered {
                surname,
                given,
                // Lithuanian lists rarely give patronymics; when they do, as the father's name.
                patronymic: (rng.random::<f64>() < 0.3).then(|| lithuanize(ru_patronymic.as_str(), female)),
                place: place_lt.to_owned(),
                occupation,
            }
        }
        Script::Latin(system) => {
            // Émigré lists are inconsistent: a fifth of entries use another system.
            let system = if rng.random::<f64>() < 0.2 {
                [System::English, System::Scholarly, System::German, System::French, System::Polish][rng.random_range(0..5)]
            } else {
                system
            };
            let (surname, given) = if lithuanian && rng.random::<f64>() < 0.5 {
                (lithuanian_surname(p), given_forms.2.to_owned())
            } else {
                (russian_translit(&ru_surname, system), russian_translit(&ru_given, system))
            };
            Rendered {
                surname,
                given,
                patronymic: Some(russian_translit(&ru_patronymic, system)),
                place: russian_translit(place_ru, system),
                occupation,
            }
        }
    }
}

/// An occupation in the language of a list (Latin-script lists write English).
fn occupation_in(occupation: usize, script: Script) -> String {
    let (ru, ua, lt, en) = OCCUPATIONS[occupation];
    match script {
        Script::Russian => ru,
        Script::Ukrainian => ua,
        Script::Lithuanian => lt,
        Script::Latin(_) => en,
    }
    .to_owned()
}

/// The share of records whose list gives another occupation than the person's usual one (a job
/// before the arrest, another at rehabilitation).
const OCCUPATION_CHANGE: f64 = 0.1;

fn birth_text(birth: Day, style: &ListStyle, rng: &mut ChaCha8Rng) -> Option<String> {
    if rng.random::<f64>() < style.missing_birth {
        return None;
    }
    let (y, m, d) = birth.ymd();
    let shift: f64 = rng.random();
    let y = if shift < style.year_shift * 0.8 {
        y + if rng.random() { 1 } else { -1 }
    } else if shift < style.year_shift {
        y + if rng.random() { 2 } else { -2 }
    } else {
        y
    };
    let form: f64 = rng.random();
    Some(if form < style.full_birth_date {
        format!("{y:04}-{m:02}-{d:02}")
    } else if form < style.full_birth_date + 0.05 {
        format!("{}/{}", y - 1, y + 1)
    } else if form < style.full_birth_date + 0.1 {
        format!("{y:04}?")
    } else {
        format!("{y:04}")
    })
}

/// Generates the register: `persons` invented persons over `lists` lists.
pub fn simulate(persons: usize, lists: usize, seed: u64) -> Register {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let styles = list_styles(lists.max(1), &mut rng);
    let mut people: Vec<Person> = Vec::with_capacity(persons);
    for i in 0..persons {
        let prev = (i > 0).then(|| &people[rng.random_range(0..i)]);
        let p = make_person(&mut rng, prev);
        people.push(p);
    }
    let mut records = Vec::new();
    let mut truth = Vec::new();
    // Changed occupations draw from their own stream, so the rest of a register stays as it was
    // before they were simulated.
    let mut occupation_rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6f63_6375_7061_7469);
    for style in &styles {
        let mut n = 0usize;
        for (pi, p) in people.iter().enumerate() {
            if rng.random::<f64>() >= style.coverage {
                continue;
            }
            let copies = if rng.random::<f64>() < 0.02 { 2 } else { 1 };
            for _ in 0..copies {
                n += 1;
                let id = RecordId::new(format!("{}-{:07}", style.id, n));
                let r = render(p, style.script, &mut rng);
                let noisy = |rng: &mut ChaCha8Rng, t: &str| ocr(rng, t, style.ocr_rate);
                let patronymic = if rng.random::<f64>() < style.missing_patronymic {
                    None
                } else {
                    r.patronymic.map(|pat| {
                        if rng.random::<f64>() < style.patronymic_initial {
                            format!("{}.", pat.chars().next().unwrap_or('?'))
                        } else {
                            noisy(&mut rng, &pat)
                        }
                    })
                };
                let birth = birth_text(p.birth, style, &mut rng).and_then(|t| UncertainDate::parse_standard(&t).ok());
                let record = StandardRecord {
                    id: id.clone(),
                    source: Some(SourceId::new(style.id.clone())),
                    surname: Some(noisy(&mut rng, &r.surname)),
                    given_name: (rng.random::<f64>() > 0.02).then(|| noisy(&mut rng, &r.given)),
                    patronymic,
                    sex: style.has_sex.then_some(p.sex),
                    birth_date: birth,
                    birth_place: (rng.random::<f64>() < style.has_place).then(|| noisy(&mut rng, &r.place)),
                    occupation: (rng.random::<f64>() < style.has_occupation).then(|| {
                        if occupation_rng.random::<f64>() < OCCUPATION_CHANGE {
                            occupation_in(zipf(&mut occupation_rng, OCCUPATIONS.len(), 1.0), style.script)
                        } else {
                            r.occupation
                        }
                    }),
                    ..StandardRecord::default()
                };
                records.push(record);
                truth.push((id, format!("p{:07}", pi + 1)));
            }
        }
    }
    Register { records, truth, lists: styles }
}

/// The record in the column layout of `shared/bench/run_splink.py` (a multi-list register):
/// `record_id, list_id, given, patronymic, surname, sex, birth_year, birthplace, occupation,
/// event_date`. Cyrillic is transliterated (English system) because that runner keeps only
/// ASCII letters: a competent Splink user would transliterate first.
pub fn splink_row(r: &StandardRecord) -> [String; 10] {
    let latin = |s: &Option<String>| s.as_deref().map(|t| russian_translit(&ukrainian_to_russian(t), System::English)).unwrap_or_default();
    let year = r
        .birth_date
        .map(|d| {
            let (a, b) = (d.earliest().year(), d.latest().year());
            if a == b { a.to_string() } else { ((a + b) / 2).to_string() }
        })
        .unwrap_or_default();
    [
        r.id.to_string(),
        r.source.as_ref().map(|s| s.to_string()).unwrap_or_default(),
        latin(&r.given_name),
        latin(&r.patronymic),
        latin(&r.surname),
        r.sex.map(|s| s.code().to_owned()).unwrap_or_default(),
        year,
        latin(&r.birth_place),
        latin(&r.occupation),
        String::new(),
    ]
}

pub const SPLINK_HEADER: [&str; 10] =
    ["record_id", "list_id", "given", "patronymic", "surname", "sex", "birth_year", "birthplace", "occupation", "event_date"];

/// Ukrainian letters have no English-system entry; read them as their nearest Russian letters.
fn ukrainian_to_russian(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'і' => 'и',
            'І' => 'И',
            'ї' => 'и',
            'Ї' => 'И',
            'є' => 'е',
            'Є' => 'Е',
            'ґ' => 'г',
            'Ґ' => 'Г',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn same_seed_same_register_and_persons_span_lists() {
        let a = simulate(2000, 5, 42);
        let b = simulate(2000, 5, 42);
        assert_eq!(a.records, b.records);
        assert_ne!(simulate(2000, 5, 43).records, a.records);
        let mut per_person: HashMap<&str, Vec<&str>> = HashMap::new();
        for ((rid, pid), r) in a.truth.iter().zip(&a.records) {
            assert_eq!(rid, &r.id);
            per_person.entry(pid).or_default().push(r.source.as_ref().unwrap().as_str());
        }
        let multi = per_person.values().filter(|s| s.len() > 1).count();
        assert!(multi * 3 > per_person.len(), "too few persons in several lists: {multi}");
        let scripts: Vec<bool> = a.records.iter().map(|r| r.surname.as_deref().unwrap_or("").is_ascii()).collect();
        assert!(scripts.iter().any(|x| *x) && scripts.iter().any(|x| !*x), "both scripts appear");
    }

    #[test]
    fn transliteration_systems_differ_as_in_print() {
        let shown: Vec<String> = [System::English, System::Scholarly, System::German, System::French, System::Polish]
            .iter()
            .map(|s| russian_translit("Хрущёв Щукин Жуков", *s))
            .collect();
        expect_test::expect![[r#"["Khrushchyov Shchukin Zhukov", "Chruščëv Ščukin Žukov", "Chruschtschjow Schtschukin Schukow", "Khrouchtchiov Chtchoukin Joukov", "Chruszcziow Szczukin Żukow"]"#]]
        .assert_eq(&format!("{shown:?}"));
        assert_eq!(lithuanize("Иванов", false), "Ivanovas");
        assert_eq!(lithuanize("Иван", false), "Ivanas");
        assert_eq!(lithuanian_to_cyrillic("Balčiūnas"), "Бальчюнас".replace('ь', ""));
        assert_eq!(lithuanian_to_cyrillic("Juozas"), "Юозас");
    }
}
