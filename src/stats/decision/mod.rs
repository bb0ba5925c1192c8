//! Decision consistency and accuracy of a pass/fail cut, from one administration:
//!
//! - [`subkoviak`]: Subkoviak's (1976) agreement p₀ and kappa, binomial errors around
//!   Kelley-regressed true proportions with KR-21 as the reliability.
//! - [`livingston_lewis`]: Livingston & Lewis's (1995) accuracy and consistency: an effective
//!   test length from the reliability, a four-parameter beta true-score distribution fitted by
//!   Lord's (1965) method of moments as Hanson (1991) gives it (two parameters when the four
//!   are inadmissible), binomial errors; with the 2×2 tables.
//! - [`rudner`]: Rudner's (2001, 2005) IRT accuracy from measures and their standard errors,
//!   and the consistency of Lathrop's `cacIRT` on the same model.
//! - [`csem_binomial`], [`rasch_at_cut`], [`csem_at_cut`]: the conditional standard error of
//!   measurement at the cut, Lord's binomial one and the Rasch one at the cut's measure.
//!
//! A pass is a score at or above the cut. Everything undefined is `None`, never NaN: every
//! `f64` in a result is finite. Formulas, conventions and sources: `docs/statistics.md`.

mod csem;
mod livingston_lewis;
mod quadrature;
mod rudner;
mod subkoviak;

use serde::Serialize;

pub use csem::{
    csem_at_cut, csem_binomial, rasch_at_cut, rasch_measure, rasch_se, CsemAtCut, RaschCut,
};
pub use livingston_lewis::{livingston_lewis, BetaModel, LivingstonLewis};
pub use rudner::{rudner, Measure, Rudner};
pub use subkoviak::{subkoviak, Subkoviak};

use super::ratio;

/// The longest form these statistics take: the score distribution is held as a table.
pub const MAX_ITEMS: u32 = 100_000;

/// The raw scores of one form length: how many candidates had each total from 0 to n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scores {
    /// `counts[x]`: candidates with total x; n + 1 entries.
    counts: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoresError {
    #[error("a form needs at least one item")]
    NoItems,
    #[error(
        "a form of {n_items} items is longer than the {} these statistics take",
        MAX_ITEMS
    )]
    TooLong { n_items: u64 },
    #[error("a score of {score} on a form of {n_items} items")]
    AboveLength { score: u32, n_items: u32 },
}

impl Scores {
    /// The totals of candidates on forms of `n_items` items.
    pub fn new(n_items: u32, totals: &[u32]) -> Result<Self, ScoresError> {
        let mut counts = Self::empty(u64::from(n_items))?;
        for &score in totals {
            match counts.get_mut(score as usize) {
                Some(c) => *c += 1,
                None => return Err(ScoresError::AboveLength { score, n_items }),
            }
        }
        Ok(Self { counts })
    }

    /// From a score distribution: `counts[x]` candidates had total x, for x from 0 to the
    /// form's length `counts.len() − 1` (as `ScoreStats::distribution` holds it).
    pub fn from_distribution(counts: &[u64]) -> Result<Self, ScoresError> {
        let n = (counts.len() as u64).saturating_sub(1);
        Self::empty(n)?;
        Ok(Self {
            counts: counts.to_vec(),
        })
    }

    fn empty(n_items: u64) -> Result<Vec<u64>, ScoresError> {
        if n_items == 0 {
            Err(ScoresError::NoItems)
        } else if n_items > u64::from(MAX_ITEMS) {
            Err(ScoresError::TooLong { n_items })
        } else {
            Ok(vec![0; n_items as usize + 1])
        }
    }

    /// The number of items on the form, n.
    pub fn n_items(&self) -> u32 {
        (self.counts.len() - 1) as u32
    }

    /// How many candidates had each total from 0 to n.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    pub fn candidates(&self) -> u64 {
        saturating_sum(&self.counts)
    }

    /// (score, count) of the scores some candidate had.
    fn levels(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(x, &c)| (x as f64, c as f64))
    }

    pub fn mean(&self) -> Option<f64> {
        let sum: f64 = self.levels().map(|(x, c)| x * c).sum();
        ratio(sum, self.candidates() as f64)
    }

    /// Σ(x − mean)², with whole-number sums: (N·Σx² − (Σx)²)/N.
    fn sum_squares(&self) -> Option<f64> {
        let (mut n, mut sx, mut sxx) = (0.0, 0.0, 0.0);
        for (x, c) in self.levels() {
            n += c;
            sx += x * c;
            sxx += x * x * c;
        }
        ratio((n * sxx - sx * sx).max(0.0), n)
    }

    /// The variance of the totals with divisor N (as KR-20 and KR-21 use it).
    pub fn variance(&self) -> Option<f64> {
        ratio(self.sum_squares()?, self.candidates() as f64)
    }

    /// The variance of the totals with divisor N − 1.
    pub fn sample_variance(&self) -> Option<f64> {
        ratio(
            self.sum_squares()?,
            self.candidates().checked_sub(1)? as f64,
        )
    }

    /// KR-21 = n/(n − 1)·(1 − mean·(n − mean)/(n·σ²)), σ² with divisor N, as
    /// `stats::items` computes it.
    pub fn kr21(&self) -> Option<f64> {
        let n = f64::from(self.n_items());
        let (mean, var) = (self.mean()?, self.variance()?);
        let k = ratio(n, n - 1.0)?;
        super::finite(k * (1.0 - ratio(mean * (n - mean), n * var)?))
    }

    /// The share of candidates at or above the cut.
    pub fn pass_rate(&self, cut: u32) -> Option<f64> {
        let pass = saturating_sum(self.counts.get(cut as usize..).unwrap_or(&[]));
        ratio(pass as f64, self.candidates() as f64)
    }
}

/// Σ counts, without overflow on counts no sitting has.
fn saturating_sum(counts: &[u64]) -> u64 {
    counts.iter().fold(0, |sum, &c| sum.saturating_add(c))
}

/// A 2×2 table of classifications as proportions of candidates. For accuracy the first word
/// is the true classification and the second the observed one; for consistency they are the
/// classifications on two parallel forms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PassFail {
    pub pass_pass: f64,
    pub pass_fail: f64,
    pub fail_pass: f64,
    pub fail_fail: f64,
}

impl PassFail {
    /// The share classified alike: pass_pass + fail_fail.
    pub fn agreement(&self) -> f64 {
        self.pass_pass + self.fail_fail
    }

    /// Cohen's chance agreement from the margins: p₁·q₁ + p₂·q₂ with p the first
    /// classification's pass share and q the second's.
    pub fn chance(&self) -> f64 {
        let first = self.pass_pass + self.pass_fail;
        let second = self.pass_pass + self.fail_pass;
        first * second + (1.0 - first) * (1.0 - second)
    }

    /// (agreement − chance)/(1 − chance); `None` when chance agreement is (all but) 1.
    pub fn kappa(&self) -> Option<f64> {
        kappa(self.agreement(), self.chance())
    }

    fn all_finite(&self) -> bool {
        [
            self.pass_pass,
            self.pass_fail,
            self.fail_pass,
            self.fail_fail,
        ]
        .iter()
        .all(|x| x.is_finite())
    }
}

/// The decision statistics of a form at a raw cut, as `imh-exam analyze items --cut` prints
/// them. The full results are in [`subkoviak`] and [`livingston_lewis`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionReport {
    /// The raw cut: a pass is a total at or above it.
    pub cut: u32,
    /// The form's length n.
    pub items: u32,
    pub candidates: u64,
    /// The share of candidates at or above the cut.
    pub pass_rate: Option<f64>,
    /// The reliability given for Livingston & Lewis (the form's KR-20 in `analyze`).
    pub reliability: Option<f64>,
    pub kr21: Option<f64>,
    pub subkoviak_p0: Option<f64>,
    pub subkoviak_kappa: Option<f64>,
    pub ll_accuracy: Option<f64>,
    pub ll_consistency: Option<f64>,
    pub ll_kappa: Option<f64>,
    /// True fail, observed pass: the share of candidates passed in error.
    pub ll_false_pass: Option<f64>,
    /// True pass, observed fail.
    pub ll_false_fail: Option<f64>,
    pub ll_effective_length: Option<f64>,
    /// Which beta distribution was fitted to the true scores.
    pub ll_model: Option<BetaModel>,
    /// Lord's binomial CSEM at the cut, √(c(n − c)/(n − 1)).
    pub csem_binomial_at_cut: Option<f64>,
}

/// The decision statistics of `scores` at the raw `cut` (0 to n; a cut above n gives `None`
/// everywhere but the counts), Livingston & Lewis with `reliability`.
pub fn decision(scores: &Scores, cut: u32, reliability: Option<f64>) -> DecisionReport {
    let s = subkoviak(scores, cut);
    let ll = reliability.and_then(|r| livingston_lewis(scores, cut, r));
    let valid = cut <= scores.n_items();
    DecisionReport {
        cut,
        items: scores.n_items(),
        candidates: scores.candidates(),
        pass_rate: scores.pass_rate(cut).filter(|_| valid),
        reliability: reliability.and_then(super::finite),
        kr21: scores.kr21(),
        subkoviak_p0: s.as_ref().map(|s| s.p0),
        subkoviak_kappa: s.as_ref().and_then(|s| s.kappa),
        ll_accuracy: ll.as_ref().map(|l| l.accuracy),
        ll_consistency: ll.as_ref().map(|l| l.consistency),
        ll_kappa: ll.as_ref().and_then(|l| l.kappa),
        ll_false_pass: ll.as_ref().map(|l| l.accuracy_table.fail_pass),
        ll_false_fail: ll.as_ref().map(|l| l.accuracy_table.pass_fail),
        ll_effective_length: ll.as_ref().map(|l| l.effective_length),
        ll_model: ll.as_ref().map(|l| l.model),
        csem_binomial_at_cut: csem_binomial(scores.n_items(), f64::from(cut)),
    }
}

/// Chance agreement closer to 1 than this leaves kappa's denominator to rounding (the tables
/// are computed to about 1e-12): kappa is then undefined.
const KAPPA_MIN_DENOMINATOR: f64 = 1e-9;

/// Cohen's (agreement − chance)/(1 − chance), `None` when 1 − chance < 1e-9.
fn kappa(agreement: f64, chance: f64) -> Option<f64> {
    let room = 1.0 - chance;
    if room < KAPPA_MIN_DENOMINATOR {
        None
    } else {
        super::finite((agreement - chance) / room)
    }
}

/// Φ(z), the standard normal distribution function.
fn normal_cdf(z: f64) -> f64 {
    0.5 * super::dist::erfc(-z / std::f64::consts::SQRT_2)
}

/// P(X ≥ c) for X binomial with n trials and success probability p: I_p(c, n − c + 1).
fn binomial_upper(n: u32, c: u32, p: f64) -> f64 {
    if c == 0 || p >= 1.0 {
        return if c <= n { 1.0 } else { 0.0 };
    }
    if c > n || p <= 0.0 {
        return 0.0;
    }
    super::dist::beta_inc(f64::from(c), f64::from(n - c + 1), p).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod simulation;
