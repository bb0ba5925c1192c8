//! One clock for several servers on one PostgreSQL: every instant that decides a deadline, a
//! pause or a chain timestamp is the database's, whatever a server's own clock says.

use std::time::{Duration, Instant};

use imh_exam::auth::Role;
use imh_exam::bank::Level;
use imh_exam::exam::clock::GRACE_MS;
use imh_exam::exam::form::Parts;
use imh_exam::store::{attempts, Db};

use crate::helpers::exam::{admitted, candidate, OpenSitting};
use crate::helpers::server::Server;
use crate::helpers::{add_staff, test_db, Browser, Engine, PASSWORD};
use crate::on_both_engines;

/// Ten minutes: how far the second server's own clock is fast.
const SKEW_MS: i64 = 600_000;

async fn database_ms(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_keep_one_clock() {
    let t = test_db(Engine::Postgres).await;
    let db = &t.db;
    let OpenSitting { sitting, bps, .. } = OpenSitting::new(db).await;
    let new = candidate("clock@x.org", Level::III, Parts::BOTH, "1");
    let (reg, code) = admitted(db, &sitting, &new, &bps).await;
    add_staff(db, "proctor1", Role::Proctor, "Lakeside").await;

    let a = Server::start(&t.url).await;
    let skew = SKEW_MS.to_string();
    let b = Server::start_with(&t.url, &[("IMH_TEST_CLOCK_SKEW_MS", skew.as_str())]).await;

    // The candidate starts the part on the server whose clock is ten minutes fast.
    let cand = Browser::for_server(&b.base);
    cand.enter_as_candidate(&code).await;
    let res = cand.post_form("/candidate", "/exam/1/start", &[]).await;
    assert_eq!(res.status(), 303);
    let attempt = attempts::attempt_id(db, reg.id, 1).await.unwrap().unwrap();
    let started = attempts::attempt(db, attempt).await.unwrap().unwrap();
    let db_now = database_ms(db).await;
    assert!(
        (db_now - started.clock.started_at).abs() < 3_000,
        "started at {} by the database's clock {db_now}",
        started.clock.started_at
    );

    // Saves through either server: timestamps by the database's clock, the same time left.
    let token = cand.at(&a.base).candidate_token().await;
    let item = started.form.part_one[0].item_id.clone();
    let mut remaining = Vec::new();
    for (seq, server) in [(1u64, &a), (2, &b), (3, &a), (4, &b)] {
        let res = cand.at(&server.base).save(&token, 1, &item, "1", seq).await;
        assert_eq!(res.status(), 200, "save {seq}");
        let body: serde_json::Value = res.json().await.unwrap();
        remaining.push(body["remaining_ms"].as_i64().unwrap());
    }
    let spread = remaining.iter().max().unwrap() - remaining.iter().min().unwrap();
    assert!(spread < 3_000, "time left by server: {remaining:?}");
    let stamps: Vec<i64> =
        sqlx::query_scalar("SELECT at_ms FROM response_events WHERE attempt_id = $1 ORDER BY n")
            .bind(attempt)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let db_now = database_ms(db).await;
    assert_eq!(stamps.len(), 4);
    for w in stamps.windows(2) {
        assert!(w[0] <= w[1], "chain timestamps go back: {stamps:?}");
    }
    for s in &stamps {
        assert!(
            (db_now - s).abs() < 5_000,
            "a save stamped {s}, database {db_now}"
        );
    }

    // A pause on one server and the resume on the other: the candidate loses and gains nothing.
    let proctor = Browser::for_server(&a.base);
    let res = proctor.login("proctor1", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let console = format!("/sittings/{}", sitting.id);
    let res = proctor
        .post_form(&console, &format!("/attempts/{attempt}/pause"), &[])
        .await;
    assert_eq!(res.status(), 303);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let res = proctor
        .at(&b.base)
        .post_form(&console, &format!("/attempts/{attempt}/resume"), &[])
        .await;
    assert_eq!(res.status(), 303);
    let after = attempts::attempt(db, attempt).await.unwrap().unwrap();
    assert!(
        after.clock.paused_ms >= 400 && after.clock.paused_ms < 5_000,
        "paused for {} ms",
        after.clock.paused_ms
    );

    // The deadline, by the database's clock: the fast server must not submit early. Move the
    // start so that the time and the grace run out 4 s from now.
    let allowed = after.clock.allowed_ms();
    let db_now = database_ms(db).await;
    let deadline = db_now + 4_000 - GRACE_MS;
    sqlx::query("UPDATE attempts SET started_at = $1 WHERE id = $2")
        .bind(deadline - allowed - after.clock.paused_ms)
        .bind(attempt)
        .execute(&db.writer)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let open = attempts::attempt(db, attempt).await.unwrap().unwrap();
    assert!(
        open.submitted_at.is_none(),
        "submitted {} ms before its deadline and grace",
        4_000 - 2_000
    );
    let start = Instant::now();
    let submitted = loop {
        let x = attempts::attempt(db, attempt).await.unwrap().unwrap();
        if let Some(at) = x.submitted_at {
            break at;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "never submitted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(submitted, deadline, "submitted at the deadline");
    drop((a, b));
}

/// A part whose time ran out while no server was running is submitted at its deadline, not at
/// the moment the server came back.
async fn a_late_sweep_submits_at_the_deadline(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let s = OpenSitting::new(db).await;
    let now = s.now;
    let a = s.start_part_one(db, "late@x.org").await.attempt;
    // As if started three hours ago: the time ran out long before this sweep.
    sqlx::query("UPDATE attempts SET started_at = $1 WHERE id = $2")
        .bind(now - 3 * 3_600_000)
        .bind(a.id)
        .execute(&db.writer)
        .await
        .unwrap();
    let a = attempts::attempt(db, a.id).await.unwrap().unwrap();
    let deadline = a.clock.deadline(now).unwrap();
    assert!(deadline < now - 3_600_000);
    assert_eq!(attempts::submit_expired(db, now).await.unwrap(), vec![a.id]);
    let a = attempts::attempt(db, a.id).await.unwrap().unwrap();
    assert_eq!(a.submitted_at, Some(deadline));
    assert_eq!(a.submitted_by.as_deref(), Some("server"));
}

on_both_engines!(a_late_sweep_submits_at_the_deadline);
