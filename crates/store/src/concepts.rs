//! `link`'s vocabularies as `analysis`'s [`Concepts`], so that the build's profiles and the web's
//! person pages count one value written in two languages (моряк, seaman) as one, by one rule.

use analysis::person::Concepts;
use model::{EventPart, Field};

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
}
