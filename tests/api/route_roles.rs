//! Who may use each route, on both engines: every route of the exam, scoring, statistics,
//! appeals and studies, tried as each role and anonymously; only its roles get in.

use std::collections::BTreeSet;

use imh_exam::auth::Role;
use imh_exam::bank::Level;
use imh_exam::exam::form::Parts;
use imh_exam::store::bank::blueprints;
use imh_exam::store::ratings;

use crate::helpers::exam::{admitted, candidate};
use crate::helpers::{csrf_of, spawn_app, Browser, Engine};
use crate::on_both_engines;
use crate::scoring::{assignments, responses, sat_sitting};

/// Who may use each route: (method, path, roles let in). "candidate" pages let in only the
/// candidate; "anyone" pages everyone.
async fn every_route_admits_only_its_roles(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = sat_sitting(&app.db).await;
    ratings::assign_sitting(&app.db, f.sitting.id, &BTreeSet::new(), "committee")
        .await
        .unwrap();
    let sid = f.sitting.id;
    let reg = f.regs[0].id;
    let attempt: i64 = sqlx::query_scalar("SELECT id FROM attempts ORDER BY id LIMIT 1")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let (rid, code, _) = responses(&app.db, sid).await.remove(0);
    let holder = assignments(&app.db)
        .await
        .into_iter()
        .find(|a| a.0 == rid)
        .unwrap()
        .1;
    let holder_name = format!(
        "rater{}",
        f.raters.iter().position(|r| *r == holder).unwrap() + 1
    );

    // A candidate who is admitted and has not started, in their own browser.
    let bps = blueprints(&app.db).await.unwrap();
    let (_, cand_code) = admitted(
        &app.db,
        &f.sitting,
        &candidate("dee@x.org", Level::III, Parts::BOTH, "1"),
        &bps,
    )
    .await;
    let cand = app.browser();
    let res = cand.enter(&cand_code).await;
    assert_eq!(res.status(), 303);

    let anon = app.browser();
    let browsers: Vec<(&str, Browser)> = vec![
        ("anonymous", anon),
        ("candidate", cand),
        ("admin", app.as_role(Role::Admin).await),
        ("proctor", app.as_role(Role::Proctor).await),
        ("rater", app.signed_in(&holder_name).await),
        ("committee", app.as_role(Role::Committee).await),
    ];
    // A batch of access codes, registered by the matrix's proctor.
    let proctor = &browsers.iter().find(|(w, _)| *w == "proctor").unwrap().1;
    let res = proctor
        .post_form(
            "/sittings",
            &format!("/sittings/{sid}/register"),
            &[
                ("name", "Eve Long"),
                ("email", "eve@x.org"),
                ("level", "III"),
            ],
        )
        .await;
    assert_eq!(res.status(), 201);
    let batch: i64 = sqlx::query_scalar("SELECT MAX(id) FROM registration_batches")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    const STAFF_P: &str = "admin proctor";
    const COMMITTEE: &str = "admin committee";
    let routes: Vec<(&str, String, &str)> = vec![
        ("GET", "/healthz".into(), "anyone"),
        ("GET", "/login".into(), "anyone"),
        ("GET", "/enter".into(), "anyone"),
        ("GET", "/".into(), "admin proctor rater committee"),
        ("GET", "/admin/users".into(), "admin"),
        ("POST", "/admin/users".into(), "admin"),
        ("GET", "/bank".into(), COMMITTEE),
        ("GET", "/sittings".into(), STAFF_P),
        ("POST", "/sittings".into(), STAFF_P),
        ("GET", format!("/sittings/{sid}"), STAFF_P),
        ("GET", format!("/sittings/{sid}/live"), STAFF_P),
        ("POST", format!("/sittings/{sid}/register"), STAFF_P),
        ("POST", format!("/sittings/{sid}/import"), STAFF_P),
        ("POST", format!("/sittings/{sid}/incident"), STAFF_P),
        ("POST", format!("/sittings/{sid}/pause-all"), STAFF_P),
        ("POST", format!("/sittings/{sid}/resume-all"), STAFF_P),
        ("GET", format!("/batches/{batch}"), STAFF_P),
        ("GET", format!("/batches/{batch}/codes.csv"), STAFF_P),
        ("GET", format!("/batches/{batch}/slips"), STAFF_P),
        ("POST", format!("/batches/{batch}/handed-out"), STAFF_P),
        ("POST", format!("/registrations/{reg}/admit"), STAFF_P),
        ("POST", format!("/registrations/{reg}/absent"), STAFF_P),
        ("POST", format!("/registrations/{reg}/release"), STAFF_P),
        ("POST", format!("/attempts/{attempt}/pause"), STAFF_P),
        ("POST", format!("/attempts/{attempt}/resume"), STAFF_P),
        ("POST", format!("/attempts/{attempt}/add-time"), STAFF_P),
        ("POST", format!("/attempts/{attempt}/void"), STAFF_P),
        ("GET", "/rate".into(), "rater"),
        ("POST", "/rate/conflicts".into(), "rater"),
        ("GET", format!("/rate/{code}"), "rater"),
        ("POST", format!("/rate/{code}"), "rater"),
        ("GET", "/scoring".into(), COMMITTEE),
        ("GET", format!("/scoring/{sid}"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/assign"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/withdraw"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/validity"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/qualifying"), COMMITTEE),
        ("GET", format!("/scoring/{sid}/read-behind"), COMMITTEE),
        ("GET", format!("/scoring/{sid}/read-behind/1"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/read-behind/1"), COMMITTEE),
        ("GET", format!("/scoring/{sid}/results"), COMMITTEE),
        ("GET", format!("/scoring/{sid}/results.csv"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/release"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/results/compute"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/pass-on"), COMMITTEE),
        (
            "GET",
            format!("/scoring/responses/{rid}/feedback"),
            COMMITTEE,
        ),
        (
            "POST",
            format!("/scoring/responses/{rid}/feedback"),
            COMMITTEE,
        ),
        ("GET", "/keys".into(), COMMITTEE),
        (
            "GET",
            format!("/keys?sitting={sid}&item=TF-0001"),
            COMMITTEE,
        ),
        ("GET", format!("/scoring/{sid}/comments.csv"), COMMITTEE),
        ("GET", format!("/scoring/{sid}/appeals"), COMMITTEE),
        ("GET", format!("/scoring/{sid}/appeals.csv"), COMMITTEE),
        ("POST", format!("/scoring/{sid}/appeals/1/start"), COMMITTEE),
        (
            "POST",
            format!("/scoring/{sid}/appeals/1/decide"),
            COMMITTEE,
        ),
        ("GET", format!("/stats/{sid}/agreement"), COMMITTEE),
        ("GET", format!("/stats/{sid}/items"), COMMITTEE),
        ("GET", format!("/stats/{sid}/items/TF-0001"), COMMITTEE),
        ("GET", format!("/stats/{sid}/dif"), COMMITTEE),
        ("GET", format!("/stats/{sid}/rasch"), COMMITTEE),
        ("GET", format!("/stats/{sid}/report"), COMMITTEE),
        ("GET", format!("/stats/{sid}/report?download=1"), COMMITTEE),
        ("POST", "/keys".into(), COMMITTEE),
        ("GET", "/candidate".into(), "candidate"),
        ("POST", "/candidate/about".into(), "candidate"),
        ("POST", "/candidate/appeal".into(), "candidate"),
        ("GET", "/exam/1".into(), "candidate"),
        ("GET", "/exam/1/item/1".into(), "candidate"),
        ("POST", "/exam/1/item/1".into(), "candidate"),
        ("GET", "/exam/2/vignettes".into(), "candidate"),
        ("POST", "/exam/2/vignettes".into(), "candidate"),
        ("GET", "/exam/1/review".into(), "candidate"),
        ("POST", "/exam/1/break".into(), "candidate"),
        ("POST", "/exam/1/end-break".into(), "candidate"),
        ("GET", "/exam/1/receipt".into(), "candidate"),
        ("GET", "/exam/api/clock/1".into(), "candidate"),
        ("POST", "/exam/api/event".into(), "candidate"),
        ("POST", "/exam/api/save".into(), "candidate"),
        ("POST", "/exam/1/start".into(), "candidate"),
        ("POST", "/exam/1/submit".into(), "candidate"),
    ];
    let mut wrong = Vec::new();
    for (method, path, allowed) in &routes {
        for (who, b) in &browsers {
            let mut token = String::new();
            for page in ["/login", "/", "/candidate"] {
                let html = b.get_text(page).await;
                if html.contains("name=\"csrf\"") {
                    token = csrf_of(&html);
                    break;
                }
            }
            assert!(!token.is_empty(), "a form token for {who}");
            let res = if *method == "GET" {
                b.get(path).await
            } else if path.starts_with("/exam/api/") {
                b.client
                    .post(b.url(path))
                    .header("x-csrf-token", &token)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .unwrap()
            } else {
                b.client
                    .post(b.url(path))
                    .form(&[("csrf", token.as_str())])
                    .send()
                    .await
                    .unwrap()
            };
            let status = res.status().as_u16();
            let location = res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let denied = status == 403
                || status == 401
                || (status == 303
                    && (location.starts_with("/login") || location.starts_with("/enter")))
                || (*who == "candidate" && *path == "/" && location == "/candidate");
            let let_in = *allowed == "anyone" || allowed.split(' ').any(|r| r == *who);
            if let_in == denied {
                wrong.push(format!(
                    "{method} {path} as {who}: {status} {location} (expected {})",
                    if let_in { "let in" } else { "refused" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

on_both_engines!(every_route_admits_only_its_roles);
