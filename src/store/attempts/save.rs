//! Saving an answer: the queue each save waits in for the writer, and the batch that appends
//! every waiting save to its attempt's chain in one transaction (the receipts with them).

use crate::exam::chain::{self, Save};
use crate::exam::clock::{Clock, Multiplier};
use crate::exam::limits::MAX_SAVES_PER_ATTEMPT;
use crate::metrics::SaveRefusal;
use crate::store::{Db, Result, StoreError, WriteTx};

use super::break_limit;

mod shapes;
mod writer;
use shapes::{in_chunks, padded, placeholders, rows_of};
pub use writer::queue_depth;
use writer::spawn_writer;

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

impl SaveError {
    /// The reason a metrics scrape shows for this refusal.
    pub fn refusal(&self) -> SaveRefusal {
        match self {
            SaveError::Deadline => SaveRefusal::Deadline,
            SaveError::Submitted => SaveRefusal::Submitted,
            SaveError::Voided => SaveRefusal::Voided,
            SaveError::Paused => SaveRefusal::Paused,
            SaveError::NotFound => SaveRefusal::NotFound,
            SaveError::BadSeq => SaveRefusal::BadSeq,
            SaveError::TooManySaves => SaveRefusal::TooManySaves,
            SaveError::Store(_) => SaveRefusal::Store,
        }
    }
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
                crate::store::Backend::Sqlite => 1,
                crate::store::Backend::Postgres => db.settings.save_writers.max(1),
            };
            (0..writers)
                .map(|n| {
                    let (tx, rx) = tokio::sync::mpsc::channel(4096);
                    spawn_writer(db.clone(), rx, n);
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

    let began = std::time::Instant::now();
    let mut tx = db.write().await?;
    if db.backend == crate::store::Backend::Postgres {
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

    // Per save, its item's newest sequence number and whether its own sequence number is
    // logged already (a retry): from the attempt's fold, brought up to the chain's newest event
    // here inside the transaction (nothing to read unless another process saved to it, or this
    // process has not seen the attempt yet). No index lookups: the log has none to keep up.
    let mut attempt_ids: Vec<i64> = batch.iter().map(|r| r.attempt_id).collect();
    attempt_ids.dedup();
    for id in attempt_ids {
        let Some(state) = states.get_mut(&id) else {
            continue;
        };
        let fold = db.answers.fold(id);
        super::current::top_up(&mut tx, id, &fold, state.len).await?;
        let f = super::current::lock(&fold);
        if f.events() != state.len {
            return Err(StoreError::Sqlx(sqlx::Error::Decode(
                format!(
                    "attempt {id}: its answers are folded over {} events of {}",
                    f.events(),
                    state.len
                )
                .into(),
            )));
        }
        for r in batch.iter().filter(|r| r.attempt_id == id) {
            if let Some(newest) = f.item_seq(&r.item_id) {
                state.item_seq.insert(r.item_id.clone(), newest);
            }
            let seq = i64::try_from(r.seq).unwrap_or(i64::MAX);
            if f.logged(seq) {
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
        // No ON CONFLICT: a clash would mean the chain was computed from a stale head, and the
        // whole batch must fail rather than store it.
        for chunk in in_chunks(&rows) {
            let sql = format!(
                "INSERT INTO response_events (attempt_id, n, item_id, answer, seq, at_ms, prev_hash, hash)
                 VALUES {}",
                rows_of(chunk.len(), 8)
            );
            let mut q = sqlx::query(&sql);
            for row in chunk {
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
        }
        // The receipt each candidate now holds (the head their last acknowledged save gave
        // them), kept beside the chain so `audit verify` notices a chain cut short; in a
        // table of small rows, so a batch rewrites a few pages of them, not every attempt's.
        let mut receipts: Vec<(i64, &str, i64)> = states
            .iter()
            .filter(|(id, _)| rows.iter().any(|r| r.attempt_id == **id))
            .map(|(id, st)| (*id, st.head.as_str(), st.len))
            .collect();
        receipts.sort_unstable_by_key(|r| r.0);
        store_receipts(&mut tx, &receipts).await?;
    }
    let committing = std::time::Instant::now();
    tx.commit().await?;
    if let Some(m) = db.metrics() {
        m.save_batch(batch.len(), began.elapsed(), committing.elapsed());
    }
    db.answers.committed(
        &rows
            .iter()
            .map(|r| super::current::Stored {
                attempt_id: r.attempt_id,
                n: r.n,
                item_id: &r.item_id,
                answer: &r.answer,
                seq: r.seq,
            })
            .collect::<Vec<_>>(),
    );
    Ok(results)
}

/// Keeps each attempt's receipt (the head and length of the chain its candidate was last
/// given), in a table of small rows, so a batch rewrites a few pages of them, not every
/// attempt's row.
pub(super) async fn store_receipts(tx: &mut WriteTx, receipts: &[(i64, &str, i64)]) -> Result<()> {
    for chunk in in_chunks(receipts) {
        let sql = format!(
            "INSERT INTO attempt_receipts (attempt_id, receipt_hash, receipt_len) VALUES {}
             ON CONFLICT (attempt_id) DO UPDATE
             SET receipt_hash = excluded.receipt_hash, receipt_len = excluded.receipt_len",
            rows_of(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (id, head, len) in chunk {
            q = q.bind(*id).bind(*head).bind(*len);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
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
