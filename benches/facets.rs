//! Many-facet Rasch measurement at the size of a large sitting's Part Two: 10,000 candidates ×
//! 6 questions × 2 readings, the raters of each response drawn from a pool of 40, scores 0–3
//! from the rating scale model. Target on the 2-core development machine: under 2 s (issue 12).
//!
//! `cargo bench --bench facets` also prints the recovery of the known severities once.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{seq::index, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use imh_exam::stats::facets::{self, Model, Observation, Options};

const CANDIDATES: usize = 10_000;
const QUESTIONS: usize = 6;
const RATERS: usize = 40;
const READINGS: usize = 2;
const THRESHOLDS: [f64; 3] = [-1.5, 0.0, 1.5];

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A score 0–3 at η under the rating scale model.
fn draw(rng: &mut ChaCha8Rng, eta: f64) -> u32 {
    let mut weights = [1.0f64; 4];
    let mut log = 0.0;
    for k in 1..4 {
        log += eta - THRESHOLDS[k - 1];
        weights[k] = log.exp();
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

/// Abilities N(0, 1), difficulties N(0, 0.5²), severities N(0, 0.5²).
fn simulate(rng: &mut ChaCha8Rng) -> (Vec<Observation>, Vec<f64>) {
    let delta: Vec<f64> = (0..QUESTIONS).map(|_| 0.5 * normal(rng)).collect();
    let severity: Vec<f64> = (0..RATERS).map(|_| 0.5 * normal(rng)).collect();
    let mut data = Vec::with_capacity(CANDIDATES * QUESTIONS * READINGS);
    for c in 0..CANDIDATES {
        let theta = normal(rng);
        for (q, d) in delta.iter().enumerate() {
            for r in index::sample(rng, RATERS, READINGS) {
                data.push(Observation {
                    candidate: c as u32,
                    question: q as u32,
                    rater: r as u32,
                    score: draw(rng, theta - d - severity[r]),
                });
            }
        }
    }
    (data, severity)
}

fn facets_benches(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let (data, truth) = simulate(&mut rng);
    let options = Options::new(Model::RatingScale, 3);
    let report = facets::analyse(&data, &options).expect("estimated");
    let mean = truth.iter().sum::<f64>() / RATERS as f64;
    let rmse = (report
        .raters
        .iter()
        .zip(&truth)
        .map(|(r, t)| (r.measure.unwrap_or(f64::NAN) - (t - mean)).powi(2))
        .sum::<f64>()
        / RATERS as f64)
        .sqrt();
    eprintln!(
        "facets: {} iterations (converged: {}), RMSE of the severities {rmse:.4} logits",
        report.iterations, report.converged
    );

    let mut group = c.benchmark_group("facets");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(
        "JMLE + fit + fair averages, 10,000 x 6 x 2 readings of 40 raters",
        |b| b.iter(|| facets::analyse(black_box(&data), &options).expect("estimated")),
    );
    group.finish();
}

criterion_group!(benches, facets_benches);
criterion_main!(benches);
