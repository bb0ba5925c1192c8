//! The joint maximum-likelihood estimation, as Facets does it: the data laid out flat, extreme
//! elements left out until nothing changes, Newton-Raphson steps facet after facet (each
//! element's step is its marginal score residual over its information, at most one logit),
//! the thresholds by the same rule on their category counts, then the left-out elements
//! measured with every other estimate held.

use super::{FacetsError, Model, Observation, Options, Status};

pub(super) const CANDIDATE: usize = 0;
pub(super) const QUESTION: usize = 1;
pub(super) const RATER: usize = 2;

/// The data, flat: an observation is an index into these vectors.
pub(super) struct Design {
    /// Elements in each facet (the largest id + 1).
    pub n: [usize; 3],
    pub ids: Vec<[u32; 3]>,
    pub score: Vec<u32>,
    /// Each question's scale: 0 for all under the rating scale model.
    pub scale_of: Vec<u32>,
    /// The scores in use in each scale among the observations in the estimation.
    pub scales: Vec<Vec<u32>>,
    /// Each observation's category in its scale (a score squeezed out maps to the category
    /// at or below it).
    pub cat: Vec<u16>,
    pub active: Vec<bool>,
    pub status: [Vec<Status>; 3],
}

impl Design {
    pub fn new(observations: &[Observation], options: &Options) -> Self {
        let mut n = [0usize; 3];
        let ids: Vec<[u32; 3]> = observations
            .iter()
            .map(|o| [o.candidate, o.question, o.rater])
            .collect();
        for id in &ids {
            for f in 0..3 {
                n[f] = n[f].max(id[f] as usize + 1);
            }
        }
        let score: Vec<u32> = observations.iter().map(|o| o.score).collect();
        let scale_of: Vec<u32> = match options.model {
            Model::RatingScale => vec![0; n[QUESTION]],
            Model::PartialCredit => (0..n[QUESTION] as u32).collect(),
        };
        let n_scales = match options.model {
            Model::RatingScale => 1,
            Model::PartialCredit => n[QUESTION],
        };
        let mut status: [Vec<Status>; 3] = n.map(|k| vec![Status::NotObserved; k]);
        for id in &ids {
            for f in 0..3 {
                status[f][id[f] as usize] = Status::Estimated;
            }
        }
        let mut design = Design {
            n,
            ids,
            score,
            scale_of,
            scales: vec![Vec::new(); n_scales],
            cat: vec![0; observations.len()],
            active: vec![true; observations.len()],
            status,
        };
        design.leave_out_extremes(options.max_score);
        design
    }

    pub fn scale(&self, o: usize) -> usize {
        self.scale_of[self.ids[o][QUESTION] as usize] as usize
    }

    /// The highest category of a scale (0 for a scale with one score in use).
    pub fn top(&self, s: usize) -> usize {
        self.scales[s].len().saturating_sub(1)
    }

    /// Leaves out, until nothing changes, every element whose ratings in the estimation are
    /// all in the lowest or all in the highest category in use.
    fn leave_out_extremes(&mut self, max_score: u32) {
        let len = self.ids.len();
        loop {
            self.squeeze(max_score);
            let mut low = self.n.map(|k| vec![true; k]);
            let mut high = self.n.map(|k| vec![true; k]);
            let mut seen = self.n.map(|k| vec![false; k]);
            let mut value = self.n.map(|k| vec![0.0f64; k]);
            for o in (0..len).filter(|&o| self.active[o]) {
                let (c, top) = (self.cat[o] as usize, self.top(self.scale(o)));
                for f in 0..3 {
                    let e = self.ids[o][f] as usize;
                    seen[f][e] = true;
                    low[f][e] &= c == 0;
                    high[f][e] &= c == top;
                    value[f][e] += f64::from(self.score[o]) / f64::from(max_score) - 0.5;
                }
            }
            let mut changed = false;
            for f in 0..3 {
                for e in 0..self.n[f] {
                    if !seen[f][e] || !(low[f][e] || high[f][e]) {
                        continue;
                    }
                    // Both at once only on one-category scales: the side of the scale decides.
                    let is_high = high[f][e] && (!low[f][e] || value[f][e] >= 0.0);
                    self.status[f][e] = if is_high {
                        Status::ExtremeHigh
                    } else {
                        Status::ExtremeLow
                    };
                    changed = true;
                }
            }
            if !changed {
                break;
            }
            for o in 0..len {
                let id = self.ids[o];
                if (0..3).any(|f| self.status[f][id[f] as usize] != Status::Estimated) {
                    self.active[o] = false;
                }
            }
        }
        for f in 0..3 {
            let mut in_estimation = vec![false; self.n[f]];
            for o in (0..len).filter(|&o| self.active[o]) {
                in_estimation[self.ids[o][f] as usize] = true;
            }
            for (e, status) in self.status[f].iter_mut().enumerate() {
                if *status == Status::Estimated && !in_estimation[e] {
                    *status = Status::Dropped;
                }
            }
        }
    }

    /// The scores in use among the observations in the estimation, and every observation's
    /// category.
    fn squeeze(&mut self, max_score: u32) {
        let width = max_score as usize + 1;
        let mut used = vec![false; self.scales.len() * width];
        for o in (0..self.ids.len()).filter(|&o| self.active[o]) {
            used[self.scale(o) * width + self.score[o] as usize] = true;
        }
        // Per scale, the category of every score: the last score in use at or below it.
        let mut category = vec![0u16; self.scales.len() * width];
        for (s, scale) in self.scales.iter_mut().enumerate() {
            scale.clear();
            for x in 0..width {
                if used[s * width + x] {
                    scale.push(x as u32);
                }
                category[s * width + x] = scale.len().saturating_sub(1) as u16;
            }
        }
        for o in 0..self.ids.len() {
            self.cat[o] = category[self.scale(o) * width + self.score[o] as usize];
        }
    }
}

/// The estimates.
pub(super) struct Fitted {
    /// Per facet, per element (0 for elements without a measure).
    pub measure: [Vec<f64>; 3],
    pub has_measure: [Vec<bool>; 3],
    /// Per scale, Fₖ at index k (index 0 unused, 0).
    pub tau: Vec<Vec<f64>>,
    pub iterations: u32,
    pub converged: bool,
    pub max_residual: f64,
    pub max_change: f64,
}

/// The observations in the estimation, laid out for the inner loop.
struct Active {
    ids: Vec<[u32; 3]>,
    cat: Vec<u16>,
    scale: Vec<u32>,
}

/// Category probabilities at η on a scale with `eneg[k]` = exp(−Fₖ), into `p`; returns the
/// expected category and its variance. One exp per call: the numerators are products.
#[inline]
pub(super) fn probs(eta: f64, eneg: &[f64], p: &mut [f64]) -> (f64, f64) {
    const BIG: f64 = 1e150;
    let e = eta.clamp(-200.0, 200.0).exp();
    let mut u = 1.0;
    let mut sum = 1.0;
    p[0] = 1.0;
    for k in 1..eneg.len() {
        if u > BIG {
            for q in p[..k].iter_mut() {
                *q /= BIG;
            }
            sum /= BIG;
            u /= BIG;
        }
        u *= e * eneg[k];
        p[k] = u;
        sum += u;
    }
    let (mut mean, mut second) = (0.0, 0.0);
    for (k, q) in p[..eneg.len()].iter_mut().enumerate() {
        *q /= sum;
        let k = k as f64;
        mean += k * *q;
        second += k * k * *q;
    }
    (mean, (second - mean * mean).max(0.0))
}

/// exp(−Fₖ) of every scale.
pub(super) fn exp_neg(tau: &[Vec<f64>]) -> Vec<Vec<f64>> {
    tau.iter()
        .map(|t| {
            t.iter()
                .enumerate()
                .map(|(k, f)| if k == 0 { 1.0 } else { (-f).exp() })
                .collect()
        })
        .collect()
}

pub(super) fn eta(measure: &[Vec<f64>; 3], id: [u32; 3]) -> f64 {
    measure[CANDIDATE][id[0] as usize]
        - measure[QUESTION][id[1] as usize]
        - measure[RATER][id[2] as usize]
}

/// The direction of a facet's measure: up with the score for candidates, down for the rest.
pub(super) fn orientation(f: usize) -> f64 {
    if f == CANDIDATE {
        1.0
    } else {
        -1.0
    }
}

pub(super) fn estimate(d: &Design, options: &Options) -> Result<Fitted, FacetsError> {
    let act = Active {
        ids: (0..d.ids.len())
            .filter(|&o| d.active[o])
            .map(|o| d.ids[o])
            .collect(),
        cat: (0..d.ids.len())
            .filter(|&o| d.active[o])
            .map(|o| d.cat[o])
            .collect(),
        scale: (0..d.ids.len())
            .filter(|&o| d.active[o])
            .map(|o| d.scale(o) as u32)
            .collect(),
    };
    if act.ids.is_empty() {
        return Err(FacetsError::NoInformation);
    }
    let estimated = d.status.clone().map(|s| {
        s.iter()
            .map(|&x| x == Status::Estimated)
            .collect::<Vec<bool>>()
    });
    let mut measure = d.n.map(|k| vec![0.0; k]);
    let mut tau: Vec<Vec<f64>> = d.scales.iter().map(|s| vec![0.0; s.len()]).collect();
    // Observed counts at or above each category, per scale: the thresholds' statistics.
    let mut observed_ge: Vec<Vec<f64>> = tau.iter().map(|t| vec![0.0; t.len()]).collect();
    // Start candidates at the log-odds of their score, as PROX would.
    let (mut raw, mut top) = (vec![0.0; d.n[0]], vec![0.0; d.n[0]]);
    for o in 0..act.ids.len() {
        let s = act.scale[o] as usize;
        for count in observed_ge[s]
            .iter_mut()
            .take(act.cat[o] as usize + 1)
            .skip(1)
        {
            *count += 1.0;
        }
        let c = act.ids[o][0] as usize;
        raw[c] += f64::from(act.cat[o]);
        top[c] += d.top(s) as f64;
    }
    for c in 0..d.n[0] {
        if estimated[0][c] {
            measure[0][c] = ((raw[c] + 0.5) / (top[c] - raw[c] + 0.5)).ln();
        }
    }

    let width = d.scales.iter().map(Vec::len).max().unwrap_or(1);
    let mut p = vec![0.0; width];
    let mut residual: Vec<f64> = Vec::new();
    let mut information: Vec<f64> = Vec::new();
    let (mut iterations, mut converged) = (0, false);
    let (mut max_residual, mut max_change) = (f64::INFINITY, f64::INFINITY);
    while iterations < options.max_iterations {
        iterations += 1;
        max_residual = 0.0f64;
        max_change = 0.0f64;
        for f in 0..3 {
            let eneg = exp_neg(&tau);
            residual.clear();
            residual.resize(d.n[f], 0.0);
            information.clear();
            information.resize(d.n[f], 0.0);
            for o in 0..act.ids.len() {
                let id = act.ids[o];
                let eneg = &eneg[act.scale[o] as usize];
                let (e, v) = probs(eta(&measure, id), eneg, &mut p);
                let i = id[f] as usize;
                residual[i] += f64::from(act.cat[o]) - e;
                information[i] += v;
            }
            let before = if f == CANDIDATE {
                Vec::new()
            } else {
                measure[f].clone()
            };
            for e in (0..d.n[f]).filter(|&e| estimated[f][e]) {
                max_residual = max_residual.max(residual[e].abs());
                if information[e] > 0.0 {
                    let step = (residual[e] / information[e]).clamp(-1.0, 1.0);
                    measure[f][e] += orientation(f) * step;
                    if f == CANDIDATE {
                        max_change = max_change.max(step.abs());
                    }
                }
            }
            if f != CANDIDATE {
                centre(&mut measure[f], &estimated[f]);
                for e in (0..d.n[f]).filter(|&e| estimated[f][e]) {
                    max_change = max_change.max((measure[f][e] - before[e]).abs());
                }
            }
        }
        max_change = max_change.max(update_thresholds(
            &act,
            &measure,
            &mut tau,
            &observed_ge,
            &mut p,
        ));
        if !measure
            .iter()
            .flatten()
            .chain(tau.iter().flatten())
            .all(|x| x.is_finite())
        {
            return Err(FacetsError::NotFinite);
        }
        if max_residual < options.max_residual && max_change < options.max_change {
            converged = true;
            break;
        }
    }
    let mut has_measure = estimated;
    measure_left_out(d, options, &tau, &mut measure, &mut has_measure);
    Ok(Fitted {
        measure,
        has_measure,
        tau,
        iterations,
        converged,
        max_residual,
        max_change,
    })
}

/// Subtracts the mean of the estimated elements.
fn centre(x: &mut [f64], estimated: &[bool]) {
    let (sum, n) = x
        .iter()
        .zip(estimated)
        .filter(|(_, e)| **e)
        .fold((0.0, 0.0), |(s, n), (v, _)| (s + v, n + 1.0));
    if n > 0.0 {
        let mean = sum / n;
        for (v, _) in x.iter_mut().zip(estimated).filter(|(_, e)| **e) {
            *v -= mean;
        }
    }
}

/// One Newton step on every threshold: dlogL/dFₖ = E(N≥k) − O(N≥k), its information the sum
/// of P(x ≥ k)(1 − P(x ≥ k)); each scale's thresholds then centred. Returns the largest change.
fn update_thresholds(
    act: &Active,
    measure: &[Vec<f64>; 3],
    tau: &mut [Vec<f64>],
    observed_ge: &[Vec<f64>],
    p: &mut [f64],
) -> f64 {
    let eneg = exp_neg(tau);
    let mut expected: Vec<Vec<f64>> = tau.iter().map(|t| vec![0.0; t.len()]).collect();
    let mut info = expected.clone();
    for o in 0..act.ids.len() {
        let s = act.scale[o] as usize;
        let m = tau[s].len();
        probs(eta(measure, act.ids[o]), &eneg[s], p);
        let mut ge = 0.0;
        for k in (1..m).rev() {
            ge += p[k];
            expected[s][k] += ge;
            info[s][k] += ge * (1.0 - ge);
        }
    }
    let mut change = 0.0f64;
    for s in 0..tau.len() {
        let m = tau[s].len();
        if m < 2 {
            continue;
        }
        let before = tau[s].clone();
        for k in 1..m {
            if info[s][k] > 0.0 {
                let step = ((expected[s][k] - observed_ge[s][k]) / info[s][k]).clamp(-1.0, 1.0);
                tau[s][k] = (tau[s][k] + step).clamp(-100.0, 100.0);
            }
        }
        let mean = tau[s][1..].iter().sum::<f64>() / (m - 1) as f64;
        for k in 1..m {
            tau[s][k] -= mean;
            change = change.max((tau[s][k] - before[k]).abs());
        }
    }
    change
}

/// Measures every element left out of the estimation (extreme, or dropped with them) from
/// all its observations, every other estimate held: candidates first, then questions, then
/// raters. The score it must expect is its own, an extreme one moved inwards by the
/// adjustment, and never nearer an end than that.
fn measure_left_out(
    d: &Design,
    options: &Options,
    tau: &[Vec<f64>],
    measure: &mut [Vec<f64>; 3],
    has_measure: &mut [Vec<bool>; 3],
) {
    let eneg = exp_neg(tau);
    let width = tau.iter().map(Vec::len).max().unwrap_or(1);
    let mut p = vec![0.0; width];
    let inactive: Vec<usize> = (0..d.ids.len()).filter(|&o| !d.active[o]).collect();
    let adjust = options.extreme_adjustment;
    let left_out = |f: usize, e: usize| {
        matches!(
            d.status[f][e],
            Status::ExtremeLow | Status::ExtremeHigh | Status::Dropped
        )
    };
    let mut target = d.n.map(|k| vec![0.0; k]);
    let mut solving = d.n.map(|k| vec![false; k]);
    for f in 0..3 {
        let (mut raw, mut top) = (vec![0.0; d.n[f]], vec![0.0; d.n[f]]);
        for &o in &inactive {
            let e = d.ids[o][f] as usize;
            if left_out(f, e) {
                raw[e] += f64::from(d.cat[o]);
                top[e] += d.top(d.scale(o)) as f64;
            }
        }
        for e in (0..d.n[f]).filter(|&e| left_out(f, e) && top[e] > 0.0) {
            let lo = adjust.min(top[e] / 2.0);
            target[f][e] = match d.status[f][e] {
                Status::ExtremeLow => lo,
                Status::ExtremeHigh => top[e] - lo,
                _ => raw[e].clamp(lo, top[e] - lo),
            };
            solving[f][e] = true;
            measure[f][e] = 0.0;
        }
    }
    // Newton steps facet after facet until no left-out measure moves: two left-out elements
    // (an extreme candidate read by a dropped rater) are measured against each other.
    let mut residual: Vec<f64> = Vec::new();
    let mut information: Vec<f64> = Vec::new();
    for _ in 0..500 {
        let mut largest = 0.0f64;
        for f in 0..3 {
            if !solving[f].iter().any(|&s| s) {
                continue;
            }
            residual.clear();
            residual.resize(d.n[f], 0.0);
            information.clear();
            information.resize(d.n[f], 0.0);
            for &o in &inactive {
                let e = d.ids[o][f] as usize;
                if !solving[f][e] {
                    continue;
                }
                let (x, v) = probs(eta(measure, d.ids[o]), &eneg[d.scale(o)], &mut p);
                residual[e] += x;
                information[e] += v;
            }
            for e in (0..d.n[f]).filter(|&e| solving[f][e]) {
                if information[e] > 0.0 {
                    let step = ((target[f][e] - residual[e]) / information[e]).clamp(-1.0, 1.0);
                    measure[f][e] += orientation(f) * step;
                    largest = largest.max(step.abs());
                }
            }
        }
        if largest < 1e-10 {
            break;
        }
    }
    for f in 0..3 {
        for e in (0..d.n[f]).filter(|&e| solving[f][e]) {
            has_measure[f][e] = measure[f][e].is_finite();
        }
    }
}
