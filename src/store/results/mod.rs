//! Results: the committee's key decisions, release, the candidate's score report and the CSV
//! export. Scoring a sitting and storing its results is in `sitting`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::bank::ItemBody;
use crate::scoring::key::{ItemKey, KeyRule};
use crate::scoring::results::points_text;

use super::attempts::attempts_of;
use super::bank::{blueprints, vignette_text};
use super::sittings::{sitting, Registration};
use super::{audit, now_ms, ratings, Db, Result, StoreError};

mod activity;
mod equating;
mod load;
pub mod one;
pub mod pass_mark;
mod sitting;
pub use activity::Activity;
pub use equating::{
    change_pass_on, pass_on_changes, sitting_pass_on, Equating, PassOnChange, Redecided,
};
pub use sitting::{
    compute, exam_passed, pending_parts, store, stored, PartLine, Pending, ResultLine,
    StoredResults,
};

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

/// A result as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResult {
    pub registration_id: i64,
    pub part: u8,
    pub points: f64,
    pub max: f64,
    pub passed: bool,
    pub detail: Detail,
    /// Part One: the equated reading and which score decided; None for Part Two (and for a
    /// Part One result stored before equating existed, decided on raw).
    pub equating: Option<Equating>,
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

pub async fn result(db: &Db, registration_id: i64, part: u8) -> Result<Option<StoredResult>> {
    let row: Option<load::ResultRow> = sqlx::query_as(&format!(
        "SELECT {} FROM results r WHERE r.registration_id = $1 AND r.part = $2",
        load::RESULT_COLUMNS
    ))
    .bind(registration_id)
    .bind(i64::from(part))
    .fetch_optional(&db.pool)
    .await?;
    row.map(load::ResultRow::into_stored).transpose()
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
    let before = sitting::before_computing(db, sitting_id).await?;
    let lines = compute(db, sitting_id).await?;
    let pending = pending_parts(&lines);
    if pending > 0 {
        return Ok(Err(ReleaseBlocked::Pending(pending)));
    }
    let mut tx = db.write().await?;
    sitting::write_sitting(&mut tx, sitting_id, &lines, before, by).await?;
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
            "sitting {sitting_id}: results of {} candidates computed, stored and released",
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
    /// Each part's pass mark in percent, as `parts` (from the blueprint).
    pub pass_percents: Vec<crate::bank::PassMark>,
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
    let mut pass_percents = Vec::new();
    let attempts = attempts_of(db, reg.id).await?;
    let domain_names = super::bank::domain_names(db).await?;
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
        // Each question of a vignette is reported on its own: "<vignette>, question 2
        // (<domain>)".
        let mut asked: BTreeMap<String, usize> = BTreeMap::new();
        for resp in &r.detail.responses {
            let n = asked.entry(resp.vignette_id.clone()).or_default();
            *n += 1;
            let question = format!(
                "question {n} ({})",
                domain_names
                    .get(&resp.domain)
                    .cloned()
                    .unwrap_or_else(|| resp.domain.clone())
            );
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
                if title.is_empty() {
                    question
                } else {
                    format!("{title}, {question}")
                },
                resp.score,
                resp.max,
                ratings::feedback_for(db, resp.response_id).await?,
            ));
        }
        pass_percents.push(bp.as_ref().map_or(crate::bank::PassMark::whole(0), |b| {
            if part == 1 {
                b.part_one.pass_percent
            } else {
                b.part_two.pass_percent
            }
        }));
        parts.push((name, r));
    }
    Ok(Some(Report {
        parts,
        not_taken,
        absent: reg.absent_at.is_some(),
        exam_passed: exam_passed(db, &reg.email, reg.sitting_id).await?,
        domain_names,
        feedback,
        pass_percents,
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
        "part_one_equated_percent",
        "part_one_decided_by",
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
        for (i, p) in l.parts.iter().enumerate() {
            match p {
                PartLine::Scored(r) => rec.extend([
                    points_text(r.points),
                    points_text(r.max),
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
                PartLine::Pending(Pending::NotComputed) => {
                    rec.extend(["".into(), "".into(), "".into(), "not computed".into()])
                }
                PartLine::Pending(_) => {
                    rec.extend(["".into(), "".into(), "".into(), "pending".into()])
                }
            }
            if i == 0 {
                // Part One's equated percent (where the pool was calibrated) and which decided.
                let (equated, by) = match p {
                    PartLine::Scored(r) => r.equating.as_ref().map_or_else(
                        || (String::new(), "raw".to_string()),
                        |e| {
                            (
                                e.equated_percent
                                    .map(|x| format!("{x:.1}"))
                                    .unwrap_or_default(),
                                e.decided_by.to_string(),
                            )
                        },
                    ),
                    _ => (String::new(), String::new()),
                };
                rec.extend([equated, by]);
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
    cited: &[(i64, i64)],
    by: &str,
) -> Result<Vec<Rescored>> {
    let affected: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT DISTINCT a.id, a.registration_id FROM form_items f JOIN attempts a ON a.id = f.attempt_id
         WHERE f.object_id = $1 AND a.part = 1 ORDER BY a.registration_id",
    )
    .bind(item_id)
    .fetch_all(&db.pool)
    .await?;
    let bps = blueprints(db).await?;
    // The keys as they will be once this decision is recorded; scored in memory, then the
    // decision, the rescored results and the audit record are written in one transaction.
    let mut keys = key_rules(db).await?;
    if let Some(k) = keys.get_mut(&(item_id.to_string(), version)) {
        k.rule = rule.clone();
    }
    let equating = equating::EquatingRows::load(db, &bps, &keys).await?;
    let mut out = Vec::new();
    let mut rescored = Vec::new();
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
        let how = load::Scoring {
            bp,
            sitting_id: reg.sitting_id,
            keys: &keys,
            equating: &equating,
        };
        if let Ok(s) = sitting::score_attempt(db, &a, &how).await? {
            out.push(Rescored {
                registration_id,
                before: Some((before.points, before.passed)),
                after: (s.result.tally.points, s.result.passed),
            });
            rescored.push(sitting::as_stored(registration_id, s));
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
    let mut tx = db.write().await?;
    let change_id: i64 = sqlx::query_scalar(
        "INSERT INTO key_changes (item_id, item_version, rule, reason, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(item_id)
    .bind(i64::from(version))
    .bind(rule.describe())
    .bind(reason.trim())
    .bind(by)
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?;
    // The candidates' comments the decision cites, each by its event in the response log.
    for (attempt_id, n) in cited {
        sqlx::query(
            "INSERT INTO key_change_citations (key_change_id, attempt_id, n) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(change_id)
        .bind(*attempt_id)
        .bind(*n)
        .execute(&mut *tx)
        .await?;
    }
    let citing = if cited.is_empty() {
        String::new()
    } else {
        format!(
            "; citing {} candidate comment(s): {}",
            cited.len(),
            cited
                .iter()
                .map(|(a, n)| crate::exam::comment::cite_id(*a, *n))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    for r in &rescored {
        sitting::store_one(&mut tx, r).await?;
    }
    audit::record_tx(
        &mut tx,
        by,
        super::audit::Action::KeyChange,
        &format!(
            "{item_id} v{version}: key {}; reason: {}{citing}; {} rescored{}{}",
            rule.describe(),
            reason.trim(),
            out.len(),
            if lines.is_empty() { "" } else { ": " },
            lines.join("; ")
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The sitting a registration belongs to has released results.
/// A submitted Part Two attempt's resolved total and most points, once every response of it is
/// settled (None before, or for an attempt that is not a submitted Part Two).
pub async fn part_two_total(
    db: &Db,
    attempt: &super::attempts::Attempt,
    bp: &crate::bank::Blueprint,
) -> Result<Option<(f64, f64)>> {
    if attempt.part != 2 || attempt.submitted_at.is_none() || attempt.voided_at.is_some() {
        return Ok(None);
    }
    let responses = load::responses_of(db, attempt.id).await?;
    let open_items = load::open_items(db).await?;
    Ok(load::score_part_two(attempt, bp, &responses, &open_items)?
        .ok()
        .map(|s| (s.result.tally.points, s.result.tally.max)))
}

pub async fn sitting_released(db: &Db, sitting_id: i64) -> Result<bool> {
    Ok(sitting(db, sitting_id).await?.is_some() && released_at(db, sitting_id).await?.is_some())
}
