//! Item and vignette files: from text to checked types, with every error at its line.
//! Cross-file rules (domains, vignette references, blueprints) live in `check`.

use std::collections::BTreeSet;

use super::doc::{self, Doc, Section};
use super::model::{
    parse_levels, Diagnostic, FieldLines, Item, ItemBody, ItemKind, Level, Mcq, McqOption, Open,
    ScorePoint, Source, Status, Vignette, VignetteKind,
};

/// The highest rubric score a file may declare; a guard against a typo like `max-score: 30`.
pub const MAX_RUBRIC_SCORE: u32 = 10;
const OPTION_LETTERS: [char; 4] = ['A', 'B', 'C', 'D'];

/// Collects errors for one file and reads its header fields.
struct Reader<'a> {
    path: &'a str,
    doc: Doc,
    diags: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    fn new(path: &'a str, text: &str) -> Self {
        let mut diags = Vec::new();
        let doc = doc::parse(path, text, &mut diags);
        Self { path, doc, diags }
    }

    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(self.path, line, message));
    }

    fn allow_fields(&mut self, allowed: &[&str]) {
        let unknown: Vec<(usize, String)> = self
            .doc
            .header
            .iter()
            .filter(|f| !allowed.contains(&f.key.as_str()))
            .map(|f| (f.line, f.key.clone()))
            .collect();
        for (line, key) in unknown {
            self.error(
                line,
                format!(
                    "unknown header field `{key}`; expected one of {}",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// A required header field's value and line; reports it missing or empty.
    fn required(&mut self, key: &str) -> Option<(String, usize)> {
        match self.doc.field(key) {
            Some(f) if !f.value.is_empty() => Some((f.value.clone(), f.line)),
            Some(f) => {
                let line = f.line;
                self.error(line, format!("header field `{key}` is empty"));
                None
            }
            None => {
                self.error(1, format!("missing header field `{key}`"));
                None
            }
        }
    }

    fn parsed<T>(&mut self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let (value, line) = self.required(key)?;
        match parse(&value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(line, format!("{key}: {e}"));
                None
            }
        }
    }

    fn id(&mut self) -> Option<String> {
        let (id, line) = self.required("id")?;
        if let Err(e) = check_id(&id) {
            self.error(line, e);
            return None;
        }
        Some(id)
    }

    fn version(&mut self) -> Option<u32> {
        self.parsed("version", |v| match v.parse::<u32>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("\"{v}\" is not a whole number from 1")),
        })
    }

    fn levels(&mut self) -> Option<BTreeSet<Level>> {
        self.parsed("levels", parse_levels)
    }

    fn allow_sections(&mut self, allowed: &[&str]) {
        let mut seen: Vec<String> = Vec::new();
        let mut problems = Vec::new();
        for s in &self.doc.sections {
            let lower = s.name.to_ascii_lowercase();
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&s.name)) {
                problems.push((
                    s.line,
                    format!(
                        "unknown section `## {}`; expected {}",
                        s.name,
                        allowed
                            .iter()
                            .map(|a| format!("`## {a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            } else if seen.contains(&lower) {
                problems.push((s.line, format!("section `## {}` is given twice", s.name)));
            }
            seen.push(lower);
        }
        for (line, msg) in problems {
            self.error(line, msg);
        }
    }

    /// A required section; reports it missing or empty.
    fn section(&mut self, name: &str) -> Option<Section> {
        match self.doc.section(name).cloned() {
            Some(s) if !s.text().is_empty() => Some(s),
            Some(s) => {
                self.error(s.line, format!("section `## {name}` is empty"));
                None
            }
            None => {
                self.error(1, format!("missing section `## {name}`"));
                None
            }
        }
    }

    fn field_lines(&self) -> FieldLines {
        FieldLines {
            lines: self
                .doc
                .header
                .iter()
                .map(|f| (f.key.clone(), f.line))
                .collect(),
        }
    }
}

/// Ids are capital letters, digits and `-`, starting with a letter or digit.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok = id
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "id \"{id}\" may hold only capital letters, digits and `-`"
        ))
    }
}

const ITEM_FIELDS: &[&str] = &[
    "id",
    "version",
    "kind",
    "domain",
    "area",
    "levels",
    "status",
    "vignette",
    "max-score",
    "enemies",
];

/// Parses one item file. Returns the item only when the file has no error.
pub fn item(path: &str, text: &str) -> Result<Item, Vec<Diagnostic>> {
    let mut r = Reader::new(path, text);
    r.allow_fields(ITEM_FIELDS);
    let id = r.id();
    let version = r.version();
    let kind = r.parsed("kind", str::parse::<ItemKind>);
    let domain = r.required("domain").map(|(v, _)| v);
    let area = r.required("area").map(|(v, _)| v);
    let levels = r.levels();
    let status = r.parsed("status", str::parse::<Status>);
    let vignette = match r.doc.field("vignette").cloned() {
        Some(f) if f.value.is_empty() => {
            r.error(
                f.line,
                "header field `vignette` is empty; remove it or name a vignette",
            );
            None
        }
        Some(f) => match check_id(&f.value) {
            Ok(()) => Some(f.value),
            Err(e) => {
                r.error(f.line, format!("vignette: {e}"));
                None
            }
        },
        None => None,
    };
    let enemies = enemies(&mut r, id.as_deref());
    let body = match kind {
        Some(ItemKind::Mcq) => mcq_body(&mut r),
        Some(ItemKind::Open) => open_body(&mut r),
        None => None,
    };
    let source = Source::new(path, 1);
    let fields = r.field_lines();
    match (id, version, domain, area, levels, status, body) {
        (
            Some(id),
            Some(version),
            Some(domain),
            Some(area),
            Some(levels),
            Some(status),
            Some(body),
        ) if r.diags.is_empty() => Ok(Item {
            id,
            version,
            domain,
            area,
            levels,
            status,
            vignette,
            enemies,
            body,
            source,
            fields,
        }),
        _ => Err(r.diags),
    }
}

/// `enemies: TF-0002, TF-0007`: items that test the same point and so never share a form.
/// Whether they exist is `check`'s business; naming the item itself, or one enemy twice, is
/// wrong here.
fn enemies(r: &mut Reader, id: Option<&str>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(f) = r.doc.field("enemies").cloned() else {
        return out;
    };
    if f.value.trim().is_empty() {
        r.error(
            f.line,
            "header field `enemies` is empty; remove it or name the items",
        );
        return out;
    }
    for enemy in f.value.split(',').map(str::trim) {
        if let Err(e) = check_id(enemy) {
            r.error(f.line, format!("enemies: {e}"));
        } else if Some(enemy) == id {
            r.error(f.line, format!("enemies: {enemy} is this item itself"));
        } else if !out.insert(enemy.to_string()) {
            r.error(f.line, format!("enemies: {enemy} is listed twice"));
        }
    }
    out
}

fn mcq_body(r: &mut Reader) -> Option<ItemBody> {
    r.allow_sections(&["Stem", "Options", "Key", "Rationale"]);
    if let Some(f) = r.doc.field("max-score").cloned() {
        r.error(
            f.line,
            "`max-score` belongs to open items; an mcq item has a key",
        );
    }
    let stem = r.section("Stem");
    let options = r.section("Options").and_then(|s| options(r, &s));
    let key = r.section("Key");
    let rationale = r.section("Rationale");
    let (stem, options, key, rationale) = (stem?, options?, key?, rationale?);
    let key_line = key.first_text_line();
    let key_text = key.text();
    let letter = match key_text.trim() {
        k if k.chars().count() == 1 && k.chars().all(|c| c.is_ascii_alphabetic()) => {
            k.chars().next()?.to_ascii_uppercase()
        }
        k => {
            r.error(
                key_line,
                format!("the key must be one option letter, found \"{k}\""),
            );
            return None;
        }
    };
    if !options.iter().any(|o| o.letter == letter) {
        let letters: String = options.iter().map(|o| o.letter).collect();
        r.error(
            key_line,
            format!(
                "option \"{letter}\" is the key but only {}-{} exist",
                letters.chars().next().unwrap_or('A'),
                letters.chars().last().unwrap_or('D')
            ),
        );
        return None;
    }
    Some(ItemBody::Mcq(Mcq {
        stem: stem.text(),
        options,
        key: letter,
        rationale: rationale.text(),
    }))
}

/// `A. text` starts an option; a following line that starts no option continues it.
fn option_start(line: &str) -> Option<(char, &str)> {
    let mut chars = line.chars();
    let letter = chars.next()?;
    let rest = chars.as_str();
    if letter.is_ascii_uppercase() && (rest.starts_with(". ") || rest.starts_with(") ")) {
        Some((letter, rest[2..].trim()))
    } else if letter.is_ascii_uppercase() && (rest == "." || rest == ")") {
        Some((letter, ""))
    } else {
        None
    }
}

fn options(r: &mut Reader, section: &Section) -> Option<Vec<McqOption>> {
    let mut found: Vec<(usize, char, Vec<String>)> = Vec::new();
    let mut ok = true;
    for (n, line) in &section.lines {
        if let Some((letter, text)) = option_start(line) {
            found.push((*n, letter, vec![text.to_string()]));
        } else if let Some(last) = found.last_mut() {
            last.2.push(line.clone());
        } else if !line.trim().is_empty() {
            r.error(
                *n,
                format!(
                    "expected an option such as `A. text`, found \"{}\"",
                    line.trim()
                ),
            );
            ok = false;
        }
    }
    let mut out = Vec::new();
    for (i, (n, letter, lines)) in found.iter().enumerate() {
        match OPTION_LETTERS.get(i) {
            Some(&expected) if expected == *letter => {}
            Some(&expected) => {
                r.error(
                    *n,
                    format!("expected option {expected}, found option {letter}"),
                );
                ok = false;
            }
            None => {
                r.error(
                    *n,
                    format!(
                        "option {letter} is one too many: an mcq item has exactly four options A-D"
                    ),
                );
                ok = false;
            }
        }
        let text = doc::join_text(lines.iter().map(String::as_str));
        if text.is_empty() {
            r.error(*n, format!("option {letter} has no text"));
            ok = false;
        }
        out.push(McqOption {
            letter: *letter,
            text,
        });
    }
    if found.len() < OPTION_LETTERS.len() && ok {
        r.error(
            section.line,
            format!(
                "an mcq item has exactly four options A-D; found {}",
                found.len()
            ),
        );
        ok = false;
    }
    ok.then_some(out)
}

fn open_body(r: &mut Reader) -> Option<ItemBody> {
    r.allow_sections(&["Prompt", "Rubric"]);
    let max_score = r.parsed("max-score", |v| match v.parse::<u32>() {
        Ok(n) if (1..=MAX_RUBRIC_SCORE).contains(&n) => Ok(n),
        _ => Err(format!(
            "\"{v}\" is not a whole number from 1 to {MAX_RUBRIC_SCORE}"
        )),
    });
    let prompt = r.section("Prompt");
    let rubric_section = r.section("Rubric");
    let (prompt, rubric_section, max_score) = (prompt?, rubric_section?, max_score?);
    let rubric = parse_rubric(r, &rubric_section, max_score)?;
    Some(ItemBody::Open(Open {
        prompt: prompt.text(),
        max_score,
        rubric,
    }))
}

#[derive(Default)]
struct PointDraft {
    line: usize,
    score: Option<u32>,
    descriptor: Option<Vec<String>>,
    descriptors_seen: usize,
    anchors: Vec<Vec<String>>,
    /// Which field continuation lines go to: 0 none, 1 descriptor, 2 the last anchor.
    current: u8,
}

fn parse_rubric(r: &mut Reader, section: &Section, max: u32) -> Option<Vec<ScorePoint>> {
    let mut points: Vec<PointDraft> = Vec::new();
    let mut ok = true;
    for (n, line) in &section.lines {
        let trimmed = line.trim_start();
        if let Some(head) = trimmed.strip_prefix("### ") {
            let head = head.trim();
            let score = head
                .strip_prefix("Score ")
                .or(Some(head))
                .and_then(|s| s.trim().parse::<u32>().ok());
            if score.is_none() {
                r.error(
                    *n,
                    format!("a rubric block starts `### N` with a whole-number score, found \"### {head}\""),
                );
                ok = false;
            }
            points.push(PointDraft {
                line: *n,
                score,
                ..PointDraft::default()
            });
            continue;
        }
        let Some(point) = points.last_mut() else {
            if !trimmed.is_empty() {
                r.error(
                    *n,
                    "rubric text before the first score point; start a block with `### 0`",
                );
                ok = false;
            }
            continue;
        };
        if let Some(text) = trimmed.strip_prefix("Descriptor:") {
            point.descriptors_seen += 1;
            point.descriptor = Some(vec![text.trim().to_string()]);
            point.current = 1;
        } else if let Some(text) = trimmed.strip_prefix("Anchor:") {
            point.anchors.push(vec![text.trim().to_string()]);
            point.current = 2;
        } else {
            match point.current {
                1 => point.descriptor.as_mut().expect("set").push(line.clone()),
                2 => point.anchors.last_mut().expect("set").push(line.clone()),
                _ if trimmed.is_empty() => {}
                _ => {
                    r.error(
                        *n,
                        format!(
                            "expected `Descriptor:` or `Anchor:` in score point block, found \"{trimmed}\""
                        ),
                    );
                    ok = false;
                }
            }
        }
    }

    let mut out: Vec<ScorePoint> = Vec::new();
    let mut seen: BTreeSet<u32> = BTreeSet::new();
    for p in &points {
        let Some(score) = p.score else { continue };
        if score > max {
            r.error(
                p.line,
                format!("score point {score} is above max-score {max}"),
            );
            ok = false;
            continue;
        }
        if !seen.insert(score) {
            r.error(p.line, format!("score point {score} is given twice"));
            ok = false;
            continue;
        }
        if p.descriptors_seen > 1 {
            r.error(
                p.line,
                format!("score point {score} has more than one `Descriptor:`"),
            );
            ok = false;
        }
        let descriptor = p
            .descriptor
            .as_ref()
            .map(|d| doc::join_text(d.iter().map(String::as_str)))
            .unwrap_or_default();
        if descriptor.is_empty() {
            r.error(p.line, format!("score point {score} has no `Descriptor:`"));
            ok = false;
        }
        let anchors: Vec<String> = p
            .anchors
            .iter()
            .map(|a| doc::join_text(a.iter().map(String::as_str)))
            .filter(|a| !a.is_empty())
            .collect();
        if anchors.is_empty() {
            r.error(
                p.line,
                format!("score point {score} has no `Anchor:` answer"),
            );
            ok = false;
        }
        out.push(ScorePoint {
            score,
            descriptor,
            anchors,
        });
    }
    for score in 0..=max {
        if !seen.contains(&score) {
            r.error(
                section.line,
                format!("the rubric has no score point {score} (max-score is {max})"),
            );
            ok = false;
        }
    }
    out.sort_by_key(|p| p.score);
    ok.then_some(out)
}

const VIGNETTE_FIELDS: &[&str] = &["id", "version", "kind", "title", "levels", "status"];

/// Parses one vignette file. Returns the vignette only when the file has no error.
pub fn vignette(path: &str, text: &str) -> Result<Vignette, Vec<Diagnostic>> {
    let mut r = Reader::new(path, text);
    r.allow_fields(VIGNETTE_FIELDS);
    r.allow_sections(&["Text"]);
    let id = r.id();
    let version = r.version();
    let kind = r.parsed("kind", str::parse::<VignetteKind>);
    let title = r.required("title").map(|(v, _)| v);
    let levels = r.levels();
    let status = r.parsed("status", str::parse::<Status>);
    let body = r.section("Text");
    let fields = r.field_lines();
    match (id, version, kind, title, levels, status, body) {
        (
            Some(id),
            Some(version),
            Some(kind),
            Some(title),
            Some(levels),
            Some(status),
            Some(body),
        ) if r.diags.is_empty() => Ok(Vignette {
            id,
            version,
            kind,
            title,
            levels,
            status,
            text: body.text(),
            source: Source::new(path, 1),
            fields,
        }),
        _ => Err(r.diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MCQ: &str = "id: TF-0001\nversion: 1\nkind: mcq\ndomain: TF\narea: attachment\nlevels: all\nstatus: operational\n\n## Stem\nWhich?\n\n## Options\nA. One\nB. Two\n   continued\nC. Three\nD. Four\n\n## Key\nB\n\n## Rationale\nBecause.\n";

    fn errors(r: Result<impl std::fmt::Debug, Vec<Diagnostic>>) -> Vec<String> {
        r.expect_err("should fail")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn parses_a_multiple_choice_item() {
        let item = item("items/TF-0001.md", MCQ).unwrap();
        assert_eq!(item.version, 1);
        assert_eq!(item.levels.len(), 4);
        let ItemBody::Mcq(m) = &item.body else {
            panic!("mcq")
        };
        assert_eq!(m.options[1].text, "Two\ncontinued");
        assert_eq!(m.key_index(), 1);
        assert_eq!(item.fields.line("area"), Some(5));
    }

    #[test]
    fn a_key_that_is_not_an_option_names_its_line() {
        let text = MCQ.replace("## Key\nB", "## Key\nE");
        assert_eq!(
            errors(item("items/TF-0001.md", &text)),
            vec!["items/TF-0001.md:20: option \"E\" is the key but only A-D exist"]
        );
    }

    #[test]
    fn three_options_are_refused() {
        let text = MCQ.replace("D. Four\n", "");
        assert_eq!(
            errors(item("items/TF-0001.md", &text)),
            vec!["items/TF-0001.md:12: an mcq item has exactly four options A-D; found 3"]
        );
    }

    #[test]
    fn enemies_are_read_and_a_bad_list_is_named() {
        let with = |list: &str| {
            MCQ.replace(
                "status: operational\n",
                &format!("status: operational\nenemies: {list}\n"),
            )
        };
        let it = item("items/TF-0001.md", &with("TF-0007, DSS-0002")).unwrap();
        assert_eq!(
            it.enemies.iter().map(String::as_str).collect::<Vec<_>>(),
            vec!["DSS-0002", "TF-0007"]
        );
        assert!(item("items/TF-0001.md", MCQ).unwrap().enemies.is_empty());
        assert_eq!(
            errors(item("items/TF-0001.md", &with("TF-0007, TF-0001"))),
            vec!["items/TF-0001.md:8: enemies: TF-0001 is this item itself"]
        );
        assert_eq!(
            errors(item("items/TF-0001.md", &with("TF-0007, tf-7, TF-0007"))),
            vec![
                "items/TF-0001.md:8: enemies: id \"tf-7\" may hold only capital letters, digits and `-`",
                "items/TF-0001.md:8: enemies: TF-0007 is listed twice",
            ]
        );
    }

    #[test]
    fn the_parser_leaves_the_file_name_to_check() {
        assert_eq!(item("items/TF-0002.md", MCQ).unwrap().id, "TF-0001");
    }

    const OPEN: &str = "id: CL01-Q1\nversion: 1\nkind: open\ndomain: REF\narea: curiosity\nlevels: III\nstatus: operational\nvignette: CL01\nmax-score: 2\n\n## Prompt\nWhat do you wonder?\n\n## Rubric\n### 0\nDescriptor: Nothing.\nAnchor: I would tell her.\n### 1\nDescriptor: Some.\n  more words\nAnchor: A.\nAnchor: B.\n### 2\nDescriptor: All.\nAnchor: C.\n";

    #[test]
    fn parses_an_open_item_with_rubric() {
        let item = item("items/CL01-Q1.md", OPEN).unwrap();
        let ItemBody::Open(o) = &item.body else {
            panic!("open")
        };
        assert_eq!(o.max_score, 2);
        assert_eq!(o.rubric.len(), 3);
        assert_eq!(o.rubric[1].descriptor, "Some.\nmore words");
        assert_eq!(o.rubric[1].anchors, vec!["A.", "B."]);
    }

    #[test]
    fn a_missing_score_point_is_named() {
        let text = OPEN.replace(
            "### 1\nDescriptor: Some.\n  more words\nAnchor: A.\nAnchor: B.\n",
            "",
        );
        assert_eq!(
            errors(item("items/CL01-Q1.md", &text)),
            vec!["items/CL01-Q1.md:14: the rubric has no score point 1 (max-score is 2)"]
        );
    }

    #[test]
    fn a_score_point_without_anchor_is_named() {
        let text = OPEN.replace("Anchor: C.\n", "");
        assert_eq!(
            errors(item("items/CL01-Q1.md", &text)),
            vec!["items/CL01-Q1.md:23: score point 2 has no `Anchor:` answer"]
        );
    }
}
