//! A panelist rates items by keyboard alone (issue 14): the checked radio (or the first) has
//! the focus when an item opens, arrow keys move the choice, Enter saves it and opens the next
//! item. The panel's pages pass axe and fit a phone.

use imh_exam::store::studies::{self, Method, NewStudy, Source};

use super::*;

/// The id of `document.activeElement`, or "" when it has none.
async fn focused(c: &Client) -> String {
    c.execute("return document.activeElement?.id || ''", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn rate_by_keyboard(c: Client, base: String, db: Db) -> Vec<String> {
    let mut blocking = Vec::new();
    let id = studies::create(
        &db,
        &NewStudy {
            name: "Spring standard",
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
        &db,
        id,
        "Knows the core; passes on an ordinary day.",
        "chair",
    )
    .await
    .unwrap();
    staff_signs_in(&c, &base, &db, "pia", Role::Panelist).await;
    blocking.extend(look(&c, "/ (panelist: home)").await);
    studies::add_panelist(&db, id, "pia", "chair")
        .await
        .unwrap();
    studies::open_round(&db, id, "chair").await.unwrap();
    go(&c, &base, &format!("/panel/{id}")).await;
    blocking.extend(look(&c, "/panel/{id} (panelist: the study)").await);
    tab_to(
        &c,
        "el.tagName === 'A' && el.textContent.includes('Rate item 1')",
        "the first item's link",
    )
    .await;
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, &format!("/panel/{id}/items/1")).await;
    blocking.extend(look(&c, "/panel/{id}/items/1 (panelist: an item)").await);
    // Nothing rated yet: the first choice has the focus.
    assert_eq!(focused(&c).await, "rating-0.00");
    for _ in 0..7 {
        keys(&c, &Key::Right).await;
    }
    assert_eq!(
        focused(&c).await,
        "rating-0.35",
        "arrow keys move the choice"
    );
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, &format!("/panel/{id}/items/2")).await;
    assert_eq!(
        focused(&c).await,
        "rating-0.00",
        "the next item opens at its choices"
    );
    for _ in 0..3 {
        keys(&c, &Key::Right).await;
    }
    keys(&c, &Key::Enter).await;
    wait_for_path(&c, &format!("/panel/{id}/items/3")).await;
    // Back to item 2: its saved choice is checked and has the focus.
    go(&c, &base, &format!("/panel/{id}/items/2")).await;
    assert_eq!(
        focused(&c).await,
        "rating-0.15",
        "the checked choice has the focus"
    );
    let mine = studies::my_ratings(&db, id, 1, "pia").await.unwrap();
    assert_eq!((mine[&1].value, mine[&2].value), (0.35, 0.15));
    // After the round closes, the item shows the panel's spread and the page still passes.
    studies::close_round(&db, id, "chair").await.unwrap();
    go(&c, &base, &format!("/panel/{id}/items/1")).await;
    css(&c, "section.feedback").await;
    blocking.extend(look(&c, "/panel/{id}/items/1 (panelist: round 1 feedback)").await);
    // The last round: the Hofstee form, and its errors.
    studies::open_round(&db, id, "chair").await.unwrap();
    go(&c, &base, &format!("/panel/{id}/hofstee")).await;
    blocking.extend(look(&c, "/panel/{id}/hofstee (panelist: Hofstee bounds)").await);
    css(&c, "#cut_min").await.send_keys("abc").await.unwrap();
    submit(&c).await;
    wait_for_path(&c, &format!("/panel/{id}/hofstee")).await;
    css(&c, "#cut_min-error").await;
    assert_eq!(
        focused(&c).await,
        "cut_min",
        "the first field in error has the focus"
    );
    blocking.extend(look(&c, "/panel/{id}/hofstee (panelist: Hofstee errors)").await);
    blocking
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panelist_rates_items_by_keyboard_alone() {
    let app = spawn_app().await;
    import_sample(&app.db).await;
    in_browser(|c, _| rate_by_keyboard(c, app.base.clone(), app.db.clone())).await;
}
