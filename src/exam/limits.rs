//! What one candidate may store, stated where each bound is met. Pure.
//!
//! A real exam is about a hundred items with a few changes each and a few responses of a
//! thousand words: every bound here is far above that, and below what would let one browser
//! grow the database or the proctor's console without end.

/// Saves (events in the response log) one attempt may store. A refused save says so; what was
/// saved before stays.
pub const MAX_SAVES_PER_ATTEMPT: i64 = 20_000;

/// Browser events (focus lost, copy, paste...) listed one by one per attempt; past it they are
/// only counted, so the proctor's console stays small.
pub const MAX_LISTED_BROWSER_EVENTS: i64 = 500;

/// The longest item key a save may name (`@flag:` plus an item id, `@choice`, an item id).
pub const MAX_ITEM_KEY_BYTES: usize = 100;

/// The most bytes a saved value may have before its characters are even counted: four bytes
/// per character of the largest response any blueprint may allow.
pub const MAX_VALUE_BYTES: usize = 4 * crate::bank::MAX_CHARACTERS_CEILING as usize;

/// The length of a response as the candidate sees it: Unicode scalar values, with a line break
/// sent as CR LF (as a browser submits a textarea) counted once.
pub fn response_chars(text: &str) -> usize {
    text.chars().count() - text.matches("\r\n").count()
}

/// A response longer than its blueprint allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("A response may hold at most {} characters; this one has {}. It was not saved; the text saved before is kept.", thousands(*.max), thousands(*.found))]
pub struct TooLong {
    pub max: usize,
    pub found: usize,
}

/// Refuses a response over `max` characters.
pub fn check_response(text: &str, max: usize) -> Result<(), TooLong> {
    let found = response_chars(text);
    if found > max {
        return Err(TooLong { max, found });
    }
    Ok(())
}

/// A save's item key and value, bounded before anything else is done with them.
pub fn check_save_size(item: &str, value: &str) -> Result<(), String> {
    if item.is_empty() || item.len() > MAX_ITEM_KEY_BYTES {
        return Err(format!(
            "item: must be from 1 to {MAX_ITEM_KEY_BYTES} bytes, found {}.",
            item.len()
        ));
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(format!(
            "value: must be at most {} bytes, found {}.",
            thousands(MAX_VALUE_BYTES),
            thousands(value.len())
        ));
    }
    Ok(())
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_are_scalar_values_and_crlf_is_one() {
        assert_eq!(response_chars("abc"), 3);
        assert_eq!(response_chars("é"), 1, "one char, two bytes");
        assert_eq!(response_chars("👶🏽"), 2, "a baby and a skin tone");
        assert_eq!(response_chars("a\r\nb"), 3);
        assert_eq!(response_chars("a\nb"), 3);
        assert_eq!(response_chars("a\rb"), 3);
        assert_eq!(response_chars(""), 0);
    }

    #[test]
    fn a_response_over_the_limit_is_refused_with_the_limit_named() {
        assert!(check_response(&"👶".repeat(6_000), 6_000).is_ok());
        let e = check_response(&"👶".repeat(6_001), 6_000).unwrap_err();
        assert_eq!(
            e,
            TooLong {
                max: 6_000,
                found: 6_001
            }
        );
        assert_eq!(
            e.to_string(),
            "A response may hold at most 6,000 characters; this one has 6,001. It was not saved; the text saved before is kept."
        );
        // 6,000 lines of CR LF are what a browser sends for 6,000 line breaks.
        assert!(check_response(&"\r\n".repeat(6_000), 6_000).is_ok());
    }

    #[test]
    fn keys_and_values_are_bounded_in_bytes() {
        assert!(check_save_size("@flag:DSS-0001", "1").is_ok());
        assert!(check_save_size("", "1").is_err());
        assert_eq!(
            check_save_size(&"x".repeat(101), "1").unwrap_err(),
            "item: must be from 1 to 100 bytes, found 101."
        );
        assert!(check_save_size("CL01-Q1", &"👶".repeat(50_000)).is_ok());
        assert_eq!(
            check_save_size("CL01-Q1", &"x".repeat(200_001)).unwrap_err(),
            "value: must be at most 200,000 bytes, found 200,001."
        );
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
