//! Appeals on both engines (issue 17): refused before release and after the window, with the
//! deadline named; Part Two's blind re-reading goes only to raters who have not read the
//! response and shows no earlier reading nor the appeal; each decision rule; Part One's recount;
//! the changed result reaches the appellant alone; every step audited, the chains intact.

use std::collections::BTreeSet;

use imh_exam::auth::Role;
use imh_exam::scoring::appeal::{Refused, DAY_MS};
use imh_exam::store::appeals::{self, State};
use imh_exam::store::ratings::{self, RatingInput};
use imh_exam::store::results;
use imh_exam::store::{attempts, now_ms, Db};

use crate::helpers::{count, spawn_app, Engine};
use crate::on_both_engines;
use crate::rating_http::{identifiers, walk_as_rater};
use crate::scoring::{assignments, rate_everything, sat_sitting, Fixture};

mod rules;
pub(crate) use rules::the_demo_appeals;

/// Every stored result but `except`'s: (registration, part, points, passed, detail).
async fn others(db: &Db, except: i64) -> Vec<(i64, i64, f64, i64, String)> {
    sqlx::query_as(
        "SELECT registration_id, part, points, passed, detail FROM results
         WHERE registration_id <> $1 ORDER BY registration_id, part",
    )
    .bind(except)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// The fixture with every response read at `s` by both readers, and the results released.
pub(super) async fn released(db: &Db, s: u32) -> Fixture {
    let f = sat_sitting(db).await;
    rate_everything(db, f.sitting.id, s).await;
    assert_eq!(
        results::release(db, f.sitting.id, "committee")
            .await
            .unwrap(),
        Ok(3)
    );
    f
}

/// The appeal's re-readings held now: (response, rater).
async fn rereadings(db: &Db, appeal: i64) -> Vec<(i64, i64)> {
    sqlx::query_as(
        "SELECT response_id, rater_id FROM assignments WHERE appeal_id = $1 AND withdrawn_at IS NULL
         ORDER BY response_id",
    )
    .bind(appeal)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// Each re-reader submits `s` for their re-readings of `appeal`.
pub(super) async fn reread(db: &Db, appeal: i64, s: u32) {
    for (response, rater) in rereadings(db, appeal).await {
        let code: String = sqlx::query_scalar("SELECT code FROM responses WHERE id = $1")
            .bind(response)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let input = RatingInput {
            score: Some(s),
            note: String::new(),
            feedback: String::new(),
            is_final: true,
        };
        ratings::rate(db, rater, &code, &input).await.unwrap();
    }
}

async fn an_appeal_is_refused_before_release_and_after_the_window(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.db;
    let f = sat_sitting(db).await;
    let (ana, ben) = (&f.regs[0], &f.regs[1]);
    assert_eq!(
        appeals::request(db, ana, 2, "Please re-read.", now_ms())
            .await
            .unwrap(),
        Err(Refused::NotReleased)
    );
    rate_everything(db, f.sitting.id, 2).await;
    results::release(db, f.sitting.id, "committee")
        .await
        .unwrap()
        .unwrap();
    let released = results::released_at(db, f.sitting.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        appeals::request(db, ana, 2, "  ", now_ms()).await.unwrap(),
        Err(Refused::NoReason)
    );
    let id = appeals::request(db, ana, 2, "Please re-read.", now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        appeals::request(db, ana, 2, "Again.", now_ms())
            .await
            .unwrap(),
        Err(Refused::AlreadyAppealed)
    );
    // The window is 30 days (the sample blueprint's); its last moment is still in.
    let deadline = released + 30 * DAY_MS;
    assert_eq!(
        appeals::get(db, id).await.unwrap().unwrap().deadline_at,
        deadline
    );
    assert_eq!(
        appeals::request(db, ben, 1, "Recount, please.", deadline + 1)
            .await
            .unwrap(),
        Err(Refused::WindowClosed { deadline })
    );
    let last = appeals::request(db, ben, 1, "Recount, please.", deadline)
        .await
        .unwrap();
    assert!(last.is_ok(), "{last:?}");

    // Over the web: Cy's results were released 31 days ago. The page names the deadline and
    // offers no form; a request sent anyway is refused with the deadline in words.
    sqlx::query("UPDATE sittings SET results_released_at = $1 WHERE id = $2")
        .bind(now_ms() - 31 * DAY_MS)
        .bind(f.sitting.id)
        .execute(&db.writer)
        .await
        .unwrap();
    let cy = app.browser();
    cy.enter(&f.codes[2]).await;
    let home = cy.get_text("/candidate").await;
    assert!(home.contains("The window for appeals closed on"), "{home}");
    assert!(!home.contains("Request a re-score"), "{home}");
    let res = cy
        .post_form(
            "/candidate",
            "/candidate/appeal",
            &[("part", "2"), ("reason", "Too late?")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("The window for appeals closed on")
            && html.contains("for 30 days after the results are released"),
        "{html}"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM appeals").await,
        2,
        "Cy's refused request left nothing"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'appeal.request'"
        )
        .await,
        2
    );
}

/// Over the web, end to end: Ana appeals Part Two (12 of 18, not passed); the re-reader, who
/// had not read her responses, sees nothing of her, of the earlier readings or of the appeal,
/// and scores 3s; by "decision-change" the re-readings replace the result (18, passed); the
/// committee decides with reasons; Ana reads the outcome; nobody else's result moves.
async fn a_blind_re_reading_changes_a_decision_for_the_appellant_alone(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.db;
    let f = sat_sitting(db).await;
    let ana = app.browser();
    ana.enter(&f.codes[0]).await;
    rate_everything(db, f.sitting.id, 2).await;
    results::release(db, f.sitting.id, "committee")
        .await
        .unwrap()
        .unwrap();
    let others_before = others(db, f.regs[0].id).await;
    let earlier: Vec<(i64, i64)> = assignments(db).await.iter().map(|a| (a.0, a.1)).collect();

    let home = ana.get_text("/candidate").await;
    assert!(home.contains("Request a re-score"), "{home}");
    let reason = "APPEAL-REASON-5521: my second vignette answer was read too harshly.";
    let res = ana
        .post_form(
            "/candidate",
            "/candidate/appeal",
            &[("part", "2"), ("reason", reason)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let home = ana.get_text("/candidate").await;
    assert!(
        home.contains("received") && home.contains("APPEAL-REASON-5521"),
        "{home}"
    );
    let id: i64 = sqlx::query_scalar("SELECT id FROM appeals")
        .fetch_one(&db.pool)
        .await
        .unwrap();

    let committee = app.as_role(Role::Committee).await;
    let page = format!("/scoring/{}/appeals", f.sitting.id);
    let html = committee.get_text(&page).await;
    assert!(
        html.contains("Candidate ana@x.org") && html.contains("APPEAL-REASON-5521"),
        "{html}"
    );
    let res = committee
        .post_form(&page, &format!("{page}/{id}/start"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        appeals::get(db, id).await.unwrap().unwrap().state,
        State::Rescoring
    );

    // Each of Ana's six responses is read once more, by a rater who never held it.
    let again = rereadings(db, id).await;
    assert_eq!(again.len(), 6);
    for (response, rater) in &again {
        assert!(
            !earlier.contains(&(*response, *rater)),
            "response {response} went back to rater {rater}"
        );
        assert_ne!(*rater, f.raters[0], "rater1 is of Ana's organisation");
    }
    // A vignette's questions go to one rater together.
    let by_vignette: Vec<(String, i64)> = sqlx::query_as(
        "SELECT DISTINCT r.vignette_id, s.rater_id FROM assignments s
         JOIN responses r ON r.id = s.response_id WHERE s.appeal_id = $1",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(by_vignette.len(), 2, "{by_vignette:?}");
    let reraters: BTreeSet<i64> = again.iter().map(|a| a.1).collect();

    // Each re-reader's every page: no candidate, no earlier reading's words, no appeal.
    let mut secrets = identifiers(&app, &f).await;
    secrets.extend([
        "APPEAL-REASON-5521".to_string(),
        "Feedback at 2.".to_string(),
        "note for the committee".to_string(),
        "appeal".to_string(),
        "Appeal".to_string(),
    ]);
    let mut reread_codes = 0;
    for rerater in reraters {
        let name = format!(
            "rater{}",
            f.raters.iter().position(|r| *r == rerater).unwrap() + 1
        );
        let b = app.signed_in(&name).await;
        let seen = walk_as_rater(&b, &secrets).await;
        let codes: Vec<String> = ratings::queue(db, rerater)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.state != ratings::ReadingState::Final)
            .map(|e| e.code)
            .collect();
        // Before this rater's own readings, no desk shows a score given.
        for code in &codes {
            let desk = format!("/rate/{code}");
            assert!(seen.contains(&desk), "{desk} was walked");
            let html = b.get_text(&desk).await;
            assert!(!html.contains("You submitted a score of"), "{html}");
        }
        for code in &codes {
            let desk = format!("/rate/{code}");
            let res = b
                .post_form(
                    &desk,
                    &desk,
                    &[
                        ("score", "3"),
                        ("note", ""),
                        ("feedback", "Re-read."),
                        ("action", "submit"),
                    ],
                )
                .await;
            assert_eq!(res.status(), 303, "re-reading {code}");
            reread_codes += 1;
        }
    }
    assert_eq!(
        reread_codes, 6,
        "the re-readings wait in the queues like any reading"
    );

    // The committee sees the readings and the rule's outcome, and decides.
    let html = committee.get_text(&page).await;
    assert!(html.contains("By the rule"), "{html}");
    assert!(html.contains("18 of 18 (passed)"), "{html}");
    let res = committee
        .post_form(
            &page,
            &format!("{page}/{id}/decide"),
            &[(
                "reasons",
                "DECISION-REASONS: the re-readings found the plans sound.",
            )],
        )
        .await;
    assert_eq!(res.status(), 303);
    let a = appeals::get(db, id).await.unwrap().unwrap();
    assert_eq!(
        (a.state, a.upheld, a.before, a.after),
        (
            State::Decided,
            Some(true),
            (12.0, false),
            Some((18.0, true))
        )
    );
    let r = results::result(db, f.regs[0].id, 2).await.unwrap().unwrap();
    assert_eq!((r.points, r.passed), (18.0, true));
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM appeal_scores").await,
        6,
        "each response's before and after is kept"
    );
    // Ana's page: the new result, the outcome and the reasons; the others' results unchanged.
    let home = ana.get_text("/candidate").await;
    assert!(
        home.contains("Upheld") && home.contains("DECISION-REASONS"),
        "{home}"
    );
    assert!(home.contains("18 of 18 points"), "{home}");
    assert!(
        !home.contains("Re-read."),
        "the re-reading's feedback is the appeal's: {home}"
    );
    assert_eq!(others(db, f.regs[0].id).await, others_before);
    // A computation of the sitting afterwards agrees with the decision.
    let lines = results::compute(db, f.sitting.id).await.unwrap();
    let results::PartLine::Scored(two) = &lines[0].parts[1] else {
        panic!("scored")
    };
    assert_eq!((two.points, two.passed), (18.0, true));

    // The CSV for the annual report.
    let csv = committee
        .get(&format!("/scoring/{}/appeals.csv", f.sitting.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("ana@x.org,III,2,")
            && csv.contains(",decided,decision-change,12,no,18,yes,yes,"),
        "{csv}"
    );

    // Every step audited; the candidates' response chains intact.
    for action in [
        "appeal.request",
        "appeal.rescore",
        "appeal.decide",
        "appeals.export",
    ] {
        assert_eq!(
            count(
                db,
                &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")
            )
            .await,
            1,
            "{action}"
        );
    }
    let (checked, broken) = attempts::verify_chains(db).await.unwrap();
    assert!(checked >= 6 && broken.is_empty(), "{broken:?}");
}

on_both_engines!(
    an_appeal_is_refused_before_release_and_after_the_window,
    a_blind_re_reading_changes_a_decision_for_the_appellant_alone,
);
