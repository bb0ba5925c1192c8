//! The committee starts an appeal's re-score: Part One is recounted against the keys as they
//! stand now; Part Two's responses are given their blind re-readings.

use crate::store::attempts::attempts_of;
use crate::store::bank::blueprints;
use crate::store::ratings::appeal::{plan_rereadings, write_rereadings};
use crate::store::results::one::score_now;
use crate::store::sittings::registration;
use crate::store::{audit, now_ms, Db, Result};

use super::{get, said, State};

/// Why a re-score cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartRefused {
    #[error("this appeal is not open: its re-score has started already")]
    NotOpen,
    #[error("the appealed part has no submitted attempt to re-score")]
    NoAttempt,
    #[error("no rater who has not read it is free to read {}: add a rater, then start again", .0.join(", "))]
    NoRater(Vec<String>),
}

/// What starting did: Part One's recount, or how many re-readings were assigned.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    Recounted {
        before: (f64, bool),
        after: (f64, bool),
    },
    Assigned(usize),
}

/// Starts appeal `id`'s re-score (None: no such appeal).
pub async fn start(
    db: &Db,
    id: i64,
    by: &str,
) -> Result<Option<std::result::Result<Started, StartRefused>>> {
    let Some(appeal) = get(db, id).await? else {
        return Ok(None);
    };
    // Under re-score, Part Two's re-readings whose raters were withdrawn are handed on.
    let handing_on = appeal.part == 2 && appeal.state == State::Rescoring;
    if appeal.state != State::Open && !handing_on {
        return Ok(Some(Err(StartRefused::NotOpen)));
    }
    let now = now_ms();
    let mut tx;
    let started = if appeal.part == 1 {
        let Some(recount) = score_now(db, appeal.registration_id, 1).await? else {
            return Ok(Some(Err(StartRefused::NoAttempt)));
        };
        let after = (recount.points, recount.passed);
        tx = db.write().await?;
        // The state's move first: of two starts at once, the second finds it moved.
        let moved = sqlx::query(
            "UPDATE appeals SET state = 'rescoring', started_by = $1, started_at = $2,
                 after_points = CAST($3 AS DOUBLE PRECISION), after_passed = $4
             WHERE id = $5 AND state = 'open'",
        )
        .bind(by)
        .bind(now)
        .bind(recount.points.to_string())
        .bind(i64::from(recount.passed))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(Some(Err(StartRefused::NotOpen)));
        }
        audit::record_tx(
            &mut tx,
            by,
            audit::Action::AppealRescore,
            &format!(
                "appeal {id}: registration {}'s Part One recounted against the current keys: {} as stored, {} on recount",
                appeal.registration_id,
                said(appeal.before),
                said(after)
            ),
        )
        .await?;
        Started::Recounted {
            before: appeal.before,
            after,
        }
    } else {
        let Some(attempt) = attempts_of(db, appeal.registration_id)
            .await?
            .into_iter()
            .find(|a| a.part == 2 && a.submitted_at.is_some() && a.voided_at.is_none())
        else {
            return Ok(Some(Err(StartRefused::NoAttempt)));
        };
        let plan = plan_rereadings(db, attempt.id, id).await?;
        if !plan.short.is_empty() {
            return Ok(Some(Err(StartRefused::NoRater(plan.short))));
        }
        if handing_on && plan.planned.is_empty() {
            return Ok(Some(Err(StartRefused::NotOpen)));
        }
        let rule = match registration(db, appeal.registration_id).await? {
            Some(reg) => blueprints(db)
                .await?
                .into_iter()
                .find(|b| b.id == reg.blueprint_id)
                .map(|b| b.appeals.part_two_rule)
                .unwrap_or_default(),
            None => Default::default(),
        };
        tx = db.write().await?;
        let moved = if handing_on {
            // Still under re-score (not decided meanwhile); nothing of the appeal changes.
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM appeals WHERE id = $1 AND state = 'rescoring'",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
        } else {
            let n = sqlx::query(
                "UPDATE appeals SET state = 'rescoring', started_by = $1, started_at = $2, part_two_rule = $3
                 WHERE id = $4 AND state = 'open'",
            )
            .bind(by)
            .bind(now)
            .bind(rule.code())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            i64::try_from(n).unwrap_or(i64::MAX)
        };
        if moved == 0 {
            return Ok(Some(Err(StartRefused::NotOpen)));
        }
        write_rereadings(&mut tx, id, &plan.planned, by, now).await?;
        let raters: std::collections::BTreeSet<i64> =
            plan.planned.iter().map(|(_, r)| *r).collect();
        audit::record_tx(
            &mut tx,
            by,
            audit::Action::AppealRescore,
            &format!(
                "appeal {id}: registration {}'s Part Two: {} responses given a blind re-reading{} by {} rater(s) who had not read them (rater ids {}); rule {rule}",
                appeal.registration_id,
                if handing_on { " in place of a withdrawn rater's" } else { "" },
                plan.planned.len(),
                raters.len(),
                raters.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
        )
        .await?;
        Started::Assigned(plan.planned.len())
    };
    tx.commit().await?;
    Ok(Some(Ok(started)))
}
