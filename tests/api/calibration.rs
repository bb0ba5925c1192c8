//! The committee's Rasch calibration of a sitting: stored per item version, linked onto the
//! earlier sittings' scale with drift flagged, audited, shown and downloadable; on both engines.

use imh_exam::auth::Role;
use imh_exam::store::{audit, calibration};

use crate::helpers::exam::import_sample;
use crate::helpers::{demo_raters, spawn_app_on, test_db, Engine};
use crate::on_both_engines;

fn column(csv: &str, name: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').nth(at).unwrap_or_default().to_string())
        .collect()
}

async fn a_sitting_is_calibrated_linked_and_audited(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    import_sample(db).await;
    let raters = demo_raters(db).await;
    let first = imh_exam::demo::completed_sitting_named(db, "Spring", 300, &raters)
        .await
        .unwrap();
    // The same simulated people cannot sit again within the waiting period: the autumn
    // sitting's candidates are other people.
    let mut tx = db.write().await.unwrap();
    sqlx::query("UPDATE registrations SET email = 'spring-' || email WHERE sitting_id = $1")
        .bind(first)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let second = imh_exam::demo::completed_sitting_named(db, "Autumn", 300, &raters)
        .await
        .unwrap();

    // Each completed sitting is calibrated as it is made (as the demo's is). The first had
    // nothing before it: on its own scale, difficulties summing to zero.
    let rows = calibration::of_sitting(db, first).await.unwrap();
    let sum: f64 = rows.iter().filter_map(|r| r.difficulty).sum();
    assert!(sum.abs() < 1e-6, "{sum}");
    // Harder items are answered right less often: difficulty against the log-odds of a wrong
    // answer correlates almost perfectly (the CML estimate is a function of it on one form).
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for r in rows.iter().filter(|r| r.difficulty.is_some()) {
        let p = r.correct as f64 / r.presented as f64;
        xs.push(r.difficulty.unwrap());
        ys.push(((1.0 - p) / p).ln());
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mx, my) = (mean(&xs), mean(&ys));
    let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    assert!(cov / (vx * vy).sqrt() > 0.9, "{}", cov / (vx * vy).sqrt());

    // The second, through the committee's page: linked onto the first's scale over the items
    // both had. The two sittings are drawn from one simulated population and one bank, so the
    // shift is small and few items drift.
    let app = spawn_app_on(t).await;
    let committee = app.as_role(Role::Committee).await;
    let page = committee.get_text(&format!("/stats/{second}/rasch")).await;
    assert!(page.contains("Calibrate again"), "{page}");
    let res = committee
        .post_form(
            &format!("/stats/{second}/rasch"),
            &format!("/stats/{second}/calibrate"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let page = committee.get_text(&format!("/stats/{second}/rasch")).await;
    assert!(page.contains("Calibrated at"), "{page}");
    let csv = committee
        .get_text(&format!("/stats/{second}/rasch?csv=1"))
        .await;
    let difficulty: Vec<f64> = column(&csv, "difficulty")
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let earlier: Vec<Option<f64>> = column(&csv, "earlier")
        .iter()
        .map(|v| v.parse().ok())
        .collect();
    assert!(difficulty.len() > 50, "{csv}");
    let linked = earlier.iter().filter(|e| e.is_some()).count();
    assert!(linked > 50, "most items were calibrated before: {csv}");
    let drifted = column(&csv, "drift")
        .iter()
        .filter(|d| *d == "drift")
        .count();
    assert!(drifted * 5 < linked, "{drifted} of {linked} drifted: {csv}");
    let log = audit::recent(&app.db, 1000).await.unwrap();
    let records: Vec<&audit::AuditEntry> = log.iter().filter(|e| e.action == "calibrate").collect();
    // The first sitting's (on its own scale), the second's as it was made, and the
    // committee's, newest first.
    assert_eq!(records.len(), 3, "{log:?}");
    assert!(
        records[2].detail.contains("on its own scale"),
        "{}",
        records[2].detail
    );
    assert!(
        records[0].detail.contains("linked by")
            && records[0].detail.contains(&format!("sitting {second}")),
        "{}",
        records[0].detail
    );
    // A rater may not calibrate.
    let rater = app.as_role(Role::Rater).await;
    let res = rater
        .post_form("/", &format!("/stats/{second}/calibrate"), &[])
        .await;
    assert!(
        res.status() == 403 || res.status() == 303,
        "{}",
        res.status()
    );
    assert_eq!(
        audit::recent(&app.db, 1000)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == "calibrate")
            .count(),
        3
    );
}

on_both_engines!(a_sitting_is_calibrated_linked_and_audited);
