//! Many-facet Rasch measurement (Linacre 1989) of candidates × questions × raters:
//!
//! ```text
//! log(P(x = k) / P(x = k − 1)) = θₙ − δᵢ − Cⱼ − Fₖ      (Andrich rating scale model)
//!                              = θₙ − δᵢ − Cⱼ − Fᵢₖ     (partial credit, per question)
//! ```
//!
//! θ the candidate's measure, δ the question's difficulty, C the rater's severity (**higher is
//! harsher**), F the Rasch-Andrich thresholds, all in logits. Estimated by joint maximum
//! likelihood as Facets does it: Newton-Raphson steps element by element, facet after facet,
//! until the largest marginal score residual and the largest change of any estimate fall below
//! Facets' convergence limits; questions and raters centred at 0, candidates not centred,
//! thresholds summing to 0 (per question under partial credit). Elements with extreme scores
//! are left out of the estimation (until nothing changes) and measured afterwards from their
//! score moved 0.3 points inwards, every other estimate held (Facets' `Xtreme=`).
//!
//! [`analyse`] reports every element's measure with its standard error, infit and outfit,
//! observed and fair averages, and each facet's separation and reliability. Formulas,
//! conventions and sources: `docs/statistics.md`, "Many-facet Rasch measurement".

mod jmle;
mod report;

#[cfg(test)]
pub(crate) mod tests;

use serde::Serialize;

/// The most elements of one facet (ids index flat vectors, so an id bounds the memory).
pub const MAX_ELEMENTS: u32 = 1 << 20;

/// One rating: a rater's score of a candidate's response to a question. Ids are dense
/// indices from 0; an id no observation uses is reported as not observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub candidate: u32,
    pub question: u32,
    pub rater: u32,
    pub score: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// One set of thresholds for every question (Andrich 1978).
    #[default]
    RatingScale,
    /// Thresholds of their own for every question (Masters 1982).
    PartialCredit,
}

/// The model and Facets' estimation settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub model: Model,
    /// The highest score; scores run from 0.
    pub max_score: u32,
    /// Stop when no element's observed score differs from its expected score by this many
    /// score points (Facets' `Convergence=` first value, 0.5 by default)…
    pub max_residual: f64,
    /// …and no estimate moved by this many logits in the last iteration (its second, 0.01).
    pub max_change: f64,
    /// Give up after this many iterations (the result says it did not converge).
    pub max_iterations: u32,
    /// Extreme scores are moved this many score points inwards (Facets' `Xtreme=`, 0.3).
    pub extreme_adjustment: f64,
}

impl Options {
    /// Facets' defaults for scores `0..=max_score` under `model`.
    pub fn new(model: Model, max_score: u32) -> Self {
        Self {
            model,
            max_score,
            max_residual: 0.5,
            max_change: 0.01,
            max_iterations: 500,
            extreme_adjustment: 0.3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FacetsError {
    #[error("there are no observations")]
    NoObservations,
    #[error("the highest score must be at least 1")]
    NoScale,
    #[error("observation {index} has the score {score}, above the highest score {max}")]
    ScoreAboveMax { index: usize, score: u32, max: u32 },
    #[error(
        "observation {index} has a {facet} id {id}, more than the {} elements a facet may have",
        MAX_ELEMENTS
    )]
    IdTooLarge {
        index: usize,
        facet: &'static str,
        id: u32,
    },
    #[error(
        "the convergence limits, the extreme-score adjustment and the iterations must be positive"
    )]
    BadOptions,
    #[error("every observation belongs to an element with an extreme score (or a single category), so there is nothing to estimate")]
    NoInformation,
    #[error("the estimation left the finite numbers (the data may be disconnected)")]
    NotFinite,
}

/// Why an element has the measure it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In the joint estimation.
    Estimated,
    /// Every rating at the lowest category: measured from its score plus the adjustment.
    ExtremeLow,
    /// Every rating at the highest category: measured from its score minus the adjustment.
    ExtremeHigh,
    /// Its every rating involves an element with an extreme score: measured afterwards from
    /// its own score, the others held.
    Dropped,
    /// No observation names it.
    NotObserved,
}

/// One element of a facet (a candidate, question or rater).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Element {
    pub status: Status,
    /// Ratings of the element, and their sum in score points.
    pub count: u64,
    pub total: u64,
    pub observed_average: Option<f64>,
    /// The measure in logits: a candidate's ability, a question's difficulty, a rater's
    /// severity. `None` when not observed, or a partial-credit question with one category.
    pub measure: Option<f64>,
    /// Model standard error, 1/√(information), and the real one, inflated by √infit when
    /// infit exceeds 1 (Facets' "Real S.E.").
    pub se: Option<f64>,
    pub real_se: Option<f64>,
    /// Mean squares and their Wilson-Hilferty z ("ZStd"), for estimated elements.
    pub infit: Option<f64>,
    pub infit_z: Option<f64>,
    pub outfit: Option<f64>,
    pub outfit_z: Option<f64>,
    /// Facets' fair average: the expected score with the other facets at their mean (see
    /// the docs), in score points.
    pub fair_average: Option<f64>,
}

/// A facet's summary over its estimated elements (Wright & Masters 1982), population
/// variance as Facets' "Model, Populn" line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacetSummary {
    pub estimated: u64,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    /// Root mean square of the model standard errors.
    pub rmse: Option<f64>,
    /// √(SD² − RMSE²), 0 when the error variance exceeds the observed.
    pub true_sd: Option<f64>,
    /// True SD / RMSE, strata (4G + 1)/3, and reliability true variance / observed variance.
    pub separation: Option<f64>,
    pub strata: Option<f64>,
    pub reliability: Option<f64>,
    /// Fixed (all same) χ² = Σ wᵢ(dᵢ − d̄_w)², wᵢ = 1/SEᵢ², with n − 1 degrees of freedom.
    pub chi_square: Option<f64>,
    pub df: u64,
}

/// One rating scale: the scores in use, their Rasch-Andrich thresholds and counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleReport {
    /// The question it belongs to under partial credit; `None` for the shared scale.
    pub question: Option<u32>,
    /// The observed scores, ascending: category k of the model is `scores[k]` (unobserved
    /// scores are squeezed out, as Facets' default `Ordinal` keeps no empty category).
    pub scores: Vec<u32>,
    /// Ratings in each category within the estimation.
    pub counts: Vec<u64>,
    /// Fₖ for k = 1..: the threshold between categories k − 1 and k, summing to 0.
    pub thresholds: Vec<f64>,
}

/// The result of [`analyse`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacetsReport {
    pub model: Model,
    pub candidates: Vec<Element>,
    pub questions: Vec<Element>,
    pub raters: Vec<Element>,
    pub candidate_summary: FacetSummary,
    pub question_summary: FacetSummary,
    pub rater_summary: FacetSummary,
    pub scales: Vec<ScaleReport>,
    /// Ratings in the joint estimation, and those left out with an extreme element.
    pub observations_used: u64,
    pub observations_extreme: u64,
    /// Groups of candidates and raters that no rating links (in the estimation): more than 1
    /// and the groups' severities and abilities are confounded, their relative place arbitrary.
    pub subsets: u32,
    pub iterations: u32,
    pub converged: bool,
    /// At the last iteration: the largest marginal score residual (score points) and change
    /// of an estimate (logits).
    pub max_residual: f64,
    pub max_change: f64,
}

/// Many-facet Rasch measurement of `observations` under `options`.
pub fn analyse(
    observations: &[Observation],
    options: &Options,
) -> Result<FacetsReport, FacetsError> {
    if observations.is_empty() {
        return Err(FacetsError::NoObservations);
    }
    if options.max_score == 0 {
        return Err(FacetsError::NoScale);
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(options.max_residual)
        || !positive(options.max_change)
        || !positive(options.extreme_adjustment)
        || options.max_iterations == 0
    {
        return Err(FacetsError::BadOptions);
    }
    for (index, o) in observations.iter().enumerate() {
        if o.score > options.max_score {
            return Err(FacetsError::ScoreAboveMax {
                index,
                score: o.score,
                max: options.max_score,
            });
        }
        for (facet, id) in [
            ("candidate", o.candidate),
            ("question", o.question),
            ("rater", o.rater),
        ] {
            if id >= MAX_ELEMENTS {
                return Err(FacetsError::IdTooLarge { index, facet, id });
            }
        }
    }
    let design = jmle::Design::new(observations, options);
    let fitted = jmle::estimate(&design, options)?;
    Ok(report::report(&design, &fitted, options))
}
