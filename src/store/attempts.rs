//! Attempts: one timed part of a registration, its form, its clock and its response log.
//!
//! Every write to an attempt goes through the database's writer (SQLite's one write connection)
//! and locks the attempt's row on PostgreSQL before anything is read: saves to one attempt are
//! serialised, so the chain never forks, on either engine.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Any;

use crate::bank::Blueprint;
use crate::exam::chain::{self, Save};
use crate::exam::clock::{Clock, Multiplier, GRACE_MS};
use crate::exam::form::{assemble, Form, FormError, History, Parts, Pool};
use crate::exam::limits::MAX_SAVES_PER_ATTEMPT;

use super::sittings::{Registration, Sitting};
use super::{Db, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub registration_id: i64,
    pub part: u8,
    pub form: Form,
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

/// `last_save_at` is the newest event's time: a save writes only its event.
const ATTEMPT_COLUMNS: &str = "id, registration_id, part, form, started_at, section_ms, multiplier_permille, added_ms, paused_ms, paused_since, chain_head, chain_len, (SELECT MAX(e.at_ms) FROM response_events e WHERE e.attempt_id = attempts.id) AS last_save_at, submitted_at, submitted_by, voided_at, void_reason, paused_by, max_response_chars, break_max_ms";

fn attempt_from(r: AttemptRow) -> Result<Attempt> {
    let form: Form = serde_json::from_str(&r.form)
        .map_err(|e| StoreError::Sqlx(sqlx::Error::Decode(e.into())))?;
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

pub async fn attempts_of(db: &Db, registration_id: i64) -> Result<Vec<Attempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE registration_id = $1 ORDER BY part"
    ))
    .bind(registration_id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(attempt_from).collect()
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

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the proctor has not admitted you yet")]
    NotAdmitted,
    #[error("the proctor marked you absent from this sitting; ask them to admit you")]
    Absent,
    #[error("the sitting is not open now")]
    SittingClosed,
    #[error("you are not registered for this part")]
    NotRegistered,
    #[error("finish and submit the part you have started first")]
    OtherPartRunning,
    #[error("this part's form cannot be drawn: {0}")]
    Form(#[from] FormError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StartError {
    fn from(e: sqlx::Error) -> Self {
        StartError::Store(StoreError::Sqlx(e))
    }
}

/// What this person has seen before and how often every item and vignette has been used.
async fn history(db: &Db, email: &str, registration_id: i64) -> Result<History> {
    let seen: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT f.object_id FROM form_items f
         JOIN attempts a ON a.id = f.attempt_id JOIN registrations r ON r.id = a.registration_id
         WHERE r.email = $1 AND r.id <> $2",
    )
    .bind(email)
    .bind(registration_id)
    .fetch_all(&db.pool)
    .await?;
    let exposure: Vec<(String, i64)> =
        sqlx::query_as("SELECT object_id, COUNT(*) FROM form_items GROUP BY object_id")
            .fetch_all(&db.pool)
            .await?;
    Ok(History {
        seen: seen.into_iter().collect::<BTreeSet<_>>(),
        exposure: exposure
            .into_iter()
            .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect::<BTreeMap<_, _>>(),
    })
}

/// Starts a part (or returns it if already started): draws the form with a fresh seed and
/// starts its clock.
pub async fn start_part(
    db: &Db,
    sitting: &Sitting,
    reg: &Registration,
    bp: &Blueprint,
    pool: &Pool,
    part: u8,
    now: i64,
) -> Result<Attempt, StartError> {
    let sits = match part {
        1 => reg.parts.one,
        2 => reg.parts.two,
        _ => false,
    };
    if !sits {
        return Err(StartError::NotRegistered);
    }
    if reg.admitted_at.is_none() {
        return Err(StartError::NotAdmitted);
    }
    if reg.absent_at.is_some() {
        return Err(StartError::Absent);
    }
    let existing = attempts_of(db, reg.id).await?;
    if let Some(a) = existing.iter().find(|a| a.part == part) {
        return Ok(a.clone());
    }
    if existing.iter().any(Attempt::is_open) {
        return Err(StartError::OtherPartRunning);
    }
    if !sitting.is_open(now) {
        return Err(StartError::SittingClosed);
    }
    let history = history(db, &reg.email, reg.id).await?;
    let seed: u64 = rand::random();
    let parts = Parts {
        one: part == 1,
        two: part == 2,
    };
    let form = assemble(bp, pool, &history, parts, seed)?;
    let minutes = if part == 1 {
        bp.part_one.minutes
    } else {
        bp.part_two.minutes
    };
    let clock = Clock::start(now, minutes, reg.multiplier);
    let mut tx = db.write().await?;
    let res = sqlx::query_scalar::<_, i64>(
        "INSERT INTO attempts (registration_id, part, seed, form, started_at, section_ms, multiplier_permille, chain_head, max_response_chars, break_max_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(reg.id)
    .bind(i64::from(part))
    // Stored as the same 64 bits; the form carries it as an unsigned number too.
    .bind(seed as i64)
    .bind(serde_json::to_string(&form).expect("a form serialises"))
    .bind(clock.started_at)
    .bind(clock.section_ms)
    .bind(i64::from(clock.multiplier.permille()))
    .bind(chain::genesis(&chain_key(reg.id, part)))
    .bind(i64::from(bp.part_two.max_characters))
    .bind(i64::from(bp.break_minutes) * 60_000)
    .fetch_one(&mut *tx)
    .await;
    let id = match res {
        Ok(id) => id,
        Err(e) if super::is_unique_violation(&e) => {
            // Another request started it first: use theirs.
            drop(tx);
            let again = attempts_of(db, reg.id).await?;
            return again
                .into_iter()
                .find(|a| a.part == part)
                .ok_or(StartError::Store(StoreError::Sqlx(e)));
        }
        Err(e) => return Err(e.into()),
    };
    for object in form.ids() {
        sqlx::query("INSERT INTO form_items (attempt_id, object_id) VALUES ($1, $2)")
            .bind(id)
            .bind(object)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(attempt(db, id).await?.expect("just inserted"))
}

/// The largest sequence number a save may carry: they are stored as signed 64-bit integers.
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// What became of a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub seq: u64,
    pub paused: bool,
    /// False when this sequence number was stored before (a retry): nothing new was written.
    pub stored: bool,
    /// Whether this save is now the item's answer (false for a save older than the newest).
    pub current: bool,
    pub remaining_ms: i64,
    pub head: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the time for this part is over; answers saved before the deadline are kept")]
    Deadline,
    #[error("this part has been submitted; answers can no longer change")]
    Submitted,
    #[error("this attempt was voided by the proctor")]
    Voided,
    /// The clock is stopped (a proctor's pause or a break): answers wait until it runs again.
    #[error("your exam is paused; your answer will be saved when it resumes")]
    Paused,
    #[error("no such attempt")]
    NotFound,
    #[error("a save's sequence number must be from 1 to {MAX_SEQ}")]
    BadSeq,
    #[error("this part has reached its limit of {} saves; the answers saved so far are kept. Tell your proctor", crate::exam::limits::thousands(MAX_SAVES_PER_ATTEMPT as usize))]
    TooManySaves,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SaveError {
    fn from(e: sqlx::Error) -> Self {
        SaveError::Store(StoreError::Sqlx(e))
    }
}

/// Appends a save to the attempt's log. Idempotent by sequence number. `item_id` and `answer`
/// are already checked by the caller against the form. Returns once the save is committed.
///
/// Saves are group-committed: they queue for the database's writer, which runs every save
/// waiting at that moment in one transaction and answers each only after the commit. One
/// commit for many saves is what lets SQLite take thousands of durable saves a second.
pub async fn save(
    db: &Db,
    attempt_id: i64,
    item_id: &str,
    answer: &str,
    seq: u64,
    now: i64,
) -> Result<Saved, SaveError> {
    if !(1..=MAX_SEQ).contains(&seq) {
        return Err(SaveError::BadSeq);
    }
    let (reply, answer_rx) = tokio::sync::oneshot::channel();
    let request = SaveRequest {
        attempt_id,
        item_id: item_id.to_string(),
        answer: answer.to_string(),
        seq,
        now,
        reply,
    };
    let queues = db
        .saves
        .get_or_init(|| async {
            // SQLite has one writer; PostgreSQL takes several side by side.
            let writers = match db.backend {
                super::Backend::Sqlite => 1,
                super::Backend::Postgres => 4,
            };
            (0..writers)
                .map(|_| {
                    let (tx, rx) = tokio::sync::mpsc::channel(4096);
                    tokio::spawn(write_saves(db.clone(), rx));
                    tx
                })
                .collect::<Vec<_>>()
        })
        .await;
    // An attempt always goes to the same writer, so its saves stay in order.
    let queue = &queues[usize::try_from(attempt_id.rem_euclid(queues.len() as i64)).unwrap_or(0)];
    if queue.send(request).await.is_err() {
        return Err(SaveError::Store(StoreError::Sqlx(sqlx::Error::PoolClosed)));
    }
    answer_rx
        .await
        .unwrap_or(Err(SaveError::Store(StoreError::Sqlx(
            sqlx::Error::PoolClosed,
        ))))
}

/// A save waiting for the writer.
pub struct SaveRequest {
    attempt_id: i64,
    item_id: String,
    answer: String,
    seq: u64,
    now: i64,
    reply: tokio::sync::oneshot::Sender<Result<Saved, SaveError>>,
}

/// The most saves one transaction takes; a bound on how long the first of them waits.
const MAX_BATCH: usize = 128;

/// The writer: drains the queue into batches, one transaction each.
async fn write_saves(db: Db, mut rx: tokio::sync::mpsc::Receiver<SaveRequest>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        // Stable: each attempt's saves keep their order, and PostgreSQL's row locks are taken
        // in one order by every writer, so two processes' batches cannot deadlock.
        batch.sort_by_key(|r| r.attempt_id);
        match save_batch(&db, &batch).await {
            Ok(results) => {
                for (request, result) in batch.into_iter().zip(results) {
                    let _ = request.reply.send(result);
                }
            }
            Err(e) => {
                // Nothing of the batch was committed: try each save on its own, so one bad
                // save cannot sink the others.
                tracing::warn!(error = %e, saves = batch.len(), "a batch of saves failed; saving one by one");
                db.health.failed();
                for request in batch {
                    let result = match save_batch(&db, std::slice::from_ref(&request)).await {
                        Ok(mut results) => results.pop().unwrap_or(Err(SaveError::NotFound)),
                        Err(e) => Err(SaveError::Store(e)),
                    };
                    let _ = request.reply.send(result);
                }
            }
        }
    }
}

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A list for `IN (…)`, padded to a power of two with its last value (which changes nothing), so
/// a handful of statement shapes serve every batch size and stay in the statement cache.
fn padded<T: Clone>(mut values: Vec<T>) -> Vec<T> {
    if let Some(last) = values.last().cloned() {
        values.resize(values.len().next_power_of_two(), last);
    }
    values
}

/// What a batch needs to know of one attempt before appending to its chain.
#[derive(sqlx::FromRow)]
struct BatchAttemptRow {
    id: i64,
    started_at: i64,
    section_ms: i64,
    multiplier_permille: i64,
    added_ms: i64,
    paused_ms: i64,
    paused_since: Option<i64>,
    paused_by: Option<String>,
    break_max_ms: i64,
    chain_head: String,
    submitted_at: Option<i64>,
    voided_at: Option<i64>,
    last_hash: Option<String>,
    last_n: Option<i64>,
    last_at: Option<i64>,
}

/// One attempt's chain as the batch goes along.
struct ChainState {
    clock: Clock,
    submitted: bool,
    voided: bool,
    head: String,
    len: i64,
    /// The newest event's time: a chain's timestamps never go backwards.
    last_at: i64,
    /// The newest sequence number logged per item (of the items in the batch).
    item_seq: std::collections::HashMap<String, i64>,
    /// Sequence numbers already logged (of those in the batch): a retry writes nothing.
    seqs: std::collections::HashSet<i64>,
}

/// A batch of saves in one transaction: a fixed number of statements whatever its size (the
/// attempts' states, two index lookups per save, one multi-row INSERT),
/// the chains extended in memory in the order the saves arrived.
async fn save_batch(db: &Db, batch: &[SaveRequest]) -> Result<Vec<Result<Saved, SaveError>>> {
    let mut ids: Vec<i64> = batch.iter().map(|r| r.attempt_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let ids = padded(ids);
    let id_list = placeholders(1, ids.len());

    let mut tx = db.write().await?;
    if db.backend == super::Backend::Postgres {
        // Row locks before reading, in id order (as every writer takes them, so two processes'
        // batches cannot deadlock). On SQLite the one writer connection excludes the others.
        let sql = format!("SELECT id FROM attempts WHERE id IN ({id_list}) ORDER BY id FOR UPDATE");
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(&mut *tx).await?;
    }
    let sql = format!(
        "SELECT a.id, a.started_at, a.section_ms, a.multiplier_permille, a.added_ms, a.paused_ms,
                a.paused_since, a.paused_by, a.break_max_ms, a.chain_head, a.submitted_at, a.voided_at,
                (SELECT e.hash FROM response_events e WHERE e.attempt_id = a.id ORDER BY e.n DESC LIMIT 1) AS last_hash,
                (SELECT e.n FROM response_events e WHERE e.attempt_id = a.id ORDER BY e.n DESC LIMIT 1) AS last_n,
                (SELECT e.at_ms FROM response_events e WHERE e.attempt_id = a.id ORDER BY e.n DESC LIMIT 1) AS last_at
         FROM attempts a WHERE a.id IN ({id_list})"
    );
    let mut q = sqlx::query_as::<_, BatchAttemptRow>(&sql);
    for id in &ids {
        q = q.bind(*id);
    }
    let mut states: std::collections::HashMap<i64, ChainState> = q
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| {
            let state = ChainState {
                clock: Clock {
                    started_at: row.started_at,
                    section_ms: row.section_ms,
                    multiplier: Multiplier::from_permille(
                        u32::try_from(row.multiplier_permille).unwrap_or(1000),
                    ),
                    added_ms: row.added_ms,
                    paused_ms: row.paused_ms,
                    paused_since: row.paused_since,
                    pause_limit_ms: break_limit(
                        row.paused_since,
                        row.paused_by.as_deref(),
                        row.break_max_ms,
                    ),
                },
                submitted: row.submitted_at.is_some(),
                voided: row.voided_at.is_some(),
                head: row.last_hash.unwrap_or(row.chain_head),
                len: row.last_n.map_or(0, |n| n + 1),
                last_at: row.last_at.unwrap_or(i64::MIN),
                item_seq: Default::default(),
                seqs: Default::default(),
            };
            (row.id, state)
        })
        .collect();

    // Per save, two index lookups: its item's newest sequence number, and whether its own
    // sequence number is logged already (a retry).
    let values = (0..batch.len())
        .map(|i| format!("({})", placeholders(i * 3 + 1, 3)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT v.column1, v.column2, v.column3,
                (SELECT MAX(e.seq) FROM response_events e WHERE e.attempt_id = v.column1 AND e.item_id = v.column2),
                (SELECT COUNT(*) FROM response_events e WHERE e.attempt_id = v.column1 AND e.seq = v.column3)
         FROM (VALUES {values}) AS v"
    );
    let mut q = sqlx::query_as::<_, (i64, String, i64, Option<i64>, i64)>(&sql);
    for r in batch {
        q = q
            .bind(r.attempt_id)
            .bind(r.item_id.as_str())
            .bind(i64::try_from(r.seq).unwrap_or(i64::MAX));
    }
    for (attempt_id, item_id, seq, item_seq, logged) in q.fetch_all(&mut *tx).await? {
        if let Some(state) = states.get_mut(&attempt_id) {
            if let Some(newest) = item_seq {
                state.item_seq.insert(item_id, newest);
            }
            if logged > 0 {
                state.seqs.insert(seq);
            }
        }
    }

    let mut rows: Vec<EventRow> = Vec::new();
    let results: Vec<Result<Saved, SaveError>> = batch
        .iter()
        .map(|r| {
            let state = states.get_mut(&r.attempt_id).ok_or(SaveError::NotFound)?;
            append(state, r, &mut rows)
        })
        .collect();
    if !rows.is_empty() {
        let values = (0..rows.len())
            .map(|i| format!("({})", placeholders(i * 8 + 1, 8)))
            .collect::<Vec<_>>()
            .join(", ");
        // No ON CONFLICT: a clash would mean the chain was computed from a stale head, and the
        // whole batch must fail rather than store it.
        let sql = format!(
            "INSERT INTO response_events (attempt_id, n, item_id, answer, seq, at_ms, prev_hash, hash)
             VALUES {values}"
        );
        let mut q = sqlx::query(&sql);
        for row in &rows {
            q = q
                .bind(row.attempt_id)
                .bind(row.n)
                .bind(row.item_id.as_str())
                .bind(row.answer.as_str())
                .bind(row.seq)
                .bind(row.at_ms)
                .bind(row.prev_hash.as_str())
                .bind(row.hash.as_str());
        }
        q.execute(&mut *tx).await?;
        // The receipt each candidate now holds (the head their last acknowledged save gave
        // them), kept beside the chain so `audit verify` notices a chain cut short.
        let mut receipts: Vec<(i64, &str, i64)> = states
            .iter()
            .filter(|(id, _)| rows.iter().any(|r| r.attempt_id == **id))
            .map(|(id, st)| (*id, st.head.as_str(), st.len))
            .collect();
        receipts.sort_unstable_by_key(|r| r.0);
        let values = (0..receipts.len())
            .map(|i| format!("({})", placeholders(i * 3 + 1, 3)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE attempts SET receipt_hash = v.column2, receipt_len = v.column3
             FROM (VALUES {values}) AS v WHERE attempts.id = v.column1"
        );
        let mut q = sqlx::query(&sql);
        for (id, head, len) in &receipts {
            q = q.bind(*id).bind(*head).bind(*len);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(results)
}

/// An event to insert.
struct EventRow {
    attempt_id: i64,
    n: i64,
    item_id: String,
    answer: String,
    seq: i64,
    at_ms: i64,
    prev_hash: String,
    hash: String,
}

/// One save against its attempt's chain: refused, a retry (nothing written), or a new link.
fn append(
    state: &mut ChainState,
    r: &SaveRequest,
    rows: &mut Vec<EventRow>,
) -> Result<Saved, SaveError> {
    if state.voided {
        return Err(SaveError::Voided);
    }
    if state.submitted {
        return Err(SaveError::Submitted);
    }
    // A break past its maximum has ended, whether or not the sweep has written so yet.
    if state.clock.is_paused_at(r.now) {
        return Err(SaveError::Paused);
    }
    if !state.clock.accepts_save(r.now) {
        return Err(SaveError::Deadline);
    }
    let seq_i = i64::try_from(r.seq).unwrap_or(i64::MAX);
    let newest = state.item_seq.get(&r.item_id).copied();
    let remaining_ms = state.clock.remaining_ms(r.now);
    if state.seqs.contains(&seq_i) {
        // A sequence number stored before is a retry: nothing is written.
        return Ok(Saved {
            seq: r.seq,
            paused: false,
            stored: false,
            current: newest == Some(seq_i),
            remaining_ms,
            head: state.head.clone(),
        });
    }
    if state.len >= MAX_SAVES_PER_ATTEMPT {
        return Err(SaveError::TooManySaves);
    }
    // Instants come from the database's clock (store::clock); two processes' readings may
    // still differ by a millisecond or two, and a chain never goes back in time.
    let at_ms = r.now.max(state.last_at);
    state.last_at = at_ms;
    let s = Save {
        item_id: r.item_id.clone(),
        answer: r.answer.clone(),
        seq: r.seq,
        at_ms,
    };
    let hash = chain::link(&state.head, u64::try_from(state.len).unwrap_or(0), &s);
    rows.push(EventRow {
        attempt_id: r.attempt_id,
        n: state.len,
        item_id: r.item_id.clone(),
        answer: r.answer.clone(),
        seq: seq_i,
        at_ms,
        prev_hash: std::mem::replace(&mut state.head, hash.clone()),
        hash: hash.clone(),
    });
    state.len += 1;
    state.seqs.insert(seq_i);
    // The newest save of an item is its answer; an older one arriving late is only logged.
    let current = newest.is_none_or(|m| seq_i > m);
    if current {
        state.item_seq.insert(r.item_id.clone(), seq_i);
    }
    Ok(Saved {
        seq: r.seq,
        paused: false,
        stored: true,
        current,
        remaining_ms,
        head: hash,
    })
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

/// Submits an attempt; returns its chain head (the receipt), or `None` if it was submitted or
/// voided already.
pub async fn submit(db: &Db, attempt_id: i64, by: &str, now: i64) -> Result<Option<String>> {
    let mut tx = db.write().await?;
    let Some(a) = locked(&mut tx, attempt_id).await? else {
        return Ok(None);
    };
    if !a.is_open() {
        return Ok(None);
    }
    // The receipt: the head of the chain as submitted, kept on the attempt.
    let last: Option<(String, i64)> = sqlx::query_as(
        "SELECT hash, n FROM response_events WHERE attempt_id = $1 ORDER BY n DESC LIMIT 1",
    )
    .bind(attempt_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (head, len) = last.map_or((a.chain_head.clone(), 0), |(h, n)| (h, n + 1));
    sqlx::query(
        "UPDATE attempts SET submitted_at = $1, submitted_by = $2, chain_head = $3, chain_len = $4,
                receipt_hash = $3, receipt_len = $4
         WHERE id = $5 AND submitted_at IS NULL",
    )
    .bind(now)
    .bind(by)
    .bind(&head)
    .bind(len)
    .bind(attempt_id)
    .execute(&mut *tx)
    .await?;
    if a.part == 2 {
        // The open responses get their anonymous codes with the submission itself.
        super::ratings::code_responses(&mut tx, &a, now).await?;
    }
    tx.commit().await?;
    Ok(Some(head))
}

/// Ends every candidate's break that has run past its maximum, as of its start plus the
/// maximum (the candidate is charged from then), with an event for the proctor. A proctor's
/// pause is never ended here. Returns the attempts' ids.
pub async fn end_overlong_breaks(db: &Db, now: i64) -> Result<Vec<i64>> {
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM attempts WHERE submitted_at IS NULL AND voided_at IS NULL
         AND paused_by = 'break' AND paused_since IS NOT NULL AND paused_since + break_max_ms <= $1",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut done = Vec::new();
    for id in due {
        let mut tx = db.write().await?;
        let Some(a) = locked(&mut tx, id).await? else {
            continue;
        };
        let Some(end) = a.clock.pause_ends_at() else {
            continue;
        };
        let clock = a.clock.settled(now);
        if !a.is_open() || clock.is_paused() {
            continue;
        }
        sqlx::query(
            "UPDATE attempts SET paused_ms = $1, paused_since = NULL, paused_by = NULL WHERE id = $2",
        )
        .bind(clock.paused_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let (sitting_id,): (i64,) =
            sqlx::query_as("SELECT sitting_id FROM registrations WHERE id = $1")
                .bind(a.registration_id)
                .fetch_one(&mut *tx)
                .await?;
        super::sittings::log_event_at(
            &mut tx,
            sitting_id,
            Some(a.registration_id),
            end,
            "break-end",
            &format!(
                "Part {}: the break reached its {}-minute maximum; the clock runs again",
                if a.part == 1 { "One" } else { "Two" },
                a.break_max_ms / 60_000
            ),
            "server",
        )
        .await?;
        tx.commit().await?;
        done.push(id);
    }
    Ok(done)
}

/// Submits every attempt whose time, and the grace after it, has run out. Returns their ids.
/// A break past its maximum is ended first, so a candidate who does not come back from a break
/// is submitted at the deadline like anyone else.
pub async fn submit_expired(db: &Db, now: i64) -> Result<Vec<i64>> {
    let ended = end_overlong_breaks(db, now).await?;
    if !ended.is_empty() {
        tracing::info!(attempts = ?ended, "breaks ended at their maximum");
    }
    let due: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, started_at + section_ms * multiplier_permille / 1000 + added_ms + paused_ms
         FROM attempts WHERE submitted_at IS NULL AND voided_at IS NULL AND paused_since IS NULL
         AND started_at + section_ms * multiplier_permille / 1000 + added_ms + paused_ms + $1 <= $2",
    )
    .bind(GRACE_MS)
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    let mut done = Vec::new();
    for (id, deadline) in due {
        // Submitted when the time ran out, even if the server gets to it later (after a
        // restart, say): the submission time is the deadline, not the moment of this sweep.
        if submit(db, id, "server", deadline.min(now)).await?.is_some() {
            done.push(id);
        }
    }
    Ok(done)
}

/// A change to an attempt's clock: the proctor's, or the candidate's break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockAction {
    Pause,
    Resume,
    AddMinutes(i64),
    /// The candidate starts an approved break (counted against the registration's allowance).
    StartBreak,
    /// The candidate ends their break (not a proctor's pause).
    EndBreak,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockChange {
    Done(Clock),
    /// Nothing to do: the attempt is closed, or the action does not apply now.
    NotApplicable,
    /// The candidate has no approved break left.
    NoBreakLeft,
}

/// Applies a clock action to an open attempt.
pub async fn change_clock(
    db: &Db,
    attempt_id: i64,
    action: ClockAction,
    now: i64,
) -> Result<ClockChange> {
    let mut tx = db.write().await?;
    let change = change_clock_in(&mut tx, attempt_id, action, now).await?;
    tx.commit().await?;
    Ok(change)
}

/// A proctor's clock action on one attempt, with its audit record and the sitting's event in
/// the same transaction.
pub async fn proctor_clock(
    db: &Db,
    attempt_id: i64,
    action: ClockAction,
    now: i64,
    by: &str,
    name: super::audit::Action,
) -> Result<ClockChange> {
    let mut tx = db.write().await?;
    let change = change_clock_in(&mut tx, attempt_id, action, now).await?;
    if matches!(change, ClockChange::Done(_)) {
        let (sitting_id, registration_id): (i64, i64) = sqlx::query_as(
            "SELECT g.sitting_id, g.id FROM attempts a JOIN registrations g ON g.id = a.registration_id
             WHERE a.id = $1",
        )
        .bind(attempt_id)
        .fetch_one(&mut *tx)
        .await?;
        super::audit::record_tx(
            &mut tx,
            by,
            name,
            &format!("attempt {attempt_id}: {action:?}"),
        )
        .await?;
        super::sittings::log_event_tx(
            &mut tx,
            sitting_id,
            Some(registration_id),
            name.as_str(),
            &format!("{action:?}"),
            by,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(change)
}

/// A proctor's clock action on every open attempt of a sitting, in one transaction with its
/// audit record and the sitting's event.
pub async fn proctor_clock_all(
    db: &Db,
    sitting_id: i64,
    action: ClockAction,
    now: i64,
    by: &str,
    name: super::audit::Action,
) -> Result<usize> {
    let mut tx = db.write().await?;
    let open: Vec<i64> = sqlx::query_scalar(
        "SELECT a.id FROM attempts a JOIN registrations g ON g.id = a.registration_id
         WHERE g.sitting_id = $1 AND a.submitted_at IS NULL AND a.voided_at IS NULL ORDER BY a.id",
    )
    .bind(sitting_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut changed = 0;
    for id in open {
        if matches!(
            change_clock_in(&mut tx, id, action, now).await?,
            ClockChange::Done(_)
        ) {
            changed += 1;
        }
    }
    super::audit::record_tx(
        &mut tx,
        by,
        name,
        &format!("sitting {sitting_id}: {changed} attempt(s)"),
    )
    .await?;
    super::sittings::log_event_tx(
        &mut tx,
        sitting_id,
        None,
        name.as_str(),
        "every running attempt",
        by,
    )
    .await?;
    tx.commit().await?;
    Ok(changed)
}

/// Applies a clock action inside the caller's transaction (committed by the caller).
async fn change_clock_in(
    tx: &mut super::WriteTx,
    attempt_id: i64,
    action: ClockAction,
    now: i64,
) -> Result<ClockChange> {
    let Some(a) = locked(tx, attempt_id).await? else {
        return Ok(ClockChange::NotApplicable);
    };
    if !a.is_open() {
        return Ok(ClockChange::NotApplicable);
    }
    // A break past its maximum has ended already, whatever is asked now.
    let mut clock = a.clock.settled(now);
    let mut paused_by = if clock.is_paused() {
        a.paused_by.clone()
    } else {
        None
    };
    match action {
        ClockAction::Pause => {
            clock.pause(now);
            // A proctor's pause during a break takes over: only the proctor resumes.
            paused_by = Some("proctor".into());
        }
        ClockAction::Resume => {
            clock.resume(now);
            paused_by = None;
        }
        ClockAction::AddMinutes(m) => clock.add_time(m * 60_000),
        ClockAction::StartBreak => {
            if clock.is_paused() {
                return Ok(ClockChange::NotApplicable);
            }
            let granted = sqlx::query(
                "UPDATE registrations SET breaks_taken = breaks_taken + 1
                 WHERE id = $1 AND breaks_taken < extra_breaks",
            )
            .bind(a.registration_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if granted != 1 {
                return Ok(ClockChange::NoBreakLeft);
            }
            clock.start_break(now, a.break_max_ms);
            paused_by = Some("break".into());
        }
        ClockAction::EndBreak => {
            if !(clock.is_paused() && paused_by.as_deref() == Some("break")) {
                return Ok(ClockChange::NotApplicable);
            }
            clock.resume(now);
            paused_by = None;
        }
    }
    sqlx::query(
        "UPDATE attempts SET added_ms = $1, paused_ms = $2, paused_since = $3, paused_by = $4 WHERE id = $5",
    )
    .bind(clock.added_ms)
    .bind(clock.paused_ms)
    .bind(clock.paused_since)
    .bind(paused_by.as_deref())
    .bind(attempt_id)
    .execute(&mut **tx)
    .await?;
    Ok(ClockChange::Done(clock))
}

/// Approved extra breaks the registration has left.
pub async fn breaks_left(db: &Db, registration_id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT extra_breaks - breaks_taken FROM registrations WHERE id = $1")
            .bind(registration_id)
            .fetch_optional(&db.pool)
            .await?
            .unwrap_or(0),
    )
}

/// What became of a proctor's void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voided {
    Now,
    Already,
    /// The sitting's results are released: a released result changes only through the
    /// committee's audited re-score, never by a void.
    ResultsReleased,
    NotFound,
}

/// Voids an attempt, with its audit record and the sitting's event in the same transaction.
pub async fn void(db: &Db, attempt_id: i64, reason: &str, by: &str, now: i64) -> Result<Voided> {
    let mut tx = db.write().await?;
    let row: Option<(i64, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT g.sitting_id, g.id, a.voided_at, s.results_released_at
         FROM attempts a JOIN registrations g ON g.id = a.registration_id
         JOIN sittings s ON s.id = g.sitting_id WHERE a.id = $1",
    )
    .bind(attempt_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((sitting_id, registration_id, voided_at, released_at)) = row else {
        return Ok(Voided::NotFound);
    };
    if released_at.is_some() {
        return Ok(Voided::ResultsReleased);
    }
    if voided_at.is_some() {
        return Ok(Voided::Already);
    }
    sqlx::query(
        "UPDATE attempts SET voided_at = $1, void_reason = $2 WHERE id = $3 AND voided_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(attempt_id)
    .execute(&mut *tx)
    .await?;
    super::audit::record_tx(
        &mut tx,
        by,
        super::audit::Action::AttemptVoid,
        &format!("attempt {attempt_id}: {reason}"),
    )
    .await?;
    super::sittings::log_event_tx(
        &mut tx,
        sitting_id,
        Some(registration_id),
        "voided",
        reason,
        by,
    )
    .await?;
    tx.commit().await?;
    Ok(Voided::Now)
}

/// Recomputes every attempt's chain from its stored events. Returns, per attempt, where its
/// chain breaks (empty when every chain holds) and how many attempts were checked.
pub async fn verify_chains(db: &Db) -> Result<(usize, Vec<(i64, String)>)> {
    let attempts: Vec<VerifyRow> = sqlx::query_as(
        "SELECT id, registration_id, part, chain_head, chain_len, submitted_at, receipt_hash, receipt_len
         FROM attempts ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut breaks = Vec::new();
    for a in &attempts {
        let rows: Vec<(i64, String, String, i64, i64, String, String)> = sqlx::query_as(
            "SELECT n, item_id, answer, seq, at_ms, prev_hash, hash FROM response_events WHERE attempt_id = $1 ORDER BY n",
        )
        .bind(a.id)
        .fetch_all(&db.pool)
        .await?;
        let events: Vec<chain::Event> = rows
            .into_iter()
            .map(
                |(n, item_id, answer, seq, at_ms, prev_hash, hash)| chain::Event {
                    n: u64::try_from(n).unwrap_or(u64::MAX),
                    save: Save {
                        item_id,
                        answer,
                        seq: u64::try_from(seq).unwrap_or(0),
                        at_ms,
                    },
                    prev_hash,
                    hash,
                },
            )
            .collect();
        let key = chain_key(a.registration_id, u8::try_from(a.part).unwrap_or(0));
        let c = match chain::Chain::replay(&key, &events) {
            Err(b) => {
                breaks.push((a.id, b.to_string()));
                continue;
            }
            Ok(c) => c,
        };
        let len = i64::try_from(c.len).ok();
        // A submitted attempt's receipt must be the head of exactly the events stored.
        if a.submitted_at.is_some() && (c.head != a.chain_head || len != Some(a.chain_len)) {
            breaks.push((
                a.id,
                format!("the receipt does not match the {} events stored", c.len),
            ));
        } else if let (Some(hash), Some(n)) = (&a.receipt_hash, a.receipt_len) {
            // The last receipt a candidate was given: the chain must end exactly there, so a
            // lost newest save (or a deleted tail) is reported, not taken as intact.
            if *hash != c.head || len != Some(n) {
                breaks.push((
                    a.id,
                    format!(
                        "the chain ends at event {} but the candidate's last receipt was for {} events",
                        c.len, n
                    ),
                ));
            }
        }
    }
    Ok((attempts.len(), breaks))
}

#[derive(sqlx::FromRow)]
struct VerifyRow {
    id: i64,
    registration_id: i64,
    part: i64,
    chain_head: String,
    chain_len: i64,
    submitted_at: Option<i64>,
    receipt_hash: Option<String>,
    receipt_len: Option<i64>,
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
