//! Results are computed and stored only by the committee's explicit action (`POST
//! /scoring/N/results/compute`, or the release): a GET of the results page or CSV shows them as
//! stored and writes nothing.

use imh_exam::auth::Role;
use imh_exam::store::results::{self, PartLine, Pending};
use imh_exam::store::Db;

use crate::helpers::{count, spawn_app, Engine};
use crate::on_both_engines;
use crate::scoring::{rate_everything, sat_sitting};

/// (results rows, audit records, compute-results audit records)
async fn counts(db: &Db) -> (i64, i64, i64) {
    (
        count(db, "SELECT COUNT(*) FROM results").await,
        count(db, "SELECT COUNT(*) FROM audit_log").await,
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'compute-results'",
        )
        .await,
    )
}

async fn a_get_of_the_results_page_or_csv_writes_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = sat_sitting(&app.db).await;
    rate_everything(&app.db, f.sitting.id, 2).await;
    let committee = app.as_role(Role::Committee).await;
    let page = format!("/scoring/{}/results", f.sitting.id);
    let before = counts(&app.db).await;
    assert_eq!(before.0, 0, "nothing computed yet");
    for _ in 0..2 {
        let html = committee.get_text(&page).await;
        assert!(html.contains("Not computed yet"), "{html}");
        assert!(html.contains("ready, not computed yet"), "{html}");
        assert!(html.contains("Compute results"), "{html}");
        let csv = committee.get_text(&format!("{page}.csv")).await;
        assert_eq!(csv.matches("not computed").count(), 6, "{csv}");
    }
    assert_eq!(
        counts(&app.db).await,
        before,
        "a GET stored or audited something"
    );
}

async fn computing_stores_every_result_in_one_transaction_with_one_audit_record(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = sat_sitting(&app.db).await;
    rate_everything(&app.db, f.sitting.id, 2).await;
    let committee = app.as_role(Role::Committee).await;
    let page = format!("/scoring/{}/results", f.sitting.id);
    let before = counts(&app.db).await;
    let res = committee
        .post_form(&page, &format!("{page}/compute"), &[])
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let after = counts(&app.db).await;
    assert_eq!(
        after,
        (6, before.1 + 1, before.2 + 1),
        "three candidates x two parts stored, one audit record"
    );
    // One transaction: every row carries the one computation's instant, which the sitting keeps.
    assert_eq!(
        count(&app.db, "SELECT COUNT(DISTINCT computed_at) FROM results").await,
        1
    );
    let stored = results::stored(&app.db, f.sitting.id).await.unwrap();
    let (at, by) = stored.computed.clone().expect("computed");
    assert_eq!(
        count(&app.db, "SELECT MAX(computed_at) FROM results").await,
        at
    );
    assert!(by.starts_with("committee-"), "{by}");
    assert!(stored.changes.is_empty(), "{:?}", stored.changes);
    // What is stored is what the computation in memory gives.
    assert_eq!(
        stored.lines,
        results::compute(&app.db, f.sitting.id).await.unwrap()
    );
    let html = committee.get_text(&page).await;
    assert!(html.contains("Computed at "), "{html}");
    assert!(!html.contains("Not computed yet"), "{html}");
    assert!(!html.contains("Out of date"), "{html}");
    assert!(html.contains("60 of 60"), "{html}");
    // The audit record says what was done.
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'compute-results'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(
        detail.contains("6 result(s) stored for 3 candidate(s), 0 part(s) pending"),
        "{detail}"
    );
}

async fn stored_results_say_when_they_are_out_of_date(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = sat_sitting(&app.db).await;
    let committee = app.as_role(Role::Committee).await;
    let page = format!("/scoring/{}/results", f.sitting.id);
    // Computed before any reading: Part One stored, Part Two still being read.
    let res = committee
        .post_form(&page, &format!("{page}/compute"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(counts(&app.db).await.0, 3);
    let stored = results::stored(&app.db, f.sitting.id).await.unwrap();
    assert!(matches!(stored.lines[0].parts[0], PartLine::Scored(_)));
    assert_eq!(
        stored.lines[0].parts[1],
        PartLine::Pending(Pending::Unsettled(6))
    );
    let html = committee.get_text(&page).await;
    assert!(html.contains("Computed at "), "{html}");
    assert!(html.contains("still being read"), "{html}");
    assert!(!html.contains("Out of date"), "{html}");

    // The responses settle afterwards: the stored results are out of date until computed again.
    rate_everything(&app.db, f.sitting.id, 2).await;
    let html = committee.get_text(&page).await;
    assert!(
        html.contains("Out of date: since this computation, 18 response(s) settled."),
        "{html}"
    );
    assert!(html.contains("ready, not computed yet"), "{html}");
    assert_eq!(counts(&app.db).await.0, 3, "the GET stored nothing");
    let res = committee
        .post_form(&page, &format!("{page}/compute"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(counts(&app.db).await.0, 6);
    let html = committee.get_text(&page).await;
    assert!(!html.contains("Out of date"), "{html}");

    // Released results change only through a key change: computing again is refused.
    let res = committee
        .post_form(&page, &format!("/scoring/{}/release", f.sitting.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    let before = counts(&app.db).await;
    let res = committee
        .post_form(&page, &format!("{page}/compute"), &[])
        .await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text().await.unwrap().contains("released already"),
        "says why"
    );
    assert_eq!(
        results::store(&app.db, f.sitting.id, "committee")
            .await
            .unwrap(),
        Err(results::ReleaseBlocked::AlreadyReleased)
    );
    assert_eq!(counts(&app.db).await, before);
}

on_both_engines!(
    a_get_of_the_results_page_or_csv_writes_nothing,
    computing_stores_every_result_in_one_transaction_with_one_audit_record,
    stored_results_say_when_they_are_out_of_date,
);
