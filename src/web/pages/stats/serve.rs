//! How the statistics pages serve: a statistic runs off the async runtime; a table downloads
//! as CSV.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::web::error::{AppError, AppResult};

/// Runs a statistic off the async runtime: at full size one takes up to hundreds of
/// milliseconds, which must not hold up the saves the same worker threads serve.
pub(crate) async fn off_runtime<T, F>(f: F) -> AppResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("a statistics task failed: {e}")))
}

pub(crate) fn csv_response(filename: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A statistic runs on a thread of its own: on a runtime with a single worker, a task that
    /// the statistic waits for still runs. Were the statistic run inline, that worker would be
    /// held by it and the task could not run until the statistic gave up.
    #[tokio::test(flavor = "current_thread")]
    async fn a_statistic_leaves_the_runtime_free() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let heard = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.send(()).is_ok()
        });
        let waited = off_runtime(move || rx.recv_timeout(Duration::from_secs(10)).is_ok())
            .await
            .unwrap();
        assert!(
            waited,
            "the runtime's only worker was held by the statistic"
        );
        assert!(heard.await.unwrap());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_statistic_that_panics_is_an_error_page_not_a_dead_worker() {
        let err = off_runtime(|| -> u8 { panic!("a bug in a statistic") })
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Internal(_)), "{err:?}");
    }
}
