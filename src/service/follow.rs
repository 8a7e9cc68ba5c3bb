//! Following a work order's run log: the one mechanism behind `queue logs
//! [--follow]` (RPC), the WebSocket's `agent_output` and the SSE run stream.
//!
//! The follower subscribes to the actor's status changes *before* reading the
//! current state, so no change can fall in between, and reads the growing log
//! file on a short interval (the agent writes it directly). It feeds a bounded
//! channel, so a slow reader applies back-pressure instead of being buffered
//! for; it stops when the stream is complete or the receiver is dropped.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::{broadcast, mpsc};

use super::{Service, ServiceError, StatusChange};
use crate::model::{Status, WorkOrder};

/// Largest piece of log output handed on at once.
pub const LOG_CHUNK: usize = 64 * 1024;
/// How often a follower looks for new bytes in the log file.
const LOG_POLL: Duration = Duration::from_millis(100);

/// Where reading a log begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStart {
    Beginning,
    /// The last this many lines of what is there when the file is first opened.
    LastLines(u64),
    /// Only output written from now on (all of it, if the file does not exist yet).
    Now,
}

#[derive(Debug, Clone)]
pub struct FollowSpec {
    /// The work order.
    pub id: String,
    pub stderr: bool,
    pub start: LogStart,
    /// Keep following until the work order ends (else: what is there, then end).
    pub follow: bool,
    /// Only this run: its log, ending when the work order moves on from it.
    pub run: Option<String>,
}

/// What a follower hands on.
#[derive(Debug, Clone, PartialEq)]
pub enum LogItem {
    /// Raw bytes of a run's output, in order (at most `LOG_CHUNK`).
    Chunk { run_id: String, bytes: Vec<u8> },
    /// The end: the work order as it stands (with `follow`: its final state,
    /// or as it left the followed run).
    End(Box<WorkOrder>),
}

/// The receiver went away: not an error, just stop.
struct Gone;

type Tx<T> = mpsc::Sender<Result<T, ServiceError>>;

/// Streams a work order's log into `tx` as `map(item)`, per `spec`; an error
/// is returned (not sent), for the caller to report as it reports errors.
pub async fn follow_log<T>(
    service: &Service,
    spec: FollowSpec,
    mut changes: broadcast::Receiver<StatusChange>,
    tx: &Tx<T>,
    map: impl Fn(LogItem) -> T,
) -> Result<(), ServiceError> {
    let emit = |item: LogItem| {
        let value = map(item);
        async move { tx.send(Ok(value)).await.map_err(|_| Gone) }
    };
    let wo = service.show(spec.id.clone()).await?.work_order;
    let mut status = wo.status;
    if let Some(pinned) = &spec.run
        && wo.current_run_id.as_ref() != Some(pinned)
    {
        // An earlier run: its log is complete.
        let mut reader = LogReader::new(service.log_path(pinned, spec.stderr)?, spec.start);
        if reader.drain(pinned, &emit).await?.is_ok() {
            let _ = emit(LogItem::End(Box::new(wo))).await;
        }
        return Ok(());
    }
    let mut run_id = wo.current_run_id.clone();
    let mut reader = match &run_id {
        Some(r) => Some(LogReader::new(
            service.log_path(r, spec.stderr)?,
            spec.start,
        )),
        None => None,
    };
    if drain(&mut reader, &run_id, &emit).await?.is_err() {
        return Ok(());
    }
    if !spec.follow || status.is_terminal() {
        let _ = emit(LogItem::End(Box::new(wo))).await;
        return Ok(());
    }
    let mut tick = tokio::time::interval(LOG_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let refresh;
        tokio::select! {
            _ = tx.closed() => return Ok(()),
            change = changes.recv() => match change {
                Ok(c) if c.id == spec.id => match c.status {
                    None => return Err(purged(&spec.id)),
                    Some(s) => {
                        status = s;
                        refresh = run_id.is_none() || s == Status::Running;
                    }
                },
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => refresh = true,
                Err(broadcast::error::RecvError::Closed) => return Err(shutting_down()),
            },
            // Nothing to read before a run starts: no wakeups meanwhile.
            _ = tick.tick(), if reader.is_some() => {
                if drain(&mut reader, &run_id, &emit).await?.is_err() {
                    return Ok(());
                }
                continue;
            }
        }
        if refresh {
            let wo = service.show(spec.id.clone()).await?.work_order;
            status = wo.status;
            if wo.current_run_id.is_some() && wo.current_run_id != run_id {
                // The followed run is complete; the next one starts from its beginning.
                if drain(&mut reader, &run_id, &emit).await?.is_err() {
                    return Ok(());
                }
                if spec.run.is_some() {
                    let _ = emit(LogItem::End(Box::new(wo))).await;
                    return Ok(());
                }
                run_id = wo.current_run_id.clone();
                let path = service.log_path(run_id.as_deref().unwrap_or_default(), spec.stderr)?;
                reader = Some(LogReader::new(path, LogStart::Beginning));
            }
        }
        if status.is_terminal() {
            // The agent has exited: the file is complete. Send the rest.
            if drain(&mut reader, &run_id, &emit).await?.is_err() {
                return Ok(());
            }
            let wo = service.show(spec.id.clone()).await?.work_order;
            let _ = emit(LogItem::End(Box::new(wo))).await;
            return Ok(());
        }
    }
}

/// Hands on the rest of the current run's log, if there is a run.
async fn drain<F, Fut>(
    reader: &mut Option<LogReader>,
    run_id: &Option<String>,
    emit: &F,
) -> Result<Result<(), Gone>, ServiceError>
where
    F: Fn(LogItem) -> Fut,
    Fut: std::future::Future<Output = Result<(), Gone>>,
{
    match reader {
        Some(r) => r.drain(run_id.as_deref().unwrap_or_default(), emit).await,
        None => Ok(Ok(())),
    }
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
    start: LogStart,
}

impl LogReader {
    fn new(path: PathBuf, start: LogStart) -> LogReader {
        LogReader {
            path,
            file: None,
            start,
        }
    }

    async fn open(&mut self) -> Result<bool, ServiceError> {
        if self.file.is_some() {
            return Ok(true);
        }
        let mut file = match tokio::fs::File::open(&self.path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Not written yet: everything it will hold is new.
                if self.start == LogStart::Now {
                    self.start = LogStart::Beginning;
                }
                return Ok(false);
            }
            Err(e) => return Err(read_error(&self.path, e)),
        };
        let at = match self.start {
            LogStart::Beginning => None,
            LogStart::Now => Some(SeekFrom::End(0)),
            LogStart::LastLines(n) => {
                let path = self.path.clone();
                let start = tokio::task::spawn_blocking(move || tail_offset(&path, n))
                    .await
                    .map_err(|e| ServiceError::internal(e.to_string()))?
                    .map_err(|e| read_error(&self.path, e))?;
                Some(SeekFrom::Start(start))
            }
        };
        if let Some(at) = at {
            file.seek(at).await.map_err(|e| read_error(&self.path, e))?;
        }
        self.start = LogStart::Beginning;
        self.file = Some(file);
        Ok(true)
    }

    /// Hands on everything from the current position to the end of the file.
    async fn drain<F, Fut>(
        &mut self,
        run_id: &str,
        emit: &F,
    ) -> Result<Result<(), Gone>, ServiceError>
    where
        F: Fn(LogItem) -> Fut,
        Fut: std::future::Future<Output = Result<(), Gone>>,
    {
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
            let item = LogItem::Chunk {
                run_id: run_id.to_string(),
                bytes: buf,
            };
            if emit(item).await.is_err() {
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

/// Turns a byte stream into text piece by piece: a UTF-8 sequence split
/// across two pieces is held back until complete; invalid bytes become U+FFFD.
#[derive(Debug, Default)]
pub struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::with_capacity(self.pending.len());
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(s);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (ok, after) = rest.split_at(e.valid_up_to());
                    out.push_str(std::str::from_utf8(ok).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            out.push('\u{FFFD}');
                            rest = &after[bad..];
                        }
                        // An incomplete sequence at the end: wait for the rest.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{Utf8Pieces, tail_offset};

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

    #[test]
    fn utf8_split_across_pieces_is_joined() {
        let text = "héllo → wörld";
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let mut p = Utf8Pieces::default();
            let joined = p.push(&bytes[..cut]) + &p.push(&bytes[cut..]);
            assert_eq!(joined, text, "cut at {cut}");
        }
        let mut p = Utf8Pieces::default();
        assert_eq!(p.push(b"a\xffb"), "a\u{FFFD}b");
    }
}
