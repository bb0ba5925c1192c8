//! Resolution: how a response's readings become its score, by the blueprint's rules.
//!
//! Two readings at most `agree_within` points apart resolve to their combination (mean, lower
//! or higher, as the blueprint says). Further apart, the response goes to a third rater, blind to
//! both readings, and the third reading is the response's score: the adjudicator read the
//! response afresh against the rubric, so neither first reading is privileged.

use crate::bank::{Combine, RatingRules};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolution {
    /// Not every reading needed is in yet.
    Waiting,
    /// The two readings are too far apart: a third rater must read it.
    NeedsThird,
    Settled(f64),
}

/// The state of a response given its final readings, in the order they were given (first,
/// second, and the adjudicator's third when there is one).
pub fn resolve(rules: &RatingRules, readings: &[u32]) -> Resolution {
    match readings {
        [] | [_] => Resolution::Waiting,
        [a, b] => {
            if a.abs_diff(*b) <= rules.agree_within {
                Resolution::Settled(combine(rules.combine, *a, *b))
            } else {
                Resolution::NeedsThird
            }
        }
        [a, b, third, ..] => {
            if a.abs_diff(*b) <= rules.agree_within {
                // A third reading that was not needed (say the first two were changed by the
                // committee's reassignment) does not override agreement.
                Resolution::Settled(combine(rules.combine, *a, *b))
            } else {
                Resolution::Settled(f64::from(*third))
            }
        }
    }
}

/// As `resolve`, for a response given a closer look near the cut (`near_cut_margin`): two
/// readings, agreeing or not, call for a third; two that agreed then combine with the third
/// (the mean, lower or higher of all three, as the blueprint's `combine` says), and two too far
/// apart are settled by the third, the adjudicator's, as always.
pub fn resolve_near_cut(rules: &RatingRules, readings: &[u32]) -> Resolution {
    match readings {
        [] | [_] => Resolution::Waiting,
        [_, _] => Resolution::NeedsThird,
        [a, b, third, ..] => {
            if a.abs_diff(*b) <= rules.agree_within {
                Resolution::Settled(match rules.combine {
                    Combine::Mean => f64::from(a + b + third) / 3.0,
                    Combine::Lower => f64::from(*a.min(b).min(third)),
                    Combine::Higher => f64::from(*a.max(b).max(third)),
                })
            } else {
                Resolution::Settled(f64::from(*third))
            }
        }
    }
}

fn combine(how: Combine, a: u32, b: u32) -> f64 {
    match how {
        Combine::Mean => (f64::from(a) + f64::from(b)) / 2.0,
        Combine::Lower => f64::from(a.min(b)),
        Combine::Higher => f64::from(a.max(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closer_look_reads_a_third_time_and_combines_all_three() {
        let mean = rules(1, Combine::Mean);
        assert_eq!(resolve_near_cut(&mean, &[2]), Resolution::Waiting);
        assert_eq!(resolve_near_cut(&mean, &[2, 2]), Resolution::NeedsThird);
        assert_eq!(resolve_near_cut(&mean, &[2, 3]), Resolution::NeedsThird);
        assert_eq!(resolve_near_cut(&mean, &[0, 3]), Resolution::NeedsThird);
        assert_eq!(
            resolve_near_cut(&mean, &[2, 3, 3]),
            Resolution::Settled(8.0 / 3.0)
        );
        // Far apart: the third is the adjudicator's, as without the closer look.
        assert_eq!(
            resolve_near_cut(&mean, &[0, 3, 1]),
            Resolution::Settled(1.0)
        );
        assert_eq!(
            resolve_near_cut(&rules(1, Combine::Lower), &[2, 3, 1]),
            Resolution::Settled(1.0)
        );
        assert_eq!(
            resolve_near_cut(&rules(1, Combine::Higher), &[2, 3, 1]),
            Resolution::Settled(3.0)
        );
    }

    fn rules(agree_within: u32, combine: Combine) -> RatingRules {
        RatingRules {
            agree_within,
            combine,
            ..RatingRules::default()
        }
    }

    #[test]
    fn equal_or_adjacent_readings_resolve_to_their_mean() {
        let r = rules(1, Combine::Mean);
        assert_eq!(resolve(&r, &[2, 2]), Resolution::Settled(2.0));
        assert_eq!(resolve(&r, &[2, 3]), Resolution::Settled(2.5));
        assert_eq!(resolve(&r, &[3, 2]), Resolution::Settled(2.5));
    }

    #[test]
    fn readings_further_apart_go_to_a_third_whose_reading_settles_it() {
        let r = rules(1, Combine::Mean);
        assert_eq!(resolve(&r, &[0, 2]), Resolution::NeedsThird);
        assert_eq!(resolve(&r, &[0, 2, 1]), Resolution::Settled(1.0));
        assert_eq!(resolve(&r, &[3, 0, 3]), Resolution::Settled(3.0));
    }

    #[test]
    fn the_rules_are_the_blueprints() {
        assert_eq!(
            resolve(&rules(0, Combine::Mean), &[2, 3]),
            Resolution::NeedsThird
        );
        assert_eq!(
            resolve(&rules(1, Combine::Lower), &[2, 3]),
            Resolution::Settled(2.0)
        );
        assert_eq!(
            resolve(&rules(2, Combine::Higher), &[1, 3]),
            Resolution::Settled(3.0)
        );
    }

    #[test]
    fn one_reading_waits() {
        let r = RatingRules::default();
        assert_eq!(resolve(&r, &[]), Resolution::Waiting);
        assert_eq!(resolve(&r, &[3]), Resolution::Waiting);
    }
}
