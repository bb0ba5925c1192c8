//! Every request: a fresh request id (answered in `x-request-id`, shown on error pages and in
//! JSON errors, so a candidate can quote it), a tracing span with the id, the matched route
//! and, where there is one, the attempt or sitting, one log line with its status and latency,
//! and its count and latency in the metrics.
//!
//! The id is always made here, never taken from the request: a client's own id could be
//! anything, and a log is only worth searching by an id the server gave out.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::AppState;
use crate::metrics::UNMATCHED;

/// The response header that carries the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id: a random (version 4) UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn new() -> RequestId {
        RequestId(
            uuid::Builder::from_random_bytes(rand::random())
                .into_uuid()
                .to_string(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

tokio::task_local! {
    /// The id of the request this task is answering, for the error pages and JSON errors
    /// rendered anywhere below (they have no request to read it from).
    static REQUEST_ID: RequestId;
}

/// The id of the request being answered, if called while answering one.
pub fn current() -> Option<RequestId> {
    REQUEST_ID.try_with(RequestId::clone).ok()
}

/// Notes the attempt this request concerns in its span (and so in every log line it writes).
pub fn record_attempt(id: i64) {
    tracing::Span::current().record("attempt", id);
}

/// Notes the sitting this request concerns in its span.
pub fn record_sitting(id: i64) {
    tracing::Span::current().record("sitting", id);
}

/// What a route's `{id}` names, for the span: the sitting of `/sittings/{id}`, `/scoring/{id}`
/// and `/stats/{id}`, the attempt of `/attempts/{id}`. Returns (attempt, sitting).
pub fn ids_in_path(route: &str, path: &str) -> (Option<i64>, Option<i64>) {
    let mut template = route.split('/');
    let mut actual = path.split('/');
    // "", then the first segment of each.
    let (Some(""), Some(""), Some(first), Some(_)) = (
        template.next(),
        actual.next(),
        template.next(),
        actual.next(),
    ) else {
        return (None, None);
    };
    let id = match (template.next(), actual.next()) {
        (Some("{id}"), Some(id)) => id.parse::<i64>().ok(),
        _ => None,
    };
    match first {
        "attempts" => (id, None),
        "sittings" | "scoring" | "stats" => (None, id),
        _ => (None, None),
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The outermost layer of the public router: see the module's comment.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = RequestId::new();
    let method = method_label(req.method());
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method,
        route,
        attempt = tracing::field::Empty,
        sitting = tracing::field::Empty,
    );
    if !span.is_disabled() {
        let (attempt, sitting) = ids_in_path(route, req.uri().path());
        if let Some(a) = attempt {
            span.record("attempt", a);
        }
        if let Some(s) = sitting {
            span.record("sitting", s);
        }
    }
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let refusal = response
        .extensions()
        .get::<super::limits::Refusal>()
        .is_some();
    span.in_scope(|| log_answer(status, refusal, took));
    state.count(|m| m.request(method, route, status, took));
    response
}

/// The request's log line. Errors of the server at warn and refusals at info, so the id on
/// any error page a person sees is in the log at its default level; the thousands of saves a
/// second, and deliberate refusals (429, and a 503 when a line is full: a flood must not
/// become a flood of lines), at debug.
fn log_answer(status: u16, refusal: bool, took: Duration) {
    let latency_ms = took.as_secs_f64() * 1000.0;
    match answer_level(status, refusal) {
        tracing::Level::WARN => tracing::warn!(status, latency_ms, "answered"),
        tracing::Level::INFO => tracing::info!(status, latency_ms, "answered"),
        _ => tracing::debug!(status, latency_ms, "answered"),
    }
}

/// The level of an answer's log line (see `log_answer`).
fn answer_level(status: u16, refusal: bool) -> tracing::Level {
    match status {
        _ if refusal || status == 429 => tracing::Level::DEBUG,
        500.. => tracing::Level::WARN,
        400..=499 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_logged_at_debug_and_a_fault_at_warn() {
        use axum::response::IntoResponse;
        use tracing::Level;
        // The full sign-in line: a 503 anyone can call up, marked by `with_retry_after`.
        let refused = super::super::limits::with_retry_after(
            axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
            Duration::from_secs(1),
        );
        assert!(refused
            .extensions()
            .get::<super::super::limits::Refusal>()
            .is_some());
        assert_eq!(answer_level(503, true), Level::DEBUG);
        assert_eq!(answer_level(429, false), Level::DEBUG);
        // A 503 without the mark is the server failing (the database, a timeout).
        assert_eq!(answer_level(503, false), Level::WARN);
        assert_eq!(answer_level(500, false), Level::WARN);
        assert_eq!(answer_level(404, false), Level::INFO);
        assert_eq!(answer_level(200, false), Level::DEBUG);
    }

    #[test]
    fn request_ids_are_fresh_uuids() {
        let a = RequestId::new();
        let b = RequestId::new();
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(a.as_str()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(a.as_str().len(), 36);
    }

    #[test]
    fn a_routes_id_names_its_sitting_or_attempt() {
        assert_eq!(
            ids_in_path("/sittings/{id}", "/sittings/12"),
            (None, Some(12))
        );
        assert_eq!(
            ids_in_path("/sittings/{id}/live", "/sittings/12/live"),
            (None, Some(12))
        );
        assert_eq!(
            ids_in_path("/scoring/{id}/results", "/scoring/7/results"),
            (None, Some(7))
        );
        assert_eq!(
            ids_in_path("/stats/{id}/items/{item}", "/stats/3/items/X"),
            (None, Some(3))
        );
        assert_eq!(
            ids_in_path("/attempts/{id}/pause", "/attempts/40/pause"),
            (Some(40), None)
        );
        // Other ids are not sittings or attempts; a bad number is nothing.
        assert_eq!(ids_in_path("/batches/{id}", "/batches/5"), (None, None));
        assert_eq!(ids_in_path("/sittings/{id}", "/sittings/x1"), (None, None));
        assert_eq!(ids_in_path("/sittings", "/sittings"), (None, None));
        assert_eq!(ids_in_path(UNMATCHED, "/sittings/4"), (None, None));
    }

    #[tokio::test]
    async fn the_current_id_is_the_one_of_the_request_being_answered() {
        assert_eq!(current(), None);
        let id = RequestId::new();
        let seen = REQUEST_ID.scope(id.clone(), async { current() }).await;
        assert_eq!(seen, Some(id));
    }
}
