//! Read connections kept out of sqlx's pool for the query every candidate page starts
//! with (a candidate's session, registration, sitting and attempt in one query).
//!
//! sqlx's pool tests each connection as it is given back: a `ping`, on PostgreSQL a `Sync`
//! sent and a `ReadyForQuery` awaited, a second round trip after every query (counted on a
//! question page: two `sendto`s to the database and one transaction per page), which woke
//! the database's backend a second time for nothing; on SQLite, a round trip to the
//! connection's thread. A kept connection goes back to a short list instead, untested, and
//! only when its query ran to the end: a query cut short (a browser that went away mid-page,
//! an error) leaves its connection in a state nobody should build on, so it is dropped, and
//! the next page takes another. One that has lain idle a while is pinged before use, as the
//! pool does (`PING_AFTER_IDLE`), so a database restarted in a quiet spell is noticed first.
//!
//! The connections come from the readers' pool (with its read-only settings), detached from
//! it, and are counted in the readers' number (see [`share`]); a page that finds them all
//! busy uses the pool as before.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sqlx::{AnyConnection, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{Db, Result, PING_AFTER_IDLE};

/// How the configured read connections (`[database] reader_pool`) are shared: two thirds
/// kept for the hot queries (one for each page in flight at once, or the rest use the pool),
/// the rest, at least two, in the pool for every other read. Returns (pool, kept).
pub fn share(readers: u32) -> (u32, usize) {
    let pool = (readers / 3).max(2);
    let kept = readers.saturating_sub(pool).max(1);
    (pool, kept as usize)
}

/// The kept connections lying idle, and the places of those in use.
#[derive(Debug)]
pub struct KeptReaders {
    idle: Mutex<Vec<(AnyConnection, Instant)>>,
    places: Arc<Semaphore>,
    /// How many may be out at once.
    most: usize,
}

impl KeptReaders {
    pub fn new(kept: usize) -> Self {
        KeptReaders {
            idle: Mutex::new(Vec::new()),
            places: Arc::new(Semaphore::new(kept)),
            most: kept,
        }
    }

    /// Closes the idle connections, and keeps no more (the database is being closed).
    pub async fn close(&self) {
        self.places.close();
        let idle = std::mem::take(&mut *self.idle());
        for (conn, _) in idle {
            let _ = conn.close().await;
        }
    }

    /// The most recently given back idle connection, the list's lock released (never held
    /// across an await).
    fn take_idle(&self) -> Option<(AnyConnection, Instant)> {
        self.idle().pop()
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<(AnyConnection, Instant)>> {
        // Nothing panics while holding it: a poisoned list is still a list.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A kept connection in use. Derefs to the connection (`&mut *kept` is an executor).
/// [`Kept::finish`] gives it back once its query has run to the end; dropped without that,
/// the connection is closed.
pub struct Kept<'a> {
    conn: Option<AnyConnection>,
    home: &'a KeptReaders,
    _place: OwnedSemaphorePermit,
}

impl Kept<'_> {
    /// The query ran to the end: the connection is fit for the next one.
    pub fn finish(mut self) {
        if let Some(conn) = self.conn.take() {
            self.home.idle().push((conn, Instant::now()));
        }
    }
}

impl Deref for Kept<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.conn
            .as_ref()
            .expect("a kept connection is held until finished or dropped")
    }
}

impl DerefMut for Kept<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.conn
            .as_mut()
            .expect("a kept connection is held until finished or dropped")
    }
}

impl Db {
    /// The most read connections this server opens: the pool's and the kept ones, together
    /// what `[database] reader_pool` names.
    pub fn read_connections(&self) -> usize {
        self.pool.options().get_max_connections() as usize + self.kept.most
    }

    /// A kept read connection, or `None` when all are in use (then use `pool`).
    pub(crate) async fn kept_reader(&self) -> Result<Option<Kept<'_>>> {
        let home = &*self.kept;
        let Ok(place) = home.places.clone().try_acquire_owned() else {
            return Ok(None);
        };
        while let Some((mut conn, since)) = home.take_idle() {
            if self.backend == super::Backend::Postgres
                && since.elapsed() > PING_AFTER_IDLE
                && conn.ping().await.is_err()
            {
                // Dead (the database restarted meanwhile, say): dropped, try the next.
                continue;
            }
            return Ok(Some(Kept {
                conn: Some(conn),
                home,
                _place: place,
            }));
        }
        let conn = self.pool.acquire().await?.detach();
        Ok(Some(Kept {
            conn: Some(conn),
            home,
            _place: place,
        }))
    }

    /// Runs `query` for at most one row on a kept connection (on the pool when none is free):
    /// for the query every candidate page starts with.
    pub(crate) async fn hot_optional<'q, O>(
        &self,
        query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Option<O>>
    where
        O: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        match self.kept_reader().await? {
            Some(mut kept) => {
                let row = query.fetch_optional(&mut *kept).await?;
                kept.finish();
                Ok(row)
            }
            None => Ok(query.fetch_optional(&self.pool).await?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readers_are_shared_without_opening_more() {
        assert_eq!(share(8), (2, 6), "SQLite's default");
        assert_eq!(share(12), (4, 8), "PostgreSQL's default");
        assert_eq!(share(30), (10, 20));
        // Below the two the pool keeps and the one kept, the minimum wins.
        assert_eq!(share(1), (2, 1));
    }

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("kept.db").display());
        let db = Db::connect(&url).await.unwrap();
        (dir, db)
    }

    fn one(db: &Db) -> impl std::future::Future<Output = Result<Option<(i64,)>>> + '_ {
        db.hot_optional(sqlx::query_as("SELECT 1"))
    }

    #[tokio::test]
    async fn a_finished_query_gives_its_connection_back_untested() {
        let (_dir, db) = db().await;
        assert_eq!(one(&db).await.unwrap(), Some((1,)));
        assert_eq!(one(&db).await.unwrap(), Some((1,)));
        assert_eq!(
            db.kept.idle().len(),
            1,
            "the second query reused the first's connection"
        );
        // A kept connection is read-only, as the pool's readers are.
        let mut kept = db.kept_reader().await.unwrap().unwrap();
        let write = sqlx::query("CREATE TABLE nope (x INTEGER)")
            .execute(&mut *kept)
            .await;
        assert!(write.is_err(), "a kept reader refuses writes");
    }

    #[tokio::test]
    async fn a_connection_whose_query_was_cut_short_is_dropped_not_kept() {
        let (_dir, db) = db().await;
        let kept = db.kept_reader().await.unwrap().unwrap();
        drop(kept);
        assert_eq!(db.kept.idle().len(), 0, "never finished: not given back");
        // An error is a query cut short too.
        let failed: Result<Option<(i64,)>> = db
            .hot_optional(sqlx::query_as("SELECT no_such_column"))
            .await;
        assert!(failed.is_err());
        assert_eq!(db.kept.idle().len(), 0);
        // The next query opens another and works.
        assert_eq!(one(&db).await.unwrap(), Some((1,)));
        assert_eq!(db.kept.idle().len(), 1);
    }

    #[tokio::test]
    async fn when_every_kept_connection_is_busy_the_pool_serves() {
        let (_dir, db) = db().await;
        let (_, n) = share(db.settings.readers());
        let mut held = Vec::new();
        for _ in 0..n {
            held.push(db.kept_reader().await.unwrap().expect("a place"));
        }
        assert!(db.kept_reader().await.unwrap().is_none(), "all {n} in use");
        assert_eq!(one(&db).await.unwrap(), Some((1,)), "through the pool");
        for k in held {
            k.finish();
        }
        assert_eq!(db.kept.idle().len(), n);
        db.close().await;
        assert_eq!(db.kept.idle().len(), 0, "closed with the database");
        assert!(db.kept_reader().await.unwrap().is_none());
    }
}
