//! Storage: one sqlx `AnyPool` over SQLite (the embedded default) or PostgreSQL, chosen by the
//! database URL. Queries are written once, with `$1` placeholders that both accept; only the
//! DDL differs, in `migrations/sqlite` and `migrations/postgres`.

pub mod absence;
pub mod analysis;
pub mod attempts;
pub mod audit;
pub mod bank;
pub mod batches;
pub mod ratings;
pub mod results;
pub mod sittings;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL \"{0}\" is neither sqlite: nor postgres:")]
    UnknownScheme(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("applying migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database: a pool and which engine is behind it.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Where the exam's writes go. SQLite has one writer at a time; connections that race for
    /// it are put to sleep by its busy handler, which wrecks latency under load, so on SQLite
    /// these writes queue for one dedicated connection. On PostgreSQL it is the main pool: row
    /// locks serialise writes to one attempt only.
    pub writer: AnyPool,
    /// The queues of saves for the writer tasks, started with the first save.
    pub(crate) saves: std::sync::Arc<SaveQueues>,
}

type SaveQueues = tokio::sync::OnceCell<Vec<tokio::sync::mpsc::Sender<attempts::SaveRequest>>>;

/// Milliseconds since the Unix epoch: how every instant is stored.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(d.as_millis()).expect("milliseconds fit in i64")
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

impl Db {
    /// Connects, creating a SQLite file if needed, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let url = match backend {
            Backend::Sqlite => with_create(url),
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = Self::pool(
            backend,
            options.clone(),
            match backend {
                // Readers work side by side in WAL.
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            },
        )
        .await?;
        if backend == Backend::Sqlite {
            // WAL persists in the file; readers no longer block the writer.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let writer = match backend {
            Backend::Sqlite => {
                let writer = Self::pool(backend, options, 1).await?;
                // The WAL is checkpointed from a reader (see `checkpoint`), not by the writer
                // at a commit, where it would stall every save queued behind it.
                sqlx::query("PRAGMA wal_autocheckpoint = 0")
                    .execute(&writer)
                    .await?;
                writer
            }
            Backend::Postgres => pool.clone(),
        };
        let db = Db {
            pool,
            backend,
            writer,
            saves: std::sync::Arc::default(),
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn pool(backend: Backend, options: AnyConnectOptions, size: u32) -> Result<AnyPool> {
        Ok(AnyPoolOptions::new()
            .max_connections(size)
            // The one writer's queue may be long under load; a request gives up at 30 s anyway.
            .acquire_timeout(Duration::from_secs(if size == 1 { 30 } else { 10 }))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?)
    }

    async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Backend::Postgres => {
                sqlx::migrate!("migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Copies the SQLite write-ahead log back into the database without blocking the writer
    /// (a passive checkpoint); the server runs it every second. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// True when `e` is a unique-constraint violation, on either engine.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
