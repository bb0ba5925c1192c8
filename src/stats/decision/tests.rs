//! Worked examples by hand, reference values from R (`benches/reference/decision_reference.R`,
//! fixtures in `tests/fixtures/decision/`), and inputs that must give `None` rather than
//! NaN. The recovery checks on simulated data are in `simulation.rs`.

use serde_json::Value;

use super::livingston_lewis::{four_parameter, true_moments};
use super::quadrature::Beta;
use super::*;
use crate::stats::dist;

fn fixture(name: &str) -> Value {
    let text = match name {
        "four_parameter" => include_str!("../../../tests/fixtures/decision/four_parameter.json"),
        "two_parameter" => include_str!("../../../tests/fixtures/decision/two_parameter.json"),
        "rudner" => include_str!("../../../tests/fixtures/decision/rudner.json"),
        "rasch_cut" => include_str!("../../../tests/fixtures/decision/rasch_cut.json"),
        _ => unreachable!("no fixture {name}"),
    };
    serde_json::from_str(text).unwrap()
}

fn num(v: &Value, path: &[&str]) -> f64 {
    let mut v = v;
    for key in path {
        v = &v[*key];
    }
    v.as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number"))
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[track_caller]
fn close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{actual} vs {expected} (difference {:e})",
        actual - expected
    );
}

fn fixture_scores(f: &Value) -> Scores {
    let counts: Vec<u64> = nums(&f["distribution"]).iter().map(|&c| c as u64).collect();
    Scores::from_distribution(&counts).unwrap()
}

// ---- Scores ----

#[test]
fn scores_hold_the_distribution_and_kr21() {
    // The KR-20 example of STATS-EXAMPLES.md: 8 candidates on 5 items, KR-21 = 0.5.
    let s = Scores::new(5, &[4, 2, 5, 1, 4, 1, 4, 3]).unwrap();
    assert_eq!(s.counts(), &[0, 2, 1, 1, 3, 1]);
    assert_eq!((s.n_items(), s.candidates()), (5, 8));
    assert_eq!(s.mean(), Some(3.0));
    assert_eq!(s.variance(), Some(2.0));
    assert_eq!(s.sample_variance(), Some(16.0 / 7.0));
    assert_eq!(s.kr21(), Some(0.5));
    assert_eq!(s.pass_rate(4), Some(0.5));
    assert_eq!(Scores::from_distribution(s.counts()), Ok(s));

    assert_eq!(Scores::new(0, &[]), Err(ScoresError::NoItems));
    assert_eq!(
        Scores::new(5, &[6]),
        Err(ScoresError::AboveLength {
            score: 6,
            n_items: 5
        })
    );
    assert_eq!(Scores::from_distribution(&[3]), Err(ScoresError::NoItems));
    let huge = Scores::from_distribution(&[u64::MAX, u64::MAX, 1]).unwrap();
    assert_eq!(huge.candidates(), u64::MAX);
    assert!(huge.pass_rate(1).is_some_and(|p| (0.0..=1.0).contains(&p)));
    let _ = decision(&huge, 1, Some(0.5));
    assert_eq!(
        Scores::new(u32::MAX, &[]),
        Err(ScoresError::TooLong {
            n_items: u64::from(u32::MAX)
        })
    );
}

// ---- Subkoviak ----

#[test]
fn subkoviak_by_hand() {
    // n = 2, totals 0, 1, 2, 2: mean 1.25, σ² = 0.6875, KR-21 = 2(1 − 0.9375/1.375) = 7/11,
    // p̂ = (7/11)·x/2 + (4/11)·0.625 = (7x + 5)/22; at cut 2, P = p̂².
    let s = Scores::new(2, &[0, 1, 2, 2]).unwrap();
    let r = subkoviak(&s, 2).unwrap();
    close(r.kr21, 7.0 / 11.0, 1e-15);
    let p: Vec<f64> = [0.0, 1.0, 2.0, 2.0]
        .iter()
        .map(|x| ((7.0 * x + 5.0) / 22.0_f64).powi(2))
        .collect();
    let p0 = p.iter().map(|p| p * p + (1.0 - p) * (1.0 - p)).sum::<f64>() / 4.0;
    let pass = p.iter().sum::<f64>() / 4.0;
    let chance = pass * pass + (1.0 - pass) * (1.0 - pass);
    close(r.p0, p0, 1e-15);
    close(r.pass_rate, pass, 1e-15);
    close(r.chance, chance, 1e-15);
    close(r.kappa.unwrap(), (p0 - chance) / (1.0 - chance), 1e-14);

    // KR-21 = 1: every p̂ is x/n, so on 2 items 0 fails and 2 passes surely: p₀ = κ = 1.
    let r = subkoviak(&Scores::new(2, &[0, 2, 2, 0]).unwrap(), 1).unwrap();
    assert_eq!(
        (r.kr21, r.p0, r.pass_rate, r.kappa),
        (1.0, 1.0, 0.5, Some(1.0))
    );
    // KR-21 = 0: everyone at the mean; agreement is chance and κ = 0.
    let r = subkoviak(&Scores::new(2, &[0, 1, 1, 2]).unwrap(), 1).unwrap();
    assert_eq!(r.kr21, 0.0);
    close(r.p0, 0.625, 1e-15);
    close(r.kappa.unwrap(), 0.0, 1e-14);
}

#[test]
fn subkoviak_matches_the_reference() {
    for name in ["four_parameter", "two_parameter"] {
        let f = fixture(name);
        let r = subkoviak(&fixture_scores(&f), num(&f, &["cut"]) as u32).unwrap();
        let s = &f["subkoviak"];
        close(r.kr21, num(s, &["kr21"]), 1e-13);
        close(r.pass_rate, num(s, &["pass_rate"]), 1e-12);
        close(r.p0, num(s, &["p0"]), 1e-12);
        close(r.chance, num(s, &["chance"]), 1e-12);
        close(r.kappa.unwrap(), num(s, &["kappa"]), 1e-12);
    }
}

// ---- Livingston & Lewis ----

fn check_ll(name: &str, model: BetaModel) {
    let f = fixture(name);
    let scores = fixture_scores(&f);
    let cut = num(&f, &["cut"]) as u32;
    let ll = livingston_lewis(&scores, cut, num(&f, &["reliability"])).unwrap();
    assert_eq!(ll.model, model);
    close(ll.effective_length, num(&f, &["effective_length"]), 1e-10);
    assert_eq!(f64::from(ll.binomial_length), num(&f, &["binomial_length"]));
    assert_eq!(f64::from(ll.binomial_cut), num(&f, &["binomial_cut"]));
    for (actual, field) in [
        (ll.alpha, "alpha"),
        (ll.beta, "beta"),
        (ll.lower, "lower"),
        (ll.upper, "upper"),
    ] {
        close(actual, num(&f, &[field]), 1e-9);
    }
    for (table, reference) in [
        (ll.accuracy_table, "accuracy_table"),
        (ll.consistency_table, "consistency_table"),
    ] {
        close(table.pass_pass, num(&f, &[reference, "pass_pass"]), 1e-9);
        close(table.pass_fail, num(&f, &[reference, "pass_fail"]), 1e-9);
        close(table.fail_pass, num(&f, &[reference, "fail_pass"]), 1e-9);
        close(table.fail_fail, num(&f, &[reference, "fail_fail"]), 1e-9);
    }
    close(ll.accuracy, num(&f, &["accuracy"]), 1e-9);
    close(ll.consistency, num(&f, &["consistency"]), 1e-9);
    close(ll.chance, num(&f, &["chance"]), 1e-9);
    close(ll.kappa.unwrap(), num(&f, &["kappa"]), 1e-9);
    // betafunctions' own LL.CA, which integrates at R's default tolerance.
    close(ll.accuracy, num(&f, &["betafunctions", "accuracy"]), 1e-6);
    close(
        ll.consistency,
        num(&f, &["betafunctions", "consistency"]),
        1e-6,
    );
    close(
        ll.kappa.unwrap(),
        num(&f, &["betafunctions", "kappa"]),
        1e-6,
    );
}

#[test]
fn livingston_lewis_four_parameter_matches_betafunctions() {
    check_ll("four_parameter", BetaModel::FourParameter);
}

#[test]
fn livingston_lewis_falls_back_to_two_parameters_as_betafunctions() {
    check_ll("two_parameter", BetaModel::TwoParameter);
    // The four-parameter solution it refused: its upper bound is above 1.
    let f = fixture("two_parameter");
    let (m, s2) = true_moments(&fixture_scores(&f), num(&f, &["effective_length"])).unwrap();
    let four = four_parameter(&m, s2);
    let refused = &f["inadmissible_four_parameter"];
    close(four.alpha, num(refused, &["alpha"]), 1e-9);
    close(four.beta, num(refused, &["beta"]), 1e-9);
    close(four.lower, num(refused, &["lower"]), 1e-9);
    close(four.upper, num(refused, &["upper"]), 1e-9);
    assert!(four.upper > 1.0);
}

#[test]
fn livingston_lewis_tables_add_up() {
    let f = fixture("four_parameter");
    let ll = livingston_lewis(&fixture_scores(&f), 48, 0.85).unwrap();
    let a = ll.accuracy_table;
    close(
        a.pass_pass + a.pass_fail + a.fail_pass + a.fail_fail,
        1.0,
        1e-12,
    );
    let c = ll.consistency_table;
    close(
        c.pass_pass + c.pass_fail + c.fail_pass + c.fail_fail,
        1.0,
        1e-12,
    );
    // Both forms have the observed-pass margin of the accuracy table.
    close(c.pass_pass + c.fail_pass, a.pass_pass + a.fail_pass, 1e-12);
    // More reliable scores classify more consistently.
    let more = livingston_lewis(&fixture_scores(&f), 48, 0.93).unwrap();
    assert!(more.consistency > ll.consistency && more.accuracy > ll.accuracy);
    assert!(more.effective_length > ll.effective_length);
}

#[test]
fn quadrature_handles_infinite_densities_at_the_ends() {
    // ∫₀ˣ y·b(y) dy = a/(a + b)·I_x(a + 1, b) for the beta(a, b) density b, with shapes below 1
    // (the density infinite at an end) and far below it (mass all but at the two ends).
    for (a, b) in [
        (0.5, 0.7),
        (0.3, 2.5),
        (3.0, 0.4),
        (1.0, 1.0),
        (40.0, 12.0),
        (1e-4, 2e-4),
    ] {
        let beta = Beta::new(a, b);
        for x in [0.05, 0.3, 0.5, 0.8, 1.0] {
            let mean_part = beta.integrate(&|y| y, 0.0, x, &[0.41]);
            close(
                mean_part,
                a / (a + b) * dist::beta_inc(a + 1.0, b, x),
                1e-12,
            );
            let mass = beta.integrate(&|_| 1.0, 0.0, x, &[0.41]);
            close(mass, dist::beta_inc(a, b, x), 1e-12);
        }
    }
}

// ---- Rudner ----

#[test]
fn rudner_matches_cacirt() {
    let f = fixture("rudner");
    let measures: Vec<Measure> = nums(&f["theta"])
        .into_iter()
        .zip(nums(&f["se"]))
        .map(|(theta, se)| Measure { theta, se })
        .collect();
    let r = rudner(&measures, num(&f, &["cut"])).unwrap();
    assert_eq!((r.persons, r.left_out), (12, 0));
    close(r.accuracy, num(&f, &["accuracy"]), 1e-13);
    close(r.consistency, num(&f, &["consistency"]), 1e-13);
    let t = r.accuracy_table;
    close(
        t.pass_pass + t.pass_fail + t.fail_pass + t.fail_fail,
        1.0,
        1e-14,
    );
    // Each person's share, one at a time.
    for ((m, acc), con) in measures
        .iter()
        .zip(nums(&f["conditional_accuracy"]))
        .zip(nums(&f["conditional_consistency"]))
    {
        let one = rudner(&[*m], 0.4).unwrap();
        close(one.accuracy, acc, 1e-13);
        close(one.consistency, con, 1e-13);
    }
}

#[test]
fn rudner_by_hand() {
    // At the cut, a person passes with probability ½: accuracy and consistency ½.
    let r = rudner(
        &[Measure {
            theta: 1.0,
            se: 0.3,
        }],
        1.0,
    )
    .unwrap();
    assert_eq!((r.accuracy, r.consistency), (0.5, 0.5));
    // One SE above the cut: Φ(1) = 0.8413447460685429; one SE below, the same by symmetry.
    let phi1 = 0.841_344_746_068_542_9;
    let r = rudner(
        &[
            Measure {
                theta: 1.3,
                se: 0.3,
            },
            Measure {
                theta: 0.5,
                se: 0.5,
            },
            Measure {
                theta: f64::NAN,
                se: 0.3,
            },
            Measure {
                theta: 0.2,
                se: 0.0,
            },
        ],
        1.0,
    )
    .unwrap();
    assert_eq!((r.persons, r.left_out), (2, 2));
    close(r.accuracy, phi1, 1e-15);
    close(r.accuracy_table.pass_pass, phi1 / 2.0, 1e-15);
    close(r.accuracy_table.fail_pass, (1.0 - phi1) / 2.0, 1e-15);
    close(
        r.consistency,
        phi1 * phi1 + (1.0 - phi1) * (1.0 - phi1),
        1e-15,
    );
    assert_eq!(rudner(&[], 0.0), None);
    assert_eq!(
        rudner(
            &[Measure {
                theta: 0.0,
                se: 1.0
            }],
            f64::NAN
        ),
        None
    );
}

// ---- CSEM ----

#[test]
fn csem_binomial_by_hand() {
    // 60 items, cut 48: √(48·12/59) = 24/√59.
    close(
        csem_binomial(60, 48.0).unwrap(),
        24.0 / 59.0_f64.sqrt(),
        1e-15,
    );
    assert_eq!(csem_binomial(5, 0.0), Some(0.0));
    assert_eq!(csem_binomial(5, 5.0), Some(0.0));
    assert_eq!(csem_binomial(4, 2.0), Some((4.0_f64 / 3.0).sqrt()));
    assert_eq!(csem_binomial(1, 1.0), None);
    assert_eq!(csem_binomial(5, 6.0), None);
    assert_eq!(csem_binomial(5, -1.0), None);
    assert_eq!(csem_binomial(5, f64::NAN), None);
}

#[test]
fn rasch_measure_and_se_match_the_reference() {
    let f = fixture("rasch_cut");
    let b = nums(&f["difficulties"]);
    for row in f["scores"].as_array().unwrap() {
        let raw = num(row, &["raw"]) as u32;
        let cut = rasch_at_cut(raw, &b).unwrap();
        close(cut.measure, num(row, &["measure"]), 1e-10);
        close(cut.se, num(row, &["se"]), 1e-10);
    }
    // Items all of difficulty 0: the raw score r of n has measure ln(r/(n − r)) and SE
    // 1/√(n·p(1 − p)).
    let flat = [0.0; 4];
    let cut = rasch_at_cut(3, &flat).unwrap();
    close(cut.measure, 3.0_f64.ln(), 1e-14);
    close(cut.se, 1.0 / (4.0 * 0.75 * 0.25_f64).sqrt(), 1e-14);
    assert_eq!(rasch_at_cut(0, &b), None);
    assert_eq!(rasch_at_cut(10, &b), None);
    assert_eq!(rasch_measure(2.0, &[0.0, f64::NAN, 1.0]), None);
    assert_eq!(rasch_se(0.0, &[]), None);
    assert_eq!(rasch_se(f64::INFINITY, &b), None);
    // Far from every item, the information underflows only beyond ±745 logits.
    assert!(rasch_se(700.0, &[0.0]).unwrap().is_finite());
    assert_eq!(rasch_se(800.0, &[0.0]), None);

    let both = csem_at_cut(10, 6, rasch_at_cut(6, &b));
    assert_eq!(both.binomial, csem_binomial(10, 6.0));
    assert_eq!(both.rasch_se, Some(rasch_at_cut(6, &b).unwrap().se));
    let refused = csem_at_cut(
        10,
        6,
        Some(RaschCut {
            measure: 0.1,
            se: f64::NAN,
        }),
    );
    assert_eq!((refused.rasch_measure, refused.rasch_se), (None, None));
}

// ---- The report and inputs without an answer ----

#[test]
fn the_report_gathers_the_statistics() {
    let f = fixture("four_parameter");
    let scores = fixture_scores(&f);
    let report = decision(&scores, 48, Some(0.85));
    let ll = livingston_lewis(&scores, 48, 0.85).unwrap();
    let s = subkoviak(&scores, 48).unwrap();
    assert_eq!((report.cut, report.items, report.candidates), (48, 60, 400));
    assert_eq!(report.subkoviak_p0, Some(s.p0));
    assert_eq!(report.subkoviak_kappa, s.kappa);
    assert_eq!(report.ll_accuracy, Some(ll.accuracy));
    assert_eq!(report.ll_consistency, Some(ll.consistency));
    assert_eq!(report.ll_false_pass, Some(ll.accuracy_table.fail_pass));
    assert_eq!(report.ll_false_fail, Some(ll.accuracy_table.pass_fail));
    assert_eq!(report.ll_model, Some(BetaModel::FourParameter));
    assert_eq!(report.csem_binomial_at_cut, csem_binomial(60, 48.0));
    assert_eq!(report.pass_rate, scores.pass_rate(48));

    let none = decision(&scores, 48, None);
    assert_eq!((none.ll_accuracy, none.reliability), (None, None));
    assert_eq!(none.subkoviak_p0, Some(s.p0));
    let above = decision(&scores, 61, Some(0.85));
    assert_eq!(
        (above.pass_rate, above.subkoviak_p0, above.ll_accuracy),
        (None, None, None)
    );
    assert_eq!(above.csem_binomial_at_cut, None);
}

#[test]
fn degenerate_inputs_give_none() {
    let one = Scores::new(10, &[7]).unwrap();
    let same = Scores::new(10, &[7, 7, 7]).unwrap();
    let empty = Scores::new(10, &[]).unwrap();
    for s in [&one, &same, &empty] {
        assert_eq!(subkoviak(s, 5), None);
        assert_eq!(livingston_lewis(s, 5, 0.8), None);
    }
    let s = Scores::new(10, &[2, 5, 7, 9, 9, 4]).unwrap();
    for r in [1.0, 1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(livingston_lewis(&s, 5, r), None, "reliability {r}");
    }
    assert_eq!(livingston_lewis(&s, 11, 0.8), None);
    assert_eq!(subkoviak(&s, 11), None);
    // A negative KR-21 (totals spread less than binomial errors would spread them).
    let narrow = Scores::new(10, &[4, 5, 5, 6, 5, 4, 6, 5]).unwrap();
    assert!(narrow.kr21().unwrap() < 0.0);
    assert_eq!(subkoviak(&narrow, 5), None);
    // A cut of 0 passes everyone: perfect agreement, kappa undefined.
    let all = subkoviak(&s, 0).unwrap();
    assert_eq!((all.p0, all.kappa), (1.0, None));
    let all = livingston_lewis(&s, 0, 0.8).unwrap();
    close(all.accuracy, 1.0, 1e-12);
    close(all.consistency, 1.0, 1e-12);
    assert_eq!(all.kappa, None);
}

/// Every result's numbers on generated inputs, some of them absurd: finite, and the shares
/// between 0 and 1.
#[test]
fn no_nan_on_any_input() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for _ in 0..300 {
        let n = rng.gen_range(1..=80u32);
        let candidates = rng.gen_range(0..40usize);
        let spread = rng.gen_range(0..=n);
        let centre = rng.gen_range(0..=n);
        let totals: Vec<u32> = (0..candidates)
            .map(|_| {
                let lo = centre.saturating_sub(spread / 2);
                rng.gen_range(lo..=(lo + spread).min(n))
            })
            .collect();
        let scores = Scores::new(n, &totals).unwrap();
        let cut = rng.gen_range(0..=n + 1);
        let r = rng.gen_range(-1.0..1.05);
        let report = decision(&scores, cut, Some(r));
        let json = serde_json::to_value(&report).unwrap();
        for (field, value) in json.as_object().unwrap() {
            if let Some(x) = value.as_f64() {
                assert!(x.is_finite(), "{field} = {x}");
            }
        }
        if let Some(s) = subkoviak(&scores, cut) {
            for x in [s.p0, s.pass_rate, s.chance] {
                assert!((0.0..=1.0).contains(&x));
            }
            assert!(s.kappa.is_none_or(f64::is_finite));
        }
        if let Some(ll) = livingston_lewis(&scores, cut, r) {
            for x in [ll.accuracy, ll.consistency, ll.chance] {
                assert!((0.0..=1.0).contains(&x), "{ll:?}");
            }
            assert!(ll.kappa.is_none_or(f64::is_finite));
            let t = ll.accuracy_table;
            let sum = t.pass_pass + t.pass_fail + t.fail_pass + t.fail_fail;
            assert!(
                (sum - 1.0).abs() < 1e-9,
                "{sum} {ll:?} {:?}",
                scores.counts()
            );
        }
    }
}
