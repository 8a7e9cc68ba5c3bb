//! The RPC client the CLI uses: connect, handshake, request/response.

use std::path::{Path, PathBuf};

use futures::{SinkExt, StreamExt};
use tokio::net::UnixStream;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use super::codec::{self, framing};
use super::proto::{ClientFrame, PROTOCOL_VERSION, Reply, Request, ServerFrame};
use crate::service::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("daemon not running at {socket} — start it with `agentgate daemon`")]
    Unreachable { socket: PathBuf },
    #[error("cannot connect to {socket}: {source}")]
    Connect {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Service(ServiceError),
    #[error("protocol error talking to the daemon: {0}")]
    Protocol(String),
    /// The daemon went away mid-conversation (stopped, crashed, restarted).
    #[error("the daemon closed the connection{0} (stopped or restarted?)")]
    Disconnected(String),
}

/// A broken connection, or a garbled one.
fn io_failure(what: &str, e: std::io::Error) -> ClientError {
    if e.kind() == std::io::ErrorKind::InvalidData {
        ClientError::Protocol(format!("{what}: {e}"))
    } else {
        ClientError::Disconnected(format!(": {e}"))
    }
}

pub struct Client {
    conn: Framed<UnixStream, LengthDelimitedCodec>,
    /// The Hello was sent but its answer not read yet: it is read before the
    /// first reply, so the first request goes out without a round trip.
    hello_pending: bool,
}

impl Client {
    pub async fn connect(socket: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(socket).await.map_err(|source| {
            use std::io::ErrorKind::*;
            match source.kind() {
                NotFound | ConnectionRefused => ClientError::Unreachable {
                    socket: socket.to_path_buf(),
                },
                _ => ClientError::Connect {
                    socket: socket.to_path_buf(),
                    source,
                },
            }
        })?;
        let mut client = Client {
            conn: Framed::new(stream, framing()),
            hello_pending: true,
        };
        client
            .send(&ClientFrame::Hello {
                version: PROTOCOL_VERSION,
            })
            .await?;
        Ok(client)
    }

    async fn send(&mut self, frame: &ClientFrame) -> Result<(), ClientError> {
        let bytes = codec::encode(frame).map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.conn
            .send(bytes)
            .await
            .map_err(|e| io_failure("send failed", e))
    }

    async fn receive(&mut self) -> Result<ServerFrame, ClientError> {
        if self.hello_pending {
            self.hello_pending = false;
            match self.receive_one().await? {
                ServerFrame::Hello { .. } => {}
                ServerFrame::Err(e) => return Err(ClientError::Service(e)),
                ServerFrame::Ok(_) => {
                    return Err(ClientError::Protocol("unexpected reply to Hello".into()));
                }
            }
        }
        self.receive_one().await
    }

    async fn receive_one(&mut self) -> Result<ServerFrame, ClientError> {
        match self.conn.next().await {
            Some(Ok(f)) => codec::decode(&f).map_err(|e| ClientError::Protocol(e.to_string())),
            Some(Err(e)) => Err(io_failure("receive failed", e)),
            None => Err(ClientError::Disconnected(String::new())),
        }
    }

    /// The pid of the process serving the socket (SO_PEERCRED), if known.
    pub fn peer_pid(&self) -> Option<u32> {
        let cred = self.conn.get_ref().peer_cred().ok()?;
        cred.pid().and_then(|p| u32::try_from(p).ok())
    }

    pub async fn call(&mut self, req: Request) -> Result<Reply, ClientError> {
        self.send(&ClientFrame::Request(Box::new(req))).await?;
        let frame = self.receive().await?;
        reply_of(frame)
    }

    /// Sends a streaming request (`Logs`, `Wait`); read its frames with `next_reply`.
    pub async fn start_stream(&mut self, req: Request) -> Result<(), ClientError> {
        self.send(&ClientFrame::Request(Box::new(req))).await
    }

    /// The next frame of a stream. Cancel-safe once the first frame has
    /// arrived (the handshake answer is read with it).
    pub async fn next_reply(&mut self) -> Result<Reply, ClientError> {
        let frame = self.receive().await?;
        reply_of(frame)
    }
}

fn reply_of(frame: ServerFrame) -> Result<Reply, ClientError> {
    match frame {
        ServerFrame::Ok(r) => Ok(*r),
        ServerFrame::Err(e) => Err(ClientError::Service(e)),
        ServerFrame::Hello { .. } => Err(ClientError::Protocol("unexpected Hello".into())),
    }
}
