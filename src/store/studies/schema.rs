//! SQLite only: the users table's role CHECK widened to admit `panelist`.
//!
//! SQLite cannot alter a CHECK constraint; the table is rebuilt (SQLite's "12 steps": a new
//! table, the rows copied with their ids, the old one dropped, the new one renamed) with foreign
//! keys off, since other tables refer to users (id) and dropping the old table must not touch
//! them. Foreign keys cannot be switched off inside a transaction and sqlx runs each SQLite
//! migration in one, so this runs after the migrations, on the writer, once: it does nothing
//! when the table already admits panelists.

use sqlx::AnyConnection;

use crate::store::Result;

const REBUILD: [&str; 4] = [
    "CREATE TABLE users_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'proctor', 'rater', 'committee', 'panelist')),
        organisation TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    )",
    "INSERT INTO users_new (id, username, display_name, role, organisation, password_hash,
         disabled, created_at)
     SELECT id, username, display_name, role, organisation, password_hash, disabled, created_at
     FROM users",
    "DROP TABLE users",
    "ALTER TABLE users_new RENAME TO users",
];

/// Rebuilds the users table so its role CHECK admits `panelist`, unless it does already.
pub(crate) async fn admit_panelists(writer: &sqlx::AnyPool) -> Result<()> {
    let mut conn = writer.acquire().await?;
    let sql: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'")
            .fetch_one(&mut *conn)
            .await?;
    if sql.contains("'panelist'") {
        return Ok(());
    }
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let rebuilt = rebuild(&mut conn).await;
    if rebuilt.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    // On again whatever happened: every other write relies on it.
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    rebuilt
}

async fn rebuild(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    for statement in REBUILD {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    Ok(())
}
