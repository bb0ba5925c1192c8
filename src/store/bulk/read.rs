//! Reading: the readings every response lacks, assigned, given and settled round by round.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::bank::{ItemBody, RatingRules};
use crate::scoring::rules::{resolve, resolve_near_cut, Resolution};
use crate::store::ratings::{self, RatingInput};
use crate::store::{now_ms, Db, Result, WriteTx};

use super::{insert, BulkError, Marks, MAX_BINDS, V};

/// A reading to give: the rater, which reading it is (1 and 2 blind, 3 the adjudication) and
/// the response: its item, its candidate's registration (None for a validity response) and,
/// for a validity response, the expert's score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToRead {
    pub rater_id: i64,
    pub reading: i64,
    pub item_id: String,
    pub registration_id: Option<i64>,
    pub expert_score: Option<u32>,
}

/// What `read_sitting` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Read {
    pub readings: usize,
    pub thirds: usize,
    pub settled: usize,
    /// Responses opened again for a closer look near the cut.
    pub near_cut: usize,
    /// Responses still short of raters at the end (no eligible rater left).
    pub short: usize,
}

/// (assignment, rater, reading, item, item version, expert score, registration).
type TodoRow = (i64, i64, i64, String, i64, Option<i64>, Option<i64>);

/// Reads every open response of a sitting: assigns the readings it lacks
/// (`ratings::assign_sitting`), takes each reading from `give` (a final score within the
/// item's rubric, as `ratings::rate` requires), settles by the blueprint's rules, and goes round
/// again for the adjudications that calls for, until nothing is left to read.
pub async fn read_sitting(
    db: &Db,
    sitting_id: i64,
    by: &str,
    mut give: impl FnMut(&ToRead) -> RatingInput,
) -> Result<Read, BulkError> {
    let mut report = Read::default();
    let mut max_scores: HashMap<(String, i64), u32> = HashMap::new();
    // Two blind readings, then the thirds they call for, then the closer looks near the cut: a
    // round for each, and one to spare.
    for _ in 0..5 {
        let assigned = ratings::assign_sitting(db, sitting_id, &BTreeSet::new(), by).await?;
        report.short = assigned.short;
        let todo: Vec<TodoRow> = sqlx::query_as(
            "SELECT s.id, s.rater_id, s.reading, r.item_id, r.item_version, r.expert_score, a.registration_id
             FROM assignments s JOIN responses r ON r.id = s.response_id
             LEFT JOIN attempts a ON a.id = r.attempt_id
             WHERE r.sitting_id = $1 AND s.withdrawn_at IS NULL AND r.qualifying_set IS NULL
               AND NOT EXISTS (SELECT 1 FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1)
             ORDER BY s.id",
        )
        .bind(sitting_id)
        .fetch_all(&db.pool)
        .await?;
        if todo.is_empty() {
            break;
        }
        let now = now_ms();
        let mut rows = Vec::with_capacity(todo.len() * 6);
        for (assignment, rater_id, reading, item_id, version, expert, registration) in todo {
            let key = (item_id.clone(), version);
            if !max_scores.contains_key(&key) {
                let item = crate::store::bank::item_version(
                    db,
                    &item_id,
                    u32::try_from(version).unwrap_or(0),
                )
                .await?;
                let Some(ItemBody::Open(open)) = item.map(|i| i.body) else {
                    return Err(BulkError::Refused(format!(
                        "{item_id} v{version} is not an open item of the bank"
                    )));
                };
                max_scores.insert(key.clone(), open.max_score);
            }
            let ask = ToRead {
                rater_id,
                reading,
                item_id,
                registration_id: registration,
                expert_score: expert.and_then(|e| u32::try_from(e).ok()),
            };
            let input = give(&ask);
            let score = match input.score {
                Some(s) if input.is_final && s <= max_scores[&key] => s,
                _ => {
                    return Err(BulkError::Refused(format!(
                        "a reading of {} must be final, from 0 to {}",
                        ask.item_id, max_scores[&key]
                    )))
                }
            };
            if reading == 3 {
                report.thirds += 1;
            }
            rows.extend([
                V::Int(assignment),
                V::Int(i64::from(score)),
                input.note.trim().into(),
                input.feedback.trim().into(),
                V::Int(1),
                V::Int(now),
            ]);
        }
        report.readings += rows.len() / 6;
        let mut tx = db.write().await?;
        insert(
            &mut tx,
            db.backend,
            "INSERT INTO ratings (assignment_id, score, note, feedback, final, at)",
            6,
            &rows,
        )
        .await?;
        report.settled += settle_sitting(&mut tx, db, sitting_id, now).await?;
        tx.commit().await?;
        // A candidate's total near the cut: their responses are read once more next round.
        report.near_cut += ratings::look_at_sitting(db, sitting_id).await?;
    }
    Ok(report)
}

/// Puts every unsettled response's final readings to its blueprint's rules (as
/// `ratings::settle` does one response at a time) and settles those the rules settle.
async fn settle_sitting(tx: &mut WriteTx, db: &Db, sitting_id: i64, now: i64) -> Result<usize> {
    let open: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT r.id, g.blueprint_id, r.near_cut_at FROM responses r
         JOIN attempts a ON a.id = r.attempt_id JOIN registrations g ON g.id = a.registration_id
         WHERE r.sitting_id = $1 AND r.settled_at IS NULL AND r.expert_score IS NULL",
    )
    .bind(sitting_id)
    .fetch_all(&mut **tx)
    .await?;
    let finals: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT s.response_id, s.reading, t.score FROM assignments s
         JOIN ratings t ON t.assignment_id = s.id JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND r.settled_at IS NULL AND r.expert_score IS NULL
           AND s.withdrawn_at IS NULL AND s.appeal_id IS NULL AND t.final = 1",
    )
    .bind(sitting_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_response: HashMap<i64, BTreeMap<i64, u32>> = HashMap::new();
    for (response, reading, score) in finals {
        if let Some(s) = score.and_then(|s| u32::try_from(s).ok()) {
            by_response.entry(response).or_default().insert(reading, s);
        }
    }
    let rules: HashMap<String, RatingRules> = crate::store::bank::blueprints(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.part_two.rating))
        .collect();
    // Settled responses by score (as bits, so equal scores share a statement).
    let mut settled: BTreeMap<u64, Vec<i64>> = BTreeMap::new();
    for (response, blueprint, near_cut) in open {
        // Readings 1, 2, then 3, stopping at a gap: a third counts once both blind ones are in.
        let readings: Vec<u32> = by_response
            .get(&response)
            .map(|r| (1..=3).map_while(|n| r.get(&n).copied()).collect())
            .unwrap_or_default();
        let rules = rules.get(&blueprint).copied().unwrap_or_default();
        let outcome = if near_cut.is_some() {
            resolve_near_cut(&rules, &readings)
        } else {
            resolve(&rules, &readings)
        };
        if let Resolution::Settled(score) = outcome {
            settled.entry(score.to_bits()).or_default().push(response);
        }
    }
    let mut n = 0;
    for (score, ids) in settled {
        for chunk in ids.chunks(MAX_BINDS) {
            let mut marks = Marks::new(db.backend);
            let sql = format!(
                "UPDATE responses SET final_score = {}, settled_at = {}
                 WHERE sitting_id = {} AND settled_at IS NULL AND id IN ({})",
                marks.next(),
                marks.next(),
                marks.next(),
                marks.list(chunk.len())
            );
            let mut q = sqlx::query(&sql)
                .bind(f64::from_bits(score))
                .bind(now)
                .bind(sitting_id);
            for id in chunk {
                q = q.bind(*id);
            }
            n += q.execute(&mut **tx).await?.rows_affected() as usize;
        }
    }
    Ok(n)
}
