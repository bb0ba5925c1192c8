//! Load harness: N simulated candidates over loopback, saving answers as a real exam does.
//!
//! `cargo bench --bench load` runs the full load (defaults: 500 candidates, 10.4 saves a second
//! each = 5,200 saves/s offered, for 20 s, on SQLite). The rate reported is of saves acknowledged
//! within the window (a save still waiting when it ends does not count), so a server that falls
//! behind shows it. Each candidate sends as the exam page's script does: one save at a time
//! over one connection, the rest queued in the browser; a save's latency includes its wait in
//! that queue. Under `cargo test` it runs a short smoke
//! load so CI shows the harness works. Settings: LOAD_CANDIDATES, LOAD_RATE (saves per second
//! per candidate), LOAD_SECONDS, LOAD_DATABASE_URL (default: a fresh SQLite file), LOAD_SERVER_BIN
//! (another build of the server, to compare two side by side in one session).
//!
//! `LOAD_HOSTILE=1` (2: sign-ins only, 3: oversized requests only) adds 64 hostile clients for the whole window, each from its own loopback
//! address: bad sign-ins (random usernames and passwords, with a valid form token, so every one
//! reaches the password check) and oversized requests (3 MiB bodies to the save API and the
//! sign-in form). Compare its save latencies and the server's peak memory (VmHWM) with a quiet
//! run. Candidates enter from their own loopback addresses too (two per address), so the
//! per-client limits apply as in a real sitting, at their defaults. Every run reports the CPU
//! the server and the harness (and its attacker threads) used over the window, so a hostile
//! run shows what the attack costs the server apart from what it costs the shared cores.
//!
//! `LOAD_SATURATE=1` instead runs closed loops at saturation (64, 256 and 500 candidates sending
//! back to back), then `/healthz` alone, and reports saves/s, p50/p99, bytes written per save
//! and the WAL's peak size.
//!
//! `LOAD_METRICS=1` starts the server with a metrics address (`--metrics-bind`) and scrapes it
//! at the end: compare a run's saves/s, p50 and p99 with a run without it (`LOAD_METRICS=0`,
//! the default of a full run; the short run under `cargo test` has it on), to see what the
//! counters cost the save path; the scrape's saves acknowledged, batches and commit times are
//! printed beside the harness's own count, with how many commits and batches took over 20,
//! 50, 100, 200 and 500 ms (a storage stall holds every save behind it: read it beside the
//! p99; a slow batch with a quick commit is the writer short of CPU).
//!
//! The server runs as its own process (the release binary under `cargo bench`), so the harness
//! and the server each have their own file descriptors; they share the machine's cores. Every
//! save is a real one: a transaction appending to the attempt's hash chain, acknowledged only
//! after commit.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::sitting::{Candidate, Prepared};
use common::{csrf_of, free_port, Server};

use imh_exam::store::attempts;

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
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let candidates = setting("LOAD_CANDIDATES", if full { 500 } else { 10 }) as usize;
    let rate: f64 = std::env::var("LOAD_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|r: &f64| *r > 0.0)
        .unwrap_or(10.4);
    let seconds = setting("LOAD_SECONDS", if full { 20 } else { 2 });

    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("LOAD_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.path().join("load.db").display()));
    // The sample bank, one sitting, `candidates` admitted candidates with Part One started.
    let prepared = Prepared::new(&url).await;
    let binary = std::env::var("LOAD_SERVER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_imh-exam").to_string());
    // On in the test run, so CI shows the scrape works; off by default in a full run.
    let metrics = (setting("LOAD_METRICS", u64::from(!full)) == 1)
        .then(|| format!("127.0.0.1:{}", free_port()));
    let server = match &metrics {
        Some(addr) => Server::start_with(&binary, &url, &["--metrics-bind", addr]).await,
        None => Server::start(&binary, &url).await,
    };
    let base = server.base.clone();
    eprintln!("load: setting up {candidates} candidates…");
    let people = prepared.candidates(&base, candidates).await;
    let db = prepared.db;

    if setting("LOAD_SATURATE", 0) == 1 {
        let wal = url
            .strip_prefix("sqlite:")
            .map(|path| std::path::PathBuf::from(format!("{path}-wal")));
        let people = people.into_iter().map(Arc::new).collect();
        saturate(&base, people, seconds, server.pid(), wal).await;
        let (checked, breaks) = attempts::verify_chains(&db).await.unwrap();
        println!(
            "load: {checked} attempt chains verified, {} broken",
            breaks.len()
        );
        assert!(breaks.is_empty(), "{breaks:?}");
        return;
    }

    // Each candidate changes an answer `rate` times a second (spread out, not in lockstep),
    // whatever the server's speed (an open loop, like real people). Like the exam page's
    // script, a candidate's browser sends one save at a time over its connection and queues the
    // others; a save's latency runs from the moment it was made to its acknowledgement, so the
    // time it waited in the queue counts (no coordinated omission).
    eprintln!("load: {candidates} candidates × {rate} saves/s for {seconds} s…");
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let window_end = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    let people: Vec<Arc<Candidate>> = people.into_iter().map(Arc::new).collect();
    for (i, c) in people.iter().cloned().enumerate() {
        let base = base.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let (made, mut queued) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
            let period = Duration::from_secs_f64(1.0 / rate);
            let offset = period.mul_f64((i as f64 * 0.618_034) % 1.0);
            let changes = {
                let stop = stop.clone();
                tokio::spawn(async move {
                    let mut tick =
                        tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    let mut seq = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        tick.tick().await;
                        seq += 1;
                        if made.send((seq, Instant::now())).is_err() {
                            break;
                        }
                    }
                })
            };
            let mut out = Vec::new();
            let mut unsent = 0usize;
            while let Some((seq, made_at)) = queued.recv().await {
                if stop.load(Ordering::Relaxed) {
                    // Still queued when the window closed: never acknowledged.
                    unsent += 1;
                    continue;
                }
                let status = c.save(&base, seq).await;
                let acked = Instant::now();
                out.push((status, acked - made_at, acked <= window_end));
            }
            let _ = changes.await;
            (out, unsent)
        }));
    }
    let hostile_mode = setting("LOAD_HOSTILE", 0);
    // CPU over the window: the server's, and this harness's (candidates and attacker), so a
    // hostile run shows what the attack costs the server and what it costs the shared cores.
    let server_cpu_before = common::cpu_time(server.pid());
    let harness_cpu_before = common::cpu_time(std::process::id());
    let hostile = if hostile_mode > 0 {
        eprintln!("load: 64 hostile clients: bad sign-ins and oversized requests…");
        Some(hostile_clients(&base, stop.clone(), hostile_mode))
    } else {
        None
    };
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let server_cpu = common::cpu_time(server.pid()).saturating_sub(server_cpu_before);
    let harness_cpu = common::cpu_time(std::process::id()).saturating_sub(harness_cpu_before);
    // The attacker's threads end with it: read them before they are told to stop.
    let attacker_cpu = common::threads_cpu_time("attacker");
    stop.store(true, Ordering::Relaxed);
    let hostile_counts = hostile.map(|attacker| attacker.join().unwrap());
    let mut latencies = Vec::new();
    let mut failed = 0usize;
    let mut failures = std::collections::BTreeMap::<u16, usize>::new();
    let mut in_window = 0usize;
    let mut unsent = 0usize;
    for t in tasks {
        let (saves, left) = t.await.unwrap();
        unsent += left;
        for (status, d, within) in saves {
            if status == 200 {
                in_window += usize::from(within);
                latencies.push(d);
            } else {
                failed += 1;
                *failures.entry(status).or_default() += 1;
            }
        }
    }
    latencies.sort();
    let acked = latencies.len();

    // The same server's health endpoint under the same concurrency, for comparison.
    let health_stop = Instant::now() + Duration::from_secs(seconds.min(5));
    let mut probes = Vec::new();
    for _ in 0..candidates.min(200) {
        let base = base.clone();
        let client = reqwest::Client::new();
        probes.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < health_stop {
                if client
                    .get(format!("{base}/healthz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
                {
                    n += 1;
                }
            }
            n
        }));
    }
    let mut health = 0u64;
    for p in probes {
        health += p.await.unwrap();
    }
    let health_rate = health as f64 / seconds.min(5) as f64;

    let peak_rss_mib = peak_rss_mib(server.pid());
    let (checked, breaks) = attempts::verify_chains(&db).await.unwrap();
    println!(
        "load: {candidates} candidates, {rate} saves/s each offered ({:.0} saves/s), {seconds} s, database {}",
        candidates as f64 * rate,
        url.split(':').next().unwrap_or("?")
    );
    println!(
        "load: {acked} saves acknowledged, {in_window} of them within the {seconds} s window ({:.0} saves/s), {failed} failed; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        in_window as f64 / seconds as f64,
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    println!("load: {unsent} saves still queued in the browsers when the window closed");
    if failed > 0 {
        println!("load: failed saves by status (0: no answer): {failures:?}");
    }
    println!("load: /healthz on the same server: {health_rate:.0} requests/s");
    println!("load: the server's peak resident memory (VmHWM): {peak_rss_mib:.0} MiB");
    println!(
        "load: CPU over the window: the server {:.1} s ({:.0} µs a save), the harness {:.1} s (its attacker threads {:.1} s), of {} s × {} cores",
        server_cpu.as_secs_f64(),
        server_cpu.as_secs_f64() * 1e6 / in_window.max(1) as f64,
        harness_cpu.as_secs_f64(),
        attacker_cpu.as_secs_f64(),
        seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if let Some(addr) = &metrics {
        report_metrics(addr, acked).await;
    }
    if let Some(counts) = hostile_counts {
        let total: u64 = counts.values().sum();
        println!("load: hostile requests answered: {total} ({counts:?} by status)");
    }
    println!(
        "load: {checked} attempt chains verified, {} broken",
        breaks.len()
    );
    assert!(breaks.is_empty(), "{breaks:?}");
    assert!(acked > 0, "no save was acknowledged");
    if !full {
        // The saturation mode too, briefly, so CI shows it works.
        let wal = url
            .strip_prefix("sqlite:")
            .map(|path| std::path::PathBuf::from(format!("{path}-wal")));
        saturate(&base, people, 1, server.pid(), wal).await;
    }
}

/// What the server's metrics say of the run, beside what the harness counted.
async fn report_metrics(addr: &str, acked_here: usize) {
    use imh_exam::metrics::sample;
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("scraping the metrics")
        .text()
        .await
        .unwrap();
    let at = |name: &str| sample(&text, name, &[]).unwrap_or(f64::NAN);
    let acked = at("imh_saves_acknowledged_total");
    let batches = at("imh_save_batch_size_count");
    println!(
        "load: metrics: {acked:.0} saves acknowledged (the harness saw {acked_here}), {batches:.0} batches of {:.1} saves on average, commit {:.2} ms and batch {:.2} ms on average, queue now {:.0}",
        at("imh_save_batch_size_sum") / batches,
        at("imh_save_commit_duration_seconds_sum") / batches * 1000.0,
        at("imh_save_batch_duration_seconds_sum") / batches * 1000.0,
        at("imh_save_queue_depth"),
    );
    // The commits' slow tail: a save waits for its batch's commit (an fsync), so a storage
    // stall of a few hundred ms shows in the saves' p99 whatever else the run did. Read it
    // beside the p99 before putting a difference between two runs down to anything else.
    // Batches likewise (a batch's whole transaction, from taking the writer to its commit's
    // end): a slow batch with a quick commit is the writer short of CPU, not the disk.
    for (what, histogram) in [
        ("commits", "imh_save_commit_duration_seconds_bucket"),
        ("batches", "imh_save_batch_duration_seconds_bucket"),
    ] {
        let slower =
            |le: &str| batches - sample(&text, histogram, &[("le", le)]).unwrap_or(f64::NAN);
        println!(
            "load: metrics: {what} over 20 ms {:.0}, over 50 ms {:.0}, over 100 ms {:.0}, over 200 ms {:.0}, over 500 ms {:.0}",
            slower("0.02"),
            slower("0.05"),
            slower("0.1"),
            slower("0.2"),
            slower("0.5"),
        );
    }
    // The saves' latency as the server measured it (from the request's head to its answer),
    // which leaves out what the harness's own threads waited for the shared cores: a candidate's
    // browser is on another machine.
    let (p50, p99) = (server_quantile(&text, 0.50), server_quantile(&text, 0.99));
    println!(
        "load: metrics: saves answered 200 within the server: p50 {:.1} ms, p99 {:.1} ms (interpolated within the histogram's buckets)",
        p50 * 1000.0,
        p99 * 1000.0
    );
    assert!(
        p50.is_finite() && p50 <= p99,
        "server quantiles {p50} {p99}"
    );
    // Every save the harness saw acknowledged was counted (the server may count a few more:
    // saves answered after the harness stopped listening).
    assert!(acked >= acked_here as f64, "{acked} < {acked_here}");
}

/// The `q` quantile of the saves the server answered 200, in seconds, from its request-latency
/// histogram: linear within the bucket the quantile falls in (the first bucket from 0), the
/// lower bound of the open top bucket past the last.
fn server_quantile(text: &str, q: f64) -> f64 {
    let name = "imh_http_request_duration_seconds_bucket{";
    let save = [
        "method=\"POST\"",
        "route=\"/exam/api/save\"",
        "status=\"200\"",
    ];
    // Every bucket of the save's series: (its bound, the saves at or under it).
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| l.starts_with(name) && save.iter().all(|label| l.contains(label)))
        .filter_map(|l| {
            let bound = l.split("le=\"").nth(1)?.split('"').next()?;
            let bound = if bound == "+Inf" {
                f64::INFINITY
            } else {
                bound.parse().ok()?
            };
            Some((bound, l.rsplit_once(' ')?.1.parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let Some(&(_, total)) = buckets.last() else {
        return f64::NAN;
    };
    let target = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for (le, count) in buckets {
        if count >= target {
            if le.is_infinite() {
                return lower;
            }
            let share = if count > below {
                (target - below) / (count - below)
            } else {
                0.0
            };
            return lower + share * (le - lower);
        }
        (lower, below) = (le, count);
    }
    f64::NAN
}

/// Closed loop at saturation: 64, then 256, then all candidates (at most 500) each send saves
/// back to back, one at a time, for `seconds` each; then `/healthz` alone from as many clients.
/// Reports each phase's saves/s, p50 and p99, bytes the server wrote per save (from
/// /proc/PID/io) and the SQLite WAL's peak size (sampled every 50 ms).
async fn saturate(
    base: &str,
    people: Vec<Arc<Candidate>>,
    seconds: u64,
    server: u32,
    wal: Option<std::path::PathBuf>,
) {
    let wal_peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (wal_peak, sampling) = (wal_peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Some(size) = wal.as_ref().and_then(|w| std::fs::metadata(w).ok()) {
                    wal_peak.fetch_max(size.len(), Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    println!("load: saturation, closed loop, {seconds} s per phase, database writes per save from /proc/{server}/io");
    let mut phases: Vec<usize> = [64, 256, 500]
        .into_iter()
        .map(|n| n.min(people.len()))
        .collect();
    phases.dedup();
    let mut seq_base = 0u64;
    for n in phases {
        let written_before = written_bytes(server);
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for c in people.iter().take(n) {
            let (c, stop, base) = (c.clone(), stop.clone(), base.to_string());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                let mut seq = seq_base;
                while !stop.load(Ordering::Relaxed) {
                    seq += 1;
                    let t0 = Instant::now();
                    let ok = c.save(&base, seq).await == 200;
                    out.push((ok, t0.elapsed()));
                }
                out
            }));
        }
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let mut latencies = Vec::new();
        let mut failed = 0usize;
        for t in tasks {
            for (ok, d) in t.await.unwrap() {
                if ok {
                    latencies.push(d);
                } else {
                    failed += 1;
                }
            }
        }
        latencies.sort();
        let written = written_bytes(server).saturating_sub(written_before);
        println!(
            "load: saturation {n:>3} candidates: {:.0} saves/s, p50 {:.1} ms, p99 {:.1} ms, {failed} failed, {:.1} KiB written per save",
            latencies.len() as f64 / seconds as f64,
            percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            written as f64 / latencies.len().max(1) as f64 / 1024.0,
        );
        // Later phases continue each chain with higher sequence numbers.
        seq_base += 10_000_000;
    }
    let clients = people.len();
    let stop = Arc::new(AtomicBool::new(false));
    let mut probes = Vec::new();
    for _ in 0..clients {
        let (stop, base) = (stop.clone(), base.to_string());
        probes.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if client
                    .get(format!("{base}/healthz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
                {
                    n += 1;
                }
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds.min(5))).await;
    stop.store(true, Ordering::Relaxed);
    let mut health = 0u64;
    for p in probes {
        health += p.await.unwrap();
    }
    println!(
        "load: /healthz alone, {clients} clients: {:.0} requests/s",
        health as f64 / seconds.min(5) as f64
    );
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    println!(
        "load: the WAL's peak size: {:.1} MiB",
        wal_peak.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
    );
    println!(
        "load: the server's peak resident memory (VmHWM): {:.0} MiB",
        peak_rss_mib(server)
    );
}

/// Bytes the process has caused to be written to storage so far (0 where /proc has no io).
fn written_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("write_bytes:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The server's peak resident memory so far, from /proc (0 where there is none).
fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// 64 hostile clients, each from its own loopback address, until `stop`: a bad sign-in (with a
/// valid form token, so it reaches the password check), then an oversized save, then an
/// oversized sign-in form, over and over. Returns the count of answers by status.
///
/// The attacker runs on a runtime and threads of its own, as it would on its own machine: on
/// the candidates' runtime its tasks would sit in the same run queues as the candidates' saves,
/// and the harness would time its own queueing as the server's latency. It still shares the
/// machine's cores with the server and the candidates, as the figures say.
fn hostile_clients(
    base: &str,
    stop: Arc<AtomicBool>,
    mode: u64,
) -> std::thread::JoinHandle<std::collections::BTreeMap<u16, u64>> {
    let base = base.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("attacker")
            .enable_all()
            .build()
            .expect("the attacker's runtime");
        runtime.block_on(async move {
            let mut counts = std::collections::BTreeMap::<u16, u64>::new();
            for t in attack(&base, stop, mode) {
                for (status, n) in t.await.unwrap() {
                    *counts.entry(status).or_default() += n;
                }
            }
            counts
        })
    })
}

fn attack(
    base: &str,
    stop: Arc<AtomicBool>,
    mode: u64,
) -> Vec<tokio::task::JoinHandle<std::collections::BTreeMap<u16, u64>>> {
    (0..64u8)
        .map(|i| {
            let base = base.to_string();
            let stop = stop.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(Duration::from_secs(10))
                    .local_address(std::net::IpAddr::from([127, 0, 2, i + 1]))
                    .build()
                    .unwrap();
                // One 3 MiB body for the whole run, sent without copying (the harness must not
                // spend the machine's cores on memcpy that the server never sees).
                static BIG: std::sync::OnceLock<&'static [u8]> = std::sync::OnceLock::new();
                let big: &'static [u8] =
                    BIG.get_or_init(|| Box::leak(vec![b'x'; 3 * 1024 * 1024].into_boxed_slice()));
                let mut counts = std::collections::BTreeMap::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // LOAD_HOSTILE=2: bad sign-ins only; 3: oversized requests only.
                    let kind = match mode {
                        2 => 0,
                        3 => 1 + n % 2,
                        _ => n % 3,
                    };
                    let res = match kind {
                        0 => {
                            let page = match client.get(format!("{base}/login")).send().await {
                                Ok(r) => r.text().await.unwrap_or_default(),
                                Err(_) => String::new(),
                            };
                            let token = if page.contains("name=\"csrf\"") {
                                csrf_of(&page)
                            } else {
                                String::new()
                            };
                            client
                                .post(format!("{base}/login"))
                                .form(&[
                                    ("username", format!("nobody{i}x{n}").as_str()),
                                    ("password", "not the password at all"),
                                    ("csrf", token.as_str()),
                                ])
                                .send()
                                .await
                        }
                        1 => {
                            client
                                .post(format!("{base}/exam/api/save"))
                                .header("content-type", "application/json")
                                .body(big)
                                .send()
                                .await
                        }
                        _ => {
                            client
                                .post(format!("{base}/login"))
                                .header("content-type", "application/x-www-form-urlencoded")
                                .body(big)
                                .send()
                                .await
                        }
                    };
                    let status = match res {
                        Ok(r) => {
                            let s = r.status().as_u16();
                            let _ = r.bytes().await;
                            s
                        }
                        Err(_) => 0,
                    };
                    *counts.entry(status).or_insert(0u64) += 1;
                    if status == 429 || status == 503 {
                        // Told to wait: a hostile client does not, but it cannot go faster than
                        // the server answers; a short pause keeps the harness from spinning.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                counts
            })
        })
        .collect()
}
