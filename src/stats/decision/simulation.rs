//! Recovery on simulated data: candidates of known true score sit two parallel forms, so the
//! true accuracy (true classification against the first form's) and consistency (first form
//! against second) are counted, and the estimates from the first form alone must come close.
//!
//! 20,000 candidates: a simulated share near 0.85 has a sampling SD of √(0.85·0.15/20000) ≈
//! 0.0025, so the tolerances below are about four such SDs plus the estimators' own error.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

const CANDIDATES: usize = 20_000;
const ITEMS: u32 = 60;
const CUT: u32 = 48;

/// A true proportion from the four-parameter beta(5, 2) on [0.3, 0.98]: beta(5, 2) is the 5th
/// smallest of 6 uniforms.
fn true_proportion(rng: &mut ChaCha8Rng) -> f64 {
    let mut u: [f64; 6] = std::array::from_fn(|_| rng.gen());
    u.sort_by(f64::total_cmp);
    0.3 + 0.68 * u[4]
}

/// A number-right score: `items` answers, each right with its own probability.
fn score(rng: &mut ChaCha8Rng, p: impl Iterator<Item = f64>) -> u32 {
    p.map(|p| u32::from(rng.gen::<f64>() < p)).sum()
}

/// Shares classified alike: (true against first form, first form against second).
fn agreement(pairs: &[(bool, bool, bool)]) -> (f64, f64) {
    let n = pairs.len() as f64;
    let accurate = pairs.iter().filter(|(t, a, _)| t == a).count() as f64;
    let consistent = pairs.iter().filter(|(_, a, b)| a == b).count() as f64;
    (accurate / n, consistent / n)
}

/// The binomial error model Livingston & Lewis and Subkoviak assume: each candidate's items
/// are right with their true proportion; a true pass is a true proportion of at least 48/60.
#[test]
fn classical_estimates_recover_the_simulated_truth() {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let true_cut = f64::from(CUT) / f64::from(ITEMS);
    let mut totals = Vec::with_capacity(CANDIDATES);
    let mut pairs = Vec::with_capacity(CANDIDATES);
    for _ in 0..CANDIDATES {
        let tau = true_proportion(&mut rng);
        let first = score(&mut rng, (0..ITEMS).map(|_| tau));
        let second = score(&mut rng, (0..ITEMS).map(|_| tau));
        totals.push(first);
        pairs.push((tau >= true_cut, first >= CUT, second >= CUT));
    }
    let (accuracy, consistency) = agreement(&pairs);
    let scores = Scores::new(ITEMS, &totals).unwrap();
    let kr21 = scores.kr21().unwrap();

    // Livingston & Lewis (1995) report their estimates within one percentage point of the
    // actual values in most cases: 0.01, four sampling SDs.
    let ll = livingston_lewis(&scores, CUT, kr21).unwrap();
    assert_eq!(ll.model, BetaModel::FourParameter);
    assert!((ll.effective_length - 60.0).abs() < 0.5, "{ll:?}");
    assert!(
        (ll.lower - 0.3).abs() < 0.05 && (ll.upper - 0.98).abs() < 0.05,
        "{ll:?}"
    );
    assert!(
        (ll.accuracy - accuracy).abs() < 0.01,
        "{} vs {accuracy}",
        ll.accuracy
    );
    assert!(
        (ll.consistency - consistency).abs() < 0.01,
        "{} vs {consistency}",
        ll.consistency
    );

    // Subkoviak's p₀ puts one value, the Kelley estimate of E[τ | x], in place of each
    // candidate's unknown τ. Agreement as a function of τ is a valley with its floor at the
    // cut, convex near it, so agreement at the estimate is lower than agreement averaged over
    // the τ the score leaves possible: the estimate runs low where many candidates are near
    // the cut (here by 0.017, about seven sampling SDs). Held below the truth, within 0.025.
    let s = subkoviak(&scores, CUT).unwrap();
    assert!(s.p0 < consistency, "{} vs {consistency}", s.p0);
    assert!(consistency - s.p0 < 0.025, "{} vs {consistency}", s.p0);
}

/// A standard normal deviate (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = 1.0 - rng.gen::<f64>();
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Rasch items from −2 to 2 logits, abilities N(1.5, 1); each candidate's measure is the
/// maximum-likelihood one of their raw score with its model standard error, and the cut is the
/// measure of the raw cut, so a measure passes exactly when the raw score does.
#[test]
fn rudner_recovers_the_simulated_truth() {
    let mut rng = ChaCha8Rng::seed_from_u64(1955);
    let b: Vec<f64> = (0..ITEMS)
        .map(|i| -2.0 + 4.0 * f64::from(i) / f64::from(ITEMS - 1))
        .collect();
    let cut = rasch_at_cut(CUT, &b).unwrap();
    let p = |theta: f64, b: f64| 1.0 / (1.0 + (b - theta).exp());
    let mut measures = Vec::with_capacity(CANDIDATES);
    let mut pairs = Vec::with_capacity(CANDIDATES);
    for _ in 0..CANDIDATES {
        let theta = 1.5 + normal(&mut rng);
        let first = score(&mut rng, b.iter().map(|&b| p(theta, b)));
        let second = score(&mut rng, b.iter().map(|&b| p(theta, b)));
        pairs.push((theta >= cut.measure, first >= CUT, second >= CUT));
        // A zero or perfect score has no maximum-likelihood measure: left out (NaN).
        let hat = rasch_measure(f64::from(first), &b).unwrap_or(f64::NAN);
        let se = rasch_se(hat, &b).unwrap_or(f64::NAN);
        measures.push(Measure { theta: hat, se });
    }
    let (accuracy, consistency) = agreement(&pairs);
    let r = rudner(&measures, cut.measure).unwrap();
    assert!(r.left_out < 150, "{}", r.left_out);
    // Rudner's index takes each estimate for the true measure, which spreads the measures
    // wider than the truth and so overstates accuracy a little ("slightly positively
    // biased", Martineau 2007, Applied Psychological Measurement 31(3),
    // doi:10.1177/0146621606291557): 0.015.
    assert!(
        (r.accuracy - accuracy).abs() < 0.015,
        "{} vs {accuracy}",
        r.accuracy
    );
    assert!(
        (r.consistency - consistency).abs() < 0.015,
        "{} vs {consistency}",
        r.consistency
    );
}
