//! Adopting a pass mark in the store: audited, unreleased results re-decided at once, released
//! ones after a preview and the committee's per-sitting decision; an adopted cut's edges.

use std::collections::BTreeMap;

use imh_exam::bank::PassMark;
use imh_exam::store::results::pass_mark::{self, Adoption, Refused, ReleasedPolicy};
use imh_exam::store::{audit, bank::blueprints, results, Db};

use crate::helpers::exam::import_sample;
use crate::helpers::{count, demo_raters, test_db, Engine};
use crate::on_both_engines;

/// A stored Part One result of a Level III candidate: (registration, points, max, passed).
type Row = (i64, f64, f64, bool);

async fn level_iii_part_one(db: &Db, sitting: i64) -> Vec<Row> {
    let rows: Vec<(i64, f64, f64, i64)> = sqlx::query_as(
        "SELECT r.registration_id, r.points, r.max_points, r.passed FROM results r
         JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1
         ORDER BY r.registration_id",
    )
    .bind(sitting)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, p, m, passed)| (id, p, m, passed == 1))
        .collect()
}

/// Every stored result of the sitting other than Level III's Part One: (registration, part,
/// passed), which a Level III Part One adoption must leave alone.
async fn others(db: &Db, sitting: i64) -> Vec<(i64, i64, i64)> {
    sqlx::query_as(
        "SELECT r.registration_id, r.part, r.passed FROM results r
         JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1 AND NOT (g.blueprint_id = 'level-iii' AND r.part = 1)
         ORDER BY r.registration_id, r.part",
    )
    .bind(sitting)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// Two completed sittings of the demo's simulated candidates: the first released, the second
/// computed and stored but (its release undone here) not released.
async fn two_sittings(db: &Db) -> (i64, i64) {
    import_sample(db).await;
    let raters = demo_raters(db).await;
    let released = imh_exam::demo::completed_sitting_named(db, "Released", 60, &raters)
        .await
        .unwrap();
    // The same simulated people again would be retakes inside the waiting period.
    let mut tx = db.write().await.unwrap();
    sqlx::query("UPDATE registrations SET email = 'first-' || email WHERE sitting_id = $1")
        .bind(released)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let unreleased = imh_exam::demo::completed_sitting_named(db, "Unreleased", 60, &raters)
        .await
        .unwrap();
    let mut tx = db.write().await.unwrap();
    sqlx::query(
        "UPDATE sittings SET results_released_at = NULL, results_released_by = NULL WHERE id = $1",
    )
    .bind(unreleased)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (released, unreleased)
}

/// A raw cut below the blueprint's 80% that some candidate scored exactly and another scored one
/// point below: the edges of the adopted mark are then both in the data.
fn cut_in(rows: &[Row]) -> u32 {
    let max = rows[0].2;
    assert!(rows.iter().all(|r| r.2 == max), "one form length");
    let has = |p: f64| rows.iter().any(|r| r.1 == p);
    (1..(0.8 * max) as u32)
        .rev()
        .find(|&c| has(f64::from(c)) && has(f64::from(c) - 1.0))
        .expect("two neighbouring scores below the cut")
}

async fn adopting_a_pass_mark_redecides_unreleased_results_and_is_audited(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let (released, unreleased) = two_sittings(db).await;
    let before_released = level_iii_part_one(db, released).await;
    let before_unreleased = level_iii_part_one(db, unreleased).await;
    let others_before = (others(db, released).await, others(db, unreleased).await);
    assert!(before_unreleased.len() >= 20, "{}", before_unreleased.len());
    let max = before_unreleased[0].2;
    let cut = cut_in(&before_unreleased);
    let mark = PassMark::for_raw_cut(f64::from(cut), max).unwrap();
    // The flips the adoption must make: candidates at or above the new cut who failed at 80%.
    let flips = before_unreleased
        .iter()
        .filter(|r| r.1 >= f64::from(cut) && !r.3)
        .count();
    assert!(flips > 0, "the new cut changes someone");

    // No reason: refused, named, nothing written.
    let no_reason = Adoption {
        blueprint_id: "level-iii".into(),
        part: 1,
        mark,
        reason: "  ".into(),
        study_id: None,
    };
    let refused = pass_mark::adopt(db, &no_reason, "chair").await.unwrap();
    assert_eq!(refused, Err(Refused::NoReason));
    assert!(refused.unwrap_err().to_string().starts_with("reason:"));
    let unknown = Adoption {
        blueprint_id: "level-ix".into(),
        reason: "x".into(),
        ..no_reason.clone()
    };
    let refused = pass_mark::adopt(db, &unknown, "chair").await.unwrap();
    assert!(refused.unwrap_err().to_string().starts_with("blueprint:"));
    assert_eq!(count(db, "SELECT COUNT(*) FROM pass_mark_changes").await, 0);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'pass-mark-adopt'"
        )
        .await,
        0
    );

    let reason = "The spring Angoff study's panel cut, round 2.";
    let adopted = pass_mark::adopt(
        db,
        &Adoption {
            reason: reason.into(),
            ..no_reason.clone()
        },
        "chair",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(adopted.previous, PassMark::whole(80));
    assert_eq!(adopted.mark, mark);
    assert_eq!(adopted.released_sittings, vec![released]);
    assert_eq!(adopted.redecided.len(), before_unreleased.len());

    // Every scoring path reads the adopted mark; the other blueprints keep theirs.
    for bp in blueprints(db).await.unwrap() {
        let want = if bp.id == "level-iii" {
            mark
        } else {
            PassMark::whole(80)
        };
        assert_eq!(bp.part_one.pass_percent, want, "{}", bp.id);
        assert_eq!(bp.part_two.pass_percent, PassMark::whole(80), "{}", bp.id);
    }

    // Unreleased: re-decided on the new mark, the figures as they were; exactly at the cut
    // passes, one point below fails.
    let after = level_iii_part_one(db, unreleased).await;
    for (b, a) in before_unreleased.iter().zip(&after) {
        assert_eq!((b.0, b.1, b.2), (a.0, a.1, a.2));
        assert_eq!(a.3, a.1 >= f64::from(cut), "{a:?} at a cut of {cut}");
    }
    assert!(after.iter().any(|a| a.1 == f64::from(cut) && a.3));
    assert!(after.iter().any(|a| a.1 == f64::from(cut) - 1.0 && !a.3));
    // Released: untouched. Nothing else moved.
    assert_eq!(level_iii_part_one(db, released).await, before_released);
    assert_eq!(
        (others(db, released).await, others(db, unreleased).await),
        others_before
    );

    // The audit line says what was decided and what it did.
    let log = audit::recent(db, 200).await.unwrap();
    let entry = log
        .iter()
        .find(|e| e.action == "pass-mark-adopt")
        .expect("audited");
    for want in [
        "blueprint level-iii Part One".to_string(),
        format!("pass mark 80% -> {mark}%"),
        format!("reason: {reason}"),
        "study: none".to_string(),
        format!("{} result(s) re-decided", after.len()),
        format!("{flips} changed between pass and fail"),
        format!("awaiting the committee's decision: {released}"),
    ] {
        assert!(entry.detail.contains(&want), "{want:?} in {}", entry.detail);
    }
    assert_eq!(entry.actor, "chair");
    let decisions = pass_mark::sitting_decisions(db, adopted.change_id)
        .await
        .unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(
        (
            decisions[0].sitting_id,
            decisions[0].decision.as_str(),
            decisions[0].changed
        ),
        (unreleased, "redecided", i64::try_from(flips).unwrap())
    );

    // Computing the unreleased sitting again applies the adopted mark too.
    results::store(db, unreleased, "chair")
        .await
        .unwrap()
        .unwrap();
    let recomputed = level_iii_part_one(db, unreleased).await;
    assert_eq!(recomputed, after);
}

async fn a_released_sitting_changes_only_when_the_committee_decides(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let (released, unreleased) = two_sittings(db).await;
    let before = level_iii_part_one(db, released).await;
    let max = before[0].2;
    let cut = cut_in(&before);
    let mark = PassMark::for_raw_cut(f64::from(cut), max).unwrap();
    let adoption = Adoption {
        blueprint_id: "level-iii".into(),
        part: 1,
        mark,
        reason: "Panel cut adopted.".into(),
        study_id: Some(3),
    };
    let adopted = pass_mark::adopt(db, &adoption, "chair")
        .await
        .unwrap()
        .unwrap();
    let log = audit::recent(db, 200).await.unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == "pass-mark-adopt" && e.detail.contains("study: 3")));

    // The preview lists every released result with what it would become; writes nothing.
    let preview = pass_mark::preview(db, adopted.change_id)
        .await
        .unwrap()
        .unwrap();
    let rows = &preview[&released];
    assert_eq!(rows.len(), before.len());
    let would: BTreeMap<i64, (bool, bool)> = rows
        .iter()
        .map(|r| (r.registration_id, (r.before, r.after)))
        .collect();
    for b in &before {
        assert_eq!(would[&b.0], (b.3, b.1 >= f64::from(cut)), "{b:?}");
    }
    let changing = rows.iter().filter(|r| r.changed()).count();
    assert!(changing > 0);
    assert_eq!(level_iii_part_one(db, released).await, before);

    // A reason is required; an unreleased or unknown sitting is refused by name.
    let r = pass_mark::decide_released(
        db,
        adopted.change_id,
        released,
        ReleasedPolicy::Redecide,
        "",
        "chair",
    )
    .await
    .unwrap();
    assert_eq!(r, Err(Refused::NoReason));
    let r = pass_mark::decide_released(
        db,
        adopted.change_id,
        released + 100,
        ReleasedPolicy::Redecide,
        "x",
        "chair",
    )
    .await
    .unwrap();
    assert!(r.unwrap_err().to_string().starts_with("sitting:"));
    assert_eq!(level_iii_part_one(db, released).await, before);

    // Re-decided with a reason: exactly the previewed changes, audited.
    let reason = "Apply the new standard to the spring sitting as well.";
    let done = pass_mark::decide_released(
        db,
        adopted.change_id,
        released,
        ReleasedPolicy::Redecide,
        reason,
        "chair",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(done.iter().filter(|r| r.changed()).count(), changing);
    let after = level_iii_part_one(db, released).await;
    for a in &after {
        assert_eq!(a.3, would[&a.0].1, "{a:?}");
    }
    let log = audit::recent(db, 200).await.unwrap();
    let entry = log
        .iter()
        .find(|e| e.action == "pass-mark-sitting")
        .unwrap();
    assert!(
        entry.detail.contains(&format!("sitting {released}"))
            && entry.detail.contains(reason)
            && entry
                .detail
                .contains(&format!("{changing} changed between pass and fail")),
        "{}",
        entry.detail
    );
    // Once per sitting and adoption.
    let again = pass_mark::decide_released(
        db,
        adopted.change_id,
        released,
        ReleasedPolicy::Keep,
        "x",
        "chair",
    )
    .await
    .unwrap();
    assert_eq!(again, Err(Refused::AlreadyDecided(released)));

    // Back to 80%: the committee leaves the released sitting as it is now; an older adoption can
    // no longer be applied.
    let back = pass_mark::adopt(
        db,
        &Adoption {
            mark: PassMark::whole(80),
            reason: "Back to the published mark.".into(),
            ..adoption.clone()
        },
        "chair",
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(back.previous, mark);
    let kept = pass_mark::decide_released(
        db,
        back.change_id,
        released,
        ReleasedPolicy::Keep,
        "Released results stand.",
        "chair",
    )
    .await
    .unwrap()
    .unwrap();
    assert!(kept.is_empty());
    assert_eq!(level_iii_part_one(db, released).await, after);
    let old = pass_mark::decide_released(
        db,
        adopted.change_id,
        released,
        ReleasedPolicy::Redecide,
        "x",
        "chair",
    )
    .await
    .unwrap();
    assert_eq!(old, Err(Refused::Superseded));
    let decided = pass_mark::sitting_decisions(db, back.change_id)
        .await
        .unwrap();
    let by_sitting: Vec<(i64, &str)> = decided
        .iter()
        .map(|d| (d.sitting_id, d.decision.as_str()))
        .collect();
    assert_eq!(
        by_sitting,
        vec![(released, "kept"), (unreleased, "redecided")]
    );
    assert_eq!(pass_mark::changes(db).await.unwrap().len(), 2);
}

on_both_engines!(
    adopting_a_pass_mark_redecides_unreleased_results_and_is_audited,
    a_released_sitting_changes_only_when_the_committee_decides,
);
