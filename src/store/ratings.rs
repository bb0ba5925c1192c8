//! Rater scoring: anonymous responses, who reads what, every reading as given, and resolution.
//!
//! A rater reaches a response only through an assignment of their own, and only by its random
//! code; nothing a rater's query returns carries the candidate, the attempt, the sitting or a
//! time. Ratings are appended, never updated: an assignment's newest rating is its state.

use std::collections::{BTreeMap, BTreeSet};

use crate::auth::{new_response_code, Role};
use crate::bank::{ItemBody, RatingRules};
use crate::scoring::assign::{self, Need, RaterInfo};
use crate::scoring::rules::{resolve, Resolution};
use crate::scoring::Calibration;

use super::attempts::Attempt;
use super::bank::{blueprints, item_version, vignette_text};
use super::{audit, now_ms, Db, Result, StoreError};

/// Creates the coded responses of a submitted Part Two attempt, inside the submission's
/// transaction: one per item of each vignette the candidate chose. A blank response is settled
/// at 0 at once and goes to no rater.
pub(crate) async fn code_responses(
    tx: &mut super::WriteTx,
    attempt: &Attempt,
    now: i64,
) -> Result<usize> {
    let sitting_id: i64 = sqlx::query_scalar("SELECT sitting_id FROM registrations WHERE id = $1")
        .bind(attempt.registration_id)
        .fetch_one(&mut **tx)
        .await?;
    let answers = super::attempts::answers_in(&mut **tx, attempt.id).await?;
    let chosen: BTreeSet<&str> = answers
        .get("@choice")
        .map(|c| c.split(',').filter(|v| !v.is_empty()).collect())
        .unwrap_or_default();
    let mut n = 0;
    for v in attempt
        .form
        .part_two
        .iter()
        .filter(|v| chosen.contains(v.vignette_id.as_str()))
    {
        for (item_id, version) in &v.items {
            let body = answers.get(item_id).map(|s| s.trim()).unwrap_or_default();
            let blank = body.is_empty();
            // A collision of two random codes is rare; a few tries settle it.
            let mut inserted = false;
            for _ in 0..5 {
                let res = sqlx::query(
                    "INSERT INTO responses (code, sitting_id, attempt_id, item_id, item_version, vignette_id,
                         vignette_version, body, final_score, settled_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                             CASE WHEN $9 = 1 THEN 0.0 ELSE NULL END, $10, $11)",
                )
                .bind(new_response_code())
                .bind(sitting_id)
                .bind(attempt.id)
                .bind(item_id)
                .bind(i64::from(*version))
                .bind(&v.vignette_id)
                .bind(i64::from(v.version))
                .bind(body)
                // A flag, not an Option<f64>: the Any driver's typed NULL for a float is
                // refused by PostgreSQL.
                .bind(i64::from(blank))
                .bind(blank.then_some(now))
                .bind(now)
                .execute(&mut **tx)
                .await;
                match res {
                    Ok(_) => {
                        inserted = true;
                        break;
                    }
                    Err(e) if super::is_unique_violation(&e) => {
                        let exists: Option<i64> = sqlx::query_scalar(
                            "SELECT id FROM responses WHERE attempt_id = $1 AND item_id = $2",
                        )
                        .bind(attempt.id)
                        .bind(item_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                        if exists.is_some() {
                            inserted = true;
                            break;
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if !inserted {
                return Err(StoreError::Sqlx(sqlx::Error::Protocol(
                    "could not draw a unique response code".into(),
                )));
            }
            n += 1;
        }
    }
    Ok(n)
}

/// A rater declares a conflict of interest with a person, by email. Whether that person is a
/// candidate is not revealed.
pub async fn declare_conflict(db: &Db, rater_id: i64, email: &str, by: &str) -> Result<()> {
    let email = email.trim().to_lowercase();
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO rater_conflicts (rater_id, email, declared_by, declared_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (rater_id, email) DO NOTHING",
    )
    .bind(rater_id)
    .bind(&email)
    .bind(by)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::RaterConflict,
        &format!("rater {rater_id} declared a conflict"),
    )
    .await?;
    tx.commit().await
}

/// The raters who may be given work: active accounts with the rater role.
async fn raters(db: &Db) -> Result<Vec<RaterInfo>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, organisation FROM users WHERE role = $1 AND disabled = 0 ORDER BY id",
    )
    .bind(Role::Rater.code())
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, organisation)| RaterInfo { id, organisation })
        .collect())
}

/// What an assignment run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignReport {
    pub assigned: usize,
    /// Responses still short of readings (no eligible rater left).
    pub short: usize,
}

/// One response's place in the reading: its candidate's organisation and conflicts, and which
/// raters hold or held it.
struct Open {
    id: i64,
    organisation: Option<String>,
    conflicts: BTreeSet<i64>,
    excluded: BTreeSet<i64>,
    /// Readings (1..=3) held by an active assignment.
    held: BTreeSet<i64>,
    third_needed: bool,
}

/// (response, candidate's organisation, email, blueprint).
type OpenRow = (i64, Option<String>, Option<String>, Option<String>);
/// (response, rater, reading, withdrawn at, final score).
type AssignedRow = (i64, i64, i64, Option<i64>, Option<i64>);
/// (rater, username, display name, assignment, final?, score, expert score).
type StatusRow = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

async fn open_responses(db: &Db, sitting_id: i64) -> Result<Vec<Open>> {
    let rows: Vec<OpenRow> = sqlx::query_as(
        "SELECT r.id, g.organisation, g.email, g.blueprint_id FROM responses r
         LEFT JOIN attempts a ON a.id = r.attempt_id
         LEFT JOIN registrations g ON g.id = a.registration_id
         WHERE r.sitting_id = $1 AND r.settled_at IS NULL AND r.expert_score IS NULL
         ORDER BY r.id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let assigned: Vec<AssignedRow> = sqlx::query_as(
        "SELECT s.response_id, s.rater_id, s.reading, s.withdrawn_at,
                (SELECT t.score FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1 ORDER BY t.id DESC LIMIT 1)
         FROM assignments s
         JOIN responses r ON r.id = s.response_id WHERE r.sitting_id = $1",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let conflicts: Vec<(i64, String)> =
        sqlx::query_as("SELECT rater_id, email FROM rater_conflicts")
            .fetch_all(&db.pool)
            .await?;
    let bps = blueprints(db).await?;
    let mut rules: Vec<RatingRules> = Vec::new();
    let mut out: Vec<Open> = Vec::new();
    for (id, organisation, email, blueprint) in rows {
        let email = email.map(|e| e.to_lowercase());
        rules.push(
            bps.iter()
                .find(|b| Some(&b.id) == blueprint.as_ref())
                .map(|b| b.part_two.rating)
                .unwrap_or_default(),
        );
        out.push(Open {
            id,
            organisation,
            conflicts: conflicts
                .iter()
                .filter(|(_, e)| email.as_deref() == Some(e.as_str()))
                .map(|(r, _)| *r)
                .collect(),
            excluded: BTreeSet::new(),
            held: BTreeSet::new(),
            third_needed: false,
        });
    }
    let index: BTreeMap<i64, usize> = out.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    let mut finals: BTreeMap<i64, BTreeMap<i64, u32>> = BTreeMap::new();
    for (response, rater, reading, withdrawn, score) in assigned {
        if let Some(&i) = index.get(&response) {
            out[i].excluded.insert(rater);
            if withdrawn.is_none() {
                out[i].held.insert(reading);
                if let Some(s) = score.and_then(|s| u32::try_from(s).ok()) {
                    finals.entry(response).or_default().insert(reading, s);
                }
            }
        }
    }
    // A response whose two readings are final and too far apart needs its third.
    for (o, rules) in out.iter_mut().zip(&rules) {
        let readings = finals.get(&o.id).map(in_reading_order).unwrap_or_default();
        o.third_needed = resolve(rules, &readings) == Resolution::NeedsThird;
    }
    Ok(out)
}

/// Final scores by reading number, as the rules take them: 1, 2, then 3, stopping at a gap.
fn in_reading_order(by_reading: &BTreeMap<i64, u32>) -> Vec<u32> {
    let mut out = Vec::new();
    for r in 1..=3 {
        match by_reading.get(&r) {
            Some(s) => out.push(*s),
            None => break,
        }
    }
    out
}

/// Gives every open response of a sitting the readings it lacks: two blind readings, and a
/// third where the first two are too far apart. `unavailable` raters get nothing new.
pub async fn assign_sitting(
    db: &Db,
    sitting_id: i64,
    unavailable: &BTreeSet<i64>,
    by: &str,
) -> Result<AssignReport> {
    let raters: Vec<RaterInfo> = raters(db)
        .await?
        .into_iter()
        .filter(|r| !unavailable.contains(&r.id))
        .collect();
    let open = open_responses(db, sitting_id).await?;
    let load_rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT s.rater_id, COUNT(*) FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND s.withdrawn_at IS NULL GROUP BY s.rater_id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let load: BTreeMap<i64, u32> = load_rows
        .into_iter()
        .map(|(r, n)| (r, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect();
    // Which reading numbers each response lacks, in order.
    let mut lacking: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let needs: Vec<Need> = open
        .iter()
        .filter_map(|o| {
            let wanted: Vec<i64> = if o.third_needed {
                vec![1, 2, 3]
            } else {
                vec![1, 2]
            };
            let missing: Vec<i64> = wanted.into_iter().filter(|r| !o.held.contains(r)).collect();
            if missing.is_empty() {
                return None;
            }
            let n = u32::try_from(missing.len()).unwrap_or(0);
            lacking.insert(o.id, missing);
            Some(Need {
                response_id: o.id,
                organisation: o.organisation.clone(),
                conflicts: o.conflicts.clone(),
                excluded: o.excluded.clone(),
                readings: n,
            })
        })
        .collect();
    let plan = assign::plan(&raters, &load, &needs);
    let now = now_ms();
    let mut tx = db.write().await?;
    for (response, rater) in &plan.assignments {
        let reading = lacking
            .get_mut(response)
            .and_then(|l| (!l.is_empty()).then(|| l.remove(0)))
            .unwrap_or(1);
        sqlx::query(
            "INSERT INTO assignments (response_id, rater_id, reading, assigned_at, assigned_by)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(response)
        .bind(rater)
        .bind(reading)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
    }
    let report = AssignReport {
        assigned: plan.assignments.len(),
        short: plan.short.len(),
    };
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::AssignRaters,
        &format!(
            "sitting {sitting_id}: {} readings assigned, {} responses short of raters",
            report.assigned, report.short
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// A rater drops out of a sitting: their unfinished readings are withdrawn (their drafts and
/// finished readings are kept) and given to other raters.
pub async fn withdraw_rater(
    db: &Db,
    sitting_id: i64,
    rater_id: i64,
    by: &str,
) -> Result<AssignReport> {
    let unfinished: Vec<i64> = sqlx::query_scalar(
        "SELECT s.id FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND s.rater_id = $2 AND s.withdrawn_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1)",
    )
    .bind(sitting_id)
    .bind(rater_id)
    .fetch_all(&db.pool)
    .await?;
    let now = now_ms();
    let mut tx = db.write().await?;
    for id in &unfinished {
        sqlx::query("UPDATE assignments SET withdrawn_at = $1, withdrawn_by = $2 WHERE id = $3")
            .bind(now)
            .bind(by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::WithdrawRater,
        &format!(
            "sitting {sitting_id}: rater {rater_id} withdrawn from {} unfinished readings",
            unfinished.len()
        ),
    )
    .await?;
    tx.commit().await?;
    assign_sitting(db, sitting_id, &BTreeSet::from([rater_id]), by).await
}

/// The final scores of a response's active readings, in reading order (1, 2, then 3).
async fn final_readings(db: &Db, response_id: i64) -> Result<Vec<u32>> {
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT s.reading, t.score FROM assignments s
         JOIN ratings t ON t.assignment_id = s.id
         WHERE s.response_id = $1 AND s.withdrawn_at IS NULL AND t.final = 1
         ORDER BY s.reading",
    )
    .bind(response_id)
    .fetch_all(&db.pool)
    .await?;
    let mut by_reading: BTreeMap<i64, u32> = BTreeMap::new();
    for (reading, score) in rows {
        if let Some(s) = score.and_then(|s| u32::try_from(s).ok()) {
            by_reading.insert(reading, s);
        }
    }
    // A third reading only counts once both blind readings are in.
    Ok(in_reading_order(&by_reading))
}

/// The rating rules of the blueprint a response's candidate sat (the sitting's first blueprint
/// for a validity response, which is never settled anyway).
async fn rules_for_response(db: &Db, response_id: i64) -> Result<RatingRules> {
    let bp: Option<String> = sqlx::query_scalar(
        "SELECT g.blueprint_id FROM responses r
         JOIN attempts a ON a.id = r.attempt_id
         JOIN registrations g ON g.id = a.registration_id WHERE r.id = $1",
    )
    .bind(response_id)
    .fetch_optional(&db.pool)
    .await?;
    let bps = blueprints(db).await?;
    Ok(bp
        .and_then(|id| bps.into_iter().find(|b| b.id == id))
        .map(|b| b.part_two.rating)
        .unwrap_or_default())
}

/// A rater's place in their queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    pub code: String,
    pub item_id: String,
    pub vignette_title: String,
    pub state: ReadingState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadingState {
    NotStarted,
    Draft,
    Final,
}

impl ReadingState {
    pub fn label(self) -> &'static str {
        match self {
            ReadingState::NotStarted => "Not started",
            ReadingState::Draft => "Draft saved",
            ReadingState::Final => "Submitted",
        }
    }
}

/// A rater's queue: their active assignments, in the order given (validity responses mixed in
/// like any other), with nothing of the candidate.
pub async fn queue(db: &Db, rater_id: i64) -> Result<Vec<QueueEntry>> {
    let rows: Vec<(String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT r.code, r.item_id, v.title,
                (SELECT t.final FROM ratings t WHERE t.assignment_id = s.id ORDER BY t.id DESC LIMIT 1)
         FROM assignments s
         JOIN responses r ON r.id = s.response_id
         JOIN vignette_versions v ON v.vignette_id = r.vignette_id AND v.version = r.vignette_version
         WHERE s.rater_id = $1 AND s.withdrawn_at IS NULL
         ORDER BY s.id",
    )
    .bind(rater_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(code, item_id, vignette_title, last)| QueueEntry {
            code,
            item_id,
            vignette_title,
            state: match last {
                None => ReadingState::NotStarted,
                Some(1) => ReadingState::Final,
                Some(_) => ReadingState::Draft,
            },
        })
        .collect())
}

/// What a rater sees of one response: the vignette, the item with its rubric, the response,
/// and their own reading so far. Nothing of the candidate, and nothing of other readings.
#[derive(Debug, Clone, PartialEq)]
pub struct Desk {
    pub code: String,
    pub vignette_title: String,
    pub vignette_body: String,
    pub item: crate::bank::Open,
    pub body: String,
    pub mine: Option<Reading>,
    /// This response's place in the rater's queue (1-based) and the queue's length.
    pub position: usize,
    pub of: usize,
    pub done: usize,
    /// The next response in the queue not yet submitted, if any.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub score: Option<u32>,
    pub note: String,
    pub feedback: String,
    pub is_final: bool,
}

/// The assignment of `code` to `rater_id`, if it is theirs and active.
async fn my_assignment(db: &Db, rater_id: i64, code: &str) -> Result<Option<(i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT s.id, r.id FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.code = $1 AND s.rater_id = $2 AND s.withdrawn_at IS NULL",
    )
    .bind(code)
    .bind(rater_id)
    .fetch_optional(&db.pool)
    .await?)
}

async fn latest_rating(db: &Db, assignment_id: i64) -> Result<Option<Reading>> {
    let row: Option<(Option<i64>, String, String, i64)> = sqlx::query_as(
        "SELECT score, note, feedback, final FROM ratings WHERE assignment_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(assignment_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(score, note, feedback, fin)| Reading {
        score: score.and_then(|s| u32::try_from(s).ok()),
        note,
        feedback,
        is_final: fin == 1,
    }))
}

/// The desk for `code`, or None when it is not this rater's (which looks the same as a code that
/// does not exist).
pub async fn desk(db: &Db, rater_id: i64, code: &str) -> Result<Option<Desk>> {
    let Some((assignment_id, response_id)) = my_assignment(db, rater_id, code).await? else {
        return Ok(None);
    };
    let (item_id, version, vignette_id, vignette_version, body): (String, i64, String, i64, String) =
        sqlx::query_as(
            "SELECT item_id, item_version, vignette_id, vignette_version, body FROM responses WHERE id = $1",
        )
        .bind(response_id)
        .fetch_one(&db.pool)
        .await?;
    let item = item_version(db, &item_id, u32::try_from(version).unwrap_or(0))
        .await?
        .ok_or_else(|| missing(&item_id))?;
    let ItemBody::Open(open) = item.body else {
        return Err(missing(&item_id));
    };
    let (vignette_title, vignette_body) = vignette_text(
        db,
        &vignette_id,
        u32::try_from(vignette_version).unwrap_or(0),
    )
    .await?
    .ok_or_else(|| missing(&vignette_id))?;
    let q = queue(db, rater_id).await?;
    let position = q.iter().position(|e| e.code == code).map_or(0, |p| p + 1);
    let next = q
        .iter()
        .cycle()
        .skip(position)
        .take(q.len())
        .find(|e| e.state != ReadingState::Final && e.code != code)
        .map(|e| e.code.clone());
    Ok(Some(Desk {
        code: code.to_string(),
        vignette_title,
        vignette_body,
        item: open,
        body,
        mine: latest_rating(db, assignment_id).await?,
        position,
        of: q.len(),
        done: q.iter().filter(|e| e.state == ReadingState::Final).count(),
        next,
    }))
}

fn missing(what: &str) -> StoreError {
    StoreError::Sqlx(sqlx::Error::Protocol(format!("{what} is not in the bank")))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RateError {
    #[error("this response is not in your queue")]
    NotYours,
    #[error("you have submitted this score; it can no longer be changed")]
    AlreadyFinal,
    #[error("choose a score from 0 to {0}")]
    ScoreOutOfRange(u32),
    #[error("choose a score before submitting")]
    NoScore,
}

#[derive(Debug, thiserror::Error)]
pub enum RateFailure {
    #[error(transparent)]
    Rate(#[from] RateError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RateFailure {
    fn from(e: sqlx::Error) -> Self {
        RateFailure::Store(StoreError::Sqlx(e))
    }
}

/// A rater's reading as entered in the desk's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingInput {
    pub score: Option<u32>,
    pub note: String,
    pub feedback: String,
    pub is_final: bool,
}

/// Saves a draft or submits a reading. A submitted reading may settle the response, or send it
/// to a third rater when the first two are too far apart.
pub async fn rate(
    db: &Db,
    rater_id: i64,
    code: &str,
    input: &RatingInput,
) -> Result<Option<Resolution>, RateFailure> {
    let (assignment_id, response_id) = my_assignment(db, rater_id, code)
        .await?
        .ok_or(RateError::NotYours)?;
    let (item_id, item_version): (String, i64) =
        sqlx::query_as("SELECT item_id, item_version FROM responses WHERE id = $1")
            .bind(response_id)
            .fetch_one(&db.pool)
            .await?;
    let max = match item_version_max(db, &item_id, item_version).await? {
        Some(m) => m,
        None => return Err(RateFailure::Store(missing(&item_id))),
    };
    if let Some(s) = input.score {
        if s > max {
            return Err(RateError::ScoreOutOfRange(max).into());
        }
    }
    if input.is_final && input.score.is_none() {
        return Err(RateError::NoScore.into());
    }
    // The check and the insert in one write transaction; the schema's one-final-per-assignment
    // index refuses what a race between two processes could still let through.
    let mut tx = db.write().await?;
    let finals: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ratings WHERE assignment_id = $1 AND final = 1")
            .bind(assignment_id)
            .fetch_one(&mut *tx)
            .await?;
    if finals > 0 {
        return Err(RateError::AlreadyFinal.into());
    }
    let inserted = sqlx::query(
        "INSERT INTO ratings (assignment_id, score, note, feedback, final, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(assignment_id)
    .bind(input.score.map(i64::from))
    .bind(input.note.trim())
    .bind(input.feedback.trim())
    .bind(i64::from(input.is_final))
    .bind(now_ms())
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if super::is_unique_violation(&e) => return Err(RateError::AlreadyFinal.into()),
        Err(e) => return Err(e.into()),
    }
    match tx.commit().await {
        Ok(()) => {}
        Err(StoreError::Sqlx(e)) if super::is_unique_violation(&e) => {
            return Err(RateError::AlreadyFinal.into())
        }
        Err(e) => return Err(e.into()),
    }
    if !input.is_final {
        return Ok(None);
    }
    Ok(Some(settle(db, response_id).await?))
}

async fn item_version_max(db: &Db, item_id: &str, version: i64) -> Result<Option<u32>> {
    let item = item_version(db, item_id, u32::try_from(version).unwrap_or(0)).await?;
    Ok(item.and_then(|i| match i.body {
        ItemBody::Open(o) => Some(o.max_score),
        ItemBody::Mcq(_) => None,
    }))
}

/// Applies the rules to a response's final readings: settles it, or assigns a third rater.
pub async fn settle(db: &Db, response_id: i64) -> Result<Resolution> {
    let expert: Option<i64> =
        sqlx::query_scalar("SELECT expert_score FROM responses WHERE id = $1")
            .bind(response_id)
            .fetch_one(&db.pool)
            .await?;
    if expert.is_some() {
        // Validity responses measure raters; they are never settled.
        return Ok(Resolution::Waiting);
    }
    let rules = rules_for_response(db, response_id).await?;
    let finals = final_readings(db, response_id).await?;
    let outcome = resolve(&rules, &finals);
    match outcome {
        Resolution::Settled(score) => {
            sqlx::query(
                "UPDATE responses SET final_score = $1, settled_at = $2 WHERE id = $3 AND settled_at IS NULL",
            )
            .bind(score)
            .bind(now_ms())
            .bind(response_id)
            .execute(&db.writer)
            .await?;
        }
        Resolution::NeedsThird => {
            let sitting_id: i64 =
                sqlx::query_scalar("SELECT sitting_id FROM responses WHERE id = $1")
                    .bind(response_id)
                    .fetch_one(&db.pool)
                    .await?;
            assign_sitting(db, sitting_id, &BTreeSet::new(), "rules").await?;
        }
        Resolution::Waiting => {}
    }
    Ok(outcome)
}

/// Seeds a validity response (a response with an expert score) into every active rater's
/// queue, where it looks like any other.
pub async fn seed_validity(
    db: &Db,
    sitting_id: i64,
    item_id: &str,
    item_version: u32,
    body: &str,
    expert_score: u32,
    by: &str,
) -> Result<String> {
    let item = item_version_full(db, item_id, item_version).await?;
    let now = now_ms();
    let code = new_response_code();
    let mut tx = db.write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO responses (code, sitting_id, attempt_id, item_id, item_version, vignette_id,
             vignette_version, body, expert_score, created_at)
         VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&code)
    .bind(sitting_id)
    .bind(item_id)
    .bind(i64::from(item_version))
    .bind(&item.0)
    .bind(item.1)
    .bind(body.trim())
    .bind(i64::from(expert_score))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    for r in raters(db).await? {
        sqlx::query(
            "INSERT INTO assignments (response_id, rater_id, reading, assigned_at, assigned_by)
             VALUES ($1, $2, 1, $3, $4)",
        )
        .bind(id)
        .bind(r.id)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
    }
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::SeedValidity,
        &format!("sitting {sitting_id}: validity response {code} for {item_id} v{item_version}, expert score {expert_score}"),
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

/// The vignette (id, version) an open item belongs to, in its newest version.
async fn item_version_full(db: &Db, item_id: &str, version: u32) -> Result<(String, i64)> {
    let item = item_version(db, item_id, version)
        .await?
        .ok_or_else(|| missing(item_id))?;
    let vignette = item.vignette.ok_or_else(|| missing(item_id))?;
    let v: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM vignette_versions WHERE vignette_id = $1")
            .bind(&vignette)
            .fetch_one(&db.pool)
            .await?;
    Ok((vignette.clone(), v.ok_or_else(|| missing(&vignette))?))
}

/// Per rater, for the committee: work held and done, and calibration on validity responses.
#[derive(Debug, Clone, PartialEq)]
pub struct RaterStatus {
    pub rater_id: i64,
    pub username: String,
    pub display_name: String,
    pub assigned: u32,
    pub done: u32,
    pub calibration: Calibration,
    pub flagged: bool,
}

/// The raters' work and calibration in a sitting. The standard is the strictest of the
/// sitting's blueprints.
pub async fn rater_status(
    db: &Db,
    sitting_id: i64,
    blueprint_ids: &[String],
) -> Result<Vec<RaterStatus>> {
    let rules = blueprints(db)
        .await?
        .into_iter()
        .filter(|b| blueprint_ids.contains(&b.id))
        .map(|b| b.part_two.rating)
        .max_by_key(|r| (r.calibration_min_percent, r.calibration_min_count))
        .unwrap_or_default();
    let rows: Vec<StatusRow> = sqlx::query_as(
        "SELECT u.id, u.username, u.display_name, s.id,
                (SELECT t.final FROM ratings t WHERE t.assignment_id = s.id ORDER BY t.id DESC LIMIT 1),
                (SELECT t.score FROM ratings t WHERE t.assignment_id = s.id ORDER BY t.id DESC LIMIT 1),
                r.expert_score
         FROM assignments s JOIN users u ON u.id = s.rater_id JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND s.withdrawn_at IS NULL
         ORDER BY u.username, s.id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out: BTreeMap<i64, RaterStatus> = BTreeMap::new();
    for (id, username, display_name, _, fin, score, expert) in rows {
        let st = out.entry(id).or_insert_with(|| RaterStatus {
            rater_id: id,
            username,
            display_name,
            assigned: 0,
            done: 0,
            calibration: Calibration::default(),
            flagged: false,
        });
        st.assigned += 1;
        if fin == Some(1) {
            st.done += 1;
            if let (Some(s), Some(e)) = (score, expert) {
                st.calibration
                    .add(u32::try_from(s).unwrap_or(0), u32::try_from(e).unwrap_or(0));
            }
        }
    }
    let mut out: Vec<RaterStatus> = out.into_values().collect();
    for r in &mut out {
        r.flagged = r.calibration.flagged(&rules);
    }
    Ok(out)
}

/// A sitting's responses at a glance, for the committee.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub responses: u32,
    pub blank: u32,
    pub settled: u32,
    pub awaiting_third: u32,
    pub validity: u32,
}

pub async fn progress(db: &Db, sitting_id: i64) -> Result<Progress> {
    let rows: Vec<(Option<i64>, String, Option<i64>, i64)> = sqlx::query_as(
        "SELECT r.expert_score, r.body, r.settled_at,
                (SELECT COUNT(*) FROM assignments s WHERE s.response_id = r.id AND s.reading = 3 AND s.withdrawn_at IS NULL)
         FROM responses r WHERE r.sitting_id = $1",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut p = Progress::default();
    for (expert, body, settled, thirds) in rows {
        if expert.is_some() {
            p.validity += 1;
            continue;
        }
        p.responses += 1;
        p.blank += u32::from(body.is_empty());
        p.settled += u32::from(settled.is_some());
        p.awaiting_third += u32::from(settled.is_none() && thirds > 0);
    }
    Ok(p)
}

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
         WHERE s.response_id = $1 AND s.withdrawn_at IS NULL AND t.final = 1 AND t.feedback <> ''
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
