//! Psychometric statistics, pure: no I/O, no unsafe, no panic on any input.
//!
//! - [`items`]: classical item analysis of a multiple-choice sitting, one fixed form or forms
//!   drawn from a pool (difficulty, point-biserials, upper-lower discrimination, alpha if
//!   deleted, distractors, flags; KR-20, KR-21, alpha with Feldt's interval, SEM, the score
//!   distribution, sub-scores by domain).
//! - [`kappa`]: two readings in a confusion matrix (agreement, Cohen's kappa unweighted and
//!   weighted with its standard error, ICC) and Fleiss' kappa.
//! - [`icc`]: Shrout & Fleiss intraclass correlations of a targets × judges table.
//! - [`krippendorff`]: Krippendorff's alpha from a coincidence matrix.
//! - [`agreement`]: rater agreement on rubric scores, overall and by rater, item, pair and day.
//! - [`decision`]: decision consistency and accuracy at a cut (Subkoviak; Livingston & Lewis;
//!   Rudner) and the conditional standard error of measurement there.
//! - [`rasch`]: the dichotomous Rasch model: item difficulties by conditional maximum
//!   likelihood with missing-by-design forms and anchors, Warm's person estimates and the
//!   raw-score table of each form, infit and outfit.
//! - [`dif`]: Mantel-Haenszel differential item functioning and its ETS class.
//! - [`tcc`]: the Rasch test characteristic curve and its inverse (fair forms, equating).
//! - [`dif_poly`]: polytomous DIF (Mantel's test, the standardised mean difference, ETS's
//!   polytomous classes).
//! - [`facets`]: many-facet Rasch measurement (candidates × questions × raters, rating scale or
//!   partial credit) as Facets estimates it; [`facets_bias`]: its rater × group bias table.
//! - [`gtheory`]: the p × r × q G study and its D study; [`gwet`]: Gwet's AC1 and AC2.
//! - [`part_two`]: Part Two's live readings through those: rater measures and flags, bias,
//!   G studies per vignette pooled into the committee's D table.
//! - [`standard_setting`]: a modified-Angoff (or Yes/No) panel's cut and its standard error,
//!   panelists' consistency and misplacement, the cut on the Rasch and equated scales and
//!   moved by k SEs, a cut's impact, Hofstee's compromise and its failure curve.
//! - [`dist`]: erfc, log-gamma, the incomplete beta function, F quantiles.
//!
//! An undefined statistic (a zero denominator: no candidates, no variance, one category) is
//! `None`, never NaN or infinite: every `f64` in a result is finite. Every statistic takes one
//! or two passes over the data. Formulas, conventions and sources: `docs/statistics.md`.

pub mod agreement;
pub mod decision;
pub mod dif;
pub mod dif_poly;
pub mod dist;
pub mod facets;
pub mod facets_bias;
pub mod gtheory;
pub mod gwet;
pub mod icc;
pub mod items;
pub mod kappa;
pub mod krippendorff;
pub mod part_two;
pub mod rasch;
pub mod standard_setting;
pub mod tcc;

use std::fmt;

pub use agreement::{agreement, AgreementReport, Rating};
pub use dif::{dif, mantel_haenszel, DifReport, EtsClass, Group, MantelHaenszel, Stratum};
pub use items::{item_analysis, Cell, ItemAnalysis, ItemKey, Responses};
pub use kappa::{fleiss_kappa, Confusion, PairStats};
pub use krippendorff::{krippendorff_alpha, Coincidence, Metric};

/// An ordinal rubric scale `min..=max`: every whole score in it is a category, used or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Scale {
    #[serde(rename = "min_score")]
    min: i64,
    #[serde(rename = "max_score")]
    max: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScaleError {
    #[error("the lowest score {min} is greater than the highest score {max}")]
    Reversed { min: i64, max: i64 },
    #[error(
        "a scale from {min} to {max} has more than {} points",
        Scale::MAX_POINTS
    )]
    TooWide { min: i64, max: i64 },
}

impl Scale {
    /// The most points a scale may have (a rubric from 0 to 100), which bounds every table.
    pub const MAX_POINTS: usize = 101;

    pub fn new(min: i64, max: i64) -> Result<Self, ScaleError> {
        if min > max {
            return Err(ScaleError::Reversed { min, max });
        }
        if (max as i128 - min as i128) >= Self::MAX_POINTS as i128 {
            return Err(ScaleError::TooWide { min, max });
        }
        Ok(Self { min, max })
    }

    pub fn min(&self) -> i64 {
        self.min
    }

    pub fn max(&self) -> i64 {
        self.max
    }

    /// How many categories: max − min + 1.
    pub fn points(&self) -> usize {
        (self.max - self.min) as usize + 1
    }

    /// The category of a score, 0 for `min`; `None` off the scale.
    pub fn index(&self, score: i64) -> Option<usize> {
        (self.min..=self.max)
            .contains(&score)
            .then(|| (score - self.min) as usize)
    }

    /// The score of a category (for an index below `points()`).
    pub fn value(&self, index: usize) -> i64 {
        self.min.saturating_add(index.min(Self::MAX_POINTS) as i64)
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to {}", self.min, self.max)
    }
}

/// `Some(x)` when x is finite: the one place where a 0/0 or x/0 becomes "undefined".
pub(crate) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// `num / den`, `None` when the denominator is zero or the quotient not finite.
pub(crate) fn ratio(num: f64, den: f64) -> Option<f64> {
    if den == 0.0 {
        None
    } else {
        finite(num / den)
    }
}

/// Pearson's r from the sums of n pairs: (n·Σxy − Σx·Σy) / √((n·Σx² − (Σx)²)(n·Σy² − (Σy)²)).
/// With whole-number data the sums, and so the products up to 2⁵³, are exact in f64.
pub(crate) fn pearson(n: f64, sx: f64, sy: f64, sxx: f64, syy: f64, sxy: f64) -> Option<f64> {
    let vx = n * sxx - sx * sx;
    let vy = n * syy - sy * sy;
    if vx <= 0.0 || vy <= 0.0 {
        return None;
    }
    let r = (n * sxy - sx * sy) / (vx.sqrt() * vy.sqrt());
    finite(r.clamp(-1.0, 1.0))
}

/// A hasher for integer ids: the splitmix64 finaliser, much faster than SipHash for the
/// million-rating tables, and ids are not chosen by an adversary.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let mut z = (self.0 ^ n).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        self.0 = z ^ (z >> 31);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type IdMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scale_keeps_every_point() {
        let s = Scale::new(0, 3).unwrap();
        assert_eq!(s.points(), 4);
        assert_eq!(s.index(0), Some(0));
        assert_eq!(s.index(3), Some(3));
        assert_eq!(s.index(4), None);
        assert_eq!(s.index(-1), None);
        assert_eq!(s.value(2), 2);
        assert_eq!(Scale::new(2, 2).unwrap().points(), 1);
        assert_eq!(
            Scale::new(3, 0),
            Err(ScaleError::Reversed { min: 3, max: 0 })
        );
        assert!(Scale::new(0, 100).is_ok());
        assert!(Scale::new(0, 101).is_err());
        assert!(Scale::new(i64::MIN, i64::MAX).is_err());
    }

    #[test]
    fn pearson_is_none_without_variance() {
        assert_eq!(pearson(3.0, 3.0, 6.0, 3.0, 14.0, 6.0), None);
        let r = pearson(3.0, 6.0, 6.0, 14.0, 14.0, 14.0).unwrap();
        assert_eq!(r, 1.0);
    }
}
