//! The committee adopts a pass mark (issue 14): a standard-setting study's cut becomes a
//! blueprint part's pass mark, audited with its reason like a key change (`change_key`,
//! `change_pass_on` are the models).
//!
//! - The newest adoption per blueprint part applies wherever blueprints are read
//!   (`store::bank::blueprints` calls `apply_adopted`), so every scoring path sees it.
//! - In the adoption's own transaction, the stored results of that part in the blueprint's
//!   sittings not yet released are re-decided on the new mark from their stored figures (raw
//!   points, and for Part One the equated percent and which of the two decided, which stay as
//!   they are). Results not stored yet are computed on the new mark when the committee computes.
//! - A released sitting's results stay as released until the committee decides for that sitting
//!   (`decide_released`): first it sees who would change (`preview`), then re-decides them with a
//!   reason, or leaves them as released. Both are audited and recorded per sitting.
//!
//! Decided here: a released sitting that is left as released keeps its stored results; the new
//! mark still applies to anything computed later for it (a key change rescoring a few results
//! reads the blueprint as it is now), as it does for every other change of a blueprint.

use std::collections::{BTreeMap, HashMap};

use crate::bank::{Blueprint, PassMark, PassOn};
use crate::scoring::equating::decide;

use super::super::bank::blueprints;
use super::super::{audit, now_ms, Db, Result, StoreError, WriteTx};

/// What the committee asks to adopt.
#[derive(Debug, Clone, PartialEq)]
pub struct Adoption {
    pub blueprint_id: String,
    /// 1 or 2.
    pub part: u8,
    pub mark: PassMark,
    pub reason: String,
    /// The study whose cut this is, if any.
    pub study_id: Option<i64>,
}

/// Why an adoption or a sitting's decision was refused, naming the form field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("reason: give the reason for this decision; it is kept in the audit log")]
    NoReason,
    #[error("blueprint: no blueprint \"{0}\" in the bank")]
    NoBlueprint(String),
    #[error("part: a blueprint has Part 1 and Part 2, not {0}")]
    NoPart(u8),
    #[error("change: no adopted pass mark {0}")]
    NoChange(i64),
    #[error("sitting: sitting {0} has no released results of this blueprint part to decide on")]
    NotReleased(i64),
    #[error("sitting: sitting {0} was already decided for this pass mark")]
    AlreadyDecided(i64),
    #[error(
        "change: a newer pass mark was adopted for this blueprint part since; decide on that one"
    )]
    Superseded,
}

/// One stored result re-decided on a pass mark.
#[derive(Debug, Clone, PartialEq)]
pub struct Redecision {
    pub registration_id: i64,
    pub sitting_id: i64,
    pub points: f64,
    pub max: f64,
    pub before: bool,
    pub after: bool,
    /// Part One: which score decided (unchanged by a new mark); None for Part Two.
    pub decided_by: Option<PassOn>,
}

impl Redecision {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// What an adoption did.
#[derive(Debug, Clone, PartialEq)]
pub struct Adopted {
    pub change_id: i64,
    pub previous: PassMark,
    pub mark: PassMark,
    /// Every stored result of the part in the unreleased sittings, re-decided.
    pub redecided: Vec<Redecision>,
    /// The blueprint's sittings whose results are released: they wait for the committee.
    pub released_sittings: Vec<i64>,
}

/// An adopted pass mark as recorded.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PassMarkChange {
    pub id: i64,
    pub blueprint_id: String,
    pub part: i64,
    pub hundredths: i64,
    pub previous_hundredths: i64,
    pub reason: String,
    pub study_id: Option<i64>,
    pub changed_by: String,
    pub changed_at: i64,
}

impl PassMarkChange {
    pub fn mark(&self) -> Result<PassMark> {
        hundredths(self.hundredths)
    }

    pub fn previous(&self) -> Result<PassMark> {
        hundredths(self.previous_hundredths)
    }

    pub fn part(&self) -> u8 {
        u8::try_from(self.part).unwrap_or(0)
    }
}

fn hundredths(h: i64) -> Result<PassMark> {
    u32::try_from(h)
        .ok()
        .and_then(PassMark::from_hundredths)
        .ok_or_else(|| {
            StoreError::Sqlx(sqlx::Error::Decode(
                format!("a pass mark of {h} hundredths of a percent").into(),
            ))
        })
}

const CHANGE_COLUMNS: &str = "id, blueprint_id, part, hundredths, previous_hundredths, reason, \
     study_id, changed_by, changed_at";

/// Every adoption, newest first.
pub async fn changes(db: &Db) -> Result<Vec<PassMarkChange>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CHANGE_COLUMNS} FROM pass_mark_changes ORDER BY id DESC"
    ))
    .fetch_all(&db.pool)
    .await?)
}

pub async fn change(db: &Db, id: i64) -> Result<Option<PassMarkChange>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {CHANGE_COLUMNS} FROM pass_mark_changes WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?)
}

/// Sets each blueprint part's pass mark to the newest adopted one, where there is one. Called
/// by `store::bank::blueprints`, so every reader of blueprints sees the adopted marks.
pub async fn apply_adopted(db: &Db, bps: &mut [Blueprint]) -> Result<()> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT blueprint_id, part, hundredths FROM pass_mark_changes ORDER BY id")
            .fetch_all(&db.pool)
            .await?;
    let mut newest: HashMap<(String, i64), i64> = HashMap::new();
    for (bp, part, h) in rows {
        newest.insert((bp, part), h);
    }
    for bp in bps {
        if let Some(&h) = newest.get(&(bp.id.clone(), 1)) {
            bp.part_one.pass_percent = hundredths(h)?;
        }
        if let Some(&h) = newest.get(&(bp.id.clone(), 2)) {
            bp.part_two.pass_percent = hundredths(h)?;
        }
    }
    Ok(())
}

/// A blueprint part's pass mark as it applies now.
pub fn mark_of(bp: &Blueprint, part: u8) -> PassMark {
    if part == 1 {
        bp.part_one.pass_percent
    } else {
        bp.part_two.pass_percent
    }
}

/// A stored result of a blueprint part, with its sitting's release.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ResultRow {
    registration_id: i64,
    sitting_id: i64,
    released_at: Option<i64>,
    points: f64,
    max_points: f64,
    passed: i64,
    equated_percent: Option<f64>,
    decided_by: Option<String>,
}

async fn results_of(db: &Db, blueprint_id: &str, part: u8) -> Result<Vec<ResultRow>> {
    Ok(sqlx::query_as(
        "SELECT r.registration_id, g.sitting_id, s.results_released_at AS released_at, r.points,
                r.max_points, r.passed, r.equated_percent, r.decided_by
         FROM results r JOIN registrations g ON g.id = r.registration_id
         JOIN sittings s ON s.id = g.sitting_id
         WHERE g.blueprint_id = $1 AND r.part = $2
         ORDER BY g.sitting_id, r.registration_id",
    )
    .bind(blueprint_id)
    .bind(i64::from(part))
    .fetch_all(&db.pool)
    .await?)
}

/// A stored result decided on `mark`: Part One by the score that decided it (raw in integers,
/// or the equated percent), Part Two by its points in sixths (`PartResult`).
fn redecide(r: &ResultRow, part: u8, mark: PassMark) -> Result<Redecision> {
    let decided_by = if part == 1 {
        Some(match r.decided_by.as_deref() {
            // A result stored before equating existed was decided on raw.
            None => PassOn::Raw,
            Some(s) => s
                .parse()
                .map_err(|e: String| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?,
        })
    } else {
        None
    };
    let after = match decided_by {
        Some(by) => {
            let whole = |x: f64| x.round().max(0.0) as u32;
            decide(
                whole(r.points),
                whole(r.max_points),
                r.equated_percent,
                mark,
                by,
            )
            .1
        }
        None => mark.reached(r.points, r.max_points),
    };
    Ok(Redecision {
        registration_id: r.registration_id,
        sitting_id: r.sitting_id,
        points: r.points,
        max: r.max_points,
        before: r.passed == 1,
        after,
        decided_by,
    })
}

async fn write_decisions(tx: &mut WriteTx, part: u8, rows: &[Redecision]) -> Result<()> {
    for r in rows.iter().filter(|r| r.changed()) {
        sqlx::query("UPDATE results SET passed = $1 WHERE registration_id = $2 AND part = $3")
            .bind(i64::from(r.after))
            .bind(r.registration_id)
            .bind(i64::from(part))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn changed_words(rows: &[Redecision]) -> String {
    let word = |p: bool| if p { "pass" } else { "fail" };
    let lines: Vec<String> = rows
        .iter()
        .filter(|r| r.changed())
        .map(|r| {
            format!(
                "registration {}: {} -> {}",
                r.registration_id,
                word(r.before),
                word(r.after)
            )
        })
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!(": {}", lines.join("; "))
    }
}

fn part_name(part: u8) -> &'static str {
    if part == 1 {
        "Part One"
    } else {
        "Part Two"
    }
}

/// Adopts a pass mark: records it with its reason, re-decides the stored results of that part in
/// the blueprint's unreleased sittings, and writes the audit record, all in one transaction.
/// Refused (nothing written) without a reason, or for a blueprint or part that does not exist.
pub async fn adopt(
    db: &Db,
    a: &Adoption,
    by: &str,
) -> Result<std::result::Result<Adopted, Refused>> {
    let reason = a.reason.trim();
    if reason.is_empty() {
        return Ok(Err(Refused::NoReason));
    }
    if !(1..=2).contains(&a.part) {
        return Ok(Err(Refused::NoPart(a.part)));
    }
    let Some(bp) = blueprints(db)
        .await?
        .into_iter()
        .find(|b| b.id == a.blueprint_id)
    else {
        return Ok(Err(Refused::NoBlueprint(a.blueprint_id.clone())));
    };
    let previous = mark_of(&bp, a.part);
    let rows = results_of(db, &a.blueprint_id, a.part).await?;
    let mut redecided = Vec::new();
    let mut released = Vec::new();
    for r in &rows {
        if r.released_at.is_some() {
            if released.last() != Some(&r.sitting_id) {
                released.push(r.sitting_id);
            }
        } else {
            redecided.push(redecide(r, a.part, a.mark)?);
        }
    }
    // Every unreleased sitting with candidates of this blueprint, results stored or not.
    let unreleased: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT g.sitting_id FROM registrations g JOIN sittings s ON s.id = g.sitting_id
         WHERE g.blueprint_id = $1 AND s.results_released_at IS NULL ORDER BY g.sitting_id",
    )
    .bind(&a.blueprint_id)
    .fetch_all(&db.pool)
    .await?;
    let now = now_ms();
    let mut tx = db.write().await?;
    let change_id: i64 = sqlx::query_scalar(
        "INSERT INTO pass_mark_changes (blueprint_id, part, hundredths, previous_hundredths,
             reason, study_id, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&a.blueprint_id)
    .bind(i64::from(a.part))
    .bind(i64::from(a.mark.hundredths()))
    .bind(i64::from(previous.hundredths()))
    .bind(reason)
    .bind(a.study_id)
    .bind(by)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    write_decisions(&mut tx, a.part, &redecided).await?;
    for &s in &unreleased {
        let of: Vec<&Redecision> = redecided.iter().filter(|r| r.sitting_id == s).collect();
        record_sitting(
            &mut tx,
            change_id,
            s,
            "redecided",
            (of.len(), of.iter().filter(|r| r.changed()).count()),
            reason,
            by,
            now,
        )
        .await?;
    }
    let changed = redecided.iter().filter(|r| r.changed()).count();
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::PassMarkAdopt,
        &format!(
            "blueprint {} {}: pass mark {previous}% -> {}%; reason: {reason}; study: {}; \
             {} result(s) re-decided in {} unreleased sitting(s), {changed} changed between pass and fail{}; \
             released sitting(s) awaiting the committee's decision: {}",
            a.blueprint_id,
            part_name(a.part),
            a.mark,
            a.study_id.map_or("none".to_string(), |s| s.to_string()),
            redecided.len(),
            unreleased.len(),
            changed_words(&redecided),
            if released.is_empty() {
                "none".to_string()
            } else {
                released
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Adopted {
        change_id,
        previous,
        mark: a.mark,
        redecided,
        released_sittings: released,
    }))
}

#[allow(clippy::too_many_arguments)]
async fn record_sitting(
    tx: &mut WriteTx,
    change_id: i64,
    sitting_id: i64,
    decision: &str,
    (redecided, changed): (usize, usize),
    reason: &str,
    by: &str,
    at: i64,
) -> Result<()> {
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO pass_mark_sittings (change_id, sitting_id, decision, redecided, changed,
             reason, decided_by, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(change_id)
    .bind(sitting_id)
    .bind(decision)
    .bind(n(redecided))
    .bind(n(changed))
    .bind(reason)
    .bind(by)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What the committee decided for one sitting of an adoption.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SittingDecision {
    pub change_id: i64,
    pub sitting_id: i64,
    pub decision: String,
    pub redecided: i64,
    pub changed: i64,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: i64,
}

/// The per-sitting decisions of an adoption, by sitting.
pub async fn sitting_decisions(db: &Db, change_id: i64) -> Result<Vec<SittingDecision>> {
    Ok(sqlx::query_as(
        "SELECT change_id, sitting_id, decision, redecided, changed, reason, decided_by, decided_at
         FROM pass_mark_sittings WHERE change_id = $1 ORDER BY sitting_id",
    )
    .bind(change_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Who would change in each released sitting if its results were re-decided on the adopted
/// mark: every stored result of the part, by sitting, then registration. Writes nothing.
pub async fn preview(
    db: &Db,
    change_id: i64,
) -> Result<std::result::Result<BTreeMap<i64, Vec<Redecision>>, Refused>> {
    let Some(c) = change(db, change_id).await? else {
        return Ok(Err(Refused::NoChange(change_id)));
    };
    let mark = c.mark()?;
    let mut out: BTreeMap<i64, Vec<Redecision>> = BTreeMap::new();
    for r in results_of(db, &c.blueprint_id, c.part())
        .await?
        .iter()
        .filter(|r| r.released_at.is_some())
    {
        out.entry(r.sitting_id)
            .or_default()
            .push(redecide(r, c.part(), mark)?);
    }
    Ok(Ok(out))
}

/// The committee's decision for one released sitting of an adoption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleasedPolicy {
    /// Re-decide its stored results on the adopted mark.
    Redecide,
    /// Leave them as released.
    Keep,
}

impl ReleasedPolicy {
    pub fn code(self) -> &'static str {
        match self {
            ReleasedPolicy::Redecide => "redecided",
            ReleasedPolicy::Keep => "kept",
        }
    }
}

/// Decides for one released sitting: re-decides its results of the blueprint part on the
/// adopted mark, or records that they stay as released; with the reason, once per sitting and
/// adoption, in one transaction with its audit record. Only the newest adoption of a blueprint
/// part can be applied.
pub async fn decide_released(
    db: &Db,
    change_id: i64,
    sitting_id: i64,
    policy: ReleasedPolicy,
    reason: &str,
    by: &str,
) -> Result<std::result::Result<Vec<Redecision>, Refused>> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Ok(Err(Refused::NoReason));
    }
    let Some(c) = change(db, change_id).await? else {
        return Ok(Err(Refused::NoChange(change_id)));
    };
    let newest: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(id) FROM pass_mark_changes WHERE blueprint_id = $1 AND part = $2",
    )
    .bind(&c.blueprint_id)
    .bind(c.part)
    .fetch_one(&db.pool)
    .await?;
    if newest != Some(change_id) {
        return Ok(Err(Refused::Superseded));
    }
    let mark = c.mark()?;
    let rows: Vec<Redecision> = results_of(db, &c.blueprint_id, c.part())
        .await?
        .iter()
        .filter(|r| r.sitting_id == sitting_id && r.released_at.is_some())
        .map(|r| redecide(r, c.part(), mark))
        .collect::<Result<_>>()?;
    if rows.is_empty() {
        return Ok(Err(Refused::NotReleased(sitting_id)));
    }
    let done: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM pass_mark_sittings WHERE change_id = $1 AND sitting_id = $2",
    )
    .bind(change_id)
    .bind(sitting_id)
    .fetch_optional(&db.pool)
    .await?;
    if done.is_some() {
        return Ok(Err(Refused::AlreadyDecided(sitting_id)));
    }
    let changed = rows.iter().filter(|r| r.changed()).count();
    let mut tx = db.write().await?;
    let (redecided, changed_n) = match policy {
        ReleasedPolicy::Redecide => {
            write_decisions(&mut tx, c.part(), &rows).await?;
            (rows.len(), changed)
        }
        ReleasedPolicy::Keep => (0, 0),
    };
    record_sitting(
        &mut tx,
        change_id,
        sitting_id,
        policy.code(),
        (redecided, changed_n),
        reason,
        by,
        now_ms(),
    )
    .await?;
    let detail = match policy {
        ReleasedPolicy::Redecide => format!(
            "sitting {sitting_id}, blueprint {} {}: released results re-decided on the adopted pass mark {mark}% (change {change_id}); reason: {reason}; {} re-decided, {changed} changed between pass and fail{}",
            c.blueprint_id,
            part_name(c.part()),
            rows.len(),
            changed_words(&rows)
        ),
        ReleasedPolicy::Keep => format!(
            "sitting {sitting_id}, blueprint {} {}: released results left as released under the adopted pass mark {mark}% (change {change_id}); reason: {reason}; {changed} would have changed between pass and fail",
            c.blueprint_id,
            part_name(c.part()),
        ),
    };
    audit::record_tx(&mut tx, by, audit::Action::PassMarkSitting, &detail).await?;
    tx.commit().await?;
    Ok(Ok(match policy {
        ReleasedPolicy::Redecide => rows,
        ReleasedPolicy::Keep => Vec::new(),
    }))
}
