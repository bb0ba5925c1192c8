//! What a deployment scrapes (OpenMetrics or Prometheus text): requests by route and status
//! with their latency, the saves' batches and commits, saves acknowledged and refused,
//! sign-in failures and throttles, and, read when scraped, the save queue's depth, the open
//! attempts per sitting and the database pools. No I/O here: the store and the web layer
//! record into a [`Metrics`], and the metrics listener (`web::metrics`) encodes it.
//!
//! Every counter is an atomic add, and a histogram a short uncontended lock: nothing a save,
//! which waits for an fsync, can notice. Without a metrics address the server keeps none.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Every name starts with this.
pub const PREFIX: &str = "imh";

/// The route label of a request no route matched (never the raw path: a scanner would make a
/// series per address it tried).
pub const UNMATCHED: &str = "unmatched";

/// Seconds, for request latencies: a save is a few milliseconds, a committee page may take
/// seconds.
const REQUEST_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Seconds, for a batch's transaction and its commit (an fsync).
const COMMIT_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

/// Saves per batch: powers of two up to the writer's largest batch (128).
const BATCH_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_BUCKETS)
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DoorLabels {
    door: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ThrottleLabels {
    door: &'static str,
    why: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SittingLabels {
    sitting: i64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: &'static str,
}

/// Where a sign-in or a rate limit applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// Staff: `POST /login`.
    Login,
    /// Candidates: `POST /enter` with an access code.
    Enter,
    /// The exam page's event beacon.
    Event,
}

impl Door {
    fn label(self) -> &'static str {
        match self {
            Door::Login => "login",
            Door::Enter => "enter",
            Door::Event => "event",
        }
    }
}

/// Why a request was turned away before it was looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Over the client's request rate at this door.
    Rate,
    /// Too many failed sign-ins from this client lately.
    Failures,
    /// Every password check busy and the line full.
    Busy,
}

impl Throttle {
    fn label(self) -> &'static str {
        match self {
            Throttle::Rate => "rate",
            Throttle::Failures => "failures",
            Throttle::Busy => "busy",
        }
    }
}

/// Why the writer did not store a save (the store's `SaveError`, as a label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveRefusal {
    Deadline,
    Submitted,
    Voided,
    Paused,
    NotFound,
    BadSeq,
    TooManySaves,
    /// The database refused the write (the save is answered 503 and sent again).
    Store,
}

impl SaveRefusal {
    fn label(self) -> &'static str {
        match self {
            SaveRefusal::Deadline => "deadline",
            SaveRefusal::Submitted => "submitted",
            SaveRefusal::Voided => "voided",
            SaveRefusal::Paused => "paused",
            SaveRefusal::NotFound => "not_found",
            SaveRefusal::BadSeq => "bad_seq",
            SaveRefusal::TooManySaves => "too_many_saves",
            SaveRefusal::Store => "store",
        }
    }
}

/// A database pool: the readers', or the writer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    Reader,
    Writer,
}

impl Pool {
    fn label(self) -> &'static str {
        match self {
            Pool::Reader => "reader",
            Pool::Writer => "writer",
        }
    }
}

/// What is read from the store when scraped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Saves waiting in the writers' queues.
    pub save_queue_depth: usize,
    /// (sitting, attempts started and neither submitted nor voided).
    pub open_attempts: Vec<(i64, i64)>,
    /// (pool, connections open, of them idle).
    pub pools: Vec<(Pool, u32, usize)>,
}

/// The text format a scraper asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/openmetrics-text; version=1.0.0` (what Prometheus asks for first).
    OpenMetrics,
    /// The Prometheus text format 0.0.4 (`curl` and older scrapers).
    Prometheus,
}

impl Format {
    /// OpenMetrics when the `Accept` header names it, else the Prometheus text format.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        }
    }
}

/// One server's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RequestLabels, Histogram, fn() -> Histogram>,
    save_batch_size: Histogram,
    save_batch_seconds: Histogram,
    save_commit_seconds: Histogram,
    saves_acknowledged: Counter,
    saves_refused: Family<ReasonLabels, Counter>,
    sign_in_failures: Family<DoorLabels, Counter>,
    throttled: Family<ThrottleLabels, Counter>,
    save_queue_depth: Gauge,
    open_attempts: Family<SittingLabels, Gauge>,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_idle: Family<PoolLabels, Gauge>,
    /// Held while the scrape-time gauges are set and the text encoded, so two scrapes at
    /// once cannot mix their snapshots.
    scraping: Mutex<()>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix(PREFIX);
        let m = Metrics {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(request_histogram),
            save_batch_size: Histogram::new(BATCH_BUCKETS),
            save_batch_seconds: Histogram::new(COMMIT_BUCKETS),
            save_commit_seconds: Histogram::new(COMMIT_BUCKETS),
            saves_acknowledged: Counter::default(),
            saves_refused: Family::default(),
            sign_in_failures: Family::default(),
            throttled: Family::default(),
            save_queue_depth: Gauge::default(),
            open_attempts: Family::default(),
            pool_connections: Family::default(),
            pool_idle: Family::default(),
            scraping: Mutex::new(()),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "Requests answered, by method, matched route and status",
            m.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer, by method, matched route and status",
            Unit::Seconds,
            m.request_seconds.clone(),
        );
        registry.register(
            "save_batch_size",
            "Saves the writer committed together in one transaction",
            m.save_batch_size.clone(),
        );
        registry.register_with_unit(
            "save_batch_duration",
            "A batch of saves' transaction, from taking the writer to the end of its commit",
            Unit::Seconds,
            m.save_batch_seconds.clone(),
        );
        registry.register_with_unit(
            "save_commit_duration",
            "A batch of saves' commit alone (its fsync)",
            Unit::Seconds,
            m.save_commit_seconds.clone(),
        );
        registry.register(
            "saves_acknowledged",
            "Saves answered as stored, after their commit (a retry of a stored save included)",
            m.saves_acknowledged.clone(),
        );
        registry.register(
            "saves_refused",
            "Saves the writer did not store, by reason",
            m.saves_refused.clone(),
        );
        registry.register(
            "sign_in_failures",
            "Failed sign-ins: a wrong username or password (login), an unknown access code (enter)",
            m.sign_in_failures.clone(),
        );
        registry.register(
            "throttled",
            "Requests turned away unchecked, by door and why: over the client's rate, after too many failures, every password check busy",
            m.throttled.clone(),
        );
        registry.register(
            "save_queue_depth",
            "Saves waiting for the writer when scraped",
            m.save_queue_depth.clone(),
        );
        registry.register(
            "open_attempts",
            "Attempts started and neither submitted nor voided, per sitting, when scraped",
            m.open_attempts.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database connections open, per pool, when scraped",
            m.pool_connections.clone(),
        );
        registry.register(
            "db_pool_idle_connections",
            "Database connections open and idle, per pool, when scraped",
            m.pool_idle.clone(),
        );
        Metrics { registry, ..m }
    }

    /// A request answered: `route` is the matched route's template (or [`UNMATCHED`]).
    pub fn request(&self, method: &'static str, route: &str, status: u16, took: Duration) {
        let labels = RequestLabels {
            method,
            route: route.to_string(),
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.request_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// A batch of `size` saves committed: its whole transaction took `took`, its commit `commit`.
    pub fn save_batch(&self, size: usize, took: Duration, commit: Duration) {
        self.save_batch_size.observe(size as f64);
        self.save_batch_seconds.observe(took.as_secs_f64());
        self.save_commit_seconds.observe(commit.as_secs_f64());
    }

    /// `n` saves answered as stored.
    pub fn saves_acknowledged(&self, n: u64) {
        if n > 0 {
            self.saves_acknowledged.inc_by(n);
        }
    }

    pub fn save_refused(&self, why: SaveRefusal) {
        self.saves_refused
            .get_or_create(&ReasonLabels {
                reason: why.label(),
            })
            .inc();
    }

    pub fn sign_in_failed(&self, door: Door) {
        self.sign_in_failures
            .get_or_create(&DoorLabels { door: door.label() })
            .inc();
    }

    pub fn throttled(&self, door: Door, why: Throttle) {
        self.throttled
            .get_or_create(&ThrottleLabels {
                door: door.label(),
                why: why.label(),
            })
            .inc();
    }

    /// Everything, with the gauges set from `now`, in `format`.
    pub fn encode(&self, now: &Snapshot, format: Format) -> String {
        let _one_at_a_time = self
            .scraping
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.save_queue_depth
            .set(i64::try_from(now.save_queue_depth).unwrap_or(i64::MAX));
        // Sittings with no open attempt left are dropped, not kept at 0 for ever.
        self.open_attempts.clear();
        for &(sitting, open) in &now.open_attempts {
            self.open_attempts
                .get_or_create(&SittingLabels { sitting })
                .set(open);
        }
        for &(pool, open, idle) in &now.pools {
            let labels = PoolLabels { pool: pool.label() };
            self.pool_connections
                .get_or_create(&labels)
                .set(i64::from(open));
            self.pool_idle
                .get_or_create(&labels)
                .set(i64::try_from(idle).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        let encoded = match format {
            Format::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut out, &self.registry)
            }
            Format::Prometheus => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            }
        };
        // Writing to a String fails only if a label value's encoding does, and ours cannot.
        if let Err(e) = encoded {
            tracing::error!(error = %e, "encoding the metrics");
        }
        out
    }
}

/// The value of the sample `name{labels}` in a scrape's text, labels given as `key="value"`
/// pairs in any order (a test's and a smoke check's reader; the exporter never parses).
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = match series.split_once('{') {
                Some((m, rest)) => (m, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let all = labels
                .iter()
                .all(|(k, v)| rest.split(',').any(|kv| kv == format!("{k}=\"{v}\"")));
            all.then(|| value.parse().ok()).flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(m: &Metrics, format: Format) -> String {
        m.encode(
            &Snapshot {
                save_queue_depth: 3,
                open_attempts: vec![(7, 12), (9, 1)],
                pools: vec![(Pool::Reader, 8, 6), (Pool::Writer, 1, 1)],
            },
            format,
        )
    }

    #[test]
    fn requests_are_counted_and_timed_by_method_route_and_status() {
        let m = Metrics::new();
        m.request("POST", "/exam/api/save", 200, Duration::from_millis(3));
        m.request("POST", "/exam/api/save", 200, Duration::from_millis(40));
        m.request("GET", UNMATCHED, 404, Duration::from_micros(200));
        let text = scrape(&m, Format::Prometheus);
        let save = [
            ("method", "POST"),
            ("route", "/exam/api/save"),
            ("status", "200"),
        ];
        assert_eq!(sample(&text, "imh_http_requests_total", &save), Some(2.0));
        assert_eq!(
            sample(&text, "imh_http_request_duration_seconds_count", &save),
            Some(2.0)
        );
        let mut fast = save.to_vec();
        fast.push(("le", "0.005"));
        assert_eq!(
            sample(&text, "imh_http_request_duration_seconds_bucket", &fast),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                "imh_http_requests_total",
                &[("route", "unmatched"), ("status", "404")]
            ),
            Some(1.0)
        );
    }

    #[test]
    fn the_save_path_sign_ins_and_throttles_have_their_counters() {
        let m = Metrics::new();
        m.save_batch(5, Duration::from_millis(4), Duration::from_millis(3));
        m.save_batch(1, Duration::from_millis(2), Duration::from_millis(1));
        m.saves_acknowledged(5);
        m.saves_acknowledged(0);
        m.save_refused(SaveRefusal::Deadline);
        m.sign_in_failed(Door::Login);
        m.sign_in_failed(Door::Login);
        m.sign_in_failed(Door::Enter);
        m.throttled(Door::Event, Throttle::Rate);
        let text = scrape(&m, Format::OpenMetrics);
        assert_eq!(sample(&text, "imh_save_batch_size_count", &[]), Some(2.0));
        assert_eq!(sample(&text, "imh_save_batch_size_sum", &[]), Some(6.0));
        assert_eq!(
            sample(&text, "imh_save_batch_size_bucket", &[("le", "4.0")]),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(&text, "imh_save_commit_duration_seconds_count", &[]),
            Some(2.0)
        );
        assert_eq!(
            sample(&text, "imh_saves_acknowledged_total", &[]),
            Some(5.0)
        );
        assert_eq!(
            sample(&text, "imh_saves_refused_total", &[("reason", "deadline")]),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, "imh_sign_in_failures_total", &[("door", "login")]),
            Some(2.0)
        );
        assert_eq!(
            sample(&text, "imh_sign_in_failures_total", &[("door", "enter")]),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                "imh_throttled_total",
                &[("door", "event"), ("why", "rate")]
            ),
            Some(1.0)
        );
        assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with EOF");
    }

    #[test]
    fn scrape_time_gauges_follow_the_snapshot_and_forget_closed_sittings() {
        let m = Metrics::new();
        let text = scrape(&m, Format::Prometheus);
        assert_eq!(sample(&text, "imh_save_queue_depth", &[]), Some(3.0));
        assert_eq!(
            sample(&text, "imh_open_attempts", &[("sitting", "7")]),
            Some(12.0)
        );
        assert_eq!(
            sample(&text, "imh_db_pool_connections", &[("pool", "reader")]),
            Some(8.0)
        );
        assert_eq!(
            sample(&text, "imh_db_pool_idle_connections", &[("pool", "reader")]),
            Some(6.0)
        );
        let later = m.encode(
            &Snapshot {
                open_attempts: vec![(9, 2)],
                ..Snapshot::default()
            },
            Format::Prometheus,
        );
        assert_eq!(
            sample(&later, "imh_open_attempts", &[("sitting", "7")]),
            None
        );
        assert_eq!(
            sample(&later, "imh_open_attempts", &[("sitting", "9")]),
            Some(2.0)
        );
        assert_eq!(sample(&later, "imh_save_queue_depth", &[]), Some(0.0));
    }

    #[test]
    fn the_format_follows_the_accept_header() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::from_accept(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::from_accept(Some("*/*")), Format::Prometheus);
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert!(Format::Prometheus.content_type().starts_with("text/plain"));
    }
}
