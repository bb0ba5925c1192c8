//! The demo's completed sitting: simulated candidates who took both parts, raters who scored
//! their open responses (with adjudications and validity responses), released results and two
//! appeals (`appeals`: one upheld, one not), so every committee page shows real numbers from the
//! first run.
//!
//! Candidates have an ability drawn from a normal distribution; an item's difficulty comes from
//! a hash of its id; the chance of a right answer is logistic in their difference, and wrong
//! answers favour one distractor, as real ones do. Raters differ in severity. All of it is drawn
//! from a fixed seed, so every demo database holds the same sitting.

pub mod appeals;
pub mod comments;
pub mod study;

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::bank::{Blueprint, ItemBody, Level};
use crate::exam::chain::Save;
use crate::exam::clock::Multiplier;
use crate::exam::form::Parts;
use crate::exam::registration::NewRegistration;
use crate::store::bank::{blueprints, item_version, pool};
use crate::store::ratings::{self, RatingInput};
use crate::store::sittings::{self, NewSitting, Sitting};
use crate::store::{bulk, results, Db};

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
/// people take both parts; `raters` (user ids with their severities) score Part Two (any other
/// active rater who is given readings scores without a severity).
pub async fn completed_sitting(
    db: &Db,
    candidates: usize,
    raters: &[(i64, f64)],
) -> anyhow::Result<i64> {
    completed_sitting_named(db, COMPLETED_SITTING, candidates, raters).await
}

/// The same, under another name: the committee benchmark makes sittings of several sizes.
///
/// The sitting is simulated in memory and written in bulk (`store::bulk`): the forms, the
/// response chains, the coding, the assignment of readings and their resolution are the real
/// path's, so the result is what 200 people taking the exam and four raters reading it would
/// have left, at a small fraction of the cost of going through the exam's saves one at a time.
pub async fn completed_sitting_named(
    db: &Db,
    name: &str,
    candidates: usize,
    raters: &[(i64, f64)],
) -> anyhow::Result<i64> {
    if let Some(s) = sittings::list_sittings(db)
        .await?
        .into_iter()
        .find(|s| s.name == name)
    {
        return Ok(s.id);
    }
    let bps = blueprints(db).await?;
    let now = crate::store::now_ms();
    let opens = now - 40 * DAY;
    let ids: Vec<String> = bps.iter().map(|b| b.id.clone()).collect();
    let sitting_id = sittings::create_sitting(
        db,
        &NewSitting {
            name,
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
    let mcqs = mcqs(db).await?;
    let pool = pool(db).await?;
    let mut forms = bulk::Forms::load(db, pool.clone(), &sitting, &bps).await?;

    // Who sits: mostly Level III, some of each Level IV track.
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let mut people = Vec::with_capacity(candidates);
    let mut abilities = Vec::with_capacity(candidates);
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
        let registration = NewRegistration {
            name,
            email: format!("candidate{}@demo.example", i + 1),
            organisation: ORGANISATIONS[rng.gen_range(0..ORGANISATIONS.len())].into(),
            level,
            parts: Parts::BOTH,
            multiplier: Multiplier::STANDARD,
            extra_breaks: 0,
            retake_override: None,
        };
        // Most consent to the optional questions; many learned English second.
        let second_language = rng.gen_bool(0.4);
        let demographics = rng.gen_bool(0.85).then(|| {
            BTreeMap::from([
                (
                    "language".to_string(),
                    if second_language { "other" } else { "english" }.to_string(),
                ),
                (
                    "setting".to_string(),
                    if rng.gen_bool(0.3) { "rural" } else { "urban" }.to_string(),
                ),
            ])
        });
        let ability = 0.6 + normal(&mut rng);
        let bp = bulk::blueprint_for(&sitting, &bps, &registration)
            .ok_or_else(|| anyhow::anyhow!("the bank has no blueprint for level {level}"))?;
        // Communication items are harder for those who learned English second than their
        // scores explain: the committee's DIF page should find them.
        let who = Simulated {
            email: &registration.email,
            ability,
            harder_domain: if second_language { "COM" } else { "" },
            seed: i as u64,
        };
        let parts = take_exam(&mut forms, &sitting, bp, &mcqs, who)?;
        people.push(bulk::Candidate {
            registration,
            demographics,
            parts,
        });
        abilities.push(ability);
    }
    let written = bulk::write_sitting(db, &sitting, &bps, &people, "demo").await?;

    // The raters qualify first, on the committee's qualifying sets.
    qualification_round(db, sitting_id, raters).await?;
    // Validity responses, so calibration has something to show.
    for (item, body, expert) in [
        ("CL01-Q1", "I noticed I felt heavy and wanted to rescue the baby. I would sit with the mother first, ask about her mood, and bring my wish to rescue to supervision.", 2u32),
        ("CL02-Q1", "The parent needs to be told what to do. I would give handouts.", 0),
        ("CL03-Q1", "I would wonder with the parent what the baby is telling them, hold both in mind, and use reflective supervision to understand my own reactions to the family.", 3),
    ] {
        // The bank's current version of the question.
        if let Some(v) = pool.items.iter().find(|i| i.id == item).map(|i| i.version) {
            ratings::seed_validity(db, sitting_id, item, v, body, expert, "demo").await?;
        }
    }
    // Raters read every response; far-apart readings go to a third, whose reading settles it.
    let quality: HashMap<i64, f64> = written
        .registrations
        .iter()
        .zip(&abilities)
        .map(|(reg, ability)| (*reg, 1.9 + 0.8 * ability))
        .collect();
    let severities: HashMap<i64, f64> = raters.iter().copied().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let mut give = |r: &bulk::ToRead| {
        let severity = severities.get(&r.rater_id).copied().unwrap_or(0.0);
        let score = match r.expert_score {
            // A validity response is a clear case: raters differ on it by their severity more
            // than by chance.
            Some(e) => (f64::from(e) + severity + 0.2 * normal(&mut rng))
                .round()
                .clamp(0.0, 3.0) as u32,
            None => reading(
                r.registration_id
                    .and_then(|reg| quality.get(&reg).copied())
                    .unwrap_or(1.5),
                severity,
                &mut rng,
            ),
        };
        RatingInput {
            score: Some(score),
            note: String::new(),
            feedback: feedback(score).into(),
            is_final: true,
        }
    };
    bulk::read_sitting(db, sitting_id, "demo", &mut give).await?;
    read_behinds(db, sitting_id, &quality).await?;
    // An override can part two readings further than the rules allow: their adjudicators read.
    bulk::read_sitting(db, sitting_id, "demo", &mut give).await?;
    // The committee's Rasch calibration, so the sitting's statistics show it from the start;
    // before the results, which are equated through it.
    crate::store::calibration::calibrate(db, sitting_id, "demo")
        .await
        .map_err(|e| anyhow::anyhow!("calibrating the demo sitting: {e}"))?;
    results::release(db, sitting_id, "demo")
        .await?
        .map_err(|e| anyhow::anyhow!("releasing the demo results: {e}"))?;
    // The demo's own sitting carries two appeals (the committee bench's sittings do not).
    if name == COMPLETED_SITTING {
        appeals::two_appeals(db, sitting_id).await?;
    }
    Ok(sitting_id)
}

/// The qualifying sets and the raters' attempts at them, through the raters' own path
/// (`ratings::rate`), so every attempt is scored and kept as live. Set 1 and set 2 are the
/// anchor answers of two questions each, at their anchors' scores (a committee writes fresh
/// responses; the demo has only the bank's). A rater reads a qualifying response as a clear case:
/// its expert score moved by their severity, which reading the anchors again after a set below
/// the standard halves.
async fn qualification_round(
    db: &Db,
    sitting_id: i64,
    raters: &[(i64, f64)],
) -> anyhow::Result<()> {
    for (set_no, items) in [(1u32, ["CL01-Q2", "CL02-Q2"]), (2, ["CL03-Q2", "CL04-Q2"])] {
        for item in items {
            let Some(iv) = item_version(db, item, 1).await? else {
                continue;
            };
            let ItemBody::Open(open) = iv.body else {
                continue;
            };
            for point in &open.rubric {
                if let Some(anchor) = point.anchors.last() {
                    ratings::seed_qualifying(
                        db,
                        sitting_id,
                        item,
                        1,
                        anchor,
                        point.score,
                        set_no,
                        "demo",
                    )
                    .await?;
                }
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(91);
    loop {
        let mut scored = 0;
        for (rater, severity) in raters {
            for e in ratings::queue(db, *rater).await? {
                if e.state == ratings::ReadingState::Final {
                    continue;
                }
                let (expert, set_no): (Option<i64>, Option<i64>) = sqlx::query_as(
                    "SELECT expert_score, qualifying_set FROM responses WHERE code = $1",
                )
                .bind(&e.code)
                .fetch_one(&db.pool)
                .await?;
                let (Some(expert), Some(set_no)) = (expert, set_no) else {
                    continue;
                };
                let score = (expert as f64 + severity / set_no as f64 + 0.2 * normal(&mut rng))
                    .round()
                    .clamp(0.0, 3.0) as u32;
                let input = RatingInput {
                    score: Some(score),
                    note: String::new(),
                    feedback: String::new(),
                    is_final: true,
                };
                ratings::rate(db, *rater, &e.code, &input)
                    .await
                    .map_err(|e| anyhow::anyhow!("a qualifying reading: {e}"))?;
                scored += 1;
            }
        }
        if scored == 0 {
            return Ok(());
        }
    }
}

/// The committee reads behind its sample of every rater's finals: its own reading is the
/// response's simulated quality, with no severity; a rater's score that differs is overridden,
/// with the reason, and the rest confirmed.
async fn read_behinds(db: &Db, sitting_id: i64, quality: &HashMap<i64, f64>) -> anyhow::Result<()> {
    for e in ratings::read_behind_sample(db, sitting_id).await? {
        let reg: Option<i64> = sqlx::query_scalar(
            "SELECT a.registration_id FROM assignments s JOIN responses r ON r.id = s.response_id
             JOIN attempts a ON a.id = r.attempt_id WHERE s.id = $1",
        )
        .bind(e.assignment_id)
        .fetch_optional(&db.pool)
        .await?;
        let Some(q) = reg.and_then(|r| quality.get(&r)) else {
            continue;
        };
        let score = q.round().clamp(0.0, 3.0) as u32;
        let reason = if score == e.rater_score {
            String::new()
        } else {
            format!(
                "Read against the rubric, the response sits with the score-{score} anchor answers."
            )
        };
        ratings::read_behind_entry(db, sitting_id, &e, score, &reason, "demo")
            .await?
            .map_err(|e| anyhow::anyhow!("a read-behind: {e}"))?;
    }
    Ok(())
}

/// What the simulation needs of a multiple-choice item: its domain, its key and its options.
struct Mcq {
    domain: String,
    key: char,
    letters: Vec<char>,
}

/// Every multiple-choice item version of the bank, in one query.
async fn mcqs(db: &Db) -> anyhow::Result<HashMap<(String, u32), Mcq>> {
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT item_id, version, domain, content FROM item_versions WHERE kind = 'mcq'",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out = HashMap::new();
    for (id, version, domain, content) in rows {
        if let Ok(ItemBody::Mcq(m)) = serde_json::from_str::<ItemBody>(&content) {
            let version = u32::try_from(version)?;
            out.insert(
                (id, version),
                Mcq {
                    domain,
                    key: m.key,
                    letters: m.options.iter().map(|o| o.letter).collect(),
                },
            );
        }
    }
    Ok(out)
}

/// A simulated candidate: their email, ability, a domain harder for them than their ability
/// says (or none), and their random seed.
struct Simulated<'a> {
    email: &'a str,
    ability: f64,
    harder_domain: &'a str,
    seed: u64,
}

/// One simulated candidate takes Part One, then Part Two, within the sitting's window: the
/// forms drawn as the exam draws them, the saves their browser would send.
fn take_exam(
    forms: &mut bulk::Forms,
    sitting: &Sitting,
    bp: &Blueprint,
    mcqs: &HashMap<(String, u32), Mcq>,
    who: Simulated,
) -> anyhow::Result<Vec<bulk::TakenPart>> {
    let Simulated {
        email,
        ability,
        harder_domain,
        seed,
    } = who;
    let mut rng = ChaCha8Rng::seed_from_u64(1000 + seed);
    let t0 = sitting.opens_at + 60 * 60 * 1000 + (seed as i64 % 30) * 60_000;
    let one = forms.draw(bp, email, 1, rng.gen())?;
    let mut saves = Vec::new();
    let mut seq = 0;
    let mut flaw_comment = None;
    for e in &one.part_one {
        let Some(m) = mcqs.get(&(e.item_id.clone(), e.version)) else {
            continue;
        };
        seq += 1;
        // A few leave an item unanswered.
        if rng.gen_bool(0.01) {
            continue;
        }
        let shift = if m.domain == harder_domain { 2.5 } else { 0.0 };
        let p = 1.0 / (1.0 + (-1.7 * (ability - difficulty(&e.item_id) - shift)).exp());
        let mut answer = if rng.gen_bool(p.clamp(0.0, 1.0)) {
            m.key
        } else {
            let wrong: Vec<char> = m.letters.iter().copied().filter(|l| *l != m.key).collect();
            // The first distractor draws most wrong answers.
            if rng.gen_bool(0.6) {
                wrong[0]
            } else {
                wrong[rng.gen_range(0..wrong.len())]
            }
        };
        if e.item_id == comments::FLAWED_ITEM {
            answer = comments::flawed_answer(email, ability, answer, m.key);
            flaw_comment = comments::comment_on_flaw(email, answer, m.key);
        }
        saves.push(Save {
            item_id: e.item_id.clone(),
            answer: answer.to_string(),
            seq,
            at_ms: t0 + seq as i64 * 60_000,
        });
    }
    // A comment on the flawed item, saved as the exam saves one, after the answers.
    if let Some(text) = flaw_comment {
        seq += 1;
        saves.push(Save {
            item_id: crate::exam::comment::key(comments::FLAWED_ITEM),
            answer: text.to_string(),
            seq,
            at_ms: t0 + seq as i64 * 60_000,
        });
    }
    let part_one = bulk::TakenPart {
        part: 1,
        form: one,
        started_at: t0,
        saves,
        submitted_at: t0 + 85 * 60_000,
    };

    let t1 = t0 + 2 * 60 * 60 * 1000;
    let two = forms.draw(bp, email, 2, rng.gen())?;
    let k = usize::try_from(bp.part_two.answer).unwrap_or(1);
    let mut chosen: Vec<&str> = two
        .part_two
        .iter()
        .map(|v| v.vignette_id.as_str())
        .collect();
    while chosen.len() > k {
        chosen.remove(rng.gen_range(0..chosen.len()));
    }
    chosen.sort();
    let mut saves = vec![Save {
        item_id: "@choice".into(),
        answer: chosen.join(","),
        seq: 1,
        at_ms: t1 + 60_000,
    }];
    let mut seq = 1;
    for v in two
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
            saves.push(Save {
                item_id: item.clone(),
                answer: text,
                seq,
                at_ms: t1 + seq as i64 * 60_000,
            });
        }
    }
    let part_two = bulk::TakenPart {
        part: 2,
        form: two,
        started_at: t1,
        saves,
        submitted_at: t1 + 80 * 60_000,
    };
    Ok(vec![part_one, part_two])
}
