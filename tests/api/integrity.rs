//! Integrity rules the storage keeps by construction: one final reading per assignment, no void
//! once results are released, sequence numbers and part numbers within their bounds.

use std::collections::BTreeSet;

use imh_exam::auth::Role;
use imh_exam::store::attempts::{self, SaveError, MAX_SEQ};
use imh_exam::store::ratings::{self, RateError, RateFailure, RatingInput};
use imh_exam::store::{now_ms, results};

use crate::helpers::exam::OpenSitting;
use crate::helpers::{count, spawn_app, spawn_app_on, test_db, Engine};
use crate::on_both_engines;
use crate::scoring::{assignments, rate_everything, responses, sat_sitting};

/// Twelve final submits of one reading at once (a double click, a retrying browser, two tabs):
/// exactly one is stored, the others are told it is final already.
async fn concurrent_final_submits_store_one_final(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let f = sat_sitting(db).await;
    ratings::assign_sitting(db, f.sitting.id, &BTreeSet::new(), "committee")
        .await
        .unwrap();
    let (response_id, code, _) = responses(db, f.sitting.id).await.remove(0);
    let rater = assignments(db)
        .await
        .into_iter()
        .find(|a| a.0 == response_id)
        .unwrap()
        .1;
    let mut tasks = Vec::new();
    for i in 0..12u32 {
        let (db, code) = (db.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            let input = RatingInput {
                score: Some(i % 4),
                note: String::new(),
                feedback: format!("attempt {i}"),
                is_final: true,
            };
            ratings::rate(&db, rater, &code, &input).await
        }));
    }
    let mut stored = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => stored += 1,
            Err(RateFailure::Rate(RateError::AlreadyFinal)) => {}
            Err(e) => panic!("a concurrent final submit failed otherwise: {e}"),
        }
    }
    let finals: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ratings t JOIN assignments s ON s.id = t.assignment_id
         WHERE s.response_id = $1 AND s.rater_id = $2 AND t.final = 1",
    )
    .bind(response_id)
    .bind(rater)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((stored, finals), (1, 1));
}

/// A released result changes only through the committee's audited re-score: a proctor's void
/// is refused once the sitting's results are out, and nothing changes.
async fn void_is_refused_once_results_are_released(engine: Engine) {
    let t = test_db(engine).await;
    let f = sat_sitting(&t.db).await;
    rate_everything(&t.db, f.sitting.id, 3).await;
    results::store(&t.db, f.sitting.id, "committee")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        results::release(&t.db, f.sitting.id, "committee")
            .await
            .unwrap(),
        Ok(3)
    );
    let attempt = attempts::attempt_id(&t.db, f.regs[0].id, 1)
        .await
        .unwrap()
        .unwrap();
    let app = spawn_app_on(t).await;
    let proctor = app.as_role(Role::Proctor).await;
    let res = proctor
        .post_form(
            &format!("/sittings/{}", f.sitting.id),
            &format!("/attempts/{attempt}/void"),
            &[("reason", "left the room")],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("results are released"));
    let a = attempts::attempt(&app.db, attempt).await.unwrap().unwrap();
    assert!(a.voided_at.is_none(), "a released attempt was voided");
    let audited = count(
        &app.db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'attempt.void'",
    )
    .await;
    assert_eq!(audited, 0);
}

/// A void before release is stored with its audit record and the sitting's event.
async fn a_void_and_its_audit_record_commit_together(engine: Engine) {
    let t = test_db(engine).await;
    let f = sat_sitting(&t.db).await;
    let attempt = attempts::attempt_id(&t.db, f.regs[1].id, 2)
        .await
        .unwrap()
        .unwrap();
    let v = attempts::void(&t.db, attempt, "phone in use", "proctor1", now_ms())
        .await
        .unwrap();
    assert_eq!(v, attempts::Voided::Now);
    let again = attempts::void(&t.db, attempt, "twice", "proctor1", now_ms())
        .await
        .unwrap();
    assert_eq!(again, attempts::Voided::Already);
    let audit: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, detail FROM audit_log WHERE action = 'attempt.void'")
            .fetch_all(&t.db.pool)
            .await
            .unwrap();
    assert_eq!(
        audit,
        vec![(
            "proctor1".to_string(),
            format!("attempt {attempt}: phone in use")
        )]
    );
    let events = count(
        &t.db,
        "SELECT COUNT(*) FROM sitting_events WHERE kind = 'voided'",
    )
    .await;
    assert_eq!(events, 1);
}

/// Sequence numbers must fit the database's signed 64-bit column: one at 2^63 used to be stored
/// negative, break `audit verify` and make every later save a silent "retry". Part numbers
/// other than 1 and 2 are pages that do not exist, not server errors.
async fn sequence_and_part_numbers_are_bounded(engine: Engine) {
    let t = test_db(engine).await;
    let db = t.db.clone();
    let s = OpenSitting::new(&db).await;
    let now = s.now;
    let seat = s.start_part_one(&db, "seq@x.org").await;
    let a = seat.attempt;
    assert!(matches!(
        attempts::save(
            &db,
            a.id,
            &a.form.part_one[0].item_id,
            "A",
            MAX_SEQ + 1,
            now
        )
        .await,
        Err(SaveError::BadSeq)
    ));
    assert!(matches!(
        attempts::save(&db, a.id, &a.form.part_one[0].item_id, "A", 0, now).await,
        Err(SaveError::BadSeq)
    ));

    let app = spawn_app_on(t).await;
    let cand = app.browser();
    let token = cand.enter_as_candidate(&seat.code).await;
    let item = &a.form.part_one[0].item_id;
    for seq in [9_223_372_036_854_775_808u64, u64::MAX, 0] {
        let res = cand.save(&token, 1, item, "1", seq).await;
        assert_eq!(res.status(), 422, "seq {seq}");
        assert!(res.text().await.unwrap().contains("seq"));
    }
    for part in [0, 3, 255] {
        let res = cand.save(&token, part, item, "1", 5).await;
        assert_eq!(res.status(), 422, "part {part}");
    }
    // The largest allowed number is stored, and the chain still verifies.
    let res = cand.save(&token, 1, item, "1", MAX_SEQ).await;
    assert_eq!(res.status(), 200);
    let (_, breaks) = attempts::verify_chains(&app.db).await.unwrap();
    assert!(breaks.is_empty(), "{breaks:?}");

    for path in ["/exam/3/start", "/exam/0/start", "/exam/255/start"] {
        let res = cand.post_form("/candidate", path, &[]).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    for path in ["/exam/3", "/exam/0/review", "/exam/api/clock/9"] {
        let res = cand.get(path).await;
        assert_eq!(res.status(), 404, "{path}");
    }
}

/// `audit verify` compares each chain with the receipt its candidate was last given: a chain
/// whose newest saves are gone (an open attempt's, where no submission receipt exists yet) is
/// reported, not taken as intact.
async fn verify_reports_a_chain_cut_short(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let s = OpenSitting::new(db).await;
    let now = s.now;
    let a = s.start_part_one(db, "cut@x.org").await.attempt;
    let mut receipt = String::new();
    for seq in 1..=5u64 {
        let e = &a.form.part_one[seq as usize];
        receipt = attempts::save(db, a.id, &e.item_id, "B", seq, now + 1_000)
            .await
            .unwrap()
            .head;
    }
    let (_, breaks) = attempts::verify_chains(db).await.unwrap();
    assert!(breaks.is_empty(), "{breaks:?}");
    let kept: Option<String> =
        sqlx::query_scalar("SELECT receipt_hash FROM attempt_receipts WHERE attempt_id = $1")
            .bind(a.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(kept.as_deref(), Some(receipt.as_str()));
    // The two newest saves vanish: what is left is a valid chain, only shorter.
    sqlx::query("DELETE FROM response_events WHERE attempt_id = $1 AND n >= 3")
        .bind(a.id)
        .execute(&db.writer)
        .await
        .unwrap();
    let (_, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert_eq!(breaks[0].0, a.id);
    assert!(
        breaks[0].1.contains("last receipt was for 5 events"),
        "{}",
        breaks[0].1
    );
}

on_both_engines!(
    verify_reports_a_chain_cut_short,
    concurrent_final_submits_store_one_final,
    void_is_refused_once_results_are_released,
    a_void_and_its_audit_record_commit_together,
    sequence_and_part_numbers_are_bounded,
);

/// The server's in-memory caches have a bound (whatever clients send, memory stays bounded),
/// and a cached candidate session is trusted for at most `SESSION_CACHE`.
#[tokio::test]
async fn the_server_caches_are_bounded() {
    let app = spawn_app(Engine::Sqlite).await;
    let bound = Some(imh_exam::web::CACHE_ENTRIES);
    assert_eq!(app.state.forms.policy().max_capacity(), bound);
    assert_eq!(app.state.attempt_ids.policy().max_capacity(), bound);
    assert_eq!(app.state.sessions.policy().max_capacity(), bound);
    assert_eq!(
        app.state.sessions.policy().time_to_live(),
        Some(imh_exam::web::SESSION_CACHE)
    );
    for i in 0..(imh_exam::web::CACHE_ENTRIES as i64 + 5_000) {
        app.state.attempt_ids.insert((i, 1), i);
    }
    app.state.attempt_ids.run_pending_tasks();
    assert!(app.state.attempt_ids.entry_count() <= imh_exam::web::CACHE_ENTRIES);
}

/// A write transaction abandoned while its BEGIN is in flight (a browser that navigates away
/// mid-request drops the handler's future) never leaves the writer's connection inside a
/// transaction: the next write begins cleanly. Before, the BEGIN ran after the connection was
/// back in the pool, and the next write failed with "cannot start a transaction within a
/// transaction" (seen as a 500 on submitting a part in the browser test).
async fn an_abandoned_begin_leaves_no_open_transaction(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    for round in 0..200 {
        // Polled once (the BEGIN is sent), then dropped.
        let _ = tokio::time::timeout(std::time::Duration::ZERO, db.write()).await;
        let tx = db
            .write()
            .await
            .unwrap_or_else(|e| panic!("round {round}: the next write could not begin: {e}"));
        tx.rollback().await;
    }
    assert!(db.health.failing_since().is_none());
}

on_both_engines!(an_abandoned_begin_leaves_no_open_transaction);
