//! CSV that is safe to open in a spreadsheet. Every CSV the project writes (the results and
//! statistics downloads, `imh-exam analyze --format csv`) goes through [`Writer`], so no cell
//! can reach a spreadsheet as a live formula: a name like `=HYPERLINK("http://evil.test","x")`
//! or `+cmd|' /C calc'!A0` would otherwise run when the committee opens the file (CSV or
//! "formula" injection).
//!
//! The rule, after OWASP's advice on CSV injection: a text cell that begins with `=`, `+`, `-`,
//! `@`, a tab or a carriage return (or with one of the first four after leading white space,
//! or their full-width forms `＝＋－＠`) is written with a single quote `'` before it, which
//! spreadsheets read as "this cell is text". A cell that is a plain decimal number
//! (`-0.25`, `+3`, `1e-5`) is left alone, so the statistics' negative numbers stay numbers:
//! a number cannot be a formula. Quoting of commas, quotes and newlines is the csv crate's.

use std::borrow::Cow;

/// Characters that start a formula in Excel, LibreOffice or Google Sheets.
fn starts_formula(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠')
}

/// A plain decimal number (optional sign, digits, point, exponent), as the statistics and the
/// results write their numbers.
fn is_number(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && value.parse::<f64>().is_ok()
}

/// One cell as it is written: with a leading `'` when a spreadsheet would take it as a formula.
pub fn cell(value: &str) -> Cow<'_, str> {
    let risky = value.starts_with(['\t', '\r'])
        || value
            .trim_start()
            .chars()
            .next()
            .is_some_and(starts_formula);
    if risky && !is_number(value) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A CSV writer into memory whose every cell goes through [`cell`]. It has no way to write a
/// cell raw, so a new download cannot forget the rule.
pub struct Writer {
    inner: csv::Writer<Vec<u8>>,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

impl Writer {
    pub fn new() -> Self {
        Self {
            inner: csv::Writer::from_writer(Vec::new()),
        }
    }

    /// Writes one row (the header row too).
    pub fn write_record<I, T>(&mut self, record: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let cells: Vec<String> = record
            .into_iter()
            .map(|c| cell(c.as_ref()).into_owned())
            .collect();
        // Writing into a Vec cannot fail: the csv crate's only errors here would be I/O ones.
        self.inner
            .write_record(&cells)
            .expect("writing CSV into memory");
    }

    /// The file's text.
    pub fn into_string(self) -> String {
        let bytes = self.inner.into_inner().expect("flushing CSV into memory");
        // Every cell came in as `str`, and the csv crate adds only ASCII.
        String::from_utf8(bytes).expect("CSV of UTF-8 cells is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_made_text() {
        for (hostile, written) in [
            (
                r#"=HYPERLINK("http://evil.test","x")"#,
                r#"'=HYPERLINK("http://evil.test","x")"#,
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-1+1", "'-1+1"),
            ("-2-3", "'-2-3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("@ana.example.org", "'@ana.example.org"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("\tplain", "'\tplain"),
            ("  =1+1", "'  =1+1"),
            ("\n@x", "'\n@x"),
            ("＝1+1", "'＝1+1"),
            ("-", "'-"),
            ("-inf", "'-inf"),
            ("+NaN", "'+NaN"),
            ("- 1", "'- 1"),
            ("=", "'="),
        ] {
            assert_eq!(cell(hostile), written, "{hostile:?}");
        }
    }

    #[test]
    fn numbers_and_ordinary_text_are_left_alone() {
        for plain in [
            "-0.25",
            "-2",
            "+3",
            "1e-5",
            "-1.5E+10",
            "0.30000000000000004",
            "",
            "Ana Ruiz",
            "ana@x.org",
            "O'Neil",
            "a=b",
            "Zoë",
            "'=already quoted",
            "TF-0042",
        ] {
            assert_eq!(cell(plain), plain, "{plain:?}");
            assert!(matches!(cell(plain), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn the_writer_escapes_every_cell_and_quotes_as_csv_does() {
        let mut w = Writer::new();
        w.write_record(["name", "score"]);
        w.write_record(["=1+1", "-0.25"]);
        w.write_record([String::from("@a, \"b\""), String::from("-1+1")]);
        assert_eq!(
            w.into_string(),
            "name,score\n'=1+1,-0.25\n\"'@a, \"\"b\"\"\",'-1+1\n"
        );
    }
}
