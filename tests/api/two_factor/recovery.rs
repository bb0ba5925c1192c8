//! Recovery codes: each signs in once; new ones replace the old (audited).

use imh_exam::auth::Role;

use super::*;
use crate::helpers::{spawn_app, Engine};
use crate::on_both_engines;

async fn send_recovery(b: &Browser, code: &str) -> reqwest::Response {
    b.post_form(
        "/login/two-factor/recovery",
        "/login/two-factor/recovery",
        &[("recovery", code)],
    )
    .await
}

async fn a_recovery_code_signs_in_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let ada = enrolled(&app, "ada", Role::Proctor).await;
    let b = half_signed_in(&app, "ada").await;
    let page = b.get_text("/login/two-factor").await;
    assert!(
        page.contains("href=\"/login/two-factor/recovery\""),
        "{page}"
    );
    let form = b.get_text("/login/two-factor/recovery").await;
    assert!(form.contains("<label for=\"recovery\""), "{form}");
    // Typed forgivingly: lower case, spaces for dashes.
    let typed = ada.codes[0].to_lowercase().replace('-', " ");
    let res = send_recovery(&b, &typed).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account/two-factor");
    assert!(signed_in(&b).await);
    let account = b.get_text("/account/two-factor").await;
    assert!(account.contains("9 of 10"), "{account}");
    let used = audited(&app, "two-factor.recovery_used").await;
    assert_eq!(used.len(), 1);
    assert_eq!(
        (used[0].actor.as_str(), used[0].detail.as_str()),
        ("ada", "9 left")
    );
    // The same code again: refused, and counted.
    let again = half_signed_in(&app, "ada").await;
    let res = send_recovery(&again, &ada.codes[0]).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("used already"));
    assert!(!signed_in(&again).await);
    // Not a code at all: said what one looks like.
    let res = send_recovery(&again, "123456").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("16 letters and digits"));
    // Another code still works.
    assert_eq!(send_recovery(&again, &ada.codes[1]).await.status(), 303);
    assert!(signed_in(&again).await);
}

async fn new_recovery_codes_replace_the_old(engine: Engine) {
    let app = spawn_app(engine).await;
    let ada = enrolled(&app, "ada", Role::Rater).await;
    let res = ada
        .browser
        .post_form(
            "/account/two-factor",
            "/account/two-factor/recovery-codes",
            &[],
        )
        .await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("the old ones no longer work"), "{body}");
    let fresh = recovery_codes(&body);
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !ada.codes.contains(c)));
    let made = audited(&app, "two-factor.recovery_codes").await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].actor, "ada");
    let b = half_signed_in(&app, "ada").await;
    assert_eq!(send_recovery(&b, &ada.codes[2]).await.status(), 401);
    assert_eq!(send_recovery(&b, &fresh[0]).await.status(), 303);
    // Someone without two-factor sign-in has no codes to replace.
    let rob = app.as_role(Role::Rater).await;
    let res = rob
        .post_form("/", "/account/two-factor/recovery-codes", &[])
        .await;
    assert_eq!(res.status(), 400);
}

on_both_engines!(
    a_recovery_code_signs_in_once,
    new_recovery_codes_replace_the_old,
);
