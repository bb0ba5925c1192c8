//! Appeals (pure): when a candidate may ask for a part to be re-scored, the reason they give,
//! and what the re-score does to the part's result by the blueprint's `[appeals]` rules.
//!
//! Part One is recounted against the current key by `key::score_part_one` like any scoring;
//! here it is only compared with the result it appeals. Part Two is read again, blind, and
//! `part_two` applies the blueprint's rule to each response's readings.

use crate::bank::{AppealRules, PartTwoRule, PassMark};

/// A day in milliseconds: the window is whole days from the moment of release.
pub const DAY_MS: i64 = 86_400_000;

/// The longest reason a candidate may give, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;

/// The moment the window closes: release plus `window_days` whole days.
pub fn deadline(released_at: i64, rules: &AppealRules) -> i64 {
    released_at.saturating_add(i64::from(rules.window_days) * DAY_MS)
}

/// Why a request cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("results are not released yet: an appeal can be made once they are")]
    NotReleased,
    /// Past the deadline (milliseconds since the epoch; the page shows it in the sitting's zone).
    #[error("the window for appeals has closed")]
    WindowClosed { deadline: i64 },
    #[error("there is no result of that part to appeal")]
    NoResult,
    #[error("you have already appealed this part")]
    AlreadyAppealed,
    #[error("give a reason for your appeal")]
    NoReason,
    #[error("a reason is at most {MAX_REASON_CHARS} characters; yours has {0}")]
    ReasonTooLong(usize),
    #[error("a reason is plain text: it may not contain control characters")]
    ReasonNotText,
}

/// Whether an appeal may be made at `now`: results released (at `released_at`) and the window
/// still open, the deadline included. Returns the deadline.
pub fn window(now: i64, released_at: Option<i64>, rules: &AppealRules) -> Result<i64, Refused> {
    let released = released_at.ok_or(Refused::NotReleased)?;
    let deadline = deadline(released, rules);
    if now > deadline {
        return Err(Refused::WindowClosed { deadline });
    }
    Ok(deadline)
}

/// A candidate's reason, parsed: trimmed, not empty, plain text (line breaks and tabs allowed),
/// at most `MAX_REASON_CHARS` characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    pub fn parse(s: &str) -> Result<Reason, Refused> {
        let t = s.trim();
        if t.is_empty() {
            return Err(Refused::NoReason);
        }
        let n = t.chars().count();
        if n > MAX_REASON_CHARS {
            return Err(Refused::ReasonTooLong(n));
        }
        if t.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(Refused::ReasonNotText);
        }
        Ok(Reason(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A part's result before and after its re-score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub before: (f64, bool),
    pub after: (f64, bool),
}

impl Outcome {
    /// The appeal changes the result: its points or its decision (points compared in
    /// sixtieths, the finest step a mean of readings takes).
    pub fn changed(&self) -> bool {
        sixtieths(self.before.0) != sixtieths(self.after.0) || self.before.1 != self.after.1
    }
}

fn sixtieths(x: f64) -> i64 {
    (x * 60.0).round() as i64
}

/// One Part Two response under appeal: its resolved score as the result holds it, its earlier
/// final readings, and the re-readings given on appeal. A blank response has no readings and
/// is not read again: its score stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseReadings {
    pub score: f64,
    pub readings: Vec<u32>,
    pub rereadings: Vec<u32>,
}

impl ResponseReadings {
    fn reread(&self) -> bool {
        !self.readings.is_empty()
    }
}

/// Part Two's re-score by the blueprint's rule: each response's new score, and the part's
/// outcome against the pass mark (`max` is the part's most points, empty slots included;
/// `before` the result appealed). None while a response read before still lacks its
/// re-reading.
pub fn part_two(
    rule: PartTwoRule,
    responses: &[ResponseReadings],
    max: f64,
    pass: PassMark,
    before: (f64, bool),
) -> Option<(Vec<f64>, Outcome)> {
    if responses
        .iter()
        .any(|r| r.reread() && r.rereadings.is_empty())
    {
        return None;
    }
    let mean = |xs: &[u32]| f64::from(xs.iter().sum::<u32>()) / xs.len() as f64;
    let unread = |r: &ResponseReadings| r.score;
    let outside: f64 = before.0 - responses.iter().map(unread).sum::<f64>();
    let total = |scores: &[f64]| outside + scores.iter().sum::<f64>();
    let scores: Vec<f64> = match rule {
        PartTwoRule::DecisionChange => {
            let reread: Vec<f64> = responses
                .iter()
                .map(|r| {
                    if r.reread() {
                        mean(&r.rereadings)
                    } else {
                        r.score
                    }
                })
                .collect();
            if pass.reached(total(&reread), max) != before.1 {
                reread
            } else {
                responses.iter().map(unread).collect()
            }
        }
        PartTwoRule::Mean => responses
            .iter()
            .map(|r| {
                if r.reread() {
                    let all: Vec<u32> = r.readings.iter().chain(&r.rereadings).copied().collect();
                    mean(&all)
                } else {
                    r.score
                }
            })
            .collect(),
    };
    let points = total(&scores);
    let outcome = Outcome {
        before,
        after: (points, pass.reached(points, max)),
    };
    Some((scores, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: AppealRules = AppealRules {
        window_days: 30,
        part_two_rule: PartTwoRule::DecisionChange,
    };

    #[test]
    fn the_window_closes_at_release_plus_its_days_inclusive() {
        let released = 1_000_000;
        let end = released + 30 * DAY_MS;
        assert_eq!(deadline(released, &RULES), end);
        assert_eq!(window(released, Some(released), &RULES), Ok(end));
        assert_eq!(
            window(end, Some(released), &RULES),
            Ok(end),
            "the deadline itself"
        );
        assert_eq!(
            window(end + 1, Some(released), &RULES),
            Err(Refused::WindowClosed { deadline: end })
        );
        assert_eq!(window(released, None, &RULES), Err(Refused::NotReleased));
    }

    #[test]
    fn a_reason_is_short_plain_text() {
        assert_eq!(
            Reason::parse("  The vignette's second question was misread. ")
                .unwrap()
                .as_str(),
            "The vignette's second question was misread."
        );
        assert_eq!(Reason::parse(" \n "), Err(Refused::NoReason));
        assert_eq!(
            Reason::parse(&"x".repeat(2_001)),
            Err(Refused::ReasonTooLong(2_001))
        );
        assert!(
            Reason::parse(&"é".repeat(2_000)).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(Reason::parse("a\u{1b}[2J"), Err(Refused::ReasonNotText));
        assert!(Reason::parse("line one\nline two").is_ok());
    }

    fn resp(score: f64, readings: &[u32], rereadings: &[u32]) -> ResponseReadings {
        ResponseReadings {
            score,
            readings: readings.to_vec(),
            rereadings: rereadings.to_vec(),
        }
    }

    // Two vignettes of three questions, 3 points each: 18 points, 80% is 14.4.
    const PASS: PassMark = PassMark::whole(80);

    #[test]
    fn decision_change_replaces_the_result_only_when_the_decision_changes() {
        // 14 of 18 (not passed); re-readings lift one question by a point: 15, passed.
        let before = vec![
            resp(2.0, &[2, 2], &[3]),
            resp(2.5, &[2, 3], &[2]),
            resp(2.5, &[3, 2], &[3]),
            resp(3.0, &[3, 3], &[3]),
            resp(2.0, &[2, 2], &[2]),
            resp(2.0, &[2, 2], &[2]),
        ];
        let (scores, o) = part_two(
            PartTwoRule::DecisionChange,
            &before,
            18.0,
            PASS,
            (14.0, false),
        )
        .unwrap();
        assert_eq!(scores, vec![3.0, 2.0, 3.0, 3.0, 2.0, 2.0]);
        assert_eq!(o.after, (15.0, true));
        assert!(o.changed());
        // Re-readings that move the points but not the decision leave the result as it was:
        // 7 of 9 (below 7.2) re-read as 6 is still not passed.
        let same = vec![
            resp(2.0, &[2, 2], &[1]),
            resp(2.0, &[2, 2], &[2]),
            resp(3.0, &[3, 3], &[3]),
        ];
        let (scores, o) =
            part_two(PartTwoRule::DecisionChange, &same, 9.0, PASS, (7.0, false)).unwrap();
        assert_eq!(scores, vec![2.0, 2.0, 3.0]);
        assert_eq!(o.after, (7.0, false));
        assert!(!o.changed());
    }

    #[test]
    fn decision_change_can_take_a_pass_away() {
        let rs = vec![resp(3.0, &[3, 3], &[1]), resp(3.0, &[3, 3], &[3])];
        let (scores, o) =
            part_two(PartTwoRule::DecisionChange, &rs, 6.0, PASS, (6.0, true)).unwrap();
        assert_eq!(scores, vec![1.0, 3.0]);
        assert_eq!(o.after, (4.0, false));
        assert!(o.changed());
    }

    #[test]
    fn mean_takes_every_reading_and_keeps_blank_responses() {
        // An agreed 2 and 3 (2.5) re-read 3: (2 + 3 + 3) / 3. An adjudicated 1, 3, 2 (2) re-read
        // 3: quarters, 2.25. A blank response scores 0 and is not read again.
        let rs = vec![
            resp(2.5, &[2, 3], &[3]),
            resp(2.0, &[1, 3, 2], &[3]),
            resp(0.0, &[], &[]),
        ];
        let (scores, o) = part_two(PartTwoRule::Mean, &rs, 9.0, PASS, (4.5, false)).unwrap();
        assert!((scores[0] - 8.0 / 3.0).abs() < 1e-12);
        assert_eq!(scores[1], 2.25);
        assert_eq!(scores[2], 0.0);
        assert!((o.after.0 - (8.0 / 3.0 + 2.25)).abs() < 1e-12);
        assert!(!o.after.1);
        assert!(o.changed(), "the points moved though the decision did not");
    }

    #[test]
    fn nothing_is_decided_before_every_re_reading_is_in() {
        let rs = vec![resp(2.0, &[2, 2], &[3]), resp(2.0, &[2, 2], &[])];
        assert_eq!(
            part_two(PartTwoRule::Mean, &rs, 6.0, PASS, (4.0, false)),
            None
        );
    }

    #[test]
    fn points_outside_the_appealed_responses_stay_in_the_total() {
        // An empty slot counts 0 of its points: max 9, the one response read is 3 points.
        let rs = vec![resp(2.0, &[2, 2], &[3])];
        let (_, o) = part_two(PartTwoRule::Mean, &rs, 9.0, PASS, (2.0, false)).unwrap();
        assert!((o.after.0 - 7.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_recount_that_finds_the_same_score_changes_nothing() {
        let same = Outcome {
            before: (47.0, false),
            after: (47.0, false),
        };
        assert!(!same.changed());
        let more = Outcome {
            before: (47.0, false),
            after: (48.0, true),
        };
        assert!(more.changed());
    }
}
