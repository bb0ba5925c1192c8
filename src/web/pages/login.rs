//! Signing in and out: staff by username and password, candidates by access code.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth;
use crate::store::sittings::{self, Entry};
use crate::store::{audit, users};

use crate::web::error::AppResult;
use crate::web::session::{cookie, removal, CsrfToken, Visitor, CSRF_COOKIE, SESSION_COOKIE};
use crate::web::views::{self, csrf_field, field_error};
use crate::web::AppState;

#[derive(Debug, Deserialize, Default)]
pub struct NextParam {
    pub next: Option<String>,
}

/// Only a path on this site, never `//elsewhere` or a full URL.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

fn login_page(csrf: &str, next: &str, username: &str, error: Option<&String>) -> Markup {
    views::page(
        "Sign in",
        None,
        html! {
            h1 { "Staff sign-in" }
            p class="hint" { "For administrators, proctors, raters and the exam committee. Candidates: "
                a href="/enter" { "enter your access code" } "." }
            form method="post" action="/login" {
                (csrf_field(csrf))
                input type="hidden" name="next" value=(next);
                (field_error("login-error", error))
                label for="username" { "Username" }
                input type="text" id="username" name="username" value=(username)
                    autocomplete="username" required autofocus
                    aria-describedby=[error.map(|_| "login-error")];
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        },
    )
}

pub async fn login_form(
    visitor: Visitor,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<NextParam>,
) -> Response {
    if visitor.staff().is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    login_page(&csrf, &safe_next(q.next.as_deref()), "", None).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    pub next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let now = crate::store::now_ms();
    // Too many failures for this username lately: the password is not even checked, so
    // guessing gains nothing, and the owner is told to wait.
    if users::login_locked(&state.db, &form.username, now).await? {
        tracing::warn!(username = %form.username, "staff login refused: too many failures");
        let msg = format!(
            "Too many failed sign-ins for this account. Wait {} minutes and try again, or ask an administrator.",
            users::LOGIN_WINDOW_MS / 60_000
        );
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            login_page(&csrf, &next, &form.username, Some(&msg)),
        )
            .into_response());
    }
    let Some(user) = users::authenticate(&state.db, &form.username, &form.password).await? else {
        tracing::info!(username = %form.username, "failed staff login");
        users::record_login_failure(&state.db, &form.username, now).await?;
        let msg = "The username or password is not right. Check both and try again.".to_string();
        return Ok((
            StatusCode::UNAUTHORIZED,
            login_page(&csrf, &next, &form.username, Some(&msg)),
        )
            .into_response());
    };
    users::clear_login_failures(&state.db, &form.username).await?;
    let token = users::open_staff_session(&state.db, user.id).await?;
    audit::record(&state.db, &user.username, "login", "").await?;
    let secure = state.config.secure_cookies;
    // A new CSRF token with the new session, so a token seen before login is worth nothing.
    let jar = jar.add(cookie(SESSION_COOKIE, token, secure)).add(cookie(
        CSRF_COOKIE,
        auth::random_token(),
        secure,
    ));
    Ok((jar, Redirect::to(&next)).into_response())
}

pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> AppResult<Response> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        users::close_session(&state.db, c.value()).await?;
        state.sessions.lock().expect("session cache lock").clear();
    }
    let jar = jar.add(removal(SESSION_COOKIE)).add(removal(CSRF_COOKIE));
    Ok((jar, Redirect::to("/login")).into_response())
}

fn enter_page(csrf: &str, error: Option<&String>) -> Markup {
    views::page(
        "Enter your exam",
        None,
        html! {
            h1 { "Enter your exam" }
            p { "Type the access code your proctor gave you. Capital letters and dashes do not matter." }
            form method="post" action="/enter" {
                (csrf_field(csrf))
                (field_error("code-error", error))
                label for="code" { "Access code" }
                input type="text" id="code" name="code" autocomplete="off" spellcheck="false"
                    placeholder="XXXX-XXXX-XXXX" required autofocus
                    aria-describedby=[error.map(|_| "code-error")];
                button type="submit" { "Enter" }
            }
            p class="hint" { "Staff: " a href="/login" { "sign in here" } "." }
        },
    )
}

pub async fn enter_form(CsrfToken(csrf): CsrfToken) -> Markup {
    enter_page(&csrf, None)
}

#[derive(Debug, Deserialize)]
pub struct EnterForm {
    #[serde(default)]
    pub code: String,
}

pub async fn enter(
    State(state): State<AppState>,
    jar: CookieJar,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<EnterForm>,
) -> AppResult<Response> {
    let refuse = |status: StatusCode, msg: &str| {
        Ok((status, enter_page(&csrf, Some(&msg.to_string()))).into_response())
    };
    if form.code.trim().is_empty() {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "Type your access code.");
    }
    let current = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    match sittings::enter(&state.db, &form.code, current.as_deref()).await? {
        Entry::Opened(token) => {
            let secure = state.config.secure_cookies;
            // Kept across a browser restart, so a closed window does not lock the candidate out.
            let mut session = cookie(SESSION_COOKIE, token, secure);
            session.set_max_age(time::Duration::milliseconds(users::CANDIDATE_SESSION_MS));
            let jar = jar
                .add(session)
                .add(cookie(CSRF_COOKIE, auth::random_token(), secure));
            Ok((jar, Redirect::to("/candidate")).into_response())
        }
        Entry::Continue => Ok(Redirect::to("/candidate").into_response()),
        Entry::Unknown => refuse(
            StatusCode::UNAUTHORIZED,
            "That access code is not valid. Check it against the one your proctor gave you.",
        ),
        Entry::InUse => refuse(
            StatusCode::CONFLICT,
            "Your exam is already open in another browser, so this browser was not let in. Your proctor has been told and can move your exam to this browser.",
        ),
    }
}
