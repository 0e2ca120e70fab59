//! Weighted edit distance over phonetic symbols: the variant rules are cheap edits (ch=х, j=ж,
//! е/и, OCR's rn/m), everything else costs a full edit. Bounded rows, no allocation.

use crate::phonetic::ALPHABET;
use std::sync::LazyLock;

const N: usize = ALPHABET.len();
/// Longer names are truncated; no real name part comes near it.
pub(crate) const MAX_LEN: usize = 31;

/// The rules below that only say how a script or a transliteration system writes one sound
/// (Ежов as Yezhov or Jeschow): two spellings that differ by these alone are one name. The
/// others (a different vowel, voicing, OCR's confusions, an added letter) may as well be another
/// name. A test checks that each is the name of a rule.
pub(crate) const SPELLING_CONVENTIONS: &[&str] = &[
    "j=й",
    "j=ж (French)",
    "ch=ч",
    "ch=х (German, Polish, Czech)",
    "ch=ш (French)",
    "sch=ж (German)",
    "sch=ш (German)",
    "ё written o",
    "ё written e",
    "h=х",
    "h=г (Ukrainian)",
    "й=и",
    "French final -e",
    "Latin s or z = с/ц",
    "Latin s or z = з",
    "glide й/ь",
    "glide j",
];

/// Cheap substitutions, symmetric: (symbol, symbol, cost, the rule's name).
const CHEAP_SUBSTITUTIONS: &[(u8, u8, f32, &str)] = &[
    (b'J', b'j', 0.1, "j=й"),
    (b'J', b'i', 0.15, "j=й"),
    (b'J', b'z', 0.15, "j=ж (French)"),
    (b'C', b'c', 0.15, "ch=ч"),
    (b'C', b'x', 0.15, "ch=х (German, Polish, Czech)"),
    (b'C', b'w', 0.2, "ch=ш (French)"),
    (b'Y', b'z', 0.15, "sch=ж (German)"),
    (b'Y', b'w', 0.15, "sch=ш (German)"),
    (b'O', b'o', 0.05, "ё written o"),
    (b'O', b'e', 0.1, "ё written e"),
    (b'j', b'l', 0.4, "OCR l/i"),
    (b'C', b'k', 0.5, "ch=к"),
    (b'H', b'x', 0.15, "h=х"),
    (b'H', b'g', 0.25, "h=г (Ukrainian)"),
    (b'j', b'i', 0.1, "й=и"),
    (b'E', b'e', 0.1, "French final -e"),
    (b'e', b'i', 0.45, "vowel е/и"),
    (b'a', b'o', 0.5, "vowel а/о"),
    (b'o', b'u', 0.5, "vowel о/у"),
    (b'e', b'o', 0.55, "vowel е/о (ё)"),
    (b'q', b'w', 0.45, "щ=ш"),
    (b'q', b'Y', 0.5, "щ=ш"),
    (b'q', b'c', 0.6, "щ/ч"),
    (b'z', b'w', 0.5, "ж/ш"),
    (b'S', b's', 0.05, "Latin s or z = с/ц"),
    (b'S', b'Z', 0.05, "Latin s or z = з"),
    (b'S', b'w', 0.5, "с/ш (German st, sp)"),
    (b'Z', b's', 0.6, "з/с"),
    (b's', b'z', 0.6, "с/ж"),
    (b'Z', b'z', 0.6, "з/ж"),
    (b'S', b'z', 0.6, "з/ж"),
    (b's', b'w', 0.5, "с/ш (German st, sp)"),
    (b'b', b'p', 0.6, "voicing б/п"),
    (b'v', b'f', 0.5, "voicing в/ф"),
    (b'g', b'k', 0.6, "voicing г/к"),
    (b'd', b't', 0.6, "voicing д/т"),
    (b'x', b'k', 0.5, "х/к"),
    (b'x', b'g', 0.6, "х/г"),
    (b'u', b'n', 0.35, "OCR u/n"),
    (b'l', b'i', 0.35, "OCR l/i"),
    (b'e', b's', 0.4, "OCR c/e"),
    (b'e', b'k', 0.4, "OCR c/e"),
    (b'v', b'u', 0.6, "ў/в"),
    (b'm', b'n', 0.6, "м/н"),
];


pub(crate) struct Costs {
    labels: [[&'static str; N]; N],
    indel_labels: [&'static str; N],
    /// Costs in hundredths: integer minima are cheaper than float ones in the hot loop. Padded
    /// to 32 so that a masked index needs no bounds check.
    substitution_units: [[u32; 32]; 32],
    indel_units: [u32; 32],
    /// Symbols that can be cut from the common ends of two names without changing their
    /// distance (see [`strip_common_ends`]).
    strippable: [bool; 32],
    r: u8,
    n: u8,
    m: u8,
}

fn index_of(symbol: u8) -> usize {
    ALPHABET.iter().position(|&s| s == symbol).unwrap_or(0)
}

fn is_vowel(symbol: u8) -> bool {
    matches!(symbol, b'a' | b'o' | b'u' | b'e' | b'i' | b'O')
}

pub(crate) static COSTS: LazyLock<Costs> = LazyLock::new(|| {
    let mut substitution = [[1.0f32; N]; N];
    let mut labels = [["different letter"; N]; N];
    let mut indel = [1.0f32; N];
    let mut indel_labels = ["letter added"; N];
    for (x, &a) in ALPHABET.iter().enumerate() {
        for (y, &b) in ALPHABET.iter().enumerate() {
            if a == b {
                substitution[x][y] = 0.0;
            } else if is_vowel(a) && is_vowel(b) {
                substitution[x][y] = 0.7;
                labels[x][y] = "different vowel";
            } else if (a == b'j' && is_vowel(b)) || (b == b'j' && is_vowel(a)) {
                substitution[x][y] = 0.6;
                labels[x][y] = "glide/vowel";
            }
        }
        let (cost, label) = match a {
            b'j' => (0.15, "glide й/ь"),
            b'J' => (0.2, "glide j"),
            b'E' => (0.1, "French final -e"),
            b'H' => (0.5, "silent h"),
            s if is_vowel(s) => (0.6, "vowel added"),
            _ => (1.0, "letter added"),
        };
        indel[x] = cost;
        indel_labels[x] = label;
    }
    for &(a, b, cost, label) in CHEAP_SUBSTITUTIONS {
        let (x, y) = (index_of(a), index_of(b));
        substitution[x][y] = cost;
        substitution[y][x] = cost;
        labels[x][y] = label;
        labels[y][x] = label;
    }
    let units = |cost: f32| (cost * 100.0).round() as u32;
    let mut substitution_units = [[100u32; 32]; 32];
    let mut indel_units = [100u32; 32];
    for x in 0..N {
        indel_units[x] = units(indel[x]);
        for y in 0..N {
            substitution_units[x][y] = units(substitution[x][y]);
        }
    }
    // Cutting a shared symbol x off the end is exact unless some alignment is cheaper that
    // deletes x and substitutes y for the other x: that needs del(y) > del(x) + sub(y, x), which
    // the cheap glides allow (deleting й and reading и as й beats deleting и).
    let strippable = std::array::from_fn(|x| {
        x < N && (0..N).all(|y| indel_units[y] <= indel_units[x] + substitution_units[y][x])
    });
    Costs {
        substitution_units,
        indel_units,
        strippable,
        labels,
        indel_labels,
        r: index_of(b'r') as u8,
        n: index_of(b'n') as u8,
        m: index_of(b'm') as u8,
    }
});

impl Costs {
    /// The cost of substituting one symbol index for another.
    pub(crate) fn substitution_cost(&self, a: u8, b: u8) -> f32 {
        self.substitution_units[a as usize][b as usize] as f32 / 100.0
    }
}

/// Maps phonetic symbols to cost-table indices (truncated to [`MAX_LEN`]).
pub(crate) fn to_indices(symbols: &[u8]) -> Vec<u8> {
    symbols.iter().take(MAX_LEN).map(|&s| index_of(s) as u8).collect()
}

/// Which halves of the OCR confusion rn ↔ m a name has, found once per name rather than per
/// comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct OcrMarks {
    m: bool,
    rn: bool,
}

impl OcrMarks {
    pub(crate) fn of(costs: &Costs, symbols: &[u8]) -> OcrMarks {
        OcrMarks {
            m: symbols.contains(&costs.m),
            rn: symbols.windows(2).any(|w| w[0] == costs.r && w[1] == costs.n),
        }
    }

    /// Whether the two-for-one edit can apply between the two names.
    pub(crate) fn meet(self, other: OcrMarks) -> bool {
        (self.m && other.rn) || (self.rn && other.m)
    }
}

/// The cost of turning `a` into `b`; any value above `cutoff` may be returned as infinity.
/// `ocr_rn_m` says whether the rn ↔ m edit can apply ([`OcrMarks::meet`]).
pub(crate) fn distance(costs: &Costs, a: &[u8], b: &[u8], ocr_rn_m: bool, cutoff: f32) -> f32 {
    if ocr_rn_m {
        distance_with::<true>(costs, a, b, cutoff)
    } else {
        // Compared names mostly share a start or an ending (-ович, -ов, Алекс-): cutting those
        // off shrinks the quadratic alignment to the part that differs.
        let (a, b) = strip_common_ends(costs, a, b);
        distance_with::<false>(costs, a, b, cutoff)
    }
}

/// `a` and `b` without the symbols they share at the start and at the end, where cutting them
/// keeps the distance exact (no two-for-one edits; `Costs::strippable`). An optimal alignment
/// either matches the two final symbols x with each other, or deletes one x and aligns the
/// other with some y; replacing that by the match and deleting y costs
/// del(y) - del(x) - sub(y, x) more, which is never positive for a strippable x.
fn strip_common_ends<'a, 'b>(costs: &Costs, mut a: &'a [u8], mut b: &'b [u8]) -> (&'a [u8], &'b [u8]) {
    let shared_strippable = |x: u8, y: u8| x == y && costs.strippable[usize::from(x & 31)];
    while let (Some((&x, a_rest)), Some((&y, b_rest))) = (a.split_first(), b.split_first()) {
        if !shared_strippable(x, y) {
            break;
        }
        (a, b) = (a_rest, b_rest);
    }
    while let (Some((&x, a_rest)), Some((&y, b_rest))) = (a.split_last(), b.split_last()) {
        if !shared_strippable(x, y) {
            break;
        }
        (a, b) = (a_rest, b_rest);
    }
    (a, b)
}

/// Cost of the OCR confusion `rn` ↔ `m`, the one two-for-one edit, in hundredths.
const RN_M_UNITS: u32 = 35;

fn distance_with<const RN_M_EDIT: bool>(costs: &Costs, a: &[u8], b: &[u8], cutoff: f32) -> f32 {
    let cutoff = (cutoff * 100.0) as u32;
    let (la, lb) = (a.len().min(MAX_LEN), b.len().min(MAX_LEN));
    let (a, b) = (&a[..la], &b[..lb]);
    let mut rows = [[0u32; MAX_LEN + 1]; 3];
    let [mut before, mut previous, mut current] = rows.each_mut();
    // b's symbols and their insertion costs, looked up once rather than once per row.
    let mut b_symbols = [0usize; MAX_LEN];
    let mut insert_b = [0u32; MAX_LEN];
    for j in 1..=lb {
        b_symbols[j - 1] = b[j - 1] as usize & 31;
        insert_b[j - 1] = costs.indel_units[b_symbols[j - 1]];
        previous[j] = previous[j - 1] + insert_b[j - 1];
    }
    for i in 1..=la {
        let x = a[i - 1] as usize & 31;
        let delete_x = costs.indel_units[x];
        current[0] = previous[0] + delete_x;
        let mut row_min = current[0];
        let sub_row = &costs.substitution_units[x];
        // The left and diagonal neighbours stay in registers: reading them back from the row
        // just written would wait on store forwarding in every cell.
        let (mut left, mut diagonal) = (current[0], previous[0]);
        for j in 1..=lb {
            let y = b_symbols[j - 1];
            let up = previous[j];
            let mut best = diagonal + sub_row[y];
            best = best.min(up + delete_x);
            best = best.min(left + insert_b[j - 1]);
            if RN_M_EDIT {
                if y as u8 == costs.m && i >= 2 && a[i - 2] == costs.r && x as u8 == costs.n {
                    best = best.min(before[j - 1] + RN_M_UNITS);
                }
                if x as u8 == costs.m && j >= 2 && b[j - 2] == costs.r && y as u8 == costs.n {
                    best = best.min(previous[j - 2] + RN_M_UNITS);
                }
            }
            current[j] = best;
            (left, diagonal) = (best, up);
            row_min = row_min.min(best);
        }
        if row_min > cutoff {
            return f32::INFINITY;
        }
        // Rotate the three rows without copying them.
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[lb] as f32 / 100.0
}

/// The distance with the names of the rules its cheapest alignment used, for explanations.
pub(crate) fn explain(costs: &Costs, a: &[u8], b: &[u8]) -> (f32, Vec<&'static str>) {
    let (la, lb) = (a.len().min(MAX_LEN), b.len().min(MAX_LEN));
    let mut d = vec![vec![0u32; lb + 1]; la + 1];
    for i in 1..=la {
        d[i][0] = d[i - 1][0] + costs.indel_units[a[i - 1] as usize];
    }
    for j in 1..=lb {
        d[0][j] = d[0][j - 1] + costs.indel_units[b[j - 1] as usize];
    }
    for i in 1..=la {
        for j in 1..=lb {
            let (x, y) = (a[i - 1] as usize, b[j - 1] as usize);
            let mut best = (d[i - 1][j - 1] + costs.substitution_units[x][y])
                .min(d[i - 1][j] + costs.indel_units[x])
                .min(d[i][j - 1] + costs.indel_units[y]);
            if y as u8 == costs.m && i >= 2 && a[i - 2] == costs.r && x as u8 == costs.n {
                best = best.min(d[i - 2][j - 1] + RN_M_UNITS);
            }
            if x as u8 == costs.m && j >= 2 && b[j - 2] == costs.r && y as u8 == costs.n {
                best = best.min(d[i - 1][j - 2] + RN_M_UNITS);
            }
            d[i][j] = best;
        }
    }
    let mut rules = Vec::new();
    let (mut i, mut j) = (la, lb);
    let close = |p: u32, q: u32| p == q;
    while i > 0 || j > 0 {
        let here = d[i][j];
        if i > 0 && j > 0 && close(here, d[i - 1][j - 1] + costs.substitution_units[a[i - 1] as usize][b[j - 1] as usize]) {
            if a[i - 1] != b[j - 1] {
                rules.push(costs.labels[a[i - 1] as usize][b[j - 1] as usize]);
            }
            i -= 1;
            j -= 1;
        } else if i > 0 && close(here, d[i - 1][j] + costs.indel_units[a[i - 1] as usize]) {
            rules.push(costs.indel_labels[a[i - 1] as usize]);
            i -= 1;
        } else if j > 0 && close(here, d[i][j - 1] + costs.indel_units[b[j - 1] as usize]) {
            rules.push(costs.indel_labels[b[j - 1] as usize]);
            j -= 1;
        } else if i >= 2 && j >= 1 && close(here, d[i - 2][j - 1] + RN_M_UNITS) {
            rules.push("OCR rn/m");
            i -= 2;
            j -= 1;
        } else {
            rules.push("OCR rn/m");
            i -= 1;
            j = j.saturating_sub(2);
        }
    }
    rules.reverse();
    rules.dedup();
    (d[la][lb] as f32 / 100.0, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(a: &str, b: &str) -> f32 {
        let (a, b) = (to_indices(a.as_bytes()), to_indices(b.as_bytes()));
        let ocr_rn_m = OcrMarks::of(&COSTS, &a).meet(OcrMarks::of(&COSTS, &b));
        distance(&COSTS, &a, &b, ocr_rn_m, 100.0)
    }

    #[test]
    fn every_spelling_convention_is_the_name_of_a_rule() {
        let named: Vec<&str> = COSTS.labels.iter().flatten().chain(&COSTS.indel_labels).copied().collect();
        for convention in SPELLING_CONVENTIONS {
            assert!(named.contains(convention), "{convention:?} names no rule of the edit costs");
        }
    }

    #[test]
    fn variant_edits_are_cheap_and_others_are_not() {
        assert_eq!(dist("ezev", "ezev"), 0.0);
        assert!(dist("jeJev", "ezev") < 0.4);
        assert!(dist("karnenev", "kamenev") < 0.4);
        assert!(dist("andropov", "andronov") >= 1.0);
        assert!(dist("ezev", "erzev") >= 1.0);
    }

    proptest::proptest! {
        #[test]
        fn cutting_common_ends_keeps_the_distance(
            start in "[aoueijJEObvgdzwqcskxlmnptfHCY]{0,3}",
            a in "[aoueijJEObvgdzwqcskxlmnptfHCY]{0,8}",
            b in "[aoueijJEObvgdzwqcskxlmnptfHCY]{0,8}",
            end in "[aoueijJEObvgdzwqcskxlmnptfHCY]{0,3}",
        ) {
            let a = to_indices(format!("{start}{a}{end}").as_bytes());
            let b = to_indices(format!("{start}{b}{end}").as_bytes());
            let whole = distance_with::<false>(&COSTS, &a, &b, 1000.0);
            let (a_cut, b_cut) = strip_common_ends(&COSTS, &a, &b);
            let cut = distance_with::<false>(&COSTS, a_cut, b_cut, 1000.0);
            proptest::prop_assert!((whole - cut).abs() < 1e-4, "{whole} {cut}");
        }
    }

    #[test]
    fn glides_and_ocr_confusable_vowels_are_kept_at_the_ends() {
        let kept: String = ALPHABET.iter().filter(|&&s| !COSTS.strippable[index_of(s)]).map(|&s| s as char).collect();
        expect_test::expect!["uijJEH"].assert_eq(&kept);
    }

    #[test]
    fn explain_agrees_with_distance() {
        for (a, b) in [("karnenev", "kamenev"), ("kamenev", "karnenev"), ("tuCacevski", "tuxacevskij"), ("", "abc")] {
            let (cost, _) = explain(&COSTS, &to_indices(a.as_bytes()), &to_indices(b.as_bytes()));
            assert!((cost - dist(a, b)).abs() < 1e-5, "{a} {b}");
        }
        let (_, rules) = explain(&COSTS, &to_indices(b"karnenev"), &to_indices(b"kamenev"));
        assert_eq!(rules, vec!["OCR rn/m"]);
    }
}
