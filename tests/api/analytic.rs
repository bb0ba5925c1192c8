//! Issue 12 in the live system, on both engines: analytic Part Two (a vignette's questions each
//! scored on its rubric, summed against the pass mark) and the closer look near the cut.

use imh_exam::auth::Role;
use imh_exam::store::ratings;
use imh_exam::store::Db;

use crate::helpers::{count, Engine};
use crate::on_both_engines;
use crate::rater_quality::final_score;
use crate::scoring::sat_sitting;

/// The readings that resolve (mean of two) to `score`, a multiple of ½ from 0 to 3.
fn readings_for(score: f64) -> (u32, u32) {
    let low = score.floor() as u32;
    (low, if score.fract() > 0.0 { low + 1 } else { low })
}

/// Splits `total` (a multiple of ½) over `n` responses of at most 3 points each.
fn spread(total: f64, n: usize) -> Vec<f64> {
    let mut left = total;
    (0..n)
        .map(|_| {
            let s = left.min(3.0);
            left -= s;
            s
        })
        .collect()
}

async fn the_closer_look_near_the_cut_starts_exactly_at_the_margins_edges(engine: Engine) {
    let t = crate::helpers::test_db(engine).await;
    let db = &t.db;
    let f = sat_sitting(db).await;
    // The committee's blueprint: pass mark 50% of Part Two; the sample's closer look within 1
    // point.
    import_part_two_rules(db, 50, "1.0").await;
    ratings::assign_sitting(db, f.sitting.id, &Default::default(), "committee")
        .await
        .unwrap();
    let all = crate::scoring::responses(db, f.sitting.id).await;
    let n = all.iter().filter(|r| r.2 == f.regs[0].id).count();
    let max = 3.0 * n as f64;
    let pass = max / 2.0;
    // Ana at the lower edge, Ben at the upper edge, Cy half a point beyond it.
    let totals = [pass - 1.0, pass + 1.0, pass + 1.5];
    for (i, reg) in f.regs.iter().enumerate() {
        let mine: Vec<&(i64, String, i64)> = all.iter().filter(|r| r.2 == reg.id).collect();
        for (r, s) in mine.iter().zip(spread(totals[i], n)) {
            let (a, b) = readings_for(s);
            let readers: Vec<(i64, i64, i64)> = crate::scoring::assignments(db)
                .await
                .into_iter()
                .filter(|x| x.0 == r.0)
                .collect();
            assert_eq!(readers.len(), 2);
            for (x, score) in readers.iter().zip([a, b]) {
                ratings::rate(db, x.1, &r.1, &final_score(score))
                    .await
                    .unwrap();
            }
        }
    }
    let state = |reg: i64| {
        let db = db.clone();
        async move {
            let rows: Vec<(Option<i64>, Option<i64>, i64)> = sqlx::query_as(
                "SELECT r.near_cut_at, r.settled_at,
                        (SELECT COUNT(*) FROM assignments s WHERE s.response_id = r.id
                           AND s.reading = 3 AND s.withdrawn_at IS NULL)
                 FROM responses r JOIN attempts a ON a.id = r.attempt_id
                 WHERE a.registration_id = $1",
            )
            .bind(reg)
            .fetch_all(&db.pool)
            .await
            .unwrap();
            rows
        }
    };
    for (i, who) in ["Ana (lower edge)", "Ben (upper edge)"].iter().enumerate() {
        let rows = state(f.regs[i].id).await;
        assert_eq!(rows.len(), n);
        assert!(
            rows.iter()
                .all(|(near, settled, thirds)| near.is_some() && settled.is_none() && *thirds == 1),
            "{who}: every response read once more: {rows:?}"
        );
    }
    let rows = state(f.regs[2].id).await;
    assert!(
        rows.iter()
            .all(|(near, settled, thirds)| near.is_none() && settled.is_some() && *thirds == 0),
        "Cy, beyond the margin: settled as read: {rows:?}"
    );
    let lines = imh_exam::store::results::compute(db, f.sitting.id)
        .await
        .unwrap();
    let pending = |reg: i64| {
        lines
            .iter()
            .find(|l| l.registration.id == reg)
            .map(|l| matches!(l.parts[1], imh_exam::store::results::PartLine::Pending(_)))
            .unwrap()
    };
    assert!(pending(f.regs[0].id) && pending(f.regs[1].id) && !pending(f.regs[2].id));
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'near-cut'"
        )
        .await,
        2
    );

    // The third readers read; each response settles on the mean of its three readings, and
    // the part is not looked at again.
    for (id, code, _) in &all {
        let third: Option<i64> = crate::scoring::assignments(db)
            .await
            .into_iter()
            .find(|x| x.0 == *id && x.2 == 3)
            .map(|x| x.1);
        if let Some(rater) = third {
            ratings::rate(db, rater, code, &final_score(3))
                .await
                .unwrap();
        }
    }
    let ana: Vec<(Option<f64>,)> = sqlx::query_as(
        "SELECT r.final_score FROM responses r JOIN attempts a ON a.id = r.attempt_id
         WHERE a.registration_id = $1 ORDER BY r.id",
    )
    .bind(f.regs[0].id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for ((got,), s) in ana.iter().zip(spread(totals[0], n)) {
        let (a, b) = readings_for(s);
        assert_eq!(*got, Some(f64::from(a + b + 3) / 3.0));
    }
    let lines = imh_exam::store::results::compute(db, f.sitting.id)
        .await
        .unwrap();
    assert!(lines
        .iter()
        .all(|l| !matches!(l.parts[1], imh_exam::store::results::PartLine::Pending(_))));
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'near-cut'"
        )
        .await,
        2
    );
}

/// Copies the sample bank with Part Two's pass mark and closer look changed, and imports it.
async fn import_part_two_rules(db: &Db, pass_percent: u32, margin: &str) {
    let bank = tempfile::tempdir().unwrap();
    crate::helpers::copy_dir(&crate::helpers::repo().join("item-bank"), bank.path());
    let path = bank.path().join("blueprints/level-iii.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let (one, two) = text.split_once("[part_two]").unwrap();
    assert!(
        two.contains("\nnear_cut_margin = 1.0\n"),
        "the sample's margin: {two}"
    );
    let two = two
        .replacen(
            "pass_percent = 80",
            &format!("pass_percent = {pass_percent}"),
            1,
        )
        .replacen(
            "near_cut_margin = 1.0",
            &format!("near_cut_margin = {margin}"),
            1,
        );
    std::fs::write(&path, format!("{one}[part_two]{two}")).unwrap();
    imh_exam::store::bank::import_dir(db, bank.path(), "test")
        .await
        .unwrap();
}

async fn analytic_part_two_sums_its_questions_against_the_pass_mark(engine: Engine) {
    use imh_exam::bank::Level;
    use imh_exam::exam::form::Parts;
    use imh_exam::store::attempts;
    use imh_exam::store::results::{self, PartLine};

    let t = crate::helpers::test_db(engine).await;
    let db = &t.db;
    let s = crate::helpers::exam::OpenSitting::new(db).await;
    // Pass mark 75% of Part Two (13.5 of 18), no closer look, so the mark itself decides.
    import_part_two_rules(db, 75, "0").await;
    for (name, org) in [("reader1", "Eastfield"), ("reader2", "Westbrook")] {
        crate::helpers::add_staff(db, name, Role::Rater, org).await;
    }
    let only_two = Parts {
        one: false,
        two: true,
    };
    // Ana answers every question of her two vignettes; Ben leaves one question blank.
    let mut seats = Vec::new();
    for (who, blank) in [("ana@x.org", false), ("ben@x.org", true)] {
        let new = crate::helpers::exam::candidate(who, Level::III, only_two, "1");
        let seat = s.start(db, &new, 2).await;
        let a = &seat.attempt;
        let chosen: Vec<&str> = a.form.part_two[..2]
            .iter()
            .map(|v| v.vignette_id.as_str())
            .collect();
        let mut sorted = chosen.clone();
        sorted.sort();
        attempts::save(db, a.id, "@choice", &sorted.join(","), 1, s.now + 1000)
            .await
            .unwrap();
        let mut seq = 1;
        for (k, v) in a.form.part_two[..2].iter().enumerate() {
            assert!(v.items.len() >= 3, "a vignette of several questions");
            for (i, (item, _)) in v.items.iter().enumerate() {
                if blank && k == 0 && i == 1 {
                    continue;
                }
                seq += 1;
                attempts::save(db, a.id, item, "A considered answer.", seq, s.now + 2000)
                    .await
                    .unwrap();
            }
        }
        attempts::submit(db, a.id, "candidate", s.now + 3000)
            .await
            .unwrap()
            .unwrap();
        seats.push(seat);
    }
    ratings::assign_sitting(db, s.sitting.id, &Default::default(), "committee")
        .await
        .unwrap();
    let all = crate::scoring::responses(db, s.sitting.id).await;
    assert_eq!(
        all.len(),
        12,
        "one response per question, the blank one too"
    );
    // The blank question is settled at 0 and read by no one.
    let blank: Vec<(i64, Option<f64>, i64)> = sqlx::query_as(
        "SELECT r.id, r.final_score, (SELECT COUNT(*) FROM assignments s WHERE s.response_id = r.id)
         FROM responses r WHERE r.body = ''",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(blank.len(), 1);
    assert_eq!((blank[0].1, blank[0].2), (Some(0.0), 0));
    // Ana's six questions resolve to 3, 3, 2, 2, 2 and 1.5: 13.5 of 18, exactly the mark.
    // Ben's five answered resolve to 3, 3, 3, 2, 2 (13 of 18) with the blank at 0: below it.
    let plan: [(i64, Vec<(u32, u32)>); 2] = [
        (
            seats[0].reg.id,
            vec![(3, 3), (3, 3), (2, 2), (2, 2), (2, 2), (1, 2)],
        ),
        (
            seats[1].reg.id,
            vec![(3, 3), (3, 3), (3, 3), (2, 2), (2, 2)],
        ),
    ];
    for (reg, readings) in &plan {
        let mine: Vec<&(i64, String, i64)> = all
            .iter()
            .filter(|r| r.2 == *reg && !blank.iter().any(|b| b.0 == r.0))
            .collect();
        assert_eq!(mine.len(), readings.len());
        for (r, (a, b)) in mine.iter().zip(readings) {
            let readers: Vec<i64> = crate::scoring::assignments(db)
                .await
                .into_iter()
                .filter(|x| x.0 == r.0)
                .map(|x| x.1)
                .collect();
            assert_eq!(readers.len(), 2);
            for (rater, score) in readers.iter().zip([a, b]) {
                ratings::rate(db, *rater, &r.1, &final_score(*score))
                    .await
                    .unwrap();
            }
        }
    }
    let lines = results::compute(db, s.sitting.id).await.unwrap();
    let two = |reg: i64| match &lines
        .iter()
        .find(|l| l.registration.id == reg)
        .unwrap()
        .parts[1]
    {
        PartLine::Scored(r) => r.clone(),
        other => panic!("{other:?}"),
    };
    let (ana, ben) = (two(seats[0].reg.id), two(seats[1].reg.id));
    assert_eq!((ana.points, ana.max, ana.passed), (13.5, 18.0, true));
    assert_eq!((ben.points, ben.max, ben.passed), (13.0, 18.0, false));
    // Per question and per domain: the questions' scores add up to the part's.
    for r in [&ana, &ben] {
        assert_eq!(r.detail.responses.len(), 6);
        let by_question: f64 = r.detail.responses.iter().map(|q| q.score).sum();
        let by_domain: f64 = r.detail.by_domain.values().map(|d| d.0).sum();
        let max_by_domain: f64 = r.detail.by_domain.values().map(|d| d.1).sum();
        assert_eq!(
            (by_question, by_domain, max_by_domain),
            (r.points, r.points, 18.0)
        );
    }
    assert!(ben.detail.responses.iter().any(|q| q.score == 0.0));
}

on_both_engines!(
    analytic_part_two_sums_its_questions_against_the_pass_mark,
    the_closer_look_near_the_cut_starts_exactly_at_the_margins_edges
);
