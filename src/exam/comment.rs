//! A candidate's comment on a Part One question or a Part Two vignette ("the key seems wrong
//! because...", "a typo"). Pure.
//!
//! A comment is saved like an answer: an event `@comment:ID` on the attempt's hash chain, sent
//! by the page's queue (offline too) or by the plain form, acknowledged only after its commit.
//! It never counts and never stops the clock. A newer comment on the same question replaces the
//! older one for display (an empty one withdraws it); every one stays on the chain.

use std::collections::BTreeMap;

use super::form::Form;
use super::limits::{response_chars, thousands};

/// The longest comment, in characters (as a response is counted: a CR LF line break is one).
pub const MAX_CHARS: usize = 1_000;

/// The item key a comment is saved under, before the question's or vignette's id.
pub const KEY_PREFIX: &str = "@comment:";

/// The item key of a comment on `target` (an item id, or a vignette id in Part Two).
pub fn key(target: &str) -> String {
    format!("{KEY_PREFIX}{target}")
}

/// The question or vignette a saved item key comments on, if it is a comment's key.
pub fn target_of(key: &str) -> Option<&str> {
    key.strip_prefix(KEY_PREFIX)
}

/// Why a comment was not saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    #[error("A comment may hold at most {} characters; this one has {}. It was not saved; the comment saved before is kept.", thousands(*.max), thousands(*.found))]
    TooLong { max: usize, found: usize },
    #[error("A comment is plain text: character {at} is a control character (U+{code:04X}). It was not saved.")]
    Control { at: usize, code: u32 },
    #[error("{target} is not a {what} of your form; a comment is on one of them.")]
    NotOnForm { target: String, what: &'static str },
}

/// Refuses a comment that is too long or holds control characters (line breaks and tabs are
/// text). An empty comment is allowed: it withdraws the one before.
pub fn check_text(text: &str) -> Result<(), CommentError> {
    if let Some((i, c)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(CommentError::Control {
            at: i + 1,
            code: u32::from(c),
        });
    }
    let found = response_chars(text);
    if found > MAX_CHARS {
        return Err(CommentError::TooLong {
            max: MAX_CHARS,
            found,
        });
    }
    Ok(())
}

/// A comment as a form sends it: a browser sends a text box's line breaks as CR LF, the page's
/// script as LF; stored as LF, so the same text is never saved twice in two spellings.
pub fn from_form(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// Checks a comment on `target` in `part` of `form`: a Part One question or a Part Two
/// vignette of this very form, and a text [`check_text`] takes.
pub fn check(form: &Form, part: u8, target: &str, text: &str) -> Result<(), CommentError> {
    let (on_form, what) = if part == 1 {
        (
            form.part_one.iter().any(|e| e.item_id == target),
            "Part One question",
        )
    } else {
        (
            form.part_two.iter().any(|p| p.vignette_id == target),
            "Part Two vignette",
        )
    };
    if !on_form {
        return Err(CommentError::NotOnForm {
            target: target.to_string(),
            what,
        });
    }
    check_text(text)
}

/// A comment as the response log holds it: its event (attempt and position, which name it for
/// a citation), what it is on, its text, the browser's sequence number and the time it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub attempt_id: i64,
    pub n: i64,
    pub target: String,
    pub text: String,
    pub seq: i64,
    pub at_ms: i64,
}

/// The comments as shown: per attempt and target the newest by sequence number (as an answer's
/// newest save is its answer), left out when that one is empty (withdrawn); ordered by target,
/// then by time.
pub fn newest(events: impl IntoIterator<Item = Posted>) -> Vec<Posted> {
    let mut by: BTreeMap<(i64, String), Posted> = BTreeMap::new();
    for p in events {
        let slot = (p.attempt_id, p.target.clone());
        match by.get(&slot) {
            Some(old) if old.seq >= p.seq => {}
            _ => {
                by.insert(slot, p);
            }
        }
    }
    let mut out: Vec<Posted> = by
        .into_values()
        .filter(|p| !p.text.trim().is_empty())
        .collect();
    out.sort_by(|a, b| {
        (a.target.as_str(), a.at_ms, a.attempt_id, a.n).cmp(&(
            b.target.as_str(),
            b.at_ms,
            b.attempt_id,
            b.n,
        ))
    });
    out
}

/// A comment's name in a citation and in the key review's form: `ATTEMPT-N`, its event.
pub fn cite_id(attempt_id: i64, n: i64) -> String {
    format!("{attempt_id}-{n}")
}

/// Reads a citation's name back; None unless it is two whole numbers joined by `-`.
pub fn parse_cite_id(s: &str) -> Option<(i64, i64)> {
    let (a, n) = s.trim().split_once('-')?;
    let attempt: i64 = a.parse().ok()?;
    let n: i64 = n.parse().ok()?;
    (attempt > 0 && n >= 0).then_some((attempt, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{Level, VignetteKind};
    use crate::exam::form::{Entry, Presented};

    fn form() -> Form {
        Form {
            seed: 1,
            blueprint: "level-iii".into(),
            level: Level::III,
            part_one: vec![Entry {
                item_id: "TF-0004".into(),
                version: 1,
                vignette: None,
                vignette_version: None,
                scored: true,
                option_order: vec![0, 1, 2, 3],
            }],
            part_two: vec![Presented {
                vignette_id: "CL01".into(),
                version: 1,
                kind: VignetteKind::Clinical,
                items: vec![("CL01-Q1".into(), 1)],
            }],
        }
    }

    #[test]
    fn a_comment_is_keyed_by_what_it_is_on() {
        assert_eq!(key("TF-0004"), "@comment:TF-0004");
        assert_eq!(target_of("@comment:TF-0004"), Some("TF-0004"));
        assert_eq!(target_of("@flag:TF-0004"), None);
        assert_eq!(target_of("TF-0004"), None);
    }

    #[test]
    fn a_comment_is_on_a_question_or_vignette_of_the_form() {
        let f = form();
        assert!(check(&f, 1, "TF-0004", "Options A and D both seem right.").is_ok());
        assert!(check(&f, 2, "CL01", "A typo in the second paragraph.").is_ok());
        assert_eq!(
            check(&f, 1, "TF-0005", "x").unwrap_err().to_string(),
            "TF-0005 is not a Part One question of your form; a comment is on one of them."
        );
        // A Part One question is not a vignette, nor a vignette's open question.
        assert!(check(&f, 2, "TF-0004", "x").is_err());
        assert!(check(&f, 2, "CL01-Q1", "x").is_err());
        assert!(check(&f, 1, "CL01", "x").is_err());
    }

    #[test]
    fn a_comment_is_short_plain_text() {
        assert!(check_text("").is_ok(), "empty withdraws");
        assert!(check_text(&"é".repeat(MAX_CHARS)).is_ok());
        // Line breaks as a browser sends them count once each.
        assert!(check_text(&"\r\n".repeat(MAX_CHARS)).is_ok());
        assert!(check_text("tabs\tand\nlines").is_ok());
        assert_eq!(from_form("two\r\nlines\n"), "two\nlines\n");
        let e = check_text(&"a".repeat(1_204)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "A comment may hold at most 1,000 characters; this one has 1,204. It was not saved; the comment saved before is kept."
        );
        let e = check_text("bell\u{7} here").unwrap_err();
        assert_eq!(e, CommentError::Control { at: 5, code: 7 });
        assert_eq!(
            e.to_string(),
            "A comment is plain text: character 5 is a control character (U+0007). It was not saved."
        );
        // Markup is text like any other: it is escaped wherever it is shown.
        assert!(check_text("<script>alert(1)</script>").is_ok());
    }

    fn posted(attempt_id: i64, n: i64, target: &str, text: &str, seq: i64, at_ms: i64) -> Posted {
        Posted {
            attempt_id,
            n,
            target: target.into(),
            text: text.into(),
            seq,
            at_ms,
        }
    }

    #[test]
    fn the_newest_comment_per_candidate_and_question_is_shown() {
        let shown = newest([
            posted(1, 0, "TF-0004", "first thought", 10, 1_000),
            posted(1, 3, "TF-0004", "second thought", 12, 3_000),
            // Older by sequence number, arriving late: logged, never shown.
            posted(1, 4, "TF-0004", "stale", 11, 4_000),
            posted(2, 0, "TF-0004", "from another candidate", 5, 2_000),
            posted(2, 1, "DSS-0003", "a typo", 6, 500),
            // Withdrawn by an empty comment.
            posted(3, 0, "TF-0004", "never mind", 1, 100),
            posted(3, 1, "TF-0004", "  ", 2, 200),
        ]);
        let texts: Vec<&str> = shown.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            ["a typo", "from another candidate", "second thought"],
            "by target, then time"
        );
        assert_eq!((shown[2].attempt_id, shown[2].n), (1, 3));
    }

    #[test]
    fn a_citation_names_its_event() {
        assert_eq!(cite_id(12, 40), "12-40");
        assert_eq!(parse_cite_id(" 12-40 "), Some((12, 40)));
        assert_eq!(parse_cite_id("12-x"), None);
        assert_eq!(parse_cite_id("0-1"), None);
        assert_eq!(parse_cite_id("12"), None);
        assert_eq!(parse_cite_id("12--1"), None);
    }
}
