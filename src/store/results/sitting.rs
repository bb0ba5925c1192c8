//! A sitting's results: scoring its attempts in memory (`compute`, which writes nothing), the
//! committee's explicit computation that stores them all in one transaction (`store`), and the
//! results as stored with how fresh they are (`stored`), which is all a page or a CSV reads.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use crate::bank::{Blueprint, ItemBody};
use crate::scoring::key::{score_part_one, ItemKey, Tally};
use crate::scoring::results::{endorsement_passed, PartResult};

use super::super::attempts::{answers, attempts_of, Attempt};
use super::super::bank::{blueprints, item_version};
use super::super::sittings::{registrations, sitting, Registration};
use super::super::{audit, now_ms, Db, Result, StoreError, WriteTx};
use super::activity::Activity;
use super::{key_rules, result, Detail, ResponseScore, StoredResult};

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

/// Scores one attempt, or says why it cannot be scored yet.
pub(super) async fn score_attempt(
    db: &Db,
    a: &Attempt,
    bp: &Blueprint,
    keys: &BTreeMap<(String, u32), ItemKey>,
) -> Result<std::result::Result<(PartResult, Detail), Pending>> {
    if a.voided_at.is_some() {
        return Ok(Err(Pending::Voided));
    }
    if a.submitted_at.is_none() {
        return Ok(Err(Pending::NotSubmitted));
    }
    if a.part == 1 {
        let given = answers(db, a.id).await?;
        let (tally, _) = score_part_one(&a.form.part_one, &given, |id, v| {
            keys.get(&(id.to_string(), v)).cloned()
        })
        .map_err(|e| StoreError::Sqlx(sqlx::Error::Protocol(e.to_string())))?;
        let detail = Detail {
            by_domain: tally.by_domain.clone(),
            ..Detail::default()
        };
        return Ok(Ok((
            PartResult::new(1, tally, bp.part_one.pass_percent),
            detail,
        )));
    }
    let rows: Vec<(i64, String, String, i64, Option<f64>)> = sqlx::query_as(
        "SELECT id, vignette_id, item_id, item_version, final_score FROM responses
         WHERE attempt_id = $1 ORDER BY id",
    )
    .bind(a.id)
    .fetch_all(&db.pool)
    .await?;
    let unsettled = rows.iter().filter(|r| r.4.is_none()).count();
    if unsettled > 0 {
        return Ok(Err(Pending::Unsettled(
            u32::try_from(unsettled).unwrap_or(u32::MAX),
        )));
    }
    let mut tally = Tally::default();
    let mut detail = Detail::default();
    let mut chosen = BTreeSet::new();
    for (id, vignette_id, item_id, version, score) in rows {
        let (domain, max) = open_item(db, &item_id, version).await?;
        let score = score.unwrap_or(0.0);
        tally.add(&domain, score, max);
        chosen.insert(vignette_id.clone());
        detail.responses.push(ResponseScore {
            response_id: id,
            vignette_id,
            item_id,
            domain,
            score,
            max,
        });
    }
    // Fewer vignettes answered than asked: each empty slot counts 0 of the most points any
    // unanswered vignette offered, so leaving one out never helps.
    let slots = usize::try_from(bp.part_two.answer).unwrap_or(0);
    if chosen.len() < slots {
        let mut unchosen = Vec::new();
        for v in a
            .form
            .part_two
            .iter()
            .filter(|v| !chosen.contains(&v.vignette_id))
        {
            let mut total = 0.0;
            let mut domains = Vec::new();
            for (item, version) in &v.items {
                let (domain, max) = open_item(db, item, i64::from(*version)).await?;
                total += max;
                domains.push((domain, max));
            }
            unchosen.push((total, domains));
        }
        unchosen.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, domains) in unchosen.into_iter().take(slots - chosen.len()) {
            for (domain, max) in domains {
                tally.add(&domain, 0.0, max);
            }
            detail.missing_slots += 1;
        }
    }
    detail.by_domain = tally.by_domain.clone();
    Ok(Ok((
        PartResult::new(2, tally, bp.part_two.pass_percent),
        detail,
    )))
}

async fn open_item(db: &Db, item_id: &str, version: i64) -> Result<(String, f64)> {
    let item = item_version(db, item_id, u32::try_from(version).unwrap_or(0))
        .await?
        .ok_or_else(|| {
            StoreError::Sqlx(sqlx::Error::Protocol(format!(
                "{item_id} is not in the bank"
            )))
        })?;
    let max = match &item.body {
        ItemBody::Open(o) => f64::from(o.max_score),
        ItemBody::Mcq(_) => 1.0,
    };
    Ok((item.domain, max))
}

/// Writes one result in the transaction, computed at `at`.
async fn store_result(tx: &mut WriteTx, r: &StoredResult, at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO results (registration_id, part, points, max_points, passed, detail, computed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (registration_id, part) DO UPDATE SET points = excluded.points,
             max_points = excluded.max_points, passed = excluded.passed, detail = excluded.detail,
             computed_at = excluded.computed_at",
    )
    .bind(r.registration_id)
    .bind(i64::from(r.part))
    .bind(r.points)
    .bind(r.max)
    .bind(i64::from(r.passed))
    .bind(serde_json::to_string(&r.detail).expect("a detail serialises"))
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A result computed in memory, in the shape it is stored in.
pub(super) fn as_stored(registration_id: i64, r: &PartResult, detail: Detail) -> StoredResult {
    StoredResult {
        registration_id,
        part: r.part,
        points: r.tally.points,
        max: r.tally.max,
        passed: r.passed,
        detail,
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
/// readings, and returns each registration's line. Writes nothing.
pub async fn compute(db: &Db, sitting_id: i64) -> Result<Vec<ResultLine>> {
    let Some(s) = sitting(db, sitting_id).await? else {
        return Ok(Vec::new());
    };
    let closed = s.closes_at <= now_ms();
    let bps = blueprints(db).await?;
    let keys = key_rules(db).await?;
    let mut lines = Vec::new();
    for reg in registrations(db, sitting_id).await? {
        let Some(bp) = bps.iter().find(|b| b.id == reg.blueprint_id) else {
            continue;
        };
        let attempts = attempts_of(db, reg.id).await?;
        let mut line = ResultLine {
            registration: reg,
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
                Some(a) => match score_attempt(db, a, bp, &keys).await? {
                    Ok((r, detail)) => {
                        PartLine::Scored(as_stored(line.registration.id, &r, detail))
                    }
                    Err(p) => PartLine::Pending(p),
                },
            };
        }
        line.exam_passed = exam_passed_with(db, &line, sitting_id, s.opens_at).await?;
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

/// The results as stored, with each part's state where there is no result: reads only.
pub async fn stored(db: &Db, sitting_id: i64) -> Result<StoredResults> {
    let Some(s) = sitting(db, sitting_id).await? else {
        return Ok(StoredResults {
            lines: Vec::new(),
            computed: None,
            changes: Vec::new(),
        });
    };
    let closed = s.closes_at <= now_ms();
    let unsettled: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT attempt_id, COUNT(*) FROM responses
         WHERE sitting_id = $1 AND attempt_id IS NOT NULL AND final_score IS NULL
         GROUP BY attempt_id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let unsettled: BTreeMap<i64, i64> = unsettled.into_iter().collect();
    let mut lines = Vec::new();
    for reg in registrations(db, sitting_id).await? {
        let attempts = attempts_of(db, reg.id).await?;
        let mut line = ResultLine {
            parts: [PartLine::NotSat, PartLine::NotSat],
            exam_passed: exam_passed(db, &reg.email, sitting_id).await?,
            registration: reg,
        };
        for (i, part) in [1u8, 2].into_iter().enumerate() {
            if !line.sits(part) {
                continue;
            }
            let absent = line.registration.absent_at.is_some();
            line.parts[i] = match attempts.iter().find(|a| a.part == part) {
                None if absent || closed => PartLine::NotTaken,
                None => PartLine::Pending(Pending::NotSubmitted),
                Some(a) if a.voided_at.is_some() => PartLine::Pending(Pending::Voided),
                Some(a) => match result(db, line.registration.id, part).await? {
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
/// replaced by the ones computed (a voided part's removed, a pending part's kept).
async fn exam_passed_with(
    db: &Db,
    line: &ResultLine,
    sitting_id: i64,
    opens_at: i64,
) -> Result<Option<bool>> {
    let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT s.opens_at, g.id, r.part, r.passed FROM results r
         JOIN registrations g ON g.id = r.registration_id
         JOIN sittings s ON s.id = g.sitting_id
         WHERE g.email = $1 AND (s.results_released_at IS NOT NULL OR s.id = $2)",
    )
    .bind(&line.registration.email)
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let reg = line.registration.id;
    let mut rows: Vec<(i64, i64, i64, bool)> = rows
        .into_iter()
        .map(|(o, g, part, passed)| (o, g, part, passed == 1))
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
    rows.sort_by_key(|&(o, g, _, _)| (o, g));
    Ok(latest_passed(
        rows.into_iter().map(|(_, _, p, passed)| (p, passed)),
    ))
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
