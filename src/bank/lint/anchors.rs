//! Rubric anchors whose length grows with the score: raters shown a long anchor for the top score
//! and a short one for the bottom learn to score length, not quality. An open question is
//! reported when the mean length (in words) of its anchors rises with every score point that has
//! anchors, and the top point's mean is at least `anchor_growth_percent` above the bottom's.

use super::text::{word_count, Lines};
use super::{Rule, Thresholds, Warning};
use crate::bank::{Bank, ItemBody, Status};

pub fn anchor_lengths(bank: &Bank, lines: &Lines, t: &Thresholds, out: &mut Vec<Warning>) {
    for item in bank.items.iter().filter(|i| i.status != Status::Retired) {
        let ItemBody::Open(open) = &item.body else {
            continue;
        };
        let means: Vec<(u32, f64)> = open
            .rubric
            .iter()
            .filter(|p| !p.anchors.is_empty())
            .map(|p| {
                let words: usize = p.anchors.iter().map(|a| word_count(a)).sum();
                (p.score, words as f64 / p.anchors.len() as f64)
            })
            .collect();
        if means.len() < 2 {
            continue;
        }
        let rising = means.windows(2).all(|w| w[1].1 > w[0].1);
        let (low, high) = (means[0], means[means.len() - 1]);
        let growth = 100.0 * (high.1 / low.1 - 1.0);
        if rising && growth >= f64::from(t.anchor_growth_percent) {
            let shown: Vec<String> = means.iter().map(|(s, m)| format!("{s}: {m:.0}")).collect();
            out.push(Warning::at(
                &lines.section(&item.source, "Rubric"),
                Rule::AnchorLength,
                format!(
                    "{}: the anchors grow longer with the score (mean words by score {}; +{growth:.0}%): give every score point short and long anchors",
                    item.id,
                    shown.join(", ")
                ),
            ));
        }
    }
}
