//! The streaming requests (`Logs`, `Wait`, `ListJson`) as producers of reply
//! frames. Each runs as its own task and feeds a bounded channel (so a slow
//! reader applies back-pressure); it stops when the stream is complete or the
//! receiver is dropped (the client went away).
//!
//! `Logs` is the service's log follower (`service::follow`, shared with the
//! HTTP streams) mapped onto frames. `Wait` subscribes to the actor's
//! status-change broadcast *before* reading the current state, so no change can
//! fall in between; it never polls the actor.

use std::collections::BTreeMap;

use tokio::sync::{broadcast, mpsc};

use std::sync::Arc;

use super::proto::{LIST_CHUNK, LOG_CHUNK, Reply};
use crate::model::{Status, WorkOrder};
use crate::service::follow::{FollowSpec, LogItem, LogStart, follow_log};
use crate::service::logs::{Formatter, last_lines};
use crate::service::{
    LogStreams, LogsRequest, Service, ServiceError, StatusChange, WaitItem, WaitRequest,
};

/// Frames buffered ahead of a slow client.
const BACKLOG: usize = 16;

pub type Frames = mpsc::Receiver<Result<Reply, ServiceError>>;
type Tx = mpsc::Sender<Result<Reply, ServiceError>>;

/// Starts streaming a work order's log; see `proto` for the frames.
pub fn logs(service: Service, req: LogsRequest) -> Frames {
    let changes = service.subscribe();
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        if let Err(e) = logs_task(&service, req, changes, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

/// The service's follower, shown as `queue logs` shows it: a transcript of a
/// structured stdout unless `raw`, lines stamped on request, cut to `tail`.
async fn logs_task(
    service: &Service,
    req: LogsRequest,
    changes: broadcast::Receiver<StatusChange>,
    tx: &Tx,
) -> Result<(), ServiceError> {
    let run = match &req.run {
        Some(which) => {
            let wo = service
                .call(crate::service::ShowRequest { id: req.id.clone() })
                .await?
                .work_order;
            Some(pick_run(&wo, which)?)
        }
        None => None,
    };
    // One stream as written can start at its last lines in the file; what is
    // formatted (interleaved, a transcript, stamped) is cut after formatting.
    let plain = (req.raw || req.streams != LogStreams::Both) && !req.timestamps;
    let start = match req.tail {
        Some(n) if plain => LogStart::LastLines(n),
        _ => LogStart::Beginning,
    };
    let mut cut = req.tail.filter(|_| !plain);
    let spec = FollowSpec {
        id: req.id.clone(),
        streams: req.streams,
        start,
        follow: req.follow,
        run,
    };
    let (items_tx, mut items) = mpsc::channel(BACKLOG);
    let follower = {
        let service = service.clone();
        tokio::spawn(async move {
            if let Err(e) = follow_log(&service, spec, changes, &items_tx, |item| item).await {
                let _ = items_tx.send(Err(e)).await;
            }
        })
    };
    let _abort = AbortOnDrop(follower);
    let mut fmt: Option<Formatter> = None;
    let mut held = Vec::new();
    while let Some(item) = items.recv().await {
        let mut out = Vec::new();
        match item? {
            LogItem::Run { output_format, .. } => {
                if let Some(f) = fmt.as_mut() {
                    out.extend(f.finish());
                }
                let format = crate::agent::Format::from_name(output_format.as_deref());
                let render = (!req.raw && req.streams != LogStreams::Stderr)
                    .then_some(format)
                    .filter(|f| f.is_structured());
                fmt = Some(Formatter::new(render, req.timestamps));
            }
            LogItem::Pieces { pieces, .. } => {
                if let Some(f) = fmt.as_mut() {
                    out.extend(f.format(&pieces));
                }
            }
            LogItem::CaughtUp => {
                if let Some(n) = cut.take() {
                    out = last_lines(&held, n).to_vec();
                    held.clear();
                }
            }
            LogItem::End(wo) => {
                if let Some(f) = fmt.as_mut() {
                    out.extend(f.finish());
                }
                if let Some(n) = cut.take() {
                    held.extend(out);
                    out = last_lines(&held, n).to_vec();
                }
                if send_bytes(tx, &out).await.is_ok() {
                    let _ = emit(tx, Reply::LogEnd(*wo)).await;
                }
                return Ok(());
            }
        }
        if cut.is_some() {
            held.extend(out);
        } else if send_bytes(tx, &out).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Aborts the follower when the door's task ends (the client went away).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn send_bytes(tx: &Tx, bytes: &[u8]) -> Result<(), Gone> {
    for chunk in bytes.chunks(LOG_CHUNK) {
        emit(tx, Reply::LogChunk(chunk.to_vec())).await?;
    }
    Ok(())
}

/// The run `--run` names: its number (1 = the first) or its id.
fn pick_run(wo: &WorkOrder, which: &str) -> Result<String, ServiceError> {
    let found = match which.parse::<usize>() {
        Ok(n) if n >= 1 => wo.run_ids.get(n - 1).cloned(),
        _ => wo.run_ids.iter().find(|r| *r == which).cloned(),
    };
    found.ok_or_else(|| {
        ServiceError::new(
            crate::service::ErrorCode::NotFound,
            format!(
                "work order {} has no run {which:?} (it has {} run{}: 1 to {} or their ids)",
                wo.id,
                wo.run_ids.len(),
                if wo.run_ids.len() == 1 { "" } else { "s" },
                wo.run_ids.len()
            ),
        )
    })
}

/// Starts waiting for work orders; see `proto` for the frames.
pub fn wait(service: Service, req: WaitRequest) -> Frames {
    let changes = service.subscribe();
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        let result = wait_task(&service, req, changes, &tx).await;
        if let Err(e) = result {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

/// Size of one `JsonChunk`: small buffers are reused by the allocator, and the
/// client prints one piece while the next is assembled.
const JSON_CHUNK: usize = 64 * 1024;

/// The page a streamed listing sends, or its error sent instead.
async fn listed(
    service: &Service,
    query: crate::service::ListQuery,
    tx: &Tx,
) -> Option<crate::service::ListPage> {
    match service.call(query).await {
        Ok(p) => Some(p),
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            None
        }
    }
}

/// Starts streaming a listing as compact JSON pieces.
pub fn list_json(service: Service, query: crate::service::ListQuery) -> Frames {
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        let Some(page) = listed(&service, query, &tx).await else {
            return;
        };
        let mut pieces = page.compact_json_chunks(JSON_CHUNK).peekable();
        while let Some(text) = pieces.next() {
            let last = pieces.peek().is_none();
            if emit(&tx, Reply::JsonChunk { text, last }).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Starts streaming a listing as typed pieces of about `LIST_CHUNK` bytes.
pub fn list_typed(service: Service, query: crate::service::ListQuery) -> Frames {
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        let Some(page) = listed(&service, query, &tx).await else {
            return;
        };
        let mut items = page.items.iter().enumerate().peekable();
        loop {
            let mut part = Vec::new();
            let mut reasons = Vec::new();
            let mut bytes = 0;
            while let Some((i, wo)) = items.peek() {
                let size = approx_size(wo);
                if !part.is_empty() && bytes + size > LIST_CHUNK {
                    break;
                }
                bytes += size;
                part.push(Arc::clone(wo));
                reasons.push(page.reason(*i).map(str::to_string));
                items.next();
            }
            let last = items.peek().is_none();
            let chunk = crate::service::ListPage {
                items: part,
                reasons,
                total: page.total,
                limit: page.limit,
                offset: page.offset,
                has_more: page.has_more,
            };
            if emit(&tx, Reply::ListChunk { page: chunk, last })
                .await
                .is_err()
                || last
            {
                return;
            }
        }
    });
    rx
}

/// About what a work order takes on the wire (its variable parts, plus a
/// generous allowance for the fixed ones).
fn approx_size(wo: &WorkOrder) -> usize {
    512 + wo.id.len()
        + wo.task_prompt.len()
        + wo.agent_type.len()
        + wo.error.as_ref().map_or(0, String::len)
        + wo.run_ids.iter().map(|r| r.len() + 8).sum::<usize>()
        + match &wo.workspace_source {
            crate::model::WorkspaceSource::Other { json, .. } => json.len(),
            _ => 256,
        }
}

/// The client went away: not an error, just stop.
struct Gone;

async fn emit(tx: &Tx, reply: Reply) -> Result<(), Gone> {
    tx.send(Ok(reply)).await.map_err(|_| Gone)
}

fn purged(id: &str) -> ServiceError {
    ServiceError::new(
        crate::service::ErrorCode::NotFound,
        format!("work order {id} was purged"),
    )
}

fn shutting_down() -> ServiceError {
    ServiceError::unavailable("the daemon is shutting down")
}

async fn wait_task(
    service: &Service,
    req: WaitRequest,
    mut changes: broadcast::Receiver<StatusChange>,
    tx: &Tx,
) -> Result<(), ServiceError> {
    let mut ids: Vec<String> = Vec::new();
    for id in req.ids {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(ServiceError::bad_request(
            "ids",
            "name at least one work order to wait for",
        ));
    }
    let mut statuses: BTreeMap<String, Status> = BTreeMap::new();
    for id in &ids {
        statuses.insert(
            id.clone(),
            service
                .call(crate::service::ShowRequest { id: id.clone() })
                .await?
                .work_order
                .status,
        );
    }
    let progress = |statuses: &BTreeMap<String, Status>| {
        Reply::WaitProgress(
            ids.iter()
                .filter_map(|id| {
                    statuses.get(id).map(|s| WaitItem {
                        id: id.clone(),
                        status: *s,
                    })
                })
                .collect(),
        )
    };
    if emit(tx, progress(&statuses)).await.is_err() {
        return Ok(());
    }
    while statuses.values().any(|s| !s.is_terminal()) {
        tokio::select! {
            _ = tx.closed() => return Ok(()),
            change = changes.recv() => match change {
                Ok(c) => {
                    let Some(current) = statuses.get_mut(&c.id) else {
                        continue;
                    };
                    match c.status {
                        None => return Err(purged(&c.id)),
                        Some(s) if s == *current => continue,
                        Some(s) => *current = s,
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    for id in &ids {
                        let s = service.call(crate::service::ShowRequest { id: id.clone() }).await?.work_order.status;
                        statuses.insert(id.clone(), s);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return Err(shutting_down()),
            },
        }
        if emit(tx, progress(&statuses)).await.is_err() {
            return Ok(());
        }
    }
    let mut done: Vec<WorkOrder> = Vec::with_capacity(ids.len());
    for id in &ids {
        done.push(
            service
                .call(crate::service::ShowRequest { id: id.clone() })
                .await?
                .work_order,
        );
    }
    let _ = emit(tx, Reply::WaitDone(done)).await;
    Ok(())
}
