//! Property tests on malformed input: the sample bank's files and `analyze`'s CSV files,
//! mutated at random (bit flips, lines deleted, duplicated or swapped, control characters and
//! NULs inserted, truncation, random UTF-8, huge numbers), go through the bank checker and
//! `analyze` in process. Neither may panic, and every error is one line of the form
//! `path:line: message` with a message that is not empty and holds no control character.
//!
//! The cases are seeded, so a failure names the seed that reproduces it. `IMH_FUZZ_CASES=N`
//! multiplies the number of cases for a longer run.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use imh_exam::analyze::{self, AnalyzeCommand, Failure, Format};
use imh_exam::bank::{self, BankFiles, SourceFile};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cases(n: usize) -> usize {
    let scale = std::env::var("IMH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    n * scale.max(1)
}

/// Characters a hostile or broken file may hold, one of them inserted at a time.
const NASTY: &[&str] = &[
    "\0",
    "\u{1}",
    "\u{8}",
    "\t",
    "\r",
    "\n",
    "\r\n",
    "\u{b}",
    "\u{c}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{202e}",
    "\u{feff}",
    "\"",
    ",",
    "\"\"",
    "## ",
    "### ",
    ":",
    "=",
    "[",
    "]",
    "|",
    "99999999999999999999",
    "-1",
    "0",
];

/// Random text, mostly valid UTF-8 from every plane.
fn random_text(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let len = rng.gen_range(1..12);
    let mut s = String::new();
    for _ in 0..len {
        let c = match rng.gen_range(0..5) {
            0 => rng.gen_range(0u32..0x80),
            1 => rng.gen_range(0x80u32..0x800),
            2 => rng.gen_range(0x800u32..0x10000),
            3 => rng.gen_range(0x10000u32..0x110000),
            _ => rng.gen_range(0x20u32..0x7f),
        };
        s.push(char::from_u32(c).unwrap_or('\u{fffd}'));
    }
    s.into_bytes()
}

/// Byte offsets of each line's start.
fn line_starts(bytes: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i < bytes.len())
        .collect()
}

/// A random line as a byte range (with its newline).
fn random_line(rng: &mut ChaCha8Rng, bytes: &[u8]) -> Option<(usize, usize)> {
    let starts = line_starts(bytes);
    let i = rng.gen_range(0..starts.len().max(1));
    let start = *starts.get(i)?;
    let end = starts.get(i + 1).copied().unwrap_or(bytes.len());
    Some((start, end))
}

/// A position to insert at: a character boundary when the text is UTF-8, so most insertions
/// keep the file readable and reach the parser.
fn random_position(rng: &mut ChaCha8Rng, bytes: &[u8]) -> usize {
    let mut at = rng.gen_range(0..=bytes.len());
    if let Ok(text) = std::str::from_utf8(bytes) {
        while !text.is_char_boundary(at) {
            at -= 1;
        }
    }
    at
}

/// Applies one random mutation; says which, for the failure message.
fn mutate(rng: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> String {
    match rng.gen_range(0..9) {
        0 if !bytes.is_empty() => {
            let i = rng.gen_range(0..bytes.len());
            let bit = rng.gen_range(0..8);
            bytes[i] ^= 1 << bit;
            format!("flip bit {bit} of byte {i}")
        }
        1 => match random_line(rng, bytes) {
            Some((s, e)) => {
                bytes.drain(s..e);
                format!("delete bytes {s}..{e}")
            }
            None => "nothing to delete".into(),
        },
        2 => match random_line(rng, bytes) {
            Some((s, e)) => {
                let line = bytes[s..e].to_vec();
                bytes.splice(e..e, line);
                format!("duplicate bytes {s}..{e}")
            }
            None => "nothing to duplicate".into(),
        },
        3 => match (random_line(rng, bytes), random_line(rng, bytes)) {
            (Some(x), Some(y)) if x.1 <= y.0 || y.1 <= x.0 => {
                let ((a, b), (c, d)) = if x.0 < y.0 { (x, y) } else { (y, x) };
                let second = bytes[c..d].to_vec();
                let first = bytes[a..b].to_vec();
                bytes.splice(c..d, first);
                bytes.splice(a..b, second);
                format!("swap bytes {a}..{b} and {c}..{d}")
            }
            _ => "no two lines to swap".into(),
        },
        4 | 5 => {
            let at = random_position(rng, bytes);
            let nasty = NASTY.choose(rng).unwrap();
            bytes.splice(at..at, nasty.bytes());
            format!("insert {nasty:?} at {at}")
        }
        6 => {
            let at = rng.gen_range(0..=bytes.len());
            bytes.truncate(at);
            format!("truncate at {at}")
        }
        7 => {
            let at = random_position(rng, bytes);
            let text = random_text(rng);
            let shown = String::from_utf8_lossy(&text).into_owned();
            bytes.splice(at..at, text);
            format!("insert {shown:?} at {at}")
        }
        _ => {
            // A number made huge, negative or zero.
            let digits: Vec<usize> = (0..bytes.len())
                .filter(|&i| bytes[i].is_ascii_digit())
                .collect();
            match digits.choose(rng) {
                Some(&i) => {
                    let with = *["99999999999999999999", "-7", "0", "4294967296"]
                        .choose(rng)
                        .unwrap();
                    bytes.splice(i..=i, with.bytes());
                    format!("replace the digit at {i} with {with}")
                }
                None => "no digit to replace".into(),
            }
        }
    }
}

/// 1 to 4 mutations.
fn mutations(rng: &mut ChaCha8Rng, bytes: &mut Vec<u8>) -> Vec<String> {
    (0..rng.gen_range(1..=4))
        .map(|_| mutate(rng, bytes))
        .collect()
}

/// Checks one error line: `path:line: message`, the path one of `paths`, the line a number
/// from 1 to `max_line(path)`, the message not empty, starting with a non-space, and no
/// control character anywhere.
fn check_line(
    shown: &str,
    paths: &[String],
    max_line: impl Fn(&str) -> usize,
) -> Result<(), String> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if shown.chars().any(unsafe_char) {
        return Err("holds a control character, a line separator or a bidi override".into());
    }
    let (location, message) = shown
        .split_once(": ")
        .ok_or("has no `: ` before a message")?;
    let (path, line) = location.rsplit_once(':').ok_or("has no `:line`")?;
    if !paths.iter().any(|p| p == path) {
        return Err(format!("names the unknown path {path:?}"));
    }
    let line: usize = line
        .parse()
        .map_err(|_| format!("{line:?} is not a line number"))?;
    if line == 0 || line > max_line(path) {
        return Err(format!("line {line} is not in the file"));
    }
    if !message.starts_with(|c: char| !c.is_whitespace()) {
        return Err("the message is empty or starts with white space".into());
    }
    Ok(())
}

/// The last line an error may name: the line after the last newline (where an error at the
/// end of the file is).
fn lines_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count() + 1
}

// ---------------------------------------------------------------------------------------------
// The bank

fn sample_bank() -> BankFiles {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("item-bank");
    let files = bank::read_dir(&dir).unwrap();
    assert!(bank::from_files(&files).is_ok(), "the sample bank is valid");
    files
}

/// Where a file sits in `BankFiles`: bank.toml, taxonomy.toml, or an index in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    Bank,
    Taxonomy,
    Blueprint(usize),
    Vignette(usize),
    Item(usize),
}

fn slots(files: &BankFiles) -> Vec<Slot> {
    let mut out = vec![Slot::Bank, Slot::Taxonomy];
    out.extend((0..files.blueprints.len()).map(Slot::Blueprint));
    out.extend((0..files.vignettes.len()).map(Slot::Vignette));
    out.extend((0..files.items.len()).map(Slot::Item));
    out
}

fn file(files: &BankFiles, slot: Slot) -> &SourceFile {
    let f = match slot {
        Slot::Bank => files.bank.as_ref(),
        Slot::Taxonomy => files.taxonomy.as_ref(),
        Slot::Blueprint(i) => files.blueprints.get(i),
        Slot::Vignette(i) => files.vignettes.get(i),
        Slot::Item(i) => files.items.get(i),
    };
    f.expect("a slot of the sample bank")
}

/// The paths an error may name: every file's, and the missing files' joined to the folder.
fn bank_paths(files: &BankFiles) -> Vec<String> {
    let mut paths: Vec<String> = slots(files)
        .into_iter()
        .map(|s| file(files, s).path.clone())
        .collect();
    for name in [
        "bank.toml",
        "taxonomy.toml",
        "blueprints/*.toml (at least one blueprint)",
    ] {
        paths.push(Path::new(&files.root).join(name).display().to_string());
    }
    paths
}

/// `files` with the `changed` ones' bytes read as `bank::read_dir` reads them: text, or an
/// unreadable file left out of its group with its error.
fn with_changes(files: &BankFiles, changed: &HashMap<Slot, Vec<u8>>) -> BankFiles {
    let mut out = BankFiles {
        root: files.root.clone(),
        unreadable: files.unreadable.clone(),
        ..BankFiles::default()
    };
    for slot in slots(files) {
        let original = file(files, slot);
        let new = match changed.get(&slot) {
            None => original.clone(),
            Some(bytes) => match bank::source_file(&original.path, bytes.clone()) {
                Ok(f) => f,
                Err(d) => {
                    out.unreadable.push(d);
                    continue;
                }
            },
        };
        match slot {
            Slot::Bank => out.bank = Some(new),
            Slot::Taxonomy => out.taxonomy = Some(new),
            Slot::Blueprint(_) => out.blueprints.push(new),
            Slot::Vignette(_) => out.vignettes.push(new),
            Slot::Item(_) => out.items.push(new),
        }
    }
    out
}

/// Files of a bank after mutation.
#[derive(Default)]
struct Mutated {
    /// The new bytes of each file changed.
    changed: HashMap<Slot, Vec<u8>>,
    /// Their line counts, by path.
    lines: HashMap<String, usize>,
    /// What was done, for the failure message.
    done: Vec<String>,
}

/// Mutates the files at `picked` (a file picked twice is mutated twice).
fn mutate_files(rng: &mut ChaCha8Rng, files: &BankFiles, picked: &[Slot]) -> Mutated {
    let mut m = Mutated::default();
    for &slot in picked {
        let f = file(files, slot);
        let bytes = m
            .changed
            .entry(slot)
            .or_insert_with(|| f.text.clone().into_bytes());
        let how = mutations(rng, bytes);
        m.lines.insert(f.path.clone(), lines_in(bytes));
        m.done.push(format!("{}: {}", f.path, how.join(", ")));
    }
    m
}

/// Runs the checker (and, on success, the summary `bank check` prints) on a mutated bank;
/// every error must be a well-formed line.
fn check_bank(
    files: &BankFiles,
    paths: &[String],
    lines: &HashMap<String, usize>,
) -> Result<(), String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        bank::from_files(files).map(|b| bank::summary::render(&b))
    }))
    .map_err(|_| "the checker panicked".to_string())?;
    let Err(diags) = result else { return Ok(()) };
    if diags.is_empty() {
        return Err("an error result with no error".into());
    }
    let max_line = |p: &str| lines.get(p).copied().unwrap_or(usize::MAX);
    for d in &diags {
        let shown = d.to_string();
        check_line(&shown, paths, max_line).map_err(|why| format!("{shown:?} {why}"))?;
    }
    Ok(())
}

/// The whole sample bank with 1 to 3 of its files mutated, through the whole checker.
#[test]
fn the_bank_checker_survives_mutated_files() {
    let original = sample_bank();
    let (all, paths) = (slots(&original), bank_paths(&original));
    for case in 0..cases(400) {
        let seed = 0xBA4C_0000 + case as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let picked: Vec<Slot> = (0..rng.gen_range(1..=3))
            .map(|_| *all.choose(&mut rng).unwrap())
            .collect();
        let m = mutate_files(&mut rng, &original, &picked);
        let files = with_changes(&original, &m.changed);
        if let Err(why) = check_bank(&files, &paths, &m.lines) {
            panic!("case seed {seed:#x} ({}): {why}", m.done.join("; "));
        }
    }
}

/// Many more cases on a small bank: bank.toml, the taxonomy and one other file, one of them
/// mutated. This reaches each kind of file's parser quickly, and the cross-file rules on a
/// bank that cannot fill its blueprint.
#[test]
fn each_kind_of_file_survives_mutation() {
    let sample = sample_bank();
    for case in 0..cases(2400) {
        let seed = 0xF11E_0000 + case as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut small = BankFiles {
            bank: sample.bank.clone(),
            taxonomy: sample.taxonomy.clone(),
            root: sample.root.clone(),
            ..BankFiles::default()
        };
        match rng.gen_range(0..3) {
            0 => small
                .blueprints
                .push(sample.blueprints.choose(&mut rng).unwrap().clone()),
            1 => small
                .vignettes
                .push(sample.vignettes.choose(&mut rng).unwrap().clone()),
            _ => small
                .items
                .push(sample.items.choose(&mut rng).unwrap().clone()),
        }
        let target = *slots(&small).choose(&mut rng).unwrap();
        let m = mutate_files(&mut rng, &small, &[target]);
        let paths = bank_paths(&small);
        let files = with_changes(&small, &m.changed);
        if let Err(why) = check_bank(&files, &paths, &m.lines) {
            panic!("case seed {seed:#x} ({}): {why}", m.done.join("; "));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// analyze

/// The analyze example files: responses and key (the KR-20 example), ratings (the weighted
/// kappa one, with items), groups for DIF.
fn analyze_files() -> Vec<(&'static str, String)> {
    let mut ratings = String::from("response,rater,score,item\n");
    let table = [[3, 1, 1, 0], [1, 4, 1, 1], [0, 1, 3, 1], [0, 1, 1, 3]];
    let mut n = 0;
    for (a, row) in table.iter().enumerate() {
        for (b, &count) in row.iter().enumerate() {
            for _ in 0..count {
                n += 1;
                let item = if n % 2 == 0 { "even" } else { "odd" };
                ratings.push_str(&format!("r{n},ann,{a},{item}\nr{n},bob,{b},{item}\n"));
            }
        }
    }
    ratings.push_str("r1,cy,2,odd\n");
    let mut facets = String::from("candidate,question,rater,score\n");
    for c in 0..8 {
        for (q, rater) in [("q1", "abe"), ("q1", "bea"), ("q2", "abe"), ("q2", "cy")] {
            facets.push_str(&format!(
                "c{c},{q},{rater},{}\n",
                (c * 7 + q.len() + rater.len()) % 4
            ));
        }
    }
    vec![
        ("F.csv", facets),
        (
            "R.csv",
            "candidate,Q1,Q2,Q3,Q4,Q5\nc1,A,A,A,B,A\nc2,A,B,A,B,B\nc3,A,A,A,A,A\nc4,B,B,A,B,B\n\
             c5,A,A,B,A,\nc6,B,B,B,B,A\nc7,A,A,A,A,B\nc8,A,B,A,B,-\n"
                .into(),
        ),
        (
            "K.csv",
            "item,key,domain\nQ1,A,TF\nQ2,A|B,TF\nQ3,A,REF\nQ4,A,REF\nQ5,A,\n".into(),
        ),
        ("X.csv", ratings),
        ("A.csv", "item,difficulty\nQ1,0.5\nQ3,-1\n".into()),
        (
            "G.csv",
            "candidate,group\nc1,F\nc2,REF\nc3,F\nc4,REF\nc5,F\nc6,REF\nc7,F\nc8,OTHER\n".into(),
        ),
        (
            "AR.csv",
            "panelist,item,rating,round\nana,Q1,0.6,1\nana,Q2,0.4,1\nana,Q3,1,1\nben,Q1,0.5,1\n\
             ben,Q2,0.7,1\nben,Q3,0.8,1\nana,Q1,0.65,2\nana,Q2,0.5,2\nana,Q3,0.9,2\n\
             ben,Q1,0.55,2\nben,Q2,0.6,2\nben,Q3,0.85,2\n"
                .into(),
        ),
        (
            "AI.csv",
            "item,p_value,difficulty\nQ1,0.7,-0.5\nQ2,0.45,0.3\nQ3,0.9,-1.8\n".into(),
        ),
        (
            "AS.csv",
            "candidate,score\nc1,0\nc2,1\nc3,2\nc4,2\nc5,3\nc6,1\n".into(),
        ),
        (
            "AH.csv",
            "panelist,cut_min,cut_max,fail_min,fail_max\nana,1,2.5,0.1,0.5\nben,1.5,3,0,0.4\n"
                .into(),
        ),
        ("AP.csv", "item,difficulty\nP1,-1\nP2,0\nP3,1.2\n".into()),
    ]
}

fn command(which: u32, format: Format) -> (AnalyzeCommand, &'static [&'static str]) {
    let p = PathBuf::from;
    match which {
        0 => (
            AnalyzeCommand::Items {
                responses: p("R.csv"),
                key: p("K.csv"),
                format,
                cut: None,
            },
            &["R.csv", "K.csv"],
        ),
        1 => (
            AnalyzeCommand::Agreement {
                ratings: p("X.csv"),
                min_score: 0,
                max_score: 3,
                format,
            },
            &["X.csv"],
        ),
        4 => (
            AnalyzeCommand::Facets {
                ratings: p("F.csv"),
                min_score: 0,
                max_score: 3,
                model: analyze::FacetsModel::RatingScale,
                format,
            },
            &["F.csv"],
        ),
        3 => (
            AnalyzeCommand::Rasch {
                responses: p("R.csv"),
                key: p("K.csv"),
                anchor: Some(p("A.csv")),
                pretest: vec![],
                format,
            },
            &["R.csv", "K.csv", "A.csv"],
        ),
        5 => (
            AnalyzeCommand::Angoff {
                ratings: p("AR.csv"),
                max: None,
                items: Some(p("AI.csv")),
                scores: Some(p("AS.csv")),
                hofstee: Some(p("AH.csv")),
                pool: Some(p("AP.csv")),
                round: None,
                se_adjust: Some(-1.0),
                format,
            },
            &["AR.csv", "AI.csv", "AS.csv", "AH.csv", "AP.csv"],
        ),
        _ => (
            AnalyzeCommand::Dif {
                responses: p("R.csv"),
                key: p("K.csv"),
                groups: p("G.csv"),
                focal: "F".into(),
                reference: "REF".into(),
                format,
            },
            &["R.csv", "K.csv", "G.csv"],
        ),
    }
}

/// The analyze commands on their files with one or more of them mutated (or, now and then,
/// missing), read from memory: no panic; a report that is well-formed CSV or JSON, or errors
/// each one line, `file:line: message` (or `file: message` about the whole file).
#[test]
fn analyze_survives_mutated_csv_files() {
    let originals = analyze_files();
    for case in 0..cases(4000) {
        let seed = 0xA11A_0000 + case as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let format = if rng.gen_bool(0.7) {
            Format::Csv
        } else {
            Format::Json
        };
        let (cmd, inputs) = command(rng.gen_range(0..6), format);
        let mut files: HashMap<String, Vec<u8>> = HashMap::new();
        let mut sizes = HashMap::new();
        let mut done = Vec::new();
        // One input always mutated, each other one more often than not.
        let always = *inputs.choose(&mut rng).unwrap();
        for (name, text) in &originals {
            let mut bytes = text.clone().into_bytes();
            if *name == always || inputs.contains(name) && rng.gen_bool(0.6) {
                done.push(format!(
                    "{name}: {}",
                    mutations(&mut rng, &mut bytes).join(", ")
                ));
            }
            sizes.insert(name.to_string(), lines_in(&bytes));
            if rng.gen_bool(0.01) {
                done.push(format!("{name}: missing"));
            } else {
                files.insert(name.to_string(), bytes);
            }
        }
        let read = |path: &Path| {
            files
                .get(&path.display().to_string())
                .cloned()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
        };
        let fail =
            |why: String| -> ! { panic!("case seed {seed:#x} ({}): {why}", done.join("; ")) };
        let result = catch_unwind(AssertUnwindSafe(|| analyze::report_with(&cmd, &read)))
            .unwrap_or_else(|_| fail("analyze panicked".into()));
        match result {
            Ok(text) if format == Format::Csv => {
                let mut reader = csv::Reader::from_reader(text.as_bytes());
                for r in reader.records() {
                    let r = r.unwrap_or_else(|e| fail(format!("the report is not CSV: {e}")));
                    if r.len() != 5 {
                        fail(format!("a report row of {} fields", r.len()));
                    }
                }
            }
            Ok(text) => {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
                    fail(format!("the report is not JSON: {e}"));
                }
            }
            Err(Failure::Usage(u)) => fail(format!("a usage error from good arguments: {u}")),
            Err(Failure::Files(errors)) => {
                if errors.is_empty() {
                    fail("an error result with no error".into());
                }
                let paths: Vec<String> = sizes.keys().cloned().collect();
                for e in &errors {
                    let shown = e.to_string();
                    let checked = match e.line {
                        Some(_) => check_line(&shown, &paths, |p| sizes[p]),
                        // About the whole file: `file: message`, checked as if at line 1.
                        None => {
                            let at_one = shown.replacen(": ", ":1: ", 1);
                            check_line(&at_one, &paths, |p| sizes[p])
                        }
                    };
                    if let Err(why) = checked {
                        fail(format!("{shown:?} {why}"));
                    }
                }
            }
        }
    }
}
