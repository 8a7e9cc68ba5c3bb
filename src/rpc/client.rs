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
}

pub struct Client {
    conn: Framed<UnixStream, LengthDelimitedCodec>,
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
        };
        match client
            .exchange(&ClientFrame::Hello {
                version: PROTOCOL_VERSION,
            })
            .await?
        {
            ServerFrame::Hello { .. } => Ok(client),
            ServerFrame::Err(e) => Err(ClientError::Service(e)),
            ServerFrame::Ok(_) => Err(ClientError::Protocol("unexpected reply to Hello".into())),
        }
    }

    /// The pid of the process serving the socket (SO_PEERCRED), if known.
    pub fn peer_pid(&self) -> Option<u32> {
        let cred = self.conn.get_ref().peer_cred().ok()?;
        cred.pid().and_then(|p| u32::try_from(p).ok())
    }

    async fn exchange(&mut self, frame: &ClientFrame) -> Result<ServerFrame, ClientError> {
        let bytes = codec::encode(frame).map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.conn
            .send(bytes)
            .await
            .map_err(|e| ClientError::Protocol(format!("send failed: {e}")))?;
        match self.conn.next().await {
            Some(Ok(f)) => codec::decode(&f).map_err(|e| ClientError::Protocol(e.to_string())),
            Some(Err(e)) => Err(ClientError::Protocol(format!("receive failed: {e}"))),
            None => Err(ClientError::Protocol(
                "the daemon closed the connection".into(),
            )),
        }
    }

    pub async fn call(&mut self, req: Request) -> Result<Reply, ClientError> {
        let frame = self.exchange(&ClientFrame::Request(Box::new(req))).await?;
        reply_of(frame)
    }

    /// Sends a streaming request (`Logs`, `Wait`); read its frames with `next_reply`.
    pub async fn start_stream(&mut self, req: Request) -> Result<(), ClientError> {
        let bytes = codec::encode(&ClientFrame::Request(Box::new(req)))
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.conn
            .send(bytes)
            .await
            .map_err(|e| ClientError::Protocol(format!("send failed: {e}")))
    }

    /// The next frame of a stream. Cancel-safe: dropping the future loses nothing.
    pub async fn next_reply(&mut self) -> Result<Reply, ClientError> {
        let frame = match self.conn.next().await {
            Some(Ok(f)) => codec::decode(&f).map_err(|e| ClientError::Protocol(e.to_string()))?,
            Some(Err(e)) => return Err(ClientError::Protocol(format!("receive failed: {e}"))),
            None => {
                return Err(ClientError::Protocol(
                    "the daemon closed the connection".into(),
                ));
            }
        };
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
