//! The committee's fairness page: Mantel-Haenszel DIF of a sitting's Part One items between the
//! groups of an optional, self-reported question (candidates answer with consent).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use crate::stats::dif_poly::{dif_poly, PolyResponse};
use crate::stats::{dif, Group};
use crate::store::analysis;

use super::item_stats::sitting_data;
use super::stats::{csv_response, heads, num, off_runtime, Sort, Table};
use crate::web::charts;
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
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
}

pub async fn dif_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<DifQuery>,
) -> AppResult<Response> {
    let sitting = super::committee::the_sitting(&state, id).await?;
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
    let points: Vec<charts::DifPoint> = rows
        .iter()
        .filter_map(|i| {
            Some(charts::DifPoint {
                item: i.item.clone(),
                d: i.mh.d_dif?,
                se: i.mh.d_dif_se?,
                class: i.mh.ets_class.and_then(|c| c.to_string().chars().next()),
            })
        })
        .collect();
    let mut table = Table {
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
    let mut part_two = part_two_table(&state, id, &answers, focal, reference).await?;
    let order = Sort::parse(q.sort.as_deref(), q.dir.as_deref());
    let base = format!(
        "/stats/{id}/dif?question={}&focal={focal}&reference={reference}&",
        question.key
    );
    let dif_links = table.sorted(order.as_ref(), true, &base);
    let part_two_links = part_two.sorted(order.as_ref(), false, &base);
    match q.csv.as_deref() {
        Some("part_two") => {
            return Ok(csv_response(
                &format!("dif-part-two-{id}-{}.csv", question.key),
                part_two.csv(),
            ))
        }
        Some(_) => {
            return Ok(csv_response(
                &format!("dif-{id}-{}.csv", question.key),
                table.csv(),
            ))
        }
        None => {}
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
    let class_cell = |code: &str, c: &str| -> Option<maud::Markup> {
        if code != "ets_class" || c.is_empty() {
            return None;
        }
        let tone = match c.chars().next() {
            Some('C') => "bad",
            Some('B') => "warn",
            Some('A') => "ok",
            _ => return None,
        };
        Some(html! { span class={ "chip " (tone) } { (c) } })
    };
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
        div class="charts" {
            (charts::dif("dif-chart", "D-DIF of each item with its 95% interval, over the ETS bands", &points))
        }
        (table.view(&href).sortable(dif_links).cells(&class_cell).render())
        h2 { "Part Two questions" }
        p { "Each Part Two question's resolved score (in half points), compared between the same groups by Mantel's test and the standardised mean difference (SMD, focal minus reference, in points), with candidates matched on their Part One percent in bands of five points (Part Two totals are not comparable: candidates answer different vignettes). ETS's classes for polytomous items: CC when p < .05 and |SMD/SD| > .25, BB when p < .05 and |SMD/SD| > .17, else AA. Questions read by too few candidates of a group are listed with the reason." }
        (part_two.view(&format!("{}&csv=part_two", href.trim_end_matches("&csv=1"))).sortable(part_two_links).cells(&class_cell).render())
    };
    Ok(views::page("Fairness (DIF)", Some(&chrome(me, &csrf)), body).into_response())
}

/// Part Two's polytomous DIF, per question: the resolved score in half points (0..=2 × max),
/// matched on the candidate's stored Part One percent in bands of five points.
async fn part_two_table(
    state: &AppState,
    id: i64,
    answers: &std::collections::BTreeMap<i64, String>,
    focal: &str,
    reference: &str,
) -> AppResult<Table> {
    let stored = crate::store::results::stored(&state.db, id).await?;
    let band: std::collections::BTreeMap<i64, u32> = stored
        .lines
        .iter()
        .filter_map(|l| match &l.parts[0] {
            crate::store::results::PartLine::Scored(r) if r.max > 0.0 => {
                Some((l.registration.id, (r.percent() / 5.0).floor() as u32))
            }
            _ => None,
        })
        .collect();
    let scores = analysis::part_two_scores(&state.db, id).await?;
    let mut by_item: std::collections::BTreeMap<String, (u32, Vec<PolyResponse>)> =
        std::collections::BTreeMap::new();
    for (reg, item, score, max) in scores {
        let group = match answers.get(&reg).map(String::as_str) {
            Some(a) if a == focal => Group::Focal,
            Some(a) if a == reference => Group::Reference,
            _ => continue,
        };
        let Some(stratum) = band.get(&reg) else {
            continue;
        };
        let entry = by_item.entry(item).or_insert((2 * max, Vec::new()));
        entry.1.push(PolyResponse {
            group,
            stratum: *stratum,
            score: (score * 2.0).round() as u32,
        });
    }
    let rows = off_runtime(move || {
        by_item
            .into_iter()
            .map(|(item, (max, responses))| match dif_poly(&responses, max) {
                Ok(d) => vec![
                    item,
                    d.strata.to_string(),
                    d.reference.to_string(),
                    d.focal.to_string(),
                    num(Some(d.mantel_chi2)),
                    num(Some(d.p_value)),
                    num(Some(d.smd / 2.0)),
                    num(Some(d.smd_sd)),
                    d.ets_class.to_string(),
                ],
                Err(e) => {
                    let mut row = vec![item];
                    row.extend(std::iter::repeat_n(String::new(), 7));
                    row.push(format!("not estimated: {e}"));
                    row
                }
            })
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(Table {
        name: "part_two",
        caption: format!(
            "Part Two questions: polytomous DIF, focal \"{focal}\" against reference \"{reference}\""
        ),
        headers: heads(&[
            "question", "strata", "reference", "focal", "mantel_chi2", "p_value", "smd_points",
            "smd_sd", "ets_class",
        ]),
        rows,
    })
}
