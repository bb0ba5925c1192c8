//! The committee's read-behinds: a share of each rater's final readings, each read with what
//! the rater saw and the rater's score, confirmed or overridden with a reason. Candidates stay
//! unnamed here: a response is its code.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;

use crate::store::ratings::{self, ReadBehindEntry};
use crate::store::users::User;

use crate::web::error::{AppError, AppResult};
use crate::web::roles::Committee;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field, field_error};
use crate::web::AppState;

use super::committee::the_sitting;
use super::rater::reading_material;

pub async fn list(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let sitting = the_sitting(&state, id).await?;
    let sample = ratings::read_behind_sample(&state.db, id).await?;
    let counts = ratings::read_behind_counts(&state.db, id).await?;
    let pending = sample.iter().filter(|e| e.done.is_none()).count();
    let body = html! {
        h1 { "Read-behinds: " (sitting.name) }
        p { a href={ "/scoring/" (id) } { "Scoring" } " · " a href={ "/stats/" (id) "/agreement" } { "Rater agreement" } }
        p { "A share of each rater's final readings, chosen in a fixed random order: read each as the rater did, see their score, and confirm it or override it with a reason. An override takes the reading's place and the response is settled again." }
        p role="status" { (pending) " of " (sample.len()) " waiting." }
        @if sample.is_empty() { p { "No final readings yet." } }
        @else {
            div class="table-wrap" role="region" tabindex="0" aria-label="Read-behinds" { table {
                thead { tr {
                    th scope="col" { "Rater" } th scope="col" { "Response" } th scope="col" { "Item" }
                    th scope="col" { "Rater's score" } th scope="col" { "Read behind" }
                } }
                tbody {
                    @for e in &sample {
                        tr {
                            td { (e.rater) }
                            td { a href={ "/scoring/" (id) "/read-behind/" (e.assignment_id) } { (e.code) } }
                            td { (e.item_id) }
                            td { (e.rater_score) }
                            td { @match &e.done {
                                None => { "waiting" }
                                Some(d) if d.overridden => { strong { "overridden to " (d.score) } " by " (d.read_by) ": " (d.reason) }
                                Some(d) => { "confirmed by " (d.read_by) }
                            } }
                        }
                    }
                }
            } }
        }
        @if !counts.is_empty() {
            h2 { "Per rater" }
            div class="table-wrap" role="region" tabindex="0" aria-label="Read-behinds per rater" { table {
                thead { tr { th scope="col" { "Rater" } th scope="col" { "Read behind" } th scope="col" { "Overridden" } } }
                tbody {
                    @for (rater, c) in &counts {
                        tr {
                            td { (sample.iter().find(|e| e.rater_id == *rater).map_or(rater.to_string(), |e| e.rater.clone())) }
                            td { (c.read) } td { (c.overridden) }
                        }
                    }
                }
            } }
        }
    };
    Ok(views::page("Read-behinds", Some(&chrome(me, &csrf)), body).into_response())
}

async fn entry(state: &AppState, id: i64, assignment: i64) -> AppResult<ReadBehindEntry> {
    the_sitting(state, id).await?;
    ratings::read_behind_sample(&state.db, id)
        .await?
        .into_iter()
        .find(|e| e.assignment_id == assignment)
        .ok_or(AppError::NotFound)
}

async fn reading_page(
    state: &AppState,
    me: &User,
    csrf: &str,
    id: i64,
    e: &ReadBehindEntry,
    error: Option<(&str, String)>,
    form: &ReadBehindForm,
) -> AppResult<maud::Markup> {
    // What the rater saw, through the rater's own desk (gated and all).
    let d = ratings::desk(&state.db, e.rater_id, &e.code)
        .await?
        .ok_or(AppError::NotFound)?;
    let chosen: u32 = form.score.trim().parse().unwrap_or(e.rater_score);
    let mine = d.mine.clone();
    Ok(views::page(
        &format!("Read-behind {}", e.code),
        Some(&chrome(me, csrf)),
        html! {
            p class="hint" { a href={ "/scoring/" (id) "/read-behind" } { "Read-behinds" } }
            h1 { "Read-behind: response " (e.code) }
            p { (e.rater) " scored this " strong { (e.rater_score) } " of " (d.item.max_score) "." }
            @if let Some(m) = &mine {
                @if !m.note.is_empty() { p { "Their note for the committee: " (m.note) } }
            }
            (reading_material(&d))
            @match &e.done {
                Some(done) => {
                    p role="status" { @if done.overridden { "Overridden to " (done.score) " by " (done.read_by) ": " (done.reason) } @else { "Confirmed by " (done.read_by) "." } }
                }
                None => {
                    form method="post" action={ "/scoring/" (id) "/read-behind/" (e.assignment_id) } class="rate" {
                        (csrf_field(csrf))
                        fieldset aria-describedby=[error.as_ref().filter(|(f, _)| *f == "score").map(|_| "score-error")] {
                            legend { "Your score (0 to " (d.item.max_score) "); the rater's is selected" }
                            @for s in 0..=d.item.max_score {
                                div class="option" {
                                    input type="radio" name="score" id={ "score-" (s) } value=(s) checked[chosen == s];
                                    label for={ "score-" (s) } { (s) }
                                }
                            }
                        }
                        (field_error("score-error", error.as_ref().filter(|(f, _)| *f == "score").map(|(_, m)| m)))
                        label for="reason" { "Reason (needed to override)" }
                        textarea id="reason" name="reason" rows="3"
                            aria-invalid=[error.as_ref().filter(|(f, _)| *f == "reason").map(|_| "true")]
                            aria-describedby=[error.as_ref().filter(|(f, _)| *f == "reason").map(|_| "reason-error")] { (form.reason) }
                        (field_error("reason-error", error.as_ref().filter(|(f, _)| *f == "reason").map(|(_, m)| m)))
                        div class="actions" { button type="submit" { "Confirm or override" } }
                    }
                }
            }
        },
    ))
}

pub async fn show(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path((id, assignment)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let e = entry(&state, id, assignment).await?;
    Ok(
        reading_page(&state, me, &csrf, id, &e, None, &ReadBehindForm::default())
            .await?
            .into_response(),
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct ReadBehindForm {
    #[serde(default)]
    pub score: String,
    #[serde(default)]
    pub reason: String,
}

pub async fn decide(
    State(state): State<AppState>,
    Committee(ref me): Committee,
    CsrfToken(csrf): CsrfToken,
    Path((id, assignment)): Path<(i64, i64)>,
    Form(f): Form<ReadBehindForm>,
) -> AppResult<Response> {
    entry(&state, id, assignment).await?;
    let refuse = |field: &'static str, message: String| (field, message);
    let failure = match f.score.trim().parse::<u32>() {
        Err(_) => Some(refuse(
            "score",
            format!("Score: \"{}\" is not a whole number.", f.score),
        )),
        Ok(score) => {
            match ratings::read_behind(&state.db, id, assignment, score, &f.reason, &me.username)
                .await?
            {
                Ok(_) => None,
                Err(ratings::ReadBehindError::NoReason) => Some(refuse(
                    "reason",
                    "Reason: give the reason for overriding the rater's score.".into(),
                )),
                Err(err) => Some(refuse("score", format!("Score: {err}."))),
            }
        }
    };
    match failure {
        None => Ok(Redirect::to(&format!("/scoring/{id}/read-behind")).into_response()),
        Some((field, message)) => {
            let e = entry(&state, id, assignment).await?;
            let page = reading_page(&state, me, &csrf, id, &e, Some((field, message)), &f).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
