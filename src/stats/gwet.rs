//! Gwet's AC1 (nominal) and AC2 (weighted: linear, quadratic, ordinal) for two or more raters,
//! any of whom may have left a subject unrated, with the standard error over subjects
//! (Gwet 2014, *Handbook of Inter-Rater Reliability*, 4th ed., chapters 2-4; Gwet 2008).
//! The formulas are those of Gwet's `irrCAC` R package (`gwet.ac1.raw`), whose published
//! outputs the tests reproduce.

use serde::Serialize;

use super::dist::f_quantile;
use super::{finite, ratio, Scale};

/// The weights of AC2; `Identity` gives AC1. Categories are the scale's points, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AcWeights {
    Identity,
    /// 1 − |k − l| / (q − 1).
    Linear,
    /// 1 − (k − l)² / (q − 1)².
    Quadratic,
    /// 1 − M_kl / M_max with M_kl = C(|k − l| + 1, 2): ranks only (Gwet 2014, section 3.5).
    Ordinal,
}

impl AcWeights {
    /// The weight of categories k and l out of q ≥ 2.
    pub fn weight(self, k: usize, l: usize, q: usize) -> f64 {
        let d = k.abs_diff(l) as f64;
        let span = q.saturating_sub(1).max(1) as f64;
        match self {
            AcWeights::Identity => f64::from(u8::from(k == l)),
            AcWeights::Linear => 1.0 - d / span,
            AcWeights::Quadratic => 1.0 - (d * d) / (span * span),
            AcWeights::Ordinal => {
                let m = (d + 1.0) * d / 2.0;
                let max = (span + 1.0) * span / 2.0;
                1.0 - m / max
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GwetError {
    #[error("subject {subject}, rater {rater}: the score {score} is not on the scale {scale}")]
    OffScale {
        subject: usize,
        rater: usize,
        score: i64,
        scale: Scale,
    },
}

/// Gwet's coefficient and its parts. `None` where undefined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gwet {
    pub weights: AcWeights,
    /// Subjects with at least one rating: n of Gwet's formulas (unrated subjects are left out).
    pub subjects: usize,
    /// Subjects with two ratings or more: the ones whose agreement is observed.
    pub pairable: usize,
    /// Weighted percent agreement p_a.
    pub pa: Option<f64>,
    /// Chance agreement p_e.
    pub pe: Option<f64>,
    /// AC1 (identity weights) or AC2: (p_a − p_e) / (1 − p_e).
    pub coefficient: Option<f64>,
    /// The standard error over subjects (raters taken as fixed), no finite-population correction.
    pub se: Option<f64>,
    /// coefficient ∓ t(0.975, n − 1)·se, kept within −1 and 1.
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// Gwet's AC1 or AC2 of subjects rated on `scale`: each subject a row of ratings, one per
/// rater, `None` where that rater did not rate it. Rows may differ in length.
pub fn gwet<R: AsRef<[Option<i64>]>>(
    scale: Scale,
    weights: AcWeights,
    subjects: &[R],
) -> Result<Gwet, GwetError> {
    let q = scale.points();
    let w = |k: usize, l: usize| weights.weight(k, l, q);
    let total_weight: f64 = (0..q)
        .flat_map(|k| (0..q).map(move |l| (k, l)))
        .map(|(k, l)| w(k, l))
        .sum();
    let pe_factor = total_weight / (q as f64 * (q as f64 - 1.0));

    // One subject's distinct categories and their counts, reused from row to row.
    let mut seen: Vec<(usize, f64)> = Vec::new();
    // Σ_k r_ik (r*_ik − 1), r*_ik = Σ_l w_kl r_il.
    let agreement = |seen: &[(usize, f64)]| -> f64 {
        seen.iter()
            .map(|&(k, n)| n * (seen.iter().map(|&(l, m)| w(k, l) * m).sum::<f64>() - 1.0))
            .sum()
    };

    // First pass: p_a over pairable subjects and the category shares π_k.
    let mut n = 0usize;
    let mut pairable = 0usize;
    let mut pa_sum = 0.0;
    let mut pi = vec![0.0; q];
    for (i, row) in subjects.iter().enumerate() {
        let r = tally(scale, row.as_ref(), i, &mut seen)?;
        if r == 0.0 {
            continue;
        }
        n += 1;
        for &(k, c) in &seen {
            pi[k] += c / r;
        }
        if r >= 2.0 {
            pairable += 1;
            pa_sum += agreement(&seen) / (r * (r - 1.0));
        }
    }
    let nf = n as f64;
    pi.iter_mut().for_each(|p| *p /= nf.max(1.0));
    let pa = if q >= 2 {
        ratio(pa_sum, pairable as f64)
    } else {
        None
    };
    let pe = (q >= 2 && n > 0)
        .then(|| pe_factor * pi.iter().map(|p| p * (1.0 - p)).sum::<f64>())
        .and_then(finite);
    let coefficient = match (pa, pe) {
        (Some(pa), Some(pe)) => ratio(pa - pe, 1.0 - pe),
        _ => None,
    };

    // Second pass: each subject's linearised contribution (Gwet 2008, eq. 7-8; irrCAC).
    let mut se = None;
    if let (Some(pe), Some(kappa)) = (pe, coefficient) {
        if n >= 2 {
            let mut sum = 0.0;
            for (i, row) in subjects.iter().enumerate() {
                let r = tally(scale, row.as_ref(), i, &mut seen)?;
                if r == 0.0 {
                    continue;
                }
                let (pa_i, pe_r2) = if r >= 2.0 {
                    (agreement(&seen) / (r * (r - 1.0)), pe)
                } else {
                    (0.0, 0.0)
                };
                let ac_i = (nf / pairable as f64) * (pa_i - pe_r2) / (1.0 - pe);
                let pe_i = pe_factor
                    * seen
                        .iter()
                        .map(|&(k, c)| c / r * (1.0 - pi[k]))
                        .sum::<f64>();
                let x = ac_i - 2.0 * (1.0 - kappa) * (pe_i - pe) / (1.0 - pe);
                sum += (x - kappa) * (x - kappa);
            }
            se = finite((sum / (nf * (nf - 1.0))).sqrt());
        }
    }
    let t = (n >= 2)
        .then(|| f_quantile(0.95, 1.0, nf - 1.0))
        .flatten()
        .map(f64::sqrt);
    let (low, high) = match (coefficient, se, t) {
        (Some(c), Some(s), Some(t)) => (Some((c - t * s).max(-1.0)), Some((c + t * s).min(1.0))),
        _ => (None, None),
    };
    Ok(Gwet {
        weights,
        subjects: n,
        pairable,
        pa,
        pe,
        coefficient,
        se,
        low,
        high,
    })
}

/// Counts one subject's ratings by category into `seen`; returns how many ratings it has.
fn tally(
    scale: Scale,
    row: &[Option<i64>],
    subject: usize,
    seen: &mut Vec<(usize, f64)>,
) -> Result<f64, GwetError> {
    seen.clear();
    for (rater, score) in row.iter().enumerate() {
        let Some(score) = *score else { continue };
        let k = scale.index(score).ok_or(GwetError::OffScale {
            subject,
            rater,
            score,
            scale,
        })?;
        match seen.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1.0,
            None => seen.push((k, 1.0)),
        }
    }
    Ok(seen.iter().map(|(_, n)| n).sum())
}

#[cfg(test)]
mod tests;
