//! The candidate's own page: their parts and how each stands, their results once released,
//! and the optional questions about themselves.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use crate::exam::chain::receipt;
use crate::scoring::results::points_text;
use crate::store::attempts;
use crate::store::{bank as bank_store, now_ms};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Candidate;
use crate::web::session::CsrfToken;
use crate::web::time::local;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::{chrome, hms, part_name};

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
    let appeals = match &report {
        Some(r) => Some(super::appeal::section(&state, &reg, &sitting, r, &csrf, None, "").await?),
        None => None,
    };
    let part_title = |part: u8| -> String {
        let name = bp.map(|b| {
            if part == 1 {
                b.part_one.name.as_str()
            } else {
                b.part_two.name.as_str()
            }
        });
        part_heading(part, name)
    };
    let body = html! {
        h1 { "Welcome, " (reg.name) }
        @if let Some(r) = &report { (score_report(r)) }
        @if let Some(a) = appeals { (a) }
        p class="no-print" { (sitting.name) ", level " (reg.level) ". The sitting is open from " (local(sitting.opens_at, &sitting.time_zone)) " to " (local(sitting.closes_at, &sitting.time_zone)) "." }
        @if reg.absent_at.is_some() {
            p class="notice" role="status" { "You were marked absent from this sitting: your parts count as not taken, not as failed. You may register for a later sitting; ask the exam's administrators." }
        } @else if reg.admitted_at.is_none() {
            div id="waiting" class="waiting" data-wait="admission" {
                p class="notice" role="status" id="waiting-status" { "Your proctor will check your identity and admit you. Keep this page open: it moves on by itself once you are admitted." }
                p { a class="button secondary" href="/candidate" { "Check again" } }
            }
            script src="/assets/exam.js" defer {}
        } @else if report.is_some() {
            section class="no-print" aria-labelledby="receipts-title" {
                h2 id="receipts-title" { "Your receipts" }
                ul {
                    @for part in &parts {
                        @let attempt = all.iter().find(|a| a.part == *part);
                        li { (part_title(*part)) ": "
                            @match attempt {
                                Some(a) if a.submitted_at.is_some() && a.voided_at.is_none() => { "receipt code " code class="code" { (receipt(&a.chain_head)) } }
                                Some(a) if a.voided_at.is_some() => { "voided by the proctor" }
                                _ => { "not taken" }
                            }
                        }
                    }
                }
            }
        } @else {
            p { "Each part is started, timed and submitted on its own. The time shown on the exam pages is the server's; it stops while your proctor pauses the sitting." }
            @for part in &parts {
                @let attempt = all.iter().find(|a| a.part == *part);
                @let minutes = bp.map(|b| if *part == 1 { b.part_one.minutes } else { b.part_two.minutes }).unwrap_or(90);
                section aria-labelledby={ "part-" (part) } {
                    h2 id={ "part-" (part) } { (part_title(*part)) }
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
                            p { "In progress: " (hms(a.clock.remaining_ms(now))) " left." }
                            p { a class="button" href={ "/exam/" (part) } { "Continue " (part_name(*part)) } }
                        }
                    }
                }
            }
        }
    };
    let body = html! { (body) (about_you(&csrf, about.as_ref())) };
    Ok(views::page("Your exam", Some(&chrome(&reg, &csrf)), body).into_response())
}

/// A part's heading: its blueprint name when that already says which part ("Part One:
/// multiple choice"), else "Part One: <name>", else "Part One".
pub(crate) fn part_heading(part: u8, name: Option<&str>) -> String {
    let short = part_name(part);
    match name {
        Some(n) if n.starts_with(short) => n.to_string(),
        Some(n) if !n.is_empty() => format!("{short}: {n}"),
        _ => short.to_string(),
    }
}

/// The optional questions for fairness research, answered only with consent.
fn about_you(csrf: &str, given: Option<&BTreeMap<String, String>>) -> Markup {
    html! {
        section aria-labelledby="about-title" class="about no-print" {
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

/// What the report says of the exam as a whole: passed, or not, naming the parts passed (which
/// stand) and those not passed, so a candidate who passed neither is never told that "the part
/// you passed stands".
pub(crate) fn outcome_text(r: &crate::store::results::Report) -> Option<String> {
    let passed: Vec<&str> = r
        .parts
        .iter()
        .filter(|(_, p)| p.passed)
        .map(|(n, _)| n.as_str())
        .collect();
    let failed: Vec<&str> = r
        .parts
        .iter()
        .filter(|(_, p)| !p.passed)
        .map(|(n, _)| n.as_str())
        .collect();
    let list = |names: &[&str]| names.join(" and ");
    match r.exam_passed? {
        true => Some("You have passed the written exam.".to_string()),
        false => Some(match (passed.is_empty(), failed.is_empty()) {
            (false, false) => format!(
                "You have not passed the written exam this time. You passed {}, and that result stands. You did not pass {}, which you may retake.",
                list(&passed),
                list(&failed)
            ),
            (true, false) if failed.len() == 1 => format!(
                "You have not passed the written exam this time: you did not pass {}, which you may retake.",
                failed[0]
            ),
            (true, false) => format!(
                "You have not passed the written exam this time: you did not pass either part ({}). Both may be retaken.",
                list(&failed)
            ),
            (false, true) => format!(
                "You have not passed the written exam this time. You passed {}, and that result stands. A part you did not take may be taken at a later sitting.",
                list(&passed)
            ),
            (true, true) => "You have not passed the written exam this time.".to_string(),
        }),
    }
}

/// The candidate's score report: pass or fail per part, the scores against each pass mark,
/// feedback by domain and the raters' feedback on each response.
fn score_report(r: &crate::store::results::Report) -> Markup {
    let domain = |code: &str| {
        r.domain_names
            .get(code)
            .map_or_else(|| code.to_string(), |n| format!("{n} ({code})"))
    };
    html! {
        section class="report" aria-labelledby="results-title" {
            h2 id="results-title" { "Your results" }
            @if let Some(text) = outcome_text(r) {
                p class={ "notice" @if r.exam_passed == Some(true) { " ok" } } role="status" {
                    @if r.exam_passed == Some(true) { strong { (text) } } @else { (text) }
                }
            }
            @for name in &r.not_taken {
                h3 { (name) " " span class="chip" { "not taken" } }
                p { (if r.absent { "You were absent from this sitting: this part is not taken, not failed." } else { "You did not start this part before the sitting closed: it is not taken, not failed." }) }
            }
            @for (i, (name, part)) in r.parts.iter().enumerate() {
                h3 { (name) " " @if part.passed { span class="chip ok" { "passed" } } @else { span class="chip bad" { "not passed" } } }
                p { "Your score: " (points_text(part.points)) " of " (points_text(part.max)) " points (" (format!("{:.1}", part.percent())) "%)." }
                @if let Some(pp) = r.pass_percents.get(i) {
                    p { "The pass mark is " (points_text(part.max * f64::from(*pp) / 100.0)) " of " (points_text(part.max)) " points (" (pp) "%)." }
                }
                @if let Some(e) = &part.equating {
                    @if let Some(eq) = e.equated_percent {
                        p class="equated" {
                            "Equated: " (format!("{eq:.1}")) "%, the percent your score stands for on the whole question pool, so that a harder or easier set of questions counts alike. "
                            "The pass mark applied to your " (if e.decided_by == crate::bank::PassOn::Equated { "equated" } else { "raw" }) " percent."
                        }
                    } @else {
                        p class="equated" { "The pass mark applied to your raw percent." }
                    }
                }
                table {
                    caption { "By competency domain" }
                    thead { tr { th scope="col" { "Domain" } th scope="col" class="n" { "Points" } th scope="col" class="n" { "Of" } th scope="col" { "Feedback" } } }
                    tbody {
                        @for (code, (points, max)) in &part.detail.by_domain {
                            @let pct = if *max > 0.0 { 100.0 * points / max } else { 0.0 };
                            tr {
                                th scope="row" { (domain(code)) }
                                td class="n" { (points_text(*points)) } td class="n" { (points_text(*max)) }
                                td { (if pct >= 80.0 { "A strength" } else if pct >= 60.0 { "Sound; worth reviewing" } else { "An area to develop" }) }
                            }
                        }
                    }
                }
            }
            @if !r.feedback.is_empty() {
                h3 { "The raters' feedback on your Part Two responses" }
                @for (title, score, max, notes) in &r.feedback {
                    h4 { (title) ": " (points_text(*score)) " of " (points_text(*max)) }
                    @if notes.is_empty() { p { "No written feedback." } }
                    @for n in notes { blockquote { (n) } }
                }
            }
        }
    }
}
