//! Form assembly on the sample bank: rebuilt exactly from its seed, different for different
//! candidates, never breaking its blueprint (a property over many seeds), avoiding items a
//! candidate has seen, and keeping exposure balanced.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use imh_exam::bank::{self, Bank, Blueprint};
use imh_exam::exam::form::{assemble, Form, FormError, History, Parts, Pool};

fn sample() -> (Bank, Pool) {
    let bank = bank::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank"))
        .expect("sample bank is valid");
    let pool = Pool::from_bank(&bank);
    (bank, pool)
}

fn bp<'a>(bank: &'a Bank, id: &str) -> &'a Blueprint {
    bank.blueprint(id).unwrap()
}

fn record(history: &mut History, form: &Form) {
    for id in form.ids() {
        *history.exposure.entry(id).or_insert(0) += 1;
    }
}

#[test]
fn a_form_is_rebuilt_exactly_from_its_seed() {
    let (bank, pool) = sample();
    let mut history = History::default();
    history.seen.insert("TF-0001".into());
    history.exposure.insert("DSS-0004".into(), 3);
    for id in [
        "level-iii",
        "level-iv-clinical",
        "level-iv-policy",
        "level-iv-research-faculty",
    ] {
        let a = assemble(bp(&bank, id), &pool, &history, Parts::BOTH, 42).unwrap();
        let b = assemble(bp(&bank, id), &pool, &history, Parts::BOTH, 42).unwrap();
        assert_eq!(a, b, "{id}");
        assert_eq!(a.seed, 42);
        // The form survives its stored form (JSON) unchanged.
        let stored = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Form>(&stored).unwrap(), a);
    }
}

#[test]
fn two_candidates_get_different_orders() {
    let (bank, pool) = sample();
    let h = History::default();
    let a = assemble(bp(&bank, "level-iii"), &pool, &h, Parts::BOTH, 1).unwrap();
    let b = assemble(bp(&bank, "level-iii"), &pool, &h, Parts::BOTH, 2).unwrap();
    let order = |f: &Form| {
        f.part_one
            .iter()
            .map(|e| e.item_id.clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(order(&a), order(&b));
    let options = |f: &Form| {
        f.part_one
            .iter()
            .map(|e| (e.item_id.clone(), e.option_order.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    let (oa, ob) = (options(&a), options(&b));
    let shared: Vec<&String> = oa.keys().filter(|k| ob.contains_key(*k)).collect();
    let differ = shared.iter().filter(|k| oa[**k] != ob[**k]).count();
    assert!(
        differ * 2 > shared.len(),
        "option orders should mostly differ: {differ} of {}",
        shared.len()
    );
}

#[test]
fn no_form_breaks_its_blueprint_over_many_seeds() {
    let (bank, pool) = sample();
    let h = History::default();
    for bp in &bank.blueprints {
        let mut keys_at_a = 0;
        let mut scored = 0;
        for seed in 0..300u64 {
            let form = assemble(bp, &pool, &h, Parts::BOTH, seed).unwrap();
            form.conforms_to(bp, &pool, Parts::BOTH)
                .unwrap_or_else(|e| panic!("{} seed {seed}: {e}", bp.id));
            assert_eq!(
                form.part_one.len() as u32,
                bp.part_one.scored_items() + bp.part_one.pretest_items
            );
            // The key moves around: shown as A about a quarter of the time.
            for e in form.part_one.iter().filter(|e| e.scored) {
                let item = bank.item(&e.item_id).unwrap();
                let bank::ItemBody::Mcq(m) = &item.body else {
                    panic!("mcq")
                };
                scored += 1;
                if e.shown_position(m.key_index() as u8) == Some(0) {
                    keys_at_a += 1;
                }
            }
        }
        let share = f64::from(keys_at_a) / f64::from(scored);
        assert!(
            (0.2..0.3).contains(&share),
            "{}: key shown first in {share:.3} of items",
            bp.id
        );
    }
}

#[test]
fn a_retake_of_one_part_draws_only_that_part() {
    let (bank, pool) = sample();
    let bp = bp(&bank, "level-iv-clinical");
    let only_two = Parts {
        one: false,
        two: true,
    };
    let form = assemble(bp, &pool, &History::default(), only_two, 7).unwrap();
    assert!(form.part_one.is_empty());
    assert_eq!(form.part_two.len(), 3);
    form.conforms_to(bp, &pool, only_two).unwrap();
    let kinds: Vec<String> = form.part_two.iter().map(|p| p.kind.to_string()).collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "supervisory").count(),
        1,
        "{kinds:?}"
    );
}

#[test]
fn a_candidate_who_sits_again_gets_no_item_seen_before_while_the_bank_allows() {
    let (bank, pool) = sample();
    for bp in &bank.blueprints {
        for seed in 0..20u64 {
            let mut h = History::default();
            let first = assemble(bp, &pool, &h, Parts::BOTH, seed).unwrap();
            h.seen.extend(first.ids());
            record(&mut h, &first);
            let second = assemble(bp, &pool, &h, Parts::BOTH, seed + 1000).unwrap();
            let again: BTreeSet<String> =
                first.ids().intersection(&second.ids()).cloned().collect();
            assert!(
                again.is_empty(),
                "{} seed {seed}: seen again {again:?}",
                bp.id
            );
            second.conforms_to(bp, &pool, Parts::BOTH).unwrap();

            // A third sitting: the bank cannot avoid every seen item, yet the form is full.
            h.seen.extend(second.ids());
            record(&mut h, &second);
            let third = assemble(bp, &pool, &h, Parts::BOTH, seed + 2000).unwrap();
            third.conforms_to(bp, &pool, Parts::BOTH).unwrap();
        }
    }
}

#[test]
fn exposure_stays_balanced_across_many_candidates() {
    let (bank, pool) = sample();
    let bp = bp(&bank, "level-iii");
    let mut h = History::default();
    let candidates = 200u64;
    for seed in 0..candidates {
        let form = assemble(bp, &pool, &h, Parts::BOTH, seed).unwrap();
        record(&mut h, &form);
    }
    // Every operational item in a rule's pool is used, and no item far more than another of
    // the same area: least-exposed-first keeps each area within a small spread.
    let mut by_area: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    for item in bank
        .items
        .iter()
        .filter(|i| i.status == bank::Status::Operational && i.kind() == bank::ItemKind::Mcq)
    {
        by_area
            .entry((item.domain.clone(), item.area.clone()))
            .or_default()
            .push(h.exposure.get(&item.id).copied().unwrap_or(0));
    }
    for ((domain, area), counts) in &by_area {
        let (min, max) = (*counts.iter().min().unwrap(), *counts.iter().max().unwrap());
        assert!(
            min > 0,
            "{domain}/{area} has an item never used: {counts:?}"
        );
        assert!(
            max - min <= 4,
            "{domain}/{area} exposure spread {min}..{max}: {counts:?}"
        );
    }
    // The clinical vignettes are shown about equally: 200 forms × 3 of 6 = 100 each.
    for v in bank.vignettes.iter().filter(|v| v.id.starts_with("CL")) {
        let n = h.exposure.get(&v.id).copied().unwrap_or(0);
        assert!((99..=101).contains(&n), "{} shown {n} times", v.id);
    }
}

#[test]
fn a_bank_that_cannot_fill_says_which_rule() {
    let (mut bank, _) = sample();
    for item in bank.items.iter_mut().filter(|i| i.domain == "COM") {
        item.status = bank::Status::Retired;
    }
    let pool = Pool::from_bank(&bank);
    let err = assemble(
        bp(&bank, "level-iii"),
        &pool,
        &History::default(),
        Parts::BOTH,
        1,
    )
    .unwrap_err();
    assert_eq!(
        err,
        FormError::CannotFill {
            rule: "COM".into(),
            level: bank::Level::III,
            needed: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "the bank cannot fill COM for level III: 3 more item(s) needed"
    );
}
