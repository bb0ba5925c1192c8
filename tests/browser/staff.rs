//! The pages every staff member passes through: signing in, the home page, staff accounts,
//! the item bank, and an error page (inside the normal frame, with a way back); each role's
//! home page; and the candidate's way in (the access-code page, and a wrong code).

use super::*;

async fn staff_pages(c: Client, base: String, db: Db) -> Vec<String> {
    let mut found = Vec::new();
    add_user(
        &db,
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
    go(&c, &base, "/login").await;
    found.extend(look(&c, "/login (sign in)").await);
    // A wrong password: the error is shown and the form keeps the username.
    css(&c, "#username").await.send_keys("ada").await.unwrap();
    css(&c, "#password")
        .await
        .send_keys("not it")
        .await
        .unwrap();
    submit(&c).await;
    wait_for_path(&c, "/login").await;
    found.extend(look(&c, "/login (a wrong password)").await);
    css(&c, "#password")
        .await
        .send_keys("a long admin password")
        .await
        .unwrap();
    submit(&c).await;
    wait_for_path(&c, "/").await;
    found.extend(look(&c, "/ (administrator's home)").await);
    go(&c, &base, "/admin/users").await;
    found.extend(look(&c, "/admin/users (staff accounts)").await);
    // Sending the form without a role: the errors are next to their fields.
    button(&c, "Add account").await.click().await.unwrap();
    let wait = Wait::new("the role's error");
    let role_error = loop {
        match c.find(Locator::Css("#role-error")).await {
            Ok(el) => break el.text().await.unwrap(),
            Err(e) => wait.tick(e).await,
        }
    };
    assert!(role_error.contains("Role: choose"), "{role_error}");
    found.extend(look(&c, "/admin/users (a form with errors)").await);
    go(&c, &base, "/bank").await;
    found.extend(look(&c, "/bank (item bank)").await);
    // An error page reached from the bank: the frame stays, and the way back is the bank.
    c.execute("location.href = '/no/such/page'", vec![])
        .await
        .unwrap();
    wait_for_path(&c, "/no/such/page").await;
    let back = css(&c, "main a.button").await;
    assert_eq!(back.attr("href").await.unwrap().as_deref(), Some("/bank"));
    css(&c, "header.top nav").await;
    found.extend(look(&c, "/no/such/page (an error page)").await);
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_pages_fit_every_screen_and_pass_axe() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    in_browser(|c, _| staff_pages(c, app.base.clone(), app.db.clone())).await;
}

async fn every_home_and_the_way_in(c: Client, base: String, db: Db) -> Vec<String> {
    let mut found = Vec::new();
    // The candidate's way in, and a code that is not one.
    go(&c, &base, "/enter").await;
    found.extend(look(&c, "/enter (access code)").await);
    css(&c, "#code")
        .await
        .send_keys("NOT-A-CODE")
        .await
        .unwrap();
    submit(&c).await;
    let wait = Wait::new("the access code's error");
    loop {
        match c.find(Locator::Css("main .error, main .field-error")).await {
            Ok(_) => break,
            Err(e) => wait.tick(e).await,
        }
    }
    found.extend(look(&c, "/enter (a wrong code)").await);
    // Each role's home page, with something to show.
    open_sitting(&db, "Spring sitting").await;
    for (username, role, page) in [
        ("pia", Role::Proctor, "/ (proctor's home)"),
        ("rob", Role::Rater, "/ (rater's home)"),
        ("cam", Role::Committee, "/ (committee's home)"),
    ] {
        staff_signs_in(&c, &base, &db, username, role).await;
        found.extend(look(&c, page).await);
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_home_page_and_the_way_in_fit_and_pass_axe() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    in_browser(|c, _| every_home_and_the_way_in(c, app.base.clone(), app.db.clone())).await;
}
