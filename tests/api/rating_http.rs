//! Scoring over HTTP, on both engines: what a rater can reach never names a candidate nor shows
//! another rater's reading; who may use which route; the committee's flow from assignment to the
//! candidate's score report.

use std::collections::BTreeSet;

use imh_exam::auth::Role;
use imh_exam::store::ratings;
use imh_exam::store::sittings;

use crate::helpers::exam::{import_sample, open_sitting};
use crate::helpers::{spawn_app, Browser, Engine, TestApp};
use crate::on_both_engines;
use crate::scoring::{assignments, responses, sat_sitting, Fixture};

/// Everything that identifies the candidates of the fixture or their sitting.
pub(crate) async fn identifiers(app: &TestApp, f: &Fixture) -> Vec<String> {
    let mut out = vec![f.sitting.name.clone()];
    for (reg, code) in f.regs.iter().zip(&f.codes) {
        out.push(reg.name.clone());
        out.push(reg.email.clone());
        out.push(reg.organisation.clone());
        out.push(code.clone());
        out.push(code.replace('-', ""));
    }
    let ids: Vec<(i64, i64)> = sqlx::query_as("SELECT id, registration_id FROM attempts")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    for (attempt, reg) in ids {
        out.push(format!("/attempts/{attempt}"));
        out.push(format!("/registrations/{reg}"));
    }
    out.push(format!("/sittings/{}", f.sitting.id));
    out
}

/// Fails if `text` (a page or a header) holds any identifier, a date or a clock time.
pub(crate) fn assert_clean(what: &str, text: &str, forbidden: &[String]) {
    for f in forbidden {
        assert!(!text.contains(f.as_str()), "{what} shows {f:?}");
    }
    let bytes = text.as_bytes();
    for i in 0..bytes.len().saturating_sub(10) {
        let w = &bytes[i..i + 10];
        let date = w[..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'-'
            && w[5..7].iter().all(u8::is_ascii_digit)
            && w[7] == b'-'
            && w[8..10].iter().all(u8::is_ascii_digit);
        assert!(!date, "{what} shows a date: {}", String::from_utf8_lossy(w));
    }
    assert!(!text.contains(" UTC"), "{what} shows a time");
}

/// The same-site links of a page (hrefs starting with "/", not assets).
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with('/') && !h.starts_with("/assets/"))
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

/// Walks every page a rater can reach by links from their home and queue, checking each page
/// and header against `secrets`; returns the pages seen. (The appeals' re-readings are walked
/// the same way, `appeals.rs`.)
pub(crate) async fn walk_as_rater(b: &Browser, secrets: &[String]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut to_visit = vec!["/".to_string(), "/rate".to_string()];
    while let Some(path) = to_visit.pop() {
        if !seen.insert(path.clone()) || path == "/logout" {
            continue;
        }
        let res = b.get(&path).await;
        for (name, value) in res.headers() {
            assert_clean(
                &format!("header {name} of {path}"),
                value.to_str().unwrap_or_default(),
                secrets,
            );
        }
        let html = res.text().await.unwrap();
        assert_clean(&path, &html, secrets);
        to_visit.extend(links(&html));
    }
    seen
}

async fn a_rater_sees_no_candidate_identifier_nor_another_reading(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = sat_sitting(&app.db).await;
    ratings::assign_sitting(&app.db, f.sitting.id, &BTreeSet::new(), "committee")
        .await
        .unwrap();
    let forbidden = identifiers(&app, &f).await;
    let resp = responses(&app.db, f.sitting.id).await;
    let assigned = assignments(&app.db).await;

    // rater3 and another rater share a response; the other submits first, with words that
    // must not reach rater3 before rater3's own reading is final (nor after: readings stay blind).
    let me = f.raters[2];
    let (shared, other) = resp
        .iter()
        .find_map(|(id, code, _)| {
            let holders: Vec<i64> = assigned
                .iter()
                .filter(|a| a.0 == *id)
                .map(|a| a.1)
                .collect();
            holders
                .contains(&me)
                .then(|| (code.clone(), *holders.iter().find(|h| **h != me).unwrap()))
        })
        .expect("rater3 shares a response");
    let other_name = format!(
        "rater{}",
        f.raters.iter().position(|r| *r == other).unwrap() + 1
    );
    let ob = app.signed_in(&other_name).await;
    let page = format!("/rate/{shared}");
    let res = ob
        .post_form(
            &page,
            &page,
            &[
                ("score", "3"),
                ("note", "OTHER-NOTE-7731"),
                ("feedback", "OTHER-FEEDBACK-7731"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mut secrets = forbidden.clone();
    // The candidates' comments (on a question and a vignette each): never a rater's to see.
    let comments: Vec<String> =
        sqlx::query_scalar("SELECT answer FROM response_events WHERE item_id LIKE '@comment:%'")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(comments.len(), 6, "{comments:?}");
    secrets.extend(comments);
    secrets.push("OTHER-NOTE-7731".into());
    secrets.push("OTHER-FEEDBACK-7731".into());

    let b = app.signed_in("rater3").await;
    let seen = walk_as_rater(&b, &secrets).await;
    let codes: Vec<String> = ratings::queue(&app.db, me)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.code)
        .collect();
    assert!(
        codes.iter().all(|c| seen.contains(&format!("/rate/{c}"))),
        "every response in the queue was visited"
    );

    // What rater3 sends back, drafts, errors and submissions, shows nothing either.
    let page = format!("/rate/{shared}");
    for fields in [
        vec![
            ("score", "2"),
            ("note", "mine"),
            ("feedback", "mine"),
            ("action", "draft"),
        ],
        vec![
            ("score", "9"),
            ("note", "x"),
            ("feedback", "x"),
            ("action", "submit"),
        ],
        vec![
            ("score", "x"),
            ("note", "x"),
            ("feedback", "x"),
            ("action", "submit"),
        ],
        vec![
            ("score", "2"),
            ("note", "mine"),
            ("feedback", "mine"),
            ("action", "submit"),
        ],
    ] {
        let res = b.post_form(&page, &page, &fields).await;
        let status = res.status();
        let html = res.text().await.unwrap();
        assert_clean(&format!("POST {page} ({status})"), &html, &secrets);
    }
    let after = b.get_text(&page).await;
    assert_clean(&page, &after, &secrets);
    assert!(after.contains("You submitted a score of"), "{after}");
    let res = b
        .post_form("/rate", "/rate/conflicts", &[("email", "ben@x.org")])
        .await;
    let html = res.text().await.unwrap();
    assert_clean("POST /rate/conflicts", &html, &secrets);

    // A response not in rater3's queue is not found, exactly like one that does not exist.
    let not_mine = resp
        .iter()
        .map(|r| r.1.clone())
        .find(|c| !codes.contains(c))
        .expect("a response rater3 does not hold");
    let res = b.get(&format!("/rate/{not_mine}")).await;
    assert_eq!(res.status(), 404);
    let unknown = b.get("/rate/R-AAAA-AAAA").await;
    assert_eq!(unknown.status(), 404);
    // The same page but for the request id each answer carries.
    let without_id = |page: String| match (page.find("request id <code>"), page.rfind("</code>")) {
        (Some(from), Some(to)) if from < to => format!("{}{}", &page[..from], &page[to..]),
        _ => page,
    };
    assert_eq!(
        without_id(res.text().await.unwrap()),
        without_id(unknown.text().await.unwrap())
    );
    let res = b
        .post_form(
            "/rate",
            &format!("/rate/{not_mine}"),
            &[("score", "1"), ("action", "submit")],
        )
        .await;
    assert_eq!(res.status(), 404);
}

async fn the_committee_assigns_raters_score_by_form_and_results_reach_the_candidate(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let f = sat_sitting(&app.db).await;
    let committee = app.as_role(Role::Committee).await;
    let page = format!("/scoring/{}", f.sitting.id);
    let res = committee
        .post_form(&page, &format!("{page}/assign"), &[])
        .await;
    assert_eq!(res.status(), 303);
    let html = committee.get_text(&page).await;
    assert!(html.contains("rater1") && html.contains("rater4"), "{html}");

    // Every rater scores their queue through the desk's form; everything agrees at 2.
    for i in 1..=4 {
        let b = app.signed_in(&format!("rater{i}")).await;
        let queue = b.get_text("/rate").await;
        for code in ratings::queue(&app.db, f.raters[i - 1])
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.code)
        {
            assert!(queue.contains(&code));
            let desk = format!("/rate/{code}");
            let html = b.get_text(&desk).await;
            assert!(
                html.contains("Rubric") && html.contains("Anchor answer"),
                "{html}"
            );
            let res = b
                .post_form(
                    &desk,
                    &desk,
                    &[
                        ("score", "2"),
                        ("note", ""),
                        ("feedback", "Clear, relationship-based plan."),
                        ("action", "submit"),
                    ],
                )
                .await;
            assert_eq!(res.status(), 303, "submitting {code}");
        }
    }

    // The candidate sees nothing before release.
    let ana = app.browser();
    ana.enter(&f.codes[0]).await;
    let home = ana.get_text("/candidate").await;
    assert!(!home.contains("Your results"), "{home}");

    let results = format!("/scoring/{}/results", f.sitting.id);
    let html = committee.get_text(&results).await;
    assert!(html.contains("Not computed yet"), "{html}");
    let res = committee
        .post_form(&results, &format!("{results}/compute"), &[])
        .await;
    assert_eq!(res.status(), 303);
    let html = committee.get_text(&results).await;
    assert!(html.contains("60 of 60"), "{html}");
    let csv = committee
        .get(&format!("/scoring/{}/results.csv", f.sitting.id))
        .await;
    assert_eq!(
        csv.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let csv = csv.text().await.unwrap();
    assert!(
        // No calibration: no equated percent, and raw decided.
        csv.contains("ana@x.org,Lakeside,III,60,60,100.0,yes,,raw,12,18,66.7,no,no"),
        "{csv}"
    );
    let res = committee
        .post_form(&results, &format!("/scoring/{}/release", f.sitting.id), &[])
        .await;
    assert_eq!(res.status(), 303);
    let home = ana.get_text("/candidate").await;
    assert!(home.contains("Your results"), "{home}");
    assert!(home.contains("60 of 60 points"), "{home}");
    assert!(
        home.contains("The pass mark applied to your raw percent."),
        "{home}"
    );
    assert!(home.contains("12 of 18 points"), "{home}");
    assert!(
        home.contains("The pass mark is 14.4 of 18 points (80%).")
            && home.contains("The pass mark is 48 of 60 points (80%)."),
        "{home}"
    );
    assert!(home.contains("Clear, relationship-based plan."), "{home}");
    assert!(
        home.contains("You have not passed the written exam"),
        "{home}"
    );

    // The committee edits one response's feedback; the candidate reads the edit.
    let rid = responses(&app.db, f.sitting.id)
        .await
        .into_iter()
        .find(|r| r.2 == f.regs[0].id)
        .unwrap()
        .0;
    let fb = format!("/scoring/responses/{rid}/feedback");
    let res = committee
        .post_form(&fb, &fb, &[("feedback", "Edited by the committee.")])
        .await;
    assert_eq!(res.status(), 303);
    let home = ana.get_text("/candidate").await;
    assert!(home.contains("Edited by the committee."), "{home}");
    let _ = sittings::sitting(&app.db, f.sitting.id).await.unwrap();
}

on_both_engines!(
    a_rater_sees_no_candidate_identifier_nor_another_reading,
    the_committee_assigns_raters_score_by_form_and_results_reach_the_candidate,
    optional_questions_are_kept_only_with_consent,
    statistics_pages_of_an_empty_sitting,
);

/// The optional questions: kept only with consent, withdrawn by unticking it, refused when an
/// answer is not one offered, and shown to no proctor.
async fn optional_questions_are_kept_only_with_consent(engine: Engine) {
    let app = spawn_app(engine).await;
    let f = sat_sitting(&app.db).await;
    let ana = app.browser();
    ana.enter(&f.codes[0]).await;
    let home = ana.get_text("/candidate").await;
    assert!(home.contains("Optional: about you") && home.contains("Prefer not to say"));
    // Without consent nothing is kept.
    let res = ana
        .post_form("/candidate", "/candidate/about", &[("language", "other")])
        .await;
    assert_eq!(res.status(), 303);
    let stored = imh_exam::store::analysis::demographics_of(&app.db, f.regs[0].id)
        .await
        .unwrap();
    assert_eq!(stored, None);
    // With consent the answers are kept; "prefer not to say" is left out.
    ana.post_form(
        "/candidate",
        "/candidate/about",
        &[("language", "other"), ("setting", ""), ("consent", "yes")],
    )
    .await;
    let stored = imh_exam::store::analysis::demographics_of(&app.db, f.regs[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored["language"], "other");
    let by_sitting = imh_exam::store::analysis::answers_to(&app.db, f.sitting.id, "language")
        .await
        .unwrap();
    assert_eq!(
        by_sitting.get(&f.regs[0].id).map(String::as_str),
        Some("other")
    );
    // An answer that is not offered is refused and names the question.
    let res = ana
        .post_form(
            "/candidate",
            "/candidate/about",
            &[("setting", "moon"), ("consent", "yes")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Where do you mainly work?"));
    // The proctor's console does not show it.
    let proctor = app.as_role(Role::Proctor).await;
    let console = proctor
        .get_text(&format!("/sittings/{}", f.sitting.id))
        .await;
    assert!(!console.contains("another language") && !console.contains("language"));
    // Unticking consent withdraws the answers.
    ana.post_form("/candidate", "/candidate/about", &[("language", "other")])
        .await;
    assert_eq!(
        imh_exam::store::analysis::demographics_of(&app.db, f.regs[0].id)
            .await
            .unwrap(),
        None
    );
}

/// A sitting with nobody in it yet: every statistics page says so instead of failing.
async fn statistics_pages_of_an_empty_sitting(engine: Engine) {
    let app = spawn_app(engine).await;
    import_sample(&app.db).await;
    let sitting = open_sitting(&app.db, imh_exam::store::now_ms()).await;
    let committee = app.as_role(Role::Committee).await;
    for (path, says) in [
        (
            format!("/stats/{}/items", sitting.id),
            "No Part One has been submitted",
        ),
        (
            format!("/stats/{}/agreement", sitting.id),
            "No reading has been submitted",
        ),
        (
            format!("/stats/{}/dif", sitting.id),
            "0 item(s) in class B or C",
        ),
        (
            format!("/stats/{}/items/TF-0001", sitting.id),
            "was on no scored Part One form",
        ),
        (format!("/scoring/{}/results", sitting.id), "Results"),
        (
            format!("/stats/{}/report", sitting.id),
            "No Part One has been submitted",
        ),
        (format!("/stats/{}/rasch", sitting.id), "Not calibrated yet"),
    ] {
        let res = committee.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains(says), "{path}: {html}");
    }
    assert_eq!(committee.get("/stats/999999/items").await.status(), 404);
}
