//! A sitting's results: scoring its attempts in memory (`compute`, which writes nothing), the
//! committee's explicit computation that stores them all in one transaction (`store`), and the
//! results as stored with how fresh they are (`stored`), which is all a page or a CSV reads.

use std::collections::{BTreeMap, HashMap};

use crate::bank::Blueprint;
use crate::scoring::key::ItemKey;
use crate::scoring::results::endorsement_passed;

use super::super::attempts::{answers, attempt_states_in_sitting, attempts_in_sitting, Attempt};
use super::super::bank::blueprints;
use super::super::sittings::Registration;
use super::super::{audit, now_ms, Db, Result, StoreError, WriteTx};
use super::activity::Activity;
use super::equating::EquatingRows;
use super::load::{
    open_items, score, stored_results, OpenItems, Past, ResponseRow, Scored, Scoring, ScoringRows,
    SittingRows,
};
use super::{key_rules, StoredResult};

/// Why a part has no result yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    NotSubmitted,
    Voided,
    /// Responses still being read.
    Unsettled(u32),
    /// Ready to score, but no result is stored: the committee has not computed since.
    NotComputed,
}

/// Scores one attempt, or says why it cannot be scored yet (a key change rescoring a few).
pub(super) async fn score_attempt(
    db: &Db,
    a: &Attempt,
    how: &Scoring<'_>,
) -> Result<std::result::Result<Scored, Pending>> {
    let given = if a.part == 1 {
        Some(answers(db, a.id).await?)
    } else {
        None
    };
    let responses: Vec<ResponseRow> = sqlx::query_as(
        "SELECT attempt_id, id, vignette_id, item_id, item_version, final_score FROM responses
         WHERE attempt_id = $1 ORDER BY id",
    )
    .bind(a.id)
    .fetch_all(&db.pool)
    .await?;
    let open = if a.part == 2 {
        open_items(db).await?
    } else {
        OpenItems::default()
    };
    score(a, how, given.as_ref(), &responses, &open)
}

/// Writes one result in the transaction, computed at `at`. The nullable numbers go as text,
/// cast in the statement (see `calibration::calibrate`: the Any driver's NULL double).
async fn store_result(tx: &mut WriteTx, r: &StoredResult, at: i64) -> Result<()> {
    let text = |x: Option<f64>| x.map(|v| v.to_string());
    let equating = r.equating.as_ref();
    sqlx::query(
        "INSERT INTO results (registration_id, part, points, max_points, passed, detail, computed_at,
             theta, equated_percent, decided_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CAST($8 AS DOUBLE PRECISION),
             CAST($9 AS DOUBLE PRECISION), $10)
         ON CONFLICT (registration_id, part) DO UPDATE SET points = excluded.points,
             max_points = excluded.max_points, passed = excluded.passed, detail = excluded.detail,
             computed_at = excluded.computed_at, theta = excluded.theta,
             equated_percent = excluded.equated_percent, decided_by = excluded.decided_by",
    )
    .bind(r.registration_id)
    .bind(i64::from(r.part))
    .bind(r.points)
    .bind(r.max)
    .bind(i64::from(r.passed))
    .bind(serde_json::to_string(&r.detail).expect("a detail serialises"))
    .bind(at)
    .bind(text(equating.and_then(|e| e.theta)))
    .bind(text(equating.and_then(|e| e.equated_percent)))
    .bind(equating.map(|e| e.decided_by.code()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A result computed in memory, in the shape it is stored in.
pub(super) fn as_stored(registration_id: i64, s: Scored) -> StoredResult {
    StoredResult {
        registration_id,
        part: s.result.part,
        points: s.result.tally.points,
        max: s.result.tally.max,
        passed: s.result.passed,
        detail: s.detail,
        equating: s.equating,
    }
}

/// Rescores one attempt and writes its result in the transaction (a key change).
pub(super) async fn store_one(tx: &mut WriteTx, r: &StoredResult) -> Result<()> {
    store_result(tx, r, now_ms()).await
}

/// One registration's line in the committee's results table.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultLine {
    pub registration: Registration,
    pub parts: [PartLine; 2],
    /// Across sittings: the latest result of each part this person has.
    pub exam_passed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PartLine {
    NotSat,
    /// Registered for but never started: the candidate was absent, or the sitting closed
    /// before they started it. Not failed, and no result to wait for.
    NotTaken,
    Pending(Pending),
    Scored(StoredResult),
}

impl ResultLine {
    fn sits(&self, part: u8) -> bool {
        if part == 1 {
            self.registration.parts.one
        } else {
            self.registration.parts.two
        }
    }
}

/// Parts still waiting for something other than the committee (a submission, a reading).
pub fn pending_parts(lines: &[ResultLine]) -> usize {
    lines
        .iter()
        .flat_map(|l| l.parts.iter())
        .filter(|p| matches!(p, PartLine::Pending(p) if *p != Pending::Voided))
        .count()
}

/// Scores every attempt of a sitting that can be scored, in memory from the current keys and
/// readings, and returns each registration's line. Writes nothing. Reads the sitting in a
/// fixed number of queries and scores off the async runtime.
pub async fn compute(db: &Db, sitting_id: i64) -> Result<Vec<ResultLine>> {
    let Some(rows) = SittingRows::load(db, sitting_id).await? else {
        return Ok(Vec::new());
    };
    let attempts = attempts_in_sitting(db, sitting_id).await?;
    let scoring = ScoringRows::load(db, sitting_id).await?;
    let bps = blueprints(db).await?;
    let keys = key_rules(db).await?;
    let equating = EquatingRows::load(db, &bps, &keys).await?;
    let now = now_ms();
    tokio::task::spawn_blocking(move || {
        compute_lines(&rows, &attempts, &scoring, (&bps, &keys, &equating), now)
    })
    .await
    .map_err(|e| StoreError::Sqlx(sqlx::Error::Protocol(format!("scoring failed: {e}"))))?
}

/// `compute` on rows already read. Pure.
fn compute_lines(
    rows: &SittingRows,
    attempts: &HashMap<i64, Vec<Attempt>>,
    scoring: &ScoringRows,
    (bps, keys, equating): (
        &[Blueprint],
        &BTreeMap<(String, u32), ItemKey>,
        &EquatingRows,
    ),
    now: i64,
) -> Result<Vec<ResultLine>> {
    let closed = rows.sitting.closes_at <= now;
    let mut lines = Vec::new();
    for reg in &rows.registrations {
        let Some(bp) = bps.iter().find(|b| b.id == reg.blueprint_id) else {
            continue;
        };
        let attempts = attempts.get(&reg.id).map_or(&[][..], Vec::as_slice);
        let mut line = ResultLine {
            registration: reg.clone(),
            parts: [PartLine::NotSat, PartLine::NotSat],
            exam_passed: None,
        };
        for (i, part) in [1u8, 2].into_iter().enumerate() {
            if !line.sits(part) {
                continue;
            }
            line.parts[i] = match attempts.iter().find(|a| a.part == part) {
                // A part can no longer be started once the candidate is absent or the sitting
                // has closed.
                None if line.registration.absent_at.is_some() || closed => PartLine::NotTaken,
                None => PartLine::Pending(Pending::NotSubmitted),
                Some(a) => {
                    let responses = scoring.responses.get(&a.id).map_or(&[][..], Vec::as_slice);
                    let how = Scoring {
                        bp,
                        sitting_id: rows.sitting.id,
                        keys,
                        equating,
                    };
                    match score(
                        a,
                        &how,
                        scoring.answers.get(&a.id),
                        responses,
                        &scoring.open_items,
                    )? {
                        Ok(s) => PartLine::Scored(as_stored(line.registration.id, s)),
                        Err(p) => PartLine::Pending(p),
                    }
                }
            };
        }
        let history = rows.history.get(&reg.email).map_or(&[][..], Vec::as_slice);
        line.exam_passed = exam_passed_with(history, &line, rows.sitting.opens_at);
        lines.push(line);
    }
    Ok(lines)
}

/// Writes what `compute` found: every scored part's result, and no result for a voided part.
/// A part still pending keeps whatever result it had.
async fn write_lines(tx: &mut WriteTx, lines: &[ResultLine], at: i64) -> Result<usize> {
    let mut stored = 0;
    for l in lines {
        for (i, p) in l.parts.iter().enumerate() {
            match p {
                PartLine::Scored(r) => {
                    store_result(tx, r, at).await?;
                    stored += 1;
                }
                PartLine::Pending(Pending::Voided) => {
                    sqlx::query("DELETE FROM results WHERE registration_id = $1 AND part = $2")
                        .bind(l.registration.id)
                        .bind(i64::try_from(i + 1).expect("part 1 or 2"))
                        .execute(&mut **tx)
                        .await?;
                }
                _ => {}
            }
        }
    }
    Ok(stored)
}

/// Stores `lines`, computed from `at` on, as the sitting's results, in the transaction.
pub(super) async fn write_sitting(
    tx: &mut WriteTx,
    sitting_id: i64,
    lines: &[ResultLine],
    (at, activity): (i64, Activity),
    by: &str,
) -> Result<usize> {
    let stored = write_lines(tx, lines, at).await?;
    sqlx::query(
        "UPDATE sittings SET results_computed_at = $1, results_computed_by = $2,
             results_computed_state = $3 WHERE id = $4",
    )
    .bind(at)
    .bind(by)
    .bind(activity.encode())
    .bind(sitting_id)
    .execute(&mut **tx)
    .await?;
    Ok(stored)
}

/// The time and the activity counts, taken before computing, so that a reading settled while
/// we compute shows the results as out of date rather than slipping past.
pub(super) async fn before_computing(db: &Db, sitting_id: i64) -> Result<(i64, Activity)> {
    Ok((now_ms(), Activity::now(db, sitting_id).await?))
}

/// The committee's explicit action: computes every result of the sitting and stores them all,
/// with the audit record, in one transaction. Returns the lines as stored.
/// Refused once the results are released: those change only through a key change.
pub async fn store(
    db: &Db,
    sitting_id: i64,
    by: &str,
) -> Result<std::result::Result<Vec<ResultLine>, super::ReleaseBlocked>> {
    let before = before_computing(db, sitting_id).await?;
    let lines = compute(db, sitting_id).await?;
    let mut tx = db.write().await?;
    let released: Option<i64> =
        sqlx::query_scalar("SELECT results_released_at FROM sittings WHERE id = $1")
            .bind(sitting_id)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
    if released.is_some() {
        return Ok(Err(super::ReleaseBlocked::AlreadyReleased));
    }
    let stored = write_sitting(&mut tx, sitting_id, &lines, before, by).await?;
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::ComputeResults,
        &format!(
            "sitting {sitting_id}: {stored} result(s) stored for {} candidate(s), {} part(s) pending",
            lines.len(),
            pending_parts(&lines)
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(lines))
}

/// A sitting's results as stored, and how fresh they are.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResults {
    pub lines: Vec<ResultLine>,
    /// When and by whom the committee last computed them; None: never.
    pub computed: Option<(i64, String)>,
    /// What changed since they were computed (parts submitted or voided, responses settled,
    /// candidates registered or marked absent), in words; empty when they are up to date.
    pub changes: Vec<String>,
}

/// The results as stored, with each part's state where there is no result: reads only, in a
/// fixed number of queries.
pub async fn stored(db: &Db, sitting_id: i64) -> Result<StoredResults> {
    let Some(rows) = SittingRows::load(db, sitting_id).await? else {
        return Ok(StoredResults {
            lines: Vec::new(),
            computed: None,
            changes: Vec::new(),
        });
    };
    let closed = rows.sitting.closes_at <= now_ms();
    let unsettled: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT attempt_id, COUNT(*) FROM responses
         WHERE sitting_id = $1 AND attempt_id IS NOT NULL AND final_score IS NULL
         GROUP BY attempt_id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let unsettled: BTreeMap<i64, i64> = unsettled.into_iter().collect();
    let mut results = stored_results(db, sitting_id).await?;
    let states = attempt_states_in_sitting(db, sitting_id).await?;
    let mut lines = Vec::new();
    for reg in &rows.registrations {
        let attempts = states.get(&reg.id).map_or(&[][..], Vec::as_slice);
        let history = rows.history.get(&reg.email).map_or(&[][..], Vec::as_slice);
        let mut line = ResultLine {
            parts: [PartLine::NotSat, PartLine::NotSat],
            exam_passed: latest_of(history.to_vec()),
            registration: reg.clone(),
        };
        for (i, part) in [1u8, 2].into_iter().enumerate() {
            if !line.sits(part) {
                continue;
            }
            let absent = line.registration.absent_at.is_some();
            line.parts[i] = match attempts.iter().find(|a| a.part == i64::from(part)) {
                None if absent || closed => PartLine::NotTaken,
                None => PartLine::Pending(Pending::NotSubmitted),
                Some(a) if a.voided_at.is_some() => PartLine::Pending(Pending::Voided),
                Some(a) => match results.remove(&(line.registration.id, part)) {
                    Some(r) => PartLine::Scored(r),
                    None if a.submitted_at.is_none() => PartLine::Pending(Pending::NotSubmitted),
                    None => match unsettled.get(&a.id) {
                        Some(&n) if n > 0 => PartLine::Pending(Pending::Unsettled(
                            u32::try_from(n).unwrap_or(u32::MAX),
                        )),
                        _ => PartLine::Pending(Pending::NotComputed),
                    },
                },
            };
        }
        lines.push(line);
    }
    let computed: Option<(Option<i64>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT results_computed_at, results_computed_by, results_computed_state
         FROM sittings WHERE id = $1",
    )
    .bind(sitting_id)
    .fetch_optional(&db.pool)
    .await?;
    let (computed, then) = match computed {
        Some((Some(at), by, state)) => (
            Some((at, by.unwrap_or_default())),
            state.as_deref().and_then(Activity::decode),
        ),
        _ => (None, None),
    };
    let changes = match then {
        Some(then) => Activity::now(db, sitting_id).await?.changes_since(&then),
        None => Vec::new(),
    };
    Ok(StoredResults {
        lines,
        computed,
        changes,
    })
}

/// The endorsement exam across sittings: each part's latest result for this email, from sittings
/// whose results are released and from `sitting_id` itself (so an unreleased retake never shows
/// through another sitting's report).
pub async fn exam_passed(db: &Db, email: &str, sitting_id: i64) -> Result<Option<bool>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT r.part, r.passed FROM results r JOIN registrations g ON g.id = r.registration_id
         JOIN sittings s ON s.id = g.sitting_id
         WHERE g.email = $1 AND (s.results_released_at IS NOT NULL OR s.id = $2)
         ORDER BY s.opens_at, g.id",
    )
    .bind(email)
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(latest_passed(
        rows.into_iter().map(|(part, passed)| (part, passed == 1)),
    ))
}

/// `exam_passed` as it will be once `line` is stored: this registration's stored results
/// (among `history`, this person's) replaced by the ones computed (a voided part's removed, a
/// pending part's kept). Pure.
fn exam_passed_with(history: &[Past], line: &ResultLine, opens_at: i64) -> Option<bool> {
    let reg = line.registration.id;
    let mut rows: Vec<Past> = history
        .iter()
        .copied()
        .filter(|&(_, g, part, _)| {
            g != reg
                || !matches!(
                    line.parts.get(usize::try_from(part - 1).unwrap_or(2)),
                    Some(PartLine::Scored(_) | PartLine::Pending(Pending::Voided))
                )
        })
        .collect();
    for (i, p) in line.parts.iter().enumerate() {
        if let PartLine::Scored(r) = p {
            rows.push((
                opens_at,
                reg,
                i64::try_from(i + 1).expect("1 or 2"),
                r.passed,
            ));
        }
    }
    latest_of(rows)
}

/// The endorsement from someone's results, oldest sitting first, the latest of each part
/// counting.
fn latest_of(mut rows: Vec<Past>) -> Option<bool> {
    rows.sort_by_key(|&(o, g, _, _)| (o, g));
    latest_passed(rows.into_iter().map(|(_, _, p, passed)| (p, passed)))
}

/// The endorsement from (part, passed) rows in order, the latest of each part counting.
pub(super) fn latest_passed(rows: impl Iterator<Item = (i64, bool)>) -> Option<bool> {
    let mut latest: [Option<bool>; 2] = [None, None];
    for (part, passed) in rows {
        if let Some(slot) = latest.get_mut(usize::try_from(part - 1).unwrap_or(2)) {
            *slot = Some(passed);
        }
    }
    endorsement_passed(latest[0], latest[1])
}
