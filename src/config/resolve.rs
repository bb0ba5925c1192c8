//! Precedence: a flag over its environment variable over the file over the default. A flag and
//! its variable are one layer (clap reads the variable when the flag is absent), so the file's
//! value is taken only where neither was given.

use super::settings::SETTINGS;
use super::{file, Config};

/// Where a setting's effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Default,
    /// The configuration file, at this line.
    File {
        line: usize,
    },
    /// This environment variable.
    Env(&'static str),
    /// This flag (its long name, without `--`).
    Flag(&'static str),
}

/// A flag or environment variable given for a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    /// The setting's index in `SETTINGS`.
    pub setting: usize,
    /// Its text: one value, several for a list, `true` or `false` for a switch.
    pub values: Vec<String>,
    /// `Source::Flag` or `Source::Env`.
    pub source: Source,
}

/// The settings in effect and where each came from.
#[derive(Debug, Clone)]
pub struct Effective {
    pub config: Config,
    /// The configuration file's name as given, if one was read.
    pub file: Option<String>,
    /// Parallel to `SETTINGS`.
    pub sources: Vec<Source>,
}

impl Effective {
    /// Where setting `i` came from, in words: `default`, `file imh-exam.toml:3`,
    /// `env IMH_BIND`, `flag --bind`.
    pub fn origin(&self, i: usize) -> String {
        match self.sources[i] {
            Source::Default => "default".to_string(),
            Source::File { line } => {
                format!("file {}:{line}", self.file.as_deref().unwrap_or("?"))
            }
            Source::Env(name) => format!("env {name}"),
            Source::Flag(name) => format!("flag --{name}"),
        }
    }
}

/// The defaults, then the file (`(name, text)`), then the flags and variables given. Every
/// error is returned, not just the first: `file:line:col: ...` for the file, `--flag: ...` or
/// `VARIABLE: ...` for the rest.
pub fn resolve(file: Option<(&str, &str)>, given: &[Given]) -> Result<Effective, Vec<String>> {
    let mut config = Config::default();
    let mut sources = vec![Source::Default; SETTINGS.len()];
    let mut errors = Vec::new();
    if let Some((name, text)) = file {
        file::apply(name, text, &mut config, &mut sources, &mut errors);
    }
    for g in given {
        let setting = &SETTINGS[g.setting];
        match (setting.from_texts)(&g.values, &mut config) {
            Ok(()) => sources[g.setting] = g.source,
            Err(e) => errors.push(match g.source {
                Source::Env(name) => format!("{name}: {e}"),
                Source::Flag(name) => format!("--{name}: {e}"),
                _ => format!("{}: {e}", setting.name()),
            }),
        }
    }
    if errors.is_empty() {
        Ok(Effective {
            config,
            file: file.map(|(name, _)| name.to_string()),
            sources,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::find;

    fn given(section: &str, key: &str, value: &str, source: Source) -> Given {
        Given {
            setting: find(section, key).unwrap(),
            values: vec![value.to_string()],
            source,
        }
    }

    const FILE: &str =
        "[server]\nbind = \"127.0.0.1:7000\"\nidle_timeout = 90\n\n[limits]\nclient_burst = 5\n";

    #[test]
    fn a_flag_beats_its_variable_which_beats_the_file_which_beats_the_default() {
        let flag = given("server", "bind", "127.0.0.1:9000", Source::Flag("bind"));
        let env = given(
            "limits",
            "client_burst",
            "7",
            Source::Env("IMH_CLIENT_BURST"),
        );
        let e = resolve(Some(("site.toml", FILE)), &[flag, env]).unwrap();
        let bind = find("server", "bind").unwrap();
        let idle = find("server", "idle_timeout").unwrap();
        let burst = find("limits", "client_burst").unwrap();
        let header = find("server", "header_timeout").unwrap();
        // The flag over the file's 7000.
        assert_eq!(e.config.bind.port(), 9000);
        assert_eq!(e.origin(bind), "flag --bind");
        // The variable over the file's 5.
        assert_eq!(e.config.client_burst, 7);
        assert_eq!(e.origin(burst), "env IMH_CLIENT_BURST");
        // The file over the default 60.
        assert_eq!(e.config.idle_timeout.as_secs(), 90);
        assert_eq!(e.origin(idle), "file site.toml:3");
        // Nothing given: the default.
        assert_eq!(e.config.header_timeout.as_secs(), 10);
        assert_eq!(e.origin(header), "default");
    }

    #[test]
    fn without_a_file_flags_still_apply_and_every_error_is_named() {
        let e = resolve(
            None,
            &[given(
                "limits",
                "client_burst",
                "3",
                Source::Flag("client-burst"),
            )],
        )
        .unwrap();
        assert_eq!(e.config.client_burst, 3);
        assert_eq!(e.file, None);
        let errors = resolve(
            Some(("site.toml", "[server]\nbind = 80\n")),
            &[
                given(
                    "server",
                    "idle_timeout",
                    "0",
                    Source::Env("IMH_IDLE_TIMEOUT"),
                ),
                given("limits", "client_burst", "x", Source::Flag("client-burst")),
            ],
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "site.toml:2:8: [server] bind: expected an address and port like \"127.0.0.1:8080\", found 80",
                "IMH_IDLE_TIMEOUT: expected whole seconds from 1 to 86400, found \"0\"",
                "--client-burst: expected a whole number of at least 1, found \"x\"",
            ]
        );
    }
}
