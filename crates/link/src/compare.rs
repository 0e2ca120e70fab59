//! Field-by-field comparison of a record pair into discrete agreement levels.
//!
//! Each field kind has a fixed list of levels (level 0 is always "a value is missing", which
//! carries no evidence). A pair's levels pack into a [`Pattern`] (4 bits per field), the unit EM
//! counts and scoring looks up.

use crate::prepare::{Column, NULL, Prepared, Value};
use crate::spec::FieldKind;

/// Levels of all fields of a pair, 4 bits each (so at most 16 fields).
pub type Pattern = u64;

pub const MAX_FIELDS: usize = 16;

/// The levels of a given name; other names have all but the last (no table of their forms).
const GIVEN_LEVELS: &[&str] = &[
    "null",
    "exact",
    "same name in another script or form",
    "same key, spelled alike (similarity >= 0.92)",
    "same key, spelled apart (similarity < 0.92)",
    "phonetic similarity >= 0.92",
    "phonetic similarity >= 0.80",
    "initial agrees",
    "different",
    "two different names (given-name table)",
];

/// The levels of a field kind, by index; index 0 is always `null`.
pub fn level_labels(kind: FieldKind) -> &'static [&'static str] {
    match kind {
        FieldKind::Surname | FieldKind::Patronymic | FieldKind::Fullname => GIVEN_LEVELS.split_at(9).0,
        FieldKind::Given => GIVEN_LEVELS,
        FieldKind::Date => &[
            "null",
            "same day",
            "same date (an interval)",
            "intervals overlap",
            "same day and month, a year or two apart",
            "within 31 days",
            "within 400 days",
            "within 1100 days",
            "different",
        ],
        FieldKind::Sex => &["null", "same", "different"],
        FieldKind::Text => &["null", "exact", "one edit", "similarity >= 0.90", "similarity >= 0.75", "different"],
        FieldKind::Place => {
            &["null", "exact", "same place (gazetteer or transliteration)", "similarity >= 0.90", "similarity >= 0.75", "different"]
        }
        FieldKind::Occupation => {
            &["null", "exact", "same occupation (vocabulary or transliteration)", "similarity >= 0.90", "same occupational group", "different"]
        }
        FieldKind::Nationality => &["null", "exact", "same nationality (vocabulary or transliteration)", "similarity >= 0.90", "different"],
        FieldKind::Numeric => &["null", "exact", "within 1", "within 3", "different"],
    }
}

/// The share of true pairs at each level (index 0 unused) before any data is seen: where
/// training starts, and what stays when a data set is too small to estimate a field (tens of
/// records). Written from how lists of one person disagree: names mostly agree or vary in
/// spelling, an initial stands for a whole name now and then, free text (a place, an occupation
/// in another language) often differs.
pub fn prior_m(kind: FieldKind) -> &'static [f64] {
    match kind {
        FieldKind::Surname | FieldKind::Patronymic | FieldKind::Fullname => &[0.0, 0.55, 0.2, 0.03, 0.04, 0.06, 0.04, 0.06, 0.02],
        FieldKind::Given => &[0.0, 0.55, 0.2, 0.03, 0.04, 0.06, 0.04, 0.06, 0.02, 0.0001],
        FieldKind::Date => &[0.0, 0.25, 0.2, 0.35, 0.03, 0.04, 0.07, 0.03, 0.03],
        FieldKind::Sex => &[0.0, 0.98, 0.02],
        FieldKind::Text => &[0.0, 0.45, 0.15, 0.1, 0.1, 0.2],
        FieldKind::Place => &[0.0, 0.4, 0.3, 0.1, 0.05, 0.15],
        FieldKind::Occupation => &[0.0, 0.4, 0.3, 0.05, 0.1, 0.15],
        FieldKind::Nationality => &[0.0, 0.5, 0.4, 0.05, 0.05],
        FieldKind::Numeric => &[0.0, 0.7, 0.15, 0.08, 0.07],
    }
}

/// How strongly a level speaks for a match, 0 = strongest; used to start EM sensibly.
pub fn level_rank(kind: FieldKind, level: u8) -> u8 {
    match (kind, level) {
        (FieldKind::Sex, 2) => 4,
        (FieldKind::Surname | FieldKind::Given | FieldKind::Patronymic | FieldKind::Fullname, 3) => 1,
        (FieldKind::Surname | FieldKind::Given | FieldKind::Patronymic | FieldKind::Fullname, 4 | 5) => 2,
        (FieldKind::Surname | FieldKind::Given | FieldKind::Patronymic | FieldKind::Fullname, 6 | 7) => 3,
        (FieldKind::Surname | FieldKind::Given | FieldKind::Patronymic | FieldKind::Fullname, 8) => 5,
        (FieldKind::Given, 9) => 6,
        (_, l) => l.saturating_sub(1),
    }
}

/// The smallest m of a level that says "certainly not one person" more strongly than EM's
/// general floor lets any level say it: two given names the table knows and does not relate
/// (Александр, Алексей). Family members in one list share surname, patronymic, birthplace and
/// often the day of death; their given names are what tells them apart, so this level may weigh
/// about -13 bits (no true pair of the simulated register lands on it; the floor allows one in
/// 10,000 for a name changed between documents, Моисей / Михаил).
pub fn decisive_m_floor(kind: FieldKind, level: u8) -> Option<f64> {
    (kind == FieldKind::Given && level == 9).then_some(1e-4)
}

/// Levels whose weight is adjusted by the frequency of the agreed value.
pub fn tf_level(kind: FieldKind, level: u8) -> bool {
    match kind {
        FieldKind::Surname | FieldKind::Given | FieldKind::Patronymic | FieldKind::Fullname => (1..=4).contains(&level),
        FieldKind::Text => level == 1,
        FieldKind::Place | FieldKind::Occupation | FieldKind::Nationality => level == 1 || level == 2,
        _ => false,
    }
}

/// The level of field `f` for records `a` and `b`.
pub fn compare_field(p: &Prepared, f: usize, a: usize, b: usize) -> u8 {
    match &p.columns[f] {
        Column::Strings { ids, .. } => value_level(p, f, ids[a], ids[b]),
        Column::Dates { lo, hi } => date_level(lo[a], hi[a], lo[b], hi[b]),
        Column::Sexes(s) => sex_level(s[a], s[b]),
        Column::Numbers(v) => number_level(v[a], v[b]),
    }
}

/// [`compare_field`] of each of `pairs`, counted by level into `counts`: the column is matched
/// once for all the pairs (u's hundreds of thousands of random pairs) instead of once a pair.
pub fn count_levels(p: &Prepared, f: usize, pairs: &[(u32, u32)], counts: &mut [u64]) {
    let pairs = pairs.iter().map(|&(a, b)| (a as usize, b as usize));
    match &p.columns[f] {
        Column::Strings { ids, .. } => pairs.for_each(|(a, b)| counts[value_level(p, f, ids[a], ids[b]) as usize] += 1),
        Column::Dates { lo, hi } => pairs.for_each(|(a, b)| counts[date_level(lo[a], hi[a], lo[b], hi[b]) as usize] += 1),
        Column::Sexes(s) => pairs.for_each(|(a, b)| counts[sex_level(s[a], s[b]) as usize] += 1),
        Column::Numbers(v) => pairs.for_each(|(a, b)| counts[number_level(v[a], v[b]) as usize] += 1),
    }
}

/// The level of two value ids of the name or text column `f` ([`NULL`] for a missing value).
fn value_level(p: &Prepared, f: usize, ia: u32, ib: u32) -> u8 {
    if ia == NULL || ib == NULL {
        return 0;
    }
    if ia == ib {
        return 1;
    }
    let Column::Strings { levels, .. } = &p.columns[f] else { unreachable!("value ids belong to a column of strings") };
    values_level(p, f, (ia, levels.slot(ia)), (ib, levels.slot(ib)))
}

/// The level of two dates as day intervals (`lo > hi`: missing).
#[inline]
fn date_level(la: i32, ha: i32, lb: i32, hb: i32) -> u8 {
    if la > ha || lb > hb {
        return 0;
    }
    // Two days agreeing are far rarer among strangers than two years agreeing, and two
    // days a year or two apart that agree on month and day are one date with the year
    // miswritten (or counted from an age).
    if la == lb && ha == hb {
        return if la == ha { 1 } else { 2 };
    }
    let gap = if la <= hb && lb <= ha { 0 } else if ha < lb { lb - ha } else { la - hb };
    if (1..=1100).contains(&gap) && la == ha && lb == hb && same_day_of_year(la, lb) {
        return 4;
    }
    match gap {
        0 => 3,
        1..=31 => 5,
        32..=400 => 6,
        401..=1100 => 7,
        _ => 8,
    }
}

/// The level of two sexes (0 missing).
#[inline]
fn sex_level(a: u8, b: u8) -> u8 {
    match (a, b) {
        (0, _) | (_, 0) => 0,
        (x, y) if x == y => 1,
        _ => 2,
    }
}

/// The level of two numbers (NaN missing).
#[inline]
fn number_level(x: f64, y: f64) -> u8 {
    if x.is_nan() || y.is_nan() {
        return 0;
    }
    let d = (x - y).abs();
    if d == 0.0 {
        1
    } else if d <= 1.0 {
        2
    } else if d <= 3.0 {
        3
    } else {
        4
    }
}

/// Compares the pairs of one block after another (the order [`crate::block::Blocker::visit_span`]
/// walks them): each record's values are gathered once per block instead of read per pair, and
/// the level of two values of a name or text field is looked up once per block (a block holds
/// tens of records and few distinct names, so most of its pairs repeat a pair of values already
/// compared). Gives exactly [`compare`]'s patterns.
pub struct BlockComparer<'p> {
    p: &'p Prepared,
    /// The fields by kind, each with its index (one loop per kind instead of a branch per field).
    strings: Vec<BlockStrings>,
    dates: Vec<(usize, Vec<i32>, Vec<i32>)>,
    sexes: Vec<(usize, Vec<u8>)>,
    numbers: Vec<(usize, Vec<f64>)>,
    /// Value id and position of the block's records (id above position: one integer sorts with one
    /// comparison where a tuple takes two), sorted to number the distinct values.
    order: Vec<u64>,
}

/// A name or text field's values over the loaded block, by position in the block.
struct BlockStrings {
    field: usize,
    /// Per position a number for its value among the block's distinct values ([`NULL`] when
    /// missing).
    local: Vec<u32>,
    /// The value ids by number, and each one's row in the column's level cache.
    values: Vec<u32>,
    slots: Vec<u32>,
    /// The levels met so far of two numbers (`d * d` cells, 0 unknown, else level + 1; none
    /// when the block has too many distinct values, or too few pairs to repeat them).
    levels: Vec<u8>,
}

/// Distinct values of a field in one block beyond which its levels are not kept per block.
const BLOCK_VALUES: usize = 512;

/// Blocks of at most this many records number their values by a linear search, not a sort.
const SMALL_BLOCK: usize = 16;

impl<'p> BlockComparer<'p> {
    pub fn new(p: &'p Prepared) -> BlockComparer<'p> {
        let mut comparer = BlockComparer { p, strings: Vec::new(), dates: Vec::new(), sexes: Vec::new(), numbers: Vec::new(), order: Vec::new() };
        for (field, column) in p.columns.iter().enumerate() {
            match column {
                Column::Strings { .. } => comparer.strings.push(BlockStrings {
                    field,
                    local: Vec::new(),
                    values: Vec::new(),
                    slots: Vec::new(),
                    levels: Vec::new(),
                }),
                Column::Dates { .. } => comparer.dates.push((field, Vec::new(), Vec::new())),
                Column::Sexes(_) => comparer.sexes.push((field, Vec::new())),
                Column::Numbers(_) => comparer.numbers.push((field, Vec::new())),
            }
        }
        comparer
    }

    /// Gathers the values of a block's records (by record index) for [`BlockComparer::compare`].
    pub fn load(&mut self, block: &[u32]) {
        let columns = &self.p.columns;
        for s in &mut self.strings {
            let Column::Strings { ids, levels: cache, .. } = &columns[s.field] else { unreachable!("a field of strings") };
            s.local.clear();
            s.values.clear();
            // Any numbering will do: a number stands for its value within the block only.
            if block.len() <= SMALL_BLOCK {
                for &i in block {
                    let id = ids[i as usize];
                    let number = if id == NULL {
                        NULL
                    } else {
                        match s.values.iter().position(|&v| v == id) {
                            Some(n) => n as u32,
                            None => {
                                s.values.push(id);
                                s.values.len() as u32 - 1
                            }
                        }
                    };
                    s.local.push(number);
                }
            } else {
                self.order.clear();
                self.order.extend(block.iter().enumerate().filter(|&(_, &i)| ids[i as usize] != NULL).map(|(x, &i)| (ids[i as usize] as u64) << 32 | x as u64));
                self.order.sort_unstable();
                s.local.resize(block.len(), NULL);
                for (id, x) in self.order.iter().map(|&o| ((o >> 32) as u32, o as u32)) {
                    if s.values.last() != Some(&id) {
                        s.values.push(id);
                    }
                    s.local[x as usize] = s.values.len() as u32 - 1;
                }
            }
            s.slots.clear();
            s.slots.extend(s.values.iter().map(|&v| cache.slot(v)));
            s.levels.clear();
            // Values repeat when their pairs are fewer than the block's pairs; a block
            // of all-different surnames would clear a cell for each pair and reuse none.
            let (d, k) = (s.values.len(), block.len());
            if d <= BLOCK_VALUES && d * d <= k * (k - 1) / 2 {
                s.levels.resize(d * d, 0);
            }
        }
        for (field, lo, hi) in &mut self.dates {
            let Column::Dates { lo: all_lo, hi: all_hi } = &columns[*field] else { unreachable!("a field of dates") };
            lo.clear();
            hi.clear();
            lo.extend(block.iter().map(|&i| all_lo[i as usize]));
            hi.extend(block.iter().map(|&i| all_hi[i as usize]));
        }
        for (field, sexes) in &mut self.sexes {
            let Column::Sexes(all) = &columns[*field] else { unreachable!("a field of sexes") };
            sexes.clear();
            sexes.extend(block.iter().map(|&i| all[i as usize]));
        }
        for (field, numbers) in &mut self.numbers {
            let Column::Numbers(all) = &columns[*field] else { unreachable!("a field of numbers") };
            numbers.clear();
            numbers.extend(block.iter().map(|&i| all[i as usize]));
        }
    }

    /// The pattern of the loaded block's records at positions `x` and `y`.
    pub fn compare(&mut self, x: usize, y: usize) -> Pattern {
        let mut pattern = 0u64;
        for s in &mut self.strings {
            let (lx, ly) = (s.local[x], s.local[y]);
            let level = if lx == NULL || ly == NULL {
                0
            } else if lx == ly {
                1
            } else if s.levels.is_empty() {
                values_level(self.p, s.field, (s.values[lx as usize], s.slots[lx as usize]), (s.values[ly as usize], s.slots[ly as usize]))
            } else {
                let d = s.values.len();
                match s.levels[lx as usize * d + ly as usize] {
                    0 => {
                        let level =
                            values_level(self.p, s.field, (s.values[lx as usize], s.slots[lx as usize]), (s.values[ly as usize], s.slots[ly as usize]));
                        s.levels[lx as usize * d + ly as usize] = level + 1;
                        s.levels[ly as usize * d + lx as usize] = level + 1;
                        level
                    }
                    known => known - 1,
                }
            };
            pattern |= (level as u64) << (4 * s.field);
        }
        for (field, lo, hi) in &self.dates {
            pattern |= (date_level(lo[x], hi[x], lo[y], hi[y]) as u64) << (4 * field);
        }
        for (field, sexes) in &self.sexes {
            pattern |= (sex_level(sexes[x], sexes[y]) as u64) << (4 * field);
        }
        for (field, numbers) in &self.numbers {
            pattern |= (number_level(numbers[x], numbers[y]) as u64) << (4 * field);
        }
        pattern
    }
}

/// [`value_level`] of two different present values of the name or text column `f`, each given
/// with its row in the column's level cache.
fn values_level(p: &Prepared, f: usize, (ia, sa): (u32, u32), (ib, sb): (u32, u32)) -> u8 {
    let Column::Strings { values, levels, .. } = &p.columns[f] else { unreachable!("value ids belong to a column of strings") };
    let (lo, hi) = if ia < ib { (ia, ib) } else { (ib, ia) };
    levels.get_or_by_slots(sa, sb, || string_level(p.fields[f].kind, &values[lo as usize], &values[hi as usize]))
}

/// The level of two different values of a name or text column.
fn string_level(kind: FieldKind, va: &Value, vb: &Value) -> u8 {
    if matches!(kind, FieldKind::Place | FieldKind::Occupation | FieldKind::Nationality) {
        return concept_level(kind, va, vb);
    }
    if kind == FieldKind::Text {
        if va.spelling == vb.spelling {
            return 1;
        }
        if within_one_edit(&va.chars, &vb.chars) {
            return 2;
        }
        let s = similarity(va, vb, 0.75);
        return if s >= 0.90 {
            3
        } else if s >= 0.75 {
            4
        } else {
            5
        };
    }
    if va.spelling == vb.spelling {
        return 1;
    }
    // An initial is one letter, which its key does not keep (every vowel keys alike, so Й. and
    // А. would be one name): initials agree or differ by their letter.
    if va.chars.len() <= 1 || vb.chars.len() <= 1 {
        return if initial_agrees(&va.chars, &vb.chars) { 7 } else { 8 };
    }
    // One phonetic form is one name written in two scripts or transliterations (Бондаренко,
    // Bondarenko): stronger evidence than a shared key, whose consonant classes also join
    // different names (100k, seeds 7, 3, 8: pairwise F1 0.8943 -> 0.8975, 0.8866 -> 0.8885,
    // 0.8726 -> 0.8745).
    if va.chars == vb.chars {
        return 2;
    }
    // Given names have national forms and diminutives no spelling rule reaches (Параска for
    // Прасковья, Mykola for Николай): the names crate's table makes them the variant level.
    // Only given names have groups of the table (a name it does not list relates to nothing).
    let table = va.given_groups.relate(&vb.given_groups);
    if table == Some(names::GivenNameMatch::Equivalent) {
        return 2;
    }
    if va.key == vb.key {
        // A key keeps consonants only, so it holds names that differ only in their vowels or a
        // Lithuanian ending beside the spellings of one name; the level is split by how alike
        // the whole spellings are, and training weighs each part (100k: pairwise F1 0.873 ->
        // 0.879).
        return if similarity(va, vb, 0.92) >= 0.92 { 3 } else { 4 };
    }
    // Two names the table knows and does not relate are two names, however alike they are
    // spelled (Александр, Алексей): brothers, not one man in two spellings.
    if table.is_none() && kind == FieldKind::Given && va.concept != NULL && vb.concept != NULL {
        return 9;
    }
    let s = match similarity(va, vb, 0.80) {
        s if kind == FieldKind::Surname && s >= 0.80 => s.min(jaro_winkler_from_the_end(&va.chars, &vb.chars)),
        s => s,
    };
    if s >= 0.92 {
        5
    } else if s >= 0.80 {
        6
    } else if initial_agrees(&va.chars, &vb.chars) {
        7
    } else {
        8
    }
}

/// Places, occupations and nationalities: one concept (the vocabulary's, or the same folded spelling) is the
/// second level. Two different concepts the vocabulary knows are different, however alike they are
/// spelled (Минск, Пинск), unless they share an occupational group; otherwise spelling decides.
fn concept_level(kind: FieldKind, va: &Value, vb: &Value) -> u8 {
    if va.spelling == vb.spelling {
        return 1;
    }
    if va.key == vb.key {
        return 2;
    }
    let different = level_labels(kind).len() as u8 - 1;
    if va.concept != NULL && vb.concept != NULL {
        return if kind == FieldKind::Occupation && va.group != NULL && va.group == vb.group { 4 } else { different };
    }
    let s = similarity(va, vb, if kind == FieldKind::Place { 0.75 } else { 0.90 });
    if s >= 0.90 {
        3
    } else if kind == FieldKind::Place && s >= 0.75 {
        4
    } else {
        different
    }
}

/// The comparison pattern of a pair over all fields.
pub fn compare(p: &Prepared, a: usize, b: usize) -> Pattern {
    let mut pattern = 0u64;
    for f in 0..p.fields.len() {
        pattern |= (compare_field(p, f, a, b) as u64) << (4 * f);
    }
    pattern
}

pub fn level_of(pattern: Pattern, field: usize) -> u8 {
    ((pattern >> (4 * field)) & 0xF) as u8
}

/// Whether two days (as day numbers) fall on one month and day of the month.
fn same_day_of_year(a: i32, b: i32) -> bool {
    let (_, ma, da) = model::Day::from_days(a).ymd();
    let (_, mb, db) = model::Day::from_days(b).ymd();
    (ma, da) == (mb, db)
}

/// An initial ("И.", "s") on one side that is the first letter of the other side.
fn initial_agrees(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() <= 1 && !short.is_empty() && long.first() == short.first()
}

/// Optimal-string-alignment distance at most 1 (one substitution, insertion, deletion or swap).
pub fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if prefix == la && prefix == lb {
        return true;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    if la == lb {
        ra[1..] == rb[1..] || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
    } else if la > lb {
        ra[1..] == *rb
    } else {
        *ra == rb[1..]
    }
}

/// The Jaro-Winkler similarity of two values where it may reach `lowest` (the lowest threshold
/// the caller compares it with); below, a bound under `lowest` that costs a pass over each
/// spelling instead of the similarity's window search (most pairs of random records, which
/// estimate u, differ that much).
fn similarity(va: &Value, vb: &Value, lowest: f64) -> f64 {
    let bound = jaro_winkler_bound(va, vb);
    // The slack covers rounding: the bound is computed as the similarity is, from larger parts.
    if bound < lowest - 1e-9 { bound } else { jaro_winkler(&va.chars, &vb.chars) }
}

/// An upper bound of [`jaro_winkler`]: a character of one spelling matches only a character of
/// the other, so the matches are at most the characters of each spelling whose letter (as a
/// bit of [`Value::letters`]) occurs in the other; transpositions count as none.
fn jaro_winkler_bound(va: &Value, vb: &Value) -> f64 {
    let (a, b) = (&va.chars, &vb.chars);
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let found_in = |chars: &[char], letters: u64| chars.iter().filter(|&&c| letters >> (c as u32 % 64) & 1 != 0).count();
    let matches = found_in(a, vb.letters).min(found_in(b, va.letters));
    if matches == 0 {
        return 0.0;
    }
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + 1.0) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// Jaro-Winkler similarity (prefix scale 0.1, at most 4 prefix characters).
pub fn jaro_winkler(a: &[char], b: &[char]) -> f64 {
    let (la, lb) = (a.len(), b.len());
    if la == 0 || lb == 0 {
        return if la == lb { 1.0 } else { 0.0 };
    }
    let window = (la.max(lb) / 2).saturating_sub(1);
    let (matches, transpositions) =
        if la <= 64 && lb <= 64 { jaro_matches_short(a, b, window) } else { jaro_matches_long(a, b, window) };
    if matches == 0 {
        return 0.0;
    }
    let m = matches as f64;
    let jaro = (m / la as f64 + m / lb as f64 + (m - (transpositions / 2) as f64) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// Jaro-Winkler of two spellings read backwards, so its prefix bonus rewards a shared ending.
/// Surnames of different families share stems (Иванов, Иваночкин, Иванский: a root, a middle
/// syllable, a suffix), which Jaro-Winkler's prefix bonus rewards; two spellings of one surname
/// (OCR, another transliteration) agree at the end as well. Surnames of different keys are
/// therefore only alike as far as both readings say: on the simulated registers (100k, seeds 7,
/// 3, 8) pairwise F1 0.8927 -> 0.8938, 0.8855 -> 0.8859, 0.8720 -> 0.8720, B-cubed 0.9480 ->
/// 0.9484, 0.9399 -> 0.9402, 0.9319 -> 0.9320. Not for given names and patronymics, whose
/// endings say the sex rather than the name (read both ways for every name: 0.8922 on seed 7).
fn jaro_winkler_from_the_end(a: &[char], b: &[char]) -> f64 {
    // Names fit on the stack: reversing them into vectors was a third of this function's cost
    // (two allocations and frees a call).
    const ON_STACK: usize = 64;
    if a.len() <= ON_STACK && b.len() <= ON_STACK {
        let (mut ra, mut rb) = (['\0'; ON_STACK], ['\0'; ON_STACK]);
        for (r, &c) in ra.iter_mut().zip(a.iter().rev()) {
            *r = c;
        }
        for (r, &c) in rb.iter_mut().zip(b.iter().rev()) {
            *r = c;
        }
        return jaro_winkler(&ra[..a.len()], &rb[..b.len()]);
    }
    let backwards = |s: &[char]| s.iter().rev().copied().collect::<Vec<char>>();
    jaro_winkler(&backwards(a), &backwards(b))
}

/// Jaro's matching characters and half-transpositions of two spellings of at most 64
/// characters, with the matched positions of each side as bits (no vectors to allocate: names
/// are compared millions of times). The positions of `b` are kept as bits per character code
/// mod 32 (the letters of one Cyrillic or Latin alphabet each fall on distinct ones, and 32
/// words clear in a few stores), so a character of `a` looks only at the free positions of its
/// window that may hold it, in order, instead of at every position of the window: the first of
/// them that holds it is the one the textbook's scan takes.
fn jaro_matches_short(a: &[char], b: &[char], window: usize) -> (usize, usize) {
    let mut at = [0u64; 32];
    for (j, &cb) in b.iter().enumerate() {
        at[cb as usize % 32] |= 1 << j;
    }
    let (mut a_matched, mut b_matched) = (0u64, 0u64);
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        if lo >= hi {
            // The window starts past b's end, and so do the later characters' windows.
            break;
        }
        // hi - lo is 1..=64 (b has at most 64 characters).
        let in_window = (u64::MAX >> (64 - (hi - lo))) << lo;
        let mut free = at[ca as usize % 32] & in_window & !b_matched;
        while free != 0 {
            let j = free.trailing_zeros() as usize;
            if b[j] == ca {
                b_matched |= 1 << j;
                a_matched |= 1 << i;
                break;
            }
            free &= free - 1;
        }
    }
    let matches = a_matched.count_ones() as usize;
    let mut transpositions = 0;
    while a_matched != 0 {
        let (i, j) = (a_matched.trailing_zeros() as usize, b_matched.trailing_zeros() as usize);
        transpositions += (a[i] != b[j]) as usize;
        a_matched &= a_matched - 1;
        b_matched &= b_matched - 1;
    }
    (matches, transpositions)
}

/// [`jaro_matches_short`] for longer texts.
fn jaro_matches_long(a: &[char], b: &[char], window: usize) -> (usize, usize) {
    let mut b_used = vec![false; b.len()];
    let mut a_seq: Vec<char> = Vec::new();
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        if let Some(j) = (lo..hi).find(|&j| !b_used[j] && b[j] == ca) {
            b_used[j] = true;
            a_seq.push(ca);
        }
    }
    let b_seq = b.iter().zip(&b_used).filter(|(_, used)| **used).map(|(c, _)| c);
    let transpositions = a_seq.iter().zip(b_seq).filter(|(x, y)| x != y).count();
    (a_seq.len(), transpositions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namekey::FoldingMatcher;
    use crate::spec::{FieldSpec, LinkSpec};
    use expect_test::{Expect, expect};
    use model::{Sex, StandardRecord, UncertainDate};

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn jaro_winkler_matches_the_textbook_values() {
        let jw = |a: &str, b: &str| (jaro_winkler(&chars(a), &chars(b)) * 1000.0).round() / 1000.0;
        assert_eq!(jw("martha", "marhta"), 0.961);
        assert_eq!(jw("dwayne", "duane"), 0.84);
        assert_eq!(jw("dixon", "dicksonx"), 0.813);
        assert_eq!(jw("abc", "xyz"), 0.0);
        assert_eq!(jw("same", "same"), 1.0);
    }

    /// The textbook algorithm with arrays, as the similarity was first written: the bit-set
    /// version must give the same value to the last bit, or levels (and outcomes) would move.
    fn jaro_winkler_reference(a: &[char], b: &[char]) -> f64 {
        let (la, lb) = (a.len(), b.len());
        if la == 0 || lb == 0 {
            return if la == lb { 1.0 } else { 0.0 };
        }
        let window = (la.max(lb) / 2).saturating_sub(1);
        let mut b_used = vec![false; lb];
        let mut a_seq = Vec::new();
        for (i, &ca) in a.iter().enumerate() {
            for j in i.saturating_sub(window)..(i + window + 1).min(lb) {
                if !b_used[j] && b[j] == ca {
                    b_used[j] = true;
                    a_seq.push(ca);
                    break;
                }
            }
        }
        if a_seq.is_empty() {
            return 0.0;
        }
        let b_seq: Vec<char> = (0..lb).filter(|&j| b_used[j]).map(|j| b[j]).collect();
        let transpositions = a_seq.iter().zip(&b_seq).filter(|(x, y)| x != y).count();
        let m = a_seq.len() as f64;
        let jaro = (m / la as f64 + m / lb as f64 + (m - (transpositions / 2) as f64) / m) / 3.0;
        let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
        jaro + prefix * 0.1 * (1.0 - jaro)
    }

    proptest::proptest! {
        /// Also for characters that share a code mod 32 or 64 (a and !, p and Cyrillic а).
        #[test]
        fn jaro_winkler_equals_the_textbook_algorithm_bit_for_bit(a in "[abcdekop!а]{0,70}", b in "[abcdekop!а]{0,70}") {
            let (a, b) = (chars(&a), chars(&b));
            proptest::prop_assert_eq!(jaro_winkler(&a, &b).to_bits(), jaro_winkler_reference(&a, &b).to_bits());
        }

        /// Read from the end on the stack or in vectors (past 64 characters), the similarity is
        /// that of the reversed spellings.
        #[test]
        fn jaro_winkler_from_the_end_is_that_of_the_reversed_spellings(a in "[abcdeko]{0,70}", b in "[abcdeko]{0,70}") {
            let (a, b) = (chars(&a), chars(&b));
            let reversed = |s: &[char]| s.iter().rev().copied().collect::<Vec<char>>();
            proptest::prop_assert_eq!(jaro_winkler_from_the_end(&a, &b).to_bits(), jaro_winkler(&reversed(&a), &reversed(&b)).to_bits());
        }
    }

    fn value(text: &str) -> Value {
        let chars = chars(text);
        let letters = chars.iter().fold(0u64, |m, &c| m | 1 << (c as u32 % 64));
        Value { normalized: text.to_owned(), spelling: 0, chars, letters, key: 0, concept: NULL, group: NULL, given_groups: Default::default() }
    }

    proptest::proptest! {
        /// The quick bound is never below the similarity, so a level decided by it is the
        /// level the similarity gives (letters beyond the alphabet's 64 bits share bits).
        #[test]
        fn the_similarity_bound_is_never_below_the_similarity(a in "[a-eko0-9pqz]{0,20}", b in "[a-eko0-9pqz]{0,20}") {
            let (va, vb) = (value(&a), value(&b));
            let s = jaro_winkler(&va.chars, &vb.chars);
            proptest::prop_assert!(jaro_winkler_bound(&va, &vb) >= s, "{a} {b}");
            for lowest in [0.75, 0.80, 0.90, 0.92] {
                let quick = similarity(&va, &vb, lowest);
                proptest::prop_assert!(quick == s || (quick < lowest && s < lowest), "{a} {b} {lowest}");
            }
        }
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit(&chars("1234"), &chars("1243")));
        assert!(within_one_edit(&chars("1234"), &chars("124")));
        assert!(within_one_edit(&chars("1234"), &chars("1235")));
        assert!(!within_one_edit(&chars("1234"), &chars("2143")));
        assert!(!within_one_edit(&chars("1234"), &chars("12")));
    }

    fn record(id: &str, surname: &str, given: &str, patronymic: &str, birth: &str, sex: Option<Sex>, place: &str) -> StandardRecord {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        StandardRecord {
            id: id.into(),
            surname: opt(surname),
            given_name: opt(given),
            patronymic: opt(patronymic),
            birth_date: UncertainDate::parse_standard(birth).ok(),
            sex,
            birth_place: opt(place),
            ..StandardRecord::default()
        }
    }

    fn check(a: StandardRecord, b: StandardRecord, expect: Expect) {
        let fields = vec![
            FieldSpec::new("surname", FieldKind::Surname),
            FieldSpec::new("given_name", FieldKind::Given),
            FieldSpec::new("patronymic", FieldKind::Patronymic),
            FieldSpec::new("birth_date", FieldKind::Date),
            FieldSpec::new("sex", FieldKind::Sex),
            FieldSpec::new("birth_place", FieldKind::Text),
        ];
        let columns: Vec<String> = fields.iter().map(|f| f.column.clone()).collect();
        let shown: Vec<String> = columns.iter().zip(levels_of(fields, [a, b])).map(|(column, level)| format!("{column}: {level}")).collect();
        expect.assert_eq(&shown.join("\n"));
    }

    /// Pairs of surnames of different keys from the simulated register, each compared as a
    /// surname and as a patronymic (whose similarity reads only forwards).
    #[test]
    fn surnames_are_alike_only_when_their_endings_agree_too() {
        let pairs = [
            // Two families of one stem (the last two still alike read from both ends).
            ("Иваначин", "Ivanov"),
            ("Иванов", "Ivanenin"),
            ("Иваначин", "Iwanatschhow"),
            ("Кузнеценво", "Kuznetsin"),
            // One surname, misread or transliterated apart.
            ("Смирнин", "Smlrin"),
            ("Тимоешнко", "Tlmoshenko"),
            ("Кравченишина", "Krawtcshenischina"),
            ("Шевченко", "Schewtsschenko"),
        ];
        let shown: Vec<String> = pairs
            .iter()
            .map(|(a, b)| {
                let records = [a, b].map(|name| StandardRecord {
                    surname: Some(name.to_string()),
                    patronymic: Some(name.to_string()),
                    ..StandardRecord::default()
                });
                let fields = vec![FieldSpec::new("surname", FieldKind::Surname), FieldSpec::new("patronymic", FieldKind::Patronymic)];
                let levels = levels_of(fields, records);
                format!("{a} / {b}: {}; as a patronymic: {}", levels[0], levels[1])
            })
            .collect();
        expect![[r#"
            Иваначин / Ivanov: different; as a patronymic: phonetic similarity >= 0.80
            Иванов / Ivanenin: different; as a patronymic: phonetic similarity >= 0.80
            Иваначин / Iwanatschhow: phonetic similarity >= 0.80; as a patronymic: phonetic similarity >= 0.80
            Кузнеценво / Kuznetsin: phonetic similarity >= 0.80; as a patronymic: phonetic similarity >= 0.80
            Смирнин / Smlrin: phonetic similarity >= 0.80; as a patronymic: phonetic similarity >= 0.80
            Тимоешнко / Tlmoshenko: phonetic similarity >= 0.80; as a patronymic: phonetic similarity >= 0.80
            Кравченишина / Krawtcshenischina: phonetic similarity >= 0.80; as a patronymic: phonetic similarity >= 0.80
            Шевченко / Schewtsschenko: phonetic similarity >= 0.80; as a patronymic: phonetic similarity >= 0.80"#]].assert_eq(&shown.join("\n"));
    }

    /// The level of every field of two records compared over `fields`.
    fn levels_of(fields: Vec<FieldSpec>, records: [StandardRecord; 2]) -> Vec<&'static str> {
        let spec = LinkSpec { fields, ..LinkSpec::default() };
        let p = Prepared::new(&records, &spec, &FoldingMatcher);
        let pattern = compare(&p, 0, 1);
        p.fields.iter().enumerate().map(|(f, field)| level_labels(field.kind)[level_of(pattern, f) as usize]).collect()
    }

    /// Levels of places and occupations written by two lists in their own languages.
    fn check_texts(pairs: &[(&str, &str, &str, &str)], expect: Expect) {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let shown: Vec<String> = pairs
            .iter()
            .map(|(place_a, place_b, occupation_a, occupation_b)| {
                let records = [(place_a, occupation_a), (place_b, occupation_b)].map(|(place, occupation)| StandardRecord {
                    birth_place: opt(place),
                    occupation: opt(occupation),
                    ..StandardRecord::default()
                });
                let fields = vec![FieldSpec::new("birth_place", FieldKind::Place), FieldSpec::new("occupation", FieldKind::Occupation)];
                let levels = levels_of(fields, records);
                format!("{place_a} / {place_b}: {}; {occupation_a} / {occupation_b}: {}", levels[0], levels[1])
            })
            .collect();
        expect.assert_eq(&shown.join("\n"));
    }

    #[test]
    fn places_and_occupations_agree_across_languages() {
        check_texts(
            &[
                ("Ковно", "Kaunas", "колхозник", "collective farmer"),
                ("Вильно", "Wilno", "колгоспник", "kolūkietis"),
                ("Екатеринослав", "Dnipropetrovsk", "рабочий", "Arbeiter"),
                ("Москва", "Moskva", "рабочий", "worker"),
                ("Ракитно", "Rakitno", "сапожник", "shoemaker"),
                ("Ракитно", "Rakitne", "колхозник", "крестьянин"),
                ("Минск", "Пинск", "счетовод", "accountant"),
                ("Ковно", "Тула", "учитель", "priest"),
                ("Тула", "Тула", "астроном", "astronom"),
                ("Kalinovka", "Kalinowka", "", "врач"),
            ],
            expect![[r#"
                Ковно / Kaunas: same place (gazetteer or transliteration); колхозник / collective farmer: same occupation (vocabulary or transliteration)
                Вильно / Wilno: same place (gazetteer or transliteration); колгоспник / kolūkietis: same occupation (vocabulary or transliteration)
                Екатеринослав / Dnipropetrovsk: same place (gazetteer or transliteration); рабочий / Arbeiter: same occupation (vocabulary or transliteration)
                Москва / Moskva: same place (gazetteer or transliteration); рабочий / worker: same occupation (vocabulary or transliteration)
                Ракитно / Rakitno: same place (gazetteer or transliteration); сапожник / shoemaker: same occupation (vocabulary or transliteration)
                Ракитно / Rakitne: similarity >= 0.90; колхозник / крестьянин: same occupational group
                Минск / Пинск: different; счетовод / accountant: same occupational group
                Ковно / Тула: different; учитель / priest: different
                Тула / Тула: exact; астроном / astronom: same occupation (vocabulary or transliteration)
                Kalinovka / Kalinowka: same place (gazetteer or transliteration);  / врач: null"#]],
        );
    }

    /// Date levels by how precisely each side is known.
    #[test]
    fn levels_of_birth_dates() {
        let pairs = [
            ("1894-04-15", "1894-04-15"),
            ("1894", "1894"),
            ("1894-04-15", "1894"),
            ("1893/1895", "1894-04"),
            ("1893/1895", "1895/1897"),
            ("1890/1899", "1894-04-15"),
            ("1894-04-15", "1895-04-15"),
            ("1894-04-15", "1894-05-10"),
            ("1894-04-15", "1895"),
            ("1894", "1896"),
            ("1894-04-15", "1904-04-15"),
            ("1894", "1904"),
        ];
        let shown: Vec<String> = pairs
            .iter()
            .map(|(a, b)| {
                let p = Prepared::new(
                    &[record("1", "", "", "", a, None, ""), record("2", "", "", "", b, None, "")],
                    &LinkSpec { fields: vec![FieldSpec::new("birth_date", FieldKind::Date)], ..LinkSpec::default() },
                    &FoldingMatcher,
                );
                format!("{a} / {b}: {}", level_labels(FieldKind::Date)[compare_field(&p, 0, 0, 1) as usize])
            })
            .collect();
        expect![[r#"
            1894-04-15 / 1894-04-15: same day
            1894 / 1894: same date (an interval)
            1894-04-15 / 1894: intervals overlap
            1893/1895 / 1894-04: intervals overlap
            1893/1895 / 1895/1897: intervals overlap
            1890/1899 / 1894-04-15: intervals overlap
            1894-04-15 / 1895-04-15: same day and month, a year or two apart
            1894-04-15 / 1894-05-10: within 31 days
            1894-04-15 / 1895: within 400 days
            1894 / 1896: within 400 days
            1894-04-15 / 1904-04-15: different
            1894 / 1904: different"#]].assert_eq(&shown.join("\n"));
    }

    /// One name in two scripts (one phonetic form) against names that only share a key: another
    /// transliteration system, or two surnames whose sibilants fall into one key class.
    #[test]
    fn a_shared_phonetic_form_is_apart_from_a_shared_key() {
        let pairs = [("Бондаренко", "Bondarenko"), ("Шевченко", "Schewtschenko"), ("Иванов", "Ivanova"), ("Кузнецов", "Kusnezow"), ("Кашеваров", "Кажеваров"), ("Шаров", "Жаров")];
        let shown: Vec<String> = pairs
            .iter()
            .map(|(a, b)| {
                let records = [a, b].map(|name| StandardRecord { surname: Some(name.to_string()), ..StandardRecord::default() });
                let levels = levels_of(vec![FieldSpec::new("surname", FieldKind::Surname)], records);
                format!("{a} / {b}: {}", levels[0])
            })
            .collect();
        expect![[r#"
            Бондаренко / Bondarenko: same name in another script or form
            Шевченко / Schewtschenko: same name in another script or form
            Иванов / Ivanova: same key, spelled alike (similarity >= 0.92)
            Кузнецов / Kusnezow: same key, spelled apart (similarity < 0.92)
            Кашеваров / Кажеваров: same key, spelled alike (similarity >= 0.92)
            Шаров / Жаров: same key, spelled apart (similarity < 0.92)"#]].assert_eq(&shown.join("\n"));
    }

    #[test]
    fn levels_of_a_transliterated_pair() {
        check(
            record("1", "Хрущёв", "Никита", "Сергеевич", "1894-04-15", Some(Sex::Male), "Калиновка"),
            record("2", "Khrushchev", "Nikita", "S", "1894", Some(Sex::Male), "Kalinovka"),
            expect![[r#"
                surname: same name in another script or form
                given_name: same name in another script or form
                patronymic: initial agrees
                birth_date: intervals overlap
                sex: same
                birth_place: one edit"#]],
        );
        check(
            record("1", "Иванов", "Иван", "", "1901", Some(Sex::Male), "Тула"),
            record("2", "Иванов", "Иван", "Петрович", "1902", Some(Sex::Female), "Тула"),
            expect![[r#"
                surname: exact
                given_name: exact
                patronymic: null
                birth_date: within 31 days
                sex: different
                birth_place: exact"#]],
        );
        // Names a syllable apart have two keys and alike spellings; one key may join spellings
        // far apart (a German transliteration).
        check(
            record("1", "Коваленко", "Никита", "Хрущёв", "", None, ""),
            record("2", "Ковальененко", "Nikita", "Chruschtschow", "", None, ""),
            expect![[r#"
                surname: phonetic similarity >= 0.92
                given_name: same name in another script or form
                patronymic: same key, spelled apart (similarity < 0.92)
                birth_date: null
                sex: null
                birth_place: null"#]],
        );
        // Initials agree or differ by their letter (every vowel keys alike).
        check(
            record("1", "Петраускас", "Й.", "А.", "", None, ""),
            record("2", "Petrauskas", "J", "I.", "", None, ""),
            expect![[r#"
                surname: same name in another script or form
                given_name: initial agrees
                patronymic: different
                birth_date: null
                sex: null
                birth_place: null"#]],
        );
        check(
            record("1", "Петраускас", "Йонас", "", "1900/1902", None, "Kaunas"),
            record("2", "Petrauskas", "Jonas", "", "1905", None, "Kaunass"),
            expect![[r#"
                surname: same name in another script or form
                given_name: same name in another script or form
                patronymic: null
                birth_date: within 1100 days
                sex: null
                birth_place: one edit"#]],
        );
    }
}
