//! Attempts: one timed part of a registration, its form, its clock and its response log.
//!
//! Every write to an attempt goes through the database's writer (SQLite's one write connection)
//! and locks the attempt's row on PostgreSQL before anything is read: saves to one attempt are
//! serialised, so the chain never forks, on either engine.
//!
//! `start` draws a part's form and starts its clock, `save` is the save queue and its group
//! commit, `lifecycle` submits, voids and changes the clock, `verify` replays the chains; this
//! module keeps the attempt itself and its reads, which the others use.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

use sqlx::Any;

use crate::exam::clock::{Clock, Multiplier};
use crate::exam::form::Form;

use super::{Db, Result, StoreError};

mod current;
mod lifecycle;
mod save;
mod start;
mod verify;

pub use current::{current_answers, AnswerCache, CurrentAnswers, ANSWER_CACHE_BYTES};
pub use lifecycle::{
    breaks_left, change_clock, end_overlong_breaks, open_per_sitting, proctor_clock,
    proctor_clock_all, submit, submit_expired, void, ClockAction, ClockChange, Voided,
};

pub use save::{queue_depth, save, SaveError, SaveRequest, Saved, MAX_SEQ};
pub use start::{start_part, StartError};
pub use verify::verify_chains;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub registration_id: i64,
    pub part: u8,
    /// Fixed once drawn: shared, so a page reads it from this process's cache, not the row.
    pub form: Arc<Form>,
    pub clock: Clock,
    pub chain_head: String,
    pub chain_len: i64,
    pub last_save_at: Option<i64>,
    pub submitted_at: Option<i64>,
    pub submitted_by: Option<String>,
    pub voided_at: Option<i64>,
    pub void_reason: Option<String>,
    /// Who stopped the clock, while it is stopped: "proctor" or "break".
    pub paused_by: Option<String>,
    /// The longest open response this part takes, in characters (from its blueprint).
    pub max_response_chars: usize,
    /// The longest an approved break lasts in this part (from its blueprint).
    pub break_max_ms: i64,
}

impl Attempt {
    /// True while the candidate is on one of their approved breaks.
    pub fn on_break(&self) -> bool {
        self.clock.is_paused() && self.paused_by.as_deref() == Some("break")
    }

    pub fn is_open(&self) -> bool {
        self.submitted_at.is_none() && self.voided_at.is_none()
    }
}

/// The key a chain is started from: known before the attempt's row exists.
pub fn chain_key(registration_id: i64, part: u8) -> String {
    format!("registration-{registration_id}-part-{part}")
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    registration_id: i64,
    part: i64,
    form: String,
    started_at: i64,
    section_ms: i64,
    multiplier_permille: i64,
    added_ms: i64,
    paused_ms: i64,
    paused_since: Option<i64>,
    chain_head: String,
    chain_len: i64,
    last_save_at: Option<i64>,
    submitted_at: Option<i64>,
    submitted_by: Option<String>,
    voided_at: Option<i64>,
    void_reason: Option<String>,
    paused_by: Option<String>,
    max_response_chars: i64,
    break_max_ms: i64,
}

/// `last_save_at` is the newest event's time: a save writes only its event. A chain's times
/// never go backwards, so the newest event (found through the primary key, at the same cost
/// at 10 saves or 10,000) holds the latest time.
const ATTEMPT_COLUMNS: &str = "id, registration_id, part, form, started_at, section_ms, multiplier_permille, added_ms, paused_ms, paused_since, chain_head, chain_len, (SELECT e.at_ms FROM response_events e WHERE e.attempt_id = attempts.id ORDER BY e.n DESC LIMIT 1) AS last_save_at, submitted_at, submitted_by, voided_at, void_reason, paused_by, max_response_chars, break_max_ms";

fn attempt_from(r: AttemptRow) -> Result<Attempt> {
    let form = parse_form(r.id, &r.form)?;
    attempt_with(r, Arc::new(form))
}

fn parse_form(id: i64, json: &str) -> Result<Form> {
    serde_json::from_str(json).map_err(|e| {
        StoreError::Sqlx(sqlx::Error::Decode(
            format!("attempt {id}: its form: {e}").into(),
        ))
    })
}

/// The attempt of a row whose form is known already (the row's own `form` is not read).
fn attempt_with(r: AttemptRow, form: Arc<Form>) -> Result<Attempt> {
    Ok(Attempt {
        id: r.id,
        registration_id: r.registration_id,
        part: u8::try_from(r.part).unwrap_or(1),
        form,
        clock: Clock {
            started_at: r.started_at,
            section_ms: r.section_ms,
            multiplier: Multiplier::from_permille(
                u32::try_from(r.multiplier_permille).unwrap_or(1000),
            ),
            added_ms: r.added_ms,
            paused_ms: r.paused_ms,
            paused_since: r.paused_since,
            pause_limit_ms: break_limit(r.paused_since, r.paused_by.as_deref(), r.break_max_ms),
        },
        chain_head: r.chain_head,
        chain_len: r.chain_len,
        last_save_at: r.last_save_at,
        submitted_at: r.submitted_at,
        submitted_by: r.submitted_by,
        voided_at: r.voided_at,
        void_reason: r.void_reason,
        paused_by: r.paused_by,
        max_response_chars: usize::try_from(r.max_response_chars).map_err(|_| {
            StoreError::Sqlx(sqlx::Error::Decode(
                format!(
                    "attempt {}: max_response_chars is {}",
                    r.id, r.max_response_chars
                )
                .into(),
            ))
        })?,
        break_max_ms: r.break_max_ms,
    })
}

/// The stored pause's maximum: a candidate's break has one, a proctor's pause none.
fn break_limit(
    paused_since: Option<i64>,
    paused_by: Option<&str>,
    break_max_ms: i64,
) -> Option<i64> {
    (paused_since.is_some() && paused_by == Some("break")).then_some(break_max_ms)
}

pub async fn attempt(db: &Db, id: i64) -> Result<Option<Attempt>> {
    let row: Option<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(attempt_from).transpose()
}

/// An attempt's row with the number of its chain's newest event.
#[derive(sqlx::FromRow)]
struct AttemptNewestRow {
    #[sqlx(flatten)]
    attempt: AttemptRow,
    newest_n: Option<i64>,
}

/// The attempt columns with an empty `form`: read where the form comes from the cache.
static ATTEMPT_COLUMNS_BUT_FORM: LazyLock<String> =
    LazyLock::new(|| ATTEMPT_COLUMNS.replacen("form", "'' AS form", 1));

/// Attempts' forms by attempt id: a form never changes once drawn, so a candidate's page reads
/// it from the database once per process. Bounded by the forms' size.
#[derive(Debug, Clone)]
pub struct FormCache(moka::sync::Cache<i64, Arc<Form>>);

/// The most memory the cached forms may take, counted as their stored JSON.
pub const FORM_CACHE_BYTES: u64 = 32 * 1024 * 1024;

impl Default for FormCache {
    fn default() -> Self {
        FormCache(
            moka::sync::Cache::builder()
                .max_capacity(FORM_CACHE_BYTES)
                .weigher(|_, f: &Arc<Form>| {
                    u32::try_from(serde_json::to_string(&**f).map_or(0, |j| j.len()))
                        .unwrap_or(u32::MAX)
                })
                .build(),
        )
    }
}

/// A registration's attempt at `part`, with the number of its newest event (`None` before the
/// first save, for [`current_answers`]): a candidate page's one read of its attempt, without
/// its form once this process has it.
pub async fn attempt_of_part(
    db: &Db,
    registration_id: i64,
    part: u8,
) -> Result<Option<(Attempt, Option<i64>)>> {
    let row: Option<AttemptNewestRow> = sqlx::query_as(&format!(
        "SELECT {},
                (SELECT e.n FROM response_events e WHERE e.attempt_id = attempts.id ORDER BY e.n DESC LIMIT 1) AS newest_n
         FROM attempts WHERE registration_id = $1 AND part = $2",
        *ATTEMPT_COLUMNS_BUT_FORM
    ))
    .bind(registration_id)
    .bind(i64::from(part))
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some((
        with_cached_form(db, row.attempt).await?,
        row.newest_n,
    )))
}

/// The attempt of a row read without its form: the form from this process's cache, or read
/// once and kept.
async fn with_cached_form(db: &Db, row: AttemptRow) -> Result<Attempt> {
    let id = row.id;
    let form = match db.forms.0.get(&id) {
        Some(form) => form,
        None => {
            let json: String = sqlx::query_scalar("SELECT form FROM attempts WHERE id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await?;
            let form = Arc::new(parse_form(id, &json)?);
            db.forms.0.insert(id, form.clone());
            form
        }
    };
    attempt_with(row, form)
}

/// A session's row with its attempt of a part beside it (prefixed `a_`; all empty when the
/// part was never started) and the number of the attempt's newest event.
#[derive(sqlx::FromRow)]
struct SessionAttemptRow {
    #[sqlx(flatten)]
    who: crate::store::sittings::RegSittingRow,
    a_id: Option<i64>,
    a_registration_id: Option<i64>,
    a_part: Option<i64>,
    a_started_at: Option<i64>,
    a_section_ms: Option<i64>,
    a_multiplier_permille: Option<i64>,
    a_added_ms: Option<i64>,
    a_paused_ms: Option<i64>,
    a_paused_since: Option<i64>,
    a_chain_head: Option<String>,
    a_chain_len: Option<i64>,
    a_last_save_at: Option<i64>,
    a_submitted_at: Option<i64>,
    a_submitted_by: Option<String>,
    a_voided_at: Option<i64>,
    a_void_reason: Option<String>,
    a_paused_by: Option<String>,
    a_max_response_chars: Option<i64>,
    a_break_max_ms: Option<i64>,
    newest_n: Option<i64>,
}

impl SessionAttemptRow {
    /// The attempt's row, when there is an attempt (every NOT NULL column present).
    fn attempt(&mut self) -> Option<AttemptRow> {
        Some(AttemptRow {
            id: self.a_id?,
            registration_id: self.a_registration_id?,
            part: self.a_part?,
            form: String::new(),
            started_at: self.a_started_at?,
            section_ms: self.a_section_ms?,
            multiplier_permille: self.a_multiplier_permille?,
            added_ms: self.a_added_ms?,
            paused_ms: self.a_paused_ms?,
            paused_since: self.a_paused_since,
            chain_head: self.a_chain_head.take()?,
            chain_len: self.a_chain_len?,
            last_save_at: self.a_last_save_at,
            submitted_at: self.a_submitted_at,
            submitted_by: self.a_submitted_by.take(),
            voided_at: self.a_voided_at,
            void_reason: self.a_void_reason.take(),
            paused_by: self.a_paused_by.take(),
            max_response_chars: self.a_max_response_chars?,
            break_max_ms: self.a_break_max_ms?,
        })
    }
}

/// What an exam page reads of its candidate: the registration and sitting a browser session
/// holds (SHA-256 of its token, unexpired) and their attempt at `part` with its newest event's
/// number, in one query (a round trip fewer than `candidate_by_session` then
/// `attempt_of_part`, which matters on PostgreSQL). Whether this browser is still the
/// registration's active one is the caller's to check.
pub async fn candidate_attempt(
    db: &Db,
    token_hash: &str,
    part: u8,
) -> Result<Option<(CandidateRows, Option<(Attempt, Option<i64>)>)>> {
    let sql = format!(
        "SELECT {},
                a.id AS a_id, a.registration_id AS a_registration_id, a.part AS a_part,
                a.started_at AS a_started_at, a.section_ms AS a_section_ms,
                a.multiplier_permille AS a_multiplier_permille, a.added_ms AS a_added_ms,
                a.paused_ms AS a_paused_ms, a.paused_since AS a_paused_since,
                a.chain_head AS a_chain_head, a.chain_len AS a_chain_len,
                (SELECT e.at_ms FROM response_events e WHERE e.attempt_id = a.id ORDER BY e.n DESC LIMIT 1) AS a_last_save_at,
                a.submitted_at AS a_submitted_at, a.submitted_by AS a_submitted_by,
                a.voided_at AS a_voided_at, a.void_reason AS a_void_reason,
                a.paused_by AS a_paused_by, a.max_response_chars AS a_max_response_chars,
                a.break_max_ms AS a_break_max_ms,
                (SELECT e.n FROM response_events e WHERE e.attempt_id = a.id ORDER BY e.n DESC LIMIT 1) AS newest_n
         FROM sessions se
         JOIN registrations r ON r.access_code_id = se.access_code_id
         JOIN sittings si ON si.id = r.sitting_id
         LEFT JOIN attempts a ON a.registration_id = r.id AND a.part = $3
         WHERE se.token_hash = $1 AND se.expires_at > $2",
        crate::store::sittings::reg_sitting_columns()
    );
    let query = sqlx::query_as(&sql)
        .bind(token_hash)
        .bind(crate::store::now_ms())
        .bind(i64::from(part));
    let row: Option<SessionAttemptRow> = db.hot_optional(query).await?;
    let Some(mut row) = row else { return Ok(None) };
    let attempt = match row.attempt() {
        Some(a) => Some((with_cached_form(db, a).await?, row.newest_n)),
        None => None,
    };
    let who = crate::store::sittings::reg_sitting_from(row.who)?;
    Ok(Some((who, attempt)))
}

/// A candidate's registration and sitting.
pub type CandidateRows = (
    crate::store::sittings::Registration,
    crate::store::sittings::Sitting,
);

pub async fn attempts_of(db: &Db, registration_id: i64) -> Result<Vec<Attempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE registration_id = $1 ORDER BY part"
    ))
    .bind(registration_id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(attempt_from).collect()
}

/// Every attempt of a sitting's registrations, by registration, in one query: a page about a
/// sitting costs the same few queries at 200 candidates or 10,000.
pub async fn attempts_in_sitting(db: &Db, sitting_id: i64) -> Result<HashMap<i64, Vec<Attempt>>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts
         WHERE registration_id IN (SELECT id FROM registrations WHERE sitting_id = $1)
         ORDER BY registration_id, part"
    ))
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out: HashMap<i64, Vec<Attempt>> = HashMap::new();
    for row in rows {
        let a = attempt_from(row)?;
        out.entry(a.registration_id).or_default().push(a);
    }
    Ok(out)
}

/// Where an attempt stands, without its form or clock: what a sitting's results page needs of
/// each attempt.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AttemptState {
    pub id: i64,
    pub registration_id: i64,
    pub part: i64,
    pub submitted_at: Option<i64>,
    pub voided_at: Option<i64>,
}

/// Every attempt's state in a sitting, by registration, in one query of small rows.
pub async fn attempt_states_in_sitting(
    db: &Db,
    sitting_id: i64,
) -> Result<HashMap<i64, Vec<AttemptState>>> {
    let rows: Vec<AttemptState> = sqlx::query_as(
        "SELECT a.id, a.registration_id, a.part, a.submitted_at, a.voided_at FROM attempts a
         JOIN registrations g ON g.id = a.registration_id
         WHERE g.sitting_id = $1 ORDER BY a.registration_id, a.part",
    )
    .bind(sitting_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out: HashMap<i64, Vec<AttemptState>> = HashMap::new();
    for row in rows {
        out.entry(row.registration_id).or_default().push(row);
    }
    Ok(out)
}

/// The answers of every submitted attempt at `part` in a sitting, by attempt: one row per
/// attempt (its answers as submitted), whatever the length of the chains. Attempts submitted
/// before the answers were kept on the attempt have theirs derived from the log, in one query.
pub async fn submitted_answers_in_sitting(
    db: &Db,
    sitting_id: i64,
    part: u8,
) -> Result<HashMap<i64, BTreeMap<String, String>>> {
    let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
        "SELECT a.id, a.final_answers FROM attempts a
         JOIN registrations g ON g.id = a.registration_id
         WHERE g.sitting_id = $1 AND a.part = $2 AND a.submitted_at IS NOT NULL",
    )
    .bind(sitting_id)
    .bind(i64::from(part))
    .fetch_all(&db.pool)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    let mut from_log = Vec::new();
    for (id, kept) in rows {
        match kept {
            Some(json) => {
                let answers: BTreeMap<String, String> =
                    serde_json::from_str(&json).map_err(|e| {
                        StoreError::Sqlx(sqlx::Error::Decode(
                            format!("attempt {id}: its submitted answers: {e}").into(),
                        ))
                    })?;
                out.insert(id, answers);
            }
            None => from_log.push(id),
        }
    }
    if !from_log.is_empty() {
        let mut derived = answers_in_sitting(db, sitting_id, part).await?;
        for id in from_log {
            out.insert(id, derived.remove(&id).unwrap_or_default());
        }
    }
    Ok(out)
}

/// The current answers of every attempt at `part` in a sitting, by attempt, derived from the
/// response log in one query (the newest save of each item, as `answers` finds them one
/// attempt at a time).
pub(crate) async fn answers_in_sitting(
    db: &Db,
    sitting_id: i64,
    part: u8,
) -> Result<HashMap<i64, BTreeMap<String, String>>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT e.attempt_id, e.item_id, e.answer FROM response_events e
         JOIN (SELECT x.attempt_id, x.item_id, MAX(x.seq) AS seq FROM response_events x
               WHERE x.attempt_id IN (SELECT a.id FROM attempts a
                   JOIN registrations g ON g.id = a.registration_id
                   WHERE g.sitting_id = $1 AND a.part = $2)
               GROUP BY x.attempt_id, x.item_id) m
           ON m.attempt_id = e.attempt_id AND m.item_id = e.item_id AND m.seq = e.seq",
    )
    .bind(sitting_id)
    .bind(i64::from(part))
    .fetch_all(&db.pool)
    .await?;
    let mut out: HashMap<i64, BTreeMap<String, String>> = HashMap::new();
    for (attempt, item, answer) in rows {
        out.entry(attempt).or_default().insert(item, answer);
    }
    Ok(out)
}

async fn locked(tx: &mut super::WriteTx, id: i64) -> Result<Option<Attempt>> {
    // Takes the write lock first (see the module's comment).
    sqlx::query("UPDATE attempts SET chain_len = chain_len WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let row: Option<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(attempt_from).transpose()
}

/// The current answers of an attempt, by item (and `@flag:`/`@choice` markers): for each item
/// the save with the highest sequence number.
pub async fn answers(db: &Db, attempt_id: i64) -> Result<BTreeMap<String, String>> {
    answers_in(&db.pool, attempt_id).await
}

/// The same, read through any connection (a submission reads them inside its transaction).
pub(crate) async fn answers_in<'e, E>(ex: E, attempt_id: i64) -> Result<BTreeMap<String, String>>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT e.item_id, e.answer FROM response_events e
         JOIN (SELECT item_id, MAX(seq) AS seq FROM response_events WHERE attempt_id = $1 GROUP BY item_id) m
           ON m.item_id = e.item_id AND m.seq = e.seq
         WHERE e.attempt_id = $1",
    )
    .bind(attempt_id)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The highest sequence number stored for an attempt (0 if none).
pub async fn last_seq(db: &Db, attempt_id: i64) -> Result<u64> {
    let n: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seq) FROM response_events WHERE attempt_id = $1")
            .bind(attempt_id)
            .fetch_one(&db.pool)
            .await?;
    Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

/// The id of a registration's attempt at `part`, if started.
pub async fn attempt_id(db: &Db, registration_id: i64, part: u8) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM attempts WHERE registration_id = $1 AND part = $2")
            .bind(registration_id)
            .bind(i64::from(part))
            .fetch_optional(&db.pool)
            .await?,
    )
}
