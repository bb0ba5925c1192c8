//! Standard setting, pure: a modified-Angoff (or Yes/No Angoff) panel's cut with its standard
//! error across panelists, each panelist's consistency with the items' observed difficulty and
//! their intra-judge misplacement (van der Linden, 1982), the cut on the Rasch and equated
//! scales and adjusted by a number of standard errors, the impact of a cut on a sitting's
//! scores, and Hofstee's compromise between the panel's acceptable cuts and failure rates and
//! the sitting's score distribution.
//!
//! Conventions (see `docs/statistics.md`, "Standard setting"): a panelist's cut is the sum of
//! their ratings (the expected score of a minimally competent candidate: probabilities for
//! Part One items, 0 or 1 in the Yes/No variant, expected points for Part Two questions); the
//! panel's cut is the mean of the panelists' cuts (the same as the sum of the items' mean
//! ratings), its standard error the panelists' cuts' sample standard deviation over √J
//! (Hambleton & Pitoniak, 2006). A candidate passes at a cut `c` when their score is at least
//! `c`; the failure rate at `c` is the share scoring below it.
//!
//! Files: this one (the panel's cut, consistency, impact), `hofstee`, `misplacement`, `scales`.

mod hofstee;
mod misplacement;
mod scales;

pub use hofstee::{failure_curve, hofstee, Hofstee, HofsteeBounds, HofsteeError};
pub use misplacement::{difficulties_from_p_values, misplacement, Misplacement};
pub use scales::{adjusted_cut, cut_on_scales, CutScales};

use super::{finite, pearson};

/// A modified-Angoff panel's recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct AngoffCut {
    /// The panel's cut: the mean of `panelist_cuts`.
    pub cut: f64,
    /// Each panelist's cut: the sum of their ratings.
    pub panelist_cuts: Vec<f64>,
    /// The panelists' cuts' sample standard deviation (the inter-judge spread); `None` with one
    /// panelist.
    pub sd: Option<f64>,
    /// The cut's standard error, `sd / √J`; `None` with one panelist.
    pub se: Option<f64>,
    /// Each item's mean rating, in the items' order.
    pub item_means: Vec<f64>,
}

/// Why a panel's ratings cannot be summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AngoffError {
    NoPanelists,
    NoItems,
    /// Panelist `panelist` (0-based) rated `got` items where the first rated `want`.
    Ragged {
        panelist: usize,
        got: usize,
        want: usize,
    },
    /// A rating that is not a finite number from 0 to the item's maximum.
    OutOfRange {
        panelist: usize,
        item: usize,
    },
}

impl std::fmt::Display for AngoffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AngoffError::NoPanelists => write!(f, "no panelist has rated"),
            AngoffError::NoItems => write!(f, "no item was rated"),
            AngoffError::Ragged {
                panelist,
                got,
                want,
            } => write!(
                f,
                "panelist {} rated {got} items where the first panelist rated {want}",
                panelist + 1
            ),
            AngoffError::OutOfRange { panelist, item } => write!(
                f,
                "panelist {}'s rating of item {} is not between 0 and the item's maximum",
                panelist + 1,
                item + 1
            ),
        }
    }
}

/// The panel's cut from `ratings[panelist][item]`, each between 0 and `max[item]` (1 for a
/// Part One item rated as a probability, the question's top score for Part Two).
pub fn angoff(ratings: &[Vec<f64>], max: &[f64]) -> Result<AngoffCut, AngoffError> {
    let want = ratings.first().ok_or(AngoffError::NoPanelists)?.len();
    if want == 0 {
        return Err(AngoffError::NoItems);
    }
    for (p, row) in ratings.iter().enumerate() {
        if row.len() != want || max.len() != want {
            return Err(AngoffError::Ragged {
                panelist: p,
                got: row.len(),
                want,
            });
        }
        for (i, &r) in row.iter().enumerate() {
            if !r.is_finite() || r < 0.0 || r > max[i] {
                return Err(AngoffError::OutOfRange {
                    panelist: p,
                    item: i,
                });
            }
        }
    }
    let j = ratings.len() as f64;
    let panelist_cuts: Vec<f64> = ratings.iter().map(|row| row.iter().sum()).collect();
    let cut = panelist_cuts.iter().sum::<f64>() / j;
    let item_means = (0..want)
        .map(|i| ratings.iter().map(|row| row[i]).sum::<f64>() / j)
        .collect();
    let sd = (ratings.len() > 1)
        .then(|| {
            let ss: f64 = panelist_cuts.iter().map(|c| (c - cut).powi(2)).sum();
            finite((ss / (j - 1.0)).sqrt())
        })
        .flatten();
    let se = sd.and_then(|s| finite(s / j.sqrt()));
    Ok(AngoffCut {
        cut,
        panelist_cuts,
        sd,
        se,
        item_means,
    })
}

/// A panelist's consistency with the sitting: the correlation of their ratings with the
/// items' observed difficulty (p-values, or mean scores over the maximum); `None` when either
/// has no variance.
pub fn consistency(ratings: &[f64], observed: &[f64]) -> Option<f64> {
    let n = ratings.len().min(observed.len());
    let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (&x, &y) in ratings.iter().zip(observed).take(n) {
        sx += x;
        sy += y;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    pearson(n as f64, sx, sy, sxx, syy, sxy)
}

/// The share of `scores` at or above `cut` (the pass rate the cut would give); `None` without
/// scores.
pub fn pass_rate(scores: &[f64], cut: f64) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let passed = scores.iter().filter(|&&s| s >= cut).count();
    finite(passed as f64 / scores.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn a_panels_cut_and_its_standard_error_by_hand() {
        // Three panelists, four Part One items. Cuts 2.6, 2.4, 2.8: mean 2.6, sample SD
        // √((0 + .04 + .04)/2) = 0.2, SE 0.2/√3 = 0.11547.
        let ratings = vec![
            vec![0.6, 0.7, 0.5, 0.8],
            vec![0.5, 0.6, 0.6, 0.7],
            vec![0.7, 0.8, 0.4, 0.9],
        ];
        let a = angoff(&ratings, &[1.0; 4]).unwrap();
        assert!(close(a.cut, 2.6), "{a:?}");
        for (got, want) in a.panelist_cuts.iter().zip([2.6, 2.4, 2.8]) {
            assert!(close(*got, want), "{a:?}");
        }
        assert!(close(a.sd.unwrap(), 0.2), "{a:?}");
        assert!(close(a.se.unwrap(), 0.2 / 3f64.sqrt()), "{a:?}");
        for (got, want) in a.item_means.iter().zip([0.6, 0.7, 0.5, 0.8]) {
            assert!(close(*got, want), "{a:?}");
        }
        // The cut is the sum of the items' means too.
        assert!(close(a.item_means.iter().sum::<f64>(), a.cut));
    }

    #[test]
    fn part_two_questions_are_rated_in_points_up_to_their_maximum() {
        let ratings = vec![vec![2.0, 1.5, 3.0], vec![1.0, 2.5, 2.0]];
        let a = angoff(&ratings, &[3.0; 3]).unwrap();
        assert!(close(a.cut, 6.0));
        assert_eq!(
            angoff(&[vec![4.0, 1.0, 1.0]], &[3.0; 3]),
            Err(AngoffError::OutOfRange {
                panelist: 0,
                item: 0
            })
        );
    }

    #[test]
    fn yes_no_angoff_is_the_same_sums_of_zeros_and_ones() {
        // Yes/No Angoff: would a minimally competent candidate answer it? Cuts 3, 2, 4: the
        // panel's cut 3, SD 1, SE 1/√3; an item everyone said yes to has mean 1.
        let ratings = vec![
            vec![1.0, 1.0, 0.0, 1.0, 0.0],
            vec![1.0, 0.0, 0.0, 1.0, 0.0],
            vec![1.0, 1.0, 1.0, 1.0, 0.0],
        ];
        let a = angoff(&ratings, &[1.0; 5]).unwrap();
        assert!(close(a.cut, 3.0) && close(a.sd.unwrap(), 1.0), "{a:?}");
        assert!(close(a.se.unwrap(), 1.0 / 3f64.sqrt()), "{a:?}");
        assert!(close(a.item_means[0], 1.0) && close(a.item_means[4], 0.0));
        assert!(close(a.item_means[1], 2.0 / 3.0));
    }

    #[test]
    fn bad_panels_are_named() {
        assert_eq!(angoff(&[], &[]), Err(AngoffError::NoPanelists));
        assert_eq!(angoff(&[vec![]], &[]), Err(AngoffError::NoItems));
        let ragged = angoff(&[vec![0.5, 0.5], vec![0.5]], &[1.0, 1.0]);
        assert_eq!(
            ragged,
            Err(AngoffError::Ragged {
                panelist: 1,
                got: 1,
                want: 2
            })
        );
        assert_eq!(
            ragged.unwrap_err().to_string(),
            "panelist 2 rated 1 items where the first panelist rated 2"
        );
        assert_eq!(
            angoff(&[vec![f64::NAN]], &[1.0]),
            Err(AngoffError::OutOfRange {
                panelist: 0,
                item: 0
            })
        );
        // One panelist: a cut, but no spread.
        let one = angoff(&[vec![0.5, 0.25]], &[1.0, 1.0]).unwrap();
        assert!(close(one.cut, 0.75));
        assert_eq!((one.sd, one.se), (None, None));
    }

    #[test]
    fn consistency_and_impact_by_hand() {
        // Ratings in the same order as the p-values, linearly: r = 1; reversed: r = -1.
        let p = [0.9, 0.7, 0.5, 0.3];
        assert!(close(consistency(&[0.8, 0.6, 0.4, 0.2], &p).unwrap(), 1.0));
        assert!(close(consistency(&[0.2, 0.4, 0.6, 0.8], &p).unwrap(), -1.0));
        assert_eq!(consistency(&[0.5; 4], &p), None);
        // Ten scores; a cut of 6 passes 6, 6, 7, 8, 9: half.
        let scores = [2.0, 3.0, 4.0, 5.0, 5.0, 6.0, 6.0, 7.0, 8.0, 9.0];
        assert!(close(pass_rate(&scores, 6.0).unwrap(), 0.5));
        assert!(close(pass_rate(&scores, 5.5).unwrap(), 0.5));
        assert!(close(pass_rate(&scores, 0.0).unwrap(), 1.0));
        assert_eq!(pass_rate(&[], 1.0), None);
    }

    /// Recovery: panelists whose ratings are an item's true probability plus noise recover the
    /// sum of the true probabilities, within a few of the cut's standard errors, and the SE
    /// shrinks as the panel grows.
    #[test]
    fn a_simulated_panel_recovers_the_true_cut() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
        let truth: Vec<f64> = (0..60).map(|_| rng.gen_range(0.3..0.9)).collect();
        let true_cut: f64 = truth.iter().sum();
        let panel = |rng: &mut rand_chacha::ChaCha8Rng, j: usize| -> Vec<Vec<f64>> {
            (0..j)
                .map(|_| {
                    // Each panelist has their own leniency, and noise on every item.
                    let lean = rng.gen_range(-0.05..0.05);
                    truth
                        .iter()
                        .map(|t| (t + lean + rng.gen_range(-0.1..0.1)).clamp(0.0, 1.0))
                        .collect()
                })
                .collect()
        };
        let small = angoff(&panel(&mut rng, 5), &[1.0; 60]).unwrap();
        let large = angoff(&panel(&mut rng, 80), &[1.0; 60]).unwrap();
        for a in [&small, &large] {
            let se = a.se.unwrap();
            assert!(
                (a.cut - true_cut).abs() < 4.0 * se + 0.5,
                "cut {} against {true_cut}, SE {se}",
                a.cut
            );
        }
        assert!(large.se.unwrap() < small.se.unwrap());
        assert!(
            (large.cut - true_cut).abs() < 0.5,
            "{} vs {true_cut}",
            large.cut
        );
    }
}
