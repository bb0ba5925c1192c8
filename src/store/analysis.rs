//! The data behind the committee's statistics pages, read from a sitting and handed to the pure
//! `stats` module: rater readings in the order scored, and Part One answers by item.

use std::collections::BTreeMap;

use crate::bank::ItemBody;
use crate::scoring::key::KeyRule;
use crate::stats::Rating;

use super::results::key_rules;
use super::{Db, Result};

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
         WHERE r.sitting_id = $1 AND t.final = 1
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

/// One submitted Part One attempt: its scored items (id, version, domain) and answers.
#[derive(Debug, Clone, PartialEq)]
pub struct AnsweredForm {
    pub registration_id: i64,
    pub items: Vec<(String, u32)>,
    pub answers: BTreeMap<String, String>,
}

/// The submitted, unvoided Part One attempts of a sitting, with their scored items, by
/// registration: two queries whatever the sitting's size.
pub async fn part_one_forms(db: &Db, sitting_id: i64) -> Result<Vec<AnsweredForm>> {
    let attempts = super::attempts::attempts_in_sitting(db, sitting_id).await?;
    let mut answers = super::attempts::submitted_answers_in_sitting(db, sitting_id, 1).await?;
    let mut out: Vec<AnsweredForm> = attempts
        .into_values()
        .flatten()
        .filter(|a| a.part == 1 && a.submitted_at.is_some() && a.voided_at.is_none())
        .map(|a| AnsweredForm {
            registration_id: a.registration_id,
            items: a
                .form
                .part_one
                .iter()
                .filter(|e| e.scored)
                .map(|e| (e.item_id.clone(), e.version))
                .collect(),
            answers: answers.remove(&a.id).unwrap_or_default(),
        })
        .collect();
    out.sort_by_key(|f| f.registration_id);
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
