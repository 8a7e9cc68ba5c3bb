//! Serving connections with hyper directly (not `axum::serve`), for limits a
//! hostile client cannot get around:
//!
//! - a cap on open connections: one over it is answered 503 and closed at
//!   once, so the daemon never runs out of file descriptors (the RPC socket
//!   keeps working);
//! - a header read timeout, which also closes idle keep-alive connections;
//! - a small per-connection read buffer (bodies are read in pieces of it);
//! - a shutdown no client can hold open: accepting stops, connections with
//!   no request in flight close at once, the others finish up to a deadline,
//!   then whatever is left is dropped.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::service::doors::{ConnPermit, Door};
use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// Largest read buffer of a connection: request heads must fit in it.
pub const MAX_BUF: usize = 16 * 1024;
/// File descriptors kept free for everything else the daemon opens.
const FD_RESERVE_MIN: u64 = 128;

pub use crate::service::doors::Shutdown;

/// What the HTTP door needs beyond its `Door` (which holds the cap).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
}

/// The connection cap actually used: the configured one, within what the
/// process's file-descriptor limit leaves after a reserve (a quarter of it,
/// at least 128) for the RPC socket, run logs and supervisors.
pub fn effective_cap(configured: usize) -> usize {
    let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map(|(soft, _)| soft)
        .unwrap_or(1024);
    let reserve = (soft / 4).max(FD_RESERVE_MIN);
    let room = soft.saturating_sub(reserve).max(1);
    configured.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// Accepts and serves until the door's shutdown begins; returns once every
/// connection is closed (at the deadline at the latest).
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, door: Door) {
    let mut accept_errors = AcceptErrors::default();
    let mut shutdown = door.shutdown();
    let deadline = loop {
        let stream = tokio::select! {
            d = shutdown.deadline() => break d,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_errors.record(&e);
                    // Out of descriptors or memory: give the others a moment.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = door.admit() else {
            refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        door.spawn(connection(stream, app, limits, door.shutdown(), slot));
    };
    drop(listener);
    // Connections end by themselves by the deadline; this is the backstop.
    door.drain(deadline).await;
}

/// Over the cap: a fixed 503 if the socket takes it without waiting, then close.
fn refuse(stream: TcpStream) {
    const BODY: &str = "{\"success\":false,\"error\":{\"code\":\"SERVICE_UNAVAILABLE\",\"message\":\"too many open connections; try again later\"}}";
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// Accept failures are logged at most every 10 s, with a count.
#[derive(Default)]
struct AcceptErrors {
    last_log: Option<std::time::Instant>,
    since: u64,
}

impl AcceptErrors {
    fn record(&mut self, e: &std::io::Error) {
        self.since += 1;
        if self
            .last_log
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
        {
            tracing::warn!(error = %e, failures = self.since, "HTTP accept failed");
            self.last_log = Some(std::time::Instant::now());
            self.since = 0;
        }
    }
}

/// Counts itself in `count` while alive.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(count: Arc<AtomicUsize>) -> Counted {
        count.fetch_add(1, Ordering::Relaxed);
        Counted(count)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    mut shutdown: Shutdown,
    // Each request carries a clone (as an extension), so a connection
    // upgraded to a WebSocket keeps its place for as long as the session.
    slot: ConnPermit,
) {
    // Requests of this connection whose response is not written yet.
    let in_flight = Arc::new(AtomicUsize::new(0));
    let svc = {
        let in_flight = in_flight.clone();
        hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            let guard = Counted::new(in_flight.clone());
            req.extensions_mut().insert(slot.clone());
            let app = app.clone();
            async move {
                let resp = match app.oneshot(req.map(Body::new)).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                Ok::<_, Infallible>(resp.map(|body| Tracked {
                    body,
                    _guard: guard,
                }))
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_BUF)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades();
    tokio::pin!(conn);
    let deadline = tokio::select! {
        _ = conn.as_mut() => return,
        d = shutdown.deadline() => d,
    };
    if in_flight.load(Ordering::Relaxed) == 0 {
        return; // idle, or a request still arriving: close now
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout_at(deadline, conn).await;
}

/// A response body that keeps its request counted as in flight until hyper
/// has written it out (or dropped it).
struct Tracked {
    body: Body,
    _guard: Counted,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
