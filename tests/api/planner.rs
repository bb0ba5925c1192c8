//! The query planner's statistics after a bulk load, on both engines: refreshed, and on SQLite
//! without STAT4's samples, which made every statement that binds a value against an indexed
//! column (an exam page's `expires_at > now`, a batch of saves) parse and plan itself again at
//! every step.

use imh_exam::bank::Level;
use imh_exam::exam::form::Parts;
use imh_exam::store::Backend;

use crate::helpers::exam::{candidate, registered, OpenSitting};
use crate::helpers::{spawn_app, Engine};
use crate::on_both_engines;

async fn statistics_are_refreshed_without_samples_that_force_re_planning(engine: Engine) {
    let app = spawn_app(engine).await;
    let db = &app.db;
    let s = OpenSitting::new(db).await;
    for i in 0..20 {
        registered(
            db,
            &s.sitting,
            &candidate(&format!("p{i}@x.org"), Level::III, Parts::BOTH, "1"),
            &s.bps,
        )
        .await;
    }
    db.refresh_statistics().await.unwrap();
    if db.backend != Backend::Sqlite {
        // PostgreSQL plans a prepared statement once per connection whatever its values.
        return;
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%' ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(tables, ["sqlite_stat1"], "STAT4's samples are dropped");
    let counted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'registrations'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(counted > 0, "the registrations' indexes are counted");
    // A second refresh (the tables exist now) does the same.
    db.refresh_statistics().await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name LIKE 'sqlite_stat%'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(tables, ["sqlite_stat1"]);
}

on_both_engines!(statistics_are_refreshed_without_samples_that_force_re_planning);
