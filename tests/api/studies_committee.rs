//! Issue 14, the committee's side, on both engines: adopting a pass mark (audited with its
//! reason, the unreleased results of the blueprint's sittings re-decided in the same
//! transaction, released ones only when the committee decides for that sitting), the edges of
//! an adopted mark, and the committee's study pages.

use std::collections::BTreeMap;

use imh_exam::auth::Role;
use imh_exam::bank::PassMark;
use imh_exam::stats::standard_setting::angoff;
use imh_exam::store::results::pass_mark::{self, Adoption, Refused, ReleasedPolicy};
use imh_exam::store::studies::{self, HofsteePercent};
use imh_exam::store::{audit, bank::blueprints, results, Db};

use crate::helpers::exam::import_sample;
use crate::helpers::{add_staff, between, count, demo_raters, spawn_app_on, test_db, Engine};
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

/// The panel's current ratings of round `round`, read from the stored rows (newest per
/// panelist and item), as `panelist x item` in position order: what the cut must be computed on.
async fn stored_ratings(db: &Db, study: i64, round: i64, items: usize) -> Vec<Vec<f64>> {
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(
        "SELECT panelist, position, value FROM study_ratings WHERE study_id = $1 AND round = $2
         ORDER BY id",
    )
    .bind(study)
    .bind(round)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut by: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    for (who, pos, v) in rows {
        by.entry(who).or_default().insert(pos, v);
    }
    by.into_values()
        .map(|m| {
            assert_eq!(m.len(), items);
            m.into_values().collect()
        })
        .collect()
}

/// The text of the cell `class="{class}"` in the element after `marker`.
fn cell<'a>(html: &'a str, marker: &str, class: &str) -> &'a str {
    let from = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} not in page:\n{html}"));
    between(&html[from..], &format!("class=\"{class}\">"), "<")
}

async fn the_committee_runs_a_study_reads_its_cut_and_adopts_it(engine: Engine) {
    let t = test_db(engine).await;
    import_sample(&t.db).await;
    let raters = demo_raters(&t.db).await;
    let sitting = imh_exam::demo::completed_sitting_named(&t.db, "Spring", 60, &raters)
        .await
        .unwrap();
    let panel = ["pan1", "pan2", "pan3"];
    for p in panel {
        add_staff(&t.db, p, Role::Panelist, "Panel org").await;
    }
    let app = spawn_app_on(t).await;
    let db = &app.db;
    let committee = app.as_role(Role::Committee).await;

    // Nobody else reaches the committee's study pages.
    for role in [Role::Rater, Role::Proctor, Role::Panelist] {
        let b = app.as_role(role).await;
        assert_eq!(b.get("/studies").await.status(), 403, "{role:?}");
        let res = b
            .post_form("/", "/studies", &[("name", "x"), ("part", "1")])
            .await;
        assert_eq!(res.status(), 403, "{role:?}");
    }

    // Bad fields are named.
    let res = committee
        .post_form(
            "/studies",
            "/studies",
            &[
                ("name", " "),
                ("blueprint", "level-iii"),
                ("part", "3"),
                ("method", "angoff"),
                ("source", "pool"),
                ("rounds", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Name: give the study a name.")
            && html.contains("Part: &quot;3&quot; is neither 1 nor 2."),
        "{html}"
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM studies").await, 0);

    // A study of one Level III candidate's form in the spring sitting.
    let reg: i64 = sqlx::query_scalar(
        "SELECT MIN(registration_id) FROM results r JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1",
    )
    .bind(sitting)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let (sitting_text, reg_text) = (sitting.to_string(), reg.to_string());
    let res = committee
        .post_form(
            "/studies",
            "/studies",
            &[
                ("name", "Spring Angoff"),
                ("blueprint", "level-iii"),
                ("part", "1"),
                ("method", "angoff"),
                ("sitting", &sitting_text),
                ("source", "form"),
                ("registration", &reg_text),
                ("rounds", "2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = location.trim_start_matches("/studies/").parse().unwrap();
    let page = format!("/studies/{id}");
    let items = studies::items(db, id).await.unwrap().len();
    assert!(items >= 50, "{items}");

    for p in panel {
        let res = committee
            .post_form(
                &page,
                &format!("{page}/panel"),
                &[("action", "add"), ("username", p)],
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let res = committee
        .post_form(
            &page,
            &format!("{page}/panel"),
            &[("action", "add"), ("username", "nobody")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Username: there is no staff account"));
    let res = committee
        .post_form(&page, &format!("{page}/round"), &[("action", "open")])
        .await;
    assert_eq!(res.status(), 303);

    // The panel rates: each panelist a different pattern; a first rating of item 1 replaced.
    for (k, p) in panel.iter().enumerate() {
        studies::rate(db, id, p, 1, 0.1).await.unwrap();
        for pos in 1..=items {
            let v = f64::from(u32::try_from((pos * 7 + k * 5) % 13 + 6).unwrap()) / 20.0;
            studies::rate(db, id, p, u32::try_from(pos).unwrap(), v)
                .await
                .unwrap();
        }
        let b = HofsteePercent {
            cut_min: 55.0 + 5.0 * k as f64,
            cut_max: 80.0,
            fail_min: 5.0,
            fail_max: 30.0 + 5.0 * k as f64,
        };
        studies::hofstee_save(db, id, p, &b).await.unwrap();
    }
    // Blind while open: counts, no feedback.
    let html = committee.get_text(&page).await;
    assert!(
        html.contains("id=\"progress\"") && !html.contains("id=\"feedback-1\""),
        "{html}"
    );
    let res = committee
        .post_form(&page, &format!("{page}/round"), &[("action", "close")])
        .await;
    assert_eq!(res.status(), 303);

    // The cut from the stored ratings, and the pass rate at it from the stored results.
    let ratings = stored_ratings(db, id, 1, items).await;
    let cut = angoff(&ratings, &vec![1.0; items]).unwrap();
    let cut_percent = 100.0 * cut.cut / items as f64;
    let se_percent = 100.0 * cut.se.unwrap() / items as f64;
    let stored: Vec<(f64, f64)> = sqlx::query_as(
        "SELECT r.points, r.max_points FROM results r JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1",
    )
    .bind(sitting)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let rate_at = |c: f64| {
        let passed = stored.iter().filter(|(p, m)| 100.0 * p / m >= c).count();
        format!("{:.1}%", 100.0 * passed as f64 / stored.len() as f64)
    };
    let html = committee.get_text(&page).await;
    assert!(html.contains("id=\"feedback-1\""), "{html}");
    for k in [-2i32, -1, 0, 1, 2] {
        let c = cut_percent + f64::from(k) * se_percent;
        let marker = format!("data-k=\"{k}\"");
        assert_eq!(cell(&html, &marker, "cut-percent"), format!("{c:.2}%"));
        assert_eq!(cell(&html, &marker, "pass-rate"), rate_at(c), "k = {k}");
    }
    assert!(
        html.contains(&format!("{} candidates", stored.len())),
        "{html}"
    );

    // The results page: the same cut, its SE, and the percent.
    let results_page = format!("{page}/results");
    let html = committee.get_text(&results_page).await;
    assert_eq!(
        cell(&html, "id=\"cut-1\"", "cut-raw"),
        format!("{:.2} of {items}", cut.cut)
    );
    assert_eq!(
        cell(&html, "id=\"cut-1\"", "cut-percent"),
        format!("{cut_percent:.2}%")
    );
    assert!(cell(&html, "id=\"cut-1\"", "cut-se").starts_with(&format!("{:.2}", cut.se.unwrap())));
    assert!(
        html.contains("id=\"hofstee-bounds\"") && html.contains("id=\"hofstee-result\""),
        "{html}"
    );
    // k SE: named when bad, applied when good.
    let html = committee.get_text(&format!("{results_page}?k=abc")).await;
    assert!(
        html.contains("k: &quot;abc&quot; is not a number from -3 to 3."),
        "{html}"
    );
    let html = committee.get_text(&format!("{results_page}?k=-1")).await;
    let lowered = cut.cut - cut.se.unwrap();
    assert!(
        between(&html, "id=\"adjusted\"", "</p>").contains(&format!("{lowered:.2}")),
        "{html}"
    );
    let recommended = PassMark::at_or_below(100.0 * lowered / items as f64).unwrap();
    assert!(
        between(&html, "id=\"pass_mark\"", ">").contains(&format!("value=\"{recommended}\"")),
        "{html}"
    );

    // Adopt: bad fields named, nothing adopted.
    let res = committee
        .post_form(
            &results_page,
            &format!("{page}/adopt"),
            &[
                ("pass_mark", "abc"),
                ("reason", ""),
                ("release_policy", "decide"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Pass mark: &quot;abc&quot; is not a percent")
            && html.contains("Reason: say why"),
        "{html}"
    );
    let res = committee
        .post_form(
            &results_page,
            &format!("{page}/adopt"),
            &[
                ("pass_mark", "67.125"),
                ("reason", "x"),
                ("release_policy", "decide"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Pass mark: &quot;67.125&quot; has more than two decimals"));
    assert_eq!(count(db, "SELECT COUNT(*) FROM pass_mark_changes").await, 0);
    let reason = "Round 1 panel cut less one SE.";
    let mark_text = recommended.to_string();
    let res = committee
        .post_form(
            &results_page,
            &format!("{page}/adopt"),
            &[
                ("pass_mark", &mark_text),
                ("reason", reason),
                ("release_policy", "decide"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let change_page = res.headers()["location"].to_str().unwrap().to_string();
    let bp = blueprints(db)
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.id == "level-iii")
        .unwrap();
    assert_eq!(bp.part_one.pass_percent, recommended);
    let log = audit::recent(db, 300).await.unwrap();
    let entry = log.iter().find(|e| e.action == "pass-mark-adopt").unwrap();
    assert!(
        entry.detail.contains(&format!("study: {id}")) && entry.detail.contains(reason),
        "{}",
        entry.detail
    );

    // The released spring sitting waits, with who would change listed by registration.
    let html = committee.get_text(&change_page).await;
    let before: Vec<(i64, f64, f64, i64)> = sqlx::query_as(
        "SELECT r.registration_id, r.points, r.max_points, r.passed FROM results r
         JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1",
    )
    .bind(sitting)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let flips: Vec<i64> = before
        .iter()
        .filter(|(_, p, m, passed)| recommended.reached(*p, *m) != (*passed == 1))
        .map(|r| r.0)
        .collect();
    assert!(html.contains("awaiting the committee"), "{html}");
    for r in &flips {
        assert!(
            html.contains(&format!("<td>{r}</td>")),
            "registration {r} listed"
        );
    }
    let decide = format!("{change_page}/sittings/{sitting}");
    let res = committee
        .post_form(&change_page, &decide, &[("decision", ""), ("reason", "")])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Decision: choose") && html.contains("Reason: say why"),
        "{html}"
    );
    let res = committee
        .post_form(
            &change_page,
            &decide,
            &[
                ("decision", "redecide"),
                ("reason", "Same standard for spring."),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let after: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT r.registration_id, r.passed FROM results r JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1",
    )
    .bind(sitting)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for ((reg, p, m, _), (reg2, passed)) in before.iter().zip(&after) {
        assert_eq!(reg, reg2);
        assert_eq!(*passed == 1, recommended.reached(*p, *m));
    }
    let html = committee.get_text(&change_page).await;
    assert!(
        html.contains(&format!("{} changed between pass and fail", flips.len())),
        "{html}"
    );
    // The studies list links the study.
    let html = committee.get_text("/studies").await;
    assert!(html.contains("Spring Angoff"), "{html}");
}

on_both_engines!(
    adopting_a_pass_mark_redecides_unreleased_results_and_is_audited,
    a_released_sitting_changes_only_when_the_committee_decides,
    the_committee_runs_a_study_reads_its_cut_and_adopts_it,
);
