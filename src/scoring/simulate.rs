//! The fair-forms and equating simulation: candidates of known ability sit per-candidate Part
//! One forms, plain (`form::assemble`) and fair (`fair::assemble_fair`), and answer by the
//! Rasch model. It reports the spread of form difficulty at the cut and the share of true
//! passers and failers classified correctly by raw and by equated scores, both as expected
//! from the model (Lord-Wingersky score distributions: no simulation noise) and as simulated.
//!
//! A candidate's true status is pass when their expected percent on the whole operational pool
//! reaches the pass percent, that is θ ≥ θ_cut. Pure and deterministic from the seed; the
//! bench `benches/forms.rs` prints it and `tests/forms.rs` checks it. Figures:
//! `docs/statistics.md`, "Fair forms and equating".

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::equating::score_part_one;
use crate::bank::{Blueprint, ItemKind, PassMark, PassOn};
use crate::exam::fair::{
    self, assemble_fair, derived_seed, Difficulties, FairError, Spread, Target,
};
use crate::exam::form::{assemble, Form, History, Parts, Pool};
use crate::stats::tcc;

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Simulation {
    pub candidates: usize,
    pub seed: u64,
    /// Abilities are normal with this mean above θ_cut (logits) ...
    pub ability_offset: f64,
    /// ... and this SD.
    pub ability_sd: f64,
}

impl Default for Simulation {
    /// 2,000 candidates, abilities N(θ_cut + 0.5, 1): about 69% are true passers.
    fn default() -> Self {
        Simulation {
            candidates: 2_000,
            seed: 2026,
            ability_offset: 0.5,
            ability_sd: 1.0,
        }
    }
}

/// Shares of candidates classified as their true status says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Accuracy {
    /// Expected under the model, averaged over candidates.
    pub expected: f64,
    /// In the one simulated set of answers.
    pub simulated: f64,
}

/// One way of drawing forms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Arm {
    /// The forms' expected percent correct at θ_cut.
    pub spread: Spread,
    /// Forms within the blueprint's tolerance of the target.
    pub within: usize,
    pub raw: Accuracy,
    pub equated: Accuracy,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Report {
    pub simulation: Simulation,
    pub target: Target,
    pub true_passers: usize,
    pub plain: Arm,
    pub fair: Arm,
}

/// A standard normal deviate (Box-Muller; the first of the pair).
pub fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]: ln is finite
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Difficulties N(0, 1), as in a real bank, given to every multiple-choice item of the pool in
/// id order from `seed`.
pub fn normal_difficulties(pool: &Pool, seed: u64) -> Difficulties {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    pool.items
        .iter()
        .filter(|i| i.kind == ItemKind::Mcq)
        .map(|i| (i.id.clone(), standard_normal(&mut rng)))
        .collect()
}

/// Per form: the difficulties of its scored items and the lowest raw score that passes by raw
/// and by equated score.
struct Scored {
    bs: Vec<f64>,
    raw_cut: usize,
    equated_cut: usize,
}

fn scored(
    form: &Form,
    d: &Difficulties,
    pool_bs: &[f64],
    pass_percent: PassMark,
) -> Option<Scored> {
    let bs = fair::form_difficulties(form, d)?;
    let n = bs.len() as u32;
    // Passing is monotone in the raw score under both rules: bisect for the first pass
    // (n + 1 when none does).
    let cut = |pass_on: PassOn| {
        let scores: Vec<u32> = (0..=n).collect();
        scores.partition_point(|&r| {
            !score_part_one(r, n, Some((&bs, pool_bs)), pass_percent, pass_on).passed
        })
    };
    Some(Scored {
        raw_cut: cut(PassOn::Raw),
        equated_cut: cut(PassOn::Equated),
        bs,
    })
}

/// Runs the simulation on blueprint `bp` over the calibrated `pool`.
pub fn simulate(
    bp: &Blueprint,
    pool: &Pool,
    difficulties: &Difficulties,
    sim: &Simulation,
) -> Result<Report, FairError> {
    let target = fair::target(bp, pool, difficulties)?;
    let pool_bs = fair::pool_difficulties(bp, pool, difficulties)?;
    let pass = bp.part_one.pass_percent;
    let history = History::default();
    let only_one = Parts {
        one: true,
        two: false,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(sim.seed);
    // [plain, fair] × [raw, equated]: expected and simulated correct classifications.
    let mut expected = [[0.0f64; 2]; 2];
    let mut simulated = [[0usize; 2]; 2];
    let mut percents: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut within = [0usize; 2];
    let mut true_passers = 0;
    for c in 0..sim.candidates {
        let theta =
            target.theta_cut + sim.ability_offset + sim.ability_sd * standard_normal(&mut rng);
        let truly_passes =
            tcc::expected_percent(theta, &pool_bs).is_some_and(|p| p >= f64::from(pass));
        true_passers += usize::from(truly_passes);
        let seed = derived_seed(sim.seed ^ 0x5EED, c as u32 + 1);
        let plain = assemble(bp, pool, &history, only_one, seed)?;
        let fair = assemble_fair(bp, pool, &history, only_one, seed, difficulties)?.form;
        for (arm, form) in [plain, fair].iter().enumerate() {
            let Some(s) = scored(form, difficulties, &pool_bs, pass) else {
                return Err(FairError::Uncalibrated {
                    missing: vec![format!("a scored item of form {}", form.seed)],
                });
            };
            let percent = tcc::expected_percent(target.theta_cut, &s.bs).unwrap_or(0.0);
            within[arm] += usize::from(target.within(percent));
            percents[arm].push(percent);
            let dist = tcc::score_distribution(theta, &s.bs);
            // One set of answers, scored both ways.
            let raw =
                s.bs.iter()
                    .filter(|&&b| rng.gen::<f64>() < tcc::p_correct(theta, b))
                    .count();
            for (rule, cut) in [s.raw_cut, s.equated_cut].into_iter().enumerate() {
                let p_pass: f64 = dist.iter().skip(cut).sum::<f64>().clamp(0.0, 1.0);
                expected[arm][rule] += if truly_passes { p_pass } else { 1.0 - p_pass };
                simulated[arm][rule] += usize::from((raw >= cut) == truly_passes);
            }
        }
    }
    let n = sim.candidates.max(1) as f64;
    let arm = |a: usize| -> Result<Arm, FairError> {
        let accuracy = |rule: usize| Accuracy {
            expected: expected[a][rule] / n,
            simulated: simulated[a][rule] as f64 / n,
        };
        Ok(Arm {
            spread: Spread::of(&percents[a]).ok_or_else(|| FairError::EmptyPool(bp.id.clone()))?,
            within: within[a],
            raw: accuracy(0),
            equated: accuracy(1),
        })
    };
    Ok(Report {
        simulation: *sim,
        target,
        true_passers,
        plain: arm(0)?,
        fair: arm(1)?,
    })
}

impl Report {
    /// The report as the bench prints it and the docs quote it.
    pub fn table(&self) -> String {
        let s = &self.simulation;
        let mut out = format!(
            "{} candidates, abilities N(θ_cut + {}, {}), seed {}; θ_cut = {:.3}, target {:.2}% ± {}; true passers {} ({:.1}%)\n",
            s.candidates,
            s.ability_offset,
            s.ability_sd,
            s.seed,
            self.target.theta_cut,
            self.target.percent,
            self.target.tolerance,
            self.true_passers,
            100.0 * self.true_passers as f64 / s.candidates.max(1) as f64
        );
        out.push_str("forms   SD     range  min    max    within  raw acc (exp / sim)  equated acc (exp / sim)\n");
        for (name, a) in [("plain", &self.plain), ("fair", &self.fair)] {
            out.push_str(&format!(
                "{name:<7} {:<6.3} {:<6.2} {:<6.2} {:<6.2} {:<7} {:.4} / {:.4}      {:.4} / {:.4}\n",
                a.spread.sd,
                a.spread.range(),
                a.spread.min,
                a.spread.max,
                a.within,
                a.raw.expected,
                a.raw.simulated,
                a.equated.expected,
                a.equated.simulated
            ));
        }
        out
    }
}
