//! The committee's results of a sitting: the results as stored (Part One raw, equated and which
//! decided), computing and releasing them, the CSV, and the committee's decision on which Part
//! One score the pass mark applies to, with its reason.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::bank::PassOn;
use crate::scoring::results::points_text;
use crate::store::bank as bank_store;
use crate::store::results::{self, PartLine, Pending, StoredResult};

use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::committee::the_sitting;

fn part_cell(p: &PartLine, absent: bool) -> Markup {
    html! {
        @match p {
            PartLine::NotSat => { span class="hint" { "not sat" } }
            PartLine::NotTaken => { span class="hint" { (if absent { "not taken (absent)" } else { "not taken" }) } }
            PartLine::Pending(Pending::NotSubmitted) => { "not submitted" }
            PartLine::Pending(Pending::Voided) => { "voided" }
            PartLine::Pending(Pending::Unsettled(n)) => { (n) " response(s) still being read" }
            PartLine::Pending(Pending::NotComputed) => { "ready, not computed yet" }
            PartLine::Scored(r) => {
                (score_text(r))
                @if let Some(e) = &r.equating {
                    @if let Some(eq) = e.equated_percent { " · equated " (format!("{eq:.1}%")) }
                    " · decided by " (e.decided_by)
                }
                " · " @if r.passed { span class="chip ok" { "pass" } } @else { span class="chip bad" { "fail" } }
            }
        }
    }
}

fn score_text(r: &StoredResult) -> String {
    format!(
        "{} of {} ({:.1}%)",
        points_text(r.points),
        points_text(r.max),
        r.percent()
    )
}

/// What the page says of the sitting's pass-mark policy.
fn policy_text(decided: Option<PassOn>, blueprints: &[(String, PassOn)]) -> String {
    match decided {
        Some(p) => format!("{p} scores (the committee's decision for this sitting)"),
        None => {
            let each: Vec<String> = blueprints
                .iter()
                .map(|(id, p)| format!("{id}: {p}"))
                .collect();
            format!(
                "each blueprint's own policy ({}), as long as the committee has not decided otherwise",
                each.join(", ")
            )
        }
    }
}

fn pass_on_form(csrf: &str, id: i64, current: Option<PassOn>) -> Markup {
    html! {
        form method="post" action={ "/scoring/" (id) "/pass-on" } {
            (csrf_field(csrf))
            fieldset {
                legend { "Part One's pass mark applies to" }
                @for (p, label) in [(PassOn::Raw, "the raw percent correct on the candidate's form"), (PassOn::Equated, "the equated percent (where the pool is calibrated; raw elsewhere)")] {
                    div class="option" {
                        input type="radio" name="pass_on" id={ "pass-on-" (p) } value=(p) checked[current == Some(p)] required;
                        label for={ "pass-on-" (p) } { (label) }
                    }
                }
            }
            label for="pass-on-reason" { "Reason" }
            textarea id="pass-on-reason" name="reason" rows="3" required {}
            button type="submit" { "Apply and re-decide the stored results" }
        }
    }
}

pub async fn results_page(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let page = page(&state, &csrf, id, None).await?;
    Ok(views::page("Results", Some(&chrome(me, &csrf)), page).into_response())
}

async fn page(state: &AppState, csrf: &str, id: i64, outcome: Option<Markup>) -> AppResult<Markup> {
    let sitting = the_sitting(state, id).await?;
    let stored = results::stored(&state.db, id).await?;
    let lines = &stored.lines;
    let released = results::released_at(&state.db, id).await?;
    let decided = results::sitting_pass_on(&state.db, id).await?;
    let blueprints: Vec<(String, PassOn)> = bank_store::blueprints(&state.db)
        .await?
        .into_iter()
        .filter(|b| sitting.blueprints.contains(&b.id))
        .map(|b| (b.id, b.part_one.pass_on))
        .collect();
    let equated = lines
        .iter()
        .filter(|l| {
            matches!(&l.parts[0], PartLine::Scored(r)
                if r.equating.as_ref().is_some_and(|e| e.equated_percent.is_some()))
        })
        .count();
    Ok(html! {
        h1 { "Results: " (sitting.name) }
        @if let Some(o) = outcome { (o) }
        @match &stored.computed {
            None => p class="notice" role="status" id="results-state" {
                "Not computed yet: no results are stored for this sitting. "
                "Compute them to see every score as it stands now."
            },
            Some((at, by)) => p role="status" id="results-state" {
                "Computed at " (crate::web::time::local(*at, &sitting.time_zone)) " by " (by) "; these are the results as stored."
                @if !stored.changes.is_empty() {
                    " " strong {
                        "Out of date: since this computation, " (stored.changes.join(", ")) ". "
                        "Compute again to bring them up to date."
                    }
                }
            },
        }
        @if released.is_some() {
            p class="notice" role="status" { "These results are released: candidates see their score reports." }
        } @else {
            form method="post" action={ "/scoring/" (id) "/results/compute" } {
                (csrf_field(csrf))
                button type="submit" { "Compute results" }
            }
            p { "Candidates see nothing until the results are released. Release computes and stores them once more, and is possible once every part sat is scored." }
            form method="post" action={ "/scoring/" (id) "/release" } {
                (csrf_field(csrf))
                button type="submit" { "Release these results to candidates" }
            }
        }
        p { a href={ "/scoring/" (id) "/results.csv" } download { "Download the results (CSV)" } }
        h2 id="pass-on" { "Which Part One score decides" }
        p id="pass-on-policy" { "Part One's pass mark applies to " (policy_text(decided, &blueprints)) "." }
        p {
            "Each Part One result keeps its raw percent and, where the pool was calibrated when it was computed, its equated percent: the raw score taken through the candidate's own form's test characteristic curve to an ability, then to the percent expected on the whole operational pool, so forms of different difficulty count alike. "
            (equated) " result(s) here have an equated percent. "
            "A change re-decides every stored Part One result of this sitting from its stored figures, and the audit log keeps the reason and each decision that changed. "
            a href="/keys" { "Decisions so far" } " are listed with the key changes."
        }
        (pass_on_form(csrf, id, decided))
        h2 { "Candidates" }
        @if !lines.is_empty() {
            dl class="summary" id="results-summary" {
                dt { "Candidates" } dd { (lines.len()) }
                dt { "Passed the exam" } dd { (lines.iter().filter(|l| l.exam_passed == Some(true)).count()) }
                dt { "Not passed" } dd { (lines.iter().filter(|l| l.exam_passed == Some(false)).count()) }
                dt { "Not decided yet" } dd { (lines.iter().filter(|l| l.exam_passed.is_none()).count()) }
            }
        }
        div class={ "table-wrap" @if lines.len() > 12 { " tall" } } role="region" tabindex="0" aria-label="Candidates and their results" { table {
            thead { tr { th scope="col" { "Candidate" } th scope="col" { "Level" } th scope="col" { "Part One" } th scope="col" { "Part Two" } th scope="col" { "Exam" } th scope="col" { "Feedback" } } }
            tbody {
                @for l in lines {
                    tr {
                        td { (l.registration.name) }
                        td { (l.registration.level) }
                        td { (part_cell(&l.parts[0], l.registration.absent_at.is_some())) }
                        td { (part_cell(&l.parts[1], l.registration.absent_at.is_some())) }
                        td { @match l.exam_passed { Some(true) => span class="chip ok" { "passed" }, Some(false) => span class="chip bad" { "not passed" }, None => "" } }
                        td {
                            @if let PartLine::Scored(r) = &l.parts[1] {
                                @for resp in &r.detail.responses {
                                    a href={ "/scoring/responses/" (resp.response_id) "/feedback" } { "Response " (resp.item_id) } " "
                                }
                            }
                        }
                    }
                }
            }
        } }
    })
}

pub async fn results_csv(
    State(state): State<AppState>,
    _: Committee,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let sitting = the_sitting(&state, id).await?;
    let lines = results::stored(&state.db, id).await?.lines;
    let name: String = sitting
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok(super::stats::csv_response(
        &format!("results-{name}.csv"),
        results::results_csv(&lines),
    ))
}

/// The committee computes the sitting's results and stores them, in one transaction.
pub async fn compute(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    if let Err(e) = results::store(&state.db, id, &me.username).await? {
        return Err(AppError::BadRequest(format!(
            "The results cannot be computed again: {e}; a key change rescores them."
        )));
    }
    Ok(Redirect::to(&format!("/scoring/{id}/results")).into_response())
}

pub async fn release(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    match results::release(&state.db, id, &me.username).await? {
        Ok(_) => Ok(Redirect::to(&format!("/scoring/{id}/results")).into_response()),
        Err(e) => Err(AppError::BadRequest(format!(
            "The results cannot be released yet: {e}."
        ))),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PassOnForm {
    #[serde(default)]
    pub pass_on: String,
    #[serde(default)]
    pub reason: String,
}

/// The committee decides which Part One score the sitting's pass mark applies to: recorded
/// with its reason, audited, and every stored Part One result re-decided.
pub async fn change_pass_on(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Form(f): Form<PassOnForm>,
) -> AppResult<Response> {
    the_sitting(&state, id).await?;
    let mut errors = Vec::new();
    let pass_on = match f.pass_on.trim().parse::<PassOn>() {
        Ok(p) => Some(p),
        Err(_) => {
            errors.push(format!(
                "Pass mark applies to: \"{}\" is neither raw nor equated.",
                f.pass_on
            ));
            None
        }
    };
    if f.reason.trim().is_empty() {
        errors.push(
            "Reason: say why the pass mark applies to this score; it is kept in the audit log."
                .into(),
        );
    }
    let nav = chrome(me, &csrf);
    let Some(pass_on) = pass_on.filter(|_| errors.is_empty()) else {
        let outcome = html! { div class="error" role="alert" { @for e in &errors { p { (e) } } } };
        let body = page(&state, &csrf, id, Some(outcome)).await?;
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            views::page("Results", Some(&nav), body),
        )
            .into_response());
    };
    let redecided =
        results::change_pass_on(&state.db, id, pass_on, &f.reason, &me.username).await?;
    let changed = redecided.iter().filter(|r| r.before.1 != r.after.1).count();
    let outcome = html! {
        p class="notice" role="status" id="pass-on-outcome" {
            "Part One's pass mark now applies to " (pass_on) " scores. " (redecided.len()) " stored result(s) re-decided; "
            (changed) " changed between pass and fail."
        }
    };
    let body = page(&state, &csrf, id, Some(outcome)).await?;
    Ok(views::page("Results", Some(&nav), body).into_response())
}
