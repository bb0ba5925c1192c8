//! The rater agreement page: agreement between first and second readings, per rater, item,
//! pair of raters and day, with the raters measured (many-facet Rasch) after them.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use crate::stats::{agreement, AgreementReport, PairStats, Scale};
use crate::store::{analysis, ratings, sittings};

use crate::web::charts;
use crate::web::error::{AppError, AppResult};
use crate::web::pages::raters_model;
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views;
use crate::web::views::staff_chrome as chrome;
use crate::web::AppState;

use super::cells::{heads, num, show};
use super::serve::{csv_response, off_runtime};
use super::table::{Sort, SortLinks, Table};

#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    #[serde(default)]
    pub csv: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
}

fn pair_row(label: String, p: &PairStats) -> Vec<String> {
    vec![
        label,
        p.pairs.to_string(),
        num(p.exact),
        num(p.adjacent),
        num(p.kappa),
        num(p.kappa_se),
        num(p.kappa_linear),
        num(p.kappa_quadratic),
        num(p.icc_2_1),
        num(p.icc_3_1),
    ]
}

const PAIR_HEADERS: [&str; 9] = [
    "pairs",
    "exact",
    "adjacent",
    "kappa",
    "kappa_se",
    "kappa_linear",
    "kappa_quadratic",
    "icc_2_1",
    "icc_3_1",
];

fn agreement_tables(
    r: &AgreementReport,
    data: &analysis::SittingRatings,
    read_behinds: &BTreeMap<i64, ratings::ReadBehindCount>,
) -> Vec<Table> {
    let rater = |id: i64| {
        data.raters
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let item = |id: i64| {
        data.items
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let with = |first: &str| heads(&[&[first], &PAIR_HEADERS[..]].concat());
    let labels: Vec<String> = (r.scale.min()..=r.scale.max())
        .map(|s| s.to_string())
        .collect();
    vec![
        Table {
            name: "overall",
            caption: "First against second reading, every response read twice".into(),
            headers: {
                let mut h = with("ratings");
                h.extend(heads(&[
                    "alpha_ordinal",
                    "alpha_interval",
                    "fleiss_kappa",
                    "gwet_ac1",
                    "gwet_ac1_se",
                    "gwet_ac2_quadratic",
                    "gwet_ac2_quadratic_se",
                    "kappa_low",
                    "kappa_high",
                ]));
                h
            },
            rows: vec![{
                let mut row = pair_row(r.ratings.to_string(), &r.overall);
                row.extend([
                    num(r.alpha_ordinal),
                    num(r.alpha_interval),
                    num(r.fleiss_kappa),
                    num(r.gwet_ac1),
                    num(r.gwet_ac1_se),
                    num(r.gwet_ac2_quadratic),
                    num(r.gwet_ac2_quadratic_se),
                    num(r.overall.kappa_low),
                    num(r.overall.kappa_high),
                ]);
                row
            }],
        },
        Table {
            name: "confusion",
            caption: "Confusion matrix: rows the first reading, columns the second".into(),
            headers: std::iter::once("first \\ second".to_string())
                .chain(labels.iter().cloned())
                .collect(),
            rows: r
                .overall
                .confusion
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    std::iter::once(labels[i].clone())
                        .chain(row.iter().map(u64::to_string))
                        .collect()
                })
                .collect(),
        },
        Table {
            name: "raters",
            caption: "Per rater (severity: mean of own reading minus the other; below 0 harsher)"
                .into(),
            headers: heads(&[
                "rater",
                "scored",
                "mean",
                "pairs",
                "severity",
                "exact",
                "validity",
                "accuracy",
                "read_behind",
                "overridden",
            ]),
            rows: r
                .raters
                .iter()
                .map(|s| {
                    let rb = read_behinds.get(&s.rater).copied().unwrap_or_default();
                    vec![
                        rater(s.rater),
                        s.scored.to_string(),
                        num(s.mean),
                        s.pairs.to_string(),
                        num(s.severity),
                        num(s.exact),
                        s.validity.to_string(),
                        num(s.accuracy),
                        rb.read.to_string(),
                        rb.overridden.to_string(),
                    ]
                })
                .collect(),
        },
        Table {
            name: "items",
            caption: "Per item".into(),
            headers: with("item"),
            rows: r
                .items
                .iter()
                .map(|i| pair_row(item(i.item), &i.pairs))
                .collect(),
        },
        Table {
            name: "pairs",
            caption: "Per pair of raters".into(),
            headers: with("raters"),
            rows: r
                .rater_pairs
                .iter()
                .map(|p| {
                    pair_row(
                        format!("{} & {}", rater(p.rater_a), rater(p.rater_b)),
                        &p.pairs,
                    )
                })
                .collect(),
        },
        Table {
            name: "days",
            caption: "By day (drift)".into(),
            headers: heads(&[&["day", "ratings", "mean"], &PAIR_HEADERS[..]].concat()),
            rows: r
                .days
                .iter()
                .map(|d| {
                    let mut row = vec![
                        sittings::date(d.day * 24 * 60 * 60 * 1000),
                        d.ratings.to_string(),
                        num(d.mean),
                    ];
                    row.extend(pair_row(String::new(), &d.pairs).into_iter().skip(1));
                    row
                })
                .collect(),
        },
    ]
}

pub async fn agreement_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<CsvQuery>,
) -> AppResult<Response> {
    let sitting = crate::web::pages::committee::the_sitting(&state, id).await?;
    let data = analysis::sitting_ratings(&state.db, id).await?;
    let scale =
        Scale::new(0, data.max_score.max(1)).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let (report, data) = off_runtime(move || (agreement(scale, &data.ratings), data)).await?;
    let report = report.map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let read_behinds = ratings::read_behind_counts(&state.db, id).await?;
    let (readings, max_score) = analysis::part_two_readings(&state.db, id).await?;
    let language = analysis::answers_to(&state.db, id, "language").await?;
    let model = off_runtime(move || raters_model::measure(&readings, max_score, &language)).await?;
    let rater_name = |rid: i64| {
        data.raters
            .get(&rid)
            .cloned()
            .unwrap_or_else(|| rid.to_string())
    };
    let mut tables = agreement_tables(&report, &data, &read_behinds);
    let measured = raters_model::tables(&model, &rater_name);
    let measured_names: Vec<&'static str> = measured.iter().map(|t| t.name).collect();
    tables.extend(measured);
    let order = Sort::parse(q.sort.as_deref(), q.dir.as_deref());
    let base = format!("/stats/{id}/agreement?");
    let links: Vec<SortLinks> = tables
        .iter_mut()
        .map(|t| t.sorted(order.as_ref(), false, &base))
        .collect();
    let shown = |t: &Table, l: &SortLinks| -> Markup {
        let csv = format!("/stats/{id}/agreement?csv={}", t.name);
        if t.name == "confusion" {
            // A matrix: its order is the scale's.
            t.html(&csv)
        } else {
            t.view(&csv).sortable(l.clone()).render()
        }
    };
    if let Some(name) = q.csv {
        let t = tables
            .iter()
            .find(|t| t.name == name)
            .ok_or(AppError::NotFound)?;
        return Ok(csv_response(&format!("agreement-{id}-{name}.csv"), t.csv()));
    }
    let labels: Vec<String> = (scale.min()..=scale.max()).map(|s| s.to_string()).collect();
    let severity: Vec<(String, f64)> = report
        .raters
        .iter()
        .filter_map(|s| {
            s.severity
                .map(|v| (data.raters.get(&s.rater).cloned().unwrap_or_default(), v))
        })
        .collect();
    let o = &report.overall;
    let body = html! {
        p class="hint" { a href={ "/scoring/" (id) } { "Scoring" } " · " a href={ "/stats/" (id) "/items" } { "Item statistics" } " · " a href={ "/stats/" (id) "/report" } { "Technical report" } }
        h1 { "Rater agreement: " (sitting.name) }
        @if report.ratings == 0 {
            p { "No reading has been submitted in this sitting yet." }
        } @else {
            dl class="summary" {
                dt { "Readings" } dd { (report.ratings) " of " (report.responses) " responses" }
                dt { "Pairs (first and second reading)" } dd { (o.pairs) }
                dt { "Exact agreement" } dd { (show(o.exact)) }
                dt { "Adjacent agreement (within 1)" } dd { (show(o.adjacent)) }
                dt { "Cohen's kappa" } dd { (show(o.kappa)) " (SE " (show(o.kappa_se)) "; 95% " (show(o.kappa_low)) " to " (show(o.kappa_high)) ")" }
                dt { "Weighted kappa, linear / quadratic" } dd { (show(o.kappa_linear)) " / " (show(o.kappa_quadratic)) }
                dt { "ICC(2,1) / ICC(3,1)" } dd { (show(o.icc_2_1)) " / " (show(o.icc_3_1)) }
                dt { "Krippendorff's alpha, ordinal / interval" } dd { (show(report.alpha_ordinal)) " / " (show(report.alpha_interval)) }
                dt { "Fleiss' kappa" } dd { (show(report.fleiss_kappa)) @if report.fleiss_kappa.is_none() { " (responses were read a different number of times)" } }
                dt { "Gwet's AC1 / AC2 (quadratic weights), with standard errors" } dd { (show(report.gwet_ac1)) " (SE " (show(report.gwet_ac1_se)) ") / " (show(report.gwet_ac2_quadratic)) " (SE " (show(report.gwet_ac2_quadratic_se)) "): unlike the kappas, stable when most scores fall on one or two points" }
            }
            div class="charts" {
                (charts::heatmap("confusion", "First against second reading", &o.confusion, &labels))
                (charts::bars("severity", "Rater severity", &severity, "points against the other reading"))
            }
            @for (t, l) in tables.iter().zip(&links).filter(|(t, _)| !measured_names.contains(&t.name)) {
                (shown(t, l))
            }
            h2 { "Raters measured: many-facet Rasch, bias, generalizability" }
            p { "The readings of Part Two in one model: each rater's severity in logits with its standard error, independent of whom they happened to read with; each candidate's fair average (their expected score with average raters); the bias of each rater on each consented group; and what another rater or question would buy in dependability. Methods and sources: the statistics documentation." }
            div class="charts" { (raters_model::map(&model, &rater_name)) }
            @for (t, l) in tables.iter().zip(&links).filter(|(t, _)| measured_names.contains(&t.name)) {
                (shown(t, l))
            }
        }
    };
    Ok(views::page("Rater agreement", Some(&chrome(me, &csrf)), body).into_response())
}
