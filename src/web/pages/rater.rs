//! The rater's desk: a queue of anonymous responses and, for each, the vignette, the prompt and
//! the rubric with its anchors beside the response, a score, a note for the committee and
//! feedback for the candidate. Nothing here names a candidate, a sitting or a time; a response
//! that is not the rater's is "not found", like one that does not exist.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::store::ratings::{self, Desk, RateFailure, RatingInput, ReadingState, Standing};
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
    let standing = ratings::my_standing(&state.db, me.id).await?;
    let body = html! {
        h1 { "Your scoring queue" }
        @for s in &standing { (standing_notice(s)) }
        p id="progress-label" { (done) " of " (q.len()) " responses scored" }
        progress max=(q.len().max(1)) value=(done) aria-labelledby="progress-label" {}
        @if q.is_empty() {
            p { "Nothing is assigned to you yet. Responses appear here when the committee assigns them." }
        } @else {
            @if let Some(next) = q.iter().find(|e| e.state != ReadingState::Final) {
                p { a class="button" href={ "/rate/" (next.code) } accesskey="n" { "Score the next response" } }
            }
            div class="table-wrap" tabindex="0" role="region" aria-label="Your responses" {
                table class="queue" {
                    caption class="hint" { "Responses are known only by their code, what is left to score first. Score each against its rubric." }
                    thead { tr { th scope="col" { "Response" } th scope="col" { "Vignette" } th scope="col" { "Item" } th scope="col" { "State" } } }
                    tbody {
                        @for e in q.iter().filter(|e| e.state != ReadingState::Final).chain(q.iter().filter(|e| e.state == ReadingState::Final)) {
                            tr {
                                td { a href={ "/rate/" (e.code) } { (e.code) } }
                                td { (e.vignette_title) }
                                td { (e.item_id) }
                                td class="state" {
                                    span class={ "chip " (match e.state { ReadingState::Final => "ok", ReadingState::Draft => "warn", ReadingState::NotStarted => "info" }) } { (e.state.label()) }
                                }
                            }
                        }
                    }
                }
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

/// What a rater is told of their qualification for a sitting (never the sitting's name).
fn standing_notice(s: &Standing) -> Markup {
    let record = |tried: &[ratings::QualifyingAttempt]| {
        tried
            .iter()
            .map(|a| {
                format!(
                    "set {}: {} of {} exactly the experts' score, {} within one point",
                    a.set_no, a.agreement.exact, a.agreement.scored, a.agreement.adjacent
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    html! {
        @match s {
            Standing::NoGate | Standing::Qualified(_) => {}
            Standing::Qualifying { set_no, done, of, earlier } => {
                p class="notice rule" role="status" {
                    strong { "Qualifying set " (set_no) ": " (done) " of " (of) " scored." }
                    " Score these responses first, as you would any other. They have expert scores; your live responses appear once your scores agree with the experts' at the committee's standard."
                    @if !earlier.is_empty() { " Earlier: " (record(earlier)) "." }
                }
            }
            Standing::NotQualified(tried) => {
                p class="notice rule" role="status" {
                    strong { "Your scores on the qualifying sets did not reach the standard" } " (" (record(tried)) "). No live responses will be given to you for this sitting; the committee will be in touch."
                }
            }
        }
    }
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

/// What a reader needs beside a response: the vignette, the question, the response and the
/// rubric with its anchors (the rater's desk and the committee's read-behind alike).
pub(super) fn reading_material(d: &Desk) -> Markup {
    html! {
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
    }
}

/// One question of the vignette on the desk, with its own score form (or the score given).
struct Question<'a> {
    code: &'a str,
    item: &'a crate::bank::Open,
    body: &'a str,
    mine: Option<&'a ratings::Reading>,
}

fn question_block(
    csrf: &str,
    q: &Question,
    error: Option<&str>,
    form: Option<&RateForm>,
) -> Markup {
    let max = q.item.max_score;
    let mine = q.mine;
    let locked = mine.is_some_and(|m| m.is_final);
    let typed = form.filter(|f| f.touched);
    let chosen: Option<u32> = typed
        .and_then(|f| f.score.trim().parse().ok())
        .or(mine.and_then(|m| m.score));
    let note = typed.map_or_else(
        || mine.map(|m| m.note.clone()).unwrap_or_default(),
        |f| f.note.clone(),
    );
    let feedback = typed.map_or_else(
        || mine.map(|m| m.feedback.clone()).unwrap_or_default(),
        |f| f.feedback.clone(),
    );
    let c = q.code;
    let error_id = format!("rate-error-{c}");
    let descriptor = |s: u32| {
        q.item
            .rubric
            .iter()
            .find(|p| p.score == s)
            .map(|p| p.descriptor.as_str())
    };
    html! {
        section class="question" id={ "q-" (c) } aria-labelledby={ "prompt-" (c) } {
            // The response on one side, kept in view (it scrolls on its own when long) …
            div class="read" tabindex="0" role="region" aria-labelledby={ "response-" (c) } {
                h2 id={ "prompt-" (c) } { "The question" }
                (paragraphs(&q.item.prompt))
                section class="response" {
                    h3 id={ "response-" (c) } { "The response (" (c) ")" }
                    @if q.body.trim().is_empty() { p { em { "(No response was written.)" } } }
                    @else { (paragraphs(q.body)) }
                }
            }
            // … and on the other the score form (no fragment in its action: a page that opens at
            // a fragment skips `autofocus`, which puts an error's field in focus), each score point with its rubric descriptor,
            // then the anchor answers.
            div class="judge" {
                @if locked {
                    p role="status" class="notice ok" { "You submitted a score of " strong { (mine.and_then(|m| m.score).map(|s| s.to_string()).unwrap_or_default()) } " of " (max) ". It can no longer be changed." }
                } @else {
                    form method="post" action={ "/rate/" (c) } class="rate" id={ "rate-" (c) } aria-labelledby={ "score-title-" (c) } {
                        h3 id={ "score-title-" (c) } tabindex="-1" { "Score this response" }
                        (csrf_field(csrf))
                        fieldset aria-describedby=[error.map(|_| error_id.clone())] {
                            legend { "Score (0 to " (max) ") against the rubric" }
                            @if let Some(e) = error {
                                p class="field-error" role="alert" id=(error_id) { (e) }
                            }
                            @for s in 0..=max {
                                div class="option score-point" {
                                    input type="radio" name="score" id={ "score-" (c) "-" (s) } value=(s) checked[chosen == Some(s)]
                                        aria-invalid=[error.map(|_| "true")]
                                        autofocus[error.is_some() && (chosen == Some(s) || (chosen.is_none() && s == 0))];
                                    label for={ "score-" (c) "-" (s) } {
                                        span class="points" { (s) }
                                        @if let Some(d) = descriptor(s) { " " span class="descriptor" { (d) } }
                                    }
                                }
                            }
                        }
                        label for={ "feedback-" (c) } { "Feedback for the candidate" }
                        p class="hint" id={ "feedback-hint-" (c) } { "The candidate reads this with their results, whatever the outcome: what the response did well and what would strengthen it." }
                        textarea id={ "feedback-" (c) } name="feedback" rows="5" aria-describedby={ "feedback-hint-" (c) } { (feedback) }
                        label for={ "note-" (c) } { "Note for the committee" }
                        p class="hint" id={ "note-hint-" (c) } { "Not shown to the candidate." }
                        textarea id={ "note-" (c) } name="note" rows="3" aria-describedby={ "note-hint-" (c) } { (note) }
                        div class="actions" {
                            button type="submit" name="action" value="submit" { "Submit score" }
                            button type="submit" name="action" value="draft" class="secondary" { "Save as draft" }
                        }
                        p class="hint" { "A submitted score is final. A draft can be changed until you submit it." }
                    }
                }
                section class="rubric" aria-labelledby={ "rubric-" (c) } {
                    h3 id={ "rubric-" (c) } { "Rubric and anchor answers" }
                    @for p in &q.item.rubric {
                        h4 { "Score " (p.score) }
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
        }
    }
}

/// The desk: the vignette once, then every question of it the rater holds for this candidate,
/// each with its response, rubric and score form, so a vignette is scored in one place.
fn desk_page(me: &User, csrf: &str, d: &Desk, error: Option<&str>, form: &RateForm) -> Markup {
    // In the vignette's own order, as the candidate answered them.
    let mut questions = vec![(
        d.item_id.as_str(),
        Question {
            code: &d.code,
            item: &d.item,
            body: &d.body,
            mine: d.mine.as_ref(),
        },
    )];
    questions.extend(d.others.iter().map(|o| {
        (
            o.item_id.as_str(),
            Question {
                code: &o.code,
                item: &o.item,
                body: &o.body,
                mine: o.mine.as_ref(),
            },
        )
    }));
    questions.sort_by_key(|(item, _)| *item);
    let questions: Vec<Question> = questions.into_iter().map(|(_, q)| q).collect();
    let all_final = questions.iter().all(|q| q.mine.is_some_and(|m| m.is_final));
    views::page(
        &format!("Response {}", d.code),
        Some(&chrome(me, csrf)),
        html! {
            p class="hint" { a href="/rate" { "Your queue" } " · response " (d.position) " of " (d.of) " · " (d.done) " scored" }
            h1 { "Response " (d.code) }
            @if let Some(first) = questions.iter().find(|q| !q.mine.is_some_and(|m| m.is_final)) {
                p { a href={ "#score-title-" (first.code) } class="skip-to-score" { "Skip to the score" } }
            }
            @if questions.len() > 1 {
                p { "This candidate answered " (questions.len()) " questions on this vignette; score each against its own rubric." }
            }
            div class="desk" {
                section class="vignette" aria-labelledby="vignette-title" {
                    h2 id="vignette-title" { "Vignette: " (d.vignette_title) }
                    (paragraphs(&d.vignette_body))
                }
                @for q in &questions {
                    @let this = q.code == d.code;
                    (question_block(csrf, q, if this { error } else { None }, this.then_some(form)))
                }
            }
            @if all_final {
                @if let Some(next) = &d.next {
                    p { a class="button" href={ "/rate/" (next) } accesskey="n" { "Score the next response" } }
                } @else {
                    p { a href="/rate" { "Back to your queue" } }
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
