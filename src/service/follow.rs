//! Following a work order's run output: the one mechanism behind `queue logs
//! [--follow]` (RPC), the WebSocket's agent events and the SSE run stream.
//!
//! The follower subscribes to the actor's status changes *before* reading the
//! current state, so no change can fall in between, and reads the growing
//! output (through the supervisor's `output.idx`, so stdout and stderr come in
//! the order they were written) on a short interval — the supervisor writes
//! the files directly. It feeds a bounded channel, so a slow reader applies
//! back-pressure instead of being buffered for; it stops when the stream is
//! complete or the receiver is dropped. How output is shown (transcript,
//! timestamps, events) is each door's business.

use std::io::SeekFrom;
use std::path::Path;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

use super::logs::{LogCursor, Piece, Stream};
use super::{LogStreams, Service, ServiceError, StatusChange};
use crate::model::{Status, WorkOrder};

/// How often a follower looks for new output.
const LOG_POLL: Duration = Duration::from_millis(100);

/// Where reading a run's output begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStart {
    Beginning,
    /// One stream: its last this many lines when first read. (Both streams
    /// interleaved read from the beginning: the door cuts what it shows.)
    LastLines(u64),
    /// Only output written from now on.
    Now,
}

#[derive(Debug, Clone)]
pub struct FollowSpec {
    /// The work order.
    pub id: String,
    pub streams: LogStreams,
    pub start: LogStart,
    /// Keep following until the work order ends (else: what is there, then end).
    pub follow: bool,
    /// Only this run (by id): its output, ending when the work order moves on
    /// from it.
    pub run: Option<String>,
}

/// What a follower hands on.
#[derive(Debug, Clone, PartialEq)]
pub enum LogItem {
    /// The output of this run follows (sent before any of it); how its
    /// stdout is to be read (`claude-stream-json`; `None`: text).
    Run {
        run_id: String,
        output_format: Option<String>,
    },
    /// A run's output, in the order it was written.
    Pieces { run_id: String, pieces: Vec<Piece> },
    /// Everything there was when the follower attached has been handed on
    /// (only when following a work order that has not ended).
    CaughtUp,
    /// The end: the work order as it stands (with `follow`: its final state,
    /// or as it left the followed run).
    End(Box<WorkOrder>),
}

/// The receiver went away: not an error, just stop.
struct Gone;

type Tx<T> = mpsc::Sender<Result<T, ServiceError>>;

/// Streams a work order's output into `tx` as `map(item)`, per `spec`; an
/// error is returned (not sent), for the caller to report as it reports errors.
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
    let wo = service
        .call(crate::service::ShowRequest {
            id: spec.id.clone(),
        })
        .await?
        .work_order;
    let mut status = wo.status;
    if let Some(pinned) = &spec.run
        && wo.current_run_id.as_ref() != Some(pinned)
    {
        // An earlier run: its output is complete.
        let mut reader = RunReader::open(service, pinned, &spec, spec.start).await?;
        if reader.drain(&emit).await?.is_ok() {
            let _ = emit(LogItem::End(Box::new(wo))).await;
        }
        return Ok(());
    }
    let mut run_id = wo.current_run_id.clone();
    let mut reader = match &run_id {
        Some(r) => Some(RunReader::open(service, r, &spec, spec.start).await?),
        None => None,
    };
    if drain(&mut reader, &emit).await?.is_err() {
        return Ok(());
    }
    if !spec.follow || status.is_terminal() {
        let _ = emit(LogItem::End(Box::new(wo))).await;
        return Ok(());
    }
    if emit(LogItem::CaughtUp).await.is_err() {
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
                if drain(&mut reader, &emit).await?.is_err() {
                    return Ok(());
                }
                continue;
            }
        }
        if refresh {
            let wo = service
                .call(crate::service::ShowRequest {
                    id: spec.id.clone(),
                })
                .await?
                .work_order;
            status = wo.status;
            if wo.current_run_id.is_some() && wo.current_run_id != run_id {
                // The followed run is complete; the next one starts from its beginning.
                if drain(&mut reader, &emit).await?.is_err() {
                    return Ok(());
                }
                if spec.run.is_some() {
                    let _ = emit(LogItem::End(Box::new(wo))).await;
                    return Ok(());
                }
                run_id = wo.current_run_id.clone();
                let next = run_id.as_deref().unwrap_or_default();
                reader = Some(RunReader::open(service, next, &spec, LogStart::Beginning).await?);
            }
        }
        if status.is_terminal() {
            // The agent has exited: the files are complete. Send the rest.
            if drain(&mut reader, &emit).await?.is_err() {
                return Ok(());
            }
            let wo = service
                .call(crate::service::ShowRequest {
                    id: spec.id.clone(),
                })
                .await?
                .work_order;
            let _ = emit(LogItem::End(Box::new(wo))).await;
            return Ok(());
        }
    }
}

/// Hands on the rest of the current run's output, if there is a run.
async fn drain<F, Fut>(
    reader: &mut Option<RunReader>,
    emit: &F,
) -> Result<Result<(), Gone>, ServiceError>
where
    F: Fn(LogItem) -> Fut,
    Fut: std::future::Future<Output = Result<(), Gone>>,
{
    match reader {
        Some(r) => r.drain(emit).await,
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

/// One run's output from a position onwards.
struct RunReader {
    run_id: String,
    output_format: Option<String>,
    cursor: LogCursor,
    /// `LogItem::Run` is still to be sent.
    announce: bool,
}

impl RunReader {
    async fn open(
        service: &Service,
        run_id: &str,
        spec: &FollowSpec,
        start: LogStart,
    ) -> Result<RunReader, ServiceError> {
        let run = service
            .call(crate::service::GetRunRequest {
                id: run_id.to_string(),
            })
            .await?;
        let only = match spec.streams {
            LogStreams::Both => None,
            LogStreams::Stdout => Some(Stream::Stdout),
            LogStreams::Stderr => Some(Stream::Stderr),
        };
        let mut cursor = LogCursor::open(&service.run_dir(run_id)?, only);
        let positioned = tokio::task::block_in_place(|| match start {
            LogStart::Beginning => Ok(()),
            LogStart::Now => cursor.skip_to_end(),
            LogStart::LastLines(n) => match cursor.plain_path().map(Path::to_path_buf) {
                Some(path) => match tail_offset(&path, n) {
                    Ok(at) => {
                        cursor.seek_plain(at);
                        Ok(())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(e),
                },
                None => Ok(()),
            },
        });
        positioned.map_err(|e| read_error(run_id, e))?;
        Ok(RunReader {
            run_id: run_id.to_string(),
            output_format: run.output_format,
            cursor,
            announce: true,
        })
    }

    /// Hands on everything written so far.
    async fn drain<F, Fut>(&mut self, emit: &F) -> Result<Result<(), Gone>, ServiceError>
    where
        F: Fn(LogItem) -> Fut,
        Fut: std::future::Future<Output = Result<(), Gone>>,
    {
        if self.announce {
            self.announce = false;
            let item = LogItem::Run {
                run_id: self.run_id.clone(),
                output_format: self.output_format.clone(),
            };
            if emit(item).await.is_err() {
                return Ok(Err(Gone));
            }
        }
        loop {
            let pieces = tokio::task::block_in_place(|| self.cursor.read())
                .map_err(|e| read_error(&self.run_id, e))?;
            if pieces.is_empty() {
                return Ok(Ok(()));
            }
            let item = LogItem::Pieces {
                run_id: self.run_id.clone(),
                pieces,
            };
            if emit(item).await.is_err() {
                return Ok(Err(Gone));
            }
        }
    }
}

fn read_error(run_id: &str, e: std::io::Error) -> ServiceError {
    ServiceError::internal(format!("cannot read run {run_id}'s output: {e}"))
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
