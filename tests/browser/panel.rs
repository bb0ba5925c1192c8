//! A standard-setting panelist rates by keyboard alone (issue 14), and every study page, the
//! panel's and the committee's, is looked at.

use super::*;

use imh_exam::store::studies::{self, Method, NewStudy, Source};

/// How many items the panelist rates in the flow.
const RATED: u32 = 20;

/// A two-round Part One Angoff study of the Level III pool, with its minimally competent
/// candidate written and round 1 not yet open.
async fn a_study(db: &Db) -> i64 {
    let id = studies::create(
        db,
        &NewStudy {
            name: "Level III cut, keyboard panel",
            blueprint_id: "level-iii",
            part: 1,
            method: Method::Angoff,
            sitting_id: None,
            source: Source::Pool,
            rounds_planned: 2,
        },
        "chair",
    )
    .await
    .unwrap();
    studies::set_mcc(
        db,
        id,
        "A specialist in their first year of independent practice: knows the core of \
         relationship-based work, asks before advising, and keeps the baby in mind.",
        "chair",
    )
    .await
    .unwrap();
    id
}

/// The value the flow gives item `k`: from the first choice (0) `k % 7 + 1` steps of 0.05 up,
/// so every item's rating is different from its neighbour's.
fn steps_for(k: u32) -> u32 {
    k % 7 + 1
}

/// What the page's focus is on, when the page is loaded: the element's name and value.
const FOCUSED: &str = r#"
if (document.readyState !== 'complete') return null;
const el = document.activeElement;
return el && el.name ? { name: el.name, value: el.value, checked: !!el.checked } : null;
"#;

async fn focused(c: &Client) -> Value {
    let wait = Wait::new("the focus on the rating");
    loop {
        let got = c.execute(FOCUSED, vec![]).await.unwrap_or(Value::Null);
        if got["name"] == "rating" {
            return got;
        }
        wait.tick(&got).await;
    }
}

/// The panelist signs in, finds the study, and rates items 1..=RATED with arrow keys and Enter
/// only; then, after the facilitator closes round 1 and opens round 2, sees the panel's feedback
/// on an item and gives the Hofstee bounds. Every page is looked at.
async fn rate_by_keyboard(c: Client, base: String, db: Db, id: i64) -> Vec<String> {
    let mut problems = Vec::new();
    staff_signs_in(&c, &base, &db, "pia", Role::Panelist).await;
    studies::add_panelist(&db, id, "pia", "chair")
        .await
        .unwrap();
    studies::open_round(&db, id, "chair").await.unwrap();
    problems.extend(look(&c, "/ (panelist: home)").await);
    go(&c, &base, "/panel").await;
    problems.extend(look(&c, "/panel (panelist: studies)").await);
    go(&c, &base, &format!("/panel/{id}")).await;
    problems.extend(look(&c, "/panel/{id} (panelist: a study, round 1 open)").await);
    // From the study's page to the first item by keyboard.
    tab_to(
        &c,
        &format!("el.tagName === 'A' && el.getAttribute('href') === '/panel/{id}/items/1'"),
        "the first item's link",
    )
    .await;
    keys(&c, &Key::Enter).await;
    for k in 1..=RATED {
        wait_for_path(&c, &format!("/panel/{id}/items/{k}")).await;
        // The rating has focus as the page opens: no Tab is needed.
        let f = focused(&c).await;
        assert_eq!(f["name"], "rating", "item {k}: focus on the rating: {f}");
        if k == 1 {
            problems.extend(look(&c, "/panel/{id}/items/{k} (panelist: an item)").await);
            // `look` may move the focus (screenshots, resizing): put it back by keyboard.
            go(&c, &base, &format!("/panel/{id}/items/1")).await;
            focused(&c).await;
        }
        for _ in 0..steps_for(k) {
            keys(&c, &Key::Right).await;
        }
        keys(&c, &Key::Enter).await;
    }
    // After the 20th item the next one opens; what was stored is what the keys chose.
    wait_for_path(&c, &format!("/panel/{id}/items/{}", RATED + 1)).await;
    let mine = studies::my_ratings(&db, id, 1, "pia").await.unwrap();
    assert_eq!(mine.len(), RATED as usize, "{mine:?}");
    for k in 1..=RATED {
        let got = mine.get(&k).unwrap_or_else(|| panic!("item {k} rated"));
        let want = f64::from(steps_for(k)) * 0.05;
        assert!(
            (got.value - want).abs() < 1e-9 && !got.carried,
            "item {k}: stored {got:?}, keys chose {want}"
        );
    }
    // Back to item 2: its saved choice is checked and has the focus.
    go(&c, &base, &format!("/panel/{id}/items/2")).await;
    let f = focused(&c).await;
    assert_eq!(
        (f["value"].as_str(), f["checked"].as_bool()),
        (
            Some(format!("{:.2}", f64::from(steps_for(2)) * 0.05).as_str()),
            Some(true)
        ),
        "the checked choice has the focus: {f}"
    );
    // Round 1 closes; round 2 opens with the panel's round-1 spread on each item.
    studies::close_round(&db, id, "chair").await.unwrap();
    go(&c, &base, &format!("/panel/{id}")).await;
    problems.extend(look(&c, "/panel/{id} (panelist: round 1 closed)").await);
    studies::open_round(&db, id, "chair").await.unwrap();
    go(&c, &base, &format!("/panel/{id}/items/1")).await;
    focused(&c).await;
    problems.extend(look(&c, "/panel/{id}/items/1 (panelist: round 2, feedback)").await);
    go(&c, &base, &format!("/panel/{id}/hofstee")).await;
    problems.extend(look(&c, "/panel/{id}/hofstee (panelist: Hofstee)").await);
    // A missing field is named; then the four bounds by keyboard.
    submit(&c).await;
    wait_for_path(&c, &format!("/panel/{id}/hofstee")).await;
    appears(&c, "#cut_min-error").await;
    let first = c
        .execute("return document.activeElement?.id || ''", vec![])
        .await
        .unwrap();
    assert_eq!(first, "cut_min", "the first field in error has the focus");
    problems.extend(look(&c, "/panel/{id}/hofstee (panelist: Hofstee, errors)").await);
    for (field, value) in [
        ("cut_min", "65"),
        ("cut_max", "80"),
        ("fail_min", "10"),
        ("fail_max", "35"),
    ] {
        tab_to(&c, &format!("el.name === '{field}'"), field).await;
        c.execute("document.activeElement.value = ''; return null;", vec![])
            .await
            .unwrap();
        keys(&c, value).await;
    }
    keys(&c, &Key::Enter).await;
    let wait = Wait::new("the Hofstee bounds stored");
    loop {
        let mine = studies::my_hofstee(&db, id, 2, "pia").await.unwrap();
        if let Some(h) = mine {
            assert_eq!(
                (h.cut_min, h.cut_max, h.fail_min, h.fail_max),
                (65.0, 80.0, 10.0, 35.0)
            );
            break;
        }
        wait.tick("no bounds yet").await;
    }
    problems.extend(committee_looks(&c, &base, &db, id).await);
    problems
}

/// Two more panelists rate every item in both rounds (the first panelist's missing ratings are
/// filled in too), the rounds close, and the committee looks at the study's pages and adopts
/// its cut with a reason.
async fn committee_looks(c: &Client, base: &str, db: &Db, id: i64) -> Vec<String> {
    let mut problems = Vec::new();
    let n = studies::items(db, id).await.unwrap().len() as u32;
    for (i, who) in ["quinn", "rafa"].iter().enumerate() {
        add_user(
            db,
            NewUser {
                username: &Username::parse(who).unwrap(),
                display_name: who,
                role: Role::Panelist,
                organisation: "",
                password: &format!("a long {who} password"),
                added_by: "test",
            },
        )
        .await
        .unwrap();
        studies::add_panelist(db, id, who, "chair").await.unwrap();
        for k in 1..=n {
            let v = f64::from((k + i as u32 * 3) % 13 + 6) * 0.05;
            studies::rate(db, id, who, k, v).await.unwrap();
        }
    }
    for k in RATED + 1..=n {
        studies::rate(db, id, "pia", k, 0.6).await.unwrap();
    }
    studies::close_round(db, id, "chair").await.unwrap();
    staff_signs_in(c, base, db, "chair", Role::Committee).await;
    for (path, name) in [
        ("/studies".to_string(), "/studies (committee: studies)"),
        (
            format!("/studies/{id}"),
            "/studies/{id} (committee: facilitation, round 2 closed)",
        ),
        (
            format!("/studies/{id}/results"),
            "/studies/{id}/results (committee: results)",
        ),
    ] {
        go(c, base, &path).await;
        problems.extend(look(c, name).await);
    }
    // Adopting without a reason names the field; with one, the adoption's page opens.
    submit_form(c, "form[action$='/adopt']").await;
    appears(c, "#reason-error").await;
    problems.extend(
        look(
            c,
            "/studies/{id}/results (committee: adopt, missing reason)",
        )
        .await,
    );
    css(c, "#reason")
        .await
        .send_keys("The panel's two-round Angoff cut, adopted at the March meeting.")
        .await
        .unwrap();
    submit_form(c, "form[action$='/adopt']").await;
    let wait = Wait::new("the adopted pass mark's page");
    loop {
        let url = c.current_url().await.unwrap();
        if url.path().starts_with("/pass-marks/") {
            break;
        }
        wait.tick(url).await;
    }
    problems.extend(look(c, "/pass-marks/{change} (committee: an adopted pass mark)").await);
    problems
}

/// Waits until the page that is loading (a form's answer) holds `selector`: right after a
/// submit the old page, or a page still loading, may be there.
async fn appears(c: &Client, selector: &str) {
    let wait = Wait::new(selector);
    loop {
        let found = c
            .execute(
                "return document.readyState === 'complete' && !!document.querySelector(arguments[0])",
                vec![json!(selector)],
            )
            .await
            .unwrap_or(Value::Null);
        if found == true {
            return;
        }
        let url = c
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        wait.tick(url).await;
    }
}

/// Submits the form that `selector` finds, by its own submit button.
async fn submit_form(c: &Client, selector: &str) {
    css(
        c,
        &format!("{selector} button[type=submit], {selector} button:not([type])"),
    )
    .await
    .click()
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panelist_rates_twenty_items_by_keyboard_alone() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    let id = a_study(&app.db).await;
    in_browser(|c, _| rate_by_keyboard(c, app.base.clone(), app.db.clone(), id)).await;
}
