//! The Rasch test characteristic curve (TCC): the expected raw score of a set of items at an
//! ability, and its inverse, the ability at which a raw score is expected.
//!
//! Abilities and difficulties are in logits, higher = abler / harder:
//! P(θ, b) = 1 / (1 + exp(b − θ)); the TCC is τ(θ) = Σ P(θ, bᵢ), strictly increasing from 0
//! (θ → −∞) to n (θ → +∞). Formulas and conventions: `docs/statistics.md`, "Fair forms and
//! equating".

/// Raw 0 and the maximum have no finite ability (τ reaches them only at ±∞): before inverting,
/// a raw score is kept at least this far from both ends, so raw 0 is read as 0.5 and the
/// maximum n as n − 0.5.
pub const EXTREME_ADJUSTMENT: f64 = 0.5;

/// Newton steps (each with a bisection fallback) before the inverse gives up; it converges in
/// under 10 for any test of up to thousands of items.
const MAX_STEPS: usize = 200;
/// The inverse stops when the step or the bracket is this small, in logits.
const THETA_TOLERANCE: f64 = 1e-12;

/// The probability of a correct answer to an item of difficulty `b` at ability `theta`.
/// Finite for any finite input (0 or 1 in the limits).
pub fn p_correct(theta: f64, b: f64) -> f64 {
    let z = b - theta;
    // exp of a large z overflows to +inf, which gives 0: still correct and finite.
    if z >= 0.0 {
        let e = (-z).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + z.exp())
    }
}

/// τ(θ): the expected raw score of items of difficulties `bs` at `theta`.
pub fn expected_score(theta: f64, bs: &[f64]) -> f64 {
    bs.iter().map(|&b| p_correct(theta, b)).sum()
}

/// The expected percent correct of the items `bs` at `theta`; None for no items.
pub fn expected_percent(theta: f64, bs: &[f64]) -> Option<f64> {
    (!bs.is_empty()).then(|| 100.0 * expected_score(theta, bs) / bs.len() as f64)
}

/// The test information Σ P(1 − P): the slope of τ at `theta`.
pub fn information(theta: f64, bs: &[f64]) -> f64 {
    bs.iter()
        .map(|&b| {
            let p = p_correct(theta, b);
            p * (1.0 - p)
        })
        .sum()
}

/// The ability at which `raw` is the expected score on items `bs`: τ⁻¹(raw). A raw score
/// outside [EXTREME_ADJUSTMENT, n − EXTREME_ADJUSTMENT] is first moved to that range (so raw 0
/// and the maximum map to finite abilities). None when there are no items, or when `raw` or a
/// difficulty is NaN. Monotone: a higher raw score never gives a lower ability.
///
/// A difficulty of −∞ (+∞) is an item everyone (no one) answered correctly in its calibration,
/// whose estimate is infinite: P is 1 (0) at every ability, so τ(θ) = k + τ_finite(θ) with k
/// the −∞ items, and τ⁻¹(raw) = τ_finite⁻¹(raw − k) over the finite items (the limit of the
/// curve as those difficulties go to ±∞). None if no item is finite.
pub fn theta_for_score(raw: f64, bs: &[f64]) -> Option<f64> {
    if bs.iter().any(|b| b.is_infinite()) {
        if bs.iter().any(|b| b.is_nan()) {
            return None;
        }
        let always = bs.iter().filter(|b| **b == f64::NEG_INFINITY).count() as f64;
        let finite: Vec<f64> = bs.iter().copied().filter(|b| b.is_finite()).collect();
        return theta_for_score(raw - always, &finite);
    }
    let n = bs.len() as f64;
    if bs.is_empty() || !raw.is_finite() || bs.iter().any(|b| !b.is_finite()) {
        return None;
    }
    // With one item the range is the single point 0.5: τ(θ) = 0.5 at θ = b.
    let target = raw.clamp(
        EXTREME_ADJUSTMENT,
        (n - EXTREME_ADJUSTMENT).max(EXTREME_ADJUSTMENT),
    );
    let f = |theta: f64| expected_score(theta, bs) - target;
    // Bracket: below every difficulty by the logit of the target's share, and above likewise,
    // each P is bounded so that τ is below (above) the target there.
    let (min_b, max_b) = bs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &b| {
            (lo.min(b), hi.max(b))
        });
    let share = target / n;
    let logit = (share / (1.0 - share)).ln();
    let mut lo = min_b + logit - 1.0;
    let mut hi = max_b + logit + 1.0;
    // The bounds above hold in exact arithmetic; widen until the signs show it in floats.
    for _ in 0..64 {
        if f(lo) <= 0.0 {
            break;
        }
        lo -= (hi - lo).max(1.0);
    }
    for _ in 0..64 {
        if f(hi) >= 0.0 {
            break;
        }
        hi += (hi - lo).max(1.0);
    }
    let mut theta = (min_b + max_b) / 2.0 + logit;
    if !(lo..=hi).contains(&theta) {
        theta = (lo + hi) / 2.0;
    }
    for _ in 0..MAX_STEPS {
        let value = f(theta);
        if value == 0.0 {
            return Some(theta);
        }
        if value < 0.0 {
            lo = theta;
        } else {
            hi = theta;
        }
        let slope = information(theta, bs);
        let newton = theta - value / slope;
        let next = if slope > 0.0 && newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            (lo + hi) / 2.0
        };
        let step = (next - theta).abs();
        theta = next;
        if step < THETA_TOLERANCE || hi - lo < THETA_TOLERANCE {
            break;
        }
    }
    theta.is_finite().then_some(theta)
}

/// The distribution of the raw score on items `bs` at `theta`: `out[r]` = P(raw = r), for
/// r = 0..=n, by the Lord & Wingersky (1984) recursion over the items (local independence).
pub fn score_distribution(theta: f64, bs: &[f64]) -> Vec<f64> {
    let mut dist = Vec::with_capacity(bs.len() + 1);
    dist.push(1.0);
    for &b in bs {
        let p = p_correct(theta, b);
        dist.push(0.0);
        for r in (0..dist.len()).rev() {
            let right = if r > 0 { dist[r - 1] * p } else { 0.0 };
            dist[r] = dist[r] * (1.0 - p) + right;
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn the_item_curve_at_hand_checked_points() {
        assert_eq!(p_correct(0.0, 0.0), 0.5);
        // 1 / (1 + e^-1) = 0.7310585786300049
        assert!(close(p_correct(1.0, 0.0), 0.731_058_578_630_004_9, 1e-15));
        assert!(close(p_correct(0.0, 1.0), 0.268_941_421_369_995_1, 1e-15));
        // ln 3 logits above the item: 3/4.
        assert!(close(p_correct(3f64.ln() + 0.5, 0.5), 0.75, 1e-15));
        // Extremes stay finite and in [0, 1].
        assert_eq!(p_correct(-1e308, 1e308), 0.0);
        assert_eq!(p_correct(1e308, -1e308), 1.0);
    }

    #[test]
    fn the_test_curve_and_its_inverse() {
        let bs = [-1.0, 0.0, 1.0];
        // τ(0) = 0.7310585786 + 0.5 + 0.2689414214 = 1.5 by symmetry.
        assert!(close(expected_score(0.0, &bs), 1.5, 1e-15));
        assert!(close(expected_percent(0.0, &bs).unwrap(), 50.0, 1e-13));
        assert_eq!(expected_percent(0.0, &[]), None);
        assert!(close(theta_for_score(1.5, &bs).unwrap(), 0.0, 1e-10));
        // τ(1) = P(2) + P(1) + P(0) = 0.8807970780 + 0.7310585786 + 0.5 = 2.1118556566.
        assert!(close(
            expected_score(1.0, &bs),
            2.111_855_656_607_887,
            1e-12
        ));
        assert!(close(
            theta_for_score(2.111_855_656_607_887, &bs).unwrap(),
            1.0,
            1e-9
        ));
        // One item: every raw score reads as 0.5, at θ = b.
        assert!(close(theta_for_score(1.0, &[0.7]).unwrap(), 0.7, 1e-10));
    }

    #[test]
    fn the_inverse_agrees_with_the_decision_modules_rasch_measure() {
        let bs = [-1.3, -0.4, 0.0, 0.2, 0.9, 1.7, 2.2];
        for raw in 1..7 {
            let a = theta_for_score(f64::from(raw), &bs).unwrap();
            let b = crate::stats::decision::rasch_measure(f64::from(raw), &bs).unwrap();
            assert!(close(a, b, 1e-9), "{raw}: {a} vs {b}");
        }
    }

    #[test]
    fn the_score_distribution_by_hand() {
        // Two items at θ − b = 0 and ln 3: P = 1/2 and 3/4.
        // P(0) = 1/2 · 1/4 = 1/8, P(1) = 1/2 · 1/4 + 1/2 · 3/4 = 1/2, P(2) = 3/8.
        let d = score_distribution(0.0, &[0.0, -(3f64.ln())]);
        assert_eq!(d.len(), 3);
        for (got, want) in d.iter().zip([0.125, 0.5, 0.375]) {
            assert!(close(*got, want, 1e-15), "{d:?}");
        }
        assert_eq!(score_distribution(1.0, &[]), vec![1.0]);
        // Its mean is the TCC.
        let bs: Vec<f64> = (0..40).map(|i| f64::from(i) / 13.0 - 1.5).collect();
        let d = score_distribution(0.4, &bs);
        let mean: f64 = d.iter().enumerate().map(|(r, p)| r as f64 * p).sum();
        assert!(close(mean, expected_score(0.4, &bs), 1e-10));
        assert!(close(d.iter().sum::<f64>(), 1.0, 1e-12));
    }

    #[test]
    fn extremes_are_adjusted_and_finite() {
        let bs = [0.0, 0.0];
        // Raw 0 is read as 0.5 of 2: P = 1/4 at θ = −ln 3; the maximum as 1.5: θ = ln 3.
        assert!(close(
            theta_for_score(0.0, &bs).unwrap(),
            -(3f64.ln()),
            1e-10
        ));
        assert!(close(theta_for_score(2.0, &bs).unwrap(), 3f64.ln(), 1e-10));
        assert!(close(
            theta_for_score(-5.0, &bs).unwrap(),
            -(3f64.ln()),
            1e-10
        ));
        assert_eq!(theta_for_score(1.0, &[]), None);
        assert_eq!(theta_for_score(f64::NAN, &bs), None);
        assert_eq!(theta_for_score(1.0, &[0.0, f64::NAN]), None);
        // Far-apart difficulties still invert.
        let wide = [-300.0, 0.0, 300.0];
        let t = theta_for_score(1.5, &wide).unwrap();
        assert!(close(expected_score(t, &wide), 1.5, 1e-9), "{t}");
    }

    #[test]
    fn items_of_infinite_difficulty_are_the_limit_of_the_curve() {
        // Everyone right (−∞) adds 1 at every ability, no one right (+∞) adds 0.
        let bs = [-1.0, 0.0, 1.0, f64::NEG_INFINITY, f64::INFINITY];
        assert!(close(expected_score(0.0, &bs), 2.5, 1e-15));
        // τ⁻¹(2.5) is τ_finite⁻¹(1.5) = 0; every raw score as on the finite items, one less.
        assert!(close(theta_for_score(2.5, &bs).unwrap(), 0.0, 1e-10));
        for raw in 0..=5 {
            let r = f64::from(raw);
            assert_eq!(
                theta_for_score(r, &bs),
                theta_for_score(r - 1.0, &[-1.0, 0.0, 1.0])
            );
        }
        assert_eq!(
            theta_for_score(1.0, &[f64::NEG_INFINITY, f64::INFINITY]),
            None
        );
        assert_eq!(
            theta_for_score(1.0, &[0.0, f64::NEG_INFINITY, f64::NAN]),
            None
        );
    }

    #[test]
    fn the_inverse_is_monotone_and_round_trips() {
        let bs: Vec<f64> = (0..60).map(|i| (f64::from(i) - 30.0) / 12.0).collect();
        let mut last = f64::NEG_INFINITY;
        for raw in 0..=60 {
            let t = theta_for_score(f64::from(raw), &bs).unwrap();
            assert!(t.is_finite() && t > last, "raw {raw}: {t} after {last}");
            last = t;
            if (1..60).contains(&raw) {
                assert!(close(expected_score(t, &bs), f64::from(raw), 1e-9));
            }
        }
    }
}
