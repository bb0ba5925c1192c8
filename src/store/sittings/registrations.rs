//! Registrations: a candidate's place in a sitting, read back, and registering one (a batch of
//! one, through `batches`).

use crate::bank::{Blueprint, Level};
use crate::exam::clock::Multiplier;
use crate::exam::form::Parts;
use crate::exam::registration::{CsvRow, NewRegistration};
use crate::store::batches::BatchError;
use crate::store::{now_ms, Db, Result, StoreError};

use super::Sitting;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub id: i64,
    pub sitting_id: i64,
    pub access_code_id: i64,
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub level: Level,
    pub blueprint_id: String,
    pub parts: Parts,
    pub multiplier: Multiplier,
    pub extra_breaks: u32,
    pub retake_override: Option<String>,
    pub admitted_at: Option<i64>,
    pub admitted_by: Option<String>,
    pub active_session: Option<String>,
    /// Marked absent: by the proctor, or by the sitting's close ("system") if never admitted.
    pub absent_at: Option<i64>,
    pub absent_by: Option<String>,
    /// Extra breaks taken so far, of `extra_breaks`.
    pub breaks_taken: u32,
}

impl Registration {
    /// Approved extra breaks not yet taken.
    pub fn breaks_left(&self) -> u32 {
        self.extra_breaks.saturating_sub(self.breaks_taken)
    }
}

#[derive(sqlx::FromRow)]
struct RegRow {
    id: i64,
    sitting_id: i64,
    access_code_id: i64,
    name: String,
    email: String,
    organisation: String,
    level: String,
    blueprint_id: String,
    sits_part_one: i64,
    sits_part_two: i64,
    multiplier_permille: i64,
    extra_breaks: i64,
    retake_override: Option<String>,
    admitted_at: Option<i64>,
    admitted_by: Option<String>,
    active_session: Option<String>,
    absent_at: Option<i64>,
    absent_by: Option<String>,
    breaks_taken: i64,
}

const REG_COLUMNS: &str = "id, sitting_id, access_code_id, name, email, organisation, level, blueprint_id, sits_part_one, sits_part_two, multiplier_permille, extra_breaks, retake_override, admitted_at, admitted_by, active_session, absent_at, absent_by, breaks_taken";

fn corrupt(what: String) -> StoreError {
    StoreError::Sqlx(sqlx::Error::Decode(what.into()))
}

fn reg_from(r: RegRow) -> Result<Registration> {
    let level = r.level.parse::<Level>().map_err(corrupt)?;
    let multiplier = u32::try_from(r.multiplier_permille)
        .map(Multiplier::from_permille)
        .map_err(|_| {
            corrupt(format!(
                "registration {}: time multiplier {} per mille",
                r.id, r.multiplier_permille
            ))
        })?;
    let extra_breaks = u32::try_from(r.extra_breaks).map_err(|_| {
        corrupt(format!(
            "registration {}: {} extra breaks",
            r.id, r.extra_breaks
        ))
    })?;
    let breaks_taken = u32::try_from(r.breaks_taken).map_err(|_| {
        corrupt(format!(
            "registration {}: {} breaks taken",
            r.id, r.breaks_taken
        ))
    })?;
    Ok(Registration {
        id: r.id,
        sitting_id: r.sitting_id,
        access_code_id: r.access_code_id,
        name: r.name,
        email: r.email,
        organisation: r.organisation,
        level,
        blueprint_id: r.blueprint_id,
        parts: Parts {
            one: r.sits_part_one != 0,
            two: r.sits_part_two != 0,
        },
        multiplier,
        extra_breaks,
        retake_override: r.retake_override,
        admitted_at: r.admitted_at,
        admitted_by: r.admitted_by,
        active_session: r.active_session,
        absent_at: r.absent_at,
        absent_by: r.absent_by,
        breaks_taken,
    })
}

/// A registration row with its sitting's columns beside it (prefixed `s_`).
#[derive(sqlx::FromRow)]
pub(crate) struct RegSittingRow {
    #[sqlx(flatten)]
    reg: RegRow,
    s_name: String,
    s_place: String,
    s_opens_at: i64,
    s_closes_at: i64,
    s_blueprints: String,
    s_created_by: String,
    s_time_zone: String,
}

/// The select list of a `RegSittingRow`, from `registrations r` and `sittings si`.
pub(crate) fn reg_sitting_columns() -> String {
    let reg_columns = REG_COLUMNS
        .split(", ")
        .map(|c| format!("r.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{reg_columns}, si.name AS s_name, si.place AS s_place, si.opens_at AS s_opens_at,
         si.closes_at AS s_closes_at, si.blueprints AS s_blueprints, si.created_by AS s_created_by,
         si.time_zone AS s_time_zone"
    )
}

pub(crate) fn reg_sitting_from(row: RegSittingRow) -> Result<(Registration, Sitting)> {
    let sitting = super::sitting_from((
        row.reg.sitting_id,
        row.s_name,
        row.s_place,
        row.s_opens_at,
        row.s_closes_at,
        row.s_blueprints,
        row.s_created_by,
        row.s_time_zone,
    ));
    Ok((reg_from(row.reg)?, sitting))
}

/// The registration a candidate's browser session holds (SHA-256 of its token, unexpired)
/// and its sitting, in one query: the first step of every candidate page. Whether this
/// browser is still the registration's active one is the caller's to check.
pub async fn candidate_by_session(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(Registration, Sitting)>> {
    let sql = format!(
        "SELECT {} FROM sessions se
         JOIN registrations r ON r.access_code_id = se.access_code_id
         JOIN sittings si ON si.id = r.sitting_id
         WHERE se.token_hash = $1 AND se.expires_at > $2",
        reg_sitting_columns()
    );
    let row = sqlx::query_as(&sql).bind(token_hash).bind(now_ms());
    let row: Option<RegSittingRow> = db.hot_optional(row).await?;
    row.map(reg_sitting_from).transpose()
}

pub async fn registration(db: &Db, id: i64) -> Result<Option<Registration>> {
    let row: Option<RegRow> = sqlx::query_as(&format!(
        "SELECT {REG_COLUMNS} FROM registrations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(reg_from).transpose()
}

pub async fn registration_by_code(db: &Db, access_code_id: i64) -> Result<Option<Registration>> {
    let row: Option<RegRow> = sqlx::query_as(&format!(
        "SELECT {REG_COLUMNS} FROM registrations WHERE access_code_id = $1"
    ))
    .bind(access_code_id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(reg_from).transpose()
}

pub async fn registrations(db: &Db, sitting_id: i64) -> Result<Vec<Registration>> {
    let rows: Vec<RegRow> = sqlx::query_as(&format!(
        "SELECT {REG_COLUMNS} FROM registrations WHERE sitting_id = $1 ORDER BY name, id"
    ))
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(reg_from).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// A field's value cannot be taken: (field, message).
    #[error("{0}: {1}")]
    Field(&'static str, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RegisterError {
    fn from(e: sqlx::Error) -> Self {
        RegisterError::Store(StoreError::Sqlx(e))
    }
}

/// Registers one candidate (a batch of one) and returns the registration's id and its access
/// code in clear. `blueprints` are the bank's blueprints; the candidate's level picks the
/// sitting's blueprint for that level. A part sat within the blueprint's waiting period is
/// refused unless an admin (`by_admin`) gives a reason.
pub async fn register(
    db: &Db,
    sitting: &Sitting,
    new: &NewRegistration,
    blueprints: &[Blueprint],
    by: &str,
    by_admin: bool,
) -> Result<(i64, String), RegisterError> {
    let rows = [CsvRow {
        line: 1,
        registration: new.clone(),
    }];
    match crate::store::batches::register_batch(
        db,
        sitting,
        &rows,
        blueprints,
        by,
        by_admin,
        crate::store::batches::Origin::Form,
    )
    .await
    {
        Ok(batch) => {
            let (id, code) = batch
                .registered
                .into_iter()
                .next()
                .expect("a batch of one registers one");
            Ok((id, code))
        }
        Err(BatchError::Rows(errors)) => {
            let e = errors.into_iter().next().expect("a refusal names its row");
            Err(RegisterError::Field(
                e.field.unwrap_or("registration"),
                e.message,
            ))
        }
        Err(BatchError::Store(e)) => Err(RegisterError::Store(e)),
    }
}
