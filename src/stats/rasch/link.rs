//! Linking a new calibration onto the bank's scale, and item drift.
//!
//! A sitting is calibrated on its own (difficulties summing to zero), then shifted onto the
//! scale of the items' earlier calibrations by mean-mean linking over the items both have
//! (Kolen & Brennan 2014, §6.2: under the Rasch model the slope is 1, so only the means
//! differ). An item whose linked difficulty moved by more than [`DRIFT_LOGITS`] from its
//! earlier value, and by more than [`DRIFT_Z`] standard errors of the difference (so the
//! sampling error of a small sitting is not taken for drift), is flagged as drifting.
//! Drifting items are left out of the link and the shift recomputed, once, so one item that
//! moved does not pull every other item with it.

/// The displacement, in logits, past which an item is flagged as drifting (half a logit, the
/// usual screening value for Rasch item displacement; Linacre's Winsteps manual, "Displacement").
pub const DRIFT_LOGITS: f64 = 0.5;

/// How many standard errors of the difference a move must also exceed (two-sided 5%).
pub const DRIFT_Z: f64 = 1.96;

/// One item calibrated now and before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// Its difficulty in the new calibration (on that calibration's own scale).
    pub new: f64,
    /// Its difficulty before, on the bank's scale.
    pub earlier: f64,
    /// The standard error of their difference, √(SE_new² + SE_earlier²), where known.
    pub se: Option<f64>,
}

/// The fewest common items a link takes; with fewer, the calibration stays on its own scale.
pub const MIN_LINK_ITEMS: usize = 5;

/// The link of a calibration to earlier difficulties: the shift added to every new difficulty,
/// and which common items drifted.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Added to each new difficulty to put it on the earlier scale.
    pub shift: f64,
    /// Common items used for the shift (drifting ones left out).
    pub anchors: usize,
    /// `drifted[i]` for each pair given: |d| > [`DRIFT_LOGITS`] and |d| > [`DRIFT_Z`] × its
    /// SE, where d = new + shift − earlier.
    pub drifted: Vec<bool>,
}

/// Links over the items both calibrations have. `None` with fewer than [`MIN_LINK_ITEMS`]
/// pairs or any non-finite difficulty.
pub fn mean_mean(pairs: &[Pair]) -> Option<Link> {
    if pairs.len() < MIN_LINK_ITEMS
        || pairs
            .iter()
            .any(|p| !p.new.is_finite() || !p.earlier.is_finite())
    {
        return None;
    }
    let shift_over = |use_it: &dyn Fn(usize) -> bool| -> Option<(f64, usize)> {
        let (sum, n) = pairs
            .iter()
            .enumerate()
            .filter(|(i, _)| use_it(*i))
            .fold((0.0, 0usize), |(s, n), (_, p)| {
                (s + p.earlier - p.new, n + 1)
            });
        (n >= MIN_LINK_ITEMS).then(|| (sum / n as f64, n))
    };
    let drifted_at = |shift: f64| -> Vec<bool> {
        pairs
            .iter()
            .map(|p| {
                let d = (p.new + shift - p.earlier).abs();
                d > DRIFT_LOGITS
                    && p.se
                        .is_none_or(|se| se.is_nan() || se <= 0.0 || d > DRIFT_Z * se)
            })
            .collect()
    };
    let (first, n) = shift_over(&|_| true)?;
    let screened = drifted_at(first);
    let (shift, anchors) = shift_over(&|i| !screened[i]).unwrap_or((first, n));
    Some(Link {
        shift,
        anchors,
        drifted: drifted_at(shift),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_shift_is_recovered_and_nothing_drifts() {
        let earlier = [-1.2, -0.4, 0.0, 0.3, 0.9, 1.5];
        let pairs: Vec<Pair> = earlier.iter().map(|b| pair(b - 0.7, *b, 0.1)).collect();
        let link = mean_mean(&pairs).unwrap();
        assert!((link.shift - 0.7).abs() < 1e-12);
        assert_eq!(link.anchors, 6);
        assert!(link.drifted.iter().all(|d| !d));
    }

    #[test]
    fn one_moved_item_is_flagged_and_left_out_of_the_link() {
        let earlier = [-1.2, -0.4, 0.0, 0.3, 0.9, 1.5, -0.8];
        let mut pairs: Vec<Pair> = earlier.iter().map(|b| pair(b + 0.25, *b, 0.2)).collect();
        // Item 3 became 1.4 logits harder between sittings (its key was leaked, say).
        pairs[3].new += 1.4;
        let link = mean_mean(&pairs).unwrap();
        assert!((link.shift + 0.25).abs() < 1e-12, "{link:?}");
        assert_eq!(link.anchors, 6);
        assert_eq!(
            link.drifted,
            vec![false, false, false, true, false, false, false]
        );
    }

    #[test]
    fn a_move_within_sampling_error_is_not_drift() {
        let earlier = [-1.2, -0.4, 0.0, 0.3, 0.9, 1.5, -0.8];
        let mut pairs: Vec<Pair> = earlier.iter().map(|b| pair(*b, *b, 0.2)).collect();
        // 0.7 logits is past the size threshold, but within 1.96 SE when the SE is 0.4.
        pairs[1].new += 0.7;
        pairs[1].se = Some(0.4);
        assert!(mean_mean(&pairs).unwrap().drifted.iter().all(|d| !d));
        pairs[1].se = Some(0.3);
        assert!(mean_mean(&pairs).unwrap().drifted[1]);
    }

    #[test]
    fn too_few_common_items_or_a_non_finite_value_give_no_link() {
        assert_eq!(mean_mean(&[pair(0.0, 0.1, 0.1); 4]), None);
        let mut pairs = vec![pair(0.0, 0.1, 0.1); 6];
        pairs[2].earlier = f64::NAN;
        assert_eq!(mean_mean(&pairs), None);
    }

    fn pair(new: f64, earlier: f64, se: f64) -> Pair {
        Pair {
            new,
            earlier,
            se: Some(se),
        }
    }
}
