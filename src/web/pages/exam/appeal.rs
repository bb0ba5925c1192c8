//! A candidate's appeals: once results are released and until the blueprint's window closes,
//! they may ask for a part to be re-scored, with a reason; they see each appeal's state and,
//! once decided, its outcome with the committee's reasons.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::scoring::appeal::{window, Refused};
use crate::scoring::results::points_text;
use crate::store::appeals::{self, Appeal, State as AppealState};
use crate::store::results::{released_at, Report};
use crate::store::sittings::{Registration, Sitting};
use crate::store::{bank as bank_store, now_ms};
use crate::web::error::AppResult;
use crate::web::roles::Candidate;
use crate::web::session::CsrfToken;
use crate::web::time::{local, local_text};
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::{chrome, part_name};

/// What the appeals section shows besides the stored appeals.
struct Window {
    /// The deadline, or why no appeal can be made now.
    open: Result<i64, Refused>,
    window_days: u32,
}

async fn window_of(state: &AppState, reg: &Registration) -> AppResult<Window> {
    let rules = bank_store::blueprints(&state.db)
        .await?
        .into_iter()
        .find(|b| b.id == reg.blueprint_id)
        .map(|b| b.appeals)
        .unwrap_or_default();
    let released = released_at(&state.db, reg.sitting_id).await?;
    Ok(Window {
        open: window(now_ms(), released, &rules),
        window_days: rules.window_days,
    })
}

/// A refusal in words, the deadline in the sitting's time zone.
fn refusal_text(e: &Refused, w: &Window, tz: &str) -> String {
    match e {
        Refused::WindowClosed { deadline } => format!(
            "The window for appeals closed on {}: an appeal may be made for {} days after the results are released.",
            local_text(*deadline, tz),
            w.window_days
        ),
        other => {
            let mut s = other.to_string();
            if let Some(c) = s.get(..1) {
                s = c.to_uppercase() + &s[1..];
            }
            s + "."
        }
    }
}

/// The candidate's appeals section, under their results: `error` and `reason` are a refused
/// request's message and text, kept for them to correct.
pub(super) async fn section(
    state: &AppState,
    reg: &Registration,
    sitting: &Sitting,
    report: &Report,
    csrf: &str,
    error: Option<&str>,
    reason: &str,
) -> AppResult<Markup> {
    let mine = appeals::of_registration(&state.db, reg.id).await?;
    let w = window_of(state, reg).await?;
    let tz = sitting.time_zone.as_str();
    let appealable: Vec<(u8, &str)> = report
        .parts
        .iter()
        .filter(|(_, r)| !mine.iter().any(|a| a.part == r.part))
        .map(|(name, r)| (r.part, name.as_str()))
        .collect();
    let name_of = |part: u8| {
        report
            .parts
            .iter()
            .find(|(_, r)| r.part == part)
            .map_or(part_name(part), |(n, _)| n.as_str())
            .to_string()
    };
    Ok(html! {
        section class="appeals no-print" id="appeals" aria-labelledby="appeals-title" {
            h2 id="appeals-title" { "Appeals" }
            @if let Some(e) = error { div class="error" role="alert" id="appeal-error" { p { (e) } } }
            @for a in &mine { (appeal_state(a, &name_of(a.part), tz)) }
            @if !appealable.is_empty() {
                @match &w.open {
                    Ok(deadline) => {
                        p { "If you believe a part was scored wrongly, you may ask for it to be re-scored until " (local(*deadline, tz)) ". "
                            "Part One is recounted against the answer key as the committee has reviewed it; each Part Two response is read again by a rater who has not read it, who sees neither the earlier scores nor your appeal. "
                            "A re-score can raise or lower a result." }
                        form method="post" action="/candidate/appeal" {
                            (csrf_field(csrf))
                            fieldset {
                                legend { "Which part should be re-scored?" }
                                @for (i, (part, name)) in appealable.iter().enumerate() {
                                    div class="option" {
                                        input type="radio" name="part" id={ "appeal-part-" (part) } value=(part) checked[i == 0] required;
                                        label for={ "appeal-part-" (part) } { (name) }
                                    }
                                }
                            }
                            label for="appeal-reason" { "Your reason" }
                            p class="hint" id="appeal-reason-hint" { "Say what you believe was scored wrongly, in up to 2,000 characters. The exam committee reads it; the raters never do." }
                            textarea id="appeal-reason" name="reason" rows="5" maxlength="2000" required aria-describedby="appeal-reason-hint" { (reason) }
                            button type="submit" { "Request a re-score" }
                        }
                    }
                    Err(e) => { p id="appeal-window" { (refusal_text(e, &w, tz)) } }
                }
            }
        }
    })
}

/// One appeal as its candidate reads it.
fn appeal_state(a: &Appeal, name: &str, tz: &str) -> Markup {
    html! {
        h3 { "Your appeal of " (name) " " span class={ "chip" @if a.upheld == Some(true) { " ok" } } { (a.state.label()) } }
        p { "Requested " (local(a.requested_at, tz)) ". Your reason:" }
        blockquote { (a.reason) }
        @match a.state {
            AppealState::Open => p role="status" { "Received: the exam committee will start the re-score." },
            AppealState::Rescoring => p role="status" {
                @if a.part == 1 { "Under re-score: your answers are being recounted against the answer key." }
                @else { "Under re-score: your responses are being read again, blind, by raters who had not read them." }
            },
            AppealState::Decided => {
                @let after = a.after.unwrap_or(a.before);
                p role="status" class={ "notice" @if a.upheld == Some(true) { " ok" } } {
                    @if a.upheld == Some(true) {
                        "Upheld: your result changed from " (points_text(a.before.0)) " points (" (passed_text(a.before.1)) ") to "
                        (points_text(after.0)) " points (" (passed_text(after.1)) "). Your results above show the new result."
                    } @else {
                        "Not upheld: the re-score confirmed your result of " (points_text(a.before.0)) " points (" (passed_text(a.before.1)) "), which stands."
                    }
                }
                @if let Some(d) = &a.decision {
                    p { "The exam committee's reasons:" }
                    blockquote { (d) }
                }
            },
        }
    }
}

fn passed_text(passed: bool) -> &'static str {
    if passed {
        "passed"
    } else {
        "not passed"
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AppealForm {
    #[serde(default)]
    pub part: String,
    #[serde(default)]
    pub reason: String,
}

/// `POST /candidate/appeal`: the request; refused with its reason in words, the text kept.
pub async fn request_appeal(
    State(state): State<AppState>,
    Candidate { reg, sitting }: Candidate,
    CsrfToken(csrf): CsrfToken,
    Form(f): Form<AppealForm>,
) -> AppResult<Response> {
    let part = match f.part.trim() {
        "1" => 1,
        "2" => 2,
        _ => 0,
    };
    let refused = if part == 0 {
        Some(Refused::NoResult)
    } else {
        appeals::request(&state.db, &reg, part, &f.reason, now_ms())
            .await?
            .err()
    };
    let Some(refused) = refused else {
        return Ok(Redirect::to("/candidate#appeals").into_response());
    };
    let w = window_of(&state, &reg).await?;
    let message = refusal_text(&refused, &w, &sitting.time_zone);
    let report = crate::store::results::report(&state.db, &reg).await?;
    let body = match &report {
        Some(r) => {
            let s = section(&state, &reg, &sitting, r, &csrf, Some(&message), &f.reason).await?;
            html! { h1 { "Your appeal" } (s) p { a href="/candidate" { "Back to your page" } } }
        }
        None => html! {
            h1 { "Your appeal" }
            div class="error" role="alert" id="appeal-error" { p { (message) } }
            p { a href="/candidate" { "Back to your page" } }
        },
    };
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        views::page("Your appeal", Some(&chrome(&reg, &csrf)), body),
    )
        .into_response())
}
