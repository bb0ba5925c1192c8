//! Part Two: one vignette at a time beside its answers, with the list of all of them, the candidate's choice of which to answer, and the
//! checks a response and a choice must pass before anything is saved.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use crate::bank::ItemBody;
use crate::exam::comment;
use crate::exam::form::Form;
use crate::exam::limits::{self, thousands};
use crate::store::attempts::{self, Attempt, CurrentAnswers};
use crate::store::{bank as bank_store, now_ms};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::OpenAttempt;
use crate::web::session::CsrfToken;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::breaks::{break_button, paused_page};
use super::part_one::comment_box;
use super::{chrome, item_body, save_or_explain, seq_base, timer, vignette_text};

pub(super) fn chosen_set(answers: &CurrentAnswers) -> BTreeSet<String> {
    answers
        .get("@choice")
        .map(|c| {
            c.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Which vignette the page shows (`?v=2`, counted from 1).
#[derive(Debug, Deserialize)]
pub struct Shown {
    pub v: Option<usize>,
}

pub async fn vignettes_page(
    State(state): State<AppState>,
    OpenAttempt {
        reg,
        attempt: a,
        newest_event,
        sitting,
        ..
    }: OpenAttempt<2>,
    CsrfToken(csrf): CsrfToken,
    Query(shown): Query<Shown>,
) -> AppResult<Response> {
    let answers = attempts::current_answers(&state.db, a.id, newest_event).await?;
    if a.clock.is_paused_at(now_ms()) {
        return Ok(paused_page(&reg, &csrf, &a, &answers, &sitting.time_zone));
    }
    let bps = bank_store::blueprints(&state.db).await?;
    let k = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .map_or(0, |b| b.part_two.answer);
    let n = a.form.part_two.len();
    let chosen = chosen_set(&answers);
    // The vignette shown: the one asked for, else the first chosen, else the first.
    let current = shown
        .v
        .filter(|v| (1..=n).contains(v))
        .map(|v| v - 1)
        .or_else(|| {
            a.form
                .part_two
                .iter()
                .position(|p| chosen.contains(&p.vignette_id))
        })
        .unwrap_or(0);
    let seq = seq_base(&answers);
    let breaks = reg.breaks_left();
    let mut titles = Vec::new();
    for p in &a.form.part_two {
        let vignette = vignette_text(&state, &p.vignette_id, p.version)
            .await?
            .ok_or(AppError::NotFound)?;
        titles.push(vignette);
    }
    let p = a.form.part_two.get(current).ok_or(AppError::NotFound)?;
    let (title, text) = &*titles[current];
    let mut prompts = Vec::new();
    for (id, version) in &p.items {
        if let Some(body) = item_body(&state, id, *version).await? {
            if let ItemBody::Open(o) = &*body {
                prompts.push((id.clone(), o.prompt.clone()));
            }
        }
    }
    let now = now_ms();
    let is_chosen = chosen.contains(&p.vignette_id);
    let comment_key = comment::key(&p.vignette_id);
    let comment_text = answers.get(&comment_key).unwrap_or_default();
    let body = html! {
        (timer(&a, now, &answers))
        h1 { "Part Two: answer " (k) " of these " (n) " vignettes" }
        form method="post" action="/exam/2/vignettes" class="part-two" data-attempt=(a.id) data-part="2" data-seq=(seq) data-answer=(k) {
            (csrf_field(&csrf))
            input type="hidden" name="seq" value=(seq);
            input type="hidden" name="shown" value=(current + 1);
            fieldset class="choice" aria-describedby="choice-rule" {
                legend { "Choose " (k) " vignettes to answer" }
                p id="choice-rule" class="hint" { "Read all " (n) " vignettes, then choose exactly " (k) " to answer: tick them here. You may change your choice until you submit Part Two. Only the chosen vignettes are submitted and scored; anything written for the others is set aside." }
                ol class="vignette-list" {
                    @for (i, pp) in a.form.part_two.iter().enumerate() {
                        @let (t, _) = &*titles[i];
                        li class=(if i == current { "current" } else { "" }) {
                            div class="option" {
                                input type="checkbox" name="choose" id={ "choose-" (i) } value=(pp.vignette_id) checked[chosen.contains(&pp.vignette_id)] data-current=[(i == current).then_some("true")];
                                label for={ "choose-" (i) } { "Answer vignette " (i + 1) ": " (t) }
                            }
                            @if i == current {
                                span class="chip info" { "Shown below" }
                            } @else {
                                button type="submit" name="go" value={ "v" (i + 1) } class="secondary small" { "Read vignette " (i + 1) }
                            }
                        }
                    }
                }
                p id="choice-message" class="choice-message" role="alert" {}
            }
            div class="vignette-pair" {
                section class="vignette" aria-labelledby="v-title" tabindex="0" {
                    h2 id="v-title" { "Vignette " (current + 1) ": " (title) }
                    @for para in text.split("\n\n") { p { (para) } }
                }
                section class="answers" aria-labelledby="a-title" {
                    h2 id="a-title" { "Your answers to vignette " (current + 1) }
                    p id="not-chosen" class="notice" hidden[is_chosen] { "This vignette is not among your chosen ones: tick it above if you answer it." }
                    @for (id, prompt) in &prompts {
                        @let current_text = answers.get(id).unwrap_or_default();
                        label for={ "r-" (id) } { @for para in prompt.split("\n\n") { span class="stem" { (para) } } }
                        // maxlength holds a browser without the script to the limit too (it
                        // counts an emoji as two, so it never lets past what the server takes).
                        textarea id={ "r-" (id) } name={ "r:" (id) } rows="12" maxlength=(a.max_response_chars) data-item=(id) data-max=(a.max_response_chars) aria-describedby={ "wc-" (id) " cc-" (id) } { (current_text) }
                        p class="hint" id={ "wc-" (id) } aria-live="off" { (word_count(current_text)) " words" }
                        p class="hint" id={ "cc-" (id) } aria-live="polite" { (thousands(limits::response_chars(current_text))) " of " (thousands(a.max_response_chars)) " characters" }
                    }
                    (comment_box("vignette", current + 1, &format!("c:{}", p.vignette_id), &comment_key, comment_text))
                    div class="actions" {
                        button type="submit" name="go" value="stay" { "Save" }
                        @if current + 1 < n { button type="submit" name="go" value={ "v" (current + 2) } class="secondary" { "Save and read vignette " (current + 2) } }
                        button type="submit" name="go" value="review" class="secondary" { "Save and review Part Two" }
                    }
                }
            }
        }
        (break_button(&csrf, 2, breaks))
        script src="/assets/exam.js" defer {}
    };
    Ok(views::page("Part Two", Some(&chrome(&reg, &csrf)), body).into_response())
}

pub async fn save_vignettes(
    State(state): State<AppState>,
    OpenAttempt {
        reg,
        attempt: a,
        newest_event,
        ..
    }: OpenAttempt<2>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let seq: u64 = pairs
        .iter()
        .find(|(k, _)| k == "seq")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| {
            AppError::BadRequest("The form is missing its sequence number; reload the page.".into())
        })?;
    let bps = bank_store::blueprints(&state.db).await?;
    let k = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .map_or(0, |b| b.part_two.answer) as usize;
    let answers = attempts::current_answers(&state.db, a.id, newest_event).await?;
    let responses = page_responses(&a, &pairs)?;
    let comments = page_comments(&a, &pairs)?;
    let now = now_ms();
    let mut next = seq;
    // At most one save per item of the form, and only for a response that changed.
    for (item, value) in responses {
        if answers.get(item).map_or(value.is_empty(), |v| v == value) {
            continue;
        }
        save_or_explain(&state, a.id, item, value, next, now).await?;
        next += 1;
    }
    let chosen: BTreeSet<String> = pairs
        .iter()
        .filter(|(k, _)| k == "choose")
        .map(|(_, v)| v.clone())
        .collect();
    let choice = check_choice(&a.form, &chosen, k)?;
    if answers
        .get("@choice")
        .map_or(!choice.is_empty(), |v| *v != choice)
    {
        save_or_explain(&state, a.id, "@choice", &choice, next, now).await?;
    }
    // Past every stored save: the page's script may have saved an earlier draft of a comment
    // under one of this page's numbers, and the text the form sends is the newest.
    let mut fresh = seq_base(&answers).max(next + 1);
    for (key, text) in comments {
        if answers.get(&key).unwrap_or_default() != text {
            save_or_explain(&state, a.id, &key, &text, fresh, now).await?;
            fresh += 1;
        }
    }
    let go = pairs
        .iter()
        .find(|(k, _)| k == "go")
        .map(|(_, v)| v.as_str());
    let n = a.form.part_two.len();
    let to = match go {
        Some("review") => "/exam/2/review".to_string(),
        Some(v)
            if v.strip_prefix('v')
                .and_then(|v| v.parse::<usize>().ok())
                .is_some_and(|v| (1..=n).contains(&v)) =>
        {
            format!("/exam/2/vignettes?{}", v.replacen('v', "v=", 1))
        }
        _ => match pairs
            .iter()
            .find(|(k, _)| k == "shown")
            .and_then(|(_, v)| v.parse::<usize>().ok())
        {
            Some(v) if (1..=n).contains(&v) => format!("/exam/2/vignettes?v={v}"),
            _ => "/exam/2/vignettes".to_string(),
        },
    };
    Ok(Redirect::to(&to).into_response())
}

/// The responses a whole Part Two page sends (`r:ITEM` fields), each checked before any is
/// saved: an item of this form, given once, within the part's length.
fn page_responses<'p>(
    a: &Attempt,
    pairs: &'p [(String, String)],
) -> AppResult<BTreeMap<&'p str, &'p str>> {
    let mut out = BTreeMap::new();
    for (key, value) in pairs {
        let Some(item) = key.strip_prefix("r:") else {
            continue;
        };
        limits::check_save_size(item, value)
            .map_err(|e| AppError::BadRequest(format!("Nothing was saved: {e}")))?;
        if out.insert(item, value.as_str()).is_some() {
            return Err(AppError::BadRequest(format!(
                "The form sent the response to {item} more than once. Nothing was saved; reload the page."
            )));
        }
        check_open_item(&a.form, item, value, a.max_response_chars)?;
    }
    Ok(out)
}

/// The comments a Part Two page sends (`c:VIGNETTE` fields), each checked before anything is
/// saved: a vignette of this form, given once, short plain text. Keyed as saved.
fn page_comments(a: &Attempt, pairs: &[(String, String)]) -> AppResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (key, value) in pairs {
        let Some(vignette) = key.strip_prefix("c:") else {
            continue;
        };
        limits::check_save_size(&comment::key(vignette), value)
            .map_err(|e| AppError::BadRequest(format!("Nothing was saved: {e}")))?;
        let text = comment::from_form(value);
        comment::check(&a.form, 2, vignette, &text)
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        if out.insert(comment::key(vignette), text).is_some() {
            return Err(AppError::BadRequest(format!(
                "The form sent the comment on {vignette} more than once. Nothing was saved; reload the page."
            )));
        }
    }
    Ok(out)
}

pub(super) fn check_open_item(
    form: &Form,
    item: &str,
    text: &str,
    max_chars: usize,
) -> AppResult<()> {
    if !form
        .part_two
        .iter()
        .any(|p| p.items.iter().any(|(id, _)| id == item))
    {
        return Err(AppError::BadRequest(format!("{item} is not on your form.")));
    }
    limits::check_response(text, max_chars).map_err(|e| AppError::BadRequest(e.to_string()))
}

/// The chosen vignettes as stored: sorted ids, comma-separated; at most `k` of the presented.
pub(super) fn check_choice(form: &Form, chosen: &BTreeSet<String>, k: usize) -> AppResult<String> {
    if let Some(bad) = chosen
        .iter()
        .find(|c| !form.part_two.iter().any(|p| &p.vignette_id == *c))
    {
        return Err(AppError::BadRequest(format!(
            "{bad} is not one of your vignettes."
        )));
    }
    if chosen.len() > k {
        return Err(AppError::BadRequest(format!(
            "You chose {} vignettes; Part Two asks you to answer {k}. Untick one and save again. Your writing was saved.",
            chosen.len()
        )));
    }
    Ok(chosen.iter().cloned().collect::<Vec<_>>().join(","))
}
