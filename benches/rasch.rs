//! Rasch calibration at the size of a large sitting on drawn forms: 10,000 candidates, each
//! presented 60 items drawn from a pool of 150 (so nearly every candidate has a form of their
//! own: 10,000 presented-item patterns). Target on the 2-core development machine: CML under
//! 1 s; the full analysis (WLE tables of every form, item fit) is timed beside it.
//!
//! `cargo bench --bench rasch` also prints the recovery of the known difficulties once.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{seq::index, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use imh_exam::stats::rasch::{self, Options, RaschResponses};

const CANDIDATES: usize = 10_000;
const POOL: usize = 150;
const FORM: usize = 60;

/// A standard normal draw (Box-Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let v: f64 = rng.gen();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Difficulties and abilities N(0, 1).
fn simulate(rng: &mut ChaCha8Rng) -> (RaschResponses, Vec<f64>) {
    let pool: Vec<f64> = (0..POOL).map(|_| normal(rng)).collect();
    let mut data = RaschResponses::new(POOL).expect("a pool");
    let mut row = vec![None; POOL];
    for _ in 0..CANDIDATES {
        let theta = normal(rng);
        row.fill(None);
        for i in index::sample(rng, POOL, FORM) {
            let p = 1.0 / (1.0 + (pool[i] - theta).exp());
            row[i] = Some(rng.gen_bool(p));
        }
        data.push(&row).expect("a row per pool");
    }
    (data, pool)
}

fn rasch_benches(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let (data, truth) = simulate(&mut rng);
    let options = Options::default();
    let calibration = rasch::calibrate(&data, &options).expect("a connected design");
    let mean = truth.iter().sum::<f64>() / POOL as f64;
    let rmse = (calibration
        .items
        .iter()
        .zip(&truth)
        .map(|(i, t)| (i.difficulty.unwrap_or(f64::NAN) - (t - mean)).powi(2))
        .sum::<f64>()
        / POOL as f64)
        .sqrt();
    eprintln!(
        "rasch: {} Newton iterations, RMSE of the difficulties {rmse:.4} logits",
        calibration.iterations
    );

    // The machine is shared: beside criterion's wall-clock time, the CPU time of one
    // calibration (both threads), from /proc/self/stat (Linux, 10 ms ticks).
    if std::env::args().any(|a| a == "--bench") {
        for _ in 0..3 {
            let (cpu, wall) = (cpu_seconds(), std::time::Instant::now());
            black_box(rasch::calibrate(&data, &options).expect("calibrated"));
            let wall = wall.elapsed().as_secs_f64();
            if let (Some(before), Some(after)) = (cpu, cpu_seconds()) {
                eprintln!(
                    "rasch: one CML {wall:.3} s wall, {:.2} s CPU",
                    after - before
                );
            }
        }
    }

    let mut group = c.benchmark_group("rasch");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("CML, 10,000 candidates x 60 of 150 items", |b| {
        b.iter(|| rasch::calibrate(black_box(&data), &options).expect("calibrated"))
    });
    group.bench_function(
        "CML + WLE tables + fit, 10,000 candidates x 60 of 150 items",
        |b| b.iter(|| rasch::analyse(black_box(&data), &options).expect("analysed")),
    );
    group.finish();
}

/// User + system CPU time of this process so far.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name and state.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

criterion_group!(benches, rasch_benches);
criterion_main!(benches);
