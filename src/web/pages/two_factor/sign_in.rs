//! The second step of signing in: a code from the app, or a recovery code; or, when the role
//! requires two-factor sign-in and it is not set up, setting it up.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use maud::Markup;
use serde::Deserialize;

use super::{views, Half};
use crate::auth::Username;
use crate::store::two_factor as store;
use crate::store::users::{self, User};
use crate::two_factor::{self as totp, Refusal};
use crate::web::client::Client;
use crate::web::error::AppResult;
use crate::web::limits;
use crate::web::log_gate::{self, LogGate};
use crate::web::pages::login::open_session;
use crate::web::session::CsrfToken;
use crate::web::AppState;

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

#[derive(Debug, Deserialize)]
pub struct RecoveryForm {
    #[serde(default)]
    pub recovery: String,
}

/// The second step's page: the code, or setting up when the role requires it and it is not.
pub async fn second_step(
    State(state): State<AppState>,
    half: Half,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let user = &half.pending.user;
    let record = store::of_user(&state.db, user.id).await?;
    if record.as_ref().is_some_and(|r| r.enabled()) {
        return Ok(views::code_page(&csrf, user, None).into_response());
    }
    if !super::required(&state, user) {
        // Reset since the password was typed, and not required: start again.
        return Ok(Redirect::to("/login").into_response());
    }
    let (_, secret) = super::enrolment_secret(&state, user).await?;
    Ok(enrol_page(&csrf, user, &secret, None).into_response())
}

fn enrol_page(csrf: &str, user: &User, secret: &totp::Secret, error: Option<&String>) -> Markup {
    views::enrol_page(
        None,
        csrf,
        "/login/two-factor/enrol",
        user,
        secret,
        true,
        error,
    )
}

/// Refused for now: this client failed too often at this account lately (the same backoff as
/// passwords'). `None` when it may try.
async fn backoff(
    state: &AppState,
    client_id: &str,
    user: &User,
    page: impl FnOnce(&String) -> Markup,
) -> AppResult<Option<Response>> {
    let username = Username::parse(&user.username).map_err(anyhow::Error::msg)?;
    let now = crate::store::now_ms();
    let Some(until) = users::login_backoff(&state.db, client_id, &username, now).await? else {
        return Ok(None);
    };
    static REFUSED: LogGate = LogGate::new(log_gate::EVERY);
    if let Some(held) = REFUSED.due() {
        tracing::warn!(
            client = client_id,
            held,
            "second sign-in step refused: too many failures from this client"
        );
    }
    Ok(Some(limits::too_many_failures(until, now, page)))
}

/// A wrong code or recovery code counts as a failed sign-in of this client at the account.
async fn failed(state: &AppState, client_id: &str, user: &User) -> AppResult<()> {
    tracing::info!(username = %user.username, client = client_id, "failed second sign-in step");
    let username = Username::parse(&user.username).map_err(anyhow::Error::msg)?;
    users::record_login_failure(&state.db, client_id, &username, crate::store::now_ms()).await?;
    Ok(())
}

/// The second step passed: the pending sign-in ends and a session opens.
async fn signed_in(
    state: &AppState,
    jar: CookieJar,
    client_id: &str,
    half: &Half,
) -> AppResult<CookieJar> {
    super::forget(state, &jar).await?;
    open_session(state, jar, client_id, &half.pending.user).await
}

pub async fn check_code(
    State(state): State<AppState>,
    half: Half,
    Client(client): Client,
    jar: CookieJar,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let user = &half.pending.user;
    let client_id = client.to_string();
    let page = |msg: &String| views::code_page(&csrf, user, Some(msg));
    if let Some(refused) = backoff(&state, &client_id, user, page).await? {
        return Ok(refused);
    }
    let Some(record) = store::of_user(&state.db, user.id)
        .await?
        .filter(|r| r.enabled())
    else {
        return Ok(Redirect::to("/login/two-factor").into_response());
    };
    let secret = super::open(super::key(&state)?, &record, user)?;
    let checked = totp::check_code(&secret, &form.code, super::now_secs(), record.last_step);
    let refusal = match checked {
        Ok(step) => {
            // Another request may have used the same step a moment ago: only one wins.
            if store::accept_step(&state.db, user.id, step).await? {
                let jar = signed_in(&state, jar, &client_id, &half).await?;
                return Ok((jar, Redirect::to(&half.pending.next)).into_response());
            }
            Refusal::Replayed
        }
        Err(refusal) => refusal,
    };
    let status = match refusal {
        Refusal::NotACode => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::Wrong | Refusal::Replayed => {
            failed(&state, &client_id, user).await?;
            StatusCode::UNAUTHORIZED
        }
    };
    Ok((status, page(&refusal.message().to_string())).into_response())
}

/// Setting up when the role requires it: the first code right turns it on, opens the session
/// and shows the recovery codes, once.
pub async fn enrol(
    State(state): State<AppState>,
    half: Half,
    Client(client): Client,
    jar: CookieJar,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let user = &half.pending.user;
    if !super::required(&state, user) {
        return Ok(Redirect::to("/login/two-factor").into_response());
    }
    let (record, secret) = super::enrolment_secret(&state, user).await?;
    if record.enabled() {
        return Ok(Redirect::to("/login/two-factor").into_response());
    }
    let step = match totp::check_code(&secret, &form.code, super::now_secs(), None) {
        Ok(step) => step,
        Err(refusal) => {
            // Not counted as a failure: whoever is here has the password, and is setting up.
            let msg = refusal.message().to_string();
            let page = enrol_page(&csrf, user, &secret, Some(&msg));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let (codes, hashes) = super::recovery_codes();
    if !store::confirm_enrolment(&state.db, user, &record.sealed, step, &hashes).await? {
        return Ok(Redirect::to("/login/two-factor").into_response());
    }
    let jar = signed_in(&state, jar, &client.to_string(), &half).await?;
    let page = views::codes_page(None, &codes, &half.pending.next, true);
    Ok((jar, page).into_response())
}

pub async fn recovery_form(
    State(state): State<AppState>,
    half: Half,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let on = store::of_user(&state.db, half.pending.user.id)
        .await?
        .is_some_and(|r| r.enabled());
    if !on {
        return Ok(Redirect::to("/login/two-factor").into_response());
    }
    Ok(views::recovery_page(&csrf, None).into_response())
}

pub async fn check_recovery(
    State(state): State<AppState>,
    half: Half,
    Client(client): Client,
    jar: CookieJar,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<RecoveryForm>,
) -> AppResult<Response> {
    let user = &half.pending.user;
    let client_id = client.to_string();
    let page = |msg: &String| views::recovery_page(&csrf, Some(msg));
    if let Some(refused) = backoff(&state, &client_id, user, page).await? {
        return Ok(refused);
    }
    let Some(code) = totp::normalise_recovery_code(&form.recovery) else {
        let msg = "That is not a recovery code: they have 16 letters and digits, like ABCD-EFGH-JKLM-NPQR.".to_string();
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&msg)).into_response());
    };
    if store::use_recovery_code(&state.db, user, &totp::recovery_hash(&code)).await? {
        let jar = signed_in(&state, jar, &client_id, &half).await?;
        // Their own page next: how many codes are left, and how to get new ones.
        return Ok((jar, Redirect::to("/account/two-factor")).into_response());
    }
    failed(&state, &client_id, user).await?;
    let msg = "That recovery code is not right, or it has been used already. Each code works once."
        .to_string();
    Ok((StatusCode::UNAUTHORIZED, page(&msg)).into_response())
}
