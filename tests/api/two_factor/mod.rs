//! Issue 16, two-factor sign-in (TOTP, RFC 6238) for staff, on both engines: setting it up
//! and signing in with a code (`sign_in`), a recovery code once (`recovery`), what only an
//! administrator or the configuration decides (`admin`: a role that requires it, the reset),
//! and what a half-done sign-in can reach and how guessing is slowed (`guarding`).
//!
//! The codes are computed as a person's app would: with `totp-rs` from the key written out on
//! the set-up page. A test takes its codes in a time step with at least 8 seconds left
//! ([`fresh_step`]), so every code it sends is judged in the step it was computed for.

mod admin;
mod guarding;
mod recovery;
mod sign_in;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use imh_exam::auth::Role;
use imh_exam::store::audit::{self, AuditEntry};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::helpers::{between, Browser, TestApp, PASSWORD};

/// A person's authenticator app, set up from the key shown on the set-up page.
pub struct Authenticator(TOTP);

impl Authenticator {
    /// The app, from a set-up page (the key written out as `<code ... id="secret">`).
    pub fn from_page(html: &str) -> Authenticator {
        let grouped = between(html, "id=\"secret\">", "</code>");
        let key: String = grouped.split_whitespace().collect();
        let bytes = Secret::Encoded(key).to_bytes().expect("the key is base32");
        Authenticator(TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, None, "test".into()).unwrap())
    }

    /// The code for time step `step`.
    pub fn code(&self, step: i64) -> String {
        self.0.generate(u64::try_from(step).unwrap() * 30)
    }

    /// A 6-digit code that is not the one of `step` nor of its neighbours.
    pub fn wrong(&self, step: i64) -> String {
        let near: Vec<String> = (step - 1..=step + 1).map(|s| self.code(s)).collect();
        (0..1_000_000)
            .map(|n| format!("{:06}", (n * 7_919 + 123_457) % 1_000_000))
            .find(|c| !near.contains(c))
            .unwrap()
    }
}

/// The time step now, after waiting for the next one when fewer than 8 seconds of this one
/// are left.
pub async fn fresh_step() -> i64 {
    loop {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let into = now % 30.0;
        if into < 22.0 {
            return (now / 30.0).floor() as i64;
        }
        tokio::time::sleep(Duration::from_secs_f64(30.0 - into + 0.2)).await;
    }
}

/// The recovery codes on a page that shows them.
pub fn recovery_codes(html: &str) -> Vec<String> {
    let list = between(html, "<ol class=\"recovery-codes\"", "</ol>");
    list.split("<code>")
        .skip(1)
        .map(|s| s.split("</code>").next().unwrap().to_string())
        .collect()
}

/// Someone whose two-factor sign-in is on: set up by themselves, from their account page,
/// with the code of the step before `step` (so `step` and the one after are theirs to use).
pub struct Enrolled {
    pub id: i64,
    pub app: Authenticator,
    pub codes: Vec<String>,
    pub step: i64,
    /// Their browser, signed in (with their password alone, before it was on).
    pub browser: Browser,
}

pub async fn enrolled(app: &TestApp, username: &str, role: Role) -> Enrolled {
    app.add_staff(username, role, "Test Org").await;
    let browser = app.signed_in(username).await;
    let page = browser.get_text("/account/two-factor").await;
    let authenticator = Authenticator::from_page(&page);
    let step = fresh_step().await;
    let res = browser
        .post_form(
            "/account/two-factor",
            "/account/two-factor",
            &[("code", &authenticator.code(step - 1))],
        )
        .await;
    assert_eq!(res.status(), 200);
    let codes = recovery_codes(&res.text().await.unwrap());
    assert_eq!(codes.len(), 10);
    let id = imh_exam::store::users::user_by_username(&app.db, username)
        .await
        .unwrap()
        .unwrap()
        .id;
    Enrolled {
        id,
        app: authenticator,
        codes,
        step,
        browser,
    }
}

/// A new browser with `username`'s password right, at the second step.
pub async fn half_signed_in(app: &TestApp, username: &str) -> Browser {
    let b = app.browser();
    let res = b.login(username, PASSWORD).await;
    assert_second_step(&res);
    b
}

/// A password right for an account with a second step: sent on to it, with no session.
pub fn assert_second_step(res: &reqwest::Response) {
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login/two-factor");
    assert!(
        !sets_cookie(res, "imh_session"),
        "no session before the second step"
    );
    assert!(sets_cookie(res, "imh_2fa"));
}

/// Whether `res` sets the cookie `name` (to a value, not removing it).
pub fn sets_cookie(res: &reqwest::Response, name: &str) -> bool {
    res.headers().get_all("set-cookie").iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with(&format!("{name}=")) && !v.starts_with(&format!("{name}=;"))
    })
}

/// Sends the second step's code.
pub async fn send_code(b: &Browser, code: &str) -> reqwest::Response {
    b.post_form("/login/two-factor", "/login/two-factor", &[("code", code)])
        .await
}

/// Whether `b` reaches a staff page (its home), rather than being sent to sign in.
pub async fn signed_in(b: &Browser) -> bool {
    let res = b.get("/").await;
    match res.status().as_u16() {
        200 => true,
        303 => {
            let to = res.headers()["location"].to_str().unwrap().to_string();
            assert!(to.starts_with("/login"), "{to}");
            false
        }
        s => panic!("GET / answered {s}"),
    }
}

/// The newest audit records with action `action`, newest first.
pub async fn audited(app: &TestApp, action: &str) -> Vec<AuditEntry> {
    audit::recent(&app.db, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}
