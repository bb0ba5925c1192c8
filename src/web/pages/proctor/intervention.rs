//! A proctor's interventions while a sitting runs: one attempt's clock or its void, every
//! running attempt's clock at once, and an incident logged.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::store::attempts::{self, Attempt, ClockAction};
use crate::store::sittings::{self, Registration};
use crate::store::users::User;
use crate::store::{audit, now_ms};

use crate::web::error::{AppError, AppResult};
use crate::web::roles::Proctor;
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

#[derive(Debug, Deserialize)]
pub struct Reason {
    #[serde(default)]
    pub reason: String,
}

pub async fn void(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
    Form(f): Form<Reason>,
) -> AppResult<Response> {
    if f.reason.trim().is_empty() {
        return Err(AppError::BadRequest(
            "Reason to void: give the reason; it goes to the audit log and the committee.".into(),
        ));
    }
    let (_, reg) = attempt_and_sitting(&state, id).await?;
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
