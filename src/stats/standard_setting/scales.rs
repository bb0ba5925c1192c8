//! The panel's raw cut on the other scales the exam reports: the percent of the items'
//! maximum, the Rasch ability θ_cut whose expected score on the rated items is the cut, and
//! the equated percent, the expected percent correct on the operational pool at θ_cut (the
//! scale of `scoring::equating`); and the cut moved by a chosen number of standard errors.

use super::super::finite;
use super::AngoffCut;
use crate::stats::tcc;

/// A raw cut read on every scale there is data for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutScales {
    /// The cut as given, on the raw score scale of the rated items.
    pub raw: f64,
    /// The items' maximum score.
    pub max: f64,
    /// 100 · raw / max; `None` for a maximum of 0.
    pub percent: Option<f64>,
    /// θ_cut in logits, τ_items(θ_cut) = raw (`tcc::theta_for_score`, with its extreme-score
    /// adjustment); `None` without the items' difficulties.
    pub theta: Option<f64>,
    /// The expected percent correct on the operational pool at θ_cut: the cut on the equated
    /// scale; `None` without θ_cut or the pool's difficulties.
    pub pool_percent: Option<f64>,
}

/// `raw` (a cut on items of total `max`) on the percent, Rasch and equated scales. The Rasch
/// scale needs every rated item's `difficulties` (dichotomous items, logits) and the equated
/// one the operational `pool`'s too; a `None` or empty list leaves those scales out.
pub fn cut_on_scales(
    raw: f64,
    max: f64,
    difficulties: Option<&[f64]>,
    pool: Option<&[f64]>,
) -> CutScales {
    let percent = (max > 0.0).then(|| finite(100.0 * raw / max)).flatten();
    let theta = difficulties
        .filter(|b| !b.is_empty())
        .and_then(|b| tcc::theta_for_score(raw, b));
    let pool_percent = theta
        .zip(pool)
        .and_then(|(t, pool)| tcc::expected_percent(t, pool))
        .and_then(finite);
    CutScales {
        raw,
        max,
        percent,
        theta,
        pool_percent,
    }
}

/// The panel's cut moved by `k` standard errors (k chosen by the committee: negative lowers
/// it, to fail fewer minimally competent candidates; positive raises it, to pass fewer who are
/// not), kept within 0..`max`. `None` without a standard error (one panelist) or for a `k`
/// that is not a finite number.
pub fn adjusted_cut(cut: &AngoffCut, k: f64, max: f64) -> Option<f64> {
    if !k.is_finite() {
        return None;
    }
    let se = cut.se?;
    finite((cut.cut + k * se).clamp(0.0, max.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::super::angoff;
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_cut_on_every_scale_by_hand() {
        // Items at −1, 0, 1: τ(1) = 2.1118556566078874, so that raw cut is θ = 1.
        let b = [-1.0, 0.0, 1.0];
        let raw = 2.1118556566078874;
        let s = cut_on_scales(raw, 3.0, Some(&b), Some(&[0.0, 0.0]));
        assert!(close(s.percent.unwrap(), 100.0 * raw / 3.0), "{s:?}");
        assert!(close(s.theta.unwrap(), 1.0), "{s:?}");
        // Two pool items at 0: P(1, 0) = .7310585786300049.
        assert!(close(s.pool_percent.unwrap(), 73.1058578630005), "{s:?}");
        // On a pool equal to the rated items the equated percent is the raw percent.
        let same = cut_on_scales(raw, 3.0, Some(&b), Some(&b));
        assert!(close(same.pool_percent.unwrap(), same.percent.unwrap()));
        // A harder pool: the same standard is a lower percent on it.
        let hard = cut_on_scales(raw, 3.0, Some(&b), Some(&[0.5, 1.0, 1.5]));
        assert!(hard.pool_percent.unwrap() < same.percent.unwrap());
        // Without difficulties only the percent; without a pool no equated percent.
        let plain = cut_on_scales(6.0, 10.0, None, Some(&b));
        assert_eq!(
            (plain.percent, plain.theta, plain.pool_percent),
            (Some(60.0), None, None)
        );
        let no_pool = cut_on_scales(raw, 3.0, Some(&b), None);
        assert!(no_pool.theta.is_some() && no_pool.pool_percent.is_none());
        assert_eq!(cut_on_scales(0.0, 0.0, Some(&[]), None).percent, None);
    }

    #[test]
    fn the_cut_moved_by_standard_errors() {
        // Cuts 2.6, 2.4, 2.8: SE 0.2/√3.
        let a = angoff(
            &[
                vec![0.6, 0.7, 0.5, 0.8],
                vec![0.5, 0.6, 0.6, 0.7],
                vec![0.7, 0.8, 0.4, 0.9],
            ],
            &[1.0; 4],
        )
        .unwrap();
        let se = 0.2 / 3f64.sqrt();
        assert!(close(adjusted_cut(&a, 1.0, 4.0).unwrap(), 2.6 + se));
        assert!(close(adjusted_cut(&a, -2.0, 4.0).unwrap(), 2.6 - 2.0 * se));
        assert!(close(adjusted_cut(&a, 0.0, 4.0).unwrap(), 2.6));
        // Never past the items' maximum or below 0.
        assert!(close(adjusted_cut(&a, 100.0, 4.0).unwrap(), 4.0));
        assert!(close(adjusted_cut(&a, -100.0, 4.0).unwrap(), 0.0));
        assert_eq!(adjusted_cut(&a, f64::NAN, 4.0), None);
        let one = angoff(&[vec![0.5, 0.5]], &[1.0; 2]).unwrap();
        assert_eq!(adjusted_cut(&one, 1.0, 2.0), None);
    }
}
