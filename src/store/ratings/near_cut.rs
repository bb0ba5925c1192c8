//! A closer look near the cut (`[part_two.rating] near_cut_margin`): when the last response of
//! a candidate's Part Two settles and the part's resolved total lies within the margin of the
//! pass mark (edges included), every response of the part not already read three times (and
//! not blank) is opened again for one more blind reading, its third; the result waits for it.
//! The readings then combine by `scoring::rules::resolve_near_cut`. It happens once per
//! attempt: a total that moves after the closer look is not looked at again.

use std::collections::BTreeSet;

use crate::store::attempts::attempt;
use crate::store::bank::blueprints;
use crate::store::sittings::registration;
use crate::store::{audit, now_ms, Db, Result};

use super::assignment::assign_sitting;

/// Called after `response_id` settles. Returns how many responses were opened again.
pub(super) async fn after_settle(db: &Db, response_id: i64) -> Result<usize> {
    let row: Option<(Option<i64>, i64)> =
        sqlx::query_as("SELECT attempt_id, sitting_id FROM responses WHERE id = $1")
            .bind(response_id)
            .fetch_optional(&db.pool)
            .await?;
    let Some((Some(attempt_id), sitting_id)) = row else {
        return Ok(0);
    };
    let n = look_at(db, sitting_id, attempt_id).await?;
    if n > 0 {
        assign_sitting(db, sitting_id, &BTreeSet::new(), "rules").await?;
    }
    Ok(n)
}

/// The same for every attempt of a sitting whose Part Two is settled and not yet looked at
/// (the bulk reader's round, `bulk::read_sitting`), without assigning: the caller's next round
/// assigns the readings. Returns how many responses were opened again.
pub(crate) async fn look_at_sitting(db: &Db, sitting_id: i64) -> Result<usize> {
    if !blueprints(db)
        .await?
        .iter()
        .any(|b| b.part_two.rating.near_cut_margin.points() > 0.0)
    {
        return Ok(0);
    }
    let settled: Vec<i64> = sqlx::query_scalar(
        "SELECT attempt_id FROM responses WHERE sitting_id = $1 AND attempt_id IS NOT NULL
         GROUP BY attempt_id
         HAVING SUM(CASE WHEN settled_at IS NULL THEN 1 ELSE 0 END) = 0
            AND SUM(CASE WHEN near_cut_at IS NOT NULL THEN 1 ELSE 0 END) = 0",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut n = 0;
    for attempt_id in settled {
        n += look_at(db, sitting_id, attempt_id).await?;
    }
    Ok(n)
}

/// Looks at one attempt: opens its responses again when its settled total is near the cut.
async fn look_at(db: &Db, sitting_id: i64, attempt_id: i64) -> Result<usize> {
    let Some(a) = attempt(db, attempt_id).await? else {
        return Ok(0);
    };
    let Some(reg) = registration(db, a.registration_id).await? else {
        return Ok(0);
    };
    let Some(bp) = blueprints(db)
        .await?
        .into_iter()
        .find(|b| b.id == reg.blueprint_id)
    else {
        return Ok(0);
    };
    let margin = bp.part_two.rating.near_cut_margin;
    if margin.points() == 0.0 {
        return Ok(0);
    }
    let looked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM responses WHERE attempt_id = $1 AND near_cut_at IS NOT NULL",
    )
    .bind(attempt_id)
    .fetch_one(&db.pool)
    .await?;
    if looked > 0 {
        return Ok(0);
    }
    let Some((points, max)) = crate::store::results::part_two_total(db, &a, &bp).await? else {
        return Ok(0);
    };
    let pass_points = max * f64::from(bp.part_two.pass_percent) / 100.0;
    if !margin.near(points, pass_points) {
        return Ok(0);
    }
    // The part's responses read fewer than three times (blank ones are 0 by rule, unread).
    let reopen: Vec<i64> = sqlx::query_scalar(
        "SELECT r.id FROM responses r
         WHERE r.attempt_id = $1 AND r.body <> ''
           AND (SELECT COUNT(*) FROM assignments s
                WHERE s.response_id = r.id AND s.withdrawn_at IS NULL
                  AND EXISTS (SELECT 1 FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1)) < 3",
    )
    .bind(attempt_id)
    .fetch_all(&db.pool)
    .await?;
    let now = now_ms();
    let mut tx = db.write().await?;
    for id in &reopen {
        sqlx::query(
            "UPDATE responses SET near_cut_at = $1, final_score = NULL, settled_at = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    if reopen.is_empty() {
        // Everything was read three times already: mark the look as taken all the same.
        sqlx::query("UPDATE responses SET near_cut_at = $1 WHERE attempt_id = $2")
            .bind(now)
            .bind(attempt_id)
            .execute(&mut *tx)
            .await?;
    }
    audit::record_tx(
        &mut tx,
        "rules",
        audit::Action::NearCut,
        &format!(
            "sitting {sitting_id}: attempt {attempt_id}'s Part Two total {points} of {max} is within {margin} of the pass mark {pass_points}: {} responses read once more",
            reopen.len()
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(reopen.len())
}
