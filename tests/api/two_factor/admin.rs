//! What the configuration and administrators decide: a role that requires two-factor sign-in
//! sets it up before anything else, and an administrator's reset, audited with who, whom and why
//! (on the staff page, or at the server's command line).

use imh_exam::auth::Role;
use imh_exam::config::Config;

use super::*;
use crate::helpers::server::imh_exam;
use crate::helpers::{count, spawn_app, spawn_app_with, test_db, Engine};
use crate::on_both_engines;

async fn a_role_that_requires_it_sets_it_up_before_anything_else(engine: Engine) {
    let config = Config {
        two_factor_roles: vec![Role::Admin, Role::Committee],
        ..Config::default()
    };
    let app = spawn_app_with(test_db(engine).await, config).await;
    app.add_staff("ada", Role::Admin, "Org").await;
    app.add_staff("rob", Role::Rater, "Org").await;
    // A rater is not required to: in with the password.
    assert!(signed_in(&app.signed_in("rob").await).await);
    // The administrator is sent to set it up, and reaches nothing else meanwhile.
    let b = half_signed_in(&app, "ada").await;
    let page = b.get_text("/login/two-factor").await;
    assert!(
        page.contains("Your role (Administrator) needs a second step"),
        "{page}"
    );
    assert!(
        page.contains("action=\"/login/two-factor/enrol\""),
        "{page}"
    );
    assert!(page.contains("Cancel and sign out"), "{page}");
    let res = b.get("/admin/users").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=/admin/users");
    let phone = Authenticator::from_page(&page);
    let step = fresh_step().await;
    let enrol = |code: String| {
        let b = b.clone();
        async move {
            b.post_form(
                "/login/two-factor",
                "/login/two-factor/enrol",
                &[("code", &code)],
            )
            .await
        }
    };
    let res = enrol(phone.wrong(step)).await;
    assert_eq!(res.status(), 422);
    assert!(!signed_in(&b).await);
    // The first right code turns it on and signs in; the recovery codes are shown once.
    let res = enrol(phone.code(step - 1)).await;
    assert_eq!(res.status(), 200);
    assert!(sets_cookie(&res, "imh_session"));
    let body = res.text().await.unwrap();
    assert_eq!(recovery_codes(&body).len(), 10);
    assert!(body.contains("href=\"/\""), "{body}");
    assert_eq!(b.get("/admin/users").await.status(), 200);
    assert_eq!(audited(&app, "two-factor.enrol").await[0].actor, "ada");
    // The next sign-in asks for a code, not a set-up.
    let next = half_signed_in(&app, "ada").await;
    let page = next.get_text("/login/two-factor").await;
    assert!(page.contains("action=\"/login/two-factor\""), "{page}");
    assert!(
        !page.contains("id=\"secret\""),
        "the key is shown only when setting up"
    );
    assert_eq!(send_code(&next, &phone.code(step)).await.status(), 303);
}

async fn an_administrator_resets_it_with_a_reason_in_the_audit_log(engine: Engine) {
    let app = spawn_app(engine).await;
    let rob = enrolled(&app, "rob", Role::Rater).await;
    app.add_staff("ada", Role::Admin, "Org").await;
    let ada = app.signed_in("ada").await;
    let reset_page = format!("/admin/users/{}/two-factor", rob.id);
    let staff = ada.get_text("/admin/users").await;
    assert!(staff.contains(&format!("href=\"{reset_page}\"")), "{staff}");
    let form = ada.get_text(&reset_page).await;
    assert!(form.contains("<label for=\"reason\""), "{form}");
    // A reason is required.
    let res = ada
        .post_form(&reset_page, &reset_page, &[("reason", "  ")])
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Reason: say why"));
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM two_factor").await, 1);
    // Only an administrator may.
    let committee = app.as_role(Role::Committee).await;
    assert_eq!(committee.get(&reset_page).await.status(), 403);
    let res = ada
        .post_form(
            &reset_page,
            &reset_page,
            &[("reason", "lost phone, identity checked")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("was removed"));
    let entry = &audited(&app, "two-factor.reset").await[0];
    assert_eq!(entry.actor, "ada");
    assert_eq!(entry.detail, "rob: lost phone, identity checked");
    for table in ["two_factor", "recovery_codes"] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        assert_eq!(count(&app.db, &sql).await, 0, "{table}");
    }
    // Rob's session ended; he signs in with his password alone, until he sets it up again.
    assert!(!signed_in(&rob.browser).await);
    let res = app.browser().login("rob", PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    // Nothing left to reset; and nobody resets their own.
    let res = ada
        .post_form(&reset_page, &reset_page, &[("reason", "again")])
        .await;
    assert_eq!(res.status(), 400);
    let ada_id = imh_exam::store::users::user_by_username(&app.db, "ada")
        .await
        .unwrap()
        .unwrap()
        .id;
    let own = format!("/admin/users/{ada_id}/two-factor");
    let res = ada.post_form(&own, &own, &[("reason", "lost phone")]).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("cannot reset your own"));
}

async fn the_command_line_resets_it_with_a_reason_in_the_audit_log(engine: Engine) {
    let app = spawn_app(engine).await;
    let ada = enrolled(&app, "ada", Role::Admin).await;
    let url = app.db_url().to_string();
    let run = |args: &[&str]| {
        imh_exam()
            .args(["user", "reset-two-factor"])
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let out = run(&["--username", "ada", "--reason", " "]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reason: say why"));
    let out = run(&["--username", "nobody", "--reason", "lost phone"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&[
        "--username",
        "ada",
        "--reason",
        "the only admin lost her phone",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entry = &audited(&app, "two-factor.reset").await[0];
    assert_eq!(entry.actor, "terminal");
    assert_eq!(entry.detail, "ada: the only admin lost her phone");
    assert!(!signed_in(&ada.browser).await);
}

on_both_engines!(
    a_role_that_requires_it_sets_it_up_before_anything_else,
    an_administrator_resets_it_with_a_reason_in_the_audit_log,
    the_command_line_resets_it_with_a_reason_in_the_audit_log,
);
