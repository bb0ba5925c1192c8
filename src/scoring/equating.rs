//! Part One's equated score: IRT true-score equating of each form onto one domain-score scale,
//! the expected percent correct on the blueprint's whole operational pool (Kolen & Brennan
//! 2014, ch. 6, with the Rasch model's test characteristic curves).
//!
//! A raw score r on a form of scored difficulties b₁..bₙ gives the ability θ with τ_form(θ) = r
//! (`stats::tcc::theta_for_score`); the equated percent is 100 · τ_pool(θ) / N over the pool's
//! N difficulties. A form as hard as the pool leaves the percent unchanged; on a harder form
//! the same raw score is worth more. Raw 0 and the maximum are equated to 0% and 100%, the
//! limits of both curves (their θ is shown with the TCC's extreme-score adjustment).

use serde::Serialize;

use crate::bank::{PassMark, PassOn};
use crate::stats::tcc;

/// An equated percent this close below the pass mark still passes: the inversion is exact to
/// about 1e-12, and a form identical to the pool must pass exactly where raw does.
pub const EQUATED_SLACK: f64 = 1e-9;

/// A Part One score with both readings and which one decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartOneScore {
    pub raw: u32,
    pub max: u32,
    /// None when the form has no scored item.
    pub raw_percent: Option<f64>,
    /// The candidate's ability on the pool's scale (logits); None where uncalibrated.
    pub theta: Option<f64>,
    /// None where uncalibrated.
    pub equated_percent: Option<f64>,
    /// `raw` whenever the blueprint says so or the pool is not calibrated.
    pub decided_by: PassOn,
    pub passed: bool,
}

/// The ability for `raw` on the form and its expected percent on the pool. None when either
/// set of difficulties is empty or holds a value that is not finite. `raw` above the form's
/// length is read as the maximum.
pub fn equate(raw: u32, form: &[f64], pool: &[f64]) -> Option<(f64, f64)> {
    let n = form.len() as u32;
    // ±∞: an item everyone (no one) answered correctly in its calibration, P = 1 (0).
    if pool.is_empty() || pool.iter().any(|b| b.is_nan()) || pool.iter().all(|b| b.is_infinite()) {
        return None;
    }
    let raw = raw.min(n);
    let theta = tcc::theta_for_score(f64::from(raw), form)?;
    let percent = if raw == 0 {
        0.0
    } else if raw == n {
        100.0
    } else {
        tcc::expected_percent(theta, pool)?
    };
    Some((theta, percent))
}

/// Scores `raw` of `max` scored items against `pass_percent`. `calibration` is the form's
/// scored items' difficulties and the pool's, when the pool is calibrated. The raw decision is
/// made in integers (`PassMark::reached_raw`), as `results::PartResult` does.
pub fn score_part_one(
    raw: u32,
    max: u32,
    calibration: Option<(&[f64], &[f64])>,
    pass_percent: PassMark,
    pass_on: PassOn,
) -> PartOneScore {
    let raw = raw.min(max);
    let raw_percent = (max > 0).then(|| 100.0 * f64::from(raw) / f64::from(max));
    let equated = calibration
        .filter(|(form, _)| form.len() as u32 == max)
        .and_then(|(form, pool)| equate(raw, form, pool));
    let (decided_by, passed) = decide(raw, max, equated.map(|e| e.1), pass_percent, pass_on);
    PartOneScore {
        raw,
        max,
        raw_percent,
        theta: equated.map(|e| e.0),
        equated_percent: equated.map(|e| e.1),
        decided_by,
        passed,
    }
}

/// Which percent decides and whether it passes: the equated percent where `pass_on` asks for
/// it and there is one, else the raw score (compared in integers). Also how a stored result is
/// re-decided when the committee changes a sitting's policy: the figures stay, the decision
/// follows the policy.
pub fn decide(
    raw: u32,
    max: u32,
    equated_percent: Option<f64>,
    pass_percent: PassMark,
    pass_on: PassOn,
) -> (PassOn, bool) {
    match (pass_on, equated_percent) {
        (PassOn::Equated, Some(percent)) => (
            PassOn::Equated,
            max > 0 && percent + EQUATED_SLACK >= pass_percent.percent(),
        ),
        _ => (PassOn::Raw, pass_percent.reached_raw(raw, max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread(n: usize, shift: f64) -> Vec<f64> {
        (0..n)
            .map(|i| (i as f64 - (n as f64 - 1.0) / 2.0) / 10.0 + shift)
            .collect()
    }

    #[test]
    fn a_form_equal_to_the_pool_keeps_the_raw_percent() {
        let pool = spread(60, 0.0);
        for raw in 0..=60 {
            let (_, eq) = equate(raw, &pool, &pool).unwrap();
            let percent = 100.0 * f64::from(raw) / 60.0;
            assert!((eq - percent).abs() < 1e-9, "{raw}: {eq} vs {percent}");
        }
        // Passing exactly at the mark, as raw does: 48 of 60 is 80%, 47 is not.
        let s = score_part_one(
            48,
            60,
            Some((&pool, &pool)),
            PassMark::whole(80),
            PassOn::Equated,
        );
        assert_eq!((s.decided_by, s.passed), (PassOn::Equated, true));
        let s = score_part_one(
            47,
            60,
            Some((&pool, &pool)),
            PassMark::whole(80),
            PassOn::Equated,
        );
        assert_eq!((s.decided_by, s.passed), (PassOn::Equated, false));
    }

    #[test]
    fn a_harder_form_is_worth_more_and_an_easier_one_less() {
        let pool = spread(120, 0.0);
        // Every other pool item, moved up or down: the pool's shape, harder or easier.
        let hard: Vec<f64> = pool.iter().step_by(2).map(|b| b + 0.3).collect();
        let easy: Vec<f64> = pool.iter().step_by(2).map(|b| b - 0.3).collect();
        for raw in 1..60 {
            let (_, h) = equate(raw, &hard, &pool).unwrap();
            let (_, e) = equate(raw, &easy, &pool).unwrap();
            let r = 100.0 * f64::from(raw) / 60.0;
            assert!(h > r && e < r, "{raw}: easy {e} raw {r} hard {h}");
        }
        // 47 of 60 fails on raw, passes equated on the harder form.
        let s = score_part_one(
            47,
            60,
            Some((&hard, &pool)),
            PassMark::whole(80),
            PassOn::Equated,
        );
        assert!(s.passed && s.equated_percent.unwrap() > 80.0, "{s:?}");
        assert!((s.raw_percent.unwrap() - 78.333_333_333_333_33).abs() < 1e-12);
        let s = score_part_one(
            47,
            60,
            Some((&hard, &pool)),
            PassMark::whole(80),
            PassOn::Raw,
        );
        assert_eq!((s.decided_by, s.passed), (PassOn::Raw, false));
        assert!(s.equated_percent.is_some(), "both are shown");
    }

    #[test]
    fn equating_is_monotone_and_ends_at_the_limits() {
        let pool = spread(130, 0.1);
        let form: Vec<f64> = spread(60, 0.0).iter().map(|b| b * 1.7).collect();
        let mut last = -1.0;
        for raw in 0..=60 {
            let (theta, eq) = equate(raw, &form, &pool).unwrap();
            assert!(theta.is_finite() && eq > last, "{raw}: {eq} after {last}");
            last = eq;
        }
        assert_eq!(equate(0, &form, &pool).unwrap().1, 0.0);
        assert_eq!(equate(60, &form, &pool).unwrap().1, 100.0);
        assert_eq!(equate(61, &form, &pool).unwrap().1, 100.0);
        assert_eq!(equate(3, &form, &[]), None);
        assert_eq!(equate(3, &[], &pool), None);
    }

    #[test]
    fn a_stored_result_is_re_decided_by_the_policy() {
        // 47 of 60 (78.3% raw) equated to 81%: passes on equated, fails on raw.
        assert_eq!(
            decide(47, 60, Some(81.0), PassMark::whole(80), PassOn::Equated),
            (PassOn::Equated, true)
        );
        assert_eq!(
            decide(47, 60, Some(81.0), PassMark::whole(80), PassOn::Raw),
            (PassOn::Raw, false)
        );
        // No equated percent (uncalibrated): raw decides whatever the policy.
        assert_eq!(
            decide(48, 60, None, PassMark::whole(80), PassOn::Equated),
            (PassOn::Raw, true)
        );
        assert!(!decide(0, 0, Some(90.0), PassMark::whole(80), PassOn::Equated).1);
    }

    #[test]
    fn an_item_everyone_answered_correctly_counts_as_certain() {
        // A pool of the form's items plus one everyone answered correctly (−∞): a form without
        // it equates r of n to (τ_form(θ) + 1) / (n + 1) of the pool, above its raw percent.
        let form = spread(20, 0.0);
        let mut pool = form.clone();
        pool.push(f64::NEG_INFINITY);
        for raw in 1..20 {
            let (theta, eq) = equate(raw, &form, &pool).unwrap();
            let want = 100.0 * (f64::from(raw) + 1.0) / 21.0;
            assert!((eq - want).abs() < 1e-9, "{raw}: {eq} vs {want} at {theta}");
        }
        // On a form that carries it, raw r reads as r − 1 on the other items.
        let mut carried = form.clone();
        carried.push(f64::NEG_INFINITY);
        let (_, eq) = equate(11, &carried, &pool).unwrap();
        assert!((eq - 100.0 * 11.0 / 21.0).abs() < 1e-9, "{eq}");
        assert_eq!(equate(3, &form, &[f64::NEG_INFINITY]), None);
    }

    #[test]
    fn uncalibrated_or_empty_falls_back_to_raw() {
        let s = score_part_one(50, 60, None, PassMark::whole(80), PassOn::Equated);
        assert_eq!((s.decided_by, s.passed), (PassOn::Raw, true));
        assert_eq!((s.theta, s.equated_percent), (None, None));
        let s = score_part_one(0, 0, None, PassMark::whole(80), PassOn::Raw);
        assert_eq!((s.raw_percent, s.passed), (None, false));
        // Difficulties that do not match the form's length are not this form's: raw decides.
        let pool = spread(10, 0.0);
        let s = score_part_one(
            9,
            10,
            Some((&pool[..9], &pool)),
            PassMark::whole(80),
            PassOn::Equated,
        );
        assert_eq!(s.decided_by, PassOn::Raw);
    }
}
