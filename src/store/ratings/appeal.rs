//! An appeal's blind re-readings of a Part Two attempt: each response read before (not blank)
//! is read once more by a rater who has never held it (the schema's one assignment per response
//! and rater keeps that), not of the candidate's organisation, without a conflict with them,
//! qualified for the sitting, least-loaded first; a vignette's questions go to one rater, as
//! in the first readings. The re-reading is an assignment marked with its appeal, so the
//! rater's queue and desk show it like any other reading: nothing of the candidate, the earlier
//! readings or the appeal.

use std::collections::{BTreeMap, BTreeSet};

use crate::scoring::assign::{self, Need, RaterInfo};
use crate::store::{Db, Result, WriteTx};

use super::read_behind::READING_SCORE;
use super::{in_reading_order, raters};

/// The re-readings an appeal needs: (response, rater) planned, and responses no eligible rater
/// is left for, by code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rereadings {
    pub planned: Vec<(i64, i64)>,
    pub short: Vec<String>,
}

/// (response, code, vignette, sitting, candidate's organisation, email).
type ResponseRow = (i64, String, String, i64, String, String);

/// Plans the re-readings `appeal_id` lacks of an attempt's Part Two: every response read
/// before, but one whose re-reading for this appeal is held (a re-reading withdrawn with its
/// rater is handed on). Reads only; `write_rereadings` writes.
pub async fn plan_rereadings(db: &Db, attempt_id: i64, appeal_id: i64) -> Result<Rereadings> {
    let rows: Vec<ResponseRow> = sqlx::query_as(
        "SELECT r.id, r.code, r.vignette_id, r.sitting_id, g.organisation, g.email
         FROM responses r JOIN attempts a ON a.id = r.attempt_id
         JOIN registrations g ON g.id = a.registration_id
         WHERE r.attempt_id = $1 AND r.body <> '' AND r.expert_score IS NULL
           AND NOT EXISTS (SELECT 1 FROM assignments s WHERE s.response_id = r.id
                           AND s.appeal_id = $2 AND s.withdrawn_at IS NULL)
         ORDER BY r.id",
    )
    .bind(attempt_id)
    .bind(appeal_id)
    .fetch_all(&db.pool)
    .await?;
    let Some(&(_, _, _, sitting_id, ref organisation, ref email)) = rows.first() else {
        return Ok(Rereadings::default());
    };
    // Everyone who ever held a response of the attempt, withdrawn or not, has read it.
    let held: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT s.response_id, s.rater_id FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.attempt_id = $1",
    )
    .bind(attempt_id)
    .fetch_all(&db.pool)
    .await?;
    let conflicts: BTreeSet<i64> =
        sqlx::query_scalar("SELECT rater_id FROM rater_conflicts WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_all(&db.pool)
            .await?
            .into_iter()
            .collect();
    let unqualified = super::qualify::unqualified(db, sitting_id).await?;
    let raters: Vec<RaterInfo> = raters(db)
        .await?
        .into_iter()
        .filter(|r| !unqualified.contains(&r.id))
        .collect();
    let load = super::assignment::sitting_load(db, sitting_id).await?;
    // A vignette's questions together: whoever read one of them read them all.
    let mut by_vignette: BTreeMap<&str, Vec<&ResponseRow>> = BTreeMap::new();
    for row in &rows {
        by_vignette.entry(row.2.as_str()).or_default().push(row);
    }
    let mut members: BTreeMap<i64, Vec<&ResponseRow>> = BTreeMap::new();
    let needs: Vec<Need> = by_vignette
        .into_values()
        .map(|group| {
            let ids: BTreeSet<i64> = group.iter().map(|r| r.0).collect();
            members.insert(group[0].0, group.clone());
            Need {
                response_id: group[0].0,
                organisation: Some(organisation.clone()),
                conflicts: conflicts.clone(),
                excluded: held
                    .iter()
                    .filter(|(resp, _)| ids.contains(resp))
                    .map(|(_, rater)| *rater)
                    .collect(),
                readings: 1,
                size: u32::try_from(group.len()).unwrap_or(1),
            }
        })
        .collect();
    let plan = assign::plan(&raters, &load, &needs);
    let mut out = Rereadings::default();
    for (first, rater) in plan.assignments {
        for r in members.get(&first).into_iter().flatten() {
            out.planned.push((r.0, rater));
        }
    }
    for (first, _) in plan.short {
        for r in members.get(&first).into_iter().flatten() {
            out.short.push(r.1.clone());
        }
    }
    Ok(out)
}

/// Writes planned re-readings for `appeal_id` in the caller's transaction.
pub async fn write_rereadings(
    tx: &mut WriteTx,
    appeal_id: i64,
    planned: &[(i64, i64)],
    by: &str,
    now: i64,
) -> Result<()> {
    for (response, rater) in planned {
        sqlx::query(
            "INSERT INTO assignments (response_id, rater_id, reading, assigned_at, assigned_by, appeal_id)
             VALUES ($1, $2, 1, $3, $4, $5)",
        )
        .bind(response)
        .bind(rater)
        .bind(now)
        .bind(by)
        .bind(appeal_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// One response of an appealed attempt as the committee reviews it.
#[derive(Debug, Clone, PartialEq)]
pub struct AppealedResponse {
    pub response_id: i64,
    pub code: String,
    pub vignette_id: String,
    pub item_id: String,
    pub item_version: i64,
    /// The settled score the result holds.
    pub score: f64,
    /// The earlier final readings in reading order (a read-behind's override in its place).
    pub readings: Vec<u32>,
    /// The appeal's re-readings: (rater, final score when given).
    pub rereadings: Vec<(String, Option<u32>)>,
}

/// (response, code, vignette, item, item version, final score).
type AppealedRow = (i64, String, String, String, i64, Option<f64>);
/// (response, reading, appeal, rater, score).
type ReadingRow = (i64, i64, Option<i64>, String, Option<i64>);

/// Every response of an attempt with its earlier readings and `appeal_id`'s re-readings.
pub async fn appealed_responses(
    db: &Db,
    attempt_id: i64,
    appeal_id: i64,
) -> Result<Vec<AppealedResponse>> {
    let rows: Vec<AppealedRow> = sqlx::query_as(
        "SELECT id, code, vignette_id, item_id, item_version, final_score FROM responses
         WHERE attempt_id = $1 ORDER BY id",
    )
    .bind(attempt_id)
    .fetch_all(&db.pool)
    .await?;
    let readings: Vec<ReadingRow> = sqlx::query_as(&format!(
        "SELECT s.response_id, s.reading, s.appeal_id, u.username, {READING_SCORE}
         FROM assignments s JOIN responses r ON r.id = s.response_id JOIN users u ON u.id = s.rater_id
         WHERE r.attempt_id = $1 AND s.withdrawn_at IS NULL
           AND (s.appeal_id IS NULL OR s.appeal_id = $2)
         ORDER BY s.id"
    ))
    .bind(attempt_id)
    .bind(appeal_id)
    .fetch_all(&db.pool)
    .await?;
    let mut earlier: BTreeMap<i64, BTreeMap<i64, u32>> = BTreeMap::new();
    let mut again: BTreeMap<i64, Vec<(String, Option<u32>)>> = BTreeMap::new();
    for (response, reading, appeal, rater, score) in readings {
        let score = score.and_then(|s| u32::try_from(s).ok());
        if appeal.is_some() {
            again.entry(response).or_default().push((rater, score));
        } else if let Some(s) = score {
            earlier.entry(response).or_default().insert(reading, s);
        }
    }
    Ok(rows
        .into_iter()
        .map(
            |(id, code, vignette_id, item_id, item_version, final_score)| AppealedResponse {
                response_id: id,
                code,
                vignette_id,
                item_id,
                item_version,
                score: final_score.unwrap_or(0.0),
                readings: earlier.get(&id).map(in_reading_order).unwrap_or_default(),
                rereadings: again.remove(&id).unwrap_or_default(),
            },
        )
        .collect())
}
