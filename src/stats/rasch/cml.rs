//! Conditional maximum likelihood: persons grouped by presented-item pattern and raw score,
//! Newton-Raphson with step halving on the conditional log-likelihood, which is concave in b.
//!
//! ```text
//! ln L = −Σᵢ sᵢ bᵢ − Σᵥ ln γ_{rᵥ}(ε over v's items)
//! ∂ ln L/∂bᵢ = −sᵢ + Σᵥ P(xᵥᵢ = 1 | rᵥ)
//! −∂² ln L/∂bᵢ∂bⱼ = Σᵥ Cov(xᵥᵢ, xᵥⱼ | rᵥ) = H
//! ```
//!
//! Without anchors H is singular along (1, …, 1): the step solves (H + a·11ᵀ)δ = g, which keeps
//! Σδ = 0 because Σg = 0, and the covariance of the sum-zero estimates is H⁺ =
//! (H + a·11ᵀ)⁻¹ − 11ᵀ/(a·m²), the same as eRm's W(WᵀHW)⁻¹Wᵀ for any W spanning the sum-zero
//! space. With anchors only the free items' block of H is inverted.

use std::collections::HashMap;

use super::esf::Workspace;
use super::{Exclusion, RaschError, RaschResponses, NOT_PRESENTED};

pub(super) struct Estimate {
    /// Difficulties of every item (anchors included; excluded items 0, unused).
    pub difficulty: Vec<f64>,
    pub se: Vec<Option<f64>>,
    pub log_likelihood: f64,
    pub iterations: u32,
}

/// Persons of one presented-item pattern.
struct Pattern {
    /// Calibrated items (free and anchored), ascending.
    items: Vec<usize>,
    /// `(score, persons)` for scores 0 < r < k.
    scores: Vec<(usize, f64)>,
}

const MAX_ITERATIONS: u32 = 100;
/// Newton stops when no difficulty would move more than this, in logits; that last step is
/// taken without evaluating again (the error after it is of the order of its square).
const TOLERANCE: f64 = 1e-6;
/// Groups per thread below which one thread does all the work.
const PARALLEL_MIN: usize = 64;

pub(super) fn estimate(
    data: &RaschResponses,
    anchor: &[Option<f64>],
    excluded: &[Option<Exclusion>],
    included: &[bool],
) -> Result<Estimate, RaschError> {
    let n = data.n_items;
    let calibrated: Vec<bool> = excluded.iter().map(|e| e.is_none()).collect();
    let free: Vec<usize> = (0..n)
        .filter(|&i| calibrated[i] && anchor[i].is_none())
        .collect();
    let patterns = patterns(data, &calibrated, included);
    if patterns.is_empty() {
        return Err(RaschError::NoInformation);
    }
    connected(n, &patterns, &calibrated, anchor)?;
    let mut sufficient = vec![0.0f64; n];
    for (v, _) in included.iter().enumerate().filter(|(_, &inc)| inc) {
        for (i, &x) in data.row(v).iter().enumerate() {
            if x == 1 && calibrated[i] {
                sufficient[i] += 1.0;
            }
        }
    }
    let anchored = free.len() < calibrated.iter().filter(|&&c| c).count();
    let mut b = start(data, anchor, &calibrated, included, &free, anchored);
    let mut eval = evaluate(&patterns, &b, &sufficient, &free)?;
    let mut iterations = 0;
    loop {
        if free.is_empty() {
            break;
        }
        let (step, _) = solve(&eval.hessian, &eval.gradient, free.len(), anchored)
            .ok_or(RaschError::NotFinite)?;
        let largest = step.iter().fold(0.0f64, |m, d| m.max(d.abs()));
        if largest < TOLERANCE {
            // H and ln L stay those of the point before: they change by O(step) = 1e-6
            // relative at most, and ln L by O(g·step), far below 1e-10.
            for (f, &i) in free.iter().enumerate() {
                b[i] += step[f];
            }
            break;
        }
        if iterations >= MAX_ITERATIONS {
            return Err(RaschError::NoConvergence { iterations });
        }
        iterations += 1;
        // Newton steps of more than 2 logits come only from poor starting values.
        let mut lambda = (2.0 / largest).min(1.0);
        let mut accepted = false;
        for _ in 0..40 {
            let mut trial = b.clone();
            for (f, &i) in free.iter().enumerate() {
                trial[i] += lambda * step[f];
            }
            if let Ok(next) = evaluate(&patterns, &trial, &sufficient, &free) {
                if next.log_likelihood >= eval.log_likelihood - 1e-12 * eval.log_likelihood.abs() {
                    b = trial;
                    eval = next;
                    accepted = true;
                    break;
                }
            }
            lambda *= 0.5;
        }
        if !accepted {
            // No ascent along the Newton direction: b is at the maximum to working precision.
            break;
        }
    }
    let mut se = vec![None; n];
    if !free.is_empty() {
        let (_, covariance) = solve(&eval.hessian, &eval.gradient, free.len(), anchored)
            .ok_or(RaschError::NotFinite)?;
        for (f, &i) in free.iter().enumerate() {
            let var = covariance[f];
            se[i] = (var > 0.0 && var.is_finite()).then(|| var.sqrt());
        }
    }
    if b.iter().any(|x| !x.is_finite()) || !eval.log_likelihood.is_finite() {
        return Err(RaschError::NotFinite);
    }
    Ok(Estimate {
        difficulty: b,
        se,
        log_likelihood: eval.log_likelihood,
        iterations,
    })
}

/// Persons with conditional information grouped by their calibrated presented items.
fn patterns(data: &RaschResponses, calibrated: &[bool], included: &[bool]) -> Vec<Pattern> {
    let mut index: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut out: Vec<(Vec<usize>, Vec<f64>)> = Vec::new();
    let mut items = Vec::new();
    for (v, _) in included.iter().enumerate().filter(|(_, &inc)| inc) {
        items.clear();
        let mut r = 0usize;
        for (i, &x) in data.row(v).iter().enumerate() {
            if x != NOT_PRESENTED && calibrated[i] {
                items.push(i);
                r += usize::from(x);
            }
        }
        let p = match index.get(&items) {
            Some(&p) => p,
            None => {
                index.insert(items.clone(), out.len());
                out.push((items.clone(), vec![0.0; items.len() + 1]));
                out.len() - 1
            }
        };
        out[p].1[r] += 1.0;
    }
    out.into_iter()
        .map(|(items, counts)| {
            let k = items.len();
            let scores = (1..k)
                .filter(|&r| counts[r] > 0.0)
                .map(|r| (r, counts[r]))
                .collect();
            Pattern { items, scores }
        })
        .filter(|p: &Pattern| !p.scores.is_empty())
        .collect()
}

/// The calibrated items must be linked by common persons into one group, or, with anchors,
/// every group must hold an anchor: otherwise the groups' scales are not tied to each other.
fn connected(
    n: usize,
    patterns: &[Pattern],
    calibrated: &[bool],
    anchor: &[Option<f64>],
) -> Result<(), RaschError> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for p in patterns {
        let first = root(&mut parent, p.items[0]);
        for &i in &p.items[1..] {
            let r = root(&mut parent, i);
            parent[r] = first;
        }
    }
    let mut roots: HashMap<usize, bool> = HashMap::new();
    for i in (0..n).filter(|&i| calibrated[i]) {
        let r = root(&mut parent, i);
        *roots.entry(r).or_insert(false) |= anchor[i].is_some();
    }
    let any_anchor = roots.values().any(|&a| a);
    let ok = if any_anchor {
        roots.values().all(|&a| a)
    } else {
        roots.len() == 1
    };
    if ok {
        Ok(())
    } else {
        Err(RaschError::NotConnected {
            components: roots.len(),
            anchored: any_anchor,
        })
    }
}

/// Starting values: the log-odds of a wrong answer among the informative persons, centred
/// (without anchors) or shifted to the anchors' mean.
fn start(
    data: &RaschResponses,
    anchor: &[Option<f64>],
    calibrated: &[bool],
    included: &[bool],
    free: &[usize],
    anchored: bool,
) -> Vec<f64> {
    let n = data.n_items;
    let mut presented = vec![0.0f64; n];
    let mut correct = vec![0.0f64; n];
    for (v, _) in included.iter().enumerate().filter(|(_, &inc)| inc) {
        for (i, &x) in data.row(v).iter().enumerate() {
            if x != NOT_PRESENTED {
                presented[i] += 1.0;
                correct[i] += f64::from(x);
            }
        }
    }
    let mut b: Vec<f64> = (0..n)
        .map(|i| {
            if let Some(a) = anchor[i] {
                return a;
            }
            if !calibrated[i] {
                return 0.0;
            }
            let p = (correct[i] + 0.5) / (presented[i] + 1.0);
            ((1.0 - p) / p).ln()
        })
        .collect();
    if free.is_empty() {
        return b;
    }
    let mean_free = free.iter().map(|&i| b[i]).sum::<f64>() / free.len() as f64;
    let target = if anchored {
        let anchors: Vec<f64> = anchor.iter().flatten().copied().collect();
        anchors.iter().sum::<f64>() / anchors.len() as f64
    } else {
        0.0
    };
    for &i in free {
        b[i] += target - mean_free;
    }
    b
}

struct Evaluation {
    log_likelihood: f64,
    /// Over the free items, in `free` order.
    gradient: Vec<f64>,
    /// Free × free, row-major.
    hessian: Vec<f64>,
}

/// The conditional log-likelihood, its gradient and H = −∇² over the free items, the groups
/// split across two threads when there are enough of them.
fn evaluate(
    patterns: &[Pattern],
    b: &[f64],
    sufficient: &[f64],
    free: &[usize],
) -> Result<Evaluation, RaschError> {
    let m = free.len();
    let mut position = vec![usize::MAX; b.len()];
    for (f, &i) in free.iter().enumerate() {
        position[i] = f;
    }
    let threads = if patterns.len() >= 2 * PARALLEL_MIN {
        std::thread::available_parallelism()
            .map(|t| t.get())
            .unwrap_or(1)
            .clamp(1, 2)
    } else {
        1
    };
    let partials: Vec<Option<Partial>> = if threads == 1 {
        vec![accumulate(patterns, b, &position, m)]
    } else {
        let chunk = patterns.len().div_ceil(threads);
        let position = &position;
        std::thread::scope(|scope| {
            let handles: Vec<_> = patterns
                .chunks(chunk)
                .map(|part| scope.spawn(move || accumulate(part, b, position, m)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect()
        })
    };
    let mut total = Partial::new(m);
    for p in partials {
        let p = p.ok_or(RaschError::NotFinite)?;
        total.log_gamma += p.log_gamma;
        for (t, x) in total.expected.iter_mut().zip(&p.expected) {
            *t += x;
        }
        for (t, x) in total.cov.iter_mut().zip(&p.cov) {
            *t += x;
        }
    }
    let log_likelihood =
        -sufficient.iter().zip(b).map(|(s, bi)| s * bi).sum::<f64>() - total.log_gamma;
    let gradient: Vec<f64> = free
        .iter()
        .enumerate()
        .map(|(f, &i)| total.expected[f] - sufficient[i])
        .collect();
    let mut hessian = total.cov;
    for f in 0..m {
        for g in 0..f {
            hessian[f * m + g] = hessian[g * m + f];
        }
    }
    if !log_likelihood.is_finite() || gradient.iter().chain(&hessian).any(|x| !x.is_finite()) {
        return Err(RaschError::NotFinite);
    }
    Ok(Evaluation {
        log_likelihood,
        gradient,
        hessian,
    })
}

struct Partial {
    log_gamma: f64,
    /// Σ P(xᵢ = 1 | r) over the free items.
    expected: Vec<f64>,
    /// Upper triangle (f ≤ g) of Σ Cov(x_f, x_g | r), free × free.
    cov: Vec<f64>,
}

impl Partial {
    fn new(m: usize) -> Self {
        Self {
            log_gamma: 0.0,
            expected: vec![0.0; m],
            cov: vec![0.0; m * m],
        }
    }
}

/// `position[i]`: item i's index among the free items, `usize::MAX` for an anchored one.
fn accumulate(patterns: &[Pattern], b: &[f64], position: &[usize], m: usize) -> Option<Partial> {
    let mut out = Partial::new(m);
    let mut ws = Workspace::default();
    let mut scratch = Vec::new();
    let mut covs = Vec::new();
    let mut local_b = Vec::new();
    let mut local_pos = Vec::new();
    for p in patterns {
        local_b.clear();
        local_b.extend(p.items.iter().map(|&i| b[i]));
        local_pos.clear();
        local_pos.extend(p.items.iter().map(|&i| position[i]));
        for &(r, count) in &p.scores {
            let log_gamma = ws.conditional(&local_b, r)?;
            out.log_gamma += count * log_gamma;
            // Items are in ascending order and so are their free positions: f < g below.
            for (a, &f) in local_pos.iter().enumerate() {
                if f == usize::MAX {
                    continue;
                }
                let pa = ws.pi[a];
                out.expected[f] += count * pa;
                let row = &mut out.cov[f * m..(f + 1) * m];
                row[f] += count * pa * (1.0 - pa);
                // Cov(xₐ, x_c | r) for every later item: the difference identity first, in a
                // loop without branches (so it vectorises), then the near-equal pairs again
                // by the direct sum, then added into H.
                let oa = ws.odds[a];
                let (odds, pi) = (&ws.odds[a + 1..], &ws.pi[a + 1..]);
                covs.clear();
                covs.extend(
                    odds.iter()
                        .zip(pi)
                        .map(|(&oc, &pc)| ((oc * pa - oa * pc) / (oc - oa)).max(0.0) - pa * pc),
                );
                for (d, &oc) in odds.iter().enumerate() {
                    if (oc - oa).abs() <= 1e-4 * oa.max(oc) {
                        covs[d] = ws.joint(a, a + 1 + d, &mut scratch) - pa * pi[d];
                    }
                }
                for (&g, &cov) in local_pos[a + 1..].iter().zip(&covs) {
                    if g != usize::MAX {
                        row[g] += count * cov;
                    }
                }
            }
        }
    }
    Some(out)
}

/// The Newton step and the diagonal of the covariance of the free estimates (see the module
/// doc for the sum-zero case). `None` when the matrix is not positive definite.
fn solve(h: &[f64], g: &[f64], m: usize, anchored: bool) -> Option<(Vec<f64>, Vec<f64>)> {
    let mut a = h.to_vec();
    let shift = if anchored {
        0.0
    } else {
        let trace: f64 = (0..m).map(|i| h[i * m + i]).sum();
        (trace / (m * m) as f64).max(1e-12)
    };
    for x in a.iter_mut() {
        *x += shift;
    }
    let l = cholesky(&a, m)?;
    let step = cholesky_solve(&l, m, g);
    // The diagonal of A⁻¹: column by column.
    let mut diag = Vec::with_capacity(m);
    let mut e = vec![0.0; m];
    for c in 0..m {
        e.iter_mut().for_each(|x| *x = 0.0);
        e[c] = 1.0;
        let col = cholesky_solve(&l, m, &e);
        diag.push(
            col[c]
                - if anchored {
                    0.0
                } else {
                    1.0 / (shift * (m * m) as f64)
                },
        );
    }
    Some((step, diag))
}

/// Lower-triangular L with A = LLᵀ, row-major; `None` unless A is positive definite.
fn cholesky(a: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let mut s = a[i * m + j];
            for k in 0..j {
                s -= l[i * m + k] * l[j * m + k];
            }
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return None;
                }
                l[i * m + i] = s.sqrt();
            } else {
                l[i * m + j] = s / l[j * m + j];
            }
        }
    }
    Some(l)
}

fn cholesky_solve(l: &[f64], m: usize, rhs: &[f64]) -> Vec<f64> {
    let mut y = rhs.to_vec();
    for i in 0..m {
        let mut s = y[i];
        for k in 0..i {
            s -= l[i * m + k] * y[k];
        }
        y[i] = s / l[i * m + i];
    }
    for i in (0..m).rev() {
        let mut s = y[i];
        for k in i + 1..m {
            s -= l[k * m + i] * y[k];
        }
        y[i] = s / l[i * m + i];
    }
    y
}
