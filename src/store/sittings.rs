//! Sittings, registrations, admission, and candidates' entry with their access code.
//! Registering (a batch, or one) is in `batches`; absence and a sitting's close in `absence`.

use crate::auth;
use crate::bank::{Blueprint, Level};
use crate::exam::clock::Multiplier;
use crate::exam::form::Parts;
use crate::exam::registration::{CsvRow, NewRegistration};

use super::batches::BatchError;
use super::{now_ms, users, Db, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sitting {
    pub id: i64,
    pub name: String,
    pub place: String,
    pub opens_at: i64,
    pub closes_at: i64,
    pub blueprints: Vec<String>,
    pub created_by: String,
}

impl Sitting {
    pub fn is_open(&self, now: i64) -> bool {
        self.opens_at <= now && now < self.closes_at
    }
}

type SittingRow = (i64, String, String, i64, i64, String, String);

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
    }
}

const SITTING_COLUMNS: &str = "id, name, place, opens_at, closes_at, blueprints, created_by";

pub struct NewSitting<'a> {
    pub name: &'a str,
    pub place: &'a str,
    pub opens_at: i64,
    pub closes_at: i64,
    pub blueprints: &'a [String],
}

pub async fn create_sitting(db: &Db, new: &NewSitting<'_>, by: &str) -> Result<i64> {
    let mut tx = db.write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sittings (name, place, opens_at, closes_at, blueprints, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.name)
    .bind(new.place)
    .bind(new.opens_at)
    .bind(new.closes_at)
    .bind(new.blueprints.join(","))
    .bind(by)
    .bind(now_ms())
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
}

const REG_COLUMNS: &str = "id, sitting_id, access_code_id, name, email, organisation, level, blueprint_id, sits_part_one, sits_part_two, multiplier_permille, extra_breaks, retake_override, admitted_at, admitted_by, active_session, absent_at, absent_by";

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
    })
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

/// Dates as the committee writes them, e.g. `2026-11-23`.
pub fn date(ms: i64) -> String {
    crate::exam::batch::date(ms)
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
    match super::batches::register_batch(
        db,
        sitting,
        &rows,
        blueprints,
        by,
        by_admin,
        super::batches::Origin::Form,
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

/// The proctor admits a candidate after checking identity. Admitting twice changes nothing;
/// admitting someone marked absent (who came late after all) clears the absence.
pub async fn admit(db: &Db, registration_id: i64, by: &str) -> Result<bool> {
    let mut tx = db.write().await?;
    let n = sqlx::query(
        "UPDATE registrations SET admitted_at = $1, admitted_by = $2, absent_at = NULL, absent_by = NULL
         WHERE id = $3 AND admitted_at IS NULL",
    )
    .bind(now_ms())
    .bind(by)
    .bind(registration_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    // The record and the sitting's event commit with the admission itself.
    record_for_registration(
        &mut tx,
        registration_id,
        by,
        super::audit::Action::CandidateAdmit,
        ("admitted", "identity checked"),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A proctor's incident note: the sitting's event and the audit record in one transaction.
pub async fn log_incident(db: &Db, sitting_id: i64, detail: &str, by: &str) -> Result<()> {
    let mut tx = db.write().await?;
    log_event_tx(&mut tx, sitting_id, None, "incident", detail, by).await?;
    super::audit::record_tx(
        &mut tx,
        by,
        super::audit::Action::SittingIncident,
        &format!("sitting {sitting_id}: {detail}"),
    )
    .await?;
    tx.commit().await
}

/// Records what happened in a sitting: browser events, incidents, proctor notes.
pub async fn log_event(
    db: &Db,
    sitting_id: i64,
    registration_id: Option<i64>,
    kind: &str,
    detail: &str,
    actor: &str,
) -> Result<()> {
    let mut tx = db.write().await?;
    log_event_tx(&mut tx, sitting_id, registration_id, kind, detail, actor).await?;
    tx.commit().await
}

/// The same, inside a transaction, so the event stands or falls with what it records.
pub async fn log_event_tx(
    tx: &mut super::WriteTx,
    sitting_id: i64,
    registration_id: Option<i64>,
    kind: &str,
    detail: &str,
    actor: &str,
) -> Result<()> {
    log_event_at(
        tx,
        sitting_id,
        registration_id,
        now_ms(),
        kind,
        detail,
        actor,
    )
    .await
}

/// The same, for something that happened at `at` (a break that ended by itself, say).
pub async fn log_event_at(
    tx: &mut super::WriteTx,
    sitting_id: i64,
    registration_id: Option<i64>,
    at: i64,
    kind: &str,
    detail: &str,
    actor: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sitting_events (sitting_id, registration_id, at, kind, detail, actor) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sitting_id)
    .bind(registration_id)
    .bind(at)
    .bind(kind)
    .bind(detail)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// What became of an event reported by a candidate's browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserEvent {
    /// Listed for the proctor, one row.
    Listed,
    /// Past the part's limit of listed events: counted on the attempt only.
    Counted,
    /// No part has been started: there is nothing to report it against.
    NoPart,
}

/// Records an event from the candidate's browser against their current part (the open one,
/// else the last started): every event is counted on the attempt, the first
/// `MAX_LISTED_BROWSER_EVENTS` of a part are also listed one by one for the proctor.
pub async fn log_browser_event(
    db: &Db,
    sitting_id: i64,
    registration_id: i64,
    kind: &str,
    detail: &str,
) -> Result<BrowserEvent> {
    let mut tx = db.write().await?;
    let count: Option<i64> = sqlx::query_scalar(
        "UPDATE attempts SET browser_events = browser_events + 1
         WHERE id = (SELECT id FROM attempts WHERE registration_id = $1
                     ORDER BY CASE WHEN submitted_at IS NULL AND voided_at IS NULL THEN 0 ELSE 1 END,
                              started_at DESC, id DESC LIMIT 1)
         RETURNING browser_events",
    )
    .bind(registration_id)
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match count {
        None => BrowserEvent::NoPart,
        Some(n) if n <= crate::exam::limits::MAX_LISTED_BROWSER_EVENTS => {
            log_event_tx(
                &mut tx,
                sitting_id,
                Some(registration_id),
                kind,
                detail,
                "browser",
            )
            .await?;
            BrowserEvent::Listed
        }
        Some(_) => BrowserEvent::Counted,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Per registration of a sitting, the browser events counted but not listed (past each part's
/// limit); registrations with none are left out.
pub async fn unlisted_browser_events(
    db: &Db,
    sitting_id: i64,
) -> Result<std::collections::BTreeMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT a.registration_id, CAST(SUM(a.browser_events - $2) AS BIGINT)
         FROM attempts a JOIN registrations r ON r.id = a.registration_id
         WHERE r.sitting_id = $1 AND a.browser_events > $2
         GROUP BY a.registration_id",
    )
    .bind(sitting_id)
    .bind(crate::exam::limits::MAX_LISTED_BROWSER_EVENTS)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().collect())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SittingEvent {
    pub id: i64,
    pub registration_id: Option<i64>,
    pub at: i64,
    pub kind: String,
    pub detail: String,
    pub actor: String,
    pub resolved_at: Option<i64>,
}

pub async fn events(db: &Db, sitting_id: i64) -> Result<Vec<SittingEvent>> {
    Ok(sqlx::query_as(
        "SELECT id, registration_id, at, kind, detail, actor, resolved_at FROM sitting_events
         WHERE sitting_id = $1 ORDER BY id DESC",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?)
}

/// What entering with an access code led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A new browser session for the registration: set this token as the cookie.
    Opened(String),
    /// This browser already holds the registration.
    Continue,
    Unknown,
    /// Another browser holds the registration; an incident was logged for the proctor.
    InUse,
}

/// A candidate enters with their code. One browser holds a registration at a time: a second
/// browser is refused (and the proctor told) until the proctor moves the attempt to it.
pub async fn enter(db: &Db, typed: &str, current_token: Option<&str>) -> Result<Entry> {
    let code = auth::normalise_access_code(typed);
    let code_id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM access_codes WHERE code_hash = $1")
            .bind(auth::sha256_hex(&code))
            .fetch_optional(&db.pool)
            .await?;
    let Some(code_id) = code_id else {
        return Ok(Entry::Unknown);
    };
    let Some(reg) = registration_by_code(db, code_id).await? else {
        return Ok(Entry::Unknown);
    };
    let now = now_ms();
    if let Some(active) = &reg.active_session {
        if current_token.is_some_and(|t| auth::sha256_hex(t) == *active) {
            return Ok(Entry::Continue);
        }
        let alive: Option<i64> = sqlx::query_scalar(
            "SELECT expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(active)
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
        if alive.is_some() {
            log_event(
                db,
                reg.sitting_id,
                Some(reg.id),
                "second-login",
                "the access code was entered in a second browser and refused",
                "system",
            )
            .await?;
            return Ok(Entry::InUse);
        }
    }
    let token = auth::random_token();
    let hash = auth::sha256_hex(&token);
    let mut tx = db.write().await?;
    // Conditional: of two browsers racing, one wins.
    let claimed = sqlx::query(
        "UPDATE registrations SET active_session = $1 WHERE id = $2 AND (active_session IS NULL OR active_session = $3)",
    )
    .bind(&hash)
    .bind(reg.id)
    .bind(reg.active_session.as_deref().unwrap_or(""))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(Entry::InUse);
    }
    if let Some(old) = &reg.active_session {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(old)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE access_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(code_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, access_code_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&hash)
    .bind(code_id)
    .bind(now)
    .bind(now + users::CANDIDATE_SESSION_MS)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Entry::Opened(token))
}

/// The proctor moves a candidate to a new browser: the old browser's session ends, the code
/// works again once, and the second-login incidents are resolved.
pub async fn release_browser(db: &Db, registration_id: i64, by: &str) -> Result<()> {
    let mut tx = db.write().await?;
    let active: Option<Option<String>> =
        sqlx::query_scalar("SELECT active_session FROM registrations WHERE id = $1")
            .bind(registration_id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(Some(hash)) = active {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE registrations SET active_session = NULL WHERE id = $1")
        .bind(registration_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE sitting_events SET resolved_at = $1, resolved_by = $2
         WHERE registration_id = $3 AND kind = 'second-login' AND resolved_at IS NULL",
    )
    .bind(now_ms())
    .bind(by)
    .bind(registration_id)
    .execute(&mut *tx)
    .await?;
    record_for_registration(
        &mut tx,
        registration_id,
        by,
        super::audit::Action::MoveBrowser,
        (
            "moved-browser",
            "the candidate may enter again in a new browser",
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A proctor's action on one registration, recorded in the action's own transaction: the audit
/// record ("registration N (email)") and the sitting's event (`kind`, `detail`).
async fn record_for_registration(
    tx: &mut super::WriteTx,
    registration_id: i64,
    by: &str,
    action: super::audit::Action,
    (kind, detail): (&str, &str),
) -> Result<()> {
    let (sitting_id, email): (i64, String) =
        sqlx::query_as("SELECT sitting_id, email FROM registrations WHERE id = $1")
            .bind(registration_id)
            .fetch_one(&mut **tx)
            .await?;
    super::audit::record_tx(
        tx,
        by,
        action,
        &format!("registration {registration_id} ({email})"),
    )
    .await?;
    log_event_tx(tx, sitting_id, Some(registration_id), kind, detail, by).await
}

/// Notes that the candidate's browser was heard from just now.
pub async fn touch(db: &Db, registration_id: i64) -> Result<()> {
    sqlx::query("UPDATE registrations SET last_seen_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(registration_id)
        .execute(&db.writer)
        .await?;
    Ok(())
}

/// When each registration of a sitting was last heard from, by registration id.
pub async fn last_seen(db: &Db, sitting_id: i64) -> Result<std::collections::BTreeMap<i64, i64>> {
    let rows: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, last_seen_at FROM registrations WHERE sitting_id = $1")
            .bind(sitting_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, t)| t.map(|t| (id, t)))
        .collect())
}

/// For a candidate's session (SHA-256 of its token): (registration id, the session that holds
/// the registration, blueprint id), in one query: the hot path of every save.
pub async fn candidate_for_session(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(i64, Option<String>, String)>> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.active_session, r.blueprint_id FROM sessions s
         JOIN registrations r ON r.access_code_id = s.access_code_id
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?)
}
