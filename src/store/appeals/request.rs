//! A candidate's request: within the window, for a part with a result, once per part.

use crate::scoring::appeal::{window, Reason, Refused};
use crate::store::bank::blueprints;
use crate::store::results::{released_at, result};
use crate::store::sittings::Registration;
use crate::store::{audit, is_unique_violation, Db, Result, StoreError};

/// The candidate of `reg` appeals `part` at `now` with `reason`: the appeal's id, or why not.
pub async fn request(
    db: &Db,
    reg: &Registration,
    part: u8,
    reason: &str,
    now: i64,
) -> Result<std::result::Result<i64, Refused>> {
    let rules = blueprints(db)
        .await?
        .into_iter()
        .find(|b| b.id == reg.blueprint_id)
        .map(|b| b.appeals)
        .unwrap_or_default();
    let deadline = match window(now, released_at(db, reg.sitting_id).await?, &rules) {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    let reason = match Reason::parse(reason) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let Some(before) = result(db, reg.id, part).await? else {
        return Ok(Err(Refused::NoResult));
    };
    let mut tx = db.write().await?;
    let inserted: std::result::Result<i64, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO appeals (registration_id, part, reason, requested_at, deadline_at, state,
             before_points, before_passed)
         VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) RETURNING id",
    )
    .bind(reg.id)
    .bind(i64::from(part))
    .bind(reason.as_str())
    .bind(now)
    .bind(deadline)
    .bind(before.points)
    .bind(i64::from(before.passed))
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Ok(Err(Refused::AlreadyAppealed)),
        Err(e) => return Err(e.into()),
    };
    audit::record_tx(
        &mut tx,
        "candidate",
        audit::Action::AppealRequest,
        &format!(
            "appeal {id}: registration {} (sitting {}) appealed Part {part}, result {}, before the deadline {deadline}; reason: {}",
            reg.id,
            reg.sitting_id,
            super::said((before.points, before.passed)),
            reason.as_str()
        ),
    )
    .await?;
    match tx.commit().await {
        Ok(()) => Ok(Ok(id)),
        Err(StoreError::Sqlx(e)) if is_unique_violation(&e) => Ok(Err(Refused::AlreadyAppealed)),
        Err(e) => Err(e),
    }
}
