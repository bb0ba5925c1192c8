//! SQLite's write-ahead log stays bounded under steady writes, and mostly without cutting its
//! file: after a passive checkpoint has copied the log, the writer restarts it, and the next
//! commits write over the file from its start; only past the bound on disk is it truncated.

use imh_exam::config::DbConfig;
use imh_exam::store::Db;

/// Commits `mib` MiB in transactions of 64 KiB through the writer.
async fn write_mib(db: &Db, mib: usize) {
    for _ in 0..mib * 16 {
        let mut tx = db.write().await.unwrap();
        sqlx::query("INSERT INTO filler (x) VALUES (randomblob(65536))")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn the_log_restarts_after_a_checkpoint_and_is_truncated_past_its_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let wal = dir.path().join("wal.db-wal");
    let db = Db::open(&DbConfig {
        url: format!("sqlite://{}", path.display()),
        wal_limit: 6 * 1024 * 1024,
        ..DbConfig::default()
    })
    .await
    .unwrap();
    let size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    let mut tx = db.write().await.unwrap();
    sqlx::query("CREATE TABLE filler (x BLOB)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    write_mib(&db, 3).await;
    let grown = size();
    assert!(
        grown > 3 * 1024 * 1024,
        "the log holds what was written: {grown}"
    );
    assert!(
        !db.bound_wal().await.unwrap(),
        "under its bound, nothing is due"
    );

    // A passive checkpoint copies the log; then the writer restarts it.
    db.checkpoint().await.unwrap();
    assert!(
        db.bound_wal().await.unwrap(),
        "restarted after the checkpoint"
    );
    assert!(!db.bound_wal().await.unwrap(), "once");
    write_mib(&db, 2).await;
    assert_eq!(
        size(),
        grown,
        "the file is written over from its start, not grown or cut"
    );

    // Without checkpoints the log passes its bound: then it is copied whole and truncated.
    write_mib(&db, 5).await;
    assert!(size() > 6 * 1024 * 1024, "{}", size());
    assert!(db.bound_wal().await.unwrap(), "truncated past the bound");
    assert_eq!(size(), 0);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM filler")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 10 * 16, "every row is in the database");
}
