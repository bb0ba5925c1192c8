//! Every setting, once: its section and key in the file, its flag and environment variable (if
//! it has them), its help, and the field of `Config` it sets. The file's reader, the command
//! line's flags, `config check` and the README's table all follow this list.
//!
//! Adding a setting: a field in `Config` with its default in `Config::default()`, then one
//! `setting!` line below (and its line in `imh-exam.example.toml`, which a test checks).

use super::value::{at_most, database_url, Arity, Value};
use super::Config;

/// One setting.
pub struct Setting {
    pub section: &'static str,
    pub key: &'static str,
    /// The flag's long name, without `--`.
    pub flag: Option<&'static str>,
    pub env: Option<&'static str>,
    pub help: &'static str,
    pub arity: Arity,
    pub value_name: &'static str,
    /// Reads the file's value into the config, or says what is wrong with it.
    pub from_toml: fn(&toml_edit::Value, &mut Config) -> Result<(), String>,
    /// Reads a flag's or variable's text into the config.
    pub from_texts: fn(&[String], &mut Config) -> Result<(), String>,
    /// The effective value, as TOML (a database URL's password masked).
    pub show: fn(&Config) -> String,
}

impl Setting {
    /// `[server] bind`
    pub fn name(&self) -> String {
        format!("[{}] {}", self.section, self.key)
    }
}

/// `setting!("server", "bind", SocketAddr, bind, "help", flag "bind", env "IMH_BIND")`, with
/// optionally `name "URL"` (the flag's value in `--help`, if not the type's), `check f` (a
/// further rule, `fn(&T) -> Result<(), String>`) and `show f` (how the value is written,
/// `fn(&Config) -> String`).
macro_rules! setting {
    ($section:literal, $key:literal, $ty:ty, $($field:ident).+, $help:literal
     $(, flag $flag:literal)? $(, env $env:literal)? $(, name $name:literal)?
     $(, check $check:expr)? $(, show $show:expr)?) => {
        Setting {
            section: $section,
            key: $key,
            flag: setting!(@opt $($flag)?),
            env: setting!(@opt $($env)?),
            help: $help,
            arity: <$ty as Value>::ARITY,
            value_name: setting!(@name $ty, $($name)?),
            from_toml: |v, c| {
                let x = <$ty as Value>::from_toml(v)?;
                $( ($check)(&x)?; )?
                c.$($field).+ = x;
                Ok(())
            },
            from_texts: |t, c| {
                let x = <$ty as Value>::from_texts(t)?;
                $( ($check)(&x)?; )?
                c.$($field).+ = x;
                Ok(())
            },
            show: setting!(@show $($field).+, $($show)?),
        }
    };
    (@name $ty:ty,) => { <$ty as Value>::VALUE_NAME };
    (@name $ty:ty, $name:literal) => { $name };
    (@opt) => { None };
    (@opt $x:literal) => { Some($x) };
    (@show $($field:ident).+,) => { |c| Value::to_toml(&c.$($field).+) };
    (@show $($field:ident).+, $show:expr) => { $show };
}

/// The sections, in the order `config check` prints them.
pub const SECTIONS: &[&str] = &[
    "server", "limits", "database", "saves", "metrics", "log", "auth",
];

use std::net::SocketAddr;
use std::time::Duration;

pub static SETTINGS: &[Setting] = &[
    // [server]
    setting!("server", "bind", SocketAddr, bind,
        "Address to listen on.",
        flag "bind", env "IMH_BIND"),
    setting!("server", "secure_cookies", bool, secure_cookies,
        "Mark cookies Secure (set this when users reach the server over HTTPS).",
        flag "secure-cookies", env "IMH_SECURE_COOKIES"),
    setting!("server", "trusted_proxies", Vec<ipnet::IpNet>, trusted_proxies,
        "A reverse proxy (address or network, e.g. 10.0.0.0/8) whose X-Forwarded-For is believed; repeat the flag or separate with commas. Without one, the client is the socket's peer.",
        flag "trusted-proxy", env "IMH_TRUSTED_PROXIES"),
    setting!("server", "header_timeout", Duration, header_timeout,
        "Seconds a client has to send a request's head (from its first byte, or from connecting).",
        flag "header-timeout", env "IMH_HEADER_TIMEOUT"),
    setting!("server", "idle_timeout", Duration, idle_timeout,
        "Seconds a kept-alive connection may sit idle before it is closed.",
        flag "idle-timeout", env "IMH_IDLE_TIMEOUT"),
    setting!("server", "request_timeout", Duration, request_timeout,
        "Seconds a request may take before it is answered 503."),
    setting!("server", "max_connections", usize, max_connections,
        "Connections open at once; more are answered 503 and closed.",
        flag "max-connections", env "IMH_MAX_CONNECTIONS",
        check |n: &usize| at_most(*n, u64::from(u32::MAX))),
    // [limits]
    setting!("limits", "credential_checks", usize, credential_checks,
        "Password checks run at once (argon2, about 19 MiB each); more wait briefly or get 503.",
        flag "credential-checks", env "IMH_CREDENTIAL_CHECKS",
        check |n: &usize| at_most(*n, 1024)),
    setting!("limits", "client_burst", u32, client_burst,
        "Requests one client may send at once to POST /login, /enter and /exam/api/event (each).",
        flag "client-burst", env "IMH_CLIENT_BURST"),
    setting!("limits", "client_per_minute", u32, client_per_minute,
        "...and per minute after the burst.",
        flag "client-per-minute", env "IMH_CLIENT_PER_MINUTE"),
    setting!("limits", "body_limit", usize, body_limit,
        "The largest request body of a form, in bytes (sign-in forms and saves have smaller limits of their own)."),
    setting!("limits", "upload_limit", usize, upload_limit,
        "The largest CSV upload of registrations, in bytes."),
    // [database]
    setting!("database", "url", String, db.url,
        "sqlite:FILE (created if missing) or postgres://user@host/db",
        flag "database-url", env "DATABASE_URL", name "URL",
        check |u: &String| database_url(u),
        show |c| super::value::toml_string(&super::mask_url(&c.db.url))),
    setting!("database", "reader_pool", Option<u32>, db.reader_pool,
        "Read-only connections (default: 8 on SQLite, 12 on PostgreSQL; two thirds kept for the exam pages' first query, at least 3 in all).",
        show |c| c.db.readers().to_string()),
    setting!("database", "writer_pool", u32, db.writer_pool,
        "Writing connections on PostgreSQL (SQLite always has one)."),
    setting!("database", "acquire_timeout", Duration, db.acquire_timeout,
        "Seconds a request waits for a pooled connection."),
    setting!("database", "writer_timeout", Duration, db.writer_timeout,
        "Seconds a write waits for SQLite's one writing connection."),
    setting!("database", "busy_timeout", Duration, db.busy_timeout,
        "Seconds SQLite waits for a lock another process holds."),
    setting!("database", "wal_limit", u64, db.wal_limit,
        "Bytes of SQLite's write-ahead log past which it is checkpointed and truncated."),
    // [saves]
    setting!("saves", "batch_size", usize, db.save_batch,
        "The most saves committed in one transaction.",
        check |n: &usize| at_most(*n, 4096)),
    setting!("saves", "writers", usize, db.save_writers,
        "Writer tasks committing saves side by side on PostgreSQL (SQLite has one).",
        check |n: &usize| at_most(*n, 64)),
    // [metrics]
    setting!("metrics", "bind", Option<SocketAddr>, metrics_bind,
        "Address for the metrics listener (GET /metrics, OpenMetrics or Prometheus text). Keep it private: not the public address. Empty or absent: no listener, and no metrics are kept.",
        flag "metrics-bind", env "IMH_METRICS_BIND"),
    // [log]
    setting!("log", "format", crate::config::LogFormat, log_format,
        "How log lines are written: text, or json (one object a line).",
        flag "log-format", env "IMH_LOG_FORMAT"),
    // [auth]
    setting!("auth", "two_factor_roles", Vec<crate::auth::Role>, two_factor_roles,
        "Roles that must sign in with a second step, a code from an app (e.g. admin,committee); others may turn it on for themselves.",
        flag "require-two-factor", env "IMH_REQUIRE_TWO_FACTOR", name "ROLES"),
    setting!("auth", "two_factor_key_file", Option<std::path::PathBuf>, two_factor_key_file,
        "The file of the key two-factor secrets are sealed with (made on first start; every server of one database needs the same). Empty: beside a SQLite database file; PostgreSQL needs it named.",
        flag "two-factor-key-file", env "IMH_TWO_FACTOR_KEY_FILE"),
];

/// The setting at `[section] key`, by its index in `SETTINGS`.
pub fn find(section: &str, key: &str) -> Option<usize> {
    SETTINGS
        .iter()
        .position(|s| s.section == section && s.key == key)
}

/// The keys of a section, for "expected one of".
pub fn keys_of(section: &str) -> Vec<&'static str> {
    SETTINGS
        .iter()
        .filter(|s| s.section == section)
        .map(|s| s.key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_in_a_known_section_once_and_its_default_shows() {
        let config = Config::default();
        for (i, s) in SETTINGS.iter().enumerate() {
            assert!(SECTIONS.contains(&s.section), "{}", s.name());
            assert_eq!(find(s.section, s.key), Some(i), "{} twice", s.name());
            // A default written back as TOML reads as the same value.
            let shown = (s.show)(&config);
            let mut again = Config::default();
            let parsed: toml_edit::Value = shown.parse().unwrap();
            (s.from_toml)(&parsed, &mut again).unwrap_or_else(|e| panic!("{}: {e}", s.name()));
            assert_eq!((s.show)(&again), shown, "{}", s.name());
        }
        let flags: Vec<_> = SETTINGS.iter().filter_map(|s| s.flag).collect();
        let mut unique = flags.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(flags.len(), unique.len(), "a flag named twice");
    }

    #[test]
    fn a_setting_reads_into_its_field() {
        let mut c = Config::default();
        let batch = &SETTINGS[find("saves", "batch_size").unwrap()];
        (batch.from_toml)(&"64".parse().unwrap(), &mut c).unwrap();
        assert_eq!(c.db.save_batch, 64);
        assert_eq!(
            (batch.from_texts)(&["5000".to_string()], &mut c),
            Err("expected at most 4096".into())
        );
        assert_eq!(c.db.save_batch, 64, "a refused value changes nothing");
        let readers = &SETTINGS[find("database", "reader_pool").unwrap()];
        assert_eq!((readers.show)(&c), "8");
        c.db.url = "postgres://h/d".into();
        assert_eq!((readers.show)(&c), "12");
        (readers.from_toml)(&"3".parse().unwrap(), &mut c).unwrap();
        assert_eq!((readers.show)(&c), "3");
    }
}
