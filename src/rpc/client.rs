//! The RPC client the CLI uses: connect, handshake, request/response.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::UnixStream;
use tokio_util::codec::Framed;

use super::codec::{self, framing};
use super::proto::{ClientFrame, PROTOCOL_VERSION, Reply, Request, RpcOp, ServerFrame};
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
    #[error(
        "the daemon at {socket} did not answer {what} within {secs}s: it may be wedged or overloaded (check its log; AGENTGATE_TIMEOUT sets how long to wait)"
    )]
    Timeout {
        socket: PathBuf,
        what: &'static str,
        secs: u64,
    },
    /// A health probe got no answer in time (a stopped or wedged daemon).
    #[error(
        "the daemon at {socket} is not answering (no answer to a health probe within {secs}s): it may be stopped (SIGSTOP) or wedged; check its log, or restart it"
    )]
    NotAnswering { socket: PathBuf, secs: u64 },
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

/// How long the CLI waits for the daemon (to connect, for the handshake, for
/// an answer) unless `AGENTGATE_TIMEOUT` says otherwise. A request that
/// stops processes is given the grace period on top.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

fn configured_timeout() -> Duration {
    std::env::var("AGENTGATE_TIMEOUT")
        .ok()
        .and_then(|v| crate::model::units::parse_duration(&v).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_TIMEOUT)
}

pub struct Client {
    conn: Framed<UnixStream, codec::FrameCodec>,
    socket: PathBuf,
    timeout: Duration,
    /// The daemon's grace period, from its handshake.
    grace: Duration,
    /// The Hello was sent but its answer not read yet: it is read before the
    /// first reply, so the first request goes out without a round trip.
    hello_pending: bool,
}

/// How long a health probe waits for the daemon (`queue health`): a probe
/// must answer quickly, whatever AGENTGATE_TIMEOUT says for other commands.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

impl Client {
    pub async fn connect(socket: &Path) -> Result<Client, ClientError> {
        Client::connect_within(socket, configured_timeout()).await
    }

    /// Connects for a health probe: every wait at most `PROBE_TIMEOUT`, and
    /// a daemon that does not answer is reported as such.
    pub async fn probe<O: RpcOp>(socket: &Path, op: O) -> Result<O::Output, ClientError> {
        let timeout = configured_timeout().min(PROBE_TIMEOUT);
        let not_answering = |e| match e {
            ClientError::Timeout { socket, .. } => ClientError::NotAnswering {
                socket,
                secs: timeout.as_secs(),
            },
            other => other,
        };
        let mut client = Client::connect_within(socket, timeout)
            .await
            .map_err(not_answering)?;
        client.run(op).await.map_err(not_answering)
    }

    async fn connect_within(socket: &Path, timeout: Duration) -> Result<Client, ClientError> {
        let connected = tokio::time::timeout(timeout, UnixStream::connect(socket))
            .await
            .map_err(|_| ClientError::Timeout {
                socket: socket.to_path_buf(),
                what: "the connection",
                secs: timeout.as_secs(),
            })?;
        let stream = connected.map_err(|source| {
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
            socket: socket.to_path_buf(),
            timeout,
            grace: Duration::ZERO,
            hello_pending: true,
        };
        client
            .send(&ClientFrame::Hello {
                version: PROTOCOL_VERSION,
            })
            .await?;
        Ok(client)
    }

    fn timed_out(&self, what: &'static str, after: Duration) -> ClientError {
        ClientError::Timeout {
            socket: self.socket.clone(),
            what,
            secs: after.as_secs(),
        }
    }

    async fn send(&mut self, frame: &ClientFrame) -> Result<(), ClientError> {
        let bytes = codec::encode(frame).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.conn.send(bytes)).await {
            Err(_) => Err(self.timed_out("(it reads no requests)", timeout)),
            Ok(r) => r.map_err(|e| io_failure("send failed", e)),
        }
    }

    /// Reads the handshake's answer, if not read yet (within the timeout).
    /// Cancel-safe: the answer counts as read only once it has been (a
    /// caller's timer may drop this future while it waits, e.g. `queue wait`
    /// redrawing its progress line; the next call reads the answer then).
    async fn read_hello(&mut self) -> Result<(), ClientError> {
        if !self.hello_pending {
            return Ok(());
        }
        let timeout = self.timeout;
        let frame = tokio::time::timeout(timeout, self.receive_one())
            .await
            .map_err(|_| self.timed_out("the handshake", timeout))??;
        self.hello_pending = false;
        match frame {
            ServerFrame::Hello { grace_ms, .. } => {
                self.grace = Duration::from_millis(grace_ms);
                Ok(())
            }
            ServerFrame::Err(e) => Err(ClientError::Service(e)),
            ServerFrame::Ok(_) => Err(ClientError::Protocol("unexpected reply to Hello".into())),
        }
    }

    async fn receive(&mut self) -> Result<ServerFrame, ClientError> {
        self.read_hello().await?;
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

    /// One request, one answer, within the timeout (plus, for a request that
    /// stops processes, their grace period).
    pub async fn call(&mut self, req: Request) -> Result<Reply, ClientError> {
        let stops = match &req {
            Request::Kill(k) if k.force => Some(Duration::ZERO),
            Request::Kill(k) => Some(
                k.grace_ms
                    .map(Duration::from_millis)
                    .unwrap_or(Duration::MAX),
            ),
            Request::Cancel(_) | Request::Purge(_) | Request::Shutdown(_) => Some(Duration::MAX),
            _ => None,
        };
        self.send(&ClientFrame::Request(Box::new(req))).await?;
        self.read_hello().await?;
        // `MAX` stands for "the daemon's grace period", known from the handshake.
        let extra = stops.map_or(Duration::ZERO, |g| {
            if g == Duration::MAX { self.grace } else { g }
        });
        let wait = self.timeout.saturating_add(extra);
        let frame = tokio::time::timeout(wait, self.receive_one())
            .await
            .map_err(|_| self.timed_out("the request", wait))??;
        reply_of(frame)
    }

    /// One operation, typed: its request out, its answer back (see
    /// `proto::rpc_table!`).
    pub async fn run<O: RpcOp>(&mut self, op: O) -> Result<O::Output, ClientError> {
        let reply = self.call(op.into_request()).await?;
        O::from_reply(reply).ok_or_else(|| {
            ClientError::Protocol("the daemon answered with a reply of another operation".into())
        })
    }

    /// Sends a streaming request (`Logs`, `Wait`, listings); read its frames
    /// with `next_reply`. Only the handshake is timed: a stream may rightly
    /// stay quiet for as long as the work it follows.
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
