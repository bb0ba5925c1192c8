//! Two-factor sign-in (issue 16) by keyboard alone: an administrator whose role requires it
//! sets it up at sign-in (the QR code page, a wrong code, the recovery codes shown once), signs
//! in again with a recovery code, and opens the reset page of a colleague. Every page is
//! looked at (axe, widths).

use super::*;

use imh_exam::store::two_factor as store;
use imh_exam::two_factor::{SealKey, Secret};
use totp_rs::{Algorithm, Secret as Base32, TOTP};

/// The code the person's app shows now, from the key written out on the page.
async fn code_from_page(c: &Client) -> String {
    let key: String = css(c, "#secret")
        .await
        .text()
        .await
        .unwrap()
        .split_whitespace()
        .collect();
    let bytes = Base32::Encoded(key).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, None, "ada".into()).unwrap();
    totp.generate_current().unwrap()
}

/// Tabs to the field `id`, types `text` and presses Enter.
async fn type_in(c: &Client, id: &str, text: &str) {
    tab_to(c, &format!("el.id === '{id}'"), id).await;
    keys(c, text).await;
    keys(c, &Key::Enter).await;
}

/// Waits until the page's main holds `text`.
async fn wait_for_text(c: &Client, text: &str) {
    let wait = Wait::new(format!("the page to say {text:?}"));
    loop {
        let main = match c.find(Locator::Css("main")).await {
            Ok(m) => m.text().await.unwrap_or_default(),
            Err(e) => e.to_string(),
        };
        if main.contains(text) {
            return;
        }
        wait.tick(main.chars().take(200).collect::<String>()).await;
    }
}

async fn set_up_and_sign_in(c: Client, base: String, db: Db, rob: i64) -> Vec<String> {
    let mut found = Vec::new();
    go(&c, &base, "/login").await;
    type_in(&c, "username", "ada").await;
    type_in(&c, "password", "a long admin password").await;
    // The role requires it: set it up before anything else.
    wait_for_path(&c, "/login/two-factor").await;
    wait_for_text(&c, "Scan this QR code").await;
    found.extend(look(&c, "/login/two-factor (setting up: QR code and key)").await);
    type_in(&c, "code", "000000").await;
    wait_for_path(&c, "/login/two-factor/enrol").await;
    wait_for_text(&c, "That code is not right").await;
    found.extend(look(&c, "/login/two-factor/enrol (a wrong code)").await);
    let code = code_from_page(&c).await;
    // The field keeps the wrong code: cleared by keyboard first.
    tab_to(&c, "el.id === 'code'", "the code field").await;
    c.execute("document.activeElement.select()", vec![])
        .await
        .unwrap();
    keys(&c, &code).await;
    keys(&c, &Key::Enter).await;
    wait_for_text(&c, "Your recovery codes").await;
    found.extend(look(&c, "/login/two-factor/enrol (recovery codes, shown once)").await);
    let first = css(&c, "ol.recovery-codes li code")
        .await
        .text()
        .await
        .unwrap();
    tab_to(
        &c,
        "el.tagName === 'A' && el.textContent.includes('continue')",
        "the way on",
    )
    .await;
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, "/").await;
    go(&c, &base, "/account/two-factor").await;
    found.extend(look(&c, "/account/two-factor (on, codes left)").await);
    // Signing in again: the code page, then a recovery code instead.
    c.delete_all_cookies().await.unwrap();
    go(&c, &base, "/login").await;
    type_in(&c, "username", "ada").await;
    type_in(&c, "password", "a long admin password").await;
    wait_for_path(&c, "/login/two-factor").await;
    wait_for_text(&c, "Now type the code").await;
    found.extend(look(&c, "/login/two-factor (the code)").await);
    tab_to(
        &c,
        "el.tagName === 'A' && el.getAttribute('href') === '/login/two-factor/recovery'",
        "the recovery code link",
    )
    .await;
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, "/login/two-factor/recovery").await;
    found.extend(look(&c, "/login/two-factor/recovery (a recovery code)").await);
    type_in(&c, "recovery", "ABCD-EFGH-JKLM-NPQR").await;
    wait_for_text(&c, "not right, or it has been used").await;
    found.extend(look(&c, "/login/two-factor/recovery (a wrong recovery code)").await);
    tab_to(&c, "el.id === 'recovery'", "the recovery field").await;
    c.execute("document.activeElement.select()", vec![])
        .await
        .unwrap();
    keys(&c, &first).await;
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, "/account/two-factor").await;
    wait_for_text(&c, "9 of 10").await;
    // The staff page's reset, for a colleague who lost their phone.
    go(&c, &base, "/admin/users").await;
    found.extend(look(&c, "/admin/users (with two-factor column)").await);
    let reset = format!("/admin/users/{rob}/two-factor");
    tab_to(
        &c,
        &format!("el.getAttribute('href') === '{reset}'"),
        "rob's reset link",
    )
    .await;
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, &reset).await;
    found.extend(look(&c, "/admin/users/{id}/two-factor (reset)").await);
    type_in(&c, "reason", "lost phone, identity checked").await;
    wait_for_text(&c, "was removed").await;
    found.extend(look(&c, "/admin/users/{id}/two-factor (reset done)").await);
    assert!(store::of_user(&db, rob).await.unwrap().is_none());
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_factor_sign_in_by_keyboard_passes_axe() {
    let key = SealKey::generate();
    let app = spawn_app_with(Config {
        two_factor_roles: vec![Role::Admin],
        two_factor_key: Some(key.clone()),
        ..Config::default()
    })
    .await;
    add_user(
        &app.db,
        NewUser {
            username: &Username::parse("ada").unwrap(),
            display_name: "Ada Admin",
            role: Role::Admin,
            organisation: "",
            password: "a long admin password",
            added_by: "test",
        },
    )
    .await
    .unwrap();
    // A rater whose two-factor sign-in is on, for the reset page.
    let rob_id = add_user(
        &app.db,
        NewUser {
            username: &Username::parse("rob").unwrap(),
            display_name: "Rob Rater",
            role: Role::Rater,
            organisation: "",
            password: "a long rater password",
            added_by: "test",
        },
    )
    .await
    .unwrap();
    let rob = imh_exam::store::users::user_by_id(&app.db, rob_id)
        .await
        .unwrap()
        .unwrap();
    let record = store::begin_enrolment(&app.db, rob_id, &key.seal(&Secret::generate(), rob_id))
        .await
        .unwrap();
    assert!(
        store::confirm_enrolment(&app.db, &rob, &record.sealed, 1, &[])
            .await
            .unwrap()
    );
    in_browser(|c, _| set_up_and_sign_in(c, app.base.clone(), app.db.clone(), rob_id)).await;
}
