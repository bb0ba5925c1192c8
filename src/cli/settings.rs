//! The settings on the command line: `--config PATH` (or `IMH_CONFIG`) and a flag with an
//! environment variable for each setting that has one, made from `config::settings`. A
//! command takes the flags of its scope: the server's (`serve`, `demo`), the database's (every
//! command that opens it), or both.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches};

use crate::config::settings::SETTINGS;
use crate::config::value::Arity;
use crate::config::{self, Effective, Given, Source};

/// The server's flags: address, cookies, proxies, timeouts, connections, limits.
pub const SERVER: u8 = 1;
/// The database's flag: `--database-url`.
pub const DATABASE: u8 = 2;

/// `--config` and the flags of `SCOPE` (`SERVER`, `DATABASE` or both), as given.
#[derive(Debug, Clone, Default)]
pub struct SettingArgs<const SCOPE: u8> {
    /// The configuration file named by `--config` or `IMH_CONFIG`.
    pub config: Option<PathBuf>,
    /// The flags and variables given, each with its source.
    pub given: Vec<Given>,
}

/// The settings of `serve` and `config check`.
pub type AllSettings = SettingArgs<{ SERVER | DATABASE }>;
/// The settings of a command that only opens the database.
pub type DbSettings = SettingArgs<DATABASE>;
/// The settings of `demo`, which names its own database.
pub type ServerSettings = SettingArgs<SERVER>;

fn scope_of(section: &str) -> u8 {
    if section == "database" {
        DATABASE
    } else {
        SERVER
    }
}

/// The settings with a flag in `scope`: (index in `SETTINGS`, flag).
fn flags(scope: u8) -> impl Iterator<Item = (usize, &'static str)> {
    SETTINGS.iter().enumerate().filter_map(move |(i, s)| {
        s.flag
            .filter(|_| scope_of(s.section) & scope != 0)
            .map(|f| (i, f))
    })
}

impl<const SCOPE: u8> Args for SettingArgs<SCOPE> {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        cmd = cmd.arg(
            Arg::new("config")
                .long("config")
                .env("IMH_CONFIG")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .help("The configuration file (TOML); flags and environment variables override it"),
        );
        for (i, flag) in flags(SCOPE) {
            let s = &SETTINGS[i];
            let mut arg = Arg::new(flag).long(flag).help(s.help);
            if let Some(env) = s.env {
                arg = arg.env(env);
            }
            arg = match s.arity {
                Arity::Switch => arg.action(ArgAction::SetTrue),
                Arity::One => arg.action(ArgAction::Set).value_name(s.value_name),
                Arity::List => arg
                    .action(ArgAction::Append)
                    .value_name(s.value_name)
                    .value_delimiter(','),
            };
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl<const SCOPE: u8> FromArgMatches for SettingArgs<SCOPE> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut given = Vec::new();
        for (i, flag) in flags(SCOPE) {
            // A default is not "given": only a flag or its variable overrides the file.
            let source = match m.value_source(flag) {
                Some(ValueSource::CommandLine) => Source::Flag(flag),
                Some(ValueSource::EnvVariable) => match SETTINGS[i].env {
                    Some(env) => Source::Env(env),
                    None => continue,
                },
                _ => continue,
            };
            let values = match SETTINGS[i].arity {
                Arity::Switch => vec![m.get_flag(flag).to_string()],
                _ => m
                    .get_many::<String>(flag)
                    .map(|v| v.cloned().collect())
                    .unwrap_or_default(),
            };
            given.push(Given {
                setting: i,
                values,
                source,
            });
        }
        Ok(Self {
            config: m.get_one::<PathBuf>("config").cloned(),
            given,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// The settings were refused: every error, one per line.
#[derive(Debug)]
pub struct Refused(pub Vec<String>);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the settings are refused:\n{}", self.0.join("\n"))
    }
}

impl std::error::Error for Refused {}

impl<const SCOPE: u8> SettingArgs<SCOPE> {
    /// Reads the file, if one was named, and applies the flags and variables over it.
    pub fn effective(&self) -> Result<Effective, Refused> {
        let text = match &self.config {
            None => None,
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => Some((path.display().to_string(), text)),
                Err(e) => {
                    return Err(Refused(vec![format!(
                        "{}: cannot read the configuration file: {e}",
                        path.display()
                    )]))
                }
            },
        };
        config::resolve(
            text.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
            &self.given,
        )
        .map_err(Refused)
    }

    /// The effective configuration, or every reason it was refused.
    pub fn config(&self) -> Result<config::Config, Refused> {
        self.effective().map(|e| e.config)
    }
}

/// The file a stranger might expect to be read: it is not, unless named.
pub const IMPLICIT_FILE: &str = "imh-exam.toml";

/// `config check`: prints the effective settings, or every error and exits 1.
pub fn config_check(args: &AllSettings) -> ExitCode {
    match args.effective() {
        Ok(effective) => {
            print!("{}", config::render(&effective));
            if effective.file.is_none() && std::path::Path::new(IMPLICIT_FILE).exists() {
                println!(
                    "# ./{IMPLICIT_FILE} exists but is not read: name it with --config {IMPLICIT_FILE}"
                );
            }
            ExitCode::SUCCESS
        }
        Err(Refused(errors)) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("config check: {} error(s)", errors.len());
            ExitCode::FAILURE
        }
    }
}
