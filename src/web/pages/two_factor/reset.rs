//! An administrator removes a staff member's two-factor sign-in (a lost phone, no recovery
//! codes left), with a reason, in the audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::views;
use crate::store::two_factor as store;
use crate::store::users::{self, User};
use crate::two_factor as totp;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Admin;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome;
use crate::web::AppState;

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    pub reason: String,
}

async fn target(state: &AppState, id: i64) -> AppResult<User> {
    users::user_by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn confirm(
    State(state): State<AppState>,
    Admin(me): Admin,
    Path(id): Path<i64>,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let target = target(&state, id).await?;
    let on = store::of_user(&state.db, id).await?.is_some();
    let chrome = staff_chrome(&me, &csrf);
    Ok(views::reset_page(&chrome, &csrf, &target, on, "", None).into_response())
}

pub async fn reset(
    State(state): State<AppState>,
    Admin(me): Admin,
    Path(id): Path<i64>,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let target = target(&state, id).await?;
    if target.id == me.id {
        return Err(AppError::BadRequest(
            "You cannot reset your own two-factor sign-in: ask another administrator, or run `imh-exam user reset-two-factor` on the server.".into(),
        ));
    }
    let chrome = staff_chrome(&me, &csrf);
    let reason = match totp::parse_reason(&form.reason) {
        Ok(r) => r,
        Err(why) => {
            let page = views::reset_page(&chrome, &csrf, &target, true, &form.reason, Some(&why));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    if !store::reset(&state.db, &me.username, &target, &reason).await? {
        return Err(AppError::BadRequest(format!(
            "{} has no two-factor sign-in to reset.",
            target.username
        )));
    }
    tracing::info!(admin = %me.username, whom = %target.username, "two-factor sign-in reset");
    Ok(views::reset_done_page(&chrome, &target).into_response())
}
