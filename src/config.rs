//! Settings for the server, from the command line or the environment.

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
    /// Where the metrics listener answers `GET /metrics` (never on `bind`). None: no listener,
    /// and no metrics are kept.
    pub metrics_bind: Option<SocketAddr>,
    /// How log lines are written to standard error.
    pub log_format: LogFormat,
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
            metrics_bind: None,
            log_format: LogFormat::Text,
        }
    }
}
