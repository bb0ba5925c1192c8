//! Part One's equated results in the store: what equating a result needs (the bank's newest
//! calibration, each blueprint's calibrated operational pool, the committee's decision on
//! which score decides), and the committee's change of that decision for a sitting, audited
//! like a key change, which re-decides the stored results.
//!
//! The arithmetic is `scoring::equating`: raw score → ability through the candidate's own
//! form's test characteristic curve → expected percent on the blueprint's whole operational
//! pool. `docs/statistics.md`, "Fair forms and equating".

use std::collections::{BTreeMap, HashMap};

use crate::bank::{Blueprint, PassOn};
use crate::scoring::equating::{decide, score_part_one, PartOneScore};
use crate::scoring::key::{ItemKey, ItemScore, KeyRule, Tally};

use super::super::bank::{blueprints, pool};
use super::super::forms::{pool_difficulties, ByVersion};
use super::super::sittings::registrations;
use super::super::{audit, calibration, now_ms, Db, Result, StoreError};
use super::load::stored_results;
use super::StoredResult;

/// Part One's equated reading and which score decided, as stored with a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Equating {
    /// The candidate's ability on the bank's scale (logits); None where uncalibrated.
    pub theta: Option<f64>,
    /// The expected percent correct on the blueprint's whole operational pool; None where
    /// uncalibrated.
    pub equated_percent: Option<f64>,
    /// Which percent the pass mark applied to.
    pub decided_by: PassOn,
}

impl From<&PartOneScore> for Equating {
    fn from(s: &PartOneScore) -> Self {
        Equating {
            theta: s.theta,
            equated_percent: s.equated_percent,
            decided_by: s.decided_by,
        }
    }
}

/// What equating Part One results needs, read once for a computation.
pub(super) struct EquatingRows {
    by_version: ByVersion,
    /// Each blueprint's operational pool's difficulties (items the committee dropped left out),
    /// where every one of them is calibrated.
    pools: HashMap<String, Vec<f64>>,
    /// The committee's newest decision per sitting.
    decisions: HashMap<i64, PassOn>,
}

impl EquatingRows {
    pub async fn load(
        db: &Db,
        bps: &[Blueprint],
        keys: &BTreeMap<(String, u32), ItemKey>,
    ) -> Result<Self> {
        let by_version = calibration::latest_difficulties(db).await?;
        let pool = pool(db).await?;
        let difficulties = pool_difficulties(&pool, &by_version);
        let mut pools = HashMap::new();
        for bp in bps {
            let counted: Option<Vec<f64>> = pool
                .operational(bp)
                .into_iter()
                .filter(|i| {
                    keys.get(&(i.id.clone(), i.version))
                        .is_none_or(|k| k.rule != KeyRule::Dropped)
                })
                .map(|i| difficulties.get(&i.id))
                .collect();
            if let Some(bs) = counted.filter(|bs| !bs.is_empty()) {
                pools.insert(bp.id.clone(), bs);
            }
        }
        Ok(EquatingRows {
            by_version,
            pools,
            decisions: decisions(db).await?,
        })
    }

    /// The score the pass mark applies to in `sitting_id` for `bp`: the committee's decision,
    /// else the blueprint's.
    pub fn pass_on(&self, sitting_id: i64, bp: &Blueprint) -> PassOn {
        self.decisions
            .get(&sitting_id)
            .copied()
            .unwrap_or(bp.part_one.pass_on)
    }

    /// Scores a Part One tally of `items` (the items that counted) with both readings.
    pub fn score(
        &self,
        sitting_id: i64,
        bp: &Blueprint,
        tally: &Tally,
        items: &[ItemScore],
    ) -> PartOneScore {
        let form: Option<Vec<f64>> = items
            .iter()
            .map(|i| {
                self.by_version
                    .get(&(i.item_id.clone(), i.version))
                    .copied()
            })
            .collect();
        let pool = self.pools.get(&bp.id);
        let calibration = form
            .as_deref()
            .zip(pool.map(Vec::as_slice))
            .filter(|(f, _)| !f.is_empty());
        // Part One points are whole: one per item that counted.
        let whole = |x: f64| x.round().max(0.0) as u32;
        score_part_one(
            whole(tally.points),
            whole(tally.max),
            calibration,
            bp.part_one.pass_percent,
            self.pass_on(sitting_id, bp),
        )
    }
}

/// The newest committee decision of every sitting that has one.
async fn decisions(db: &Db) -> Result<HashMap<i64, PassOn>> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT sitting_id, pass_on FROM pass_on_changes ORDER BY id")
            .fetch_all(&db.pool)
            .await?;
    let mut out = HashMap::new();
    for (sitting, pass_on) in rows {
        out.insert(sitting, parse_pass_on(&pass_on)?);
    }
    Ok(out)
}

fn parse_pass_on(s: &str) -> Result<PassOn> {
    s.parse()
        .map_err(|e: String| StoreError::Sqlx(sqlx::Error::Decode(e.into())))
}

/// The score the pass mark applies to in a sitting, and whether the committee decided it
/// (else it is the blueprint's `pass_on`, which may differ by blueprint: None then).
pub async fn sitting_pass_on(db: &Db, sitting_id: i64) -> Result<Option<PassOn>> {
    Ok(decisions(db).await?.get(&sitting_id).copied())
}

/// One committee decision on a sitting's pass mark, for the list beside the key changes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PassOnChange {
    pub sitting_id: i64,
    pub sitting_name: String,
    pub pass_on: String,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: i64,
}

/// Every decision so far, newest first.
pub async fn pass_on_changes(db: &Db) -> Result<Vec<PassOnChange>> {
    Ok(sqlx::query_as(
        "SELECT c.sitting_id, s.name AS sitting_name, c.pass_on, c.reason, c.changed_by, c.changed_at
         FROM pass_on_changes c JOIN sittings s ON s.id = c.sitting_id ORDER BY c.id DESC",
    )
    .fetch_all(&db.pool)
    .await?)
}

/// A stored Part One result before and after the committee's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Redecided {
    pub registration_id: i64,
    pub before: (PassOn, bool),
    pub after: (PassOn, bool),
}

/// The committee decides which Part One score a sitting's pass mark applies to: the decision
/// is recorded with its reason, every stored Part One result of the sitting is re-decided from
/// its stored raw and equated figures (which stay as they are), and the audit log keeps each
/// candidate whose decision changed, before and after, all in one transaction.
pub async fn change_pass_on(
    db: &Db,
    sitting_id: i64,
    pass_on: PassOn,
    reason: &str,
    by: &str,
) -> Result<Vec<Redecided>> {
    let bps = blueprints(db).await?;
    let pass_percent: HashMap<i64, crate::bank::PassMark> = registrations(db, sitting_id)
        .await?
        .into_iter()
        .filter_map(|r| {
            let bp = bps.iter().find(|b| b.id == r.blueprint_id)?;
            Some((r.id, bp.part_one.pass_percent))
        })
        .collect();
    let mut stored: Vec<StoredResult> = stored_results(db, sitting_id)
        .await?
        .into_values()
        .filter(|r| r.part == 1)
        .collect();
    stored.sort_by_key(|r| r.registration_id);
    let mut out = Vec::new();
    for r in stored {
        let Some(&percent) = pass_percent.get(&r.registration_id) else {
            continue;
        };
        // A result stored before equating existed was decided on raw.
        let (equated, before_by) = r
            .equating
            .as_ref()
            .map_or((None, PassOn::Raw), |e| (e.equated_percent, e.decided_by));
        let whole = |x: f64| x.round().max(0.0) as u32;
        let after = decide(whole(r.points), whole(r.max), equated, percent, pass_on);
        out.push(Redecided {
            registration_id: r.registration_id,
            before: (before_by, r.passed),
            after,
        });
    }
    let changed: Vec<String> = out
        .iter()
        .filter(|r| r.before.1 != r.after.1)
        .map(|r| {
            let word = |p: bool| if p { "pass" } else { "fail" };
            format!(
                "registration {}: {} ({}) -> {} ({})",
                r.registration_id,
                word(r.before.1),
                r.before.0,
                word(r.after.1),
                r.after.0
            )
        })
        .collect();
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO pass_on_changes (sitting_id, pass_on, reason, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(sitting_id)
    .bind(pass_on.code())
    .bind(reason.trim())
    .bind(by)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    for r in out.iter().filter(|r| r.before != r.after) {
        sqlx::query(
            "UPDATE results SET passed = $1, decided_by = $2 WHERE registration_id = $3 AND part = 1",
        )
        .bind(i64::from(r.after.1))
        .bind(r.after.0.code())
        .bind(r.registration_id)
        .execute(&mut *tx)
        .await?;
    }
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::PassOnChange,
        &format!(
            "sitting {sitting_id}: Part One's pass mark applies to {pass_on} scores; reason: {}; {} re-decided, {} changed between pass and fail{}{}",
            reason.trim(),
            out.len(),
            changed.len(),
            if changed.is_empty() { "" } else { ": " },
            changed.join("; ")
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}
