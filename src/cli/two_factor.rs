//! Two-factor sign-in at the command line: the server's key file (read, or made on first
//! start), and a reset from the server itself for when no other administrator can.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Context;

use crate::auth::Role;
use crate::store::Db;
use crate::two_factor::SealKey;

/// Where the key is kept: the file named, or else beside a SQLite database file
/// (`imh-exam.db` → `imh-exam.db.2fa-key`). PostgreSQL has no file to keep it beside: there it
/// must be named (the same file for every server of the database).
pub fn key_file_for(named: Option<&Path>, database_url: &str) -> Option<PathBuf> {
    if let Some(path) = named {
        return Some(path.to_path_buf());
    }
    if !database_url.starts_with("sqlite:") || database_url.contains(":memory:") {
        return None;
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(database_url).ok()?;
    let mut path = options.get_filename().as_os_str().to_owned();
    path.push(".2fa-key");
    Some(PathBuf::from(path))
}

/// The key in `path`, or a new one written there (readable by its owner only) when there is
/// no such file yet.
pub fn load_or_create(path: &Path) -> anyhow::Result<SealKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            SealKey::parse(&text).map_err(|why| anyhow::anyhow!("{}:1: {why}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SealKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(path)
                .with_context(|| format!("creating the two-factor key file {}", path.display()))?;
            file.write_all(key.to_file_text().as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing the two-factor key file {}", path.display()))?;
            tracing::info!(
                "created the two-factor key file {}: back it up apart from the database, and give every server of this database the same file",
                path.display()
            );
            Ok(key)
        }
        Err(e) => {
            Err(e).with_context(|| format!("reading the two-factor key file {}", path.display()))
        }
    }
}

/// The key a server starts with, or `None` (two-factor sign-in cannot be turned on), which
/// is refused when some role requires it.
pub fn server_key(
    named: Option<&Path>,
    database_url: &str,
    required: &[Role],
) -> anyhow::Result<Option<SealKey>> {
    match key_file_for(named, database_url) {
        Some(path) => load_or_create(&path).map(Some),
        None if required.is_empty() => {
            tracing::info!("two-factor sign-in cannot be turned on: no --two-factor-key-file");
            Ok(None)
        }
        None => anyhow::bail!(
            "--require-two-factor: the two-factor secrets need a key kept outside the database; name its file with --two-factor-key-file FILE (made on first start; every server of this database needs the same file)"
        ),
    }
}

/// `imh-exam user reset-two-factor`: for an administrator locked out with nobody to reset them.
pub async fn reset(db: &Db, username: &str, reason: &str) -> anyhow::Result<ExitCode> {
    let reason = match crate::two_factor::parse_reason(reason) {
        Ok(r) => r,
        Err(why) => {
            eprintln!("--reason: {}", why.trim_start_matches("Reason: "));
            return Ok(ExitCode::from(2));
        }
    };
    let Some(user) = crate::store::users::user_by_username(db, username).await? else {
        eprintln!(
            "--username: there is no user named \"{}\"",
            crate::auth::loggable(username)
        );
        return Ok(ExitCode::FAILURE);
    };
    if !crate::store::two_factor::reset(db, "terminal", &user, &reason).await? {
        eprintln!("{} has no two-factor sign-in to reset", user.username);
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "reset the two-factor sign-in of {} (their sessions ended; recorded in the audit log)",
        user.username
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_lives_beside_a_sqlite_file_or_where_it_is_named() {
        assert_eq!(
            key_file_for(None, "sqlite:imh-exam.db"),
            Some(PathBuf::from("imh-exam.db.2fa-key"))
        );
        assert_eq!(
            key_file_for(None, "sqlite:/var/lib/imh/exam.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/imh/exam.db.2fa-key"))
        );
        assert_eq!(
            key_file_for(None, "postgres://postgres@127.0.0.1/imh"),
            None
        );
        assert_eq!(key_file_for(None, "sqlite::memory:"), None);
        assert_eq!(
            key_file_for(Some(Path::new("/etc/imh/2fa.key")), "postgres://x/y"),
            Some(PathBuf::from("/etc/imh/2fa.key"))
        );
    }

    #[test]
    fn a_key_file_is_made_once_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let made = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key\n").unwrap();
        let err = load_or_create(&path).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}:1: ", path.display())), "{err}");
    }

    #[test]
    fn a_required_second_step_needs_a_key() {
        let err = server_key(None, "postgres://x/y", &[Role::Admin]).unwrap_err();
        assert!(err.to_string().contains("--two-factor-key-file"), "{err}");
        assert!(server_key(None, "postgres://x/y", &[]).unwrap().is_none());
    }
}
