//! Hofstee's (1983) compromise between the panel's acceptable cuts and failure rates and the
//! sitting's score distribution, and the failure-rate curve its chart draws.

/// One panelist's (or the panel's mean) Hofstee bounds: the lowest and highest acceptable
/// cut, and the lowest and highest acceptable failure rate (shares from 0 to 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HofsteeBounds {
    pub cut_min: f64,
    pub cut_max: f64,
    pub fail_min: f64,
    pub fail_max: f64,
}

impl HofsteeBounds {
    /// The panel's bounds: the mean of each bound over the panelists; `None` without panelists.
    pub fn mean(panel: &[HofsteeBounds]) -> Option<HofsteeBounds> {
        if panel.is_empty() {
            return None;
        }
        let n = panel.len() as f64;
        let m = |f: fn(&HofsteeBounds) -> f64| panel.iter().map(f).sum::<f64>() / n;
        Some(HofsteeBounds {
            cut_min: m(|b| b.cut_min),
            cut_max: m(|b| b.cut_max),
            fail_min: m(|b| b.fail_min),
            fail_max: m(|b| b.fail_max),
        })
    }

    /// The compromise line's failure rate at cut `c`: from `fail_max` at `cut_min` down to
    /// `fail_min` at `cut_max`.
    pub fn line(&self, c: f64) -> f64 {
        self.fail_max
            - (self.fail_max - self.fail_min) * (c - self.cut_min) / (self.cut_max - self.cut_min)
    }
}

/// Hofstee's compromise on whole-number scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hofstee {
    /// The lowest whole score in the acceptable range at which the observed failure rate
    /// reaches the compromise line, with the failure rate there.
    Cut { cut: f64, fail_rate: f64 },
    /// The observed failure rate stays under the line over the whole range: even the highest
    /// acceptable cut fails fewer than the panel would accept (the panel should revisit).
    CurveBelowLine,
    /// Already at the lowest acceptable cut more fail than the line allows.
    CurveAboveLine,
}

/// Why the bounds are unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HofsteeError {
    NoScores,
    /// The cut range is empty or reversed, or a failure rate is outside 0..=1 or reversed.
    BadBounds,
}

impl std::fmt::Display for HofsteeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HofsteeError::NoScores => write!(f, "there are no scores to compromise with"),
            HofsteeError::BadBounds => write!(
                f,
                "the bounds need the lowest cut below the highest and failure rates from 0 to 1, the lowest first"
            ),
        }
    }
}

impl Hofstee {
    /// The outcome's name in reports: `cut`, `curve_below_line` or `curve_above_line`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Hofstee::Cut { .. } => "cut",
            Hofstee::CurveBelowLine => "curve_below_line",
            Hofstee::CurveAboveLine => "curve_above_line",
        }
    }
}

/// Hofstee's compromise cut for the sitting's `scores` under the panel's `bounds`: scanning the
/// whole scores from ⌈cut_min⌉ to ⌊cut_max⌋, the first where the failure rate P(X < c) is at
/// least the line's (Hofstee, 1983; the curve rises and the line falls, so they cross once).
pub fn hofstee(scores: &[f64], bounds: &HofsteeBounds) -> Result<Hofstee, HofsteeError> {
    if scores.is_empty() {
        return Err(HofsteeError::NoScores);
    }
    let b = bounds;
    let ok = b.cut_min.is_finite()
        && b.cut_max.is_finite()
        && b.cut_min < b.cut_max
        && (0.0..=1.0).contains(&b.fail_min)
        && (0.0..=1.0).contains(&b.fail_max)
        && b.fail_min <= b.fail_max;
    if !ok {
        return Err(HofsteeError::BadBounds);
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    let fail = |c: f64| failure_rate_sorted(&sorted, c);
    let (lo, hi) = (b.cut_min.ceil() as i64, b.cut_max.floor() as i64);
    for c in lo..=hi {
        let c = c as f64;
        let f = fail(c);
        if c == lo as f64 && f > b.line(c) {
            // More fail at the lowest acceptable cut than the line allows: the two meet below
            // the range.
            return Ok(Hofstee::CurveAboveLine);
        }
        if f >= b.line(c) {
            return Ok(Hofstee::Cut {
                cut: c,
                fail_rate: f,
            });
        }
    }
    Ok(Hofstee::CurveBelowLine)
}

/// F(c), the share of the sorted `scores` below `c` (a candidate at `c` passes).
fn failure_rate_sorted(sorted: &[f64], c: f64) -> f64 {
    sorted.partition_point(|&s| s < c) as f64 / sorted.len().max(1) as f64
}

/// The failure-rate curve of a sitting at every whole score from 0 to `max`: `out[c]` is
/// F(c) = P(X < c), the share failing at a cut of `c`, from 0 at c = 0 rising to the share
/// below `max`. Empty without scores (or with a maximum that is not a finite number ≥ 0).
pub fn failure_curve(scores: &[f64], max: f64) -> Vec<f64> {
    if scores.is_empty() || !max.is_finite() || max < 0.0 {
        return Vec::new();
    }
    let mut sorted = scores.to_vec();
    sorted.sort_by(f64::total_cmp);
    (0..=max.floor() as u64)
        .map(|c| failure_rate_sorted(&sorted, c as f64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn hofstee_by_hand() {
        // Scores 2,3,4,5,5,6,6,7,8,9; cuts 4 to 8, failure rates 10% to 50%: the line is
        // 0.5 - 0.1(c - 4). At 4: fail 0.2 < 0.5; at 5: 0.3 < 0.4; at 6: 0.5 >= 0.3. Cut 6.
        let scores = [2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 6.0, 7.0, 8.0, 9.0];
        let b = HofsteeBounds {
            cut_min: 4.0,
            cut_max: 8.0,
            fail_min: 0.1,
            fail_max: 0.5,
        };
        assert!(close(b.line(6.0), 0.3));
        assert_eq!(
            hofstee(&scores, &b),
            Ok(Hofstee::Cut {
                cut: 6.0,
                fail_rate: 0.5
            })
        );
        // The panel's mean bounds from two panelists.
        let panel = [
            HofsteeBounds {
                cut_min: 3.0,
                cut_max: 7.0,
                fail_min: 0.0,
                fail_max: 0.4,
            },
            HofsteeBounds {
                cut_min: 5.0,
                cut_max: 9.0,
                fail_min: 0.2,
                fail_max: 0.6,
            },
        ];
        assert_eq!(HofsteeBounds::mean(&panel), Some(b));
        // Failure rates so low the curve never reaches the line.
        let lenient = HofsteeBounds {
            fail_min: 0.9,
            fail_max: 1.0,
            ..b
        };
        assert_eq!(hofstee(&scores, &lenient), Ok(Hofstee::CurveBelowLine));
        // So high a cut range that more fail already than the line allows.
        let harsh = HofsteeBounds {
            cut_min: 9.0,
            cut_max: 10.0,
            fail_min: 0.0,
            fail_max: 0.1,
        };
        assert_eq!(hofstee(&scores, &harsh), Ok(Hofstee::CurveAboveLine));
        assert_eq!(hofstee(&[], &b), Err(HofsteeError::NoScores));
        let reversed = HofsteeBounds {
            cut_min: 8.0,
            cut_max: 4.0,
            ..b
        };
        assert_eq!(hofstee(&scores, &reversed), Err(HofsteeError::BadBounds));
    }

    #[test]
    fn the_failure_curve_by_hand() {
        // Scores 2,3,4,5,5,6,6,7,8,9: below 0..=10 fail 0,0,0,.1,.2,.3,.5,.7,.8,.9,1.
        let scores = [5.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0, 7.0, 8.0, 9.0];
        let f = failure_curve(&scores, 10.0);
        let want = [0.0, 0.0, 0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0];
        assert_eq!(f.len(), want.len());
        for (c, (got, want)) in f.iter().zip(want).enumerate() {
            assert!(close(*got, want), "F({c}) = {got}, want {want}");
        }
        assert!(failure_curve(&[], 10.0).is_empty());
        assert!(failure_curve(&scores, f64::NAN).is_empty());
    }
}
