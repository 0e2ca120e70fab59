//! `link`'s vocabularies as `analysis`'s [`Concepts`], so that the build's profiles and the web's
//! person pages count one value written in two languages (моряк, seaman) as one, by one rule;
//! and `names`' matching as its name judgement, so that Ежов and Yezhov are one surname there,
//! and `names`' parser as its reading of a whole name into parts.

use analysis::person::{Concepts, NameParts};
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

    /// `names`' parser, only where the text tells which word is the surname
    /// ([`names::parse_unambiguous`]); a part written as an initial is that initial and a dot, as
    /// `names` compares whole names (the first initial the given name's, the second the
    /// patronymic's); the surname keeps its particles (фон Мекк).
    fn name_parts(&self, name: &str) -> Option<NameParts> {
        let parsed = names::parse_unambiguous(name)?;
        let initial = |i: usize| parsed.initials.get(i).map(|letters| format!("{letters}."));
        let surname = parsed.surname.as_ref().map(|s| parsed.particles.iter().chain([s]).cloned().collect::<Vec<_>>().join(" "));
        let given_name = parsed.given.clone().or_else(|| initial(0));
        let patronymic = parsed.patronymic.clone().or_else(|| initial(1));
        Some(NameParts { surname, given_name, patronymic })
    }

    /// `names`' judgement of an initial across scripts ([`names::initial_fits`]): G. for
    /// Геннадий or Георгий, Yu. for Юрий.
    fn initial_fits(&self, initial: &str, other: &str) -> bool {
        names::initial_fits(initial, other)
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

    /// A whole name is read into parts where its order can be told, an initial kept as one;
    /// where it cannot, none is read. Initials fit names across scripts.
    #[test]
    fn whole_names_read_into_parts_and_initials_that_fit() {
        let shown: Vec<String> = ["SERGEEW, Gennadij G.", "Сергеев Петр", "Геннадий Сергеев", "Ежов Н.И.", "фон Мекк Надежда", "Ли Ван", "Борис Ф."]
            .iter()
            .map(|name| format!("{name}: {:?}", Vocabularies.name_parts(name)))
            .collect();
        expect_test::expect![[r#"
            SERGEEW, Gennadij G.: Some(NameParts { surname: Some("SERGEEW"), given_name: Some("Gennadij"), patronymic: Some("G.") })
            Сергеев Петр: Some(NameParts { surname: Some("Сергеев"), given_name: Some("Петр"), patronymic: None })
            Геннадий Сергеев: Some(NameParts { surname: Some("Сергеев"), given_name: Some("Геннадий"), patronymic: None })
            Ежов Н.И.: Some(NameParts { surname: Some("Ежов"), given_name: Some("Н."), patronymic: Some("И.") })
            фон Мекк Надежда: Some(NameParts { surname: Some("фон Мекк"), given_name: Some("Надежда"), patronymic: None })
            Ли Ван: None
            Борис Ф.: None"#]].assert_eq(&shown.join("\n"));
        let fits: Vec<String> =
            [("G.", "Геннадий"), ("Г.", "G."), ("Y.", "Юрьевич"), ("G.", "Пётр")].iter().map(|(i, n)| format!("{i} {n}: {}", Vocabularies.initial_fits(i, n))).collect();
        expect_test::expect![[r#"
            G. Геннадий: true
            Г. G.: true
            Y. Юрьевич: true
            G. Пётр: false"#]].assert_eq(&fits.join("\n"));
    }
}
