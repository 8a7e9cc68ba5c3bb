//! Reading a run's output as `queue logs` shows it: stdout and stderr
//! interleaved in the order they were written (from the supervisor's
//! `output.idx`), or one of them; a structured stdout (Claude's stream-json)
//! rendered as a transcript unless raw; lines stamped with their arrival time
//! on request. Used by every door that streams logs.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::agent::{Format, Transcript};
use crate::model::Timestamp;

use crate::executor::files::OUTPUT_INDEX as INDEX;
/// At most this much is read per call, so a huge log streams in pieces.
const READ_MAX: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A piece of output: where it came from, and when (if known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub stream: Stream,
    pub bytes: Vec<u8>,
    pub at_ms: Option<i64>,
}

/// One log file read from an offset onwards.
struct Tail {
    path: PathBuf,
    file: Option<File>,
    offset: u64,
}

impl Tail {
    fn new(path: PathBuf, offset: u64) -> Tail {
        Tail {
            path,
            file: None,
            offset,
        }
    }

    /// Up to `max` bytes from the current offset (a missing file reads as
    /// empty: the run may not have written it yet).
    fn read(&mut self, max: usize) -> io::Result<Vec<u8>> {
        if self.file.is_none() {
            match File::open(&self.path) {
                Ok(f) => self.file = Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        }
        let Some(f) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        f.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::new();
        f.take(max as u64).read_to_end(&mut buf)?;
        self.offset += buf.len() as u64;
        Ok(buf)
    }
}

/// Where a run's output comes from.
enum Source {
    /// Both streams in writing order, through the index.
    Indexed {
        index: Tail,
        /// A record cut in the middle (the writer is appending it).
        partial: Vec<u8>,
        /// Records read whose data is not all read yet.
        pending: std::collections::VecDeque<(Stream, usize, i64)>,
        out: Tail,
        err: Tail,
    },
    /// One stream, as written.
    Plain { stream: Stream, file: Tail },
}

pub struct LogCursor {
    source: Source,
}

impl LogCursor {
    /// A cursor on the run in `run_dir`: both streams interleaved when the
    /// run has an index (runs of older versions: stdout only), or one.
    pub fn open(run_dir: &Path, only: Option<Stream>) -> LogCursor {
        let stdout = run_dir.join("stdout.log");
        let stderr = run_dir.join("stderr.log");
        let source = match only {
            Some(Stream::Stderr) => Source::Plain {
                stream: Stream::Stderr,
                file: Tail::new(stderr, 0),
            },
            Some(Stream::Stdout) => Source::Plain {
                stream: Stream::Stdout,
                file: Tail::new(stdout, 0),
            },
            None if run_dir.join(INDEX).exists() || !stdout.exists() => Source::Indexed {
                index: Tail::new(run_dir.join(INDEX), 0),
                partial: Vec::new(),
                pending: Default::default(),
                out: Tail::new(stdout, 0),
                err: Tail::new(stderr, 0),
            },
            None => Source::Plain {
                stream: Stream::Stdout,
                file: Tail::new(stdout, 0),
            },
        };
        LogCursor { source }
    }

    /// Starts a single-stream cursor at `offset` (a `--tail` computed on the file).
    pub fn seek_plain(&mut self, offset: u64) {
        if let Source::Plain { file, .. } = &mut self.source {
            file.offset = offset;
        }
    }

    /// Skips what was written so far: the next read returns only what comes
    /// after. Reads the index, not the output.
    pub fn skip_to_end(&mut self) -> io::Result<()> {
        fn len(path: &Path) -> io::Result<u64> {
            match std::fs::metadata(path) {
                Ok(m) => Ok(m.len()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
                Err(e) => Err(e),
            }
        }
        match &mut self.source {
            Source::Plain { file, .. } => file.offset = len(&file.path)?,
            Source::Indexed {
                index,
                partial,
                pending,
                out,
                err,
            } => {
                // Whole records only; a record being appended is read next time.
                let text = match std::fs::read(&index.path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                    Err(e) => return Err(e),
                };
                let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                let (mut o, mut e) = (0u64, 0u64);
                for line in String::from_utf8_lossy(&text[..whole]).lines() {
                    let mut f = line.split(' ');
                    if let (Some(tag), Some(Ok(n))) = (f.next(), f.next().map(str::parse::<u64>)) {
                        if tag == "e" { e += n } else { o += n }
                    }
                }
                index.offset = whole as u64;
                partial.clear();
                pending.clear();
                out.offset = o;
                err.offset = e;
            }
        }
        Ok(())
    }

    /// The file of a single-stream cursor.
    pub fn plain_path(&self) -> Option<&Path> {
        match &self.source {
            Source::Plain { file, .. } => Some(&file.path),
            Source::Indexed { .. } => None,
        }
    }

    /// What was written since the last call (at most about `READ_MAX`).
    pub fn read(&mut self) -> io::Result<Vec<Piece>> {
        match &mut self.source {
            Source::Plain { stream, file } => {
                let bytes = file.read(READ_MAX)?;
                Ok(if bytes.is_empty() {
                    Vec::new()
                } else {
                    vec![Piece {
                        stream: *stream,
                        bytes,
                        at_ms: None,
                    }]
                })
            }
            Source::Indexed {
                index,
                partial,
                pending,
                out,
                err,
            } => {
                let new = index.read(64 * 1024)?;
                partial.extend_from_slice(&new);
                if let Some(nl) = partial.iter().rposition(|&b| b == b'\n') {
                    let whole: Vec<u8> = partial.drain(..=nl).collect();
                    for line in String::from_utf8_lossy(&whole).lines() {
                        let mut f = line.split(' ');
                        let (Some(tag), Some(len), Some(at)) = (f.next(), f.next(), f.next())
                        else {
                            continue;
                        };
                        let stream = if tag == "e" {
                            Stream::Stderr
                        } else {
                            Stream::Stdout
                        };
                        if let (Ok(len), Ok(at)) = (len.parse(), at.parse()) {
                            pending.push_back((stream, len, at));
                        }
                    }
                }
                let mut pieces: Vec<Piece> = Vec::new();
                let mut budget = READ_MAX;
                while let Some((stream, len, at)) = pending.front_mut() {
                    if budget == 0 {
                        break;
                    }
                    let tail = if *stream == Stream::Stdout {
                        &mut *out
                    } else {
                        &mut *err
                    };
                    let bytes = tail.read((*len).min(budget))?;
                    if bytes.is_empty() {
                        break; // not written yet: the next call
                    }
                    *len -= bytes.len();
                    budget -= bytes.len();
                    let (stream, at) = (*stream, *at);
                    if *len == 0 {
                        pending.pop_front();
                    }
                    match pieces.last_mut() {
                        Some(p) if p.stream == stream && p.at_ms == Some(at) => {
                            p.bytes.extend_from_slice(&bytes)
                        }
                        _ => pieces.push(Piece {
                            stream,
                            bytes,
                            at_ms: Some(at),
                        }),
                    }
                }
                Ok(pieces)
            }
        }
    }
}

/// Turns pieces into what `queue logs` prints.
pub struct Formatter {
    transcript: Option<Transcript>,
    timestamps: bool,
    /// Per stream: the next byte starts a line.
    at_line_start: [bool; 2],
}

impl Formatter {
    /// `render`: stdout is this format's events, shown as a transcript.
    pub fn new(render: Option<Format>, timestamps: bool) -> Formatter {
        Formatter {
            transcript: render.map(Transcript::new),
            timestamps,
            at_line_start: [true, true],
        }
    }

    pub fn format(&mut self, pieces: &[Piece]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in pieces {
            let text: Vec<u8> = match (&mut self.transcript, p.stream) {
                (Some(t), Stream::Stdout) => t.feed(&p.bytes).into_bytes(),
                _ => p.bytes.clone(),
            };
            self.stamp(&mut out, p.stream, &text, p.at_ms);
        }
        out
    }

    /// What is left at the end (a last transcript line without newline).
    pub fn finish(&mut self) -> Vec<u8> {
        let rest = self
            .transcript
            .as_mut()
            .map(|t| t.finish())
            .unwrap_or_default();
        let mut out = Vec::new();
        self.stamp(&mut out, Stream::Stdout, rest.as_bytes(), None);
        out
    }

    fn stamp(&mut self, out: &mut Vec<u8>, stream: Stream, text: &[u8], at_ms: Option<i64>) {
        if !self.timestamps {
            out.extend_from_slice(text);
            return;
        }
        let i = stream as usize;
        let stamp = match at_ms {
            Some(ms) => format!("{} ", Timestamp(ms)),
            None => "- ".to_string(),
        };
        for &b in text {
            if self.at_line_start[i] {
                out.extend_from_slice(stamp.as_bytes());
                self.at_line_start[i] = false;
            }
            out.push(b);
            if b == b'\n' {
                self.at_line_start[i] = true;
            }
        }
    }
}

/// The last `n` lines of `text` (like `tail -n`).
pub fn last_lines(text: &[u8], n: u64) -> &[u8] {
    if n == 0 {
        return &text[text.len()..];
    }
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut seen = 0;
    for (i, &b) in body.iter().enumerate().rev() {
        if b == b'\n' {
            seen += 1;
            if seen == n {
                return &text[i + 1..];
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8]) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    #[test]
    fn interleaves_in_writing_order_with_times() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "stdout.log", b"one\nthree\n");
        write(d.path(), "stderr.log", b"two\n");
        write(d.path(), INDEX, b"o 4 1000\ne 4 2000\no 6 3000\n");
        let mut c = LogCursor::open(d.path(), None);
        let pieces = c.read().unwrap();
        let mut f = Formatter::new(None, false);
        assert_eq!(f.format(&pieces), b"one\ntwo\nthree\n");
        let mut f = Formatter::new(None, true);
        let stamped = String::from_utf8(f.format(&pieces)).unwrap();
        assert_eq!(
            stamped,
            "1970-01-01T00:00:01.000Z one\n1970-01-01T00:00:02.000Z two\n1970-01-01T00:00:03.000Z three\n"
        );
        // Nothing new: nothing read; a record arriving later is picked up.
        assert!(c.read().unwrap().is_empty());
        std::fs::OpenOptions::new()
            .append(true)
            .open(d.path().join("stdout.log"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"four\n"))
            .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(d.path().join(INDEX))
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"o 5 40"))
            .unwrap();
        assert!(
            c.read().unwrap().is_empty(),
            "a record cut in the middle waits"
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(d.path().join(INDEX))
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"00\n"))
            .unwrap();
        let p = c.read().unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].bytes, b"four\n");
        assert_eq!(p[0].at_ms, Some(4000));
    }

    #[test]
    fn one_stream_or_old_runs_without_an_index() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "stdout.log", b"out\n");
        write(d.path(), "stderr.log", b"err\n");
        let mut c = LogCursor::open(d.path(), None);
        assert_eq!(c.read().unwrap()[0].bytes, b"out\n");
        let mut c = LogCursor::open(d.path(), Some(Stream::Stderr));
        assert_eq!(c.read().unwrap()[0].bytes, b"err\n");
    }

    #[test]
    fn tail_lines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), b"b\nc\n");
        assert_eq!(last_lines(b"a\nb\nc", 1), b"c");
        assert_eq!(last_lines(b"a\n", 5), b"a\n");
        assert_eq!(last_lines(b"a\n", 0), b"");
    }
}
