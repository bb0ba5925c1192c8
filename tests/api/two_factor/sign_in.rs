//! Setting two-factor sign-in up, then signing in with a code; a wrong and a replayed code
//! refused.

use imh_exam::auth::Role;

use super::*;
use crate::helpers::{count, spawn_app, Engine};
use crate::on_both_engines;

async fn setting_up_then_signing_in_with_a_code(engine: Engine) {
    let app = spawn_app(engine).await;
    app.add_staff("ada", Role::Rater, "Org").await;
    // Optional by default: in with the password alone, and the home page says where to turn it on.
    let b = app.signed_in("ada").await;
    let home = b.get_text("/").await;
    assert!(home.contains("href=\"/account/two-factor\""), "{home}");
    let page = b.get_text("/account/two-factor").await;
    for want in [
        "Set up two-factor sign-in",
        "<svg",
        "role=\"img\"",
        "aria-label=\"QR code",
        "autocomplete=\"one-time-code\"",
        "inputmode=\"numeric\"",
        "<label for=\"code\"",
    ] {
        assert!(page.contains(want), "{want} in {page}");
    }
    // The page shows the same key until it is confirmed.
    let again = b.get_text("/account/two-factor").await;
    assert_eq!(
        between(&page, "id=\"secret\">", "</code>"),
        between(&again, "id=\"secret\">", "</code>")
    );
    let phone = Authenticator::from_page(&page);
    let step = fresh_step().await;
    // A wrong first code leaves it off, and says so by the field.
    let res = b
        .post_form(
            "/account/two-factor",
            "/account/two-factor",
            &[("code", &phone.wrong(step))],
        )
        .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("That code is not right"), "{body}");
    assert!(
        body.contains("aria-describedby=\"code-hint code-error\""),
        "{body}"
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM two_factor WHERE enabled_at IS NOT NULL"
        )
        .await,
        0
    );
    // The right one turns it on and shows ten recovery codes, once.
    let res = b
        .post_form(
            "/account/two-factor",
            "/account/two-factor",
            &[("code", &phone.code(step - 1))],
        )
        .await;
    assert_eq!(res.status(), 200);
    let shown = res.text().await.unwrap();
    assert!(shown.contains("Two-factor sign-in is on."), "{shown}");
    let codes = recovery_codes(&shown);
    assert_eq!(codes.len(), 10);
    let enrol = audited(&app, "two-factor.enrol").await;
    assert_eq!(enrol.len(), 1);
    assert_eq!(enrol[0].actor, "ada");
    let status = b.get_text("/account/two-factor").await;
    assert!(status.contains("On since"), "{status}");
    assert!(status.contains("10 of 10"), "{status}");
    assert!(!status.contains(&codes[0]), "codes are shown once only");
    // Neither the secret nor a recovery code is in the database as itself.
    let sealed: String = sqlx::query_scalar("SELECT secret_sealed FROM two_factor")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let key: String = between(&page, "id=\"secret\">", "</code>")
        .split_whitespace()
        .collect();
    assert!(sealed.starts_with("xc1:"), "{sealed}");
    assert!(!sealed.contains(&key));
    let hashes: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 10);
    for code in &codes {
        assert!(!hashes.contains(code));
        assert!(hashes.contains(&imh_exam::auth::sha256_hex(code)));
    }

    // Signing in now: the password, then the code.
    let other = half_signed_in(&app, "ada").await;
    assert!(!signed_in(&other).await);
    let second = other.get_text("/login/two-factor").await;
    assert!(second.contains("Now type the code"), "{second}");
    assert!(
        second.contains("autocomplete=\"one-time-code\""),
        "{second}"
    );
    let res = send_code(&other, &phone.code(step)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    assert!(sets_cookie(&res, "imh_session"));
    assert!(signed_in(&other).await);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM pending_sign_ins").await,
        0,
        "the half-done sign-in is over"
    );
}

async fn a_wrong_and_a_replayed_code_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let ada = enrolled(&app, "ada", Role::Committee).await;
    let b = half_signed_in(&app, "ada").await;
    // Not a code at all: said so, not counted.
    let res = send_code(&b, "12345").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Type the 6 digits"));
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM login_failures").await,
        0
    );
    // A wrong code: refused, counted as a failed sign-in, still nobody signed in.
    let res = send_code(&b, &ada.app.wrong(ada.step)).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("That code is not right"));
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM login_failures").await,
        1
    );
    assert!(!signed_in(&b).await);
    // The right one: in.
    let code = ada.app.code(ada.step);
    assert_eq!(send_code(&b, &code).await.status(), 303);
    assert!(signed_in(&b).await);
    // The same code again, from a second sign-in: a replay, refused.
    let thief = half_signed_in(&app, "ada").await;
    let res = send_code(&thief, &code).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("already been used"));
    assert!(!signed_in(&thief).await);
    // The step set up with is used too.
    let res = send_code(&thief, &ada.app.code(ada.step - 1)).await;
    assert_eq!(res.status(), 401);
    // The next step's code is still good.
    assert_eq!(
        send_code(&thief, &ada.app.code(ada.step + 1))
            .await
            .status(),
        303
    );
    assert!(signed_in(&thief).await);
    let last: i64 = sqlx::query_scalar("SELECT last_step FROM two_factor WHERE user_id = $1")
        .bind(ada.id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(last, ada.step + 1);
}

on_both_engines!(
    setting_up_then_signing_in_with_a_code,
    a_wrong_and_a_replayed_code_are_refused,
);
