//! A rater's desk: their queue, one response as they see it (nothing of the candidate), and the
//! drafts and final readings they give it.

use crate::bank::ItemBody;
use crate::scoring::rules::Resolution;
use crate::store::bank::{item_version, vignette_text};
use crate::store::{now_ms, Db, Result, StoreError};

use super::missing;
use super::qualify::{self, LIVE_GATE};
use super::settle::settle;

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
    // A qualifying set comes first; live work only past the gate.
    let rows: Vec<(String, String, String, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT r.code, r.item_id, v.title,
                (SELECT t.final FROM ratings t WHERE t.assignment_id = s.id ORDER BY t.id DESC LIMIT 1)
         FROM assignments s
         JOIN responses r ON r.id = s.response_id
         JOIN vignette_versions v ON v.vignette_id = r.vignette_id AND v.version = r.vignette_version
         WHERE s.rater_id = $1 AND s.withdrawn_at IS NULL AND {LIVE_GATE}
         ORDER BY CASE WHEN r.qualifying_set IS NULL THEN 1 ELSE 0 END, s.id"
    ))
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
    pub item_id: String,
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
    /// The other questions of the same candidate's vignette this rater holds (the same raters
    /// read a vignette's questions together), by item: scored on the same page.
    pub others: Vec<DeskQuestion>,
}

/// One more question of the vignette on a rater's desk.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskQuestion {
    pub code: String,
    pub item_id: String,
    pub item: crate::bank::Open,
    pub body: String,
    pub mine: Option<Reading>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub score: Option<u32>,
    pub note: String,
    pub feedback: String,
    pub is_final: bool,
}

/// The assignment of `code` to `rater_id`, if it is theirs, active, and past the
/// qualification gate.
async fn my_assignment(db: &Db, rater_id: i64, code: &str) -> Result<Option<(i64, i64)>> {
    Ok(sqlx::query_as(&format!(
        "SELECT s.id, r.id FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.code = $1 AND s.rater_id = $2 AND s.withdrawn_at IS NULL AND {LIVE_GATE}"
    ))
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
    let others = siblings(db, rater_id, response_id, &vignette_id).await?;
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
        item_id: item_id.clone(),
        vignette_title,
        vignette_body,
        item: open,
        body,
        mine: latest_rating(db, assignment_id).await?,
        position,
        of: q.len(),
        done: q.iter().filter(|e| e.state == ReadingState::Final).count(),
        next,
        others,
    }))
}

/// The rater's other active readings of the same candidate's vignette (past the gate), by item.
async fn siblings(
    db: &Db,
    rater_id: i64,
    response_id: i64,
    vignette_id: &str,
) -> Result<Vec<DeskQuestion>> {
    let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(&format!(
        "SELECT s.id, r.code, r.item_id, r.item_version, r.body
         FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE s.rater_id = $1 AND s.withdrawn_at IS NULL AND r.id <> $2 AND r.vignette_id = $3
           AND r.attempt_id = (SELECT attempt_id FROM responses WHERE id = $2) AND {LIVE_GATE}
         ORDER BY r.item_id"
    ))
    .bind(rater_id)
    .bind(response_id)
    .bind(vignette_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for (assignment_id, code, item_id, version, body) in rows {
        let item = item_version(db, &item_id, u32::try_from(version).unwrap_or(0))
            .await?
            .ok_or_else(|| missing(&item_id))?;
        let ItemBody::Open(open) = item.body else {
            return Err(missing(&item_id));
        };
        out.push(DeskQuestion {
            code,
            item_id,
            item: open,
            body,
            mine: latest_rating(db, assignment_id).await?,
        });
    }
    Ok(out)
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
        Err(e) if crate::store::is_unique_violation(&e) => {
            return Err(RateError::AlreadyFinal.into())
        }
        Err(e) => return Err(e.into()),
    }
    match tx.commit().await {
        Ok(()) => {}
        Err(StoreError::Sqlx(e)) if crate::store::is_unique_violation(&e) => {
            return Err(RateError::AlreadyFinal.into())
        }
        Err(e) => return Err(e.into()),
    }
    if !input.is_final {
        return Ok(None);
    }
    qualify::after_reading(db, rater_id, response_id).await?;
    Ok(Some(settle(db, response_id).await?))
}

async fn item_version_max(db: &Db, item_id: &str, version: i64) -> Result<Option<u32>> {
    let item = item_version(db, item_id, u32::try_from(version).unwrap_or(0)).await?;
    Ok(item.and_then(|i| match i.body {
        ItemBody::Open(o) => Some(o.max_score),
        ItemBody::Mcq(_) => None,
    }))
}
