//! Names across scripts: parsing, transliteration, matching keys and similarity. Pure, no IO.
