//! Finishing a part: the review, the submission and the receipt.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::exam::chain::receipt;
use crate::store::attempts;
use crate::store::{bank as bank_store, now_ms};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::{Candidate, OpenAttempt, PartNo, PART_IN_PATH};
use crate::web::session::CsrfToken;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::breaks::paused_page;
use super::part_one::navigator;
use super::part_two::{chosen_set, word_count};
use super::{chrome, part_name, timer};

pub async fn review(
    State(state): State<AppState>,
    OpenAttempt {
        reg,
        attempt: a,
        newest_event,
        sitting,
        ..
    }: OpenAttempt<PART_IN_PATH>,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let part = a.part;
    let answers = attempts::current_answers(&state.db, a.id, newest_event).await?;
    if a.clock.is_paused_at(now_ms()) {
        return Ok(paused_page(&reg, &csrf, &a, &answers, &sitting.time_zone));
    }
    let bps = bank_store::blueprints(&state.db).await?;
    let k = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .map_or(0, |b| b.part_two.answer) as usize;
    let now = now_ms();
    let body = html! {
        (timer(&a, now, &answers))
        h1 { "Review " (part_name(part)) }
        @if part == 1 {
            @let unanswered: Vec<usize> = a.form.part_one.iter().enumerate().filter(|(_, e)| answers.get(&e.item_id).is_none_or(|v| v.is_empty())).map(|(i, _)| i + 1).collect();
            @let flagged: Vec<usize> = a.form.part_one.iter().enumerate().filter(|(_, e)| answers.get(&format!("@flag:{}", e.item_id)).is_some_and(|f| f == "1")).map(|(i, _)| i + 1).collect();
            p { (a.form.part_one.len() - unanswered.len()) " of " (a.form.part_one.len()) " questions answered." }
            @if !unanswered.is_empty() { p { "Not answered: " @for q in &unanswered { a href={ "/exam/1/item/" (q) } { (q) } " " } } }
            @if !flagged.is_empty() { p { "Flagged for review: " @for q in &flagged { a href={ "/exam/1/item/" (q) } { (q) } " " } } }
            (navigator(&a, &answers, 0))
        } @else {
            @let chosen = chosen_set(&answers);
            p class=(if chosen.len() == k { "" } else { "notice" }) { "You have chosen " (chosen.len()) " of the " (k) " vignettes to answer." }
            ul {
                @for (i, p) in a.form.part_two.iter().enumerate() {
                    li { a href={ "/exam/2/vignettes?v=" (i + 1) } { "Vignette " (i + 1) } ": "
                        @if chosen.contains(&p.vignette_id) { "chosen, " (p.items.iter().map(|(id, _)| answers.get(id).map_or(0, word_count)).sum::<usize>()) " words" }
                        @else { "not chosen (not submitted)" } }
                }
            }
            p { a href="/exam/2/vignettes" { "Back to the vignettes" } }
        }
        h2 { "Submit" }
        form method="post" action={ "/exam/" (part) "/submit" } {
            (csrf_field(&csrf))
            div class="option" {
                input type="checkbox" name="confirm" id="confirm" value="yes" required;
                label for="confirm" { "I have finished " (part_name(part)) " and want to submit it. I cannot change my answers afterwards." }
            }
            button type="submit" { "Submit " (part_name(part)) }
        }
        script src="/assets/exam.js" defer {}
    };
    Ok(views::page("Review", Some(&chrome(&reg, &csrf)), body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct Confirm {
    pub confirm: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    Candidate { reg, .. }: Candidate,
    PartNo(part): PartNo,
    axum::Form(f): axum::Form<Confirm>,
) -> AppResult<Response> {
    if f.confirm.as_deref() != Some("yes") {
        return Err(AppError::BadRequest(format!(
            "Tick the box to confirm that you want to submit {}. Nothing was submitted.",
            part_name(part)
        )));
    }
    let all = attempts::attempts_of(&state.db, reg.id).await?;
    let a = all
        .into_iter()
        .find(|a| a.part == part)
        .ok_or(AppError::NotFound)?;
    attempts::submit(&state.db, a.id, "candidate", now_ms()).await?;
    Ok(Redirect::to(&format!("/exam/{part}/receipt")).into_response())
}

pub async fn receipt_page(
    State(state): State<AppState>,
    Candidate { reg, .. }: Candidate,
    CsrfToken(csrf): CsrfToken,
    PartNo(part): PartNo,
) -> AppResult<Response> {
    let all = attempts::attempts_of(&state.db, reg.id).await?;
    let a = all
        .into_iter()
        .find(|a| a.part == part)
        .ok_or(AppError::NotFound)?;
    if a.is_open() && !a.clock.expired(now_ms()) {
        return Ok(Redirect::to(&format!("/exam/{part}")).into_response());
    }
    let body = html! {
        h1 { (part_name(part)) " is submitted" }
        @if a.submitted_by.as_deref() == Some("server") { p { "The time ran out, so the server submitted your answers as they were saved." } }
        @if a.submitted_at.is_none() { p { "The time has run out. The server is submitting your answers as they were saved." } }
        p { "Your receipt code:" }
        p { code class="code" id="receipt" { (receipt(&a.chain_head)) } }
        p class="hint" { "The code is a fingerprint of every answer you saved, in order. Keep it: it lets the committee show that your answers are exactly as you left them." }
        p class="no-print" { a href="/candidate" { "Back to your exam page" } }
    };
    Ok(views::page("Receipt", Some(&chrome(&reg, &csrf)), body).into_response())
}
