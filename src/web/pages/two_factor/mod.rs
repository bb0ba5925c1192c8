//! Two-factor sign-in (TOTP) for staff: the second step of signing in, setting it up, the
//! person's own page, and an administrator's reset.
//!
//! A right password for an account whose two-factor sign-in is on, or whose role requires it
//! (`Config::two_factor_roles`), opens no session: it opens a *pending sign-in*, a row of its
//! own behind a cookie of its own, which nothing but the pages here reads. Every other page
//! sees nobody signed in. The session is opened only when the code (or a recovery code) is
//! right, or, when the role requires two-factor sign-in and it is not set up yet, when it has
//! been set up. Wrong codes count as failed sign-ins of the client at that account (see
//! `store::users::login_backoff`), so guessing is as slow as guessing passwords and the owner,
//! elsewhere, is never locked out; failures are forgotten only when the second step passes.

mod account;
mod reset;
mod sign_in;
mod views;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::CookieJar;

use crate::store::two_factor::{self as store, Pending};
use crate::store::users::User;
use crate::two_factor::{SealKey, Secret};
use crate::web::error::{AppError, AppResult};
use crate::web::session::cookie;
use crate::web::AppState;

/// The cookie of a pending sign-in (its token; the database keeps the SHA-256).
pub const PENDING_COOKIE: &str = "imh_2fa";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/login/two-factor",
            get(sign_in::second_step).post(sign_in::check_code),
        )
        .route("/login/two-factor/enrol", post(sign_in::enrol))
        .route(
            "/login/two-factor/recovery",
            get(sign_in::recovery_form).post(sign_in::check_recovery),
        )
        .route(
            "/account/two-factor",
            get(account::page).post(account::enrol),
        )
        .route(
            "/account/two-factor/recovery-codes",
            post(account::new_recovery_codes),
        )
        .route(
            "/admin/users/{id}/two-factor",
            get(reset::confirm).post(reset::reset),
        )
}

/// Whether `user`'s role must pass a second step.
pub fn required(state: &AppState, user: &User) -> bool {
    state.config.two_factor_roles.contains(&user.role)
}

/// Whether `user`, their password right, must pass a second step before a session opens:
/// theirs is on, or their role requires it.
pub async fn second_step_needed(state: &AppState, user: &User) -> AppResult<bool> {
    if required(state, user) {
        return Ok(true);
    }
    Ok(store::of_user(&state.db, user.id)
        .await?
        .is_some_and(|t| t.enabled()))
}

/// After a right password: a pending sign-in and the way to its second step.
pub async fn begin(
    state: &AppState,
    jar: CookieJar,
    user: &User,
    next: &str,
) -> AppResult<Response> {
    let token = store::open_pending(&state.db, user.id, next).await?;
    let jar = jar.add(cookie(PENDING_COOKIE, token, state.config.secure_cookies));
    Ok((jar, Redirect::to("/login/two-factor")).into_response())
}

/// Ends the pending sign-in of this browser, if any (signing out, or its second step passed).
pub async fn forget(state: &AppState, jar: &CookieJar) -> AppResult<()> {
    if let Some(c) = jar.get(PENDING_COOKIE) {
        store::close_pending(&state.db, c.value()).await?;
    }
    Ok(())
}

/// This browser's pending sign-in: the person whose password was right. Without one, the
/// visitor is sent to sign in.
pub struct Half {
    pub pending: Pending,
}

impl FromRequestParts<AppState> for Half {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        let jar = CookieJar::from_headers(&parts.headers);
        let found = match jar.get(PENDING_COOKIE) {
            Some(c) => store::pending(&state.db, c.value()).await?,
            None => None,
        };
        found
            .map(|pending| Half { pending })
            .ok_or(AppError::LoginRequired { next: "/".into() })
    }
}

/// The server's key, which every page that sets up or checks a secret needs.
fn key(state: &AppState) -> AppResult<&SealKey> {
    state.config.two_factor_key.as_ref().ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "two-factor sign-in is needed but the server has no key (--two-factor-key-file)"
        ))
    })
}

/// The secret of `user`'s two-factor record, opened with the server's key; a secret that does
/// not open is logged (the key file was replaced?) and told as an internal error.
fn open(key: &SealKey, record: &store::TwoFactor, user: &User) -> AppResult<Secret> {
    key.open(&record.sealed, user.id)
        .map_err(|why| AppError::Internal(anyhow::anyhow!("{} ({})", why, user.username)))
}

/// The secret `user` is setting up: the one already shown, or a new one.
async fn enrolment_secret(state: &AppState, user: &User) -> AppResult<(store::TwoFactor, Secret)> {
    let key = key(state)?;
    let fresh = Secret::generate();
    let record = store::begin_enrolment(&state.db, user.id, &key.seal(&fresh, user.id)).await?;
    let secret = open(key, &record, user)?;
    Ok((record, secret))
}

/// Seconds since the epoch, by the server's clock (the database's; see `store::clock`).
fn now_secs() -> i64 {
    crate::store::now_ms().div_euclid(1000)
}

/// New recovery codes and their hashes.
fn recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes = crate::two_factor::new_recovery_codes();
    let hashes = codes
        .iter()
        .map(|c| crate::two_factor::recovery_hash(c))
        .collect();
    (codes, hashes)
}
