//! The shape shared by item and vignette files: a header of `field: value` lines, then
//! `## Section` blocks. This layer knows nothing of items; it keeps line numbers for errors.

use super::model::Diagnostic;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub key: String,
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub line: usize,
    /// The section's lines after its heading, numbered, with trailing spaces removed.
    pub lines: Vec<(usize, String)>,
}

impl Section {
    /// The section's text: paragraphs kept, blank lines at either end dropped.
    pub fn text(&self) -> String {
        join_text(self.lines.iter().map(|(_, l)| l.as_str()))
    }

    /// The line of the first non-blank line, or the heading's line if there is none.
    pub fn first_text_line(&self) -> usize {
        self.lines
            .iter()
            .find(|(_, l)| !l.trim().is_empty())
            .map_or(self.line, |(n, _)| *n)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    pub header: Vec<Field>,
    pub sections: Vec<Section>,
}

/// Joins lines into text: each line trimmed, runs of blank lines become one paragraph break,
/// blank lines at the ends dropped.
pub fn join_text<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut pending_break = false;
    for line in lines {
        // Indentation carries no meaning in bank text: continuation lines are often indented.
        let line = line.trim();
        if line.is_empty() {
            pending_break = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if pending_break { "\n\n" } else { "\n" });
        }
        pending_break = false;
        out.push_str(line);
    }
    out
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with("<!--")
}

/// Splits a file into header fields and sections, reporting lines that fit neither.
pub fn parse(path: &str, text: &str, diags: &mut Vec<Diagnostic>) -> Doc {
    let mut doc = Doc::default();
    let mut in_header = true;
    for (idx, raw) in text.lines().enumerate() {
        let n = idx + 1;
        let line = raw.trim_end_matches('\r').trim_end();
        if is_comment(line) {
            continue;
        }
        if let Some(name) = line.strip_prefix("## ") {
            in_header = false;
            doc.sections.push(Section {
                name: name.trim().to_string(),
                line: n,
                lines: Vec::new(),
            });
            continue;
        }
        if in_header {
            if line.trim().is_empty() {
                continue;
            }
            match line.split_once(':') {
                Some((key, value))
                    if !key.trim().is_empty()
                        && key
                            .trim()
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
                {
                    let key = key.trim().to_ascii_lowercase();
                    if doc.header.iter().any(|f| f.key == key) {
                        diags.push(Diagnostic::new(
                            path,
                            n,
                            format!("header field `{key}` is given twice"),
                        ));
                    } else {
                        doc.header.push(Field {
                            key,
                            value: value.trim().to_string(),
                            line: n,
                        });
                    }
                }
                _ => diags.push(Diagnostic::new(
                    path,
                    n,
                    format!(
                        "expected a header line `field: value` or a section `## Name`, found \"{}\"",
                        line.trim()
                    ),
                )),
            }
        } else if let Some(section) = doc.sections.last_mut() {
            section.lines.push((n, line.to_string()));
        }
    }
    doc
}

impl Doc {
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.header.iter().find(|f| f.key == key)
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_sections_keep_their_lines() {
        let mut diags = Vec::new();
        let doc = parse(
            "x.md",
            "id: A-1\r\nversion: 2\n\n## Stem  \nFirst line.  \n\n\nSecond para.\n## Key\nB\n",
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(doc.field("version").unwrap().line, 2);
        let stem = doc.section("stem").unwrap();
        assert_eq!(stem.line, 4);
        assert_eq!(stem.text(), "First line.\n\nSecond para.");
        assert_eq!(doc.section("Key").unwrap().first_text_line(), 10);
    }

    #[test]
    fn a_stray_header_line_and_a_repeated_field_are_errors() {
        let mut diags = Vec::new();
        parse("x.md", "id: A\nthis is not a field\nid: B\n", &mut diags);
        let shown: Vec<String> = diags.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "x.md:2: expected a header line `field: value` or a section `## Name`, found \"this is not a field\"",
                "x.md:3: header field `id` is given twice",
            ]
        );
    }
}
