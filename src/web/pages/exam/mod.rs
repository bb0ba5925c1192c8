//! The candidate's exam: usable without JavaScript (every page is a form), with a little
//! script for autosave, the timer and offline edits. Only stems, options, prompts and vignette
//! texts are rendered: keys, rationales and rubrics never reach the browser.
//!
//! A file per screen: `home` (the candidate's page, results and the optional questions),
//! `appeal` (asking for a part to be re-scored, and the appeals' states),
//! `part_one` (the questions), `part_two` (the vignettes), `breaks` (the stopped clock),
//! `finish` (review, submit, receipt) and `api` (the page script's JSON). This module keeps
//! what they share, and starting a part. A handler that needs the part open asks for
//! [`OpenAttempt`](crate::web::roles::OpenAttempt) in its signature.

mod api;
mod appeal;
mod breaks;
mod finish;
mod home;
mod part_one;
mod part_two;

// The router and the app state name everything as `exam::...`, as before the split.
pub use api::{
    api_clock, api_event, api_save, api_status, ApiError, ApiEvent, ApiSave, ApiSaved, OpenForm,
};
pub use appeal::{request_appeal, AppealForm};
pub use breaks::{end_break, take_break};
pub use finish::{receipt_page, review, submit, Confirm};
pub use home::{home, save_about};
pub use part_one::{item_page, save_item, ItemForm};
pub use part_two::{save_vignettes, vignettes_page};

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use crate::store::attempts::{self, Attempt, CurrentAnswers, SaveError, StartError};
use crate::store::sittings::Registration;
use crate::store::{bank as bank_store, now_ms};
use crate::web::error::{AppError, AppResult};
use crate::web::roles::{Candidate, PartNo};
use crate::web::views::Chrome;
use crate::web::AppState;

fn part_name(part: u8) -> &'static str {
    if part == 1 {
        "Part One"
    } else {
        "Part Two"
    }
}

/// A sequence number for a save made from a page rendered now: larger than any stored and
/// than any handed out earlier, so a later edit always wins.
/// An item version's body, through the process's cache (see `Shared::item_bodies`).
async fn item_body(
    state: &AppState,
    id: &str,
    version: u32,
) -> AppResult<Option<std::sync::Arc<crate::bank::ItemBody>>> {
    let key = (id.to_string(), version);
    if let Some(body) = state.item_bodies.get(&key) {
        return Ok(Some(body));
    }
    let Some(item) = bank_store::item_version(&state.db, id, version).await? else {
        return Ok(None);
    };
    let body = std::sync::Arc::new(item.body);
    state.item_bodies.insert(key, body.clone());
    Ok(Some(body))
}

/// A vignette version's title and text, through the process's cache.
async fn vignette_text(
    state: &AppState,
    id: &str,
    version: u32,
) -> AppResult<Option<std::sync::Arc<(String, String)>>> {
    let key = (id.to_string(), version);
    if let Some(text) = state.vignettes.get(&key) {
        return Ok(Some(text));
    }
    let Some(text) = bank_store::vignette_text(&state.db, id, version).await? else {
        return Ok(None);
    };
    let text = std::sync::Arc::new(text);
    state.vignettes.insert(key, text.clone());
    Ok(Some(text))
}

fn seq_base(answers: &CurrentAnswers) -> u64 {
    let now = u64::try_from(now_ms()).unwrap_or(0) * 1024 + rand::random::<u64>() % 1024;
    answers.last_seq().max(now) + 1
}

fn chrome<'a>(reg: &'a Registration, csrf: &'a str) -> Chrome<'a> {
    Chrome {
        user: None,
        candidate: Some(&reg.name),
        csrf,
    }
}

/// Time left as the exam pages show it, always `h:mm:ss` (the page's script counts on in the
/// same format).
pub(crate) fn hms(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

/// The candidate's display choices for the attempt, saved like the flag as `@pref:` keys
/// (scoring reads only the form's items, so these never count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefs {
    /// Text size in percent: 100, 125 or 150.
    pub size: u16,
    pub high_contrast: bool,
}

pub(crate) const TEXT_SIZES: [u16; 3] = [100, 125, 150];

impl Prefs {
    pub(crate) fn of(answers: &CurrentAnswers) -> Prefs {
        let size = answers
            .get("@pref:size")
            .and_then(|v| v.parse().ok())
            .filter(|s| TEXT_SIZES.contains(s))
            .unwrap_or(100);
        Prefs {
            size,
            high_contrast: answers.get("@pref:contrast") == Some("high"),
        }
    }
}

/// Whether a `@pref:` save names a known preference with an allowed value.
pub(crate) fn valid_pref(key: &str, value: &str) -> bool {
    match key {
        "size" => TEXT_SIZES.iter().any(|s| s.to_string() == value),
        "contrast" => matches!(value, "high" | "standard"),
        _ => false,
    }
}

/// The head of every exam page: the live timer (counted down by the page's script from the
/// server's remaining time at render), its warnings (live regions), the save status, and the
/// candidate's display tools (shown by the script, which saves them).
fn timer(a: &Attempt, now: i64, answers: &CurrentAnswers) -> Markup {
    let remaining = a.clock.remaining_ms(now);
    let paused = a.clock.is_paused_at(now);
    let prefs = Prefs::of(answers);
    let seq = seq_base(answers);
    html! {
        div class="examhead" {
            p class="timer" {
                "Time left: "
                span id="timer" data-remaining-ms=(remaining) data-paused=(paused) data-part=(a.part) role="timer" aria-live="off" { (hms(remaining)) }
                @if paused { " (clock stopped)" }
            }
            p id="save-status" class="status" role="status" aria-live="polite" { "All answers shown are saved." }
        }
        div id="tools" class="tools" hidden data-attempt=(a.id) data-part=(a.part) data-seq=(seq)
            data-size=(prefs.size) data-contrast=(if prefs.high_contrast { "high" } else { "standard" }) {
            div role="group" aria-label="Text size" class="tool-group" {
                span class="tool-label" aria-hidden="true" { "Text size" }
                @for size in TEXT_SIZES {
                    button type="button" class="secondary small" data-size=(size) aria-pressed=(if prefs.size == size { "true" } else { "false" }) {
                        (size) "%"
                    }
                }
            }
            button type="button" id="contrast" class="secondary small" aria-pressed=(if prefs.high_contrast { "true" } else { "false" }) { "High contrast" }
        }
        p id="time-warning" class="time-warning" aria-live="polite" {}
        p id="time-warning-urgent" class="time-warning" aria-live="assertive" {}
    }
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

pub async fn part(_: Candidate, PartNo(part): PartNo) -> AppResult<Response> {
    Ok(Redirect::to(&if part == 1 {
        "/exam/1/item/1".to_string()
    } else {
        "/exam/2/vignettes".to_string()
    })
    .into_response())
}
