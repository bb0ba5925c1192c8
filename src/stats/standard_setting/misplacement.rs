//! Intra-judge misplacement (van der Linden, 1982, "A latent trait method for determining
//! intrajudge inconsistency in the Angoff and Nedelsky techniques of standard setting", JEM
//! 19(4)): a panelist's cut implies an ability θ_c on the items' Rasch curves, the one whose
//! expected score is that cut; a panelist consistent with the items' difficulties would have
//! rated each item at its probability there, P_i(θ_c). The distance of each rating from it is
//! that rating's misplacement, and their mean the panelist's index (0 for a panelist whose
//! ratings all lie on one ability; larger the more their ratings contradict the items' order
//! of difficulty).

use super::super::finite;
use crate::stats::tcc;

/// One panelist's misplacement on dichotomous items.
#[derive(Debug, Clone, PartialEq)]
pub struct Misplacement {
    /// θ_c, in logits: τ(θ_c) = the panelist's cut (`tcc::theta_for_score`, so a cut within
    /// half a point of 0 or of the number of items is read half a point inside).
    pub theta: f64,
    /// Each item's probability of a correct answer at θ_c, P_i(θ_c).
    pub expected: Vec<f64>,
    /// Each rating's misplacement |r_i − P_i(θ_c)|, in the items' order.
    pub items: Vec<f64>,
    /// The panelist's index: the mean of `items`.
    pub mean: f64,
}

impl Misplacement {
    /// The items' indices from the most misplaced down, at most `k` (ties in the items' order):
    /// the items to discuss with the panelist first.
    pub fn worst(&self, k: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        order.sort_by(|&a, &b| self.items[b].total_cmp(&self.items[a]));
        order.truncate(k);
        order
    }
}

/// The misplacement of a panelist's `ratings` (probabilities from 0 to 1, one per item) on
/// items of Rasch `difficulties` (logits; −∞ or +∞ for an item everyone or no one answered
/// correctly). `None` when the two lengths differ, there is no item, a rating is not a
/// probability, a difficulty is NaN or no difficulty is finite.
pub fn misplacement(ratings: &[f64], difficulties: &[f64]) -> Option<Misplacement> {
    if ratings.is_empty()
        || ratings.len() != difficulties.len()
        || ratings.iter().any(|r| !(0.0..=1.0).contains(r))
        || difficulties.iter().any(|b| b.is_nan())
    {
        return None;
    }
    let cut: f64 = ratings.iter().sum();
    let theta = tcc::theta_for_score(cut, difficulties)?;
    let expected: Vec<f64> = difficulties
        .iter()
        .map(|&b| tcc::p_correct(theta, b))
        .collect();
    let items: Vec<f64> = ratings
        .iter()
        .zip(&expected)
        .map(|(r, p)| (r - p).abs())
        .collect();
    let mean = finite(items.iter().sum::<f64>() / items.len() as f64)?;
    Some(Misplacement {
        theta,
        expected,
        items,
        mean,
    })
}

/// Difficulties for items not calibrated yet, from their observed p-values:
/// b = ln((1 − p) / p), the logit difficulty in a group whose abilities centre on 0 (without
/// the correction for the group's spread that a calibration makes, so a rougher figure). A
/// p-value of 1 gives −∞ and 0 gives +∞ (as a calibration marks such items); one outside 0..1
/// gives NaN, which `misplacement` refuses.
pub fn difficulties_from_p_values(p_values: &[f64]) -> Vec<f64> {
    p_values
        .iter()
        .map(|&p| {
            if p == 0.0 {
                f64::INFINITY
            } else if p == 1.0 {
                f64::NEG_INFINITY
            } else if p > 0.0 && p < 1.0 {
                ((1.0 - p) / p).ln()
            } else {
                f64::NAN
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn misplacement_by_hand() {
        // Two items at 0 and ln 3 logits; ratings .25 and .5 sum to .75, which is τ(0) =
        // .5 + .25. At θ = 0 the items' probabilities are .5 and .25: the panelist rated them
        // in the wrong order, each .25 off.
        let m = misplacement(&[0.25, 0.5], &[0.0, 3f64.ln()]).unwrap();
        assert!(close(m.theta, 0.0), "{m:?}");
        assert!(
            close(m.expected[0], 0.5) && close(m.expected[1], 0.25),
            "{m:?}"
        );
        assert!(close(m.items[0], 0.25) && close(m.items[1], 0.25), "{m:?}");
        assert!(close(m.mean, 0.25));
        assert_eq!(m.worst(1), vec![0]);
        // Three items at −1, 0, 1; ratings .9, .7 and .5118556566078874 sum to
        // 2.1118556566078874 = τ(1). At θ = 1: P = .8807970779778823, .7310585786300049, .5;
        // misplacements .0192029220221177, .0310585786300049, .0118556566078874, mean
        // .020705719086666667.
        let m = misplacement(&[0.9, 0.7, 0.5118556566078874], &[-1.0, 0.0, 1.0]).unwrap();
        assert!(close(m.theta, 1.0), "{m:?}");
        for (got, want) in
            m.items
                .iter()
                .zip([0.0192029220221177, 0.0310585786300049, 0.0118556566078874])
        {
            assert!(close(*got, want), "{m:?}");
        }
        assert!(close(m.mean, 0.020705719086666667), "{m:?}");
        assert_eq!(m.worst(5), vec![1, 0, 2]);
    }

    #[test]
    fn unusable_input_has_no_misplacement() {
        assert_eq!(misplacement(&[], &[]), None);
        assert_eq!(misplacement(&[0.5], &[0.0, 1.0]), None);
        assert_eq!(misplacement(&[1.5], &[0.0]), None);
        assert_eq!(misplacement(&[f64::NAN], &[0.0]), None);
        assert_eq!(misplacement(&[0.5], &[f64::NAN]), None);
        assert_eq!(misplacement(&[0.5], &[f64::INFINITY]), None);
    }

    #[test]
    fn uncalibrated_items_use_their_p_values() {
        let b = difficulties_from_p_values(&[0.5, 0.75, 1.0, 0.0, 1.2]);
        assert!(close(b[0], 0.0) && close(b[1], -(3f64.ln())), "{b:?}");
        assert_eq!((b[2], b[3]), (f64::NEG_INFINITY, f64::INFINITY));
        assert!(b[4].is_nan());
        // An item everyone answered is certain at any ability: rating it 1 is not misplaced.
        // The other two (p .5 and .75, so b 0 and −ln 3) are rated .5 and .75, exactly their
        // probabilities at θ = 0; the cut 2.25 is 1 + τ(0).
        let m = misplacement(&[0.5, 0.75, 1.0], &b[..3]).unwrap();
        assert!(close(m.theta, 0.0), "{m:?}");
        assert!(m.mean < 1e-9, "{m:?}");
    }

    /// Recovery: a panelist who rates every item at its probability at one ability has no
    /// misplacement and that ability back; noise on the ratings raises the index with its size.
    #[test]
    fn a_consistent_panelist_has_none_and_noise_raises_it() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1982);
        let b: Vec<f64> = (0..40).map(|_| rng.gen_range(-2.0..2.0)).collect();
        let exact: Vec<f64> = b.iter().map(|&b| tcc::p_correct(0.7, b)).collect();
        let m = misplacement(&exact, &b).unwrap();
        assert!((m.theta - 0.7).abs() < 1e-9, "{}", m.theta);
        assert!(m.mean < 1e-9, "{}", m.mean);
        let noisy = |rng: &mut rand_chacha::ChaCha8Rng, size: f64| -> Vec<f64> {
            exact
                .iter()
                .map(|p| (p + rng.gen_range(-size..size)).clamp(0.0, 1.0))
                .collect()
        };
        let small = misplacement(&noisy(&mut rng, 0.05), &b).unwrap().mean;
        let large = misplacement(&noisy(&mut rng, 0.3), &b).unwrap().mean;
        assert!(small > 0.005 && small < 0.05, "{small}");
        assert!(large > 2.0 * small, "{small} then {large}");
        // Ratings in the reverse order of the items' difficulty are the most misplaced.
        let mut reversed = exact.clone();
        let mut order: Vec<usize> = (0..b.len()).collect();
        order.sort_by(|&x, &y| b[x].total_cmp(&b[y]));
        for (k, &i) in order.iter().enumerate() {
            reversed[i] = exact[order[order.len() - 1 - k]];
        }
        let worst = misplacement(&reversed, &b).unwrap().mean;
        assert!(worst > large, "{large} then {worst}");
    }
}
