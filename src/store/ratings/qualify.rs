//! Rater qualification: before any live response of a sitting reaches a rater, they score a
//! qualifying set the committee chose (responses with expert scores). Their live queue opens
//! once their scores on a set agree with the experts' at the standard of the sitting's
//! blueprints (`[part_two.rating] qualify_exact_percent`, `qualify_adjacent_percent`); a rater
//! below it is given the next set, up to `qualify_sets`. Every attempt is kept.
//!
//! The gate is in the queries: `LIVE_GATE` is part of every query a rater's queue, desk and
//! rating go through, so a live response of a sitting the rater has not qualified for is not
//! found, even by its code. A sitting without a qualifying set has no gate.

use std::collections::{BTreeMap, BTreeSet};

use crate::bank::RatingRules;
use crate::scoring::Agreement;
use crate::store::bank::blueprints;
use crate::store::{audit, now_ms, Db, Result};

use super::raters;

/// A condition on `r` (responses) and `s` (assignments): the response is a qualifying one, or
/// its sitting has no qualifying set, or the assignment's rater has qualified for the sitting.
pub(super) const LIVE_GATE: &str = "(r.qualifying_set IS NOT NULL
    OR NOT EXISTS (SELECT 1 FROM responses q WHERE q.sitting_id = r.sitting_id AND q.qualifying_set IS NOT NULL)
    OR EXISTS (SELECT 1 FROM qualification_attempts qa
               WHERE qa.sitting_id = r.sitting_id AND qa.rater_id = s.rater_id AND qa.passed = 1))";

/// The standard of a sitting: the strictest of its blueprints' (the rules of the sitting's
/// blueprints are the same in the sample bank).
pub(super) async fn sitting_rules(db: &Db, sitting_id: i64) -> Result<RatingRules> {
    let ids = crate::store::sittings::sitting(db, sitting_id)
        .await?
        .map(|s| s.blueprints)
        .unwrap_or_default();
    Ok(blueprints(db)
        .await?
        .into_iter()
        .filter(|b| ids.contains(&b.id))
        .map(|b| b.part_two.rating)
        .max_by_key(|r| {
            (
                r.qualify_exact_percent,
                r.qualify_adjacent_percent,
                std::cmp::Reverse(r.qualify_sets),
            )
        })
        .unwrap_or_default())
}

/// One kept attempt at a qualifying set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifyingAttempt {
    pub set_no: u32,
    pub agreement: Agreement,
    pub passed: bool,
}

/// Where a rater stands in a sitting's qualification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The sitting has no qualifying set: live scoring is open to every rater.
    NoGate,
    /// Scoring set `set_no` (`done` of `of` submitted); earlier attempts, if any, fell short.
    Qualifying {
        set_no: u32,
        done: u32,
        of: u32,
        earlier: Vec<QualifyingAttempt>,
    },
    Qualified(Vec<QualifyingAttempt>),
    /// Every set allowed was below the standard: no live response reaches them.
    NotQualified(Vec<QualifyingAttempt>),
}

/// The committee's view: each rater's standing in the sitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaterQualification {
    pub rater_id: i64,
    pub username: String,
    pub standing: Standing,
}

async fn attempts(db: &Db, sitting_id: i64) -> Result<BTreeMap<i64, Vec<QualifyingAttempt>>> {
    let rows: Vec<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT rater_id, set_no, scored, exact, adjacent, passed FROM qualification_attempts
         WHERE sitting_id = $1 ORDER BY rater_id, set_no",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out: BTreeMap<i64, Vec<QualifyingAttempt>> = BTreeMap::new();
    for (rater, set_no, scored, exact, adjacent, passed) in rows {
        out.entry(rater).or_default().push(QualifyingAttempt {
            set_no: u32::try_from(set_no).unwrap_or(0),
            agreement: Agreement {
                scored: u32::try_from(scored).unwrap_or(0),
                exact: u32::try_from(exact).unwrap_or(0),
                adjacent: u32::try_from(adjacent).unwrap_or(0),
            },
            passed: passed == 1,
        });
    }
    Ok(out)
}

/// The sets the committee has chosen for a sitting and the responses in each.
async fn sets(db: &Db, sitting_id: i64) -> Result<BTreeMap<u32, Vec<i64>>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT qualifying_set, id FROM responses
         WHERE sitting_id = $1 AND qualifying_set IS NOT NULL ORDER BY qualifying_set, id",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out: BTreeMap<u32, Vec<i64>> = BTreeMap::new();
    for (set_no, id) in rows {
        out.entry(u32::try_from(set_no).unwrap_or(0))
            .or_default()
            .push(id);
    }
    Ok(out)
}

/// The set a rater with these attempts scores next, if any: after the last failed one, while
/// the sets allowed last and the committee has chosen it.
fn next_set(
    tried: &[QualifyingAttempt],
    rules: &RatingRules,
    sets: &BTreeMap<u32, Vec<i64>>,
) -> Option<u32> {
    if tried.iter().any(|a| a.passed) {
        return None;
    }
    let n = u32::try_from(tried.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    (n <= rules.qualify_sets && sets.contains_key(&n)).then_some(n)
}

/// Gives every active rater who has not qualified the responses of the set they score next
/// (set 1 first; the next after a set below the standard). Idempotent; called when a set is
/// seeded, before raters are assigned live work, and after an attempt.
pub(super) async fn ensure_assignments(db: &Db, sitting_id: i64, by: &str) -> Result<usize> {
    let sets = sets(db, sitting_id).await?;
    if sets.is_empty() {
        return Ok(0);
    }
    let rules = sitting_rules(db, sitting_id).await?;
    let tried = attempts(db, sitting_id).await?;
    let held: BTreeSet<(i64, i64)> = sqlx::query_as(
        "SELECT s.rater_id, s.response_id FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND r.qualifying_set IS NOT NULL",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .collect();
    let mut wanted = Vec::new();
    for r in raters(db).await? {
        let Some(n) = next_set(
            tried.get(&r.id).map_or(&[][..], Vec::as_slice),
            &rules,
            &sets,
        ) else {
            continue;
        };
        for response in &sets[&n] {
            if !held.contains(&(r.id, *response)) {
                wanted.push((r.id, *response));
            }
        }
    }
    if wanted.is_empty() {
        return Ok(0);
    }
    let now = now_ms();
    let mut tx = db.write().await?;
    for (rater, response) in &wanted {
        sqlx::query(
            "INSERT INTO assignments (response_id, rater_id, reading, assigned_at, assigned_by)
             VALUES ($1, $2, 1, $3, $4) ON CONFLICT (response_id, rater_id) DO NOTHING",
        )
        .bind(response)
        .bind(rater)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(wanted.len())
}

/// The raters who may not be given live work in a sitting: with a qualifying set chosen, every
/// rater without a passed attempt.
pub(super) async fn unqualified(db: &Db, sitting_id: i64) -> Result<BTreeSet<i64>> {
    if sets(db, sitting_id).await?.is_empty() {
        return Ok(BTreeSet::new());
    }
    let tried = attempts(db, sitting_id).await?;
    Ok(raters(db)
        .await?
        .into_iter()
        .filter(|r| !tried.get(&r.id).is_some_and(|a| a.iter().any(|a| a.passed)))
        .map(|r| r.id)
        .collect())
}

/// Withdraws the unfinished live readings `raters` hold in a sitting (drafts are kept, as when
/// a rater drops out), so `assign_sitting` gives them to qualified raters.
pub(super) async fn hand_on_live_work(
    db: &Db,
    sitting_id: i64,
    raters: &BTreeSet<i64>,
    by: &str,
) -> Result<usize> {
    if raters.is_empty() {
        return Ok(0);
    }
    let held: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT s.id, s.rater_id FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND r.expert_score IS NULL AND s.withdrawn_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1)",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let ids: Vec<i64> = held
        .into_iter()
        .filter(|(_, rater)| raters.contains(rater))
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    super::assignment::withdraw(
        db,
        &ids,
        by,
        &format!(
            "sitting {sitting_id}: {} unfinished live readings of raters not qualified handed on",
            ids.len()
        ),
    )
    .await?;
    Ok(ids.len())
}

/// After a rater's final reading of a qualifying response: when it completes their set, the
/// attempt is scored against the standard and kept (once), audited, and a rater below it is
/// given the next set. Returns the attempt when this reading completed one.
pub(super) async fn after_reading(
    db: &Db,
    rater_id: i64,
    response_id: i64,
) -> Result<Option<QualifyingAttempt>> {
    let (sitting_id, set_no): (i64, Option<i64>) =
        sqlx::query_as("SELECT sitting_id, qualifying_set FROM responses WHERE id = $1")
            .bind(response_id)
            .fetch_one(&db.pool)
            .await?;
    let Some(set_no) = set_no else {
        return Ok(None);
    };
    // The rater's readings of the set: (final score or none, expert score).
    let rows: Vec<(Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT (SELECT t.score FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1),
                r.expert_score
         FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE s.rater_id = $1 AND r.sitting_id = $2 AND r.qualifying_set = $3
           AND s.withdrawn_at IS NULL",
    )
    .bind(rater_id)
    .bind(sitting_id)
    .bind(set_no)
    .fetch_all(&db.pool)
    .await?;
    if rows.iter().any(|(score, _)| score.is_none()) {
        return Ok(None);
    }
    let mut agreement = Agreement::default();
    for (score, expert) in &rows {
        if let (Some(s), Some(e)) = (score, expert) {
            agreement.add(
                u32::try_from(*s).unwrap_or(0),
                u32::try_from(*e).unwrap_or(0),
            );
        }
    }
    let rules = sitting_rules(db, sitting_id).await?;
    let passed = agreement.meets(rules.qualify_exact_percent, rules.qualify_adjacent_percent);
    let mut tx = db.write().await?;
    let kept = sqlx::query(
        "INSERT INTO qualification_attempts (sitting_id, rater_id, set_no, scored, exact, adjacent, passed, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (sitting_id, rater_id, set_no) DO NOTHING",
    )
    .bind(sitting_id)
    .bind(rater_id)
    .bind(set_no)
    .bind(i64::from(agreement.scored))
    .bind(i64::from(agreement.exact))
    .bind(i64::from(agreement.adjacent))
    .bind(i64::from(passed))
    .bind(now_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if kept == 0 {
        // A second process recorded it first.
        return Ok(None);
    }
    audit::record_tx(
        &mut tx,
        "rules",
        audit::Action::RaterQualification,
        &format!(
            "sitting {sitting_id}: rater {rater_id}, qualifying set {set_no}: {} of {} exact, {} within one point: {}",
            agreement.exact,
            agreement.scored,
            agreement.adjacent,
            if passed { "qualified" } else { "below the standard" }
        ),
    )
    .await?;
    tx.commit().await?;
    if !passed {
        ensure_assignments(db, sitting_id, "rules").await?;
    }
    Ok(Some(QualifyingAttempt {
        set_no: u32::try_from(set_no).unwrap_or(0),
        agreement,
        passed,
    }))
}

/// Every active rater's standing in a sitting, for the committee.
pub async fn qualification(db: &Db, sitting_id: i64) -> Result<Vec<RaterQualification>> {
    let sets = sets(db, sitting_id).await?;
    let rules = sitting_rules(db, sitting_id).await?;
    let tried = attempts(db, sitting_id).await?;
    let progress: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT s.rater_id, r.qualifying_set, COUNT(*),
                SUM(CASE WHEN EXISTS (SELECT 1 FROM ratings t WHERE t.assignment_id = s.id AND t.final = 1) THEN 1 ELSE 0 END)
         FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE r.sitting_id = $1 AND r.qualifying_set IS NOT NULL AND s.withdrawn_at IS NULL
         GROUP BY s.rater_id, r.qualifying_set",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let users: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, username FROM users WHERE role = $1 AND disabled = 0 ORDER BY username",
    )
    .bind(crate::auth::Role::Rater.code())
    .fetch_all(&db.pool)
    .await?;
    Ok(users
        .into_iter()
        .map(|(rater_id, username)| {
            let mine = tried.get(&rater_id).cloned().unwrap_or_default();
            let standing = standing(&sets, &rules, mine, |set_no| {
                progress
                    .iter()
                    .find(|(r, s, _, _)| *r == rater_id && *s == i64::from(set_no))
                    .map_or((0, 0), |(_, _, of, done)| {
                        (
                            u32::try_from(*done).unwrap_or(0),
                            u32::try_from(*of).unwrap_or(0),
                        )
                    })
            });
            RaterQualification {
                rater_id,
                username,
                standing,
            }
        })
        .collect())
}

fn standing(
    sets: &BTreeMap<u32, Vec<i64>>,
    rules: &RatingRules,
    tried: Vec<QualifyingAttempt>,
    progress: impl Fn(u32) -> (u32, u32),
) -> Standing {
    if sets.is_empty() {
        return Standing::NoGate;
    }
    if tried.iter().any(|a| a.passed) {
        return Standing::Qualified(tried);
    }
    match next_set(&tried, rules, sets) {
        Some(set_no) => {
            let (done, of) = progress(set_no);
            Standing::Qualifying {
                set_no,
                done,
                of: of.max(u32::try_from(sets[&set_no].len()).unwrap_or(0)),
                earlier: tried,
            }
        }
        None => Standing::NotQualified(tried),
    }
}

/// A rater's own standing in every sitting they have qualifying work in, for their queue page
/// (without naming the sitting).
pub async fn my_standing(db: &Db, rater_id: i64) -> Result<Vec<Standing>> {
    let sittings: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT r.sitting_id FROM assignments s JOIN responses r ON r.id = s.response_id
         WHERE s.rater_id = $1 AND r.qualifying_set IS NOT NULL ORDER BY r.sitting_id",
    )
    .bind(rater_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for sitting_id in sittings {
        if let Some(q) = qualification(db, sitting_id)
            .await?
            .into_iter()
            .find(|q| q.rater_id == rater_id)
        {
            out.push(q.standing);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(set_no: u32, passed: bool) -> QualifyingAttempt {
        QualifyingAttempt {
            set_no,
            agreement: Agreement::default(),
            passed,
        }
    }

    #[test]
    fn the_next_set_follows_a_failed_one_while_sets_last() {
        let rules = RatingRules::default();
        let two: BTreeMap<u32, Vec<i64>> = BTreeMap::from([(1, vec![1]), (2, vec![2])]);
        assert_eq!(next_set(&[], &rules, &two), Some(1));
        assert_eq!(next_set(&[attempt(1, false)], &rules, &two), Some(2));
        assert_eq!(next_set(&[attempt(1, true)], &rules, &two), None);
        assert_eq!(
            next_set(&[attempt(1, false), attempt(2, false)], &rules, &two),
            None
        );
        // A second set not chosen yet, or not allowed.
        let one: BTreeMap<u32, Vec<i64>> = BTreeMap::from([(1, vec![1])]);
        assert_eq!(next_set(&[attempt(1, false)], &rules, &one), None);
        let strict = RatingRules {
            qualify_sets: 1,
            ..rules
        };
        assert_eq!(next_set(&[attempt(1, false)], &strict, &two), None);
        assert!(matches!(
            standing(&two, &strict, vec![attempt(1, false)], |_| (0, 0)),
            Standing::NotQualified(_)
        ));
        assert_eq!(
            standing(&BTreeMap::new(), &rules, vec![], |_| (0, 0)),
            Standing::NoGate
        );
    }
}
