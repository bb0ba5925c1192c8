//! Fair forms and equating on the sample bank (issue 11's simulation): 2,000 candidates of
//! known ability sit per-candidate Part One forms of the level III blueprint, with item
//! difficulties N(0, 1) over the sample pool and answers from the Rasch model. Prints the
//! spread of form difficulty at the cut for plain and fair forms, and the share of true
//! passers and failers classified correctly by raw and by equated scores (expected from the
//! model, and in one simulated set of answers), for five difficulty seeds; then how long a
//! fair form takes to draw.
//!
//! `cargo bench --bench forms` runs it in full; `cargo test --bench forms` runs one seed with
//! 200 candidates, in a second or two.

use std::path::Path;
use std::time::Instant;

use imh_exam::bank;
use imh_exam::exam::fair::assemble_fair;
use imh_exam::exam::form::{assemble, History, Parts, Pool};
use imh_exam::scoring::simulate::{normal_difficulties, simulate, Simulation};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let bank = bank::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank"))
        .expect("the sample bank is valid");
    let pool = Pool::from_bank(&bank);
    let bp = bank.blueprint("level-iii").expect("level-iii");
    let difficulty_seeds: &[u64] = if full { &[11, 12, 13, 14, 15] } else { &[11] };
    let sim = Simulation {
        candidates: if full { 2_000 } else { 200 },
        ..Simulation::default()
    };
    for &d_seed in difficulty_seeds {
        let d = normal_difficulties(&pool, d_seed);
        let report = simulate(bp, &pool, &d, &sim).expect("the sample pool is calibrated");
        println!("difficulties N(0, 1), seed {d_seed}");
        print!("{}", report.table());
        assert!(report.fair.spread.sd < report.plain.spread.sd);
        println!();
    }

    let d = normal_difficulties(&pool, 11);
    let h = History::default();
    let forms = if full { 2_000u64 } else { 50 };
    let started = Instant::now();
    let mut tries = 0;
    for seed in 0..forms {
        tries += assemble_fair(bp, &pool, &h, Parts::BOTH, seed, &d)
            .expect("fair form")
            .tries;
    }
    let fair = started.elapsed();
    let started = Instant::now();
    for seed in 0..forms {
        assemble(bp, &pool, &h, Parts::BOTH, seed).expect("form");
    }
    let plain = started.elapsed();
    println!(
        "{forms} forms: fair {:.1} µs each ({:.2} tries on average), plain {:.1} µs each",
        fair.as_secs_f64() * 1e6 / forms as f64,
        f64::from(tries) / forms as f64,
        plain.as_secs_f64() * 1e6 / forms as f64
    );
}
