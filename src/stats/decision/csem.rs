//! The conditional standard error of measurement at the cut: Lord's binomial error (Lord 1955,
//! "Estimating test reliability", Educational and Psychological Measurement 15; Lord & Novick
//! 1968, §23.10) and the Rasch model's standard error at the cut's measure.

use serde::Serialize;

use crate::stats::{finite, ratio};

/// Lord's binomial CSEM of a total `score` on `n_items` items: √(x(n − x)/(n − 1)).
/// `None` for fewer than 2 items or a score outside 0..=n.
pub fn csem_binomial(n_items: u32, score: f64) -> Option<f64> {
    let n = f64::from(n_items);
    if n_items < 2 || !(0.0..=n).contains(&score) {
        return None;
    }
    finite(ratio(score * (n - score), n - 1.0)?.sqrt())
}

/// p(1 − p) of a Rasch item of difficulty b at θ, without overflow: e/(1 + e)², e = exp(−|θ − b|).
fn information(theta: f64, b: f64) -> f64 {
    let e = (-(theta - b).abs()).exp();
    e / ((1.0 + e) * (1.0 + e))
}

/// P(right) of a Rasch item of difficulty b at θ.
fn probability(theta: f64, b: f64) -> f64 {
    let d = theta - b;
    if d >= 0.0 {
        1.0 / (1.0 + (-d).exp())
    } else {
        let e = d.exp();
        e / (1.0 + e)
    }
}

/// The Rasch model's standard error at θ on a form of the given item difficulties:
/// 1/√I(θ), I(θ) = Σ pᵢ(1 − pᵢ). `None` without items, with a difficulty or θ not finite, or
/// when the information underflows.
pub fn rasch_se(theta: f64, difficulties: &[f64]) -> Option<f64> {
    if !theta.is_finite() || difficulties.is_empty() || !difficulties.iter().all(|b| b.is_finite())
    {
        return None;
    }
    let info: f64 = difficulties.iter().map(|&b| information(theta, b)).sum();
    (info > 0.0).then(|| finite(1.0 / info.sqrt())).flatten()
}

/// The maximum-likelihood Rasch measure of a raw score on a form of the given difficulties:
/// the θ where the expected score Σ pᵢ(θ) equals `raw` (the test characteristic curve
/// inverted). Defined for 0 < raw < n only: at 0 and n the likelihood has no maximum.
pub fn rasch_measure(raw: f64, difficulties: &[f64]) -> Option<f64> {
    let n = difficulties.len() as f64;
    if !(raw > 0.0 && raw < n && difficulties.iter().all(|b| b.is_finite())) {
        return None;
    }
    // Σ pᵢ(θ) lies between n·p(θ − max b) and n·p(θ − min b): the root is in this bracket.
    let logit = (raw / (n - raw)).ln();
    let (min, max) = difficulties
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &b| {
            (lo.min(b), hi.max(b))
        });
    let (mut lo, mut hi) = (min + logit, max + logit);
    let mut theta = 0.5 * (lo + hi);
    for _ in 0..200 {
        let (expected, info) = difficulties.iter().fold((0.0, 0.0), |(e, i), &b| {
            (e + probability(theta, b), i + information(theta, b))
        });
        let gap = expected - raw;
        if gap > 0.0 {
            hi = theta;
        } else {
            lo = theta;
        }
        // Newton's step where it stays inside the bracket, else bisection.
        let newton = theta - gap / info;
        let next = if info > 0.0 && lo < newton && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if next == theta || hi - lo <= f64::EPSILON * theta.abs().max(1.0) {
            theta = next;
            break;
        }
        theta = next;
    }
    finite(theta)
}

/// The cut's Rasch measure and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RaschCut {
    pub measure: f64,
    pub se: f64,
}

/// The Rasch measure of the raw `cut` on a form of the given difficulties and the standard
/// error there ([`rasch_measure`], [`rasch_se`]); `None` at a cut of 0 or n.
pub fn rasch_at_cut(cut: u32, difficulties: &[f64]) -> Option<RaschCut> {
    let measure = rasch_measure(f64::from(cut), difficulties)?;
    Some(RaschCut {
        measure,
        se: rasch_se(measure, difficulties)?,
    })
}

/// The conditional standard errors at a raw cut.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CsemAtCut {
    pub cut: u32,
    /// Lord's binomial CSEM, on the raw-score scale.
    pub binomial: Option<f64>,
    /// The cut's measure on the θ scale, as the caller computed it.
    pub rasch_measure: Option<f64>,
    /// The standard error at that measure, in logits, as the caller computed it.
    pub rasch_se: Option<f64>,
}

/// Both CSEMs at the raw `cut` of a form of `n_items` items: the binomial one computed here,
/// the Rasch one as given by the caller (from [`rasch_at_cut`], or from a calibration's
/// score table), kept when finite (and the SE positive).
pub fn csem_at_cut(n_items: u32, cut: u32, rasch: Option<RaschCut>) -> CsemAtCut {
    let rasch = rasch.filter(|r| r.measure.is_finite() && r.se.is_finite() && r.se > 0.0);
    CsemAtCut {
        cut,
        binomial: csem_binomial(n_items, f64::from(cut)),
        rasch_measure: rasch.map(|r| r.measure),
        rasch_se: rasch.map(|r| r.se),
    }
}
