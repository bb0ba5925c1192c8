//! Part One: multiple-choice answers scored against the key.
//!
//! A candidate's answer is stored as the canonical letter (the page maps the position shown back
//! through the attempt's recorded option order before saving), so scoring compares canonical
//! letters. Pretest items never count; an item the committee dropped counts for no one.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::exam::form::Entry;

/// How an item is scored now: its key as imported, or as the committee changed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyRule {
    /// Any of these canonical letters is right (one, or two when the committee accepts two).
    Accept(BTreeSet<char>),
    /// Taken out of scoring: counts neither for nor against anyone.
    Dropped,
}

impl KeyRule {
    pub fn single(key: char) -> Self {
        KeyRule::Accept(BTreeSet::from([key]))
    }

    /// "B", "B|D", or "dropped".
    pub fn describe(&self) -> String {
        match self {
            KeyRule::Accept(keys) => keys
                .iter()
                .map(char::to_string)
                .collect::<Vec<_>>()
                .join("|"),
            KeyRule::Dropped => "dropped".into(),
        }
    }
}

/// What scoring needs to know of an item version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKey {
    pub domain: String,
    pub rule: KeyRule,
}

/// One scored item of a candidate's Part One.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemScore {
    pub item_id: String,
    pub version: u32,
    pub domain: String,
    /// The canonical letter chosen; empty when omitted.
    pub answer: String,
    pub correct: bool,
}

/// Points and possible points, in all and per domain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub points: f64,
    pub max: f64,
    pub by_domain: BTreeMap<String, (f64, f64)>,
}

impl Tally {
    pub fn add(&mut self, domain: &str, points: f64, max: f64) {
        self.points += points;
        self.max += max;
        let d = self.by_domain.entry(domain.to_string()).or_default();
        d.0 += points;
        d.1 += max;
    }

    /// Percentage of the possible points; 0 when nothing was possible.
    pub fn percent(&self) -> f64 {
        if self.max > 0.0 {
            100.0 * self.points / self.max
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KeyError {
    #[error("no key is known for {0} version {1}")]
    Unknown(String, u32),
}

/// Scores a Part One form: every scored entry of the form counts, an omitted answer scores 0,
/// pretest entries and dropped items are left out.
pub fn score_part_one(
    entries: &[Entry],
    answers: &BTreeMap<String, String>,
    key_of: impl Fn(&str, u32) -> Option<ItemKey>,
) -> Result<(Tally, Vec<ItemScore>), KeyError> {
    let mut tally = Tally::default();
    let mut items = Vec::new();
    for e in entries.iter().filter(|e| e.scored) {
        let key = key_of(&e.item_id, e.version)
            .ok_or_else(|| KeyError::Unknown(e.item_id.clone(), e.version))?;
        let KeyRule::Accept(accepted) = &key.rule else {
            continue;
        };
        let answer = answers.get(&e.item_id).cloned().unwrap_or_default();
        let correct = answer.chars().count() == 1
            && answer.chars().next().is_some_and(|c| accepted.contains(&c));
        tally.add(&key.domain, if correct { 1.0 } else { 0.0 }, 1.0);
        items.push(ItemScore {
            item_id: e.item_id.clone(),
            version: e.version,
            domain: key.domain.clone(),
            answer,
            correct,
        });
    }
    Ok((tally, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, scored: bool) -> Entry {
        Entry {
            item_id: id.into(),
            version: 1,
            vignette: None,
            vignette_version: None,
            scored,
            option_order: vec![2, 0, 3, 1],
        }
    }

    fn keys(id: &str, _v: u32) -> Option<ItemKey> {
        let (domain, rule) = match id {
            "A1" => ("TF", KeyRule::single('C')),
            "A2" => ("TF", KeyRule::single('A')),
            "A3" => ("DSS", KeyRule::Accept(BTreeSet::from(['B', 'D']))),
            "A4" => ("DSS", KeyRule::Dropped),
            "P1" => ("TF", KeyRule::single('A')),
            _ => return None,
        };
        Some(ItemKey {
            domain: domain.into(),
            rule,
        })
    }

    #[test]
    fn scores_by_canonical_key_skipping_pretest_and_dropped_items() {
        let entries = [
            entry("A1", true),
            entry("A2", true),
            entry("A3", true),
            entry("A4", true),
            entry("P1", false),
        ];
        let answers = BTreeMap::from([
            ("A1".to_string(), "C".to_string()),
            ("A2".to_string(), "B".to_string()),
            ("A3".to_string(), "D".to_string()),
            ("A4".to_string(), "A".to_string()),
            ("P1".to_string(), "A".to_string()),
        ]);
        let (tally, items) = score_part_one(&entries, &answers, keys).unwrap();
        assert_eq!(tally.points, 2.0);
        assert_eq!(
            tally.max, 3.0,
            "the pretest and the dropped item do not count"
        );
        assert_eq!(tally.by_domain["TF"], (1.0, 2.0));
        assert_eq!(
            tally.by_domain["DSS"],
            (1.0, 1.0),
            "either accepted key is right"
        );
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn an_omitted_answer_scores_zero_and_an_unknown_key_is_an_error() {
        let (tally, items) = score_part_one(&[entry("A1", true)], &BTreeMap::new(), keys).unwrap();
        assert_eq!((tally.points, tally.max), (0.0, 1.0));
        assert_eq!(items[0].answer, "");
        let e = score_part_one(&[entry("ZZ", true)], &BTreeMap::new(), keys).unwrap_err();
        assert_eq!(e.to_string(), "no key is known for ZZ version 1");
    }

    #[test]
    fn describes_rules() {
        assert_eq!(
            KeyRule::Accept(BTreeSet::from(['D', 'B'])).describe(),
            "B|D"
        );
        assert_eq!(KeyRule::Dropped.describe(), "dropped");
    }
}
