//! The item bank: items, vignettes, the taxonomy and blueprints, read from plain-text files.
//!
//! `read_dir` is the only function here that touches the file system; everything else works
//! on the files' text, so the parser and checker are tested without I/O.

pub mod appeals;
pub mod check;
pub mod doc;
pub mod hash;
pub mod lint;
pub mod model;
pub mod parse;
pub mod pass_mark;
pub mod policy;
pub mod qti;
pub mod render;
pub mod summary;
pub mod toml_files;

use std::path::Path;

pub use appeals::{AppealRules, PartTwoRule};
pub use model::*;
pub use pass_mark::PassMark;
pub use policy::{FormTolerance, FormsPolicy, NearCutMargin, PassOn};

/// One file of the bank: the path to show in errors and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// The bank's files, sorted by path within each group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankFiles {
    pub bank: Option<SourceFile>,
    pub taxonomy: Option<SourceFile>,
    pub blueprints: Vec<SourceFile>,
    pub vignettes: Vec<SourceFile>,
    pub items: Vec<SourceFile>,
    /// Files that could not be read (not UTF-8, permissions), already as diagnostics.
    pub unreadable: Vec<Diagnostic>,
    /// Where the bank's folder itself was given, for errors about missing files.
    pub root: String,
}

/// Reads the bank's files from `dir`. Paths in errors are shown joined to `dir` as given.
pub fn read_dir(dir: &Path) -> std::io::Result<BankFiles> {
    if !dir.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{}: not a folder", dir.display()),
        ));
    }
    let mut files = BankFiles {
        root: dir.display().to_string(),
        ..BankFiles::default()
    };
    let read_one = |path: &Path, files: &mut BankFiles| -> Option<SourceFile> {
        let shown = path.display().to_string();
        let read = std::fs::read(path)
            .map_err(|e| Diagnostic::new(&shown, 1, format!("cannot read: {e}")))
            .and_then(|bytes| source_file(&shown, bytes));
        read.map_err(|d| files.unreadable.push(d)).ok()
    };
    for (name, slot) in [("bank.toml", 0), ("taxonomy.toml", 1)] {
        let path = dir.join(name);
        if path.exists() {
            let f = read_one(&path, &mut files);
            if slot == 0 {
                files.bank = f;
            } else {
                files.taxonomy = f;
            }
        }
    }
    for (sub, ext) in [("blueprints", "toml"), ("vignettes", "md"), ("items", "md")] {
        let folder = dir.join(sub);
        let mut paths = Vec::new();
        if folder.is_dir() {
            for entry in std::fs::read_dir(&folder)? {
                let path = entry?.path();
                if path.is_file() && path.extension().and_then(|e| e.to_str()) == Some(ext) {
                    paths.push(path);
                }
            }
        }
        paths.sort();
        for path in paths {
            if let Some(f) = read_one(&path, &mut files) {
                match sub {
                    "blueprints" => files.blueprints.push(f),
                    "vignettes" => files.vignettes.push(f),
                    _ => files.items.push(f),
                }
            }
        }
    }
    Ok(files)
}

/// A file's bytes as bank text, or the error naming the line where it stops being UTF-8.
pub fn source_file(path: &str, bytes: Vec<u8>) -> Result<SourceFile, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile {
            path: path.to_string(),
            text,
        }),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            Err(Diagnostic::new(path, line, "the file is not UTF-8 text"))
        }
    }
}

/// Parses and checks a whole bank. Returns every error found, sorted by path and line.
pub fn from_files(files: &BankFiles) -> Result<Bank, Vec<Diagnostic>> {
    let mut diags = files.unreadable.clone();
    let missing = |name: &str| {
        Diagnostic::new(
            &Path::new(&files.root).join(name).display().to_string(),
            1,
            format!("missing: the bank needs {name}"),
        )
    };
    let mut bank = Bank::default();
    match &files.bank {
        Some(f) => match toml_files::bank_meta(&f.path, &f.text) {
            Ok(m) => bank.meta = m,
            Err(e) => diags.extend(e),
        },
        None => diags.push(missing("bank.toml")),
    }
    match &files.taxonomy {
        Some(f) => match toml_files::taxonomy(&f.path, &f.text) {
            Ok(t) => bank.taxonomy = t,
            Err(e) => diags.extend(e),
        },
        None => diags.push(missing("taxonomy.toml")),
    }
    for f in &files.vignettes {
        match parse::vignette(&f.path, &f.text) {
            Ok(v) => bank.vignettes.push(v),
            Err(e) => diags.extend(e),
        }
    }
    for f in &files.items {
        match parse::item(&f.path, &f.text) {
            Ok(i) => bank.items.push(i),
            Err(e) => diags.extend(e),
        }
    }
    for f in &files.blueprints {
        match toml_files::blueprint(&f.path, &f.text) {
            Ok(b) => bank.blueprints.push(b),
            Err(e) => diags.extend(e),
        }
    }
    if files.blueprints.is_empty() {
        diags.push(missing("blueprints/*.toml (at least one blueprint)"));
    }
    // Cross-file rules need a taxonomy to mean anything.
    if !bank.taxonomy.domains.is_empty() {
        let complete = diags.is_empty();
        check::check(&bank, complete, &mut diags);
    }
    if diags.is_empty() {
        Ok(bank)
    } else {
        diags.sort();
        diags.dedup();
        Err(diags)
    }
}

/// Reads and checks the bank in `dir`.
pub fn load(dir: &Path) -> Result<Bank, Vec<Diagnostic>> {
    let files = read_dir(dir).map_err(|e| {
        vec![Diagnostic::new(
            &dir.display().to_string(),
            1,
            e.to_string(),
        )]
    })?;
    from_files(&files)
}
