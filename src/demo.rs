//! The demo's completed sitting: simulated candidates who took both parts, raters who scored
//! their open responses (with adjudications and validity responses), and released results, so
//! every committee page shows real numbers from the first run.
//!
//! Candidates have an ability drawn from a normal distribution; an item's difficulty comes from
//! a hash of its id; the chance of a right answer is logistic in their difference, and wrong
//! answers favour one distractor, as real ones do. Raters differ in severity. All of it is drawn
//! from a fixed seed, so every demo database holds the same sitting.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::bank::{Blueprint, ItemBody, Level};
use crate::exam::clock::Multiplier;
use crate::exam::form::{Parts, Pool};
use crate::exam::registration::NewRegistration;
use crate::store::attempts;
use crate::store::bank::{blueprints, item_version, pool};
use crate::store::ratings::{self, RatingInput};
use crate::store::sittings::{self, NewSitting, Sitting};
use crate::store::{results, Db};

/// The name the completed sitting is found by, so a restarted demo does not make it twice.
pub const COMPLETED_SITTING: &str = "Demo: a completed sitting (simulated candidates)";

const DAY: i64 = 24 * 60 * 60 * 1000;
const ORGANISATIONS: &[&str] = &[
    "Northside Early Head Start",
    "Bayview Family Centre",
    "Lakeside Family Services",
    "Prairie Home Visiting",
    "Cedar Infant Mental Health Clinic",
    "Harbour Community Health",
    "Summit Early Intervention",
    "Willow Perinatal Services",
];
const FIRST: &[&str] = &[
    "Alex", "Bea", "Carmen", "Dev", "Elena", "Farah", "Gabe", "Hana", "Ines", "Jonah", "Kira",
    "Liam", "Maya", "Nico", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tess",
];
const LAST: &[&str] = &[
    "Abara", "Berg", "Costa", "Diaz", "Eklund", "Fox", "Greene", "Haddad", "Ivers", "Jensen",
];

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller.
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// An item's difficulty on the ability scale, from its id: most items are easy for a
/// qualified candidate, a few are hard.
fn difficulty(item_id: &str) -> f64 {
    let h = crate::auth::sha256_hex(item_id);
    let x = u32::from_str_radix(&h[..8], 16).unwrap_or(0) as f64 / f64::from(u32::MAX);
    -2.2 + 3.2 * x
}

/// A rater's reading: the response's quality moved by the rater's severity and some noise.
fn reading(quality: f64, severity: f64, rng: &mut ChaCha8Rng) -> u32 {
    (quality + severity + 0.6 * normal(rng))
        .round()
        .clamp(0.0, 3.0) as u32
}

fn feedback(score: u32) -> &'static str {
    match score {
        0 => "The response does not yet show the reflective, relationship-based stance the item asks for. Review the rubric's level 2 anchors and the competencies on reflection.",
        1 => "Some relevant ideas, named in general terms. Link your observations to the infant's and parent's experience, and say how you would use supervision.",
        2 => "A sound, relationship-based response. To strengthen it, say how your own reactions inform your next steps and be specific about the plan.",
        _ => "A thoughtful, integrated response that holds parent and infant in mind and uses reflection well.",
    }
}

/// Creates the completed sitting unless it exists; returns its id. `candidates` simulated
/// people take both parts; `raters` (user ids with their severities) score Part Two.
pub async fn completed_sitting(
    db: &Db,
    candidates: usize,
    raters: &[(i64, f64)],
) -> anyhow::Result<i64> {
    if let Some(s) = sittings::list_sittings(db)
        .await?
        .into_iter()
        .find(|s| s.name == COMPLETED_SITTING)
    {
        return Ok(s.id);
    }
    let bps = blueprints(db).await?;
    let pool = pool(db).await?;
    let now = crate::store::now_ms();
    let opens = now - 40 * DAY;
    let ids: Vec<String> = bps.iter().map(|b| b.id.clone()).collect();
    let sitting_id = sittings::create_sitting(
        db,
        &NewSitting {
            name: COMPLETED_SITTING,
            place: "remote",
            opens_at: opens,
            closes_at: opens + DAY,
            blueprints: &ids,
        },
        "demo",
    )
    .await?;
    let sitting = sittings::sitting(db, sitting_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the sitting just made is missing"))?;

    // Who sits: mostly Level III, some of each Level IV track.
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut people = Vec::new();
    for i in 0..candidates {
        let level = match i % 10 {
            0..=5 => Level::III,
            6 | 7 => Level::IvClinical,
            8 => Level::IvPolicy,
            _ => Level::IvResearchFaculty,
        };
        let name = format!(
            "{} {} {}",
            FIRST[i % FIRST.len()],
            LAST[(i / FIRST.len()) % LAST.len()],
            i + 1
        );
        let new = NewRegistration {
            name,
            email: format!("candidate{}@demo.example", i + 1),
            organisation: ORGANISATIONS[rng.gen_range(0..ORGANISATIONS.len())].into(),
            level,
            parts: Parts::BOTH,
            multiplier: Multiplier::STANDARD,
            extra_breaks: 0,
            retake_override: None,
        };
        let (reg_id, _) = sittings::register(db, &sitting, &new, &bps, "demo", true)
            .await
            .map_err(|e| anyhow::anyhow!("registering a demo candidate: {e}"))?;
        sittings::admit(db, reg_id, "demo").await?;
        // Most consent to the optional questions; many learned English second.
        let second_language = rng.gen_bool(0.4);
        if rng.gen_bool(0.85) {
            let answers = BTreeMap::from([
                (
                    "language".to_string(),
                    if second_language { "other" } else { "english" }.to_string(),
                ),
                (
                    "setting".to_string(),
                    if rng.gen_bool(0.3) { "rural" } else { "urban" }.to_string(),
                ),
            ]);
            crate::store::analysis::save_demographics(db, reg_id, Some(&answers)).await?;
        }
        people.push((reg_id, 0.6 + normal(&mut rng), second_language));
    }
    // Communication items are harder for those who learned English second than their scores
    // explain: the committee's DIF page should find them.
    let dif_domain = "COM".to_string();

    // Everyone takes both parts at once, so the saves share the writer's batches.
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (reg_id, ability, second_language)) in people.iter().cloned().enumerate() {
        let (db, sitting, bps, pool) = (db.clone(), sitting.clone(), bps.clone(), pool.clone());
        let harder = if second_language {
            dif_domain.clone()
        } else {
            String::new()
        };
        tasks.spawn(async move {
            let who = Simulated {
                reg_id,
                ability,
                harder_domain: harder,
                seed: i as u64,
            };
            take_exam(&db, &sitting, &bps, &pool, who).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }

    // Raters read every response; far-apart readings go to a third, whose reading settles it.
    let ability: BTreeMap<i64, f64> = people.iter().map(|p| (p.0, p.1)).collect();
    let quality: BTreeMap<String, f64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT r.code, a.registration_id FROM responses r JOIN attempts a ON a.id = r.attempt_id
         WHERE r.sitting_id = $1",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(code, reg)| (code, 1.9 + 0.8 * ability.get(&reg).copied().unwrap_or(0.0)))
    .collect();
    // Validity responses, so calibration has something to show.
    for (item, body, expert) in [
        ("CL01-Q1", "I noticed I felt heavy and wanted to rescue the baby. I would sit with the mother first, ask about her mood, and bring my wish to rescue to supervision.", 2u32),
        ("CL02-Q1", "The parent needs to be told what to do. I would give handouts.", 0),
        ("CL03-Q1", "I would wonder with the parent what the baby is telling them, hold both in mind, and use reflective supervision to understand my own reactions to the family.", 3),
    ] {
        if item_version(db, item, 1).await?.is_some() {
            ratings::seed_validity(db, sitting_id, item, 1, body, expert, "demo").await?;
        }
    }
    ratings::assign_sitting(db, sitting_id, &BTreeSet::new(), "demo").await?;
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let expert: BTreeMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "SELECT code, expert_score FROM responses WHERE sitting_id = $1 AND expert_score IS NOT NULL",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .collect();
    // Rounds: the first two readings, then the adjudications they call for.
    for _ in 0..5 {
        let mut any = false;
        for (rater, severity) in raters {
            for entry in ratings::queue(db, *rater).await? {
                if entry.state == ratings::ReadingState::Final {
                    continue;
                }
                // A validity response is a clear case: raters differ on it by their severity
                // more than by chance.
                let score = match expert.get(&entry.code) {
                    Some(e) => (*e as f64 + severity + 0.2 * normal(&mut rng))
                        .round()
                        .clamp(0.0, 3.0) as u32,
                    None => reading(
                        quality.get(&entry.code).copied().unwrap_or(1.5),
                        *severity,
                        &mut rng,
                    ),
                };
                ratings::rate(
                    db,
                    *rater,
                    &entry.code,
                    &RatingInput {
                        score: Some(score),
                        note: String::new(),
                        feedback: feedback(score).into(),
                        is_final: true,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("a demo rating: {e}"))?;
                any = true;
            }
        }
        if !any {
            break;
        }
    }
    results::release(db, sitting_id, "demo")
        .await?
        .map_err(|e| anyhow::anyhow!("releasing the demo results: {e}"))?;
    Ok(sitting_id)
}

/// A simulated candidate: their registration, ability, a domain harder for them than their
/// ability says (or none), and their random seed.
struct Simulated {
    reg_id: i64,
    ability: f64,
    harder_domain: String,
    seed: u64,
}

/// One simulated candidate takes Part One, then Part Two, within the sitting's window.
async fn take_exam(
    db: &Db,
    sitting: &Sitting,
    bps: &[Blueprint],
    pool: &Pool,
    who: Simulated,
) -> anyhow::Result<()> {
    let Simulated {
        reg_id,
        ability,
        harder_domain,
        seed,
    } = who;
    let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
    let reg = sittings::registration(db, reg_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("registration {reg_id} is missing"))?;
    let bp = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .ok_or_else(|| anyhow::anyhow!("blueprint {} is missing", reg.blueprint_id))?;
    let t0 = sitting.opens_at + 60 * 60 * 1000 + (seed as i64 % 30) * 60_000;
    let one = attempts::start_part(db, sitting, &reg, bp, pool, 1, t0).await?;
    let mut seq = 0;
    for e in &one.form.part_one {
        let Some(item) = item_version(db, &e.item_id, e.version).await? else {
            continue;
        };
        let ItemBody::Mcq(m) = item.body else {
            continue;
        };
        seq += 1;
        // A few leave an item unanswered.
        if rng.gen_bool(0.01) {
            continue;
        }
        let shift = if item.domain == harder_domain {
            2.5
        } else {
            0.0
        };
        let p = 1.0 / (1.0 + (-1.7 * (ability - difficulty(&e.item_id) - shift)).exp());
        let answer = if rng.gen_bool(p.clamp(0.0, 1.0)) {
            m.key
        } else {
            let wrong: Vec<char> = m
                .options
                .iter()
                .map(|o| o.letter)
                .filter(|l| *l != m.key)
                .collect();
            // The first distractor draws most wrong answers.
            if rng.gen_bool(0.6) {
                wrong[0]
            } else {
                wrong[rng.gen_range(0..wrong.len())]
            }
        };
        attempts::save(
            db,
            one.id,
            &e.item_id,
            &answer.to_string(),
            seq,
            t0 + seq as i64 * 60_000,
        )
        .await?;
    }
    attempts::submit(db, one.id, "candidate", t0 + 85 * 60_000).await?;

    let t1 = t0 + 2 * 60 * 60 * 1000;
    let reg = sittings::registration(db, reg_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("registration {reg_id} is missing"))?;
    let two = attempts::start_part(db, sitting, &reg, bp, pool, 2, t1).await?;
    let k = usize::try_from(bp.part_two.answer).unwrap_or(1);
    let mut chosen: Vec<&str> = two
        .form
        .part_two
        .iter()
        .map(|v| v.vignette_id.as_str())
        .collect();
    while chosen.len() > k {
        chosen.remove(rng.gen_range(0..chosen.len()));
    }
    chosen.sort();
    attempts::save(db, two.id, "@choice", &chosen.join(","), 1, t1 + 60_000).await?;
    let mut seq = 1;
    for v in two
        .form
        .part_two
        .iter()
        .filter(|v| chosen.contains(&v.vignette_id.as_str()))
    {
        for (item, _) in &v.items {
            seq += 1;
            let text = format!(
                "Response to {item}. I would begin by slowing down and noticing what I feel in the room, \
                 then wonder with the parent about the baby's experience. I would bring what this stirs in me \
                 to reflective supervision and plan the next visit with both of them in mind."
            );
            attempts::save(db, two.id, item, &text, seq, t1 + seq as i64 * 60_000).await?;
        }
    }
    attempts::submit(db, two.id, "candidate", t1 + 80 * 60_000).await?;
    Ok(())
}
