//! The committee's study pages over HTTP: only the committee reaches them, bad fields are named,
//! the impact equals the sitting's stored results, the cut equals `angoff` on the stored
//! ratings, and an adoption from the results page with the released sitting's decision.

use std::collections::BTreeMap;

use imh_exam::auth::Role;
use imh_exam::bank::PassMark;
use imh_exam::stats::standard_setting::angoff;
use imh_exam::stats::tcc;
use imh_exam::store::studies::{self, HofsteePercent};
use imh_exam::store::{audit, bank::blueprints, calibration, Db};

use crate::helpers::exam::import_sample;
use crate::helpers::{add_staff, between, count, demo_raters, spawn_app_on, test_db, Engine};
use crate::on_both_engines;

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
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1
         ORDER BY r.registration_id",
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
    // θ at the cut through the study's items' calibrated difficulties (the demo calibrated the
    // sitting), where every one of them is calibrated.
    let by_version = calibration::latest_difficulties(db).await.unwrap();
    let bs: Option<Vec<f64>> = studies::items(db, id)
        .await
        .unwrap()
        .iter()
        .map(|i| by_version.get(&(i.item_id.clone(), i.version)).copied())
        .collect();
    let theta = cell(&html, "id=\"cut-1\"", "cut-theta");
    let t = bs.and_then(|bs| tcc::theta_for_score(cut.cut, &bs));
    match t {
        Some(t) => assert_eq!(theta, format!("{t:.3}")),
        None => assert!(theta.contains("not all calibrated"), "{theta}"),
    }
    // The equated percent: the expected percent on the blueprint's operational pool at θ.
    let pool = imh_exam::store::bank::pool(db).await.unwrap();
    let bp = blueprints(db)
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.id == "level-iii")
        .unwrap();
    let d = imh_exam::store::forms::pool_difficulties(&pool, &by_version);
    let pool_bs = imh_exam::exam::fair::pool_difficulties(&bp, &pool, &d).ok();
    let equated = cell(&html, "id=\"cut-1\"", "cut-equated");
    match t
        .zip(pool_bs)
        .and_then(|(t, p)| tcc::expected_percent(t, &p))
    {
        Some(e) => assert_eq!(equated, format!("{e:.2}%")),
        None => assert!(equated.starts_with('–'), "{equated}"),
    }
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
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1
         ORDER BY r.registration_id",
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
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1
         ORDER BY r.registration_id",
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
    // Back to 80%, leaving every released sitting as released: recorded at once, nothing moves.
    let res = committee
        .post_form(
            &results_page,
            &format!("{page}/adopt"),
            &[
                ("pass_mark", "80"),
                ("reason", "Back to the published mark."),
                ("release_policy", "keep"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let kept_page = res.headers()["location"].to_str().unwrap().to_string();
    let html = committee.get_text(&kept_page).await;
    assert!(
        between(&html, &format!("id=\"decided-{sitting}\""), "</p>").contains("Left as released"),
        "{html}"
    );
    let now: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT r.registration_id, r.passed FROM results r JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1 AND g.blueprint_id = 'level-iii' AND r.part = 1
         ORDER BY r.registration_id",
    )
    .bind(sitting)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(now, after);
    // The studies list links the study.
    let html = committee.get_text("/studies").await;
    assert!(html.contains("Spring Angoff"), "{html}");
}

on_both_engines!(the_committee_runs_a_study_reads_its_cut_and_adopts_it);
