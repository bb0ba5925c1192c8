//! Scoring below the web, on both engines: response codes, assignment with conflicts and
//! balance, the resolution rules, calibration, results and their release, and rescoring after
//! a key change.

use std::collections::{BTreeMap, BTreeSet};

use imh_exam::bank::{ItemBody, Level};
use imh_exam::exam::form::Parts;
use imh_exam::scoring::key::KeyRule;
use imh_exam::scoring::rules::Resolution;
use imh_exam::store::attempts;
use imh_exam::store::bank::{blueprints, item_version, pool};
use imh_exam::store::ratings::{self, RateError, RateFailure, RatingInput};
use imh_exam::store::results::{self, PartLine, Pending, ReleaseBlocked};
use imh_exam::store::{now_ms, Db};

use crate::helpers::exam::{candidate, open_sitting};
use crate::helpers::{count, test_db, Engine};
use crate::on_both_engines;

pub use crate::helpers::sat::{
    assignments, responses, sat_sitting, sat_sitting_by, take_part_two, Fixture,
};

fn score(s: u32, fin: bool) -> RatingInput {
    RatingInput {
        score: Some(s),
        note: "note for the committee".into(),
        feedback: format!("Feedback at {s}."),
        is_final: fin,
    }
}

async fn assignment_and_conflict_rules(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = sat_sitting(db).await;
    let resp = responses(db, f.sitting.id).await;
    // Two chosen vignettes of three questions each, per candidate; codes reveal nothing.
    assert_eq!(resp.len(), 18);
    for (_, code, _) in &resp {
        assert!(
            code.len() == 11 && code.starts_with("R-"),
            "a response code: {code}"
        );
    }
    let report = ratings::assign_sitting(db, f.sitting.id, &BTreeSet::new(), "committee")
        .await
        .unwrap();
    assert_eq!((report.assigned, report.short), (36, 0));
    // A candidate's vignette is read together: each reading of its three questions goes to one
    // rater, who scores them in one place.
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM (SELECT r.attempt_id, r.vignette_id, s.reading
                 FROM assignments s JOIN responses r ON r.id = s.response_id
                 GROUP BY r.attempt_id, r.vignette_id, s.reading
                 HAVING COUNT(DISTINCT s.rater_id) > 1) split"
        )
        .await,
        0
    );
    let assigned = assignments(db).await;
    let reg_of: BTreeMap<i64, i64> = resp.iter().map(|(id, _, reg)| (*id, *reg)).collect();
    let mut load: BTreeMap<i64, usize> = BTreeMap::new();
    for (id, _, _) in &resp {
        let readers: Vec<&(i64, i64, i64)> = assigned.iter().filter(|a| a.0 == *id).collect();
        assert_eq!(readers.len(), 2, "two readings");
        assert_ne!(readers[0].1, readers[1].1, "two distinct raters");
        let readings: BTreeSet<i64> = readers.iter().map(|a| a.2).collect();
        assert_eq!(readings, BTreeSet::from([1, 2]));
        for r in readers {
            *load.entry(r.1).or_default() += 1;
            if reg_of[id] == f.regs[0].id {
                assert_ne!(r.1, f.raters[0], "rater1 works at Ana's organisation");
            }
            if reg_of[id] == f.regs[1].id {
                assert_ne!(r.1, f.raters[1], "rater2 declared a conflict with Ben");
            }
        }
    }
    let (min, max) = (load.values().min().unwrap(), load.values().max().unwrap());
    assert_eq!(load.len(), 4, "every rater has work: {load:?}");
    assert!(max - min <= 3, "balanced within one vignette: {load:?}");

    // A rater sees only their own: another's response is refused, and looks like no response.
    let (theirs, mine_not) = resp
        .iter()
        .find_map(|(id, code, _)| {
            let holders: Vec<i64> = assigned
                .iter()
                .filter(|a| a.0 == *id)
                .map(|a| a.1)
                .collect();
            f.raters
                .iter()
                .find(|r| !holders.contains(r))
                .map(|r| (code.clone(), *r))
        })
        .unwrap();
    assert!(ratings::desk(db, mine_not, &theirs)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        ratings::rate(db, mine_not, &theirs, &score(2, true)).await,
        Err(RateFailure::Rate(RateError::NotYours))
    ));

    // Rater 4 drops out after a draft and one submitted reading: the draft and the submitted
    // reading stay; the rest of rater 4's work goes to others, never breaking the rules.
    let r4 = f.raters[3];
    let q4 = ratings::queue(db, r4).await.unwrap();
    assert!(q4.len() >= 2);
    ratings::rate(db, r4, &q4[0].code, &score(2, true))
        .await
        .unwrap();
    ratings::rate(db, r4, &q4[1].code, &score(1, false))
        .await
        .unwrap();
    let report = ratings::withdraw_rater(db, f.sitting.id, r4, "committee")
        .await
        .unwrap();
    assert_eq!(report.assigned, q4.len() - 1);
    let after = assignments(db).await;
    assert_eq!(
        after.iter().filter(|a| a.1 == r4).count(),
        1,
        "only the finished reading stays rater 4's"
    );
    for (id, _, _) in &resp {
        assert_eq!(after.iter().filter(|a| a.0 == *id).count(), 2);
    }
    let drafts = count(db, "SELECT COUNT(*) FROM ratings WHERE final = 0").await;
    assert_eq!(drafts, 1, "the withdrawn draft is kept");
}

async fn readings_resolve_by_the_rules(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = sat_sitting(db).await;
    ratings::assign_sitting(db, f.sitting.id, &BTreeSet::new(), "committee")
        .await
        .unwrap();
    let resp = responses(db, f.sitting.id).await;
    let assigned = assignments(db).await;
    let readers =
        |id: i64| -> Vec<i64> { assigned.iter().filter(|a| a.0 == id).map(|a| a.1).collect() };
    let code = |id: i64| resp.iter().find(|r| r.0 == id).unwrap().1.clone();

    // Adjacent: 2 and 3 settle at 2.5. A draft first, then the final; the final is locked.
    let (a, b) = (resp[0].0, resp[1].0);
    let ra = readers(a);
    ratings::rate(db, ra[0], &code(a), &score(1, false))
        .await
        .unwrap();
    let first = ratings::rate(db, ra[0], &code(a), &score(2, true))
        .await
        .unwrap();
    assert_eq!(first, Some(Resolution::Waiting));
    assert!(matches!(
        ratings::rate(db, ra[0], &code(a), &score(3, true)).await,
        Err(RateFailure::Rate(RateError::AlreadyFinal))
    ));
    let second = ratings::rate(db, ra[1], &code(a), &score(3, true))
        .await
        .unwrap();
    assert_eq!(second, Some(Resolution::Settled(2.5)));
    let history: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ratings t JOIN assignments s ON s.id = t.assignment_id WHERE s.response_id = $1",
    )
    .bind(a)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(history, 3, "the draft and both finals are kept");
    // Out of range and missing scores are refused with the range.
    let rb = readers(b);
    assert!(matches!(
        ratings::rate(db, rb[0], &code(b), &score(4, true)).await,
        Err(RateFailure::Rate(RateError::ScoreOutOfRange(3)))
    ));

    // Apart: 0 and 3 go to a third rater, neither of the two, whose reading settles it.
    ratings::rate(db, rb[0], &code(b), &score(0, true))
        .await
        .unwrap();
    let outcome = ratings::rate(db, rb[1], &code(b), &score(3, true))
        .await
        .unwrap();
    assert_eq!(outcome, Some(Resolution::NeedsThird));
    let thirds: Vec<(i64, i64, i64)> = assignments(db)
        .await
        .into_iter()
        .filter(|x| x.0 == b && x.2 == 3)
        .collect();
    assert_eq!(thirds.len(), 1, "one adjudicator");
    let third = thirds[0].1;
    assert!(!rb.contains(&third));
    let reg_b = resp.iter().find(|r| r.0 == b).unwrap().2;
    if reg_b == f.regs[0].id {
        assert_ne!(third, f.raters[0]);
    }
    let settled = ratings::rate(db, third, &code(b), &score(1, true))
        .await
        .unwrap();
    assert_eq!(settled, Some(Resolution::Settled(1.0)));
    let finals: Vec<Option<f64>> =
        sqlx::query_scalar("SELECT final_score FROM responses WHERE id IN ($1, $2) ORDER BY id")
            .bind(a)
            .bind(b)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(finals, vec![Some(2.5), Some(1.0)]);
}

async fn calibration_flags_a_rater_below_the_standard(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = sat_sitting(db).await;
    // Two validity responses, expert scores 3 and 1, seeded into every rater's queue.
    let v1 = ratings::seed_validity(
        db,
        f.sitting.id,
        "CL01-Q2",
        1,
        "An expert-scored answer.",
        3,
        "committee",
    )
    .await
    .unwrap();
    let v2 = ratings::seed_validity(
        db,
        f.sitting.id,
        "CL02-Q2",
        1,
        "Another one.",
        1,
        "committee",
    )
    .await
    .unwrap();
    for r in &f.raters {
        let q = ratings::queue(db, *r).await.unwrap();
        assert!(q.iter().any(|e| e.code == v1) && q.iter().any(|e| e.code == v2));
    }
    // rater1 matches both experts; rater2 misses both; rater3 one of two.
    for (r, s1, s2) in [(0, 3, 1), (1, 1, 3), (2, 3, 2)] {
        ratings::rate(db, f.raters[r], &v1, &score(s1, true))
            .await
            .unwrap();
        ratings::rate(db, f.raters[r], &v2, &score(s2, true))
            .await
            .unwrap();
    }
    let status = ratings::rater_status(db, f.sitting.id, &f.sitting.blueprints)
        .await
        .unwrap();
    let of = |id: i64| status.iter().find(|s| s.rater_id == id).unwrap();
    assert_eq!(of(f.raters[0]).calibration.percent(), Some(100.0));
    assert!(!of(f.raters[0]).flagged);
    assert!(of(f.raters[1]).flagged, "0 of 2 is below 70%");
    assert!(of(f.raters[2]).flagged, "1 of 2 is below 70%");
    assert!(!of(f.raters[3]).flagged, "no validity response scored yet");
    // Validity responses are never settled nor counted as candidates' responses.
    let p = ratings::progress(db, f.sitting.id).await.unwrap();
    assert_eq!((p.responses, p.validity), (18, 2));
}

/// Rates every open response of the sitting: each reader gives `s`, so everything settles.
pub async fn rate_everything(db: &Db, sitting_id: i64, s: u32) {
    ratings::assign_sitting(db, sitting_id, &BTreeSet::new(), "committee")
        .await
        .unwrap();
    for (id, code, _) in responses(db, sitting_id).await {
        let readers: Vec<i64> = assignments(db)
            .await
            .into_iter()
            .filter(|a| a.0 == id)
            .map(|a| a.1)
            .collect();
        for r in readers {
            ratings::rate(db, r, &code, &score(s, true)).await.unwrap();
        }
    }
}

async fn results_are_released_only_when_complete_and_rescored_after_a_key_change(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = sat_sitting(db).await;
    // Nothing is rated yet: Part Two is pending, release is refused, no report.
    let lines = results::compute(db, f.sitting.id).await.unwrap();
    assert!(matches!(
        lines[0].parts[1],
        PartLine::Pending(Pending::Unsettled(6))
    ));
    assert_eq!(
        results::release(db, f.sitting.id, "committee")
            .await
            .unwrap(),
        Err(ReleaseBlocked::Pending(3))
    );
    assert!(results::report(db, &f.regs[0]).await.unwrap().is_none());

    rate_everything(db, f.sitting.id, 3).await;
    let lines = results::compute(db, f.sitting.id).await.unwrap();
    for (i, line) in lines.iter().enumerate() {
        let PartLine::Scored(one) = &line.parts[0] else {
            panic!("Part One is scored")
        };
        assert_eq!(one.points, f.right[i] as f64);
        assert_eq!(one.max, 60.0, "pretest items do not count");
        assert_eq!(one.passed, f.right[i] >= 48);
        let PartLine::Scored(two) = &line.parts[1] else {
            panic!("Part Two is scored")
        };
        assert_eq!((two.points, two.max, two.passed), (18.0, 18.0, true));
        assert_eq!(line.exam_passed, Some(f.right[i] >= 48));
        let domains: f64 = one.detail.by_domain.values().map(|d| d.1).sum();
        assert_eq!(domains, 60.0, "sub-scores by domain add up");
    }
    assert_eq!(
        results::release(db, f.sitting.id, "committee")
            .await
            .unwrap(),
        Ok(3)
    );
    let report = results::report(db, &f.regs[0]).await.unwrap().unwrap();
    assert_eq!(report.parts.len(), 2);
    assert_eq!(report.exam_passed, Some(true));
    // Feedback per question: two vignettes of three questions, each named with its domain.
    assert_eq!(report.feedback.len(), 6);
    assert!(
        report.feedback[0].0.ends_with(")") && report.feedback[0].0.contains(", question 1 ("),
        "{:?}",
        report.feedback[0].0
    );
    assert!(report.feedback[2].0.contains(", question 3 ("));
    assert_eq!(
        report.feedback[0].3,
        vec!["Feedback at 3.", "Feedback at 3."]
    );
    let csv = results::results_csv(&lines);
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .starts_with("name,email,organisation,level,part_one_points"));
    assert_eq!(csv.lines().count(), 4);

    // The committee drops an item Ben answered wrongly: his score is out of 59 now, and the
    // audit log keeps the reason and his result before and after.
    let ben = attempts::attempts_of(db, f.regs[1].id).await.unwrap();
    let entry = ben[0]
        .form
        .part_one
        .iter()
        .rfind(|e| e.scored)
        .unwrap()
        .clone();
    let rescored = results::change_key(
        db,
        &entry.item_id,
        entry.version,
        &KeyRule::Dropped,
        "two defensible answers",
        &[],
        "committee",
    )
    .await
    .unwrap();
    let ben_r = rescored
        .iter()
        .find(|r| r.registration_id == f.regs[1].id)
        .unwrap();
    assert_eq!(ben_r.before, Some((40.0, false)));
    assert_eq!(ben_r.after, (40.0, false));
    let after = results::result(db, f.regs[1].id, 1).await.unwrap().unwrap();
    assert_eq!((after.points, after.max), (40.0, 59.0));
    // Accepting the wrong option Ben chose as a second key raises his score by one.
    let item = item_version(db, &entry.item_id, entry.version)
        .await
        .unwrap()
        .unwrap();
    let ItemBody::Mcq(m) = item.body else {
        panic!()
    };
    let wrong = m.options.iter().find(|o| o.letter != m.key).unwrap().letter;
    results::change_key(
        db,
        &entry.item_id,
        entry.version,
        &KeyRule::Accept(BTreeSet::from([m.key, wrong])),
        "second key accepted",
        &[],
        "committee",
    )
    .await
    .unwrap();
    let after = results::result(db, f.regs[1].id, 1).await.unwrap().unwrap();
    assert_eq!((after.points, after.max), (41.0, 60.0));
    let log: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'key-change' ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(log.len(), 2);
    assert!(
        log[0].contains("reason: two defensible answers"),
        "{}",
        log[0]
    );
    assert!(
        log[0].contains(&format!(
            "registration {}: 40 (fail) -> 40 (fail)",
            f.regs[1].id
        )),
        "{}",
        log[0]
    );
    assert!(
        log[1].contains(&format!(
            "registration {}: 40 (fail) -> 41 (fail)",
            f.regs[1].id
        )),
        "{}",
        log[1]
    );
}

/// A part retaken in a later sitting completes the exam: Ana passes Part One and fails Part Two
/// in the first sitting, retakes only Part Two in the second (an admin waives the wait) and
/// passes. The first sitting's report never shows the unreleased retake.
async fn a_part_retaken_in_a_later_sitting_completes_the_exam(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = sat_sitting(db).await;
    rate_everything(db, f.sitting.id, 0).await;
    assert_eq!(
        results::release(db, f.sitting.id, "committee")
            .await
            .unwrap(),
        Ok(3)
    );
    let first = results::report(db, &f.regs[0]).await.unwrap().unwrap();
    assert_eq!(first.exam_passed, Some(false));
    assert!(first.parts[0].1.passed && !first.parts[1].1.passed);

    let now = now_ms();
    let second = open_sitting(db, now).await;
    let bps = blueprints(db).await.unwrap();
    let pool = pool(db).await.unwrap();
    let mut new = candidate(
        "ana@x.org",
        Level::III,
        Parts {
            one: false,
            two: true,
        },
        "1",
    );
    new.organisation = "Lakeside".into();
    new.retake_override = Some("committee decision 12".into());
    let (id, _) = imh_exam::store::sittings::register(db, &second, &new, &bps, "admin", true)
        .await
        .unwrap();
    imh_exam::store::sittings::admit(db, id, "p").await.unwrap();
    let reg = imh_exam::store::sittings::registration(db, id)
        .await
        .unwrap()
        .unwrap();
    let bp = bps.iter().find(|b| b.id == "level-iii").unwrap();
    take_part_two(
        db,
        &second,
        &reg,
        bp,
        &pool,
        now,
        "A fuller answer this time.",
    )
    .await;
    rate_everything(db, second.id, 3).await;
    let lines = results::compute(db, second.id).await.unwrap();
    assert!(matches!(lines[0].parts[0], PartLine::NotSat));
    assert_eq!(
        lines[0].exam_passed,
        Some(true),
        "Part One stands from the first sitting"
    );
    // Stored, the same: the computation in memory foresaw what storing gives.
    let stored = results::store(db, second.id, "committee")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, lines);
    assert_eq!(
        results::stored(db, second.id).await.unwrap().lines[0].exam_passed,
        Some(true)
    );
    // Not released yet: the first sitting's report still says not passed.
    let again = results::report(db, &f.regs[0]).await.unwrap().unwrap();
    assert_eq!(again.exam_passed, Some(false));
    assert!(results::report(db, &reg).await.unwrap().is_none());
    results::release(db, second.id, "committee")
        .await
        .unwrap()
        .unwrap();
    let report = results::report(db, &reg).await.unwrap().unwrap();
    assert_eq!(report.exam_passed, Some(true));
    assert_eq!(report.parts.len(), 1);
}

on_both_engines!(
    a_part_retaken_in_a_later_sitting_completes_the_exam,
    assignment_and_conflict_rules,
    readings_resolve_by_the_rules,
    calibration_flags_a_rater_below_the_standard,
    results_are_released_only_when_complete_and_rescored_after_a_key_change,
);
