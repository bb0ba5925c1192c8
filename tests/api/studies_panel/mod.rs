//! Issue 14, the panel's side, on both engines: a panelist sees only the studies whose panel
//! they sit on; ratings are blind while a round is open and shown as a spread without names
//! after it closes; every rating of every round is kept; ratings are refused when no round is
//! open or off the scale, naming the field; every item view is logged; the Hofstee form names
//! each field in error. Studies are set up through the store (the committee's pages are
//! tested with them).

use imh_exam::auth::Role;
use imh_exam::store::studies::{self, Method, NewStudy, RateError, Source};
use imh_exam::store::{audit, Db};

use crate::helpers::exam::import_sample;
use crate::helpers::{count, csrf_of, spawn_app, Browser, Engine, TestApp};
use crate::on_both_engines;

mod store;

/// A Part One Angoff study of the Level III pool with `rounds` rounds and `panel` on it.
async fn study(db: &Db, name: &str, rounds: u32, panel: &[&str]) -> i64 {
    let id = studies::create(
        db,
        &NewStudy {
            name,
            blueprint_id: "level-iii",
            part: 1,
            method: Method::Angoff,
            sitting_id: None,
            source: Source::Pool,
            rounds_planned: rounds,
        },
        "chair",
    )
    .await
    .unwrap();
    studies::set_mcc(db, id, "Passes on a good day; knows the core.", "chair")
        .await
        .unwrap();
    for p in panel {
        studies::add_panelist(db, id, p, "chair").await.unwrap();
    }
    id
}

/// A server with the sample bank and panelists `p1`..`p3`, each signed in.
async fn panel_app(engine: Engine) -> (TestApp, Vec<Browser>) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let mut browsers = Vec::new();
    for p in ["pan-one", "pan-two", "pan-three"] {
        app.add_staff(p, Role::Panelist, "Elsewhere").await;
        browsers.push(app.signed_in(p).await);
    }
    (app, browsers)
}

/// Posts a rating of item `pos` of study `id`, with the token of the study's page (so no item
/// view is logged by fetching it).
async fn post_rating(b: &Browser, id: i64, pos: u32, rating: Option<&str>) -> reqwest::Response {
    let action = format!("/panel/{id}/items/{pos}");
    let fields: Vec<(&str, &str)> = rating.map(|r| vec![("rating", r)]).unwrap_or_default();
    b.post_form("/panel", &action, &fields).await
}

async fn a_panelist_sees_only_their_own_studies(engine: Engine) {
    let (app, b) = panel_app(engine).await;
    let db = &app.db;
    let mine = study(db, "Ours: spring standard", 2, &["pan-one"]).await;
    let theirs = study(db, "Theirs: autumn standard", 2, &["pan-two"]).await;
    studies::open_round(db, theirs, "chair").await.unwrap();
    let p1 = &b[0];
    for home in ["/", "/panel"] {
        let page = p1.get_text(home).await;
        assert!(page.contains("Ours: spring standard"), "{home}: {page}");
        assert!(!page.contains("Theirs"), "{home} lists another's study");
        assert!(page.contains(&format!("href=\"/panel/{mine}\"")), "{page}");
    }
    // Another study's pages, and its POST, are as if it did not exist.
    for path in [
        format!("/panel/{theirs}"),
        format!("/panel/{theirs}/items/1"),
        format!("/panel/{theirs}/hofstee"),
        "/panel/999999".to_string(),
        format!("/panel/{mine}/items/999999"),
        format!("/panel/{mine}/items/one"),
    ] {
        assert_eq!(p1.get(&path).await.status(), 404, "{path}");
    }
    assert_eq!(post_rating(p1, theirs, 1, Some("0.50")).await.status(), 404);
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM study_ratings").await,
        0,
        "nothing stored for a study not theirs"
    );
    // Every page of the other roles answers 403.
    for path in [
        "/scoring",
        "/sittings",
        "/admin/users",
        "/bank",
        "/keys",
        "/rate",
    ] {
        assert_eq!(p1.get(path).await.status(), 403, "{path}");
    }
    // A committee member on a panel sees it too; a proctor may not open panel pages at all.
    app.add_staff("chair-two", Role::Committee, "Board").await;
    studies::add_panelist(db, mine, "chair-two", "chair")
        .await
        .unwrap();
    let c = app.signed_in("chair-two").await;
    assert_eq!(c.get(&format!("/panel/{mine}")).await.status(), 200);
    assert_eq!(c.get(&format!("/panel/{theirs}")).await.status(), 404);
    let proctor = app.as_role(Role::Proctor).await;
    assert_eq!(proctor.get(&format!("/panel/{mine}")).await.status(), 403);
    // Only panelists and committee members sit on a panel.
    app.add_staff("just-a-rater", Role::Rater, "X").await;
    let err = studies::add_panelist(db, mine, "just-a-rater", "chair")
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("Username: "), "{err}");
    // The panel changes are audited.
    let log = audit::recent(db, 50).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "study.create",
        "study.panel_add",
        "study.mcc",
        "study.round_open",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
}

async fn ratings_are_blind_while_a_round_is_open(engine: Engine) {
    let (app, b) = panel_app(engine).await;
    let db = &app.db;
    let id = study(db, "Blind study", 2, &["pan-one", "pan-two", "pan-three"]).await;
    studies::open_round(db, id, "chair").await.unwrap();
    assert_eq!(post_rating(&b[0], id, 1, Some("0.35")).await.status(), 303);
    assert_eq!(post_rating(&b[1], id, 1, Some("0.85")).await.status(), 303);
    assert_eq!(post_rating(&b[2], id, 1, Some("0.60")).await.status(), 303);
    // While round 1 is open: each sees only their own value, and no feedback.
    let item = b[1].get_text(&format!("/panel/{id}/items/1")).await;
    assert!(item.contains("value=\"0.85\" checked"), "{item}");
    assert!(!item.contains("value=\"0.35\" checked"));
    assert!(!item.contains("the panel's ratings of this item"), "{item}");
    let page = b[1].get_text(&format!("/panel/{id}")).await;
    assert!(page.contains(">0.85<"), "{page}");
    assert!(!page.contains("0.35") && !page.contains("0.60"), "{page}");
    assert!(!page.contains("Panel median"), "{page}");
    let s = studies::study(db, id).await.unwrap().unwrap();
    assert!(matches!(
        studies::round_ratings(db, &s, 1).await,
        Err(studies::MatrixError::Blind(1))
    ));
    // Progress gives counts only.
    let progress = studies::progress(db, &s).await.unwrap();
    assert_eq!(
        progress.iter().map(|p| p.rated).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    // Closed: the spread of round 1 shows, without names.
    studies::close_round(db, id, "chair").await.unwrap();
    let item = b[0].get_text(&format!("/panel/{id}/items/1")).await;
    assert!(
        item.contains("Round 1: the panel's ratings of this item"),
        "{item}"
    );
    let spread = crate::helpers::between(&item, "<dl class=\"summary spread\">", "</dl>");
    assert!(spread.contains("<dt>Panelists</dt><dd>3</dd>"), "{spread}");
    assert!(spread.contains("<dt>Lowest</dt><dd>0.35</dd>"), "{spread}");
    assert!(spread.contains("<dt>Median</dt><dd>0.60</dd>"), "{spread}");
    assert!(spread.contains("<dt>Highest</dt><dd>0.85</dd>"), "{spread}");
    assert!(spread.contains("<dt>Mean</dt><dd>0.60</dd>"), "{spread}");
    for other in ["pan-two", "pan-three"] {
        assert!(!item.contains(other), "{other} named on pan-one's page");
    }
    let page = b[0].get_text(&format!("/panel/{id}")).await;
    assert!(page.contains("Panel median"), "{page}");
    let m = studies::round_ratings(db, &s, 1).await.unwrap();
    // By username: pan-one, pan-three, pan-two.
    assert_eq!(m.item_values(0), [0.35, 0.60, 0.85]);
}

async fn every_rating_of_every_round_is_kept(engine: Engine) {
    let (app, b) = panel_app(engine).await;
    let db = &app.db;
    let id = study(db, "Two rounds", 2, &["pan-one"]).await;
    studies::open_round(db, id, "chair").await.unwrap();
    for v in ["0.50", "0.60", "0.70"] {
        let res = post_rating(&b[0], id, 1, Some(v)).await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers()["location"].to_str().unwrap(),
            format!("/panel/{id}/items/2"),
            "Save and next opens the next item"
        );
    }
    // The next item, not yet rated: the first choice has the focus; once rated, its choice.
    let next = b[0].get_text(&format!("/panel/{id}/items/2")).await;
    assert!(
        next.contains("id=\"rating-0.00\" value=\"0.00\" autofocus"),
        "{next}"
    );
    assert_eq!(post_rating(&b[0], id, 2, Some("0.45")).await.status(), 303);
    let again = b[0].get_text(&format!("/panel/{id}/items/2")).await;
    assert!(
        again.contains("id=\"rating-0.45\" value=\"0.45\" checked autofocus"),
        "{again}"
    );
    assert_eq!(again.matches("autofocus").count(), 1);
    studies::close_round(db, id, "chair").await.unwrap();
    studies::open_round(db, id, "chair").await.unwrap();
    // Round 2 starts from my round 1 rating, marked as such.
    let item = b[0].get_text(&format!("/panel/{id}/items/1")).await;
    assert!(item.contains("value=\"0.70\" checked"), "{item}");
    assert!(item.contains("Your round 1 rating is chosen"), "{item}");
    assert_eq!(post_rating(&b[0], id, 1, Some("0.55")).await.status(), 303);
    let rows = studies::rating_history(db, id, "pan-one").await.unwrap();
    let kept: Vec<(i64, i64, f64)> = rows
        .iter()
        .map(|r| (r.round, r.position, r.value))
        .collect();
    assert_eq!(
        kept,
        [
            (1, 1, 0.5),
            (1, 1, 0.6),
            (1, 1, 0.7),
            (1, 2, 0.45),
            (2, 1, 0.55)
        ]
    );
    let r1 = studies::my_ratings(db, id, 1, "pan-one").await.unwrap();
    assert_eq!(r1[&1].value, 0.7);
    let r2 = studies::my_ratings(db, id, 2, "pan-one").await.unwrap();
    assert_eq!((r2[&1].value, r2[&1].carried), (0.55, false));
    assert_eq!((r2[&2].value, r2[&2].carried), (0.45, true));
    // Nothing is ever updated or deleted.
    assert_eq!(count(db, "SELECT COUNT(*) FROM study_ratings").await, 5);
}

async fn ratings_are_refused_when_closed_or_off_the_scale(engine: Engine) {
    let (app, b) = panel_app(engine).await;
    let db = &app.db;
    let id = study(db, "Refusals", 2, &["pan-one"]).await;
    // Not started.
    let res = post_rating(&b[0], id, 1, Some("0.50")).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"rating-error\""), "{page}");
    assert!(page.contains("Rating: no round is open"), "{page}");
    studies::open_round(db, id, "chair").await.unwrap();
    for (sent, says) in [
        (
            Some("0.33"),
            "Rating: &quot;0.33&quot; is not on this item's scale",
        ),
        (
            Some("1.05"),
            "Rating: &quot;1.05&quot; is not on this item's scale",
        ),
        (
            Some("lots"),
            "Rating: &quot;lots&quot; is not on this item's scale",
        ),
        (None, "Rating: choose one of the values."),
    ] {
        let res = post_rating(&b[0], id, 1, sent).await;
        assert_eq!(res.status(), 422, "{sent:?}");
        let page = res.text().await.unwrap();
        let form =
            crate::helpers::between(&page, "<form method=\"post\" action=\"/panel/", "</form>");
        assert!(form.contains(says), "{sent:?}: {form}");
        assert!(form.contains("aria-invalid=\"true\""), "{form}");
    }
    // The store refuses the same, and an unknown item or someone off the panel.
    assert!(matches!(
        studies::rate(db, id, "pan-one", 1, 0.33).await,
        Err(RateError::OffScale { .. })
    ));
    assert!(matches!(
        studies::rate(db, id, "pan-one", 99_999, 0.5).await,
        Err(RateError::UnknownPosition(99_999))
    ));
    assert!(matches!(
        studies::rate(db, id, "pan-two", 1, 0.5).await,
        Err(RateError::NotOnPanel)
    ));
    studies::close_round(db, id, "chair").await.unwrap();
    let res = post_rating(&b[0], id, 1, Some("0.50")).await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Rating: no round is open"));
    assert!(matches!(
        studies::rate(db, id, "pan-one", 1, 0.5).await,
        Err(RateError::RoundClosed)
    ));
    assert_eq!(count(db, "SELECT COUNT(*) FROM study_ratings").await, 0);
}

async fn every_item_view_is_logged_and_never_stored(engine: Engine) {
    let (app, b) = panel_app(engine).await;
    let db = &app.db;
    let id = study(db, "Views", 2, &["pan-one"]).await;
    studies::open_round(db, id, "chair").await.unwrap();
    for pos in [1, 1, 2] {
        let res = b[0].get(&format!("/panel/{id}/items/{pos}")).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let page = res.text().await.unwrap();
        // The item with its key and rationale, not selectable.
        assert!(page.contains("<section class=\"panel-item\""), "{page}");
        assert!(
            page.contains(">Key<") && page.contains("Rationale"),
            "{page}"
        );
    }
    let css = b[0].get_text("/assets/app.css").await;
    assert!(css.contains(".panel-item { -webkit-user-select: none; user-select: none;"));
    let views = studies::views_of(db, id, "pan-one").await.unwrap();
    assert_eq!(
        views
            .iter()
            .map(|v| (v.round, v.position))
            .collect::<Vec<_>>(),
        [(1, 1), (1, 1), (1, 2)]
    );
    // No export of items.
    for path in [format!("/panel/{id}/items.csv"), format!("/panel/{id}.csv")] {
        assert_eq!(b[0].get(&path).await.status(), 404, "{path}");
    }
}

async fn the_hofstee_form_names_each_field_in_error(engine: Engine) {
    let (app, b) = panel_app(engine).await;
    let db = &app.db;
    let two = study(db, "Two rounds", 2, &["pan-one"]).await;
    studies::open_round(db, two, "chair").await.unwrap();
    // Round 1 of 2 is not the final round.
    let res = b[0]
        .post_form(
            "/panel",
            &format!("/panel/{two}/hofstee"),
            &[
                ("cut_min", "60"),
                ("cut_max", "75"),
                ("fail_min", "5"),
                ("fail_max", "30"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("only while the final round is open"));
    let one = study(db, "One round", 1, &["pan-one"]).await;
    studies::open_round(db, one, "chair").await.unwrap();
    let page = b[0].get_text(&format!("/panel/{one}")).await;
    assert!(
        page.contains(&format!("href=\"/panel/{one}/hofstee\"")),
        "{page}"
    );
    let action = format!("/panel/{one}/hofstee");
    let res = b[0]
        .post_form(
            &action,
            &action,
            &[
                ("cut_min", ""),
                ("cut_max", "abc"),
                ("fail_min", "101"),
                ("fail_max", "-1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    for (field, says) in [
        (
            "cut_min",
            "Lowest acceptable cut: give a percent from 0 to 100.",
        ),
        (
            "cut_max",
            "Highest acceptable cut: &quot;abc&quot; is not a percent",
        ),
        (
            "fail_min",
            "Lowest acceptable failure rate: &quot;101&quot; is not a percent",
        ),
        (
            "fail_max",
            "Highest acceptable failure rate: &quot;-1&quot; is not a percent",
        ),
    ] {
        let err = crate::helpers::between(&page, &format!("id=\"{field}-error\""), "</p>");
        assert!(err.contains(says), "{field}: {err}");
        assert!(
            page.contains(&format!("aria-describedby=\"{field}-hint {field}-error\"")),
            "{field} not tied to its error"
        );
    }
    // Reversed bounds are named by the field to fix.
    let res = b[0]
        .post_form(
            &action,
            &action,
            &[
                ("cut_min", "75"),
                ("cut_max", "60"),
                ("fail_min", "5"),
                ("fail_max", "30"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"cut_max-error\""), "{page}");
    assert!(page.contains("must be above the lowest acceptable cut"));
    assert_eq!(count(db, "SELECT COUNT(*) FROM study_hofstee").await, 0);
    let res = b[0]
        .post_form(
            &action,
            &action,
            &[
                ("cut_min", "60"),
                ("cut_max", "75%"),
                ("fail_min", "5"),
                ("fail_max", "30"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mine = studies::hofstee_of(db, one, 1).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].0, "pan-one");
    let h = mine[0].1;
    assert_eq!(
        (h.cut_min, h.cut_max, h.fail_min, h.fail_max),
        (60.0, 75.0, 5.0, 30.0)
    );
    // The form comes back prefilled.
    let form = b[0].get_text(&action).await;
    assert!(form.contains("name=\"cut_max\" value=\"75\""), "{form}");
}

async fn an_administrator_creates_panelist_accounts(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.as_role(Role::Admin).await;
    let page = admin.get_text("/admin/users").await;
    assert!(page.contains("<option value=\"panelist\""), "{page}");
    let token = csrf_of(&page);
    let res = admin
        .client
        .post(admin.url("/admin/users"))
        .form(&[
            ("username", "expert-one"),
            ("display_name", "Dr Expert"),
            ("role", "panelist"),
            ("organisation", "Clinic"),
            ("password", crate::helpers::PASSWORD),
            ("csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let u = imh_exam::store::users::user_by_username(&app.db, "expert-one")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.role, Role::Panelist);
    let p = app.signed_in("expert-one").await;
    let home = p.get_text("/").await;
    assert!(
        home.contains("You are not on any study's panel yet."),
        "{home}"
    );
    assert!(home.contains("href=\"/panel\""), "{home}");
}

on_both_engines!(
    a_panelist_sees_only_their_own_studies,
    ratings_are_blind_while_a_round_is_open,
    every_rating_of_every_round_is_kept,
    ratings_are_refused_when_closed_or_off_the_scale,
    every_item_view_is_logged_and_never_stored,
    the_hofstee_form_names_each_field_in_error,
    an_administrator_creates_panelist_accounts,
);
