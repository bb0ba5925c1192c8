//! Candidates who never came: the proctor marks them absent, and a sitting's close (its closing
//! time passing) marks absent everyone never admitted. Their parts are not taken, not failed:
//! they never block the release of results and start no retake waiting period (a part sat is a
//! submitted attempt, and an absent candidate has none).

use super::{audit, batches, now_ms, Db, Result};

/// What marking a registration absent did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkAbsent {
    Marked,
    AlreadyAbsent,
    /// The candidate has started a part: they came.
    Started,
    NotFound,
}

/// The proctor marks a candidate who did not come absent: their parts count as not taken and
/// never block the release of results. Refused once a part is started. Audited in the same
/// transaction.
pub async fn mark_absent(db: &Db, registration_id: i64, by: &str) -> Result<MarkAbsent> {
    let now = now_ms();
    let mut tx = db.write().await?;
    let n = sqlx::query(
        "UPDATE registrations SET absent_at = $1, absent_by = $2
         WHERE id = $3 AND absent_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.registration_id = $3)",
    )
    .bind(now)
    .bind(by)
    .bind(registration_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        let row: Option<(Option<i64>, i64)> = sqlx::query_as(
            "SELECT r.absent_at, (SELECT COUNT(*) FROM attempts a WHERE a.registration_id = r.id)
             FROM registrations r WHERE r.id = $1",
        )
        .bind(registration_id)
        .fetch_optional(&mut *tx)
        .await?;
        return Ok(match row {
            None => MarkAbsent::NotFound,
            Some((_, started)) if started > 0 => MarkAbsent::Started,
            Some(_) => MarkAbsent::AlreadyAbsent,
        });
    }
    let (sitting_id, email): (i64, String) =
        sqlx::query_as("SELECT sitting_id, email FROM registrations WHERE id = $1")
            .bind(registration_id)
            .fetch_one(&mut *tx)
            .await?;
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::CandidateAbsent,
        &format!("registration {registration_id} ({email}), sitting {sitting_id}"),
    )
    .await?;
    sqlx::query(
        "INSERT INTO sitting_events (sitting_id, registration_id, at, kind, detail, actor) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sitting_id)
    .bind(registration_id)
    .bind(now)
    .bind("absent")
    .bind("marked absent: did not come")
    .bind(by)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(MarkAbsent::Marked)
}

/// Closes a sitting whose closing time has passed, once: everyone never admitted is marked
/// absent, and the access codes still kept in clear for handing out are deleted. Returns how
/// many were marked absent, or None when the sitting is not due (still open, or closed
/// already). Audited in the same transaction.
pub async fn close_sitting(db: &Db, sitting_id: i64, now: i64) -> Result<Option<u64>> {
    let mut tx = db.write().await?;
    // Claims the close: of two server processes, one does it.
    let claimed = sqlx::query(
        "UPDATE sittings SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL AND closes_at <= $1",
    )
    .bind(now)
    .bind(sitting_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed == 0 {
        return Ok(None);
    }
    let absent = sqlx::query(
        "UPDATE registrations SET absent_at = $1, absent_by = 'system'
         WHERE sitting_id = $2 AND admitted_at IS NULL AND absent_at IS NULL",
    )
    .bind(now)
    .bind(sitting_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let cleared = batches::clear_sitting_codes(&mut tx, sitting_id, now).await?;
    audit::record_tx(
        &mut tx,
        "system",
        super::audit::Action::SittingClose,
        &format!(
            "sitting {sitting_id} closed: {absent} never admitted, marked absent; {cleared} access code(s) kept for handing out deleted"
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(absent))
}

/// Closes every sitting whose closing time has passed and that is not closed yet (the server's
/// once-a-second tick). Returns (sitting id, marked absent) for each closed now.
pub async fn close_due(db: &Db, now: i64) -> Result<Vec<(i64, u64)>> {
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM sittings WHERE closed_at IS NULL AND closes_at <= $1 ORDER BY id",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for id in due {
        if let Some(n) = close_sitting(db, id, now).await? {
            out.push((id, n));
        }
    }
    Ok(out)
}
