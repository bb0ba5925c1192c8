//! The agreement page's measurement of Part Two: many-facet Rasch (rater severity in logits with
//! its standard error, fit, flags; question difficulty; candidates' fair averages), the rater ×
//! group bias table by the consented language question, and the G and D studies. Each table is
//! a `Table`, so the page and its CSV agree; the severity map is an SVG beside them.

use std::collections::BTreeMap;

use maud::{html, Markup};

use crate::stats::facets::FacetsReport;
use crate::stats::facets_bias::BiasReport;
use crate::stats::gtheory::{Effect, GStudy};
use crate::stats::part_two::{self, Indexed, Reading, VignetteG};
use crate::web::charts;

use super::stats::{heads, num, show, Table};

/// What the page shows of Part Two's readings.
pub(super) struct RaterModel {
    pub facets: Option<(Indexed, FacetsReport)>,
    pub bias: Option<BiasReport>,
    pub g: Vec<VignetteG>,
    pub pooled: Option<GStudy>,
}

/// The groups of the bias table: the consented answer to "Is English your first language?".
pub(super) const GROUPS: [&str; 2] = ["English first", "another language first"];

/// Measures the readings (run off the async runtime: JMLE over every reading).
pub(super) fn measure(
    readings: &[Reading],
    max_score: u32,
    language: &BTreeMap<i64, String>,
) -> RaterModel {
    let facets = part_two::facets(readings, max_score.max(1)).ok();
    let groups: BTreeMap<i64, u32> = language
        .iter()
        .filter_map(|(reg, answer)| match answer.as_str() {
            "english" => Some((*reg, 0)),
            "other" => Some((*reg, 1)),
            _ => None,
        })
        .collect();
    let bias = facets
        .as_ref()
        .and_then(|(indexed, report)| part_two::bias(indexed, report, &groups).ok());
    let g = part_two::g_studies(readings);
    let pooled = part_two::pooled(&g);
    RaterModel {
        facets,
        bias,
        g,
        pooled,
    }
}

/// The tables, named for their CSV downloads.
pub(super) fn tables(m: &RaterModel, rater_name: &dyn Fn(i64) -> String) -> Vec<Table> {
    let mut out = Vec::new();
    if let Some((indexed, report)) = &m.facets {
        let flags = part_two::rater_flags(report);
        out.push(Table {
            name: "facets_raters",
            caption: format!(
                "Many-facet Rasch: rater severity in logits (higher is harsher), {} ratings, rater separation {} and reliability {}; flagged: fit outside {}-{} or severity more than {} logit from the raters' mean",
                report.observations_used,
                show(report.rater_summary.separation),
                show(report.rater_summary.reliability),
                part_two::FIT_LIMITS.0,
                part_two::FIT_LIMITS.1,
                part_two::SEVERITY_LIMIT
            ),
            headers: heads(&[
                "rater", "ratings", "observed_average", "fair_average", "severity", "se", "infit",
                "outfit", "flag",
            ]),
            rows: indexed
                .raters
                .iter()
                .zip(&report.raters)
                .zip(&flags)
                .map(|((id, e), f)| {
                    vec![
                        rater_name(*id),
                        e.count.to_string(),
                        num(e.observed_average),
                        num(e.fair_average),
                        num(e.measure),
                        num(e.se),
                        num(e.infit),
                        num(e.outfit),
                        match (f.severity, f.misfit) {
                            (true, true) => "severity, fit",
                            (true, false) => "severity",
                            (false, true) => "fit",
                            (false, false) => "",
                        }
                        .to_string(),
                    ]
                })
                .collect(),
        });
        out.push(Table {
            name: "facets_questions",
            caption: "Many-facet Rasch: question difficulty in logits (higher is harder)".into(),
            headers: heads(&[
                "question",
                "ratings",
                "observed_average",
                "difficulty",
                "se",
                "infit",
                "outfit",
            ]),
            rows: indexed
                .questions
                .iter()
                .zip(&report.questions)
                .map(|(q, e)| {
                    vec![
                        q.clone(),
                        e.count.to_string(),
                        num(e.observed_average),
                        num(e.measure),
                        num(e.se),
                        num(e.infit),
                        num(e.outfit),
                    ]
                })
                .collect(),
        });
    }
    if let (Some(b), Some((indexed, _))) = (&m.bias, &m.facets) {
        out.push(Table {
            name: "bias",
            caption: format!(
                "Rater × group bias (by the consented language question): positive is harsher on the group than the model expects; flagged at |t| ≥ {}",
                b.flag_t
            ),
            headers: heads(&["rater", "group", "ratings", "observed", "expected", "bias", "se", "t", "p", "flag"]),
            rows: b
                .cells
                .iter()
                .map(|c| {
                    vec![
                        rater_name(indexed.raters[c.rater as usize]),
                        GROUPS.get(c.group as usize).copied().unwrap_or("?").to_string(),
                        c.count.to_string(),
                        c.observed.to_string(),
                        num(Some(c.expected)),
                        num(c.bias),
                        num(c.se),
                        num(c.t),
                        num(c.p_value),
                        if c.flagged { "flag" } else { "" }.to_string(),
                    ]
                })
                .collect(),
        });
    }
    if let Some(g) = &m.pooled {
        out.push(Table {
            name: "g_study",
            caption: format!(
                "G study of Part Two: variance components pooled over {} vignettes ({} candidate-vignettes; raters nested in candidates, so pr is σ²(r:p))",
                m.g.len(),
                g.persons
            ),
            headers: heads(&["effect", "variance", "percent"]),
            rows: {
                let total: f64 = Effect::ALL.iter().map(|e| g.component(*e).variance).sum();
                Effect::ALL
                    .iter()
                    .map(|e| {
                        let v = g.component(*e).variance;
                        vec![
                            e.label().to_string(),
                            num(Some(v)),
                            num((total > 0.0).then(|| 100.0 * v / total)),
                        ]
                    })
                    .collect()
            },
        });
        out.push(Table {
            name: "d_study",
            caption: "D study: dependability (Φ) and generalizability (Eρ²) with 1-4 raters and 2-8 questions".into(),
            headers: heads(&["raters", "questions", "phi", "e_rho2", "absolute_error", "relative_error"]),
            rows: part_two::d_table(g)
                .iter()
                .map(|d| {
                    vec![
                        d.raters.to_string(),
                        d.questions.to_string(),
                        num(d.phi),
                        num(d.e_rho2),
                        num(Some(d.absolute_error)),
                        num(Some(d.relative_error)),
                    ]
                })
                .collect(),
        });
    }
    out
}

/// The severity map: candidates, questions and raters on one logit scale.
pub(super) fn map(m: &RaterModel, rater_name: &dyn Fn(i64) -> String) -> Markup {
    let Some((indexed, report)) = &m.facets else {
        return html! {};
    };
    let candidates: Vec<f64> = report.candidates.iter().filter_map(|e| e.measure).collect();
    let raters: Vec<(String, f64)> = indexed
        .raters
        .iter()
        .zip(&report.raters)
        .filter_map(|(id, e)| e.measure.map(|m| (rater_name(*id), m)))
        .collect();
    let questions: Vec<(String, f64)> = indexed
        .questions
        .iter()
        .zip(&report.questions)
        .filter_map(|(q, e)| e.measure.map(|m| (q.clone(), m)))
        .collect();
    charts::facets_map(
        "severity-map",
        "Severity map: candidates, questions and raters on one logit scale",
        &candidates,
        &questions,
        &raters,
    )
}
