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

/// Where valid UTF-8 holds letters beyond ASCII: the 1-based line of the first and that line
/// (at most 60 characters). `None` for ASCII, and for bytes that are not UTF-8.
pub fn utf8_beyond_ascii(bytes: &[u8]) -> Option<(u64, String)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().position(|b| !b.is_ascii())?;
    let text = std::str::from_utf8(bytes).ok()?;
    let start = bytes[..first].iter().rposition(|&b| matches!(b, b'\n' | b'\r')).map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or_default();
    Some((1 + line_breaks(&bytes[..start]), line.chars().take(60).collect()))
}

/// The 1-based line of the first byte that `encoding` cannot decode (the line after the last
/// when every byte decodes).
pub fn first_undecodable_line(bytes: &[u8], encoding: Encoding) -> u64 {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let offset = match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes).err().map_or(bytes.len(), |e| e.valid_up_to()),
        // One byte is one character in the Cyrillic code pages, so a bad byte is bad alone.
        single_byte => {
            let bad: Vec<bool> = (0..=255u8).map(|b| single_byte.encoding_rs().decode_without_bom_handling(&[b]).1).collect();
            bytes.iter().position(|&b| bad[usize::from(b)]).unwrap_or(bytes.len())
        }
    };
    1 + line_breaks(&bytes[..offset])
}

/// Line breaks as the CSV reader ends records on them: `\n`, `\r\n` and a lone `\r` (old Mac
/// files, stray carriage returns) each count once.
pub fn line_breaks(bytes: &[u8]) -> u64 {
    let lone_returns = memchr::memchr_iter(b'\r', bytes).filter(|&i| bytes.get(i + 1) != Some(&b'\n')).count();
    (memchr::memchr_iter(b'\n', bytes).count() + lone_returns) as u64
}

/// The line each record of delimited text starts on, as a spreadsheet user counts: blank lines
/// and quoted cells over several lines make records and lines part ways (the CSV reader's own
/// line count runs behind after a blank line). Records are asked for in file order.
pub struct RecordLines<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    line: u64,
}

impl<'a> RecordLines<'a> {
    pub fn new(bytes: &'a [u8]) -> RecordLines<'a> {
        RecordLines { bytes, counted_to: 0, line: 1 }
    }

    /// The line of the record whose first byte the reader put at `start` (`None`: the reader
    /// gave no position, so the line of the record before). With CRLF endings the reader leaves
    /// the LF for the next record, so line breaks at `start` are skipped first.
    pub fn of_record_at(&mut self, start: Option<u64>) -> u64 {
        let mut start = start.map_or(self.counted_to, |s| s as usize).min(self.bytes.len());
        while self.bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.counted_to {
            self.line += line_breaks(&self.bytes[self.counted_to..start]);
            self.counted_to = start;
        }
        self.line
    }
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
    fn lines_end_as_the_csv_reader_ends_them() {
        assert_eq!([b"a\nb\r\nc\rd".as_slice(), b"\r\r\n\n", b"no break"].map(line_breaks), [3, 3, 0]);
    }

    #[test]
    fn where_the_encoding_goes_wrong() {
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(TEXT);
        assert_eq!(first_undecodable_line(&cp1251, Encoding::Utf8), 1);
        assert_eq!(first_undecodable_line(b"a\r\nb\x98", Encoding::Cp1251), 2);
        assert_eq!(first_undecodable_line(b"a\nb", Encoding::Cp1251), 2);
        assert_eq!(utf8_beyond_ascii("\u{FEFF}id\r\n1,Ёж\n".as_bytes()), Some((2, "1,Ёж".to_owned())));
        assert_eq!((utf8_beyond_ascii(b"ascii\n"), utf8_beyond_ascii(&cp1251)), (None, None));
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
