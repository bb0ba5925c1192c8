//! The rater's desk: a queue of anonymous responses and, for each, the vignette, the prompt and
//! the rubric with its anchors beside the response, a score, a note for the committee and
//! feedback for the candidate. Nothing here names a candidate, a sitting or a time; a response
//! that is not the rater's is "not found", like one that does not exist.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::store::ratings::{self, Desk, RateFailure, RatingInput, ReadingState};
use crate::store::users::User;

use crate::web::error::{AppError, AppResult};
use crate::web::roles::Rater;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome as chrome;
use crate::web::views::{self, csrf_field, field_error};
use crate::web::AppState;

fn paragraphs(text: &str) -> Markup {
    html! { @for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) { p { (para) } } }
}

pub async fn queue(
    State(state): State<AppState>,
    Rater(ref me): Rater,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let q = ratings::queue(&state.db, me.id).await?;
    let done = q.iter().filter(|e| e.state == ReadingState::Final).count();
    let body = html! {
        h1 { "Your scoring queue" }
        p id="progress-label" { (done) " of " (q.len()) " responses scored" }
        progress max=(q.len().max(1)) value=(done) aria-labelledby="progress-label" {}
        @if q.is_empty() {
            p { "Nothing is assigned to you yet. Responses appear here when the committee assigns them." }
        } @else {
            table {
                caption class="hint" { "Responses are known only by their code. Score each against its rubric." }
                thead { tr { th scope="col" { "Response" } th scope="col" { "Vignette" } th scope="col" { "Item" } th scope="col" { "State" } } }
                tbody {
                    @for e in &q {
                        tr {
                            td { a href={ "/rate/" (e.code) } { (e.code) } }
                            td { (e.vignette_title) }
                            td { (e.item_id) }
                            td { (e.state.label()) }
                        }
                    }
                }
            }
            @if let Some(next) = q.iter().find(|e| e.state != ReadingState::Final) {
                p { a class="button" href={ "/rate/" (next.code) } accesskey="n" { "Score the next response" } }
            }
        }
        h2 { "Declare a conflict of interest" }
        p { "If you know or have worked with someone who may be a candidate, give their email address. You will not be given their responses. You will not be told whether they are a candidate." }
        form method="post" action="/rate/conflicts" {
            (csrf_field(&csrf))
            label for="email" { "Their email address" }
            input type="email" id="email" name="email" required autocomplete="off";
            button type="submit" { "Declare the conflict" }
        }
    };
    Ok(views::page("Scoring queue", Some(&chrome(me, &csrf)), body).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ConflictForm {
    #[serde(default)]
    pub email: String,
}

pub async fn declare_conflict(
    State(state): State<AppState>,
    Rater(ref me): Rater,
    CsrfToken(csrf): CsrfToken,
    Form(f): Form<ConflictForm>,
) -> AppResult<Response> {
    let email = f.email.trim();
    if !email.contains('@') || email.len() < 3 {
        let body = html! {
            h1 { "Declare a conflict of interest" }
            form method="post" action="/rate/conflicts" {
                (csrf_field(&csrf))
                label for="email" { "Their email address" }
                input type="email" id="email" name="email" value=(f.email) required aria-invalid="true" aria-describedby="email-error";
                (field_error("email-error", Some(&"Email address: give a whole address, such as name@example.org.".to_string())))
                button type="submit" { "Declare the conflict" }
            }
        };
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            views::page("Declare a conflict", Some(&chrome(me, &csrf)), body),
        )
            .into_response());
    }
    ratings::declare_conflict(&state.db, me.id, email, &me.username).await?;
    let body = html! {
        h1 { "Conflict recorded" }
        p role="status" { "Thank you. You will not be given that person's responses." }
        p { a href="/rate" { "Back to your queue" } }
    };
    Ok(views::page("Conflict recorded", Some(&chrome(me, &csrf)), body).into_response())
}

fn desk_page(me: &User, csrf: &str, d: &Desk, error: Option<&str>, form: &RateForm) -> Markup {
    let max = d.item.max_score;
    let mine = d.mine.as_ref();
    let locked = mine.is_some_and(|m| m.is_final);
    let chosen: Option<u32> = form
        .score
        .trim()
        .parse()
        .ok()
        .or(mine.and_then(|m| m.score));
    let note = if form.touched {
        form.note.clone()
    } else {
        mine.map(|m| m.note.clone()).unwrap_or_default()
    };
    let feedback = if form.touched {
        form.feedback.clone()
    } else {
        mine.map(|m| m.feedback.clone()).unwrap_or_default()
    };
    views::page(
        &format!("Response {}", d.code),
        Some(&chrome(me, csrf)),
        html! {
            p class="hint" { a href="/rate" { "Your queue" } " · response " (d.position) " of " (d.of) " · " (d.done) " scored" }
            h1 { "Response " (d.code) }
            div class="desk" {
                section class="vignette" aria-labelledby="vignette-title" {
                    h2 id="vignette-title" { "Vignette: " (d.vignette_title) }
                    (paragraphs(&d.vignette_body))
                }
                section aria-labelledby="prompt-title" {
                    h2 id="prompt-title" { "The question" }
                    (paragraphs(&d.item.prompt))
                }
                section class="response" aria-labelledby="response-title" {
                    h2 id="response-title" { "The response" }
                    @if d.body.trim().is_empty() { p { em { "(No response was written.)" } } }
                    @else { (paragraphs(&d.body)) }
                }
                section class="rubric" aria-labelledby="rubric-title" {
                    h2 id="rubric-title" { "Rubric" }
                    @for p in &d.item.rubric {
                        h3 { "Score " (p.score) }
                        p { (p.descriptor) }
                        @for (i, a) in p.anchors.iter().enumerate() {
                            figure class="anchor" {
                                figcaption { "Anchor answer " (i + 1) " at score " (p.score) }
                                blockquote { (a) }
                            }
                        }
                    }
                }
            }
            @if let Some(e) = error {
                p class="error" role="alert" id="rate-error" { (e) }
            }
            @if locked {
                h2 { "Your score" }
                p role="status" { "You submitted a score of " strong { (mine.and_then(|m| m.score).map(|s| s.to_string()).unwrap_or_default()) } " of " (max) ". It can no longer be changed." }
                @if let Some(next) = &d.next {
                    p { a class="button" href={ "/rate/" (next) } accesskey="n" { "Score the next response" } }
                } @else {
                    p { a href="/rate" { "Back to your queue" } }
                }
            } @else {
                form method="post" action={ "/rate/" (d.code) } class="rate" {
                    (csrf_field(csrf))
                    fieldset {
                        legend { "Score (0 to " (max) ")" }
                        @for s in 0..=max {
                            div class="option" {
                                input type="radio" name="score" id={ "score-" (s) } value=(s) checked[chosen == Some(s)]
                                    aria-describedby=[error.map(|_| "rate-error")];
                                label for={ "score-" (s) } { (s) }
                            }
                        }
                    }
                    label for="feedback" { "Feedback for the candidate" }
                    p class="hint" id="feedback-hint" { "The candidate reads this with their results, whatever the outcome: what the response did well and what would strengthen it." }
                    textarea id="feedback" name="feedback" rows="5" aria-describedby="feedback-hint" { (feedback) }
                    label for="note" { "Note for the committee" }
                    p class="hint" id="note-hint" { "Not shown to the candidate." }
                    textarea id="note" name="note" rows="3" aria-describedby="note-hint" { (note) }
                    div class="actions" {
                        button type="submit" name="action" value="draft" { "Save as draft" }
                        button type="submit" name="action" value="submit" { "Submit score" }
                    }
                    p class="hint" { "A submitted score is final. A draft can be changed until you submit it." }
                }
            }
        },
    )
}

pub async fn desk(
    State(state): State<AppState>,
    Rater(ref me): Rater,
    CsrfToken(csrf): CsrfToken,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let d = ratings::desk(&state.db, me.id, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(desk_page(me, &csrf, &d, None, &RateForm::default()).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RateForm {
    #[serde(default)]
    pub score: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub feedback: String,
    #[serde(default)]
    pub action: String,
    /// Set when the form was posted, so what was typed is shown again on an error.
    #[serde(skip)]
    pub touched: bool,
}

pub async fn rate(
    State(state): State<AppState>,
    Rater(ref me): Rater,
    CsrfToken(csrf): CsrfToken,
    Path(code): Path<String>,
    Form(mut f): Form<RateForm>,
) -> AppResult<Response> {
    f.touched = true;
    let is_final = f.action == "submit";
    let score = if f.score.trim().is_empty() {
        None
    } else {
        match f.score.trim().parse::<u32>() {
            Ok(s) => Some(s),
            Err(_) => {
                let d = ratings::desk(&state.db, me.id, &code)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let msg = format!(
                    "Score: \"{}\" is not a whole number from 0 to {}.",
                    f.score, d.item.max_score
                );
                return Ok((
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    desk_page(me, &csrf, &d, Some(&msg), &f),
                )
                    .into_response());
            }
        }
    };
    let input = RatingInput {
        score,
        note: f.note.clone(),
        feedback: f.feedback.clone(),
        is_final,
    };
    match ratings::rate(&state.db, me.id, &code, &input).await {
        Ok(_) => {
            let d = ratings::desk(&state.db, me.id, &code).await?;
            let target = match (is_final, d.and_then(|d| d.next)) {
                (true, Some(next)) => format!("/rate/{next}"),
                (true, None) => "/rate".to_string(),
                (false, _) => format!("/rate/{code}"),
            };
            Ok(Redirect::to(&target).into_response())
        }
        Err(RateFailure::Rate(ratings::RateError::NotYours)) => Err(AppError::NotFound),
        Err(RateFailure::Rate(e)) => {
            let d = ratings::desk(&state.db, me.id, &code)
                .await?
                .ok_or(AppError::NotFound)?;
            let msg = format!("Score: {e}.");
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                desk_page(me, &csrf, &d, Some(&msg), &f),
            )
                .into_response())
        }
        Err(RateFailure::Store(e)) => Err(e.into()),
    }
}
