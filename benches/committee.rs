//! The committee's pages at scale: how long each takes for a completed sitting of 200, 3,000 and
//! 10,000 candidates, and what that costs per candidate.
//!
//! For each size the harness writes a completed sitting (both parts taken, every response read
//! and settled, results released) into a fresh SQLite database with the demo's simulation
//! (`demo::completed_sitting_named`, written in bulk), starts the real server on it as its own
//! process (the release binary under `cargo bench`), signs in as a committee member, and times
//! each page: one warm-up GET, then the median of five, the whole body read.
//!
//! Targets: every page under 300 ms at 3,000 candidates and under 1 s at 10,000. A page that
//! reads the sitting in a fixed number of queries costs less per candidate as the sitting grows;
//! one that queries per candidate does not. Nothing here asserts a time: the machine may be
//! shared, so the figures are for reading, beside the load average printed with them.
//!
//! `cargo bench --bench committee` runs the three sizes (`COMMITTEE_SIZES=200,3000` to choose);
//! under `cargo test` it runs a smoke version of 50 candidates, so CI shows the harness works.
//! `COMMITTEE_KEEP=DIR` keeps each size's database in DIR (as `committee-N.db`);
//! `COMMITTEE_REFERENCE_BIN=PATH` times another build's pages beside this one's, GET by GET.

mod common;
use common::{csrf_of, Server};

use std::time::{Duration, Instant};

use imh_exam::auth::{Role, Username};
use imh_exam::store::bank::import_dir;
use imh_exam::store::users::{self, NewUser};
use imh_exam::store::Db;

const PASSWORD: &str = "committee-bench-password";
const PAGES: [&str; 5] = [
    "/stats/{id}/items",
    "/stats/{id}/dif",
    "/stats/{id}/agreement",
    "/scoring/{id}/results",
    "/scoring/{id}/results.csv",
];
const TIMED: usize = 5;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

async fn add(db: &Db, username: &str, role: Role, organisation: &str) -> i64 {
    users::add_user(
        db,
        NewUser {
            username: &Username::parse(username).unwrap(),
            display_name: username,
            role,
            organisation,
            password: PASSWORD,
            added_by: "bench",
        },
    )
    .await
    .unwrap()
}

/// One size: the sitting written, the server started, every page timed.
struct Measured {
    candidates: usize,
    setup: Duration,
    /// Per page, the median of the timed GETs.
    pages: Vec<Duration>,
    /// The same for `COMMITTEE_REFERENCE_BIN`, when given.
    reference: Vec<Duration>,
    load: String,
}

async fn measure(candidates: usize) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    // COMMITTEE_KEEP=DIR keeps each size's database there, for a look at its queries.
    let path = match std::env::var("COMMITTEE_KEEP") {
        Ok(keep) => std::path::Path::new(&keep).join(format!("committee-{candidates}.db")),
        Err(_) => dir.path().join("committee.db"),
    };
    let url = format!("sqlite:{}", path.display());
    let db = Db::connect(&url).await.expect("database");
    import_dir(
        &db,
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("item-bank"),
        "bench",
    )
    .await
    .unwrap();
    let mut raters = Vec::new();
    for (i, severity) in [0.0, 0.4, -0.6, 0.1].into_iter().enumerate() {
        let org = format!("Bench rater organisation {i}");
        raters.push((
            add(&db, &format!("rater{}", i + 1), Role::Rater, &org).await,
            severity,
        ));
    }
    add(&db, "committee", Role::Committee, "Bench").await;
    let started = Instant::now();
    let id = imh_exam::demo::completed_sitting_named(
        &db,
        &format!("Committee bench: {candidates} candidates"),
        candidates,
        &raters,
    )
    .await
    .unwrap();
    let setup = started.elapsed();
    db.close().await;

    // COMMITTEE_REFERENCE_BIN=PATH times another build's pages on the same database in the same
    // run, each GET alternating with this build's, so the two are compared side by side.
    let mut builds = vec![signed_in(env!("CARGO_BIN_EXE_imh-exam"), &url).await];
    if let Ok(reference) = std::env::var("COMMITTEE_REFERENCE_BIN") {
        builds.push(signed_in(&reference, &url).await);
    }
    let mut pages = Vec::new();
    let mut reference = Vec::new();
    for path in PAGES {
        let path = path.replace("{id}", &id.to_string());
        let mut times = vec![Vec::new(); builds.len()];
        for i in 0..=TIMED {
            for (b, build) in builds.iter().enumerate() {
                let took = build.get(&path).await;
                // The first GET warms the caches; it is not counted.
                if i > 0 {
                    times[b].push(took);
                }
            }
        }
        let median = |mut t: Vec<Duration>| {
            t.sort();
            t[t.len() / 2]
        };
        let mut times = times.into_iter();
        pages.push(median(times.next().unwrap()));
        if let Some(t) = times.next() {
            reference.push(median(t));
        }
    }
    Measured {
        candidates,
        setup,
        pages,
        reference,
        load: load_average(),
    }
}

/// A server on the database with the committee member signed in.
struct Build {
    _server: Server,
    base: String,
    client: reqwest::Client,
}

impl Build {
    /// One GET of `path`, the whole body read; its wall time.
    async fn get(&self, path: &str) -> Duration {
        let url = format!("{}{path}", self.base);
        let t = Instant::now();
        let res = self.client.get(&url).send().await.unwrap();
        let status = res.status();
        let body = res.bytes().await.unwrap();
        let took = t.elapsed();
        assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
        took
    }
}

async fn signed_in(binary: &str, url: &str) -> Build {
    let server = Server::start(binary, url).await;
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("username", "committee"),
            ("password", PASSWORD),
            ("csrf", csrf_of(&page).as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the committee member signs in");
    Build {
        _server: server,
        base,
        client,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = match std::env::var("COMMITTEE_SIZES") {
        Ok(s) => s.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
        Err(_) if full => vec![200, 3_000, 10_000],
        Err(_) => vec![50],
    };
    let mut results = Vec::new();
    for n in sizes {
        eprintln!("committee: writing a completed sitting of {n} candidates…");
        let m = measure(n).await;
        eprintln!(
            "committee: {n} candidates written in {:.1} s, pages timed (load average {})",
            m.setup.as_secs_f64(),
            m.load
        );
        results.push(m);
    }

    println!();
    println!(
        "{:<26} {:>11} {:>10} {:>14}",
        "page", "candidates", "median ms", "ms/candidate"
    );
    for (p, path) in PAGES.iter().enumerate() {
        for m in &results {
            let t = ms(m.pages[p]);
            let target = match m.candidates {
                n if n >= 10_000 => Some(1000.0),
                n if n >= 3_000 => Some(300.0),
                _ => None,
            };
            let mark = match target {
                Some(limit) if t > limit => format!("  over the {limit:.0} ms target"),
                _ => String::new(),
            };
            let beside = match m.reference.get(p) {
                Some(r) => format!("  reference {:.1} ms ({:.1}x)", ms(*r), ms(*r) / t),
                None => String::new(),
            };
            println!(
                "{:<26} {:>11} {:>10.1} {:>14.4}{mark}{beside}",
                path,
                m.candidates,
                t,
                t / m.candidates as f64
            );
        }
        if let (Some(first), Some(last)) = (results.first(), results.last()) {
            if last.candidates > first.candidates {
                let per = |m: &Measured| ms(m.pages[p]) / m.candidates as f64;
                let ratio = per(first) / per(last);
                let change = if ratio >= 1.0 {
                    format!("falls {ratio:.1}x")
                } else {
                    format!("grows {:.1}x", 1.0 / ratio)
                };
                println!(
                    "{:<26} cost per candidate {change} from {} to {} candidates",
                    "", first.candidates, last.candidates
                );
            }
        }
    }
    for m in &results {
        println!(
            "{} candidates: written in {:.1} s; load average while timing {}",
            m.candidates,
            m.setup.as_secs_f64(),
            m.load
        );
    }
}
