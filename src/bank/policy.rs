//! A blueprint's Part One form and scoring policy: one form per candidate or one for the whole
//! sitting, how far a form's difficulty may stray from the target, and whether the pass mark
//! applies to raw or equated scores. Parsed from `[part_one]`; the meaning of each is in
//! `item-bank/README.md` and `docs/statistics.md` ("Fair forms and equating").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `[part_one] forms`: who gets which Part One form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FormsPolicy {
    /// Each candidate draws their own form (fair forms where the pool is calibrated).
    #[default]
    #[serde(rename = "per-candidate")]
    PerCandidate,
    /// One form for everyone in a sitting.
    #[serde(rename = "one")]
    One,
}

/// `[part_one] pass_on`: which score the pass mark applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PassOn {
    /// The percent of the form's scored items answered correctly.
    #[default]
    Raw,
    /// The raw score equated onto the operational pool's percent-correct scale; applies only
    /// where the pool is calibrated (raw otherwise).
    Equated,
}

impl FormsPolicy {
    pub fn code(self) -> &'static str {
        match self {
            FormsPolicy::PerCandidate => "per-candidate",
            FormsPolicy::One => "one",
        }
    }
}

impl PassOn {
    pub fn code(self) -> &'static str {
        match self {
            PassOn::Raw => "raw",
            PassOn::Equated => "equated",
        }
    }
}

impl fmt::Display for FormsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for PassOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for FormsPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "per-candidate" => Ok(FormsPolicy::PerCandidate),
            "one" => Ok(FormsPolicy::One),
            other => Err(format!(
                "part_one.forms must be \"per-candidate\" or \"one\", found \"{other}\""
            )),
        }
    }
}

impl FromStr for PassOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "raw" => Ok(PassOn::Raw),
            "equated" => Ok(PassOn::Equated),
            other => Err(format!(
                "part_one.pass_on must be \"raw\" or \"equated\", found \"{other}\""
            )),
        }
    }
}

/// `[part_one] form_tolerance`: how many percentage points a form's expected percent correct
/// at the cut may differ from the target. Kept in hundredths of a point, so a blueprint stays
/// `Eq` and a value prints as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FormTolerance(u32);

/// The tolerance when a blueprint does not say: two percentage points (about one item of 60).
pub const DEFAULT_FORM_TOLERANCE: FormTolerance = FormTolerance(200);
/// The widest tolerance a blueprint may set, in points; wider would not constrain a form.
pub const MAX_FORM_TOLERANCE_POINTS: f64 = 50.0;

impl Default for FormTolerance {
    fn default() -> Self {
        DEFAULT_FORM_TOLERANCE
    }
}

impl FormTolerance {
    /// From percentage points: above 0 (at least 0.01 once rounded to hundredths) and at most
    /// `MAX_FORM_TOLERANCE_POINTS`.
    pub fn from_points(points: f64) -> Result<Self, String> {
        let hundredths = (points * 100.0).round();
        if points.is_finite() && points <= MAX_FORM_TOLERANCE_POINTS && hundredths >= 1.0 {
            Ok(FormTolerance(hundredths as u32))
        } else {
            Err(format!(
                "part_one.form_tolerance must be percentage points above 0 and at most {MAX_FORM_TOLERANCE_POINTS}, found {points}"
            ))
        }
    }

    pub fn points(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for FormTolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.points())
    }
}

/// `[part_two.rating] near_cut_margin`: how close, in points, a candidate's resolved Part Two
/// total may lie to the pass mark (either side, edges included) before every response of the
/// part not already read three times gets one more blind reading. Kept in hundredths of a point
/// (like `FormTolerance`), so a blueprint stays `Eq`; 0 turns the closer look off.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct NearCutMargin(u32);

/// The widest margin a blueprint may set, in points.
pub const MAX_NEAR_CUT_MARGIN_POINTS: f64 = 100.0;

impl NearCutMargin {
    /// From points: 0 (off) up to `MAX_NEAR_CUT_MARGIN_POINTS`, in hundredths.
    pub fn from_points(points: f64) -> Result<Self, String> {
        if points.is_finite() && (0.0..=MAX_NEAR_CUT_MARGIN_POINTS).contains(&points) {
            Ok(NearCutMargin((points * 100.0).round() as u32))
        } else {
            Err(format!(
                "part_two.rating.near_cut_margin must be points from 0 to {MAX_NEAR_CUT_MARGIN_POINTS}, found {points}"
            ))
        }
    }

    pub fn points(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    /// Whether `total` lies within the margin of `pass_points`, edges included (compared in
    /// hundredths of a point, so a total exactly at an edge is inside whatever its float).
    pub fn near(self, total: f64, pass_points: f64) -> bool {
        self.0 > 0 && ((total - pass_points).abs() * 100.0).round() <= f64::from(self.0)
    }
}

impl fmt::Display for NearCutMargin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.points())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_near_cut_margin_includes_its_edges() {
        let m = NearCutMargin::from_points(1.0).unwrap();
        // Pass mark 4.5 points: 3.5 and 5.5 are the edges, inside; 3.0 and 6.0 are outside.
        for total in [3.5, 4.0, 4.5, 5.0, 5.5] {
            assert!(m.near(total, 4.5), "{total}");
        }
        for total in [3.0, 3.49, 5.51, 6.0] {
            assert!(!m.near(total, 4.5), "{total}");
        }
        // 80% of 18 points is 14.4 (not exact in binary): 13.4 and 15.4 are still edges.
        let pass = 0.8 * 18.0;
        assert!(m.near(13.4, pass) && m.near(15.4, pass));
        assert!(!m.near(13.0, pass) && !m.near(15.5, pass));
        let off = NearCutMargin::default();
        assert!(!off.near(4.5, 4.5), "0 turns it off");
        assert!(NearCutMargin::from_points(-1.0).is_err());
        assert!(NearCutMargin::from_points(f64::NAN).is_err());
    }

    #[test]
    fn words_and_numbers_parse_or_are_named() {
        assert_eq!("one".parse(), Ok(FormsPolicy::One));
        assert_eq!("per-candidate".parse(), Ok(FormsPolicy::PerCandidate));
        assert_eq!(
            "each".parse::<FormsPolicy>(),
            Err("part_one.forms must be \"per-candidate\" or \"one\", found \"each\"".into())
        );
        assert_eq!("equated".parse(), Ok(PassOn::Equated));
        assert!("Raw".parse::<PassOn>().is_err());
        assert_eq!(
            FormTolerance::from_points(1.5).map(FormTolerance::points),
            Ok(1.5)
        );
        assert_eq!(DEFAULT_FORM_TOLERANCE.points(), 2.0);
        assert_eq!(
            FormTolerance::from_points(0.25).unwrap().to_string(),
            "0.25"
        );
        for bad in [0.0, -1.0, 0.004, 50.5, f64::NAN, f64::INFINITY] {
            assert!(FormTolerance::from_points(bad).is_err(), "{bad}");
        }
    }
}
