//! Rater scoring: anonymous responses, who reads what, every reading as given, and resolution.
//!
//! A rater reaches a response only through an assignment of their own, and only by its random
//! code; nothing a rater's query returns carries the candidate, the attempt, the sitting or a
//! time. Ratings are appended, never updated: an assignment's newest rating is its state.
//!
//! `coding` makes the coded responses, `assignment` decides who reads what, `desk` is a rater's
//! queue and readings, `settle` applies the rules, `progress` and `feedback` are the committee's
//! view; this module keeps what several of them share.

use std::collections::BTreeMap;

use crate::auth::Role;
use crate::scoring::assign::RaterInfo;

use super::{Db, Result, StoreError};

pub mod appeal;
mod assignment;
mod coding;
mod desk;
mod feedback;
mod near_cut;
pub(crate) use near_cut::look_at_sitting;
mod progress;
mod qualify;
mod read_behind;
mod settle;

pub use assignment::{assign_sitting, declare_conflict, withdraw_rater, AssignReport};
pub(crate) use coding::code_responses;
pub use coding::{seed_qualifying, seed_validity};
pub use desk::{
    desk, queue, rate, Desk, DeskQuestion, QueueEntry, RateError, RateFailure, RatingInput,
    Reading, ReadingState,
};
pub use feedback::{edit_feedback, feedback_for};
pub use progress::{progress, rater_status, Progress, RaterStatus};
pub use qualify::{my_standing, qualification, QualifyingAttempt, RaterQualification, Standing};
pub use read_behind::{
    read_behind, read_behind_counts, read_behind_entry, read_behind_sample, ReadBehindCount,
    ReadBehindDone, ReadBehindEntry, ReadBehindError,
};
pub use settle::settle;

/// The raters who may be given work: active accounts with the rater role.
async fn raters(db: &Db) -> Result<Vec<RaterInfo>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, organisation FROM users WHERE role = $1 AND disabled = 0 ORDER BY id",
    )
    .bind(Role::Rater.code())
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, organisation)| RaterInfo { id, organisation })
        .collect())
}

/// Final scores by reading number, as the rules take them: 1, 2, then 3, stopping at a gap.
fn in_reading_order(by_reading: &BTreeMap<i64, u32>) -> Vec<u32> {
    let mut out = Vec::new();
    for r in 1..=3 {
        match by_reading.get(&r) {
            Some(s) => out.push(*s),
            None => break,
        }
    }
    out
}

fn missing(what: &str) -> StoreError {
    StoreError::Sqlx(sqlx::Error::Protocol(format!("{what} is not in the bank")))
}
