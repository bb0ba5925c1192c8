//! The data behind the committee's statistics pages, read from a sitting and handed to the pure
//! `stats` module: rater readings in the order scored, and Part One answers by item.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::bank::ItemBody;
use crate::scoring::key::KeyRule;
use crate::stats::Rating;

use super::results::key_rules;
use super::{Db, Result, StoreError};

const DAY: i64 = 24 * 60 * 60 * 1000;

/// Every final reading of a sitting's responses, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct SittingRatings {
    pub ratings: Vec<Rating>,
    /// Rater id → username.
    pub raters: BTreeMap<i64, String>,
    /// The stats module's item number → item id.
    pub items: BTreeMap<i64, String>,
    /// The highest rubric score of the items read (the scale runs from 0).
    pub max_score: i64,
}

type RatingRow = (i64, i64, Option<i64>, String, i64, i64, Option<i64>, String);

pub async fn sitting_ratings(db: &Db, sitting_id: i64) -> Result<SittingRatings> {
    let rows: Vec<RatingRow> = sqlx::query_as(
        "SELECT s.response_id, s.rater_id, t.score, r.item_id, r.item_version, t.at, r.expert_score, u.username
         FROM ratings t JOIN assignments s ON s.id = t.assignment_id
         JOIN responses r ON r.id = s.response_id JOIN users u ON u.id = s.rater_id
         WHERE r.sitting_id = $1 AND t.final = 1 AND r.qualifying_set IS NULL
         ORDER BY t.at, t.id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut items: BTreeMap<String, i64> = BTreeMap::new();
    let mut raters = BTreeMap::new();
    let mut ratings = Vec::new();
    let mut max_score = 0;
    let mut versions: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for (response, rater, score, item, version, at, expert, username) in rows {
        let Some(score) = score else { continue };
        let next = items.len() as i64;
        let item_no = *items.entry(item.clone()).or_insert(next);
        raters.insert(rater, username);
        if let std::collections::btree_map::Entry::Vacant(slot) =
            versions.entry((item.clone(), version))
        {
            let body = super::bank::item_version(db, &item, u32::try_from(version).unwrap_or(0))
                .await?
                .map(|i| i.body);
            slot.insert(match body {
                Some(ItemBody::Open(o)) => i64::from(o.max_score),
                _ => 0,
            });
        }
        max_score = max_score.max(versions[&(item, version)]).max(score);
        ratings.push(Rating {
            response,
            rater,
            score,
            item: Some(item_no),
            day: Some(at.div_euclid(DAY)),
            expert,
        });
    }
    Ok(SittingRatings {
        ratings,
        raters,
        items: items.into_iter().map(|(id, n)| (n, id)).collect(),
        max_score,
    })
}

/// The submitted Part One attempts of a sitting as the statistics read them: the scored items
/// any form carried, each once, and every form as indexes into them with the option chosen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PartOneForms {
    /// Every scored item (id, version) on any form, in the order first met.
    pub items: Vec<(String, u32)>,
    pub forms: Vec<AnsweredForm>,
}

/// One submitted Part One attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredForm {
    pub registration_id: i64,
    /// Each scored item on the form, as its index in [`PartOneForms::items`], with the option
    /// chosen (0 for A), or `None` when the item was left unanswered.
    pub cells: Vec<(u32, Option<u8>)>,
}

/// A stored form as the statistics read it: only Part One's items, whether each is scored,
/// the ids borrowed from the row. Everything else in the form (option orders, Part Two) is
/// skipped, not built.
#[derive(serde::Deserialize)]
struct ScoredItems<'a> {
    #[serde(borrow)]
    part_one: Vec<ScoredEntry<'a>>,
}

#[derive(serde::Deserialize)]
struct ScoredEntry<'a> {
    #[serde(borrow)]
    item_id: Cow<'a, str>,
    version: u32,
    scored: bool,
}

/// Submitted answers by item, borrowed from the row where they need no unescaping.
#[derive(serde::Deserialize)]
struct Answers<'a>(#[serde(borrow)] FxHashMap<Cow<'a, str>, Cow<'a, str>>);

type FormRow = (i64, i64, String, Option<String>);

/// What a sitting's submitted Part One table was read at: the submitted attempts and the voided
/// ones among them, counted and summed by id. The table changes only when a Part One is
/// submitted or voided (forms and submitted answers never change), and either changes this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
struct Stamp {
    submitted: i64,
    submitted_ids: i64,
    voided: i64,
    voided_ids: i64,
}

/// Sittings' submitted Part One tables, each with the stamp it was read at, bounded by their
/// cells (8 bytes each: a sitting of 10,000 candidates takes about 5 MiB).
#[derive(Clone)]
pub struct PartOneCache(moka::sync::Cache<i64, (Stamp, Arc<PartOneForms>)>);

/// The most memory the cached tables may take.
pub const PART_ONE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for PartOneCache {
    fn default() -> Self {
        PartOneCache(
            moka::sync::Cache::builder()
                .max_capacity(PART_ONE_CACHE_BYTES)
                .weigher(|_, (_, t): &(Stamp, Arc<PartOneForms>)| {
                    let cells: usize = t.forms.iter().map(|f| f.cells.len()).sum();
                    u32::try_from(cells * 8 + t.forms.len() * 32).unwrap_or(u32::MAX)
                })
                .build(),
        )
    }
}

impl std::fmt::Debug for PartOneCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartOneCache({} sittings)", self.0.entry_count())
    }
}

/// The submitted, unvoided Part One attempts of a sitting, by registration. A small query (on
/// an index that covers it) says whether the table this process last read is still the
/// sitting's; if not, one query (two for attempts submitted before answers were kept on the
/// attempt) reads Part One rows only, decoded off the async runtime into one table of interned
/// items (a sitting of 10,000 candidates has 600,000 cells but only a few hundred items).
pub async fn part_one_forms(db: &Db, sitting_id: i64) -> Result<Arc<PartOneForms>> {
    let stamp: Stamp = sqlx::query_as(
        "SELECT COUNT(*) AS submitted, CAST(COALESCE(SUM(a.id), 0) AS BIGINT) AS submitted_ids,
                COUNT(a.voided_at) AS voided,
                CAST(COALESCE(SUM(CASE WHEN a.voided_at IS NULL THEN 0 ELSE a.id END), 0) AS BIGINT)
                    AS voided_ids
         FROM attempts a JOIN registrations g ON g.id = a.registration_id
         WHERE g.sitting_id = $1 AND a.part = 1 AND a.submitted_at IS NOT NULL",
    )
    .bind(sitting_id)
    .fetch_one(&db.pool)
    .await?;
    if let Some((at, table)) = db.part_one.0.get(&sitting_id) {
        if at == stamp {
            return Ok(table);
        }
    }
    let table = Arc::new(read_part_one(db, sitting_id).await?);
    db.part_one.0.insert(sitting_id, (stamp, table.clone()));
    Ok(table)
}

async fn read_part_one(db: &Db, sitting_id: i64) -> Result<PartOneForms> {
    let rows: Vec<FormRow> = sqlx::query_as(
        "SELECT a.id, a.registration_id, a.form, a.final_answers FROM attempts a
         JOIN registrations g ON g.id = a.registration_id
         WHERE g.sitting_id = $1 AND a.part = 1
           AND a.submitted_at IS NOT NULL AND a.voided_at IS NULL
         ORDER BY a.registration_id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut derived = if rows.iter().any(|r| r.3.is_none()) {
        super::attempts::answers_in_sitting(db, sitting_id, 1).await?
    } else {
        Default::default()
    };
    let logged: Vec<Option<BTreeMap<String, String>>> = rows
        .iter()
        .map(|r| match r.3 {
            Some(_) => None,
            None => Some(derived.remove(&r.0).unwrap_or_default()),
        })
        .collect();
    tokio::task::spawn_blocking(move || decode_forms(&rows, &logged))
        .await
        .map_err(|e| StoreError::Sqlx(sqlx::Error::Protocol(format!("reading forms: {e}"))))?
}

fn decode_forms(
    rows: &[FormRow],
    logged: &[Option<BTreeMap<String, String>>],
) -> Result<PartOneForms> {
    let decode = |id: i64, what: &str, e: serde_json::Error| {
        StoreError::Sqlx(sqlx::Error::Decode(
            format!("attempt {id}: its {what}: {e}").into(),
        ))
    };
    let mut out = PartOneForms::default();
    // Item id → (version, index) pairs: looked up by &str, so no cell allocates.
    let mut index: FxHashMap<String, Vec<(u32, u32)>> = FxHashMap::default();
    for ((id, registration_id, form, kept), logged) in rows.iter().zip(logged) {
        let form: ScoredItems = serde_json::from_str(form).map_err(|e| decode(*id, "form", e))?;
        let kept: Option<Answers> = kept
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| decode(*id, "submitted answers", e))?;
        let answer = |item: &str| -> Option<u8> {
            let a = match (&kept, logged) {
                (Some(k), _) => k.0.get(item).map(|a| a.as_ref()),
                (None, Some(l)) => l.get(item).map(String::as_str),
                (None, None) => None,
            }?;
            a.bytes()
                .next()
                .filter(u8::is_ascii_uppercase)
                .map(|c| c - b'A')
        };
        let mut cells = Vec::with_capacity(form.part_one.len());
        for e in form.part_one.iter().filter(|e| e.scored) {
            let known = index
                .get(e.item_id.as_ref())
                .and_then(|vs| vs.iter().find(|(v, _)| *v == e.version));
            let i = match known {
                Some(&(_, i)) => i,
                None => {
                    let i = u32::try_from(out.items.len()).unwrap_or(u32::MAX);
                    out.items.push((e.item_id.to_string(), e.version));
                    index
                        .entry(e.item_id.to_string())
                        .or_default()
                        .push((e.version, i));
                    i
                }
            };
            cells.push((i, answer(&e.item_id)));
        }
        out.forms.push(AnsweredForm {
            registration_id: *registration_id,
            cells,
        });
    }
    Ok(out)
}

/// What the statistics need of each multiple-choice item version: its domain, its number of
/// options and the accepted options as bits (A is bit 0), by the key as it applies now; a
/// dropped item is left out.
pub async fn item_keys(db: &Db) -> Result<BTreeMap<(String, u32), (String, u8, u32)>> {
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT item_id, version, content FROM item_versions WHERE kind = 'mcq'")
            .fetch_all(&db.pool)
            .await?;
    let mut options: BTreeMap<(String, u32), u8> = BTreeMap::new();
    for (id, version, content) in rows {
        if let Ok(ItemBody::Mcq(m)) = serde_json::from_str::<ItemBody>(&content) {
            options.insert(
                (id, u32::try_from(version).unwrap_or(0)),
                u8::try_from(m.options.len()).unwrap_or(0),
            );
        }
    }
    let mut out = BTreeMap::new();
    for (key, rule) in key_rules(db).await? {
        let KeyRule::Accept(letters) = &rule.rule else {
            continue;
        };
        let bits = letters
            .iter()
            .filter(|c| c.is_ascii_uppercase())
            .fold(0u32, |b, c| b | 1 << (*c as u8 - b'A'));
        if let Some(n) = options.get(&key) {
            out.insert(key, (rule.domain.clone(), *n, bits));
        }
    }
    Ok(out)
}

/// Saves a candidate's optional answers with their consent, or, without consent, deletes any
/// answers kept before.
pub async fn save_demographics(
    db: &Db,
    registration_id: i64,
    answers: Option<&BTreeMap<String, String>>,
) -> Result<()> {
    sqlx::query("DELETE FROM demographics WHERE registration_id = $1")
        .bind(registration_id)
        .execute(&db.writer)
        .await?;
    if let Some(a) = answers {
        sqlx::query(
            "INSERT INTO demographics (registration_id, consent_at, answers) VALUES ($1, $2, $3)",
        )
        .bind(registration_id)
        .bind(super::now_ms())
        .bind(serde_json::to_string(a).expect("a map serialises"))
        .execute(&db.writer)
        .await?;
    }
    Ok(())
}

/// A candidate's own answers, if they consented.
pub async fn demographics_of(
    db: &Db,
    registration_id: i64,
) -> Result<Option<BTreeMap<String, String>>> {
    let row: Option<String> =
        sqlx::query_scalar("SELECT answers FROM demographics WHERE registration_id = $1")
            .bind(registration_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|a| serde_json::from_str(&a).unwrap_or_default()))
}

/// Each consenting candidate's answer to `question`, by registration, for a sitting.
pub async fn answers_to(db: &Db, sitting_id: i64, question: &str) -> Result<BTreeMap<i64, String>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT d.registration_id, d.answers FROM demographics d
         JOIN registrations g ON g.id = d.registration_id WHERE g.sitting_id = $1",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(reg, answers)| {
            let map: BTreeMap<String, String> = serde_json::from_str(&answers).ok()?;
            Some((reg, map.get(question)?.clone()))
        })
        .collect())
}

/// (registration, vignette, item, item version, reading, rater, score).
type PartTwoRow = (i64, String, String, i64, i64, i64, Option<i64>);

/// Every final reading of a sitting's live Part Two responses (neither validity nor
/// qualifying), with the candidate, vignette, question, reading number and rater, and the
/// highest rubric score of the questions read: what `stats::part_two` measures.
pub async fn part_two_readings(
    db: &Db,
    sitting_id: i64,
) -> Result<(Vec<crate::stats::part_two::Reading>, u32)> {
    let rows: Vec<PartTwoRow> = sqlx::query_as(
        "SELECT a.registration_id, r.vignette_id, r.item_id, r.item_version, s.reading, s.rater_id, t.score
         FROM ratings t JOIN assignments s ON s.id = t.assignment_id
         JOIN responses r ON r.id = s.response_id JOIN attempts a ON a.id = r.attempt_id
         WHERE r.sitting_id = $1 AND t.final = 1 AND s.withdrawn_at IS NULL
           AND r.expert_score IS NULL AND s.appeal_id IS NULL
         ORDER BY t.id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut max_score = 0;
    let mut seen: BTreeMap<(String, i64), u32> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (candidate, vignette, question, version, reading, rater, score) in rows {
        let Some(score) = score.and_then(|s| u32::try_from(s).ok()) else {
            continue;
        };
        let key = (question.clone(), version);
        if !seen.contains_key(&key) {
            let body =
                super::bank::item_version(db, &question, u32::try_from(version).unwrap_or(0))
                    .await?
                    .map(|i| i.body);
            seen.insert(
                key.clone(),
                match body {
                    Some(ItemBody::Open(o)) => o.max_score,
                    _ => 0,
                },
            );
        }
        max_score = max_score.max(seen[&key]).max(score);
        out.push(crate::stats::part_two::Reading {
            candidate,
            vignette,
            question,
            reading: u8::try_from(reading).unwrap_or(3),
            rater,
            score,
        });
    }
    Ok((out, max_score))
}

/// Each settled live Part Two response of a sitting: (registration, question, resolved score,
/// the question's most points), for Part Two's DIF.
pub async fn part_two_scores(db: &Db, sitting_id: i64) -> Result<Vec<(i64, String, f64, u32)>> {
    let rows: Vec<(i64, String, i64, Option<f64>)> = sqlx::query_as(
        "SELECT a.registration_id, r.item_id, r.item_version, r.final_score
         FROM responses r JOIN attempts a ON a.id = r.attempt_id
         WHERE r.sitting_id = $1 AND r.expert_score IS NULL AND r.settled_at IS NOT NULL
         ORDER BY r.id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut max: BTreeMap<(String, i64), u32> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (reg, item, version, score) in rows {
        let Some(score) = score else { continue };
        let key = (item.clone(), version);
        if !max.contains_key(&key) {
            let body = super::bank::item_version(db, &item, u32::try_from(version).unwrap_or(0))
                .await?
                .map(|i| i.body);
            max.insert(
                key.clone(),
                match body {
                    Some(ItemBody::Open(o)) => o.max_score,
                    _ => 0,
                },
            );
        }
        out.push((reg, item, score, max[&key]));
    }
    Ok(out)
}
