//! Signalling everything a run started: its cgroup where it has one, else its
//! process group and every descendant of the supervisor (which, as child
//! subreaper, inherits whatever left the group: setsid, double forks).

use nix::sys::signal::Signal;

use crate::sys::cgroup::RunCgroups;
use crate::sys::proc::{descendants, signal_group, signal_pid};

pub struct Tree<'a> {
    /// The current leader; its pid is its process group.
    pub leader: Option<i32>,
    pub cgroups: &'a RunCgroups,
}

impl Tree<'_> {
    /// Every process of the run, wherever it went.
    fn members(&self) -> Vec<i32> {
        if self.cgroups.active() {
            self.cgroups.pids()
        } else {
            descendants(std::process::id() as i32)
                .into_iter()
                .map(|p| p.pid)
                .collect()
        }
    }

    /// SIGTERM (and SIGCONT, so a stopped process can act on it) to the
    /// leader's group and to every other process of the run.
    pub fn terminate(&self) {
        if let Some(pgid) = self.leader {
            signal_group(pgid, Signal::SIGTERM);
            signal_group(pgid, Signal::SIGCONT);
        }
        for pid in self.members() {
            signal_pid(pid, Signal::SIGTERM);
            signal_pid(pid, Signal::SIGCONT);
        }
    }

    /// SIGKILL to everything: `cgroup.kill` where there is a v2 cgroup (it
    /// also catches forks in flight), else each process found.
    pub fn kill(&self) {
        if let Some(pgid) = self.leader {
            signal_group(pgid, Signal::SIGKILL);
        }
        if self.cgroups.kill() {
            return;
        }
        for pid in self.members() {
            signal_pid(pid, Signal::SIGKILL);
        }
        if self.cgroups.active() {
            // A v1-only cgroup: descendants that are not in it, too.
            for p in descendants(std::process::id() as i32) {
                signal_pid(p.pid, Signal::SIGKILL);
            }
        }
    }
}
