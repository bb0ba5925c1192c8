//! Reading the plain files of `imh-exam analyze`: CSV with a header row, each problem kept as
//! `file:line: message`. Nothing here panics on any input.

use std::fmt;
use std::path::Path;

/// A problem in an input file: `file:line: message`, or `file: message` when it is about the
/// whole file. Always one line: the message echoes the file's words (a quoted field may hold a
/// newline), so its control characters are escaped when it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub file: String,
    pub line: Option<u64>,
    pub message: String,
}

impl FileError {
    pub(super) fn at(file: &str, line: u64, message: impl Into<String>) -> Self {
        Self {
            line: Some(line),
            ..Self::whole(file, message)
        }
    }

    pub(super) fn whole(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: crate::escape::controls(file).into_owned(),
            line: None,
            message: crate::escape::controls(&message.into()).into_owned(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

pub type Errors = Vec<FileError>;

/// A file's name as given and its bytes.
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Reads a whole file; a missing or unreadable one is an error naming it.
pub fn read(read: super::ReadFile, path: &Path, errors: &mut Errors) -> Option<Input> {
    let name = path.display().to_string();
    match read(path) {
        Ok(bytes) => Some(Input { name, bytes }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            errors.push(FileError::whole(&name, "no such file"));
            None
        }
        Err(e) => {
            errors.push(FileError::whole(&name, format!("cannot be read: {e}")));
            None
        }
    }
}

pub(super) struct Row {
    pub line: u64,
    pub fields: Vec<String>,
}

/// A CSV file: its header and its rows, fields trimmed, empty lines skipped.
pub(super) struct Table {
    pub header: Vec<String>,
    pub header_line: u64,
    pub rows: Vec<Row>,
}

/// Line numbers from the reader's byte offsets. The csv crate's own line count goes wrong after
/// an empty line, and its offset points at the empty lines before a record, so those are
/// stepped over first.
struct LineCounter<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_of(&mut self, offset: u64) -> u64 {
        let mut pos = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while pos < self.bytes.len() && matches!(self.bytes[pos], b'\n' | b'\r') {
            pos += 1;
        }
        if pos < self.at {
            self.at = 0;
            self.line = 1;
        }
        self.line += self.bytes[self.at..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.at = pos;
        self.line
    }
}

pub(super) fn read_table(input: &Input, errors: &mut Errors) -> Option<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input.bytes.as_slice());
    let mut lines = LineCounter {
        bytes: &input.bytes,
        at: 0,
        line: 1,
    };
    let mut header: Option<(u64, Vec<String>)> = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = lines.line_of(r.position().map_or(0, |p| p.byte()));
                let fields: Vec<String> = r.iter().map(str::to_string).collect();
                if header.is_none() {
                    header = Some((line, fields));
                } else {
                    rows.push(Row { line, fields });
                }
            }
            Err(e) => {
                let line = lines.line_of(e.position().map_or(0, |p| p.byte()));
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { err, .. } => {
                        format!("field {} is not valid UTF-8", err.field() + 1)
                    }
                    _ => e.to_string(),
                };
                errors.push(FileError::at(&input.name, line, message));
                // Without a readable header there is nothing more to check in this file.
                header.as_ref()?;
            }
        }
    }
    match header {
        Some((header_line, header)) => Some(Table {
            header,
            header_line,
            rows,
        }),
        None => {
            errors.push(FileError::at(&input.name, 1, "the file is empty"));
            None
        }
    }
}

impl Table {
    /// The rows whose width is the header's; every other row is an error.
    pub(super) fn rows_of_header_width(self, name: &str, errors: &mut Errors) -> Vec<Row> {
        let width = self.header.len();
        self.rows
            .into_iter()
            .filter(|row| {
                let ok = row.fields.len() == width;
                if !ok {
                    errors.push(FileError::at(
                        name,
                        row.line,
                        format!(
                            "expected {width} fields like the header, found {}",
                            row.fields.len()
                        ),
                    ));
                }
                ok
            })
            .collect()
    }

    /// Checks the header is one of `allowed` (each a list of column names).
    pub(super) fn check_header(
        &self,
        name: &str,
        allowed: &[&[&str]],
        errors: &mut Errors,
    ) -> bool {
        if allowed.iter().any(|a| *a == self.header.as_slice()) {
            return true;
        }
        let wanted: Vec<String> = allowed
            .iter()
            .map(|a| format!("\"{}\"", a.join(",")))
            .collect();
        errors.push(FileError::at(
            name,
            self.header_line,
            format!(
                "the header must be {}, found \"{}\"",
                wanted.join(" or "),
                self.header.join(",")
            ),
        ));
        false
    }
}

/// One file's errors by line (a stable sort: several on one line keep their order).
pub(super) fn in_line_order(errors: &mut [FileError]) {
    errors.sort_by_key(|e| e.line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> Input {
        Input {
            name: "f.csv".into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lines_are_counted_across_empty_lines_and_quoted_newlines() {
        let mut errors = Vec::new();
        let t = read_table(
            &input("\u{feff}a,b\n\n  x , y \r\n\n\"q\nr\",z\nlast,2"),
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty());
        assert_eq!(t.header, vec!["a", "b"]);
        let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 5, 7]);
        assert_eq!(t.rows[0].fields, vec!["x", "y"]);
    }

    #[test]
    fn bad_utf8_is_reported_at_its_line() {
        let mut errors = Vec::new();
        let i = Input {
            name: "f.csv".into(),
            bytes: b"a,b\n1,2\n\nx,\xff\n".to_vec(),
        };
        read_table(&i, &mut errors).unwrap();
        assert_eq!(
            errors,
            vec![FileError::at("f.csv", 4, "field 2 is not valid UTF-8")]
        );
    }
}
