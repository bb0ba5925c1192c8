use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// Brennan (2001), *Generalizability Theory*, chapter 3, Synthetic Data Set No. 3: 10 persons ×
/// 4 items × 2 occasions, fully crossed; data, sums of squares, mean squares, components and
/// the coefficients for n'_i = 4, n'_o = 2 as transcribed in the tests of the Python package
/// GeneralizIT (`tests/fixtures/design3_fixtures.py`). The occasions play our raters, the
/// items our questions.
/// Rows: person; columns: occasion 1 items 1-4, then occasion 2 items 1-4.
const BRENNAN_3: [[f64; 8]; 10] = [
    [2., 6., 7., 5., 2., 5., 5., 5.],
    [4., 5., 6., 7., 6., 7., 5., 7.],
    [5., 5., 4., 6., 5., 4., 5., 5.],
    [5., 9., 8., 6., 5., 7., 7., 6.],
    [4., 3., 5., 6., 4., 5., 6., 4.],
    [4., 4., 4., 7., 6., 4., 7., 8.],
    [2., 6., 6., 5., 2., 7., 7., 5.],
    [3., 4., 4., 5., 6., 6., 6., 4.],
    [0., 5., 4., 5., 5., 5., 5., 3.],
    [6., 8., 7., 6., 6., 8., 8., 6.],
];

fn brennan() -> GStudy {
    let scores = BRENNAN_3.iter().flatten().copied().collect();
    Crossed::from_dense(10, 2, 4, scores).unwrap().g_study()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn brennan_synthetic_3_anova_and_components() {
    let g = brennan();
    // Published to two decimals (sums of squares) and four (mean squares, components). The
    // transcription gives MS(po) as 1.3383, at odds with its own SS 12.05/9 = 1.3389 and with
    // σ²(po) = (1.3389 − .9352)/4 = .1009: a slip, so 1.3389 here.
    let published = [
        (Effect::Person, 9.0, 62.20, 6.9111, 0.5528),
        (Effect::Rater, 1.0, 3.20, 3.2000, 0.0074),
        (Effect::Question, 3.0, 37.45, 12.4833, 0.4417),
        (Effect::PersonRater, 9.0, 12.05, 1.3389, 0.1009),
        (Effect::PersonQuestion, 27.0, 56.30, 2.0852, 0.5750),
        (Effect::RaterQuestion, 3.0, 7.50, 2.5000, 0.1565),
        (Effect::Residual, 27.0, 25.25, 0.9352, 0.9352),
    ];
    for (effect, df, ss, ms, var) in published {
        let c = g.component(effect);
        assert_eq!(c.df, df, "{effect:?}");
        assert!(close(c.ss, ss, 0.005), "{effect:?} SS {}", c.ss);
        assert!(close(c.ms, ms, 0.00005), "{effect:?} MS {}", c.ms);
        assert!(
            close(c.estimate, var, 0.00005),
            "{effect:?} σ² {}",
            c.estimate
        );
        assert!(!c.negative);
        assert_eq!(c.variance, c.estimate);
    }
    // The 80 scores add up to 422.
    assert!(close(g.mean, 422.0 / 80.0, 1e-12), "{}", g.mean);
}

#[test]
fn brennan_synthetic_3_d_study() {
    let g = brennan();
    // Brennan (2001): Eρ² = .64 and Φ = .55 for 4 items and 2 occasions.
    let d = g.d_study(2, 4).unwrap();
    let e = d.e_rho2.unwrap();
    let phi = d.phi.unwrap();
    assert!(close(e, 0.64, 0.005), "{e}");
    assert!(close(phi, 0.55, 0.005), "{phi}");
    // The same from the rounded published components, by hand.
    let rel = 0.1009 / 2.0 + 0.5750 / 4.0 + 0.9352 / 8.0;
    let abs = rel + 0.0074 / 2.0 + 0.4417 / 4.0 + 0.1565 / 8.0;
    assert!(close(d.relative_error, rel, 1e-4), "{}", d.relative_error);
    assert!(close(d.absolute_error, abs, 1e-4), "{}", d.absolute_error);
    assert!(close(e, 0.5528 / (0.5528 + rel), 1e-4));
    assert!(close(phi, 0.5528 / (0.5528 + abs), 1e-4));
}

#[test]
fn the_d_table_runs_over_1_to_4_raters_and_2_to_8_questions() {
    let g = brennan();
    let table = g.d_table();
    assert_eq!(table.len(), 28);
    assert_eq!((table[0].raters, table[0].questions), (1, 2));
    assert_eq!((table[27].raters, table[27].questions), (4, 8));
    for d in &table {
        assert_eq!(Some(*d), g.d_study(d.raters, d.questions));
        assert!(d.absolute_error >= d.relative_error);
        assert!(d.phi.unwrap() <= d.e_rho2.unwrap());
    }
    // More raters or more questions never lower either coefficient.
    for w in table.windows(2) {
        if w[0].raters == w[1].raters {
            assert!(w[1].e_rho2 > w[0].e_rho2 && w[1].phi > w[0].phi);
        }
    }
    assert!(table[7].e_rho2 > table[0].e_rho2);
    assert_eq!(g.d_study(0, 3), None);
}

#[test]
fn sums_of_squares_add_up_to_the_total() {
    let g = brennan();
    let mean = g.mean;
    let total: f64 = BRENNAN_3.iter().flatten().map(|x| (x - mean).powi(2)).sum();
    let sum: f64 = g.components.iter().map(|c| c.ss).sum();
    assert!(close(sum, total, 1e-9), "{sum} {total}");
    let df: f64 = g.components.iter().map(|c| c.df).sum();
    assert_eq!(df, 79.0);
}

#[test]
fn a_person_effect_alone_is_the_persons_variance() {
    // x = a_p: every other effect is exactly zero and σ²(p) is the sample variance of a.
    let a = [1.0, 4.0, 6.0];
    let scores = a.iter().flat_map(|&x| [x; 6]).collect();
    let g = Crossed::from_dense(3, 2, 3, scores).unwrap().g_study();
    let mean = 11.0 / 3.0;
    let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0;
    assert!(close(g.component(Effect::Person).estimate, var, 1e-12));
    for c in &g.components[1..] {
        assert!(c.ss.abs() < 1e-12, "{:?}", c);
        assert!(c.estimate.abs() < 1e-12, "{:?}", c);
    }
    let d = g.d_study(1, 2).unwrap();
    assert!(close(d.e_rho2.unwrap(), 1.0, 1e-12));
    assert!(close(d.phi.unwrap(), 1.0, 1e-12));
}

#[test]
fn additive_rater_and_question_effects_lower_phi_only() {
    // x = a_p + b_r + c_q: no interaction, so Eρ² = 1 while Φ < 1, and σ²(r), σ²(q) are the
    // sample variances of b and c.
    let (a, b, c) = ([0.0, 2.0], [0.0, 1.0, 5.0], [0.0, 3.0]);
    let mut scores = vec![];
    for &x in &a {
        for &y in &b {
            for &z in &c {
                scores.push(x + y + z);
            }
        }
    }
    let g = Crossed::from_dense(2, 3, 2, scores).unwrap().g_study();
    assert!(close(g.component(Effect::Person).estimate, 2.0, 1e-12));
    assert!(close(g.component(Effect::Rater).estimate, 7.0, 1e-12));
    assert!(close(g.component(Effect::Question).estimate, 4.5, 1e-12));
    let d = g.d_study(1, 2).unwrap();
    assert!(close(d.e_rho2.unwrap(), 1.0, 1e-12));
    // Φ = 2 / (2 + 7 + 4.5/2).
    assert!(close(d.phi.unwrap(), 2.0 / 11.25, 1e-12), "{:?}", d.phi);
}

#[test]
fn constant_scores_leave_the_coefficients_undefined() {
    let g = Crossed::from_dense(2, 2, 2, vec![3.0; 8])
        .unwrap()
        .g_study();
    assert!(g.components.iter().all(|c| c.estimate == 0.0));
    let d = g.d_study(2, 2).unwrap();
    assert_eq!((d.e_rho2, d.phi), (None, None));
}

#[test]
fn a_negative_estimate_is_reported_and_set_to_zero() {
    // Raters agree on average (MS_r = 0) but disagree person by person: σ²(r) < 0.
    let scores = vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    let g = Crossed::from_dense(2, 2, 2, scores).unwrap().g_study();
    let r = g.component(Effect::Rater);
    assert!(r.estimate < 0.0, "{r:?}");
    assert!(r.negative);
    assert_eq!(r.variance, 0.0);
    // σ²(pr) carries the disagreement; the D study uses the zero for σ²(r).
    let pr = g.component(Effect::PersonRater).variance;
    assert!(pr > 0.0);
    let d = g.d_study(1, 1).unwrap();
    let comps: Vec<f64> = g.components.iter().map(|c| c.variance).collect();
    let abs = comps[1..].iter().sum::<f64>();
    assert!(close(d.absolute_error, abs, 1e-12));
}

#[test]
fn the_builder_names_missing_duplicate_and_stray_cells() {
    assert_eq!(
        Builder::new(1, 2, 2).unwrap_err(),
        GError::TooFew {
            persons: 1,
            raters: 2,
            questions: 2
        }
    );
    let mut b = Builder::new(2, 2, 2).unwrap();
    for p in 0..2 {
        for r in 0..2 {
            for q in 0..2 {
                if (p, r, q) != (1, 0, 1) {
                    b.set(p, r, q, (p + r + q) as f64).unwrap();
                }
            }
        }
    }
    assert_eq!(
        b.set(0, 2, 0, 1.0),
        Err(GError::OutOfRange {
            person: 0,
            rater: 2,
            question: 0
        })
    );
    assert_eq!(
        b.set(0, 0, 0, 1.0),
        Err(GError::Duplicate {
            person: 0,
            rater: 0,
            question: 0
        })
    );
    assert!(matches!(
        b.set(1, 0, 1, f64::NAN),
        Err(GError::NotFinite { .. })
    ));
    let err = b.clone().build().unwrap_err();
    assert_eq!(
        err,
        GError::Missing {
            missing: 1,
            person: 1,
            rater: 0,
            question: 1
        }
    );
    assert!(err.to_string().contains("person 1, rater 0, question 1"));
    b.set(1, 0, 1, 2.0).unwrap();
    let built = b.build().unwrap();
    assert_eq!(built.score(1, 0, 1), 2.0);
    assert_eq!(built.score(1, 1, 1), 3.0);
    assert!(matches!(
        Crossed::from_dense(2, 2, 2, vec![0.0; 7]),
        Err(GError::WrongLength { got: 7, .. })
    ));
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller.
    let u: f64 = 1.0 - rng.gen::<f64>();
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Scores drawn from the random-effects model with the given components.
fn simulate(rng: &mut ChaCha8Rng, np: usize, nr: usize, nq: usize, var: &[f64; 7]) -> Crossed {
    let sd: Vec<f64> = var.iter().map(|v| v.sqrt()).collect();
    let draw = |rng: &mut ChaCha8Rng, n: usize, s: f64| -> Vec<f64> {
        (0..n).map(|_| s * normal(rng)).collect()
    };
    let p = draw(rng, np, sd[0]);
    let r = draw(rng, nr, sd[1]);
    let q = draw(rng, nq, sd[2]);
    let pr = draw(rng, np * nr, sd[3]);
    let pq = draw(rng, np * nq, sd[4]);
    let rq = draw(rng, nr * nq, sd[5]);
    let mut scores = Vec::with_capacity(np * nr * nq);
    for i in 0..np {
        for j in 0..nr {
            for k in 0..nq {
                scores.push(
                    50.0 + p[i]
                        + r[j]
                        + q[k]
                        + pr[i * nr + j]
                        + pq[i * nq + k]
                        + rq[j * nq + k]
                        + sd[6] * normal(rng),
                );
            }
        }
    }
    Crossed::from_dense(np, nr, nq, scores).unwrap()
}

#[test]
fn recovers_known_components_on_simulated_data() {
    let truth = [1.0, 0.3, 0.5, 0.2, 0.4, 0.1, 0.8];
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    // The ANOVA estimators are unbiased: their mean over 400 small studies is near the truth
    // for every component, the rater and question ones included (3 and 5 levels each time).
    let reps = 400;
    let mut mean = [0.0; 7];
    for _ in 0..reps {
        let g = simulate(&mut rng, 20, 3, 5, &truth).g_study();
        for (m, c) in mean.iter_mut().zip(&g.components) {
            *m += c.estimate / reps as f64;
        }
    }
    for (i, (m, t)) in mean.iter().zip(&truth).enumerate() {
        assert!((m - t).abs() < 0.2 * t, "{:?}: {m} vs {t}", Effect::ALL[i]);
    }
    // One large study pins the person-side components closely, and its D study with them.
    let g = simulate(&mut rng, 2000, 4, 8, &truth).g_study();
    for e in [
        Effect::Person,
        Effect::PersonRater,
        Effect::PersonQuestion,
        Effect::Residual,
    ] {
        let t = truth[Effect::ALL.iter().position(|&x| x == e).unwrap()];
        let est = g.component(e).estimate;
        assert!((est - t).abs() < 0.15 * t, "{e:?}: {est} vs {t}");
    }
    let d = g.d_study(2, 4).unwrap();
    let rel = 0.2 / 2.0 + 0.4 / 4.0 + 0.8 / 8.0;
    assert!((d.e_rho2.unwrap() - 1.0 / (1.0 + rel)).abs() < 0.02);
}
