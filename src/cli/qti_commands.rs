//! `bank import-qti` and `bank export-qti`: QTI content packages from and to zip archives, and
//! bank files on disk. Reading and writing QTI itself is `bank::qti`, pure.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::bank::{self, qti, Diagnostic};

/// The most one file of a package may unpack to, and the whole package: a QTI package of
/// text items is far smaller, and a zip bomb stops here.
const MAX_ENTRY_BYTES: u64 = 32 << 20;
const MAX_PACKAGE_BYTES: u64 = 256 << 20;

fn fail(diags: &[Diagnostic], what: &str) -> ExitCode {
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = writeln!(err, "{d}");
    }
    let _ = writeln!(err, "{what}");
    ExitCode::FAILURE
}

fn one(path: &Path, message: impl Into<String>) -> Vec<Diagnostic> {
    vec![Diagnostic::new(&path.display().to_string(), 1, message)]
}

/// A zip archive's files by path. Folders are left out; paths never reach the file system.
fn read_package(path: &Path) -> Result<qti::PackageFiles, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| format!("not a zip archive: {e}"))?;
    let mut files = qti::PackageFiles::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| format!("cannot read entry {i}: {e}"))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map_err(|e| format!("entry {i} has no usable name: {e}"))?
            .trim_start_matches("./")
            .to_string();
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(format!(
                "{name} unpacks to {} bytes, more than {MAX_ENTRY_BYTES} (a QTI file of text is far smaller)",
                entry.size()
            ));
        }
        total += entry.size();
        if total > MAX_PACKAGE_BYTES {
            return Err(format!("unpacks to more than {MAX_PACKAGE_BYTES} bytes"));
        }
        let mut bytes = Vec::new();
        // `take` holds the limit even where an entry's declared size is a lie.
        (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot unpack {name}: {e}"))?;
        files.insert(name, bytes);
    }
    Ok(files)
}

/// `bank import-qti PACKAGE --into DIR [--mapping FILE]`: writes the package's items and
/// stimuli as bank files into DIR, all or nothing, never over a different file.
pub fn bank_import_qti(package: &Path, into: &Path, mapping: Option<&Path>) -> ExitCode {
    const NOTHING: &str = "bank import-qti: nothing was written";
    let taxonomy_path = into.join("taxonomy.toml");
    let shown = taxonomy_path.display().to_string();
    let taxonomy = match std::fs::read_to_string(&taxonomy_path) {
        Ok(text) => match bank::toml_files::taxonomy(&shown, &text) {
            Ok(t) => t,
            Err(diags) => return fail(&diags, NOTHING),
        },
        Err(e) => {
            return fail(
                &one(
                    &taxonomy_path,
                    format!("cannot read ({e}): --into names a bank folder, whose taxonomy.toml gives the domains and areas items are mapped to"),
                ),
                NOTHING,
            )
        }
    };
    let mapping = match mapping {
        None => qti::Mapping::default(),
        Some(path) => {
            let shown = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(text) => match qti::mapping::parse(&shown, &text, &taxonomy) {
                    Ok(m) => m,
                    Err(diags) => return fail(&diags, NOTHING),
                },
                Err(e) => return fail(&one(path, format!("cannot read: {e}")), NOTHING),
            }
        }
    };
    let files = match read_package(package) {
        Ok(f) => f,
        Err(e) => return fail(&one(package, e), NOTHING),
    };
    let imported = match qti::import(&files, &mapping, &taxonomy) {
        Ok(i) => i,
        Err(diags) => {
            return fail(
                &diags,
                &format!(
                    "bank import-qti: {} refusal(s) in {}; nothing was written",
                    diags.len(),
                    package.display()
                ),
            )
        }
    };
    let all: Vec<&bank::SourceFile> = imported.vignettes.iter().chain(&imported.items).collect();
    let mut conflicts = Vec::new();
    let mut new = Vec::new();
    for f in &all {
        let dest = into.join(&f.path);
        match std::fs::read(&dest) {
            Ok(old) if old == f.text.as_bytes() => {}
            Ok(_) => conflicts.push(Diagnostic::new(
                &dest.display().to_string(),
                1,
                "already exists with other content: it was not overwritten (move it away, or import into another folder)",
            )),
            Err(_) => new.push((dest, *f)),
        }
    }
    if !conflicts.is_empty() {
        return fail(&conflicts, NOTHING);
    }
    for (dest, f) in &new {
        let written = dest
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(dest)
            })
            .and_then(|mut file| file.write_all(f.text.as_bytes()));
        if let Err(e) = written {
            eprintln!("{}: cannot write: {e}", dest.display());
            eprintln!("bank import-qti: stopped; the files named above it were written");
            return ExitCode::FAILURE;
        }
    }
    println!(
        "bank import-qti: {} item(s) and {} vignette(s) from {}: {} written, {} already there unchanged",
        imported.items.len(),
        imported.vignettes.len(),
        package.display(),
        new.len(),
        all.len() - new.len()
    );
    println!(
        "Check the bank next: imh-exam bank check {}",
        into.display()
    );
    ExitCode::SUCCESS
}

/// `bank export-qti DIR OUT.zip`: the checked bank as a QTI 3.0 package; OUT is never
/// overwritten.
pub fn bank_export_qti(dir: &Path, out: &Path) -> ExitCode {
    const NOTHING: &str = "bank export-qti: nothing was written";
    let b = match bank::load(dir) {
        Ok(b) => b,
        Err(diags) => {
            return fail(
                &diags,
                &format!(
                    "bank export-qti: the bank has {} error(s); nothing was written",
                    diags.len()
                ),
            )
        }
    };
    let files = match qti::export(&b) {
        Ok(f) => f,
        Err(diags) => return fail(&diags, NOTHING),
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| e.to_string())
        .and_then(|file| write_zip(file, &files).map_err(|e| e.to_string()));
    if let Err(e) = written {
        return fail(&one(out, format!("cannot write: {e}")), NOTHING);
    }
    println!(
        "bank export-qti: wrote {} (QTI 3.0): {} item(s), {} stimulus(es)",
        out.display(),
        b.items.len(),
        b.vignettes.len()
    );
    ExitCode::SUCCESS
}

fn write_zip(file: std::fs::File, files: &[(String, String)]) -> zip::result::ZipResult<()> {
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (path, text) in files {
        zip.start_file(path.as_str(), options)?;
        zip.write_all(text.as_bytes())?;
    }
    zip.finish()?;
    Ok(())
}
