//! RPC messages. The first frame of a connection is `ClientFrame::Hello`; then
//! each `ClientFrame::Request` gets one `ServerFrame` answer — except the two
//! streaming requests, which the daemon answers with a series of frames:
//!
//! - `Request::Logs`: any number of `Reply::LogChunk` (each at most
//!   `LOG_CHUNK` bytes), then one `Reply::LogEnd` carrying the work order (with
//!   `follow`: its final state). An `Err` frame also ends the stream.
//! - `Request::Wait`: a `Reply::WaitProgress` at once and after every status
//!   change of an awaited work order, then one `Reply::WaitDone` with the final
//!   work orders. An `Err` frame also ends the stream.
//!
//! The client may close the connection at any time to stop a stream.

use serde::{Deserialize, Serialize};

use crate::model::{Run, WorkOrder};
use crate::ops::{DashboardLogin, DashboardLogoutAll};
use crate::service::*;

/// Bumped whenever a message changes shape.
pub const PROTOCOL_VERSION: u32 = 15;

/// Largest piece of log output in one `Reply::LogChunk` (well under `MAX_FRAME`).
pub const LOG_CHUNK: usize = 64 * 1024;

/// About how many bytes of work orders one `Reply::ListChunk` carries (one
/// work order at least, however big).
pub const LIST_CHUNK: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClientFrame {
    Hello { version: u32 },
    Request(Box<Request>),
}

/// The RPC door's table: one line per operation, `Variant(request) =>
/// reply variant`. It makes the `Request` variant, the daemon's dispatch
/// (`dispatch`) and the client's typed call (`RpcOp`, `Client::run`). The
/// streaming requests after `streams` are served by `rpc::follow`.
macro_rules! rpc_table {
    (
        ops {
            $( $(#[$m:meta])* $variant:ident($op:ty) => $reply:ident, )*
        }
        streams {
            $( $(#[$sm:meta])* $svariant:ident($sop:ty), )*
        }
    ) => {
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub enum Request {
            $( $(#[$m])* $variant($op), )*
            $( $(#[$sm])* $svariant($sop), )*
        }

        /// One request, one service call: the RPC door adds no behaviour of
        /// its own. `None`: a streaming request (served elsewhere).
        pub async fn dispatch(service: &Service, req: Request) -> Option<Result<Reply, ServiceError>> {
            Some(match req {
                $( Request::$variant(op) => service.call(op).await.map(Reply::$reply), )*
                _ => return None,
            })
        }

        $(
            impl RpcOp for $op {
                fn into_request(self) -> Request {
                    Request::$variant(self)
                }
                fn from_reply(reply: Reply) -> Option<Self::Output> {
                    match reply {
                        Reply::$reply(out) => Some(out),
                        _ => None,
                    }
                }
            }
        )*
    };
}

/// An operation the CLI can ask for over the socket (see `rpc_table!`).
pub trait RpcOp: Operation {
    fn into_request(self) -> Request;
    /// Its answer out of the reply (`None`: a reply of another operation).
    fn from_reply(reply: Reply) -> Option<Self::Output>;
}

rpc_table! {
    ops {
    Submit(SubmitRequest) => Submitted,
    /// `queue continue`: `Submitted`.
    Continue(ContinueRequest) => Submitted,
    List(ListQuery) => List,
    Show(ShowRequest) => Show,
    GetRun(GetRunRequest) => Run,
    Cancel(CancelRequest) => Canceled,
    Kill(KillRequest) => Killed,
    Purge(PurgeRequest) => Purged,
    Health(HealthRequest) => Health,
    /// Runs, newest first (`GET /api/v1/runs`).
    ListRuns(RunQuery) => Runs,
    /// Where a work order stands in the queue.
    Position(PositionRequest) => Position,
    Start(StartRequest) => Started,
    Shutdown(ShutdownRequest) => ShuttingDown,
    /// Typed ids (prefixes, `--last`) to full ids.
    Resolve(ResolveRequest) => Resolved,
    /// `queue restart`: the new work order.
    Restart(RestartRequest) => Submitted,
    /// `queue set-priority`: the updated work order.
    SetPriority(SetPriorityRequest) => Submitted,
    /// `queue pause|resume|config`.
    Config(ConfigChange) => QueueConfig,
    /// `queue stats`.
    Stats(StatsQuery) => Stats,
    /// `queue diff`: the diff text.
    Diff(DiffRequest) => Diff,
    /// `queue diff --json`, `?stat=true`.
    DiffStat(DiffStatRequest) => DiffStat,
    /// `queue merge`.
    Merge(MergeRequest) => Merged,
    /// `queue discard`: the work order as it records it.
    Discard(DiscardRequest) => Submitted,
    /// `queue push`, `queue pr`.
    Push(PushRequest) => Pushed,
    /// `agentgate dashboard`: a one-time login token.
    DashboardLogin(DashboardLogin) => DashboardToken,
    /// `agentgate dashboard --logout-all`: sessions ended.
    DashboardLogoutAll(DashboardLogoutAll) => Count,
    }
    streams {
        /// Streaming: see the module documentation.
        Logs(LogsRequest),
        /// Streaming: see the module documentation.
        Wait(WaitRequest),
        /// Streaming: a listing as its compact JSON payload (`{items,total,limit,
        /// offset,hasMore}`) in `JsonChunk` frames: what `queue list --json` prints
        /// to a pipe, assembled from each work order's cached JSON.
        ListJson(ListQuery),
        /// Streaming: a listing as `ListChunk` frames of at most about
        /// `LIST_CHUNK` bytes each (a whole listing can exceed a frame).
        ListStream(ListQuery),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Submitted(WorkOrder),
    List(ListPage),
    Show(WorkOrderDetail),
    Run(Run),
    Canceled(CancelOutcome),
    Killed(KillOutcome),
    Purged(PurgeOutcome),
    Health(Health),
    Runs(RunPage),
    Position(QueuePosition),
    Started(StartOutcome),
    ShuttingDown(()),
    /// Raw bytes of a run's output, in order.
    LogChunk(Vec<u8>),
    /// The end of a `Logs` stream: the work order as it stands (its status
    /// tells a follower how the work ended; `currentRunId` None = never started).
    LogEnd(WorkOrder),
    /// Every awaited work order's status, in the order asked.
    WaitProgress(Vec<WaitItem>),
    /// Every awaited work order is terminal: their final state, in the order asked.
    WaitDone(Vec<WorkOrder>),
    /// A piece of a JSON document (the HTTP `data` payload of the request);
    /// `last` ends it. Pieces stay small so neither side holds the whole text.
    JsonChunk {
        text: String,
        last: bool,
    },
    Resolved(Vec<String>),
    QueueConfig(QueueConfig),
    /// A piece of a `ListStream` listing: some of its items (in order) with
    /// the page's totals; `last` ends it.
    ListChunk {
        page: ListPage,
        last: bool,
    },
    Stats(StatsReport),
    Diff(Vec<u8>),
    DiffStat(crate::land::DiffStat),
    Merged(crate::ops::MergeOutcome),
    Pushed(crate::land::Pushed),
    DashboardToken(crate::ops::DashboardToken),
    /// How many things an operation affected.
    Count(u64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ServerFrame {
    Hello {
        version: u32,
        daemon_version: String,
        /// The daemon's grace period: a stop a client asks for may take this
        /// long (plus the usual) to be answered.
        grace_ms: u64,
    },
    Ok(Box<Reply>),
    Err(ServiceError),
}

#[cfg(test)]
mod tests;
