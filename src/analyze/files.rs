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

/// One record's fields, valid UTF-8 and trimmed, in one buffer: no `String` per cell, and
/// the buffer is reused from record to record.
#[derive(Debug, Default)]
pub(super) struct Fields {
    text: String,
    /// Each field's trimmed range in `text`.
    bounds: Vec<(usize, usize)>,
}

impl Fields {
    /// The record's fields, or the index of the first that is not UTF-8. The csv crate checks
    /// the same way: every field at once when the record is ASCII, else field by field (a
    /// character cut in two by a comma makes two bad fields of a valid whole).
    fn set(&mut self, record: &csv::ByteRecord) -> Result<(), usize> {
        self.text.clear();
        self.bounds.clear();
        let bytes = record.as_slice();
        if !bytes.is_ascii() {
            if let Some(bad) = record.iter().position(|f| std::str::from_utf8(f).is_err()) {
                return Err(bad);
            }
        }
        // Every field is UTF-8, so their concatenation is too.
        self.text
            .push_str(std::str::from_utf8(bytes).map_err(|_| 0usize)?);
        for i in 0..record.len() {
            let range = record.range(i).unwrap_or_default();
            let field = self.text.get(range.clone()).unwrap_or_default();
            // Unicode white space, as `StringRecord::trim` does after the csv crate's own
            // trimming of ASCII white space: `str::trim` takes both.
            let start = range.start + (field.len() - field.trim_start().len());
            self.bounds.push((start, start + field.trim().len()));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        let &(start, end) = self.bounds.get(i)?;
        self.text.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.bounds.iter().filter_map(|&(a, b)| self.text.get(a..b))
    }
}

/// `fields[i]`, for a field the caller knows is there (the row has the header's width).
impl std::ops::Index<usize> for Fields {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        self.get(i).expect("a field within the header's width")
    }
}

/// A row of the header's width, borrowed until the next is read.
pub(super) struct Row<'r> {
    pub line: u64,
    pub fields: &'r Fields,
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

/// A CSV file read one record at a time, so a file of a million rows is never a million rows in
/// memory: its header first (`open`), then each row of the header's width (`next_row`).
/// Fields are trimmed and empty lines skipped. The rows that cannot be read (not UTF-8) or have
/// another width are kept as errors and reported by `finish`, or by `refuse` when the header is
/// wrong, before the caller's own: the order in which reading the whole file first put them.
pub(super) struct Records<'a> {
    name: &'a str,
    reader: csv::Reader<&'a [u8]>,
    lines: LineCounter<'a>,
    record: csv::ByteRecord,
    fields: Fields,
    done: bool,
    pub header: Vec<String>,
    pub header_line: u64,
    /// Rows of the header's width read so far.
    pub rows: u64,
    unreadable: Errors,
    wrong_width: Errors,
}

impl<'a> Records<'a> {
    /// Opens a file at its header; `None`, with the error, when it has none that can be read.
    pub fn open(input: &'a Input, errors: &mut Errors) -> Option<Self> {
        // Trimmed by `Fields::set`.
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input.bytes.as_slice());
        let mut records = Records {
            name: &input.name,
            reader,
            lines: LineCounter {
                bytes: &input.bytes,
                at: 0,
                line: 1,
            },
            record: csv::ByteRecord::new(),
            fields: Fields::default(),
            done: false,
            header: Vec::new(),
            header_line: 1,
            rows: 0,
            unreadable: Vec::new(),
            wrong_width: Vec::new(),
        };
        match records.read() {
            Some(Ok(line)) => {
                records.header = records.fields.iter().map(str::to_string).collect();
                records.header_line = line;
                Some(records)
            }
            // Without a readable header there is nothing more to check in this file.
            Some(Err(e)) => {
                errors.push(e);
                None
            }
            None => {
                errors.push(FileError::at(&input.name, 1, "the file is empty"));
                None
            }
        }
    }

    /// The next record into `self.fields`: its line, or why it cannot be read.
    fn read(&mut self) -> Option<Result<u64, FileError>> {
        if self.done {
            return None;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let offset = self.record.position().map_or(0, |p| p.byte());
                let line = self.lines.line_of(offset);
                Some(match self.fields.set(&self.record) {
                    Ok(()) => Ok(line),
                    Err(i) => Err(FileError::at(
                        self.name,
                        line,
                        format!("field {} is not valid UTF-8", i + 1),
                    )),
                })
            }
            Err(e) => {
                // Not met reading bytes from memory; stop rather than risk meeting it again.
                self.done = true;
                let line = self.lines.line_of(e.position().map_or(0, |p| p.byte()));
                Some(Err(FileError::at(self.name, line, e.to_string())))
            }
        }
    }

    /// The next row of the header's width.
    pub fn next_row(&mut self) -> Option<Row<'_>> {
        loop {
            match self.read()? {
                Ok(line) if self.fields.len() == self.header.len() => {
                    self.rows += 1;
                    return Some(Row {
                        line,
                        fields: &self.fields,
                    });
                }
                Ok(line) => self.wrong_width.push(FileError::at(
                    self.name,
                    line,
                    format!(
                        "expected {} fields like the header, found {}",
                        self.header.len(),
                        self.fields.len()
                    ),
                )),
                Err(e) => self.unreadable.push(e),
            }
        }
    }

    /// Reads to the end and reports the rows that could not be read, then those of another
    /// width than the header's.
    pub fn finish(mut self, errors: &mut Errors) {
        while self.next_row().is_some() {}
        errors.append(&mut self.unreadable);
        errors.append(&mut self.wrong_width);
    }

    /// Ends a table file: reads to its end (`finish`), says "no `what` after the header" when
    /// it had no row and no other error, adds the `problems` its rows had, and puts this file's
    /// errors (those after `before`) in line order. True when the file has none.
    pub fn close(
        self,
        errors: &mut Errors,
        before: usize,
        mut problems: Errors,
        what: &str,
    ) -> bool {
        let (rows, name, header_line) = (self.rows, self.name, self.header_line);
        self.finish(errors);
        if rows == 0 && errors.len() == before {
            errors.push(FileError::at(
                name,
                header_line,
                format!("no {what} after the header"),
            ));
        }
        errors.append(&mut problems);
        in_line_order(&mut errors[before..]);
        errors.len() == before
    }

    /// The header is wrong (`problems`): reports the rows that could not be read, then those
    /// problems; there is nothing more to check in the file. Always `None`.
    pub fn refuse<T>(mut self, errors: &mut Errors, mut problems: Errors) -> Option<T> {
        while let Some(record) = self.read() {
            if let Err(e) = record {
                errors.push(e);
            }
        }
        errors.append(&mut problems);
        None
    }

    /// A problem when the header is none of `allowed` (each a list of column names).
    pub fn header_problem(&self, allowed: &[&[&str]]) -> Option<FileError> {
        if allowed.iter().any(|a| *a == self.header.as_slice()) {
            return None;
        }
        let wanted: Vec<String> = allowed
            .iter()
            .map(|a| format!("\"{}\"", a.join(",")))
            .collect();
        Some(FileError::at(
            self.name,
            self.header_line,
            format!(
                "the header must be {}, found \"{}\"",
                wanted.join(" or "),
                self.header.join(",")
            ),
        ))
    }
}

/// One file's errors by line (a stable sort: several on one line keep their order).
pub(super) fn in_line_order(errors: &mut [FileError]) {
    errors.sort_by_key(|e| e.line);
}

/// The ids in a file's first column, each on one row only: `check` refuses an empty id or one
/// an earlier row had, as `file:line: message` naming `what` the id is ("candidate", "item").
#[derive(Default)]
pub(super) struct UniqueIds(rustc_hash::FxHashMap<String, u64>);

impl UniqueIds {
    pub fn check(&mut self, name: &str, line: u64, what: &str, id: &str) -> Result<(), FileError> {
        if id.is_empty() {
            return Err(FileError::at(name, line, format!("the {what} is empty")));
        }
        if let Some(first) = self.0.get(id) {
            return Err(FileError::at(
                name,
                line,
                format!("{what} \"{id}\" is also on line {first}"),
            ));
        }
        self.0.insert(id.to_string(), line);
        Ok(())
    }
}

/// About how many rows a file has, to size its tables once.
pub(super) fn rows_hint(input: &Input) -> usize {
    input.bytes.iter().filter(|&&b| b == b'\n').count()
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

    type Lines = Vec<(u64, Vec<String>)>;

    /// The header and every row with its line, and the errors once the file is read.
    fn read_all(input: &Input) -> (Vec<String>, Lines, Errors) {
        let mut errors = Vec::new();
        let mut records = Records::open(input, &mut errors).unwrap();
        let header = records.header.clone();
        let mut rows = Vec::new();
        while let Some(row) = records.next_row() {
            rows.push((row.line, row.fields.iter().map(str::to_string).collect()));
        }
        records.finish(&mut errors);
        (header, rows, errors)
    }

    #[test]
    fn lines_are_counted_across_empty_lines_and_quoted_newlines() {
        let (header, rows, errors) =
            read_all(&input("\u{feff}a,b\n\n  x , y \r\n\n\"q\nr\",z\nlast,2"));
        assert!(errors.is_empty());
        assert_eq!(header, vec!["a", "b"]);
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![3, 5, 7]);
        assert_eq!(rows[0].1, vec!["x", "y"]);
        assert_eq!(rows[1].1, vec!["q\nr", "z"]);
    }

    #[test]
    fn fields_are_trimmed_of_unicode_white_space_too() {
        let (header, rows, _) = read_all(&input("a,b\n\u{a0}x\u{3000}, \u{b}y\t\n"));
        assert_eq!(header, vec!["a", "b"]);
        assert_eq!(rows[0].1, vec!["x", "y"]);
    }

    #[test]
    fn bad_utf8_is_reported_at_its_line() {
        let i = Input {
            name: "f.csv".into(),
            bytes: b"a,b\n1,2\n\nx,\xff\n".to_vec(),
        };
        let (_, rows, errors) = read_all(&i);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            errors,
            vec![FileError::at("f.csv", 4, "field 2 is not valid UTF-8")]
        );
    }

    #[test]
    fn unreadable_rows_come_before_rows_of_another_width() {
        let i = Input {
            name: "f.csv".into(),
            bytes: b"a,b\n1\n\xff,2\n".to_vec(),
        };
        let (_, rows, errors) = read_all(&i);
        assert!(rows.is_empty());
        assert_eq!(
            errors,
            vec![
                FileError::at("f.csv", 3, "field 1 is not valid UTF-8"),
                FileError::at("f.csv", 2, "expected 2 fields like the header, found 1"),
            ]
        );
    }

    #[test]
    fn a_refused_header_comes_after_the_unreadable_rows() {
        let i = Input {
            name: "f.csv".into(),
            bytes: b"a\n1,2,3\n\xff\n".to_vec(),
        };
        let mut errors = Vec::new();
        let records = Records::open(&i, &mut errors).unwrap();
        let problem = records.header_problem(&[&["b"]]).unwrap();
        assert_eq!(records.refuse::<()>(&mut errors, vec![problem]), None);
        assert_eq!(
            errors,
            vec![
                FileError::at("f.csv", 3, "field 1 is not valid UTF-8"),
                FileError::at("f.csv", 1, "the header must be \"b\", found \"a\""),
            ]
        );
    }

    #[test]
    fn a_file_without_a_readable_header() {
        let mut errors = Vec::new();
        assert!(Records::open(&input(""), &mut errors).is_none());
        assert!(Records::open(&input("\n\r\n"), &mut errors).is_none());
        let bad = Input {
            name: "f.csv".into(),
            bytes: b"\n\xff\na\n".to_vec(),
        };
        assert!(Records::open(&bad, &mut errors).is_none());
        assert_eq!(
            errors,
            vec![
                FileError::at("f.csv", 1, "the file is empty"),
                FileError::at("f.csv", 1, "the file is empty"),
                FileError::at("f.csv", 2, "field 1 is not valid UTF-8"),
            ]
        );
    }
}
