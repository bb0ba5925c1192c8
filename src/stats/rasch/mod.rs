//! The dichotomous Rasch model, P(x = 1 | θ, b) = 1/(1 + exp(b − θ)), higher b harder:
//!
//! - item difficulties by conditional maximum likelihood (CML, as eRm's `RM`), with each
//!   person's own set of presented items (missing by design), normalised to sum zero over the
//!   estimated items unless some items are anchored, and standard errors from the inverse of the
//!   CML information matrix ([`calibrate`]);
//! - Warm's (1989) weighted likelihood estimates (WLE) of every person and the raw-score table of
//!   every form, 0 and the maximum included ([`wle`]);
//! - infit and outfit mean squares and their Wilson-Hilferty z, as eRm's `itemfit` computes them
//!   (with maximum-likelihood person measures, persons with a zero or perfect score left out).
//!
//! [`analyse`] does all three; [`calibrate`] only the first.
//!
//! Items no one was presented, or that every or no presented person (with conditional
//! information) answered right, and persons with a zero or perfect score on their form, carry no
//! conditional information: they are left out of the estimation and reported. Every `f64` in a
//! result is finite. Formulas, conventions and sources: `docs/statistics.md`.

mod cml;
mod esf;
mod fit;
pub mod link;
mod wle;

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use fit::ItemFit;
pub use wle::{ml_measure, wle, Measure};

/// The most items a calibration takes: the information matrix is items × items.
pub const MAX_ITEMS: usize = 1_000;

/// Scored responses: a row per person, a cell per item, `None` where the item was not presented.
#[derive(Debug, Clone, Default)]
pub struct RaschResponses {
    n_items: usize,
    /// Person-major; 0 wrong, 1 right, 2 not presented.
    cells: Vec<u8>,
}

const NOT_PRESENTED: u8 = 2;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RaschError {
    #[error("a calibration needs at least one item")]
    NoItems,
    #[error("{n} items are more than the {} a calibration takes", MAX_ITEMS)]
    TooManyItems { n: usize },
    #[error("a row has {found} cells where there are {expected} items")]
    RowLength { expected: usize, found: usize },
    #[error("item {item} is anchored but there are only {n_items} items")]
    AnchorOutOfRange { item: usize, n_items: usize },
    #[error("item {item} is anchored twice")]
    DuplicateAnchor { item: usize },
    #[error("the anchor of item {item} is not a finite number")]
    AnchorNotFinite { item: usize },
    #[error("no person has a score between zero and the maximum on two or more calibrated items, so there is nothing to estimate")]
    NoInformation,
    #[error("the items fall into {components} groups that no person links (no common items){}", if *.anchored { ", and a group has no anchor" } else { "" })]
    NotConnected { components: usize, anchored: bool },
    #[error("the estimation did not converge in {iterations} iterations")]
    NoConvergence { iterations: u32 },
    #[error("the estimation left the finite numbers (the data may be nearly disconnected)")]
    NotFinite,
}

impl RaschResponses {
    pub fn new(n_items: usize) -> Result<Self, RaschError> {
        if n_items == 0 {
            return Err(RaschError::NoItems);
        }
        if n_items > MAX_ITEMS {
            return Err(RaschError::TooManyItems { n: n_items });
        }
        Ok(Self {
            n_items,
            cells: Vec::new(),
        })
    }

    /// One person's row: `Some(right)` for a presented item, `None` for one not presented.
    pub fn push(&mut self, row: &[Option<bool>]) -> Result<(), RaschError> {
        if row.len() != self.n_items {
            return Err(RaschError::RowLength {
                expected: self.n_items,
                found: row.len(),
            });
        }
        self.cells.extend(row.iter().map(|c| match c {
            None => NOT_PRESENTED,
            Some(true) => 1,
            Some(false) => 0,
        }));
        Ok(())
    }

    pub fn n_items(&self) -> usize {
        self.n_items
    }

    pub fn persons(&self) -> usize {
        self.cells.len() / self.n_items
    }

    fn row(&self, person: usize) -> &[u8] {
        &self.cells[person * self.n_items..(person + 1) * self.n_items]
    }
}

/// How a calibration is tied to a scale and which items count in no score.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Items fixed at given difficulties: (item index, difficulty). With any anchor there is
    /// no sum-zero normalisation; the other items land on the anchors' scale.
    pub anchors: Vec<(usize, f64)>,
    /// Items calibrated with everyone but flagged as counting in no score.
    pub pretest: Vec<usize>,
}

/// Why an item has no estimated difficulty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// No person was presented the item.
    NotPresented,
    /// Every person presented it (among those with conditional information) answered right.
    AllCorrect,
    /// No person presented it (among those with conditional information) answered right.
    NoneCorrect,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::NotPresented => "not_presented",
            Exclusion::AllCorrect => "all_correct",
            Exclusion::NoneCorrect => "none_correct",
        }
    }
}

/// One item's calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemCalibration {
    /// The difficulty in logits (an anchor's given value); `None` for an excluded item.
    pub difficulty: Option<f64>,
    /// Its standard error; `None` for an anchored or excluded item.
    pub se: Option<f64>,
    pub anchored: bool,
    pub pretest: bool,
    pub excluded: Option<Exclusion>,
    /// Persons presented the item, and how many of them answered it right.
    pub presented: u64,
    pub correct: u64,
}

/// The result of [`calibrate`]: the items' difficulties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub items: Vec<ItemCalibration>,
    /// Persons in the estimation, and those left out with a zero or perfect score.
    pub persons_estimated: u64,
    pub persons_extreme: u64,
    /// The conditional log-likelihood at the estimates, and the Newton iterations taken.
    pub log_likelihood: f64,
    pub iterations: u32,
    /// Whether each person entered the estimation.
    #[serde(skip)]
    included: Vec<bool>,
}

impl Calibration {
    /// The difficulty of every item, `None` for an excluded one.
    pub fn difficulties(&self) -> Vec<Option<f64>> {
        self.items.iter().map(|i| i.difficulty).collect()
    }
}

/// One person's measure on their form (the calibrated items they were presented).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonMeasure {
    /// Index into [`Analysis::forms`].
    pub form: usize,
    /// Right answers on the calibrated items of the form.
    pub raw: u32,
    /// Warm's estimate and its standard error; `None` on a form without calibrated items.
    pub wle: Option<f64>,
    pub wle_se: Option<f64>,
    /// Whether the person entered the estimation (a score between 0 and the form's maximum).
    pub estimated: bool,
}

/// A form: a distinct set of presented calibrated items, with its raw-score-to-measure table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Form {
    /// Item indices, ascending.
    pub items: Vec<usize>,
    /// Persons who took it.
    pub persons: u64,
    /// `scores[r]`: the WLE of raw score r, for r from 0 to the number of items (empty for a
    /// form without items).
    pub scores: Vec<Measure>,
}

/// A calibration with every person's measure, every form's score table and item fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub calibration: Calibration,
    pub persons: Vec<PersonMeasure>,
    pub forms: Vec<Form>,
    /// `fit[i]`: item i's infit and outfit, `None` for an excluded item.
    pub fit: Vec<Option<ItemFit>>,
}

/// Calibrates the items ([`calibrate`]), then measures every person and computes item fit.
pub fn analyse(data: &RaschResponses, options: &Options) -> Result<Analysis, RaschError> {
    let calibration = calibrate(data, options)?;
    let difficulty = calibration.difficulties();
    let (forms, persons) = wle::forms_and_persons(data, &difficulty, &calibration.included);
    let fit = fit::item_fit(data, &difficulty, &forms, &persons);
    Ok(Analysis {
        calibration,
        persons,
        forms,
        fit,
    })
}

/// Item difficulties by CML, with their standard errors and the items left out.
pub fn calibrate(data: &RaschResponses, options: &Options) -> Result<Calibration, RaschError> {
    let n = data.n_items;
    let mut anchor: Vec<Option<f64>> = vec![None; n];
    for &(item, value) in &options.anchors {
        if item >= n {
            return Err(RaschError::AnchorOutOfRange { item, n_items: n });
        }
        if !value.is_finite() {
            return Err(RaschError::AnchorNotFinite { item });
        }
        if anchor[item].replace(value).is_some() {
            return Err(RaschError::DuplicateAnchor { item });
        }
    }
    let (excluded, included) = exclusions(data, &anchor);
    let estimate = cml::estimate(data, &anchor, &excluded, &included)?;
    let mut pretest = vec![false; n];
    for &i in &options.pretest {
        if let Some(p) = pretest.get_mut(i) {
            *p = true;
        }
    }
    let mut presented = vec![0u64; n];
    let mut correct = vec![0u64; n];
    for v in 0..data.persons() {
        for (i, &x) in data.row(v).iter().enumerate() {
            if x != NOT_PRESENTED {
                presented[i] += 1;
                correct[i] += u64::from(x);
            }
        }
    }
    let items = (0..n)
        .map(|i| ItemCalibration {
            difficulty: match (anchor[i], excluded[i]) {
                (_, Some(_)) => None,
                (Some(a), None) => Some(a),
                (None, None) => Some(estimate.difficulty[i]),
            },
            se: if anchor[i].is_some() || excluded[i].is_some() {
                None
            } else {
                estimate.se[i]
            },
            anchored: anchor[i].is_some() && excluded[i].is_none(),
            pretest: pretest[i],
            excluded: excluded[i],
            presented: presented[i],
            correct: correct[i],
        })
        .collect();
    let persons_estimated = included.iter().filter(|&&x| x).count() as u64;
    Ok(Calibration {
        items,
        persons_extreme: data.persons() as u64 - persons_estimated,
        persons_estimated,
        log_likelihood: estimate.log_likelihood,
        iterations: estimate.iterations,
        included,
    })
}

/// Which items are left out (and why) and which persons enter the estimation: repeated until
/// nothing changes, since leaving out a person can leave an item all right or all wrong and
/// leaving out an item can give a person a perfect score. Anchored items are never left out
/// for their scores (they need no estimate), only when no one was presented them.
fn exclusions(
    data: &RaschResponses,
    anchor: &[Option<f64>],
) -> (Vec<Option<Exclusion>>, Vec<bool>) {
    let n = data.n_items;
    let persons = data.persons();
    let mut excluded: Vec<Option<Exclusion>> = vec![None; n];
    let mut included = vec![true; persons];
    loop {
        let mut changed = false;
        for (v, inc) in included.iter_mut().enumerate() {
            if !*inc {
                continue;
            }
            let (mut k, mut r) = (0u32, 0u32);
            for (i, &x) in data.row(v).iter().enumerate() {
                if x != NOT_PRESENTED && excluded[i].is_none() {
                    k += 1;
                    r += u32::from(x);
                }
            }
            if r == 0 || r == k {
                *inc = false;
                changed = true;
            }
        }
        let mut presented = vec![0u64; n];
        let mut correct = vec![0u64; n];
        let mut ever = vec![false; n];
        for (v, &inc) in included.iter().enumerate() {
            for (i, &x) in data.row(v).iter().enumerate() {
                if x != NOT_PRESENTED {
                    ever[i] = true;
                    if inc {
                        presented[i] += 1;
                        correct[i] += u64::from(x);
                    }
                }
            }
        }
        for i in 0..n {
            if excluded[i].is_some() {
                continue;
            }
            let reason = if !ever[i] {
                Some(Exclusion::NotPresented)
            } else if anchor[i].is_some() || presented[i] == 0 {
                // Anchors need no estimate; an item seen only by persons left out is dealt
                // with below, once the persons are settled.
                None
            } else if correct[i] == presented[i] {
                Some(Exclusion::AllCorrect)
            } else if correct[i] == 0 {
                Some(Exclusion::NoneCorrect)
            } else {
                None
            };
            if reason.is_some() {
                excluded[i] = reason;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // An item presented only to persons with a zero or perfect score carries no information
    // either: it is reported as all right or all wrong by what most of those persons did.
    let mut presented = vec![0u64; n];
    let mut correct = vec![0u64; n];
    let mut informative = vec![0u64; n];
    for (v, &inc) in included.iter().enumerate() {
        for (i, &x) in data.row(v).iter().enumerate() {
            if x != NOT_PRESENTED {
                presented[i] += 1;
                correct[i] += u64::from(x);
                informative[i] += u64::from(inc);
            }
        }
    }
    for i in 0..n {
        if excluded[i].is_none() && anchor[i].is_none() && informative[i] == 0 {
            excluded[i] = Some(if correct[i] * 2 >= presented[i] {
                Exclusion::AllCorrect
            } else {
                Exclusion::NoneCorrect
            });
        }
    }
    (excluded, included)
}
