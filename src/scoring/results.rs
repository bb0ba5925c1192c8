//! Results: a part's score against its pass mark, and the endorsement exam across sittings.

use serde::{Deserialize, Serialize};

use super::key::Tally;
use crate::bank::PassMark;

/// The outcome of one part of one registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartResult {
    pub part: u8,
    pub tally: Tally,
    pub pass_percent: PassMark,
    pub passed: bool,
}

impl PartResult {
    /// Passed when the percentage of possible points reaches the pass mark. Compared in
    /// integers (`PassMark::reached`: points and max are exact multiples of 1/60, as a response
    /// scores a whole reading, the mean of two, near the cut the mean of three, on appeal the
    /// mean of four), so 48 of 60 at 80% passes and 47.5 does not, with no rounding on the way.
    pub fn new(part: u8, tally: Tally, pass_percent: PassMark) -> Self {
        let passed = pass_percent.reached(tally.points, tally.max);
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

/// Points as people read them: to two decimals at most, without trailing zeros (60, 4.5, and
/// 8.67 for a mean of three readings).
pub fn points_text(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    format!("{}", if r == 0.0 { 0.0 } else { r })
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
        assert!(PartResult::new(1, tally(48.0, 60.0), PassMark::whole(80)).passed);
        assert!(!PartResult::new(1, tally(47.0, 60.0), PassMark::whole(80)).passed);
        assert!(PartResult::new(2, tally(4.5, 6.0), PassMark::whole(75)).passed);
        assert!(!PartResult::new(2, tally(4.0, 6.0), PassMark::whole(75)).passed);
        assert!(!PartResult::new(2, tally(0.0, 0.0), PassMark::whole(80)).passed);
        // Thirds from a closer look near the cut: 14.4 of 18 is 80%; sums of thirds in floating
        // point (14⅓ + ⅓ is not 14⅔ exactly) land on the right side.
        let thirds = [8.0 / 3.0, 7.0 / 3.0, 3.0, 3.0, 2.5, 1.0];
        let total: f64 = thirds.iter().sum();
        assert!((total - 14.5).abs() < 1e-9);
        assert!(PartResult::new(2, tally(total, 18.0), PassMark::whole(80)).passed);
        let below: f64 = [8.0 / 3.0, 7.0 / 3.0, 3.0, 3.0, 7.0 / 3.0, 1.0]
            .iter()
            .sum();
        assert!(
            !PartResult::new(2, tally(below, 18.0), PassMark::whole(80)).passed,
            "14⅓ of 18"
        );
        assert!(
            PartResult::new(
                2,
                tally(2.0 / 3.0 + 2.0 / 3.0 + 2.0 / 3.0, 2.5),
                PassMark::whole(80)
            )
            .passed,
            "2 of 2.5"
        );
    }

    #[test]
    fn points_read_as_people_write_them() {
        assert_eq!(points_text(60.0), "60");
        assert_eq!(points_text(4.5), "4.5");
        assert_eq!(points_text(26.0 / 3.0), "8.67");
        assert_eq!(points_text(-0.0), "0");
    }

    #[test]
    fn the_exam_needs_both_parts() {
        assert_eq!(endorsement_passed(Some(true), Some(true)), Some(true));
        assert_eq!(endorsement_passed(Some(true), Some(false)), Some(false));
        assert_eq!(endorsement_passed(Some(false), None), Some(false));
        assert_eq!(endorsement_passed(Some(true), None), None);
    }
}
