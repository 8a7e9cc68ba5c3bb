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
        match self.exchange(&ClientFrame::Request(Box::new(req))).await? {
            ServerFrame::Ok(r) => Ok(*r),
            ServerFrame::Err(e) => Err(ClientError::Service(e)),
            ServerFrame::Hello { .. } => Err(ClientError::Protocol("unexpected Hello".into())),
        }
    }
}
