//! The cluster's jobs (Parquet inputs, the SQL join, our functions, training on counts) run on an
//! in-process DataFusion session give exactly what the local run gives: persons, kept pairs with
//! their weights to the bit, candidate counts per rule and the trained model.

use distributed::{MatcherKind, link_in_process};
use link::{FoldingMatcher, LinkInputs, LinkSpec};

fn check(persons: usize, lists: usize, seed: u64, adjust: impl Fn(&mut LinkSpec)) {
    let register = link::simulate::simulate(persons, lists, seed);
    let mut spec = LinkSpec::infer(&register.records);
    adjust(&mut spec);
    let inputs = LinkInputs::first_run(&spec, &FoldingMatcher);
    let local = link::link(&register.records, &inputs).expect("links locally");
    let dir = tempfile::tempdir().expect("temp dir");
    let (jobs, report) = link_in_process(&register.records, &inputs, MatcherKind::Folding, dir.path(), 3).expect("links in process");
    assert!(local.candidate_pairs > 0, "the register has candidates");
    assert_eq!(jobs.candidate_pairs, local.candidate_pairs);
    assert_eq!(jobs.blocking, local.blocking, "pairs per blocking rule");
    assert_eq!(jobs.model, local.model, "the model trained on counted patterns");
    assert_eq!(jobs.pairs, local.pairs, "kept pairs and their weights");
    assert_eq!(jobs.persons, local.persons);
    assert_eq!(jobs.clustering, local.clustering);
    assert!(report.kept_pairs >= local.pairs.len() as u64, "kept pairs include those below the output floor");
    assert!(report.records_parquet_bytes > 0 && report.blocks_parquet_bytes > 0);
}

#[test]
fn jobs_give_the_local_run_on_a_simulated_register() {
    check(400, 3, 7, |_| {});
}

#[test]
fn jobs_give_the_local_run_with_one_full_em_and_lists_that_never_repeat_a_person() {
    check(300, 4, 11, |spec| {
        spec.em_full = true;
        spec.link_type = link::LinkType::LinkOnly;
    });
}

#[test]
fn jobs_give_the_local_run_when_small_blocks_force_splitting() {
    check(300, 3, 5, |spec| spec.max_block = 3);
}
