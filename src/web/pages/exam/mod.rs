//! The candidate's exam: usable without JavaScript (every page is a form), with a little
//! script for autosave, the timer and offline edits. Only stems, options, prompts and vignette
//! texts are rendered: keys, rationales and rubrics never reach the browser.
//!
//! A file per screen: `home` (the candidate's page, results and the optional questions),
//! `part_one` (the questions), `part_two` (the vignettes), `breaks` (the stopped clock),
//! `finish` (review, submit, receipt) and `api` (the page script's JSON). This module keeps
//! what they share, and starting a part. A handler that needs the part open asks for
//! [`OpenAttempt`](crate::web::roles::OpenAttempt) in its signature.

mod api;
mod breaks;
mod finish;
mod home;
mod part_one;
mod part_two;

// The router and the app state name everything as `exam::...`, as before the split.
pub use api::{api_clock, api_event, api_save, ApiError, ApiEvent, ApiSave, ApiSaved, OpenForm};
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
use crate::web::pages::proctor::minutes_seconds;
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
