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

#[cfg(test)]
mod tests {
    use super::*;

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
