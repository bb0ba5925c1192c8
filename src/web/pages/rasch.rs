//! The committee's Rasch calibration of a sitting's Part One: the stored calibration (every
//! item's difficulty on the bank's scale, its standard error, fit and drift), downloadable as
//! CSV, and the explicit action that calibrates again.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::stats::rasch::link::DRIFT_LOGITS;
use crate::store::calibration::{self, CalibrateError};
use crate::store::sittings;

use super::stats::{csv_response, heads, num, Sort, Table};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct RaschQuery {
    #[serde(default)]
    pub csv: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub cols: Option<String>,
}

/// The calibration table's columns left out unless all are asked for (`?cols=all`).
const HIDDEN: &[&str] = &["infit_z", "outfit_z", "correct"];

fn table(rows: &[calibration::ItemRow]) -> Table {
    Table {
        name: "rasch",
        caption: format!(
            "{} item versions calibrated; difficulty in logits, higher is harder",
            rows.len()
        ),
        headers: heads(&[
            "item",
            "version",
            "difficulty",
            "se",
            "infit",
            "outfit",
            "infit_z",
            "outfit_z",
            "presented",
            "correct",
            "excluded",
            "earlier",
            "drift",
        ]),
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.item_id.clone(),
                    r.item_version.to_string(),
                    num(r.difficulty),
                    num(r.se),
                    num(r.infit),
                    num(r.outfit),
                    num(r.infit_z),
                    num(r.outfit_z),
                    r.presented.to_string(),
                    r.correct.to_string(),
                    r.excluded.clone().unwrap_or_default(),
                    num(r.earlier),
                    if r.drifted == 1 {
                        "drift".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect(),
    }
}

/// The forms' difficulty spread, a row per blueprint.
pub(super) fn spread_table(spreads: &[calibration::BlueprintSpread]) -> Table {
    let f = num;
    Table {
        name: "spread",
        caption: "Forms' expected percent correct at θ_cut, by blueprint".into(),
        headers: heads(&[
            "blueprint",
            "forms",
            "theta_cut",
            "target",
            "tolerance",
            "mean",
            "sd",
            "min",
            "max",
            "within_tolerance",
            "partial_forms",
            "cut_on",
        ]),
        rows: spreads
            .iter()
            .map(|b| {
                let s = b.spread.as_ref();
                vec![
                    b.blueprint.clone(),
                    s.map_or(0, |s| s.forms).to_string(),
                    f(Some(b.target.theta_cut)),
                    f(Some(b.target.percent)),
                    f(Some(b.target.tolerance)),
                    f(s.map(|s| s.mean)),
                    f(s.map(|s| s.sd)),
                    f(s.map(|s| s.min)),
                    f(s.map(|s| s.max)),
                    b.within.to_string(),
                    b.partial_forms.to_string(),
                    b.reference.describe(),
                ]
            })
            .collect(),
    }
}

pub async fn rasch_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Query(q): Query<RaschQuery>,
) -> AppResult<Response> {
    let sitting = super::committee::the_sitting(&state, id).await?;
    let rows = calibration::of_sitting(&state.db, id).await?;
    let mut t = table(&rows);
    let order = Sort::parse(q.sort.as_deref(), q.dir.as_deref());
    let all_columns = q.cols.as_deref() == Some("all");
    let base = if all_columns {
        format!("/stats/{id}/rasch?cols=all&")
    } else {
        format!("/stats/{id}/rasch?")
    };
    let links = t.sorted(order.as_ref(), true, &base);
    if q.csv.as_deref().is_some_and(|c| c != "spread") {
        return Ok(csv_response(&format!("rasch-{id}.csv"), t.csv()));
    }
    let spreads = calibration::form_spread(&state.db, id).await?;
    let mut spread = spread_table(&spreads);
    let spread_links = spread.sorted(order.as_ref(), false, &base);
    if q.csv.as_deref() == Some("spread") {
        return Ok(csv_response(
            &format!("rasch-{id}-spread.csv"),
            spread.csv(),
        ));
    }
    let drifting: Vec<&str> = rows
        .iter()
        .filter(|r| r.drifted == 1)
        .map(|r| r.item_id.as_str())
        .collect();
    let body = html! {
        p class="hint" { a href={ "/stats/" (id) "/items" } { "Item statistics" } " · " a href={ "/stats/" (id) "/dif" } { "Fairness (DIF)" } " · " a href={ "/stats/" (id) "/report" } { "Technical report" } }
        h1 { "Rasch calibration: " (sitting.name) }
        p { "Part One's scored items, calibrated by conditional maximum likelihood over every candidate's own form, then linked onto the scale of the items' earlier calibrations (mean-mean over the items both have). An item whose difficulty moved more than " (DRIFT_LOGITS) " logits since is flagged as drifting." }
        form method="post" action={ "/stats/" (id) "/calibrate" } {
            (csrf_field(&csrf))
            button type="submit" { @if rows.is_empty() { "Calibrate this sitting" } @else { "Calibrate again" } }
        }
        @if let Some(r) = rows.first() {
            p role="status" id="calibration-state" {
                "Calibrated at " (crate::web::time::local(r.computed_at, &sitting.time_zone)) " by " (r.computed_by) ". "
                @if drifting.is_empty() { "No item drifted." } @else { strong { "Drifting: " (drifting.join(", ")) "." } }
            }
            (t.view(&format!("/stats/{id}/rasch?csv=1"))
                .hide(if all_columns { &[] } else { HIDDEN }, format!("/stats/{id}/rasch?cols=all#t-rasch"))
                .sortable(links)
                .render())
            h2 id="spread" { "The forms' difficulty at the cut" }
            p { "Each candidate's Part One form, by its expected percent correct at the cut's measure θ_cut (the ability whose expected percent on the blueprint's operational pool is the pass percent), over its calibrated scored items. Forms of equal difficulty have equal percents; a fair form is within the blueprint's tolerance of the target." }
            @if spreads.is_empty() {
                p { "No submitted Part One form could be placed on the scale." }
            } @else {
                (spread.view(&format!("/stats/{id}/rasch?csv=spread")).sortable(spread_links).render())
            }
        } @else {
            p id="calibration-state" { "Not calibrated yet." }
        }
    };
    Ok(views::page("Rasch calibration", Some(&chrome(me, &csrf)), body).into_response())
}

pub async fn calibrate(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    match calibration::calibrate(&state.db, id, &me.username).await {
        Ok(_) => Ok(Redirect::to(&format!("/stats/{id}/rasch")).into_response()),
        Err(CalibrateError::Data(why)) => Err(AppError::BadRequest(format!(
            "This sitting cannot be calibrated: {why}."
        ))),
        Err(CalibrateError::Store(e)) => Err(e.into()),
    }
}
