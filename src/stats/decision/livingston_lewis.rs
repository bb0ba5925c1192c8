//! Livingston & Lewis (1995), "Estimating the consistency and accuracy of classifications based
//! on test scores", Journal of Educational Measurement 32(2), 179-197; the true-score
//! distribution by Lord (1965), "A strong true-score theory, with applications",
//! Psychometrika 30(3), fitted by the method of moments of Hanson (1991), ACT Research Report
//! 91-5; as implemented in Haakstad's R package `betafunctions` (`LL.CA`).

use std::fmt;

use serde::{Serialize, Serializer};

use super::quadrature::Beta;
use super::{PassFail, Scores};
use crate::stats::{dist, finite, ratio};

/// The longest effective test length used: beyond it (a reliability within about 1e-5 of 1
/// on a long form) the binomial error model is a step and nothing is computed.
pub const MAX_EFFECTIVE_LENGTH: f64 = 1e6;

/// The true-score distribution fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BetaModel {
    /// Four-parameter beta on [lower, upper], matching four moments.
    FourParameter,
    /// Two-parameter beta on [0, 1], matching the mean and variance: the fall-back when the
    /// four-parameter fit is inadmissible.
    TwoParameter,
}

impl fmt::Display for BetaModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BetaModel::FourParameter => "four_parameter",
            BetaModel::TwoParameter => "two_parameter",
        })
    }
}

impl Serialize for BetaModel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Livingston & Lewis's accuracy and consistency at a cut, with the fitted model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LivingstonLewis {
    pub reliability: f64,
    /// n′ = ((μ − 0)(n − μ) − rσ²)/(σ²(1 − r)), σ² with divisor N − 1.
    pub effective_length: f64,
    /// n′ rounded: the number of trials of the binomial error model.
    pub binomial_length: u32,
    /// The cut on that scale: round(binomial_length · cut/n); a pass is at or above it.
    pub binomial_cut: u32,
    /// The cut on the true proportion-correct scale, cut/n; a true pass is at or above it.
    pub true_cut: f64,
    pub model: BetaModel,
    /// The true proportion's beta shape parameters and bounds.
    pub alpha: f64,
    pub beta: f64,
    pub lower: f64,
    pub upper: f64,
    /// The share classified as the true score would classify them: pass_pass + fail_fail of
    /// `accuracy_table`.
    pub accuracy: f64,
    /// The share classified alike on two parallel forms.
    pub consistency: f64,
    /// Chance agreement of the consistency table, P² + (1 − P)², P the model's pass share.
    pub chance: f64,
    pub kappa: Option<f64>,
    /// Rows the true classification, columns the observed one.
    pub accuracy_table: PassFail,
    /// Rows the first form, columns the second.
    pub consistency_table: PassFail,
}

/// A true-score distribution fitted by moments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Fit {
    pub(super) model: BetaModel,
    pub(super) alpha: f64,
    pub(super) beta: f64,
    pub(super) lower: f64,
    pub(super) upper: f64,
}

impl Fit {
    /// Positive finite shapes and 0 ≤ lower < upper ≤ 1.
    fn admissible(&self) -> bool {
        [self.alpha, self.beta, self.lower, self.upper]
            .iter()
            .all(|x| x.is_finite())
            && self.alpha > 0.0
            && self.beta > 0.0
            && 0.0 <= self.lower
            && self.lower < self.upper
            && self.upper <= 1.0
    }
}

/// Livingston & Lewis at the raw `cut` with the given `reliability` of the scores, the possible
/// scores running from 0 to n.
///
/// `None` without two candidates or variance, with a reliability that is not below 1, an
/// effective length below ½ or above [`MAX_EFFECTIVE_LENGTH`], a cut above n, or no admissible
/// two-parameter fit (an estimated true-score variance of 0 or less, or at least m(1 − m)).
pub fn livingston_lewis(scores: &Scores, cut: u32, reliability: f64) -> Option<LivingstonLewis> {
    let n = f64::from(scores.n_items());
    // A NaN reliability fails `r < 1` too.
    let below_one = reliability < 1.0;
    if cut > scores.n_items() || scores.candidates() < 2 || !below_one {
        return None;
    }
    let r = finite(reliability)?;
    let mean = scores.mean()?;
    let var = scores.sample_variance().filter(|&v| v > 0.0)?;
    let etl = finite(ratio(mean * (n - mean) - r * var, var * (1.0 - r))?)?;
    let trials = etl.round();
    if !(1.0..=MAX_EFFECTIVE_LENGTH).contains(&trials) {
        return None;
    }
    let fit = fit(scores, etl)?;
    let trials = trials as u32;
    let true_cut = f64::from(cut) / n;
    let binomial_cut = ((f64::from(trials) * true_cut).round() as u32).min(trials);

    // On the beta's own [0, 1] scale y, the true proportion is lower + (upper − lower)·y.
    let width = fit.upper - fit.lower;
    let tau = |y: f64| fit.lower + width * y;
    let y_cut = ((true_cut - fit.lower) / width).clamp(0.0, 1.0);
    let y_mid = (f64::from(binomial_cut) / f64::from(trials) - fit.lower) / width;
    let splits = [y_cut, y_mid];
    let density = Beta::new(fit.alpha, fit.beta);
    let pass = |y: f64| binomial_tails(trials, binomial_cut, tau(y)).0;
    let fail = |y: f64| binomial_tails(trials, binomial_cut, tau(y)).1;
    let both = |y: f64| {
        let (p, q) = binomial_tails(trials, binomial_cut, tau(y));
        p * q
    };

    let accuracy_table = PassFail {
        pass_pass: density.integrate(&pass, y_cut, 1.0, &splits),
        pass_fail: density.integrate(&fail, y_cut, 1.0, &splits),
        fail_pass: density.integrate(&pass, 0.0, y_cut, &splits),
        fail_fail: density.integrate(&fail, 0.0, y_cut, &splits),
    };
    let off_diagonal = density.integrate(&both, 0.0, 1.0, &splits);
    let consistency_table = PassFail {
        pass_pass: density.integrate(&|y| pass(y) * pass(y), 0.0, 1.0, &splits),
        pass_fail: off_diagonal,
        fail_pass: off_diagonal,
        fail_fail: density.integrate(&|y| fail(y) * fail(y), 0.0, 1.0, &splits),
    };
    if !(accuracy_table.all_finite() && consistency_table.all_finite()) {
        return None;
    }
    Some(LivingstonLewis {
        reliability: r,
        effective_length: etl,
        binomial_length: trials,
        binomial_cut,
        true_cut,
        model: fit.model,
        alpha: fit.alpha,
        beta: fit.beta,
        lower: fit.lower,
        upper: fit.upper,
        accuracy: accuracy_table.agreement().clamp(0.0, 1.0),
        consistency: consistency_table.agreement().clamp(0.0, 1.0),
        chance: consistency_table.chance().clamp(0.0, 1.0),
        kappa: consistency_table.kappa(),
        accuracy_table,
        consistency_table,
    })
}

/// (P(X ≥ c), P(X < c)) for X binomial(n, p), each from its own incomplete beta function so
/// that a small tail keeps its digits.
fn binomial_tails(n: u32, c: u32, p: f64) -> (f64, f64) {
    if c == 0 {
        return (1.0, 0.0);
    }
    if p <= 0.0 {
        return (0.0, 1.0);
    }
    if p >= 1.0 {
        return (1.0, 0.0);
    }
    let (c, rest) = (f64::from(c), f64::from(n - c.min(n)) + 1.0);
    let upper = dist::beta_inc(c, rest, p).clamp(0.0, 1.0);
    let lower = dist::beta_inc(rest, c, 1.0 - p).clamp(0.0, 1.0);
    (upper, lower)
}

/// Lord's method of moments on the effective length n′: each candidate's score is put on that
/// scale, x′ = x·n′/n, and the k-th raw moment of the true proportion is
/// E[x′(x′ − 1)…(x′ − k + 1)] / (n′(n′ − 1)…(n′ − k + 1)). Four moments give the
/// four-parameter beta (Hanson 1991); it is kept when its shapes are positive and
/// 0 ≤ lower < upper ≤ 1. Otherwise, or when n′ ≤ 3, two moments give a beta on [0, 1].
pub(super) fn fit(scores: &Scores, etl: f64) -> Option<Fit> {
    let (m, s2) = true_moments(scores, etl)?;
    let four = (etl > 3.0)
        .then(|| four_parameter(&m, s2))
        .filter(Fit::admissible);
    four.or_else(|| Some(two_parameter(m[0], s2)).filter(Fit::admissible))
}

/// The first four raw moments of the true proportion and its variance (> 0).
pub(super) fn true_moments(scores: &Scores, etl: f64) -> Option<([f64; 4], f64)> {
    let scale = etl / f64::from(scores.n_items());
    let candidates = scores.candidates() as f64;
    let mut factorial = [0.0; 4];
    for (x, count) in scores.levels() {
        let x = x * scale;
        let mut product = 1.0;
        for (k, sum) in factorial.iter_mut().enumerate() {
            product *= x - k as f64;
            *sum += count * product;
        }
    }
    let mut m = [0.0; 4];
    let mut falling = 1.0;
    for k in 0..4 {
        falling *= etl - k as f64;
        m[k] = factorial[k] / candidates / falling;
    }
    let s2 = m[1] - m[0] * m[0];
    (s2 > 0.0).then_some((m, s2))
}

/// The four-parameter beta with mean m₁, variance s2 and the skewness and kurtosis of the
/// raw moments `m` (Hanson 1991, eqs. for the beta's r = α + β and α·β; as `betafunctions`'
/// `Beta.4p.fit`), admissible or not.
pub(super) fn four_parameter(m: &[f64; 4], s2: f64) -> Fit {
    let (m1, m2, m3, m4) = (m[0], m[1], m[2], m[3]);
    let g3 = (m3 - 3.0 * m1 * m2 + 2.0 * m1.powi(3)) / s2.powf(1.5);
    let g4 = (m4 - 4.0 * m1 * m3 + 6.0 * m1 * m1 * m2 - 3.0 * m1.powi(4)) / (s2 * s2);
    let r = 6.0 * (g4 - g3 * g3 - 1.0) / (6.0 + 3.0 * g3 * g3 - 2.0 * g4);
    let root = (1.0
        - 24.0 * (r + 1.0) / ((r + 2.0) * (r + 3.0) * g4 - 3.0 * (r - 6.0) * (r + 1.0)))
        .sqrt();
    let (big, small) = (r / 2.0 * (1.0 + root), r / 2.0 * (1.0 - root));
    // A negative skew puts the larger shape on the left.
    let (alpha, beta) = if g3 < 0.0 { (big, small) } else { (small, big) };
    let spread = (s2 * (alpha + beta + 1.0)).sqrt() / (alpha * beta).sqrt();
    let lower = m1 - alpha * spread;
    let upper = m1 + beta * spread;
    Fit {
        model: BetaModel::FourParameter,
        alpha,
        beta,
        lower,
        upper,
    }
}

/// The beta on [0, 1] with mean m and variance s2: α = m·(m(1 − m) − s2)/s2,
/// β = (1 − m)·(m(1 − m) − s2)/s2.
fn two_parameter(m: f64, s2: f64) -> Fit {
    let common = (m * (1.0 - m) - s2) / s2;
    Fit {
        model: BetaModel::TwoParameter,
        alpha: m * common,
        beta: (1.0 - m) * common,
        lower: 0.0,
        upper: 1.0,
    }
}
