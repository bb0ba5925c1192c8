//! The technical report of a sitting (`/stats/N/report`), the forms' difficulty spread on the
//! Rasch page and Rudner's accuracy with the Rasch CSEM in the decision table: on a demo-like
//! sitting of 200 simulated candidates, on both engines.

use imh_exam::auth::Role;
use imh_exam::exam::fair::Spread;
use imh_exam::exam::form::Form;
use imh_exam::stats::{decision, tcc};
use imh_exam::store::{bank, calibration};

use crate::helpers::exam::import_sample;
use crate::helpers::{demo_raters, spawn_app_on, test_db, Browser, Engine};
use crate::on_both_engines;

/// The value of `name` in a two-or-more-column CSV whose first column names the statistic.
fn value(csv: &str, name: &str) -> Option<f64> {
    csv.lines().find_map(|l| {
        l.strip_prefix(&format!("{name},"))?
            .split(',')
            .next()?
            .parse()
            .ok()
    })
}

/// The rows of a CSV as maps from header to cell.
fn rows(csv: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

/// The sections every report has, by their headings.
const SECTIONS: [&str; 8] = [
    "1. Candidates and results",
    "2. Reliability and classification at the cut",
    "3. Forms' difficulty and equating",
    "4. Rasch item map",
    "5. Item flags",
    "6. Rater agreement",
    "7. Differential item functioning",
    "8. Key changes",
];

async fn demo_sitting(engine: Engine) -> (crate::helpers::TestApp, i64) {
    let t = test_db(engine).await;
    let db = &t.db;
    import_sample(db).await;
    let raters = demo_raters(db).await;
    let id = imh_exam::demo::completed_sitting(db, 200, &raters)
        .await
        .unwrap();
    (spawn_app_on(t).await, id)
}

/// The forms' spread on the Rasch page is the spread of the forms as stored: each one's
/// expected percent correct at its blueprint's θ_cut, over its calibrated scored items; and
/// θ_cut is where the operational pool's expected percent is the pass percent.
async fn check_spread(app: &crate::helpers::TestApp, committee: &Browser, id: i64) {
    let csv = committee
        .get_text(&format!("/stats/{id}/rasch?csv=spread"))
        .await;
    let spread = rows(&csv);
    assert!(!spread.is_empty(), "{csv}");
    let forms: usize = spread
        .iter()
        .map(|r| r["forms"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(forms, 200, "every form placed: {csv}");
    let html = committee.get_text(&format!("/stats/{id}/rasch")).await;
    assert!(
        html.contains("The forms' difficulty at the cut") && html.contains("level-iii"),
        "{html}"
    );

    let db = &app.db;
    let calibrated: std::collections::BTreeMap<(String, i64), f64> =
        calibration::of_sitting(db, id)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|r| Some(((r.item_id, r.item_version), r.difficulty?)))
            .collect();
    let pool = bank::pool(db).await.unwrap();
    let blueprints = bank::blueprints(db).await.unwrap();
    let stored: Vec<(String,)> = sqlx::query_as(
        "SELECT a.form FROM attempts a JOIN registrations g ON g.id = a.registration_id
         WHERE g.sitting_id = $1 AND a.part = 1 AND a.submitted_at IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let stored: Vec<Form> = stored
        .iter()
        .map(|(f,)| serde_json::from_str(f).unwrap())
        .collect();
    for row in &spread {
        let bp = blueprints
            .iter()
            .find(|b| b.id == row["blueprint"])
            .unwrap();
        let theta_cut: f64 = row["theta_cut"].parse().unwrap();
        let pool_bs: Vec<f64> = pool
            .operational(bp)
            .iter()
            .filter_map(|i| {
                calibrated
                    .get(&(i.id.clone(), i64::from(i.version)))
                    .copied()
            })
            .collect();
        let at_cut = tcc::expected_percent(theta_cut, &pool_bs).unwrap();
        assert!(
            (at_cut - f64::from(bp.part_one.pass_percent)).abs() < 1e-6,
            "{}: {at_cut} at θ_cut {theta_cut}",
            bp.id
        );
        let percents: Vec<f64> = stored
            .iter()
            .filter(|f| f.blueprint == bp.id)
            .map(|f| {
                let bs: Vec<f64> = f
                    .part_one
                    .iter()
                    .filter(|e| e.scored)
                    .filter_map(|e| {
                        calibrated
                            .get(&(e.item_id.clone(), i64::from(e.version)))
                            .copied()
                    })
                    .collect();
                tcc::expected_percent(theta_cut, &bs).unwrap()
            })
            .collect();
        let s = Spread::of(&percents).unwrap();
        for (name, want) in [
            ("mean", s.mean),
            ("sd", s.sd),
            ("min", s.min),
            ("max", s.max),
        ] {
            let got: f64 = row[name].parse().unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "{} {name}: {got} vs {want}",
                bp.id
            );
        }
        assert_eq!(row["forms"], s.forms.to_string());
        assert!((40.0..=100.0).contains(&s.mean), "{s:?}");
    }
}

/// Rudner's accuracy and the Rasch CSEM in the decision table: what the calibrated sitting's
/// measures give, and sane.
async fn check_rasch_decision(app: &crate::helpers::TestApp, committee: &Browser, id: i64) {
    let csv = committee
        .get_text(&format!("/stats/{id}/items?csv=decision"))
        .await;
    let accuracy = value(&csv, "rudner_accuracy").unwrap_or_else(|| panic!("{csv}"));
    let consistency = value(&csv, "rudner_consistency").unwrap();
    assert!((0.5..=1.0).contains(&accuracy), "{csv}");
    // Consistency Σ P² + (1 − P)² never exceeds accuracy Σ max(P, 1 − P).
    assert!(consistency <= accuracy && consistency > 0.5, "{csv}");
    assert_eq!(value(&csv, "rudner_persons"), Some(200.0), "{csv}");
    let csem = value(&csv, "csem_rasch_at_cut").unwrap();
    assert!(
        (0.2..1.0).contains(&csem),
        "a 60-item form near its cut: {csv}"
    );
    assert!(value(&csv, "csem_binomial_at_cut").unwrap() > 3.0, "{csv}");
    // The same as the calibrated sitting's measures give, each against its blueprint's θ_cut.
    let scale = calibration::sitting_scale(&app.db, id)
        .await
        .unwrap()
        .unwrap();
    let measures: Vec<decision::Measure> = scale
        .persons
        .iter()
        .map(|p| {
            let m = p.measure.unwrap();
            decision::Measure {
                theta: m.theta - scale.theta_cut(p),
                se: m.se,
            }
        })
        .collect();
    let r = decision::rudner(&measures, 0.0).unwrap();
    assert!((r.accuracy - accuracy).abs() < 1e-12, "{r:?}");
    let theta_cut = value(&csv, "theta_cut").unwrap();
    assert!(
        scale
            .blueprints
            .iter()
            .any(|b| (b.target.theta_cut - theta_cut).abs() < 0.5),
        "{csv}"
    );
}

async fn the_report_has_every_section_with_real_numbers(engine: Engine) {
    let (app, id) = demo_sitting(engine).await;
    let committee = app.as_role(Role::Committee).await;
    check_spread(&app, &committee, id).await;
    check_rasch_decision(&app, &committee, id).await;

    // A key change, with its reason, to find in the report.
    let items = committee
        .get_text(&format!("/stats/{id}/items?csv=items"))
        .await;
    // The first column is the item's label: its id, and " vN" after a first version.
    let label = items.lines().nth(1).unwrap().split(',').next().unwrap();
    let (item, version) = label.split_once(" v").unwrap_or((label, "1"));
    let res = committee
        .post_form(
            "/keys",
            "/keys",
            &[
                ("item", item),
                ("version", version),
                ("rule", "A|B"),
                (
                    "reason",
                    "Two defensible answers, found in the annual review",
                ),
            ],
        )
        .await;
    assert!(
        res.status().is_success() || res.status() == 303,
        "{}",
        res.status()
    );

    let res = committee.get(&format!("/stats/{id}/report")).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert_eq!(html.matches("<h1").count(), 1);
    for s in SECTIONS {
        assert!(html.contains(&format!("{s}</h2>")), "{s}: {html}");
    }
    // Every table has a caption; headers are scoped.
    assert_eq!(
        html.matches("<table").count(),
        html.matches("<caption").count()
    );
    assert!(!html.contains("<th>"), "every header cell has a scope");
    // Real numbers in each section.
    assert!(html.contains("200 registered"), "{html}");
    let kr20 = value(
        &committee
            .get_text(&format!("/stats/{id}/items?csv=form"))
            .await,
        "kr20",
    )
    .unwrap();
    assert!(html.contains(&format!("{kr20:.3}")), "KR-20 {kr20}: {html}");
    for label in [
        "Part One pass rate",
        "CSEM at the cut (Lord's binomial)",
        "CSEM at the cut (Rasch), logits",
        "Livingston &amp; Lewis accuracy",
        "Rudner accuracy (consistency)",
        "Forms' expected percent correct at θ_cut",
        "Cohen's kappa",
        "Is English your first language?",
        "Two defensible answers, found in the annual review",
    ] {
        assert!(html.contains(label), "{label}: {html}");
    }
    // The item map: an SVG with its title and description, and the table that says the same.
    assert_eq!(html.matches("<svg").count(), 1, "{html}");
    assert!(
        html.contains("role=\"img\"") && html.contains("candidates (left) and"),
        "{html}"
    );
    assert!(html.contains("The item map as a table"), "{html}");
    let map_persons: u64 = html
        .split("class=\"item-map-table\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap()
        .split("<tr>")
        .skip(2)
        .map(|r| {
            r.split("<td>")
                .nth(2)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(map_persons, 200);
    // Every figure links to its page.
    for link in [
        format!("href=\"/scoring/{id}/results\""),
        format!("href=\"/stats/{id}/items\""),
        format!("href=\"/stats/{id}/rasch\""),
        format!("href=\"/stats/{id}/rasch#spread\""),
        format!("href=\"/stats/{id}/agreement\""),
        format!("href=\"/stats/{id}/dif?question=language&amp;focal=other&amp;reference=english\""),
        format!("href=\"/stats/{id}/items/{item}\""),
        "href=\"/keys\"".to_string(),
        format!("href=\"/stats/{id}/report?download=1\""),
    ] {
        assert!(html.contains(&link), "{link}: {html}");
    }
    // The statistics pages link to it.
    for page in ["items", "rasch", "agreement", "dif"] {
        let p = committee.get_text(&format!("/stats/{id}/{page}")).await;
        assert!(
            p.contains(&format!("href=\"/stats/{id}/report\"")),
            "{page}"
        );
    }

    // The download: one self-contained file, links to the site spelled out.
    let res = committee
        .get(&format!("/stats/{id}/report?download=1"))
        .await;
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".html"),
        "{disposition}"
    );
    let file = res.text().await.unwrap();
    assert!(file.starts_with("<!DOCTYPE html>"), "{}", &file[..100]);
    assert!(!file.contains("<link"), "no stylesheet to fetch");
    assert!(!file.contains("<script"), "no script");
    assert!(!file.contains("src=\""), "nothing to fetch");
    assert!(file.contains("<style>") && file.contains("@media print"));
    // Printed, each section starts a page.
    assert!(
        file.contains(".report-section { break-before: page"),
        "the print stylesheet"
    );
    assert!(file.contains("<svg") && file.contains("8. Key changes</h2>"));
    assert!(
        file.contains(&format!("href=\"{}/stats/{id}/items\"", app.base)),
        "absolute links back to the site"
    );
    assert!(
        !file.contains("name=\"csrf\""),
        "no forms or tokens in the file"
    );

    // Only the committee (and administrators) may read it.
    for role in [Role::Rater, Role::Proctor] {
        let b = app.as_role(role).await;
        let res = b.get(&format!("/stats/{id}/report")).await;
        assert_eq!(res.status(), 403, "{role:?}");
        let res = b.get(&format!("/stats/{id}/report?download=1")).await;
        assert_eq!(res.status(), 403, "{role:?}");
    }
    let res = app.browser().get(&format!("/stats/{id}/report")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(committee.get("/stats/999999/report").await.status(), 404);

    // Without the calibration, the Rasch figures say so instead of showing numbers.
    let mut tx = app.db.write().await.unwrap();
    sqlx::query("DELETE FROM calibrations WHERE sitting_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let csv = committee
        .get_text(&format!("/stats/{id}/items?csv=decision"))
        .await;
    assert!(
        value(&csv, "subkoviak_p0").is_some() && !csv.contains("rudner"),
        "{csv}"
    );
    let page = committee.get_text(&format!("/stats/{id}/items")).await;
    assert!(page.contains("id=\"rasch-decision\""), "{page}");
    let html = committee.get_text(&format!("/stats/{id}/report")).await;
    assert!(html.contains("The sitting is not calibrated"), "{html}");
    assert!(
        !html.contains("<svg") && !html.contains("Rudner accuracy"),
        "{html}"
    );
    assert!(html.contains("KR-20"), "{html}");
}

on_both_engines!(the_report_has_every_section_with_real_numbers);
