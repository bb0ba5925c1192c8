//! Sittings, registrations, admission, and candidates' entry with their access code.
//! Registering (a batch, or one) is in `batches`; absence and a sitting's close in `absence`.
//!
//! This module keeps the sitting itself; `registrations` reads registrations and registers one,
//! `admission` is the proctor's admit and browser move, `events` the sitting's log, `entry` a
//! candidate's way in with their code.

use super::{now_ms, Db, Result};

mod admission;
mod entry;
mod events;
mod registrations;

pub use admission::{admit, release_browser};
pub use entry::{candidate_for_session, enter, last_seen, touch, Entry};
pub use events::{
    events, log_browser_event, log_event, log_event_at, log_event_tx, log_incident,
    unlisted_browser_events, BrowserEvent, SittingEvent,
};
pub use registrations::{
    candidate_by_session, register, registration, registration_by_code, registrations,
    RegisterError, Registration,
};
pub(crate) use registrations::{reg_sitting_columns, reg_sitting_from, RegSittingRow};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sitting {
    pub id: i64,
    pub name: String,
    pub place: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub blueprints: Vec<String>,
    pub created_by: String,
    /// The IANA name of the time zone its times are shown in, e.g. `America/Detroit`.
    pub time_zone: String,
}

impl Sitting {
    pub fn is_open(&self, now: i64) -> bool {
        self.opens_at <= now && now < self.closes_at
    }
}

type SittingRow = (i64, String, String, i64, i64, String, String, String);

fn sitting_from(r: SittingRow) -> Sitting {
    Sitting {
        id: r.0,
        name: r.1,
        place: r.2,
        opens_at: r.3,
        closes_at: r.4,
        blueprints: r
            .5
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        created_by: r.6,
        time_zone: r.7,
    }
}

const SITTING_COLUMNS: &str =
    "id, name, place, opens_at, closes_at, blueprints, created_by, time_zone";

pub struct NewSitting<'a> {
    pub name: &'a str,
    pub place: &'a str,
    pub opens_at: i64,
    pub closes_at: i64,
    pub blueprints: &'a [String],
}

pub async fn create_sitting(db: &Db, new: &NewSitting<'_>, by: &str) -> Result<i64> {
    create_sitting_in_zone(db, new, "UTC", by).await
}

/// Schedules a sitting whose times are shown in `time_zone`, an IANA name the caller has
/// checked (`web::time::zone`).
pub async fn create_sitting_in_zone(
    db: &Db,
    new: &NewSitting<'_>,
    time_zone: &str,
    by: &str,
) -> Result<i64> {
    let mut tx = db.write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sittings (name, place, opens_at, closes_at, blueprints, created_by, created_at, time_zone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.name)
    .bind(new.place)
    .bind(new.opens_at)
    .bind(new.closes_at)
    .bind(new.blueprints.join(","))
    .bind(by)
    .bind(now_ms())
    .bind(time_zone)
    .fetch_one(&mut *tx)
    .await?;
    super::audit::record_tx(
        &mut tx,
        by,
        super::audit::Action::SittingCreate,
        &format!("sitting {id}: {}", new.name),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn sitting(db: &Db, id: i64) -> Result<Option<Sitting>> {
    let row: Option<SittingRow> = sqlx::query_as(&format!(
        "SELECT {SITTING_COLUMNS} FROM sittings WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(sitting_from))
}

pub async fn list_sittings(db: &Db) -> Result<Vec<Sitting>> {
    let rows: Vec<SittingRow> = sqlx::query_as(&format!(
        "SELECT {SITTING_COLUMNS} FROM sittings ORDER BY opens_at DESC, id DESC"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(sitting_from).collect())
}

/// Dates as the committee writes them, e.g. `2026-11-23`.
pub fn date(ms: i64) -> String {
    crate::exam::batch::date(ms)
}
