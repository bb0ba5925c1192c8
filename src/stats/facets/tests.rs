use rand::{seq::index, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::jmle::probs;
use super::*;

pub(crate) fn obs(candidate: u32, question: u32, rater: u32, score: u32) -> Observation {
    Observation {
        candidate,
        question,
        rater,
        score,
    }
}

/// Tight limits, for identities that hold at the exact solution.
pub(crate) fn tight(model: Model, max_score: u32) -> Options {
    Options {
        max_residual: 1e-9,
        max_change: 1e-10,
        max_iterations: 5_000,
        ..Options::new(model, max_score)
    }
}

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A score drawn from the model at η with thresholds `tau` (index 0 unused).
fn draw(rng: &mut ChaCha8Rng, eta: f64, tau: &[f64]) -> u32 {
    let eneg: Vec<f64> = tau
        .iter()
        .enumerate()
        .map(|(k, f)| if k == 0 { 1.0 } else { (-f).exp() })
        .collect();
    let mut p = vec![0.0; tau.len()];
    probs(eta, &eneg, &mut p);
    let u: f64 = rng.gen();
    let mut acc = 0.0;
    for (k, q) in p.iter().enumerate() {
        acc += q;
        if u < acc {
            return k as u32;
        }
    }
    (tau.len() - 1) as u32
}

struct Simulated {
    data: Vec<Observation>,
    theta: Vec<f64>,
    delta: Vec<f64>,
    severity: Vec<f64>,
}

/// Candidates θ ~ N(0, 1), every question answered, each response read by `readings`
/// distinct raters drawn at random; `tau(q)` the thresholds of question q.
fn simulate(
    seed: u64,
    candidates: usize,
    delta: &[f64],
    severity: &[f64],
    readings: usize,
    tau: impl Fn(usize) -> Vec<f64>,
) -> Simulated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let theta: Vec<f64> = (0..candidates).map(|_| normal(&mut rng)).collect();
    let mut data = Vec::new();
    for (c, t) in theta.iter().enumerate() {
        for (q, d) in delta.iter().enumerate() {
            for r in index::sample(&mut rng, severity.len(), readings) {
                let x = draw(&mut rng, t - d - severity[r], &tau(q));
                data.push(obs(c as u32, q as u32, r as u32, x));
            }
        }
    }
    Simulated {
        data,
        theta,
        delta: delta.to_vec(),
        severity: severity.to_vec(),
    }
}

fn rmse(estimates: &[Element], truth: &[f64]) -> f64 {
    let mean = truth.iter().sum::<f64>() / truth.len() as f64;
    let sum: f64 = estimates
        .iter()
        .zip(truth)
        .map(|(e, t)| (e.measure.expect("measured") - (t - mean)).powi(2))
        .sum();
    (sum / truth.len() as f64).sqrt()
}

const SEVERITY: [f64; 6] = [-1.0, -0.6, -0.2, 0.2, 0.6, 1.0];
const DIFFICULTY: [f64; 6] = [-0.75, -0.45, -0.15, 0.15, 0.45, 0.75];
const THRESHOLDS: [f64; 4] = [0.0, -1.5, 0.0, 1.5];

/// Acceptance (issue 12): 6 raters of known severity, 500 candidates, 6 questions, each
/// response read by 2 raters, scores 0–3 from the rating scale model; seed 12. Facets'
/// default convergence limits (0.5 score points, 0.01 logits).
#[test]
fn recovers_rater_severities_on_simulated_data() {
    let sim = simulate(12, 500, &DIFFICULTY, &SEVERITY, 2, |_| THRESHOLDS.to_vec());
    assert_eq!(sim.data.len(), 6_000);
    let report = analyse(&sim.data, &Options::new(Model::RatingScale, 3)).unwrap();
    assert!(report.converged);
    let raters = rmse(&report.raters, &sim.severity);
    assert!(raters < 0.15, "rater RMSE {raters}");
    let questions = rmse(&report.questions, &sim.delta);
    assert!(questions < 0.15, "question RMSE {questions}");
    for (k, f) in report.scales[0].thresholds.iter().enumerate() {
        assert!((f - THRESHOLDS[k + 1]).abs() < 0.2, "F{} = {f}", k + 1);
    }
    for (r, el) in report.raters.iter().enumerate() {
        let m = el.measure.unwrap();
        assert!((m - SEVERITY[r]).abs() < 0.3, "rater {r}: {m}");
        assert!((0.02..0.1).contains(&el.se.unwrap()), "{el:?}");
        assert_eq!(el.status, Status::Estimated);
        // Data from the model fit it.
        let infit = el.infit.unwrap();
        assert!((0.85..1.15).contains(&infit), "rater {r} infit {infit}");
    }
    // Candidates: measures follow the truth.
    let pairs: Vec<(f64, f64)> = report
        .candidates
        .iter()
        .zip(&sim.theta)
        .filter(|(e, _)| e.status == Status::Estimated)
        .map(|(e, &t)| (e.measure.unwrap(), t))
        .collect();
    let n = pairs.len() as f64;
    let (sx, sy) = pairs.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (sxx, syy, sxy) = pairs.iter().fold((0.0, 0.0, 0.0), |a, p| {
        (a.0 + p.0 * p.0, a.1 + p.1 * p.1, a.2 + p.0 * p.1)
    });
    let r = crate::stats::pearson(n, sx, sy, sxx, syy, sxy).unwrap();
    assert!(r > 0.85, "r(θ̂, θ) = {r}");
    // Six raters 0.4 logits apart are told apart.
    let s = &report.rater_summary;
    assert!(s.reliability.unwrap() > 0.9, "{s:?}");
    assert!(s.separation.unwrap() > 3.0, "{s:?}");
}

#[test]
fn questions_and_raters_are_centred_and_thresholds_sum_to_zero() {
    let sim = simulate(3, 60, &DIFFICULTY[..4], &SEVERITY, 2, |_| {
        THRESHOLDS.to_vec()
    });
    let report = analyse(&sim.data, &tight(Model::RatingScale, 3)).unwrap();
    assert!(report.converged);
    for els in [&report.questions, &report.raters] {
        let estimated: Vec<f64> = els
            .iter()
            .filter(|e| e.status == Status::Estimated)
            .map(|e| e.measure.unwrap())
            .collect();
        assert!(estimated.iter().sum::<f64>().abs() < 1e-9);
    }
    let sum: f64 = report.scales[0].thresholds.iter().sum();
    assert!(sum.abs() < 1e-9);
    // At the solution every element's expected score equals its observed score: the
    // candidates are not centred, their mean is where the data put it.
    let mean: f64 = report
        .candidates
        .iter()
        .filter(|e| e.status == Status::Estimated)
        .map(|e| e.measure.unwrap())
        .sum::<f64>();
    assert!(mean.abs() > 1e-3);
    assert!(report.max_residual < 1e-9);
}

/// The joint likelihood equations, checked from the report alone: at the estimates every
/// estimated element's observed score equals its expected score, and each category count at
/// or above k equals its expectation (the thresholds' equations).
#[test]
fn the_estimates_solve_the_likelihood_equations() {
    let mut sim = simulate(4, 120, &DIFFICULTY[..4], &SEVERITY, 2, |_| {
        THRESHOLDS.to_vec()
    });
    // A candidate with every rating 3: left out of the equations.
    for q in 0..4 {
        sim.data.push(obs(120, q, q, 3));
    }
    let report = analyse(&sim.data, &tight(Model::RatingScale, 3)).unwrap();
    let eneg: Vec<f64> = std::iter::once(1.0)
        .chain(report.scales[0].thresholds.iter().map(|f| (-f).exp()))
        .collect();
    let mut p = [0.0; 4];
    let mut residual = [
        vec![0.0; report.candidates.len()],
        vec![0.0; report.questions.len()],
        vec![0.0; report.raters.len()],
    ];
    let mut at_or_above = [0.0; 4];
    let mut used = 0;
    for o in &sim.data {
        let c = &report.candidates[o.candidate as usize];
        if c.status != Status::Estimated {
            continue;
        }
        used += 1;
        let eta = c.measure.unwrap()
            - report.questions[o.question as usize].measure.unwrap()
            - report.raters[o.rater as usize].measure.unwrap();
        let (e, _) = probs(eta, &eneg, &mut p);
        let x = f64::from(o.score);
        residual[0][o.candidate as usize] += x - e;
        residual[1][o.question as usize] += x - e;
        residual[2][o.rater as usize] += x - e;
        for k in 1..4 {
            let expected: f64 = p[k..].iter().sum();
            at_or_above[k] += f64::from(u8::from(o.score as usize >= k)) - expected;
        }
    }
    assert_eq!(used, report.observations_used);
    assert!(report.observations_extreme > 0, "the case has extremes");
    for r in residual.iter().flatten().chain(&at_or_above) {
        assert!(r.abs() < 1e-7, "{r}");
    }
}

/// Reversing the scale (x → max − x) negates every measure and mirrors the thresholds.
#[test]
fn reversing_the_scale_negates_every_measure() {
    let sim = simulate(5, 80, &DIFFICULTY[..3], &SEVERITY[..4], 2, |_| {
        THRESHOLDS.to_vec()
    });
    let reversed: Vec<Observation> = sim
        .data
        .iter()
        .map(|o| Observation {
            score: 3 - o.score,
            ..*o
        })
        .collect();
    let options = tight(Model::RatingScale, 3);
    let a = analyse(&sim.data, &options).unwrap();
    let b = analyse(&reversed, &options).unwrap();
    for (x, y) in [
        (&a.candidates, &b.candidates),
        (&a.questions, &b.questions),
        (&a.raters, &b.raters),
    ] {
        for (e, f) in x.iter().zip(y.iter()) {
            let (m, n) = (e.measure.unwrap(), f.measure.unwrap());
            assert!((m + n).abs() < 1e-7, "{m} vs {n}");
            assert!((e.se.unwrap() - f.se.unwrap()).abs() < 1e-7);
            if let (Some(i), Some(j)) = (e.infit, f.infit) {
                assert!((i - j).abs() < 1e-7);
            }
        }
    }
    let (fa, fb) = (&a.scales[0].thresholds, &b.scales[0].thresholds);
    for k in 0..3 {
        assert!((fa[k] + fb[2 - k]).abs() < 1e-7, "{fa:?} {fb:?}");
    }
}

/// Two raters read every response of one dichotomous question: JMLE with two "items" has the
/// closed form C_B − C_A = 2·ln(n₁₀/n₀₁) (Andersen 1973: twice the conditional estimate
/// ln(n₁₀/n₀₁), the JMLE bias Facets shares), where n₁₀ counts responses A passed and B failed.
/// Candidates both passed or both failed are extreme and left out.
#[test]
fn a_harsher_rater_in_a_balanced_two_rater_design_has_the_closed_form() {
    let mut data = Vec::new();
    let mut c = 0;
    let mut add = |a: u32, b: u32, times: usize| {
        for _ in 0..times {
            data.push(obs(c, 0, 0, a));
            data.push(obs(c, 0, 1, b));
            c += 1;
        }
    };
    add(1, 0, 6); // n₁₀
    add(0, 1, 2); // n₀₁
    add(1, 1, 5);
    add(0, 0, 4);
    let report = analyse(&data, &tight(Model::RatingScale, 1)).unwrap();
    let (a, b) = (
        report.raters[0].measure.unwrap(),
        report.raters[1].measure.unwrap(),
    );
    assert!((b - a - 2.0 * 3f64.ln()).abs() < 1e-8, "{a} {b}");
    assert!((a + b).abs() < 1e-12);
    assert_eq!(report.observations_used, 16);
    assert_eq!(report.observations_extreme, 18);
    // The mixed candidates sit at the raters' mean, 0; the extremes outside them.
    assert!(report.candidates[0].measure.unwrap().abs() < 1e-8);
    assert_eq!(report.candidates[8].status, Status::ExtremeHigh);
    assert_eq!(report.candidates[13].status, Status::ExtremeLow);
    assert!(report.candidates[8].measure.unwrap() > 1.0);
    assert!(report.candidates[13].measure.unwrap() < -1.0);

    // One logit harsher: with n₁₀/n₀₁ = e^½ as near as whole counts allow (33/20), the
    // difference is 2·ln(1.65) = 1.0016.
    let mut data = Vec::new();
    for (i, (a, b)) in std::iter::repeat_n((1, 0), 33)
        .chain(std::iter::repeat_n((0, 1), 20))
        .enumerate()
    {
        data.push(obs(i as u32, 0, 0, a));
        data.push(obs(i as u32, 0, 1, b));
    }
    let report = analyse(&data, &tight(Model::RatingScale, 1)).unwrap();
    let d = report.raters[1].measure.unwrap() - report.raters[0].measure.unwrap();
    assert!((d - 2.0 * 1.65f64.ln()).abs() < 1e-8, "{d}");
}

#[test]
fn extreme_elements_are_left_out_and_measured_from_an_adjusted_score() {
    let sim = simulate(9, 40, &DIFFICULTY[..3], &SEVERITY[..3], 2, |_| {
        THRESHOLDS.to_vec()
    });
    let mut data = sim.data.clone();
    // Candidate 40 scores 3 everywhere, candidate 41 0 everywhere; rater 3 reads only them.
    for q in 0..3 {
        data.push(obs(40, q, 0, 3));
        data.push(obs(40, q, 3, 3));
        data.push(obs(41, q, 1, 0));
        data.push(obs(41, q, 3, 0));
    }
    let report = analyse(&data, &tight(Model::RatingScale, 3)).unwrap();
    let (top, bottom) = (&report.candidates[40], &report.candidates[41]);
    assert_eq!(top.status, Status::ExtremeHigh);
    assert_eq!(bottom.status, Status::ExtremeLow);
    assert!(top.infit.is_none() && top.se.is_some());
    let estimated = report
        .candidates
        .iter()
        .filter(|e| e.status == Status::Estimated)
        .map(|e| e.measure.unwrap());
    let highest = estimated.clone().fold(f64::MIN, f64::max);
    let lowest = estimated.fold(f64::MAX, f64::min);
    assert!(top.measure.unwrap() > highest);
    assert!(bottom.measure.unwrap() < lowest);
    // Rater 3 read only extreme candidates: left out with them, then measured.
    assert_eq!(report.raters[3].status, Status::Dropped);
    assert!(report.raters[3].measure.is_some());
    // The estimation is the same as without the extremes.
    let alone = analyse(&sim.data, &tight(Model::RatingScale, 3)).unwrap();
    for (a, b) in alone.raters.iter().zip(&report.raters) {
        assert!((a.measure.unwrap() - b.measure.unwrap()).abs() < 1e-8);
    }
    // The adjusted score is met: at the extreme candidate's measure the expected total over
    // its six ratings is 18 − 0.3.
    let theta = top.measure.unwrap();
    let eneg: Vec<f64> = std::iter::once(1.0)
        .chain(report.scales[0].thresholds.iter().map(|f| (-f).exp()))
        .collect();
    let mut p = [0.0; 4];
    let mut expected = 0.0;
    for q in 0..3 {
        for r in [0, 3] {
            let eta =
                theta - report.questions[q].measure.unwrap() - report.raters[r].measure.unwrap();
            expected += probs(eta, &eneg, &mut p).0;
        }
    }
    assert!((expected - 17.7).abs() < 1e-6, "{expected}");
}

#[test]
fn fair_averages_follow_the_measures() {
    let sim = simulate(21, 200, &DIFFICULTY, &SEVERITY, 2, |_| THRESHOLDS.to_vec());
    let report = analyse(&sim.data, &Options::new(Model::RatingScale, 3)).unwrap();
    // A harsher rater gives a lower fair average.
    for w in report.raters.windows(2) {
        assert!(w[0].fair_average.unwrap() > w[1].fair_average.unwrap());
    }
    // A candidate's fair average is the expected score at θ with question and rater at 0.
    let eneg: Vec<f64> = std::iter::once(1.0)
        .chain(report.scales[0].thresholds.iter().map(|f| (-f).exp()))
        .collect();
    let mut p = [0.0; 4];
    for el in report.candidates.iter().take(20) {
        let expected = probs(el.measure.unwrap(), &eneg, &mut p).0;
        assert!((el.fair_average.unwrap() - expected).abs() < 1e-12);
        assert!((0.0..=3.0).contains(&el.fair_average.unwrap()));
    }
}

/// A rater who scores at random misfits (infit well above 1); one who never leaves the middle
/// categories overfits (below 1).
#[test]
fn fit_flags_an_erratic_and_a_central_rater() {
    let mut sim = simulate(33, 300, &DIFFICULTY, &[0.0; 6], 2, |_| THRESHOLDS.to_vec());
    let mut rng = ChaCha8Rng::seed_from_u64(34);
    for o in sim.data.iter_mut() {
        match o.rater {
            0 => o.score = rng.gen_range(0..=3),
            1 => o.score = o.score.clamp(1, 2),
            _ => {}
        }
    }
    let report = analyse(&sim.data, &Options::new(Model::RatingScale, 3)).unwrap();
    let erratic = &report.raters[0];
    let central = &report.raters[1];
    assert!(erratic.infit.unwrap() > 1.3, "{erratic:?}");
    assert!(erratic.infit_z.unwrap() > 2.0);
    assert!(central.infit.unwrap() < 0.8, "{central:?}");
    assert!(central.outfit_z.unwrap() < -2.0);
    assert!(erratic.real_se.unwrap() > erratic.se.unwrap());
}

#[test]
fn partial_credit_gives_each_question_its_thresholds() {
    let own = |q: usize| {
        if q.is_multiple_of(2) {
            vec![0.0, -1.0, 0.0, 1.0]
        } else {
            vec![0.0, -2.0, 0.5, 1.5]
        }
    };
    let sim = simulate(44, 500, &DIFFICULTY, &SEVERITY, 2, own);
    let report = analyse(&sim.data, &Options::new(Model::PartialCredit, 3)).unwrap();
    assert!(report.converged);
    assert_eq!(report.scales.len(), 6);
    for (q, scale) in report.scales.iter().enumerate() {
        assert_eq!(scale.question, Some(q as u32));
        assert!(scale.thresholds.iter().sum::<f64>().abs() < 1e-9);
        let truth = own(q);
        for (k, f) in scale.thresholds.iter().enumerate() {
            assert!((f - truth[k + 1]).abs() < 0.35, "q{q} F{}: {f}", k + 1);
        }
    }
    assert!(rmse(&report.raters, &sim.severity) < 0.15);
}

/// Unused scores are squeezed out: a 0–5 scale used only at 1, 2 and 4 has three categories.
#[test]
fn unused_scores_are_squeezed_out() {
    let sim = simulate(8, 100, &DIFFICULTY[..3], &SEVERITY[..3], 2, |_| {
        THRESHOLDS.to_vec()
    });
    let recoded: Vec<Observation> = sim
        .data
        .iter()
        .map(|o| Observation {
            score: [1, 2, 4, 4][o.score as usize],
            ..*o
        })
        .collect();
    let report = analyse(&recoded, &Options::new(Model::RatingScale, 5)).unwrap();
    assert_eq!(report.scales[0].scores, vec![1, 2, 4]);
    assert_eq!(report.scales[0].thresholds.len(), 2);
    for el in &report.candidates {
        if let Some(f) = el.fair_average {
            assert!((1.0..=4.0).contains(&f));
        }
    }
}

#[test]
fn bad_input_is_refused() {
    let options = Options::new(Model::RatingScale, 3);
    assert_eq!(analyse(&[], &options), Err(FacetsError::NoObservations));
    assert_eq!(
        analyse(&[obs(0, 0, 0, 1), obs(0, 0, 1, 4)], &options),
        Err(FacetsError::ScoreAboveMax {
            index: 1,
            score: 4,
            max: 3
        })
    );
    assert_eq!(
        analyse(&[obs(MAX_ELEMENTS, 0, 0, 1)], &options),
        Err(FacetsError::IdTooLarge {
            index: 0,
            facet: "candidate",
            id: MAX_ELEMENTS
        })
    );
    // Everything at one score: nothing to estimate.
    assert_eq!(
        analyse(&[obs(0, 0, 0, 2), obs(1, 0, 1, 2)], &options),
        Err(FacetsError::NoInformation)
    );
    let never = Options {
        max_iterations: 0,
        ..options
    };
    assert_eq!(
        analyse(&[obs(0, 0, 0, 1)], &never),
        Err(FacetsError::BadOptions)
    );
    let zero = Options::new(Model::RatingScale, 0);
    assert_eq!(
        analyse(&[obs(0, 0, 0, 0)], &zero),
        Err(FacetsError::NoScale)
    );
}

/// Ids with no observation are reported as not observed, and every figure is finite.
#[test]
fn gaps_in_ids_are_not_observed() {
    let mut data = simulate(2, 30, &DIFFICULTY[..2], &SEVERITY[..3], 2, |_| {
        THRESHOLDS.to_vec()
    })
    .data;
    for o in data.iter_mut() {
        o.rater *= 2; // raters 0, 2, 4
    }
    let report = analyse(&data, &Options::new(Model::RatingScale, 3)).unwrap();
    assert_eq!(report.raters.len(), 5);
    assert_eq!(report.raters[1].status, Status::NotObserved);
    assert_eq!(report.raters[1].measure, None);
    assert_eq!(report.rater_summary.estimated, 3);
    for el in report
        .candidates
        .iter()
        .chain(&report.questions)
        .chain(&report.raters)
    {
        for x in [
            el.measure,
            el.se,
            el.infit,
            el.outfit,
            el.infit_z,
            el.outfit_z,
            el.fair_average,
        ] {
            assert!(x.is_none_or(f64::is_finite), "{el:?}");
        }
    }
}

/// Raters 0–1 read candidates 0–29 only and raters 2–3 candidates 30–59 only: two subsets.
#[test]
fn disjoint_rater_groups_are_reported_as_subsets() {
    let sim = simulate(6, 60, &DIFFICULTY[..3], &[0.0, 0.0], 2, |_| {
        THRESHOLDS.to_vec()
    });
    let split: Vec<Observation> = sim
        .data
        .iter()
        .map(|o| Observation {
            rater: o.rater + if o.candidate >= 30 { 2 } else { 0 },
            ..*o
        })
        .collect();
    let options = Options::new(Model::RatingScale, 3);
    assert_eq!(analyse(&split, &options).unwrap().subsets, 2);
    assert_eq!(analyse(&sim.data, &options).unwrap().subsets, 1);
}
