//! A sitting's rows for its results, read in a fixed number of queries whatever its size (its
//! registrations, attempts, Part One answers, Part Two scores, the open items' maxima, the
//! results stored and each candidate's history), and the attempt scoring that works on them in
//! memory. A page or a computation about a sitting costs the same handful of queries at 200
//! candidates or 10,000.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::bank::{Blueprint, ItemBody, PassOn};
use crate::scoring::key::{score_part_one, ItemKey, Tally};
use crate::scoring::results::PartResult;

use super::super::attempts::{submitted_answers_in_sitting, Attempt};
use super::super::sittings::{registrations, sitting, Registration, Sitting};
use super::super::{Db, Result, StoreError};
use super::equating::{Equating, EquatingRows};
use super::sitting::Pending;
use super::{Detail, ResponseScore, StoredResult};

/// A Part Two response's reading as scoring needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ResponseRow {
    pub attempt_id: i64,
    pub id: i64,
    pub vignette_id: String,
    pub item_id: String,
    pub item_version: i64,
    pub final_score: Option<f64>,
}

/// Each open item version's domain and most points.
pub(super) type OpenItems = HashMap<(String, i64), (String, f64)>;

/// One stored result in someone's history: (the sitting's opening, registration, part, passed).
pub(super) type Past = (i64, i64, i64, bool);

/// What every reading of a sitting's results needs besides its attempts (which computing reads
/// whole, with their forms, and the results page only as states).
pub(super) struct SittingRows {
    pub sitting: Sitting,
    pub registrations: Vec<Registration>,
    /// Each stored result of this person (by email) in a released sitting or this one.
    pub history: HashMap<String, Vec<Past>>,
}

impl SittingRows {
    pub async fn load(db: &Db, sitting_id: i64) -> Result<Option<Self>> {
        let Some(sitting) = sitting(db, sitting_id).await? else {
            return Ok(None);
        };
        let rows: Vec<(String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT g.email, s.opens_at, g.id, r.part, r.passed FROM results r
             JOIN registrations g ON g.id = r.registration_id
             JOIN sittings s ON s.id = g.sitting_id
             WHERE (s.results_released_at IS NOT NULL OR s.id = $1)
               AND g.email IN (SELECT email FROM registrations WHERE sitting_id = $1)",
        )
        .bind(sitting_id)
        .fetch_all(&db.pool)
        .await?;
        let mut history: HashMap<String, Vec<Past>> = HashMap::new();
        for (email, opens_at, reg, part, passed) in rows {
            history
                .entry(email)
                .or_default()
                .push((opens_at, reg, part, passed == 1));
        }
        Ok(Some(SittingRows {
            registrations: registrations(db, sitting_id).await?,
            sitting,
            history,
        }))
    }
}

/// What scoring needs beyond the attempts: answers, readings and the items' points.
pub(super) struct ScoringRows {
    /// Part One answers of the submitted attempts, by attempt.
    pub answers: HashMap<i64, BTreeMap<String, String>>,
    /// Part Two readings by attempt, in response order.
    pub responses: HashMap<i64, Vec<ResponseRow>>,
    pub open_items: OpenItems,
}

/// One attempt's Part Two responses, as scoring reads them.
pub(super) async fn responses_of(db: &Db, attempt_id: i64) -> Result<Vec<ResponseRow>> {
    Ok(sqlx::query_as(
        "SELECT attempt_id, id, vignette_id, item_id, item_version, final_score FROM responses
         WHERE attempt_id = $1 ORDER BY id",
    )
    .bind(attempt_id)
    .fetch_all(&db.pool)
    .await?)
}

impl ScoringRows {
    pub async fn load(db: &Db, sitting_id: i64) -> Result<Self> {
        let rows: Vec<ResponseRow> = sqlx::query_as(
            "SELECT attempt_id, id, vignette_id, item_id, item_version, final_score FROM responses
             WHERE sitting_id = $1 AND attempt_id IS NOT NULL ORDER BY id",
        )
        .bind(sitting_id)
        .fetch_all(&db.pool)
        .await?;
        let mut responses: HashMap<i64, Vec<ResponseRow>> = HashMap::new();
        for r in rows {
            responses.entry(r.attempt_id).or_default().push(r);
        }
        Ok(ScoringRows {
            answers: submitted_answers_in_sitting(db, sitting_id, 1).await?,
            responses,
            open_items: open_items(db).await?,
        })
    }
}

/// Every open item version's domain and most points (the bank's, a few hundred at most).
pub(super) async fn open_items(db: &Db) -> Result<OpenItems> {
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT item_id, version, domain, content FROM item_versions WHERE kind = 'open'",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out = HashMap::new();
    for (id, version, domain, content) in rows {
        let body: ItemBody = serde_json::from_str(&content).map_err(|e| {
            StoreError::Sqlx(sqlx::Error::Decode(
                format!("item {id} version {version}: {e}").into(),
            ))
        })?;
        let max = match body {
            ItemBody::Open(o) => f64::from(o.max_score),
            ItemBody::Mcq(_) => 1.0,
        };
        out.insert((id, version), (domain, max));
    }
    Ok(out)
}

fn open_item<'a>(items: &'a OpenItems, item_id: &str, version: i64) -> Result<&'a (String, f64)> {
    items.get(&(item_id.to_string(), version)).ok_or_else(|| {
        StoreError::Sqlx(sqlx::Error::Protocol(format!(
            "{item_id} version {version} is not an open item in the bank"
        )))
    })
}

/// A scored attempt: its result against the pass mark, what the stored row keeps besides, and
/// for Part One its equated reading and which score decided.
#[derive(Debug, Clone)]
pub(super) struct Scored {
    pub result: PartResult,
    pub detail: Detail,
    pub equating: Option<Equating>,
}

/// What scoring one attempt needs besides the attempt: its blueprint and sitting, the keys
/// and the equating.
pub(super) struct Scoring<'a> {
    pub bp: &'a Blueprint,
    pub sitting_id: i64,
    pub keys: &'a BTreeMap<(String, u32), ItemKey>,
    pub equating: &'a EquatingRows,
}

/// Scores one attempt from rows already read, or says why it cannot be scored yet. Pure.
pub(super) fn score(
    a: &Attempt,
    how: &Scoring,
    given: Option<&BTreeMap<String, String>>,
    responses: &[ResponseRow],
    open_items: &OpenItems,
) -> Result<std::result::Result<Scored, Pending>> {
    let Scoring { bp, keys, .. } = *how;
    if a.voided_at.is_some() {
        return Ok(Err(Pending::Voided));
    }
    if a.submitted_at.is_none() {
        return Ok(Err(Pending::NotSubmitted));
    }
    if a.part == 1 {
        let empty = BTreeMap::new();
        let (tally, items) = score_part_one(&a.form.part_one, given.unwrap_or(&empty), |id, v| {
            keys.get(&(id.to_string(), v)).cloned()
        })
        .map_err(|e| StoreError::Sqlx(sqlx::Error::Protocol(e.to_string())))?;
        let detail = Detail {
            by_domain: tally.by_domain.clone(),
            ..Detail::default()
        };
        let equated = how.equating.score(how.sitting_id, bp, &tally, &items);
        let mut result = PartResult::new(1, tally, bp.part_one.pass_percent);
        result.passed = equated.passed;
        return Ok(Ok(Scored {
            result,
            detail,
            equating: Some(Equating::from(&equated)),
        }));
    }
    score_part_two(a, bp, responses, open_items)
}

/// Scores a submitted Part Two attempt from its responses: the sum of its questions' resolved
/// scores, with an empty slot for each vignette fewer than asked. Pure.
pub(super) fn score_part_two(
    a: &Attempt,
    bp: &Blueprint,
    responses: &[ResponseRow],
    open_items: &OpenItems,
) -> Result<std::result::Result<Scored, Pending>> {
    let unsettled = responses.iter().filter(|r| r.final_score.is_none()).count();
    if unsettled > 0 {
        return Ok(Err(Pending::Unsettled(
            u32::try_from(unsettled).unwrap_or(u32::MAX),
        )));
    }
    let mut tally = Tally::default();
    let mut detail = Detail::default();
    let mut chosen = BTreeSet::new();
    for r in responses {
        let (domain, max) = open_item(open_items, &r.item_id, r.item_version)?;
        let score = r.final_score.unwrap_or(0.0);
        tally.add(domain, score, *max);
        chosen.insert(r.vignette_id.clone());
        detail.responses.push(ResponseScore {
            response_id: r.id,
            vignette_id: r.vignette_id.clone(),
            item_id: r.item_id.clone(),
            domain: domain.clone(),
            score,
            max: *max,
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
                let (domain, max) = open_item(open_items, item, i64::from(*version))?;
                total += max;
                domains.push((domain.clone(), *max));
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
    Ok(Ok(Scored {
        result: PartResult::new(2, tally, bp.part_two.pass_percent),
        detail,
        equating: None,
    }))
}

/// A stored result's columns, read as `ResultRow` (the results table as `r`).
pub(super) const RESULT_COLUMNS: &str = "r.registration_id, r.part, r.points, r.max_points, r.passed, r.detail, r.theta, r.equated_percent, r.decided_by";

/// One row of `results`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ResultRow {
    pub registration_id: i64,
    pub part: i64,
    pub points: f64,
    pub max_points: f64,
    pub passed: i64,
    pub detail: String,
    pub theta: Option<f64>,
    pub equated_percent: Option<f64>,
    pub decided_by: Option<String>,
}

impl ResultRow {
    pub fn into_stored(self) -> Result<StoredResult> {
        let bad = |what: String| {
            StoreError::Sqlx(sqlx::Error::Decode(
                format!(
                    "the result of registration {}: {what}",
                    self.registration_id
                )
                .into(),
            ))
        };
        let part = u8::try_from(self.part)
            .ok()
            .filter(|p| (1..=2).contains(p))
            .ok_or_else(|| bad(format!("part {}", self.part)))?;
        let equating = match self.decided_by.as_deref() {
            Some(d) => Some(Equating {
                theta: self.theta,
                equated_percent: self.equated_percent,
                decided_by: d.parse::<PassOn>().map_err(bad)?,
            }),
            None => None,
        };
        Ok(StoredResult {
            registration_id: self.registration_id,
            part,
            points: self.points,
            max: self.max_points,
            passed: self.passed == 1,
            detail: serde_json::from_str(&self.detail).unwrap_or_default(),
            equating,
        })
    }
}

/// The results stored for a sitting's registrations, by (registration, part), in one query.
pub(super) async fn stored_results(
    db: &Db,
    sitting_id: i64,
) -> Result<HashMap<(i64, u8), StoredResult>> {
    let rows: Vec<ResultRow> = sqlx::query_as(&format!(
        "SELECT {RESULT_COLUMNS} FROM results r JOIN registrations g ON g.id = r.registration_id
         WHERE g.sitting_id = $1"
    ))
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let r = row.into_stored()?;
            Ok(((r.registration_id, r.part), r))
        })
        .collect()
}
