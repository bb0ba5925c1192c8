//! `imh-exam backup`: a sitting backed up mid-exam while candidates save, restored into a new
//! place, verifies and continues.

use std::time::Duration;

use imh_exam::store::{attempts, Db};

use crate::helpers::exam::OpenSitting;
use crate::helpers::server::{imh_exam, Server};
use crate::helpers::{csrf_of, test_db, Browser, Engine};

fn imh(args: &[&str]) -> std::process::Output {
    imh_exam().args(args).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_mid_exam_restores_verifies_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("live.db").display());
    let db = Db::connect(&url).await.unwrap();
    let seat = OpenSitting::new(&db)
        .await
        .start_part_one(&db, "backup@x.org")
        .await;
    let a = seat.attempt;
    db.close().await;

    let server = Server::start(&url).await;
    let cand = Browser::for_server(&server.base);
    let token = cand.enter_as_candidate(&seat.code).await;
    let items: Vec<String> = a.form.part_one.iter().map(|e| e.item_id.clone()).collect();
    let save = {
        let (cand, token) = (cand.clone(), token.clone());
        move |base: String, seq: u64| {
            let (cand, token) = (cand.at(&base), token.clone());
            let item = items[seq as usize % items.len()].clone();
            async move { cand.save(&token, 1, &item, "2", seq).await.status() }
        }
    };
    for seq in 1..=20 {
        assert_eq!(save(server.base.clone(), seq).await, 200);
    }

    // The backup runs while the server is up and the candidate keeps saving.
    let backup = dir.path().join("backup.db");
    let saver = {
        let base = server.base.clone();
        let save = save.clone();
        tokio::spawn(async move {
            for seq in 21..=60 {
                assert_eq!(save(base.clone(), seq).await, 200);
            }
        })
    };
    let out = imh(&["backup", backup.to_str().unwrap(), "--database-url", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    saver.await.unwrap();
    // Never over an existing file.
    let again = imh(&["backup", backup.to_str().unwrap(), "--database-url", &url]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    drop(server);

    // Restore: the copy in a new place, as an administrator would put it back.
    let restored_path = dir.path().join("restored.db");
    std::fs::copy(&backup, &restored_path).unwrap();
    let restored = format!("sqlite:{}", restored_path.display());
    let out = imh(&["audit", "verify", "--database-url", &restored]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let db = Db::connect(&restored).await.unwrap();
    let kept = attempts::last_seq(&db, a.id).await.unwrap();
    assert!(
        (20..=60).contains(&kept),
        "the backup holds saves up to {kept}"
    );
    // Every save up to the newest in the copy is there, in order (an instant of the database).
    let seqs: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM response_events WHERE attempt_id = $1 ORDER BY n")
            .bind(a.id)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(seqs, (1..=kept as i64).collect::<Vec<_>>());
    db.close().await;

    // The exam continues on the restored database: same browser, the next sequence number.
    let server = Server::start(&restored).await;
    let page = cand.at(&server.base).get("/candidate").await;
    assert_eq!(page.status(), 200);
    assert!(!csrf_of(&page.text().await.unwrap()).is_empty());
    assert_eq!(save(server.base.clone(), kept + 1).await, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out = imh(&["audit", "verify", "--database-url", &restored]);
    assert!(out.status.success());
    let audit = Db::connect(&url).await.unwrap();
    let backups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'backup'")
        .fetch_one(&audit.pool)
        .await
        .unwrap();
    assert_eq!(backups, 1);
}

#[tokio::test]
async fn backup_on_postgres_points_to_pg_dump() {
    let t = test_db(Engine::Postgres).await;
    let out = imh(&["backup", "/tmp/never-written.db", "--database-url", &t.url]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}
