//! Signing in and out: staff by username and password, candidates by access code.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::{self, Username};
use crate::metrics::{Door, Throttle};
use crate::store::sittings::{self, Entry};
use crate::store::users;

use crate::web::client::Client;
use crate::web::error::AppResult;
use crate::web::limits;
use crate::web::log_gate::{self, LogGate};
use crate::web::pages::two_factor;
use crate::web::session::{cookie, removal, CsrfToken, Visitor, CSRF_COOKIE, SESSION_COOKIE};
use crate::web::views::{self, csrf_field, field_error};
use crate::web::AppState;

#[derive(Debug, Deserialize, Default)]
pub struct NextParam {
    pub next: Option<String>,
}

/// The longest `next=` kept; a longer one is no page of this site.
pub const MAX_NEXT_LEN: usize = 1024;

/// Where to go after signing in: a path on this site, else `/`. The value is already
/// percent-decoded (by the query or form parser), so what is checked is what the browser will
/// follow: one leading `/` (not `//`, which is another host), no `\` (which browsers read as
/// `/`), and only visible ASCII (a tab, newline or space is dropped or refused by browsers and
/// could turn `/\t/evil.test` into `//evil.test`, and cannot go in a `Location` header).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.len() <= MAX_NEXT_LEN
                && n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n.to_string()
        }
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
    Client(client): Client,
    jar: CookieJar,
    CsrfToken(csrf): CsrfToken,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    let typed = form.username.trim();
    let refuse = |status: StatusCode, username: &str, msg: String| {
        (status, login_page(&csrf, &next, username, Some(&msg))).into_response()
    };
    // Bounds first: nothing unchecked is stored, logged or hashed. The refused text is not
    // logged at all: it may be a password typed into the wrong box.
    let username = match Username::parse(typed) {
        Ok(u) => u,
        Err(why) => {
            tracing::info!(%client, chars = form.username.chars().count(), "sign-in refused: not a username");
            return Ok(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "",
                format!("That is not a username: {why}. Check it and try again."),
            ));
        }
    };
    if let Err(why) = auth::check_password_length(&form.password) {
        return Ok(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            format!("That password is too long: {why}."),
        ));
    }
    let now = crate::store::now_ms();
    let client_id = client.to_string();
    // Too many failures from this client lately: the password is not even checked, so
    // guessing gains nothing. Other clients, the account's owner among them, are not held up.
    if let Some(until) = users::login_backoff(&state.db, &client_id, &username, now).await? {
        static REFUSED: LogGate = LogGate::new(log_gate::EVERY);
        if let Some(held) = REFUSED.due() {
            tracing::warn!(%client, held, "sign-in refused: too many failures from this client");
        }
        state.count(|m| m.throttled(Door::Login, Throttle::Failures));
        return Ok(limits::too_many_failures(until, now, |msg| {
            login_page(&csrf, &next, typed, Some(msg))
        }));
    }
    let Some(admission) = state.limits.credentials.admit() else {
        static BUSY: LogGate = LogGate::new(log_gate::EVERY);
        if let Some(held) = BUSY.due() {
            tracing::warn!(%client, held, "sign-in refused: password checks are all busy");
        }
        state.count(|m| m.throttled(Door::Login, Throttle::Busy));
        return Ok(limits::with_retry_after(
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                typed,
                "The server is busy checking other sign-ins. Try again in a moment.".to_string(),
            ),
            Duration::from_secs(1),
        ));
    };
    let account = users::user_by_username(&state.db, username.as_str()).await?;
    let hash = account.as_ref().map(|u| u.password_hash.clone());
    let ok = admission.verify(form.password, hash).await;
    let Some(user) = account.clone().filter(|u| ok && !u.disabled) else {
        match &account {
            Some(u) => tracing::info!(username = %u.username, %client, "failed staff sign-in"),
            // Not named: an unknown "username" is often a password in the wrong box.
            None => tracing::info!(%client, "failed staff sign-in: no such account"),
        }
        users::record_login_failure(&state.db, &client_id, &username, now).await?;
        state.count(|m| m.sign_in_failed(Door::Login));
        return Ok(refuse(
            StatusCode::UNAUTHORIZED,
            typed,
            "The username or password is not right. Check both and try again.".to_string(),
        ));
    };
    // The password is right. A second step first when the account has one or its role needs
    // one: failures are forgotten only once it is passed, or a password alone would buy
    // endless guesses at the code.
    if two_factor::second_step_needed(&state, &user).await? {
        return two_factor::begin(&state, jar, &user, &next).await;
    }
    let jar = open_session(&state, jar, &client_id, &user).await?;
    Ok((jar, Redirect::to(&next)).into_response())
}

/// Signs `user` in: this client's failures at the account are forgotten, a session opens, and
/// the browser gets its cookie and a new CSRF token (so a token seen before sign-in is worth
/// nothing); a pending sign-in's cookie goes.
pub async fn open_session(
    state: &AppState,
    jar: CookieJar,
    client_id: &str,
    user: &users::User,
) -> AppResult<CookieJar> {
    let username = Username::parse(&user.username).map_err(anyhow::Error::msg)?;
    users::clear_login_failures(&state.db, client_id, &username).await?;
    let token = users::open_staff_session(&state.db, user).await?;
    let secure = state.config.secure_cookies;
    Ok(jar
        .add(cookie(SESSION_COOKIE, token, secure))
        .add(cookie(CSRF_COOKIE, auth::random_token(), secure))
        .add(removal(two_factor::PENDING_COOKIE)))
}

pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> AppResult<Response> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        users::close_session(&state.db, c.value()).await?;
        state.sessions.invalidate_all();
    }
    two_factor::forget(&state, &jar).await?;
    let jar = jar
        .add(removal(SESSION_COOKIE))
        .add(removal(CSRF_COOKIE))
        .add(removal(two_factor::PENDING_COOKIE));
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
        Entry::Unknown => {
            state.count(|m| m.sign_in_failed(Door::Enter));
            refuse(
                StatusCode::UNAUTHORIZED,
                "That access code is not valid. Check it against the one your proctor gave you.",
            )
        }
        Entry::InUse => refuse(
            StatusCode::CONFLICT,
            "Your exam is already open in another browser, so this browser was not let in. Your proctor has been told and can move your exam to this browser.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_keeps_same_site_paths_only() {
        for good in [
            "/",
            "/sittings/1?x=2",
            "/scoring/3/results",
            "/rate/R-ABCD-EFGH",
        ] {
            assert_eq!(safe_next(Some(good)), good, "{good}");
        }
        let long = format!("/{}", "a".repeat(MAX_NEXT_LEN));
        for hostile in [
            "/\t/evil.test",
            "/\n/x",
            "/\r\nSet-Cookie: x=1",
            "//evil.test",
            "/\\evil",
            "/\\/evil.test",
            "https://evil.test",
            "evil.test",
            " /x",
            "/x y",
            "/\u{7f}x",
            "/\u{a0}/evil.test",
            "/\u{3000}/evil.test",
            "",
            long.as_str(),
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
