//! A staff member's own two-factor page: setting it up (optional unless the role requires
//! it), how many recovery codes are left, and new ones.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;

use super::sign_in::CodeForm;
use super::views;
use crate::store::two_factor as store;
use crate::two_factor as totp;
use crate::web::error::{AppError, AppResult};
use crate::web::roles::Staff;
use crate::web::session::CsrfToken;
use crate::web::views::staff_chrome;
use crate::web::AppState;

pub async fn page(
    State(state): State<AppState>,
    Staff(me): Staff,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let chrome = staff_chrome(&me, &csrf);
    let record = store::of_user(&state.db, me.id).await?;
    if let Some(since) = record.as_ref().and_then(|r| r.enabled_at) {
        let left = store::recovery_codes_left(&state.db, me.id).await?;
        let since = crate::web::time::utc_text(since);
        let required = super::required(&state, &me);
        return Ok(views::account_page(&chrome, &csrf, &since, left, required).into_response());
    }
    if state.config.two_factor_key.is_none() {
        return Ok(views::unavailable_page(&chrome).into_response());
    }
    let (_, secret) = super::enrolment_secret(&state, &me).await?;
    let required = super::required(&state, &me);
    let page = views::enrol_page(
        Some(&chrome),
        &csrf,
        "/account/two-factor",
        &me,
        &secret,
        required,
        None,
    );
    Ok(page.into_response())
}

/// The first code right: two-factor sign-in is on, and the recovery codes are shown once.
pub async fn enrol(
    State(state): State<AppState>,
    Staff(me): Staff,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let chrome = staff_chrome(&me, &csrf);
    if state.config.two_factor_key.is_none() {
        return Ok(views::unavailable_page(&chrome).into_response());
    }
    let (record, secret) = super::enrolment_secret(&state, &me).await?;
    if record.enabled() {
        return Err(AppError::BadRequest(
            "Two-factor sign-in is already on for your account.".into(),
        ));
    }
    let step = match totp::check_code(&secret, &form.code, super::now_secs(), None) {
        Ok(step) => step,
        Err(refusal) => {
            let msg = refusal.message().to_string();
            let required = super::required(&state, &me);
            let page = views::enrol_page(
                Some(&chrome),
                &csrf,
                "/account/two-factor",
                &me,
                &secret,
                required,
                Some(&msg),
            );
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let (codes, hashes) = super::recovery_codes();
    if !store::confirm_enrolment(&state.db, &me, &record.sealed, step, &hashes).await? {
        return Err(AppError::BadRequest(
            "Two-factor sign-in was changed meanwhile: open the page again.".into(),
        ));
    }
    Ok(views::codes_page(Some(&chrome), &codes, "/account/two-factor", true).into_response())
}

/// New recovery codes in place of the old ones (audited), shown once.
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    Staff(me): Staff,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let (codes, hashes) = super::recovery_codes();
    if !store::replace_recovery_codes(&state.db, &me, &hashes).await? {
        return Err(AppError::BadRequest(
            "Two-factor sign-in is not on for your account: set it up first.".into(),
        ));
    }
    let chrome = staff_chrome(&me, &csrf);
    Ok(views::codes_page(Some(&chrome), &codes, "/account/two-factor", false).into_response())
}
