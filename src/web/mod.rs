//! The web layer: axum routes, thin handlers, maud views. Logic lives below, in `store` and
//! `bank`.

pub mod charts;
pub mod client;
pub mod conn;
pub mod error;
pub mod limits;
pub mod log_gate;
pub mod metrics;
pub mod observe;
pub mod pages;
pub mod roles;
pub mod session;
pub mod time;
pub mod views;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Router};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::Config;
use crate::store::Db;

/// What every handler can reach. Cloned by every extractor of every request, so it is one
/// `Arc`: a clone is one counter, not one per cache and pool inside.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state itself, reached through `AppState`.
pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    /// Attempts' forms by attempt id. A form never changes once drawn, so saves need not read
    /// and parse it from the database every time.
    pub forms: moka::sync::Cache<i64, Arc<pages::exam::OpenForm>>,
    /// Item versions' bodies and vignette versions' texts as candidates see them: fixed once
    /// imported (a change is a new version), so read once per process.
    pub item_bodies: moka::sync::Cache<(String, u32), Arc<crate::bank::ItemBody>>,
    pub vignettes: moka::sync::Cache<(String, u32), Arc<(String, String)>>,
    /// Attempt ids by (registration, part): fixed once a part has started.
    pub attempt_ids: moka::sync::Cache<(i64, u8), i64>,
    /// Candidates' sessions for the save path, for at most `SESSION_CACHE` each; cleared when a
    /// proctor moves a browser or anyone signs out here.
    pub sessions: moka::sync::Cache<String, CachedSession>,
    /// Password checks at once and per-client request rates, for this server process.
    pub limits: Arc<limits::Limits>,
    /// Registrations whose page views were recorded (`last_seen_at`) within `SEEN_EVERY`: a
    /// page view writes through the saves' writer at most that often per candidate.
    pub seen: moka::sync::Cache<i64, ()>,
    /// What this server counts for its metrics listener; `None` without a metrics address.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
}

/// How often a candidate's page views are written down as "last seen": well inside the 30 s
/// in which the proctor's console calls a browser online.
pub const SEEN_EVERY: Duration = Duration::from_secs(10);

/// How many entries each cache keeps at most (the least used go first): far above the
/// candidates of any sitting, and a bound on memory whatever a client sends.
pub const CACHE_ENTRIES: u64 = 20_000;

/// How long a cached session is trusted. Another server process (PostgreSQL) that moves a
/// browser is seen here within this time; saves from the old browser meanwhile are still the
/// candidate's own, and later sequence numbers win.
pub const SESSION_CACHE: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct CachedSession {
    pub at: std::time::Instant,
    pub registration: i64,
    pub active: Option<String>,
    pub blueprint: String,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> Self {
        let metrics = config.metrics_bind.map(|_| {
            let metrics = Arc::new(crate::metrics::Metrics::new());
            db.record_into(metrics.clone());
            metrics
        });
        AppState(Arc::new(Shared {
            metrics,
            db,
            limits: Arc::new(limits::Limits::new(&config)),
            config: Arc::new(config),
            forms: moka::sync::Cache::new(CACHE_ENTRIES),
            item_bodies: moka::sync::Cache::new(CACHE_ENTRIES),
            vignettes: moka::sync::Cache::new(CACHE_ENTRIES),
            attempt_ids: moka::sync::Cache::new(CACHE_ENTRIES),
            sessions: moka::sync::Cache::builder()
                .max_capacity(CACHE_ENTRIES)
                .time_to_live(SESSION_CACHE)
                .build(),
            seen: moka::sync::Cache::builder()
                .max_capacity(CACHE_ENTRIES)
                .time_to_live(SEEN_EVERY)
                .build(),
        }))
    }
}

impl Shared {
    /// Records into the metrics, when this server keeps them: `state.count(|m| m.…)`.
    pub fn count(&self, record: impl FnOnce(&crate::metrics::Metrics)) {
        if let Some(m) = &self.metrics {
            record(m);
        }
    }
}

pub fn router(state: AppState) -> Router {
    let (body_limit, upload_limit) = (state.config.body_limit, state.config.upload_limit);
    let request_timeout = state.config.request_timeout;
    let observed = state.clone();
    let security_headers = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Same-origin pages see where the visitor came from (an error page's way back); no other
        // site is ever told.
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
        // Pages carry names, tokens and (later) exam content: never kept by a shared browser or
        // proxy. Assets set their own caching.
        (header::CACHE_CONTROL, "no-store"),
    ];
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/assets/app.css", get(css))
        .route("/assets/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .route("/assets/exam.js", get(|| script(views::EXAM_JS)))
        .route("/assets/proctor.js", get(|| script(views::PROCTOR_JS)))
        .merge(pages::routes())
        .fallback(|| async { error::AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::csrf_layer,
        ))
        // Outside the CSRF layer, so that its refusals are framed too.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            error::frame_errors,
        ))
        // Outside the CSRF layer: a flood is turned away before its body is even read.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limits::throttle,
        ))
        .with_state(state);
    for (name, value) in security_headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    // Each route's own limit is applied where the body is read (the CSRF layer); this one,
    // a little above the largest of them, guards the rest.
    app.layer(RequestBodyLimitLayer::new(
        body_limit.max(upload_limit) + 1024 * 1024,
    ))
    .layer(CompressionLayer::new())
    .layer(TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        request_timeout,
    ))
    // Outermost: every answer, refusals and timeouts too, has its id, span, log line and count.
    .layer(middleware::from_fn_with_state(observed, observe::observe))
}

/// Routes that take a file (a CSV of registrations) and so a larger body than other forms.
pub fn is_upload(path: &str) -> bool {
    path.strip_prefix("/sittings/")
        .and_then(|rest| rest.strip_suffix("/import"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// The largest body of a sign-in or access-code form: a username, a password of at most
/// `auth::MAX_PASSWORD_LEN` characters (up to 12 KiB percent-encoded), a code and a token,
/// with room to spare, so the "too long" answers still come from the form's own checks.
pub const SIGN_IN_BODY_LIMIT: usize = 32 * 1024;

/// The largest body of the exam's JSON API: one save of the longest value any blueprint
/// allows (`exam::limits::MAX_VALUE_BYTES`), with room for its JSON escapes and keys.
pub const EXAM_API_BODY_LIMIT: usize = 2 * crate::exam::limits::MAX_VALUE_BYTES + 4096;

/// The largest body a request to `path` may send: an upload its file, the exam's save and
/// event API one response, the anonymous doors a small form, every other form `body_limit`.
pub fn body_limit_for(config: &Config, path: &str) -> usize {
    if is_upload(path) {
        config.upload_limit
    } else if path.starts_with("/exam/api/") {
        EXAM_API_BODY_LIMIT.min(config.body_limit)
    } else if matches!(path, "/login" | "/enter") {
        SIGN_IN_BODY_LIMIT.min(config.body_limit)
    } else {
        config.body_limit
    }
}

/// Healthy when the database takes writes: a commit within the last second stands for that,
/// otherwise (and always while writes are failing) a probe row is rewritten, with a short
/// timeout. A load balancer stops sending candidates here while it answers 503.
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    if state.db.health.ok_within(1_000) {
        return (StatusCode::OK, "ok");
    }
    match tokio::time::timeout(Duration::from_secs(2), state.db.probe_write()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: the database refuses writes");
            (StatusCode::SERVICE_UNAVAILABLE, "database not writable")
        }
        Err(_) => {
            tracing::error!("health check: a write took over 2 s");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "database not writable in time",
            )
        }
    }
}

async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        views::ICON_SVG,
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        views::CSS,
    )
}

async fn script(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}

/// Serves on `listener` until `shutdown` completes, then finishes the requests in flight.
/// Every request carries its peer's `ConnectInfo<SocketAddr>`, as with axum's
/// `into_make_service_with_connect_info`.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let submitter = tokio::spawn(submit_when_time_runs_out(state.db.clone()));
    let sweeper = tokio::spawn(limits::sweep_every_second(state.limits.clone()));
    let conn_limits = conn::ConnLimits {
        header_timeout: state.config.header_timeout,
        idle_timeout: state.config.idle_timeout,
        max_connections: state.config.max_connections,
    };
    let served = conn::serve_connections(listener, router(state), conn_limits, shutdown).await;
    submitter.abort();
    sweeper.abort();
    served
}

/// Every second: the server submits every attempt whose time has run out, whether or not a
/// browser is open, closes every sitting whose closing time has passed (marking anyone never
/// admitted absent), and checkpoints SQLite's write-ahead log; four times a second it keeps
/// the log's size bounded.
async fn submit_when_time_runs_out(db: Db) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut quarters: u64 = 0;
    loop {
        tick.tick().await;
        quarters += 1;
        // Four times a second: the write-ahead log restarted or cut back (see `bound_wal`).
        if let Err(e) = db.bound_wal().await {
            tracing::warn!(error = %e, "bounding the write-ahead log");
        }
        if !quarters.is_multiple_of(4) {
            continue;
        }
        let ticks = quarters / 4;
        // Every few seconds: this process's clock against the database's (see store::clock).
        if ticks.is_multiple_of(5) {
            if let Err(e) = db.sync_clock().await {
                tracing::warn!(error = %e, "measuring the clock against the database's");
            }
        }
        // Once a second: with every commit fsynced, fewer checkpoints (each also an fsync)
        // stall the writer less often; the load harness's p99 was lower than at 250 ms.
        if let Err(e) = db.checkpoint().await {
            tracing::warn!(error = %e, "checkpointing the write-ahead log");
        }
        match crate::store::attempts::submit_expired(&db, crate::store::now_ms()).await {
            Ok(ids) if !ids.is_empty() => {
                tracing::info!(attempts = ?ids, "submitted at the deadline")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "submitting attempts at their deadline"),
        }
        match crate::store::absence::close_due(&db, crate::store::now_ms()).await {
            Ok(closed) if !closed.is_empty() => {
                tracing::info!(sittings = ?closed, "closed (sitting, marked absent)")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "closing sittings at their closing time"),
        }
    }
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
