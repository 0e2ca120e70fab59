//! `link`'s vocabularies as `analysis`'s [`Concepts`], so that the build's profiles and the web's
//! person pages count one value written in two languages (моряк, seaman) as one, by one rule;
//! and `names`' matching as its name judgement, so that Ежов and Yezhov are one surname there.

use analysis::person::Concepts;
use model::{EventPart, Field};
use names::Part;

/// An occupation, a nationality or a place (of birth, of residence, of an event) written in two
/// languages is one value, not a conflict.
pub struct Vocabularies;

impl Concepts for Vocabularies {
    fn concept(&self, field: Field, text: &str) -> Option<String> {
        let vocabulary = match field {
            Field::Occupation => link::vocab::occupations(),
            Field::Nationality => link::vocab::nationalities(),
            Field::BirthPlace | Field::Residence | Field::Event(_, EventPart::Place) => link::vocab::places(),
            _ => return None,
        };
        vocabulary.resolve(text).map(|resolved| vocabulary.id(resolved.concept).to_owned())
    }

    /// Two spellings are one name by `names`' judgement ([`names::one_name_spelled_two_ways`]):
    /// Ежов, Yezhov and Jeschow; Геннадий and Gennadiy; Пётр and Petro; not Иванов and Иванев.
    fn same_name(&self, field: Field, a: &str, b: &str) -> bool {
        let part = match field {
            Field::Surname => Part::Surname,
            Field::GivenName => Part::Given,
            Field::Patronymic => Part::Patronymic,
            Field::Name => Part::Full,
            _ => return false,
        };
        names::one_name_spelled_two_ways(a, b, part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values in two languages resolve to one concept for the fields a vocabulary covers;
    /// other fields, and values no vocabulary knows, to none.
    #[test]
    fn the_vocabularies_name_one_concept_across_languages() {
        let shown: Vec<String> = [
            (Field::Occupation, "моряк"),
            (Field::Occupation, "seaman"),
            (Field::Occupation, "колхозник"),
            (Field::Nationality, "литовец"),
            (Field::Nationality, "Lithuanian"),
            (Field::BirthPlace, "Ковно"),
            (Field::Event(model::EventKind::Arrest, EventPart::Place), "Kaunas"),
            (Field::Occupation, "астронавт-испытатель"),
            (Field::Surname, "Ковно"),
        ]
        .iter()
        .map(|(field, text)| format!("{field} {text}: {:?}", Vocabularies.concept(*field, text)))
        .collect();
        expect_test::expect![[r#"
            occupation моряк: Some("sailor")
            occupation seaman: Some("sailor")
            occupation колхозник: Some("collective_farmer")
            nationality литовец: Some("lithuanian")
            nationality Lithuanian: Some("lithuanian")
            birth_place Ковно: Some("kaunas")
            arrest.place Kaunas: Some("kaunas")
            occupation астронавт-испытатель: None
            surname Ковно: None"#]].assert_eq(&shown.join("\n"));
    }

    /// Spellings of one name across scripts and systems are one name; a different name, a
    /// feminine form or a field that holds no name is not.
    #[test]
    fn spellings_of_one_name_are_one_name() {
        let shown: Vec<String> = [
            (Field::Surname, "Ежов", "Yezhov"),
            (Field::Surname, "Ежов", "Jeschow"),
            (Field::Surname, "Ежов", "Iejov"),
            (Field::Surname, "Ежов", "Jeżow"),
            (Field::Surname, "Хрущёв", "Chruschtschow"),
            (Field::Surname, "Зайцев", "Zaitsev"),
            (Field::GivenName, "Геннадий", "Gennadiy"),
            (Field::GivenName, "Геннадий", "Gennady"),
            (Field::GivenName, "Пётр", "Петро"),
            (Field::GivenName, "Александр", "Саша"),
            (Field::Surname, "Ильин", "ILIN"),
            (Field::Surname, "Ilyin", "Ilin"),
            (Field::Name, "Ежов Николай Иванович", "Ежов Николай"),
            (Field::Patronymic, "Иванович", "Ivanovich"),
            (Field::Name, "Ежов Николай Иванович", "YEZHOV, Nikolai Ivanovich"),
            (Field::Surname, "Иванов", "Иванев"),
            (Field::Surname, "Зайцев", "Зайцов"),
            (Field::Surname, "Иванов", "Иванова"),
            (Field::Surname, "Ильин", "Илин"),
            (Field::GivenName, "Игорь", "Игор"),
            (Field::GivenName, "Геннадий", "G."),
            (Field::GivenName, "Иван", "Пётр"),
            (Field::GivenName, "Иван", "John"),
            (Field::Occupation, "Ежов", "Yezhov"),
        ]
        .iter()
        .map(|(field, a, b)| format!("{field} {a} / {b}: {}", Vocabularies.same_name(*field, a, b)))
        .collect();
        expect_test::expect![[r#"
            surname Ежов / Yezhov: true
            surname Ежов / Jeschow: true
            surname Ежов / Iejov: true
            surname Ежов / Jeżow: true
            surname Хрущёв / Chruschtschow: true
            surname Зайцев / Zaitsev: true
            given_name Геннадий / Gennadiy: true
            given_name Геннадий / Gennady: true
            given_name Пётр / Петро: true
            given_name Александр / Саша: true
            surname Ильин / ILIN: true
            surname Ilyin / Ilin: true
            name Ежов Николай Иванович / Ежов Николай: true
            patronymic Иванович / Ivanovich: true
            name Ежов Николай Иванович / YEZHOV, Nikolai Ivanovich: true
            surname Иванов / Иванев: false
            surname Зайцев / Зайцов: false
            surname Иванов / Иванова: false
            surname Ильин / Илин: false
            given_name Игорь / Игор: false
            given_name Геннадий / G.: false
            given_name Иван / Пётр: false
            given_name Иван / John: false
            occupation Ежов / Yezhov: false"#]].assert_eq(&shown.join("\n"));
    }
}
