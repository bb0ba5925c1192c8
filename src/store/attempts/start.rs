//! Starting a part: the form drawn for this candidate (from what they have seen and how often
//! each item has been used; fair where the pool is calibrated, the sitting's one form where
//! the blueprint says so: `store::forms`) and its clock, in one write.

use std::collections::{BTreeMap, BTreeSet};

use crate::bank::Blueprint;
use crate::exam::chain;
use crate::exam::clock::Clock;
use crate::exam::form::{FormError, History, Parts, Pool};
use crate::store::sittings::{Registration, Sitting};
use crate::store::{calibration, forms, Db, Result, StoreError};

use super::{attempt, attempts_of, chain_key, Attempt};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the proctor has not admitted you yet")]
    NotAdmitted,
    #[error("the proctor marked you absent from this sitting; ask them to admit you")]
    Absent,
    #[error("the sitting is not open now")]
    SittingClosed,
    #[error("you are not registered for this part")]
    NotRegistered,
    #[error("finish and submit the part you have started first")]
    OtherPartRunning,
    #[error("this part's form cannot be drawn: {0}")]
    Form(#[from] FormError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StartError {
    fn from(e: sqlx::Error) -> Self {
        StartError::Store(StoreError::Sqlx(e))
    }
}

/// What this person has seen before and how often every item and vignette has been used.
async fn history(db: &Db, email: &str, registration_id: i64) -> Result<History> {
    let seen: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT f.object_id FROM form_items f
         JOIN attempts a ON a.id = f.attempt_id JOIN registrations r ON r.id = a.registration_id
         WHERE r.email = $1 AND r.id <> $2",
    )
    .bind(email)
    .bind(registration_id)
    .fetch_all(&db.pool)
    .await?;
    let exposure: Vec<(String, i64)> =
        sqlx::query_as("SELECT object_id, COUNT(*) FROM form_items GROUP BY object_id")
            .fetch_all(&db.pool)
            .await?;
    Ok(History {
        seen: seen.into_iter().collect::<BTreeSet<_>>(),
        exposure: exposure
            .into_iter()
            .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect::<BTreeMap<_, _>>(),
    })
}

/// Starts a part (or returns it if already started): draws the form with a fresh seed (Part
/// One fair where the pool is calibrated, or the sitting's one form) and starts its clock.
pub async fn start_part(
    db: &Db,
    sitting: &Sitting,
    reg: &Registration,
    bp: &Blueprint,
    pool: &Pool,
    part: u8,
    now: i64,
) -> Result<Attempt, StartError> {
    let sits = match part {
        1 => reg.parts.one,
        2 => reg.parts.two,
        _ => false,
    };
    if !sits {
        return Err(StartError::NotRegistered);
    }
    if reg.admitted_at.is_none() {
        return Err(StartError::NotAdmitted);
    }
    if reg.absent_at.is_some() {
        return Err(StartError::Absent);
    }
    let existing = attempts_of(db, reg.id).await?;
    if let Some(a) = existing.iter().find(|a| a.part == part) {
        return Ok(a.clone());
    }
    if existing.iter().any(Attempt::is_open) {
        return Err(StartError::OtherPartRunning);
    }
    if !sitting.is_open(now) {
        return Err(StartError::SittingClosed);
    }
    let history = history(db, &reg.email, reg.id).await?;
    let seed: u64 = rand::random();
    let parts = Parts {
        one: part == 1,
        two: part == 2,
    };
    let difficulties = if parts.one {
        forms::pool_difficulties(pool, &calibration::latest_difficulties(db).await?)
    } else {
        Default::default()
    };
    let form = if parts.one && forms::one_form(bp) {
        forms::sitting_form(db, sitting.id, bp, pool, &history.exposure, &difficulties).await??
    } else {
        forms::draw(bp, pool, &history, parts, seed, &difficulties)?
    };
    let minutes = if part == 1 {
        bp.part_one.minutes
    } else {
        bp.part_two.minutes
    };
    let clock = Clock::start(now, minutes, reg.multiplier);
    let mut tx = db.write().await?;
    let res = sqlx::query_scalar::<_, i64>(
        "INSERT INTO attempts (registration_id, part, seed, form, started_at, section_ms, multiplier_permille, chain_head, max_response_chars, break_max_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(reg.id)
    .bind(i64::from(part))
    // The seed the form was drawn with (a fair form's is the try kept), stored as the same 64
    // bits; the form carries it as an unsigned number too.
    .bind(form.seed as i64)
    .bind(serde_json::to_string(&form).expect("a form serialises"))
    .bind(clock.started_at)
    .bind(clock.section_ms)
    .bind(i64::from(clock.multiplier.permille()))
    .bind(chain::genesis(&chain_key(reg.id, part)))
    .bind(i64::from(bp.part_two.max_characters))
    .bind(i64::from(bp.break_minutes) * 60_000)
    .fetch_one(&mut *tx)
    .await;
    let id = match res {
        Ok(id) => id,
        Err(e) if crate::store::is_unique_violation(&e) => {
            // Another request started it first: use theirs.
            drop(tx);
            let again = attempts_of(db, reg.id).await?;
            return again
                .into_iter()
                .find(|a| a.part == part)
                .ok_or(StartError::Store(StoreError::Sqlx(e)));
        }
        Err(e) => return Err(e.into()),
    };
    for object in form.ids() {
        sqlx::query("INSERT INTO form_items (attempt_id, object_id) VALUES ($1, $2)")
            .bind(id)
            .bind(object)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(attempt(db, id).await?.expect("just inserted"))
}
