//! Nothing acknowledged is lost: the server process is killed (SIGKILL) while candidates are
//! saving, started again, and every acknowledged save is found in an intact hash chain.

use std::sync::{Arc, Mutex};

use imh_exam::store::{attempts, now_ms};

use crate::helpers::exam::{assert_all_stored, OpenSitting, SoakSave};
use crate::helpers::server::Server;
use crate::helpers::{test_db, Browser, Engine};
use crate::on_both_engines;

async fn acknowledged_saves_survive_a_kill(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    let s = OpenSitting::new(db).await;

    let mut server = Server::start(&t.url).await;
    let mut people = Vec::new();
    for i in 0..8 {
        let seat = s.start_part_one(db, &format!("k{i}@x.org")).await;
        let cand = Browser::for_server(&server.base);
        let token = cand.enter_as_candidate(&seat.code).await;
        people.push((seat.attempt, cand, token));
    }

    let acks: Arc<Mutex<Vec<SoakSave>>> = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (a, cand, token) in people.clone() {
        let acks = acks.clone();
        tasks.push(tokio::spawn(async move {
            for seq in 1..=10_000u64 {
                let save = SoakSave::nth(&a, seq);
                match save.send(&cand, &token).await {
                    Ok(r) if r.status() == 200 => acks.lock().unwrap().push(save),
                    // The server is gone: this save was never acknowledged.
                    _ => break,
                }
            }
        }));
    }
    // Let them save for a while, then kill the server in the middle of it.
    let acks = server.kill_mid_stream(tasks, &acks, 400).await;
    assert!(
        acks.len() > 50,
        "too few saves before the kill: {}",
        acks.len()
    );

    // Start again: every acknowledged save is there, every chain holds.
    let server = Server::start(&t.url).await;
    assert_all_stored(db, &acks).await;
    let (checked, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!(checked, 8);
    assert!(breaks.is_empty(), "{breaks:?}");

    // The candidates carry on where they were, with the right time left.
    let (a, cand, token) = &people[0];
    let last = attempts::last_seq(db, a.id).await.unwrap();
    let res = cand
        .at(&server.base)
        .save(token, 1, &a.form.part_one[0].item_id, "1", last + 1)
        .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let expected = a.clock.remaining_ms(now_ms());
    let remaining = body["remaining_ms"].as_i64().unwrap();
    assert!(
        (expected - remaining).abs() < 5_000,
        "remaining {remaining}, expected about {expected}"
    );
}

on_both_engines!(acknowledged_saves_survive_a_kill);
