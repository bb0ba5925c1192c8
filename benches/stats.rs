//! The statistics at the sizes of a large sitting: item statistics and DIF for 10,000
//! candidates × 150 items, on one fixed form and on forms of 60 items drawn from the 150 for
//! each candidate; rater agreement for 1,000,000 ratings. Targets on the 2-core development
//! machine: each under 250 ms, memory within a few times the input.
//!
//! `cargo bench --bench stats` also prints, once per statistic, how much the peak resident
//! memory grew while computing it (Linux: `/proc/self/clear_refs` resets the peak).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{seq::index, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use imh_exam::stats::{self, Cell, Group, ItemKey, Rating, Responses, Scale};

const CANDIDATES: usize = 10_000;
const ITEMS: usize = 150;
/// The items on each candidate's form when forms are drawn from the pool.
const FORM: usize = 60;
const RATINGS: usize = 1_000_000;

/// Answers from a logistic model: ability against difficulty, wrong answers spread over the
/// distractors, 2% omitted.
fn responses(rng: &mut ChaCha8Rng) -> Responses {
    let keys = (0..ITEMS)
        .map(|i| ItemKey {
            id: format!("Q{i:03}"),
            domain: Some(format!("D{}", i % 8)),
            options: 4,
            accepted: 1 << (i % 4),
        })
        .collect();
    let difficulty: Vec<f64> = (0..ITEMS).map(|_| rng.gen_range(-2.0..2.0)).collect();
    let mut table = Responses::new(keys).expect("valid keys");
    let mut answers = vec![None; ITEMS];
    for _ in 0..CANDIDATES {
        let ability: f64 = rng.gen_range(-2.5..2.5);
        for (i, a) in answers.iter_mut().enumerate() {
            let key = (i % 4) as u8;
            let p = 1.0 / (1.0 + (difficulty[i] - ability).exp());
            *a = if rng.gen_bool(0.02) {
                None
            } else if rng.gen_bool(p) {
                Some(key)
            } else {
                Some((key + rng.gen_range(1..4)) % 4)
            };
        }
        table.push(&answers).expect("valid answers");
    }
    table
}

/// The same model on forms drawn from the pool: each candidate is presented a random `FORM`
/// of the `ITEMS` items.
fn drawn_forms(rng: &mut ChaCha8Rng) -> Responses {
    let keys = (0..ITEMS)
        .map(|i| ItemKey {
            id: format!("Q{i:03}"),
            domain: Some(format!("D{}", i % 8)),
            options: 4,
            accepted: 1 << (i % 4),
        })
        .collect();
    let difficulty: Vec<f64> = (0..ITEMS).map(|_| rng.gen_range(-2.0..2.0)).collect();
    let mut table = Responses::new(keys).expect("valid keys");
    let mut cells = vec![Cell::NotPresented; ITEMS];
    for _ in 0..CANDIDATES {
        let ability: f64 = rng.gen_range(-2.5..2.5);
        cells.fill(Cell::NotPresented);
        for i in index::sample(rng, ITEMS, FORM) {
            let key = (i % 4) as u8;
            let p = 1.0 / (1.0 + (difficulty[i] - ability).exp());
            cells[i] = if rng.gen_bool(0.02) {
                Cell::Omitted
            } else if rng.gen_bool(p) {
                Cell::Chose(key)
            } else {
                Cell::Chose((key + rng.gen_range(1..4)) % 4)
            };
        }
        table.push_presented(&cells).expect("valid answers");
    }
    table
}

/// 450,000 responses read twice and 100,000 of them a third time; 40 raters of differing
/// severity, 30 items, 60 days, 5% validity responses.
fn ratings(rng: &mut ChaCha8Rng) -> Vec<Rating> {
    let severity: Vec<f64> = (0..40).map(|_| rng.gen_range(-0.4..0.4)).collect();
    let mut out = Vec::with_capacity(RATINGS);
    let twice = 450_000;
    let score = |rng: &mut ChaCha8Rng, truth: f64, rater: usize| -> i64 {
        (truth + severity[rater] + rng.gen_range(-0.7..0.7))
            .round()
            .clamp(0.0, 3.0) as i64
    };
    let mut truths = Vec::with_capacity(twice);
    for response in 0..twice {
        let truth: f64 = rng.gen_range(0.0..3.0);
        truths.push(truth);
        let item = Some(rng.gen_range(0..30));
        let day = Some(response as i64 * 60 / twice as i64);
        let expert = rng.gen_bool(0.05).then(|| truth.round() as i64);
        let first = rng.gen_range(0..40);
        let second = (first + rng.gen_range(1..40)) % 40;
        for rater in [first, second] {
            out.push(Rating {
                response: response as i64,
                rater: rater as i64,
                score: score(rng, truth, rater),
                item,
                day,
                expert,
            });
        }
    }
    while out.len() < RATINGS {
        let response = rng.gen_range(0..twice);
        let first = out[2 * response];
        let rater = (first.rater as usize + 20) % 40;
        out.push(Rating {
            rater: rater as i64,
            score: score(rng, truths[response], rater),
            day: Some(59),
            ..first
        });
    }
    out
}

fn groups(rng: &mut ChaCha8Rng) -> Vec<Option<Group>> {
    (0..CANDIDATES)
        .map(|_| match rng.gen_range(0..10) {
            0 => None,
            1..=3 => Some(Group::Focal),
            _ => Some(Group::Reference),
        })
        .collect()
}

/// Peak resident memory in kB, after resetting it to the current size.
fn reset_peak() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    peak()
}

fn peak() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `f` once and prints how far the peak memory rose above the resident size before it.
fn report_memory<T>(what: &str, input_bytes: usize, f: impl FnOnce() -> T) {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --bench`: only check that everything runs.
    }
    let (Some(before), result, Some(after)) = (reset_peak(), black_box(f()), peak()) else {
        return;
    };
    drop(result);
    eprintln!(
        "{what}: input {:.1} MB, peak memory grew by {:.1} MB while computing",
        input_bytes as f64 / 1e6,
        after.saturating_sub(before) as f64 / 1e3
    );
}

fn stats_benches(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let table = responses(&mut rng);
    let ratings = ratings(&mut rng);
    let groups = groups(&mut rng);
    let drawn = drawn_forms(&mut rng);
    let form = stats::item_analysis(&drawn).form;
    assert!(form.items == FORM as u64 && form.kr20.is_some() && !drawn.all_presented());
    let scale = Scale::new(0, 3).expect("valid scale");
    let answers_bytes = CANDIDATES * ITEMS;

    report_memory("item statistics", answers_bytes, || {
        stats::item_analysis(&table)
    });
    report_memory(
        "agreement",
        ratings.len() * std::mem::size_of::<Rating>(),
        || stats::agreement(scale, &ratings),
    );
    report_memory("dif", answers_bytes, || stats::dif(&table, &groups));
    report_memory("item statistics, drawn forms", answers_bytes, || {
        stats::item_analysis(&drawn)
    });
    report_memory("dif, drawn forms", answers_bytes, || {
        stats::dif(&drawn, &groups)
    });

    let mut group = c.benchmark_group("stats");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("item statistics, 10,000 candidates x 150 items", |b| {
        b.iter(|| stats::item_analysis(black_box(&table)))
    });
    group.bench_function("agreement, 1,000,000 ratings", |b| {
        b.iter(|| stats::agreement(scale, black_box(&ratings)).expect("on the scale"))
    });
    group.bench_function("DIF, 10,000 candidates x 150 items", |b| {
        b.iter(|| stats::dif(black_box(&table), black_box(&groups)))
    });
    group.bench_function(
        "item statistics, 10,000 candidates x 60 of 150 items",
        |b| b.iter(|| stats::item_analysis(black_box(&drawn))),
    );
    group.bench_function("DIF, 10,000 candidates x 60 of 150 items", |b| {
        b.iter(|| stats::dif(black_box(&drawn), black_box(&groups)))
    });
    group.finish();
}

criterion_group!(benches, stats_benches);
criterion_main!(benches);
