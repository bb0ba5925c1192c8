//! A proctor's actions on a candidate's registration: admit, mark absent, move to a new browser.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::store::absence::{self, MarkAbsent};
use crate::store::sittings;

use crate::web::error::{AppError, AppResult};
use crate::web::roles::Proctor;
use crate::web::AppState;

use super::registration_for_staff;

pub async fn admit(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let reg = registration_for_staff(&state, id).await?;
    sittings::admit(&state.db, id, &me.username).await?;
    Ok(Redirect::to(&format!("/sittings/{}", reg.sitting_id)).into_response())
}

/// The proctor marks a candidate who did not come absent (audited): their parts are not taken,
/// and the sitting's results can be released without them.
pub async fn absent(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let reg = registration_for_staff(&state, id).await?;
    match absence::mark_absent(&state.db, id, &me.username).await? {
        MarkAbsent::Marked | MarkAbsent::AlreadyAbsent => {
            Ok(Redirect::to(&format!("/sittings/{}", reg.sitting_id)).into_response())
        }
        MarkAbsent::Started => Err(AppError::BadRequest(format!(
            "{} has started a part, so they came: they cannot be marked absent. To set an attempt aside, void it with a reason.",
            reg.name
        ))),
        MarkAbsent::NotFound => Err(AppError::NotFound),
    }
}

pub async fn release(
    State(state): State<AppState>,
    Proctor(ref me): Proctor,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let reg = registration_for_staff(&state, id).await?;
    sittings::release_browser(&state.db, id, &me.username).await?;
    state.sessions.invalidate_all();
    Ok(Redirect::to(&format!("/sittings/{}", reg.sitting_id)).into_response())
}
