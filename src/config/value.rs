//! The kinds of value a setting holds: how each is read from the configuration file (a TOML
//! value) and from a flag or environment variable (text), and how `config check` writes it back
//! (as TOML). Messages say what was expected and what was found; the caller adds where.

use std::net::SocketAddr;
use std::time::Duration;

use toml_edit::Value as Toml;

/// How a setting is given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// `--bind ADDR`
    One,
    /// `--secure-cookies`, no value.
    Switch,
    /// `--trusted-proxy NET`, repeated, or commas in the environment variable.
    List,
}

pub trait Value: Sized {
    /// What a flag's value looks like in `--help`: `ADDR`, `SECS`.
    const VALUE_NAME: &'static str;
    const ARITY: Arity = Arity::One;
    fn from_toml(v: &Toml) -> Result<Self, String>;
    /// From a flag's or variable's text: one value, or several for a list.
    fn from_texts(texts: &[String]) -> Result<Self, String>;
    /// The value as TOML, for `config check`.
    fn to_toml(&self) -> String;
}

/// One element of a list setting (`trusted_proxies`): parsed from a string in either place.
pub trait ListItem: Sized {
    const VALUE_NAME: &'static str;
    fn parse(s: &str) -> Result<Self, String>;
    fn show(&self) -> String;
}

/// A value as it was written, for a message: `"10s"`, `0`, `[1, 2]`, shortened if long.
pub fn found(v: &Toml) -> String {
    let mut v = v.clone();
    v.decor_mut().clear();
    let written = v.to_string();
    let written = written.trim();
    let mut shown: String = written.chars().take(60).collect();
    if shown.len() < written.len() {
        shown.push('…');
    }
    crate::escape::controls(&shown).into_owned()
}

/// A text as it was given, for a message: quoted, shortened if long, one line.
fn quoted(s: &str) -> String {
    let mut shown: String = s.chars().take(60).collect();
    if shown.len() < s.len() {
        shown.push('…');
    }
    format!("\"{}\"", crate::escape::controls(&shown))
}

/// A string as TOML: quoted, with TOML's escapes.
pub fn toml_string(s: &str) -> String {
    Toml::from(s).to_string().trim().to_string()
}

/// The only text given (a flag or variable that takes one value).
fn one(texts: &[String]) -> &str {
    texts.first().map_or("", String::as_str)
}

impl Value for bool {
    const VALUE_NAME: &'static str = "BOOL";
    const ARITY: Arity = Arity::Switch;
    fn from_toml(v: &Toml) -> Result<Self, String> {
        v.as_bool()
            .ok_or_else(|| format!("expected true or false, found {}", found(v)))
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        match one(texts) {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("expected true or false, found {}", quoted(other))),
        }
    }
    fn to_toml(&self) -> String {
        self.to_string()
    }
}

const ADDRESS: &str = "an address and port like \"127.0.0.1:8080\"";

impl Value for SocketAddr {
    const VALUE_NAME: &'static str = "ADDR";
    fn from_toml(v: &Toml) -> Result<Self, String> {
        v.as_str()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| format!("expected {ADDRESS}, found {}", found(v)))
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        let s = one(texts);
        s.trim()
            .parse()
            .map_err(|_| format!("expected {ADDRESS}, found {}", quoted(s)))
    }
    fn to_toml(&self) -> String {
        toml_string(&self.to_string())
    }
}

/// An address that may be left out (`[metrics] bind`): `""` in the file, as `config check`
/// prints it, is none.
impl Value for Option<SocketAddr> {
    const VALUE_NAME: &'static str = "ADDR";
    fn from_toml(v: &Toml) -> Result<Self, String> {
        match v.as_str() {
            Some(s) if s.trim().is_empty() => Ok(None),
            _ => SocketAddr::from_toml(v).map(Some),
        }
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        if one(texts).trim().is_empty() {
            return Ok(None);
        }
        SocketAddr::from_texts(texts).map(Some)
    }
    fn to_toml(&self) -> String {
        self.map_or_else(|| toml_string(""), |a| toml_string(&a.to_string()))
    }
}

impl Value for crate::config::LogFormat {
    const VALUE_NAME: &'static str = "text|json";
    fn from_toml(v: &Toml) -> Result<Self, String> {
        v.as_str()
            .ok_or_else(|| format!("expected \"text\" or \"json\", found {}", found(v)))
            .and_then(str::parse)
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        one(texts).parse()
    }
    fn to_toml(&self) -> String {
        toml_string(match self {
            crate::config::LogFormat::Text => "text",
            crate::config::LogFormat::Json => "json",
        })
    }
}

impl Value for String {
    const VALUE_NAME: &'static str = "TEXT";
    fn from_toml(v: &Toml) -> Result<Self, String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("expected a string in quotes, found {}", found(v)))
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        Ok(one(texts).to_string())
    }
    fn to_toml(&self) -> String {
        toml_string(self)
    }
}

/// A whole number of at least 1 that fits `T`.
fn count<T: TryFrom<u64>>(n: Option<u64>, found: impl FnOnce() -> String) -> Result<T, String> {
    match n {
        Some(n) if n >= 1 => {
            T::try_from(n).map_err(|_| format!("{n} is too large for this setting"))
        }
        _ => Err(format!(
            "expected a whole number of at least 1, found {}",
            found()
        )),
    }
}

/// Counts and sizes: whole numbers of at least 1 (TOML allows `16_777_216`).
macro_rules! counts {
    ($($t:ty),*) => {$(
        impl Value for $t {
            const VALUE_NAME: &'static str = "N";
            fn from_toml(v: &Toml) -> Result<Self, String> {
                count(v.as_integer().and_then(|n| u64::try_from(n).ok()), || found(v))
            }
            fn from_texts(texts: &[String]) -> Result<Self, String> {
                let s = one(texts);
                count(s.trim().replace('_', "").parse().ok(), || quoted(s))
            }
            fn to_toml(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
counts!(u32, u64, usize);

/// The longest duration any setting takes: past a day a timeout no longer protects anything,
/// and much longer ones overflow the clock's arithmetic.
pub const MAX_SECONDS: u64 = 24 * 60 * 60;

/// Durations are whole seconds, from 1 to a day.
impl Value for Duration {
    const VALUE_NAME: &'static str = "SECS";
    fn from_toml(v: &Toml) -> Result<Self, String> {
        seconds(v.as_integer().and_then(|n| u64::try_from(n).ok()), || {
            found(v)
        })
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        let s = one(texts);
        seconds(s.trim().parse().ok(), || quoted(s))
    }
    fn to_toml(&self) -> String {
        self.as_secs().to_string()
    }
}

fn seconds(n: Option<u64>, found: impl FnOnce() -> String) -> Result<Duration, String> {
    match n {
        Some(n @ 1..=MAX_SECONDS) => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "expected whole seconds from 1 to {MAX_SECONDS}, found {}",
            found()
        )),
    }
}

/// A setting whose default depends on something else (a pool's size on the engine); set in
/// the file, it is that number.
impl Value for Option<u32> {
    const VALUE_NAME: &'static str = "N";
    fn from_toml(v: &Toml) -> Result<Self, String> {
        u32::from_toml(v).map(Some)
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        u32::from_texts(texts).map(Some)
    }
    fn to_toml(&self) -> String {
        self.map_or_else(|| "\"default\"".to_string(), |n| n.to_string())
    }
}

impl<T: ListItem> Value for Vec<T> {
    const VALUE_NAME: &'static str = T::VALUE_NAME;
    const ARITY: Arity = Arity::List;
    fn from_toml(v: &Toml) -> Result<Self, String> {
        let Some(array) = v.as_array() else {
            return Err(format!(
                "expected a list in brackets like [\"10.0.0.0/8\"], found {}",
                found(v)
            ));
        };
        array
            .iter()
            .enumerate()
            .map(|(i, item)| match item.as_str() {
                Some(s) => T::parse(s).map_err(|e| format!("item {}: {e}", i + 1)),
                None => Err(format!(
                    "item {}: expected a string in quotes, found {}",
                    i + 1,
                    found(item)
                )),
            })
            .collect()
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        texts.iter().map(|s| T::parse(s)).collect()
    }
    fn to_toml(&self) -> String {
        let items: Vec<String> = self.iter().map(|x| toml_string(&x.show())).collect();
        format!("[{}]", items.join(", "))
    }
}

/// `10.0.0.0/8`, or one address as a network of one.
impl ListItem for ipnet::IpNet {
    const VALUE_NAME: &'static str = "NET";
    fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        t.parse::<ipnet::IpNet>()
            .or_else(|_| t.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| {
                format!(
                    "{} is neither an address (10.0.0.1) nor a network (10.0.0.0/8)",
                    quoted(s)
                )
            })
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

/// A role named in a list (`[auth] two_factor_roles`): `admin`, `committee`...
impl ListItem for crate::auth::Role {
    const VALUE_NAME: &'static str = "ROLE";
    fn parse(s: &str) -> Result<Self, String> {
        s.parse()
    }
    fn show(&self) -> String {
        self.code().to_string()
    }
}

/// A file that may be left out (`[auth] two_factor_key_file`): `""` is none.
impl Value for Option<std::path::PathBuf> {
    const VALUE_NAME: &'static str = "FILE";
    fn from_toml(v: &Toml) -> Result<Self, String> {
        match v.as_str() {
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => Ok(Some(s.into())),
            None => Err(format!(
                "expected a file name in quotes, found {}",
                found(v)
            )),
        }
    }
    fn from_texts(texts: &[String]) -> Result<Self, String> {
        let s = one(texts);
        Ok((!s.trim().is_empty()).then(|| s.into()))
    }
    fn to_toml(&self) -> String {
        toml_string(
            &self
                .as_ref()
                .map_or(String::new(), |p| p.display().to_string()),
        )
    }
}

/// A database URL the store can open: `sqlite:` or `postgres:` (`postgresql:`).
pub fn database_url(url: &str) -> Result<(), String> {
    if ["sqlite:", "postgres:", "postgresql:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        Ok(())
    } else {
        Err(format!(
            "expected sqlite:FILE or postgres://user@host/db, found {}",
            quoted(&crate::config::mask_url(url))
        ))
    }
}

/// A bound on a count: `at_most(n, 4096)`.
pub fn at_most<T: Copy + TryInto<u64>>(n: T, max: u64) -> Result<(), String> {
    match n.try_into() {
        Ok(n) if n <= max => Ok(()),
        _ => Err(format!("expected at most {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(s: &str) -> Toml {
        s.parse().unwrap()
    }

    fn texts(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn durations_are_whole_seconds_from_one_to_a_day() {
        assert_eq!(
            Duration::from_toml(&toml("10")),
            Ok(Duration::from_secs(10))
        );
        assert_eq!(
            Duration::from_toml(&toml("\"10s\"")),
            Err("expected whole seconds from 1 to 86400, found \"10s\"".into())
        );
        assert!(Duration::from_toml(&toml("0")).is_err());
        assert!(Duration::from_toml(&toml("86401")).is_err());
        assert!(Duration::from_toml(&toml("1.5")).is_err());
        assert_eq!(
            Duration::from_texts(&texts(&["abc"])),
            Err("expected whole seconds from 1 to 86400, found \"abc\"".into())
        );
        assert_eq!(Duration::from_secs(60).to_toml(), "60");
    }

    #[test]
    fn counts_are_at_least_one_and_fit_their_type() {
        assert_eq!(u32::from_toml(&toml("16_384")), Ok(16_384));
        assert_eq!(
            u32::from_toml(&toml("0")),
            Err("expected a whole number of at least 1, found 0".into())
        );
        assert_eq!(
            u32::from_toml(&toml("-3")),
            Err("expected a whole number of at least 1, found -3".into())
        );
        assert_eq!(
            u32::from_toml(&toml("5000000000")),
            Err("5000000000 is too large for this setting".into())
        );
        assert_eq!(usize::from_texts(&texts(&["2_048"])), Ok(2048));
        assert!(usize::from_texts(&texts(&["many"])).is_err());
        assert_eq!(
            at_most(4097usize, 4096),
            Err("expected at most 4096".into())
        );
        assert_eq!(at_most(4096usize, 4096), Ok(()));
    }

    #[test]
    fn addresses_and_switches() {
        assert_eq!(
            SocketAddr::from_toml(&toml("\"0.0.0.0:80\"")),
            Ok("0.0.0.0:80".parse().unwrap())
        );
        assert_eq!(
            SocketAddr::from_toml(&toml("8080")),
            Err("expected an address and port like \"127.0.0.1:8080\", found 8080".into())
        );
        assert_eq!(
            "[::1]:8080".parse::<SocketAddr>().unwrap().to_toml(),
            "\"[::1]:8080\""
        );
        assert_eq!(bool::from_toml(&toml("true")), Ok(true));
        assert_eq!(
            bool::from_toml(&toml("\"yes\"")),
            Err("expected true or false, found \"yes\"".into())
        );
        assert_eq!(bool::from_texts(&texts(&["false"])), Ok(false));
    }

    #[test]
    fn lists_name_the_bad_item() {
        let nets =
            Vec::<ipnet::IpNet>::from_toml(&toml("[\"10.0.0.0/8\", \"192.0.2.1\"]")).unwrap();
        assert_eq!(nets.to_toml(), "[\"10.0.0.0/8\", \"192.0.2.1/32\"]");
        assert_eq!(
            Vec::<ipnet::IpNet>::from_toml(&toml("[\"10.0.0.0/8\", \"proxy\"]")),
            Err(
                "item 2: \"proxy\" is neither an address (10.0.0.1) nor a network (10.0.0.0/8)"
                    .into()
            )
        );
        assert_eq!(
            Vec::<ipnet::IpNet>::from_toml(&toml("[10]")),
            Err("item 1: expected a string in quotes, found 10".into())
        );
        assert!(Vec::<ipnet::IpNet>::from_toml(&toml("\"10.0.0.0/8\"")).is_err());
        assert_eq!(
            Vec::<ipnet::IpNet>::from_texts(&texts(&["10.0.0.1", "fd00::/8"]))
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn database_urls_name_an_engine_and_hide_a_password() {
        assert_eq!(database_url("sqlite:x.db"), Ok(()));
        assert_eq!(database_url("postgresql://u@h/d"), Ok(()));
        assert_eq!(
            database_url("mysql://u:secret@h/d"),
            Err(
                "expected sqlite:FILE or postgres://user@host/db, found \"mysql://u:****@h/d\""
                    .into()
            )
        );
    }

    #[test]
    fn strings_are_written_back_as_toml() {
        assert_eq!(toml_string("a \"b\"\\"), "'a \"b\"\\'");
        assert_eq!("x".to_string().to_toml(), "\"x\"");
        assert_eq!(None::<u32>.to_toml(), "\"default\"");
    }
}
