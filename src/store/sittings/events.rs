//! What happened in a sitting: incidents, proctors' notes, browser events, and their reading.

use crate::store::{now_ms, Db, Result};

/// A proctor's incident note: the sitting's event and the audit record in one transaction.
pub async fn log_incident(db: &Db, sitting_id: i64, detail: &str, by: &str) -> Result<()> {
    let mut tx = db.write().await?;
    log_event_tx(&mut tx, sitting_id, None, "incident", detail, by).await?;
    crate::store::audit::record_tx(
        &mut tx,
        by,
        crate::store::audit::Action::SittingIncident,
        &format!("sitting {sitting_id}: {detail}"),
    )
    .await?;
    tx.commit().await
}

/// Records what happened in a sitting: browser events, incidents, proctor notes.
pub async fn log_event(
    db: &Db,
    sitting_id: i64,
    registration_id: Option<i64>,
    kind: &str,
    detail: &str,
    actor: &str,
) -> Result<()> {
    let mut tx = db.write().await?;
    log_event_tx(&mut tx, sitting_id, registration_id, kind, detail, actor).await?;
    tx.commit().await
}

/// The same, inside a transaction, so the event stands or falls with what it records.
pub async fn log_event_tx(
    tx: &mut crate::store::WriteTx,
    sitting_id: i64,
    registration_id: Option<i64>,
    kind: &str,
    detail: &str,
    actor: &str,
) -> Result<()> {
    log_event_at(
        tx,
        sitting_id,
        registration_id,
        now_ms(),
        kind,
        detail,
        actor,
    )
    .await
}

/// The same, for something that happened at `at` (a break that ended by itself, say).
pub async fn log_event_at(
    tx: &mut crate::store::WriteTx,
    sitting_id: i64,
    registration_id: Option<i64>,
    at: i64,
    kind: &str,
    detail: &str,
    actor: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sitting_events (sitting_id, registration_id, at, kind, detail, actor) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sitting_id)
    .bind(registration_id)
    .bind(at)
    .bind(kind)
    .bind(detail)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What became of an event reported by a candidate's browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserEvent {
    /// Listed for the proctor, one row.
    Listed,
    /// Past the part's limit of listed events: counted on the attempt only.
    Counted,
    /// No part has been started: there is nothing to report it against.
    NoPart,
}

/// Records an event from the candidate's browser against their current part (the open one,
/// else the last started): every event is counted on the attempt, the first
/// `MAX_LISTED_BROWSER_EVENTS` of a part are also listed one by one for the proctor.
pub async fn log_browser_event(
    db: &Db,
    sitting_id: i64,
    registration_id: i64,
    kind: &str,
    detail: &str,
) -> Result<BrowserEvent> {
    let mut tx = db.write().await?;
    let count: Option<i64> = sqlx::query_scalar(
        "UPDATE attempts SET browser_events = browser_events + 1
         WHERE id = (SELECT id FROM attempts WHERE registration_id = $1
                     ORDER BY CASE WHEN submitted_at IS NULL AND voided_at IS NULL THEN 0 ELSE 1 END,
                              started_at DESC, id DESC LIMIT 1)
         RETURNING browser_events",
    )
    .bind(registration_id)
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match count {
        None => BrowserEvent::NoPart,
        Some(n) if n <= crate::exam::limits::MAX_LISTED_BROWSER_EVENTS => {
            log_event_tx(
                &mut tx,
                sitting_id,
                Some(registration_id),
                kind,
                detail,
                "browser",
            )
            .await?;
            BrowserEvent::Listed
        }
        Some(_) => BrowserEvent::Counted,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Per registration of a sitting, the browser events counted but not listed (past each part's
/// limit); registrations with none are left out.
pub async fn unlisted_browser_events(
    db: &Db,
    sitting_id: i64,
) -> Result<std::collections::BTreeMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT a.registration_id, CAST(SUM(a.browser_events - $2) AS BIGINT)
         FROM attempts a JOIN registrations r ON r.id = a.registration_id
         WHERE r.sitting_id = $1 AND a.browser_events > $2
         GROUP BY a.registration_id",
    )
    .bind(sitting_id)
    .bind(crate::exam::limits::MAX_LISTED_BROWSER_EVENTS)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().collect())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SittingEvent {
    pub id: i64,
    pub registration_id: Option<i64>,
    pub at: i64,
    pub kind: String,
    pub detail: String,
    pub actor: String,
    pub resolved_at: Option<i64>,
}

pub async fn events(db: &Db, sitting_id: i64) -> Result<Vec<SittingEvent>> {
    Ok(sqlx::query_as(
        "SELECT id, registration_id, at, kind, detail, actor, resolved_at FROM sitting_events
         WHERE sitting_id = $1 ORDER BY id DESC",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?)
}
