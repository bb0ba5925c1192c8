//! What one visitor may cost the server: a bounded number of password checks at once, and a
//! per-client request rate on the anonymous doors (`POST /login` and its second step,
//! `POST /enter`) and the candidates' event beacon.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use maud::html;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::client::{Client, ClientKey};
use super::{views, AppState};
use crate::auth;
use crate::config::Config;

/// How many sign-ins may wait for a check, per check that can run: a short line absorbs a
/// burst of staff signing in at once; past it the answer is 503 at once, not a growing queue.
pub const QUEUE_PER_CHECK: usize = 4;

/// Clients remembered by the rate limiter before it forgets all of them: the map stays bounded
/// even when addresses are spoofed or rotated faster than they go quiet.
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Everything limited per server process.
pub struct Limits {
    pub credentials: CredentialGate,
    pub rate: RateLimits,
}

impl Limits {
    pub fn new(config: &Config) -> Self {
        Limits {
            credentials: CredentialGate::new(config.credential_checks),
            rate: RateLimits::new(config.client_burst, config.client_per_minute),
        }
    }
}

/// Password checks: at most `permits` argon2 runs at once, each off the async runtime, on a
/// pool of exactly `permits` threads of its own. Not tokio's blocking pool: argon2 takes ~19 MiB
/// a run, and the C allocator keeps such blocks per thread (its arenas), so a run on any of up
/// to 512 blocking threads left the server holding hundreds of MiB after a flood of sign-ins
/// (889 MiB peak in the load harness's hostile mode). A few fixed threads reuse their memory.
pub struct CredentialGate {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    permits: usize,
    counts: Arc<InFlight>,
    jobs: std::sync::mpsc::SyncSender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// `n` threads that run password checks one at a time each, until the gate is dropped.
fn check_threads(n: usize) -> std::sync::mpsc::SyncSender<Job> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(n * (1 + QUEUE_PER_CHECK));
    let rx = Arc::new(std::sync::Mutex::new(rx));
    for i in 0..n {
        let rx = rx.clone();
        std::thread::Builder::new()
            .name(format!("password-check-{i}"))
            .spawn(move || {
                yield_to_saves();
                loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        // The gate is gone: so is this thread.
                        Err(_) => return,
                    }
                }
            })
            .expect("starting a password-check thread");
    }
    tx
}

/// Runs this thread at the lowest CPU priority (niceness 19 on Linux): a password check takes
/// mostly what candidates' saves and the pages leave over. On a machine that is not saturated
/// that is a whole core; under a flood of sign-ins on a busy machine it is little, and the
/// check queue, full, answers 503 at once rather than slowing everyone else.
fn yield_to_saves() {
    use thread_priority::{set_current_thread_priority, ThreadPriority};
    // Niceness, not SCHED_IDLE: under saves that fill every core, an idle-class check could
    // wait forever and a staff member's sign-in time out; at niceness 19 it still gets a little.
    if let Err(e) = set_current_thread_priority(ThreadPriority::Min) {
        tracing::warn!(error = ?e, "password checks could not be given a low CPU priority");
    }
}

#[derive(Default)]
struct InFlight {
    now: AtomicUsize,
    peak: AtomicUsize,
    /// How long a real check took lately, in microseconds (0: none measured yet).
    typical_us: AtomicU64,
}

impl InFlight {
    /// Keeps a moving average of real checks' durations (each new one counts an eighth).
    fn took(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let before = self.typical_us.load(Ordering::Relaxed);
        let next = if before == 0 {
            us
        } else {
            before - before / 8 + us / 8
        };
        self.typical_us.store(next, Ordering::Relaxed);
    }

    /// What a real check takes now: the moving average, or one timed here on the dummy hash
    /// when no real check has run since the server started.
    fn typical(&self) -> Duration {
        if self.typical_us.load(Ordering::Relaxed) == 0 {
            let started = std::time::Instant::now();
            auth::verify_password("not the password", auth::dummy_hash());
            self.took(started.elapsed());
        }
        Duration::from_micros(self.typical_us.load(Ordering::Relaxed))
    }
}

/// A place in the line for a password check.
pub struct Admission {
    running: Arc<Semaphore>,
    counts: Arc<InFlight>,
    jobs: std::sync::mpsc::SyncSender<Job>,
    _place: OwnedSemaphorePermit,
}

impl CredentialGate {
    pub fn new(permits: usize) -> Self {
        let permits = permits.max(1);
        CredentialGate {
            running: Arc::new(Semaphore::new(permits)),
            admitted: Arc::new(Semaphore::new(permits * (1 + QUEUE_PER_CHECK))),
            permits,
            counts: Arc::default(),
            jobs: check_threads(permits),
        }
    }

    /// A place in line, or `None` when the line is full (answer 503 with `Retry-After`).
    pub fn admit(&self) -> Option<Admission> {
        let place = self.admitted.clone().try_acquire_owned().ok()?;
        Some(Admission {
            running: self.running.clone(),
            counts: self.counts.clone(),
            jobs: self.jobs.clone(),
            _place: place,
        })
    }

    /// How many checks may run at once.
    pub fn permits(&self) -> usize {
        self.permits
    }

    /// The most checks ever seen running at once (for tests and metrics).
    pub fn peak(&self) -> usize {
        self.counts.peak.load(Ordering::SeqCst)
    }
}

impl Admission {
    /// Checks `password` against `hash`; when the account does not exist, waits as long as a
    /// check takes (see the job below), so an unknown username takes the same time and tells
    /// nothing.
    pub async fn verify(self, password: String, hash: Option<String>) -> bool {
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .expect("the credential semaphore is never closed");
        let counts = self.counts.clone();
        // The permit moves into the job: if the request is abandoned meanwhile, the argon2 run
        // still holds its permit until it ends, so the bound is real.
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _permit = permit;
            let n = counts.now.fetch_add(1, Ordering::SeqCst) + 1;
            counts.peak.fetch_max(n, Ordering::SeqCst);
            let ok = match hash {
                Some(hash) => {
                    let started = std::time::Instant::now();
                    let ok = auth::verify_password(&password, &hash);
                    counts.took(started.elapsed());
                    ok
                }
                // No such account: the answer waits as long as a check takes, holding its
                // place like one, but spends no CPU and no memory on a hash nobody has. A
                // flood of made-up usernames (the cheapest attack there is) costs timers.
                None => {
                    std::thread::sleep(counts.typical());
                    false
                }
            };
            counts.now.fetch_sub(1, Ordering::SeqCst);
            let _ = reply.send(ok);
        });
        // The channel holds as many jobs as the line has places, so this never waits long.
        let jobs = self.jobs.clone();
        if tokio::task::spawn_blocking(move || jobs.send(job))
            .await
            .map_or(true, |r| r.is_err())
        {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

/// The doors a client's request rate is counted at, each on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Door {
    Login,
    Enter,
    Event,
}

impl Door {
    /// The door's name in the metrics.
    pub fn metric(self) -> crate::metrics::Door {
        match self {
            Door::Login => crate::metrics::Door::Login,
            Door::Enter => crate::metrics::Door::Enter,
            Door::Event => crate::metrics::Door::Event,
        }
    }

    fn of(method: &Method, path: &str) -> Option<Door> {
        if method != Method::POST {
            return None;
        }
        match path {
            "/login" | "/login/two-factor" | "/login/two-factor/recovery" => Some(Door::Login),
            "/enter" => Some(Door::Enter),
            "/exam/api/event" => Some(Door::Event),
            _ => None,
        }
    }
}

/// Requests per client and door (GCRA: a burst, then a steady rate).
pub struct RateLimits {
    quota: Quota,
    limiter: RwLock<DefaultKeyedRateLimiter<(Door, ClientKey)>>,
}

impl RateLimits {
    pub fn new(burst: u32, per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        RateLimits {
            quota,
            limiter: RwLock::new(RateLimiter::keyed(quota)),
        }
    }

    fn limiter(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, DefaultKeyedRateLimiter<(Door, ClientKey)>> {
        self.limiter
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(wait)` when this client has used up its requests at this door for now.
    pub fn check(&self, door: Door, client: ClientKey) -> Result<(), Duration> {
        use governor::clock::Clock;
        let limiter = self.limiter();
        limiter
            .check_key(&(door, client))
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    /// Forgets clients whose allowance is full again; called once a second. Past
    /// `MAX_TRACKED_CLIENTS` it forgets every client, so memory stays bounded whatever the
    /// traffic (a flood of spoofed addresses buys its senders a fresh allowance, no more).
    pub fn sweep(&self) {
        let over = {
            let limiter = self.limiter();
            limiter.retain_recent();
            limiter.shrink_to_fit();
            limiter.len() > MAX_TRACKED_CLIENTS
        };
        if over {
            tracing::warn!(
                "rate limiter over {MAX_TRACKED_CLIENTS} clients: forgetting all of them"
            );
            *self
                .limiter
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                RateLimiter::keyed(self.quota);
        }
    }

    /// Clients (per door) currently remembered.
    pub fn tracked(&self) -> usize {
        self.limiter().len()
    }
}

/// The longest a refused request's answer is held back (see `throttle`).
pub const TARPIT_MAX: Duration = Duration::from_secs(1);

/// How long an answer to a request refused from its head alone (no token, or a body over the
/// limit) is held back: nothing a browser meets in normal use, and it keeps a script that
/// loops on such refusals from costing the server more than a few answers a second.
pub const REFUSAL_PAUSE: Duration = Duration::from_millis(250);

/// Whole seconds for `Retry-After`, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Refused for too many failed sign-ins from this client lately (a password or a second
/// step): 429 with `Retry-After` until `until`, the message in the page `page` makes of it.
pub fn too_many_failures(
    until: i64,
    now: i64,
    page: impl FnOnce(&String) -> maud::Markup,
) -> Response {
    let wait = Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
    let msg = format!(
        "Too many failed sign-ins from your connection. Wait {} and try again, or ask an administrator.",
        wait_words(wait)
    );
    with_retry_after(
        (StatusCode::TOO_MANY_REQUESTS, page(&msg)).into_response(),
        wait,
    )
}

/// Marks an answer as a deliberate refusal (a rate limit, a full line), told to come back
/// after `Retry-After`: the request log writes it at debug whatever its status, 503 included,
/// since anyone can call up as many as they like; the refusing code logs it through a
/// [`super::log_gate::LogGate`] and the metrics count every one.
#[derive(Debug, Clone, Copy)]
pub struct Refusal;

/// A refusal's answer: `response` with a `Retry-After` header of `wait` (rounded up to whole
/// seconds) and the [`Refusal`] mark.
pub fn with_retry_after(mut response: Response, wait: Duration) -> Response {
    response.extensions_mut().insert(Refusal);
    let secs = retry_after_secs(wait);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&secs.to_string()).expect("digits are a header value"),
    );
    response
}

/// "3 seconds", "2 minutes": a wait as a person reads it.
pub fn wait_words(wait: Duration) -> String {
    let secs = retry_after_secs(wait);
    match secs {
        1 => "1 second".to_string(),
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

/// Refuses requests over a client's rate at the limited doors, before the CSRF check, the
/// form or the database: 429 with `Retry-After`, a page for browsers, JSON for the script.
pub async fn throttle(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(door) = Door::of(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let client = match Client::resolve(
        req.extensions(),
        req.headers(),
        &state.config.trusted_proxies,
    ) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    match state.limits.rate.check(door, client.0) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            // Debug, not warn: a flood must not become a flood of log lines.
            tracing::debug!(client = %client.0, ?door, "rate limited");
            state.count(|m| m.throttled(door.metric(), crate::metrics::Throttle::Rate));
            // The answer waits too (at most a second): a script that loops as fast as it is
            // answered is slowed to the rate it was told, for the price of a timer.
            tokio::time::sleep(wait.min(TARPIT_MAX)).await;
            too_many(door, wait)
        }
    }
}

fn too_many(door: Door, wait: Duration) -> Response {
    let words = wait_words(wait);
    let response = match door {
        Door::Event => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(serde_json::json!({
                "error": format!("Too many requests from this connection. Wait {words}."),
                "request_id": super::observe::current().map(|id| id.to_string()),
            })),
        )
            .into_response(),
        Door::Login | Door::Enter => {
            let back = if door == Door::Login {
                "/login"
            } else {
                "/enter"
            };
            let body = views::page(
                "Too many attempts",
                None,
                html! {
                    h1 { "Too many attempts" }
                    p { "Too many attempts came from your connection in a short time, so this one was not checked. Wait "
                        (words) " and try again." }
                    p { "If many people share your connection (an exam centre), tell your proctor or administrator." }
                    p { a href=(back) { "Back to the form" } }
                    (views::request_id_note())
                },
            );
            (StatusCode::TOO_MANY_REQUESTS, body).into_response()
        }
    };
    with_retry_after(response, wait)
}

/// The rate limiter's housekeeping, once a second for the server's life.
pub async fn sweep_every_second(limits: Arc<Limits>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        limits.rate.sweep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ClientKey {
        ClientKey::of(s.parse().unwrap())
    }

    #[test]
    fn a_client_over_its_burst_waits_and_others_do_not() {
        let limits = RateLimits::new(3, 6);
        for _ in 0..3 {
            assert!(limits.check(Door::Login, key("192.0.2.1")).is_ok());
        }
        let wait = limits.check(Door::Login, key("192.0.2.1")).unwrap_err();
        // Six a minute: the next one in at most ten seconds.
        assert!(wait <= Duration::from_secs(10), "{wait:?}");
        assert!(wait > Duration::ZERO);
        assert!(limits.check(Door::Login, key("192.0.2.2")).is_ok());
        // Each door counts on its own.
        assert!(limits.check(Door::Enter, key("192.0.2.1")).is_ok());
        assert_eq!(limits.tracked(), 3);
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
        assert_eq!(wait_words(Duration::from_secs(1)), "1 second");
        assert_eq!(wait_words(Duration::from_secs(45)), "45 seconds");
        assert_eq!(wait_words(Duration::from_secs(14 * 60 + 1)), "15 minutes");
    }

    #[tokio::test]
    async fn the_line_for_password_checks_is_bounded() {
        let gate = CredentialGate::new(1);
        let places: Vec<Admission> = (0..1 + QUEUE_PER_CHECK)
            .map(|_| gate.admit().expect("room in line"))
            .collect();
        assert!(gate.admit().is_none(), "the line is full");
        drop(places);
        assert!(gate.admit().is_some());
    }
}
