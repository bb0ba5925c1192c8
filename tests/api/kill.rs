//! Nothing acknowledged is lost: the server process is killed (SIGKILL) while candidates are
//! saving, started again, and every acknowledged save is found in an intact hash chain.

use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imh_exam::bank::Level;
use imh_exam::exam::form::Parts;
use imh_exam::store::{attempts, bank as bank_store, now_ms};

use crate::delivery::{admitted, candidate, import_sample, open_sitting};
use crate::helpers::{csrf_of, test_db, Engine};
use crate::on_both_engines;

pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    // The guard's Drop waits for the process; the lint cannot see through it.
    #[allow(clippy::zombie_processes)]
    pub(crate) async fn start(url: &str) -> Server {
        Server::start_with(url, &[]).await
    }

    /// The same, with extra environment variables for the server process.
    #[allow(clippy::zombie_processes)]
    pub(crate) async fn start_with(url: &str, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_imh-exam"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "off")
            .envs(env.iter().copied())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let probe = reqwest::Client::new();
        for _ in 0..200 {
            if probe
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return Server { child, base };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not come up");
    }

    pub(crate) fn kill(&mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

pub(crate) async fn enter(base: &str, client: &reqwest::Client, code: &str) -> String {
    let page = client
        .get(format!("{base}/enter"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&page);
    let res = client
        .post(format!("{base}/enter"))
        .form(&[("code", code), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The login rotates the token: read the new one.
    csrf_of(
        &client
            .get(format!("{base}/candidate"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
}

/// (attempt, item, seq, shown option) of every save the server acknowledged.
type Acks = Arc<Mutex<Vec<(i64, String, u64, usize)>>>;

async fn acknowledged_saves_survive_a_kill(engine: Engine) {
    let t = test_db(engine).await;
    let db = &t.db;
    import_sample(db).await;
    let now = now_ms();
    let sitting = open_sitting(db, now).await;
    let bps = bank_store::blueprints(db).await.unwrap();
    let pool = bank_store::pool(db).await.unwrap();
    let bp = bps.iter().find(|b| b.level == Level::III).unwrap();

    let mut server = Server::start(&t.url).await;
    let mut people = Vec::new();
    for i in 0..8 {
        let new = candidate(&format!("k{i}@x.org"), Level::III, Parts::BOTH, "1");
        let (reg, code) = admitted(db, &sitting, &new, &bps).await;
        let a = attempts::start_part(db, &sitting, &reg, bp, &pool, 1, now)
            .await
            .unwrap();
        let client = browser();
        let token = enter(&server.base, &client, &code).await;
        people.push((a, client, token));
    }

    let acks: Acks = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (a, client, token) in people.clone() {
        let acks = acks.clone();
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            for seq in 1..=10_000u64 {
                let entry = &a.form.part_one[(seq as usize) % a.form.part_one.len()];
                let shown = (seq as usize) % 4;
                let res = client
                    .post(format!("{base}/exam/api/save"))
                    .header("x-csrf-token", &token)
                    .json(&serde_json::json!({"part": 1, "item": entry.item_id, "value": shown.to_string(), "seq": seq}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => acks.lock().unwrap().push((a.id, entry.item_id.clone(), seq, shown)),
                    // The server is gone: this save was never acknowledged.
                    _ => break,
                }
            }
        }));
    }
    // Let them save for a while, then kill the server in the middle of it.
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if acks.lock().unwrap().len() > 400 {
            break;
        }
    }
    server.kill();
    for task in tasks {
        task.await.unwrap();
    }
    let acks = acks.lock().unwrap().clone();
    assert!(
        acks.len() > 50,
        "too few saves before the kill: {}",
        acks.len()
    );

    // Start again: every acknowledged save is there, every chain holds.
    let server = Server::start(&t.url).await;
    for (attempt, item, seq, shown) in &acks {
        let a = &people.iter().find(|p| p.0.id == *attempt).unwrap().0;
        let entry = a.form.part_one.iter().find(|e| e.item_id == *item).unwrap();
        let canonical = ((b'A' + entry.option_order[*shown]) as char).to_string();
        let stored: Option<(String, String)> = sqlx::query_as(
            "SELECT item_id, answer FROM response_events WHERE attempt_id = $1 AND seq = $2",
        )
        .bind(attempt)
        .bind(i64::try_from(*seq).unwrap())
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        assert_eq!(
            stored,
            Some((item.clone(), canonical)),
            "acknowledged save {attempt}/{seq} lost"
        );
    }
    let (checked, breaks) = attempts::verify_chains(db).await.unwrap();
    assert_eq!(checked, 8);
    assert!(breaks.is_empty(), "{breaks:?}");

    // The candidates carry on where they were, with the right time left.
    let (a, client, token) = &people[0];
    let last = attempts::last_seq(db, a.id).await.unwrap();
    let res = client
        .post(format!("{}/exam/api/save", server.base))
        .header("x-csrf-token", token)
        .json(&serde_json::json!({"part": 1, "item": a.form.part_one[0].item_id, "value": "1", "seq": last + 1}))
        .send()
        .await
        .unwrap();
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
