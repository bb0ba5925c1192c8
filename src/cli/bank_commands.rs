//! `bank check`, `bank lint` and `bank import`: the item bank from the command line.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::bank;
use crate::store::bank::{import_dir, ImportDirError, ImportError};
use crate::store::Db;

/// How `bank lint` prints what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
}

/// Reads and checks the bank in `dir`, keeping its files for the lint's line numbers.
fn load_bank(dir: &Path) -> Result<(bank::Bank, bank::BankFiles), Vec<bank::Diagnostic>> {
    let files = bank::read_dir(dir).map_err(|e| {
        vec![bank::Diagnostic::new(
            &dir.display().to_string(),
            1,
            e.to_string(),
        )]
    })?;
    let b = bank::from_files(&files)?;
    Ok((b, files))
}

fn print_errors(diags: &[bank::Diagnostic], what: &str) -> ExitCode {
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = writeln!(err, "{d}");
    }
    let _ = writeln!(err, "{what}: {} error(s)", diags.len());
    ExitCode::FAILURE
}

/// `bank lint`: the bank must load (errors as `bank check` prints them); its warnings never
/// fail the command.
pub fn bank_lint(dir: &Path, format: LintFormat) -> ExitCode {
    match load_bank(dir) {
        Ok((b, files)) => {
            let report = bank::lint::lint(&b, &files);
            match format {
                LintFormat::Text => print!("{}", report.render()),
                LintFormat::Json => println!(
                    "{}",
                    serde_json::json!({
                        "warnings": report.warnings,
                        "counts": report.counts().into_iter().map(|(r, n)| (r.code(), n)).collect::<std::collections::BTreeMap<_, _>>(),
                        "guesser": {
                            "items": report.guesser.items,
                            "found": report.guesser.found,
                            "percent": report.guesser.percent(),
                            "chance_percent": report.guesser.chance_percent,
                        },
                    })
                ),
            }
            ExitCode::SUCCESS
        }
        Err(diags) => print_errors(&diags, "bank lint"),
    }
}

/// Prints every error, or the bank's summary table and the lint's summary line. Exit 1 on any
/// error.
pub fn bank_check(dir: &Path) -> ExitCode {
    match load_bank(dir) {
        Ok((b, files)) => {
            print!("{}", bank::summary::render(&b));
            println!("\n{}", bank::lint::lint(&b, &files).summary_line());
            println!("\nbank check: no errors");
            ExitCode::SUCCESS
        }
        Err(diags) => print_errors(&diags, "bank check"),
    }
}

/// Checks and imports the bank in `dir`; prints what changed.
pub async fn bank_import(db: &Db, dir: &Path, by: &str) -> anyhow::Result<ExitCode> {
    match import_dir(db, dir, by).await {
        Ok(report) => {
            println!("bank import: {}", report.summary());
            for c in &report.changes {
                println!("  {c}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportDirError::Invalid(diags)) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!(
                "bank import: the bank has {} error(s); nothing was imported",
                diags.len()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(ImportDirError::Import(ImportError::Refused(lines))) => {
            for l in &lines {
                eprintln!("{l}");
            }
            eprintln!("bank import: refused; nothing was imported");
            Ok(ExitCode::FAILURE)
        }
        Err(ImportDirError::Read(e)) => {
            Err(anyhow::Error::new(e).context(format!("reading {}", dir.display())))
        }
        Err(ImportDirError::Import(ImportError::Store(e))) => Err(e.into()),
    }
}
