//! Option and stem wordings item writers are taught to avoid: "all of the above", "none of the
//! above", "both A and B", and a question asked in the negative with the negative in lower case
//! (a careful reader misses it; write NOT, EXCEPT, LEAST in capitals, or ask positively).

use super::text::{words, Lines};
use super::{Rule, Warning};
use crate::bank::{Bank, ItemBody, Status};

/// The negatives a question may turn on.
const NEGATIVES: [&str; 5] = ["not", "except", "least", "never", "false"];

/// The sentence a stem asks: its last sentence (the one with the question mark, when there is
/// one).
fn question(stem: &str) -> &str {
    let text = stem.trim();
    let end = text.rfind('?').map_or(text.len(), |i| i + '?'.len_utf8());
    let asked = &text[..end];
    let start = asked
        .char_indices()
        .rev()
        .skip(1)
        .find(|(_, c)| matches!(c, '.' | '!' | '?' | '\n'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    asked[start..].trim()
}

/// "both A and B", "A and B" as a whole option, "both of the above".
fn is_both(option: &str) -> bool {
    let w = words(option);
    let letter = |s: &str| s.len() == 1 && s.chars().all(|c| c.is_ascii_alphabetic());
    match w.as_slice() {
        [both, a, and, b, ..] if both == "both" && and == "and" => letter(a) && letter(b),
        [a, and, b] if and == "and" => letter(a) && letter(b),
        [both, of, the, above, ..] => {
            both == "both" && of == "of" && the == "the" && above == "above"
        }
        _ => false,
    }
}

fn is_all_or_none(option: &str) -> Option<&'static str> {
    let lower = option.to_lowercase();
    if lower.contains("all of the above") || lower.contains("all of these") {
        Some("all of the above")
    } else if lower.contains("none of the above") || lower.contains("none of these") {
        Some("none of the above")
    } else {
        None
    }
}

pub fn wording(bank: &Bank, lines: &Lines, out: &mut Vec<Warning>) {
    for item in bank.items.iter().filter(|i| i.status != Status::Retired) {
        let ItemBody::Mcq(m) = &item.body else {
            continue;
        };
        for o in &m.options {
            if let Some(what) = is_all_or_none(&o.text) {
                out.push(Warning::at(
                    &lines.option(item, o.letter),
                    Rule::AllNone,
                    format!(
                        "{}: option {} is \"{what}\": a candidate who sees two true options knows the answer without the rest; write a full option",
                        item.id, o.letter
                    ),
                ));
            }
            if is_both(&o.text) {
                out.push(Warning::at(
                    &lines.option(item, o.letter),
                    Rule::Both,
                    format!(
                        "{}: option {} combines other options (\"{}\"): it cues the options it names; write a full option",
                        item.id,
                        o.letter,
                        o.text.trim()
                    ),
                ));
            }
        }
        let asked = question(&m.stem);
        let negative = asked
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| NEGATIVES.contains(w));
        if let Some(word) = negative {
            out.push(Warning::at(
                &lines.last_in_section(&item.source, "Stem", word),
                Rule::NegativeStem,
                format!(
                    "{}: the question turns on \"{word}\" in lower case; write {} in capitals or ask it positively",
                    item.id,
                    word.to_uppercase()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_is_the_stems_last_sentence() {
        assert_eq!(
            question("She does not sleep. Which response is NOT helpful?"),
            "Which response is NOT helpful?"
        );
        assert_eq!(
            question("One.\nWhich is least likely?"),
            "Which is least likely?"
        );
        assert_eq!(question("No question mark here"), "No question mark here");
    }

    #[test]
    fn combined_options_are_recognised() {
        assert!(is_both("Both A and B"));
        assert!(is_both("A and C"));
        assert!(is_both("Both of the above."));
        assert!(!is_both("Both parents and the baby"));
        assert!(!is_both("A parent and a baby"));
        assert_eq!(
            is_all_or_none("All of the above."),
            Some("all of the above")
        );
        assert_eq!(is_all_or_none("None of these"), Some("none of the above"));
        assert_eq!(is_all_or_none("Above all, listen"), None);
    }
}
