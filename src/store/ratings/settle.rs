//! Resolution: a response's final readings put to its blueprint's rules, which settle it or call
//! for a third reading.

use std::collections::{BTreeMap, BTreeSet};

use crate::bank::RatingRules;
use crate::scoring::rules::{resolve, resolve_near_cut, Resolution};
use crate::store::bank::blueprints;
use crate::store::{now_ms, Db, Result};

use super::assignment::assign_sitting;
use super::in_reading_order;
use super::read_behind::READING_SCORE;

/// The final scores of a response's active readings, in reading order (1, 2, then 3); an
/// appeal's re-reading is the appeal's, not resolution's.
async fn final_readings(db: &Db, response_id: i64) -> Result<Vec<u32>> {
    // A reading the committee overrode on a read-behind counts with the override.
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT s.reading, {READING_SCORE} FROM assignments s
         WHERE s.response_id = $1 AND s.withdrawn_at IS NULL AND s.appeal_id IS NULL
           AND EXISTS (SELECT 1 FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1)
         ORDER BY s.reading"
    ))
    .bind(response_id)
    .fetch_all(&db.pool)
    .await?;
    let mut by_reading: BTreeMap<i64, u32> = BTreeMap::new();
    for (reading, score) in rows {
        if let Some(s) = score.and_then(|s| u32::try_from(s).ok()) {
            by_reading.insert(reading, s);
        }
    }
    // A third reading only counts once both blind readings are in.
    Ok(in_reading_order(&by_reading))
}

/// The rating rules of the blueprint a response's candidate sat (the sitting's first blueprint
/// for a validity response, which is never settled anyway).
async fn rules_for_response(db: &Db, response_id: i64) -> Result<RatingRules> {
    let bp: Option<String> = sqlx::query_scalar(
        "SELECT g.blueprint_id FROM responses r
         JOIN attempts a ON a.id = r.attempt_id
         JOIN registrations g ON g.id = a.registration_id WHERE r.id = $1",
    )
    .bind(response_id)
    .fetch_optional(&db.pool)
    .await?;
    let bps = blueprints(db).await?;
    Ok(bp
        .and_then(|id| bps.into_iter().find(|b| b.id == id))
        .map(|b| b.part_two.rating)
        .unwrap_or_default())
}

/// Applies the rules to a response's final readings: settles it, or assigns a third rater.
pub async fn settle(db: &Db, response_id: i64) -> Result<Resolution> {
    let (expert, near_cut): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT expert_score, near_cut_at FROM responses WHERE id = $1")
            .bind(response_id)
            .fetch_one(&db.pool)
            .await?;
    if expert.is_some() {
        // Validity responses measure raters; they are never settled.
        return Ok(Resolution::Waiting);
    }
    let rules = rules_for_response(db, response_id).await?;
    let finals = final_readings(db, response_id).await?;
    let outcome = if near_cut.is_some() {
        resolve_near_cut(&rules, &finals)
    } else {
        resolve(&rules, &finals)
    };
    match outcome {
        Resolution::Settled(score) => {
            let settled = sqlx::query(
                "UPDATE responses SET final_score = $1, settled_at = $2 WHERE id = $3 AND settled_at IS NULL",
            )
            .bind(score)
            .bind(now_ms())
            .bind(response_id)
            .execute(&db.writer)
            .await?
            .rows_affected();
            if settled > 0 {
                super::near_cut::after_settle(db, response_id).await?;
            }
        }
        Resolution::NeedsThird => {
            let sitting_id: i64 =
                sqlx::query_scalar("SELECT sitting_id FROM responses WHERE id = $1")
                    .bind(response_id)
                    .fetch_one(&db.pool)
                    .await?;
            assign_sitting(db, sitting_id, &BTreeSet::new(), "rules").await?;
        }
        Resolution::Waiting => {}
    }
    Ok(outcome)
}
