//! Storage: one sqlx `AnyPool` over SQLite (the embedded default) or PostgreSQL, chosen by the
//! database URL. Queries are written once, with `$1` placeholders that both accept; only the
//! DDL differs, in `migrations/sqlite` and `migrations/postgres`.

pub mod absence;
pub mod analysis;
pub mod appeals;
pub mod attempts;
pub mod audit;
pub mod backup;
pub mod bank;
pub mod batches;
pub mod bulk;
pub mod calibration;
pub mod clock;
pub mod comments;
pub mod forms;
mod kept;
pub mod ratings;
pub mod results;
pub mod sittings;
pub mod studies;
pub mod two_factor;
pub mod users;
pub mod write;

pub use write::{WriteHealth, WriteTx, SQLITE_STATISTICS};

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

use crate::config::DbConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a pool's connections may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadOnly,
    ReadWrite,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL \"{0}\" is neither sqlite: nor postgres:")]
    UnknownScheme(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("applying migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("backup: {0}")]
    Backup(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database: a pool and which engine is behind it.
#[derive(Debug, Clone)]
pub struct Db {
    /// Reads. Its connections are read-only (SQLite `query_only`, PostgreSQL read-only
    /// transactions): every write goes through `write()` or the writer.
    pub pool: AnyPool,
    pub backend: Backend,
    /// Where the exam's writes go. SQLite has one writer at a time; connections that race for
    /// it are put to sleep by its busy handler, which wrecks latency under load, so on SQLite
    /// these writes queue for one dedicated connection. On PostgreSQL it is a pool of its own:
    /// row locks serialise writes to one attempt only.
    pub writer: AnyPool,
    /// The queues of saves for the writer tasks, started with the first save.
    pub(crate) saves: std::sync::Arc<SaveQueues>,
    /// Whether writes are failing now (see `write`); `/healthz` answers 503 while they are.
    pub health: std::sync::Arc<WriteHealth>,
    /// Attempts' current answers, kept up by the writer (see `attempts::current_answers`).
    pub(crate) answers: attempts::AnswerCache,
    /// Attempts' forms, fixed once drawn (see `attempts::attempt_of_part`).
    pub(crate) forms: attempts::FormCache,
    /// Sittings' submitted Part One tables, by what they were read at (see
    /// `analysis::part_one_forms`).
    pub(crate) part_one: analysis::PartOneCache,
    /// SQLite's write-ahead log file, watched so it stays bounded (see `bound_wal`).
    wal: Option<std::path::PathBuf>,
    /// Set by a passive checkpoint that copied a log worth restarting: the writer restarts
    /// the log from its start between two batches (see `bound_wal`).
    wal_restart_due: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The pools, waits and batches it was opened with.
    pub settings: std::sync::Arc<DbConfig>,
    /// Where the save path records its batches and answers, once a server with a metrics
    /// address says so (see `record_into`); shared by every clone.
    metrics: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<crate::metrics::Metrics>>>,
    /// When this server last deleted sign-in failures past their window (ms since the epoch;
    /// see `users::record_login_failure`).
    pub(crate) failures_purged_at: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// Read connections kept out of the pool for the exam's hot queries (see `kept`).
    kept: std::sync::Arc<kept::KeptReaders>,
}

/// How long a pooled PostgreSQL connection may lie idle before it is pinged on its next use:
/// under load connections never lie this long, so no page pays for a ping; after a quiet spell
/// (when the database may have restarted) a dead connection is found before a page uses it.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Pages a passive checkpoint must have copied before the writer restarts the log (1 MiB at
/// our 1 KiB pages): a smaller log is not worth holding the saves for.
const WAL_RESTART_FRAMES: i64 = 1024;

type SaveQueues = tokio::sync::OnceCell<Vec<tokio::sync::mpsc::Sender<attempts::SaveRequest>>>;

/// Milliseconds since the Unix epoch, by the database's clock (see `clock`): how every instant
/// is taken and stored.
pub fn now_ms() -> i64 {
    clock::now_ms()
}

fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::UnknownScheme(url.to_string()))
    }
}

/// A SQLite URL that creates the file on first use.
fn with_create(url: &str) -> String {
    if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// A pool's size and how long a request waits for one of its connections.
#[derive(Debug, Clone, Copy)]
struct PoolShape {
    size: u32,
    wait: Duration,
    access: Access,
}

impl Db {
    /// Connects with the default settings, creating a SQLite file if needed, and applies the
    /// migrations.
    pub async fn connect(url: &str) -> Result<Db> {
        Self::open(&DbConfig {
            url: url.to_string(),
            ..DbConfig::default()
        })
        .await
    }

    /// Connects as `settings` say (the URL, the pools' sizes and waits), creating a SQLite
    /// file if needed, and applies the migrations.
    pub async fn open(settings: &DbConfig) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(&settings.url)?;
        let url = match backend {
            Backend::Sqlite => with_create(&settings.url),
            Backend::Postgres => settings.url.clone(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        // The writer first: it creates the file, switches it to WAL and applies migrations.
        let writer = match backend {
            // SQLite has one writer at a time (see `writer`); a write may wait long for it.
            Backend::Sqlite => PoolShape {
                size: 1,
                wait: settings.writer_timeout,
                access: Access::ReadWrite,
            },
            Backend::Postgres => PoolShape {
                size: settings.writer_pool,
                wait: settings.acquire_timeout,
                access: Access::ReadWrite,
            },
        };
        let writer = Self::pool(backend, options.clone(), writer, settings.busy_timeout).await?;
        if backend == Backend::Sqlite {
            // Small pages for a new database (an existing one keeps its own): a batch of saves
            // from hundreds of candidates rewrites a page or three per save (each attempt's
            // events are clustered), and every page goes to the WAL whole at every commit, so
            // the bytes written per save fall with the page size.
            sqlx::query("PRAGMA page_size = 1024")
                .execute(&writer)
                .await?;
            // WAL persists in the file; readers no longer block the writer.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&writer)
                .await?;
            // The WAL is checkpointed from a reader (see `checkpoint`), not by the writer at a
            // commit, where it would stall every save queued behind it.
            sqlx::query("PRAGMA wal_autocheckpoint = 0")
                .execute(&writer)
                .await?;
            // When the log restarts, its file is cut back to the log's bound, not below: a file
            // cut short grows again at the following commits, and an fsync of a file that grew
            // also writes its new size.
            sqlx::query(&format!(
                "PRAGMA journal_size_limit = {}",
                settings.wal_limit
            ))
            .execute(&writer)
            .await?;
        }
        // Readers can only read: the engine refuses any write sent to them, so a write that
        // skips the writer (and, on SQLite, races it) fails in every test instead of working
        // by luck.
        let (pooled, kept) = kept::share(settings.readers());
        let readers = PoolShape {
            // Readers work side by side in WAL.
            size: pooled,
            wait: settings.acquire_timeout,
            access: Access::ReadOnly,
        };
        let pool = Self::pool(backend, options, readers, settings.busy_timeout).await?;
        let wal = match backend {
            Backend::Sqlite => sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                .ok()
                .map(|o| {
                    let mut path = o.get_filename().as_os_str().to_owned();
                    path.push("-wal");
                    std::path::PathBuf::from(path)
                }),
            Backend::Postgres => None,
        };
        let db = Db {
            pool,
            backend,
            writer,
            saves: std::sync::Arc::default(),
            health: std::sync::Arc::default(),
            answers: attempts::AnswerCache::default(),
            part_one: analysis::PartOneCache::default(),
            forms: attempts::FormCache::default(),
            wal,
            wal_restart_due: std::sync::Arc::default(),
            settings: std::sync::Arc::new(settings.clone()),
            metrics: std::sync::Arc::default(),
            failures_purged_at: std::sync::Arc::default(),
            kept: std::sync::Arc::new(kept::KeptReaders::new(kept)),
        };
        db.migrate().await?;
        db.sync_clock().await?;
        Ok(db)
    }

    async fn pool(
        backend: Backend,
        options: AnyConnectOptions,
        shape: PoolShape,
        busy: Duration,
    ) -> Result<AnyPool> {
        let access = shape.access;
        let busy_ms = busy.as_millis();
        Ok(AnyPoolOptions::new()
            .max_connections(shape.size)
            .acquire_timeout(shape.wait)
            // A SQLite connection is a file handle and cannot go stale, so it is not pinged
            // before every use: the ping was a round trip to its worker thread, as dear as the
            // query itself (half of a question page's database time). A PostgreSQL connection
            // can die with its server: it is pinged when it has lain idle a while (when a
            // restart may have passed unnoticed), not on every use, where the ping was a round
            // trip and a wake-up of its backend on every page (benches/pages: a question page's
            // CPU, server and database processes together, 270-276 µs before, 223-235 after).
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres && meta.idle_for > PING_AFTER_IDLE {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query(&format!("PRAGMA busy_timeout = {busy_ms}"))
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    if backend == Backend::Postgres {
                        // No JIT: our queries are small and planned on tables that may have no
                        // statistics yet (right after a bulk load), where the planner's guess can
                        // pass the JIT threshold and every page view then compiles its query
                        // (~12 ms each; a question page went from ~517 to ~190 a second).
                        sqlx::query("SET jit = off").execute(&mut *conn).await?;
                    }
                    if access == Access::ReadOnly {
                        let sql = match backend {
                            Backend::Sqlite => "PRAGMA query_only = ON",
                            Backend::Postgres => {
                                "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
                            }
                        };
                        sqlx::query(sql).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?)
    }

    async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("migrations/sqlite")
                    .run(&self.writer)
                    .await?;
                // Outside a migration: SQLite's table rebuild needs foreign keys off.
                studies::admit_panelists(&self.writer).await?;
            }
            Backend::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.writer)
                    .await?
            }
        }
        Ok(())
    }

    /// Copies the SQLite write-ahead log back into the database without blocking the writer
    /// (a passive checkpoint); the server runs it every second. When it has copied at least
    /// [`WAL_RESTART_FRAMES`] pages, the writer is asked to restart the log between two
    /// batches (see `bound_wal`). Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            // (busy, frames in the log, frames copied into the database)
            let (_, _, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&self.pool)
                .await?;
            if copied >= WAL_RESTART_FRAMES {
                self.wal_restart_due
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// Keeps SQLite's write-ahead log bounded, between two batches of saves, on the writer.
    /// Under steady saves the log never empties by itself: a passive checkpoint (from a
    /// reader, beside the writer) copies it into the database, but only a checkpoint that
    /// holds the writer can start it again from the top. So:
    /// - after a passive checkpoint copied a log worth it, the writer restarts the log
    ///   (`RESTART`: it copies what was committed since and waits for readers still on the
    ///   old log), and the file is written over from its start rather than cut and grown;
    /// - past `settings.wal_limit` on disk all the same (saves faster than the passive
    ///   checkpoints copy), it copies the whole log and truncates the file.
    ///
    /// Returns whether it restarted or truncated. Nothing to do on PostgreSQL.
    pub async fn bound_wal(&self) -> Result<bool> {
        let Some(wal) = &self.wal else {
            return Ok(false);
        };
        let size = std::fs::metadata(wal).map_or(0, |m| m.len());
        // Taken either way: a truncation restarts the log too.
        let due = self
            .wal_restart_due
            .swap(false, std::sync::atomic::Ordering::Relaxed);
        let mode = if size > self.settings.wal_limit {
            "TRUNCATE"
        } else if due {
            "RESTART"
        } else {
            return Ok(false);
        };
        sqlx::query(&format!("PRAGMA wal_checkpoint({mode})"))
            .execute(&self.writer)
            .await?;
        Ok(true)
    }

    /// From now on the save path records into `metrics` (this database and every clone of
    /// it; the first server to ask wins). Without it, nothing is recorded.
    pub fn record_into(&self, metrics: std::sync::Arc<crate::metrics::Metrics>) {
        let _ = self.metrics.set(metrics);
    }

    /// The metrics the save path records into, if any.
    pub(crate) fn metrics(&self) -> Option<&crate::metrics::Metrics> {
        self.metrics.get().map(|m| &**m)
    }

    /// Connections open and idle in the readers' and the writer's pools, now.
    pub fn pool_use(&self) -> Vec<(crate::metrics::Pool, u32, usize)> {
        vec![
            (
                crate::metrics::Pool::Reader,
                self.pool.size(),
                self.pool.num_idle(),
            ),
            (
                crate::metrics::Pool::Writer,
                self.writer.size(),
                self.writer.num_idle(),
            ),
        ]
    }

    pub async fn close(&self) {
        self.kept.close().await;
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// True when `e` is a unique-constraint violation, on either engine.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
