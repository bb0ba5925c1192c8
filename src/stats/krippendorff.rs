//! Krippendorff's alpha: any number of coders, missing ratings allowed. Each unit (a response)
//! with m ≥ 2 ratings adds nᵤc·nᵤk/(m − 1) to the coincidence oᶜᵏ of every pair of its values
//! (nᵤc(nᵤc − 1)/(m − 1) on the diagonal); units with one rating are not pairable and add
//! nothing. Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", Annenberg School
//! for Communication, University of Pennsylvania.

use super::{ratio, Scale};

/// The difference function δ² between two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// 0 if equal, else 1.
    Nominal,
    /// (Σ_{g from c to k} n_g − (n_c + n_k)/2)²: how many values lie between the two.
    Ordinal,
    /// (c − k)².
    Interval,
    /// ((c − k)/(c + k))²; needs a scale without negative scores.
    Ratio,
}

/// The coincidence matrix of a set of units on one scale.
#[derive(Debug, Clone)]
pub struct Coincidence {
    scale: Scale,
    /// Row-major points × points.
    o: Vec<f64>,
    /// Scratch for `add_unit`: each category's count in the unit, and which were touched.
    tally: Vec<u64>,
    counts: Vec<(usize, u64)>,
}

impl Coincidence {
    pub fn new(scale: Scale) -> Self {
        let k = scale.points();
        Self {
            scale,
            o: vec![0.0; k * k],
            tally: vec![0; k],
            counts: Vec::new(),
        }
    }

    /// One unit's ratings; scores off the scale are left out.
    pub fn add_unit(&mut self, scores: &[i64]) {
        let mut counts = std::mem::take(&mut self.counts);
        counts.clear();
        for &s in scores {
            if let Some(c) = self.scale.index(s) {
                if self.tally[c] == 0 {
                    counts.push((c, 0));
                }
                self.tally[c] += 1;
            }
        }
        for (c, n) in counts.iter_mut() {
            *n = std::mem::take(&mut self.tally[*c]);
        }
        self.add_counts(&counts);
        self.counts = counts;
    }

    /// One unit as (category, count) pairs with distinct categories on the scale.
    pub(crate) fn add_counts(&mut self, counts: &[(usize, u64)]) {
        let m: f64 = counts.iter().map(|&(_, n)| n as f64).sum();
        if m < 2.0 {
            return;
        }
        let k = self.scale.points();
        for &(c, nc) in counts {
            for &(d, nd) in counts {
                let pairs = if c == d {
                    nc as f64 * (nc as f64 - 1.0)
                } else {
                    nc as f64 * nd as f64
                };
                if let Some(o) = self.o.get_mut(c * k + d) {
                    *o += pairs / (m - 1.0);
                }
            }
        }
    }

    /// n: the number of pairable values.
    pub fn pairable(&self) -> f64 {
        self.o.iter().sum()
    }

    /// α = 1 − (n − 1)·Σ oᶜᵏδ²ᶜᵏ / Σ n_c·n_k·δ²ᶜᵏ. `None` with fewer than 2 pairable values,
    /// when every pairable value is the same (no expected disagreement), or for the ratio
    /// metric on a scale with negative scores.
    pub fn alpha(&self, metric: Metric) -> Option<f64> {
        let k = self.scale.points();
        if metric == Metric::Ratio && self.scale.min() < 0 {
            return None;
        }
        let marginal: Vec<f64> = self.o.chunks(k).map(|row| row.iter().sum()).collect();
        let n: f64 = marginal.iter().sum();
        if n < 2.0 {
            return None;
        }
        // cumulative[g] = n_0 + … + n_(g−1), for the ordinal metric's sums between values.
        let mut cumulative = vec![0.0; k + 1];
        for g in 0..k {
            cumulative[g + 1] = cumulative[g] + marginal[g];
        }
        let delta2 = |c: usize, d: usize| -> f64 {
            if c == d {
                return 0.0;
            }
            match metric {
                Metric::Nominal => 1.0,
                Metric::Ordinal => {
                    let (lo, hi) = (c.min(d), c.max(d));
                    let between = cumulative[hi + 1] - cumulative[lo];
                    let x = between - (marginal[c] + marginal[d]) / 2.0;
                    x * x
                }
                Metric::Interval => {
                    let x = c as f64 - d as f64;
                    x * x
                }
                Metric::Ratio => {
                    let (vc, vd) = (self.scale.value(c) as f64, self.scale.value(d) as f64);
                    let x = (vc - vd) / (vc + vd);
                    x * x
                }
            }
        };
        let (mut observed, mut expected) = (0.0, 0.0);
        for c in 0..k {
            for d in 0..k {
                let w = delta2(c, d);
                if w != 0.0 {
                    observed += self.o[c * k + d] * w;
                    expected += marginal[c] * marginal[d] * w;
                }
            }
        }
        ratio(expected - (n - 1.0) * observed, expected)
    }
}

/// Krippendorff's alpha of units given as the scores they received (any number, missing ones
/// simply absent; scores off the scale are left out).
pub fn krippendorff_alpha<U: AsRef<[i64]>>(
    scale: Scale,
    units: &[U],
    metric: Metric,
) -> Option<f64> {
    let mut c = Coincidence::new(scale);
    for u in units {
        c.add_unit(u.as_ref());
    }
    c.alpha(metric)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with
    /// missing data: four coders by twelve units, values 1-5. Published nominal .743, ordinal
    /// .815, interval .849, ratio .797; full digits from the `krippendorff` package 0.9.
    #[test]
    fn krippendorff_2011_example() {
        let coders: [[Option<i64>; 12]; 4] = {
            let (x, n) = (Some, None);
            [
                [
                    x(1),
                    x(2),
                    x(3),
                    x(3),
                    x(2),
                    x(1),
                    x(4),
                    x(1),
                    x(2),
                    n,
                    n,
                    n,
                ],
                [
                    x(1),
                    x(2),
                    x(3),
                    x(3),
                    x(2),
                    x(2),
                    x(4),
                    x(1),
                    x(2),
                    x(5),
                    n,
                    x(3),
                ],
                [
                    n,
                    x(3),
                    x(3),
                    x(3),
                    x(2),
                    x(3),
                    x(4),
                    x(2),
                    x(2),
                    x(5),
                    x(1),
                    n,
                ],
                [
                    x(1),
                    x(2),
                    x(3),
                    x(3),
                    x(2),
                    x(4),
                    x(4),
                    x(1),
                    x(2),
                    x(5),
                    x(1),
                    n,
                ],
            ]
        };
        let units: Vec<Vec<i64>> = (0..12)
            .map(|u| coders.iter().filter_map(|c| c[u]).collect())
            .collect();
        let scale = Scale::new(1, 5).unwrap();
        let alpha = |m| krippendorff_alpha(scale, &units, m).unwrap();
        let cases = [
            (Metric::Nominal, 0.743421052631579, 0.743),
            (Metric::Ordinal, 0.8153875037548814, 0.815),
            (Metric::Interval, 0.8491071428571428, 0.849),
            (Metric::Ratio, 0.7974027747116121, 0.797),
        ];
        for (metric, full, published) in cases {
            let a = alpha(metric);
            assert!((a - full).abs() < 1e-12, "{metric:?}: {a} vs {full}");
            assert_eq!((a * 1000.0).round() / 1000.0, published);
        }
        // The example's n: 40 pairable values (unit 12 has one rating).
        let mut c = Coincidence::new(scale);
        units.iter().for_each(|u| c.add_unit(u));
        assert!((c.pairable() - 40.0).abs() < 1e-12);
    }

    #[test]
    fn degenerate_data_give_none() {
        let scale = Scale::new(0, 3).unwrap();
        let none: [[i64; 0]; 0] = [];
        assert_eq!(krippendorff_alpha(scale, &none, Metric::Ordinal), None);
        assert_eq!(krippendorff_alpha(scale, &[[1]], Metric::Ordinal), None);
        assert_eq!(
            krippendorff_alpha(scale, &[[2, 2], [2, 2]], Metric::Interval),
            None
        );
        assert_eq!(
            krippendorff_alpha(scale, &[[9, 9, 9]], Metric::Interval),
            None
        );
        assert_eq!(
            krippendorff_alpha(scale, &[[1, 1], [3, 3]], Metric::Ordinal),
            Some(1.0)
        );
        let signed = Scale::new(-1, 1).unwrap();
        assert_eq!(
            krippendorff_alpha(signed, &[[1, 1], [-1, -1]], Metric::Ratio),
            None
        );
    }
}
