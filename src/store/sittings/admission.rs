//! The proctor's actions on a registration: admitting the candidate, and moving them to a new
//! browser, each audited in its own transaction.

use crate::store::{now_ms, Db, Result};

use super::events::log_event_tx;

/// The proctor admits a candidate after checking identity. Admitting twice changes nothing;
/// admitting someone marked absent (who came late after all) clears the absence.
pub async fn admit(db: &Db, registration_id: i64, by: &str) -> Result<bool> {
    let mut tx = db.write().await?;
    let n = sqlx::query(
        "UPDATE registrations SET admitted_at = $1, admitted_by = $2, absent_at = NULL, absent_by = NULL
         WHERE id = $3 AND admitted_at IS NULL",
    )
    .bind(now_ms())
    .bind(by)
    .bind(registration_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    // The record and the sitting's event commit with the admission itself.
    record_for_registration(
        &mut tx,
        registration_id,
        by,
        crate::store::audit::Action::CandidateAdmit,
        ("admitted", "identity checked"),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The proctor moves a candidate to a new browser: the old browser's session ends, the code
/// works again once, and the second-login incidents are resolved.
pub async fn release_browser(db: &Db, registration_id: i64, by: &str) -> Result<()> {
    let mut tx = db.write().await?;
    let active: Option<Option<String>> =
        sqlx::query_scalar("SELECT active_session FROM registrations WHERE id = $1")
            .bind(registration_id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(Some(hash)) = active {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE registrations SET active_session = NULL WHERE id = $1")
        .bind(registration_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE sitting_events SET resolved_at = $1, resolved_by = $2
         WHERE registration_id = $3 AND kind = 'second-login' AND resolved_at IS NULL",
    )
    .bind(now_ms())
    .bind(by)
    .bind(registration_id)
    .execute(&mut *tx)
    .await?;
    record_for_registration(
        &mut tx,
        registration_id,
        by,
        crate::store::audit::Action::MoveBrowser,
        (
            "moved-browser",
            "the candidate may enter again in a new browser",
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A proctor's action on one registration, recorded in the action's own transaction: the audit
/// record ("registration N (email)") and the sitting's event (`kind`, `detail`).
async fn record_for_registration(
    tx: &mut crate::store::WriteTx,
    registration_id: i64,
    by: &str,
    action: crate::store::audit::Action,
    (kind, detail): (&str, &str),
) -> Result<()> {
    let (sitting_id, email): (i64, String) =
        sqlx::query_as("SELECT sitting_id, email FROM registrations WHERE id = $1")
            .bind(registration_id)
            .fetch_one(&mut **tx)
            .await?;
    crate::store::audit::record_tx(
        tx,
        by,
        action,
        &format!("registration {registration_id} ({email})"),
    )
    .await?;
    log_event_tx(tx, sitting_id, Some(registration_id), kind, detail, by).await
}
