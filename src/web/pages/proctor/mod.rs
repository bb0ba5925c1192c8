//! Sittings for admins and proctors: schedule, register candidates (one by one or CSV), and
//! the console to admit, pause, resume, add time, void, move a browser and log incidents.
//!
//! `schedule` lists and schedules sittings, `console` is a sitting's console and its live rows,
//! `admission` the actions on a registration, `intervention` those on running attempts; this
//! module keeps the time formats other pages share.

use crate::store::sittings::{self, Registration};

use crate::web::error::{AppError, AppResult};
use crate::web::AppState;

mod admission;
mod console;
mod intervention;
mod schedule;

pub use admission::{absent, admit, release};
pub use console::ConsoleQuery;
pub(super) use console::{console, load_console, parts_label, Outcome};
pub use console::{live, show};
pub use intervention::{
    add_time, confirm_void, incident, pause, pause_all, resume, resume_all, void, AddTime,
    Incident, Reason,
};
pub use schedule::{create, list, SittingForm};

/// `2026-11-23 14:05 UTC`, for times that belong to no sitting; a sitting's own times are
/// shown in its time zone by `web::time::local`.
pub fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

pub fn minutes_seconds(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

async fn registration_for_staff(state: &AppState, id: i64) -> AppResult<Registration> {
    sittings::registration(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}
