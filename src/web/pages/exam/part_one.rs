//! Part One: a page per question, with the navigator, saved as the candidate moves on.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use crate::bank::ItemBody;
use crate::exam::comment;
use crate::exam::form::Form;
use crate::exam::limits::{response_chars, thousands};
use crate::store::attempts::{self, Attempt, CurrentAnswers};
use crate::store::now_ms;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::OpenAttempt;
use crate::web::session::CsrfToken;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::breaks::{break_button, paused_page};
use super::{chrome, item_body, save_or_explain, seq_base, timer, vignette_text};

fn canonical_to_shown(form: &Form, item: &str, canonical: &str) -> Option<usize> {
    let e = form.part_one.iter().find(|e| e.item_id == item)?;
    let c = canonical.bytes().next()?.checked_sub(b'A')?;
    e.shown_position(c)
}

pub async fn item_page(
    State(state): State<AppState>,
    OpenAttempt {
        reg,
        attempt: a,
        newest_event,
        sitting,
        ..
    }: OpenAttempt<1>,
    CsrfToken(csrf): CsrfToken,
    Path(pos): Path<usize>,
) -> AppResult<Response> {
    let answers = attempts::current_answers(&state.db, a.id, newest_event).await?;
    if a.clock.is_paused_at(now_ms()) {
        return Ok(paused_page(&reg, &csrf, &a, &answers, &sitting.time_zone));
    }
    let total = a.form.part_one.len();
    let Some(entry) = pos.checked_sub(1).and_then(|i| a.form.part_one.get(i)) else {
        return Err(AppError::NotFound);
    };
    let item = item_body(&state, &entry.item_id, entry.version)
        .await?
        .ok_or(AppError::NotFound)?;
    let ItemBody::Mcq(mcq) = &*item else {
        return Err(AppError::NotFound);
    };
    let vignette = match (&entry.vignette, entry.vignette_version) {
        (Some(v), Some(version)) => vignette_text(&state, v, version).await?,
        _ => None,
    };
    let chosen = answers
        .get(&entry.item_id)
        .and_then(|c| canonical_to_shown(&a.form, &entry.item_id, c));
    let flagged = answers
        .get(&format!("@flag:{}", entry.item_id))
        .is_some_and(|f| f == "1");
    let struck = answers
        .get(&format!("@strike:{}", entry.item_id))
        .unwrap_or_default()
        .to_string();
    let comment_key = comment::key(&entry.item_id);
    let comment_text = answers.get(&comment_key).unwrap_or_default();
    let seq = seq_base(&answers);
    let breaks = reg.breaks_left();
    let now = now_ms();
    let body = html! {
        (timer(&a, now, &answers))
        h1 { "Part One, question " (pos) " of " (total) }
        div class=(if vignette.is_some() { "with-vignette" } else { "" }) {
            @if let Some(v) = &vignette {
                @let (title, text) = &**v;
                section class="vignette" aria-labelledby="vignette-title" {
                    h2 id="vignette-title" { (title) }
                    @for para in text.split("\n\n") { p { (para) } }
                }
            }
            form method="post" action={ "/exam/1/item/" (pos) } class="item" data-attempt=(a.id) data-part="1" data-item=(entry.item_id) data-seq=(seq) {
                (csrf_field(&csrf))
                input type="hidden" name="seq" value=(seq);
                div class="stem" id="stem" {
                    @for para in mcq.stem.split("\n\n") { p { (para) } }
                }
                fieldset aria-describedby="stem" {
                    legend { "Question " (pos) ": choose one answer" }
                    @for (shown, canonical) in entry.option_order.iter().enumerate() {
                        @let letter = (b'A' + shown as u8) as char;
                        @let stored = (b'A' + *canonical) as char;
                        @let text = &mcq.options[usize::from(*canonical)].text;
                        @let is_struck = struck.contains(stored);
                        div class=(if is_struck { "option choice struck" } else { "option choice" }) data-canonical=(stored) {
                            input type="radio" name="choice" id={ "opt-" (shown) } value=(shown) checked[chosen == Some(shown)];
                            label for={ "opt-" (shown) } { span class="letter" { (letter) "." } " " span class="option-text" { (text) } @if is_struck { span class="sr-only struck-note" { " (struck out)" } } }
                            button type="button" class="strike secondary small" hidden aria-pressed=(if is_struck { "true" } else { "false" }) data-canonical=(stored) {
                                "Strike out" span class="sr-only" { " option " (letter) }
                            }
                        }
                    }
                }
                div class="option" {
                    input type="checkbox" name="flag" id="flag" value="1" checked[flagged];
                    label for="flag" { "Flag this question to review before submitting" }
                }
                (comment_box("question", pos, "comment", &comment_key, comment_text))
                div class="actions" {
                    @if pos > 1 { button type="submit" name="go" value="prev" class="secondary" { "Save and go to the previous question" } }
                    @if pos < total { button type="submit" name="go" value="next" { "Save and go to the next question" } }
                    button type="submit" name="go" value="review" class="secondary" { "Save and review Part One" }
                }
            }
        }
        (navigator(&a, &answers, pos))
        (break_button(&csrf, 1, breaks))
        p class="hint" { "Keyboard: Tab moves between answers and buttons; arrow keys move between options. With the page's script: Alt+Shift+1 to 4 choose an option, Alt+Shift+F flags, Alt+Shift+N and Alt+Shift+P go to the next and previous question, Alt+Shift+R to the review. \"Strike out\" greys out an option you have ruled out; it is only a note for you and is never scored." }
        script src="/assets/exam.js" defer {}
    };
    Ok(views::page(&format!("Question {pos}"), Some(&chrome(&reg, &csrf)), body).into_response())
}

pub(super) fn navigator(a: &Attempt, answers: &CurrentAnswers, current: usize) -> Markup {
    let total = a.form.part_one.len();
    let done = a
        .form
        .part_one
        .iter()
        .filter(|e| answers.get(&e.item_id).is_some_and(|v| !v.is_empty()))
        .count();
    html! {
        nav aria-labelledby="nav-title" class="navigator" {
            h2 id="nav-title" { "Questions" }
            p class="hint" { (done) " of " (total) " answered. "
                span class="key" { span class="cell-sample answered" aria-hidden="true" { "✓" } " answered" } " "
                span class="key" { span class="cell-sample" aria-hidden="true" { "⚑" } " flagged" } }
            ol {
                @for (i, e) in a.form.part_one.iter().enumerate() {
                    @let answered = answers.get(&e.item_id).is_some_and(|v| !v.is_empty());
                    @let flagged = answers.get(&format!("@flag:{}", e.item_id)).is_some_and(|f| f == "1");
                    li {
                        a href={ "/exam/1/item/" (i + 1) } aria-current=[(i + 1 == current).then_some("page")]
                            class={ "cell" @if answered { " answered" } @if flagged { " flagged" } } {
                            span class="num" { (i + 1) }
                            span class="marks" aria-hidden="true" {
                                span class="mark-answered" { @if answered { "✓" } }
                                span class="mark-flag" { @if flagged { "⚑" } }
                            }
                            @if answered { span class="sr-only" { " answered" } }
                            @if flagged { span class="sr-only" { " flagged" } }
                        }
                    }
                }
            }
        }
    }
}

/// "Comment on this question" (or vignette): a disclosure, open once a comment is saved, with
/// a labelled text box the page's script saves as the candidate types (as it does a response,
/// counting characters as the server does), and the page's own form sends without the script.
pub(super) fn comment_box(what: &str, pos: usize, name: &str, key: &str, text: &str) -> Markup {
    let count_id = format!("cc-{key}");
    html! {
        details class="comment" open[!text.is_empty()] {
            summary { "Comment on this " (what) @if !text.is_empty() { span class="sr-only" { " (you have commented)" } } }
            p class="hint" id={ "help-" (name) } {
                "For the exam committee, who review every " (what) " after the exam: a key that seems wrong, two answers that both seem right, a typo. "
                "It is never scored and the clock keeps running; it is saved with your answers. At most " (thousands(comment::MAX_CHARS)) " characters."
            }
            label for=(name) { "Your comment on " (what) " " (pos) }
            textarea id=(name) name=(name) rows="4" maxlength=(comment::MAX_CHARS) data-item=(key) data-max=(comment::MAX_CHARS)
                aria-describedby={ "help-" (name) " " (count_id) } { (text) }
            p class="hint" id=(count_id) aria-live="polite" { (thousands(response_chars(text))) " of " (thousands(comment::MAX_CHARS)) " characters" }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ItemForm {
    pub seq: u64,
    pub choice: Option<String>,
    pub flag: Option<String>,
    /// The comment's text as the page shows it (absent from older pages).
    pub comment: Option<String>,
    pub go: Option<String>,
}

pub async fn save_item(
    State(state): State<AppState>,
    OpenAttempt {
        attempt: a,
        newest_event,
        ..
    }: OpenAttempt<1>,
    Path(pos): Path<usize>,
    form: Result<axum::Form<ItemForm>, axum::extract::rejection::FormRejection>,
) -> AppResult<Response> {
    // The form is read only once the candidate is known, so a stranger learns nothing from it.
    let axum::Form(f) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let entry = pos
        .checked_sub(1)
        .and_then(|i| a.form.part_one.get(i))
        .ok_or(AppError::NotFound)?;
    // A comment the server refuses stops the whole form before anything is saved.
    let comment_key = comment::key(&entry.item_id);
    let comment_text = f.comment.as_deref().map(comment::from_form);
    if let Some(text) = &comment_text {
        comment::check(&a.form, 1, &entry.item_id, text)
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
    }
    let answers = attempts::current_answers(&state.db, a.id, newest_event).await?;
    let now = now_ms();
    if let Some(choice) = f.choice.as_deref() {
        let canonical = mcq_answer(&a.form, &entry.item_id, choice)?;
        if answers.get(&entry.item_id) != Some(canonical.as_str()) {
            save_or_explain(&state, a.id, &entry.item_id, &canonical, f.seq, now).await?;
        }
    }
    let flag = if f.flag.is_some() { "1" } else { "0" };
    let key = format!("@flag:{}", entry.item_id);
    if answers.get(&key).map_or(flag == "1", |v| v != flag) {
        save_or_explain(&state, a.id, &key, flag, f.seq + 1, now).await?;
    }
    if let Some(text) = comment_text.as_deref() {
        if answers.get(&comment_key).unwrap_or_default() != text {
            // A number past every stored save: the page's script may have saved an earlier
            // draft of this comment under one of this page's numbers, and the text the form
            // sends is the newest.
            save_or_explain(&state, a.id, &comment_key, text, seq_base(&answers), now).await?;
        }
    }
    let total = a.form.part_one.len();
    let to = match f.go.as_deref() {
        Some("prev") if pos > 1 => format!("/exam/1/item/{}", pos - 1),
        Some("next") if pos < total => format!("/exam/1/item/{}", pos + 1),
        _ => "/exam/1/review".to_string(),
    };
    Ok(Redirect::to(&to).into_response())
}

/// A shown option position ("0".."3", or "" to clear) as the canonical letter stored.
pub(super) fn mcq_answer(form: &Form, item: &str, shown: &str) -> AppResult<String> {
    if shown.is_empty() {
        return Ok(String::new());
    }
    let e = form
        .part_one
        .iter()
        .find(|e| e.item_id == item)
        .ok_or(AppError::NotFound)?;
    let canonical = shown
        .parse::<usize>()
        .ok()
        .and_then(|s| e.option_order.get(s))
        .ok_or_else(|| {
            AppError::BadRequest(format!("\"{shown}\" is not an option of this question."))
        })?;
    Ok(((b'A' + canonical) as char).to_string())
}
