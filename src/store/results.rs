//! Results: scoring a sitting's attempts, the committee's key decisions, release, the
//! candidate's score report and the CSV export.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::bank::{Blueprint, ItemBody};
use crate::scoring::key::{score_part_one, ItemKey, KeyRule, Tally};
use crate::scoring::results::{endorsement_passed, PartResult};

use super::attempts::{answers, attempts_of, Attempt};
use super::bank::{blueprints, item_version, vignette_text};
use super::sittings::{registrations, sitting, Registration};
use super::{audit, now_ms, ratings, Db, Result, StoreError};

/// The key of every multiple-choice item version as it applies now: the committee's newest
/// decision, else the key imported.
pub async fn key_rules(db: &Db) -> Result<BTreeMap<(String, u32), ItemKey>> {
    let rows: Vec<(String, i64, String, String)> = sqlx::query_as(
        "SELECT item_id, version, domain, content FROM item_versions WHERE kind = 'mcq'",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out = BTreeMap::new();
    for (id, version, domain, content) in rows {
        let body: ItemBody = serde_json::from_str(&content)
            .map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
        if let ItemBody::Mcq(m) = body {
            out.insert(
                (id, u32::try_from(version).unwrap_or(0)),
                ItemKey {
                    domain,
                    rule: KeyRule::single(m.key),
                },
            );
        }
    }
    let changes: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT item_id, item_version, rule FROM key_changes ORDER BY id")
            .fetch_all(&db.pool)
            .await?;
    for (id, version, rule) in changes {
        if let Some(k) = out.get_mut(&(id, u32::try_from(version).unwrap_or(0))) {
            k.rule = parse_rule(&rule).unwrap_or(KeyRule::Dropped);
        }
    }
    Ok(out)
}

/// "B", "B|D" or "dropped".
pub fn parse_rule(s: &str) -> Option<KeyRule> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("dropped") {
        return Some(KeyRule::Dropped);
    }
    let keys: BTreeSet<char> = s
        .split('|')
        .map(|k| {
            let k = k.trim();
            let mut c = k.chars();
            match (c.next(), c.next()) {
                (Some(l), None) if l.is_ascii_alphabetic() => Some(l.to_ascii_uppercase()),
                _ => None,
            }
        })
        .collect::<Option<_>>()?;
    (!keys.is_empty()).then_some(KeyRule::Accept(keys))
}

/// One response of a Part Two result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseScore {
    pub response_id: i64,
    pub vignette_id: String,
    pub item_id: String,
    pub domain: String,
    pub score: f64,
    pub max: f64,
}

/// What a result row keeps besides its totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Detail {
    pub by_domain: BTreeMap<String, (f64, f64)>,
    #[serde(default)]
    pub responses: Vec<ResponseScore>,
    /// Part Two: answer slots left empty (fewer vignettes chosen than asked).
    #[serde(default)]
    pub missing_slots: u32,
}

/// Why a part has no result yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    NotSubmitted,
    Voided,
    /// Responses still being read.
    Unsettled(u32),
}

/// Scores one attempt, or says why it cannot be scored yet.
async fn score_attempt(
    db: &Db,
    a: &Attempt,
    bp: &Blueprint,
    keys: &BTreeMap<(String, u32), ItemKey>,
) -> Result<std::result::Result<(PartResult, Detail), Pending>> {
    if a.voided_at.is_some() {
        return Ok(Err(Pending::Voided));
    }
    if a.submitted_at.is_none() {
        return Ok(Err(Pending::NotSubmitted));
    }
    if a.part == 1 {
        let given = answers(db, a.id).await?;
        let (tally, _) = score_part_one(&a.form.part_one, &given, |id, v| {
            keys.get(&(id.to_string(), v)).cloned()
        })
        .map_err(|e| StoreError::Sqlx(sqlx::Error::Protocol(e.to_string())))?;
        let detail = Detail {
            by_domain: tally.by_domain.clone(),
            ..Detail::default()
        };
        return Ok(Ok((
            PartResult::new(1, tally, bp.part_one.pass_percent),
            detail,
        )));
    }
    let rows: Vec<(i64, String, String, i64, Option<f64>)> = sqlx::query_as(
        "SELECT id, vignette_id, item_id, item_version, final_score FROM responses
         WHERE attempt_id = $1 ORDER BY id",
    )
    .bind(a.id)
    .fetch_all(&db.pool)
    .await?;
    let unsettled = rows.iter().filter(|r| r.4.is_none()).count();
    if unsettled > 0 {
        return Ok(Err(Pending::Unsettled(
            u32::try_from(unsettled).unwrap_or(u32::MAX),
        )));
    }
    let mut tally = Tally::default();
    let mut detail = Detail::default();
    let mut chosen = BTreeSet::new();
    for (id, vignette_id, item_id, version, score) in rows {
        let (domain, max) = open_item(db, &item_id, version).await?;
        let score = score.unwrap_or(0.0);
        tally.add(&domain, score, max);
        chosen.insert(vignette_id.clone());
        detail.responses.push(ResponseScore {
            response_id: id,
            vignette_id,
            item_id,
            domain,
            score,
            max,
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
                let (domain, max) = open_item(db, item, i64::from(*version)).await?;
                total += max;
                domains.push((domain, max));
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
    Ok(Ok((
        PartResult::new(2, tally, bp.part_two.pass_percent),
        detail,
    )))
}

async fn open_item(db: &Db, item_id: &str, version: i64) -> Result<(String, f64)> {
    let item = item_version(db, item_id, u32::try_from(version).unwrap_or(0))
        .await?
        .ok_or_else(|| {
            StoreError::Sqlx(sqlx::Error::Protocol(format!(
                "{item_id} is not in the bank"
            )))
        })?;
    let max = match &item.body {
        ItemBody::Open(o) => f64::from(o.max_score),
        ItemBody::Mcq(_) => 1.0,
    };
    Ok((item.domain, max))
}

/// A result as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResult {
    pub registration_id: i64,
    pub part: u8,
    pub points: f64,
    pub max: f64,
    pub passed: bool,
    pub detail: Detail,
}

impl StoredResult {
    pub fn percent(&self) -> f64 {
        if self.max > 0.0 {
            100.0 * self.points / self.max
        } else {
            0.0
        }
    }
}

async fn store_result(
    db: &Db,
    registration_id: i64,
    r: &PartResult,
    detail: &Detail,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO results (registration_id, part, points, max_points, passed, detail, computed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (registration_id, part) DO UPDATE SET points = excluded.points,
             max_points = excluded.max_points, passed = excluded.passed, detail = excluded.detail,
             computed_at = excluded.computed_at",
    )
    .bind(registration_id)
    .bind(i64::from(r.part))
    .bind(r.tally.points)
    .bind(r.tally.max)
    .bind(i64::from(r.passed))
    .bind(serde_json::to_string(detail).expect("a detail serialises"))
    .bind(now_ms())
    .execute(&db.writer)
    .await?;
    Ok(())
}

pub async fn result(db: &Db, registration_id: i64, part: u8) -> Result<Option<StoredResult>> {
    let row: Option<(f64, f64, i64, String)> = sqlx::query_as(
        "SELECT points, max_points, passed, detail FROM results WHERE registration_id = $1 AND part = $2",
    )
    .bind(registration_id)
    .bind(i64::from(part))
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(points, max, passed, detail)| StoredResult {
        registration_id,
        part,
        points,
        max,
        passed: passed == 1,
        detail: serde_json::from_str(&detail).unwrap_or_default(),
    }))
}

/// One registration's line in the committee's results table.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultLine {
    pub registration: Registration,
    pub parts: [PartLine; 2],
    /// Across sittings: the latest result of each part this person has.
    pub exam_passed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PartLine {
    NotSat,
    /// Registered for but never started: the candidate was absent, or the sitting closed
    /// before they started it. Not failed, and no result to wait for.
    NotTaken,
    Pending(Pending),
    Scored(StoredResult),
}

/// Scores every attempt of a sitting that can be scored, storing the results; returns each
/// registration's line.
pub async fn compute_sitting(db: &Db, sitting_id: i64) -> Result<Vec<ResultLine>> {
    let closed = sitting(db, sitting_id)
        .await?
        .is_some_and(|s| s.closes_at <= now_ms());
    let bps = blueprints(db).await?;
    let keys = key_rules(db).await?;
    let mut lines = Vec::new();
    for reg in registrations(db, sitting_id).await? {
        let Some(bp) = bps.iter().find(|b| b.id == reg.blueprint_id) else {
            continue;
        };
        let attempts = attempts_of(db, reg.id).await?;
        let mut parts = [PartLine::NotSat, PartLine::NotSat];
        for (i, part) in [1u8, 2].into_iter().enumerate() {
            let sits = if part == 1 {
                reg.parts.one
            } else {
                reg.parts.two
            };
            if !sits {
                continue;
            }
            parts[i] = match attempts.iter().find(|a| a.part == part) {
                // A part can no longer be started once the candidate is absent or the sitting
                // has closed.
                None if reg.absent_at.is_some() || closed => PartLine::NotTaken,
                None => PartLine::Pending(Pending::NotSubmitted),
                Some(a) => match score_attempt(db, a, bp, &keys).await? {
                    Ok((r, detail)) => {
                        store_result(db, reg.id, &r, &detail).await?;
                        PartLine::Scored(result(db, reg.id, part).await?.expect("just stored"))
                    }
                    Err(p) => {
                        if p == Pending::Voided {
                            sqlx::query(
                                "DELETE FROM results WHERE registration_id = $1 AND part = $2",
                            )
                            .bind(reg.id)
                            .bind(i64::from(part))
                            .execute(&db.writer)
                            .await?;
                        }
                        PartLine::Pending(p)
                    }
                },
            };
        }
        let exam_passed = exam_passed(db, &reg.email, sitting_id).await?;
        lines.push(ResultLine {
            registration: reg,
            parts,
            exam_passed,
        });
    }
    Ok(lines)
}

/// The endorsement exam across sittings: each part's latest result for this email, from sittings
/// whose results are released and from `sitting_id` itself (so an unreleased retake never shows
/// through another sitting's report).
pub async fn exam_passed(db: &Db, email: &str, sitting_id: i64) -> Result<Option<bool>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT r.part, r.passed FROM results r JOIN registrations g ON g.id = r.registration_id
         JOIN sittings s ON s.id = g.sitting_id
         WHERE g.email = $1 AND (s.results_released_at IS NOT NULL OR s.id = $2)
         ORDER BY s.opens_at, g.id",
    )
    .bind(email)
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut latest: [Option<bool>; 2] = [None, None];
    for (part, passed) in rows {
        if let Some(slot) = latest.get_mut(usize::try_from(part - 1).unwrap_or(2)) {
            *slot = Some(passed == 1);
        }
    }
    Ok(endorsement_passed(latest[0], latest[1]))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseBlocked {
    #[error(
        "{0} part(s) are not scored yet: attempts not submitted or responses still being read"
    )]
    Pending(usize),
    #[error("these results were released already")]
    AlreadyReleased,
}

/// Releases a sitting's results to its candidates, once every part sat has a result. Parts not
/// taken (the candidate was absent) have none to wait for; if the sitting's closing time has
/// passed and the server's tick has not closed it yet, release closes it first.
pub async fn release(
    db: &Db,
    sitting_id: i64,
    by: &str,
) -> Result<std::result::Result<usize, ReleaseBlocked>> {
    if released_at(db, sitting_id).await?.is_some() {
        return Ok(Err(ReleaseBlocked::AlreadyReleased));
    }
    super::absence::close_sitting(db, sitting_id, now_ms()).await?;
    let lines = compute_sitting(db, sitting_id).await?;
    let pending = lines
        .iter()
        .flat_map(|l| l.parts.iter())
        .filter(|p| matches!(p, PartLine::Pending(p) if *p != Pending::Voided))
        .count();
    if pending > 0 {
        return Ok(Err(ReleaseBlocked::Pending(pending)));
    }
    let mut tx = db.write().await?;
    sqlx::query(
        "UPDATE sittings SET results_released_at = $1, results_released_by = $2 WHERE id = $3",
    )
    .bind(now_ms())
    .bind(by)
    .bind(sitting_id)
    .execute(&mut *tx)
    .await?;
    audit::record_tx(
        &mut tx,
        by,
        audit::Action::ReleaseResults,
        &format!(
            "sitting {sitting_id}: results of {} candidates released",
            lines.len()
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(lines.len()))
}

pub async fn released_at(db: &Db, sitting_id: i64) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT results_released_at FROM sittings WHERE id = $1")
            .bind(sitting_id)
            .fetch_optional(&db.pool)
            .await?
            .flatten(),
    )
}

/// What a candidate reads once results are released.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub parts: Vec<(String, StoredResult)>,
    /// Parts registered for and never taken, by name: not failed.
    pub not_taken: Vec<String>,
    /// The candidate was marked absent.
    pub absent: bool,
    pub exam_passed: Option<bool>,
    pub domain_names: BTreeMap<String, String>,
    /// Per response: the vignette's title, the score, and the raters' feedback.
    pub feedback: Vec<(String, f64, f64, Vec<String>)>,
}

/// The candidate's score report, or None until the sitting's results are released.
pub async fn report(db: &Db, reg: &Registration) -> Result<Option<Report>> {
    if released_at(db, reg.sitting_id).await?.is_none() {
        return Ok(None);
    }
    let bp = blueprints(db)
        .await?
        .into_iter()
        .find(|b| b.id == reg.blueprint_id);
    let mut parts = Vec::new();
    let mut not_taken = Vec::new();
    let mut feedback = Vec::new();
    let attempts = attempts_of(db, reg.id).await?;
    for part in [1u8, 2] {
        let name = bp
            .as_ref()
            .map(|b| {
                if part == 1 {
                    b.part_one.name.clone()
                } else {
                    b.part_two.name.clone()
                }
            })
            .unwrap_or_else(|| format!("Part {part}"));
        let sits = if part == 1 {
            reg.parts.one
        } else {
            reg.parts.two
        };
        let Some(r) = result(db, reg.id, part).await? else {
            if sits && !attempts.iter().any(|a| a.part == part) {
                not_taken.push(name);
            }
            continue;
        };
        for resp in &r.detail.responses {
            let version: Option<i64> =
                sqlx::query_scalar("SELECT vignette_version FROM responses WHERE id = $1")
                    .bind(resp.response_id)
                    .fetch_optional(&db.pool)
                    .await?;
            let title = match version {
                Some(v) => vignette_text(db, &resp.vignette_id, u32::try_from(v).unwrap_or(0))
                    .await?
                    .map(|(t, _)| t)
                    .unwrap_or_default(),
                None => String::new(),
            };
            feedback.push((
                title,
                resp.score,
                resp.max,
                ratings::feedback_for(db, resp.response_id).await?,
            ));
        }
        parts.push((name, r));
    }
    Ok(Some(Report {
        parts,
        not_taken,
        absent: reg.absent_at.is_some(),
        exam_passed: exam_passed(db, &reg.email, reg.sitting_id).await?,
        domain_names: super::bank::domain_names(db).await?,
        feedback,
    }))
}

/// A sitting's results as CSV, one line per registration. Names, emails and organisations are
/// the candidates' own words, so cells go through `csv_safe` like every CSV we write.
pub fn results_csv(lines: &[ResultLine]) -> String {
    let mut w = crate::csv_safe::Writer::new();
    w.write_record([
        "name",
        "email",
        "organisation",
        "level",
        "part_one_points",
        "part_one_max",
        "part_one_percent",
        "part_one_passed",
        "part_two_points",
        "part_two_max",
        "part_two_percent",
        "part_two_passed",
        "exam_passed",
    ]);
    for l in lines {
        let mut rec = vec![
            l.registration.name.clone(),
            l.registration.email.clone(),
            l.registration.organisation.clone(),
            l.registration.level.to_string(),
        ];
        for p in &l.parts {
            match p {
                PartLine::Scored(r) => rec.extend([
                    r.points.to_string(),
                    r.max.to_string(),
                    format!("{:.1}", r.percent()),
                    if r.passed { "yes" } else { "no" }.to_string(),
                ]),
                PartLine::NotSat => rec.extend(["".into(), "".into(), "".into(), "not sat".into()]),
                PartLine::NotTaken => rec.extend([
                    "".into(),
                    "".into(),
                    "".into(),
                    if l.registration.absent_at.is_some() {
                        "not taken (absent)"
                    } else {
                        "not taken"
                    }
                    .into(),
                ]),
                PartLine::Pending(Pending::Voided) => {
                    rec.extend(["".into(), "".into(), "".into(), "voided".into()])
                }
                PartLine::Pending(_) => {
                    rec.extend(["".into(), "".into(), "".into(), "pending".into()])
                }
            }
        }
        rec.push(
            match l.exam_passed {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }
            .to_string(),
        );
        w.write_record(&rec);
    }
    w.into_string()
}

/// A candidate's Part One result before and after a key change.
#[derive(Debug, Clone, PartialEq)]
pub struct Rescored {
    pub registration_id: i64,
    pub before: Option<(f64, bool)>,
    pub after: (f64, bool),
}

/// The committee changes an item's key (a new key, two keys, or dropped from scoring): the
/// decision is recorded with its reason, every scored attempt that carried the item is rescored,
/// and the audit log keeps each candidate's result before and after.
pub async fn change_key(
    db: &Db,
    item_id: &str,
    version: u32,
    rule: &KeyRule,
    reason: &str,
    by: &str,
) -> Result<Vec<Rescored>> {
    sqlx::query(
        "INSERT INTO key_changes (item_id, item_version, rule, reason, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(item_id)
    .bind(i64::from(version))
    .bind(rule.describe())
    .bind(reason.trim())
    .bind(by)
    .bind(now_ms())
    .execute(&db.writer)
    .await?;
    let affected: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT DISTINCT a.id, a.registration_id FROM form_items f JOIN attempts a ON a.id = f.attempt_id
         WHERE f.object_id = $1 AND a.part = 1 ORDER BY a.registration_id",
    )
    .bind(item_id)
    .fetch_all(&db.pool)
    .await?;
    let bps = blueprints(db).await?;
    let keys = key_rules(db).await?;
    let mut out = Vec::new();
    for (attempt_id, registration_id) in affected {
        let Some(a) = super::attempts::attempt(db, attempt_id).await? else {
            continue;
        };
        if !a
            .form
            .part_one
            .iter()
            .any(|e| e.item_id == item_id && e.version == version && e.scored)
        {
            continue;
        }
        // Only results already computed are rescored; the rest will use the new key anyway.
        let Some(before) = result(db, registration_id, 1).await? else {
            continue;
        };
        let Some(reg) = super::sittings::registration(db, registration_id).await? else {
            continue;
        };
        let Some(bp) = bps.iter().find(|b| b.id == reg.blueprint_id) else {
            continue;
        };
        if let Ok((r, detail)) = score_attempt(db, &a, bp, &keys).await? {
            store_result(db, registration_id, &r, &detail).await?;
            out.push(Rescored {
                registration_id,
                before: Some((before.points, before.passed)),
                after: (r.tally.points, r.passed),
            });
        }
    }
    let lines: Vec<String> = out
        .iter()
        .map(|r| {
            let (bp, bpass) = r.before.unwrap_or((0.0, false));
            format!(
                "registration {}: {bp} ({}) -> {} ({})",
                r.registration_id,
                if bpass { "pass" } else { "fail" },
                r.after.0,
                if r.after.1 { "pass" } else { "fail" }
            )
        })
        .collect();
    audit::record(
        db,
        by,
        super::audit::Action::KeyChange,
        &format!(
            "{item_id} v{version}: key {}; reason: {}; {} rescored{}{}",
            rule.describe(),
            reason.trim(),
            out.len(),
            if lines.is_empty() { "" } else { ": " },
            lines.join("; ")
        ),
    )
    .await?;
    Ok(out)
}

/// The sitting a registration belongs to has released results.
pub async fn sitting_released(db: &Db, sitting_id: i64) -> Result<bool> {
    Ok(sitting(db, sitting_id).await?.is_some() && released_at(db, sitting_id).await?.is_some())
}
