//! The RPC door: accepts connections on the Unix socket, checks the peer's uid,
//! performs the version handshake and maps each request onto the service.
//! A bad client gets an error frame (where one can still be sent) and is
//! disconnected; nothing it sends can affect the daemon.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::codec::Framed;

use super::codec::{self, framing};
use super::proto::{ClientFrame, PROTOCOL_VERSION, Reply, Request, ServerFrame};
use crate::service::{ErrorCode, Service, ServiceError};

/// A connection that sends nothing for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(listener: UnixListener, service: Service) {
    let my_uid = nix::unistd::getuid().as_raw();
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match stream.peer_cred() {
            Ok(cred) if cred.uid() == my_uid || cred.uid() == 0 => {}
            Ok(cred) => {
                tracing::warn!(
                    peer_uid = cred.uid(),
                    "refusing connection from another user"
                );
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read peer credentials; refusing connection");
                continue;
            }
        }
        let service = service.clone();
        tokio::spawn(async move {
            if let Err(reason) = connection(stream, service).await {
                tracing::debug!(%reason, "connection closed");
            }
        });
    }
}

type Conn = Framed<UnixStream, tokio_util::codec::LengthDelimitedCodec>;

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

/// Reads the next frame as a `ClientFrame`, or explains why not.
async fn next_frame(conn: &mut Conn, timeout: Duration) -> Result<Option<ClientFrame>, String> {
    let frame = match tokio::time::timeout(timeout, conn.next()).await {
        Err(_) => return Err("idle timeout".into()),
        Ok(None) => return Ok(None),
        Ok(Some(Err(e))) => return Err(format!("bad frame: {e}")),
        Ok(Some(Ok(f))) => f,
    };
    codec::decode::<ClientFrame>(&frame)
        .map(Some)
        .map_err(|e| e.to_string())
}

async fn connection(stream: UnixStream, service: Service) -> Result<(), String> {
    let mut conn = Framed::new(stream, framing());
    match next_frame(&mut conn, HELLO_TIMEOUT).await {
        Ok(Some(ClientFrame::Hello { version })) if version == PROTOCOL_VERSION => {
            send(
                &mut conn,
                &ServerFrame::Hello {
                    version: PROTOCOL_VERSION,
                    daemon_version: env!("CARGO_PKG_VERSION").to_string(),
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
        let req = match next_frame(&mut conn, IDLE_TIMEOUT).await {
            Ok(Some(ClientFrame::Request(r))) => *r,
            Ok(Some(ClientFrame::Hello { .. })) => {
                return reject(&mut conn, "unexpected second Hello frame".into()).await;
            }
            Ok(None) => return Ok(()),
            Err(e) => return reject(&mut conn, e).await,
        };
        let req = match req {
            Request::Logs(r) => {
                forward_stream(&mut conn, super::follow::logs(service.clone(), r)).await?;
                continue;
            }
            Request::Wait(r) => {
                forward_stream(&mut conn, super::follow::wait(service.clone(), r)).await?;
                continue;
            }
            Request::ListJson(q) => {
                forward_stream(&mut conn, super::follow::list_json(service.clone(), q)).await?;
                continue;
            }
            other => other,
        };
        let shutdown = matches!(req, Request::Shutdown(_));
        let frame = match dispatch(&service, req).await {
            Ok(reply) => ServerFrame::Ok(Box::new(reply)),
            Err(e) => ServerFrame::Err(e),
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
async fn forward_stream(conn: &mut Conn, mut frames: super::follow::Frames) -> Result<(), String> {
    loop {
        tokio::select! {
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

/// One request, one service call: the RPC door adds no behaviour of its own.
async fn dispatch(service: &Service, req: Request) -> Result<Reply, ServiceError> {
    Ok(match req {
        Request::Submit(r) => Reply::Submitted(service.submit(r).await?),
        Request::Continue(r) => Reply::Submitted(service.continue_session(r).await?),
        Request::List(q) => Reply::List(service.list(q).await?),
        Request::Show(id) => Reply::Show(service.show(id).await?),
        Request::GetRun(id) => Reply::Run(service.get_run(id).await?),
        Request::Cancel(id) => Reply::Canceled(service.cancel(id).await?),
        Request::Kill(r) => Reply::Killed(service.kill(r).await?),
        Request::Purge(r) => Reply::Purged(service.purge(r).await?),
        Request::Health => Reply::Health(service.health().await?),
        Request::ListRuns(q) => Reply::Runs(service.list_runs(q).await?),
        Request::Position(id) => Reply::Position(service.position(id).await?),
        Request::Start(id) => Reply::Started(service.start(id).await?),
        Request::Shutdown(r) => {
            service.shutdown(r).await?;
            Reply::ShuttingDown
        }
        Request::Logs(_) | Request::Wait(_) | Request::ListJson(_) => {
            return Err(ServiceError::internal("streaming request sent to dispatch"));
        }
    })
}
