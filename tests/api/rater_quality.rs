//! Issue 12 in the live system, on both engines: raters qualify on the committee's qualifying
//! sets before any live response reaches them (a rater below the standard sees none, even by
//! its URL), and every attempt is kept; read-behinds, audited and counted. Part Two's scoring:
//! `analytic.rs`.

use imh_exam::auth::Role;
use imh_exam::store::ratings::{self, RatingInput, Standing};
use imh_exam::store::Db;

use crate::helpers::{count, spawn_app, Browser, Engine};
use crate::on_both_engines;
use crate::scoring::sat_sitting;

pub fn final_score(s: u32) -> RatingInput {
    RatingInput {
        score: Some(s),
        note: String::new(),
        feedback: String::new(),
        is_final: true,
    }
}

/// The codes of a rater's live (not qualifying, not validity) assignments, active or not.
async fn live_codes(db: &Db, rater: i64) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT r.code FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE s.rater_id = $1 AND r.expert_score IS NULL ORDER BY s.id",
    )
    .bind(rater)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// The codes of a qualifying set, in the order they were added.
async fn set_codes(db: &Db, set_no: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT code FROM responses WHERE qualifying_set = $1 ORDER BY id")
        .bind(set_no)
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

/// Scores a set's responses through the desk's form, in order.
async fn score_set(b: &Browser, codes: &[String], scores: &[&str]) {
    for (code, s) in codes.iter().zip(scores) {
        let desk = format!("/rate/{code}");
        let res = b
            .post_form(
                &desk,
                &desk,
                &[
                    ("score", s),
                    ("note", ""),
                    ("feedback", ""),
                    ("action", "submit"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "scoring {code}");
    }
}

async fn a_rater_below_the_standard_sees_no_live_response(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.db;
    let f = sat_sitting(db).await;
    let committee = app.as_role(Role::Committee).await;
    let page = format!("/scoring/{}", f.sitting.id);
    let html = committee.get_text(&page).await;
    assert!(
        html.contains("raters start live scoring untested"),
        "{html}"
    );
    // Raters are given live work before any set is chosen.
    let res = committee
        .post_form(&page, &format!("{page}/assign"), &[])
        .await;
    assert_eq!(res.status(), 303);
    let held: Vec<Vec<String>> = {
        let mut v = Vec::new();
        for r in &f.raters {
            v.push(live_codes(db, *r).await);
        }
        v
    };
    assert!(held.iter().all(|h| !h.is_empty()), "{held:?}");

    // The committee chooses two sets through its page (standard: 70% exact, 95% within one).
    for (item, body, expert, set) in [
        ("CL01-Q2@1", "Set one, first response.", "3", "1"),
        ("CL02-Q2@1", "Set one, second response.", "1", "1"),
        ("CL01-Q2@1", "Set two, first response.", "2", "2"),
        ("CL03-Q2@1", "Set two, second response.", "0", "2"),
    ] {
        let res = committee
            .post_form(
                &page,
                &format!("{page}/qualifying"),
                &[
                    ("item", item),
                    ("body", body),
                    ("expert_score", expert),
                    ("set_no", set),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    }
    for (field, value, says) in [
        (
            "set_no",
            "9",
            "Set: &quot;9&quot; is not a set number from 1 to 5.",
        ),
        (
            "expert_score",
            "4",
            "Expert score: &quot;4&quot; is not a whole number from 0 to 3.",
        ),
    ] {
        let mut form = vec![
            ("item", "CL01-Q2@1"),
            ("body", "A response."),
            ("expert_score", "2"),
            ("set_no", "1"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let res = committee
            .post_form(&page, &format!("{page}/qualifying"), &form)
            .await;
        assert_eq!(res.status(), 400);
        let text = res.text().await.unwrap();
        assert!(text.contains(says), "{text}");
    }
    let (set1, set2) = (set_codes(db, 1).await, set_codes(db, 2).await);
    assert_eq!((set1.len(), set2.len()), (2, 2));

    // Before qualifying, a rater's queue holds set 1 only; a live response they hold is not
    // found, by its URL too, and cannot be scored.
    let raters: Vec<Browser> = {
        let mut v = Vec::new();
        for i in 1..=4 {
            v.push(app.signed_in(&format!("rater{i}")).await);
        }
        v
    };
    for (i, b) in raters.iter().enumerate() {
        let queue = ratings::queue(db, f.raters[i]).await.unwrap();
        let codes: Vec<&str> = queue.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, set1, "rater{} holds set 1 only", i + 1);
        let html = b.get_text("/rate").await;
        assert!(html.contains("Qualifying set 1: 0 of 2 scored."), "{html}");
        let live = &held[i][0];
        assert!(!html.contains(live.as_str()));
        assert_eq!(b.get(&format!("/rate/{live}")).await.status(), 404);
        let desk = format!("/rate/{live}");
        let res = b
            .post_form(
                &format!("/rate/{}", set1[0]),
                &desk,
                &[("score", "2"), ("action", "submit")],
            )
            .await;
        assert_eq!(
            res.status(),
            404,
            "scoring a live response before qualifying"
        );
    }
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM ratings t JOIN assignments s ON s.id = t.assignment_id
             JOIN responses r ON r.id = s.response_id WHERE r.expert_score IS NULL"
        )
        .await,
        0
    );

    // rater1 agrees with the experts: qualified, their live work appears.
    score_set(&raters[0], &set1, &["3", "1"]).await;
    // rater2 is far off on set 1, then on set 2 still below: not qualified.
    score_set(&raters[1], &set1, &["1", "3"]).await;
    let html = raters[1].get_text("/rate").await;
    assert!(html.contains("Qualifying set 2: 0 of 2 scored."), "{html}");
    assert!(html.contains("set 1: 0 of 2 exactly"), "{html}");
    score_set(&raters[1], &set2, &["2", "2"]).await;
    // rater3: 1 of 2 exact on set 1 (50%, within one point 100%) is below; set 2 exact.
    score_set(&raters[2], &set1, &["3", "2"]).await;
    score_set(&raters[2], &set2, &["2", "0"]).await;

    let live1 = &held[0][0];
    assert_eq!(raters[0].get(&format!("/rate/{live1}")).await.status(), 200);
    assert!(raters[0].get_text("/rate").await.contains(live1.as_str()));
    let html = raters[1].get_text("/rate").await;
    assert!(
        html.contains("did not reach the standard") && !html.contains(held[1][0].as_str()),
        "{html}"
    );
    assert_eq!(
        raters[1]
            .get(&format!("/rate/{}", held[1][0]))
            .await
            .status(),
        404
    );
    let live3 = &held[2][0];
    assert_eq!(raters[2].get(&format!("/rate/{live3}")).await.status(), 200);

    // Every attempt is kept and audited, with its agreement.
    let standing = ratings::qualification(db, f.sitting.id).await.unwrap();
    let of = |id: i64| {
        standing
            .iter()
            .find(|q| q.rater_id == id)
            .unwrap()
            .standing
            .clone()
    };
    assert!(matches!(of(f.raters[0]), Standing::Qualified(ref a) if a.len() == 1));
    match of(f.raters[1]) {
        Standing::NotQualified(a) => {
            assert_eq!(a.len(), 2);
            assert_eq!((a[0].agreement.exact, a[0].agreement.adjacent), (0, 0));
            assert_eq!((a[1].agreement.exact, a[1].agreement.adjacent), (1, 1));
        }
        other => panic!("{other:?}"),
    }
    match of(f.raters[2]) {
        Standing::Qualified(a) => {
            assert_eq!(a.len(), 2);
            assert!(!a[0].passed && a[1].passed);
            assert_eq!((a[0].agreement.exact, a[0].agreement.adjacent), (1, 2));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        of(f.raters[3]),
        Standing::Qualifying {
            set_no: 1,
            done: 0,
            of: 2,
            ..
        }
    ));
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM qualification_attempts").await,
        5
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'rater-qualification'"
        )
        .await,
        5
    );
    let html = committee.get_text(&page).await;
    for says in [
        "Qualified",
        "Not qualified: every set below the standard",
        "Scoring set 1: 0 of 2",
        "set 1: 50%, 100% (below); set 2: 100%, 100% (met)",
    ] {
        assert!(html.contains(says), "{says}: {html}");
    }

    // Assigning again hands on what the raters not qualified held: no live reading is left
    // unfinished with a rater who may not see it.
    let res = committee
        .post_form(&page, &format!("{page}/assign"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM assignments s JOIN responses r ON r.id = s.response_id
             WHERE r.expert_score IS NULL AND s.withdrawn_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM qualification_attempts q
                               WHERE q.rater_id = s.rater_id AND q.passed = 1)"
        )
        .await,
        0
    );
    // And a qualified rater scores the live work they hold.
    for code in live_codes(db, f.raters[0]).await {
        if ratings::desk(db, f.raters[0], &code)
            .await
            .unwrap()
            .is_some()
        {
            ratings::rate(db, f.raters[0], &code, &final_score(2))
                .await
                .unwrap();
        }
    }
}

async fn read_behind_overrides_are_audited_and_counted(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.db;
    let f = sat_sitting(db).await;
    crate::scoring::rate_everything(db, f.sitting.id, 2).await;
    let sample = ratings::read_behind_sample(db, f.sitting.id).await.unwrap();
    assert_eq!(
        sample,
        ratings::read_behind_sample(db, f.sitting.id).await.unwrap(),
        "the sample is fixed"
    );
    // 10% of each rater's final readings, rounded up: one of each rater's.
    let finals: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT s.rater_id, COUNT(*) FROM assignments s JOIN ratings t ON t.assignment_id = s.id
         WHERE t.final = 1 GROUP BY s.rater_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(!finals.is_empty());
    for (rater, n) in &finals {
        let k = sample.iter().filter(|e| e.rater_id == *rater).count() as i64;
        assert_eq!(k, (n * 10 + 99) / 100, "rater {rater} with {n} finals");
    }
    let committee = app.as_role(Role::Committee).await;
    let list = format!("/scoring/{}/read-behind", f.sitting.id);
    let html = committee.get_text(&list).await;
    assert!(
        html.contains(&format!("{0} of {0} waiting", sample.len())),
        "{html}"
    );

    // The first: read with the rater's score shown, no candidate named; overridden to 3.
    let e = &sample[0];
    let page = format!("{list}/{}", e.assignment_id);
    let html = committee.get_text(&page).await;
    assert!(
        html.contains(&format!("scored this <strong>{}</strong>", e.rater_score)),
        "{html}"
    );
    assert!(
        html.contains("Rubric") && html.contains("Anchor answer"),
        "{html}"
    );
    for name in ["ana@x.org", "ben@x.org", "cy@x.org"] {
        assert!(!html.contains(name), "{name} on a read-behind page");
    }
    let res = committee
        .post_form(&page, &page, &[("score", "3"), ("reason", "  ")])
        .await;
    assert_eq!(res.status(), 422);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("Reason: give the reason for overriding the rater&#39;s score.")
            || text.contains("Reason: give the reason for overriding the rater's score."),
        "{text}"
    );
    assert_eq!(count(db, "SELECT COUNT(*) FROM read_behinds").await, 0);
    let res = committee
        .post_form(
            &page,
            &page,
            &[
                ("score", "3"),
                ("reason", "Names the safety plan and supervision."),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // The override takes the reading's place: 2 and 3 agree within one point, mean 2.5.
    let (final_score,): (Option<f64>,) =
        sqlx::query_as("SELECT r.final_score FROM responses r WHERE r.code = $1")
            .bind(&e.code)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(final_score, Some(2.5));
    let audited: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'read-behind'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(audited.len(), 1);
    assert!(
        audited[0].contains(&format!("response {} read behind {}", e.code, e.rater))
            && audited[0].contains("overridden 2 -> 3: Names the safety plan and supervision."),
        "{audited:?}"
    );
    // Read behind once only.
    let res = committee
        .post_form(&page, &page, &[("score", "2"), ("reason", "again")])
        .await;
    assert_eq!(res.status(), 422);
    // Another rater's: confirmed, without a reason.
    let other = sample.iter().find(|x| x.rater_id != e.rater_id).unwrap();
    let page2 = format!("{list}/{}", other.assignment_id);
    let res = committee
        .post_form(
            &page2,
            &page2,
            &[("score", &other.rater_score.to_string()), ("reason", "")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // A reading outside the sample is not found.
    let outside: i64 = sqlx::query_scalar("SELECT MAX(id) FROM assignments")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    if !sample.iter().any(|x| x.assignment_id == outside) {
        let res = committee
            .post_form(
                &list,
                &format!("{list}/{outside}"),
                &[("score", "1"), ("reason", "x")],
            )
            .await;
        assert_eq!(res.status(), 404);
    }
    // Counted per rater, on the agreement page and its CSV.
    let counts = ratings::read_behind_counts(db, f.sitting.id).await.unwrap();
    assert_eq!(
        counts[&e.rater_id],
        ratings::ReadBehindCount {
            read: 1,
            overridden: 1
        }
    );
    assert_eq!(
        counts[&other.rater_id],
        ratings::ReadBehindCount {
            read: 1,
            overridden: 0
        }
    );
    let csv = committee
        .get_text(&format!("/stats/{}/agreement?csv=raters", f.sitting.id))
        .await;
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("read_behind,overridden"),
        "{csv}"
    );
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{},", e.rater)))
        .unwrap();
    assert!(line.ends_with(",1,1"), "{line}");
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{},", other.rater)))
        .unwrap();
    assert!(line.ends_with(",1,0"), "{line}");
}

on_both_engines!(
    a_rater_below_the_standard_sees_no_live_response,
    read_behind_overrides_are_audited_and_counted
);
