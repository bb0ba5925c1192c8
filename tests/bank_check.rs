//! `imh-exam bank check`: the sample bank passes; a small bank broken in one way per test
//! fails with the exact `path:line: message` of that break.

use std::path::PathBuf;
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_imh-exam"))
}

const BLUEPRINT: &str = r#"id = "mini"
name = "Mini"
level = "III"
retake_wait_days = 365

[part_one]
name = "Part One"
minutes = 90
pass_percent = 80
pretest_items = 0

[[part_one.draw]]
domain = "TF"
area = "attachment"
count = 1

[[part_one.draw]]
domain = "TF"
count = 1

[part_two]
name = "Part Two"
minutes = 90
pass_percent = 80
answer = 1

[[part_two.present]]
kind = "clinical"
count = 1
"#;

const VIGNETTE: &str = "id: CL01
version: 1
kind: clinical
title: A home visit
levels: III
status: operational

## Text
A mother and her four-month-old at home.
";

fn mcq(id: &str, area: &str, key: &str) -> String {
    format!(
        "id: {id}
version: 1
kind: mcq
domain: TF
area: {area}
levels: all
status: operational

## Stem
Which is best?

## Options
A. One
B. Two
C. Three
D. Four

## Key
{key}

## Rationale
B is best because it is.
"
    )
}

const OPEN: &str = "id: CL01-Q1
version: 1
kind: open
domain: REF
area: curiosity
levels: III
status: operational
vignette: CL01
max-score: 2

## Prompt
What do you wonder about?

## Rubric

### 0
Descriptor: No wondering.
Anchor: She should feed him more.

### 1
Descriptor: Some wondering.
Anchor: I wonder if he is tired.

### 2
Descriptor: Wonders about both partners.
Anchor: I wonder what he feels and what she feels.
";

/// A valid bank in a fresh temporary folder, at `<tmp>/bank`.
struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let f = Fixture { tmp };
        f.write("bank.toml", "name = \"test bank\"\n");
        f.write(
            "taxonomy.toml",
            &std::fs::read_to_string(repo().join("item-bank/taxonomy.toml")).unwrap(),
        );
        f.write("blueprints/mini.toml", BLUEPRINT);
        f.write("vignettes/CL01.md", VIGNETTE);
        f.write("items/TF-0001.md", &mcq("TF-0001", "attachment", "B"));
        f.write("items/TF-0002.md", &mcq("TF-0002", "development", "C"));
        f.write("items/CL01-Q1.md", OPEN);
        f
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join("bank").join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.path(rel)).unwrap();
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// Runs `imh-exam bank check bank` from the fixture's folder.
    fn check(&self) -> Output {
        bin()
            .args(["bank", "check", "bank"])
            .current_dir(self.tmp.path())
            .output()
            .unwrap()
    }

    /// The error lines of a failing check (the count line at the end left out).
    fn errors(&self) -> Vec<String> {
        let out = self.check();
        assert_eq!(
            out.status.code(),
            Some(1),
            "bank check should fail: {out:?}"
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        let mut lines: Vec<String> = stderr.lines().map(str::to_string).collect();
        let last = lines.pop().unwrap();
        assert_eq!(last, format!("bank check: {} error(s)", lines.len()));
        lines
    }
}

#[test]
fn the_sample_bank_passes_and_prints_its_table() {
    let out = bin()
        .args(["bank", "check", "item-bank"])
        .current_dir(repo())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("SAMPLE CONTENT"));
    for level in [
        "Level III",
        "Level IV-Clinical",
        "Level IV-Policy",
        "Level IV-Research/Faculty",
    ] {
        assert!(stdout.contains(level), "no table for {level}");
    }
    assert!(stdout.ends_with("bank check: no errors\n"));
}

#[test]
fn the_fixture_is_valid() {
    let f = Fixture::new();
    let out = f.check();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn unknown_domain() {
    let f = Fixture::new();
    f.edit("items/TF-0002.md", "domain: TF", "domain: TX");
    assert_eq!(
        f.errors(),
        vec!["bank/items/TF-0002.md:4: unknown domain \"TX\"; the taxonomy has TF, LAW, DSS, WWO, COM, REF, THK, SYS, ADM, RES"]
    );
}

#[test]
fn unknown_area() {
    let f = Fixture::new();
    f.edit("items/TF-0002.md", "area: development", "area: developmnet");
    assert_eq!(
        f.errors(),
        vec!["bank/items/TF-0002.md:5: unknown area \"developmnet\" in domain TF (Theoretical Foundations)"]
    );
}

#[test]
fn duplicate_id() {
    let f = Fixture::new();
    f.write("items/TF-0003.md", &mcq("TF-0001", "development", "A"));
    assert_eq!(
        f.errors(),
        vec![
            "bank/items/TF-0003.md:1: duplicate item id \"TF-0001\" (also in bank/items/TF-0001.md:1)",
            "bank/items/TF-0003.md:1: id \"TF-0001\" does not match the file name \"TF-0003.md\"",
        ]
    );
}

#[test]
fn key_that_is_not_an_option() {
    let f = Fixture::new();
    f.edit("items/TF-0001.md", "## Key\nB", "## Key\nE");
    assert_eq!(
        f.errors(),
        vec!["bank/items/TF-0001.md:19: option \"E\" is the key but only A-D exist"]
    );
}

#[test]
fn rubric_missing_a_score_point() {
    let f = Fixture::new();
    f.edit(
        "items/CL01-Q1.md",
        "### 1\nDescriptor: Some wondering.\nAnchor: I wonder if he is tired.\n",
        "",
    );
    assert_eq!(
        f.errors(),
        vec!["bank/items/CL01-Q1.md:14: the rubric has no score point 1 (max-score is 2)"]
    );
}

#[test]
fn score_point_without_anchor() {
    let f = Fixture::new();
    f.edit(
        "items/CL01-Q1.md",
        "Anchor: I wonder what he feels and what she feels.\n",
        "",
    );
    assert_eq!(
        f.errors(),
        vec!["bank/items/CL01-Q1.md:24: score point 2 has no `Anchor:` answer"]
    );
}

#[test]
fn vignette_that_does_not_exist() {
    let f = Fixture::new();
    f.edit("items/CL01-Q1.md", "vignette: CL01", "vignette: CL09");
    assert_eq!(
        f.errors(),
        vec!["bank/items/CL01-Q1.md:8: vignette \"CL09\" does not exist"]
    );
}

#[test]
fn an_enemy_that_does_not_exist() {
    let f = Fixture::new();
    f.edit(
        "items/TF-0001.md",
        "status: operational\n",
        "status: operational\nenemies: TF-0002, TF-0099\n",
    );
    assert_eq!(
        f.errors(),
        vec!["bank/items/TF-0001.md:8: enemy \"TF-0099\" is not an item of the bank"]
    );
}

#[test]
fn blueprint_the_operational_items_cannot_fill() {
    let f = Fixture::new();
    f.edit("items/TF-0001.md", "status: operational", "status: draft");
    assert_eq!(
        f.errors(),
        vec![
            "bank/blueprints/mini.toml:15: blueprint mini draws 1 operational mcq items from TF/attachment for level III, but the bank has 0",
            "bank/blueprints/mini.toml:19: blueprint mini draws 2 operational mcq items from TF for level III, but the bank has 1",
        ]
    );
}

#[test]
fn blueprint_short_of_vignettes() {
    let f = Fixture::new();
    f.edit(
        "vignettes/CL01.md",
        "status: operational",
        "status: retired",
    );
    f.edit("items/CL01-Q1.md", "status: operational", "status: retired");
    assert_eq!(
        f.errors(),
        vec!["bank/blueprints/mini.toml:29: blueprint mini presents 1 clinical vignettes for level III, but the bank has 0 operational ones with an operational open item"]
    );
}

#[test]
fn bad_syntax_in_an_item() {
    let f = Fixture::new();
    f.edit(
        "items/TF-0002.md",
        "status: operational\n",
        "status operational\n",
    );
    assert_eq!(
        f.errors(),
        vec![
            "bank/items/TF-0002.md:1: missing header field `status`",
            "bank/items/TF-0002.md:7: expected a header line `field: value` or a section `## Name`, found \"status operational\"",
        ]
    );
}

#[test]
fn bad_syntax_in_a_blueprint() {
    let f = Fixture::new();
    f.edit("blueprints/mini.toml", "count = 1\n", "count = one\n");
    let errors = f.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("bank/blueprints/mini.toml:15: "),
        "{errors:?}"
    );
}

#[test]
fn mentor_only_area_at_level_three() {
    let f = Fixture::new();
    f.write(
        "items/TF-0003.md",
        &mcq("TF-0003", "adult-learning", "A").replace("levels: all", "levels: III, IV-Clinical"),
    );
    assert_eq!(
        f.errors(),
        vec!["bank/items/TF-0003.md:6: TF/adult-learning is Mentor-level (Level IV) only, but the item lists level III"]
    );
}

#[test]
fn every_error_is_printed_at_once() {
    let f = Fixture::new();
    f.edit("items/TF-0002.md", "domain: TF", "domain: TX");
    f.edit("items/TF-0001.md", "## Key\nB", "## Key\nE");
    f.edit("vignettes/CL01.md", "kind: clinical", "kind: clinic");
    let errors = f.errors();
    assert!(
        errors.contains(
            &"bank/items/TF-0001.md:19: option \"E\" is the key but only A-D exist".to_string()
        ),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("bank/items/TF-0002.md:4: unknown domain \"TX\"")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e
                .starts_with("bank/vignettes/CL01.md:3: kind: unknown vignette kind \"clinic\"")),
        "{errors:?}"
    );
}

#[test]
fn a_missing_folder_is_a_clear_error() {
    let out = bin()
        .args(["bank", "check", "no-such-bank"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().next(),
        Some("no-such-bank:1: no-such-bank: not a folder")
    );
}

/// TOML allows no NUL: the parser's own message for one in a comment is empty, which printed
/// `path:line: ` and nothing more.
#[test]
fn a_nul_in_a_blueprint_is_named_at_its_line() {
    let f = Fixture::new();
    f.edit(
        "blueprints/mini.toml",
        "retake_wait_days = 365\n",
        "# one\0year\nretake_wait_days = 365\n",
    );
    assert_eq!(
        f.errors(),
        vec!["bank/blueprints/mini.toml:4: control character \\0 is not allowed in TOML (only tab and line ends are)"]
    );
}

/// A value echoed from a file (or a file's name) with a carriage return, an escape sequence or
/// a line separator is shown escaped: every error stays one line and cannot drive the terminal.
#[test]
fn control_characters_from_files_are_shown_escaped() {
    let f = Fixture::new();
    f.edit(
        "items/TF-0002.md",
        "area: development",
        "area: devel\u{1b}[2Jopment\rX",
    );
    f.edit(
        "items/TF-0001.md",
        "status: operational\n",
        "status: operational\nnot a\u{2028}field\n",
    );
    f.write("items/TF\n0003.md", &mcq("TF-0003", "development", "A"));
    let out = f.check();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains(['\u{1b}', '\r', '\u{2028}']), "{stderr:?}");
    assert_eq!(
        f.errors(),
        vec![
            // Sorted by the raw path: the newline sorts before the hyphen.
            "bank/items/TF\\n0003.md:1: id \"TF-0003\" does not match the file name \"TF\\n0003.md\"",
            "bank/items/TF-0001.md:8: expected a header line `field: value` or a section `## Name`, found \"not a\\u{2028}field\"",
            "bank/items/TF-0002.md:5: unknown area \"devel\\u{1b}[2Jopment\\rX\" in domain TF (Theoretical Foundations)",
        ]
    );
}

/// Analytic Part Two in the sample bank: every vignette with an operational open question
/// carries at least three, in more than one area; every score point of every rubric has a short
/// anchor (40-80 words) and a long one (130-200), so raters cannot score by length, and the
/// mean anchor length per score point neither rises all the way up nor spreads by 25 words.
#[test]
fn the_sample_part_two_is_analytic_with_anchors_of_every_length() {
    use imh_exam::bank::{ItemBody, Status};
    use std::collections::BTreeMap;
    let bank = imh_exam::bank::load(&repo().join("item-bank")).unwrap();
    let mut by_vignette: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut lengths: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for item in &bank.items {
        let ItemBody::Open(open) = &item.body else {
            continue;
        };
        if item.status != Status::Operational {
            continue;
        }
        by_vignette
            .entry(item.vignette.as_deref().unwrap())
            .or_default()
            .push(&item.area);
        for point in &open.rubric {
            let words: Vec<usize> = point
                .anchors
                .iter()
                .map(|a| a.split_whitespace().count())
                .collect();
            assert!(
                words.iter().any(|w| (40..=80).contains(w))
                    && words.iter().any(|w| (130..=200).contains(w)),
                "{} score {}: anchors of {words:?} words",
                item.id,
                point.score
            );
            lengths.entry(point.score).or_default().extend(words);
        }
    }
    assert_eq!(by_vignette.len(), 18);
    for (v, areas) in &by_vignette {
        let mut distinct = areas.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(areas.len() >= 3 && distinct.len() >= 2, "{v}: {areas:?}");
    }
    let means: Vec<f64> = lengths
        .values()
        .map(|w| w.iter().sum::<usize>() as f64 / w.len() as f64)
        .collect();
    assert!(
        means.windows(2).any(|m| m[1] <= m[0]),
        "anchor length rises with the score: {means:?}"
    );
    let (low, high) = means
        .iter()
        .fold((f64::MAX, 0f64), |(l, h), m| (l.min(*m), h.max(*m)));
    assert!(high - low < 25.0, "mean anchor lengths by score: {means:?}");
}

/// `bank lint` on the sample bank: warnings as `path:line: rule: message`, the table, and the
/// same figures as JSON; warnings never fail the command, and `bank check` prints the summary.
#[test]
fn bank_lint_prints_warnings_a_table_and_json_and_never_fails_on_warnings() {
    let run = |args: &[&str]| {
        let out = bin().args(args).current_dir(repo()).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(&["bank", "lint", "item-bank"]);
    let json: serde_json::Value =
        serde_json::from_str(&run(&["bank", "lint", "item-bank", "--format", "json"])).unwrap();
    let warnings = json["warnings"].as_array().unwrap();
    // Every warning of the JSON is a line of the text, in the documented shape.
    for w in warnings {
        let line = format!(
            "{}:{}: {}: {}",
            w["path"].as_str().unwrap(),
            w["line"],
            w["rule"].as_str().unwrap(),
            w["message"].as_str().unwrap()
        );
        assert!(
            text.lines().any(|l| l == line),
            "{line} not in the text output"
        );
    }
    let total: u64 = json["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, warnings.len());
    let guesser = &json["guesser"];
    assert!(guesser["items"].as_u64().unwrap() > 100, "{guesser}");
    assert!((guesser["chance_percent"].as_f64().unwrap() - 25.0).abs() < 1e-9);
    let summary = text.lines().last().unwrap();
    assert!(summary.starts_with("bank lint: "), "{summary}");
    assert!(summary.contains(&format!(
        "the option-only guesser finds {} of {} keys",
        guesser["found"], guesser["items"]
    )));
    // The table names every rule.
    for rule in [
        "option-cue",
        "length-cue",
        "cue-word",
        "key-balance",
        "all-none",
        "both",
        "negative-stem",
        "near-duplicate",
        "name-reuse",
        "name-details",
        "anchor-length",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(rule)),
            "no row for {rule}"
        );
    }
    let check = run(&["bank", "check", "item-bank"]);
    assert!(
        check.contains(summary),
        "bank check prints the lint's summary:\n{check}"
    );
}

/// The sample bank passes its own lint with the default thresholds: no warning of any rule, and
/// the option-only guesser at most the 35% allowed (it was 69% before the bank's revision).
#[test]
fn the_sample_bank_passes_bank_lint_with_the_default_thresholds() {
    let out = bin()
        .args(["bank", "lint", "item-bank", "--format", "json"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<String> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            format!(
                "{}:{}: {}: {}",
                w["path"], w["line"], w["rule"], w["message"]
            )
        })
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let percent = json["guesser"]["percent"].as_f64().unwrap();
    assert!(
        percent <= 35.0,
        "the option-only guesser finds {percent:.1}% of keys"
    );
    // Only the places and authors it names are set aside, not people.
    let toml = std::fs::read_to_string(repo().join("item-bank/bank.toml")).unwrap();
    assert!(
        toml.contains("not_names = [\"Medicaid\", \"Fraiberg\"]"),
        "{toml}"
    );
}
