//! Results: a part's score against its pass mark, and the endorsement exam across sittings.

use serde::{Deserialize, Serialize};

use super::key::Tally;

/// The outcome of one part of one registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartResult {
    pub part: u8,
    pub tally: Tally,
    pub pass_percent: u32,
    pub passed: bool,
}

impl PartResult {
    /// Passed when the percentage of possible points reaches the pass mark. Compared in
    /// integers (points × 100 against max × pass mark, both exact multiples of ½), so 48 of 60
    /// at 80% passes and 47.5 does not, with no rounding on the way.
    pub fn new(part: u8, tally: Tally, pass_percent: u32) -> Self {
        let halves = |x: f64| (x * 2.0).round() as i64;
        let passed = tally.max > 0.0
            && halves(tally.points) * 100 >= halves(tally.max) * i64::from(pass_percent);
        PartResult {
            part,
            tally,
            pass_percent,
            passed,
        }
    }
}

/// The endorsement exam: passed when both parts are, taking for each part its latest result
/// (a part retaken in a later sitting replaces the earlier one).
pub fn endorsement_passed(part_one: Option<bool>, part_two: Option<bool>) -> Option<bool> {
    match (part_one, part_two) {
        (Some(a), Some(b)) => Some(a && b),
        (Some(false), None) | (None, Some(false)) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(points: f64, max: f64) -> Tally {
        let mut t = Tally::default();
        t.add("TF", points, max);
        t
    }

    #[test]
    fn the_pass_mark_is_met_exactly_or_not() {
        assert!(PartResult::new(1, tally(48.0, 60.0), 80).passed);
        assert!(!PartResult::new(1, tally(47.0, 60.0), 80).passed);
        assert!(PartResult::new(2, tally(4.5, 6.0), 75).passed);
        assert!(!PartResult::new(2, tally(4.0, 6.0), 75).passed);
        assert!(!PartResult::new(2, tally(0.0, 0.0), 80).passed);
    }

    #[test]
    fn the_exam_needs_both_parts() {
        assert_eq!(endorsement_passed(Some(true), Some(true)), Some(true));
        assert_eq!(endorsement_passed(Some(true), Some(false)), Some(false));
        assert_eq!(endorsement_passed(Some(false), None), Some(false));
        assert_eq!(endorsement_passed(Some(true), None), None);
    }
}
