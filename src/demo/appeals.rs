//! The demo's two appeals, made after its results are released, through the real path
//! (`store::appeals`): one upheld, one not, with the figures the sitting gives.
//!
//! - Part Two, upheld: of the candidates who did not pass Part Two, the one closest to the cut
//!   whose responses, read once more at the upper end of their earlier readings, would pass.
//!   Their re-readers (raters who had not read the responses) read them so, and by the sample
//!   blueprint's rule ("decision-change") the re-readings replace the result.
//! - Part One, not upheld: the candidate who missed Part One's pass mark by the fewest points;
//!   the recount against the key confirms the result.

use crate::scoring::results::points_text;
use crate::store::appeals::{self, Appeal};
use crate::store::attempts::attempts_of;
use crate::store::bank::blueprints;
use crate::store::ratings::{self, appeal::plan_rereadings, RatingInput};
use crate::store::results::{self, PartLine, StoredResult};
use crate::store::sittings::Registration;
use crate::store::{now_ms, Db};

const PART_TWO_REASON: &str = "I believe my responses to the second vignette were read too harshly: I described how I would use reflective supervision and a concrete plan with the mother, which the rubric's higher levels ask for.";
const PART_ONE_REASON: &str = "I missed the pass mark by very little and I am sure of several answers marked wrong. Please recount my answers.";

/// Makes the two appeals of the completed sitting.
pub async fn two_appeals(db: &Db, sitting_id: i64) -> anyhow::Result<()> {
    let lines = results::stored(db, sitting_id).await?.lines;
    let scored = |part: usize| {
        let mut v: Vec<(&Registration, &StoredResult)> = lines
            .iter()
            .filter_map(|l| match &l.parts[part] {
                PartLine::Scored(r) if !r.passed => Some((&l.registration, r)),
                _ => None,
            })
            .collect();
        v.sort_by(|a, b| b.1.points.total_cmp(&a.1.points));
        v
    };
    let bps = blueprints(db).await?;
    let mut upheld = None;
    for (reg, r) in scored(1) {
        let Some(bp) = bps.iter().find(|b| b.id == reg.blueprint_id) else {
            continue;
        };
        let upper: f64 = r.detail.responses.iter().map(|s| s.score.ceil()).sum();
        if !bp.part_two.pass_percent.reached(upper, r.max) {
            continue;
        }
        let Some(a) = attempts_of(db, reg.id)
            .await?
            .into_iter()
            .find(|a| a.part == 2)
        else {
            continue;
        };
        // No appeal yet (ids start at 1): every response read before.
        if plan_rereadings(db, a.id, 0).await?.short.is_empty() {
            upheld = Some(reg.clone());
            break;
        }
    }
    if let Some(reg) = upheld {
        let id = request(db, &reg, 2, PART_TWO_REASON).await?;
        appeals::start(db, id, "demo")
            .await?
            .ok_or_else(|| anyhow::anyhow!("appeal {id} is missing"))?
            .map_err(|e| anyhow::anyhow!("starting the demo's appeal: {e}"))?;
        let rereadings: Vec<(String, i64, Option<f64>)> = sqlx::query_as(
            "SELECT r.code, s.rater_id, r.final_score FROM assignments s
             JOIN responses r ON r.id = s.response_id WHERE s.appeal_id = $1 ORDER BY s.id",
        )
        .bind(id)
        .fetch_all(&db.pool)
        .await?;
        for (code, rater, settled) in rereadings {
            let score = settled.unwrap_or(0.0).ceil() as u32;
            let input = RatingInput {
                score: Some(score),
                note: String::new(),
                feedback: super::feedback(score).into(),
                is_final: true,
            };
            ratings::rate(db, rater, &code, &input)
                .await
                .map_err(|e| anyhow::anyhow!("the demo's re-reading of {code}: {e}"))?;
        }
        let a = get(db, id).await?;
        decide(db, &a, |before, after| {
            format!(
                "Each response was read again by a rater who had not read it. The re-readings total {after}, against {before} before; they change the pass/fail decision, so by the blueprint's rule they replace the result."
            )
        })
        .await?;
    }
    if let Some((reg, _)) = scored(0).first() {
        let id = request(db, reg, 1, PART_ONE_REASON).await?;
        appeals::start(db, id, "demo")
            .await?
            .ok_or_else(|| anyhow::anyhow!("appeal {id} is missing"))?
            .map_err(|e| anyhow::anyhow!("starting the demo's appeal: {e}"))?;
        let a = get(db, id).await?;
        decide(db, &a, |before, after| {
            format!(
                "Your answers were recounted against the key as the committee reviewed it: {after}, the same as the {before} released. The result stands."
            )
        })
        .await?;
    }
    Ok(())
}

async fn request(db: &Db, reg: &Registration, part: u8, reason: &str) -> anyhow::Result<i64> {
    appeals::request(db, reg, part, reason, now_ms())
        .await?
        .map_err(|e| anyhow::anyhow!("the demo's appeal of Part {part}: {e}"))
}

async fn get(db: &Db, id: i64) -> anyhow::Result<Appeal> {
    appeals::get(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("appeal {id} is missing"))
}

/// Decides with reasons written from the outcome's figures: `reasons(before, after)`.
async fn decide(
    db: &Db,
    a: &Appeal,
    reasons: impl Fn(String, String) -> String,
) -> anyhow::Result<()> {
    let after = match appeals::review(db, a).await? {
        Some(appeals::Review::PartOne {
            recount: Some(r), ..
        }) => r,
        Some(appeals::Review::PartTwo {
            outcome: Some(o), ..
        }) => o.after,
        _ => anyhow::bail!("appeal {} cannot be decided yet", a.id),
    };
    let text = reasons(points_text(a.before.0), points_text(after.0));
    appeals::decide(db, a.id, &text, "demo")
        .await?
        .ok_or_else(|| anyhow::anyhow!("appeal {} is missing", a.id))?
        .map_err(|e| anyhow::anyhow!("deciding the demo's appeal: {e}"))?;
    Ok(())
}
