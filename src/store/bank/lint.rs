//! What `bank lint` found in each imported bank, kept for the committee's bank page.

use super::ImportError;
use crate::store::{now_ms, Db, Result, StoreError};

/// What `bank lint` found in an imported bank, as the committee's bank page shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredLint {
    pub imported_at: i64,
    pub imported_by: String,
    pub source: String,
    /// `bank lint`'s summary line.
    pub summary: String,
    /// Warnings per rule (every rule), in the rules' order.
    pub counts: Vec<(String, String, usize)>,
    /// Every warning as `path:line: rule: message`.
    pub warnings: Vec<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct LintJson {
    summary: String,
    counts: Vec<(String, String, usize)>,
    warnings: Vec<String>,
}

/// Keeps what the lint found in the bank just imported.
pub(super) async fn store(
    db: &Db,
    report: &crate::bank::lint::Report,
    source: &str,
    by: &str,
) -> Result<(), ImportError> {
    let json = LintJson {
        summary: report.summary_line(),
        counts: report
            .counts()
            .into_iter()
            .map(|(r, n)| (r.code().to_string(), r.about().to_string(), n))
            .collect(),
        warnings: report.warnings.iter().map(|w| w.to_string()).collect(),
    };
    let text = serde_json::to_string(&json)
        .map_err(|e| ImportError::Store(StoreError::Sqlx(sqlx::Error::Protocol(e.to_string()))))?;
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO bank_lints (imported_at, imported_by, source, report) VALUES ($1, $2, $3, $4)",
    )
    .bind(now_ms())
    .bind(by)
    .bind(source)
    .bind(text)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the lint found in the newest imported bank, if a bank was imported with it.
pub async fn latest_lint(db: &Db) -> Result<Option<StoredLint>> {
    let row: Option<(i64, String, String, String)> = sqlx::query_as(
        "SELECT imported_at, imported_by, source, report FROM bank_lints ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?;
    let Some((imported_at, imported_by, source, report)) = row else {
        return Ok(None);
    };
    let json: LintJson = serde_json::from_str(&report)
        .map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
    Ok(Some(StoredLint {
        imported_at,
        imported_by,
        source,
        summary: json.summary,
        counts: json.counts,
        warnings: json.warnings,
    }))
}
