//! Write transactions: the only way the store changes the database.
//!
//! sqlx's own `Transaction` keeps a nesting depth beside the connection. When SQLite fails a
//! `COMMIT` (a full disk: SQLITE_FULL, an I/O error) it rolls the transaction back itself, sqlx's
//! `ROLLBACK` then fails, the depth is left at one, and the next `begin()` on that connection
//! opens a SAVEPOINT inside a transaction that never commits again: every later "commit" only
//! releases a savepoint, and acknowledged saves are lost. A `WriteTx` is plain `BEGIN`/`COMMIT`
//! on a writer connection and trusts nothing after an error: a connection whose `COMMIT` or
//! `ROLLBACK` failed is closed, never returned to the pool, and the pool opens a fresh one for
//! the next write. A transaction dropped without a commit is rolled back before its connection
//! is used again.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Connection};

use super::{Backend, Db, Result};

/// An open write transaction on the writer. Derefs to the connection, so `&mut *tx` is an
/// executor as with sqlx's `Transaction`.
pub struct WriteTx {
    conn: Option<PoolConnection<Any>>,
    health: Arc<WriteHealth>,
}

/// Whether writes are failing now: set by a failed commit or begin, cleared by a good commit.
/// `/healthz` reads it.
#[derive(Debug, Default)]
pub struct WriteHealth {
    /// When the oldest failure since the last good commit happened (ms since the epoch), or 0.
    failing_since: AtomicI64,
    /// When a commit last succeeded (ms since the epoch), or 0.
    last_ok: AtomicI64,
}

impl WriteHealth {
    pub(crate) fn failed(&self) {
        let _ = self.failing_since.compare_exchange(
            0,
            super::now_ms().max(1),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    pub(crate) fn succeeded(&self) {
        self.last_ok.store(super::now_ms(), Ordering::SeqCst);
        self.failing_since.store(0, Ordering::SeqCst);
    }

    /// True when a commit succeeded within `ms` and nothing failed since.
    pub fn ok_within(&self, ms: i64) -> bool {
        self.failing_since().is_none()
            && super::now_ms() - self.last_ok.load(Ordering::SeqCst) <= ms
    }

    /// Since when writes have been failing, if they are.
    pub fn failing_since(&self) -> Option<i64> {
        match self.failing_since.load(Ordering::SeqCst) {
            0 => None,
            t => Some(t),
        }
    }
}

impl Db {
    /// Opens a write transaction on the writer. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes cannot be refused
    /// half-way for another writer.
    pub async fn write(&self) -> Result<WriteTx> {
        let conn = self.writer.acquire().await?;
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        // The guard before the BEGIN is sent: if this future is dropped while the BEGIN is in
        // flight (a browser that navigates away mid-request), the BEGIN still runs on the
        // connection, and the guard's drop rolls it back before the pool hands the connection
        // out again, rather than the next writer finding it inside a transaction.
        let mut tx = WriteTx {
            conn: Some(conn),
            health: self.health.clone(),
        };
        if let Err(e) = sqlx::query(begin).execute(&mut *tx).await {
            self.health.failed();
            // Whatever state it is in, it is not one to build on.
            if let Some(conn) = tx.conn.take() {
                discard(conn).await;
            }
            return Err(e.into());
        }
        Ok(tx)
    }
}

/// How SQLite's planner statistics are refreshed: a sampled ANALYZE, without STAT4's samples.
///
/// Our SQLite is built with STAT4 (libsqlite3-sys's bundled build), whose samples make a
/// statement re-prepare whenever a value bound against an indexed column changes (SQLite: "the
/// specific value bound to a host parameter ... might influence the choice of query plan"):
/// every exam page's `expires_at > now` was parsed and planned again at every step (counted
/// with probes on sqlite3Reprepare: one per step). Our queries look up keys, where
/// sqlite_stat1's counts are all the planner needs. Dropping the table also changes the
/// schema, so every connection reloads the fresh statistics.
pub const SQLITE_STATISTICS: &[&str] = &[
    "PRAGMA analysis_limit = 1000",
    "ANALYZE",
    "DROP TABLE IF EXISTS sqlite_stat4",
];

impl Db {
    /// Refreshes the query planner's statistics, after a bulk load has changed the tables'
    /// sizes by orders of magnitude, so the plans of the pages that follow do not rest on a
    /// guess. On SQLite the analysis samples (`analysis_limit`), so it stays a fraction of a
    /// second on a sitting of 10,000 candidates; PostgreSQL's ANALYZE always samples.
    pub async fn refresh_statistics(&self) -> Result<()> {
        let mut tx = self.write().await?;
        let statements = match self.backend {
            Backend::Sqlite => SQLITE_STATISTICS,
            Backend::Postgres => &["ANALYZE"],
        };
        for sql in statements {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await
    }

    /// Proves the write path: rewrites the health probe's row in a write transaction.
    pub async fn probe_write(&self) -> Result<()> {
        let attempt = async {
            let mut tx = self.write().await?;
            sqlx::query("UPDATE health_probe SET at = $1 WHERE id = 1")
                .bind(super::now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        let result = attempt.await;
        if result.is_err() {
            self.health.failed();
        }
        result
    }
}

impl WriteTx {
    /// Commits. On failure the connection is closed (the engine may or may not have rolled
    /// back; nothing of this transaction is taken as stored) and the error returned.
    pub async fn commit(mut self) -> Result<()> {
        let mut conn = self.conn.take().expect("a transaction is committed once");
        match sqlx::query("COMMIT").execute(&mut *conn).await {
            Ok(_) => {
                self.health.succeeded();
                Ok(())
            }
            Err(e) => {
                self.health.failed();
                tracing::error!(error = %e, "a commit failed; the connection is discarded");
                discard(conn).await;
                Err(e.into())
            }
        }
    }

    /// Rolls back now (dropping the transaction does the same, a moment later).
    pub async fn rollback(mut self) {
        if let Some(conn) = self.conn.take() {
            rollback_or_discard(conn).await;
        }
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.conn.as_ref().expect("an open transaction")
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn.as_mut().expect("an open transaction")
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            match tokio::runtime::Handle::try_current() {
                // The pool gets the connection back only after the rollback, so the next
                // writer cannot see this transaction's work.
                Ok(handle) => {
                    handle.spawn(rollback_or_discard(conn));
                }
                // No runtime to roll back on: closing the connection rolls back.
                Err(_) => drop(conn.detach()),
            }
        }
    }
}

async fn rollback_or_discard(mut conn: PoolConnection<Any>) {
    if let Err(e) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
        tracing::warn!(error = %e, "a rollback failed; the connection is discarded");
        discard(conn).await;
    }
}

/// Takes the connection out of the pool and closes it; the pool opens a new one when needed.
async fn discard(conn: PoolConnection<Any>) {
    let _ = conn.detach().close().await;
}
