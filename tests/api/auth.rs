//! Login, roles, sessions, CSRF and candidates' access codes, over real HTTP.

use imh_exam::auth::Role;
use imh_exam::store::users;

use crate::helpers::{csrf_of, spawn_app, Engine, PASSWORD};
use crate::on_both_engines;

async fn health_and_security_headers(engine: Engine) {
    let app = spawn_app(engine).await;
    let res = app.browser().get("/healthz").await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(res.text().await.unwrap(), "ok");
    // The site's icon, for the page's link and for browsers that ask for /favicon.ico.
    for path in ["/assets/icon.svg", "/favicon.ico"] {
        let icon = app.browser().get(path).await;
        assert_eq!(icon.status(), 200, "{path}");
        assert_eq!(icon.headers()["content-type"], "image/svg+xml", "{path}");
        assert!(icon.text().await.unwrap().starts_with("<svg"), "{path}");
    }
    let login = app.browser().get_text("/login").await;
    assert!(
        login.contains(r#"<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">"#),
        "{login}"
    );
}

async fn a_staff_page_refuses_an_anonymous_visitor(engine: Engine) {
    let app = spawn_app(engine).await;
    let b = app.browser();
    for path in ["/admin/users", "/bank"] {
        let res = b.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(res.headers()["location"], format!("/login?next={path}"));
    }
    assert_eq!(b.get("/").await.headers()["location"], "/login");
}

async fn a_staff_page_refuses_the_wrong_role(engine: Engine) {
    let app = spawn_app(engine).await;
    let rater = app.as_role(Role::Rater).await;
    let res = rater.get("/admin/users").await;
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("This page is for administrator"));
    assert_eq!(rater.get("/bank").await.status(), 403);
    // The rater's own home page works and is the rater's.
    let home = rater.get_text("/").await;
    assert!(home.contains("Your scoring queue"), "{home}");
}

async fn each_role_gets_its_own_home_page(engine: Engine) {
    let app = spawn_app(engine).await;
    for (role, marker) in [
        (Role::Admin, "Staff accounts"),
        (Role::Proctor, "No sittings are scheduled for you"),
        (Role::Rater, "Your scoring queue"),
        (Role::Committee, "Exam committee"),
    ] {
        let b = app.as_role(role).await;
        let home = b.get_text("/").await;
        assert!(home.contains(marker), "{role}: {home}");
        assert!(home.contains(role.title()), "{role}");
    }
}

async fn admin_and_committee_reach_their_pages(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.as_role(Role::Admin).await;
    assert_eq!(admin.get("/admin/users").await.status(), 200);
    assert_eq!(admin.get("/bank").await.status(), 200);
    let committee = app.as_role(Role::Committee).await;
    assert_eq!(committee.get("/bank").await.status(), 200);
    assert_eq!(committee.get("/admin/users").await.status(), 403);
}

async fn a_form_post_without_the_token_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.as_role(Role::Admin).await;
    let fields = [
        ("username", "newrater"),
        ("display_name", "New Rater"),
        ("role", "rater"),
        ("organisation", ""),
        ("password", "long enough password"),
    ];
    // No token at all.
    let res = admin
        .client
        .post(admin.url("/admin/users"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("Nothing was changed"));
    // A token, but not this browser's.
    let mut forged = fields.to_vec();
    forged.push((
        "csrf",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ));
    let res = admin
        .client
        .post(admin.url("/admin/users"))
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(users::user_by_username(&app.db, "newrater")
        .await
        .unwrap()
        .is_none());
    // The same form with the page's token goes through.
    let res = admin
        .post_form("/admin/users", "/admin/users", &fields)
        .await;
    assert_eq!(res.status(), 201);
    let made = users::user_by_username(&app.db, "newrater")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(made.role, Role::Rater);
}

async fn the_login_form_itself_needs_the_token(engine: Engine) {
    let app = spawn_app(engine).await;
    app.add_staff("ada", Role::Admin, "").await;
    let b = app.browser();
    b.get("/login").await;
    let res = b
        .client
        .post(b.url("/login"))
        .form(&[("username", "ada"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(b.get("/").await.headers()["location"], "/login");
}

async fn login_failures_say_what_and_keep_the_username(engine: Engine) {
    let app = spawn_app(engine).await;
    app.add_staff("ada", Role::Admin, "").await;
    let b = app.browser();
    let res = b.login("ada", "wrong password").await;
    assert_eq!(res.status(), 401);
    let html = res.text().await.unwrap();
    assert!(html.contains("The username or password is not right"));
    assert!(html.contains("value=\"ada\""));
    let res = b.login("nobody", PASSWORD).await;
    assert_eq!(res.status(), 401);
}

async fn login_returns_to_the_page_asked_for_and_logout_ends_the_session(engine: Engine) {
    let app = spawn_app(engine).await;
    app.add_staff("ada", Role::Admin, "").await;
    let b = app.browser();
    let res = b
        .post_form(
            "/login?next=/admin/users",
            "/login",
            &[
                ("username", "ada"),
                ("password", PASSWORD),
                ("next", "/admin/users"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/users");
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("imh_session="))
        .unwrap();
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    // An offsite `next` is ignored.
    let other = app.browser();
    let res = other
        .post_form(
            "/login",
            "/login",
            &[
                ("username", "ada"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(res.headers()["location"], "/");

    assert_eq!(b.get("/admin/users").await.status(), 200);
    let res = b.post_form("/", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(b.get("/admin/users").await.status(), 303);
    // The other browser's session is untouched by this logout.
    assert_eq!(other.get("/admin/users").await.status(), 200);
}

async fn an_unknown_access_code_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let b = app.browser();
    let res = b
        .post_form("/enter", "/enter", &[("code", "AAAA-BBBB-CCCC")])
        .await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("not valid"));
    let res = b.post_form("/enter", "/enter", &[("code", "  ")]).await;
    assert_eq!(res.status(), 422);
    // A visitor without a code is not a candidate.
    assert_eq!(b.get("/candidate").await.headers()["location"], "/enter");
}

async fn user_form_errors_name_the_field(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.as_role(Role::Admin).await;
    let res = admin
        .post_form(
            "/admin/users",
            "/admin/users",
            &[
                ("username", "x"),
                ("display_name", ""),
                ("role", "root"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    for (id, msg) in [
        ("username-error", "a username has 3 to 64 characters"),
        ("display_name-error", "Give the person's full name."),
        ("role-error", "unknown role"),
        ("password-error", "a password has at least 10 characters"),
    ] {
        let at = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id} in {html}"));
        assert!(html[at..].contains(msg), "{id}: {msg}");
    }
    let _ = csrf_of(&html);
}

/// Five wrong passwords for one account from one client and that client waits for that
/// account (the right password is refused too, so guessing gains nothing); the owner, on
/// another connection, is not held up, the same client may still sign in to other accounts,
/// and a success clears the count.
async fn too_many_failed_logins_make_only_that_client_wait(engine: Engine) {
    let app = spawn_app(engine).await;
    app.add_staff("ada", Role::Admin, "Org").await;
    app.add_staff("bea", Role::Admin, "Org").await;
    let guesser = || app.browser_from("127.0.0.2");
    // Four failures, then a success: the count starts again.
    let b = guesser();
    for _ in 0..4 {
        assert_eq!(b.login("ada", "wrong password").await.status(), 401);
    }
    assert_eq!(guesser().login("Ada", PASSWORD).await.status(), 303);
    for _ in 0..5 {
        assert_eq!(b.login("ada", "wrong password").await.status(), 401);
    }
    let res = guesser().login(" ADA ", PASSWORD).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((14 * 60..=15 * 60).contains(&wait), "Retry-After {wait}");
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Too many failed sign-ins from your connection. Wait 15 minutes"),
        "{html}"
    );
    assert!(
        html.contains("value=\"ADA\""),
        "the username is kept: {html}"
    );
    assert_eq!(app.browser().login("ada", PASSWORD).await.status(), 303);
    assert_eq!(guesser().login("bea", PASSWORD).await.status(), 303);
}

/// An error page is inside the visitor's own frame (their navigation and sign-out) and offers a
/// way back: to the page they came from when the browser says (same origin only), else home.
async fn error_pages_keep_the_frame_and_a_way_back(engine: Engine) {
    let app = spawn_app(engine).await;
    let rater = app.as_role(Role::Rater).await;
    let from_queue = rater
        .client
        .get(rater.url("/no/such/page"))
        .header("referer", rater.url("/rate"))
        .send()
        .await
        .unwrap();
    assert_eq!(from_queue.status(), 404);
    let html = from_queue.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        html.contains(r#"<nav aria-label="Main">"#),
        "the rater's navigation: {html}"
    );
    assert!(html.contains(r#"href="/rate">Scoring queue"#), "{html}");
    assert!(html.contains("Sign out"), "{html}");
    assert!(
        html.contains(r#"href="/rate">Go back to the page you came from"#),
        "{html}"
    );

    // Another site's address is never offered; home instead.
    let elsewhere = rater
        .client
        .get(rater.url("/no/such/page"))
        .header("referer", "http://elsewhere.example/rate")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        elsewhere.contains(r#"href="/">Go to your home page"#),
        "{elsewhere}"
    );

    // A refused action (the wrong role) is framed the same way.
    let refused = rater.get_text("/admin/users").await;
    assert!(
        refused.contains("This page is for administrator"),
        "{refused}"
    );
    assert!(refused.contains("Sign out"), "{refused}");

    // Nobody signed in: the plain frame, and the start page.
    let anonymous = app.browser().get("/no/such/page").await;
    assert_eq!(
        anonymous.headers()["referrer-policy"],
        "same-origin",
        "the way back needs the same-origin Referer, and no other site gets one"
    );
    let anonymous = anonymous.text().await.unwrap();
    assert!(!anonymous.contains("Sign out"), "{anonymous}");
    assert!(
        anonymous.contains(r#"href="/">Go to the start page"#),
        "{anonymous}"
    );
}

/// A new staff account starts with no role chosen, and the form says so if none is.
async fn a_new_staff_account_has_no_role_until_chosen(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.as_role(Role::Admin).await;
    let form = admin.get_text("/admin/users").await;
    assert!(
        form.contains(r#"<option value="" selected>Choose a role</option>"#),
        "{form}"
    );
    assert!(!form.contains(r#"value="admin" selected"#), "{form}");
    let res = admin
        .post_form(
            "/admin/users",
            "/admin/users",
            &[
                ("username", "newperson"),
                ("display_name", "New Person"),
                ("role", ""),
                ("organisation", ""),
                ("password", "long enough password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Role: choose what this person will do"),
        "{html}"
    );
    assert!(users::user_by_username(&app.db, "newperson")
        .await
        .unwrap()
        .is_none());
}

on_both_engines!(
    error_pages_keep_the_frame_and_a_way_back,
    a_new_staff_account_has_no_role_until_chosen,
    too_many_failed_logins_make_only_that_client_wait,
    health_and_security_headers,
    a_staff_page_refuses_an_anonymous_visitor,
    a_staff_page_refuses_the_wrong_role,
    each_role_gets_its_own_home_page,
    admin_and_committee_reach_their_pages,
    a_form_post_without_the_token_is_refused,
    the_login_form_itself_needs_the_token,
    login_failures_say_what_and_keep_the_username,
    login_returns_to_the_page_asked_for_and_logout_ends_the_session,
    an_unknown_access_code_is_refused,
    user_form_errors_name_the_field,
);
