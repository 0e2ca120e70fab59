//! The classic East-European phonetic codes, Daitch-Mokotoff Soundex and Beider-Morse, from the
//! `rphonetic` crate with its rule files embedded at compile time (no files are read at run time).
//!
//! The embedded Beider-Morse rules are the language-independent `any`/`common` sets of
//! commons-codec, which read Latin letters only; Cyrillic text is therefore first written in
//! BGN/PCGN, the spelling those rules were tuned on (English-language sources).

use crate::{System, translit};
use rphonetic::{BeiderMorse, BeiderMorseBuilder, ConfigFiles, DaitchMokotoffSoundex, Encoder, NameType, RuleType};
use std::sync::LazyLock;

static BM_CONFIG: LazyLock<ConfigFiles> = LazyLock::new(ConfigFiles::default);
static BEIDER_MORSE: LazyLock<BeiderMorse<'static>> = LazyLock::new(|| {
    BeiderMorseBuilder::new(&BM_CONFIG).name_type(NameType::Generic).rule_type(RuleType::Approx).build()
});
static DAITCH_MOKOTOFF: LazyLock<DaitchMokotoffSoundex> = LazyLock::new(DaitchMokotoffSoundex::default);

fn latin(text: &str) -> String {
    let normalized = crate::normalize(text);
    translit(&normalized, System::BgnPcgn).replace(['’', '”', '\''], "")
}

/// Daitch-Mokotoff Soundex codes of a name (several when a spelling branches), sorted.
pub fn daitch_mokotoff(text: &str) -> Vec<String> {
    let latin = latin(text);
    if !latin.chars().any(|c| c.is_alphabetic()) {
        return Vec::new();
    }
    let mut codes = DAITCH_MOKOTOFF.inner_soundex(&latin, true);
    codes.sort();
    codes.dedup();
    codes
}

/// Beider-Morse phonetic codes (generic names, approximate rules), sorted and de-duplicated.
pub fn beider_morse(text: &str) -> Vec<String> {
    let latin = latin(text);
    if !latin.chars().any(|c| c.is_alphabetic()) {
        return Vec::new();
    }
    let encoded = BEIDER_MORSE.encode(&latin);
    let mut codes: Vec<String> = encoded
        .split(['|', '-', '(', ')'])
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daitch_mokotoff_groups_cross_script_spellings() {
        let cyrillic = daitch_mokotoff("Хрущёв");
        assert!(!cyrillic.is_empty());
        let german = daitch_mokotoff("Chruschtschow");
        assert!(cyrillic.iter().any(|c| german.contains(c)), "{cyrillic:?} vs {german:?}");
    }

    #[test]
    fn beider_morse_groups_cross_script_spellings() {
        let cyrillic = beider_morse("Ежов");
        let english = beider_morse("Yezhov");
        assert!(!cyrillic.is_empty());
        assert!(cyrillic.iter().any(|c| english.contains(c)), "{cyrillic:?} vs {english:?}");
        assert!(beider_morse("").is_empty());
    }
}
