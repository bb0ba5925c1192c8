//! A proctor's interventions while a sitting runs: one attempt's clock or its void, every
//! running attempt's clock at once, and an incident logged.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::store::attempts::{self, Attempt, ClockAction};
use crate::store::sittings::{self, Registration};
use crate::store::users::User;
use crate::store::{audit, now_ms, results};

use crate::web::error::{AppError, AppResult};
use crate::web::roles::Proctor;
use crate::web::session::CsrfToken;
use crate::web::views::{self, csrf_field, field_error, staff_chrome};
use crate::web::AppState;

use super::registration_for_staff;

async fn attempt_and_sitting(
    state: &AppState,
    attempt_id: i64,
) -> AppResult<(Attempt, Registration)> {
    let a = attempts::attempt(&state.db, attempt_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let reg = registration_for_staff(state, a.registration_id).await?;
    Ok((a, reg))
}

async fn clock_action(
    state: &AppState,
    me: &User,
    attempt_id: i64,
    action: ClockAction,
    name: audit::Action,
) -> AppResult<Response> {
    let (_, reg) = attempt_and_sitting(state, attempt_id).await?;
    attempts::proctor_clock(&state.db, attempt_id, action, now_ms(), &me.username, name).await?;
    Ok(Redirect::to(&format!("/sittings/{}", reg.sitting_id)).into_response())
}

pub async fn pause(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    clock_action(
        &state,
        me,
        id,
        ClockAction::Pause,
        audit::Action::AttemptPause,
    )
    .await
}

pub async fn resume(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    clock_action(
        &state,
        me,
        id,
        ClockAction::Resume,
        audit::Action::AttemptResume,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct AddTime {
    #[serde(default)]
    pub minutes: String,
}

pub async fn add_time(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
    Form(f): Form<AddTime>,
) -> AppResult<Response> {
    let minutes: i64 = f
        .minutes
        .trim()
        .parse()
        .ok()
        .filter(|m: &i64| (-60..=240).contains(m) && *m != 0)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "Minutes to add: \"{}\" is not a whole number from -60 to 240.",
                f.minutes
            ))
        })?;
    clock_action(
        &state,
        me,
        id,
        ClockAction::AddMinutes(minutes),
        audit::Action::AttemptAddTime,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct Reason {
    #[serde(default)]
    pub reason: String,
    /// The confirmation box: `void` when ticked. The server refuses a void without it, so a
    /// stray click (or a form sent by a script) never voids an attempt.
    #[serde(default)]
    pub confirm: String,
}

/// The page that confirms a void: who and which part, what voiding does, the reason, and a box
/// to tick; the button is the only danger-styled control, and a link leads back unchanged.
fn void_page(
    me: &User,
    csrf: &str,
    a: &Attempt,
    reg: &Registration,
    f: &Reason,
    errors: &BTreeMap<&'static str, String>,
) -> Markup {
    let part = if a.part == 1 { "Part One" } else { "Part Two" };
    let console = format!("/sittings/{}", reg.sitting_id);
    let invalid = |k: &str| errors.contains_key(k).then_some("true");
    views::page(
        &format!("Void {part} of {}?", reg.name),
        Some(&staff_chrome(me, csrf)),
        html! {
            h1 { "Void " (part) " of " (reg.name) "?" }
            p { a href=(console) { "Back to the console" } " (nothing is voided)." }
            div class="notice bad" {
                p { "Voiding sets this attempt aside for good: the candidate can no longer answer, it is not scored, and it cannot be restored. It is recorded, with your reason, in the audit log and the sitting's events, which the committee reads." }
                p { "To stop the clock for a while instead, use Pause on the console." }
            }
            @if a.voided_at.is_some() {
                p class="notice" role="status" { "This attempt is already voided: " (a.void_reason.as_deref().unwrap_or("")) }
            } @else {
                form method="post" action={ "/attempts/" (a.id) "/void" } novalidate class="void-form" {
                    (csrf_field(csrf))
                    label for="reason" { "Reason to void" }
                    p class="hint" id="reason-hint" { "What happened, as you would tell the committee." }
                    input type="text" id="reason" name="reason" value=(f.reason) required
                        aria-invalid=[invalid("reason")]
                        aria-describedby={ "reason-hint" @if errors.contains_key("reason") { " reason-error" } };
                    (field_error("reason-error", errors.get("reason")))
                    label class="check" {
                        input type="checkbox" id="confirm" name="confirm" value="void" required
                            checked[f.confirm == "void"] aria-invalid=[invalid("confirm")]
                            aria-describedby=[errors.contains_key("confirm").then_some("confirm-error")];
                        " I understand that " (reg.name) "'s " (part) " is voided for good."
                    }
                    (field_error("confirm-error", errors.get("confirm")))
                    div class="actions" {
                        button type="submit" class="danger" { "Void " (part) " of " (reg.name) }
                        a class="button secondary" href=(console) { "Cancel" }
                    }
                }
            }
        },
    )
}

/// The void's confirmation page, reached from a candidate's Actions on the console.
pub async fn confirm_void(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (a, reg) = attempt_and_sitting(&state, id).await?;
    refuse_if_released(&state, reg.sitting_id).await?;
    Ok(void_page(me, &csrf, &a, &reg, &Reason::default(), &BTreeMap::new()).into_response())
}

async fn refuse_if_released(state: &AppState, sitting_id: i64) -> AppResult<()> {
    if results::released_at(&state.db, sitting_id).await?.is_some() {
        return Err(AppError::BadRequest(
            "This sitting's results are released, so the attempt cannot be voided here. A released result changes only through the committee's re-score, which is audited.".into(),
        ));
    }
    Ok(())
}

pub async fn void(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<i64>,
    Form(f): Form<Reason>,
) -> AppResult<Response> {
    let (a, reg) = attempt_and_sitting(&state, id).await?;
    refuse_if_released(&state, reg.sitting_id).await?;
    let mut errors = BTreeMap::new();
    if f.reason.trim().is_empty() {
        errors.insert(
            "reason",
            "Reason to void: give the reason; it goes to the audit log and the committee.".into(),
        );
    }
    if f.confirm != "void" {
        errors.insert(
            "confirm",
            "Tick the box to confirm the void: it cannot be undone.".into(),
        );
    }
    if !errors.is_empty() && a.voided_at.is_none() {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            void_page(me, &csrf, &a, &reg, &f, &errors),
        )
            .into_response());
    }
    match attempts::void(&state.db, id, f.reason.trim(), &me.username, now_ms()).await? {
        attempts::Voided::Now | attempts::Voided::Already => {}
        attempts::Voided::NotFound => return Err(AppError::NotFound),
        attempts::Voided::ResultsReleased => {
            return Err(AppError::BadRequest(
                "This sitting's results are released, so the attempt cannot be voided here. A released result changes only through the committee's re-score, which is audited.".into(),
            ))
        }
    }
    Ok(Redirect::to(&format!("/sittings/{}", reg.sitting_id)).into_response())
}

async fn all_clocks(
    state: &AppState,
    me: &User,
    sitting_id: i64,
    action: ClockAction,
    name: audit::Action,
) -> AppResult<Response> {
    sittings::sitting(&state.db, sitting_id)
        .await?
        .ok_or(AppError::NotFound)?;
    attempts::proctor_clock_all(&state.db, sitting_id, action, now_ms(), &me.username, name)
        .await?;
    Ok(Redirect::to(&format!("/sittings/{sitting_id}")).into_response())
}

pub async fn pause_all(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    all_clocks(
        &state,
        me,
        id,
        ClockAction::Pause,
        audit::Action::SittingPauseAll,
    )
    .await
}

pub async fn resume_all(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    all_clocks(
        &state,
        me,
        id,
        ClockAction::Resume,
        audit::Action::SittingResumeAll,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct Incident {
    #[serde(default)]
    pub detail: String,
}

pub async fn incident(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
    Form(f): Form<Incident>,
) -> AppResult<Response> {
    if f.detail.trim().is_empty() {
        return Err(AppError::BadRequest(
            "Log an incident: describe what happened.".into(),
        ));
    }
    sittings::sitting(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    sittings::log_incident(&state.db, id, f.detail.trim(), &me.username).await?;
    Ok(Redirect::to(&format!("/sittings/{id}")).into_response())
}
