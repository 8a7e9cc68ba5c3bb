//! The supervisor's hand-off with the daemon: reading the run's spec (a line
//! on stdin, or a file inside a Slurm job) and recording the run's end.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::log;
use crate::executor::files::{self, RunEnd, Spec};

/// Writes the prompt file (0600): for `{prompt_file}`, or the agent's stdin.
pub(super) fn files_write_prompt(p: &files::PromptFile) -> std::io::Result<()> {
    crate::store::atomic::write_atomic_fast(&p.path, p.text.as_bytes(), 0o600)
}

/// The run's directory is the executor's to make; the daemon does not wait
/// for it, and a run abandoned before its start never gets one.
pub(super) fn make_run_dir(run_dir: &Path) {
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(run_dir)
    {
        log(format_args!("cannot create {}: {e}", run_dir.display()));
    }
}

/// The spec file, once it exists (it is created by a rename: an inotify
/// watch on its directory wakes us); `None` if it did not come in time.
pub(super) fn wait_for_spec_file(file: &Path, timeout: Duration) -> std::io::Result<Option<Spec>> {
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
    let read = || files::read_spec_file(file).ok();
    if let Some(s) = read() {
        return Ok(Some(s));
    }
    let dir = file.parent().unwrap_or(Path::new("/"));
    let ino = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
    ino.add_watch(
        dir,
        AddWatchFlags::IN_MOVED_TO | AddWatchFlags::IN_CLOSE_WRITE,
    )?;
    let deadline = Instant::now() + timeout;
    loop {
        // After the watch exists, so no rename can fall in between.
        if let Some(s) = read() {
            return Ok(Some(s));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        // Also wakes once a second: a filesystem without inotify events.
        let wait = left.min(Duration::from_secs(1)).as_millis() as i32;
        let mut fds = [PollFd::new(ino.as_fd(), PollFlags::POLLIN)];
        let _ = poll(
            &mut fds,
            PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX),
        );
        let _ = ino.read_events();
    }
}

/// The run's spec: the first line on stdin (the daemon keeps the pipe open
/// and later sends its "go" on it). `None`: stdin closed first.
pub(super) fn read_spec_line() -> std::io::Result<Option<Spec>> {
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line)? == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Records the run's end. The end of a run must never be lost to a full
/// disk: while `exit.json` cannot be written for want of space, the daemon
/// is told through its pipe (it keeps the end in memory) and the write is
/// tried again until it lands, the supervisor living on meanwhile (a daemon
/// started later still finds it, and then its exit file).
pub(super) fn finish(run_dir: &Path, end: &RunEnd, daemon_pipe: Option<OwnedFd>) -> i32 {
    let mut pipe = daemon_pipe;
    let mut delay = Duration::from_millis(50);
    loop {
        make_run_dir(run_dir);
        let e = match files::write_exit(run_dir, end) {
            Ok(()) => return 0,
            Err(e) => e,
        };
        if !exit_write_may_succeed_later(&e) {
            log(format_args!("cannot write {}: {e}", files::EXIT));
            return 1;
        }
        if let Some(fd) = pipe.take() {
            log(format_args!(
                "cannot write {}: {e}; telling the daemon and retrying until it is written",
                files::EXIT
            ));
            tell_daemon(fd, end);
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

/// A full disk or quota, or a passing shortage: worth waiting for.
fn exit_write_may_succeed_later(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::ENOSPC
                | libc::EDQUOT
                | libc::ENOMEM
                | libc::EAGAIN
                | libc::EINTR
                | libc::EMFILE
                | libc::ENFILE
        )
    )
}

/// One `EndNotice` line on the daemon's pipe; a daemon that is gone (the
/// write fails) learns it from `exit.json` later instead.
fn tell_daemon(fd: OwnedFd, end: &RunEnd) {
    let Ok(mut line) = serde_json::to_vec(&files::EndNotice { end: end.clone() }) else {
        return;
    };
    line.push(b'\n');
    let _ = nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    );
    let _ = File::from(fd).write_all(&line);
}
