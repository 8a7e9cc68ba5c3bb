//! What the daemon reads from /proc and the signals it sends to process groups.
//! Only this module and the executor touch processes directly.

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use procfs::Current;

/// One process of a group, as /proc shows it.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub pid: i32,
    pub ppid: i32,
    pub zombie: bool,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    pub start_time: u64,
}

/// Start time of `pid` (clock ticks since boot), or `None` if it is gone.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = procfs::process::Process::new(pid as i32)
        .ok()?
        .stat()
        .ok()?;
    (stat.state != 'Z' && stat.state != 'X').then_some(stat.starttime)
}

/// True when `pid` is alive and is the same process that started at `start`.
pub fn same_process(pid: u32, start: u64) -> bool {
    start_time(pid) == Some(start)
}

/// Every process whose process group is `pgid`.
pub fn group_members(pgid: i32) -> Vec<Member> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    all.flatten()
        .filter_map(|p| p.stat().ok())
        .filter(|s| s.pgrp == pgid)
        .map(|s| Member {
            pid: s.pid,
            ppid: s.ppid,
            zombie: s.state == 'Z' || s.state == 'X',
            cpu_ticks: s.utime + s.stime,
            start_time: s.starttime,
        })
        .collect()
}

/// Live (non-zombie) members of the group, reaping zombies the daemon inherited
/// as child subreaper so nothing of a finished group lingers in the table.
/// `leader` is never reaped here: the runtime owns that wait.
pub fn live_members(pgid: i32, leader: Option<i32>) -> Vec<Member> {
    let me = std::process::id() as i32;
    let mut live = Vec::new();
    for m in group_members(pgid) {
        if m.zombie {
            if m.ppid == me && Some(m.pid) != leader {
                let _ = waitpid(Pid::from_raw(m.pid), Some(WaitPidFlag::WNOHANG));
            }
        } else {
            live.push(m);
        }
    }
    live
}

/// Sends `sig` to the whole group; ESRCH (already gone) is not an error.
pub fn signal_group(pgid: i32, sig: Signal) {
    if pgid <= 1 {
        return; // never signal init's group or "every process"
    }
    if let Err(e) = killpg(Pid::from_raw(pgid), sig)
        && e != nix::errno::Errno::ESRCH
    {
        tracing::warn!(pgid, signal = ?sig, error = %e, "killpg failed");
    }
}

/// MemAvailable in bytes, if /proc/meminfo can be read.
pub fn mem_available() -> Option<u64> {
    procfs::Meminfo::current().ok()?.mem_available
}

/// Adopt orphaned grandchildren of agents, so their exit can be reaped and
/// observed instead of leaving zombies under an init that never reaps.
pub fn become_subreaper() {
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(error = %e, "cannot become child subreaper");
    }
}

pub fn signal_name(sig: i32) -> String {
    Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}
