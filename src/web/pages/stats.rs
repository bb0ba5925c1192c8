//! The committee's statistics pages for a sitting: rater agreement (and, with the item module,
//! item statistics). Every table is built once as rows of text and rendered both as HTML and as
//! a CSV download, so the two never disagree; charts are SVG drawn here.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use crate::stats::{agreement, AgreementReport, PairStats, Scale};
use crate::store::{analysis, ratings, sittings};

use crate::web::charts;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views;
use crate::web::views::staff_chrome as chrome;
use crate::web::AppState;

use super::raters_model;

/// A table as rows of text: shown as HTML, downloaded as CSV.
pub(crate) struct Table {
    pub name: &'static str,
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn html(&self, csv_href: &str) -> Markup {
        html! {
            table {
                caption { (self.caption) " · " a href=(csv_href) download { "CSV" } }
                thead { tr { @for h in &self.headers { th scope="col" { (h) } } } }
                tbody {
                    @for r in &self.rows {
                        tr {
                            @for c in r {
                                @match shown(c) {
                                    Some(short) => td class="n" title=(c) { (short) }
                                    None => td { (c) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    pub fn csv(&self) -> String {
        let mut w = crate::csv_safe::Writer::new();
        w.write_record(&self.headers);
        for r in &self.rows {
            w.write_record(r);
        }
        w.into_string()
    }
}

/// A cell's number as people read it on the page: three decimals at most, trailing zeros
/// dropped (the CSV keeps every digit, and the cell's title holds it too). None for a cell
/// that is not a number with a fraction (ids, counts, words stay as they are).
fn shown(cell: &str) -> Option<String> {
    if !cell.contains(['.', 'e', 'E']) {
        return None;
    }
    let x: f64 = cell.parse().ok().filter(|x: &f64| x.is_finite())?;
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    Some(if s == "-0" { "0".into() } else { s.to_string() })
}

/// Runs a statistic off the async runtime: at full size one takes up to hundreds of
/// milliseconds, which must not hold up the saves the same worker threads serve.
pub(crate) async fn off_runtime<T, F>(f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a statistics task failed: {e}")))
}

pub(crate) fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

pub(crate) fn heads(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// A statistic for a table: full precision (it is also the CSV's), empty when undefined.
pub(crate) fn num(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// A statistic for reading: three decimals, "–" when undefined.
pub(crate) fn show(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{v:.3}"))
}

#[derive(Debug, Default, Deserialize)]
pub struct CsvQuery {
    #[serde(default)]
    pub csv: Option<String>,
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
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
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
            dl class="facts" {
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
            @for t in tables.iter().filter(|t| !measured_names.contains(&t.name)) {
                (t.html(&format!("/stats/{id}/agreement?csv={}", t.name)))
            }
            h2 { "Raters measured: many-facet Rasch, bias, generalizability" }
            p { "The readings of Part Two in one model: each rater's severity in logits with its standard error, independent of whom they happened to read with; each candidate's fair average (their expected score with average raters); the bias of each rater on each consented group; and what another rater or question would buy in dependability. Methods and sources: the statistics documentation." }
            div class="charts" { (raters_model::map(&model, &rater_name)) }
            @for t in tables.iter().filter(|t| measured_names.contains(&t.name)) {
                (t.html(&format!("/stats/{id}/agreement?csv={}", t.name)))
            }
        }
    };
    Ok(views::page("Rater agreement", Some(&chrome(me, &csrf)), body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn numbers_are_shown_to_three_decimals_and_words_as_they_are() {
        assert_eq!(shown("0.28571428571428575").as_deref(), Some("0.286"));
        assert_eq!(shown("12.5").as_deref(), Some("12.5"));
        assert_eq!(shown("-0.0001").as_deref(), Some("0"));
        assert_eq!(shown("2.5e-7").as_deref(), Some("0"));
        assert_eq!(shown("1.0").as_deref(), Some("1"));
        for kept in [
            "42", "TF-0001", "CL01-Q2", "rater1", "", "AA", "inf", "NaN", "set 1",
        ] {
            assert_eq!(shown(kept), None, "{kept}");
        }
    }

    /// A statistic runs on a thread of its own: on a runtime with a single worker, a task that
    /// the statistic waits for still runs. Were the statistic run inline, that worker would be
    /// held by it and the task could not run until the statistic gave up.
    #[tokio::test(flavor = "current_thread")]
    async fn a_statistic_leaves_the_runtime_free() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let heard = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.send(()).is_ok()
        });
        let waited = off_runtime(move || rx.recv_timeout(Duration::from_secs(10)).is_ok())
            .await
            .unwrap();
        assert!(
            waited,
            "the runtime's only worker was held by the statistic"
        );
        assert!(heard.await.unwrap());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_statistic_that_panics_is_an_error_page_not_a_dead_worker() {
        let err = off_runtime(|| -> u8 { panic!("a bug in a statistic") })
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Internal(_)), "{err:?}");
    }
}
