//! From the estimates to the report: standard errors, infit and outfit (Wright & Masters
//! 1982), fair averages and each facet's separation and reliability.
//!
//! Over an element's ratings in the estimation, with Eₒ and Wₒ the model's expected category
//! and variance and Cₒ = Σₖ (k − Eₒ)⁴ Pₖ its fourth central moment:
//!
//! ```text
//! outfit = Σ (x − E)²/W / n            q²_out = Σ C/W² / n² − 1/n
//! infit  = Σ (x − E)² / Σ W            q²_in  = Σ (C − W²) / (Σ W)²
//! z = (MSQ^⅓ − 1)·3/q + q/3            (Wilson-Hilferty)
//! ```

use super::jmle::{eta, exp_neg, probs, Design, Fitted, CANDIDATE, QUESTION, RATER};
use super::{Element, FacetSummary, FacetsReport, Options, ScaleReport, Status};
use crate::stats::{finite, ratio};

#[derive(Default, Clone, Copy)]
struct Sums {
    n: f64,
    sq_over_w: f64,
    sq: f64,
    w: f64,
    c_over_w2: f64,
    c_minus_w2: f64,
}

pub(super) fn report(d: &Design, fit: &Fitted, options: &Options) -> FacetsReport {
    let eneg = exp_neg(&fit.tau);
    let width = fit.tau.iter().map(Vec::len).max().unwrap_or(1);
    let mut p = vec![0.0; width];
    let mut sums = d.n.map(|k| vec![Sums::default(); k]);
    // Information of every element over the observations it was measured from.
    let mut info = d.n.map(|k| vec![0.0; k]);
    let mut count = d.n.map(|k| vec![0u64; k]);
    let mut total = d.n.map(|k| vec![0u64; k]);
    let mut category_counts: Vec<Vec<u64>> = d.scales.iter().map(|s| vec![0; s.len()]).collect();
    for o in 0..d.ids.len() {
        let id = d.ids[o];
        for f in 0..3 {
            count[f][id[f] as usize] += 1;
            total[f][id[f] as usize] += u64::from(d.score[o]);
        }
        let s = d.scale(o);
        if fit.tau[s].len() < 2 || (0..3).any(|f| !fit.has_measure[f][id[f] as usize]) {
            continue;
        }
        let (e, w) = probs(eta(&fit.measure, id), &eneg[s], &mut p);
        if !d.active[o] {
            for f in 0..3 {
                if d.status[f][id[f] as usize] != Status::Estimated {
                    info[f][id[f] as usize] += w;
                }
            }
            continue;
        }
        category_counts[s][d.cat[o] as usize] += 1;
        if w <= 0.0 {
            continue;
        }
        let resid = f64::from(d.cat[o]) - e;
        let kurt: f64 = p[..fit.tau[s].len()]
            .iter()
            .enumerate()
            .map(|(k, q)| (k as f64 - e).powi(4) * q)
            .sum();
        for f in 0..3 {
            let e = id[f] as usize;
            info[f][e] += w;
            let s = &mut sums[f][e];
            s.n += 1.0;
            s.sq_over_w += resid * resid / w;
            s.sq += resid * resid;
            s.w += w;
            s.c_over_w2 += kurt / (w * w);
            s.c_minus_w2 += kurt - w * w;
        }
    }

    let [mut candidates, mut questions, mut raters]: [Vec<Element>; 3] = [0usize, 1, 2].map(|f| {
        (0..d.n[f])
            .map(|e| {
                let has = fit.has_measure[f][e];
                let se = if has && info[f][e] > 0.0 {
                    finite(1.0 / info[f][e].sqrt())
                } else {
                    None
                };
                let s = sums[f][e];
                let estimated = d.status[f][e] == Status::Estimated && s.n > 0.0;
                let outfit = estimated.then(|| ratio(s.sq_over_w, s.n)).flatten();
                let infit = estimated.then(|| ratio(s.sq, s.w)).flatten();
                let q_out = (s.c_over_w2 / (s.n * s.n) - 1.0 / s.n).max(0.0).sqrt();
                let q_in = (s.c_minus_w2 / (s.w * s.w)).max(0.0).sqrt();
                Element {
                    status: d.status[f][e],
                    count: count[f][e],
                    total: total[f][e],
                    observed_average: ratio(total[f][e] as f64, count[f][e] as f64),
                    measure: has.then_some(fit.measure[f][e]),
                    se,
                    real_se: se.map(|se| se * infit.unwrap_or(1.0).max(1.0).sqrt()),
                    infit,
                    infit_z: infit.and_then(|m| z(m, q_in)),
                    outfit,
                    outfit_z: outfit.and_then(|m| z(m, q_out)),
                    fair_average: None,
                }
            })
            .collect()
    });
    fair_averages(d, fit, &mut candidates, &mut questions, &mut raters);

    let scales = d
        .scales
        .iter()
        .enumerate()
        .map(|(s, scores)| ScaleReport {
            question: (options.model == super::Model::PartialCredit).then_some(s as u32),
            scores: scores.clone(),
            counts: category_counts[s].clone(),
            thresholds: fit.tau[s].iter().skip(1).copied().collect(),
        })
        .collect();
    FacetsReport {
        model: options.model,
        candidate_summary: summary(&candidates),
        question_summary: summary(&questions),
        rater_summary: summary(&raters),
        candidates,
        questions,
        raters,
        scales,
        observations_used: d.active.iter().filter(|&&a| a).count() as u64,
        observations_extreme: d.active.iter().filter(|&&a| !a).count() as u64,
        subsets: subsets(d),
        iterations: fit.iterations,
        converged: fit.converged,
        max_residual: fit.max_residual,
        max_change: fit.max_change,
    }
}

/// Wilson-Hilferty: (MSQ^⅓ − 1)·3/q + q/3, `None` when q is zero or not finite.
fn z(msq: f64, q: f64) -> Option<f64> {
    if q.is_finite() && q > 0.0 {
        finite((msq.cbrt() - 1.0) * 3.0 / q + q / 3.0)
    } else {
        None
    }
}

/// The expected score, in score points, at η on scale s.
fn expected_score(d: &Design, eneg: &[Vec<f64>], s: usize, eta: f64, p: &mut [f64]) -> f64 {
    if eneg[s].is_empty() {
        return 0.0;
    }
    probs(eta, &eneg[s], p);
    d.scales[s]
        .iter()
        .zip(p.iter())
        .map(|(&x, q)| f64::from(x) * q)
        .sum()
}

/// Facets' fair averages, the other facets at their mean (0 for the centred questions and
/// raters, the mean estimated candidate for the candidates): a candidate's is the mean over
/// the measured questions of the expected score at θ (one figure under the rating scale
/// model), a question's the expected score at θ̄ − δ, a rater's the mean over the questions
/// of the expected score at θ̄ − C.
fn fair_averages(
    d: &Design,
    fit: &Fitted,
    candidates: &mut [Element],
    questions: &mut [Element],
    raters: &mut [Element],
) {
    let eneg = exp_neg(&fit.tau);
    let width = fit.tau.iter().map(Vec::len).max().unwrap_or(1);
    let mut p = vec![0.0; width];
    let scales: Vec<usize> = {
        let mut s: Vec<usize> = (0..d.n[QUESTION])
            .filter(|&q| fit.has_measure[QUESTION][q])
            .map(|q| d.scale_of[q] as usize)
            .filter(|&s| fit.tau[s].len() >= 2)
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    // Under the rating scale model every question shares the scale: one expectation.
    let weights: Vec<(usize, f64)> = {
        let mut w: Vec<(usize, f64)> = Vec::new();
        for q in (0..d.n[QUESTION]).filter(|&q| fit.has_measure[QUESTION][q]) {
            let s = d.scale_of[q] as usize;
            if !scales.contains(&s) {
                continue;
            }
            match w.iter_mut().find(|(t, _)| *t == s) {
                Some((_, n)) => *n += 1.0,
                None => w.push((s, 1.0)),
            }
        }
        w
    };
    let n_questions: f64 = weights.iter().map(|(_, n)| n).sum();
    if n_questions == 0.0 {
        return;
    }
    let mean_over_questions = |eta: f64, p: &mut [f64]| {
        weights
            .iter()
            .map(|&(s, n)| n * expected_score(d, &eneg, s, eta, p))
            .sum::<f64>()
            / n_questions
    };
    let estimated: Vec<f64> = (0..d.n[CANDIDATE])
        .filter(|&c| d.status[CANDIDATE][c] == Status::Estimated)
        .map(|c| fit.measure[CANDIDATE][c])
        .collect();
    let theta_bar = estimated.iter().sum::<f64>() / estimated.len().max(1) as f64;
    for (c, el) in candidates.iter_mut().enumerate() {
        if fit.has_measure[CANDIDATE][c] {
            el.fair_average = finite(mean_over_questions(fit.measure[CANDIDATE][c], &mut p[..]));
        }
    }
    for (r, el) in raters.iter_mut().enumerate() {
        if fit.has_measure[RATER][r] {
            el.fair_average = finite(mean_over_questions(
                theta_bar - fit.measure[RATER][r],
                &mut p[..],
            ));
        }
    }
    for (q, el) in questions.iter_mut().enumerate() {
        let s = d.scale_of.get(q).map_or(0, |&s| s as usize);
        if fit.has_measure[QUESTION][q] && fit.tau[s].len() >= 2 {
            let eta = theta_bar - fit.measure[QUESTION][q];
            el.fair_average = finite(expected_score(d, &eneg, s, eta, &mut p));
        }
    }
}

/// Separation and reliability over the estimated elements with a standard error.
fn summary(elements: &[Element]) -> FacetSummary {
    let pairs: Vec<(f64, f64)> = elements
        .iter()
        .filter(|e| e.status == Status::Estimated)
        .filter_map(|e| Some((e.measure?, e.se?)))
        .collect();
    let n = pairs.len() as f64;
    let mean = ratio(pairs.iter().map(|p| p.0).sum(), n);
    let var = mean.map(|m| pairs.iter().map(|p| (p.0 - m).powi(2)).sum::<f64>() / n);
    let mse = ratio(pairs.iter().map(|p| p.1 * p.1).sum(), n);
    let true_var = var.zip(mse).map(|(v, e)| (v - e).max(0.0));
    let rmse = mse.map(f64::sqrt);
    let true_sd = true_var.map(f64::sqrt);
    let separation = true_sd.zip(rmse).and_then(|(t, r)| ratio(t, r));
    let w: f64 = pairs.iter().map(|p| 1.0 / (p.1 * p.1)).sum();
    let weighted_mean = ratio(pairs.iter().map(|p| p.0 / (p.1 * p.1)).sum(), w);
    FacetSummary {
        estimated: pairs.len() as u64,
        mean,
        sd: var.map(f64::sqrt),
        rmse,
        true_sd,
        separation,
        strata: separation.map(|g| (4.0 * g + 1.0) / 3.0),
        reliability: true_var.zip(var).and_then(|(t, v)| ratio(t, v)),
        chi_square: weighted_mean
            .and_then(|m| finite(pairs.iter().map(|p| ((p.0 - m) / p.1).powi(2)).sum())),
        df: (pairs.len() as u64).saturating_sub(1),
    }
}

/// Groups of candidates and raters linked by ratings in the estimation (union-find over
/// candidates and raters, an edge per rating): 1 when every rater is linked to every other.
fn subsets(d: &Design) -> u32 {
    let n = d.n[CANDIDATE] + d.n[RATER];
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn root(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    let mut in_estimation = vec![false; n];
    for o in (0..d.ids.len()).filter(|&o| d.active[o]) {
        let c = d.ids[o][CANDIDATE];
        let r = d.n[CANDIDATE] as u32 + d.ids[o][RATER];
        in_estimation[c as usize] = true;
        in_estimation[r as usize] = true;
        let (a, b) = (root(&mut parent, c), root(&mut parent, r));
        if a != b {
            parent[a as usize] = b;
        }
    }
    (0..n as u32)
        .filter(|&x| in_estimation[x as usize] && root(&mut parent, x) == x)
        .count() as u32
}
