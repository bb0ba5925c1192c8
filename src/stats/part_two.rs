//! Part Two's readings measured: many-facet Rasch (candidates × questions × raters), raters
//! flagged beyond set limits, the rater × group bias table, and generalizability on the live
//! design. Pure: the readings come in, the reports go out.
//!
//! The live design is not fully crossed: each candidate's vignette is read by two of the
//! raters (the same two for all its questions). Within one vignette, the candidates who chose
//! it, its questions and the two reading slots (first and second reading) are fully crossed,
//! so each vignette has a p × r × q G study with the slots as the rater facet. With raters
//! nested in persons, the slot-by-person component estimates σ²(r:p) = σ²(r) + σ²(pr)
//! (Brennan 2001, section 3.4): the D study of that G study is the D study of the (r:p) × q
//! design the exam uses. The committee's table pools the vignettes' components, weighted by
//! their persons. Formulas and sources: `docs/statistics.md`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::facets::{analyse, FacetsError, FacetsReport, Model, Observation, Options};
use super::facets_bias::{rater_group_bias, BiasError, BiasReport};
use super::gtheory::{Builder, Component, DStudy, Effect, GStudy};

/// One final reading of a live Part Two response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The candidate (their registration).
    pub candidate: i64,
    pub vignette: String,
    pub question: String,
    /// 1 and 2 the blind readings, 3 the adjudicator's or the closer look's.
    pub reading: u8,
    pub rater: i64,
    pub score: u32,
}

/// Outside these, a rater's infit or outfit mean square is flagged (Linacre's range for
/// ratings "productive for measurement", 0.5 to 1.5).
pub const FIT_LIMITS: (f64, f64) = (0.5, 1.5);
/// A rater whose severity lies further than this from the raters' mean (logits) is flagged:
/// a logit is about a third of a score point at the middle of a 0-3 scale.
pub const SEVERITY_LIMIT: f64 = 1.0;
/// A rater × group cell with |t| at or above this is flagged (Facets' convention).
pub const BIAS_T: f64 = 2.0;

/// The readings as the facets model numbers them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Indexed {
    pub observations: Vec<Observation>,
    /// The ids behind each facet's dense numbers.
    pub candidates: Vec<i64>,
    pub questions: Vec<String>,
    pub raters: Vec<i64>,
}

fn number<K: Ord + Clone>(map: &mut BTreeMap<K, u32>, order: &mut Vec<K>, key: &K) -> u32 {
    if let Some(n) = map.get(key) {
        return *n;
    }
    let n = order.len() as u32;
    map.insert(key.clone(), n);
    order.push(key.clone());
    n
}

pub fn index(readings: &[Reading]) -> Indexed {
    let mut out = Indexed::default();
    let (mut c, mut q, mut r) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for x in readings {
        let candidate = number(&mut c, &mut out.candidates, &x.candidate);
        let question = number(&mut q, &mut out.questions, &x.question);
        let rater = number(&mut r, &mut out.raters, &x.rater);
        out.observations.push(Observation {
            candidate,
            question,
            rater,
            score: x.score,
        });
    }
    out
}

/// A rater's measure with its flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RaterFlags {
    pub misfit: bool,
    pub severity: bool,
}

/// Many-facet Rasch of the readings (rating scale model, scores 0..=`max_score`).
pub fn facets(
    readings: &[Reading],
    max_score: u32,
) -> Result<(Indexed, FacetsReport), FacetsError> {
    let indexed = index(readings);
    let report = analyse(
        &indexed.observations,
        &Options::new(Model::RatingScale, max_score),
    )?;
    Ok((indexed, report))
}

/// Each rater's flags against `FIT_LIMITS` and `SEVERITY_LIMIT`, in the report's order.
pub fn rater_flags(report: &FacetsReport) -> Vec<RaterFlags> {
    let mean = report.rater_summary.mean.unwrap_or(0.0);
    report
        .raters
        .iter()
        .map(|r| {
            let out = |m: Option<f64>| m.is_some_and(|m| m < FIT_LIMITS.0 || m > FIT_LIMITS.1);
            RaterFlags {
                misfit: out(r.infit) || out(r.outfit),
                severity: r.measure.is_some_and(|m| (m - mean).abs() > SEVERITY_LIMIT),
            }
        })
        .collect()
}

/// The rater × group bias table, each candidate's group from `group_of` (candidates without
/// one are left out of the cells).
pub fn bias(
    indexed: &Indexed,
    report: &FacetsReport,
    group_of: &BTreeMap<i64, u32>,
) -> Result<BiasReport, BiasError> {
    let groups: Vec<Option<u32>> = indexed
        .observations
        .iter()
        .map(|o| {
            group_of
                .get(&indexed.candidates[o.candidate as usize])
                .copied()
        })
        .collect();
    rater_group_bias(report, &indexed.observations, &groups, BIAS_T)
}

/// One vignette's G study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VignetteG {
    pub vignette: String,
    pub g: GStudy,
}

/// A candidate's readings of one vignette: (question, reading slot) → score.
type Cells<'a> = BTreeMap<(&'a str, u8), u32>;

/// The G study of each vignette read by at least two candidates with both blind readings of
/// every question of it (the reading slots as the rater facet; see the module's doc).
pub fn g_studies(readings: &[Reading]) -> Vec<VignetteG> {
    let mut by_vignette: BTreeMap<&str, BTreeMap<i64, Cells>> = BTreeMap::new();
    for r in readings.iter().filter(|r| r.reading <= 2) {
        by_vignette
            .entry(&r.vignette)
            .or_default()
            .entry(r.candidate)
            .or_default()
            .insert((&r.question, r.reading), r.score);
    }
    let mut out = Vec::new();
    for (vignette, people) in by_vignette {
        let mut questions: Vec<&str> = people
            .values()
            .flat_map(|cells| cells.keys().map(|(q, _)| *q))
            .collect();
        questions.sort_unstable();
        questions.dedup();
        let complete: Vec<&Cells> = people
            .values()
            .filter(|cells| {
                questions
                    .iter()
                    .all(|q| cells.contains_key(&(q, 1)) && cells.contains_key(&(q, 2)))
            })
            .collect();
        let Ok(mut b) = Builder::new(complete.len(), 2, questions.len()) else {
            continue;
        };
        for (p, cells) in complete.iter().enumerate() {
            for (k, q) in questions.iter().enumerate() {
                for slot in [1u8, 2] {
                    // Every cell is present (filtered above) and inside the builder's sizes.
                    let _ = b.set(p, usize::from(slot - 1), k, f64::from(cells[&(*q, slot)]));
                }
            }
        }
        if let Ok(crossed) = b.build() {
            out.push(VignetteG {
                vignette: vignette.to_string(),
                g: crossed.g_study(),
            });
        }
    }
    out
}

/// The vignettes' components pooled, weighted by their persons (each set to zero where
/// negative, as in each study): the G study whose D table the committee reads. None without a
/// study.
pub fn pooled(studies: &[VignetteG]) -> Option<GStudy> {
    let persons: usize = studies.iter().map(|s| s.g.persons).sum();
    let first = studies.first()?;
    if persons == 0 {
        return None;
    }
    let weight = |s: &VignetteG| s.g.persons as f64 / persons as f64;
    let components = Effect::ALL.map(|effect| {
        let variance: f64 = studies
            .iter()
            .map(|s| weight(s) * s.g.component(effect).variance)
            .sum();
        let estimate: f64 = studies
            .iter()
            .map(|s| weight(s) * s.g.component(effect).estimate)
            .sum();
        // A pooled study has no sums of squares of its own: 0, never NaN.
        Component {
            effect,
            df: 0.0,
            ss: 0.0,
            ms: 0.0,
            estimate,
            variance,
            negative: estimate < 0.0,
        }
    });
    Some(GStudy {
        persons,
        raters: first.g.raters,
        questions: (studies
            .iter()
            .map(|s| weight(s) * s.g.questions as f64)
            .sum::<f64>())
        .round() as usize,
        mean: studies.iter().map(|s| weight(s) * s.g.mean).sum(),
        components,
    })
}

/// The D study the committee reads: 1 to 4 raters by 2 to 8 questions.
pub fn d_table(g: &GStudy) -> Vec<DStudy> {
    g.d_table()
}

#[cfg(test)]
mod tests;
