//! The committee's fairness page: Mantel-Haenszel DIF of a sitting's Part One items between the
//! groups of an optional, self-reported question (candidates answer with consent).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use crate::stats::{dif, Group};
use crate::store::{analysis, sittings};

use super::item_stats::sitting_data;
use super::stats::{csv_response, heads, num, off_runtime, Table};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views;
use crate::web::views::staff_chrome as chrome;
use crate::web::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct DifQuery {
    #[serde(default)]
    pub question: Option<String>,
    #[serde(default)]
    pub focal: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub csv: Option<String>,
}

pub async fn dif_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<DifQuery>,
) -> AppResult<Response> {
    let sitting = sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let question = crate::demographics::question(q.question.as_deref().unwrap_or("language"))
        .ok_or_else(|| {
            AppError::BadRequest("Question: not one of the optional questions.".into())
        })?;
    let answer = |v: Option<&str>, default: usize| -> AppResult<&'static str> {
        match v {
            None => Ok(question.answers[default.min(question.answers.len() - 1)].0),
            Some(v) => question
                .answers
                .iter()
                .find(|(a, _)| *a == v)
                .map(|(a, _)| *a)
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "\"{v}\" is not an answer to \"{}\".",
                        question.text
                    ))
                }),
        }
    };
    let reference = answer(q.reference.as_deref(), 0)?;
    let focal = answer(q.focal.as_deref(), 1)?;
    if focal == reference {
        return Err(AppError::BadRequest(
            "The focal and the reference group must differ.".into(),
        ));
    }
    let data = sitting_data(&state.db, id).await?;
    let answers = analysis::answers_to(&state.db, id, question.key).await?;
    let groups: Vec<Option<Group>> = data
        .registrations
        .iter()
        .map(|r| match answers.get(r).map(String::as_str) {
            Some(a) if a == focal => Some(Group::Focal),
            Some(a) if a == reference => Some(Group::Reference),
            _ => None,
        })
        .collect();
    let report = off_runtime(move || dif(&data.responses, &groups)).await?;
    let mut rows: Vec<&crate::stats::dif::DifItem> = report.items.iter().collect();
    // Class C first, then B, then the rest; within a class the largest |D| first.
    let rank = |x: &crate::stats::dif::DifItem| match x.mh.ets_class.map(|c| c.to_string()) {
        Some(c) if c.starts_with('C') => 0,
        Some(c) if c.starts_with('B') => 1,
        Some(_) => 2,
        None => 3,
    };
    rows.sort_by(|a, b| {
        let d = |x: &crate::stats::dif::DifItem| x.mh.d_dif.map_or(-1.0, f64::abs);
        rank(a).cmp(&rank(b)).then(d(b).total_cmp(&d(a)))
    });
    let table = Table {
        name: "dif",
        caption: format!(
            "Mantel-Haenszel DIF, focal \"{focal}\" ({}) against reference \"{reference}\" ({}); flagged classes first, then the largest |D|",
            report.focal, report.reference
        ),
        headers: heads(&["item", "strata", "reference", "focal", "alpha_mh", "chi2_mh", "p_value", "d_dif", "d_dif_se", "ets_class"]),
        rows: rows
            .iter()
            .map(|i| {
                vec![
                    i.item.clone(),
                    i.mh.strata.to_string(),
                    i.mh.reference.to_string(),
                    i.mh.focal.to_string(),
                    num(i.mh.alpha_mh),
                    num(i.mh.chi2_mh),
                    num(i.mh.p_value),
                    num(i.mh.d_dif),
                    num(i.mh.d_dif_se),
                    i.mh.ets_class.map(|c| c.to_string()).unwrap_or_default(),
                ]
            })
            .collect(),
    };
    if q.csv.is_some() {
        return Ok(csv_response(
            &format!("dif-{id}-{}.csv", question.key),
            table.csv(),
        ));
    }
    let flagged = rows
        .iter()
        .filter(|i| {
            i.mh.ets_class
                .is_some_and(|c| !matches!(c, crate::stats::EtsClass::A))
        })
        .count();
    let href = format!(
        "/stats/{id}/dif?question={}&focal={focal}&reference={reference}&csv=1",
        question.key
    );
    let body = html! {
        p class="hint" { a href={ "/stats/" (id) "/items" } { "Item statistics" } " · " a href={ "/stats/" (id) "/report" } { "Technical report" } }
        h1 { "Fairness (DIF): " (sitting.name) }
        p { "Groups come from the candidates' optional answers, given with consent. Candidates are matched on their total score; an item in class B or C works differently for the two groups at the same score (+ favours the focal group, − the reference group)." }
        form method="get" action={ "/stats/" (id) "/dif" } {
            label for="question" { "Question" }
            select id="question" name="question" {
                @for qq in crate::demographics::QUESTIONS {
                    option value=(qq.key) selected[qq.key == question.key] { (qq.text) }
                }
            }
            label for="focal" { "Focal group" }
            select id="focal" name="focal" {
                @for (v, l) in question.answers { option value=(v) selected[*v == focal] { (l) } }
            }
            label for="reference" { "Reference group" }
            select id="reference" name="reference" {
                @for (v, l) in question.answers { option value=(v) selected[*v == reference] { (l) } }
            }
            button type="submit" { "Analyse" }
        }
        p role="status" { (flagged) " item(s) in class B or C." }
        table {
            caption { (table.caption) " · " a href=(href) download { "CSV" } }
            thead { tr { @for h in &table.headers { th scope="col" { (h) } } } }
            tbody {
                @for r in &table.rows {
                    tr {
                        @for (i, c) in r.iter().enumerate() {
                            @if i == 9 && (c.starts_with('B') || c.starts_with('C')) { td { strong class="flag" { (c) } } }
                            @else { td { (c) } }
                        }
                    }
                }
            }
        }
    };
    Ok(views::page("Fairness (DIF)", Some(&chrome(me, &csrf)), body).into_response())
}
