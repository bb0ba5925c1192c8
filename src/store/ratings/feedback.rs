//! The feedback a candidate reads for a response: the raters' own, or the committee's edit.

use crate::store::{audit, Db, Result};

/// The feedback a candidate reads for a response: the committee's edit, or the raters' own.
pub async fn feedback_for(db: &Db, response_id: i64) -> Result<Vec<String>> {
    let over: Option<Option<String>> =
        sqlx::query_scalar("SELECT feedback_override FROM responses WHERE id = $1")
            .bind(response_id)
            .fetch_optional(&db.pool)
            .await?;
    if let Some(Some(text)) = over {
        return Ok(vec![text]);
    }
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT t.feedback FROM assignments s JOIN ratings t ON t.assignment_id = s.id
         WHERE s.response_id = $1 AND s.withdrawn_at IS NULL AND s.appeal_id IS NULL
           AND t.final = 1 AND t.feedback <> ''
         ORDER BY s.reading",
    )
    .bind(response_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows)
}

/// The committee replaces the feedback a candidate will read for a response.
pub async fn edit_feedback(db: &Db, response_id: i64, text: &str, by: &str) -> Result<bool> {
    let mut tx = db.write().await?;
    let n = sqlx::query(
        "UPDATE responses SET feedback_override = $1, feedback_edited_by = $2 WHERE id = $3 AND expert_score IS NULL",
    )
    .bind(text.trim())
    .bind(by)
    .bind(response_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 1 {
        audit::record_tx(
            &mut tx,
            by,
            audit::Action::EditFeedback,
            &format!("response {response_id}: feedback edited"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n == 1)
}
