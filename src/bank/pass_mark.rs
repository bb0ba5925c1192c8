//! A part's pass mark: a percent of the part's possible points, kept in hundredths of a percent
//! so that a cut the standard-setting committee adopts (say 81 of 120 points, 67.5%) is what the
//! scoring applies, with no rounding to a whole percent on the way. Blueprint files still write
//! a whole percent (`pass_percent = 80`); an adopted mark (`store::results::pass_mark`) may have
//! two decimals.
//!
//! Decisions compare in integers: points × 10 000 ≥ max × hundredths. A raw cut of `c` of `n`
//! points is reproduced exactly by the mark `floor(10 000 × c / n)` hundredths whenever
//! n < 10 000 (consecutive raw percents are then more than a hundredth apart): `c` reaches it,
//! `c − 1` does not. `PassMark::for_raw_cut` computes that mark.

use std::fmt;

/// Hundredths of a percent, from 1 (0.01%) to 10 000 (100%).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PassMark(u32);

/// As a percent, the number people read: `80` for a whole percent, `67.5` otherwise (so JSON that
/// showed a whole percent before this type existed reads the same).
impl serde::Serialize for PassMark {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(HUNDREDTHS) {
            s.serialize_u32(self.0 / HUNDREDTHS)
        } else {
            s.serialize_f64(self.percent())
        }
    }
}

impl<'de> serde::Deserialize<'de> for PassMark {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let percent = f64::deserialize(d)?;
        let h = (percent * f64::from(HUNDREDTHS)).round();
        (0.0..=f64::from(u32::MAX))
            .contains(&h)
            .then(|| PassMark::from_hundredths(h as u32))
            .flatten()
            .ok_or_else(|| serde::de::Error::custom(format!("{percent} is not a pass mark")))
    }
}

/// The scale: hundredths per percent.
pub const HUNDREDTHS: u32 = 100;

impl PassMark {
    /// A whole percent, as a blueprint file writes it.
    pub const fn whole(percent: u32) -> Self {
        PassMark(percent * HUNDREDTHS)
    }

    /// From hundredths of a percent (as stored); None outside 0.01..=100%.
    pub fn from_hundredths(h: u32) -> Option<Self> {
        (1..=100 * HUNDREDTHS).contains(&h).then_some(PassMark(h))
    }

    pub fn hundredths(self) -> u32 {
        self.0
    }

    pub fn percent(self) -> f64 {
        f64::from(self.0) / f64::from(HUNDREDTHS)
    }

    /// Parses what a person types: "67.5", "67.50", "80" or "80%". More than two decimals, or
    /// outside (0, 100], is an error in words.
    pub fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim().trim_end_matches('%').trim();
        if t.is_empty() {
            return Err("enter a percent, e.g. 67.5".into());
        }
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
            return Err(format!("\"{}\" is not a percent, e.g. 67.5", s.trim()));
        }
        if frac.len() > 2 {
            return Err(format!(
                "\"{}\" has more than two decimals: a pass mark is kept to a hundredth of a percent",
                s.trim()
            ));
        }
        let w: u64 = if whole.is_empty() {
            0
        } else {
            whole
                .parse()
                .map_err(|_| format!("\"{}\" is too large", s.trim()))?
        };
        let f: u64 = format!("{frac:0<2}").parse().unwrap_or(0);
        let h = w.saturating_mul(100).saturating_add(f);
        u32::try_from(h)
            .ok()
            .and_then(PassMark::from_hundredths)
            .ok_or_else(|| format!("{} is not between 0.01 and 100", s.trim()))
    }

    /// The smallest mark (to a hundredth) that `cut` of `max` points reaches and `cut − step`
    /// does not, where `step` is the smallest difference in points (1 for Part One): the exact
    /// hundredth at or below the cut's percent. None when max ≤ 0 or the cut is outside
    /// (0, max]. Points may be fractional (Part Two); they are compared in sixths as
    /// `scoring::results::PartResult` does.
    pub fn for_raw_cut(cut: f64, max: f64) -> Option<Self> {
        if !(max > 0.0 && cut > 0.0 && cut <= max) {
            return None;
        }
        let sixths = |x: f64| (x * 6.0).round() as i64;
        // floor(10 000 × cut / max) in integers.
        let h = sixths(cut) * 10_000 / sixths(max);
        u32::try_from(h.max(1))
            .ok()
            .and_then(PassMark::from_hundredths)
    }

    /// The mark at the hundredth of a percent at or below `percent` (a cut in percent computed
    /// from a panel's ratings, e.g. 68.8333...% → 68.83): every score at or above the exact cut
    /// reaches it, and a score below the cut by more than a hundredth of a percent does not.
    /// None outside (0, 100].
    pub fn at_or_below(percent: f64) -> Option<Self> {
        if !(percent.is_finite() && percent > 0.0 && percent <= 100.0) {
            return None;
        }
        // The slack keeps 67.5 (stored as 67.4999...) at 67.50.
        let h = (percent * f64::from(HUNDREDTHS) + 1e-6).floor();
        PassMark::from_hundredths(h as u32)
    }

    /// Whether `points` of `max` reach the mark, both exact multiples of 1/60 (Part One points
    /// are whole; a response scores a whole reading or the mean of two to six, as near the cut
    /// or on appeal). In integers: sixtieths(points) × 10 000 ≥ sixtieths(max) × hundredths.
    pub fn reached(self, points: f64, max: f64) -> bool {
        let sixtieths = |x: f64| (x * 60.0).round() as i64;
        max > 0.0 && sixtieths(points) * 10_000 >= sixtieths(max) * i64::from(self.0)
    }

    /// `reached` for whole raw scores.
    pub fn reached_raw(self, raw: u32, max: u32) -> bool {
        max > 0 && u64::from(raw.min(max)) * 10_000 >= u64::from(max) * u64::from(self.0)
    }

    /// The fewest points of `max` that reach the mark (the raw cut), for whole points.
    pub fn raw_cut(self, max: u32) -> u32 {
        // ceil(max × h / 10 000)
        let n = u64::from(max) * u64::from(self.0);
        u32::try_from(n.div_ceil(10_000)).unwrap_or(max)
    }
}

impl From<PassMark> for f64 {
    fn from(m: PassMark) -> f64 {
        m.percent()
    }
}

/// "80", "67.5", "67.53": the percent without trailing zeros (no % sign).
impl fmt::Display for PassMark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (w, r) = (self.0 / HUNDREDTHS, self.0 % HUNDREDTHS);
        match r {
            0 => write!(f, "{w}"),
            r if r % 10 == 0 => write!(f, "{w}.{}", r / 10),
            r => write!(f, "{w}.{r:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_type_and_names_what_is_wrong() {
        assert_eq!(PassMark::parse("80"), Ok(PassMark::whole(80)));
        assert_eq!(PassMark::parse(" 67.5 %"), Ok(PassMark(6750)));
        assert_eq!(PassMark::parse("67.53"), Ok(PassMark(6753)));
        assert_eq!(PassMark::parse(".5"), Ok(PassMark(50)));
        assert!(PassMark::parse("67.533")
            .unwrap_err()
            .contains("two decimals"));
        assert!(PassMark::parse("0").unwrap_err().contains("between"));
        assert!(PassMark::parse("100.01").unwrap_err().contains("between"));
        assert!(PassMark::parse("").is_err());
        assert!(PassMark::parse("abc")
            .unwrap_err()
            .contains("not a percent"));
        assert!(PassMark::parse("-5").is_err());
        assert!(PassMark::parse("99999999999999999999").is_err());
    }

    #[test]
    fn serialises_as_the_percent() {
        assert_eq!(serde_json::to_string(&PassMark::whole(80)).unwrap(), "80");
        assert_eq!(serde_json::to_string(&PassMark(6750)).unwrap(), "67.5");
        let back: PassMark = serde_json::from_str("67.5").unwrap();
        assert_eq!(back, PassMark(6750));
        assert_eq!(
            serde_json::from_str::<PassMark>("80").unwrap(),
            PassMark::whole(80)
        );
        assert!(serde_json::from_str::<PassMark>("0").is_err());
    }

    #[test]
    fn shows_without_trailing_zeros() {
        assert_eq!(PassMark::whole(80).to_string(), "80");
        assert_eq!(PassMark(6750).to_string(), "67.5");
        assert_eq!(PassMark(6753).to_string(), "67.53");
        assert_eq!(PassMark(6705).to_string(), "67.05");
        assert_eq!(f64::from(PassMark(6750)), 67.5);
    }

    #[test]
    fn a_whole_percent_decides_as_before() {
        // 48 of 60 at 80% passes and 47.5 does not (`PartResult`'s own example).
        let m = PassMark::whole(80);
        assert!(m.reached(48.0, 60.0));
        assert!(!m.reached(47.5, 60.0));
        assert!(m.reached_raw(80, 100));
        assert!(!m.reached_raw(79, 100));
        assert_eq!(m.raw_cut(100), 80);
        assert_eq!(m.raw_cut(99), 80); // 79.2 rounds up
    }

    #[test]
    fn a_raw_cut_is_reproduced_exactly_at_every_length() {
        // Every cut of every test length to 500: the mark passes the cut and fails one below.
        for max in 1..=500u32 {
            for cut in 1..=max {
                let m = PassMark::for_raw_cut(f64::from(cut), f64::from(max)).unwrap();
                assert!(m.reached_raw(cut, max), "{cut}/{max} at {m}");
                assert!(!m.reached_raw(cut - 1, max), "{}/{max} at {m}", cut - 1);
                assert_eq!(m.raw_cut(max), cut, "{cut}/{max} at {m}");
            }
        }
        // 81 of 120 is 67.5% exactly; 81 of 119 is 68.0672...% → 68.06.
        assert_eq!(PassMark::for_raw_cut(81.0, 120.0), Some(PassMark(6750)));
        assert_eq!(PassMark::for_raw_cut(81.0, 119.0), Some(PassMark(6806)));
        assert_eq!(PassMark::for_raw_cut(0.0, 10.0), None);
        assert_eq!(PassMark::for_raw_cut(11.0, 10.0), None);
    }

    #[test]
    fn a_panels_cut_in_percent_is_kept_at_or_below() {
        // 41.3 of 60 points: 68.8333...% → 68.83; 42 of 60 passes, 41 does not.
        let m = PassMark::at_or_below(100.0 * 41.3 / 60.0).unwrap();
        assert_eq!(m, PassMark(6883));
        assert!(m.reached_raw(42, 60) && !m.reached_raw(41, 60));
        // A whole raw cut as a percent: 41 of 60 passes at its own percent.
        let m = PassMark::at_or_below(100.0 * 41.0 / 60.0).unwrap();
        assert!(m.reached_raw(41, 60) && !m.reached_raw(40, 60));
        assert_eq!(PassMark::at_or_below(67.5), Some(PassMark(6750)));
        assert_eq!(PassMark::at_or_below(0.0), None);
        assert_eq!(PassMark::at_or_below(f64::NAN), None);
    }

    #[test]
    fn a_fractional_cut_in_sixths_is_reproduced() {
        // Part Two: 40.5 of 60 points (a mean of two readings); one sixth below fails.
        let m = PassMark::for_raw_cut(40.5, 60.0).unwrap();
        assert!(m.reached(40.5, 60.0));
        assert!(!m.reached(40.5 - 1.0 / 6.0, 60.0));
    }
}
