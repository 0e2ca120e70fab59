//! Diagnoses linkage quality on a simulated register: blocking recall, metrics, and a sample of
//! missed and wrong links with their explanations. `cargo run --release -p link --example diagnose -- PERSONS LISTS SEED [names]`

use link::{FoldingMatcher, LinkInputs, LinkSpec, Linker, blocking_recall};
use std::collections::{BTreeMap, HashMap};

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (persons, lists, seed) = (args.first().copied().unwrap_or(5000), args.get(1).copied().unwrap_or(5), args.get(2).copied().unwrap_or(1));
    let reg = link::simulate::simulate(persons, lists, seed as u64);
    let spec = LinkSpec::infer(&reg.records);
    let previous = BTreeMap::new();
    let names_crate = std::env::args().any(|a| a == "names");
    let matcher: &dyn link::NameMatcher = if names_crate { &link::namekey::NamesCrateMatcher } else { &FoldingMatcher };
    let inputs = LinkInputs { spec: &spec, matcher, decisions: &[], previous: &previous, new_from: None, model: None, pair_floor: 0.001 };
    let t = std::time::Instant::now();
    let outcome = link::link(&reg.records, &inputs).expect("link");
    eprintln!("linked {} records in {:.2?}", reg.records.len(), t.elapsed());
    let truth: Vec<(String, String)> = reg.truth.iter().map(|(r, p)| (r.to_string(), p.clone())).collect();
    let clusters: Vec<(String, String)> = reg.records.iter().zip(&outcome.persons).map(|(r, p)| (r.id.to_string(), p.to_string())).collect();
    println!("{}", serde_json::to_string(&link::metrics::evaluate(&truth, &clusters)).unwrap());
    let t = std::time::Instant::now();
    let linker = Linker::train(&reg.records, &inputs).expect("train");
    eprintln!("training alone (prepare, block, compare, estimate) {:.2?}", t.elapsed());
    let mut person_index: HashMap<&str, u32> = HashMap::new();
    let person_of: Vec<u32> = reg.truth.iter().map(|(_, p)| { let n = person_index.len() as u32; *person_index.entry(p.as_str()).or_insert(n) }).collect();
    let (covered, total) = blocking_recall(&linker, &person_of);
    println!("blocking recall {covered}/{total} = {:.4}, candidates {}", covered as f64 / total as f64, outcome.candidate_pairs);
    for r in &outcome.blocking {
        println!("  rule {:60} blocks {:7} largest {:5} pairs {:9} oversized {:5} not compared {}", r.rule, r.blocks, r.largest_block, r.pairs, r.oversized_blocks, r.pairs_not_compared);
    }
    println!("clustering {:?}", outcome.clustering);
    let mut by_person: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, &p) in person_of.iter().enumerate() {
        by_person.entry(p).or_default().push(i);
    }
    let mut persons: Vec<&Vec<usize>> = by_person.values().collect();
    persons.sort();
    let (mut uncovered, mut low, mut split) = (0, 0, 0);
    let mut uncovered_linkable = 0;
    let mut low_weights: BTreeMap<i64, usize> = BTreeMap::new();
    let mut shown = 0;
    for records in persons {
        for (x, &i) in records.iter().enumerate() {
            for &j in &records[x + 1..] {
                if outcome.persons[i] == outcome.persons[j] {
                    continue;
                }
                let e = linker.explain(&reg.records[i].id, &reg.records[j].id).unwrap();
                let covered = linker.blocker.covers(i, j);
                if !covered {
                    uncovered += 1;
                    uncovered_linkable += (e.match_probability >= spec.threshold) as usize;
                } else if e.match_probability < spec.threshold {
                    low += 1;
                    *low_weights.entry((e.match_weight / 2.0).floor() as i64 * 2).or_insert(0) += 1;
                } else {
                    split += 1
                }
                let show_uncovered = std::env::args().any(|a| a == "uncovered");
                let worth_showing = if show_uncovered { !covered && e.match_probability >= spec.threshold } else { covered && e.match_weight > -4.0 && e.match_probability < spec.threshold };
                shown += worth_showing as usize;
                if worth_showing && shown % 7 == 0 && shown <= 7 * 25 {
                    println!("MISSED covered={} p={:.3} w={:.1}", covered, e.match_probability, e.match_weight);
                    for f in &e.fields {
                        println!("   {:12} {:?} | {:?}  {} {:.1}{}", f.column, f.value_l, f.value_r, f.level, f.weight, if f.tf_adjustment != 0.0 { format!(" tf {:.1}", f.tf_adjustment) } else { String::new() });
                    }
                }
            }
        }
    }
    // A sample of wrong links: records of two persons that ended in one cluster.
    if std::env::args().any(|a| a == "wrong") {
        let mut wrong = 0;
        for p in &outcome.pairs {
            let (i, j) = (p.left as usize, p.right as usize);
            if outcome.persons[i] != outcome.persons[j] || person_of[i] == person_of[j] {
                continue;
            }
            wrong += 1;
            if wrong % 23 == 0 && wrong <= 23 * 25 {
                let e = linker.explain(&reg.records[i].id, &reg.records[j].id).unwrap();
                println!("WRONG p={:.3} w={:.1} lists {:?} {:?}", e.match_probability, e.match_weight, reg.records[i].source, reg.records[j].source);
                for f in &e.fields {
                    println!("   {:12} {:?} | {:?}  {} {:.1}{}", f.column, f.value_l, f.value_r, f.level, f.weight, if f.tf_adjustment != 0.0 { format!(" tf {:.1}", f.tf_adjustment) } else { String::new() });
                }
            }
        }
        println!("wrong links among kept pairs: {wrong}");
    }
    println!("missed pairs: uncovered {uncovered}, scored below threshold {low}, split by clustering {split}");
    println!("uncovered pairs that would score above the threshold: {uncovered_linkable}");
    // False pairs by the size of the cluster holding them (a wrong merge of two groups of three
    // costs nine), and how many true persons each such cluster mixes.
    let mut clusters: HashMap<_, Vec<usize>> = HashMap::new();
    for (i, p) in outcome.persons.iter().enumerate() {
        clusters.entry(p).or_default().push(i);
    }
    let (mut false_by_size, mut false_by_persons) = (BTreeMap::new(), BTreeMap::new());
    let (mut same_list_true, mut same_list_false) = (0, 0);
    for members in clusters.values() {
        let mut persons_in: Vec<u32> = members.iter().map(|&i| person_of[i]).collect();
        persons_in.sort_unstable();
        persons_in.dedup();
        let false_pairs = members.iter().enumerate().flat_map(|(x, &i)| members[x + 1..].iter().map(move |&j| (i, j))).filter(|&(i, j)| {
            let same_list = reg.records[i].source == reg.records[j].source;
            let same_person = person_of[i] == person_of[j];
            if same_list {
                if same_person { same_list_true += 1 } else { same_list_false += 1 }
            }
            !same_person
        }).count();
        *false_by_size.entry(members.len().min(6)).or_insert(0) += false_pairs;
        *false_by_persons.entry(persons_in.len().min(4)).or_insert(0) += false_pairs;
    }
    println!("false pairs by cluster size (6: 6 or more): {false_by_size:?}; by true persons in the cluster: {false_by_persons:?}");
    println!("pairs of one list inside a cluster: true {same_list_true}, false {same_list_false}");
    println!("weights of pairs scored below threshold (2-bit bins): {low_weights:?}");
    // Calibration: per 2-bit weight bin, the candidate pairs and how many are true.
    let mut bins: BTreeMap<(bool, i64), (usize, usize)> = BTreeMap::new();
    for p in &outcome.pairs {
        let same_list = reg.records[p.left as usize].source == reg.records[p.right as usize].source;
        let bin = bins.entry((same_list, (p.match_weight / 2.0).floor() as i64 * 2)).or_insert((0, 0));
        bin.0 += 1;
        bin.1 += (person_of[p.left as usize] == person_of[p.right as usize]) as usize;
    }
    println!("lambda {:.3e}; pairs by (same list, weight bin): (pairs, true): {bins:?}", outcome.model.lambda);
    // Per field: trained m / u, then the share of each level among the true pairs (what m
    // should be) and among the non-matching candidates scored in `pairs` (namesakes).
    let m = &outcome.model;
    let mut true_levels: Vec<Vec<u64>> = m.fields.iter().map(|f| vec![0; f.levels.len()]).collect();
    for records in by_person.values() {
        for (x, &i) in records.iter().enumerate() {
            for &j in &records[x + 1..] {
                let pattern = link::compare::compare(&linker.data, i, j);
                for (f, counts) in true_levels.iter_mut().enumerate() {
                    counts[link::compare::level_of(pattern, f) as usize] += 1;
                }
            }
        }
    }
    for (f, field) in m.fields.iter().enumerate() {
        let present: u64 = true_levels[f][1..].iter().sum();
        println!("{}", field.column);
        for (l, level) in field.levels.iter().enumerate().skip(1) {
            println!(
                "   {:45} m {:.4} u {:.4} | true pairs {:.4}",
                level.label,
                level.m,
                level.u,
                true_levels[f][l] as f64 / present.max(1) as f64
            );
        }
    }
}
