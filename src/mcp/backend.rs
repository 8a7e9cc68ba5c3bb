//! Where the MCP server's tools reach the queue: over the daemon's socket
//! (`agentgate mcp` on stdio, a client like the CLI) or in the daemon itself
//! (`/mcp` on the HTTP shim). Both make the same typed calls and read the
//! same streams (`rpc::follow`), so a tool behaves alike on either door.

use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::client::CliError;
use crate::rpc::client::Client;
use crate::rpc::proto::{Reply, Request, RpcOp};
use crate::service::Service;

/// A refusal or failure, worded as the CLI words it.
pub type ToolError = String;

/// A stream's frames: each reply in order; it ends after its last frame
/// (`LogEnd`, `WaitDone`) or an error.
pub type Frames = mpsc::Receiver<Result<Reply, ToolError>>;

#[derive(Clone)]
pub enum Backend {
    /// A client of the daemon listening on this socket.
    Socket(PathBuf),
    /// Inside the daemon.
    Daemon(Service),
}

fn cli_message(e: impl Into<CliError>) -> ToolError {
    e.into().to_string()
}

impl Backend {
    /// One operation, typed.
    pub async fn run<O: RpcOp>(&self, op: O) -> Result<O::Output, ToolError> {
        match self {
            Backend::Socket(socket) => {
                let mut client = Client::connect(socket).await.map_err(cli_message)?;
                client.run(op).await.map_err(cli_message)
            }
            Backend::Daemon(service) => service.call(op).await.map_err(|e| e.to_string()),
        }
    }

    /// A streaming request (`Logs`, `Wait`): its frames as they come.
    pub async fn stream(&self, req: Request) -> Result<Frames, ToolError> {
        match self {
            Backend::Daemon(service) => {
                let mut inner = match req {
                    Request::Logs(r) => crate::rpc::follow::logs(service.clone(), r),
                    Request::Wait(r) => crate::rpc::follow::wait(service.clone(), r),
                    other => return Err(format!("not a stream: {other:?}")),
                };
                let (tx, rx) = mpsc::channel(16);
                tokio::spawn(async move {
                    while let Some(frame) = inner.recv().await {
                        if tx.send(frame.map_err(|e| e.to_string())).await.is_err() {
                            return;
                        }
                    }
                });
                Ok(rx)
            }
            Backend::Socket(socket) => {
                let mut client = Client::connect(socket).await.map_err(cli_message)?;
                client.start_stream(req).await.map_err(cli_message)?;
                let (tx, rx) = mpsc::channel(16);
                tokio::spawn(async move {
                    loop {
                        let frame = client.next_reply().await.map_err(cli_message);
                        let last = matches!(
                            frame,
                            Err(_) | Ok(Reply::LogEnd(_)) | Ok(Reply::WaitDone(_))
                        );
                        // A dropped receiver closes the connection: the
                        // daemon stops the stream.
                        if tx.send(frame).await.is_err() || last {
                            return;
                        }
                    }
                });
                Ok(rx)
            }
        }
    }
}
