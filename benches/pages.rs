//! What a Part One question page costs the server, at a short chain and a long one.
//!
//! `cargo bench --bench pages` sets up a sitting of the sample bank on a fresh SQLite file (or
//! PAGES_DATABASE_URL), two groups of PAGES_CANDIDATES candidates (default 16) who entered
//! through the real server, gives the first group's chains 10 saves each and the second's
//! PAGES_LONG (default 10,000), then for PAGES_SECONDS (default 10) per phase has each candidate
//! load their question pages back to back, one at a time (a closed loop, one browser each), and
//! reports pages/s, p50/p99 latency and the server's CPU time per page (user + system, from
//! /proc/PID/stat), with `/healthz` under the same clients for comparison.
//!
//! PAGES_SERVER_BIN is the build measured (default: this one). PAGES_REFERENCE_BIN, if set, is
//! another build (e.g. main before a change) measured on the same database in the same run,
//! before this one, so the two can be read side by side as ratios. Under `cargo test` it runs a
//! short smoke version so CI shows it works.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::sitting::{Candidate, Prepared};
use common::{cpu_time, Server};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The CPU time PostgreSQL's processes have used so far (every process named `postgres`: the
/// backends serving the server's connections do the database's share of each page, which on
/// SQLite is done inside the server's own process). Zero on SQLite.
fn database_cpu(url: &str) -> Duration {
    if !url.starts_with("postgres") {
        return Duration::ZERO;
    }
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            total += cpu_time(pid);
        }
    }
    total
}

/// One phase's figures.
struct Phase {
    requests: usize,
    failed: usize,
    latencies: Vec<Duration>,
    cpu: Duration,
    /// PostgreSQL's processes' CPU over the phase (zero on SQLite).
    db_cpu: Duration,
    seconds: f64,
}

impl Phase {
    fn line(&self) -> String {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / self.requests.max(1) as f64;
        format!(
            "{:.0}/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {:.0} µs per request, database processes {:.0} µs, together {:.0} µs, {} failed",
            self.requests as f64 / self.seconds,
            percentile(&self.latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&self.latencies, 0.99).as_secs_f64() * 1000.0,
            per(self.cpu),
            per(self.db_cpu),
            per(self.cpu + self.db_cpu),
            self.failed,
        )
    }
}

/// Each of `people` loads GETs of `path(candidate, i)` back to back for `seconds`.
async fn closed_loop(
    base: &str,
    url: &str,
    pid: u32,
    people: &[Arc<Candidate>],
    seconds: f64,
    path: fn(&Candidate, usize) -> String,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = cpu_time(pid);
    let db_before = database_cpu(url);
    let started = Instant::now();
    let tasks: Vec<_> = people
        .iter()
        .map(|c| {
            let (c, stop, base) = (c.clone(), stop.clone(), base.to_string());
            tokio::spawn(async move {
                let mut out = Vec::new();
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    let res = c.client.get(format!("{base}{}", path(&c, i))).send().await;
                    let ok = match res {
                        Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                        _ => false,
                    };
                    out.push((ok, t0.elapsed()));
                    i += 1;
                }
                out
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut phase = Phase {
        requests: 0,
        failed: 0,
        latencies: Vec::new(),
        cpu: Duration::ZERO,
        db_cpu: Duration::ZERO,
        seconds: 0.0,
    };
    for t in tasks {
        for (ok, d) in t.await.unwrap() {
            if ok {
                phase.latencies.push(d);
            } else {
                phase.failed += 1;
            }
        }
    }
    phase.seconds = started.elapsed().as_secs_f64();
    phase.cpu = cpu_time(pid).saturating_sub(cpu_before);
    phase.db_cpu = database_cpu(url).saturating_sub(db_before);
    phase.requests = phase.latencies.len();
    phase.latencies.sort();
    phase
}

fn question(c: &Candidate, i: usize) -> String {
    format!("/exam/1/item/{}", i % c.items.len() + 1)
}

fn health(_: &Candidate, _: usize) -> String {
    "/healthz".into()
}

/// Lets the database finish with the bulk load before anything is measured, as a deployment's
/// does long before its pages are read: planner statistics, and on PostgreSQL a vacuum (else
/// autovacuum and ANALYZE of the ~160,000 new events run during the first phases and their CPU
/// is counted as the pages') and a checkpoint; on SQLite the WAL checkpointed into the file.
async fn settle(url: &str) {
    use sqlx::Connection;
    let statements: Vec<&str> = if url.starts_with("postgres") {
        vec!["VACUUM (ANALYZE)", "CHECKPOINT"]
    } else {
        // The statistics as the server refreshes them after a bulk load.
        let mut s = imh_exam::store::SQLITE_STATISTICS.to_vec();
        s.push("PRAGMA wal_checkpoint(TRUNCATE)");
        s
    };
    // A connection of its own: the store's reader pool is read-only, and VACUUM may not run
    // inside the writer's transactions.
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    for sql in &statements {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
}

/// Gives each candidate's chain `saves` saves (sequence numbers after `from`), all candidates
/// at once.
async fn fill(base: &str, people: &[Arc<Candidate>], from: u64, saves: u64) {
    let tasks: Vec<_> = people
        .iter()
        .map(|c| {
            let (c, base) = (c.clone(), base.to_string());
            tokio::spawn(async move {
                for seq in from + 1..=from + saves {
                    assert_eq!(c.save(&base, seq).await, 200, "filling a chain");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let per_group = setting("PAGES_CANDIDATES", if full { 16 } else { 2 }) as usize;
    let long = setting("PAGES_LONG", if full { 10_000 } else { 200 });
    let seconds = setting("PAGES_SECONDS", if full { 10 } else { 1 }) as f64;
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("PAGES_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("pages.db").display()));
    let measured = std::env::var("PAGES_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_imh-exam").to_string());
    let mut builds = Vec::new();
    if let Ok(reference) = std::env::var("PAGES_REFERENCE_BIN") {
        builds.push(("reference", reference));
    }
    builds.push(("measured", measured.clone()));

    let prepared = Prepared::new(&url).await;
    let (short, long_group) = {
        let server = Server::start(&measured, &url).await;
        eprintln!("pages: setting up 2 × {per_group} candidates, chains of 10 and {long} saves…");
        let short: Vec<Arc<Candidate>> = prepared
            .candidates(&server.base, per_group)
            .await
            .into_iter()
            .map(Arc::new)
            .collect();
        let long_group: Vec<Arc<Candidate>> = prepared
            .candidates(&server.base, per_group)
            .await
            .into_iter()
            .map(Arc::new)
            .collect();
        fill(&server.base, &short, 0, 10).await;
        fill(&server.base, &long_group, 0, long).await;
        (short, long_group)
    };
    settle(&url).await;
    println!(
        "pages: {} database, {per_group} candidates per group, one browser each, closed loop, {seconds} s per phase",
        url.split(':').next().unwrap_or("?")
    );
    for (label, binary) in &builds {
        let server = Server::start(binary, &url).await;
        // Every page once, as a sitting's first minutes do (the server's caches warm).
        closed_loop(&server.base, &url, server.pid(), &short, 0.5, question).await;
        closed_loop(&server.base, &url, server.pid(), &long_group, 0.5, question).await;
        for (group, people) in [(10, &short), (long, &long_group)] {
            let phase =
                closed_loop(&server.base, &url, server.pid(), people, seconds, question).await;
            println!(
                "pages: {label} question page, chains of {group} saves: {}",
                phase.line()
            );
            assert!(phase.requests > 0, "no question page was served");
            assert_eq!(phase.failed, 0, "a question page failed");
        }
        let phase = closed_loop(&server.base, &url, server.pid(), &short, seconds, health).await;
        println!("pages: {label} /healthz, same clients: {}", phase.line());
    }
    let (checked, breaks) = imh_exam::store::attempts::verify_chains(&prepared.db)
        .await
        .unwrap();
    println!(
        "pages: {checked} attempt chains verified, {} broken",
        breaks.len()
    );
    assert!(breaks.is_empty(), "{breaks:?}");
}
