//! The server's accept loop: HTTP/1.1 over hyper, with what `axum::serve` lacks: a cap on open
//! connections, a deadline for each request head, and an idle timeout for kept-alive
//! connections, so sockets that send nothing (or a byte a second) cannot pile up.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::log_gate::{self, LogGate};

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Bytes of an unread request body the kernel holds per connection (Linux doubles it for its
/// own bookkeeping).
const RECEIVE_BUFFER: usize = 128 * 1024;

/// What a connection over the cap is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 62\r\nconnection: close\r\n\r\nThe server has too many connections open. Try again shortly.\n";

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // Our watchdog keeps the head deadline: hyper's own would also cut idle keep-alives short.
    http.header_read_timeout(None);
    static OVER_CAP: LogGate = LogGate::new(log_gate::EVERY);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            // Told and closed at once: no task, no buffer, no wait for a slow reader.
            let _ = stream.try_write(BUSY);
            if let Some(held) = OVER_CAP.due() {
                tracing::warn!(
                    max = limits.max_connections,
                    held,
                    "connection cap reached: refusing new connections with 503"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        // A small, fixed receive buffer: a client may have at most this much of a body in the
        // kernel before the server reads it. Autotuned, an unread oversized body (refused from
        // its head, after a pause) fills megabytes per connection, and 64 such clients cost the
        // machine hundreds of MiB of socket memory and the copying that goes with it. Requests
        // are small; an upload still streams at this window per round trip.
        let _ = socket2::SockRef::from(&stream).set_recv_buffer_size(RECEIVE_BUFFER);
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let service = {
            let activity = activity.clone();
            let app = app.clone();
            hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let busy = activity.request_started();
                let app = app.clone();
                async move {
                    let response = app.oneshot(req).await;
                    drop(busy);
                    response
                }
            })
        };
        let conn = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            tokio::select! {
                served = conn => {
                    if let Err(e) = served {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                why = watchdog(&activity, limits) => {
                    tracing::debug!(%peer, why, "closing connection");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Accept errors are the client's (reset before accept) or the process's (out of file
/// descriptors): neither may stop the server; the second is waited out.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What a connection has been doing, in milliseconds since it opened.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Last byte read or written.
    last_io: AtomicU64,
    /// When the head being read now began (+1; 0 when no head is being read). A new
    /// connection is reading its first head from the moment it opens.
    head_since: AtomicU64,
}

/// While a request is being handled.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let a = &self.0;
        a.last_io.store(a.ms(), Ordering::SeqCst);
        a.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Activity {
    fn new() -> Self {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_io: AtomicU64::new(0),
            head_since: AtomicU64::new(1),
        }
    }

    fn ms(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn request_started(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.head_since.store(0, Ordering::SeqCst);
        Busy(self.clone())
    }

    fn read(&self) {
        let now = self.ms();
        self.last_io.store(now, Ordering::SeqCst);
        if self.in_flight.load(Ordering::SeqCst) == 0 {
            // The first byte of a new head starts its clock; later bytes do not reset it.
            let _ =
                self.head_since
                    .compare_exchange(0, now + 1, Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    fn wrote(&self) {
        self.last_io.store(self.ms(), Ordering::SeqCst);
    }

    /// Why this connection should be closed now, if it should.
    fn overdue(&self, limits: ConnLimits) -> Option<&'static str> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            // A handler is running: the 30 s request timeout bounds it.
            return None;
        }
        let now = self.ms();
        let head_since = self.head_since.load(Ordering::SeqCst);
        let header_ms = millis(limits.header_timeout);
        if head_since > 0 && now.saturating_sub(head_since - 1) > header_ms {
            return Some("the request head did not arrive in time");
        }
        let idle_ms = millis(limits.idle_timeout);
        if head_since == 0 && now.saturating_sub(self.last_io.load(Ordering::SeqCst)) > idle_ms {
            return Some("idle");
        }
        None
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Completes, with the reason, when the connection is overdue.
async fn watchdog(activity: &Activity, limits: ConnLimits) -> &'static str {
    let shortest = limits.header_timeout.min(limits.idle_timeout);
    let period = (shortest / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Some(why) = activity.overdue(limits) {
            return why;
        }
    }
}

/// A TCP stream that tells its `Activity` about every byte moved.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ConnLimits = ConnLimits {
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_connections: 10,
    };

    /// An `Activity` as if opened `ago` before now.
    fn opened(ago: Duration) -> Arc<Activity> {
        let mut a = Activity::new();
        a.opened = Instant::now() - ago;
        Arc::new(a)
    }

    #[test]
    fn a_connection_that_sends_no_head_is_overdue_after_the_header_timeout() {
        assert_eq!(opened(Duration::from_secs(5)).overdue(LIMITS), None);
        assert!(opened(Duration::from_secs(11)).overdue(LIMITS).is_some());
    }

    #[test]
    fn a_head_trickling_in_does_not_reset_its_deadline() {
        let a = opened(Duration::from_secs(11));
        // Bytes keep arriving, but the head began when the connection opened.
        a.read();
        assert_eq!(
            a.overdue(LIMITS),
            Some("the request head did not arrive in time")
        );
    }

    #[test]
    fn a_request_in_flight_is_never_cut_and_idle_keep_alive_gets_the_idle_timeout() {
        let a = opened(Duration::from_secs(30));
        let busy = a.request_started();
        assert_eq!(a.overdue(LIMITS), None);
        drop(busy);
        // Answered just now: idle for 0 s of 60.
        assert_eq!(a.overdue(LIMITS), None);
        let a = opened(Duration::from_secs(61));
        drop(a.request_started());
        a.last_io.store(0, Ordering::SeqCst);
        assert_eq!(a.overdue(LIMITS), Some("idle"));
    }
}
