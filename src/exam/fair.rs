//! Fair forms: per-candidate Part One forms of equal difficulty at the cut, where the pool is
//! calibrated (every operational item has a Rasch difficulty).
//!
//! θ_cut is the ability whose expected percent correct on the blueprint's whole operational
//! pool is its pass percent; the target is the pool's expected percent there (the pass percent
//! itself, but for the TCC's extreme-score adjustment at 100%). A form is fair when its scored
//! items' expected percent at θ_cut is within the blueprint's `form_tolerance` of the target,
//! so two candidates of the same ability expect the same raw percent whichever form they get
//! (van der Linden 2005 on test assembly to a TCC target).
//!
//! Drawing: plain `form::assemble` from the seed, then from seeds derived from it, until a
//! draw is within tolerance and shows no more seen items than the first: each try keeps every
//! rule of `assemble` (blueprint counts, vignettes, enemies, seen items last, exposure), and
//! the form's `seed` is the seed of the try that was kept, so `assemble(.., form.seed)`
//! rebuilds it exactly. Formulas and the
//! simulation's figures: `docs/statistics.md`, "Fair forms and equating".

use std::collections::BTreeMap;

use serde::Serialize;

use super::form::{assemble, Form, FormError, History, Parts, Pool};
use crate::bank::Blueprint;
use crate::stats::tcc;

/// Draws tried before the closest one is taken; the sample pool needs one or two on average.
pub const MAX_TRIES: u32 = 256;

/// Rasch difficulties (logits, higher = harder) by item id: the bank's calibration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Difficulties(pub BTreeMap<String, f64>);

impl Difficulties {
    /// A difficulty that is NaN counts as none. −∞ (+∞) is an item everyone (no one) answered
    /// correctly in its calibration: P = 1 (0) at every ability (see `tcc::theta_for_score`).
    pub fn get(&self, id: &str) -> Option<f64> {
        self.0.get(id).copied().filter(|b| !b.is_nan())
    }
}

impl FromIterator<(String, f64)> for Difficulties {
    fn from_iter<I: IntoIterator<Item = (String, f64)>>(iter: I) -> Self {
        Difficulties(iter.into_iter().collect())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FairError {
    /// Callers fall back to plain `assemble` (and raw scores).
    #[error("the pool is not calibrated: {} operational item(s) have no difficulty: {}", .missing.len(), .missing.join(", "))]
    Uncalibrated { missing: Vec<String> },
    #[error("blueprint {0} has no operational item to draw")]
    EmptyPool(String),
    #[error(transparent)]
    Form(#[from] FormError),
}

/// Where fairness is judged: θ_cut and the expected percent a form should have there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Target {
    pub theta_cut: f64,
    pub percent: f64,
    pub tolerance: f64,
}

impl Target {
    pub fn within(&self, percent: f64) -> bool {
        (percent - self.percent).abs() <= self.tolerance + 1e-9
    }
}

/// The operational pool's difficulties, in id order; `Uncalibrated` names every item without
/// one.
pub fn pool_difficulties(
    bp: &Blueprint,
    pool: &Pool,
    difficulties: &Difficulties,
) -> Result<Vec<f64>, FairError> {
    let items = pool.operational(bp);
    if items.is_empty() {
        return Err(FairError::EmptyPool(bp.id.clone()));
    }
    let missing: Vec<String> = items
        .iter()
        .filter(|i| difficulties.get(&i.id).is_none())
        .map(|i| i.id.clone())
        .collect();
    if !missing.is_empty() {
        return Err(FairError::Uncalibrated { missing });
    }
    Ok(items
        .iter()
        .filter_map(|i| difficulties.get(&i.id))
        .collect())
}

/// θ_cut and the target percent of `bp` on the calibrated pool.
pub fn target(
    bp: &Blueprint,
    pool: &Pool,
    difficulties: &Difficulties,
) -> Result<Target, FairError> {
    let bs = pool_difficulties(bp, pool, difficulties)?;
    let cut_score = f64::from(bp.part_one.pass_percent) / 100.0 * bs.len() as f64;
    let empty = || FairError::EmptyPool(bp.id.clone());
    let theta_cut = tcc::theta_for_score(cut_score, &bs).ok_or_else(empty)?;
    let percent = tcc::expected_percent(theta_cut, &bs).ok_or_else(empty)?;
    Ok(Target {
        theta_cut,
        percent,
        tolerance: bp.part_one.form_tolerance.points(),
    })
}

/// The difficulties of a form's scored items in form order; None if one has none.
pub fn form_difficulties(form: &Form, difficulties: &Difficulties) -> Option<Vec<f64>> {
    form.part_one
        .iter()
        .filter(|e| e.scored)
        .map(|e| difficulties.get(&e.item_id))
        .collect()
}

/// A form's expected percent correct on its scored items at `theta`; None without scored
/// items or with an uncalibrated one.
pub fn expected_percent(form: &Form, difficulties: &Difficulties, theta: f64) -> Option<f64> {
    tcc::expected_percent(theta, &form_difficulties(form, difficulties)?)
}

/// A drawn fair form and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct FairForm {
    pub form: Form,
    /// The form's expected percent correct at θ_cut.
    pub expected_percent: f64,
    pub target: Target,
    /// False only when no try in `MAX_TRIES` was within tolerance: the form is then the
    /// closest one drawn (among those showing the fewest seen items), and the sitting's report
    /// shows it.
    pub within: bool,
    pub tries: u32,
}

/// The seed of try `k` (try 0 is the seed itself): splitmix64 of seed and k, so tries of
/// nearby seeds do not overlap.
pub fn derived_seed(seed: u64, k: u32) -> u64 {
    if k == 0 {
        return seed;
    }
    let mut z = seed ^ u64::from(k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Draws a fair form: the first try within tolerance of the target that shows no more items
/// the candidate has seen than the plain draw from `seed` would; else, of `MAX_TRIES`, the one
/// with the fewest seen items and then the closest. Deterministic from `seed`. A form without
/// Part One is drawn plainly.
pub fn assemble_fair(
    bp: &Blueprint,
    pool: &Pool,
    history: &History,
    parts: Parts,
    seed: u64,
    difficulties: &Difficulties,
) -> Result<FairForm, FairError> {
    let target = target(bp, pool, difficulties)?;
    // A try is ranked by the items it shows again, then by how far it is outside the
    // tolerance; it is taken at once when within tolerance and showing no more seen items
    // than the plain draw from `seed` (try 0) does.
    let mut best: Option<(FairForm, (usize, f64))> = None;
    let mut plain_seen = 0;
    for k in 0..MAX_TRIES {
        let form = assemble(bp, pool, history, parts, derived_seed(seed, k))?;
        let seen = form
            .part_one
            .iter()
            .filter(|e| history.seen.contains(&e.item_id))
            .count();
        if k == 0 {
            plain_seen = seen;
        }
        let Some(percent) = expected_percent(&form, difficulties, target.theta_cut) else {
            // No Part One (or, impossibly, an uncalibrated scored item): nothing to balance.
            return Ok(FairForm {
                expected_percent: target.percent,
                form,
                target,
                within: true,
                tries: k + 1,
            });
        };
        let within = target.within(percent);
        let excess = if within {
            0.0
        } else {
            (percent - target.percent).abs() - target.tolerance
        };
        let rank = (seen, excess);
        let better = best
            .as_ref()
            .is_none_or(|(_, r)| rank.0 < r.0 || (rank.0 == r.0 && rank.1 < r.1));
        if better {
            let fair = FairForm {
                form,
                expected_percent: percent,
                target,
                within,
                tries: k + 1,
            };
            if within && seen <= plain_seen {
                return Ok(fair);
            }
            best = Some((fair, rank));
        }
    }
    let (mut best, _) = best.expect("MAX_TRIES is at least 1");
    best.tries = MAX_TRIES;
    Ok(best)
}

/// The spread of forms' difficulty: their expected percents at θ_cut.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub forms: usize,
    pub mean: f64,
    /// Population SD (the forms are all there are); 0 for one form.
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// None for no values or a value that is not finite.
    pub fn of(values: &[f64]) -> Option<Spread> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        Some(Spread {
            forms: values.len(),
            mean,
            sd: var.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }

    pub fn range(&self) -> f64 {
        self.max - self.min
    }
}

/// The spread of `forms`' expected percents at θ_cut; forms without a calibrated Part One are
/// left out (None if that leaves none).
pub fn spread(forms: &[Form], difficulties: &Difficulties, target: &Target) -> Option<Spread> {
    let values: Vec<f64> = forms
        .iter()
        .filter_map(|f| expected_percent(f, difficulties, target.theta_cut))
        .collect();
    Spread::of(&values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_by_hand() {
        let s = Spread::of(&[78.0, 80.0, 82.0, 80.0]).unwrap();
        assert_eq!(
            (s.forms, s.mean, s.min, s.max, s.range()),
            (4, 80.0, 78.0, 82.0, 4.0)
        );
        // Population SD: sqrt((4 + 0 + 4 + 0) / 4) = sqrt 2.
        assert!((s.sd - 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[1.0, f64::NAN]), None);
        assert_eq!(Spread::of(&[79.5]).unwrap().sd, 0.0);
    }

    #[test]
    fn derived_seeds_differ_and_start_from_the_seed() {
        assert_eq!(derived_seed(42, 0), 42);
        let seeds: std::collections::BTreeSet<u64> =
            (0..1000).map(|k| derived_seed(42, k)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_ne!(derived_seed(42, 1), derived_seed(43, 1));
    }

    #[test]
    fn a_missing_or_broken_difficulty_is_none() {
        let d: Difficulties = [("A".to_string(), 0.5), ("B".to_string(), f64::NAN)]
            .into_iter()
            .collect();
        assert_eq!(d.get("A"), Some(0.5));
        assert_eq!(d.get("B"), None);
        assert_eq!(d.get("C"), None);
        let d: Difficulties = [("D".to_string(), f64::NEG_INFINITY)].into_iter().collect();
        assert_eq!(d.get("D"), Some(f64::NEG_INFINITY), "everyone right: kept");
    }
}
