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

use super::proto::Reply;
use crate::model::{Status, WorkOrder};
use crate::service::follow::{FollowSpec, LogItem, LogStart, follow_log};
use crate::service::{LogsRequest, Service, ServiceError, StatusChange, WaitItem, WaitRequest};

/// Frames buffered ahead of a slow client.
const BACKLOG: usize = 16;

pub type Frames = mpsc::Receiver<Result<Reply, ServiceError>>;
type Tx = mpsc::Sender<Result<Reply, ServiceError>>;

/// Starts streaming a work order's log; see `proto` for the frames.
pub fn logs(service: Service, req: LogsRequest) -> Frames {
    let changes = service.subscribe();
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        let spec = FollowSpec {
            id: req.id,
            stderr: req.stderr,
            start: req.tail.map_or(LogStart::Beginning, LogStart::LastLines),
            follow: req.follow,
            run: None,
        };
        let result = follow_log(&service, spec, changes, &tx, |item| match item {
            LogItem::Chunk { bytes, .. } => Reply::LogChunk(bytes),
            LogItem::End(wo) => Reply::LogEnd(*wo),
        })
        .await;
        if let Err(e) = result {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
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

/// Starts streaming a listing as compact JSON pieces.
pub fn list_json(service: Service, query: crate::service::ListQuery) -> Frames {
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        let page = match service.list(query).await {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
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
            service.show(id.clone()).await?.work_order.status,
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
                        let s = service.show(id.clone()).await?.work_order.status;
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
        done.push(service.show(id.clone()).await?.work_order);
    }
    let _ = emit(tx, Reply::WaitDone(done)).await;
    Ok(())
}
