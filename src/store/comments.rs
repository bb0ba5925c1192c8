//! Candidates' comments on items, as the committee reads them. Each comment is an event
//! `@comment:ID` in its attempt's response log (saved like an answer, on the hash chain); a
//! partial index holds the comment events alone (migration 0025), so a sitting's comments are
//! found without reading its answers. Shown: the newest per candidate and item
//! ([`comment::newest`]), with the option the candidate chose on a Part One question. And which
//! comments a key change cites.

use std::collections::{BTreeMap, HashMap};

use crate::exam::comment::{self, Posted};

use super::{Db, Result, StoreError};

/// A comment as the committee sees it: never who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The comment's event, which names it in a citation.
    pub attempt_id: i64,
    pub n: i64,
    /// 1 for a Part One question, 2 for a Part Two vignette.
    pub part: u8,
    /// The item or vignette id.
    pub target: String,
    pub text: String,
    pub at_ms: i64,
    /// On a Part One question: the option the candidate's answer is (the bank's letter), or
    /// "" when they left it unanswered.
    pub chose: Option<String>,
}

impl Comment {
    pub fn cite_id(&self) -> String {
        comment::cite_id(self.attempt_id, self.n)
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    attempt_id: i64,
    n: i64,
    part: i64,
    item_id: String,
    answer: String,
    seq: i64,
    at_ms: i64,
}

#[derive(sqlx::FromRow)]
struct AnswerRow {
    attempt_id: i64,
    item_id: String,
    answer: String,
    seq: i64,
}

/// The predicate of the partial index `response_events_comments`, spelled as the index spells
/// it so both engines use the index.
const IS_COMMENT: &str = "substr(e.item_id, 1, 9) = '@comment:'";

/// Every comment of a sitting's attempts (voided ones left out, as their answers are), newest
/// per candidate and item, ordered by item then time. Two queries whatever the sitting's size.
pub async fn of_sitting(db: &Db, sitting_id: i64) -> Result<Vec<Comment>> {
    let events: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT e.attempt_id, e.n, a.part, e.item_id, e.answer, e.seq, e.at_ms
         FROM response_events e JOIN attempts a ON a.id = e.attempt_id
         JOIN registrations g ON g.id = a.registration_id
         WHERE {IS_COMMENT} AND g.sitting_id = $1 AND a.voided_at IS NULL"
    ))
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut parts = HashMap::new();
    let mut posted = Vec::with_capacity(events.len());
    for e in events {
        let target = comment::target_of(&e.item_id)
            .ok_or_else(|| corrupt(e.attempt_id, e.n, "is not a comment"))?
            .to_string();
        let part = u8::try_from(e.part)
            .ok()
            .filter(|p| matches!(*p, 1 | 2))
            .ok_or_else(|| corrupt(e.attempt_id, e.n, "is in no part"))?;
        parts.insert(e.attempt_id, part);
        posted.push(Posted {
            attempt_id: e.attempt_id,
            n: e.n,
            target,
            text: e.answer,
            seq: e.seq,
            at_ms: e.at_ms,
        });
    }
    // What each commenter answered on the Part One questions they commented on: their saves
    // to those items, the newest by sequence number being the answer.
    let answers: Vec<AnswerRow> = sqlx::query_as(&format!(
        "SELECT x.attempt_id, x.item_id, x.answer, x.seq FROM response_events x
         JOIN (SELECT DISTINCT e.attempt_id, substr(e.item_id, 10) AS target
               FROM response_events e JOIN attempts a ON a.id = e.attempt_id
               JOIN registrations g ON g.id = a.registration_id
               WHERE {IS_COMMENT} AND g.sitting_id = $1 AND a.part = 1 AND a.voided_at IS NULL) t
           ON t.attempt_id = x.attempt_id AND x.item_id = t.target"
    ))
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut chose: HashMap<(i64, String), (i64, String)> = HashMap::new();
    for a in answers {
        let slot = chose
            .entry((a.attempt_id, a.item_id))
            .or_insert((a.seq, a.answer.clone()));
        if a.seq > slot.0 {
            *slot = (a.seq, a.answer);
        }
    }
    Ok(comment::newest(posted)
        .into_iter()
        .map(|p| {
            let part = parts.get(&p.attempt_id).copied().unwrap_or(1);
            let chose = (part == 1).then(|| {
                chose
                    .get(&(p.attempt_id, p.target.clone()))
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default()
            });
            Comment {
                attempt_id: p.attempt_id,
                n: p.n,
                part,
                target: p.target,
                text: p.text,
                at_ms: p.at_ms,
                chose,
            }
        })
        .collect())
}

fn corrupt(attempt_id: i64, n: i64, what: &str) -> StoreError {
    StoreError::Sqlx(sqlx::Error::Decode(
        format!("attempt {attempt_id}: event {n} {what}").into(),
    ))
}

/// A sitting's comments grouped by what they are on: Part One's questions, then Part Two's
/// vignettes, each by id.
pub fn by_target(comments: &[Comment]) -> BTreeMap<(u8, &str), Vec<&Comment>> {
    let mut out: BTreeMap<(u8, &str), Vec<&Comment>> = BTreeMap::new();
    for c in comments {
        out.entry((c.part, c.target.as_str())).or_default().push(c);
    }
    out
}

/// A comment a key change cites, as the key review lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Cited {
    pub key_change_id: i64,
    pub attempt_id: i64,
    pub n: i64,
    pub text: String,
    pub at_ms: i64,
}

/// Every cited comment, by the key change that cites it (oldest comment first).
pub async fn citations(db: &Db) -> Result<BTreeMap<i64, Vec<Cited>>> {
    let rows: Vec<Cited> = sqlx::query_as(
        "SELECT k.key_change_id, k.attempt_id, k.n, e.answer AS text, e.at_ms
         FROM key_change_citations k
         JOIN response_events e ON e.attempt_id = k.attempt_id AND e.n = k.n
         ORDER BY k.key_change_id, e.at_ms, k.attempt_id, k.n",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out: BTreeMap<i64, Vec<Cited>> = BTreeMap::new();
    for r in rows {
        out.entry(r.key_change_id).or_default().push(r);
    }
    Ok(out)
}
