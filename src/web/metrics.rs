//! The metrics listener: `GET /metrics` on its own address (`--metrics-bind`), never on the
//! public one, so candidates and the internet cannot read the server's counters. The gauges
//! that describe the store now (the save queue, open attempts per sitting, the pools) are read
//! at each scrape.

use std::future::Future;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use super::{conn, AppState};
use crate::metrics::{Format, Snapshot};
use crate::store::attempts;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found: scrape /metrics\n") })
        .with_state(state)
}

/// Everything the server counts, in the text format the scraper asks for.
async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(metrics) = state.metrics.clone() else {
        return (StatusCode::NOT_FOUND, "this server keeps no metrics\n").into_response();
    };
    let open_attempts = match attempts::open_per_sitting(&state.db).await {
        Ok(open) => open,
        Err(e) => {
            // The counters still matter most while the database struggles: served without
            // this gauge rather than not at all.
            tracing::warn!(error = %e, "metrics: reading the open attempts");
            Vec::new()
        }
    };
    let now = Snapshot {
        save_queue_depth: attempts::queue_depth(&state.db),
        open_attempts,
        pools: state.db.pool_use(),
    };
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    (
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::CACHE_CONTROL, "no-store"),
        ],
        metrics.encode(&now, format),
    )
        .into_response()
}

/// Serves the metrics on `listener` until `shutdown` completes, with the public listener's
/// connection limits.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = conn::ConnLimits {
        header_timeout: state.config.header_timeout,
        idle_timeout: state.config.idle_timeout,
        // A scraper or two, and someone with curl: a small cap is plenty.
        max_connections: 64,
    };
    conn::serve_connections(listener, router(state), limits, shutdown).await
}
