//! The audit log: who did what, when.

use super::{now_ms, Db, Result};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

pub async fn record(db: &Db, actor: &str, action: &str, detail: &str) -> Result<()> {
    let mut tx = db.write().await?;
    record_tx(&mut tx, actor, action, detail).await?;
    tx.commit().await
}

/// The same, inside a transaction, so the record stands or falls with what it records.
pub async fn record_tx(
    tx: &mut super::WriteTx,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn recent(db: &Db, limit: i64) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as::<_, AuditEntry>(
        "SELECT id, at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?)
}
