//! People's names across the bank. A name used for different people in different stories (an
//! item with no vignette is a story of its own; a vignette and its questions are one) makes a
//! reader who meets both wonder whether they are one family, and a person whose age is given two
//! ways reads as an error in the item.
//!
//! A word is taken for a person's name when it is capitalised (`Maya`, `Maya's`), never written
//! in lower case anywhere in the bank, not the first word of a sentence, not listed in `[lint]
//! not_names`, and at least once stands where a person does: beside an age (`Maya, 18 months`,
//! `Kayla, 17,`, `four-month-old Jayden`), before `'s`, or after a title (`Ms.`, `Dr.`).

use std::collections::{BTreeMap, HashSet};

use super::text::Lines;
use super::{Rule, Thresholds, Warning};
use crate::bank::{Bank, ItemBody, Status};

/// Capitalised words that are not people in any bank.
const NOT_NAMES: [&str; 24] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "English",
    "Spanish",
    "Option",
    "Part",
    "Level",
];

const NUMBER_WORDS: [&str; 25] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "twenty-one",
    "twenty-two",
    "twenty-three",
    "twenty-four",
];

fn number(word: &str) -> Option<u32> {
    word.parse().ok().or_else(|| {
        NUMBER_WORDS
            .iter()
            .position(|n| n.eq_ignore_ascii_case(word))
            .map(|i| i as u32)
    })
}

/// An age as written: a number and its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Age {
    value: u32,
    unit: &'static str,
}

impl std::fmt::Display for Age {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.value, self.unit)
    }
}

fn unit(word: &str) -> Option<&'static str> {
    let w = word.to_lowercase();
    if w.starts_with("month") {
        Some("months")
    } else if w.starts_with("year") {
        Some("years")
    } else if w.starts_with("week") {
        Some("weeks")
    } else if w.starts_with("day") {
        Some("days")
    } else {
        None
    }
}

/// `four-month-old` → 4 months.
fn hyphenated_age(word: &str) -> Option<Age> {
    let lower = word.to_lowercase();
    let rest = lower.strip_suffix("-old")?;
    let (n, u) = rest.rsplit_once('-')?;
    Some(Age {
        value: number(n)?,
        unit: unit(u)?,
    })
}

/// One text's words in order, without their punctuation or a possessive `'s`.
struct Token<'a> {
    word: &'a str,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    text.split_whitespace()
        .map(|raw| {
            let word = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
            Token {
                word: word.trim_end_matches("'s").trim_end_matches("’s"),
            }
        })
        .collect()
}

fn capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_uppercase())
        && word.chars().count() >= 3
        && chars.all(|c| c.is_lowercase())
}

/// One use of a name in a story.
struct Use {
    story: String,
    path: String,
    age: Option<Age>,
    person: bool,
}

/// The texts of the bank by story: (story, file, text).
fn texts(bank: &Bank) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for v in bank
        .vignettes
        .iter()
        .filter(|v| v.status != Status::Retired)
    {
        out.push((
            v.id.clone(),
            v.source.path.clone(),
            format!("{}. {}", v.title, v.text),
        ));
    }
    for i in bank.items.iter().filter(|i| i.status != Status::Retired) {
        let story = i.vignette.clone().unwrap_or_else(|| i.id.clone());
        let text = match &i.body {
            ItemBody::Mcq(m) => {
                let options: Vec<&str> = m.options.iter().map(|o| o.text.as_str()).collect();
                format!("{}\n{}\n{}", m.stem, options.join("\n"), m.rationale)
            }
            ItemBody::Open(o) => {
                let rubric: Vec<String> = o
                    .rubric
                    .iter()
                    .map(|p| format!("{}\n{}", p.descriptor, p.anchors.join("\n")))
                    .collect();
                format!("{}\n{}", o.prompt, rubric.join("\n"))
            }
        };
        out.push((story, i.source.path.clone(), text));
    }
    out
}

pub fn names(bank: &Bank, lines: &Lines, t: &Thresholds, out: &mut Vec<Warning>) {
    let all = texts(bank);
    let lower: HashSet<String> = all
        .iter()
        .flat_map(|(_, _, text)| {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().next().is_some_and(|c| c.is_lowercase()))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let ignored = |w: &str| {
        NOT_NAMES.contains(&w)
            || t.not_names.iter().any(|n| n == w)
            || lower.contains(&w.to_lowercase())
    };
    let mut uses: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    for (story, path, text) in &all {
        let toks = tokens(text);
        for (i, tok) in toks.iter().enumerate() {
            if !capitalised(tok.word) || ignored(tok.word) {
                continue;
            }
            let next = toks.get(i + 1).map(|t| t.word);
            let after = toks.get(i + 2).map(|t| t.word);
            let before = i.checked_sub(1).map(|j| toks[j].word);
            let raw_next_comma = text.contains(&format!("{}, ", tok.word));
            // "Maya, 18 months", "Kayla, 17,", "four-month-old Jayden", "Jayden (4 months)".
            let age = match (next.and_then(number), after.and_then(unit)) {
                (Some(n), Some(u)) => Some(Age { value: n, unit: u }),
                (Some(n), None) if raw_next_comma && n >= 12 => Some(Age {
                    value: n,
                    unit: "years",
                }),
                _ => None,
            }
            .or_else(|| next.and_then(hyphenated_age))
            .or_else(|| before.and_then(hyphenated_age));
            let titled = before.is_some_and(|b| matches!(b, "Ms" | "Mr" | "Mrs" | "Dr"));
            let possessive = text.contains(&format!("{}'s", tok.word))
                || text.contains(&format!("{}’s", tok.word));
            uses.entry(tok.word.to_string()).or_default().push(Use {
                story: story.clone(),
                path: path.clone(),
                age,
                person: age.is_some() || titled || possessive,
            });
        }
    }
    for (name, uses) in &uses {
        if !uses.iter().any(|u| u.person) {
            continue;
        }
        let at = |u: &Use| lines.first_word(&u.path, name);
        // One name, several stories: each story after the first is told once.
        let mut stories: Vec<(&str, &Use)> = Vec::new();
        for u in uses {
            if !stories.iter().any(|(s, _)| *s == u.story) {
                stories.push((&u.story, u));
            }
        }
        if let Some((_, first)) = stories.first() {
            for (story, u) in stories.iter().skip(1) {
                out.push(Warning::at(
                    &at(u),
                    Rule::NameReuse,
                    format!(
                        "\"{name}\" in {story} is a different person from \"{name}\" in {} ({}): give each person their own name",
                        first.story,
                        at(first)
                    ),
                ));
            }
        }
        // Ages given two ways.
        let mut ages: Vec<(Age, &Use)> = Vec::new();
        for u in uses {
            if let Some(a) = u.age {
                if let Some((seen, first)) = ages.iter().find(|(s, _)| s.unit == a.unit) {
                    if *seen != a {
                        out.push(Warning::at(
                            &at(u),
                            Rule::NameDetails,
                            format!(
                                "\"{name}\" is {a} here but {seen} in {} ({}): make the details agree or the names differ",
                                first.story,
                                at(first)
                            ),
                        ));
                        continue;
                    }
                }
                ages.push((a, u));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_read_in_the_ways_items_write_them() {
        assert_eq!(
            hyphenated_age("four-month-old"),
            Some(Age {
                value: 4,
                unit: "months"
            })
        );
        assert_eq!(
            hyphenated_age("18-month-old"),
            Some(Age {
                value: 18,
                unit: "months"
            })
        );
        assert_eq!(hyphenated_age("old-fashioned"), None);
        assert!(capitalised("Maya") && !capitalised("EPDS") && !capitalised("Al"));
        let toks = tokens("Then Maya cried. Maya's mother (Rosa) came.");
        let words: Vec<&str> = toks.iter().map(|t| t.word).collect();
        assert_eq!(
            words,
            vec!["Then", "Maya", "cried", "Maya", "mother", "Rosa", "came"]
        );
    }
}
