//! The run's output: what its processes write on their stdout and stderr
//! pipes is copied, untouched, into `stdout.log` and `stderr.log`, and every
//! piece is recorded in `output.idx` (which stream, how many bytes, when),
//! so that a reader can interleave the two streams in arrival order and
//! stamp lines with their arrival time. A structured stdout (Claude's
//! stream-json) is also scanned as it passes: the agent's result event and
//! the number of lines that did not parse go into the run's end.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::agent::{Format, Tally};
use crate::model::{AgentResult, Timestamp};

/// Largest piece of output copied at once.
const CHUNK: usize = 64 * 1024;
/// How much of a failed clone's stderr is kept for its error message.
const KEEP: usize = 8 * 1024;
use crate::executor::files::OUTPUT_INDEX as INDEX;

/// Which pipe a piece came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn tag(self) -> char {
        match self {
            Stream::Stdout => 'o',
            Stream::Stderr => 'e',
        }
    }
}

/// A pipe from the run's processes, copied into a log file.
struct Sink {
    stream: Stream,
    pipe: Option<OwnedFd>,
    file: Option<File>,
    /// The last bytes (a clone's stderr, for its error message).
    keep: Option<Vec<u8>>,
    dropped: u64,
}

pub struct Output {
    out: Option<Sink>,
    err: Option<Sink>,
    index: Option<File>,
    scan: Option<Tally>,
    buf: Vec<u8>,
}

fn open_append(path: &Path) -> Option<File> {
    match OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
    {
        Ok(f) => Some(f),
        Err(e) => {
            super::log(format_args!("cannot open {}: {e}", path.display()));
            None
        }
    }
}

impl Output {
    pub fn new() -> Output {
        Output {
            out: None,
            err: None,
            index: None,
            scan: None,
            buf: vec![0; CHUNK],
        }
    }

    /// Starts copying `pipe` into `log` (appended), recording pieces in the
    /// run directory's index. `keep`: also keep its last bytes.
    pub fn attach(
        &mut self,
        stream: Stream,
        pipe: OwnedFd,
        log: &Path,
        run_dir: &Path,
        keep: bool,
    ) {
        let _ = nix::fcntl::fcntl(
            &pipe,
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        );
        if self.index.is_none() {
            self.index = open_append(&run_dir.join(INDEX));
        }
        let sink = Sink {
            stream,
            pipe: Some(pipe),
            file: open_append(log),
            keep: keep.then(Vec::new),
            dropped: 0,
        };
        match stream {
            Stream::Stdout => self.out = Some(sink),
            Stream::Stderr => self.err = Some(sink),
        }
    }

    /// Reads stdout as `format`'s events from now on.
    pub fn scan(&mut self, format: Format) {
        self.scan = Some(Tally::new(format));
    }

    /// The open pipes, to poll.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        [&self.out, &self.err]
            .into_iter()
            .flatten()
            .filter_map(|s| s.pipe.as_ref().map(|p| p.as_fd()))
            .collect()
    }

    /// Copies whatever the pipes hold; a pipe at end of file is closed.
    pub fn drain(&mut self) {
        let Output {
            out,
            err,
            index,
            scan,
            buf,
        } = self;
        for sink in [out.as_mut(), err.as_mut()].into_iter().flatten() {
            while let Some(pipe) = &sink.pipe {
                match nix::unistd::read(pipe, buf) {
                    Ok(0) => sink.pipe = None,
                    Ok(n) => {
                        let bytes = &buf[..n];
                        sink.write(bytes);
                        if let Some(idx) = index.as_mut() {
                            // The data is in its log before its record.
                            let rec = format!(
                                "{} {n} {}\n",
                                sink.stream.tag(),
                                Timestamp::now().millis()
                            );
                            let _ = idx.write_all(rec.as_bytes());
                        }
                        if sink.stream == Stream::Stdout
                            && let Some(scan) = scan.as_mut()
                        {
                            scan.feed(bytes);
                        }
                    }
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(nix::errno::Errno::EAGAIN) => break,
                    Err(_) => sink.pipe = None,
                }
            }
        }
    }

    /// Stops copying `stream` (its leader is done); what it kept, if anything.
    pub fn detach(&mut self, stream: Stream) -> Vec<u8> {
        let sink = match stream {
            Stream::Stdout => self.out.take(),
            Stream::Stderr => self.err.take(),
        };
        sink.map(|s| s.finish()).unwrap_or_default()
    }

    /// The scan's findings: the agent's result, and lines that did not parse.
    pub fn findings(&mut self) -> (Option<Box<AgentResult>>, u64) {
        match self.scan.as_mut() {
            Some(scan) => {
                let (result, malformed) = scan.finish();
                (result.map(Box::new), malformed)
            }
            None => (None, 0),
        }
    }
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) {
        if let Some(keep) = &mut self.keep {
            keep.extend_from_slice(bytes);
            if keep.len() > KEEP {
                keep.drain(..keep.len() - KEEP);
            }
        }
        // A full disk must never block or kill the agent: count and go on.
        if let Some(f) = &mut self.file
            && f.write_all(bytes).is_err()
        {
            self.dropped += bytes.len() as u64;
        }
    }

    fn finish(self) -> Vec<u8> {
        if self.dropped > 0 {
            super::log(format_args!(
                "{} bytes of output lost (log not writable)",
                self.dropped
            ));
        }
        self.keep.unwrap_or_default()
    }
}
