//! Issue 11 in the live system, on both engines: fair Part One forms once the pool is
//! calibrated, one form for a whole sitting where the blueprint says so, and equated results
//! with the committee's audited decision on which score decides.

use imh_exam::auth::Role;
use imh_exam::bank::{Level, PassOn};
use imh_exam::exam::fair;
use imh_exam::exam::form::{assemble, History, Parts};
use imh_exam::scoring::equating::decide;
use imh_exam::store::attempts::{self, Attempt};
use imh_exam::store::bank::{blueprints, import_dir, pool};
use imh_exam::store::{audit, calibration, forms, now_ms, results, Db};

use crate::helpers::exam::{admitted, candidate, import_sample, open_sitting};
use crate::helpers::server::Server;
use crate::helpers::{
    copy_dir, demo_raters, repo, spawn_app_on, test_db, Browser, Engine, TestApp,
};
use crate::on_both_engines;

const PART_ONE: Parts = Parts {
    one: true,
    two: false,
};

/// Enters with `code` in a new browser of `app` and starts Part One; returns the attempt.
async fn start_part_one(app: &TestApp, b: &Browser, code: &str, reg: i64) -> Attempt {
    b.enter_as_candidate(code).await;
    let res = b.post_form("/candidate", "/exam/1/start", &[]).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    attempts::attempts_of(&app.db, reg)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.part == 1)
        .expect("Part One started")
}

async fn live_forms_are_fair_once_the_pool_is_calibrated(engine: Engine) {
    let t = test_db(engine).await;
    import_sample(&t.db).await;
    let raters = demo_raters(&t.db).await;
    let spring = imh_exam::demo::completed_sitting_named(&t.db, "Spring", 300, &raters)
        .await
        .unwrap();
    let app = spawn_app_on(t).await;
    // The committee calibrates the spring sitting (again, as the demo did).
    let committee = app.as_role(Role::Committee).await;
    let res = committee
        .post_form(
            &format!("/stats/{spring}/rasch"),
            &format!("/stats/{spring}/calibrate"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());

    let bps = blueprints(&app.db).await.unwrap();
    let bp = bps.iter().find(|b| b.id == "level-iii").unwrap();
    let pool = pool(&app.db).await.unwrap();
    let d = forms::pool_difficulties(
        &pool,
        &calibration::latest_difficulties(&app.db).await.unwrap(),
    );
    let target = fair::target(bp, &pool, &d).expect("every operational item is calibrated");
    assert_eq!(target.tolerance, 2.0);

    // Candidates of a new sitting start Part One through the exam's own pages.
    let sitting = open_sitting(&app.db, now_ms()).await;
    let mut drawn = Vec::new();
    for i in 0..24 {
        let new = candidate(&format!("fair{i}@x.org"), Level::III, Parts::BOTH, "1");
        let (reg, code) = admitted(&app.db, &sitting, &new, &bps).await;
        // Each from their own machine, as at a test centre's desks (codes are rate-limited
        // per address).
        let b = app.browser_from(&format!("127.0.1.{}", 10 + i));
        let a = start_part_one(&app, &b, &code, reg.id).await;
        a.form.conforms_to(bp, &pool, PART_ONE).unwrap();
        let ids: Vec<&str> = a.form.part_one.iter().map(|e| e.item_id.as_str()).collect();
        for (k, x) in ids.iter().enumerate() {
            for y in &ids[k + 1..] {
                assert!(!pool.are_enemies(x, y), "{x} and {y} share a form");
            }
        }
        let percent = fair::expected_percent(&a.form, &d, target.theta_cut).unwrap();
        drawn.push(percent);
    }
    let outside: Vec<&f64> = drawn.iter().filter(|p| !target.within(**p)).collect();
    assert!(
        outside.is_empty(),
        "forms outside {:.2} ± {}: {outside:?}",
        target.percent,
        target.tolerance
    );
    // Plain draws from the same pool stray past the tolerance: without the fair draw, the
    // check above would fail.
    let plain: Vec<f64> = (0..200u64)
        .map(|seed| {
            let form = assemble(bp, &pool, &History::default(), PART_ONE, seed).unwrap();
            fair::expected_percent(&form, &d, target.theta_cut).unwrap()
        })
        .collect();
    let strays = plain.iter().filter(|p| !target.within(**p)).count();
    let (fair_spread, plain_spread) = (
        fair::Spread::of(&drawn).unwrap(),
        fair::Spread::of(&plain).unwrap(),
    );
    println!(
        "expected percent at the cut ({:.2}): live fair forms SD {:.2}, range {:.2}; plain draws SD {:.2}, range {:.2}, {strays} of 200 outside ±{}",
        target.percent,
        fair_spread.sd,
        fair_spread.range(),
        plain_spread.sd,
        plain_spread.range(),
        target.tolerance
    );
    assert!(strays >= 10, "{strays} of 200 plain draws outside");
    assert!(fair_spread.sd < plain_spread.sd);

    // A simulated sitting written in bulk (the demo's path) draws fair forms too: every Level
    // III form of the autumn sitting is within tolerance on the calibration it was drawn with.
    let mut tx = app.db.write().await.unwrap();
    sqlx::query("UPDATE registrations SET email = 'spring-' || email WHERE sitting_id = $1")
        .bind(spring)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let autumn = imh_exam::demo::completed_sitting_named(&app.db, "Autumn", 60, &raters)
        .await
        .unwrap();
    let forms: Vec<Attempt> = attempts::attempts_in_sitting(&app.db, autumn)
        .await
        .unwrap()
        .into_values()
        .flatten()
        .filter(|a| a.part == 1 && a.form.blueprint == "level-iii")
        .collect();
    assert!(forms.len() >= 30, "{}", forms.len());
    for a in &forms {
        let percent = fair::expected_percent(&a.form, &d, target.theta_cut).unwrap();
        assert!(target.within(percent), "bulk form at {percent}");
    }
}

async fn one_form_serves_the_whole_sitting_and_survives_a_restart(engine: Engine) {
    let t = test_db(engine).await;
    let bank = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("item-bank"), bank.path());
    let path = bank.path().join("blueprints/level-iii.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("forms = \"per-candidate\""));
    std::fs::write(
        &path,
        text.replace("forms = \"per-candidate\"", "forms = \"one\""),
    )
    .unwrap();
    import_dir(&t.db, bank.path(), "test").await.unwrap();
    let url = t.url.clone();
    let app = spawn_app_on(t).await;
    let bps = blueprints(&app.db).await.unwrap();
    let sitting = open_sitting(&app.db, now_ms()).await;
    let mut regs = Vec::new();
    for (i, level) in [
        Level::III,
        Level::III,
        Level::III,
        Level::IvClinical,
        Level::IvClinical,
    ]
    .into_iter()
    .enumerate()
    {
        let new = candidate(&format!("one{i}@x.org"), level, Parts::BOTH, "1");
        regs.push(admitted(&app.db, &sitting, &new, &bps).await);
    }
    let first = start_part_one(&app, &app.browser(), &regs[0].1, regs[0].0.id).await;
    let second = start_part_one(&app, &app.browser(), &regs[1].1, regs[1].0.id).await;
    assert_eq!(
        first.form, second.form,
        "Level III: one form for the sitting"
    );
    assert_eq!(first.form.part_one.len(), 65, "60 scored and 5 pretest");
    // The server restarts (another process on the same database): the third gets it too.
    let server = Server::start(&url).await;
    let b = app.browser().at(&server.base);
    b.enter_as_candidate(&regs[2].1).await;
    let res = b.post_form("/candidate", "/exam/1/start", &[]).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    drop(server);
    let third = attempts::attempts_of(&app.db, regs[2].0.id)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.part == 1)
        .unwrap();
    assert_eq!(third.form, first.form, "after a restart");
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sitting_forms WHERE sitting_id = $1")
        .bind(sitting.id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(kept, 1, "drawn once, for level III only");
    // A sitting written in bulk (the demo's path) keeps one form the same way.
    let raters = demo_raters(&app.db).await;
    let bulk = imh_exam::demo::completed_sitting_named(&app.db, "Bulk", 20, &raters)
        .await
        .unwrap();
    let level_iii: Vec<Attempt> = attempts::attempts_in_sitting(&app.db, bulk)
        .await
        .unwrap()
        .into_values()
        .flatten()
        .filter(|a| a.part == 1 && a.form.blueprint == "level-iii")
        .collect();
    assert!(level_iii.len() >= 10, "{}", level_iii.len());
    assert!(level_iii.iter().all(|a| a.form == level_iii[0].form));
    assert_eq!(
        level_iii[0].form.seed,
        forms::sitting_seed(bulk, "level-iii")
    );
    // Level IV (clinical) keeps per-candidate forms: its two candidates differ.
    let fourth = start_part_one(&app, &app.browser(), &regs[3].1, regs[3].0.id).await;
    let fifth = start_part_one(&app, &app.browser(), &regs[4].1, regs[4].0.id).await;
    assert_ne!(fourth.form.part_one, fifth.form.part_one);
    // Another sitting draws its own one form.
    let other = open_sitting(&app.db, now_ms()).await;
    let new = candidate("one-later@x.org", Level::III, Parts::BOTH, "1");
    let (reg, code) = admitted(&app.db, &other, &new, &bps).await;
    let later = start_part_one(&app, &app.browser(), &code, reg.id).await;
    assert_ne!(later.form.part_one, first.form.part_one);
    // From the sitting's own seed: the plain draw (try 0) or, once the bulk sitting's
    // calibration covers the pool, a fair try derived from it. Which try is kept depends on
    // the exposure the per-candidate Level IV forms above left, drawn from random seeds.
    let own = forms::sitting_seed(other.id, "level-iii");
    assert!(
        (0..fair::MAX_TRIES).any(|k| fair::derived_seed(own, k) == later.form.seed),
        "seed {} is not derived from the sitting's own seed {own}",
        later.form.seed
    );
    let kept: String = sqlx::query_scalar(
        "SELECT form FROM sitting_forms WHERE sitting_id = $1 AND blueprint_id = 'level-iii'",
    )
    .bind(other.id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(
        serde_json::from_str::<imh_exam::exam::form::Form>(&kept).unwrap(),
        *later.form,
        "the sitting keeps the form its candidate got"
    );
}

/// Every stored Part One result of the sitting: (registration, raw points, max, passed, the
/// equating).
async fn part_one(db: &Db, sitting: i64) -> Vec<(i64, f64, f64, bool, results::Equating)> {
    results::stored(db, sitting)
        .await
        .unwrap()
        .lines
        .into_iter()
        .filter_map(|l| match &l.parts[0] {
            results::PartLine::Scored(r) => Some((
                l.registration.id,
                r.points,
                r.max,
                r.passed,
                r.equating.clone().expect("Part One keeps its equating"),
            )),
            _ => None,
        })
        .collect()
}

/// Every result decided by `pass_on` as `scoring::equating::decide` decides.
fn decided_by(rows: &[(i64, f64, f64, bool, results::Equating)], pass_on: PassOn) {
    for (reg, points, max, passed, e) in rows {
        let want = decide(
            *points as u32,
            *max as u32,
            e.equated_percent,
            imh_exam::bank::PassMark::whole(80),
            pass_on,
        );
        assert_eq!((e.decided_by, *passed), want, "registration {reg}: {e:?}");
    }
}

async fn the_committee_decides_which_score_decides_and_it_is_audited(engine: Engine) {
    let t = test_db(engine).await;
    import_sample(&t.db).await;
    let raters = demo_raters(&t.db).await;
    let id = imh_exam::demo::completed_sitting(&t.db, 200, &raters)
        .await
        .unwrap();
    let app = spawn_app_on(t).await;
    // Calibrated before release: every Part One result has both readings; the blueprint
    // says raw.
    let before = part_one(&app.db, id).await;
    assert_eq!(before.len(), 200);
    assert!(before.iter().all(|r| r.4.equated_percent.is_some()));
    decided_by(&before, PassOn::Raw);
    let flips = before
        .iter()
        .filter(|(_, p, m, passed, e)| {
            decide(
                *p as u32,
                *m as u32,
                e.equated_percent,
                imh_exam::bank::PassMark::whole(80),
                PassOn::Equated,
            )
            .1 != *passed
        })
        .count();
    println!("decided by equated instead of raw: {flips} of 200 change between pass and fail");
    assert!(
        flips > 0,
        "some candidates near the cut are decided otherwise"
    );

    let committee = app.as_role(Role::Committee).await;
    let page = format!("/scoring/{id}/results");
    // A reason is required, and nothing changes without one.
    let res = committee
        .post_form(
            &page,
            &format!("/scoring/{id}/pass-on"),
            &[("pass_on", "equated"), ("reason", " ")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("Reason: say why"));
    let res = committee
        .post_form(
            &page,
            &format!("/scoring/{id}/pass-on"),
            &[("pass_on", "scaled"), ("reason", "x")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let count =
        |log: &[audit::AuditEntry]| log.iter().filter(|e| e.action == "pass-on-change").count();
    assert_eq!(count(&audit::recent(&app.db, 100).await.unwrap()), 0);

    let reason = "Forms differed in difficulty this sitting; the standard is the pool's.";
    let res = committee
        .post_form(
            &page,
            &format!("/scoring/{id}/pass-on"),
            &[("pass_on", "equated"), ("reason", reason)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "200 stored result(s) re-decided; {flips} changed between pass and fail"
        )),
        "{html}"
    );
    assert!(
        html.contains("the committee's decision for this sitting"),
        "{html}"
    );
    let after = part_one(&app.db, id).await;
    decided_by(&after, PassOn::Equated);
    // The figures stay; only the decisions follow the policy.
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(
            (b.0, b.1, b.4.equated_percent),
            (a.0, a.1, a.4.equated_percent)
        );
    }
    let log = audit::recent(&app.db, 100).await.unwrap();
    let entry = log.iter().find(|e| e.action == "pass-on-change").unwrap();
    assert!(
        entry.detail.contains(reason)
            && entry.detail.contains(&format!("sitting {id}"))
            && entry
                .detail
                .contains(&format!("{flips} changed between pass and fail")),
        "{}",
        entry.detail
    );
    // Listed with the key changes.
    let keys = committee.get_text("/keys").await;
    assert!(
        keys.contains(reason) && keys.contains("pass-on-history"),
        "{keys}"
    );
    // The page and the CSV show both readings and which decided.
    let html = committee.get_text(&page).await;
    assert!(
        html.contains(" · equated ") && html.contains("decided by equated"),
        "{html}"
    );
    let csv = committee
        .get_text(&format!("/scoring/{id}/results.csv"))
        .await;
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (eq, by) = (at("part_one_equated_percent"), at("part_one_decided_by"));
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 200);
    assert!(rows
        .iter()
        .all(|r| r[eq].parse::<f64>().is_ok() && r[by] == "equated"));
    // The candidate's report shows the equated percent and that it decided.
    let reg = imh_exam::store::sittings::registration(&app.db, after[0].0)
        .await
        .unwrap()
        .unwrap();
    let report = results::report(&app.db, &reg).await.unwrap().unwrap();
    assert_eq!(
        report.parts[0].1.equating.as_ref().unwrap().decided_by,
        PassOn::Equated
    );
    // On their page: the simulated candidate's access code is replaced by one we know.
    let code = "EQUA-TEDR-EPRT";
    let mut tx = app.db.write().await.unwrap();
    sqlx::query(
        "UPDATE access_codes SET code_hash = $1
         WHERE id = (SELECT access_code_id FROM registrations WHERE id = $2)",
    )
    .bind(imh_exam::auth::sha256_hex(code))
    .bind(reg.id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let candidate = app.browser_from("127.0.2.1");
    candidate.enter_as_candidate(code).await;
    let home = candidate.get_text("/candidate").await;
    let equated = report.parts[0].1.equating.as_ref().unwrap();
    assert!(
        home.contains(&format!(
            "Equated: {:.1}%",
            equated.equated_percent.unwrap()
        )) && home.contains("The pass mark applied to your equated percent."),
        "{home}"
    );

    // Back to raw: re-decided again, a second record.
    let res = committee
        .post_form(
            &page,
            &format!("/scoring/{id}/pass-on"),
            &[
                ("pass_on", "raw"),
                ("reason", "Back to the published rule."),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    decided_by(&part_one(&app.db, id).await, PassOn::Raw);
    assert_eq!(count(&audit::recent(&app.db, 100).await.unwrap()), 2);
}

on_both_engines!(
    live_forms_are_fair_once_the_pool_is_calibrated,
    one_form_serves_the_whole_sitting_and_survives_a_restart,
    the_committee_decides_which_score_decides_and_it_is_audited,
);
