//! The figures the committee's study pages show, pure: which items to flag in a round's
//! feedback, the impact of a cut and of the cut ± 1 and 2 standard errors on the sitting's
//! scores, the cut adjusted by k standard errors, and the score distribution by whole percent.
//!
//! Decided here (the issue names the thresholds, not their exact reading):
//! - an item's ratings "spread widely" when their interquartile range exceeds 0.2 of the item's
//!   maximum (a fifth of the scale: on a probability scale, four 0.05 steps);
//! - its ratings "differ from observed" when the panel's mean rating, as a share of the maximum,
//!   is more than 0.2 from the observed p-value (or mean score over the maximum).
//!
//! Both are checked on the share of the maximum, so Part One and Part Two read alike.

use crate::stats::standard_setting::pass_rate;

/// How far, as a share of an item's maximum, ratings may spread (interquartile range) or their
/// mean stray from the observed value before the item is flagged.
pub const FLAG_AT: f64 = 0.2;

/// Why an item is flagged in a round's feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    WideSpread,
    FarFromObserved,
}

impl Flag {
    pub fn words(self) -> &'static str {
        match self {
            Flag::WideSpread => "ratings spread widely",
            Flag::FarFromObserved => "differs from observed",
        }
    }
}

/// The flags of one item: `q1`, `q3` and `mean` of its ratings, `observed` (p-value or mean
/// score, None without data), all in points of an item with `max` points.
pub fn flags(q1: f64, q3: f64, mean: f64, observed: Option<f64>, max: f64) -> Vec<Flag> {
    if max <= 0.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    // A hair of slack: 0.2 of the scale exactly is not "more than" 0.2 in floating point.
    if (q3 - q1) / max > FLAG_AT + 1e-9 {
        out.push(Flag::WideSpread);
    }
    if observed.is_some_and(|o| ((mean - o) / max).abs() > FLAG_AT + 1e-9) {
        out.push(Flag::FarFromObserved);
    }
    out
}

/// One line of the impact table: a cut in percent and the share of candidates at or above it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impact {
    /// -2, -1, 0, 1, 2: how many standard errors from the panel's cut.
    pub k: i32,
    pub cut_percent: f64,
    pub pass_rate: Option<f64>,
}

/// The pass rate of `percents` (each candidate's score in percent) at the cut and at the cut
/// ± 1 and 2 standard errors (`se_percent`; only the cut itself without one), cuts kept within
/// 0..=100.
pub fn impact(percents: &[f64], cut_percent: f64, se_percent: Option<f64>) -> Vec<Impact> {
    let ks: &[i32] = if se_percent.is_some() {
        &[-2, -1, 0, 1, 2]
    } else {
        &[0]
    };
    ks.iter()
        .map(|&k| {
            let c = (cut_percent + f64::from(k) * se_percent.unwrap_or(0.0)).clamp(0.0, 100.0);
            Impact {
                k,
                cut_percent: c,
                pass_rate: pass_rate(percents, c),
            }
        })
        .collect()
}

/// The cut moved by `k` standard errors (k may be negative or fractional), kept within
/// 0..=`max`.
pub fn adjusted(cut: f64, se: f64, k: f64, max: f64) -> f64 {
    (cut + k * se).clamp(0.0, max)
}

/// Parses the k of the k-SE adjustment: a number from -3 to 3 ("1", "-0.5", "+2").
pub fn parse_k(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(0.0);
    }
    match t.trim_start_matches('+').parse::<f64>() {
        Ok(k) if k.is_finite() && (-3.0..=3.0).contains(&k) => Ok(k),
        _ => Err(format!(
            "k: \"{}\" is not a number from -3 to 3.",
            crate::auth::loggable(t)
        )),
    }
}

/// How many candidates scored each whole percent, 0 to 100 (a score is counted at the whole
/// percent at or below it).
pub fn by_whole_percent(percents: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; 101];
    for p in percents.iter().filter(|p| p.is_finite()) {
        let i = p.clamp(0.0, 100.0).floor() as usize;
        counts[i] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_by_spread_and_by_distance_from_observed() {
        // Interquartile range 0.3 of 1: wide. 0.2 exactly: not wide.
        assert_eq!(flags(0.4, 0.7, 0.55, None, 1.0), vec![Flag::WideSpread]);
        assert!(flags(0.5, 0.7, 0.6, Some(0.6), 1.0).is_empty());
        // Mean 0.55 against an observed p-value of 0.8: more than 0.2 apart.
        assert_eq!(
            flags(0.5, 0.6, 0.55, Some(0.8), 1.0),
            vec![Flag::FarFromObserved]
        );
        assert!(flags(0.5, 0.6, 0.6, Some(0.8), 1.0).is_empty());
        // Part Two: a 3-point question, mean rating 1.2 against a mean score of 2.1 (0.3 of
        // the scale apart), quartiles 1 and 2 (a third of the scale).
        assert_eq!(
            flags(1.0, 2.0, 1.2, Some(2.1), 3.0),
            vec![Flag::WideSpread, Flag::FarFromObserved]
        );
    }

    #[test]
    fn impact_at_the_cut_and_its_standard_errors() {
        let scores = [50.0, 60.0, 70.0, 75.0, 80.0, 90.0];
        let rows = impact(&scores, 70.0, Some(5.0));
        let got: Vec<(i32, f64, f64)> = rows
            .iter()
            .map(|r| (r.k, r.cut_percent, r.pass_rate.unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (-2, 60.0, 5.0 / 6.0),
                (-1, 65.0, 4.0 / 6.0),
                (0, 70.0, 4.0 / 6.0),
                (1, 75.0, 3.0 / 6.0),
                (2, 80.0, 2.0 / 6.0),
            ]
        );
        assert_eq!(impact(&scores, 70.0, None).len(), 1);
        assert_eq!(impact(&[], 70.0, None)[0].pass_rate, None);
        assert_eq!(impact(&scores, 98.0, Some(5.0))[4].cut_percent, 100.0);
    }

    #[test]
    fn k_is_parsed_and_named() {
        assert_eq!(parse_k(""), Ok(0.0));
        assert_eq!(parse_k("+1.5"), Ok(1.5));
        assert_eq!(parse_k("-2"), Ok(-2.0));
        assert!(parse_k("4").unwrap_err().starts_with("k:"));
        assert!(parse_k("x").unwrap_err().starts_with("k:"));
        assert_eq!(adjusted(30.0, 2.0, -1.5, 60.0), 27.0);
        assert_eq!(adjusted(59.0, 2.0, 1.0, 60.0), 60.0);
    }

    #[test]
    fn whole_percents() {
        let c = by_whole_percent(&[0.0, 79.9, 80.0, 100.0, f64::NAN]);
        assert_eq!((c[0], c[79], c[80], c[100]), (1, 1, 1, 1));
        assert_eq!(c.iter().sum::<u64>(), 4);
    }
}
