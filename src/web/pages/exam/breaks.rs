//! The stopped clock: the page shown while the proctor pauses or the candidate is on a break,
//! and the candidate's approved breaks.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};

use crate::store::attempts::{self, Attempt, ClockAction, ClockChange, CurrentAnswers};
use crate::store::now_ms;
use crate::store::sittings::{self, Registration};
use crate::web::error::{AppError, AppResult};
use crate::web::pages::proctor::minutes_seconds;
use crate::web::roles::{OpenAttempt, PART_IN_PATH};
use crate::web::time::local;
use crate::web::views::{self, csrf_field};
use crate::web::AppState;

use super::{chrome, hms, part_name, timer};

/// Shown instead of the questions while the clock is stopped. It never reloads itself: the
/// page's script asks the server's clock now and then and goes back to the part once the clock
/// runs again; without the script, "Check again" does the same.
pub(super) fn paused_page(
    reg: &Registration,
    csrf: &str,
    a: &Attempt,
    answers: &CurrentAnswers,
    zone: &str,
) -> Response {
    let now = now_ms();
    let left = hms(a.clock.remaining_ms(now));
    let back = format!("/exam/{}", a.part);
    let body = html! {
        (timer(a, now, answers))
        @if a.on_break() {
            h1 { "You are on a break" }
            p { "Your clock is stopped with " strong { (left) } " left. Your answers are saved." }
            @if let Some(end) = a.clock.pause_ends_at() {
                p { "A break lasts at most " (a.break_max_ms / 60_000) " minutes: yours ends by itself at "
                    strong { (local(end, zone)) } " (in " (minutes_seconds((end - now).max(0))) "), and your clock runs again from then." }
            }
            form method="post" action={ "/exam/" (a.part) "/end-break" } {
                (csrf_field(csrf))
                button type="submit" { "End my break and go back to " (part_name(a.part)) }
            }
        } @else {
            h1 { "Your proctor has paused your exam" }
            p { "Your clock is stopped with " strong { (left) } " left. Your answers are saved. Your exam continues when the proctor resumes it: this page goes back to it by itself, or check yourself." }
        }
        p class="no-script-check" { a class="button secondary" href=(back) { "Check again" } }
        script src="/assets/exam.js" defer {}
    };
    views::page("Paused", Some(&chrome(reg, csrf)), body).into_response()
}

/// The break button, when the candidate has approved breaks left.
pub(super) fn break_button(csrf: &str, part: u8, left: u32) -> Markup {
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
