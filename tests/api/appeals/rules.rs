//! The appeal rules below the web, on both engines: "decision-change" and "mean", Part One's
//! recount, no re-reading without a rater who has not read the response; and the demo's two
//! appeals, checked by `demo.rs`.

use std::collections::BTreeSet;

use imh_exam::store::appeals::{self, State};
use imh_exam::store::results;
use imh_exam::store::{now_ms, Db};

use super::{released, reread};
use crate::helpers::{count, test_db, Engine};
use crate::on_both_engines;

/// The rules below the web: "decision-change" leaves a result whose decision the re-reading
/// does not change; "mean" takes every reading (fixed per appeal when its re-score starts);
/// Part One is recounted against the key and restores a result stored wrongly.
async fn each_decision_rule_and_the_recount(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = released(db, 2).await;
    let (ana, ben, cy) = (&f.regs[0], &f.regs[1], &f.regs[2]);

    // Ben, by "decision-change": re-read at 2, the result (12, not passed) stands.
    let b = appeals::request(db, ben, 2, "Re-read, please.", now_ms())
        .await
        .unwrap()
        .unwrap();
    appeals::start(db, b, "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // Nothing is decided while a re-reading is missing.
    assert_eq!(
        appeals::decide(db, b, "too soon", "committee")
            .await
            .unwrap()
            .unwrap(),
        Err(appeals::DecideRefused::Waiting)
    );
    reread(db, b, 1).await;
    let o = appeals::decide(db, b, "The re-readings confirm the result.", "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((o.before, o.after), ((12.0, false), (12.0, false)));
    assert!(!o.changed());
    let r = results::result(db, ben.id, 2).await.unwrap().unwrap();
    assert_eq!(
        (r.points, r.passed),
        (12.0, false),
        "6 by the re-readings would not pass either"
    );

    // Ana, by "mean" (the blueprint changed before her re-score started): each response is
    // the mean of 2, 2 and 3, so 7/3; six of them make 14 of 18, still not passed, but changed.
    sqlx::query(
        "UPDATE bank_documents SET body = replace(body, 'part_two_rule = \"decision-change\"', 'part_two_rule = \"mean\"')
         WHERE doc_kind = 'blueprint'",
    )
    .execute(&db.writer)
    .await
    .unwrap();
    let a = appeals::request(db, ana, 2, "Re-read, please.", now_ms())
        .await
        .unwrap()
        .unwrap();
    appeals::start(db, a, "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    reread(db, a, 3).await;
    let o = appeals::decide(db, a, "The mean of the readings.", "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!((o.after.0 - 14.0).abs() < 1e-9 && !o.after.1, "{o:?}");
    assert!(o.changed());
    let stored = appeals::get(db, a).await.unwrap().unwrap();
    assert_eq!(
        stored.part_two_rule,
        Some(imh_exam::bank::PartTwoRule::Mean)
    );
    let r = results::result(db, ana.id, 2).await.unwrap().unwrap();
    assert!((r.points - 14.0).abs() < 1e-9 && !r.passed);
    // Ben's appeal keeps the rule it started with.
    assert_eq!(
        appeals::get(db, b).await.unwrap().unwrap().part_two_rule,
        Some(imh_exam::bank::PartTwoRule::DecisionChange)
    );

    // Cy's Part One (50 of 60, passed) was stored wrongly as 47: the recount against the key
    // restores 50, and the appeal is upheld. Ben's Part One recount (40) changes nothing.
    sqlx::query(
        "UPDATE results SET points = 47, passed = 0 WHERE registration_id = $1 AND part = 1",
    )
    .bind(cy.id)
    .execute(&db.writer)
    .await
    .unwrap();
    let c = appeals::request(db, cy, 1, "I counted more right answers.", now_ms())
        .await
        .unwrap()
        .unwrap();
    assert!(appeals::start(db, c, "committee")
        .await
        .unwrap()
        .unwrap()
        .is_ok());
    let Some(appeals::Review::PartOne { lines, recount, .. }) =
        appeals::review(db, &appeals::get(db, c).await.unwrap().unwrap())
            .await
            .unwrap()
    else {
        panic!("a Part One review")
    };
    assert_eq!(lines.len(), 60);
    assert_eq!(lines.iter().filter(|l| l.correct == Some(true)).count(), 50);
    assert!(lines
        .iter()
        .all(|l| l.key.len() == 1 && !l.answer.is_empty()));
    assert_eq!(recount, Some((50.0, true)));
    let o = appeals::decide(db, c, "The recount found 50.", "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((o.before, o.after), ((47.0, false), (50.0, true)));
    let r = results::result(db, cy.id, 1).await.unwrap().unwrap();
    assert_eq!((r.points, r.passed), (50.0, true));
    let d = appeals::request(db, ben, 1, "Recount.", now_ms())
        .await
        .unwrap()
        .unwrap();
    appeals::start(db, d, "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let o = appeals::decide(db, d, "The recount confirms 40.", "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(!o.changed());
    assert_eq!(
        appeals::decide(db, d, "again", "committee")
            .await
            .unwrap()
            .unwrap(),
        Err(appeals::DecideRefused::Decided)
    );
    assert_eq!(
        appeals::of_sitting(db, f.sitting.id)
            .await
            .unwrap()
            .iter()
            .filter(|(a, _)| a.upheld == Some(true))
            .count(),
        2
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'appeal.decide'"
        )
        .await,
        4
    );
}

/// A re-reading needs a rater who has not read the response: with every other rater used up,
/// the re-score does not start, and says which responses lack one.
async fn no_re_reading_without_a_fresh_rater(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = released(db, 2).await;
    // Ben's readers were two of rater1, rater3, rater4 (rater2 declared a conflict with him);
    // disable the third.
    let held: BTreeSet<i64> = sqlx::query_scalar(
        "SELECT s.rater_id FROM assignments s JOIN responses r ON r.id = s.response_id
         JOIN attempts a ON a.id = r.attempt_id WHERE a.registration_id = $1",
    )
    .bind(f.regs[1].id)
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    for r in [f.raters[0], f.raters[2], f.raters[3]] {
        if !held.contains(&r) {
            sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1")
                .bind(r)
                .execute(&db.writer)
                .await
                .unwrap();
        }
    }
    let id = appeals::request(db, &f.regs[1], 2, "Re-read.", now_ms())
        .await
        .unwrap()
        .unwrap();
    let refused = appeals::start(db, id, "committee").await.unwrap().unwrap();
    assert!(
        matches!(&refused, Err(appeals::StartRefused::NoRater(codes)) if codes.len() == 6),
        "{refused:?}"
    );
    assert_eq!(
        appeals::get(db, id).await.unwrap().unwrap().state,
        State::Open
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM assignments WHERE appeal_id IS NOT NULL"
        )
        .await,
        0
    );
}

/// The demo's completed sitting `id` holds two appeals, decided with reasons: Part Two upheld
/// by its blind re-readings (the decision changed, the new result stored), Part One's recount
/// confirming the result.
pub(crate) async fn the_demo_appeals(db: &Db, id: i64) {
    let appeals = appeals::of_sitting(db, id).await.unwrap();
    assert_eq!(appeals.len(), 2, "{appeals:?}");
    for (a, reg) in &appeals {
        assert_eq!(a.state, State::Decided);
        assert!(a.decision.as_deref().is_some_and(|d| d.len() > 40), "{a:?}");
        let stored = results::result(db, reg.id, a.part).await.unwrap().unwrap();
        let after = a.after.unwrap();
        assert_eq!((stored.points, stored.passed), after, "{a:?}");
        println!(
            "appeal of Part {}: {} ({}) -> {} ({}), upheld {:?}",
            a.part, a.before.0, a.before.1, after.0, after.1, a.upheld
        );
        if a.part == 2 {
            assert_eq!(a.upheld, Some(true));
            assert!(!a.before.1 && after.1 && after.0 > a.before.0, "{a:?}");
            let rereadings = count(
                db,
                &format!(
                    "SELECT COUNT(*) FROM assignments WHERE appeal_id = {}",
                    a.id
                ),
            )
            .await;
            assert!(rereadings >= 3, "{rereadings}");
        } else {
            assert_eq!(a.upheld, Some(false));
            assert!(!a.before.1 && after == a.before, "{a:?}");
        }
    }
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'appeal.%'"
        )
        .await,
        6,
        "each appeal requested, re-scored and decided"
    );
}

on_both_engines!(
    each_decision_rule_and_the_recount,
    no_re_reading_without_a_fresh_rater,
);

/// A re-reader withdrawn before reading: the appeal waits, and starting it again hands the
/// re-readings to another rater who has not read the responses.
async fn a_withdrawn_re_reader_is_replaced(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = released(db, 2).await;
    let fifth =
        crate::helpers::add_staff(db, "rater5", imh_exam::auth::Role::Rater, "Southport").await;
    // Cy (Riverside): every rater but the two who read each vignette may re-read it.
    let id = appeals::request(db, &f.regs[2], 2, "Re-read.", now_ms())
        .await
        .unwrap()
        .unwrap();
    appeals::start(db, id, "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let first: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT response_id, rater_id FROM assignments WHERE appeal_id = $1 ORDER BY response_id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(first.len(), 6);
    // The new rater, with nothing read yet, is the least loaded: both vignettes go to them.
    assert!(first.iter().all(|(_, r)| *r == fifth), "{first:?}");
    let gone = fifth;
    imh_exam::store::ratings::withdraw_rater(db, f.sitting.id, gone, "committee")
        .await
        .unwrap();
    let a = appeals::get(db, id).await.unwrap().unwrap();
    let Some(appeals::Review::PartTwo { outcome, .. }) = appeals::review(db, &a).await.unwrap()
    else {
        panic!("a Part Two review")
    };
    assert_eq!(outcome, None, "waiting for the withdrawn re-readings");
    assert!(appeals::start(db, id, "committee")
        .await
        .unwrap()
        .unwrap()
        .is_ok());
    let held_before: BTreeSet<(i64, i64)> = sqlx::query_as(
        "SELECT response_id, rater_id FROM assignments WHERE appeal_id IS NULL OR appeal_id <> $1",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let now: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT response_id, rater_id FROM assignments
         WHERE appeal_id = $1 AND withdrawn_at IS NULL ORDER BY response_id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(now.len(), 6, "{now:?}");
    for (response, rater) in &now {
        assert_ne!(*rater, gone);
        assert!(!held_before.contains(&(*response, *rater)));
    }
    // Nothing left to hand on.
    assert_eq!(
        appeals::start(db, id, "committee").await.unwrap().unwrap(),
        Err(appeals::StartRefused::NotOpen)
    );
    reread(db, id, 2).await;
    let o = appeals::decide(db, id, "Confirmed.", "committee")
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(!o.changed());
}

on_both_engines!(a_withdrawn_re_reader_is_replaced);
