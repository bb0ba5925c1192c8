//! What the committee reads to decide an appeal: Part One's answers beside the current keys
//! with the recount; Part Two's earlier readings beside the blind re-readings, with the
//! blueprint's rule applied.

use crate::bank::{PartTwoRule, PassMark};
use crate::scoring::appeal::{part_two, Outcome, ResponseReadings};
use crate::scoring::key::KeyRule;
use crate::store::attempts::{answers, attempts_of, Attempt};
use crate::store::bank::blueprints;
use crate::store::ratings::appeal::{appealed_responses, AppealedResponse};
use crate::store::results::{key_rules, one::score_now, result};
use crate::store::sittings::registration;
use crate::store::{Db, Result};

use super::{Appeal, State};

/// A Part One question: the candidate's answer (the bank's letter, "" if none) and the key as
/// it stands; `correct` is None for an item dropped from scoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartOneLine {
    pub item_id: String,
    pub version: u32,
    pub answer: String,
    pub key: String,
    pub correct: Option<bool>,
}

/// A Part Two response under appeal, its most points, and its score by the rule once every
/// re-reading is in.
#[derive(Debug, Clone, PartialEq)]
pub struct PartTwoLine {
    pub response: AppealedResponse,
    pub max: f64,
    pub new_score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Review {
    PartOne {
        lines: Vec<PartOneLine>,
        /// The recount now: (points, passed), of `max`.
        recount: Option<(f64, bool)>,
        max: f64,
    },
    PartTwo {
        lines: Vec<PartTwoLine>,
        rule: PartTwoRule,
        pass: PassMark,
        max: f64,
        /// While under re-score, once every re-reading is in: the rule's outcome.
        outcome: Option<Outcome>,
    },
}

async fn appealed_attempt(db: &Db, appeal: &Appeal) -> Result<Option<Attempt>> {
    Ok(attempts_of(db, appeal.registration_id)
        .await?
        .into_iter()
        .find(|a| a.part == appeal.part && a.submitted_at.is_some() && a.voided_at.is_none()))
}

/// The review of `appeal`, or None when its attempt or result is gone.
pub async fn review(db: &Db, appeal: &Appeal) -> Result<Option<Review>> {
    let Some(attempt) = appealed_attempt(db, appeal).await? else {
        return Ok(None);
    };
    let Some(stored) = result(db, appeal.registration_id, appeal.part).await? else {
        return Ok(None);
    };
    if appeal.part == 1 {
        let given = answers(db, attempt.id).await?;
        let keys = key_rules(db).await?;
        let lines = attempt
            .form
            .part_one
            .iter()
            .filter(|e| e.scored)
            .map(|e| {
                let rule = keys.get(&(e.item_id.clone(), e.version)).map(|k| &k.rule);
                let answer = given.get(&e.item_id).cloned().unwrap_or_default();
                let correct = match rule {
                    Some(KeyRule::Accept(keys)) => Some(
                        answer.chars().count() == 1
                            && answer.chars().next().is_some_and(|c| keys.contains(&c)),
                    ),
                    _ => None,
                };
                PartOneLine {
                    item_id: e.item_id.clone(),
                    version: e.version,
                    answer,
                    key: rule.map_or_else(|| "unknown".into(), KeyRule::describe),
                    correct,
                }
            })
            .collect();
        let recount = score_now(db, appeal.registration_id, 1)
            .await?
            .map(|r| (r.points, r.passed));
        return Ok(Some(Review::PartOne {
            lines,
            recount,
            max: stored.max,
        }));
    }
    let bp = match registration(db, appeal.registration_id).await? {
        Some(reg) => blueprints(db)
            .await?
            .into_iter()
            .find(|b| b.id == reg.blueprint_id),
        None => None,
    };
    let rule = appeal
        .part_two_rule
        .or(bp.as_ref().map(|b| b.appeals.part_two_rule))
        .unwrap_or_default();
    let pass = bp.map_or(PassMark::whole(80), |b| b.part_two.pass_percent);
    let responses = appealed_responses(db, attempt.id, appeal.id).await?;
    let inputs: Vec<ResponseReadings> = responses
        .iter()
        .map(|r| ResponseReadings {
            score: r.score,
            readings: r.readings.clone(),
            // A re-reading not yet final holds the decision back.
            rereadings: r
                .rereadings
                .iter()
                .map(|(_, s)| *s)
                .collect::<Option<Vec<u32>>>()
                .unwrap_or_default(),
        })
        .collect();
    let decided = (appeal.state == State::Rescoring)
        .then(|| part_two(rule, &inputs, stored.max, pass, appeal.before))
        .flatten();
    let max_of = |id: i64| {
        stored
            .detail
            .responses
            .iter()
            .find(|s| s.response_id == id)
            .map_or(0.0, |s| s.max)
    };
    let lines = responses
        .into_iter()
        .enumerate()
        .map(|(i, r)| PartTwoLine {
            max: max_of(r.response_id),
            new_score: decided.as_ref().map(|(scores, _)| scores[i]),
            response: r,
        })
        .collect();
    Ok(Some(Review::PartTwo {
        lines,
        rule,
        pass,
        max: stored.max,
        outcome: decided.map(|(_, o)| o),
    }))
}
