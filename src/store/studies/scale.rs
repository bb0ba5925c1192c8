//! The pure parts of a study: the scale a rating is chosen on, the spread of a panel's ratings
//! of one item, and the Hofstee form's four numbers. No I/O.

use std::collections::BTreeMap;

/// The choices a panelist rates one item on.
#[derive(Debug, Clone, PartialEq)]
pub enum Scale {
    /// Modified Angoff on a Part One item: the probability that a minimally competent candidate
    /// answers it correctly, 0.00 to 1.00 in steps of 0.05 (21 choices).
    Probability,
    /// Yes/No (Part One only): would a minimally competent candidate answer it correctly? 1 or 0.
    YesNo,
    /// Modified Angoff on a Part Two question: the points a minimally competent candidate would
    /// expect to score, in the question's score steps, 0 to `max` (its rubric has one point per
    /// whole score, so the steps are whole points).
    Points { max: u32 },
}

/// Steps of 0.05 between 0 and 1.
const PROBABILITY_STEPS: u32 = 20;
/// How far from a choice a stored value may lie and still be that choice (float storage).
const TOLERANCE: f64 = 1e-6;

impl Scale {
    /// Every choice, lowest first, as (value, label).
    pub fn choices(&self) -> Vec<(f64, String)> {
        match self {
            Scale::Probability => (0..=PROBABILITY_STEPS)
                .map(|k| {
                    let v = f64::from(k) / f64::from(PROBABILITY_STEPS);
                    (v, format!("{v:.2}"))
                })
                .collect(),
            Scale::YesNo => vec![(0.0, "No".into()), (1.0, "Yes".into())],
            Scale::Points { max } => (0..=*max)
                .map(|p| {
                    let label = if p == 1 {
                        "1 point".to_string()
                    } else {
                        format!("{p} points")
                    };
                    (f64::from(p), label)
                })
                .collect(),
        }
    }

    /// The highest value on the scale (an item's maximum in the cut's sum).
    pub fn max(&self) -> f64 {
        match self {
            Scale::Probability | Scale::YesNo => 1.0,
            Scale::Points { max } => f64::from(*max),
        }
    }

    /// The choice `value` is, exactly (so 0.35 read back from a float column is 0.35), or
    /// `None` when it is not on the scale.
    pub fn snap(&self, value: f64) -> Option<f64> {
        if !value.is_finite() {
            return None;
        }
        self.choices()
            .into_iter()
            .map(|(v, _)| v)
            .find(|v| (v - value).abs() < TOLERANCE)
    }

    /// What the scale allows, for an error message.
    pub fn describe(&self) -> String {
        match self {
            Scale::Probability => "a probability from 0.00 to 1.00 in steps of 0.05".into(),
            Scale::YesNo => "Yes (1) or No (0)".into(),
            Scale::Points { max } => format!("whole points from 0 to {max}"),
        }
    }

    /// The rating a form sent in its `rating` field: a choice's value as text ("0.35", "1").
    pub fn parse(&self, raw: &str) -> Result<f64, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("Rating: choose one of the values.".into());
        }
        raw.parse::<f64>()
            .ok()
            .and_then(|v| self.snap(v))
            .ok_or_else(|| {
                format!(
                    "Rating: \"{}\" is not on this item's scale ({}).",
                    crate::auth::loggable(raw),
                    self.describe()
                )
            })
    }

    /// The text a choice is sent as in the form (its `value` attribute).
    pub fn form_value(&self, value: f64) -> String {
        match self {
            Scale::Probability => format!("{value:.2}"),
            Scale::YesNo | Scale::Points { .. } => format!("{value:.0}"),
        }
    }
}

/// The spread of the panel's ratings of one item in one round: what the panelists see as
/// feedback (no names).
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    pub n: usize,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
    pub mean: f64,
    /// How many panelists chose each value (a dot plot), by the value's form text.
    pub counts: BTreeMap<String, usize>,
}

impl Spread {
    /// The spread of `values`; `None` when nobody rated. Quartiles by linear interpolation
    /// between order statistics (Hyndman & Fan's type 7, the default of R and NumPy).
    pub fn of(values: &[f64], scale: &Scale) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let h = (v.len() - 1) as f64 * p;
            let lo = h.floor() as usize;
            let hi = h.ceil() as usize;
            v[lo] + (h - lo as f64) * (v[hi] - v[lo])
        };
        let mut counts = BTreeMap::new();
        for x in &v {
            *counts.entry(scale.form_value(*x)).or_insert(0) += 1;
        }
        Some(Spread {
            n: v.len(),
            min: v[0],
            q1: q(0.25),
            median: q(0.5),
            q3: q(0.75),
            max: v[v.len() - 1],
            mean: v.iter().sum::<f64>() / v.len() as f64,
            counts,
        })
    }
}

/// One panelist's Hofstee bounds in percent: the lowest and highest acceptable cut (percent
/// correct) and the lowest and highest acceptable failure rate (percent of candidates).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HofsteePercent {
    pub cut_min: f64,
    pub cut_max: f64,
    pub fail_min: f64,
    pub fail_max: f64,
}

impl HofsteePercent {
    /// The four fields of the Hofstee form, each checked, every error kept and named by its
    /// field: each a number from 0 to 100, the minimum cut below the maximum, the minimum
    /// failure rate at most the maximum.
    pub fn parse(
        cut_min: &str,
        cut_max: &str,
        fail_min: &str,
        fail_max: &str,
    ) -> Result<HofsteePercent, BTreeMap<&'static str, String>> {
        let mut errors = BTreeMap::new();
        let mut field = |name: &'static str, label: &str, raw: &str| -> Option<f64> {
            let raw = raw.trim().trim_end_matches('%').trim();
            if raw.is_empty() {
                errors.insert(name, format!("{label}: give a percent from 0 to 100."));
                return None;
            }
            match raw.parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Some(v),
                _ => {
                    errors.insert(
                        name,
                        format!(
                            "{label}: \"{}\" is not a percent from 0 to 100.",
                            crate::auth::loggable(raw)
                        ),
                    );
                    None
                }
            }
        };
        let c0 = field("cut_min", "Lowest acceptable cut", cut_min);
        let c1 = field("cut_max", "Highest acceptable cut", cut_max);
        let f0 = field("fail_min", "Lowest acceptable failure rate", fail_min);
        let f1 = field("fail_max", "Highest acceptable failure rate", fail_max);
        if let (Some(a), Some(b)) = (c0, c1) {
            if a >= b {
                errors.insert(
                    "cut_max",
                    "Highest acceptable cut: must be above the lowest acceptable cut.".into(),
                );
            }
        }
        if let (Some(a), Some(b)) = (f0, f1) {
            if a > b {
                errors.insert(
                    "fail_max",
                    "Highest acceptable failure rate: must be at least the lowest.".into(),
                );
            }
        }
        match (c0, c1, f0, f1) {
            (Some(cut_min), Some(cut_max), Some(fail_min), Some(fail_max)) if errors.is_empty() => {
                Ok(HofsteePercent {
                    cut_min,
                    cut_max,
                    fail_min,
                    fail_max,
                })
            }
            _ => Err(errors),
        }
    }

    /// The bounds as `stats::standard_setting::hofstee` takes them for scores in percent:
    /// cuts in percent, failure rates as shares.
    pub fn bounds(&self) -> crate::stats::standard_setting::HofsteeBounds {
        crate::stats::standard_setting::HofsteeBounds {
            cut_min: self.cut_min,
            cut_max: self.cut_max,
            fail_min: self.fail_min / 100.0,
            fail_max: self.fail_max / 100.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probability_scale_has_twenty_one_steps_and_snaps_float_noise() {
        let s = Scale::Probability;
        let c = s.choices();
        assert_eq!(c.len(), 21);
        assert_eq!(c[7].1, "0.35");
        assert_eq!(s.parse("0.35"), Ok(0.35));
        assert_eq!(s.parse(".35"), Ok(0.35));
        assert_eq!(s.parse("1"), Ok(1.0));
        assert_eq!(s.snap(0.1 + 0.2 + 0.05), Some(0.35));
        assert_eq!(s.form_value(0.35), "0.35");
    }

    #[test]
    fn off_the_scale_or_no_choice_is_refused_naming_the_field() {
        let s = Scale::Probability;
        for bad in ["0.33", "1.05", "-0.05", "NaN", "inf", "abc"] {
            let e = s.parse(bad).unwrap_err();
            assert!(e.starts_with("Rating: "), "{e}");
            assert!(e.contains("steps of 0.05"), "{e}");
        }
        assert_eq!(
            s.parse("  ").unwrap_err(),
            "Rating: choose one of the values."
        );
        assert!(Scale::YesNo.parse("0.5").is_err());
        assert_eq!(Scale::YesNo.parse("1"), Ok(1.0));
        let p = Scale::Points { max: 3 };
        assert_eq!(p.parse("2"), Ok(2.0));
        assert!(p.parse("4").unwrap_err().contains("0 to 3"));
        assert!(p.parse("1.5").is_err());
        assert_eq!(p.max(), 3.0);
    }

    #[test]
    fn a_spread_by_hand() {
        // Sorted 0.4, 0.5, 0.6, 0.6, 0.9: type-7 quartiles at h = 1, 2, 3.
        let s = Spread::of(&[0.6, 0.4, 0.9, 0.5, 0.6], &Scale::Probability).unwrap();
        assert_eq!((s.n, s.min, s.max), (5, 0.4, 0.9));
        assert!((s.q1 - 0.5).abs() < 1e-12);
        assert!((s.median - 0.6).abs() < 1e-12);
        assert!((s.q3 - 0.6).abs() < 1e-12);
        assert!((s.mean - 0.6).abs() < 1e-12);
        assert_eq!(s.counts.get("0.60"), Some(&2));
        // Four values: h = 0.75 for Q1, between the first two.
        let s = Spread::of(&[0.0, 1.0, 0.5, 0.5], &Scale::Probability).unwrap();
        assert!((s.q1 - 0.375).abs() < 1e-12, "{s:?}");
        assert!(Spread::of(&[], &Scale::YesNo).is_none());
    }

    #[test]
    fn hofstee_fields_are_checked_each_by_name() {
        let ok = HofsteePercent::parse("55", "70%", "5", "30").unwrap();
        assert_eq!(ok.cut_max, 70.0);
        let b = ok.bounds();
        assert!((b.fail_max - 0.3).abs() < 1e-12);
        let e = HofsteePercent::parse("", "abc", "101", "-1").unwrap_err();
        assert_eq!(
            e.keys().copied().collect::<Vec<_>>(),
            ["cut_max", "cut_min", "fail_max", "fail_min"]
        );
        assert!(e["cut_min"].starts_with("Lowest acceptable cut:"));
        assert!(e["fail_min"].contains("\"101\""));
        let e = HofsteePercent::parse("70", "60", "30", "10").unwrap_err();
        assert_eq!(
            e.keys().copied().collect::<Vec<_>>(),
            ["cut_max", "fail_max"]
        );
    }
}
