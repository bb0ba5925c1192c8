//! Scoring (pure): Part One by key, rater assignment, the resolution of readings, calibration
//! against validity responses, results against the pass marks, Part One's equated score, and
//! what an appeal's re-score does to a result.

pub mod appeal;
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

/// A rater's agreement with expert scores on a qualifying set: exact, and within one point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Agreement {
    pub scored: u32,
    pub exact: u32,
    /// Exact or adjacent (one point apart).
    pub adjacent: u32,
}

impl Agreement {
    pub fn add(&mut self, score: u32, expert: u32) {
        self.scored += 1;
        self.exact += u32::from(score == expert);
        self.adjacent += u32::from(score.abs_diff(expert) <= 1);
    }

    /// At or above both standards (percent; compared in integers, so exactly 70% meets 70).
    /// Nothing scored meets nothing.
    pub fn meets(&self, exact_percent: u32, adjacent_percent: u32) -> bool {
        self.scored > 0
            && self.exact * 100 >= self.scored * exact_percent
            && self.adjacent * 100 >= self.scored * adjacent_percent
    }

    pub fn exact_percent(&self) -> f64 {
        100.0 * f64::from(self.exact) / f64::from(self.scored.max(1))
    }

    pub fn adjacent_percent(&self) -> f64 {
        100.0 * f64::from(self.adjacent) / f64::from(self.scored.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::RatingRules;

    #[test]
    fn qualification_meets_both_standards_at_their_edges() {
        let mut a = Agreement::default();
        assert!(!a.meets(0, 0), "nothing scored qualifies nobody");
        // 20 readings: 14 exact (70%), 19 within one point (95%), one 2 points off.
        for _ in 0..14 {
            a.add(2, 2);
        }
        for _ in 0..5 {
            a.add(3, 2);
        }
        a.add(0, 2);
        assert_eq!((a.scored, a.exact, a.adjacent), (20, 14, 19));
        assert!(a.meets(70, 95), "exactly at both standards");
        assert!(!a.meets(71, 95));
        assert!(!a.meets(70, 96));
        assert_eq!(a.exact_percent(), 70.0);
    }

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
