//! Subkoviak (1976), "Estimating reliability from a single administration of a
//! criterion-referenced test", Journal of Educational Measurement 13(4), 265-276.

use serde::Serialize;

use super::{binomial_upper, kappa, Scores};
use crate::stats::ratio;

/// Subkoviak's single-administration agreement of two parallel forms at a cut.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subkoviak {
    /// The reliability used to regress the true proportions: KR-21 of the scores.
    pub kr21: f64,
    /// The expected share passing a parallel form, P̄ = mean of the candidates' Pᵢ.
    pub pass_rate: f64,
    /// p₀ = mean of Pᵢ² + (1 − Pᵢ)², the expected share classified alike on two forms.
    pub p0: f64,
    /// p_c = P̄² + (1 − P̄)².
    pub chance: f64,
    /// (p₀ − p_c)/(1 − p_c); `None` when p_c is 1 (everyone surely passes or fails), or within
    /// 1e-9 of it.
    pub kappa: Option<f64>,
}

/// Subkoviak's p₀ and kappa of `scores` at the raw `cut`. A candidate with total x on n items
/// has the Kelley-regressed true proportion p̂ = KR21·x/n + (1 − KR21)·mean/n and passes a
/// parallel form with Pᵢ = P(X ≥ cut), X binomial(n, p̂).
///
/// `None` without two candidates, without variance, with a negative KR-21 (the binomial model
/// does not hold and Kelley's formula is meaningless), or with a cut above n.
pub fn subkoviak(scores: &Scores, cut: u32) -> Option<Subkoviak> {
    let n = scores.n_items();
    if cut > n || scores.candidates() < 2 {
        return None;
    }
    let kr21 = scores.kr21().filter(|r| (0.0..=1.0).contains(r))?;
    let mean_p = scores.mean()? / f64::from(n);
    let (mut candidates, mut pass, mut agree) = (0.0, 0.0, 0.0);
    for (x, count) in scores.levels() {
        let p_true = (kr21 * x / f64::from(n) + (1.0 - kr21) * mean_p).clamp(0.0, 1.0);
        let p = binomial_upper(n, cut, p_true);
        candidates += count;
        pass += count * p;
        agree += count * (p * p + (1.0 - p) * (1.0 - p));
    }
    let pass_rate = ratio(pass, candidates)?.clamp(0.0, 1.0);
    let p0 = ratio(agree, candidates)?.clamp(0.0, 1.0);
    let chance = pass_rate * pass_rate + (1.0 - pass_rate) * (1.0 - pass_rate);
    Some(Subkoviak {
        kr21,
        pass_rate,
        p0,
        chance,
        kappa: kappa(p0, chance),
    })
}
