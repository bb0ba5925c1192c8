//! Settings for the server: defaults here, then a configuration file (`file`), then the
//! environment and the command line, in that order of precedence (`resolve`). Every setting is
//! one line of the table in `settings`; `check` writes the effective settings back out.

mod check;
mod file;
mod resolve;
pub mod settings;
pub mod value;

pub use check::{mask_url, render};
pub use resolve::{resolve, Effective, Given, Source};

use std::net::SocketAddr;
use std::time::Duration;

/// The SQLite file used when no database URL is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:imh-exam.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// Mark cookies `Secure`: set when the server is reached over HTTPS (behind a proxy).
    pub secure_cookies: bool,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Password checks (argon2, about 19 MiB each) run at once; more wait in a short queue, and
    /// past that are answered 503.
    pub credential_checks: usize,
    /// Requests one client may send in a burst to each of `POST /login`, `POST /enter` and
    /// `POST /exam/api/event`...
    pub client_burst: u32,
    /// ...and then per minute, sustained.
    pub client_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed. Empty: the client is the socket's peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A request's head must arrive within this time of its first byte (or of the connection's
    /// opening, for the first request).
    pub header_timeout: Duration,
    /// A keep-alive connection with no request and no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// The largest CSV upload of registrations, in bytes: a file of the most candidates one
    /// upload registers (10,000) takes about 1 MiB; a larger file is still read whole, so every
    /// row's errors can be reported before it is refused.
    pub upload_limit: usize,
    /// A request not answered within this time is answered 503.
    pub request_timeout: Duration,
    /// The database and how it is used.
    pub db: DbConfig,
    /// Where the metrics listener answers `GET /metrics` (never on `bind`). None: no listener,
    /// and no metrics are kept.
    pub metrics_bind: Option<SocketAddr>,
    /// How log lines are written to standard error.
    pub log_format: LogFormat,
    /// Roles whose members must pass a second step (a TOTP code) to sign in; everyone else may
    /// turn it on for themselves. Empty: optional for everyone.
    pub two_factor_roles: Vec<crate::auth::Role>,
    /// The key two-factor secrets are sealed with (see `two_factor::seal`), read from a file
    /// outside the database. `None`: nobody can turn two-factor sign-in on. The default is a
    /// new random key, good for this process's life only (tests); `serve` and `demo` read theirs
    /// from `two_factor_key_file`.
    pub two_factor_key: Option<crate::two_factor::SealKey>,
    /// The file that key is kept in (`[auth] two_factor_key_file`); `None`: beside a SQLite
    /// database file, none for PostgreSQL.
    pub two_factor_key_file: Option<std::path::PathBuf>,
}

/// How log lines are written: for a person, or one JSON object a line for a log collector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("\"{s}\" is not a log format: text or json")),
        }
    }
}

/// Password checks at once: argon2 is CPU-bound and memory-hungry, so more at once only
/// adds memory, not throughput.
pub fn default_credential_checks() -> usize {
    // Half the cores (at least one): a flood of sign-ins must leave cores for the saves.
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

pub const DEFAULT_CLIENT_BURST: u32 = 20;
pub const DEFAULT_CLIENT_PER_MINUTE: u32 = 60;
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
pub const DEFAULT_MAX_CONNECTIONS: u32 = 2048;

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.parse().expect("default address parses"),
            secure_cookies: false,
            body_limit: 2 * 1024 * 1024,
            credential_checks: default_credential_checks(),
            client_burst: DEFAULT_CLIENT_BURST,
            client_per_minute: DEFAULT_CLIENT_PER_MINUTE,
            trusted_proxies: Vec::new(),
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
            upload_limit: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            db: DbConfig::default(),
            metrics_bind: None,
            log_format: LogFormat::Text,
            two_factor_roles: Vec::new(),
            two_factor_key: Some(crate::two_factor::SealKey::generate()),
            two_factor_key_file: None,
        }
    }
}

/// Which database, and the pools, waits and batches the store works with.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `sqlite:FILE` (created if missing) or `postgres://user@host/db`.
    pub url: String,
    /// Read-only connections; `None`: 8 on SQLite (readers work side by side in WAL), 12 on
    /// PostgreSQL.
    pub reader_pool: Option<u32>,
    /// Writing connections on PostgreSQL (row locks serialise writes to one attempt only).
    /// SQLite always has one: it has one writer at a time, and connections racing for it are
    /// put to sleep by its busy handler, which wrecks latency under load.
    pub writer_pool: u32,
    /// How long a request waits for a pooled connection (readers, PostgreSQL's writers).
    pub acquire_timeout: Duration,
    /// How long a write waits for SQLite's one writing connection: its queue may be long under
    /// load, and a request gives up at `request_timeout` anyway.
    pub writer_timeout: Duration,
    /// How long SQLite waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    /// Past this size SQLite's write-ahead log is checkpointed in full and truncated by the
    /// writer (`Db::bound_wal`): under sustained saves the passive checkpoint never reaches its
    /// end, and the log grew by tens of MiB a second. Most of the time the writer restarts the
    /// log well before (after each passive checkpoint), and its file is never cut below this.
    pub wal_limit: u64,
    /// The most saves one transaction takes: a bound on how long the first of them waits.
    pub save_batch: usize,
    /// Writer tasks draining the saves on PostgreSQL, each with its own queue (an attempt
    /// always goes to the same one). SQLite has one.
    pub save_writers: usize,
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_DATABASE_URL.to_string(),
            reader_pool: None,
            writer_pool: 12,
            acquire_timeout: Duration::from_secs(10),
            writer_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(10),
            wal_limit: 32 * 1024 * 1024,
            save_batch: 128,
            save_writers: 4,
        }
    }
}

impl DbConfig {
    /// Whether the URL names PostgreSQL (otherwise SQLite, or a URL the store refuses).
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres:") || self.url.starts_with("postgresql:")
    }

    /// The reader pool's size: as set, or the engine's default.
    pub fn readers(&self) -> u32 {
        self.reader_pool
            .unwrap_or(if self.is_postgres() { 12 } else { 8 })
    }
}
