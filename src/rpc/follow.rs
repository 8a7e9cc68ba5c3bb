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
use std::path::Path;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

use super::proto::{LOG_CHUNK, Reply};
use crate::model::{Status, WorkOrder};
use crate::service::logs::{Formatter, LogCursor, Stream, last_lines};
use crate::service::{
    LogStreams, LogsRequest, Service, ServiceError, StatusChange, WaitItem, WaitRequest,
};

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

/// One run's output as `queue logs` shows it, read as it grows.
struct RunLog {
    run_id: String,
    cursor: LogCursor,
    fmt: Formatter,
}

impl RunLog {
    async fn open(
        service: &Service,
        run_id: &str,
        req: &LogsRequest,
    ) -> Result<RunLog, ServiceError> {
        let run = service.get_run(run_id.to_string()).await?;
        let render = !req.raw
            && req.streams != LogStreams::Stderr
            && run.output_format.as_deref() == Some("claude-stream-json");
        let only = match req.streams {
            LogStreams::Both => None,
            LogStreams::Stdout => Some(Stream::Stdout),
            LogStreams::Stderr => Some(Stream::Stderr),
        };
        Ok(RunLog {
            run_id: run_id.to_string(),
            cursor: LogCursor::open(&service.run_dir(run_id)?, only),
            fmt: Formatter::new(render, req.timestamps),
        })
    }

    /// Everything written so far, formatted.
    fn read_all(&mut self) -> Result<Vec<u8>, ServiceError> {
        let mut out = Vec::new();
        loop {
            let pieces = tokio::task::block_in_place(|| self.cursor.read()).map_err(|e| {
                ServiceError::internal(format!("cannot read run {}'s output: {e}", self.run_id))
            })?;
            if pieces.is_empty() {
                return Ok(out);
            }
            out.extend(self.fmt.format(&pieces));
        }
    }

    /// Starts at the last `n` lines: straight from the file for one plain
    /// stream, else from the formatted whole.
    fn tail(&mut self, n: u64, plain: bool) -> Result<Vec<u8>, ServiceError> {
        if plain && let Some(path) = self.cursor.plain_path().map(Path::to_path_buf) {
            match tail_offset(&path, n) {
                Ok(at) => self.cursor.seek_plain(at),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(read_error(&path, e)),
            }
            return self.read_all();
        }
        let all = self.read_all()?;
        Ok(last_lines(&all, n).to_vec())
    }

    /// Sends what it has now; `Err(Gone)` when the client went away.
    async fn send(&mut self, tx: &Tx) -> Result<Result<(), Gone>, ServiceError> {
        let bytes = self.read_all()?;
        Ok(send_bytes(tx, bytes).await)
    }

    /// The end of the run's output (a last line without newline).
    async fn finish(&mut self, tx: &Tx) -> Result<Result<(), Gone>, ServiceError> {
        let mut bytes = self.read_all()?;
        bytes.extend(self.fmt.finish());
        Ok(send_bytes(tx, bytes).await)
    }
}

async fn send_bytes(tx: &Tx, bytes: Vec<u8>) -> Result<(), Gone> {
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

async fn logs_task(
    service: &Service,
    req: LogsRequest,
    mut changes: broadcast::Receiver<StatusChange>,
    tx: &Tx,
) -> Result<(), ServiceError> {
    let wo = service.show(req.id.clone()).await?.work_order;
    let mut status = wo.status;
    // A run picked with --run is followed alone; else the current one, and
    // each next one as the work order is retried.
    let pinned = match &req.run {
        Some(which) => Some(pick_run(&wo, which)?),
        None => None,
    };
    let mut run_id = pinned.clone().or(wo.current_run_id.clone());
    let plain = req.raw || req.streams != LogStreams::Both;
    let mut log = match &run_id {
        Some(r) => Some(RunLog::open(service, r, &req).await?),
        None => None,
    };
    if let Some(l) = log.as_mut() {
        let first = match req.tail {
            Some(n) => l.tail(n, plain && !req.timestamps)?,
            None => l.read_all()?,
        };
        if send_bytes(tx, first).await.is_err() {
            return Ok(());
        }
    }
    let done = |status: Status, run_id: &Option<String>, current: &Option<String>| {
        status.is_terminal() || (pinned.is_some() && run_id != current)
    };
    if !req.follow || done(status, &run_id, &wo.current_run_id) {
        if let Some(l) = log.as_mut() {
            let _ = l.finish(tx).await?;
        }
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
                if let Some(l) = log.as_mut()
                    && l.send(tx).await?.is_err()
                {
                    return Ok(());
                }
                continue;
            }
        }
        let mut current = run_id.clone();
        if refresh || status.is_terminal() {
            let wo = service.show(req.id.clone()).await?.work_order;
            status = wo.status;
            current = wo.current_run_id.clone();
            if pinned.is_none() && current.is_some() && current != run_id {
                // The first run started (or a new one): its output from the start.
                if let Some(l) = log.as_mut()
                    && l.finish(tx).await?.is_err()
                {
                    return Ok(());
                }
                run_id = current.clone();
                let r = run_id.clone().unwrap_or_default();
                log = Some(RunLog::open(service, &r, &req).await?);
            }
        }
        if done(status, &run_id, &current) {
            // The agent has exited: the files are complete. Send the rest.
            if let Some(l) = log.as_mut()
                && l.finish(tx).await?.is_err()
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
