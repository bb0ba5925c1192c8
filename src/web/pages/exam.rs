//! The candidate's exam: usable without JavaScript (every page is a form), with a little
//! script for autosave, the timer and offline edits. Only stems, options, prompts and vignette
//! texts are rendered: keys, rationales and rubrics never reach the browser.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::bank::ItemBody;
use crate::exam::chain::receipt;
use crate::exam::form::Form;
use crate::exam::limits::{self, thousands};
use crate::store::attempts::{self, Attempt, ClockAction, ClockChange, SaveError, StartError};
use crate::store::sittings::{self, BrowserEvent, Registration};
use crate::store::{bank as bank_store, now_ms};

use crate::auth;
use crate::web::error::{AppError, AppResult};
use crate::web::pages::proctor::{minutes_seconds, when};
use crate::web::roles::{Candidate, OpenAttempt, PartNo, PART_IN_PATH};
use crate::web::session::{CsrfToken, SESSION_COOKIE};
use crate::web::views::{self, csrf_field, Chrome};
use crate::web::AppState;

/// What the save path needs of an attempt, read from the database once per server process.
pub struct OpenForm {
    pub form: Form,
    /// The longest open response the part takes, in characters (from its blueprint).
    pub max_response_chars: usize,
}

fn part_name(part: u8) -> &'static str {
    if part == 1 {
        "Part One"
    } else {
        "Part Two"
    }
}

/// A sequence number for a save made from a page rendered now: larger than any stored and
/// than any handed out earlier, so a later edit always wins.
async fn seq_base(state: &AppState, attempt_id: i64) -> AppResult<u64> {
    let last = attempts::last_seq(&state.db, attempt_id).await?;
    let now = u64::try_from(now_ms()).unwrap_or(0) * 1024 + rand::random::<u64>() % 1024;
    Ok(last.max(now) + 1)
}

fn chrome<'a>(reg: &'a Registration, csrf: &'a str) -> Chrome<'a> {
    Chrome {
        user: None,
        candidate: Some(&reg.name),
        csrf,
    }
}

pub async fn home(
    State(state): State<AppState>,
    Candidate { reg, sitting }: Candidate,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let bps = bank_store::blueprints(&state.db).await?;
    let bp = bps.iter().find(|b| b.id == reg.blueprint_id);
    let all = attempts::attempts_of(&state.db, reg.id).await?;
    let now = now_ms();
    let parts: Vec<u8> = [(1u8, reg.parts.one), (2, reg.parts.two)]
        .into_iter()
        .filter(|p| p.1)
        .map(|p| p.0)
        .collect();
    let report = crate::store::results::report(&state.db, &reg).await?;
    let about = crate::store::analysis::demographics_of(&state.db, reg.id).await?;
    let body = html! {
        h1 { "Welcome, " (reg.name) }
        @if let Some(r) = &report { (score_report(r)) }
        p { (sitting.name) ", level " (reg.level) ". The sitting is open from " (when(sitting.opens_at)) " to " (when(sitting.closes_at)) "." }
        @if reg.absent_at.is_some() {
            p class="notice" role="status" { "You were marked absent from this sitting: your parts count as not taken, not as failed. You may register for a later sitting; ask the exam's administrators." }
        } @else if reg.admitted_at.is_none() {
            p class="notice" role="status" { "Your proctor will check your identity and admit you. Keep this page open; it reloads itself every 15 seconds, or reload it yourself." }
            meta http-equiv="refresh" content="15";
        } @else {
            p { "Each part is started, timed and submitted on its own. The time shown on the exam pages is the server's; it stops while your proctor pauses the sitting." }
            @for part in &parts {
                @let attempt = all.iter().find(|a| a.part == *part);
                @let minutes = bp.map(|b| if *part == 1 { b.part_one.minutes } else { b.part_two.minutes }).unwrap_or(90);
                section aria-labelledby={ "part-" (part) } {
                    h2 id={ "part-" (part) } { (part_name(*part)) @if let Some(b) = bp { ": " (if *part == 1 { &b.part_one.name } else { &b.part_two.name }) } }
                    @match attempt {
                        None => {
                            p { (minutes) " minutes"
                                @if reg.multiplier.permille() != 1000 { ", with your approved time ×" (reg.multiplier) ": " (i64::from(minutes) * i64::from(reg.multiplier.permille()) / 1000) " minutes" } "." }
                            form method="post" action={ "/exam/" (part) "/start" } {
                                (csrf_field(&csrf))
                                button type="submit" { "Start " (part_name(*part)) }
                            }
                        }
                        Some(a) if a.voided_at.is_some() => { p { "This part was voided by the proctor: " (a.void_reason.clone().unwrap_or_default()) } }
                        Some(a) if a.submitted_at.is_some() => {
                            p { "Submitted. Your receipt code: " code class="code" { (receipt(&a.chain_head)) } }
                        }
                        Some(a) => {
                            p { "In progress: " (minutes_seconds(a.clock.remaining_ms(now))) " left." }
                            p { a href={ "/exam/" (part) } { "Continue " (part_name(*part)) } }
                        }
                    }
                }
            }
        }
    };
    let body = html! { (body) (about_you(&csrf, about.as_ref())) };
    Ok(views::page("Your exam", Some(&chrome(&reg, &csrf)), body).into_response())
}

/// The optional questions for fairness research, answered only with consent.
fn about_you(csrf: &str, given: Option<&BTreeMap<String, String>>) -> Markup {
    html! {
        section aria-labelledby="about-title" class="about" {
            h2 id="about-title" { "Optional: about you" }
            p { "These questions help the exam committee check that every question is fair to every group of candidates. Answering is optional and changes nothing in your exam. Your answers are kept apart from your exam and are never shown to proctors or raters." }
            @if given.is_some() { p class="notice" role="status" { "Thank you: your answers are recorded. You may change them or withdraw your consent below." } }
            form method="post" action="/candidate/about" {
                (csrf_field(csrf))
                @for q in crate::demographics::QUESTIONS {
                    @let current = given.and_then(|g| g.get(q.key)).map(String::as_str).unwrap_or("");
                    fieldset {
                        legend { (q.text) }
                        @for (value, label) in q.answers {
                            div class="option" {
                                input type="radio" name=(q.key) id={ (q.key) "-" (value) } value=(value) checked[current == *value];
                                label for={ (q.key) "-" (value) } { (label) }
                            }
                        }
                        div class="option" {
                            input type="radio" name=(q.key) id={ (q.key) "-none" } value="" checked[current.is_empty()];
                            label for={ (q.key) "-none" } { "Prefer not to say" }
                        }
                    }
                }
                div class="option" {
                    input type="checkbox" name="consent" id="consent" value="yes" checked[given.is_some()];
                    label for="consent" { "I agree that these answers may be used, apart from my exam, to check that the exam is fair." }
                }
                button type="submit" { "Save my answers" }
            }
        }
    }
}

pub async fn save_about(
    State(state): State<AppState>,
    Candidate { reg, .. }: Candidate,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> AppResult<Response> {
    let axum::Form(fields) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let fields: BTreeMap<String, String> = fields.into_iter().collect();
    if fields.get("consent").map(String::as_str) == Some("yes") {
        let answers = crate::demographics::parse(&fields).map_err(AppError::BadRequest)?;
        crate::store::analysis::save_demographics(&state.db, reg.id, Some(&answers)).await?;
    } else {
        crate::store::analysis::save_demographics(&state.db, reg.id, None).await?;
    }
    Ok(Redirect::to("/candidate#about-title").into_response())
}

/// The candidate's score report: pass or fail per part, the scores, feedback by domain and the
/// raters' feedback on each response.
fn score_report(r: &crate::store::results::Report) -> Markup {
    let domain = |code: &str| {
        r.domain_names
            .get(code)
            .map_or_else(|| code.to_string(), |n| format!("{n} ({code})"))
    };
    html! {
        section class="report" aria-labelledby="results-title" {
            h2 id="results-title" { "Your results" }
            @match r.exam_passed {
                Some(true) => { p class="notice" role="status" { strong { "You have passed the written exam." } } }
                Some(false) => { p class="notice" role="status" { "You have not passed the written exam this time. A part you did not pass may be retaken; the part you passed stands." } }
                None => {}
            }
            @for name in &r.not_taken {
                h3 { (name) ": not taken" }
                p { (if r.absent { "You were absent from this sitting: this part is not taken, not failed." } else { "You did not start this part before the sitting closed: it is not taken, not failed." }) }
            }
            @for (name, part) in &r.parts {
                h3 { (name) ": " (if part.passed { "passed" } else { "not passed" }) }
                p { (part.points) " of " (part.max) " points (" (format!("{:.1}", part.percent())) "%)." }
                table {
                    caption { "By competency domain" }
                    thead { tr { th scope="col" { "Domain" } th scope="col" { "Points" } th scope="col" { "Of" } th scope="col" { "Feedback" } } }
                    tbody {
                        @for (code, (points, max)) in &part.detail.by_domain {
                            @let pct = if *max > 0.0 { 100.0 * points / max } else { 0.0 };
                            tr {
                                th scope="row" { (domain(code)) }
                                td { (points) } td { (max) }
                                td { (if pct >= 80.0 { "A strength" } else if pct >= 60.0 { "Sound; worth reviewing" } else { "An area to develop" }) }
                            }
                        }
                    }
                }
            }
            @if !r.feedback.is_empty() {
                h3 { "The raters' feedback on your Part Two responses" }
                @for (title, score, max, notes) in &r.feedback {
                    h4 { (title) ": " (score) " of " (max) }
                    @if notes.is_empty() { p { "No written feedback." } }
                    @for n in notes { blockquote { (n) } }
                }
            }
        }
    }
}

pub async fn start(
    State(state): State<AppState>,
    Candidate { reg, sitting }: Candidate,
    PartNo(part): PartNo,
) -> AppResult<Response> {
    let bps = bank_store::blueprints(&state.db).await?;
    let bp = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .ok_or(AppError::NotFound)?;
    let pool = bank_store::pool(&state.db).await?;
    match attempts::start_part(&state.db, &sitting, &reg, bp, &pool, part, now_ms()).await {
        Ok(_) => Ok(Redirect::to(&format!("/exam/{part}")).into_response()),
        Err(StartError::Store(e)) => Err(e.into()),
        Err(e) => Err(AppError::BadRequest(format!(
            "{} cannot start: {e}.",
            part_name(part)
        ))),
    }
}

fn timer(a: &Attempt, now: i64) -> Markup {
    let remaining = a.clock.remaining_ms(now);
    let paused = a.clock.is_paused_at(now);
    html! {
        div class="examhead" {
            p class="timer" {
                "Time left: "
                span id="timer" data-remaining-ms=(remaining) data-paused=(paused) role="timer" aria-live="off" { (minutes_seconds(remaining)) }
                @if paused { " (paused by the proctor)" }
            }
            p id="save-status" class="status" role="status" aria-live="polite" { "All answers shown are saved." }
        }
    }
}

fn canonical_to_shown(form: &Form, item: &str, canonical: &str) -> Option<usize> {
    let e = form.part_one.iter().find(|e| e.item_id == item)?;
    let c = canonical.bytes().next()?.checked_sub(b'A')?;
    e.shown_position(c)
}

pub async fn part(_: Candidate, PartNo(part): PartNo) -> AppResult<Response> {
    Ok(Redirect::to(&if part == 1 {
        "/exam/1/item/1".to_string()
    } else {
        "/exam/2/vignettes".to_string()
    })
    .into_response())
}

pub async fn item_page(
    State(state): State<AppState>,
    OpenAttempt {
        reg, attempt: a, ..
    }: OpenAttempt<1>,
    CsrfToken(csrf): CsrfToken,
    Path(pos): Path<usize>,
) -> AppResult<Response> {
    if a.clock.is_paused_at(now_ms()) {
        return Ok(paused_page(&reg, &csrf, &a));
    }
    let total = a.form.part_one.len();
    let Some(entry) = pos.checked_sub(1).and_then(|i| a.form.part_one.get(i)) else {
        return Err(AppError::NotFound);
    };
    let item = bank_store::item_version(&state.db, &entry.item_id, entry.version)
        .await?
        .ok_or(AppError::NotFound)?;
    let ItemBody::Mcq(mcq) = &item.body else {
        return Err(AppError::NotFound);
    };
    let vignette = match (&entry.vignette, entry.vignette_version) {
        (Some(v), Some(version)) => bank_store::vignette_text(&state.db, v, version).await?,
        _ => None,
    };
    let answers = attempts::answers(&state.db, a.id).await?;
    let chosen = answers
        .get(&entry.item_id)
        .and_then(|c| canonical_to_shown(&a.form, &entry.item_id, c));
    let flagged = answers
        .get(&format!("@flag:{}", entry.item_id))
        .is_some_and(|f| f == "1");
    let seq = seq_base(&state, a.id).await?;
    let breaks = attempts::breaks_left(&state.db, reg.id).await?;
    let now = now_ms();
    let body = html! {
        (timer(&a, now))
        h1 { "Part One, question " (pos) " of " (total) }
        div class=(if vignette.is_some() { "with-vignette" } else { "" }) {
            @if let Some((title, text)) = &vignette {
                section class="vignette" aria-labelledby="vignette-title" {
                    h2 id="vignette-title" { (title) }
                    @for para in text.split("\n\n") { p { (para) } }
                }
            }
            form method="post" action={ "/exam/1/item/" (pos) } class="item" data-attempt=(a.id) data-part="1" data-item=(entry.item_id) data-seq=(seq) {
                (csrf_field(&csrf))
                input type="hidden" name="seq" value=(seq);
                fieldset {
                    legend { @for para in mcq.stem.split("\n\n") { span class="stem" { (para) } } }
                    @for (shown, canonical) in entry.option_order.iter().enumerate() {
                        @let letter = (b'A' + shown as u8) as char;
                        @let text = &mcq.options[usize::from(*canonical)].text;
                        div class="option" {
                            input type="radio" name="choice" id={ "opt-" (shown) } value=(shown) checked[chosen == Some(shown)];
                            label for={ "opt-" (shown) } { span class="letter" { (letter) "." } " " (text) }
                        }
                    }
                }
                div class="option" {
                    input type="checkbox" name="flag" id="flag" value="1" checked[flagged];
                    label for="flag" { "Flag this question to review before submitting" }
                }
                div class="actions" {
                    @if pos > 1 { button type="submit" name="go" value="prev" { "Save and go to the previous question" } }
                    @if pos < total { button type="submit" name="go" value="next" { "Save and go to the next question" } }
                    button type="submit" name="go" value="review" { "Save and review Part One" }
                }
            }
        }
        (navigator(&a, &answers, pos))
        (break_button(&csrf, 1, breaks))
        p class="hint" { "Keyboard: Tab moves between answers and buttons; arrow keys move between options. With the page's script: Alt+Shift+1 to 4 choose an option, Alt+Shift+F flags, Alt+Shift+N and Alt+Shift+P go to the next and previous question, Alt+Shift+R to the review." }
        script src="/assets/exam.js" defer {}
    };
    Ok(views::page(&format!("Question {pos}"), Some(&chrome(&reg, &csrf)), body).into_response())
}

fn navigator(a: &Attempt, answers: &BTreeMap<String, String>, current: usize) -> Markup {
    html! {
        nav aria-label="Questions" class="navigator" {
            h2 { "Questions" }
            p class="hint" { "Answered questions are marked ✓, flagged ones ⚑." }
            ol {
                @for (i, e) in a.form.part_one.iter().enumerate() {
                    @let answered = answers.get(&e.item_id).is_some_and(|v| !v.is_empty());
                    @let flagged = answers.get(&format!("@flag:{}", e.item_id)).is_some_and(|f| f == "1");
                    li {
                        a href={ "/exam/1/item/" (i + 1) } aria-current=[(i + 1 == current).then_some("page")]
                            class={ @if answered { "answered" } @if flagged { " flagged" } } {
                            (i + 1)
                            @if answered { " ✓" span class="sr-only" { " answered" } }
                            @if flagged { " ⚑" span class="sr-only" { " flagged" } }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ItemForm {
    pub seq: u64,
    pub choice: Option<String>,
    pub flag: Option<String>,
    pub go: Option<String>,
}

pub async fn save_item(
    State(state): State<AppState>,
    OpenAttempt { attempt: a, .. }: OpenAttempt<1>,
    Path(pos): Path<usize>,
    form: Result<axum::Form<ItemForm>, axum::extract::rejection::FormRejection>,
) -> AppResult<Response> {
    // The form is read only once the candidate is known, so a stranger learns nothing from it.
    let axum::Form(f) = form.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let entry = pos
        .checked_sub(1)
        .and_then(|i| a.form.part_one.get(i))
        .ok_or(AppError::NotFound)?;
    let answers = attempts::answers(&state.db, a.id).await?;
    let now = now_ms();
    if let Some(choice) = f.choice.as_deref() {
        let canonical = mcq_answer(&a.form, &entry.item_id, choice)?;
        if answers.get(&entry.item_id) != Some(&canonical) {
            save_or_explain(&state, a.id, &entry.item_id, &canonical, f.seq, now).await?;
        }
    }
    let flag = if f.flag.is_some() { "1" } else { "0" };
    let key = format!("@flag:{}", entry.item_id);
    if answers.get(&key).map_or(flag == "1", |v| v != flag) {
        save_or_explain(&state, a.id, &key, flag, f.seq + 1, now).await?;
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
fn mcq_answer(form: &Form, item: &str, shown: &str) -> AppResult<String> {
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

async fn save_or_explain(
    state: &AppState,
    attempt: i64,
    item: &str,
    answer: &str,
    seq: u64,
    now: i64,
) -> AppResult<attempts::Saved> {
    match attempts::save(&state.db, attempt, item, answer, seq, now).await {
        Ok(s) => Ok(s),
        Err(SaveError::Store(e)) => Err(e.into()),
        Err(e) => Err(AppError::BadRequest(format!("Not saved: {e}."))),
    }
}

fn chosen_set(answers: &BTreeMap<String, String>) -> BTreeSet<String> {
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

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

pub async fn vignettes_page(
    State(state): State<AppState>,
    OpenAttempt {
        reg, attempt: a, ..
    }: OpenAttempt<2>,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    if a.clock.is_paused_at(now_ms()) {
        return Ok(paused_page(&reg, &csrf, &a));
    }
    let bps = bank_store::blueprints(&state.db).await?;
    let k = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .map_or(0, |b| b.part_two.answer);
    let n = a.form.part_two.len();
    let answers = attempts::answers(&state.db, a.id).await?;
    let chosen = chosen_set(&answers);
    let seq = seq_base(&state, a.id).await?;
    let breaks = attempts::breaks_left(&state.db, reg.id).await?;
    let mut sections = Vec::new();
    for (i, p) in a.form.part_two.iter().enumerate() {
        let (title, text) = bank_store::vignette_text(&state.db, &p.vignette_id, p.version)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut prompts = Vec::new();
        for (id, version) in &p.items {
            if let Some(item) = bank_store::item_version(&state.db, id, *version).await? {
                if let ItemBody::Open(o) = item.body {
                    prompts.push((id.clone(), o.prompt));
                }
            }
        }
        sections.push((i, p, title, text, prompts));
    }
    let now = now_ms();
    let body = html! {
        (timer(&a, now))
        h1 { "Part Two: answer " (k) " of these " (n) " vignettes" }
        p class="notice rule" { strong { "Read all " (n) " vignettes, then choose exactly " (k) " to answer." }
            " Tick “I will answer this vignette” for each one you choose. You may change your choice until you submit Part Two. Only the vignettes you have chosen are submitted and scored; anything written for the others is set aside." }
        form method="post" action="/exam/2/vignettes" class="part-two" data-attempt=(a.id) data-part="2" data-seq=(seq) data-answer=(k) {
            (csrf_field(&csrf))
            input type="hidden" name="seq" value=(seq);
            @for (i, p, title, text, prompts) in &sections {
                section class="vignette" aria-labelledby={ "v-" (i) } {
                    h2 id={ "v-" (i) } { "Vignette " (i + 1) ": " (title) }
                    @for para in text.split("\n\n") { p { (para) } }
                    div class="option choose" {
                        input type="checkbox" name="choose" id={ "choose-" (i) } value=(p.vignette_id) checked[chosen.contains(&p.vignette_id)];
                        label for={ "choose-" (i) } { "I will answer this vignette" }
                    }
                    @for (id, prompt) in prompts {
                        @let current = answers.get(id).cloned().unwrap_or_default();
                        label for={ "r-" (id) } { @for para in prompt.split("\n\n") { span class="stem" { (para) } } }
                        // maxlength holds a browser without the script to the limit too (it
                        // counts an emoji as two, so it never lets past what the server takes).
                        textarea id={ "r-" (id) } name={ "r:" (id) } rows="12" maxlength=(a.max_response_chars) data-item=(id) data-max=(a.max_response_chars) aria-describedby={ "wc-" (id) " cc-" (id) } { (current) }
                        p class="hint" id={ "wc-" (id) } aria-live="off" { (word_count(&current)) " words" }
                        p class="hint" id={ "cc-" (id) } aria-live="polite" { (thousands(limits::response_chars(&current))) " of " (thousands(a.max_response_chars)) " characters" }
                    }
                }
            }
            div class="actions" {
                button type="submit" name="go" value="stay" { "Save" }
                button type="submit" name="go" value="review" { "Save and review Part Two" }
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
        reg, attempt: a, ..
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
    let answers = attempts::answers(&state.db, a.id).await?;
    let responses = page_responses(&a, &pairs)?;
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
    let go = pairs
        .iter()
        .find(|(k, _)| k == "go")
        .map(|(_, v)| v.as_str());
    Ok(Redirect::to(if go == Some("review") {
        "/exam/2/review"
    } else {
        "/exam/2/vignettes"
    })
    .into_response())
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

fn check_open_item(form: &Form, item: &str, text: &str, max_chars: usize) -> AppResult<()> {
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
fn check_choice(form: &Form, chosen: &BTreeSet<String>, k: usize) -> AppResult<String> {
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

pub async fn review(
    State(state): State<AppState>,
    OpenAttempt {
        reg, attempt: a, ..
    }: OpenAttempt<PART_IN_PATH>,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let part = a.part;
    if a.clock.is_paused_at(now_ms()) {
        return Ok(paused_page(&reg, &csrf, &a));
    }
    let answers = attempts::answers(&state.db, a.id).await?;
    let bps = bank_store::blueprints(&state.db).await?;
    let k = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .map_or(0, |b| b.part_two.answer) as usize;
    let now = now_ms();
    let body = html! {
        (timer(&a, now))
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
                    li { "Vignette " (i + 1) ": "
                        @if chosen.contains(&p.vignette_id) { "chosen, " (p.items.iter().map(|(id, _)| answers.get(id).map_or(0, |t| word_count(t))).sum::<usize>()) " words" }
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
        p { a href="/candidate" { "Back to your exam page" } }
    };
    Ok(views::page("Receipt", Some(&chrome(&reg, &csrf)), body).into_response())
}

/// Shown instead of the questions while the clock is stopped.
fn paused_page(reg: &Registration, csrf: &str, a: &Attempt) -> Response {
    let now = now_ms();
    let left = minutes_seconds(a.clock.remaining_ms(now));
    let body = html! {
        @if a.on_break() {
            h1 { "You are on a break" }
            p { "Your clock is stopped with " strong { (left) } " left. Your answers are saved." }
            @if let Some(end) = a.clock.pause_ends_at() {
                p { "A break lasts at most " (a.break_max_ms / 60_000) " minutes: yours ends by itself at "
                    strong { (when(end)) } " (in " (minutes_seconds((end - now).max(0))) "), and your clock runs again from then." }
                // Back to the questions when the break ends, script or not.
                meta http-equiv="refresh" content=((end - now).max(0) / 1000 + 1);
            }
            form method="post" action={ "/exam/" (a.part) "/end-break" } {
                (csrf_field(csrf))
                button type="submit" { "End my break and go back to " (part_name(a.part)) }
            }
        } @else {
            h1 { "Your proctor has paused your exam" }
            p { "Your clock is stopped with " strong { (left) } " left. Your answers are saved. This page reloads itself every 10 seconds; your exam continues when the proctor resumes it." }
            meta http-equiv="refresh" content="10";
        }
    };
    views::page("Paused", Some(&chrome(reg, csrf)), body).into_response()
}

/// The break button, when the candidate has approved breaks left.
fn break_button(csrf: &str, part: u8, left: i64) -> Markup {
    html! {
        @if left > 0 {
            form method="post" action={ "/exam/" (part) "/break" } class="break" {
                (csrf_field(csrf))
                button type="submit" { "Take a break (" (left) " approved break" (if left == 1 { "" } else { "s" }) " left)" }
            }
        }
    }
}

pub async fn take_break(
    State(state): State<AppState>,
    OpenAttempt { reg, attempt, .. }: OpenAttempt<PART_IN_PATH>,
) -> AppResult<Response> {
    break_action(&state, &reg, &attempt, ClockAction::StartBreak).await
}

pub async fn end_break(
    State(state): State<AppState>,
    OpenAttempt { reg, attempt, .. }: OpenAttempt<PART_IN_PATH>,
) -> AppResult<Response> {
    break_action(&state, &reg, &attempt, ClockAction::EndBreak).await
}

async fn break_action(
    state: &AppState,
    reg: &Registration,
    a: &Attempt,
    action: ClockAction,
) -> AppResult<Response> {
    let part = a.part;
    match attempts::change_clock(&state.db, a.id, action, now_ms()).await? {
        ClockChange::NoBreakLeft => Err(AppError::BadRequest(
            "You have no approved break left.".into(),
        )),
        ClockChange::Done(_) => {
            let what = if action == ClockAction::StartBreak {
                "break-start"
            } else {
                "break-end"
            };
            sittings::log_event(
                &state.db,
                reg.sitting_id,
                Some(reg.id),
                what,
                part_name(part),
                "candidate",
            )
            .await?;
            Ok(Redirect::to(&format!("/exam/{part}")).into_response())
        }
        ClockChange::NotApplicable => Ok(Redirect::to(&format!("/exam/{part}")).into_response()),
    }
}

/// A save from the page's script.
#[derive(Debug, Deserialize)]
pub struct ApiSave {
    pub part: u8,
    pub item: String,
    /// For Part One: the shown option position ("" clears); for Part Two: the text; for a
    /// flag `@flag:ID`: "1" or "0"; for `@choice`: comma-separated vignette ids.
    pub value: String,
    pub seq: u64,
}

#[derive(Debug, Serialize)]
pub struct ApiSaved {
    pub stored: bool,
    pub current: bool,
    pub remaining_ms: i64,
    pub paused: bool,
}

#[derive(Debug, Serialize)]
pub struct ApiError {
    pub error: String,
}

fn api_error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(ApiError { error: msg.into() })).into_response()
}

pub async fn api_save(
    State(state): State<AppState>,
    jar: CookieJar,
    body: Result<Json<ApiSave>, axum::extract::rejection::JsonRejection>,
) -> Response {
    // The hot path: one query from the session to the registration, the form from memory.
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| auth::sha256_hex(c.value())) else {
        return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.");
    };
    let cached = state
        .sessions
        .get(&token)
        .filter(|c| c.at.elapsed() < crate::web::SESSION_CACHE);
    let (reg_id, active, blueprint_id) = match cached {
        Some(c) => (c.registration, c.active, c.blueprint),
        None => match sittings::candidate_for_session(&state.db, &token).await {
            Ok(Some((reg, active, blueprint))) => {
                state.sessions.insert(
                    token.clone(),
                    crate::web::CachedSession {
                        at: std::time::Instant::now(),
                        registration: reg,
                        active: active.clone(),
                        blueprint: blueprint.clone(),
                    },
                );
                (reg, active, blueprint)
            }
            Ok(None) => {
                return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.")
            }
            Err(e) => return AppError::from(e).into_response(),
        },
    };
    if active.as_deref() != Some(token.as_str()) {
        return api_error(
            StatusCode::CONFLICT,
            "Your exam has been moved to another browser by your proctor. Ask your proctor if this is unexpected.",
        );
    }
    // The body is read only once the candidate is known.
    let s = match body {
        Ok(Json(s)) => s,
        Err(e) => return api_error(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()),
    };
    if let Err(e) = limits::check_save_size(&s.item, &s.value) {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, e);
    }
    if !matches!(s.part, 1 | 2) {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, "part: must be 1 or 2.");
    }
    if !(1..=attempts::MAX_SEQ).contains(&s.seq) {
        return api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("seq: must be from 1 to {}.", attempts::MAX_SEQ),
        );
    }
    let cached = state.attempt_ids.get(&(reg_id, s.part));
    let attempt = match cached {
        Some(id) => id,
        None => match attempts::attempt_id(&state.db, reg_id, s.part).await {
            Ok(Some(id)) => {
                state.attempt_ids.insert((reg_id, s.part), id);
                id
            }
            Ok(None) => return api_error(StatusCode::NOT_FOUND, "This part has not been started."),
            Err(e) => return AppError::from(e).into_response(),
        },
    };
    let open = match cached_form(&state, attempt).await {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let form = &open.form;
    let value = if s.part == 1 && !s.item.starts_with('@') {
        match mcq_answer(form, &s.item, &s.value) {
            Ok(v) => v,
            Err(e) => return api_error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        }
    } else {
        s.value.clone()
    };
    let valid = if let Some(flagged) = s.item.strip_prefix("@flag:") {
        (form.part_one.iter().any(|e| e.item_id == flagged) && matches!(value.as_str(), "0" | "1"))
            .then_some(())
            .ok_or_else(|| AppError::BadRequest("not a flag of this form".into()))
    } else if s.item == "@choice" {
        let bps = bank_store::blueprints(&state.db).await.unwrap_or_default();
        let k = bps
            .iter()
            .find(|b| b.id == blueprint_id)
            .map_or(0, |b| b.part_two.answer) as usize;
        let chosen: BTreeSet<String> = value
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        check_choice(form, &chosen, k).map(|_| ())
    } else if s.part == 2 {
        check_open_item(form, &s.item, &value, open.max_response_chars)
    } else if form.part_one.iter().any(|e| e.item_id == s.item) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "{} is not on your form",
            s.item
        )))
    };
    if let Err(e) = valid {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
    }
    let value = if s.item == "@choice" {
        let chosen: BTreeSet<&str> = value.split(',').filter(|v| !v.is_empty()).collect();
        chosen.into_iter().collect::<Vec<_>>().join(",")
    } else {
        value
    };
    match attempts::save(&state.db, attempt, &s.item, &value, s.seq, now_ms()).await {
        Ok(saved) => Json(ApiSaved {
            stored: saved.stored,
            current: saved.current,
            remaining_ms: saved.remaining_ms,
            paused: saved.paused,
        })
        .into_response(),
        // Not stored (the database refused the write: a full disk, say). The script keeps the
        // save and sends it again; nothing acknowledged is at risk.
        Err(SaveError::Store(e)) => {
            tracing::error!(error = %e, attempt, "a save could not be stored");
            let mut res = api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server could not store this answer just now. It is kept in this browser and will be sent again.",
            );
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("5"),
            );
            res
        }
        // Not final: the script keeps the save and sends it again once the clock runs.
        Err(SaveError::Paused) => api_error(StatusCode::LOCKED, format!("{}.", SaveError::Paused)),
        Err(e) => api_error(StatusCode::CONFLICT, format!("{e}.")),
    }
}

/// An attempt's form and limits, read from the database once per server process.
async fn cached_form(state: &AppState, attempt: i64) -> AppResult<Arc<OpenForm>> {
    if let Some(f) = state.forms.get(&attempt) {
        return Ok(f);
    }
    let a = attempts::attempt(&state.db, attempt)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = Arc::new(OpenForm {
        form: a.form,
        max_response_chars: a.max_response_chars,
    });
    state.forms.insert(attempt, form.clone());
    Ok(form)
}

#[derive(Debug, Deserialize)]
pub struct ApiEvent {
    pub kind: String,
    #[serde(default)]
    pub detail: String,
}

/// Leaving the tab, copy and paste: recorded for the proctor, never blocked.
pub async fn api_event(
    State(state): State<AppState>,
    candidate: Result<Candidate, AppError>,
    body: Result<Json<ApiEvent>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Ok(Candidate { reg, .. }) = candidate else {
        return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.");
    };
    let e = match body {
        Ok(Json(e)) => e,
        Err(e) => return api_error(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()),
    };
    if !matches!(
        e.kind.as_str(),
        "focus-lost" | "focus-back" | "copy" | "paste" | "offline" | "online"
    ) {
        return api_error(StatusCode::UNPROCESSABLE_ENTITY, "unknown event");
    }
    let detail: String = e.detail.chars().take(200).collect();
    // Counted always; listed one by one only up to the part's limit (the console stays small).
    match sittings::log_browser_event(&state.db, reg.sitting_id, reg.id, &e.kind, &detail).await {
        // Before any part starts there is nothing to report against (the page's script runs
        // only on a part's pages): not stored, so it cannot grow anything either.
        Ok(BrowserEvent::Listed | BrowserEvent::Counted | BrowserEvent::NoPart) => {
            StatusCode::NO_CONTENT.into_response()
        }
        Err(err) => AppError::from(err).into_response(),
    }
}

/// The script's clock: what remains, from the server.
pub async fn api_clock(
    State(state): State<AppState>,
    candidate: Result<Candidate, AppError>,
    PartNo(part): PartNo,
) -> Response {
    let Ok(Candidate { reg, .. }) = candidate else {
        return api_error(StatusCode::UNAUTHORIZED, "Enter your access code again.");
    };
    match attempts::attempts_of(&state.db, reg.id).await {
        Ok(all) => match all.into_iter().find(|a| a.part == part) {
            Some(a) => Json(serde_json::json!({
                "remaining_ms": a.clock.remaining_ms(now_ms()),
                "paused": a.clock.is_paused_at(now_ms()),
                "open": a.is_open(),
            }))
            .into_response(),
            None => api_error(StatusCode::NOT_FOUND, "This part has not been started."),
        },
        Err(e) => AppError::from(e).into_response(),
    }
}
