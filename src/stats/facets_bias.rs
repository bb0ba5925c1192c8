//! Facets' bias/interaction analysis of raters × groups of candidates (Linacre 1989, *Many-Facet
//! Rasch Measurement*; Facets manual, "Bias/interaction analysis", Table 13): does a rater score
//! the candidates of one group (consented demographic groups, e.g. language) otherwise than
//! the fitted many-facet model expects?
//!
//! After [`analyse`](super::facets::analyse), every measure is held fixed and, for each cell
//! (rater j, group g), one more parameter b is estimated from the cell's ratings alone:
//!
//! ```text
//! log(P(x = k) / P(x = k − 1)) = θₙ − δᵢ − Cⱼ − b − Fₖ
//! ```
//!
//! by Newton-Raphson on Σ (x − E(x | b)) = 0, as Facets does. **b > 0 means the rater scores
//! that group more severely (lower) than the model expects**, in the direction of the rater's
//! severity C; b < 0 more leniently. Its standard error is 1/√Σ Var(x | b), t = b / SE with
//! count − 1 degrees of freedom (Student's t, two-sided p, as Facets reports them).
//!
//! Ratings enter when they were in the model's estimation (their candidate, question and rater
//! all `Estimated`): ratings of an element with an extreme score were left out of the model,
//! and are left out here too (and counted). A cell whose ratings are all in the lowest (or all
//! in the highest) category in use has no finite b: it is reported with `status` extreme and
//! no b, SE, t or p.

use std::collections::BTreeMap;

use serde::Serialize;

use super::dist;
use super::facets::{FacetsReport, Model, Observation, ScaleReport, Status};

/// The bias of one rater × group cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasCell {
    pub rater: u32,
    pub group: u32,
    /// Ratings in the cell, their score sum, and the sum the model expects (score points).
    pub count: u64,
    pub observed: u64,
    pub expected: f64,
    /// (observed − expected) / count: > 0 the rater scored the group above expectation.
    pub mean_residual: f64,
    pub status: CellStatus,
    /// The bias in logits, > 0 more severe than expected; `None` for an extreme cell.
    pub bias: Option<f64>,
    /// Model standard error of the bias, t = bias / se, with `df` = count − 1 degrees of
    /// freedom and the two-sided p of Student's t (`None` with no degree of freedom).
    pub se: Option<f64>,
    pub t: Option<f64>,
    pub df: u64,
    pub p_value: Option<f64>,
    /// |t| ≥ the report's `flag_t`.
    pub flagged: bool,
}

/// Whether a cell's bias could be estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    Estimated,
    /// Every rating of the cell in the lowest category in use: infinitely severe.
    ExtremeLow,
    /// Every rating in the highest category in use: infinitely lenient.
    ExtremeHigh,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasReport {
    /// The |t| at or above which a cell is flagged.
    pub flag_t: f64,
    /// Cells by rater, then group; only cells with at least one rating.
    pub cells: Vec<BiasCell>,
    /// Ratings in the cells; ratings without a group; ratings left out of the model's estimation.
    pub observations_used: u64,
    pub observations_without_group: u64,
    pub observations_left_out: u64,
    /// Facets' "Fixed (all = 0) chi-square": Σ t² over the estimated cells, with as many
    /// degrees of freedom as cells.
    pub chi_square: Option<f64>,
    pub df: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BiasError {
    #[error("there are {observations} observations but {groups} groups: give one group (or none) per observation")]
    GroupsLength { observations: usize, groups: usize },
    #[error("the flagging limit for |t| must be a positive number")]
    BadLimit,
    #[error("observation {index} names {facet} {id}, which the fitted model does not have")]
    UnknownElement {
        index: usize,
        facet: &'static str,
        id: u32,
    },
    #[error("the observations are not the ones the model was fitted to (rater {rater} has {observations} of them, the model counted {fitted})")]
    NotTheFittedData {
        rater: u32,
        observations: u64,
        fitted: u64,
    },
    #[error("no rating in the model's estimation has a group")]
    NoGroups,
}

/// One rating in a cell: η = θ − δ − C, its scale, its category and score.
struct Rating<'a> {
    eta: f64,
    scale: &'a ScaleReport,
    category: usize,
    score: u32,
}

/// The rater × group bias analysis of `observations` (exactly those given to
/// [`analyse`](super::facets::analyse)) under the fitted `report`; `groups[o]` is observation
/// o's group (`None`: no group, left out of the cells). Cells with |t| ≥ `flag_t` (2 is usual)
/// are flagged.
pub fn rater_group_bias(
    report: &FacetsReport,
    observations: &[Observation],
    groups: &[Option<u32>],
    flag_t: f64,
) -> Result<BiasReport, BiasError> {
    if groups.len() != observations.len() {
        return Err(BiasError::GroupsLength {
            observations: observations.len(),
            groups: groups.len(),
        });
    }
    if !flag_t.is_finite() || flag_t <= 0.0 {
        return Err(BiasError::BadLimit);
    }
    let mut per_rater = vec![0u64; report.raters.len()];
    for (index, o) in observations.iter().enumerate() {
        for (facet, id, n) in [
            ("candidate", o.candidate, report.candidates.len()),
            ("question", o.question, report.questions.len()),
            ("rater", o.rater, report.raters.len()),
        ] {
            if id as usize >= n {
                return Err(BiasError::UnknownElement { index, facet, id });
            }
        }
        per_rater[o.rater as usize] += 1;
    }
    for (r, (&observations, element)) in per_rater.iter().zip(&report.raters).enumerate() {
        if observations != element.count {
            return Err(BiasError::NotTheFittedData {
                rater: r as u32,
                observations,
                fitted: element.count,
            });
        }
    }

    let mut cells: BTreeMap<(u32, u32), Vec<Rating>> = BTreeMap::new();
    let (mut without_group, mut left_out) = (0u64, 0u64);
    for (o, group) in observations.iter().zip(groups) {
        let Some(group) = *group else {
            without_group += 1;
            continue;
        };
        let (c, q, r) = (
            &report.candidates[o.candidate as usize],
            &report.questions[o.question as usize],
            &report.raters[o.rater as usize],
        );
        let scale = match report.model {
            Model::RatingScale => report.scales.first(),
            Model::PartialCredit => report.scales.get(o.question as usize),
        };
        let in_estimation = [c, q, r].iter().all(|e| e.status == Status::Estimated);
        let (Some(theta), Some(delta), Some(severity), Some(scale), true) =
            (c.measure, q.measure, r.measure, scale, in_estimation)
        else {
            left_out += 1;
            continue;
        };
        if scale.thresholds.is_empty() {
            left_out += 1;
            continue;
        }
        // The category of a score: the last score in use at or below it.
        let category = scale
            .scores
            .partition_point(|&s| s <= o.score)
            .saturating_sub(1);
        cells.entry((o.rater, group)).or_default().push(Rating {
            eta: theta - delta - severity,
            scale,
            category,
            score: o.score,
        });
    }
    if cells.is_empty() {
        return Err(BiasError::NoGroups);
    }

    let mut p = Vec::new();
    let mut used = 0u64;
    let cells: Vec<BiasCell> = cells
        .into_iter()
        .map(|((rater, group), ratings)| {
            used += ratings.len() as u64;
            cell(rater, group, &ratings, flag_t, &mut p)
        })
        .collect();
    let ts: Vec<f64> = cells.iter().filter_map(|c| c.t).collect();
    Ok(BiasReport {
        flag_t,
        chi_square: (!ts.is_empty()).then(|| ts.iter().map(|t| t * t).sum()),
        df: ts.len() as u64,
        cells,
        observations_used: used,
        observations_without_group: without_group,
        observations_left_out: left_out,
    })
}

fn cell(rater: u32, group: u32, ratings: &[Rating], flag_t: f64, p: &mut Vec<f64>) -> BiasCell {
    let count = ratings.len() as u64;
    let observed: u64 = ratings.iter().map(|r| u64::from(r.score)).sum();
    let expected: f64 = ratings
        .iter()
        .map(|r| {
            categories(r.eta, &r.scale.thresholds, p);
            r.scale
                .scores
                .iter()
                .zip(p.iter())
                .map(|(&s, q)| f64::from(s) * q)
                .sum::<f64>()
        })
        .sum();
    let mean_residual = (observed as f64 - expected) / count as f64;
    let observed_cat: usize = ratings.iter().map(|r| r.category).sum();
    let top: usize = ratings.iter().map(|r| r.scale.thresholds.len()).sum();
    let status = if observed_cat == 0 {
        CellStatus::ExtremeLow
    } else if observed_cat == top {
        CellStatus::ExtremeHigh
    } else {
        CellStatus::Estimated
    };
    let df = count - 1;
    let (bias, se) = if status == CellStatus::Estimated {
        solve(ratings, observed_cat as f64, p)
    } else {
        (None, None)
    };
    let t = bias.zip(se).map(|(b, s)| b / s).filter(|t| t.is_finite());
    let p_value = t
        .filter(|_| df > 0)
        .map(|t| student_t_two_sided(t, df as f64));
    BiasCell {
        rater,
        group,
        count,
        observed,
        expected,
        mean_residual,
        status,
        bias,
        se,
        t,
        df,
        p_value: p_value.filter(|p| p.is_finite()),
        flagged: t.is_some_and(|t| t.abs() >= flag_t),
    }
}

/// Newton-Raphson on Σ (x − E(x | b)) = 0 with every other measure held: a step of
/// −(O − E)/V, at most one logit, until it is below 1e-10 logits. Returns b and 1/√V at b.
fn solve(ratings: &[Rating], observed: f64, p: &mut Vec<f64>) -> (Option<f64>, Option<f64>) {
    let mut b = 0.0f64;
    for _ in 0..500 {
        let (e, v) = moments(ratings, b, p);
        if v.is_nan() || v <= 0.0 {
            return (None, None);
        }
        let step = (-(observed - e) / v).clamp(-1.0, 1.0);
        b += step;
        if step.abs() < 1e-10 {
            break;
        }
    }
    let (_, v) = moments(ratings, b, p);
    let se = (v > 0.0).then(|| 1.0 / v.sqrt());
    (
        Some(b).filter(|b| b.is_finite()),
        se.filter(|s| s.is_finite()),
    )
}

/// The expected category sum and its variance over the ratings at bias b.
fn moments(ratings: &[Rating], b: f64, p: &mut Vec<f64>) -> (f64, f64) {
    ratings.iter().fold((0.0, 0.0), |(e, v), r| {
        let (m, w) = categories(r.eta - b, &r.scale.thresholds, p);
        (e + m, v + w)
    })
}

/// Category probabilities at η for thresholds F₁..F_m into `p`, and the expected category and
/// its variance; computed from the largest log-numerator down, so no exp overflows.
fn categories(eta: f64, thresholds: &[f64], p: &mut Vec<f64>) -> (f64, f64) {
    p.clear();
    p.push(0.0);
    let mut s = 0.0;
    for f in thresholds {
        s += eta - f;
        p.push(s);
    }
    let top = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for q in p.iter_mut() {
        *q = (*q - top).exp();
        total += *q;
    }
    let (mut mean, mut second) = (0.0, 0.0);
    for (k, q) in p.iter_mut().enumerate() {
        *q /= total;
        mean += k as f64 * *q;
        second += (k * k) as f64 * *q;
    }
    (mean, (second - mean * mean).max(0.0))
}

/// P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: I_{df/(df + t²)}(df/2, 1/2).
fn student_t_two_sided(t: f64, df: f64) -> f64 {
    dist::beta_inc(df / 2.0, 0.5, df / (df + t * t))
}

#[cfg(test)]
mod tests;
