//! An attempt's current answers, kept in memory beside its chain so that a page and a save
//! cost the same at 10 saves or 10,000.
//!
//! The answers are a fold over the chain (for each item, the save with the highest sequence
//! number; and every sequence number logged, for telling a retry from a new save), so a fold
//! up to event `n` stays true once more events come: it is topped up with the events after it,
//! never recomputed. Every use is checked against the chain's newest event, read from the
//! database in the same query as the attempt (or, by the writer, inside its transaction): what
//! another process saved is read from the database (only the events this process has not
//! folded), what this process saved is folded in by its writer when the batch has committed.
//! So a fold can be behind but never wrong, on either engine.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use sqlx::AnyConnection;

use crate::store::{Db, Result, StoreError};

/// One attempt's fold over its first `events` events.
#[derive(Debug, Default)]
pub(super) struct Fold {
    /// How many events (from n = 0) are folded in.
    events: i64,
    /// Per item (and `@flag:`/`@choice` marker): the newest sequence number and its answer.
    /// Shared with the snapshots pages take (copied only if one is still held at a save).
    by_item: Arc<ByItem>,
    /// Every sequence number logged.
    seqs: HashSet<i64>,
    /// The highest of them.
    max_seq: i64,
    /// The memory the cache was told this fold takes (see `AnswerCache::reweigh`).
    weighed: u32,
}

impl Fold {
    /// Folds in event `n`, which must be the next one.
    fn fold(&mut self, n: i64, item: &str, answer: &str, seq: i64) {
        debug_assert_eq!(n, self.events);
        self.events = n + 1;
        self.seqs.insert(seq);
        self.max_seq = self.max_seq.max(seq);
        let by_item = Arc::make_mut(&mut self.by_item);
        match by_item.get_mut(item) {
            Some((s, a)) if seq > *s => {
                *s = seq;
                *a = Arc::from(answer);
            }
            Some(_) => {}
            None => {
                by_item.insert(Arc::from(item), (seq, Arc::from(answer)));
            }
        }
    }

    /// How many events are folded in.
    pub(super) fn events(&self) -> i64 {
        self.events
    }

    /// The newest sequence number logged for `item`.
    pub(super) fn item_seq(&self, item: &str) -> Option<i64> {
        self.by_item.get(item).map(|(s, _)| *s)
    }

    /// Whether `seq` is logged already.
    pub(super) fn logged(&self, seq: i64) -> bool {
        self.seqs.contains(&seq)
    }

    /// An estimate of the memory it holds, in bytes, for the cache's bound.
    fn weight(&self) -> u32 {
        let bytes: usize = self
            .by_item
            .iter()
            .map(|(k, (_, a))| 64 + k.len() + a.len())
            .sum::<usize>()
            + 16 * self.seqs.capacity()
            + 128;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }

    fn snapshot(&self) -> CurrentAnswers {
        CurrentAnswers {
            by_item: self.by_item.clone(),
            last_seq: self.max_seq,
        }
    }
}

/// An attempt's current answers at one moment: what a page shows.
#[derive(Debug, Clone, Default)]
pub struct CurrentAnswers {
    by_item: Arc<ByItem>,
    last_seq: i64,
}

type ByItem = HashMap<Arc<str>, (i64, Arc<str>)>;

impl CurrentAnswers {
    /// The item's current answer.
    pub fn get(&self, item: &str) -> Option<&str> {
        self.by_item.get(item).map(|(_, a)| &**a)
    }

    /// Every item's current answer.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.by_item.iter().map(|(k, (_, a))| (&**k, &**a))
    }

    /// The highest sequence number stored (0 before the first save).
    pub fn last_seq(&self) -> u64 {
        u64::try_from(self.last_seq).unwrap_or(0)
    }
}

type Shared = Arc<Mutex<Fold>>;

/// The folds of the attempts this process has seen, by attempt id, bounded in bytes.
#[derive(Debug, Clone)]
pub struct AnswerCache(moka::sync::Cache<i64, Shared>);

/// The most memory the folds of all cached attempts may take (the least used go first).
pub const ANSWER_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for AnswerCache {
    fn default() -> Self {
        AnswerCache(
            moka::sync::Cache::builder()
                .max_capacity(ANSWER_CACHE_BYTES)
                .weigher(|_, v: &Shared| lock(v).weighed)
                .build(),
        )
    }
}

/// A fold's lock. A panic while holding it cannot leave a half-folded event (folding does not
/// panic), so a poisoned lock is taken as it is.
pub(super) fn lock(fold: &Mutex<Fold>) -> MutexGuard<'_, Fold> {
    fold.lock().unwrap_or_else(|p| p.into_inner())
}

/// An event as the writer stored it.
pub(super) struct Stored<'a> {
    pub attempt_id: i64,
    pub n: i64,
    pub item_id: &'a str,
    pub answer: &'a str,
    pub seq: i64,
}

impl AnswerCache {
    /// The attempt's fold, an empty one if this process has none.
    pub(super) fn fold(&self, attempt_id: i64) -> Shared {
        self.0.get_with(attempt_id, Shared::default)
    }

    /// Tells the cache a fold's new size once it has grown (or shrunk) by half: the bound
    /// holds within that factor without weighing on every save.
    fn reweigh(&self, attempt_id: i64, fold: &Shared) {
        let grown = {
            let mut f = lock(fold);
            let w = f.weight();
            let changed = w > f.weighed.saturating_mul(3) / 2 || w < f.weighed / 2;
            if changed {
                f.weighed = w;
            }
            changed
        };
        if grown {
            self.0.insert(attempt_id, fold.clone());
        }
    }

    /// After a commit: folds the events the writer stored into the attempts whose folds end
    /// just before them (the writer brought every one of its batch's folds up to date inside
    /// the transaction). `events` are in chain order within each attempt.
    pub(super) fn committed(&self, events: &[Stored<'_>]) {
        let mut i = 0;
        while i < events.len() {
            let id = events[i].attempt_id;
            let end = events[i..]
                .iter()
                .position(|e| e.attempt_id != id)
                .map_or(events.len(), |p| i + p);
            if let Some(shared) = self.0.get(&id) {
                {
                    let mut f = lock(&shared);
                    if f.events == events[i].n {
                        for e in &events[i..end] {
                            f.fold(e.n, e.item_id, e.answer, e.seq);
                        }
                    }
                }
                self.reweigh(id, &shared);
            }
            i = end;
        }
    }
}

/// Brings `fold` up to `wanted` events from the database through `ex` (a pool or the
/// writer's transaction): the events after what it holds. Reading a whole chain for the first
/// time takes only (n, item, sequence number) of every event, then the answers of each item's
/// newest save, so a long Part Two log of drafts is not carried over the wire.
pub(super) async fn top_up(
    conn: &mut AnyConnection,
    attempt_id: i64,
    fold: &Shared,
    wanted: i64,
) -> Result<()> {
    let from = {
        let mut f = lock(fold);
        if f.events > wanted {
            // Longer than the chain: the database went back (a restore under a running
            // server). Start again from nothing rather than show answers the log no longer has.
            *f = Fold::default();
        }
        f.events
    };
    if from == wanted {
        return Ok(());
    }
    let rows: Vec<(i64, String, String, i64)> = if from == 0 {
        whole_chain(conn, attempt_id).await?
    } else {
        sqlx::query_as(
            "SELECT n, item_id, answer, seq FROM response_events
             WHERE attempt_id = $1 AND n >= $2 ORDER BY n",
        )
        .bind(attempt_id)
        .bind(from)
        .fetch_all(&mut *conn)
        .await?
    };
    let mut f = lock(fold);
    if f.events != from {
        // Someone else folded meanwhile; theirs is as good.
        return Ok(());
    }
    for (n, item, answer, seq) in rows {
        if n != f.events {
            return Err(StoreError::Sqlx(sqlx::Error::Decode(
                format!(
                    "attempt {attempt_id}: event {n} follows event {}",
                    f.events - 1
                )
                .into(),
            )));
        }
        f.fold(n, &item, &answer, seq);
    }
    Ok(())
}

/// Every event of a chain as (n, item, answer, seq), with the answer given only for each
/// item's newest save (empty for the others, which a fold never keeps).
async fn whole_chain(
    conn: &mut AnyConnection,
    attempt_id: i64,
) -> Result<Vec<(i64, String, String, i64)>> {
    let events: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT n, item_id, seq FROM response_events WHERE attempt_id = $1 ORDER BY n",
    )
    .bind(attempt_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut newest: HashMap<&str, (i64, i64)> = HashMap::new();
    for (n, item, seq) in &events {
        let e = newest.entry(item.as_str()).or_insert((*seq, *n));
        if *seq > e.0 {
            *e = (*seq, *n);
        }
    }
    let mut wanted: Vec<i64> = newest.values().map(|(_, n)| *n).collect();
    wanted.sort_unstable();
    let mut answers: HashMap<i64, String> = HashMap::new();
    for chunk in wanted.chunks(64) {
        let list = (2..chunk.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT n, answer FROM response_events WHERE attempt_id = $1 AND n IN ({list})"
        );
        let mut q = sqlx::query_as::<_, (i64, String)>(&sql).bind(attempt_id);
        for n in chunk {
            q = q.bind(*n);
        }
        answers.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(events
        .into_iter()
        .map(|(n, item, seq)| {
            let answer = answers.remove(&n).unwrap_or_default();
            (n, item, answer, seq)
        })
        .collect())
}

/// The current answers of an attempt whose newest event is `newest` (as read with the attempt;
/// `None` before its first save): from this process's fold, topped up with the events after
/// what it holds (all of them the first time this process reads the attempt).
pub async fn current_answers(
    db: &Db,
    attempt_id: i64,
    newest: Option<i64>,
) -> Result<CurrentAnswers> {
    let wanted = newest.map_or(0, |n| n.saturating_add(1));
    let fold = db.answers.fold(attempt_id);
    {
        let f = lock(&fold);
        if f.events >= wanted {
            // Folded at least this far (the writer may have gone further since the read).
            return Ok(f.snapshot());
        }
    }
    let mut conn = db.pool.acquire().await?;
    top_up(&mut conn, attempt_id, &fold, wanted).await?;
    drop(conn);
    db.answers.reweigh(attempt_id, &fold);
    let snapshot = lock(&fold).snapshot();
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored<'a>(
        attempt_id: i64,
        n: i64,
        item_id: &'a str,
        answer: &'a str,
        seq: i64,
    ) -> Stored<'a> {
        Stored {
            attempt_id,
            n,
            item_id,
            answer,
            seq,
        }
    }

    #[test]
    fn the_newest_sequence_number_of_an_item_is_its_answer() {
        let mut f = Fold::default();
        f.fold(0, "q1", "A", 5);
        f.fold(1, "q1", "B", 3); // arrived late: logged, not the answer
        f.fold(2, "q2", "C", 9);
        f.fold(3, "q2", "D", 10);
        let c = f.snapshot();
        assert_eq!(c.get("q1"), Some("A"));
        assert_eq!(c.get("q2"), Some("D"));
        assert_eq!(c.get("q3"), None);
        assert_eq!(c.last_seq(), 10);
        assert_eq!(f.events(), 4);
        assert_eq!(f.item_seq("q1"), Some(5));
        assert!(f.logged(3) && f.logged(9) && !f.logged(4));
    }

    #[test]
    fn a_commit_extends_only_the_attempts_whose_fold_ends_just_before_it() {
        let cache = AnswerCache::default();
        lock(&cache.fold(1)).fold(0, "q1", "A", 1);
        lock(&cache.fold(2)).fold(0, "q1", "A", 1);
        cache.committed(&[
            stored(1, 1, "q1", "B", 2),
            stored(1, 2, "q2", "C", 3),
            // Attempt 2's fold holds 1 event: event 5 (another process stored 1..4) is not
            // folded, or its answers would skip four events.
            stored(2, 5, "q1", "D", 9),
            // Not cached: stays out until read.
            stored(3, 0, "q1", "E", 1),
        ]);
        let one = lock(&cache.fold(1)).snapshot();
        assert_eq!((one.get("q1"), one.get("q2")), (Some("B"), Some("C")));
        assert_eq!(lock(&cache.fold(1)).events(), 3);
        let two = lock(&cache.fold(2)).snapshot();
        assert_eq!(two.get("q1"), Some("A"));
        assert_eq!(lock(&cache.fold(2)).events(), 1);
        assert!(cache.0.get(&3).is_none());
    }
}
