//! An attempt's life after its start: submitted (by the candidate, or by the server when its time
//! is out), its clock paused, resumed, extended or stopped for a break, or voided.

use crate::exam::clock::{Clock, GRACE_MS};
use crate::store::{Db, Result};

use super::locked;

/// How many attempts each sitting has open (started, neither submitted nor voided; paused
/// ones too): (sitting, open), for the metrics. Sittings with none are left out.
pub async fn open_per_sitting(db: &Db) -> Result<Vec<(i64, i64)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        sitting_id: i64,
        open: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.sitting_id, COUNT(*) AS open
         FROM attempts a JOIN registrations r ON r.id = a.registration_id
         WHERE a.submitted_at IS NULL AND a.voided_at IS NULL
         GROUP BY r.sitting_id ORDER BY r.sitting_id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.sitting_id, r.open)).collect())
}

/// Submits an attempt; returns its chain head (the receipt), or `None` if it was submitted or
/// voided already.
pub async fn submit(db: &Db, attempt_id: i64, by: &str, now: i64) -> Result<Option<String>> {
    let mut tx = db.write().await?;
    let Some(a) = locked(&mut tx, attempt_id).await? else {
        return Ok(None);
    };
    if !a.is_open() {
        return Ok(None);
    }
    // The receipt: the head of the chain as submitted, kept on the attempt.
    let last: Option<(String, i64)> = sqlx::query_as(
        "SELECT hash, n FROM response_events WHERE attempt_id = $1 ORDER BY n DESC LIMIT 1",
    )
    .bind(attempt_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (head, len) = last.map_or((a.chain_head.clone(), 0), |(h, n)| (h, n + 1));
    // The answers as submitted, kept on the attempt: no save is taken after this.
    let answers = super::answers_in(&mut *tx, attempt_id).await?;
    sqlx::query(
        "UPDATE attempts SET submitted_at = $1, submitted_by = $2, chain_head = $3, chain_len = $4,
                final_answers = $5
         WHERE id = $6 AND submitted_at IS NULL",
    )
    .bind(now)
    .bind(by)
    .bind(&head)
    .bind(len)
    .bind(serde_json::to_string(&answers).expect("answers serialise"))
    .bind(attempt_id)
    .execute(&mut *tx)
    .await?;
    // The submission's receipt is the candidate's last.
    super::save::store_receipts(&mut tx, &[(attempt_id, head.as_str(), len)]).await?;
    if a.part == 2 {
        // The open responses get their anonymous codes with the submission itself.
        crate::store::ratings::code_responses(&mut tx, &a, now).await?;
    }
    tx.commit().await?;
    Ok(Some(head))
}

/// Ends every candidate's break that has run past its maximum, as of its start plus the
/// maximum (the candidate is charged from then), with an event for the proctor. A proctor's
/// pause is never ended here. Returns the attempts' ids.
pub async fn end_overlong_breaks(db: &Db, now: i64) -> Result<Vec<i64>> {
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM attempts WHERE submitted_at IS NULL AND voided_at IS NULL
         AND paused_by = 'break' AND paused_since IS NOT NULL AND paused_since + break_max_ms <= $1",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut done = Vec::new();
    for id in due {
        let mut tx = db.write().await?;
        let Some(a) = locked(&mut tx, id).await? else {
            continue;
        };
        let Some(end) = a.clock.pause_ends_at() else {
            continue;
        };
        let clock = a.clock.settled(now);
        if !a.is_open() || clock.is_paused() {
            continue;
        }
        sqlx::query(
            "UPDATE attempts SET paused_ms = $1, paused_since = NULL, paused_by = NULL WHERE id = $2",
        )
        .bind(clock.paused_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let (sitting_id,): (i64,) =
            sqlx::query_as("SELECT sitting_id FROM registrations WHERE id = $1")
                .bind(a.registration_id)
                .fetch_one(&mut *tx)
                .await?;
        crate::store::sittings::log_event_at(
            &mut tx,
            sitting_id,
            Some(a.registration_id),
            end,
            "break-end",
            &format!(
                "Part {}: the break reached its {}-minute maximum; the clock runs again",
                if a.part == 1 { "One" } else { "Two" },
                a.break_max_ms / 60_000
            ),
            "server",
        )
        .await?;
        tx.commit().await?;
        done.push(id);
    }
    Ok(done)
}

/// Submits every attempt whose time, and the grace after it, has run out. Returns their ids.
/// A break past its maximum is ended first, so a candidate who does not come back from a break
/// is submitted at the deadline like anyone else.
pub async fn submit_expired(db: &Db, now: i64) -> Result<Vec<i64>> {
    let ended = end_overlong_breaks(db, now).await?;
    if !ended.is_empty() {
        tracing::info!(attempts = ?ended, "breaks ended at their maximum");
    }
    let due: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, started_at + section_ms * multiplier_permille / 1000 + added_ms + paused_ms
         FROM attempts WHERE submitted_at IS NULL AND voided_at IS NULL AND paused_since IS NULL
         AND started_at + section_ms * multiplier_permille / 1000 + added_ms + paused_ms + $1 <= $2",
    )
    .bind(GRACE_MS)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut done = Vec::new();
    for (id, deadline) in due {
        // Submitted when the time ran out, even if the server gets to it later (after a
        // restart, say): the submission time is the deadline, not the moment of this sweep.
        if submit(db, id, "server", deadline.min(now)).await?.is_some() {
            done.push(id);
        }
    }
    Ok(done)
}

/// A change to an attempt's clock: the proctor's, or the candidate's break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockAction {
    Pause,
    Resume,
    AddMinutes(i64),
    /// The candidate starts an approved break (counted against the registration's allowance).
    StartBreak,
    /// The candidate ends their break (not a proctor's pause).
    EndBreak,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockChange {
    Done(Clock),
    /// Nothing to do: the attempt is closed, or the action does not apply now.
    NotApplicable,
    /// The candidate has no approved break left.
    NoBreakLeft,
}

/// Applies a clock action to an open attempt.
pub async fn change_clock(
    db: &Db,
    attempt_id: i64,
    action: ClockAction,
    now: i64,
) -> Result<ClockChange> {
    let mut tx = db.write().await?;
    let change = change_clock_in(&mut tx, attempt_id, action, now).await?;
    tx.commit().await?;
    Ok(change)
}

/// A proctor's clock action on one attempt, with its audit record and the sitting's event in
/// the same transaction.
pub async fn proctor_clock(
    db: &Db,
    attempt_id: i64,
    action: ClockAction,
    now: i64,
    by: &str,
    name: crate::store::audit::Action,
) -> Result<ClockChange> {
    let mut tx = db.write().await?;
    let change = change_clock_in(&mut tx, attempt_id, action, now).await?;
    if matches!(change, ClockChange::Done(_)) {
        let (sitting_id, registration_id): (i64, i64) = sqlx::query_as(
            "SELECT g.sitting_id, g.id FROM attempts a JOIN registrations g ON g.id = a.registration_id
             WHERE a.id = $1",
        )
        .bind(attempt_id)
        .fetch_one(&mut *tx)
        .await?;
        crate::store::audit::record_tx(
            &mut tx,
            by,
            name,
            &format!("attempt {attempt_id}: {action:?}"),
        )
        .await?;
        crate::store::sittings::log_event_tx(
            &mut tx,
            sitting_id,
            Some(registration_id),
            name.as_str(),
            &format!("{action:?}"),
            by,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(change)
}

/// A proctor's clock action on every open attempt of a sitting, in one transaction with its
/// audit record and the sitting's event.
pub async fn proctor_clock_all(
    db: &Db,
    sitting_id: i64,
    action: ClockAction,
    now: i64,
    by: &str,
    name: crate::store::audit::Action,
) -> Result<usize> {
    let mut tx = db.write().await?;
    let open: Vec<i64> = sqlx::query_scalar(
        "SELECT a.id FROM attempts a JOIN registrations g ON g.id = a.registration_id
         WHERE g.sitting_id = $1 AND a.submitted_at IS NULL AND a.voided_at IS NULL ORDER BY a.id",
    )
    .bind(sitting_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut changed = 0;
    for id in open {
        if matches!(
            change_clock_in(&mut tx, id, action, now).await?,
            ClockChange::Done(_)
        ) {
            changed += 1;
        }
    }
    crate::store::audit::record_tx(
        &mut tx,
        by,
        name,
        &format!("sitting {sitting_id}: {changed} attempt(s)"),
    )
    .await?;
    crate::store::sittings::log_event_tx(
        &mut tx,
        sitting_id,
        None,
        name.as_str(),
        "every running attempt",
        by,
    )
    .await?;
    tx.commit().await?;
    Ok(changed)
}

/// Applies a clock action inside the caller's transaction (committed by the caller).
async fn change_clock_in(
    tx: &mut crate::store::WriteTx,
    attempt_id: i64,
    action: ClockAction,
    now: i64,
) -> Result<ClockChange> {
    let Some(a) = locked(tx, attempt_id).await? else {
        return Ok(ClockChange::NotApplicable);
    };
    if !a.is_open() {
        return Ok(ClockChange::NotApplicable);
    }
    // A break past its maximum has ended already, whatever is asked now.
    let mut clock = a.clock.settled(now);
    let mut paused_by = if clock.is_paused() {
        a.paused_by.clone()
    } else {
        None
    };
    match action {
        ClockAction::Pause => {
            clock.pause(now);
            // A proctor's pause during a break takes over: only the proctor resumes.
            paused_by = Some("proctor".into());
        }
        ClockAction::Resume => {
            clock.resume(now);
            paused_by = None;
        }
        ClockAction::AddMinutes(m) => clock.add_time(m * 60_000),
        ClockAction::StartBreak => {
            if clock.is_paused() {
                return Ok(ClockChange::NotApplicable);
            }
            let granted = sqlx::query(
                "UPDATE registrations SET breaks_taken = breaks_taken + 1
                 WHERE id = $1 AND breaks_taken < extra_breaks",
            )
            .bind(a.registration_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if granted != 1 {
                return Ok(ClockChange::NoBreakLeft);
            }
            clock.start_break(now, a.break_max_ms);
            paused_by = Some("break".into());
        }
        ClockAction::EndBreak => {
            if !(clock.is_paused() && paused_by.as_deref() == Some("break")) {
                return Ok(ClockChange::NotApplicable);
            }
            clock.resume(now);
            paused_by = None;
        }
    }
    sqlx::query(
        "UPDATE attempts SET added_ms = $1, paused_ms = $2, paused_since = $3, paused_by = $4 WHERE id = $5",
    )
    .bind(clock.added_ms)
    .bind(clock.paused_ms)
    .bind(clock.paused_since)
    .bind(paused_by.as_deref())
    .bind(attempt_id)
    .execute(&mut **tx)
    .await?;
    Ok(ClockChange::Done(clock))
}

/// Approved extra breaks the registration has left.
pub async fn breaks_left(db: &Db, registration_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT extra_breaks - breaks_taken FROM registrations WHERE id = $1")
            .bind(registration_id)
            .fetch_optional(&db.pool)
            .await?
            .unwrap_or(0),
    )
}

/// What became of a proctor's void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voided {
    Now,
    Already,
    /// The sitting's results are released: a released result changes only through the
    /// committee's audited re-score, never by a void.
    ResultsReleased,
    NotFound,
}

/// Voids an attempt, with its audit record and the sitting's event in the same transaction.
pub async fn void(db: &Db, attempt_id: i64, reason: &str, by: &str, now: i64) -> Result<Voided> {
    let mut tx = db.write().await?;
    let row: Option<(i64, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT g.sitting_id, g.id, a.voided_at, s.results_released_at
         FROM attempts a JOIN registrations g ON g.id = a.registration_id
         JOIN sittings s ON s.id = g.sitting_id WHERE a.id = $1",
    )
    .bind(attempt_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((sitting_id, registration_id, voided_at, released_at)) = row else {
        return Ok(Voided::NotFound);
    };
    if released_at.is_some() {
        return Ok(Voided::ResultsReleased);
    }
    if voided_at.is_some() {
        return Ok(Voided::Already);
    }
    sqlx::query(
        "UPDATE attempts SET voided_at = $1, void_reason = $2 WHERE id = $3 AND voided_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(attempt_id)
    .execute(&mut *tx)
    .await?;
    crate::store::audit::record_tx(
        &mut tx,
        by,
        crate::store::audit::Action::AttemptVoid,
        &format!("attempt {attempt_id}: {reason}"),
    )
    .await?;
    crate::store::sittings::log_event_tx(
        &mut tx,
        sitting_id,
        Some(registration_id),
        "voided",
        reason,
        by,
    )
    .await?;
    tx.commit().await?;
    Ok(Voided::Now)
}
