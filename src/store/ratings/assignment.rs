//! Who reads what: raters' declared conflicts, the blind readings (and a third) each open
//! response is given, and a rater's withdrawal with their unfinished readings handed on.

use std::collections::{BTreeMap, BTreeSet};

use crate::bank::RatingRules;
use crate::scoring::assign::{self, Need, RaterInfo};
use crate::scoring::rules::{resolve, resolve_near_cut, Resolution};
use crate::store::bank::blueprints;
use crate::store::{audit, now_ms, Db, Result};

use super::read_behind::READING_SCORE;
use super::{in_reading_order, raters};

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
    /// The candidate's attempt and the response's vignette: a vignette's questions are read
    /// together, by the same raters (`Bundle`).
    attempt_id: Option<i64>,
    vignette_id: String,
    organisation: Option<String>,
    conflicts: BTreeSet<i64>,
    excluded: BTreeSet<i64>,
    /// Readings (1..=3) held by an active assignment.
    held: BTreeSet<i64>,
    third_needed: bool,
}

/// What a vignette's questions read together share: (attempt, vignette, the readings they lack,
/// and for a response without a candidate its own id).
type BundleKey = (Option<i64>, String, Vec<i64>, i64);

/// (response, candidate's organisation, email, blueprint, near the cut since, attempt,
/// vignette).
type OpenRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    String,
);
/// (response, rater, reading, withdrawn at, final score).
type AssignedRow = (i64, i64, i64, Option<i64>, Option<i64>);

async fn open_responses(db: &Db, sitting_id: i64) -> Result<Vec<Open>> {
    let rows: Vec<OpenRow> = sqlx::query_as(
        "SELECT r.id, g.organisation, g.email, g.blueprint_id, r.near_cut_at, r.attempt_id, r.vignette_id
         FROM responses r
         LEFT JOIN attempts a ON a.id = r.attempt_id
         LEFT JOIN registrations g ON g.id = a.registration_id
         WHERE r.sitting_id = $1 AND r.settled_at IS NULL AND r.expert_score IS NULL
         ORDER BY r.id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let assigned: Vec<AssignedRow> = sqlx::query_as(&format!(
        "SELECT s.response_id, s.rater_id, s.reading, s.withdrawn_at, {READING_SCORE}
         FROM assignments s
         JOIN responses r ON r.id = s.response_id WHERE r.sitting_id = $1"
    ))
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let conflicts: Vec<(i64, String)> =
        sqlx::query_as("SELECT rater_id, email FROM rater_conflicts")
            .fetch_all(&db.pool)
            .await?;
    let bps = blueprints(db).await?;
    let mut rules: Vec<(RatingRules, bool)> = Vec::new();
    let mut out: Vec<Open> = Vec::new();
    for (id, organisation, email, blueprint, near_cut, attempt_id, vignette_id) in rows {
        let email = email.map(|e| e.to_lowercase());
        rules.push((
            bps.iter()
                .find(|b| Some(&b.id) == blueprint.as_ref())
                .map(|b| b.part_two.rating)
                .unwrap_or_default(),
            near_cut.is_some(),
        ));
        out.push(Open {
            id,
            attempt_id,
            vignette_id,
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
    // So does one given a closer look near the cut.
    for (o, (rules, near_cut)) in out.iter_mut().zip(&rules) {
        let readings = finals.get(&o.id).map(in_reading_order).unwrap_or_default();
        let outcome = if *near_cut {
            resolve_near_cut(rules, &readings)
        } else {
            resolve(rules, &readings)
        };
        o.third_needed = outcome == Resolution::NeedsThird;
    }
    Ok(out)
}

/// Gives every open response of a sitting the readings it lacks: two blind readings, and a
/// third where the first two are too far apart. `unavailable` raters get nothing new.
pub async fn assign_sitting(
    db: &Db,
    sitting_id: i64,
    unavailable: &BTreeSet<i64>,
    by: &str,
) -> Result<AssignReport> {
    // Raters who have not qualified for the sitting (where it has a qualifying set) get their
    // set, and no live work.
    super::qualify::ensure_assignments(db, sitting_id, by).await?;
    let unqualified = super::qualify::unqualified(db, sitting_id).await?;
    // Live readings such a rater held from before the set was chosen (which the gate hides
    // from them) are handed on; they get live work again once qualified.
    super::qualify::hand_on_live_work(db, sitting_id, &unqualified, by).await?;
    let raters: Vec<RaterInfo> = raters(db)
        .await?
        .into_iter()
        .filter(|r| !unavailable.contains(&r.id) && !unqualified.contains(&r.id))
        .collect();
    let open = open_responses(db, sitting_id).await?;
    let load = sitting_load(db, sitting_id).await?;
    // Which reading numbers each response lacks, in order; responses of one candidate's
    // vignette that lack the same readings go together, to the same raters, so a rater scores
    // every question of the vignette in one place.
    let mut lacking: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut bundles: BTreeMap<BundleKey, Vec<&Open>> = BTreeMap::new();
    for o in &open {
        let wanted: Vec<i64> = if o.third_needed {
            vec![1, 2, 3]
        } else {
            vec![1, 2]
        };
        let missing: Vec<i64> = wanted.into_iter().filter(|r| !o.held.contains(r)).collect();
        if missing.is_empty() {
            continue;
        }
        lacking.insert(o.id, missing.clone());
        // A response without a candidate is a bundle of its own.
        let alone = if o.attempt_id.is_none() { o.id } else { 0 };
        bundles
            .entry((o.attempt_id, o.vignette_id.clone(), missing, alone))
            .or_default()
            .push(o);
    }
    let mut members: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let needs: Vec<Need> = bundles
        .into_iter()
        .map(|((_, _, missing, _), group)| {
            let first = group[0];
            members.insert(first.id, group.iter().map(|o| o.id).collect());
            Need {
                response_id: first.id,
                organisation: first.organisation.clone(),
                conflicts: group.iter().flat_map(|o| o.conflicts.clone()).collect(),
                excluded: group.iter().flat_map(|o| o.excluded.clone()).collect(),
                readings: u32::try_from(missing.len()).unwrap_or(0),
                size: u32::try_from(group.len()).unwrap_or(1),
            }
        })
        .collect();
    let plan = assign::plan(&raters, &load, &needs);
    let planned: Vec<(i64, i64)> = plan
        .assignments
        .iter()
        .flat_map(|(first, rater)| {
            members
                .get(first)
                .cloned()
                .unwrap_or_else(|| vec![*first])
                .into_iter()
                .map(move |response| (response, *rater))
        })
        .collect();
    let short: usize = plan
        .short
        .iter()
        .map(|(first, _)| members.get(first).map_or(1, Vec::len))
        .sum();
    let now = now_ms();
    let mut tx = db.write().await?;
    for (response, rater) in &planned {
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
        assigned: planned.len(),
        short,
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

/// Each rater's active readings in a sitting: the load `assign::plan` balances.
pub(super) async fn sitting_load(db: &Db, sitting_id: i64) -> Result<BTreeMap<i64, u32>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT s.rater_id, COUNT(*) FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND s.withdrawn_at IS NULL GROUP BY s.rater_id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(r, n)| (r, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect())
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
    withdraw(
        db,
        &unfinished,
        by,
        &format!(
            "sitting {sitting_id}: rater {rater_id} withdrawn from {} unfinished readings",
            unfinished.len()
        ),
    )
    .await?;
    assign_sitting(db, sitting_id, &BTreeSet::from([rater_id]), by).await
}

/// Withdraws assignments (their drafts and any finished readings are kept), audited with
/// `detail`, in one transaction.
pub(super) async fn withdraw(db: &Db, assignments: &[i64], by: &str, detail: &str) -> Result<()> {
    let now = now_ms();
    let mut tx = db.write().await?;
    for id in assignments {
        sqlx::query("UPDATE assignments SET withdrawn_at = $1, withdrawn_by = $2 WHERE id = $3")
            .bind(now)
            .bind(by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    audit::record_tx(&mut tx, by, audit::Action::WithdrawRater, detail).await?;
    tx.commit().await
}
