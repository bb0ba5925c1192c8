//! Read-behinds: the committee reads behind a share of each rater's final readings
//! (`[part_two.rating] read_behind_percent`), seeing the rater's score, and confirms it or
//! overrides it with a reason. An override takes the reading's place wherever readings are
//! resolved (`READING_SCORE`), and the response is settled again; every read-behind is audited
//! and counted per rater.
//!
//! Which readings are read behind: of a rater's `n` final readings of live responses, the
//! `ceil(n × percent / 100)` whose SHA-256 of `read-behind:<assignment id>` is smallest (a
//! fixed, unpredictable order a rater cannot game), plus any already read behind.

use std::collections::BTreeMap;

use crate::auth::sha256_hex;
use crate::store::{audit, now_ms, Db, Result};

use super::qualify::sitting_rules;
use super::settle::settle;

/// The score of an assignment's final reading `s` as resolution takes it: the committee's
/// read-behind score where there is one, else the rater's own.
pub(super) const READING_SCORE: &str = "COALESCE(
    (SELECT rb.score FROM read_behinds rb WHERE rb.assignment_id = s.id),
    (SELECT t.score FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1 ORDER BY t.id DESC LIMIT 1))";

/// A reading in the read-behind sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBehindEntry {
    pub assignment_id: i64,
    pub rater_id: i64,
    pub rater: String,
    pub code: String,
    pub item_id: String,
    pub rater_score: u32,
    pub done: Option<ReadBehindDone>,
}

/// What the committee decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBehindDone {
    pub score: u32,
    pub overridden: bool,
    pub reason: String,
    pub read_by: String,
}

/// Per rater: readings read behind, and how many were overridden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadBehindCount {
    pub read: u32,
    pub overridden: u32,
}

/// (assignment, rater, username, code, item, score, rb score, overridden, reason, read by).
type Row = (
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn order_key(assignment_id: i64) -> String {
    sha256_hex(&format!("read-behind:{assignment_id}"))
}

/// The sitting's read-behind sample, by rater then in sample order.
pub async fn read_behind_sample(db: &Db, sitting_id: i64) -> Result<Vec<ReadBehindEntry>> {
    let percent = sitting_rules(db, sitting_id).await?.read_behind_percent;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT s.id, s.rater_id, u.username, r.code, r.item_id,
                (SELECT t.score FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1),
                rb.score, rb.overridden, rb.reason, rb.read_by
         FROM assignments s JOIN responses r ON r.id = s.response_id
         JOIN users u ON u.id = s.rater_id
         LEFT JOIN read_behinds rb ON rb.assignment_id = s.id
         WHERE r.sitting_id = $1 AND r.expert_score IS NULL AND s.withdrawn_at IS NULL
           AND s.appeal_id IS NULL AND EXISTS (SELECT 1 FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1)",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut by_rater: BTreeMap<(String, i64), Vec<ReadBehindEntry>> = BTreeMap::new();
    for (id, rater_id, rater, code, item_id, score, rb_score, overridden, reason, read_by) in rows {
        let Some(score) = score.and_then(|s| u32::try_from(s).ok()) else {
            continue;
        };
        by_rater
            .entry((rater.clone(), rater_id))
            .or_default()
            .push(ReadBehindEntry {
                assignment_id: id,
                rater_id,
                rater,
                code,
                item_id,
                rater_score: score,
                done: rb_score.map(|s| ReadBehindDone {
                    score: u32::try_from(s).unwrap_or(0),
                    overridden: overridden == Some(1),
                    reason: reason.unwrap_or_default(),
                    read_by: read_by.unwrap_or_default(),
                }),
            });
    }
    let mut out = Vec::new();
    for (_, mut readings) in by_rater {
        readings.sort_by_cached_key(|e| order_key(e.assignment_id));
        let n = readings.len() as u64;
        let k = (n * u64::from(percent)).div_ceil(100) as usize;
        for (i, e) in readings.into_iter().enumerate() {
            if i < k || e.done.is_some() {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// Read-behinds done per rater in a sitting.
pub async fn read_behind_counts(
    db: &Db,
    sitting_id: i64,
) -> Result<BTreeMap<i64, ReadBehindCount>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT s.rater_id, rb.overridden FROM read_behinds rb
         JOIN assignments s ON s.id = rb.assignment_id JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out: BTreeMap<i64, ReadBehindCount> = BTreeMap::new();
    for (rater, overridden) in rows {
        let c = out.entry(rater).or_default();
        c.read += 1;
        c.overridden += u32::from(overridden == 1);
    }
    Ok(out)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadBehindError {
    #[error("this reading is not in the sitting's read-behind sample")]
    NotInSample,
    #[error("this reading has already been read behind")]
    AlreadyRead,
    #[error("choose a score from 0 to {0}")]
    ScoreOutOfRange(u32),
    #[error("give the reason for overriding the rater's score")]
    NoReason,
}

/// The committee confirms (`score` equal to the rater's) or overrides a sampled reading; an
/// override needs a reason, is audited, and settles the response again with it.
pub async fn read_behind(
    db: &Db,
    sitting_id: i64,
    assignment_id: i64,
    score: u32,
    reason: &str,
    by: &str,
) -> Result<std::result::Result<ReadBehindDone, ReadBehindError>> {
    let sample = read_behind_sample(db, sitting_id).await?;
    let Some(entry) = sample.iter().find(|e| e.assignment_id == assignment_id) else {
        return Ok(Err(ReadBehindError::NotInSample));
    };
    read_behind_entry(db, sitting_id, entry, score, reason, by).await
}

/// `read_behind` for an entry of a sample already read (the demo reads a whole sample).
pub async fn read_behind_entry(
    db: &Db,
    sitting_id: i64,
    entry: &ReadBehindEntry,
    score: u32,
    reason: &str,
    by: &str,
) -> Result<std::result::Result<ReadBehindDone, ReadBehindError>> {
    let assignment_id = entry.assignment_id;
    if entry.done.is_some() {
        return Ok(Err(ReadBehindError::AlreadyRead));
    }
    let (response_id, item_id, version): (i64, String, i64) = sqlx::query_as(
        "SELECT r.id, r.item_id, r.item_version FROM assignments s
         JOIN responses r ON r.id = s.response_id WHERE s.id = $1",
    )
    .bind(assignment_id)
    .fetch_one(&db.pool)
    .await?;
    let max =
        match crate::store::bank::item_version(db, &item_id, u32::try_from(version).unwrap_or(0))
            .await?
            .map(|i| i.body)
        {
            Some(crate::bank::ItemBody::Open(o)) => o.max_score,
            _ => return Err(super::missing(&item_id)),
        };
    if score > max {
        return Ok(Err(ReadBehindError::ScoreOutOfRange(max)));
    }
    let overridden = score != entry.rater_score;
    let reason = reason.trim();
    if overridden && reason.is_empty() {
        return Ok(Err(ReadBehindError::NoReason));
    }
    let mut tx = db.write().await?;
    let inserted = sqlx::query(
        "INSERT INTO read_behinds (assignment_id, rater_score, score, overridden, reason, read_by, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(assignment_id)
    .bind(i64::from(entry.rater_score))
    .bind(i64::from(score))
    .bind(i64::from(overridden))
    .bind(reason)
    .bind(by)
    .bind(now_ms())
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if crate::store::is_unique_violation(&e) => {
            return Ok(Err(ReadBehindError::AlreadyRead))
        }
        Err(e) => return Err(e.into()),
    }
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::ReadBehind,
        &format!(
            "sitting {sitting_id}: response {} read behind {} (rater {}): {} {} -> {}{}",
            entry.code,
            entry.rater,
            entry.rater_id,
            if overridden {
                "overridden"
            } else {
                "confirmed"
            },
            entry.rater_score,
            score,
            if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            }
        ),
    )
    .await?;
    if overridden {
        // Settled again below, with the override in the reading's place.
        sqlx::query("UPDATE responses SET final_score = NULL, settled_at = NULL WHERE id = $1")
            .bind(response_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    if overridden {
        settle(db, response_id).await?;
    }
    Ok(Ok(ReadBehindDone {
        score,
        overridden,
        reason: reason.to_string(),
        read_by: by.to_string(),
    }))
}
