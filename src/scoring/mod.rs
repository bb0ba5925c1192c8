//! Scoring (pure): Part One by key, rater assignment, the resolution of readings, calibration
//! against validity responses, results against the pass marks, and Part One's equated score.

pub mod assign;
pub mod equating;
pub mod key;
pub mod results;
pub mod rules;
pub mod simulate;

/// A rater's record on validity responses (responses with an expert score).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Calibration {
    pub scored: u32,
    pub exact: u32,
}

impl Calibration {
    pub fn add(&mut self, score: u32, expert: u32) {
        self.scored += 1;
        self.exact += u32::from(score == expert);
    }

    /// Exact agreement with the experts, in percent; None before any validity response.
    pub fn percent(&self) -> Option<f64> {
        (self.scored > 0).then(|| 100.0 * f64::from(self.exact) / f64::from(self.scored))
    }

    /// Flagged when, after at least `min_count` validity responses, agreement is below
    /// `min_percent` (compared in integers: exact × 100 < scored × min_percent).
    pub fn flagged(&self, rules: &crate::bank::RatingRules) -> bool {
        self.scored >= rules.calibration_min_count.max(1)
            && self.exact * 100 < self.scored * rules.calibration_min_percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::RatingRules;

    #[test]
    fn a_rater_below_the_standard_is_flagged_once_enough_are_scored() {
        let rules = RatingRules {
            calibration_min_percent: 70,
            calibration_min_count: 3,
            ..RatingRules::default()
        };
        let mut c = Calibration::default();
        c.add(2, 3);
        c.add(1, 3);
        assert!(!c.flagged(&rules), "two are not enough to judge");
        c.add(3, 3);
        assert_eq!(c.percent().map(|p| p.round()), Some(33.0));
        assert!(c.flagged(&rules));
        let mut good = Calibration::default();
        for _ in 0..7 {
            good.add(2, 2);
        }
        for _ in 0..3 {
            good.add(1, 2);
        }
        assert!(!good.flagged(&rules), "exactly 70% meets the standard");
    }
}
