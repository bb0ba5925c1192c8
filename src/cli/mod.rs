//! The command line: `serve`, `demo`, `bank check|import`, `user add`, `audit verify`, `analyze`,
//! `config check`.

mod bank_commands;
mod logs;
pub use logs::init_tracing;
mod qti_commands;
pub mod settings;
pub mod two_factor;
pub use bank_commands::{bank_check, bank_import, bank_lint, LintFormat};
use settings::{AllSettings, DbSettings, ServerSettings};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::auth::{self, Role, Username};
use crate::config::Config;
use crate::store::users::{self, AddUserError, NewUser};
use crate::store::Db;
use crate::web::{self, AppState};

#[derive(Debug, Parser)]
#[command(name = "imh-exam", version, about = "The IMH-E® written exam server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the exam server.
    Serve {
        #[command(flatten)]
        settings: AllSettings,
    },
    /// Run a demo: a SQLite database with the sample bank and an account for every role.
    Demo {
        #[command(flatten)]
        settings: ServerSettings,
        /// The demo's database (created or reused). The configuration file's [database] url
        /// and DATABASE_URL are not used, so a demo never fills a real database.
        #[arg(long, default_value = "sqlite:imh-exam-demo.db")]
        database_url: String,
        /// The item bank to import.
        #[arg(long, default_value = "item-bank")]
        bank: PathBuf,
    },
    /// Check or import the item bank.
    #[command(subcommand)]
    Bank(BankCommand),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the record.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Item statistics, rater agreement and DIF from plain CSV files.
    #[command(subcommand)]
    Analyze(crate::analyze::AnalyzeCommand),
    /// The settings: from the configuration file, the environment and the flags.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write a consistent copy of the SQLite database while the server runs (PostgreSQL:
    /// use pg_dump). Restore: stop the server, put the copy in place of the database file
    /// (removing its -wal and -shm files), start the server.
    Backup {
        /// The new file to write (never overwritten).
        file: PathBuf,
        #[command(flatten)]
        db: DbSettings,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print every setting's effective value and where it came from (default, file, env or
    /// flag); on a bad file, print every error as file:line:col: message and exit 1.
    Check {
        #[command(flatten)]
        settings: AllSettings,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every attempt's response hash chain and name any break.
    Verify {
        #[command(flatten)]
        db: DbSettings,
    },
}

#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// Validate the bank and print every error as path:line: message.
    Check {
        #[arg(default_value = "item-bank")]
        dir: PathBuf,
    },
    /// Warn of test-wise cues and other item-writing slips: path:line: rule: message, then a
    /// table per rule. Warnings never fail the command.
    Lint {
        #[arg(default_value = "item-bank")]
        dir: PathBuf,
        /// text (the warnings and a table) or json.
        #[arg(long, value_enum, default_value = "text")]
        format: LintFormat,
    },
    /// Check the bank, then load it into the database, keeping every version.
    Import {
        #[arg(default_value = "item-bank")]
        dir: PathBuf,
        #[command(flatten)]
        db: DbSettings,
    },
    /// Read a QTI 3.0 or 2.1 content package (zip) into bank files: all or nothing, every
    /// refusal as package-path:line: what and why, never over a different file.
    ImportQti {
        package: PathBuf,
        /// The bank folder to write items/ and vignettes/ into (its taxonomy.toml is used).
        #[arg(long, default_value = "item-bank")]
        into: PathBuf,
        /// The mapping file: the package's classifications to our domains and areas, and
        /// defaults (docs/qti.md).
        #[arg(long)]
        mapping: Option<PathBuf>,
    },
    /// Write the checked bank as a QTI 3.0 content package (zip); OUT is never overwritten.
    ExportQti { dir: PathBuf, out: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account. Without --password-stdin a password is generated and printed.
    Add {
        #[arg(long)]
        username: String,
        /// The person's full name.
        #[arg(long)]
        name: String,
        /// admin, proctor, rater, committee or panelist
        #[arg(long)]
        role: Role,
        #[arg(long, default_value = "")]
        organisation: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbSettings,
    },
    /// Remove a staff member's two-factor sign-in (a lost phone), for when no administrator
    /// can do it on the staff page. Recorded in the audit log with the reason.
    ResetTwoFactor {
        #[arg(long)]
        username: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        db: DbSettings,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { settings } => {
            let config = settings.config()?;
            warn_of_an_unread_file(&settings);
            let db = open(&config).await?;
            serve_forever(db, config).await?;
        }
        Command::Demo {
            settings,
            database_url,
            bank,
        } => {
            let mut config = settings.config()?;
            warn_of_an_unread_file(&settings);
            config.db.url = database_url;
            let db = open(&config).await?;
            if !demo_setup(&db, &bank, config.bind).await? {
                return Ok(ExitCode::FAILURE);
            }
            serve_forever(db, config).await?;
        }
        Command::Config(ConfigCommand::Check { settings }) => {
            return Ok(settings::config_check(&settings))
        }
        Command::Bank(BankCommand::Check { dir }) => return Ok(bank_check(&dir)),
        Command::Bank(BankCommand::Lint { dir, format }) => return Ok(bank_lint(&dir, format)),
        Command::Bank(BankCommand::ImportQti {
            package,
            into,
            mapping,
        }) => {
            return Ok(qti_commands::bank_import_qti(
                &package,
                &into,
                mapping.as_deref(),
            ))
        }
        Command::Bank(BankCommand::ExportQti { dir, out }) => {
            return Ok(qti_commands::bank_export_qti(&dir, &out))
        }
        Command::Analyze(command) => return Ok(crate::analyze::run(&command)),
        Command::Audit(AuditCommand::Verify { db }) => {
            let db = open(&db.config()?).await?;
            let (checked, breaks) = crate::store::attempts::verify_chains(&db).await?;
            for (attempt, why) in &breaks {
                eprintln!("attempt {attempt}: {why}");
            }
            if breaks.is_empty() {
                println!("audit verify: {checked} attempt chain(s) checked, all intact");
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!(
                "audit verify: {checked} attempt chain(s) checked, {} broken",
                breaks.len()
            );
            return Ok(ExitCode::FAILURE);
        }
        Command::Backup { file, db } => {
            let db = open(&db.config()?).await?;
            if let Err(e) = db.backup_to(&file).await {
                eprintln!("{e}");
                return Ok(ExitCode::FAILURE);
            }
            crate::store::audit::record(
                &db,
                "terminal",
                crate::store::audit::Action::Backup,
                &file.display().to_string(),
            )
            .await?;
            println!("backup: wrote {}", file.display());
        }
        Command::Bank(BankCommand::Import { dir, db }) => {
            let db = open(&db.config()?).await?;
            return bank_import(&db, &dir, "imh-exam bank import").await;
        }
        Command::User(UserCommand::ResetTwoFactor {
            username,
            reason,
            db,
        }) => {
            let db = open(&db.config()?).await?;
            return two_factor::reset(&db, &username, &reason).await;
        }
        Command::User(UserCommand::Add {
            username,
            name,
            role,
            organisation,
            password_stdin,
            db,
        }) => {
            let username = match Username::parse(&username) {
                Ok(u) => u,
                Err(e) => {
                    eprintln!("--username: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (auth::random_password(), true)
            };
            if let Err(e) = auth::check_password_strength(&password) {
                eprintln!("password: {e}");
                return Ok(ExitCode::from(2));
            }
            let db = open(&db.config()?).await?;
            let new = NewUser {
                username: &username,
                display_name: &name,
                role,
                organisation: &organisation,
                password: &password,
                added_by: "terminal",
            };
            match users::add_user(&db, new).await {
                Ok(_) => {
                    println!("created {} ({role})", username.as_str());
                    if generated {
                        println!("password: {password}");
                    }
                }
                Err(AddUserError::Exists(u)) => {
                    eprintln!("--username: a user named \"{u}\" already exists");
                    return Ok(ExitCode::FAILURE);
                }
                Err(AddUserError::Store(e)) => return Err(e.into()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the database the settings name, with their pools and batches.
async fn open(config: &Config) -> anyhow::Result<Db> {
    Db::open(&config.db).await.with_context(|| {
        format!(
            "opening the database {}",
            crate::config::mask_url(&config.db.url)
        )
    })
}

/// `./imh-exam.toml` is read only when named: say so, in case it was meant to be.
fn warn_of_an_unread_file<const S: u8>(settings: &settings::SettingArgs<S>) {
    if settings.config.is_none() && Path::new(settings::IMPLICIT_FILE).exists() {
        tracing::warn!(
            "./{} exists but is not read: name it with --config or IMH_CONFIG",
            settings::IMPLICIT_FILE
        );
    }
}

async fn serve_forever(db: Db, mut config: Config) -> anyhow::Result<()> {
    if config.metrics_bind == Some(config.bind) && config.bind.port() != 0 {
        anyhow::bail!(
            "--metrics-bind {}: the metrics need an address of their own, not the public --bind ([metrics] bind and [server] bind in the file)",
            config.bind
        );
    }
    config.two_factor_key = two_factor::server_key(
        config.two_factor_key_file.as_deref(),
        &config.db.url,
        &config.two_factor_roles,
    )?;
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("listening on {}", config.bind))?;
    let metrics_listener = match config.metrics_bind {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("--metrics-bind: listening on {addr}"))?,
        ),
        None => None,
    };
    tracing::info!("imh-exam listening on http://{}", listener.local_addr()?);
    let state = AppState::new(db.clone(), config);
    let metrics = match metrics_listener {
        Some(l) => {
            tracing::info!("metrics on http://{}/metrics", l.local_addr()?);
            let server = web::metrics::serve(state.clone(), l, std::future::pending());
            Some(tokio::spawn(server))
        }
        None => None,
    };
    let purger = tokio::spawn(purge_sessions_hourly(db.clone()));
    web::serve(state, listener, web::shutdown_signal()).await?;
    purger.abort();
    if let Some(m) = metrics {
        m.abort();
    }
    db.close().await;
    Ok(())
}

/// Expired sessions are refused on use; this only keeps the table small.
async fn purge_sessions_hourly(db: Db) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match users::purge_expired_sessions(&db).await {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "purged expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired sessions"),
        }
    }
}

/// A demo sitting, open from now for 30 days, with one new candidate per level (so every
/// start of the demo has fresh codes). Returns (name, level, code).
async fn demo_sitting(db: &Db) -> anyhow::Result<Vec<(String, String, String)>> {
    use crate::exam::registration::NewRegistration;
    use crate::store::sittings::{self, NewSitting};
    let bps = crate::store::bank::blueprints(db).await?;
    let ids: Vec<String> = bps.iter().map(|b| b.id.clone()).collect();
    let now = crate::store::now_ms();
    let stamp = crate::store::sittings::date(now);
    let id = sittings::create_sitting(
        db,
        &NewSitting {
            name: &format!("Demo sitting ({stamp})"),
            place: "remote",
            opens_at: now - 60_000,
            closes_at: now + 30 * 24 * 60 * 60 * 1000,
            blueprints: &ids,
        },
        "demo",
    )
    .await?;
    let sitting = sittings::sitting(db, id).await?.expect("just created");
    let people = [
        ("Dana Whitfield", crate::bank::Level::III, "1"),
        ("Luis Ortega", crate::bank::Level::IvClinical, "1.5"),
        ("Mei Tanaka", crate::bank::Level::IvPolicy, "1"),
        ("Grace Okafor", crate::bank::Level::IvResearchFaculty, "1"),
    ];
    let mut out = Vec::new();
    for (name, level, multiplier) in people {
        let email = format!(
            "{}.{}@demo.example",
            name.split(' ').next().unwrap_or("demo").to_lowercase(),
            id
        );
        let new = NewRegistration {
            name: name.to_string(),
            email,
            organisation: "Demo Family Services".into(),
            level,
            parts: crate::exam::form::Parts::BOTH,
            multiplier: crate::exam::clock::Multiplier::parse(multiplier)
                .map_err(anyhow::Error::msg)?,
            extra_breaks: 0,
            retake_override: None,
        };
        match sittings::register(db, &sitting, &new, &bps, "demo", true).await {
            Ok((_, code)) => out.push((name.to_string(), level.to_string(), code)),
            Err(e) => anyhow::bail!("registering the demo candidate {name}: {e}"),
        }
    }
    Ok(out)
}

/// How many simulated candidates the demo's completed sitting holds.
pub const DEMO_CANDIDATES: usize = 200;

/// The demo's accounts: (username, name, role, organisation, password).
pub const DEMO_ACCOUNTS: &[(&str, &str, Role, &str, &str)] = &[
    (
        "admin",
        "Avery Admin",
        Role::Admin,
        "Demo Association",
        "demo-admin-2026",
    ),
    (
        "proctor",
        "Priya Proctor",
        Role::Proctor,
        "Demo Association",
        "demo-proctor-2026",
    ),
    (
        "rater1",
        "Rosa Rater",
        Role::Rater,
        "Lakeside Family Services",
        "demo-rater1-2026",
    ),
    (
        "rater2",
        "Ravi Rater",
        Role::Rater,
        "Hillcrest Early Intervention",
        "demo-rater2-2026",
    ),
    (
        "rater3",
        "Ruth Rater",
        Role::Rater,
        "Riverbend Infant Clinic",
        "demo-rater3-2026",
    ),
    (
        "rater4",
        "Rhys Rater",
        Role::Rater,
        "Maple Grove Child Development",
        "demo-rater4-2026",
    ),
    (
        "committee",
        "Cora Committee",
        Role::Committee,
        "Demo Association",
        "demo-committee-2026",
    ),
    (
        "panel1",
        "Paula Panelist",
        Role::Panelist,
        "Demo Association",
        "demo-panel1-2026",
    ),
];

/// Imports the sample bank and makes the demo accounts (reusing what exists), then prints how
/// to sign in. Returns false if the bank could not be imported.
pub async fn demo_setup(db: &Db, bank_dir: &Path, bind: SocketAddr) -> anyhow::Result<bool> {
    if !bank_dir.is_dir() {
        anyhow::bail!(
            "the item bank folder {} was not found; run the demo from the repository's top folder or pass --bank DIR",
            bank_dir.display()
        );
    }
    if bank_import(db, bank_dir, "demo").await? != ExitCode::SUCCESS {
        return Ok(false);
    }
    for (username, name, role, org, password) in DEMO_ACCOUNTS {
        let username = Username::parse(username).map_err(anyhow::Error::msg)?;
        let new = NewUser {
            username: &username,
            display_name: name,
            role: *role,
            organisation: org,
            password,
            added_by: "demo",
        };
        match users::add_user(db, new).await {
            Ok(_) => {}
            Err(AddUserError::Exists(_)) => {
                // Reused database: put the demo password back in case it was changed.
                if let Some(u) = users::user_by_username(db, username.as_str()).await? {
                    users::set_password(db, u.id, password).await?;
                }
            }
            Err(AddUserError::Store(e)) => return Err(e.into()),
        }
    }
    let mut raters = Vec::new();
    for (username, severity) in [
        ("rater1", 0.0),
        ("rater2", 0.4),
        ("rater3", -0.6),
        ("rater4", 0.1),
    ] {
        if let Some(u) = users::user_by_username(db, username).await? {
            raters.push((u.id, severity));
        }
    }
    eprintln!("demo: preparing a completed sitting of {DEMO_CANDIDATES} simulated candidates (first run only)…");
    let completed = crate::demo::completed_sitting(db, DEMO_CANDIDATES, &raters).await?;
    let study = crate::demo::study::completed_study(db, completed, "demo-panel1-2026").await?;
    let codes = demo_sitting(db).await?;
    println!();
    println!("imh-exam demo on http://{}", bind);
    println!("Staff sign-in at http://{}/login", bind);
    for (username, _, role, _, password) in DEMO_ACCOUNTS {
        println!("  {:<10} {:<12} password {password}", role.code(), username);
    }
    println!(
        "Candidates enter at http://{}/enter; the proctor admits them in the sitting's console first:",
        bind
    );
    for (name, level, code) in &codes {
        println!("  {name:<28} {level:<20} access code {code}");
    }
    println!(
        "A completed sitting of {DEMO_CANDIDATES} simulated candidates, rated and released: sign in as committee, then http://{}/scoring/{completed}",
        bind
    );
    println!(
        "A completed two-round Angoff study of the Level III blueprint on that sitting: as committee, http://{}/studies/{study}; as panel1, http://{}/panel/{study}",
        bind, bind
    );
    println!(
        "Two-factor sign-in: optional, each person at http://{}/account/two-factor; --require-two-factor admin,committee makes it required",
        bind
    );
    println!("Stop with ctrl-c.");
    Ok(true)
}
