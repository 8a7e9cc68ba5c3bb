//! The RPC door: accepts connections on the Unix socket, checks the peer's uid,
//! performs the version handshake and maps each request onto the service.
//! A bad client gets an error frame (where one can still be sent) and is
//! disconnected; nothing it sends can affect the daemon.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio_util::codec::Framed;

use super::codec::{self, framing};
use super::proto::{ClientFrame, PROTOCOL_VERSION, Request, ServerFrame, dispatch};
use crate::service::doors::{Door, Shutdown};
use crate::service::{ErrorCode, Service, ServiceError};

/// A connection that sends nothing for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// What the RPC door needs from the daemon's settings (its connection cap
/// is its `Door`'s).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The daemon's grace period, told to clients in the handshake (a stop
    /// they ask for may take that long to answer).
    pub grace_ms: u64,
}

/// Refused connections being told why at once; past this they are dropped.
const MAX_REFUSING: usize = 32;
/// How long a refused client is given to read why before the door closes.
const REFUSE_LINGER: Duration = Duration::from_secs(2);

/// Accepts and serves until the door's shutdown begins; returns once every
/// connection has closed (at the deadline at the latest). Connections with
/// no request in flight close at once.
pub async fn serve(listener: UnixListener, service: Service, limits: Limits, door: Door) {
    let my_uid = nix::unistd::getuid().as_raw();
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let mut shutdown = door.shutdown();
    let deadline = loop {
        let stream = tokio::select! {
            d = shutdown.deadline() => break d,
            accepted = listener.accept() => match accepted {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let refusal = match stream.peer_cred() {
            Ok(cred) if cred.uid() == my_uid || cred.uid() == 0 => None,
            Ok(cred) => {
                tracing::warn!(
                    peer_uid = cred.uid(),
                    "refusing connection from another user"
                );
                Some(ServiceError::new(
                    ErrorCode::BadRequest,
                    format!(
                        "connection refused: this daemon runs as uid {my_uid} and serves only that user (and root); you are uid {}",
                        cred.uid()
                    ),
                ))
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read peer credentials; refusing connection");
                Some(ServiceError::new(
                    ErrorCode::BadRequest,
                    format!("connection refused: cannot tell who is connecting ({e})"),
                ))
            }
        };
        let permit = match refusal {
            None => door.admit().ok_or_else(|| {
                tracing::warn!(
                    max = door.max_connections(),
                    "refusing connection: too many"
                );
                ServiceError::unavailable(format!(
                    "too many connections to the daemon (at most {} at once); try again shortly",
                    door.max_connections()
                ))
            }),
            Some(e) => Err(e),
        };
        match permit {
            Ok(permit) => {
                let service = service.clone();
                let shutdown = door.shutdown();
                door.spawn(async move {
                    let mut big = false;
                    if let Err(reason) =
                        connection(stream, service, limits, shutdown, &mut big).await
                    {
                        tracing::debug!(%reason, "connection closed");
                    }
                    drop(permit);
                    if big {
                        crate::sys::mem::return_freed_memory();
                    }
                });
            }
            Err(why) => {
                if let Ok(permit) = refusing.clone().try_acquire_owned() {
                    tokio::spawn(async move {
                        refuse(stream, why).await;
                        drop(permit);
                    });
                }
            }
        }
    };
    drop(listener);
    door.drain(deadline).await;
}

/// Tells a refused client why, then lets it finish writing what it sends
/// first (its Hello, its request) and read the answer, instead of dying of
/// SIGPIPE or a reset connection.
async fn refuse(stream: UnixStream, why: ServiceError) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = Framed::new(stream, framing());
    let _ = tokio::time::timeout(REFUSE_LINGER, send(&mut conn, &ServerFrame::Err(why))).await;
    let mut stream = conn.into_inner();
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async {
        let mut left: usize = 256 * 1024;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(REFUSE_LINGER, drain).await;
}

type Conn = Framed<UnixStream, codec::FrameCodec>;

async fn send(conn: &mut Conn, frame: &ServerFrame) -> Result<(), String> {
    let bytes = match codec::encode(frame) {
        Ok(b) => b,
        Err(e) => codec::encode(&ServerFrame::Err(ServiceError::internal(e.to_string())))
            .map_err(|e| e.to_string())?,
    };
    conn.send(bytes).await.map_err(|e| e.to_string())
}

async fn reject(conn: &mut Conn, message: String) -> Result<(), String> {
    let _ = send(
        conn,
        &ServerFrame::Err(ServiceError::new(ErrorCode::BadRequest, message.clone())),
    )
    .await;
    Err(message)
}

/// A connection that read a frame this big asks the allocator to give
/// memory back when it ends.
const BIG_FRAME: usize = 1 << 20;

/// Reads the next frame as a `ClientFrame`, or explains why not; `big` is set
/// when a large frame came in.
async fn next_frame(
    conn: &mut Conn,
    timeout: Duration,
    big: &mut bool,
) -> Result<Option<ClientFrame>, String> {
    let frame = match tokio::time::timeout(timeout, conn.next()).await {
        Err(_) => return Err("idle timeout".into()),
        Ok(None) => return Ok(None),
        Ok(Some(Err(e))) => return Err(format!("bad frame: {e}")),
        Ok(Some(Ok(f))) => f,
    };
    *big |= frame.len() >= BIG_FRAME;
    codec::decode::<ClientFrame>(&frame)
        .map(Some)
        .map_err(|e| e.to_string())
}

async fn connection(
    stream: UnixStream,
    service: Service,
    limits: Limits,
    mut shutdown: Shutdown,
    big: &mut bool,
) -> Result<(), String> {
    let mut conn = Framed::new(stream, framing());
    match next_frame(&mut conn, HELLO_TIMEOUT, big).await {
        Ok(Some(ClientFrame::Hello { version })) if version == PROTOCOL_VERSION => {
            send(
                &mut conn,
                &ServerFrame::Hello {
                    version: PROTOCOL_VERSION,
                    daemon_version: env!("CARGO_PKG_VERSION").to_string(),
                    grace_ms: limits.grace_ms,
                },
            )
            .await?;
        }
        Ok(Some(ClientFrame::Hello { version })) => {
            return reject(
                &mut conn,
                format!(
                    "protocol version mismatch: client speaks {version}, daemon speaks {PROTOCOL_VERSION}; use the agentgate binary that matches the running daemon"
                ),
            )
            .await;
        }
        Ok(Some(ClientFrame::Request(_))) => {
            return reject(&mut conn, "expected a Hello frame first".into()).await;
        }
        Ok(None) => return Ok(()),
        Err(e) => return reject(&mut conn, e).await,
    }
    loop {
        // Between requests a shutdown closes the connection; a request in
        // flight is answered (until the door's deadline).
        let next = tokio::select! {
            next = next_frame(&mut conn, IDLE_TIMEOUT, big) => next,
            _ = shutdown.deadline() => return Ok(()),
        };
        let req = match next {
            Ok(Some(ClientFrame::Request(r))) => *r,
            Ok(Some(ClientFrame::Hello { .. })) => {
                return reject(&mut conn, "unexpected second Hello frame".into()).await;
            }
            Ok(None) => return Ok(()),
            Err(e) => return reject(&mut conn, e).await,
        };
        let req = match req {
            Request::Logs(r) => {
                forward_stream(
                    &mut conn,
                    &mut shutdown,
                    super::follow::logs(service.clone(), r),
                )
                .await?;
                continue;
            }
            Request::Wait(r) => {
                forward_stream(
                    &mut conn,
                    &mut shutdown,
                    super::follow::wait(service.clone(), r),
                )
                .await?;
                continue;
            }
            Request::ListJson(q) => {
                forward_stream(
                    &mut conn,
                    &mut shutdown,
                    super::follow::list_json(service.clone(), q),
                )
                .await?;
                continue;
            }
            Request::ListStream(q) => {
                forward_stream(
                    &mut conn,
                    &mut shutdown,
                    super::follow::list_typed(service.clone(), q),
                )
                .await?;
                continue;
            }
            other => other,
        };
        let shutdown = matches!(req, Request::Shutdown(_));
        let frame = match dispatch(&service, req).await {
            Some(Ok(reply)) => ServerFrame::Ok(Box::new(reply)),
            Some(Err(e)) => ServerFrame::Err(e),
            None => ServerFrame::Err(ServiceError::internal("streaming request sent to dispatch")),
        };
        send(&mut conn, &frame).await?;
        if shutdown {
            return Ok(());
        }
    }
}

/// Forwards a streaming request's frames until the stream ends (then the
/// connection takes the next request). Anything the client sends meanwhile,
/// including closing the connection, ends the stream and the connection; the
/// producer stops when its channel is dropped.
async fn forward_stream(
    conn: &mut Conn,
    shutdown: &mut Shutdown,
    mut frames: super::follow::Frames,
) -> Result<(), String> {
    loop {
        tokio::select! {
            _ = shutdown.deadline() => return Err("the daemon is stopping".into()),
            item = frames.recv() => match item {
                Some(Ok(reply)) => send(conn, &ServerFrame::Ok(Box::new(reply))).await?,
                Some(Err(e)) => return send(conn, &ServerFrame::Err(e)).await,
                None => return Ok(()),
            },
            incoming = conn.next() => {
                return match incoming {
                    None => Err("client closed the connection during a stream".into()),
                    Some(Err(e)) => Err(format!("bad frame: {e}")),
                    Some(Ok(_)) => {
                        reject(conn, "unexpected frame while a stream is in progress".into()).await
                    }
                };
            }
        }
    }
}
