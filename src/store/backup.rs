//! `imh-exam backup`: an online, consistent copy of a SQLite database.

use std::path::Path;

use super::{Backend, Db, Result, StoreError};

impl Db {
    /// Writes a consistent copy of the whole database to `path` while the server keeps
    /// running (SQLite's `VACUUM INTO`: one read transaction, so the copy is one instant of the
    /// database, and writers are not blocked in WAL mode). Refuses to overwrite a file. On
    /// PostgreSQL, use `pg_dump` (README, "Backup and restore").
    pub async fn backup_to(&self, path: &Path) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                if path.exists() {
                    return Err(StoreError::Backup(format!(
                        "{} exists already; choose a new file",
                        path.display()
                    )));
                }
                let target = path.to_str().ok_or_else(|| {
                    StoreError::Backup(format!("{} is not a UTF-8 path", path.display()))
                })?;
                // A reader connection (the copy is a read transaction, so saves go on), with
                // its read-only guard lifted for this statement alone: VACUUM INTO writes only
                // the new file. The connection is closed afterwards, never reused unguarded.
                let mut conn = self.pool.acquire().await?.detach();
                sqlx::query("PRAGMA query_only = OFF")
                    .execute(&mut conn)
                    .await?;
                let copied = sqlx::query("VACUUM INTO $1")
                    .bind(target)
                    .execute(&mut conn)
                    .await;
                let _ = sqlx::Connection::close(conn).await;
                copied?;
                Ok(())
            }
            Backend::Postgres => Err(StoreError::Backup(
                "on PostgreSQL, back up with pg_dump: pg_dump --format=custom --file=FILE DATABASE_URL (restore with pg_restore --clean --dbname=DATABASE_URL FILE)".into(),
            )),
        }
    }
}
