//! `bank lint`: what a test-wise candidate, a rater or a reviewer would notice on the surface
//! of a bank, as warnings (never errors), each `path:line: rule: message` on one line.
//!
//! The rules, each with why it matters and how to fix it in `docs/item-writing.md`:
//! - `option-cue`: a leave-one-out guesser that sees only the options (their words and
//!   lengths, never the stem) finds keys more often than the bank allows, or finds one item's
//!   key reliably ([`cues`]);
//! - `length-cue`: the key is the strictly longest (or shortest) option far more or less often
//!   than chance;
//! - `cue-word`: a word that appears mostly in keys, or mostly in distractors;
//! - `key-balance`: one key letter far more or less often than chance;
//! - `all-none`, `both`, `negative-stem`: options "all/none of the above", "both A and B", and
//!   a question asked in the negative without the negative in capitals ([`wording`]);
//! - `near-duplicate`: two items whose stems and keys say nearly the same, not declared enemies
//!   nor acknowledged ([`duplicates`]);
//! - `name-reuse`, `name-details`: one name for different people, and a person's age given two
//!   ways ([`names`]);
//! - `anchor-length`: a rubric whose anchors grow longer with the score ([`anchors`]).
//!
//! Pure: it reads the parsed [`Bank`] and the files' text (for lines), nothing else.

mod anchors;
mod cues;
mod duplicates;
mod names;
mod text;
mod wording;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Bank, BankFiles, Source};

/// The lint's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    OptionCue,
    LengthCue,
    CueWord,
    KeyBalance,
    AllNone,
    Both,
    NegativeStem,
    NearDuplicate,
    NameReuse,
    NameDetails,
    AnchorLength,
}

impl Rule {
    pub const ALL: [Rule; 11] = [
        Rule::OptionCue,
        Rule::LengthCue,
        Rule::CueWord,
        Rule::KeyBalance,
        Rule::AllNone,
        Rule::Both,
        Rule::NegativeStem,
        Rule::NearDuplicate,
        Rule::NameReuse,
        Rule::NameDetails,
        Rule::AnchorLength,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::OptionCue => "option-cue",
            Rule::LengthCue => "length-cue",
            Rule::CueWord => "cue-word",
            Rule::KeyBalance => "key-balance",
            Rule::AllNone => "all-none",
            Rule::Both => "both",
            Rule::NegativeStem => "negative-stem",
            Rule::NearDuplicate => "near-duplicate",
            Rule::NameReuse => "name-reuse",
            Rule::NameDetails => "name-details",
            Rule::AnchorLength => "anchor-length",
        }
    }

    /// What the rule looks for, for the summary table.
    pub fn about(self) -> &'static str {
        match self {
            Rule::OptionCue => "keys found from the options alone",
            Rule::LengthCue => "the key's length gives it away",
            Rule::CueWord => "words mostly in keys or mostly in distractors",
            Rule::KeyBalance => "a key letter far from chance",
            Rule::AllNone => "\"all/none of the above\"",
            Rule::Both => "\"both A and B\"",
            Rule::NegativeStem => "a negative question not in capitals",
            Rule::NearDuplicate => "two items test the same point",
            Rule::NameReuse => "one name for different people",
            Rule::NameDetails => "a person's details contradict",
            Rule::AnchorLength => "anchors grow longer with the score",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One warning: where, which rule, and what to look at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    pub path: String,
    pub line: usize,
    pub rule: Rule,
    pub message: String,
}

impl Warning {
    fn at(source: &Source, rule: Rule, message: impl Into<String>) -> Self {
        Warning {
            path: source.path.clone(),
            line: source.line,
            rule,
            message: crate::escape::controls(&message.into()).into_owned(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            Source::new(self.path.clone(), self.line),
            self.rule,
            self.message
        )
    }
}

/// The lint's thresholds: `[lint]` in `bank.toml`, every key optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// The option-only guesser may find at most this percent of keys.
    pub guesser_max_percent: u32,
    /// An item is listed when the guesser gives its key at least this percent of its belief.
    pub guesser_item_percent: u32,
    /// How many standard errors from chance a count may stray (length, words, key letters).
    pub chance_z: u32,
    /// A word is judged only when it appears in at least this many options.
    pub word_min_options: u32,
    /// Two items are near-duplicates at this similarity (percent) of stem and key.
    pub duplicate_percent: u32,
    /// Pairs of items a committee has looked at and kept (each `["ID-1", "ID-2"]`).
    pub acknowledged: Vec<[String; 2]>,
    /// Anchors whose mean length rises with every score point, the top this percent longer
    /// than the bottom.
    pub anchor_growth_percent: u32,
    /// Capitalised words that are not people's names (places, programmes) in this bank.
    pub not_names: Vec<String>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            guesser_max_percent: 35,
            guesser_item_percent: 60,
            chance_z: 3,
            word_min_options: 8,
            duplicate_percent: 35,
            acknowledged: Vec::new(),
            anchor_growth_percent: 25,
            not_names: Vec::new(),
        }
    }
}

impl Thresholds {
    /// Values that cannot be meant, each as a message naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (key, value) in [
            ("guesser_max_percent", self.guesser_max_percent),
            ("guesser_item_percent", self.guesser_item_percent),
            ("duplicate_percent", self.duplicate_percent),
        ] {
            if !(1..=100).contains(&value) {
                out.push(format!(
                    "[lint] {key} = {value}: give a percent from 1 to 100"
                ));
            }
        }
        if self.chance_z == 0 {
            out.push("[lint] chance_z = 0: give at least 1 standard error".to_string());
        }
        if self.word_min_options == 0 {
            out.push("[lint] word_min_options = 0: give at least 1 option".to_string());
        }
        for [a, b] in &self.acknowledged {
            if a == b {
                out.push(format!(
                    "[lint] acknowledged: the pair [\"{a}\", \"{b}\"] names one item twice"
                ));
            }
        }
        out
    }
}

/// What the option-only guesser found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guesser {
    /// Multiple-choice items judged.
    pub items: usize,
    /// Keys it picked.
    pub found: usize,
    /// Percent of keys found by chance alone (1 / options, averaged over items).
    pub chance_percent: f64,
}

impl Guesser {
    pub fn percent(&self) -> f64 {
        if self.items == 0 {
            0.0
        } else {
            100.0 * self.found as f64 / self.items as f64
        }
    }
}

/// Everything the lint found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub warnings: Vec<Warning>,
    pub guesser: Guesser,
}

impl Report {
    /// Warnings per rule, every rule listed.
    pub fn counts(&self) -> BTreeMap<Rule, usize> {
        let mut out: BTreeMap<Rule, usize> = Rule::ALL.iter().map(|r| (*r, 0)).collect();
        for w in &self.warnings {
            *out.entry(w.rule).or_default() += 1;
        }
        out
    }

    /// One line for `bank check`.
    pub fn summary_line(&self) -> String {
        let counts: Vec<String> = self
            .counts()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        format!(
            "bank lint: {} warning(s){}{}; the option-only guesser finds {} of {} keys ({:.1}%, chance {:.1}%)",
            self.warnings.len(),
            if counts.is_empty() { "" } else { ": " },
            counts.join(", "),
            self.guesser.found,
            self.guesser.items,
            self.guesser.percent(),
            self.guesser.chance_percent
        )
    }

    /// The warnings, one per line, then a table per rule.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for w in &self.warnings {
            out.push_str(&w.to_string());
            out.push('\n');
        }
        out.push_str("\nrule            warnings  looks for\n");
        for (rule, n) in self.counts() {
            out.push_str(&format!("{:<15} {n:>8}  {}\n", rule.code(), rule.about()));
        }
        out.push('\n');
        out.push_str(&self.summary_line());
        out.push('\n');
        out
    }
}

/// Lints a parsed bank; `files` gives the lines.
pub fn lint(bank: &Bank, files: &BankFiles) -> Report {
    let t = &bank.meta.lint;
    let lines = text::Lines::new(files);
    let bank_file = files
        .bank
        .as_ref()
        .map_or_else(|| "bank.toml".to_string(), |f| f.path.clone());
    let whole = Source::new(bank_file, 1);
    let mut warnings = Vec::new();
    let guesser = cues::option_cues(bank, &lines, t, &whole, &mut warnings);
    cues::length_cues(bank, t, &whole, &mut warnings);
    cues::cue_words(bank, &lines, t, &mut warnings);
    cues::key_balance(bank, t, &whole, &mut warnings);
    wording::wording(bank, &lines, &mut warnings);
    duplicates::near_duplicates(bank, t, &mut warnings);
    names::names(bank, &lines, t, &mut warnings);
    anchors::anchor_lengths(bank, &lines, t, &mut warnings);
    warnings.sort();
    warnings.dedup();
    Report { warnings, guesser }
}

#[cfg(test)]
mod tests;
