//! The committee's decision on an appeal, with its reasons. Part One: the recount against the
//! keys as they stand. Part Two: the blueprint's rule over the earlier readings and the blind
//! re-readings; the responses' settled scores take the rule's scores, so any later computation
//! of the sitting agrees. A changed result is stored for the appellant alone, in the decision's
//! transaction with its audit record; the candidate's page shows it at once (their sitting is
//! released). Nobody else's result is read or written.

use std::collections::BTreeMap;

use crate::scoring::appeal::Outcome;
use crate::store::results::one::{part_two_with, score_now, store_tx};
use crate::store::{audit, now_ms, Db, Result};

use super::review::{review, Review};
use super::{get, said, State};

/// Why an appeal cannot be decided now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideRefused {
    #[error("start the re-score before deciding")]
    NotStarted,
    #[error("this appeal is decided already")]
    Decided,
    #[error("give the reasons for the decision: the candidate reads them")]
    NoReasons,
    #[error("reasons are at most 2,000 characters")]
    ReasonsTooLong,
    #[error("not every re-reading is in yet")]
    Waiting,
    #[error("the appealed part no longer has a result to re-score")]
    Gone,
}

/// Decides appeal `id` (None: no such appeal): the outcome stored, whether upheld or not.
pub async fn decide(
    db: &Db,
    id: i64,
    reasons: &str,
    by: &str,
) -> Result<Option<std::result::Result<Outcome, DecideRefused>>> {
    let Some(appeal) = get(db, id).await? else {
        return Ok(None);
    };
    match appeal.state {
        State::Open => return Ok(Some(Err(DecideRefused::NotStarted))),
        State::Decided => return Ok(Some(Err(DecideRefused::Decided))),
        State::Rescoring => {}
    }
    let reasons = reasons.trim();
    if reasons.is_empty() {
        return Ok(Some(Err(DecideRefused::NoReasons)));
    }
    if reasons.chars().count() > crate::scoring::appeal::MAX_REASON_CHARS {
        return Ok(Some(Err(DecideRefused::ReasonsTooLong)));
    }
    // The result to store when it changes, the outcome, and Part Two's new response scores
    // (response, before, after).
    let (new, outcome, changes) = if appeal.part == 1 {
        let Some(recount) = score_now(db, appeal.registration_id, 1).await? else {
            return Ok(Some(Err(DecideRefused::Gone)));
        };
        let outcome = Outcome {
            before: appeal.before,
            after: (recount.points, recount.passed),
        };
        (recount, outcome, Vec::new())
    } else {
        let Some(Review::PartTwo { lines, outcome, .. }) = review(db, &appeal).await? else {
            return Ok(Some(Err(DecideRefused::Gone)));
        };
        let Some(outcome) = outcome else {
            return Ok(Some(Err(DecideRefused::Waiting)));
        };
        let changes: Vec<(i64, f64, f64)> = lines
            .iter()
            .filter_map(|l| {
                let after = l.new_score?;
                ((after - l.response.score).abs() > 1e-9).then_some((
                    l.response.response_id,
                    l.response.score,
                    after,
                ))
            })
            .collect();
        let scores: BTreeMap<i64, f64> = changes.iter().map(|(r, _, a)| (*r, *a)).collect();
        let Some(new) = part_two_with(db, appeal.registration_id, &scores).await? else {
            return Ok(Some(Err(DecideRefused::Gone)));
        };
        (new, outcome, changes)
    };
    let upheld = outcome.changed();
    let now = now_ms();
    let mut tx = db.write().await?;
    let moved = sqlx::query(
        "UPDATE appeals SET state = 'decided', after_points = CAST($1 AS DOUBLE PRECISION),
             after_passed = $2, upheld = $3, decision = $4, decided_by = $5, decided_at = $6
         WHERE id = $7 AND state = 'rescoring'",
    )
    .bind(outcome.after.0.to_string())
    .bind(i64::from(outcome.after.1))
    .bind(i64::from(upheld))
    .bind(reasons)
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Ok(Some(Err(DecideRefused::Decided)));
    }
    if upheld {
        for (response, before, after) in &changes {
            sqlx::query("UPDATE responses SET final_score = $1 WHERE id = $2")
                .bind(after)
                .bind(response)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO appeal_scores (appeal_id, response_id, before_score, after_score)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(response)
            .bind(before)
            .bind(after)
            .execute(&mut *tx)
            .await?;
        }
        store_tx(&mut tx, &new).await?;
    }
    let rule = appeal
        .part_two_rule
        .map(|r| format!(" by the rule \"{r}\""))
        .unwrap_or_default();
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::AppealDecide,
        &format!(
            "appeal {id}: registration {}'s Part {}{rule}: {} before, {} after; {}; reasons: {reasons}",
            appeal.registration_id,
            appeal.part,
            said(outcome.before),
            said(outcome.after),
            if upheld {
                format!(
                    "upheld, the new result stored and released to this candidate alone{}",
                    if changes.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({} responses rescored: {})",
                            changes.len(),
                            changes
                                .iter()
                                .map(|(r, b, a)| format!("response {r} {b} -> {a}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                )
            } else {
                "not upheld, the result stands".to_string()
            }
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Ok(outcome)))
}
