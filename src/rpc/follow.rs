//! The two streaming requests, `Logs` and `Wait`, as producers of reply
//! frames. Each runs as its own task and feeds a bounded channel (so a slow
//! reader applies back-pressure); it stops when the stream is complete or the
//! receiver is dropped (the client went away).
//!
//! Both subscribe to the actor's status-change broadcast *before* reading the
//! current state, so no change can fall in between; a follower never polls the
//! actor. `Logs --follow` reads the growing log file on a short interval here in
//! the daemon (the agent writes it directly), so the client just receives frames.

use std::collections::BTreeMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::{broadcast, mpsc};

use std::sync::Arc;

use super::proto::{LIST_CHUNK, LOG_CHUNK, Reply};
use crate::model::{Status, WorkOrder};
use crate::service::{LogsRequest, Service, ServiceError, StatusChange, WaitItem, WaitRequest};

/// How often a follower looks for new bytes in the log file.
const LOG_POLL: Duration = Duration::from_millis(100);
/// Frames buffered ahead of a slow client.
const BACKLOG: usize = 16;

pub type Frames = mpsc::Receiver<Result<Reply, ServiceError>>;
type Tx = mpsc::Sender<Result<Reply, ServiceError>>;

/// Starts streaming a work order's log; see `proto` for the frames.
pub fn logs(service: Service, req: LogsRequest) -> Frames {
    let changes = service.subscribe();
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        let result = logs_task(&service, req, changes, &tx).await;
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

/// Starts streaming a listing as typed pieces of about `LIST_CHUNK` bytes.
pub fn list_typed(service: Service, query: crate::service::ListQuery) -> Frames {
    let (tx, rx) = mpsc::channel(BACKLOG);
    tokio::spawn(async move {
        let page = match service.list(query).await {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        let mut items = page.items.iter().peekable();
        loop {
            let mut part = Vec::new();
            let mut bytes = 0;
            while let Some(wo) = items.peek() {
                let size = approx_size(wo);
                if !part.is_empty() && bytes + size > LIST_CHUNK {
                    break;
                }
                bytes += size;
                part.push(Arc::clone(wo));
                items.next();
            }
            let last = items.peek().is_none();
            let chunk = crate::service::ListPage {
                items: part,
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

/// Reads one run's log file from an offset onwards. A file that does not
/// exist yet (the run is still preparing its workspace) reads as empty.
struct LogReader {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    /// `Some(n)`: on first open, start at the last `n` lines.
    tail: Option<u64>,
}

impl LogReader {
    fn new(path: PathBuf, tail: Option<u64>) -> LogReader {
        LogReader {
            path,
            file: None,
            tail,
        }
    }

    async fn open(&mut self) -> Result<bool, ServiceError> {
        if self.file.is_some() {
            return Ok(true);
        }
        let mut file = match tokio::fs::File::open(&self.path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(read_error(&self.path, e)),
        };
        if let Some(n) = self.tail.take() {
            let path = self.path.clone();
            let start = tokio::task::spawn_blocking(move || tail_offset(&path, n))
                .await
                .map_err(|e| ServiceError::internal(e.to_string()))?
                .map_err(|e| read_error(&self.path, e))?;
            file.seek(SeekFrom::Start(start))
                .await
                .map_err(|e| read_error(&self.path, e))?;
        }
        self.file = Some(file);
        Ok(true)
    }

    /// Sends everything from the current position to the end of the file.
    async fn drain(&mut self, tx: &Tx) -> Result<Result<(), Gone>, ServiceError> {
        if !self.open().await? {
            return Ok(Ok(()));
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(Ok(()));
        };
        loop {
            let mut buf = vec![0u8; LOG_CHUNK];
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| read_error(&self.path, e))?;
            if n == 0 {
                return Ok(Ok(()));
            }
            buf.truncate(n);
            if emit(tx, Reply::LogChunk(buf)).await.is_err() {
                return Ok(Err(Gone));
            }
        }
    }
}

fn read_error(path: &Path, e: std::io::Error) -> ServiceError {
    ServiceError::internal(format!("cannot read {}: {e}", path.display()))
}

/// Where the last `n` lines of the file begin (like `tail -n`: a final line
/// without a newline counts as a line). Reads backwards in blocks.
pub fn tail_offset(path: &Path, n: u64) -> std::io::Result<u64> {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if n == 0 {
        return Ok(len);
    }
    let mut pos = len;
    let mut newlines = 0u64;
    let mut first = true;
    let mut buf = vec![0u8; 64 * 1024];
    while pos > 0 {
        let size = (buf.len() as u64).min(pos) as usize;
        pos -= size as u64;
        f.seek(SeekFrom::Start(pos))?;
        f.read_exact(&mut buf[..size])?;
        let mut block = &buf[..size];
        if first {
            first = false;
            // The newline ending the last line does not start another one.
            if block.last() == Some(&b'\n') {
                block = &block[..size - 1];
            }
        }
        for (i, b) in block.iter().enumerate().rev() {
            if *b == b'\n' {
                newlines += 1;
                if newlines == n {
                    return Ok(pos + i as u64 + 1);
                }
            }
        }
    }
    Ok(0)
}

async fn logs_task(
    service: &Service,
    req: LogsRequest,
    mut changes: broadcast::Receiver<StatusChange>,
    tx: &Tx,
) -> Result<(), ServiceError> {
    let wo = service.show(req.id.clone()).await?.work_order;
    let mut status = wo.status;
    let mut run_id = wo.current_run_id.clone();
    let mut reader = match &run_id {
        Some(r) => Some(LogReader::new(service.log_path(r, req.stderr)?, req.tail)),
        None => None,
    };
    if let Some(r) = reader.as_mut()
        && r.drain(tx).await?.is_err()
    {
        return Ok(());
    }
    if !req.follow || status.is_terminal() {
        let _ = emit(tx, Reply::LogEnd(wo)).await;
        return Ok(());
    }
    let mut tick = tokio::time::interval(LOG_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let refresh;
        tokio::select! {
            _ = tx.closed() => return Ok(()),
            change = changes.recv() => match change {
                Ok(c) if c.id == req.id => match c.status {
                    None => return Err(purged(&req.id)),
                    Some(s) => {
                        status = s;
                        refresh = run_id.is_none() || s == Status::Running;
                    }
                },
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => refresh = true,
                Err(broadcast::error::RecvError::Closed) => return Err(shutting_down()),
            },
            _ = tick.tick() => {
                if let Some(r) = reader.as_mut()
                    && r.drain(tx).await?.is_err()
                {
                    return Ok(());
                }
                continue;
            }
        }
        if refresh {
            let wo = service.show(req.id.clone()).await?.work_order;
            status = wo.status;
            if wo.current_run_id.is_some() && wo.current_run_id != run_id {
                // The first run started (or a new one): its log from the start.
                if let Some(r) = reader.as_mut()
                    && r.drain(tx).await?.is_err()
                {
                    return Ok(());
                }
                run_id = wo.current_run_id.clone();
                let path = service.log_path(run_id.as_deref().unwrap_or_default(), req.stderr)?;
                reader = Some(LogReader::new(path, None));
            }
        }
        if status.is_terminal() {
            // The agent has exited: the file is complete. Send the rest.
            if let Some(r) = reader.as_mut()
                && r.drain(tx).await?.is_err()
            {
                return Ok(());
            }
            let wo = service.show(req.id.clone()).await?.work_order;
            let _ = emit(tx, Reply::LogEnd(wo)).await;
            return Ok(());
        }
    }
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

#[cfg(test)]
mod tests {
    use super::tail_offset;

    fn offset(content: &[u8], n: u64) -> u64 {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, content).unwrap();
        tail_offset(&p, n).unwrap()
    }

    #[test]
    fn tail_finds_the_last_lines() {
        assert_eq!(offset(b"a\nb\nc\n", 1), 4);
        assert_eq!(offset(b"a\nb\nc\n", 2), 2);
        assert_eq!(offset(b"a\nb\nc\n", 3), 0);
        assert_eq!(offset(b"a\nb\nc\n", 10), 0);
        assert_eq!(offset(b"a\nb\nc", 1), 4);
        assert_eq!(offset(b"a\nb\nc", 2), 2);
        assert_eq!(offset(b"a\nb\n", 0), 4);
        assert_eq!(offset(b"", 3), 0);
        assert_eq!(offset(b"\n\n\n", 2), 1);
    }

    #[test]
    fn tail_crosses_block_boundaries() {
        let mut content = Vec::new();
        for i in 0..50_000 {
            content.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        let start = offset(&content, 3) as usize;
        assert_eq!(&content[start..], b"line 49997\nline 49998\nline 49999\n");
    }
}
