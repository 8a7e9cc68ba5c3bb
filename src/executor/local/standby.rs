//! The standby supervisor: one started ahead of need, so a run's start hands
//! it the spec instead of waiting for an exec of this binary; retired (and
//! reaped) when the executor goes away, even if it was started late.

use std::path::Path;
use std::process::Stdio;

use super::{LocalExecutor, SUPERVISE};

/// The standby slot; `closed` once the executor is gone, so a spare
/// started late is retired at once instead of left a zombie.
#[derive(Default)]
pub(super) struct Standby {
    pub(super) child: Option<std::process::Child>,
    pub(super) closed: bool,
}

/// A supervisor that will not be used: its stdin closes, it exits, it is reaped.
pub(super) fn retire(mut child: std::process::Child) {
    drop(child.stdin.take());
    let _ = child.wait();
}

/// Starts a supervisor, which then waits for its run's spec on stdin. No
/// pre-exec step, so the runtime can use posix_spawn (vfork): the daemon's
/// page tables are not copied. The supervisor makes itself a session of its
/// own first thing, and writes its own log (supervisor.log in the run's
/// directory) only when it has something to say.
pub(super) fn spawn_supervisor(
    exe: &Path,
    env_remove: &[String],
) -> std::io::Result<std::process::Child> {
    std::process::Command::new(exe)
        .arg(SUPERVISE)
        .env_clear()
        .envs(crate::executor::env::passed_on(env_remove))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
}

impl Drop for LocalExecutor {
    /// Retires the standby: its stdin closes, it exits unused, and is reaped
    /// here (a daemon restarting in place would otherwise keep a zombie).
    fn drop(&mut self) {
        let standby = self.standby.lock().ok().and_then(|mut s| {
            s.closed = true;
            s.child.take()
        });
        if let Some(standby) = standby {
            retire(standby);
        }
    }
}
