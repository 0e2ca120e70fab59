//! Names across scripts: parsing, transliteration, matching keys and similarity. Pure, no IO.
//!
//! The same man is Ежов in a Soviet document, Yezhov in an American book, Jeschow in a German
//! paper, Iejov in a French one and Jeżow in a Polish one. This crate makes those spellings meet:
//! - [`parse`] splits a name field into surname, given name, patronymic, initials and particles
//!   ([`parse_unambiguous`] only where the text tells which word is the surname);
//! - [`normalize`] is the idempotent text normalisation;
//! - [`key`] / [`keys`] give a script-independent blocking key of one name part;
//! - [`compare`] / [`similarity`] / [`PreparedName`] score two names with the variant rules;
//! - [`one_name_spelled_two_ways`] / [`initial_fits`] say whether two values of a name agree
//!   (a person's profile counts them as one or as a conflict);
//! - [`translit`] / [`back_translit`] convert between Cyrillic and the standard Latin systems;
//! - [`beider_morse`] / [`daitch_mokotoff`] give the classic East-European phonetic codes.
//!
//! Tables (transliteration systems, given-name equivalents) are data files under `data/`, embedded
//! at compile time.

mod classic;
mod edit;
mod given;
mod keying;
mod normalize;
mod parse;
mod phonetic;
mod similarity;
mod translit;

pub use classic::{beider_morse, daitch_mokotoff};
pub use given::{GivenGroups, GivenNameMatch, given_name_equivalence};
pub use keying::{key, keys};
pub use normalize::normalize;
pub use parse::{ParsedName, Script, parse, parse_unambiguous};
pub use similarity::{
    CompareOptions, Comparison, Part, PreparedName, SAME_THRESHOLD, compare, compare_with, initial_fits, one_name_spelled_two_ways,
    similarity,
};
pub use translit::{System, UnknownSystem, back_translit, translit};
