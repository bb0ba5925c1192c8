//! A half-done sign-in (the password right, the code not yet) reaches nothing but its second
//! step; wrong codes slow the client that sends them, never the account's owner elsewhere.

use imh_exam::auth::Role;

use super::*;
use crate::helpers::{count, csrf_of, spawn_app, Engine};
use crate::on_both_engines;

async fn a_half_done_sign_in_reaches_nothing_else(engine: Engine) {
    let app = spawn_app(engine).await;
    enrolled(&app, "ada", Role::Admin).await;
    let sessions = count(&app.db, "SELECT COUNT(*) FROM sessions").await;
    let b = half_signed_in(&app, "ada").await;
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM sessions").await,
        sessions,
        "no session opened"
    );
    for path in [
        "/",
        "/admin/users",
        "/bank",
        "/sittings",
        "/scoring",
        "/studies",
        "/keys",
        "/account/two-factor",
    ] {
        let res = b.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/login"), "{path} -> {to}");
    }
    assert_eq!(b.get("/candidate").await.headers()["location"], "/enter");
    // Forms, with this browser's own token, change nothing.
    let token = csrf_of(&b.get_text("/login/two-factor").await);
    let users = count(&app.db, "SELECT COUNT(*) FROM users").await;
    for (action, fields) in [
        (
            "/admin/users",
            vec![
                ("username", "mallory"),
                ("display_name", "Mallory"),
                ("role", "admin"),
                ("password", "a long enough password"),
            ],
        ),
        ("/account/two-factor/recovery-codes", vec![]),
        ("/account/two-factor", vec![("code", "123456")]),
    ] {
        let mut form = fields.clone();
        form.push(("csrf", token.as_str()));
        let res = b
            .client
            .post(b.url(action))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{action}");
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/login"), "{action} -> {to}");
    }
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM users").await, users);
    assert!(audited(&app, "two-factor.recovery_codes").await.is_empty());
    // The login page shows the form: nobody is signed in.
    let login = b.get_text("/login").await;
    assert!(login.contains("Staff sign-in"), "{login}");
    // Signing out forgets it.
    let res = b.post_form("/login/two-factor", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM pending_sign_ins").await,
        0
    );
    assert_eq!(b.get("/login/two-factor").await.status(), 303);
    // And it expires: an expired one is nobody's.
    let late = half_signed_in(&app, "ada").await;
    sqlx::query("UPDATE pending_sign_ins SET expires_at = 0")
        .execute(&app.db.writer)
        .await
        .unwrap();
    let res = late.get("/login/two-factor").await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?"));
}

async fn wrong_codes_slow_their_client_and_never_lock_the_owner_out(engine: Engine) {
    let app = spawn_app(engine).await;
    let ada = enrolled(&app, "ada", Role::Committee).await;
    // Someone with the password, guessing codes.
    let guesser = app.browser_from("127.0.0.3");
    assert_second_step(&guesser.login("ada", PASSWORD).await);
    let wrong = ada.app.wrong(ada.step);
    for attempt in 1..=imh_exam::store::users::LOGIN_ATTEMPTS {
        let res = send_code(&guesser, &wrong).await;
        assert_eq!(res.status(), 401, "attempt {attempt}");
    }
    // Now even the right code is not checked, from that client, and its password is not
    // either: it waits, told how long.
    let res = send_code(&guesser, &ada.app.code(ada.step)).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Too many failed sign-ins"));
    assert!(!signed_in(&guesser).await);
    assert_eq!(guesser.login("ada", PASSWORD).await.status(), 429);
    // The owner, from elsewhere, signs in at once with the same code.
    let owner = app.browser_from("127.0.0.4");
    assert_second_step(&owner.login("ada", PASSWORD).await);
    let res = send_code(&owner, &ada.app.code(ada.step)).await;
    assert_eq!(res.status(), 303);
    assert!(signed_in(&owner).await);
}

on_both_engines!(
    a_half_done_sign_in_reaches_nothing_else,
    wrong_codes_slow_their_client_and_never_lock_the_owner_out,
);
