use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A score 0..=3 drawn from the rating scale model with thresholds (-1.5, 0, 1.5).
fn draw(rng: &mut ChaCha8Rng, logit: f64) -> u32 {
    let tau = [-1.5, 0.0, 1.5];
    let mut weights = vec![1.0];
    let mut acc = 0.0;
    for t in tau {
        acc += logit - t;
        weights.push(f64::exp(acc));
    }
    let total: f64 = weights.iter().sum();
    let mut u = rng.gen::<f64>() * total;
    for (k, w) in weights.iter().enumerate() {
        if u < *w {
            return k as u32;
        }
        u -= w;
    }
    3
}

/// The live design: `n` candidates each answer 2 of 3 vignettes of 3 questions; two distinct
/// raters of `severities` read a candidate's vignette, every question of it.
fn live(n: usize, severities: &[f64], seed: u64) -> Vec<Reading> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let difficulty = |v: usize, q: usize| (v as f64 - 1.0) * 0.3 + (q as f64 - 1.0) * 0.4;
    let mut out = Vec::new();
    for c in 0..n {
        let ability = 0.5 + normal(&mut rng);
        let skip = rng.gen_range(0..3);
        for v in (0..3).filter(|v| *v != skip) {
            let first = rng.gen_range(0..severities.len());
            let mut second = rng.gen_range(0..severities.len() - 1);
            if second >= first {
                second += 1;
            }
            for (slot, rater) in [(1u8, first), (2, second)] {
                for q in 0..3 {
                    out.push(Reading {
                        candidate: c as i64,
                        vignette: format!("V{v}"),
                        question: format!("V{v}-Q{q}"),
                        reading: slot,
                        rater: rater as i64,
                        score: draw(&mut rng, ability - difficulty(v, q) - severities[rater]),
                    });
                }
            }
        }
    }
    out
}

#[test]
fn rater_severities_are_recovered_on_the_live_design_and_a_severe_one_flagged() {
    let severities = [-0.6, -0.3, 0.0, 0.1, 0.3, 1.6];
    let readings = live(500, &severities, 12);
    let (indexed, report) = facets(&readings, 3).unwrap();
    assert!(report.converged);
    let truth_mean = severities.iter().sum::<f64>() / 6.0;
    let est: Vec<(i64, f64)> = indexed
        .raters
        .iter()
        .zip(&report.raters)
        .map(|(id, e)| (*id, e.measure.unwrap()))
        .collect();
    let est_mean = est.iter().map(|e| e.1).sum::<f64>() / 6.0;
    let rmse = (est
        .iter()
        .map(|(id, m)| ((m - est_mean) - (severities[*id as usize] - truth_mean)).powi(2))
        .sum::<f64>()
        / 6.0)
        .sqrt();
    assert!(rmse < 0.15, "RMSE {rmse}");
    let flags = rater_flags(&report);
    for (i, id) in indexed.raters.iter().enumerate() {
        assert_eq!(flags[i].severity, *id == 5, "rater {id}: {:?}", flags[i]);
        assert!(
            !flags[i].misfit,
            "rater {id} fits the model it was drawn from"
        );
    }
    // The bias table: no cell is built to be biased, so few are flagged.
    let groups: BTreeMap<i64, u32> = (0..500).map(|c| (c, (c % 3 == 0) as u32)).collect();
    let b = bias(&indexed, &report, &groups).unwrap();
    assert_eq!(b.cells.len(), 12);
    assert!(b.cells.iter().filter(|c| c.flagged).count() <= 2);
}

#[test]
fn g_studies_recover_the_components_of_the_nested_design() {
    // score = person + person×question + rater-slot:person + residual, variances 0.5, 0.2,
    // 0.1 and 0.3; the pooled study reads σ²(r:p) as its pr component.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut readings = Vec::new();
    for c in 0..600i64 {
        let p = 0.5f64.sqrt() * normal(&mut rng);
        let v = c % 3;
        let slots = [
            0.1f64.sqrt() * normal(&mut rng),
            0.1f64.sqrt() * normal(&mut rng),
        ];
        for q in 0..3 {
            let pq = 0.2f64.sqrt() * normal(&mut rng);
            for (k, slot) in slots.iter().enumerate() {
                let e = 0.3f64.sqrt() * normal(&mut rng);
                readings.push((c, v, q, k as u8 + 1, 10.0 + p + pq + slot + e));
            }
        }
    }
    // Reading carries whole scores; scale by 100 and round, then read back in hundredths.
    let as_readings: Vec<Reading> = readings
        .iter()
        .map(|(c, v, q, slot, s)| Reading {
            candidate: *c,
            vignette: format!("V{v}"),
            question: format!("V{v}-Q{q}"),
            reading: *slot,
            rater: i64::from(*slot),
            score: (s * 100.0).round() as u32,
        })
        .collect();
    let studies = g_studies(&as_readings);
    assert_eq!(studies.len(), 3);
    assert!(studies
        .iter()
        .all(|s| s.g.persons == 200 && s.g.questions == 3));
    let g = pooled(&studies).unwrap();
    assert_eq!(g.persons, 600);
    let var = |e: Effect| g.component(e).variance / 10_000.0;
    for (effect, truth, tol) in [
        (Effect::Person, 0.5, 0.1),
        (Effect::PersonQuestion, 0.2, 0.05),
        (Effect::PersonRater, 0.1, 0.04),
        (Effect::Residual, 0.3, 0.04),
    ] {
        assert!(
            (var(effect) - truth).abs() < tol,
            "{effect:?}: {} against {truth}",
            var(effect)
        );
    }
    // More raters or questions buy dependability; the table has 1-4 raters by 2-8 questions.
    let d = d_table(&g);
    assert_eq!(d.len(), 4 * 7);
    let phi = |r: usize, q: usize| {
        d.iter()
            .find(|x| x.raters == r && x.questions == q)
            .and_then(|x| x.phi)
            .unwrap()
    };
    assert!(phi(2, 6) > phi(1, 6) && phi(2, 6) > phi(2, 3));
}

#[test]
fn a_vignette_without_two_complete_candidates_has_no_study() {
    let one = Reading {
        candidate: 1,
        vignette: "V".into(),
        question: "V-Q1".into(),
        reading: 1,
        rater: 1,
        score: 2,
    };
    assert!(g_studies(std::slice::from_ref(&one)).is_empty());
    assert!(pooled(&[]).is_none());
}
