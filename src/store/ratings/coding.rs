//! The responses raters read, each under a random code: a submitted Part Two's, coded in the
//! submission's own transaction, and validity responses the committee seeds into every queue.

use std::collections::BTreeSet;

use crate::auth::new_response_code;
use crate::store::attempts::Attempt;
use crate::store::bank::item_version;
use crate::store::{audit, now_ms, Db, Result, StoreError};

use super::{missing, raters};

/// Creates the coded responses of a submitted Part Two attempt, inside the submission's
/// transaction: one per item of each vignette the candidate chose. A blank response is settled
/// at 0 at once and goes to no rater.
pub(crate) async fn code_responses(
    tx: &mut crate::store::WriteTx,
    attempt: &Attempt,
    now: i64,
) -> Result<usize> {
    let sitting_id: i64 = sqlx::query_scalar("SELECT sitting_id FROM registrations WHERE id = $1")
        .bind(attempt.registration_id)
        .fetch_one(&mut **tx)
        .await?;
    let answers = crate::store::attempts::answers_in(&mut **tx, attempt.id).await?;
    let chosen: BTreeSet<&str> = answers
        .get("@choice")
        .map(|c| c.split(',').filter(|v| !v.is_empty()).collect())
        .unwrap_or_default();
    let mut n = 0;
    for v in attempt
        .form
        .part_two
        .iter()
        .filter(|v| chosen.contains(v.vignette_id.as_str()))
    {
        for (item_id, version) in &v.items {
            let body = answers.get(item_id).map(|s| s.trim()).unwrap_or_default();
            let blank = body.is_empty();
            // A collision of two random codes is rare; a few tries settle it.
            let mut inserted = false;
            for _ in 0..5 {
                let res = sqlx::query(
                    "INSERT INTO responses (code, sitting_id, attempt_id, item_id, item_version, vignette_id,
                         vignette_version, body, final_score, settled_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                             CASE WHEN $9 = 1 THEN 0.0 ELSE NULL END, $10, $11)",
                )
                .bind(new_response_code())
                .bind(sitting_id)
                .bind(attempt.id)
                .bind(item_id)
                .bind(i64::from(*version))
                .bind(&v.vignette_id)
                .bind(i64::from(v.version))
                .bind(body)
                // A flag, not an Option<f64>: the Any driver's typed NULL for a float is
                // refused by PostgreSQL.
                .bind(i64::from(blank))
                .bind(blank.then_some(now))
                .bind(now)
                .execute(&mut **tx)
                .await;
                match res {
                    Ok(_) => {
                        inserted = true;
                        break;
                    }
                    Err(e) if crate::store::is_unique_violation(&e) => {
                        let exists: Option<i64> = sqlx::query_scalar(
                            "SELECT id FROM responses WHERE attempt_id = $1 AND item_id = $2",
                        )
                        .bind(attempt.id)
                        .bind(item_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                        if exists.is_some() {
                            inserted = true;
                            break;
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if !inserted {
                return Err(StoreError::Sqlx(sqlx::Error::Protocol(
                    "could not draw a unique response code".into(),
                )));
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Seeds a validity response (a response with an expert score) into every active rater's
/// queue, where it looks like any other.
pub async fn seed_validity(
    db: &Db,
    sitting_id: i64,
    item_id: &str,
    item_version: u32,
    body: &str,
    expert_score: u32,
    by: &str,
) -> Result<String> {
    let item = item_version_full(db, item_id, item_version).await?;
    let now = now_ms();
    let code = new_response_code();
    let mut tx = db.write().await?;
    let id = insert_expert_response(
        &mut tx,
        &code,
        sitting_id,
        (item_id, item_version),
        &item,
        body,
        expert_score,
        None,
    )
    .await?;
    for r in raters(db).await? {
        sqlx::query(
            "INSERT INTO assignments (response_id, rater_id, reading, assigned_at, assigned_by)
             VALUES ($1, $2, 1, $3, $4)",
        )
        .bind(id)
        .bind(r.id)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
    }
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::SeedValidity,
        &format!("sitting {sitting_id}: validity response {code} for {item_id} v{item_version}, expert score {expert_score}"),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

/// Adds a response with an expert score to a sitting's qualifying set `set_no` (1 or more):
/// every rater who scores that set next is given it (`qualify::ensure_assignments`).
#[allow(clippy::too_many_arguments)]
pub async fn seed_qualifying(
    db: &Db,
    sitting_id: i64,
    item_id: &str,
    item_version: u32,
    body: &str,
    expert_score: u32,
    set_no: u32,
    by: &str,
) -> Result<String> {
    let item = item_version_full(db, item_id, item_version).await?;
    let code = new_response_code();
    let mut tx = db.write().await?;
    insert_expert_response(
        &mut tx,
        &code,
        sitting_id,
        (item_id, item_version),
        &item,
        body,
        expert_score,
        Some(set_no),
    )
    .await?;
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::SeedQualifying,
        &format!("sitting {sitting_id}: qualifying set {set_no}, response {code} for {item_id} v{item_version}, expert score {expert_score}"),
    )
    .await?;
    tx.commit().await?;
    super::qualify::ensure_assignments(db, sitting_id, by).await?;
    Ok(code)
}

/// Inserts a response with an expert score (validity, or of a qualifying set); its id.
#[allow(clippy::too_many_arguments)]
async fn insert_expert_response(
    tx: &mut crate::store::WriteTx,
    code: &str,
    sitting_id: i64,
    (item_id, item_version): (&str, u32),
    vignette: &(String, i64),
    body: &str,
    expert_score: u32,
    set_no: Option<u32>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO responses (code, sitting_id, attempt_id, item_id, item_version, vignette_id,
             vignette_version, body, expert_score, qualifying_set, created_at)
         VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(code)
    .bind(sitting_id)
    .bind(item_id)
    .bind(i64::from(item_version))
    .bind(&vignette.0)
    .bind(vignette.1)
    .bind(body.trim())
    .bind(i64::from(expert_score))
    .bind(set_no.map(i64::from))
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?)
}

/// The vignette (id, version) an open item belongs to, in its newest version.
async fn item_version_full(db: &Db, item_id: &str, version: u32) -> Result<(String, i64)> {
    let item = item_version(db, item_id, version)
        .await?
        .ok_or_else(|| missing(item_id))?;
    let vignette = item.vignette.ok_or_else(|| missing(item_id))?;
    let v: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM vignette_versions WHERE vignette_id = $1")
            .bind(&vignette)
            .fetch_one(&db.pool)
            .await?;
    Ok((vignette.clone(), v.ok_or_else(|| missing(&vignette))?))
}
