//! Settings for the server, from the command line or the environment.

use std::net::SocketAddr;

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
    /// The largest CSV upload of registrations, in bytes: a file of the most candidates one
    /// upload registers (10,000) takes about 1 MiB; a larger file is still read whole, so every
    /// row's errors can be reported before it is refused.
    pub upload_limit: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.parse().expect("default address parses"),
            secure_cookies: false,
            body_limit: 2 * 1024 * 1024,
            upload_limit: 16 * 1024 * 1024,
        }
    }
}
