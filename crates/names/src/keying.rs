//! Blocking keys: one short string per name part that spelling variants share, for linkage to
//! block on and to count name frequencies by.

use crate::phonetic::{self, Encoded};

/// The script-independent matching key of one name part (a surname or a given name).
///
/// Spelling variants across scripts and conventions share it (Ежов, Yezhov, Jeschow, Jeżow →
/// `ezev`; Хрущёв, Khrushchev, Chruschtschow, Chruszczow → `xruqev`), and so do the feminine and
/// masculine forms of one surname (Иванова, Ivanov → `ivanov`), because they are one family
/// name. The key is ASCII; an empty key means the text had no letters.
pub fn key(text: &str) -> String {
    let encoded = phonetic::encode_text(text);
    resolved_key(&encoded, 0, true)
}

/// The primary key followed by up to three alternatives, for spellings whose reading is
/// ambiguous (French `j` = ж, German `ch` = х, Ukrainian `h` = г): block on all of them.
pub fn keys(text: &str) -> Vec<String> {
    let encoded = phonetic::encode_text(text);
    let ambiguous: Vec<usize> = encoded
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| phonetic::reading_count(**s) > 1)
        .map(|(k, _)| k)
        .collect();
    let mut out = vec![resolved_key(&encoded, 0, true)];
    // First the whole word read in the other conventions (every French j as ж: Jorjoliani),
    // then one ambiguous symbol at a time, for a name that mixes two.
    if !ambiguous.is_empty() {
        for choice in 1..3 {
            let alternative = resolved_key(&encoded, choice, true);
            if !out.contains(&alternative) {
                out.push(alternative);
            }
        }
    }
    'outer: for &position in &ambiguous {
        for choice in 1..phonetic::reading_count(encoded.symbols[position]) {
            let mut symbols = encoded.symbols.clone();
            symbols[position] = phonetic::resolve(symbols[position], encoded.style, choice);
            let variant = Encoded { symbols, style: encoded.style };
            let alternative = resolved_key(&variant, 0, true);
            if !out.contains(&alternative) {
                out.push(alternative);
            }
            if out.len() == 4 {
                break 'outer;
            }
        }
    }
    out
}

/// The key with every ambiguous symbol read as its `choice`-th reading; `fold` folds feminine
/// surname endings.
pub(crate) fn resolved_key(encoded: &Encoded, choice: usize, fold: bool) -> String {
    let resolved: Vec<u8> = encoded.symbols.iter().map(|&s| phonetic::resolve(s, encoded.style, choice)).collect();
    let mut projected = phonetic::project_key(&resolved);
    if fold {
        phonetic::fold_feminine_key(&mut projected);
    }
    // The alphabet is ASCII, so this never allocates a replacement.
    String::from_utf8_lossy(&projected).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{key, keys};

    #[test]
    fn variants_share_a_key() {
        let groups: &[&[&str]] = &[
            &["Ежов", "Yezhov", "Ezhov", "Jeschow", "Jeżow", "Yeshov", "Ežov"],
            &["Хрущёв", "Khrushchev", "Chruschtschow", "Khrouchtchev", "Chruszczow", "Chruščov", "Khrushchyov"],
            &["Гордиевский", "Gordievsky", "Gordiyevsky", "Gordijewski", "Gordievskij", "Gordievskii"],
            &["Тухачевский", "Tukhachevsky", "Tuchatschewski", "Toukhatchevski", "Tuchaczewski", "Tuchačevskij"],
            &["Горбачёв", "Gorbachev", "Gorbatschow", "Gorbatchev", "Gorbaczow", "Gorbačov"],
            &["Юрий", "Yuri", "Yury", "Iurii", "Jurij", "Juri", "Iouri"],
            &["Иванова", "Ivanova", "Ivanov", "Iwanow"],
            &["Бухарин", "Bukharin", "Boukharine", "Buharin"],
        ];
        for group in groups {
            let first = key(group[0]);
            for name in *group {
                assert_eq!(key(name), first, "{name} vs {}", group[0]);
            }
        }
    }

    #[test]
    fn alternatives_cover_french_j() {
        assert!(keys("Iejov").contains(&key("Ежов")), "{:?}", keys("Iejov"));
        // German ch without other German marks reads as English ch = ч first, х second.
        assert!(keys("Bucharin").contains(&key("Бухарин")), "{:?}", keys("Bucharin"));
        assert_eq!(keys("Ежов"), vec![key("Ежов")]);
        assert!(keys("Jorjoliani").contains(&key("Жоржолиани")), "{:?}", keys("Jorjoliani"));
    }
}
