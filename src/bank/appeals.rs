//! A blueprint's `[appeals]`: how many days after a sitting's results are released a candidate
//! may ask for a part to be re-scored, and the rule by which Part Two's blind re-readings
//! decide. Parsed from the blueprint file with its lines, like every other setting; what an
//! appeal does with them is `scoring::appeal`.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use super::model::Source;

/// `[appeals] part_two_rule`: what a Part Two re-reading does to the result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PartTwoRule {
    /// The re-readings replace the result only if they change the pass/fail decision.
    #[default]
    DecisionChange,
    /// Every response scores the mean of all its readings, the earlier ones and the re-reading.
    Mean,
}

impl PartTwoRule {
    pub fn code(self) -> &'static str {
        match self {
            PartTwoRule::DecisionChange => "decision-change",
            PartTwoRule::Mean => "mean",
        }
    }

    /// The rule in words, for the committee's and the candidate's pages.
    pub fn describe(self) -> &'static str {
        match self {
            PartTwoRule::DecisionChange => {
                "the re-reading replaces the result only if it changes the pass/fail decision"
            }
            PartTwoRule::Mean => "each response scores the mean of all its readings",
        }
    }
}

impl fmt::Display for PartTwoRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for PartTwoRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "decision-change" => Ok(PartTwoRule::DecisionChange),
            "mean" => Ok(PartTwoRule::Mean),
            other => Err(format!(
                "appeals.part_two_rule must be \"decision-change\" or \"mean\", found \"{other}\""
            )),
        }
    }
}

/// The appeal settings of a blueprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AppealRules {
    /// Days after release during which a candidate may appeal (the deadline is release time
    /// plus this many whole days).
    pub window_days: u32,
    pub part_two_rule: PartTwoRule,
}

/// The window when a blueprint does not say.
pub const DEFAULT_WINDOW_DAYS: u32 = 30;
/// The longest window a blueprint may set: a year, the retake wait.
pub const MAX_WINDOW_DAYS: u32 = 365;

impl Default for AppealRules {
    fn default() -> Self {
        AppealRules {
            window_days: DEFAULT_WINDOW_DAYS,
            part_two_rule: PartTwoRule::default(),
        }
    }
}

/// `[appeals]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAppeals {
    #[serde(default)]
    window_days: Option<Spanned<u32>>,
    #[serde(default)]
    part_two_rule: Option<Spanned<String>>,
}

impl RawAppeals {
    /// The rules, with every mistake reported through `err` at its line (`at` gives a value's
    /// line); a mistaken value leaves its default in place.
    pub(super) fn rules(
        &self,
        at: impl Fn(std::ops::Range<usize>) -> Source,
        err: &mut impl FnMut(&Source, String),
    ) -> AppealRules {
        let mut rules = AppealRules::default();
        if let Some(w) = &self.window_days {
            if (1..=MAX_WINDOW_DAYS).contains(w.get_ref()) {
                rules.window_days = *w.get_ref();
            } else {
                err(
                    &at(w.span()),
                    format!(
                        "appeals.window_days must be from 1 to {MAX_WINDOW_DAYS}, found {}",
                        w.get_ref()
                    ),
                );
            }
        }
        if let Some(r) = &self.part_two_rule {
            match r.get_ref().parse() {
                Ok(rule) => rules.part_two_rule = rule,
                Err(e) => err(&at(r.span()), e),
            }
        }
        rules
    }
}
