//! One candidate's part scored afresh, and stored on its own: what an appeal's recount and its
//! decision need, by the same scoring a sitting's computation uses, without touching anyone
//! else's result.

use std::collections::BTreeMap;

use crate::bank::Blueprint;

use super::super::attempts::{attempts_of, Attempt};
use super::super::bank::blueprints;
use super::super::sittings::{registration, Registration};
use super::super::{Db, Result, WriteTx};
use super::equating::EquatingRows;
use super::load::{open_items, responses_of, score_part_two, Scoring};
use super::sitting::{as_stored, score_attempt, store_one};
use super::{key_rules, StoredResult};

/// A registration's submitted, unvoided attempt at `part`, with its blueprint (all the
/// blueprints, as equating wants them).
async fn sat(
    db: &Db,
    registration_id: i64,
    part: u8,
) -> Result<Option<(Registration, Attempt, Vec<Blueprint>)>> {
    let Some(reg) = registration(db, registration_id).await? else {
        return Ok(None);
    };
    let Some(a) = attempts_of(db, reg.id)
        .await?
        .into_iter()
        .find(|a| a.part == part && a.submitted_at.is_some() && a.voided_at.is_none())
    else {
        return Ok(None);
    };
    let bps = blueprints(db).await?;
    if !bps.iter().any(|b| b.id == reg.blueprint_id) {
        return Ok(None);
    }
    Ok(Some((reg, a, bps)))
}

/// The result `registration_id`'s `part` would have if scored now (Part One against the keys as
/// the committee's decisions leave them, Part Two from its responses' settled scores), or None
/// when the part has no submitted, unvoided attempt or is not scorable yet.
pub async fn score_now(db: &Db, registration_id: i64, part: u8) -> Result<Option<StoredResult>> {
    let Some((reg, a, bps)) = sat(db, registration_id, part).await? else {
        return Ok(None);
    };
    let bp = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .expect("sat found it");
    let keys = key_rules(db).await?;
    let equating = EquatingRows::load(db, &bps, &keys).await?;
    let how = Scoring {
        bp,
        sitting_id: reg.sitting_id,
        keys: &keys,
        equating: &equating,
    };
    Ok(score_attempt(db, &a, &how)
        .await?
        .ok()
        .map(|s| as_stored(reg.id, s)))
}

/// Part Two of `registration_id` scored with the responses in `scores` at their new scores (an
/// appeal's decision, before it is written), or None as `score_now`.
pub async fn part_two_with(
    db: &Db,
    registration_id: i64,
    scores: &BTreeMap<i64, f64>,
) -> Result<Option<StoredResult>> {
    let Some((reg, a, bps)) = sat(db, registration_id, 2).await? else {
        return Ok(None);
    };
    let bp = bps
        .iter()
        .find(|b| b.id == reg.blueprint_id)
        .expect("sat found it");
    let mut rows = responses_of(db, a.id).await?;
    for r in &mut rows {
        if let Some(s) = scores.get(&r.id) {
            r.final_score = Some(*s);
        }
    }
    let open = open_items(db).await?;
    Ok(score_part_two(&a, bp, &rows, &open)?
        .ok()
        .map(|s| as_stored(reg.id, s)))
}

/// Stores one result in the caller's transaction (the appeal's decision, audited there).
pub async fn store_tx(tx: &mut WriteTx, r: &StoredResult) -> Result<()> {
    store_one(tx, r).await
}
