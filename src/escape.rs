//! Text from a file, made safe to show in a one-line message. Every error the bank checker and
//! `analyze` print is `file:line: message` on one line; a value echoed from a file may hold a
//! newline (a quoted CSV field), a NUL or an escape sequence that would split the line or
//! drive the terminal. Such characters are shown as Rust writes them in a string literal:
//! `\n`, `\t`, `\0`, `\u{1b}`.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal or a log line as itself: control characters (C0, DEL,
/// C1), the Unicode line and paragraph separators, and the bidirectional embeddings, overrides
/// and isolates that reorder what a reader sees.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unsafe character escaped; borrowed when there is none (the usual case).
/// Backslashes are left as they are, so escaping twice changes nothing.
pub fn controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped_and_the_rest_is_kept() {
        for (raw, shown) in [
            ("plain \"quoted\" C:\\path", "plain \"quoted\" C:\\path"),
            ("two\nlines\r\n", "two\\nlines\\r\\n"),
            ("a\0b", "a\\0b"),
            ("tab\there", "tab\\there"),
            ("\u{1b}[31mred\u{1b}[0m", "\\u{1b}[31mred\\u{1b}[0m"),
            ("del\u{7f} nel\u{85}", "del\\u{7f} nel\\u{85}"),
            ("line\u{2028}sep", "line\\u{2028}sep"),
            ("evil\u{202e}txt.exe", "evil\\u{202e}txt.exe"),
            ("Zoë, 東京, 🙂", "Zoë, 東京, 🙂"),
        ] {
            let got = controls(raw);
            assert_eq!(got, shown, "{raw:?}");
            assert!(!got.chars().any(is_unsafe), "{got:?}");
            assert_eq!(controls(&got), got, "escaping twice changes nothing");
        }
        assert!(matches!(controls("no change"), Cow::Borrowed(_)));
    }
}
