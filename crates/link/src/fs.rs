//! Fellegi-Sunter scoring: m and u probabilities per field level, estimated without labels by EM
//! over agreement-pattern counts (u starting from random pairs), optionally refined from reviewed
//! pairs, with term-frequency adjustment and a per-pair explanation that sums to the score.

use crate::compare::{Pattern, compare, count_levels, decisive_m_floor, level_labels, level_of, level_rank, prior_m, tf_level};
use crate::prepare::{Column, NULL, Prepared};
use crate::spec::FieldKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The smallest probability we let a level have, so no weight is infinite.
const FLOOR: f64 = 1e-6;
/// No level is impossible for a match: OCR, a translated name or a wrong year can put any true
/// pair anywhere, so EM never drives an m below this (a weight of at most about -7 bits).
const M_FLOOR: f64 = 0.008;
/// Term-frequency adjustments are bounded: a value's rarity is evidence, not proof.
const TF_MAX_BITS: f64 = 8.0;
/// A register with fewer pairs than this (six records or fewer) cannot tell how often a pair
/// matches: lambda's EM over its one or few pairs runs to certainty on any agreement (two
/// records sharing a surname: a match probability of 0.99999999) or to 1e-9 on a disagreement.
/// Pseudo-pairs at [`PRIOR_LAMBDA`] make up the difference, fading as pairs come in; from this
/// many pairs on (any real register, FEBRL's and the simulated ones), lambda is the data's
/// alone, bit for bit.
const PRIOR_PAIRS: f64 = 20.0;
/// The match share of those pseudo-pairs: one in twenty, about what a register of this size
/// holds when two short lists name some persons in common.
const PRIOR_LAMBDA: f64 = 0.05;

/// m and u of one level of one field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelParams {
    pub label: String,
    /// P(level | the records are the same person).
    pub m: f64,
    /// P(level | different persons).
    pub u: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldParams {
    pub column: String,
    pub kind: FieldKind,
    pub tf: bool,
    /// Level 0 is "null" and always has weight 0.
    pub levels: Vec<LevelParams>,
}

/// A trained Fellegi-Sunter model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FsModel {
    /// Prior probability that a pair of records is a match (a pair from two sources when
    /// `lambda_within_source` is set).
    pub lambda: f64,
    /// Prior probability that two records of one source are a match, when it differs from
    /// `lambda`: a list repeats a person far more rarely than two lists share one, so namesakes
    /// inside one list need more evidence to merge than across lists.
    #[serde(default)]
    pub lambda_within_source: Option<f64>,
    pub fields: Vec<FieldParams>,
    pub em_iterations: usize,
}

impl FsModel {
    /// A starting model: u as given, m from [`prior_m`].
    pub fn initial(p: &Prepared, u: &[Vec<f64>]) -> FsModel {
        let fields = p
            .fields
            .iter()
            .enumerate()
            .map(|(f, spec)| {
                let labels = level_labels(spec.kind);
                let raw = prior_m(spec.kind);
                let total: f64 = raw.iter().sum();
                FieldParams {
                    column: spec.column.clone(),
                    kind: spec.kind,
                    tf: spec.tf_enabled(),
                    levels: labels
                        .iter()
                        .enumerate()
                        .map(|(l, label)| LevelParams {
                            label: (*label).to_owned(),
                            m: if l == 0 { 1.0 } else { raw[l] / total },
                            u: if l == 0 { 1.0 } else { u[f][l].max(FLOOR) },
                        })
                        .collect(),
                }
            })
            .collect();
        FsModel { lambda: 1e-4, lambda_within_source: None, fields, em_iterations: 0 }
    }

    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// The prior weight of a pair whose records come from one source or from two.
    pub fn pair_prior_weight(&self, same_source: bool) -> f64 {
        match self.lambda_within_source {
            Some(l) if same_source => (l / (1.0 - l)).log2(),
            _ => self.prior_weight(),
        }
    }

    /// The match weight (log2 Bayes factor) of a level, before term-frequency adjustment.
    pub fn level_weight(&self, field: usize, level: u8) -> f64 {
        if level == 0 {
            return 0.0;
        }
        let l = &self.fields[field].levels[level as usize];
        (l.m.max(FLOOR) / l.u.max(FLOOR)).log2()
    }

    /// The weights of counted patterns without term frequencies (what EM works with) less the
    /// prior: each the sum of its fields' level weights, every level's weight computed once
    /// instead of a `log2` per field and pattern, patterns on both threads.
    pub fn patterns_field_weights(&self, counts: &[(Pattern, u64)]) -> Vec<f64> {
        let levels = &self.level_weights();
        counts.par_iter().with_min_len(PARALLEL_PATTERNS).map(|&(p, _)| pattern_field_weight(levels, p)).collect()
    }

    /// Every level's weight, per field (see [`pattern_field_weight`]).
    fn level_weights(&self) -> Vec<Vec<f64>> {
        self.fields.iter().enumerate().map(|(f, field)| (0..field.levels.len()).map(|l| self.level_weight(f, l as u8)).collect()).collect()
    }
}

/// A pattern's weight without term frequencies less the prior, from [`FsModel::level_weights`].
fn pattern_field_weight(levels: &[Vec<f64>], pattern: Pattern) -> f64 {
    levels.iter().enumerate().map(|(f, w)| w[level_of(pattern, f) as usize]).sum::<f64>()
}

/// Per field, the share of each level among random pairs (level 0 included, then ignored).
/// Small data sets use every pair.
pub fn estimate_u(p: &Prepared, samples: usize, seed: u64) -> Vec<Vec<f64>> {
    let n = p.len();
    let all_pairs = (n as u64) * (n as u64).saturating_sub(1) / 2;
    let pairs: Vec<(u32, u32)> = if all_pairs <= samples as u64 {
        (0..n).flat_map(|a| (a + 1..n).map(move |b| (a as u32, b as u32))).collect()
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Each pair as one number, the first record above the second: it sorts as the pair does,
        // one comparison of integers instead of a tuple's two.
        let mut drawn: Vec<u64> = (0..samples)
            .map(|_| {
                let a = rng.random_range(0..n) as u64;
                let b = rng.random_range(0..n) as u64;
                a << 32 | b
            })
            .collect();
        // Counts do not depend on the order: in record order, the pairs of one record find its
        // values in cache.
        drawn.par_sort_unstable();
        drawn.into_iter().map(|k| ((k >> 32) as u32, k as u32)).collect()
    };
    let pairs: Vec<(u32, u32)> =
        pairs.into_iter().filter(|&(a, b)| a != b && crate::block::Blocker::allowed(p, a as usize, b as usize)).collect();
    // Field by field: one column's values (and level cache) stay in cache over all pairs.
    let counts: Vec<Vec<u64>> = p
        .fields
        .iter()
        .enumerate()
        .map(|(f, field)| {
            let levels = level_labels(field.kind).len();
            pairs
                .par_chunks(4096)
                .with_max_len(1)
                .map(|chunk| {
                    let mut local = vec![0u64; levels];
                    count_levels(p, f, chunk, &mut local);
                    local
                })
                .reduce(
                    || vec![0u64; levels],
                    |mut x, y| {
                        for (cx, cy) in x.iter_mut().zip(y) {
                            *cx += cy;
                        }
                        x
                    },
                )
        })
        .collect();
    counts
        .into_iter()
        .map(|c| {
            let present: u64 = c[1..].iter().sum();
            let smooth = 0.5 * (c.len() - 1) as f64;
            c.iter().enumerate().map(|(l, &x)| if l == 0 { 1.0 } else { (x as f64 + 0.5) / (present as f64 + smooth) }).collect()
        })
        .collect()
}

/// Which probabilities EM may move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmMode {
    /// m, u and lambda all estimated among the candidate pairs (u only starts from random pairs).
    Full,
    /// Only lambda moves (m and u were estimated elsewhere).
    LambdaOnly,
}

/// Expectation-maximisation over pattern counts.
///
/// `pairs_total` is the number of pairs the counts were drawn from. Candidate pairs are a blocked
/// subset of all pairs; the pairs blocking never produced are (nearly all) non-matches and add to
/// the u side only, so lambda is the match share of *all* pairs. Taking it over candidates alone
/// makes every candidate look like a match when u comes from random pairs.
pub fn em(counts: &[(Pattern, u64)], start: FsModel, mode: EmMode, max_iterations: usize, pairs_total: f64) -> FsModel {
    let mut model = start;
    let candidates: f64 = counts.iter().map(|(_, c)| *c as f64).sum();
    let total = pairs_total.max(candidates);
    if total == 0.0 {
        return model;
    }
    // The floor applies to real data only; a test of EM itself may ask for exact recovery.
    let m_floor = if pairs_total > 0.0 { M_FLOOR } else { FLOOR };
    // With m and u fixed, the fields' part of each pattern's weight never changes, and so
    // neither does its exp2: an iteration then multiplies it by the prior's.
    let mut field_weights = Vec::new();
    let mut field_odds = Vec::new();
    for it in 0..max_iterations {
        let mut m_acc: Vec<Vec<f64>> = model.fields.iter().map(|f| vec![0.0; f.levels.len()]).collect();
        let mut u_acc = m_acc.clone();
        let mut matches = 0.0;
        if it == 0 || mode != EmMode::LambdaOnly {
            field_weights = model.patterns_field_weights(counts);
            if mode == EmMode::LambdaOnly {
                field_odds = field_weights.par_iter().with_min_len(PARALLEL_PATTERNS).map(|&fields| (-fields).exp2()).collect();
            }
        }
        let prior = model.prior_weight();
        // Each pattern's match probability on both threads, summed below in the patterns'
        // order as before.
        let match_probabilities: Vec<f64> = if mode == EmMode::LambdaOnly {
            let prior_odds = (-prior).exp2();
            field_odds.par_iter().with_min_len(PARALLEL_PATTERNS).map(|&odds| 1.0 / (1.0 + prior_odds * odds)).collect()
        } else {
            field_weights.par_iter().with_min_len(PARALLEL_PATTERNS).map(|&fields| 1.0 / (1.0 + (-(prior + fields)).exp2())).collect()
        };
        // With only lambda moving, the levels' sums are never read.
        let levels_move = mode != EmMode::LambdaOnly;
        for (&(pattern, count), &g) in counts.iter().zip(&match_probabilities) {
            let (cm, cu) = (g * count as f64, (1.0 - g) * count as f64);
            matches += cm;
            if levels_move {
                for f in 0..model.fields.len() {
                    let l = level_of(pattern, f) as usize;
                    m_acc[f][l] += cm;
                    u_acc[f][l] += cu;
                }
            }
        }
        let new_lambda = if pairs_total > 0.0 { lambda_with_prior(matches, total) } else { matches / total }.clamp(1e-9, 1.0 - 1e-9);
        let mut change = (new_lambda - model.lambda).abs();
        model.lambda = new_lambda;
        for (f, field) in model.fields.iter_mut().enumerate() {
            let m_sum: f64 = m_acc[f][1..].iter().sum();
            let u_sum: f64 = u_acc[f][1..].iter().sum();
            for l in 1..field.levels.len() {
                if m_sum > 0.0 && mode != EmMode::LambdaOnly {
                    let floor = if pairs_total > 0.0 { decisive_m_floor(field.kind, l as u8).unwrap_or(m_floor) } else { m_floor };
                    let m = (m_acc[f][l] / m_sum).max(floor);
                    change = change.max((m - field.levels[l].m).abs());
                    field.levels[l].m = m;
                }
                if mode == EmMode::Full && u_sum > 0.0 {
                    let u = (u_acc[f][l] / u_sum).max(FLOOR);
                    change = change.max((u - field.levels[l].u).abs());
                    field.levels[l].u = u;
                }
            }
        }
        model.em_iterations = it + 1;
        if change < 1e-6 {
            break;
        }
    }
    model
}

/// The match share of `total` pairs of which `matches` (expected) match, with [`PRIOR_PAIRS`]
/// pseudo-pairs making up a register too small to say.
fn lambda_with_prior(matches: f64, total: f64) -> f64 {
    let pseudo = PRIOR_PAIRS - total;
    if pseudo <= 0.0 { matches / total } else { (matches + PRIOR_LAMBDA * pseudo) / PRIOR_PAIRS }
}

/// Levels that count as strong agreement when choosing anchor pairs.
fn strong(kind: FieldKind, level: u8) -> bool {
    level != 0 && level_rank(kind, level) <= 2 && kind != FieldKind::Sex
}

/// Unsupervised m estimation that survives namesakes. For each field f, the anchor pairs are
/// candidates that a blocking rule not reading f produced and that agree strongly on every other
/// core field (names and dates; all fields when there are fewer than three of those). Among
/// them f's levels are a mixture of matches and of namesakes and relatives. With two or more
/// fields outside the core to witness, a latent-class fit over f and those fields undoes the
/// mixture ([`anchor_classes`]); without, u from random pairs and the assumption that 1% of
/// matches land on f's "different" level undo it (method of moments). Lambda then comes from
/// EM over all candidates (as a share of all pairs) with m and u fixed.
pub fn train_by_anchors(start: &FsModel, candidates: &[(Pattern, u64, u64)], pairs_total: f64) -> FsModel {
    let nf = start.fields.len();
    let name_or_date = |k: FieldKind| {
        !matches!(
            k,
            FieldKind::Sex
                | FieldKind::Text
                | FieldKind::Place
                | FieldKind::Occupation
                | FieldKind::Nationality
                | FieldKind::Numeric
        )
    };
    let core_count = start.fields.iter().filter(|f| name_or_date(f.kind)).count();
    let core: Vec<bool> =
        start.fields.iter().map(|f| if core_count >= 3 { name_or_date(f.kind) } else { f.kind != FieldKind::Sex }).collect();
    let mut model = start.clone();
    // Per candidate, the core fields it gives and those of them that agree only weakly (one bit
    // per field), read once instead of once per field and candidate: a candidate anchors field
    // `f` when at least two other core fields are given and all of those agree strongly.
    let core_levels: Vec<(u32, u32)> = candidates
        .iter()
        .map(|&(pattern, _, _)| {
            (0..nf).filter(|&g| core[g]).fold((0u32, 0u32), |(present, weak), g| match level_of(pattern, g) {
                0 => (present, weak),
                l => (present | 1 << g, weak | (!strong(model.fields[g].kind, l) as u32) << g),
            })
        })
        .collect();
    // The fields outside the core, which a latent-class fit within each core field's anchors
    // reads beside it (see [`anchor_classes`]); one such field cannot separate two classes.
    let witnesses: Vec<usize> = (0..nf).filter(|&g| !core[g]).collect();
    for f in 0..nf {
        let classes = core[f] && witnesses.len() >= 2;
        let levels = model.fields[f].levels.len();
        let mut counts = vec![0f64; levels];
        // The anchors' levels of f and of the witnesses, packed as a pattern: a witness counts
        // only where some rule producing the pair does not read it (a rule that blocks on the
        // birthplace makes its namesakes share it).
        let mut cells: Vec<(Pattern, u64)> = Vec::new();
        let others = !(1u32 << f);
        for (&(pattern, rules_not_reading, count), &(present, weak)) in candidates.iter().zip(&core_levels) {
            if rules_not_reading & (1 << f) != 0 && (present & others).count_ones() >= 2 && weak & others == 0 {
                counts[level_of(pattern, f) as usize] += count as f64;
                if classes && level_of(pattern, f) != 0 {
                    let cell = std::iter::once(f)
                        .chain(witnesses.iter().copied().filter(|&g| rules_not_reading & (1 << g) != 0))
                        .fold(0, |cell: Pattern, g| cell | (level_of(pattern, g) as Pattern) << (4 * g));
                    cells.push((cell, count));
                }
            }
        }
        let n: f64 = counts[1..].iter().sum();
        if n < 20.0 {
            continue;
        }
        if classes {
            let cells = summed_by_key(cells);
            let fields: Vec<usize> = std::iter::once(f).chain(witnesses.iter().copied()).collect();
            let m = anchor_classes(&model, &cells, &fields);
            set_fitted_m(&mut model.fields[f], &m);
            continue;
        }
        let field = &mut model.fields[f];
        let observed: Vec<f64> = counts.iter().map(|c| c / n).collect();
        let last = levels - 1;
        let u_diff = field.levels[last].u;
        // Share of matches among the anchors, read off the "different" level, where 1% of
        // matches are assumed to land (fewer on a decisive level).
        let on_last = decisive_m_floor(field.kind, last as u8).unwrap_or(0.01);
        let alpha = if core[f] && u_diff > 0.05 {
            (1.0 - (observed[last] - on_last).max(0.0) / (u_diff - on_last)).clamp(0.01, 1.0)
        } else {
            1.0
        };
        let raw: Vec<f64> =
            (1..levels).map(|l| ((observed[l] - (1.0 - alpha) * field.levels[l].u) / alpha).max(level_floor(field.kind, l))).collect();
        let total: f64 = raw.iter().sum();
        for (l, m) in raw.into_iter().enumerate() {
            field.levels[l + 1].m = m / total;
        }
    }
    let all = pattern_counts_weighted(candidates.iter().map(|&(p, _, c)| (p, c)));
    let mut model = em(&all, model, EmMode::LambdaOnly, 100, pairs_total);
    // Anchors of a field outside the core are pairs agreeing on names alone (a date may be
    // missing), so namesakes crowd them: their birthplaces made m of "different" 0.69 on the
    // simulated register where 0.1% of true pairs differ. Those fields' m instead come from EM
    // over all candidates with the core fields' m and every u fixed. (The witnesses' m of a
    // core field's fit are not used: the given name's anchors are crowded by siblings, who
    // share a birthplace, and on the simulated 1M register that fit, the largest, put m of a
    // different birthplace at 0.73.)
    for _ in 0..NON_CORE_ROUNDS {
        for f in (0..nf).filter(|&f| !core[f]) {
            if let Some(m) = posterior_m(&model, candidates, f) {
                for (level, m) in model.fields[f].levels.iter_mut().zip(m).skip(1) {
                    level.m = m;
                }
            }
        }
        model = em(&all, model, EmMode::LambdaOnly, 100, pairs_total);
    }
    model
}

/// The smallest m a latent-class fit within anchors gives a level: such an estimate rests on
/// evidence independent of the field (the witnesses), so it may go below [`M_FLOOR`], but no
/// level is impossible for a match (about -10 bits at most against a common level).
const ANCHOR_M_FLOOR: f64 = 0.001;

/// Sets a field's m to a latent-class fit's (index 0 unused), floored at [`ANCHOR_M_FLOOR`]
/// and normalised; a decisive level keeps its floor, since namesakes and siblings, who land
/// there, share the witnesses' values too often for a fit to tell them from matches.
fn set_fitted_m(field: &mut FieldParams, m: &[f64]) {
    let kind = field.kind;
    let raw: Vec<f64> = (1..m.len()).map(|l| decisive_m_floor(kind, l as u8).unwrap_or_else(|| m[l].max(ANCHOR_M_FLOOR))).collect();
    let total: f64 = raw.iter().sum();
    for (level, m) in field.levels.iter_mut().skip(1).zip(raw) {
        level.m = m / total;
    }
}

/// EM rounds of a latent-class fit (its cells number in the hundreds or thousands).
const ANCHOR_CLASS_ROUNDS: usize = 500;

/// m of `fields[0]` from a two-class latent-class model fitted to the anchors of that field:
/// `cells` counts the anchors by their levels of `fields` (level 0: missing, or read by every
/// rule producing the pair). Among one field's anchors the non-matches are not random pairs:
/// they are namesakes and relatives agreeing on the other core fields (a date's anchors on the
/// simulated register are 90% namesakes), so neither a random-pair u nor an assumed share of
/// matches on the "different" level unmixes them; m, u and the match share are all fitted here,
/// identified by the witnesses (birthplace, occupation, sex: independent of the field within
/// each class). Starts from the model's m and the random-pair u, so the first class is the one
/// agreeing.
fn anchor_classes(model: &FsModel, cells: &[(Pattern, u64)], fields: &[usize]) -> Vec<f64> {
    // The fields' levels side by side, field k's level l at starts[k] + l, each with its m and u
    // (and their sums per round); level 0 (missing) is never read (m = u = 1: no evidence).
    let starts: Vec<usize> = fields
        .iter()
        .scan(0, |next, &g| {
            let start = *next;
            *next += model.fields[g].levels.len();
            Some(start)
        })
        .collect();
    let mut mu: Vec<[f64; 2]> = fields
        .iter()
        .flat_map(|&g| model.fields[g].levels.iter().map(|level| [level.m, level.u]))
        .collect();
    let ends: Vec<usize> = starts.iter().skip(1).copied().chain([mu.len()]).collect();
    // Each cell's places in that array (its missing levels left out), one cell after another,
    // unpacked once for all rounds, and where each cell ends.
    let mut places: Vec<usize> = Vec::new();
    let mut cell_ends: Vec<usize> = Vec::with_capacity(cells.len());
    for &(cell, _) in cells {
        places.extend(fields.iter().zip(&starts).filter(|&(&g, _)| level_of(cell, g) != 0).map(|(&g, &start)| start + level_of(cell, g) as usize));
        cell_ends.push(places.len());
    }
    let counts: Vec<f64> = cells.iter().map(|&(_, c)| c as f64).collect();
    let total: f64 = counts.iter().sum();
    let mut sums = vec![[0.0; 2]; mu.len()];
    let mut share = 0.1;
    for _ in 0..ANCHOR_CLASS_ROUNDS {
        sums.fill([0.0; 2]);
        let mut matches = 0.0;
        let mut cell_start = 0;
        for (&cell_end, &count) in cell_ends.iter().zip(&counts) {
            let cell = &places[cell_start..cell_end];
            cell_start = cell_end;
            let (mut pm, mut pu) = (share, 1.0 - share);
            for &i in cell {
                let [m, u] = mu[i];
                pm *= m;
                pu *= u;
            }
            let g = pm / (pm + pu);
            let (cm, cu) = (g * count, (1.0 - g) * count);
            matches += cm;
            for &i in cell {
                let sum = &mut sums[i];
                sum[0] += cm;
                sum[1] += cu;
            }
        }
        let mut change = (matches / total - share).abs();
        share = matches / total;
        for (&start, &end) in starts.iter().zip(&ends) {
            for class in 0..2 {
                let sum: f64 = sums[start + 1..end].iter().map(|s| s[class]).sum();
                if sum > 0.0 {
                    for (probabilities, sums) in mu[start + 1..end].iter_mut().zip(&sums[start + 1..end]) {
                        let p = (sums[class] / sum).max(FLOOR);
                        change = change.max((p - probabilities[class]).abs());
                        probabilities[class] = p;
                    }
                }
            }
        }
        if change < 1e-7 {
            break;
        }
    }
    mu[..ends[0]].iter().map(|&[m, _]| m).collect()
}

/// The floor of m for a level estimated on real data.
fn level_floor(kind: FieldKind, level: usize) -> f64 {
    decisive_m_floor(kind, level as u8).unwrap_or(M_FLOOR)
}

/// Patterns (or candidates) per task where EM computes their probabilities in parallel.
const PARALLEL_PATTERNS: usize = 2048;

/// EM rounds for the m of fields outside the core.
const NON_CORE_ROUNDS: usize = 10;

/// m of field `f` from candidates whose blocking did not read it, each counted by its match
/// probability (an EM step); `None` when too little weight falls on matches to say.
fn posterior_m(model: &FsModel, candidates: &[(Pattern, u64, u64)], f: usize) -> Option<Vec<f64>> {
    let levels = &model.level_weights();
    let prior = model.prior_weight();
    let reads = |rules_not_reading: u64| rules_not_reading & (1 << f) != 0;
    // Each candidate's expected matches on both threads, summed below in the candidates' order.
    let expected: Vec<f64> = candidates
        .par_iter()
        .with_min_len(PARALLEL_PATTERNS)
        .map(|&(pattern, rules_not_reading, count)| {
            if reads(rules_not_reading) { count as f64 / (1.0 + (-(prior + pattern_field_weight(levels, pattern))).exp2()) } else { 0.0 }
        })
        .collect();
    let mut acc = vec![0f64; model.fields[f].levels.len()];
    for (&(pattern, rules_not_reading, _), e) in candidates.iter().zip(expected) {
        if reads(rules_not_reading) {
            acc[level_of(pattern, f) as usize] += e;
        }
    }
    let n: f64 = acc[1..].iter().sum();
    if n < 20.0 {
        return None;
    }
    let kind = model.fields[f].kind;
    let raw: Vec<f64> = acc.iter().enumerate().map(|(l, a)| (a / n).max(level_floor(kind, l))).collect();
    let total: f64 = raw[1..].iter().sum();
    Some(raw.iter().map(|m| m / total).collect())
}

fn pattern_counts_weighted(items: impl Iterator<Item = (Pattern, u64)>) -> Vec<(Pattern, u64)> {
    summed_by_key(items.collect())
}

/// Counts by key, ordered by key, each key once with its counts summed: a sort instead of a map
/// (the candidates' counts come mostly in key order already, which the sort finds at once).
pub(crate) fn summed_by_key<K: Ord + Copy + Send>(mut items: Vec<(K, u64)>) -> Vec<(K, u64)> {
    items.par_sort_unstable_by_key(|&(k, _)| k);
    let mut summed: Vec<(K, u64)> = Vec::with_capacity(items.len());
    for (k, c) in items {
        match summed.last_mut() {
            Some((last, total)) if *last == k => *total += c,
            _ => summed.push((k, c)),
        }
    }
    summed
}

/// Re-estimates m (and u) from reviewed pairs, blending them with the unsupervised values in
/// proportion to how many reviewed pairs there are (`prior_strength` pseudo-pairs for the model).
pub fn refine_with_labels(model: &FsModel, labelled: &[(Pattern, bool)], prior_strength: f64) -> FsModel {
    let mut out = model.clone();
    for (f, field) in out.fields.iter_mut().enumerate() {
        for (is_match, pick) in [(true, 0), (false, 1)] {
            let mut counts = vec![0.0; field.levels.len()];
            for &(pattern, label) in labelled {
                if label == is_match {
                    counts[level_of(pattern, f) as usize] += 1.0;
                }
            }
            let n: f64 = counts[1..].iter().sum();
            if n == 0.0 {
                continue;
            }
            for (level, &count) in field.levels.iter_mut().zip(&counts).skip(1) {
                let old = if pick == 0 { level.m } else { level.u };
                let blended = ((old * prior_strength + count) / (prior_strength + n)).max(FLOOR);
                if pick == 0 {
                    level.m = blended;
                } else {
                    level.u = blended;
                }
            }
        }
    }
    out
}

/// Counts the distinct patterns of candidate pairs (EM works on these, not on pairs).
pub fn pattern_counts(patterns: impl Iterator<Item = Pattern>) -> Vec<(Pattern, u64)> {
    summed_by_key(patterns.map(|p| (p, 1)).collect())
}

/// One field's contribution to a pair's weight.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldContribution {
    pub column: String,
    pub level: String,
    pub value_l: Option<String>,
    pub value_r: Option<String>,
    pub m: f64,
    pub u: f64,
    /// log2(m/u).
    pub weight: f64,
    /// Extra weight from how rare the agreed value is (0 when not applicable).
    pub tf_adjustment: f64,
}

/// Why a pair scores what it scores: prior + fields (+ hard rules) = final weight.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    pub record_l: String,
    pub record_r: String,
    pub prior_weight: f64,
    pub fields: Vec<FieldContribution>,
    /// Hard rules that decide the pair regardless of the weights.
    pub rules: Vec<String>,
    pub match_weight: f64,
    pub match_probability: f64,
}

/// Every record's term-frequency adjustments in one row of the fields that have any
/// ([`Scorer::record_tfs`]): scoring millions of pairs reads one row of each pair's first record
/// instead of a value id and an adjustment per field.
pub struct RecordTfs {
    width: usize,
    /// Per field, its place in a row (`usize::MAX`: no term frequencies).
    column: Vec<usize>,
    rows: Vec<f64>,
    /// Per record, the sum of its row's positive adjustments: the most its adjustments add to
    /// the weight of any pair it is the first record of ([`Scorer::weight_bound_before_tf`]).
    gains: Vec<f64>,
}

impl RecordTfs {
    /// Record `a`'s [`RecordTfs::gains`].
    pub fn gain(&self, a: usize) -> f64 {
        self.gains[a]
    }
}

/// Scores pairs: model weights, term frequencies and hard rules.
pub struct Scorer<'a> {
    pub model: &'a FsModel,
    pub data: &'a Prepared,
    sex_field: Option<usize>,
    /// [`FsModel::level_weight`] of every field and level, computed once instead of per pair.
    level_weights: Vec<Vec<f64>>,
    /// Per field and level: whether a term-frequency adjustment applies.
    tf_levels: Vec<Vec<bool>>,
    /// Per field, the adjustment of a key that `count` records hold, for every count up to the
    /// most frequent key's (capped; larger counts are computed when met).
    tf_by_count: Vec<Vec<f64>>,
    /// Per field, the largest adjustment any record's key can get (the rarest key's).
    tf_largest: Vec<f64>,
    /// Per field, the adjustment of each value's key by value id ([`Scorer::for_many_pairs`]
    /// only; a pair then reads one number instead of its value, key and count).
    tf_by_value: Vec<Vec<f64>>,
    /// The prior weights of pairs across two sources and inside one.
    prior_across: f64,
    prior_within: f64,
}

/// Record counts below which [`Scorer::new`] keeps term-frequency adjustments in a table: cheap
/// enough to build for one explanation.
const TF_TABLE_COUNTS: u32 = 1 << 10;
/// The same for [`Scorer::for_many_pairs`]: frequent keys (Иванов) are what blocked pairs share.
const TF_TABLE_COUNTS_MANY: u32 = 1 << 16;

/// The term-frequency adjustment of agreeing on a key that `count` of `present` records hold.
fn tf_bits(agree_chance: f64, present: u32, count: u32) -> f64 {
    let f = count as f64 / present.max(1) as f64;
    (agree_chance / f).log2().clamp(-TF_MAX_BITS, TF_MAX_BITS)
}

/// The outcome of scoring a pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    pub weight: f64,
    /// A hard rule forbids the link (recorded sexes differ, or both come from one list that
    /// never repeats a person).
    pub forbidden: bool,
}

impl Score {
    pub fn probability(&self) -> f64 {
        if self.forbidden { 0.0 } else { probability(self.weight) }
    }
}

pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

impl<'a> Scorer<'a> {
    pub fn new(model: &'a FsModel, data: &'a Prepared) -> Scorer<'a> {
        Scorer::with_tf_table(model, data, TF_TABLE_COUNTS)
    }

    /// A scorer for millions of pairs: its table of term-frequency adjustments reaches higher
    /// counts, and it keeps every value's adjustment (both take longer to build).
    pub fn for_many_pairs(model: &'a FsModel, data: &'a Prepared) -> Scorer<'a> {
        let mut scorer = Scorer::with_tf_table(model, data, TF_TABLE_COUNTS_MANY);
        scorer.tf_by_value = data
            .columns
            .iter()
            .enumerate()
            .map(|(f, column)| match column {
                Column::Strings { values, key_freq, agree_chance, present, .. } if !scorer.tf_by_count[f].is_empty() => values
                    .iter()
                    .map(|v| {
                        let count = key_freq[v.key as usize];
                        scorer.tf_by_count[f].get(count as usize).copied().unwrap_or_else(|| tf_bits(*agree_chance, *present, count))
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        scorer
    }

    fn with_tf_table(model: &'a FsModel, data: &'a Prepared, table_counts: u32) -> Scorer<'a> {
        let sex_field = data.fields.iter().position(|f| f.kind == FieldKind::Sex);
        let level_weights =
            model.fields.iter().enumerate().map(|(f, field)| (0..field.levels.len()).map(|l| model.level_weight(f, l as u8)).collect()).collect();
        let tf_levels: Vec<Vec<bool>> = model
            .fields
            .iter()
            .map(|field| (0..field.levels.len()).map(|l| field.tf && tf_level(field.kind, l as u8)).collect())
            .collect();
        let tf_by_count: Vec<Vec<f64>> = data
            .columns
            .iter()
            .zip(&tf_levels)
            .map(|(column, levels)| match column {
                Column::Strings { agree_chance, present, key_freq, .. } if levels.contains(&true) => {
                    let counts = key_freq.iter().max().map_or(0, |&c| c.saturating_add(1)).min(table_counts);
                    (0..counts).map(|count| tf_bits(*agree_chance, *present, count)).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        // A record's key has a count of at least one, and the adjustment falls as counts grow
        // (those beyond the table are the most frequent keys), so the table's largest entry from
        // count one on bounds every adjustment.
        let tf_largest = tf_by_count
            .iter()
            .map(|table| if table.len() > 1 { table[1..].iter().copied().fold(f64::NEG_INFINITY, f64::max) } else { TF_MAX_BITS })
            .collect();
        let (prior_across, prior_within) = (model.pair_prior_weight(false), model.pair_prior_weight(true));
        let tf_by_value = Vec::new();
        Scorer { model, data, sex_field, level_weights, tf_levels, tf_by_count, tf_largest, tf_by_value, prior_across, prior_within }
    }

    fn tf_adjustment(&self, field: usize, level: u8, a: usize) -> f64 {
        if !self.tf_levels[field][level as usize] {
            return 0.0;
        }
        self.record_tf(field, a)
    }

    /// The term-frequency adjustment record `a`'s value of `field` brings wherever the pair's
    /// level has one (0 when the value is missing).
    pub fn record_tf(&self, field: usize, a: usize) -> f64 {
        match &self.data.columns[field] {
            Column::Strings { ids, .. } if ids[a] != NULL && !self.tf_by_value.is_empty() => self.tf_by_value[field][ids[a] as usize],
            Column::Strings { ids, values, key_freq, agree_chance, present, .. } if ids[a] != NULL => {
                let count = key_freq[values[ids[a] as usize].key as usize];
                match self.tf_by_count[field].get(count as usize) {
                    Some(&bits) => bits,
                    None => tf_bits(*agree_chance, *present, count),
                }
            }
            _ => 0.0,
        }
    }

    pub fn hard_rules(&self, pattern: Pattern, a: usize, b: usize) -> Vec<String> {
        let mut rules = Vec::new();
        if let Some(s) = self.sex_field
            && level_of(pattern, s) == 2
        {
            rules.push("recorded sexes differ".to_owned());
        }
        if !crate::block::Blocker::allowed(self.data, a, b) {
            rules.push(format!("source {:?} never repeats a person", self.data.source_names[self.data.source[a] as usize]));
        }
        rules
    }

    fn prior_weight(&self, a: usize, b: usize) -> f64 {
        if self.data.source[a] == self.data.source[b] { self.prior_within } else { self.prior_across }
    }

    /// A weight no pair with this pattern exceeds, whatever its sources and values: the larger
    /// prior, and the field's largest term-frequency adjustment wherever one applies. Summed in
    /// the order [`Scorer::score_pattern`] sums, term by term no smaller, so rounding keeps it a
    /// bound.
    pub fn weight_bound(&self, pattern: Pattern) -> f64 {
        let mut w = self.prior_within.max(self.prior_across);
        for (f, weights) in self.level_weights.iter().enumerate() {
            let l = level_of(pattern, f) as usize;
            w += weights[l] + if self.tf_levels[f][l] { self.tf_largest[f] } else { 0.0 };
        }
        w
    }

    /// [`Scorer::weight_bound`] without the term-frequency adjustments: the larger prior and
    /// the pattern's level weights. A pair's weight is at most this plus its first record's
    /// [`RecordTfs::gain`] (up to rounding, far below a thousandth of a bit).
    pub fn weight_bound_before_tf(&self, pattern: Pattern) -> f64 {
        let mut w = self.prior_within.max(self.prior_across);
        for (f, weights) in self.level_weights.iter().enumerate() {
            w += weights[level_of(pattern, f) as usize];
        }
        w
    }

    /// Every record's [`Scorer::record_tf`] of the fields that have term frequencies.
    pub fn record_tfs(&self) -> RecordTfs {
        let mut column = vec![usize::MAX; self.tf_levels.len()];
        let fields: Vec<usize> = (0..self.tf_levels.len()).filter(|&f| self.tf_levels[f].contains(&true)).collect();
        for (k, &f) in fields.iter().enumerate() {
            column[f] = k;
        }
        let rows: Vec<f64> = (0..self.data.len()).into_par_iter().flat_map_iter(|a| fields.iter().map(move |&f| self.record_tf(f, a))).collect();
        let gains = if fields.is_empty() {
            vec![0.0; self.data.len()]
        } else {
            rows.par_chunks(fields.len()).map(|row| row.iter().map(|&t| t.max(0.0)).sum()).collect()
        };
        RecordTfs { width: fields.len(), column, rows, gains }
    }

    /// [`Scorer::score_pattern`] reading `a`'s adjustments from `tfs` (the same terms).
    pub fn score_pattern_with(&self, pattern: Pattern, a: usize, b: usize, tfs: &RecordTfs) -> Score {
        let row = &tfs.rows[a * tfs.width..][..tfs.width];
        self.score_by(pattern, a, b, |f, l| if self.tf_levels[f][l as usize] { row[tfs.column[f]] } else { 0.0 })
    }

    pub fn score_pattern(&self, pattern: Pattern, a: usize, b: usize) -> Score {
        self.score_by(pattern, a, b, |f, l| self.tf_adjustment(f, l, a))
    }

    /// The prior and each field's level weight plus `tf(field, level)`, summed in field order
    /// (both ways of scoring give the same weight to the last bit).
    fn score_by(&self, pattern: Pattern, a: usize, b: usize, tf: impl Fn(usize, u8) -> f64) -> Score {
        let mut w = self.prior_weight(a, b);
        for (f, weights) in self.level_weights.iter().enumerate() {
            let l = level_of(pattern, f);
            w += weights[l as usize] + tf(f, l);
        }
        Score { weight: w, forbidden: self.forbids(pattern, a, b) }
    }

    /// Whether a hard rule forbids the link (see [`Scorer::hard_rules`]).
    fn forbids(&self, pattern: Pattern, a: usize, b: usize) -> bool {
        self.sex_field.is_some_and(|s| level_of(pattern, s) == 2) || !crate::block::Blocker::allowed(self.data, a, b)
    }

    /// A pair's weight split by field for clustering, given its pattern (`None` when a hard
    /// rule forbids it).
    pub fn pattern_evidence(&self, pattern: Pattern, a: usize, b: usize) -> Option<crate::cluster::Evidence> {
        if self.forbids(pattern, a, b) {
            return None;
        }
        let mut e = crate::cluster::Evidence::whole(self.prior_weight(a, b));
        for (f, weights) in self.level_weights.iter().enumerate() {
            let l = level_of(pattern, f);
            if l != 0 {
                e.fields[f] = weights[l as usize] + self.tf_adjustment(f, l, a);
            }
        }
        Some(e)
    }

    pub fn score(&self, a: usize, b: usize) -> Score {
        self.score_pattern(compare(self.data, a, b), a, b)
    }

    pub fn explain(&self, a: usize, b: usize) -> Explanation {
        let pattern = compare(self.data, a, b);
        let fields: Vec<FieldContribution> = self
            .model
            .fields
            .iter()
            .enumerate()
            .map(|(f, fp)| {
                let l = level_of(pattern, f);
                let lp = &fp.levels[l as usize];
                FieldContribution {
                    column: fp.column.clone(),
                    level: lp.label.clone(),
                    value_l: self.data.display(f, a),
                    value_r: self.data.display(f, b),
                    m: lp.m,
                    u: lp.u,
                    weight: self.model.level_weight(f, l),
                    tf_adjustment: self.tf_adjustment(f, l, a),
                }
            })
            .collect();
        let score = self.score_pattern(pattern, a, b);
        Explanation {
            record_l: self.data.record_ids[a].to_string(),
            record_r: self.data.record_ids[b].to_string(),
            prior_weight: self.prior_weight(a, b),
            fields,
            rules: self.hard_rules(pattern, a, b),
            match_weight: score.weight,
            match_probability: score.probability(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws pattern counts from a known three-field model and checks EM finds it again.
    #[test]
    fn em_recovers_known_m_and_u() {
        // Three fields with levels 1..=3 (level 0 null unused): m favours level 1, u level 3.
        let m = [[0.0, 0.85, 0.10, 0.05], [0.0, 0.70, 0.20, 0.10], [0.0, 0.90, 0.05, 0.05]];
        let u = [[0.0, 0.05, 0.15, 0.80], [0.0, 0.10, 0.20, 0.70], [0.0, 0.02, 0.08, 0.90]];
        let lambda = 0.2;
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let draw = |rng: &mut ChaCha8Rng, probs: &[f64; 4]| {
            let x: f64 = rng.random();
            let mut acc = 0.0;
            for (l, p) in probs.iter().enumerate().skip(1) {
                acc += p;
                if x < acc {
                    return l as u64;
                }
            }
            3
        };
        let patterns: Vec<Pattern> = (0..200_000)
            .map(|_| {
                let is_match = rng.random::<f64>() < lambda;
                (0..3).fold(0u64, |acc, f| {
                    let l = draw(&mut rng, if is_match { &m[f] } else { &u[f] });
                    acc | (l << (4 * f))
                })
            })
            .collect();
        let counts = pattern_counts(patterns.into_iter());
        let field = |f: usize| FieldParams {
            column: format!("f{f}"),
            kind: FieldKind::Numeric,
            tf: false,
            levels: (0..4)
                .map(|l| LevelParams {
                    label: l.to_string(),
                    m: [1.0, 0.5, 0.3, 0.2][l],
                    u: [1.0, 0.2, 0.3, 0.5][l],
                })
                .collect(),
        };
        let start = FsModel { lambda: 0.5, lambda_within_source: None, fields: (0..3).map(field).collect(), em_iterations: 0 };
        let fitted = em(&counts, start, EmMode::Full, 500, 0.0);
        assert!((fitted.lambda - lambda).abs() < 0.01, "lambda {}", fitted.lambda);
        for f in 0..3 {
            for l in 1..4 {
                let got = &fitted.fields[f].levels[l];
                assert!((got.m - m[f][l]).abs() < 0.02, "m[{f}][{l}] = {} want {}", got.m, m[f][l]);
                assert!((got.u - u[f][l]).abs() < 0.02, "u[{f}][{l}] = {} want {}", got.u, u[f][l]);
            }
        }
    }

    /// Anchors whose non-matches are namesakes (far more of them agree on the field than random
    /// pairs do) and only one in ten a match: the latent-class fit, reading two witnesses,
    /// finds the field's m again, its rare "different" level included, where the random-pair u
    /// it starts from would unmix that level to nothing or far too much.
    #[test]
    fn anchor_classes_find_m_among_namesakes() {
        let m = [[0.0, 0.60, 0.25, 0.149, 0.001], [0.0, 0.85, 0.05, 0.05, 0.05], [0.0, 0.70, 0.15, 0.05, 0.10]];
        let namesakes = [[0.0, 0.05, 0.05, 0.10, 0.80], [0.0, 0.05, 0.10, 0.15, 0.70], [0.0, 0.10, 0.05, 0.05, 0.80]];
        let random_pairs = [[0.0, 0.01, 0.02, 0.07, 0.90], [0.0, 0.05, 0.10, 0.15, 0.70], [0.0, 0.10, 0.05, 0.05, 0.80]];
        let share = 0.1;
        let mut cells = Vec::new();
        for a in 1..5usize {
            for b in 1..5usize {
                for c in 1..5usize {
                    let p: f64 = share * m[0][a] * m[1][b] * m[2][c] + (1.0 - share) * namesakes[0][a] * namesakes[1][b] * namesakes[2][c];
                    cells.push(((a | b << 4 | c << 8) as Pattern, (p * 1e7).round() as u64));
                }
            }
        }
        let field = |f: usize| FieldParams {
            column: format!("f{f}"),
            kind: FieldKind::Numeric,
            tf: false,
            levels: (0..5).map(|l| LevelParams { label: l.to_string(), m: [1.0, 0.5, 0.3, 0.15, 0.05][l], u: random_pairs[f][l] }).collect(),
        };
        let start = FsModel { lambda: 1e-4, lambda_within_source: None, fields: (0..3).map(field).collect(), em_iterations: 0 };
        let fitted = anchor_classes(&start, &cells, &[0, 1, 2]);
        for l in 1..5 {
            assert!((fitted[l] - m[0][l]).abs() < 0.01, "m[{l}] = {} want {}", fitted[l], m[0][l]);
        }
        assert!(fitted[4] < 0.003, "m of the field's last level {}", fitted[4]);
    }
}
