//! Appeals (issue 17): after a sitting's results are released, within its blueprint's window, a
//! candidate asks for a part to be re-scored, with a reason (`request`). The committee starts
//! the re-score (`rescore`): Part One is recounted against the current keys; each Part Two
//! response is read again, blind, by a rater who has not read it (an assignment like any other,
//! marked with its appeal). The committee reads the recount or the re-readings with the
//! blueprint's rule applied (`review`) and decides with reasons (`decide`): a changed result is
//! stored for that candidate alone, whose page shows it at once. Every step is audited in its
//! own transaction.

use crate::bank::PartTwoRule;

use super::sittings::{registrations, Registration};
use super::{Db, Result, StoreError};

mod decide;
mod request;
mod rescore;
mod review;

pub use decide::{decide, DecideRefused};
pub use request::request;
pub use rescore::{start, StartRefused};
pub use review::{review, PartOneLine, PartTwoLine, Review};

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Requested; the committee has not started the re-score.
    Open,
    /// Part One recounted, or Part Two's re-readings assigned: awaiting the decision.
    Rescoring,
    Decided,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Rescoring => "rescoring",
            State::Decided => "decided",
        }
    }

    /// As the candidate and the committee read it.
    pub fn label(self) -> &'static str {
        match self {
            State::Open => "received",
            State::Rescoring => "under re-score",
            State::Decided => "decided",
        }
    }

    fn parse(s: &str) -> Option<State> {
        match s {
            "open" => Some(State::Open),
            "rescoring" => Some(State::Rescoring),
            "decided" => Some(State::Decided),
            _ => None,
        }
    }
}

/// An appeal as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Appeal {
    pub id: i64,
    pub registration_id: i64,
    pub part: u8,
    pub reason: String,
    pub requested_at: i64,
    /// The window's end when it was requested.
    pub deadline_at: i64,
    pub state: State,
    /// The result appealed: (points, passed).
    pub before: (f64, bool),
    /// Part Two: the blueprint's rule, fixed when the re-score started.
    pub part_two_rule: Option<PartTwoRule>,
    pub started: Option<(String, i64)>,
    /// The result after the re-score, once known: (points, passed).
    pub after: Option<(f64, bool)>,
    /// Decided: whether the result changed.
    pub upheld: Option<bool>,
    /// The committee's reasons, its name and when.
    pub decision: Option<String>,
    pub decided: Option<(String, i64)>,
}

#[derive(sqlx::FromRow)]
struct AppealRow {
    id: i64,
    registration_id: i64,
    part: i64,
    reason: String,
    requested_at: i64,
    deadline_at: i64,
    state: String,
    before_points: f64,
    before_passed: i64,
    part_two_rule: Option<String>,
    started_by: Option<String>,
    started_at: Option<i64>,
    after_points: Option<f64>,
    after_passed: Option<i64>,
    upheld: Option<i64>,
    decision: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
}

const COLUMNS: &str =
    "p.id, p.registration_id, p.part, p.reason, p.requested_at, p.deadline_at, p.state,
    p.before_points, p.before_passed, p.part_two_rule, p.started_by, p.started_at, p.after_points,
    p.after_passed, p.upheld, p.decision, p.decided_by, p.decided_at";

impl AppealRow {
    fn into_appeal(self) -> Result<Appeal> {
        let bad = |what: String| {
            StoreError::Sqlx(sqlx::Error::Decode(
                format!("appeal {}: {what}", self.id).into(),
            ))
        };
        let part = u8::try_from(self.part)
            .ok()
            .filter(|p| (1..=2).contains(p))
            .ok_or_else(|| bad(format!("part {}", self.part)))?;
        let state =
            State::parse(&self.state).ok_or_else(|| bad(format!("state {}", self.state)))?;
        let part_two_rule = match &self.part_two_rule {
            Some(r) => Some(r.parse::<PartTwoRule>().map_err(bad)?),
            None => None,
        };
        Ok(Appeal {
            id: self.id,
            registration_id: self.registration_id,
            part,
            reason: self.reason,
            requested_at: self.requested_at,
            deadline_at: self.deadline_at,
            state,
            before: (self.before_points, self.before_passed == 1),
            part_two_rule,
            started: self.started_by.zip(self.started_at),
            after: self.after_points.zip(self.after_passed.map(|p| p == 1)),
            upheld: self.upheld.map(|u| u == 1),
            decision: self.decision,
            decided: self.decided_by.zip(self.decided_at),
        })
    }
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Appeal>> {
    let row: Option<AppealRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM appeals p WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    row.map(AppealRow::into_appeal).transpose()
}

/// A candidate's appeals, by part.
pub async fn of_registration(db: &Db, registration_id: i64) -> Result<Vec<Appeal>> {
    let rows: Vec<AppealRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM appeals p WHERE p.registration_id = $1 ORDER BY p.part"
    ))
    .bind(registration_id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(AppealRow::into_appeal).collect()
}

/// A sitting's appeals with their candidates, open ones first, each group oldest first. Two
/// queries whatever the sitting's size.
pub async fn of_sitting(db: &Db, sitting_id: i64) -> Result<Vec<(Appeal, Registration)>> {
    let rows: Vec<AppealRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM appeals p JOIN registrations g ON g.id = p.registration_id
         WHERE g.sitting_id = $1
         ORDER BY CASE p.state WHEN 'decided' THEN 1 ELSE 0 END, p.requested_at, p.id"
    ))
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let regs = registrations(db, sitting_id).await?;
    rows.into_iter()
        .map(|row| {
            let appeal = row.into_appeal()?;
            let reg = regs
                .iter()
                .find(|r| r.id == appeal.registration_id)
                .cloned()
                .ok_or_else(|| {
                    StoreError::Sqlx(sqlx::Error::Decode(
                        format!("appeal {}: its registration is missing", appeal.id).into(),
                    ))
                })?;
            Ok((appeal, reg))
        })
        .collect()
}

/// "61 (passed)" for an audit record.
fn said(r: (f64, bool)) -> String {
    format!(
        "{} ({})",
        crate::scoring::results::points_text(r.0),
        if r.1 { "passed" } else { "not passed" }
    )
}
