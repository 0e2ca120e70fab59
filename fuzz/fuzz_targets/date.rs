//! Fuzzes the date parser: any text, under any options, parses to a valid interval or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model::Calendar;
use model::date_parse::{DateOptions, decode_packed_memorial, parse_date};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, text)) = data.split_first() else { return };
    let options = DateOptions {
        day_first: flags & 1 == 0,
        two_digit_base: 1800 + 100 * i32::from(flags >> 1 & 1),
        two_digit_pivot: (flags & 4 != 0).then_some(u32::from(flags >> 3) % 100),
        calendar: if flags & 128 != 0 { Calendar::Julian } else { Calendar::Gregorian },
    };
    if let Ok(text) = std::str::from_utf8(text) {
        if let Ok(date) = parse_date(text, &options) {
            assert!(date.earliest() <= date.latest());
        }
        if let Ok(number) = text.trim().parse::<i64>() {
            let _ = decode_packed_memorial(number, options.calendar);
        }
    }
});
