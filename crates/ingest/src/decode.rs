//! Text decoding: a source file's bytes to UTF-8, detecting the encoding when the manifest does not
//! name one. Lists of Soviet-era material come in UTF-8, CP1251 (Windows) and KOI8-R (Unix, old
//! mail archives); chardetng tells the last two apart from letter statistics.

use crate::manifest::Encoding;
use std::borrow::Cow;

/// Decoded text with the encoding it was read in.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: Encoding,
    /// The encoding was detected, not given by the manifest or a byte-order mark.
    pub guessed: bool,
    /// Bytes that were not valid in the encoding were replaced with U+FFFD.
    pub had_errors: bool,
}

/// Decodes `bytes` as `encoding`, or detects it: a UTF-8 BOM or valid UTF-8 is UTF-8, anything
/// else is whichever of CP1251 and KOI8-R chardetng finds likelier. A UTF-8 BOM is dropped.
pub fn decode(bytes: &[u8], encoding: Option<Encoding>) -> Decoded<'_> {
    let (bytes, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    let (encoding, guessed) = match encoding {
        Some(encoding) => (encoding, false),
        None if bom => (Encoding::Utf8, false),
        None => (detect(bytes), true),
    };
    let (text, had_errors) = encoding.encoding_rs().decode_without_bom_handling(bytes);
    Decoded { text, encoding, guessed, had_errors }
}

/// UTF-8 when the bytes are valid UTF-8, else the likelier of CP1251 and KOI8-R.
pub fn detect(bytes: &[u8]) -> Encoding {
    if std::str::from_utf8(bytes).is_ok() {
        return Encoding::Utf8;
    }
    let mut detector = chardetng::EncodingDetector::new();
    // A megabyte is plenty to tell Cyrillic code pages apart.
    let sample = &bytes[..bytes.len().min(1 << 20)];
    detector.feed(sample, sample.len() == bytes.len());
    let guess = detector.guess(Some(b"ru"), false);
    if guess == encoding_rs::KOI8_R || guess == encoding_rs::KOI8_U { Encoding::Koi8R } else { Encoding::Cp1251 }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Фамилия;Имя;Отчество\nИванов;Пётр;Сергеевич\nКузнецова;Анна;Ивановна\nРасстрелян 17.05.1938, место захоронения: Бутово\n";

    #[test]
    fn each_encoding_is_detected_and_decoded() {
        for encoding in [Encoding::Utf8, Encoding::Cp1251, Encoding::Koi8R] {
            let (bytes, _, unmappable) = encoding.encoding_rs().encode(TEXT);
            assert!(!unmappable);
            let decoded = decode(&bytes, None);
            assert_eq!(decoded.encoding, encoding);
            assert_eq!(decoded.text, TEXT);
            assert!(!decoded.had_errors);
        }
    }

    #[test]
    fn bom_is_dropped_and_the_manifest_wins() {
        let decoded = decode("\u{FEFF}a,b".as_bytes(), None);
        assert_eq!((decoded.text.as_ref(), decoded.guessed), ("a,b", false));
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode("Иванов");
        let forced = decode(&cp1251, Some(Encoding::Koi8R));
        assert_eq!(forced.encoding, Encoding::Koi8R);
        assert_ne!(forced.text, "Иванов");
    }
}
