//! An adopted pass mark's page: what was adopted, by whom and why, what it did to the
//! blueprint's unreleased sittings, and for each released sitting who would change (by
//! registration number, pass → fail and fail → pass) with the committee's decision for it:
//! re-decide its results with a reason, or leave them as released (`store::results::pass_mark`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::scoring::results::points_text;
use crate::store::results::pass_mark::{self, PassMarkChange, Redecision, ReleasedPolicy};
use crate::store::sittings;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::{self, csrf_field, field_error, scroll_box, staff_chrome as chrome};
use crate::web::AppState;

pub fn part_name(part: u8) -> &'static str {
    if part == 1 {
        "Part One"
    } else {
        "Part Two"
    }
}

/// Errors of one sitting's decision form, by field.
#[derive(Debug, Default)]
struct SittingErrors {
    sitting: i64,
    decision: Option<String>,
    reason: Option<String>,
    other: Option<String>,
}

fn word(p: bool) -> &'static str {
    if p {
        "pass"
    } else {
        "fail"
    }
}

/// Who would change in one released sitting, by registration number.
fn changes_table(sitting: i64, rows: &[Redecision]) -> Markup {
    let changing: Vec<&Redecision> = rows.iter().filter(|r| r.changed()).collect();
    let to_fail = changing.iter().filter(|r| r.before).count();
    let to_pass = changing.len() - to_fail;
    html! {
        p id={ "preview-" (sitting) } {
            (rows.len()) " released result(s); re-decided on the adopted mark, "
            strong { (to_fail) " would change from pass to fail" } " and "
            strong { (to_pass) " from fail to pass" } "."
        }
        @if !changing.is_empty() {
            (scroll_box(&format!("Who would change in sitting {sitting}"), html! {
                table class="stats" {
                    caption { "Who would change in sitting " (sitting) }
                    thead { tr {
                        th scope="col" { "Registration" }
                        th scope="col" { "Points" }
                        th scope="col" { "Now" }
                        th scope="col" { "Would be" }
                    } }
                    tbody {
                        @for r in &changing {
                            tr {
                                td { (r.registration_id) }
                                td { (points_text(r.points)) " of " (points_text(r.max)) }
                                td { span class={ "chip " (if r.before { "ok" } else { "bad" }) } { (word(r.before)) } }
                                td { span class={ "chip " (if r.after { "ok" } else { "bad" }) } { (word(r.after)) } }
                            }
                        }
                    }
                }
            }))
        }
    }
}

fn decision_form(csrf: &str, change: i64, sitting: i64, errors: Option<&SittingErrors>) -> Markup {
    let e = errors.filter(|e| e.sitting == sitting);
    let id = |what: &str| format!("s{sitting}-{what}");
    html! {
        form method="post" action={ "/pass-marks/" (change) "/sittings/" (sitting) } class="stack" {
            (csrf_field(csrf))
            @if let Some(msg) = e.and_then(|e| e.other.as_ref()) {
                p class="error" role="alert" { (msg) }
            }
            fieldset aria-describedby=[e.and_then(|e| e.decision.as_ref()).map(|_| id("decision-error"))] {
                legend { "Sitting " (sitting) ": the committee's decision" }
                (field_error(&id("decision-error"), e.and_then(|e| e.decision.as_ref())))
                div class="option" {
                    input type="radio" name="decision" id=(id("redecide")) value="redecide";
                    label for=(id("redecide")) { "Re-decide its released results on the adopted pass mark" }
                }
                div class="option" {
                    input type="radio" name="decision" id=(id("keep")) value="keep";
                    label for=(id("keep")) { "Leave its results as released" }
                }
            }
            label for=(id("reason")) { "Reason (kept in the audit log)" }
            (field_error(&id("reason-error"), e.and_then(|e| e.reason.as_ref())))
            textarea id=(id("reason")) name="reason" rows="3" required
                aria-describedby=[e.and_then(|e| e.reason.as_ref()).map(|_| id("reason-error"))] {}
            button type="submit" { "Record the decision for sitting " (sitting) }
        }
    }
}

async fn body(
    state: &AppState,
    csrf: &str,
    c: &PassMarkChange,
    errors: Option<&SittingErrors>,
    outcome: Option<Markup>,
) -> AppResult<Markup> {
    let preview = pass_mark::preview(&state.db, c.id)
        .await?
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let decisions = pass_mark::sitting_decisions(&state.db, c.id).await?;
    let newest = pass_mark::changes(&state.db)
        .await?
        .into_iter()
        .find(|x| x.blueprint_id == c.blueprint_id && x.part == c.part)
        .is_some_and(|x| x.id == c.id);
    let names: std::collections::BTreeMap<i64, String> = sittings::list_sittings(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let name = |s: i64| {
        names
            .get(&s)
            .cloned()
            .unwrap_or_else(|| format!("sitting {s}"))
    };
    let (mark, previous) = (c.mark()?, c.previous()?);
    Ok(html! {
        h1 { "Pass mark " (mark) "% adopted: " (c.blueprint_id) ", " (part_name(c.part())) }
        @if let Some(o) = outcome { (o) }
        dl class="summary" id="adoption" {
            dt { "Pass mark" } dd { (previous) "% → " strong { (mark) "%" } }
            dt { "Reason" } dd { (c.reason) }
            dt { "Adopted by" } dd { (c.changed_by) ", " (crate::web::time::utc_text(c.changed_at)) }
            @if let Some(s) = c.study_id {
                dt { "From study" } dd { a href={ "/studies/" (s) "/results" } { "Study " (s) } }
            }
        }
        @if !newest {
            p class="notice" role="status" { "A newer pass mark has been adopted for this blueprint part since: decide on that one." }
        }
        h2 { "Sittings" }
        @if decisions.is_empty() && preview.is_empty() {
            p { "No sitting of this blueprint has results of this part yet: the adopted mark applies when they are computed." }
        }
        @for d in &decisions {
            section aria-labelledby={ "sitting-" (d.sitting_id) } {
                h3 id={ "sitting-" (d.sitting_id) } { (name(d.sitting_id)) }
                p id={ "decided-" (d.sitting_id) } {
                    @if d.decision == "kept" {
                        "Left as released"
                    } @else {
                        "Re-decided: " (d.redecided) " result(s), " (d.changed) " changed between pass and fail"
                    }
                    " (" (d.decided_by) ", " (crate::web::time::utc_text(d.decided_at)) "; reason: " (d.reason) ")."
                }
            }
        }
        @for (sitting, rows) in &preview {
            @if !decisions.iter().any(|d| d.sitting_id == *sitting) {
                section aria-labelledby={ "sitting-" (sitting) } {
                    h3 id={ "sitting-" (sitting) } { (name(*sitting)) " " span class="chip warn" { "released: awaiting the committee" } }
                    (changes_table(*sitting, rows))
                    @if newest { (decision_form(csrf, c.id, *sitting, errors)) }
                }
            }
        }
    })
}

async fn the_change(state: &AppState, id: i64) -> AppResult<PassMarkChange> {
    pass_mark::change(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /pass-marks/{change}`.
pub async fn show(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let c = the_change(&state, id).await?;
    let body = body(&state, &csrf, &c, None, None).await?;
    Ok(views::page("Adopted pass mark", Some(&chrome(me, &csrf)), body).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
}

/// `POST /pass-marks/{change}/sittings/{sitting}`: the committee's decision for one released
/// sitting. Errors re-render the page with the message at the field.
pub async fn decide(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path((id, sitting)): Path<(i64, i64)>,
    Form(f): Form<DecisionForm>,
) -> AppResult<Response> {
    let c = the_change(&state, id).await?;
    let mut errors = SittingErrors {
        sitting,
        ..SittingErrors::default()
    };
    let policy = match f.decision.trim() {
        "redecide" => Some(ReleasedPolicy::Redecide),
        "keep" => Some(ReleasedPolicy::Keep),
        "" => {
            errors.decision = Some("Decision: choose re-decide or leave as released.".into());
            None
        }
        other => {
            errors.decision = Some(format!(
                "Decision: \"{other}\" is neither redecide nor keep."
            ));
            None
        }
    };
    if f.reason.trim().is_empty() {
        errors.reason =
            Some("Reason: say why; it is kept in the audit log with the decision.".into());
    }
    if let Some(policy) = policy.filter(|_| errors.reason.is_none()) {
        match pass_mark::decide_released(&state.db, id, sitting, policy, &f.reason, &me.username)
            .await?
        {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/pass-marks/{id}#sitting-{sitting}")).into_response()
                )
            }
            Err(e) => errors.other = Some(capitalised(&e.to_string())),
        }
    }
    let nav = chrome(me, &csrf);
    let body = body(&state, &csrf, &c, Some(&errors), None).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        views::page("Adopted pass mark", Some(&nav), body),
    )
        .into_response())
}

/// "reason: give ..." → "Reason: give ...": the store's refusals name the field first.
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
