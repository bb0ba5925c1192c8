//! The saves' writer: it drains a queue of saves into batches, one transaction each, and
//! answers each save once its batch is committed.

use crate::store::Db;

use super::{save_batch, SaveError, SaveRequest, Saved};

/// Starts a writer. On SQLite, on a thread and runtime of its own, so that it never waits
/// behind the server's requests: a batch is several round trips to the connection's own
/// thread, and each time an answer came back the writer, a task among the requests' tasks,
/// waited for a worker of the shared runtime to come round to it, and every save queued
/// behind it waited as long. Under the load harness (500 candidates, 5,200 saves/s) batches
/// of 12-13 saves took 2.2-2.3 ms on average; on its own thread the writer comes round sooner,
/// to batches of 4-7 saves taking 0.6-1.1 ms, and the saves' p50 fell from 4.6-4.7 ms to
/// 1.6-3.2.
///
/// On PostgreSQL the writers stay tasks of the server's runtime: their connections' sockets
/// are driven by that runtime's reactor, and the load harness's p99 was worse with the
/// writers on threads of their own (271-325 ms against 141-175).
///
/// A writer on its own thread ends with the runtime that started it (the server's, or a
/// test's): a task there holds `stop`, and a runtime that shuts down drops its tasks. A batch
/// cut short that way is rolled back, and its saves are answered with an error, never
/// acknowledged.
pub(super) fn spawn_writer(db: Db, rx: tokio::sync::mpsc::Receiver<SaveRequest>, n: usize) {
    if db.backend == crate::store::Backend::Postgres {
        tokio::spawn(write_saves(db, rx));
        return;
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _held = stop;
        std::future::pending::<()>().await
    });
    std::thread::Builder::new()
        .name(format!("save-writer-{n}"))
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "starting the save writer's runtime");
                    return;
                }
            };
            runtime.block_on(async move {
                tokio::select! {
                    () = write_saves(db, rx) => {}
                    _ = stopped => {}
                }
            });
        })
        .expect("starting the save writer's thread");
}

/// The writer: drains the queue into batches, one transaction each.
async fn write_saves(db: Db, mut rx: tokio::sync::mpsc::Receiver<SaveRequest>) {
    let mut wal_checked = std::time::Instant::now();
    while let Some(first) = rx.recv().await {
        // Between batches, at most every 20 ms: the write-ahead log restarted after a passive
        // checkpoint, or cut back when it passes its bound (a stat, and now and then a
        // checkpoint). Checked here, where the log grows, it stays within the bound plus a few
        // batches at any rate of saves.
        if wal_checked.elapsed() >= std::time::Duration::from_millis(20) {
            wal_checked = std::time::Instant::now();
            if let Err(e) = db.bound_wal().await {
                tracing::warn!(error = %e, "bounding the write-ahead log");
            }
        }
        // The most saves one transaction takes (`[saves] batch_size`): a bound on how long
        // the first of them waits.
        let mut batch = take_waiting(first, &mut rx, db.settings.save_batch);
        // Stable: each attempt's saves keep their order, and PostgreSQL's row locks are taken
        // in one order by every writer, so two processes' batches cannot deadlock.
        batch.sort_by_key(|r| r.attempt_id);
        match save_batch(&db, &batch).await {
            Ok(results) => {
                count_answers(&db, &results);
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
                    count_answers(&db, std::slice::from_ref(&result));
                    let _ = request.reply.send(result);
                }
            }
        }
    }
}

/// `first` and whatever else is waiting in `rx` at this moment, up to `max` in all.
fn take_waiting<T>(first: T, rx: &mut tokio::sync::mpsc::Receiver<T>, max: usize) -> Vec<T> {
    let mut batch = vec![first];
    while batch.len() < max {
        match rx.try_recv() {
            Ok(r) => batch.push(r),
            Err(_) => break,
        }
    }
    batch
}

/// Saves acknowledged and refused, for the metrics (when the server keeps them): one add for
/// the batch's acknowledgements.
fn count_answers(db: &Db, results: &[Result<Saved, SaveError>]) {
    let Some(m) = db.metrics() else {
        return;
    };
    m.saves_acknowledged(results.iter().filter(|r| r.is_ok()).count() as u64);
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        m.save_refused(e.refusal());
    }
}

/// Saves waiting in the writers' queues now (not those in the batch being written).
pub fn queue_depth(db: &Db) -> usize {
    db.saves.get().map_or(0, |queues| {
        queues.iter().map(|q| q.max_capacity() - q.capacity()).sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads of this process called `name`.
    fn threads_called(name: &str) -> usize {
        std::fs::read_dir("/proc/self/task").map_or(0, |tasks| {
            tasks
                .filter_map(|t| t.ok())
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name)
                })
                .count()
        })
    }

    #[test]
    fn a_sqlite_writer_has_a_thread_of_its_own_that_ends_with_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("writer.db").display());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let db = Db::connect(&url).await.unwrap();
            // No such attempt: the writer refuses the save.
            let refused = super::super::save(&db, 999, "X-0001", "A", 1, 0).await;
            assert!(matches!(refused, Err(SaveError::NotFound)), "{refused:?}");
            assert_eq!(threads_called("save-writer-0"), 1);
        });
        drop(runtime);
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while threads_called("save-writer-0") > 0 && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            threads_called("save-writer-0"),
            0,
            "the writer ended with the runtime that started it"
        );
    }

    #[test]
    fn a_batch_takes_what_waits_up_to_the_batch_size() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        for i in 1..=9 {
            tx.try_send(i).unwrap();
        }
        assert_eq!(take_waiting(0, &mut rx, 4), [0, 1, 2, 3]);
        assert_eq!(
            take_waiting(10, &mut rx, 1),
            [10],
            "a batch of one takes nothing more"
        );
        assert_eq!(take_waiting(11, &mut rx, 128), [11, 4, 5, 6, 7, 8, 9]);
    }
}
